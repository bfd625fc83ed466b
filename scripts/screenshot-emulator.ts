/**
 * Takes the README's screenshot of the emulator page (docs/emulator.png): starts the demo stack on a
 * scratch database, posts a few leads, claims one and writes a note on the page like a rep would,
 * and photographs that rep's chat with headless chromium.
 *
 *   npx tsx scripts/screenshot-emulator.ts [out.png]
 *
 * Needs the local MySQL/MariaDB and Debian's chromium (`apt-get install -y chromium`).
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startDemo } from '../src/demo/start-demo';

const ROOT = path.resolve(__dirname, '..');
const OUT = path.resolve(process.argv[2] ?? path.join(ROOT, 'docs/emulator.png'));

const LEADS: Array<[source: string, body: Record<string, unknown>]> = [
  [
    'website',
    {
      name: '张建华',
      phone: '138 1234 5678',
      company: '苏州精工机械有限公司',
      title: '总经理',
      industry: '制造业',
      companySize: '100-499人',
      province: '江苏',
      city: '苏州',
      budget: '50万',
      need: '产线30台CNC想做设备联网',
    },
  ],
  [
    'trade_show',
    {
      name: '林晓东',
      phone: '+86 13922334455',
      company: '东莞博达电子科技有限公司',
      title: '生产总监',
      industry: '电子',
      companySize: 800,
      province: '广东',
      city: '东莞',
      need: '客户审核要求质量追溯',
      custom: { booth_visit: true },
    },
  ],
  [
    'baidu',
    {
      name: '王海燕',
      phone: '186-5566-7788',
      company: '无锡瑞丰汽车部件有限公司',
      industry: '汽车零部件',
      province: '江苏',
      city: '无锡',
      keyword: 'mes系统 价格',
      need: '想上MES，现在排产全靠Excel',
    },
  ],
  [
    'referral',
    {
      name: '陈志刚',
      phone: '13788990011',
      company: '宁波恒力精密制造有限公司',
      title: '厂长',
      industry: '制造业',
      province: '浙江',
      city: '宁波',
      need: '新厂房明年投产，规划数字化车间',
    },
  ],
  [
    'website',
    {
      name: '赵思远',
      phone: '150 2233 4455',
      company: '杭州中科医疗器械有限公司',
      title: '信息化负责人',
      industry: '医疗器械',
      companySize: '500-999人',
      province: '浙江',
      city: '杭州',
      budget: '80万',
      need: '需要和ERP（用友U8）对接',
    },
  ],
];

async function main(): Promise<void> {
  const demo = await startDemo({
    serverUrl: 'mysql://root@127.0.0.1:3306/',
    database: 'leadrelay_demo_screenshot',
    orgFile: path.join(ROOT, 'config/demo.jsonc'),
    port: 0,
    host: '127.0.0.1',
    emulatorPort: 0,
    emulatorHost: '127.0.0.1',
    leadIntervalMs: 0,
    maxLeads: 1,
    autopilot: false,
    seed: 1,
    adminKey: 'screenshot-admin-key-0123456789',
    logLevel: 'silent',
    log: () => undefined,
  });
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  try {
    const post = async ([source, body]: (typeof LEADS)[number]) => {
      const res = await fetch(`${demo.apiUrl}/api/v1/leads`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${demo.sourceKeys.get(source)}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify(body),
      });
      return ((await res.json()) as { id: number }).id;
    };
    const holder = async (id: number) => {
      for (let i = 0; i < 100; i++) {
        const userid = demo.emulator.state.snapshot().members as Array<{
          userid: string;
          messages: Array<{ card?: { taskId?: string } }>;
        }>;
        const found = userid.find((m) =>
          m.messages.some((x) => x.card?.taskId?.startsWith(`L${id}-new-lead-`)),
        );
        if (found) return found.userid;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`no card for #${id}`);
    };
    const first = await post(LEADS[0]!);
    const rep = await holder(first);
    const page = await browser.newPage({
      viewport: { width: 1280, height: 900 },
      timezoneId: 'Asia/Shanghai',
    });
    await page.goto(`${demo.pageUrl}#member/${rep}`);
    await page.locator('#live.on').waitFor();
    const card = page.locator(`.card[data-task^="L${first}-new-lead-"]`);
    await card.locator('button', { hasText: '认领' }).click();
    await page.locator(`.card.done[data-task^="L${first}-new-lead-"]`).waitFor();
    await page.locator('#input').fill('已电话沟通，下周三来厂参观\n预算：50万\n决策人：张总');
    await page.locator('#input').press('Enter');
    await page.locator('.bubble', { hasText: `已记录到 #${first}` }).waitFor();
    for (const lead of LEADS.slice(1)) await post(lead);
    await page.waitForTimeout(2000);
    await page.locator('#messages').evaluate((e) => {
      e.scrollTop = e.scrollHeight;
    });
    await page.screenshot({ path: OUT });
    console.log(`${path.relative(ROOT, OUT)}: ${Math.round(statSync(OUT).size / 1024)} KB`);
  } finally {
    await browser.close();
    await demo.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
