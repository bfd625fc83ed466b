/**
 * `GET /dingtalk`: a page to watch and drive the DingTalk side of the emulator, separate from the
 * WeCom page at `/` (which links here). Members' one-to-one chats with the robot, team group chats
 * (robot messages and interactive cards whose buttons work; a card changes in place when the app
 * updates it) and the custom robots' posts; an input box writes to the robot as the selected member
 * (in a group: as @robot from the member chosen beside it). It polls the state once a second.
 *
 * No build step, no external assets: the script and style are served from this origin
 * (`/dingtalk/page.js`, `/dingtalk/page.css`) and the CSP allows nothing else; everything from the
 * API is put into the DOM with textContent.
 */
import type { DingtalkSettings } from './types';

export const DINGTALK_PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function renderDingtalkPage(settings: Pick<DingtalkSettings, 'appKey' | 'mode'>): string {
  return `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>钉钉模拟器 · LeadRelay</title>
<link rel="stylesheet" href="/dingtalk/page.css">
</head>
<body>
<header><strong>钉钉模拟器</strong> <span class="muted">应用 ${escapeHtml(settings.appKey)} · ${settings.mode === 'stream' ? 'Stream 模式' : 'HTTP 回调'}</span> <a href="/">企业微信 →</a> <span id="stats" class="muted"></span></header>
<main>
<nav id="list"></nav>
<section id="chat"><div id="title" class="chat-title">选择左侧的成员或群</div><div id="messages"></div>
<form id="composer"><select id="as" hidden></select><textarea id="input" rows="2" placeholder="以该成员身份发给机器人（Enter 发送）"></textarea><button type="submit">发送</button></form>
</section>
</main>
<script src="/dingtalk/page.js"></script>
</body>
</html>`;
}

export const DINGTALK_PAGE_STYLE = `
body{margin:0;font:14px/1.5 -apple-system,"PingFang SC","Microsoft YaHei",sans-serif;background:#f2f3f5;color:#171a1d}
header{padding:8px 16px;background:#0089ff;color:#fff}header a{color:#fff;margin-left:12px}
.muted{opacity:.75;font-size:12px;margin-left:8px}
main{display:flex;height:calc(100vh - 40px)}
nav{width:240px;background:#fff;border-right:1px solid #e5e6eb;overflow:auto}
nav .item{padding:10px 14px;cursor:pointer;border-bottom:1px solid #f2f3f5}nav .item.active{background:#e6f3ff}
nav .section{padding:6px 14px;color:#86909c;font-size:12px;background:#fafafa}
nav .badge{float:right;background:#f53f3f;color:#fff;border-radius:9px;padding:0 6px;font-size:12px}
#chat{flex:1;display:flex;flex-direction:column}.chat-title{padding:10px 16px;border-bottom:1px solid #e5e6eb;background:#fff;font-weight:600}
#messages{flex:1;overflow:auto;padding:12px 16px}
.msg{max-width:520px;margin:8px 0;padding:8px 12px;border-radius:8px;background:#fff;white-space:pre-wrap}
.msg.in{margin-left:auto;background:#c7e3ff}.msg .who{font-size:12px;color:#86909c}
.card{border:1px solid #e5e6eb;border-radius:8px;background:#fff;max-width:520px;margin:8px 0;overflow:hidden}
.card h4{margin:0;padding:10px 12px;background:#f7f8fa}.card .body{padding:8px 12px;white-space:pre-wrap}
.card .emph{font-size:20px;font-weight:600;color:#0089ff}.card .settled{padding:8px 12px;color:#00b42a;font-weight:600}
.card .buttons{display:flex;gap:8px;padding:8px 12px;border-top:1px solid #f2f3f5}
.card button{flex:1;padding:6px;border-radius:6px;border:1px solid #c9cdd4;background:#fff;cursor:pointer}
.card button.primary{background:#0089ff;color:#fff;border-color:#0089ff}.card button.danger{color:#f53f3f}
form{display:flex;gap:8px;padding:8px 16px;background:#fff;border-top:1px solid #e5e6eb}form textarea{flex:1}
`;

