/**
 * `GET /`: a plain page to watch and drive the emulator (members as tabs, their chats with rendered
 * template cards, group robot posts, an input box to write as the member). No build step, no external
 * assets; every value from the API is put into the DOM with textContent (no HTML injection), and the
 * server-rendered member names are HTML-escaped.
 */
import type { WecomSettings } from './types';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Strict CSP: inline script and style of this page only, API calls to this origin, data: images. */
export const PAGE_CSP =
  "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:";

const STYLE = `
body{font-family:system-ui,"PingFang SC","Microsoft YaHei",sans-serif;margin:0;background:#f2f3f5;color:#222}
header{background:#2b7de9;color:#fff;padding:10px 16px;font-size:18px}
nav{display:flex;flex-wrap:wrap;gap:6px;padding:8px 16px;background:#fff;border-bottom:1px solid #ddd}
nav button{border:1px solid #ccc;background:#fafafa;border-radius:14px;padding:4px 12px;cursor:pointer}
nav button.on{background:#2b7de9;color:#fff;border-color:#2b7de9}
main{display:flex;gap:16px;padding:16px}
#chat{flex:1;display:flex;flex-direction:column;gap:10px;min-height:300px}
aside{width:230px;font-size:13px;background:#fff;border-radius:8px;padding:10px;align-self:flex-start}
.msg{max-width:560px;background:#fff;border-radius:8px;padding:10px;box-shadow:0 1px 2px #0001}
.msg.in{align-self:flex-end;background:#dff0d8}
.meta{font-size:11px;color:#888;margin-bottom:4px}
.text{white-space:pre-wrap;word-break:break-word}
.card .title{font-weight:600;font-size:16px}.card .desc{color:#888;font-size:13px}
.emph{font-size:26px;color:#2b7de9}.row{display:flex;gap:8px;font-size:14px;margin:2px 0}
.row .k{color:#888;min-width:64px}.btns{display:flex;flex-wrap:wrap;gap:6px;margin-top:8px}
.btns button{padding:5px 12px;border-radius:4px;border:1px solid #2b7de9;background:#fff;color:#2b7de9;cursor:pointer}
.btns button.s1{background:#2b7de9;color:#fff}.btns button:disabled{border-color:#ccc;color:#999;background:#eee;cursor:default}
.warn{color:#c60;font-size:12px}.tag{font-size:11px;color:#fff;background:#999;border-radius:3px;padding:0 4px}
footer{display:flex;gap:8px;padding:0 16px 16px}footer input{flex:1;padding:8px}footer button{padding:8px 16px}
#toast{position:fixed;right:16px;bottom:70px;background:#333;color:#fff;padding:8px 12px;border-radius:6px;display:none}
`;

