/**
 * `GET /`: the page to watch and drive the emulator, laid out like the WeCom desktop client: every
 * member and every team group chat in a list on the left, the chat on the right with template cards
 * whose buttons work (greyed once the app updates the card), and an input box (plus 战报 / 我的 /
 * 公海 / 帮助 shortcuts) to write to the bot as that member. Live over Server-Sent Events.
 *
 * No build step, no external assets: one HTML document with its style and script inline, allowed by
 * their hashes in the CSP (nothing else may run). The server-rendered parts (names, titles, ids) are
 * HTML-escaped; everything from the API is put into the DOM with textContent (page-script.ts).
 */
import { createHash } from 'node:crypto';
import { PAGE_SCRIPT } from './page-script';
import { PAGE_STYLE } from './page-style';
import type { WecomSettings } from './types';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const sha256 = (s: string) => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;

/**
 * Strict CSP: only this page's own inline script and style (by hash), API calls and the event
 * stream to this origin, data: images (the funnel chart), no frames, no forms elsewhere.
 */
export const PAGE_CSP = [
  "default-src 'none'",
  `script-src ${sha256(PAGE_SCRIPT)}`,
  `style-src ${sha256(PAGE_STYLE)}`,
  "connect-src 'self'",
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const COLORS = 6;

/** The same member always gets the same avatar colour. */
function colorOf(id: string): string {
  let h = 0;
  for (const ch of id) h = (h * 31 + (ch.codePointAt(0) ?? 0)) >>> 0;
  return `c${(h % COLORS) + 1}`;
}

/** The avatar text: the last two characters of a Chinese name (as WeCom shows), else initials. */
function initialOf(name: string): string {
  const chars = [...name.trim()];
  if (chars.length === 0) return '?';
  if (/\p{Script=Han}/u.test(chars[0]!)) return chars.slice(-2).join('');
  return name
    .trim()
    .split(/\s+/)
    .slice(0, 2)
    .map((w) => [...w][0]!.toUpperCase())
    .join('');
}

function conversation(kind: 'member' | 'group', id: string, name: string, title: string): string {
  const initial = kind === 'group' ? '群' : initialOf(name);
  const color = kind === 'group' ? 'grp' : colorOf(id);
  const attrs = [
    `data-kind="${kind}"`,
    `data-id="${escapeHtml(id)}"`,
    `data-name="${escapeHtml(name)}"`,
    `data-title="${escapeHtml(title)}"`,
    `data-initial="${escapeHtml(initial)}"`,
    `data-color="${color}"`,
  ].join(' ');
  return (
    `<li class="conv" ${attrs}><div class="avatar ${color}">${escapeHtml(initial)}</div>` +
    `<div class="who"><b>${escapeHtml(name)}</b><small class="preview">${escapeHtml(title)}</small></div>` +
    '<span class="badge"></span></li>'
  );
}

export function renderPage(settings: WecomSettings): string {
  const members = settings.members
    .map((m) => conversation('member', m.userid, m.name, m.title ?? m.userid))
    .join('');
  const groups = settings.groupRobots.map((r) => conversation('group', r.key, r.name, '群机器人')).join('');
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>企业微信模拟器 · LeadRelay</title><style>${PAGE_STYLE}</style></head>
<body>
<div id="top"><span class="logo">企业微信模拟器</span><span class="corp">${escapeHtml(settings.corpId)} · 应用 ${settings.agentId}</span>
<span id="live" class="live"><span class="dot"></span><span>连接中…</span></span></div>
<div id="app">
<nav id="side"><div class="scroll"><h2>成员</h2><ul>${members}</ul>${groups ? `<h2>团队群</h2><ul>${groups}</ul>` : ''}</div>
<details id="stats"><summary>模拟器统计</summary><div id="stats-list"></div></details></nav>
<section id="pane"><header id="pane-head"><div><div class="t" id="pane-title"></div><div class="s" id="pane-sub"></div></div></header>
<div id="messages" role="log" aria-live="polite"></div>
<footer id="composer" hidden><div id="chips"></div>
<div class="line"><textarea id="input" placeholder="以该成员身份给「线索助手」发消息：跟进记录、认领 123、阶段 123 商机、战报…（Enter 发送，Shift+Enter 换行）"></textarea><button id="send" type="button">发送</button></div></footer>
</section></div>
<div id="toast"></div>
<script>${PAGE_SCRIPT}</script></body></html>`;
}
