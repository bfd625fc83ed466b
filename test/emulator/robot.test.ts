import { createHash } from 'node:crypto';
import { postRaw, type Started, startEmulator } from './helpers';

describe('wecom emulator: group robot webhook (path 91770)', () => {
  let env: Started;
  const KEY = 'robot-key-1';
  const post = (body: object, key = KEY) => postRaw(env.http, `/cgi-bin/webhook/send?key=${key}`, body);
  const text = (content: string) => ({ msgtype: 'text', text: { content } });
  const posts = () => env.emulator.state.group(KEY)!.messages;

  beforeEach(async () => {
    env = await startEmulator();
  });
  afterEach(() => env.emulator.stop());

  it('posts text and markdown to the group and answers 93000 for an unknown key', async () => {
    expect(await post(text('今日线索 12 条'))).toEqual({ errcode: 0, errmsg: 'ok' });
    const md = { msgtype: 'markdown', markdown: { content: '## 日报\n<font color="info">12</font>' } };
    expect((await post(md)).errcode).toBe(0);
    expect(posts().map((m) => m.msgtype)).toEqual(['text', 'markdown']);
    expect((await post(text('x'), 'unknown')).errcode).toBe(93000);
  });

  it('refuses 21 messages in a minute with 45009, not posting the excess, and recovers', async () => {
    for (let i = 1; i <= 20; i += 1) {
      expect((await post(text(`m${i}`))).errcode).toBe(0);
      env.clock.advance(2_000);
    }
    expect((await post(text('m21'))).errcode).toBe(45009);
    expect(posts()).toHaveLength(20);
    expect(env.emulator.state.stats().robot_rate_limited).toBe(1);
    env.clock.advance(20_000); // now t = 60 s: the first post (t = 0) has left the window
    expect((await post(text('m22'))).errcode).toBe(0);
    expect(posts().at(-1)!.body).toEqual({ content: 'm22' });
  });

  it('enforces the byte limits: text 2048, markdown 4096', async () => {
    expect((await post(text('a'.repeat(2048)))).errcode).toBe(0);
    expect((await post(text('a'.repeat(2049)))).errcode).toBe(45002);
    const md = (n: number) => ({ msgtype: 'markdown', markdown: { content: '字'.repeat(n) } });
    expect((await post(md(1365))).errcode).toBe(0); // 4095 bytes
    expect((await post(md(1366))).errcode).toBe(45002); // 4098 bytes
  });

  it('checks an image against its md5 and its size', async () => {
    const png = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(100, 1)]);
    const md5 = createHash('md5').update(png).digest('hex');
    const image = (data: Buffer, sum: string) => ({
      msgtype: 'image',
      image: { base64: data.toString('base64'), md5: sum },
    });
    expect((await post(image(png, md5))).errcode).toBe(0);
    expect((await post(image(png, md5.replace(/^./, md5[0] === 'a' ? 'b' : 'a')))).errcode).toBe(40058);
    const big = Buffer.concat([png, Buffer.alloc(2 * 1024 * 1024)]);
    expect((await post(image(big, createHash('md5').update(big).digest('hex')))).errcode).toBe(40009);
    expect(posts()).toHaveLength(1);
  });

  it('accepts text_notice cards only: no buttons in groups', async () => {
    const notice = {
      card_type: 'text_notice',
      main_title: { title: '公共池新线索' },
      card_action: { type: 1, url: 'https://example.com' },
    };
    expect((await post({ msgtype: 'template_card', template_card: notice })).errcode).toBe(0);
    const buttons = {
      card_type: 'button_interaction',
      task_id: 't1',
      main_title: { title: 'x' },
      button_list: [{ text: '抢', key: 'k' }],
    };
    expect((await post({ msgtype: 'template_card', template_card: buttons })).errcode).toBe(42031);
  });
});