/* The client script: plain ES2017, no template literals (it lives inside one). */
const SCRIPT = `
var current = null, last = '', data = null;
var LABELS = { sent: '已发送', delivered: '已送达', dropped_rate_limited: '限频丢弃', duplicates_suppressed: '重复抑制',
  gettoken_calls: '获取 token', callbacks_sent: '回调请求', callback_failures: '回调失败', callbacks_given_up: '回调放弃',
  robot_rate_limited: '机器人限频', cards_updated: '卡片更新' };
function el(tag, cls, text) { var e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined && text !== null) e.textContent = String(text); return e; }
function toast(t) { var b = document.getElementById('toast'); b.textContent = t; b.style.display = 'block'; setTimeout(function () { b.style.display = 'none'; }, 3000); }
function post(path, body) {
  return fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
    .then(function (r) { return r.json(); })
    .then(function (o) { toast(o.error ? ('失败：' + o.error) : (o.ok ? '回调成功' : ('回调失败，尝试 ' + o.attempts.length + ' 次'))); poll(); })
    .catch(function (e) { toast('请求失败：' + e); });
}
function list(v) { return Array.isArray(v) ? v : []; }
function renderCard(view, userid) {
  var c = view.card || {}, box = el('div', 'card');
  var head = el('div'); head.appendChild(el('span', 'tag', view.cardType));
  if (view.updatedAt) head.appendChild(el('span', 'tag', '已更新')); box.appendChild(head);
  if (c.source && c.source.desc) box.appendChild(el('div', 'desc', c.source.desc));
  if (c.main_title) { box.appendChild(el('div', 'title', c.main_title.title)); if (c.main_title.desc) box.appendChild(el('div', 'desc', c.main_title.desc)); }
  if (c.emphasis_content) { box.appendChild(el('div', 'emph', c.emphasis_content.title)); box.appendChild(el('div', 'desc', c.emphasis_content.desc)); }
  if (c.quote_area && c.quote_area.quote_text) box.appendChild(el('div', 'desc', '「' + c.quote_area.quote_text + '」'));
  if (c.sub_title_text) box.appendChild(el('div', 'text', c.sub_title_text));
  list(c.horizontal_content_list).concat(list(c.vertical_content_list)).forEach(function (r) {
    var row = el('div', 'row'); row.appendChild(el('span', 'k', r.keyname || r.title)); row.appendChild(el('span', '', r.value || r.desc || '')); box.appendChild(row);
  });
  list(c.jump_list).forEach(function (j) { box.appendChild(el('div', 'desc', '↗ ' + j.title)); });
  if (c.checkbox) list(c.checkbox.option_list).forEach(function (o) { box.appendChild(el('div', 'row', (o.is_checked ? '☑ ' : '☐ ') + o.text)); });
  list(c.select_list).forEach(function (s) { box.appendChild(el('div', 'row', (s.title || s.question_key) + '：' + list(s.option_list).map(function (o) { return o.text; }).join(' / '))); });
  var btns = el('div', 'btns'), keys = [];
  list(c.button_list).forEach(function (b) { keys.push({ text: b.text, key: b.key, style: b.style, url: b.type === 1 }); });
  if (c.submit_button) keys.push({ text: c.submit_button.text || '提交', key: c.submit_button.key, style: 1 });
  if (c.action_menu) list(c.action_menu.action_list).forEach(function (a) { keys.push({ text: '⋯ ' + a.text, key: a.key }); });
  if (view.disabled) { var d = el('button', '', view.replaceName || '已处理'); d.disabled = true; btns.appendChild(d); }
  else keys.forEach(function (k) {
    var b = el('button', k.style === 1 ? 's1' : '', k.text);
    if (k.url) b.disabled = true;
    else b.onclick = function () { post('/_emulator/api/members/' + encodeURIComponent(userid) + '/click', { taskId: view.taskId, eventKey: k.key }); };
    btns.appendChild(b);
  });
  if (btns.childNodes.length) box.appendChild(btns);
  return box;
}
function renderMessage(m, userid) {
  var box = el('div', 'msg' + (m.direction === 'in' ? ' in' : ''));
  box.appendChild(el('div', 'meta', (m.direction === 'in' ? '成员 → 应用' : '应用 → 成员') + ' · ' + m.at + ' · ' + m.msgtype + (m.truncated ? ' · 已截断' : '')));
  if (m.card) box.appendChild(renderCard(m.card, userid));
  else if (m.event) box.appendChild(el('div', 'text', '点击了按钮 ' + m.event.eventKey + '（' + m.event.taskId + '）'));
  else box.appendChild(el('div', 'text', m.text !== undefined ? m.text : m.markdown));
  list(m.warnings).forEach(function (w) { box.appendChild(el('div', 'warn', '⚠ ' + w)); });
  return box;
}
function renderGroupMessage(m) {
  var box = el('div', 'msg'), b = m.body || {};
  box.appendChild(el('div', 'meta', '群机器人 · ' + m.at + ' · ' + m.msgtype));
  if (m.msgtype === 'image') { var img = el('img'); img.src = 'data:image/png;base64,' + b.base64; img.style.maxWidth = '300px'; box.appendChild(img); }
  else if (m.msgtype === 'news') list(b.articles).forEach(function (a) { box.appendChild(el('div', 'title', a.title)); box.appendChild(el('div', 'desc', a.description || a.url)); });
  else if (m.msgtype === 'template_card') box.appendChild(renderCard({ card: b, cardType: b.card_type, disabled: false }, ''));
  else box.appendChild(el('div', 'text', b.content));
  return box;
}
function render() {
  if (!data || !current) return;
  var chat = document.getElementById('chat'); chat.textContent = '';
  var isMember = current.kind === 'member';
  var entry = (isMember ? data.members : data.groups).filter(function (x) { return (x.userid || x.key) === current.id; })[0];
  document.getElementById('composer').style.display = isMember ? 'flex' : 'none';
  if (!entry) return;
  if (!entry.messages.length) chat.appendChild(el('div', 'desc', '暂无消息'));
  entry.messages.forEach(function (m) { chat.appendChild(isMember ? renderMessage(m, entry.userid) : renderGroupMessage(m)); });
  if (isMember && entry.dropped) chat.appendChild(el('div', 'warn', '因频率限制被丢弃的消息：' + entry.dropped));
  var stats = document.getElementById('stats'); stats.textContent = '';
  stats.appendChild(el('div', 'title', '统计'));
  Object.keys(data.stats).forEach(function (k) { var r = el('div', 'row'); r.appendChild(el('span', 'k', LABELS[k] || k)); r.appendChild(el('span', '', data.stats[k])); stats.appendChild(r); });
}
function poll() {
  return fetch('/_emulator/api/state').then(function (r) { return r.text(); }).then(function (t) {
    if (t !== last) { last = t; data = JSON.parse(t); render(); }
  }).catch(function () {});
}
function select(btn) {
  document.querySelectorAll('nav button').forEach(function (b) { b.classList.toggle('on', b === btn); });
  current = { kind: btn.getAttribute('data-kind'), id: btn.getAttribute('data-id') }; render();
}
document.querySelectorAll('nav button').forEach(function (b) { b.onclick = function () { select(b); }; });
document.getElementById('send').onclick = function () {
  var input = document.getElementById('input'); if (!input.value || !current) return;
  post('/_emulator/api/members/' + encodeURIComponent(current.id) + '/text', { content: input.value }); input.value = '';
};
document.getElementById('input').onkeydown = function (e) { if (e.key === 'Enter') document.getElementById('send').onclick(); };
var first = document.querySelector('nav button'); if (first) select(first);
poll(); setInterval(poll, 1000);
`;

export function renderPage(settings: WecomSettings): string {
  const tab = (kind: string, id: string, label: string) =>
    `<button data-kind="${kind}" data-id="${escapeHtml(id)}">${escapeHtml(label)}</button>`;
  const tabs = [
    ...settings.members.map((m) => tab('member', m.userid, m.name)),
    ...settings.groupRobots.map((r) => tab('group', r.key, `群：${r.name}`)),
  ].join('');
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>企业微信模拟器</title><style>${STYLE}</style></head>
<body><header>企业微信模拟器 · ${escapeHtml(settings.corpId)}</header>
<nav>${tabs}</nav>
<main><div id="chat"></div><aside id="stats"></aside></main>
<footer id="composer"><input id="input" placeholder="以该成员身份输入消息…"><button id="send">发送</button></footer>
<div id="toast"></div>
<script>${SCRIPT}</script></body></html>`;
}