export const DINGTALK_PAGE_SCRIPT = `'use strict';
const api = '/_emulator/dingtalk/api';
let state = null; let selected = location.hash.slice(1) || ''; const seen = {};
const el = (tag, cls, text) => { const e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; };
async function post(path, body) { const r = await fetch(api + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }); return r.json(); }
function chats() {
  const out = [];
  for (const m of state.members) out.push({ key: 'member/' + m.userId, name: m.name, sub: m.title || m.userId, messages: m.messages, member: m.userId });
  for (const g of state.groups) out.push({ key: 'group/' + g.openConversationId, name: g.name, sub: '群 · ' + g.members.length + ' 人', messages: g.messages, group: g });
  for (const r of state.robots) out.push({ key: 'robot/' + r.name, name: r.name, sub: '自定义机器人', messages: r.messages });
  return out;
}
function renderList() {
  const nav = document.getElementById('list'); nav.textContent = '';
  let section = '';
  for (const c of chats()) {
    const s = c.key.split('/')[0]; if (s !== section) { section = s; nav.append(el('div', 'section', { member: '单聊', group: '群聊', robot: '自定义机器人' }[s])); }
    const item = el('div', 'item' + (c.key === selected ? ' active' : ''));
    item.append(el('div', '', c.name), el('div', 'muted', c.sub));
    const unread = c.messages.length - (seen[c.key] || 0);
    if (unread > 0 && c.key !== selected) item.firstChild.append(el('span', 'badge', String(unread)));
    item.onclick = () => { selected = c.key; location.hash = c.key; render(); };
    nav.append(item);
  }
}
function renderCard(card, chat) {
  const p = card.params; const box = el('div', 'card');
  box.append(el('h4', '', p.title));
  const body = el('div', 'body');
  if (p.description) body.append(el('div', 'muted', p.description));
  if (p.emphasis) { body.append(el('span', 'emph', p.emphasis)); body.append(el('span', 'muted', ' ' + p.emphasisLabel)); }
  for (let i = 1; i <= 6; i++) if (p['field' + i + 'Label']) body.append(el('div', '', p['field' + i + 'Label'] + '：' + p['field' + i + 'Value']));
  if (p.quote) body.append(el('div', 'muted', '“' + p.quote + '”'));
  box.append(body);
  if (p.settledVisible === 'true') box.append(el('div', 'settled', p.settled));
  const buttons = el('div', 'buttons');
  for (let i = 1; i <= 6; i++) {
    if (p['button' + i + 'Visible'] !== 'true') continue;
    const b = el('button', p['button' + i + 'Style'] || '', p['button' + i + 'Text']);
    b.onclick = async () => {
      const who = chat.member || document.getElementById('as').value;
      const r = await post('/members/' + encodeURIComponent(who) + '/click', { outTrackId: card.outTrackId, action: p['button' + i + 'Action'] });
      if (r.error) alert(r.error); refresh();
    };
    buttons.append(b);
  }
  if (buttons.childNodes.length) box.append(buttons);
  return box;
}
function renderChat() {
  const chat = chats().find((c) => c.key === selected);
  const msgs = document.getElementById('messages'); msgs.textContent = '';
  const as = document.getElementById('as');
  if (!chat) { document.getElementById('title').textContent = '选择左侧的成员或群'; return; }
  seen[chat.key] = chat.messages.length;
  document.getElementById('title').textContent = chat.name;
  as.hidden = !chat.group; as.textContent = '';
  if (chat.group) for (const id of chat.group.members) { const m = state.members.find((x) => x.userId === id); as.append(new Option(m ? m.name : id, id)); }
  for (const m of chat.messages) {
    if (m.kind === 'card' && state.cards[m.outTrackId]) { msgs.append(renderCard(state.cards[m.outTrackId], chat)); continue; }
    const box = el('div', 'msg' + (m.direction === 'in' ? ' in' : ''));
    if (m.sender) box.append(el('div', 'who', m.sender));
    if (m.kind === 'click') box.append(el('div', '', '点击了「' + (m.text || '') + '」')); else {
      if (m.title && m.markdown) box.append(el('strong', '', m.title + '\\n'));
      box.append(el('div', '', m.markdown || m.text || ''));
    }
    msgs.append(box);
  }
  msgs.scrollTop = msgs.scrollHeight;
}
function render() { if (!state) return; renderList(); renderChat(); const s = state.stats; document.getElementById('stats').textContent = '已送达 ' + s.delivered + ' · 卡片 ' + s.cards_created + '/' + s.cards_updated + ' · Stream 连接 ' + state.stream.connections; }
let last = '';
async function refresh() { try { const r = await fetch(api + '/state'); const text = await r.text(); if (text !== last) { last = text; state = JSON.parse(text); render(); } } catch (e) {} }
document.getElementById('composer').onsubmit = async (e) => {
  e.preventDefault(); const input = document.getElementById('input'); const content = input.value.trim(); if (!content) return;
  const chat = chats().find((c) => c.key === selected); if (!chat || chat.key.startsWith('robot/')) return;
  const who = chat.member || document.getElementById('as').value;
  const r = await post('/members/' + encodeURIComponent(who) + '/text', chat.group ? { content, group: chat.group.openConversationId } : { content });
  if (r.error) alert(r.error); input.value = ''; refresh();
};
document.getElementById('input').onkeydown = (e) => { if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); document.getElementById('composer').requestSubmit(); } };
window.addEventListener('hashchange', () => { selected = location.hash.slice(1); render(); });
refresh(); setInterval(refresh, 1000);
`;
