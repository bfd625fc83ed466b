import { existsSync } from 'node:fs';
import path from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { type RunningDemo, startDemo } from '../../src/demo/start-demo';
import { testServerUrl } from '../helpers/test-db';

/**
 * The demo in a real browser (issue 8): Debian's chromium, headless, drives the emulator page the way
 * a person would. A lead posted to the API shows up as a card in the rep's chat; clicking 认领 on the
 * page claims it and greys the card; a note typed into the input box reaches the lead's timeline.
 * `.ci/run` installs chromium, so this never skips.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ADMIN_KEY = 'browser-test-admin-key-0123';

let demo: RunningDemo;
let browser: Browser;
let page: Page;
const problems: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `没有找到 ${CHROMIUM}：请安装 Debian 的 chromium（apt-get install -y chromium），.ci/run 会自动安装`,
    );
  }
  demo = await startDemo({
    serverUrl: testServerUrl(),
    database: `${process.env.LEADRELAY_TEST_RUN}_demo_browser`,
    orgFile: path.resolve(__dirname, '../../config/demo.jsonc'),
    port: 0,
    host: '127.0.0.1',
    emulatorPort: 0,
    emulatorHost: '127.0.0.1',
    leadIntervalMs: 0,
    maxLeads: 1,
    autopilot: false,
    seed: 1,
    adminKey: ADMIN_KEY,
    logLevel: 'silent',
    log: () => undefined,
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  page = await browser.newPage({ viewport: { width: 1280, height: 860 }, timezoneId: 'Asia/Shanghai' });
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(String(e)));
  page.on('dialog', (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await demo?.stop();
});

async function postLead(body: Record<string, unknown>): Promise<number> {
  const res = await fetch(`${demo.apiUrl}/api/v1/leads`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${demo.sourceKeys.get('website')}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify(body),
  });
  const answer = (await res.json()) as { id: number; grade: string };
  expect({ status: res.status, grade: answer.grade }).toEqual({ status: 201, grade: 'A' });
  return answer.id;
}

async function timelineOf(
  id: number,
): Promise<Array<{ type: string; actorId: string | null; data: unknown }>> {
  const res = await fetch(`${demo.apiUrl}/api/v1/leads/${id}`, {
    headers: { authorization: `Bearer ${ADMIN_KEY}` },
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { timeline: Array<{ type: string; actorId: string | null; data: unknown }> })
    .timeline;
}

describe('the emulator page in chromium', () => {
  it('shows the card in the rep’s chat; 认领 and a typed note reach the lead’s timeline', async () => {
    await page.goto(demo.pageUrl);
    await page.locator('#live.on').waitFor({ timeout: 10_000 });
    // Every member of the demo org and both team group chats are listed.
    await expect(page.locator('.conv[data-kind="member"]').count()).resolves.toBe(11);
    await expect(page.locator('.conv[data-kind="group"]').count()).resolves.toBe(2);

    const company = '<img src=x onerror=alert(1)>苏州精工机械有限公司';
    const id = await postLead({
      name: '张建华',
      phone: '138 1234 5678',
      company,
      title: '总经理',
      industry: '制造业',
      companySize: '100-499人',
      province: '江苏',
      city: '苏州',
      budget: '50万',
      need: '产线30台CNC想做设备联网',
    });

    // The card arrives live: the rep's conversation gets an unread badge.
    const badge = page.locator('.conv[data-kind="member"]:has(.badge.show)');
    await badge.first().waitFor({ timeout: 15_000 });
    const rep = (await badge.first().getAttribute('data-id'))!;
    const repName = demo.org.members.find((m) => m.platforms.wecom === rep)!;
    expect(demo.org.teams.find((t) => t.id === 'east')!.members).toContain(repName.id);
    await badge.first().click();
    await expect(page.locator('#pane-title').textContent()).resolves.toBe(repName.name);

    const card = page.locator(`.card[data-task^="L${id}-new-lead-"]`);
    await card.waitFor({ timeout: 10_000 });
    // Content from the API is text, never markup: the company's tag is shown, not run.
    await expect(card.textContent()).resolves.toContain(company);
    await expect(card.locator('img').count()).resolves.toBe(0);

    await card.locator('button', { hasText: '认领' }).click();
    // The server updates the card: its buttons are replaced by one greyed-out button.
    const done = page.locator(`.card.done[data-task^="L${id}-new-lead-"]`);
    await done.waitFor({ timeout: 10_000 });
    await expect(done.locator('.btns button').count()).resolves.toBe(1);
    await expect(done.locator('.btns button').isDisabled()).resolves.toBe(true);
    await expect(page.locator('.sys', { hasText: '点击了「认领」' }).count()).resolves.toBe(1);

    await page.locator('#input').fill('客户说下周来厂参观\n预算：50万');
    await page.locator('#input').press('Enter');
    await page.locator('.m:not(.mine) .bubble', { hasText: `已记录到 #${id}` }).waitFor({ timeout: 10_000 });
    await expect(page.locator('#input').inputValue()).resolves.toBe('');

    const timeline = await timelineOf(id);
    const types = timeline.map((e) => e.type);
    expect(types).toEqual(
      expect.arrayContaining(['lead.created', 'lead.assigned', 'lead.claimed', 'lead.note_added']),
    );
    expect(types.indexOf('lead.claimed')).toBeLessThan(types.indexOf('lead.note_added'));
    expect(timeline.find((e) => e.type === 'lead.claimed')!.actorId).toBe(repName.id);
    expect(JSON.stringify(timeline.find((e) => e.type === 'lead.note_added'))).toContain('下周来厂参观');

    // The 战报 shortcut asks the bot as this member; the bot answers in the same chat.
    const botMessages = page.locator('.m:not(.mine)');
    const before = await botMessages.count();
    await page.locator('#chips button', { hasText: '战报' }).click();
    await page.locator('.m.mine .bubble', { hasText: '战报' }).waitFor({ timeout: 5000 });
    await botMessages.nth(before).waitFor({ timeout: 10_000 });

    // A group chat opens from the list and the URL names it.
    await page.locator('.conv[data-kind="group"]').first().click();
    expect(page.url()).toMatch(/#group\/demo-robot-(east|south)$/);
    await expect(page.locator('#composer').isHidden()).resolves.toBe(true);

    expect(problems).toEqual([]);
  }, 90_000);
});
