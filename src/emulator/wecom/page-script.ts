/**
 * The emulator page's script: plain ES2017 in the browser, no libraries. It receives the state over
 * Server-Sent Events (`/_emulator/api/events`: a snapshot, then one event per new or changed message)
 * and acts as a member through `/_emulator/api/members/:userid/text|click`.
 *
 * Safety: every value from the API reaches the DOM through textContent or createElement (never
 * innerHTML); links are made only for http(s) URLs; images only as data: URLs (the CSP allows no
 * other source). WeCom markdown (headings, **bold**, `code`, [links](…), > quotes and
 * <font color="info|comment|warning">) is parsed into elements, anything else stays text.
 *
 * It is kept in String.raw so backslashes reach the browser as written; it must not contain a
 * backtick or a dollar-brace.
 */
export const PAGE_SCRIPT = String.raw`
'use strict';
var convs = {}, current = null, live = false;
var LABELS = { sent: '已发送', delivered: '已送达', dropped_rate_limited: '限频丢弃', duplicates_suppressed: '重复抑制',
  gettoken_calls: '获取 token', callbacks_sent: '回调请求', callback_failures: '回调失败', callbacks_given_up: '回调放弃',
  robot_rate_limited: '机器人限频', cards_updated: '卡片更新' };
var CHIPS = [['战报', '战报'], ['我的线索', '我的'], ['公海', '公海'], ['帮助', '帮助']];

function $(id) { return document.getElementById(id); }
function el(tag, cls, text) {
  var e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}
function list(v) { return Array.isArray(v) ? v : []; }
function obj(v) { return v && typeof v === 'object' ? v : null; }
function time(iso) {
  var d = new Date(iso);
  if (isNaN(d.getTime())) return '';
  function p(n) { return (n < 10 ? '0' : '') + n; }
  return p(d.getHours()) + ':' + p(d.getMinutes()) + ':' + p(d.getSeconds());
}
function toast(text) {
  var t = $('toast'); t.textContent = text; t.className = 'show';
  clearTimeout(toast.timer); toast.timer = setTimeout(function () { t.className = ''; }, 3500);
}
function keyOf(kind, id) { return kind + ':' + id; }

/* ---------- WeCom markdown, into elements ---------- */
var INLINE = /\*\*(.+?)\*\*|\[([^\]\n]+)\]\(([^)\s]+)\)|\x60([^\x60\n]+)\x60|<font color="(info|comment|warning)">([\s\S]*?)<\/font>/g;
function inline(parent, text, depth) {
  if (depth > 3) { parent.appendChild(document.createTextNode(text)); return; }
  var last = 0, m;
  var re = new RegExp(INLINE.source, 'g');
  while ((m = re.exec(text)) !== null) {
    if (m.index > last) parent.appendChild(document.createTextNode(text.slice(last, m.index)));
    if (m[1] !== undefined) { var b = el('b'); inline(b, m[1], depth + 1); parent.appendChild(b); }
    else if (m[2] !== undefined) {
      if (/^https?:\/\//i.test(m[3])) { var a = el('a', '', m[2]); a.href = m[3]; a.target = '_blank'; a.rel = 'noopener noreferrer'; parent.appendChild(a); }
      else parent.appendChild(document.createTextNode(m[2]));
    }
    else if (m[4] !== undefined) parent.appendChild(el('code', '', m[4]));
    else { var f = el('span', m[5]); inline(f, m[6], depth + 1); parent.appendChild(f); }
    last = re.lastIndex;
  }
  if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
}
function markdown(text) {
  var box = el('div', 'bubble md');
  String(text || '').split('\n').forEach(function (line) {
    var h = /^(#{1,6})\s+(.*)$/.exec(line), q = /^>\s?(.*)$/.exec(line), li = /^\s*[-*]\s+(.*)$/.exec(line);
    var div;
    if (h) { div = el('div', 'ln h' + h[1].length); inline(div, h[2], 0); }
    else if (q) { div = el('div', 'ln q'); inline(div, q[1], 0); }
    else if (li) { div = el('div', 'ln'); div.appendChild(document.createTextNode('• ')); inline(div, li[1], 0); }
    else { div = el('div', 'ln'); inline(div, line, 0); }
    box.appendChild(div);
  });
  return box;
}

/* ---------- template cards ---------- */
function buttonsOf(c) {
  var out = [];
  list(c.button_list).forEach(function (b) { if (obj(b)) out.push({ text: b.text, key: b.key, style: b.style || 1, url: b.type === 1 ? b.url : null }); });
  if (obj(c.submit_button)) out.push({ text: c.submit_button.text || '提交', key: c.submit_button.key, style: 1 });
  return out;
}
function renderCard(view, userid) {
  var c = obj(view.card) || {}, box = el('div', 'card' + (view.disabled ? ' done' : ''));
  box.setAttribute('data-task', view.taskId || '');
  var src = obj(c.source);
  if (src && src.desc) box.appendChild(el('div', 'src c' + (src.desc_color || 0), src.desc));
  var main = obj(c.main_title);
  if (main && main.title) box.appendChild(el('div', 'title', main.title));
  if (main && main.desc) box.appendChild(el('div', 'desc', main.desc));
  var emph = obj(c.emphasis_content);
  if (emph && (emph.title || emph.desc)) {
    var e = el('div', 'emph'); e.appendChild(el('div', 'v', emph.title)); if (emph.desc) e.appendChild(el('div', 'd', emph.desc)); box.appendChild(e);
  }
  var quote = obj(c.quote_area);
  if (quote && (quote.title || quote.quote_text)) {
    var qa = el('div', 'quote'); if (quote.title) qa.appendChild(el('b', '', quote.title));
    if (quote.quote_text) qa.appendChild(document.createTextNode(quote.quote_text)); box.appendChild(qa);
  }
  if (c.sub_title_text) box.appendChild(el('div', 'sub', c.sub_title_text));
  var rows = list(c.horizontal_content_list).concat(list(c.vertical_content_list));
  if (rows.length) {
    var rs = el('div', 'rows');
    rows.forEach(function (r) {
      if (!obj(r)) return;
      var row = el('div', 'row'); row.appendChild(el('span', 'k', r.keyname || r.title || ''));
      var v = r.value || r.desc || '';
      if (r.type === 3 && r.userid) v = '@' + r.userid;
      if (r.type === 1 && /^https?:\/\//i.test(r.url || '')) { var a = el('a', 'v', v); a.href = r.url; a.target = '_blank'; a.rel = 'noopener noreferrer'; row.appendChild(a); }
      else row.appendChild(el('span', 'v', v));
      rs.appendChild(row);
    });
    box.appendChild(rs);
  }
  list(c.jump_list).forEach(function (j) { if (obj(j)) box.appendChild(el('div', 'jump', '↗ ' + (j.title || ''))); });
  if (obj(c.checkbox)) {
    var cb = el('div', 'opts');
    list(c.checkbox.option_list).forEach(function (o) { if (obj(o)) cb.appendChild(el('div', '', (o.is_checked ? '☑ ' : '☐ ') + o.text)); });
    box.appendChild(cb);
  }
  list(c.select_list).forEach(function (s) {
    if (!obj(s)) return;
    var names = list(s.option_list).map(function (o) { return (o && o.id === s.selected_id ? '● ' : '○ ') + (o ? o.text : ''); });
    box.appendChild(el('div', 'opts', (s.title || s.question_key || '') + '：' + names.join('  ')));
  });
  var btns = el('div', 'btns');
  if (view.disabled) {
    var d = el('button', '', view.replaceName || '已处理'); d.disabled = true; btns.appendChild(d);
  } else if (userid) {
    buttonsOf(c).forEach(function (k) {
      var b = el('button', 's' + k.style, k.text);
      b.type = 'button';
      b.setAttribute('data-key', k.key || '');
      if (k.url) b.onclick = function () { if (/^https?:\/\//i.test(k.url)) window.open(k.url, '_blank', 'noopener'); };
      else b.onclick = function () { click(userid, view.taskId, k.key, btns); };
      btns.appendChild(b);
    });
  }
  if (btns.childNodes.length) box.appendChild(btns);
  if (view.updatedAt) box.appendChild(el('div', 'foot', '卡片已更新 · ' + time(view.updatedAt)));
  return box;
}

/* ---------- messages ---------- */
function buttonText(conv, taskId, key) {
  for (var i = conv.messages.length - 1; i >= 0; i--) {
    var m = conv.messages[i];
    if (m.card && m.card.taskId === taskId) {
      var found = buttonsOf(obj(m.card.card) || {}).filter(function (b) { return b.key === key; })[0];
      if (found) return found.text;
    }
  }
  return key;
}
function avatar(cls, text) { return el('div', 'avatar ' + cls, text); }
function memberMessage(conv, m) {
  if (m.direction === 'in' && m.event) return el('div', 'sys', conv.name + ' 点击了「' + buttonText(conv, m.event.taskId, m.event.eventKey) + '」 · ' + time(m.at));
  var mine = m.direction === 'in', row = el('div', 'm' + (mine ? ' mine' : ''));
  row.appendChild(mine ? avatar(conv.color, conv.initial) : avatar('app', '线索'));
  var body = el('div', 'body');
  body.appendChild(el('div', 'meta', (mine ? conv.name : '线索助手') + '  ' + time(m.at)));
  if (m.card) body.appendChild(renderCard(m.card, conv.id));
  else if (m.msgtype === 'markdown') body.appendChild(markdown(m.markdown));
  else body.appendChild(el('div', 'bubble', m.text !== undefined ? m.text : ''));
  if (m.truncated) body.appendChild(el('div', 'warn', '（超过 2048 字节，已被企业微信截断）'));
  list(m.warnings).forEach(function (w) { body.appendChild(el('div', 'warn', '⚠ ' + w)); });
  row.appendChild(body);
  return row;
}
function groupMessage(conv, m) {
  var row = el('div', 'm'), b = obj(m.body) || {}, body = el('div', 'body');
  row.appendChild(avatar('bot', '机器人'));
  body.appendChild(el('div', 'meta', '群机器人  ' + time(m.at)));
  if (m.msgtype === 'image' && typeof b.base64 === 'string' && /^[A-Za-z0-9+\/=]+$/.test(b.base64)) {
    var img = el('img', 'img'); img.alt = '图片'; img.src = 'data:image/png;base64,' + b.base64; body.appendChild(img);
  } else if (m.msgtype === 'news') {
    var box = el('div', 'card');
    list(b.articles).forEach(function (a) {
      if (!obj(a)) return;
      var item = el('a', 'news'); if (/^https?:\/\//i.test(a.url || '')) { item.href = a.url; item.target = '_blank'; item.rel = 'noopener noreferrer'; }
      item.appendChild(el('div', 'title', a.title)); if (a.description) item.appendChild(el('div', 'desc', a.description)); box.appendChild(item);
    });
    body.appendChild(box);
  } else if (m.msgtype === 'template_card') body.appendChild(renderCard({ card: b, cardType: b.card_type, disabled: false }, ''));
  else if (m.msgtype === 'markdown' || m.msgtype === 'markdown_v2') body.appendChild(markdown(b.content));
  else body.appendChild(el('div', 'bubble', b.content));
  row.appendChild(body);
  return row;
}
function renderMessage(conv, m) {
  var node = conv.kind === 'member' ? memberMessage(conv, m) : groupMessage(conv, m);
  node.setAttribute('data-seq', m.seq);
  return node;
}
function preview(m) {
  if (m.card) { var c = obj(m.card.card) || {}; return '[卡片] ' + ((obj(c.main_title) || {}).title || ''); }
  if (m.event) return '[点击按钮]';
  if (m.msgtype === 'image') return '[图片]';
  var t = m.text !== undefined ? m.text : m.markdown !== undefined ? m.markdown : (obj(m.body) || {}).content;
  return String(t || '').replace(/<[^>]*>|\*\*|\x60/g, '').replace(/^[#>\s]+/gm, '').replace(/\s+/g, ' ').slice(0, 40);
}

/* ---------- conversations ---------- */
function convNode(kind, id) { return document.querySelector('.conv[data-kind="' + kind + '"][data-id="' + CSS.escape(id) + '"]'); }
function setBadge(conv) {
  var node = convNode(conv.kind, conv.id); if (!node) return;
  var badge = node.querySelector('.badge'), n = conv.unread;
  badge.textContent = n > 99 ? '99+' : String(n); badge.className = 'badge' + (n > 0 ? ' show' : '');
  var small = node.querySelector('.preview'); var last = conv.messages[conv.messages.length - 1];
  if (small) small.textContent = last ? preview(last) : (node.getAttribute('data-title') || '');
}
function counts(m, kind) { return kind === 'group' || m.direction === 'out'; }
function load(snapshot) {
  var old = convs; convs = {};
  function add(kind, entry, id) {
    var node = convNode(kind, id); if (!node) return;
    var prev = old[keyOf(kind, id)];
    var conv = { kind: kind, id: id, name: entry.name, title: entry.title || '', messages: list(entry.messages),
      initial: node.getAttribute('data-initial') || '', color: node.getAttribute('data-color') || 'c1', unread: 0 };
    var seen = prev ? prev.seen : 0;
    conv.seen = seen;
    conv.unread = conv.messages.filter(function (m) { return m.seq > seen && counts(m, kind); }).length;
    convs[keyOf(kind, id)] = conv;
  }
  list(snapshot.members).forEach(function (m) { if (m) add('member', m, m.userid); });
  list(snapshot.groups).forEach(function (g) { if (g) add('group', g, g.key); });
  stats(snapshot.stats);
  Object.keys(convs).forEach(function (k) { setBadge(convs[k]); });
  if (current) show(current.kind, current.id);
}
function show(kind, id) {
  var conv = convs[keyOf(kind, id)];
  document.querySelectorAll('.conv').forEach(function (n) { n.classList.toggle('on', n.getAttribute('data-kind') === kind && n.getAttribute('data-id') === id); });
  current = { kind: kind, id: id };
  if (location.hash !== '#' + kind + '/' + encodeURIComponent(id)) history.replaceState(null, '', '#' + kind + '/' + encodeURIComponent(id));
  var node = convNode(kind, id);
  $('pane-title').textContent = node ? node.getAttribute('data-name') : id;
  $('pane-sub').textContent = node ? (node.getAttribute('data-title') || '') : '';
  $('composer').hidden = kind !== 'member';
  var box = $('messages'); box.textContent = '';
  if (!conv) return;
  if (!conv.messages.length) box.appendChild(el('div', 'empty', kind === 'member' ? '暂无消息。新线索分配给 ' + conv.name + ' 时，卡片会出现在这里。' : '暂无消息。团队战报会由群机器人发到这里。'));
  conv.messages.forEach(function (m) { box.appendChild(renderMessage(conv, m)); });
  markSeen(conv);
  box.scrollTop = box.scrollHeight;
}
function markSeen(conv) {
  var last = conv.messages[conv.messages.length - 1];
  conv.seen = last ? last.seq : 0; conv.unread = 0; setBadge(conv);
}
function upsert(kind, id, m) {
  var conv = convs[keyOf(kind, id)]; if (!conv) return;
  var i, at = -1;
  for (i = conv.messages.length - 1; i >= 0; i--) if (conv.messages[i].seq === m.seq) { at = i; break; }
  if (at >= 0) conv.messages[at] = m; else { conv.messages.push(m); if (m.seq > conv.seen && counts(m, kind)) conv.unread++; }
  var visible = current && current.kind === kind && current.id === id;
  if (visible) {
    var box = $('messages'), stick = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
    var empty = box.querySelector('.empty'); if (empty) empty.remove();
    var old = box.querySelector('[data-seq="' + m.seq + '"]'), node = renderMessage(conv, m);
    if (old) old.replaceWith(node); else box.appendChild(node);
    markSeen(conv);
    if (stick || m.direction === 'in') box.scrollTop = box.scrollHeight;
  } else setBadge(conv);
}
function stats(s) {
  var box = $('stats-list'); if (!box || !obj(s)) return; box.textContent = '';
  Object.keys(s).forEach(function (k) { var r = el('div', 'kv'); r.appendChild(el('span', '', LABELS[k] || k)); r.appendChild(el('span', '', s[k])); box.appendChild(r); });
}

/* ---------- acting as a member ---------- */
function post(path, body) {
  return fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
    .then(function (r) { return r.json().then(function (o) { return { status: r.status, body: o }; }); });
}
function outcome(res) {
  if (res.body && res.body.error) { toast('失败：' + res.body.error); return false; }
  if (res.body && res.body.ok === false) { toast('回调未成功（尝试 ' + list(res.body.attempts).length + ' 次），请确认 LeadRelay 服务在运行'); return false; }
  return true;
}
function click(userid, taskId, key, btns) {
  btns.querySelectorAll('button').forEach(function (b) { b.classList.add('pending'); b.disabled = true; });
  post('/_emulator/api/members/' + encodeURIComponent(userid) + '/click', { taskId: taskId, eventKey: key })
    .then(function (res) { if (!outcome(res)) btns.querySelectorAll('button').forEach(function (b) { b.classList.remove('pending'); b.disabled = false; }); })
    .catch(function (e) { toast('请求失败：' + e); });
}
function send(text) {
  if (!current || current.kind !== 'member' || !text.trim()) return;
  post('/_emulator/api/members/' + encodeURIComponent(current.id) + '/text', { content: text })
    .then(outcome).catch(function (e) { toast('请求失败：' + e); });
}

/* ---------- live updates ---------- */
function connect() {
  var source = new EventSource('/_emulator/api/events');
  function state(on) { var s = $('live'); s.className = 'live ' + (on ? 'on' : 'off'); s.lastChild.textContent = on ? '实时连接' : '连接中断，正在重连…'; live = on; }
  source.addEventListener('snapshot', function (e) { load(JSON.parse(e.data)); state(true); });
  source.addEventListener('member', function (e) { var d = JSON.parse(e.data); upsert('member', d.id, d.message); });
  source.addEventListener('group', function (e) { var d = JSON.parse(e.data); upsert('group', d.id, d.message); });
  source.addEventListener('stats', function (e) { stats(JSON.parse(e.data)); });
  source.addEventListener('reset', function () { Object.keys(convs).forEach(function (k) { convs[k].messages = []; convs[k].seen = 0; convs[k].unread = 0; setBadge(convs[k]); }); if (current) show(current.kind, current.id); });
  source.onerror = function () { if (live) state(false); };
}

function fromHash() {
  var m = /^#(member|group)\/(.+)$/.exec(location.hash);
  if (m) { var id = decodeURIComponent(m[2]); if (convNode(m[1], id)) return { kind: m[1], id: id }; }
  var first = document.querySelector('.conv');
  return first ? { kind: first.getAttribute('data-kind'), id: first.getAttribute('data-id') } : null;
}
document.querySelectorAll('.conv').forEach(function (n) { n.onclick = function () { show(n.getAttribute('data-kind'), n.getAttribute('data-id')); }; });
window.addEventListener('hashchange', function () { var t = fromHash(); if (t) show(t.kind, t.id); });
CHIPS.forEach(function (c) { var b = el('button', '', c[0]); b.type = 'button'; b.title = '发送「' + c[1] + '」'; b.onclick = function () { send(c[1]); }; $('chips').appendChild(b); });
$('send').onclick = function () { var input = $('input'); send(input.value); input.value = ''; input.focus(); };
$('input').addEventListener('keydown', function (e) { if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); $('send').onclick(); } });
var start = fromHash(); if (start) show(start.kind, start.id);
connect();
`;
