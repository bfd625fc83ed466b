import { createHash } from 'node:crypto';
import type { CardModel } from '../../../src/cards/types';
import type { OutboundMessage } from '../../../src/platforms/types';
import {
  DUPLICATE_CHECK_INTERVAL_SECONDS,
  invisibleTag,
  LIMITS,
  renderWecomMessage,
  truncateChars,
  truncateUtf8,
  WecomRenderError,
  type WecomRenderErrorCode,
} from '../../../src/platforms/wecom/render';

const AGENT_ID = 1000002;
const render = (message: OutboundMessage) => renderWecomMessage(message, { agentId: AGENT_ID });
const json = (message: OutboundMessage) => JSON.parse(render(message).body);

function expectRenderError(fn: () => unknown, code: WecomRenderErrorCode): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(WecomRenderError);
  expect((caught as WecomRenderError).code).toBe(code);
}

const card: CardModel = {
  template: 'new-lead',
  title: '新线索：张*',
  description: '来自官网表单',
  emphasis: { value: '15 分钟', label: '剩余认领时间' },
  fields: [{ label: '电话', value: '138****1234' }],
  quote: '想了解价格',
  buttons: [
    { actionId: 'claim', text: '认领', style: 'primary' },
    { actionId: 'release', text: '放回公海', style: 'default' },
    { actionId: 'close', text: '无效线索', style: 'danger' },
    { actionId: 'detail', text: '详情', style: 'link' },
  ],
};
const toZhang = { kind: 'user', userId: 'zhangsan' } as const;

describe('renderWecomMessage: app messages (90236)', () => {
  it('renders text with a fixed key order and the 4-hour duplicate check', () => {
    const request = render({ kind: 'text', to: toZhang, text: '你好' });
    expect(request).toEqual({
      api: 'message/send',
      ambiguousRetryWindowMs: (4 * 3600 - 300) * 1000,
      body:
        '{"touser":"zhangsan","msgtype":"text","agentid":1000002,"text":{"content":"你好"},' +
        `"enable_duplicate_check":1,"duplicate_check_interval":${DUPLICATE_CHECK_INTERVAL_SECONDS}}`,
    });
    expect(request.target).toBeUndefined();
  });

  it('is deterministic: the same message gives byte-identical bodies, whatever the object key order', () => {
    const a: OutboundMessage = { kind: 'card', to: toZhang, cardId: 'lead_1', card };
    const shuffled: CardModel = {
      buttons: card.buttons.map((b) => ({ style: b.style, text: b.text, actionId: b.actionId })),
      quote: card.quote,
      fields: card.fields.map((f) => ({ value: f.value, label: f.label })),
      emphasis: { label: card.emphasis!.label, value: card.emphasis!.value },
      description: card.description,
      title: card.title,
      template: card.template,
    };
    const b: OutboundMessage = { cardId: 'lead_1', card: shuffled, to: toZhang, kind: 'card' };
    const first = render(a).body;
    for (let i = 0; i < 5; i++) expect(render(a).body).toBe(first);
    expect(render(b).body).toBe(first);
    expect(Object.keys(JSON.parse(first))).toEqual([
      'touser',
      'msgtype',
      'agentid',
      'template_card',
      'enable_duplicate_check',
      'duplicate_check_interval',
    ]);
  });

  it('renders a card as button_interaction with task_id, styles and keys', () => {
    const body = json({ kind: 'card', to: toZhang, cardId: 'lead_1-new@x', card });
    expect(body.msgtype).toBe('template_card');
    expect(body.template_card).toEqual({
      card_type: 'button_interaction',
      main_title: { title: '新线索：张*', desc: '来自官网表单' },
      quote_area: { quote_text: '想了解价格' },
      sub_title_text: '剩余认领时间：15 分钟',
      horizontal_content_list: [{ keyname: '电话', value: '138****1234' }],
      task_id: 'lead_1-new@x',
      button_list: [
        { text: '认领', style: 1, key: 'claim' },
        { text: '放回公海', style: 2, key: 'release' },
        { text: '无效线索', style: 3, key: 'close' },
        { text: '详情', style: 4, key: 'detail' },
      ],
    });
  });

  it('keeps a card with 7 buttons, 8 fields and long texts inside the limits', () => {
    const long: CardModel = {
      template: 'x',
      title: '标'.repeat(50),
      description: '述'.repeat(60),
      emphasis: { value: '值'.repeat(200) },
      fields: Array.from({ length: 8 }, (_, i) => ({ label: `很长的字段名${i}`, value: '内'.repeat(40) })),
      quote: '引'.repeat(500),
      buttons: Array.from({ length: 7 }, (_, i) => ({
        actionId: `a${i}`,
        text: '一二三四五六七八九十十一',
        style: 'primary' as const,
      })),
    };
    const tc = json({ kind: 'card', to: toZhang, cardId: 'c1', card: long }).template_card;
    const chars = (s: string) => [...s].length;
    expect(chars(tc.main_title.title)).toBe(LIMITS.mainTitleChars);
    expect(tc.main_title.title.endsWith('…')).toBe(true);
    expect(chars(tc.main_title.desc)).toBe(LIMITS.mainDescChars);
    expect(chars(tc.sub_title_text)).toBe(LIMITS.subTitleChars);
    expect(chars(tc.quote_area.quote_text)).toBe(LIMITS.quoteChars);
    expect(tc.horizontal_content_list).toHaveLength(6);
    for (const row of tc.horizontal_content_list) {
      expect(chars(row.keyname)).toBeLessThanOrEqual(LIMITS.keynameChars);
      expect(chars(row.value)).toBeLessThanOrEqual(LIMITS.valueChars);
    }
    expect(tc.button_list).toHaveLength(6);
    expect(tc.button_list.map((b: { key: string }) => b.key)).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'a5']);
    for (const b of tc.button_list) expect(chars(b.text)).toBeLessThanOrEqual(LIMITS.buttonTextChars);
  });

  it('refuses card ids that are not valid task_ids, and bad button keys', () => {
    for (const cardId of ['', 'a b', 'lead:1', 'x'.repeat(129), '线索1']) {
      expectRenderError(() => render({ kind: 'card', to: toZhang, cardId, card }), 'bad_card_id');
    }
    expect(() => render({ kind: 'card', to: toZhang, cardId: 'x'.repeat(128), card })).not.toThrow();
    const dup = { ...card, buttons: [card.buttons[0]!, { ...card.buttons[1]!, actionId: 'claim' }] };
    expectRenderError(() => render({ kind: 'card', to: toZhang, cardId: 'c', card: dup }), 'bad_action_id');
    const huge = { ...card, buttons: [{ ...card.buttons[0]!, actionId: 'k'.repeat(1025) }] };
    expectRenderError(() => render({ kind: 'card', to: toZhang, cardId: 'c', card: huge }), 'bad_action_id');
  });

  it('refuses a userid that would widen the audience', () => {
    for (const userId of ['', 'a|b', '@all', 'u'.repeat(65)]) {
      expectRenderError(
        () => render({ kind: 'text', to: { kind: 'user', userId }, text: 'x' }),
        'bad_user_id',
      );
    }
  });

  it('sends a settled card or one without buttons as read-only markdown', () => {
    const settled = json({
      kind: 'card',
      to: toZhang,
      cardId: 'c',
      card: { ...card, settled: '已被李四认领' },
    });
    expect(settled.msgtype).toBe('markdown');
    expect(settled.markdown.content).toContain('**新线索：张*');
    expect(settled.markdown.content).toContain('已被李四认领');
    expect(settled.template_card).toBeUndefined();
    const readOnly = json({ kind: 'card', to: toZhang, cardId: 'c', card: { ...card, buttons: [] } });
    expect(readOnly.msgtype).toBe('markdown');
  });

  it('cuts text and markdown to 2048 bytes', () => {
    const text = json({ kind: 'text', to: toZhang, text: '字'.repeat(1000) });
    expect(Buffer.byteLength(text.text.content)).toBeLessThanOrEqual(LIMITS.appTextBytes);
    const md = json({ kind: 'markdown', to: toZhang, markdown: '字'.repeat(1000) });
    expect(Buffer.byteLength(md.markdown.content)).toBeLessThanOrEqual(LIMITS.appMarkdownBytes);
    expect(md.markdown.content.endsWith('…（已截断）')).toBe(true);
  });

  it('refuses an image to a member (needs a media upload)', () => {
    expectRenderError(
      () => render({ kind: 'image', to: toZhang, pngBase64: 'iVBORw0KGgo=' }),
      'image_to_user',
    );
  });
});

describe('renderWecomMessage: card updates (94888)', () => {
  const update = (
    over: Partial<Extract<OutboundMessage, { kind: 'card_update' }>> = {},
  ): OutboundMessage => ({
    kind: 'card_update',
    userIds: ['zhangsan', 'lisi'],
    cardId: 'lead_1',
    card,
    updateToken: 'RESPONSE_CODE',
    ...over,
  });

  it('greys the buttons out with replace_name when the card is settled', () => {
    const request = render(update({ card: { ...card, settled: '已被张三认领' } }));
    expect(request).toEqual({
      api: 'message/update_template_card',
      ambiguousRetryWindowMs: Number.POSITIVE_INFINITY,
      body:
        '{"userids":["zhangsan","lisi"],"agentid":1000002,"response_code":"RESPONSE_CODE",' +
        '"button":{"replace_name":"已被张三认领"}}',
    });
  });

  it('replaces the whole card otherwise, keeping its task_id', () => {
    const body = JSON.parse(render(update({ userIds: ['zhangsan', 'zhangsan'] })).body);
    expect(Object.keys(body)).toEqual(['userids', 'agentid', 'response_code', 'template_card']);
    expect(body.userids).toEqual(['zhangsan']);
    expect(body.template_card.task_id).toBe('lead_1');
    expect(body.template_card.card_type).toBe('button_interaction');
  });

  it('refuses an update without a response_code, recipients or buttons', () => {
    expectRenderError(() => render(update({ updateToken: undefined })), 'no_update_token');
    expectRenderError(() => render(update({ userIds: [] })), 'no_recipients');
    expectRenderError(() => render(update({ card: { ...card, buttons: [] } })), 'update_without_buttons');
    expectRenderError(
      () => render(update({ userIds: Array.from({ length: 1001 }, (_, i) => `u${i}`) })),
      'too_many_recipients',
    );
  });
});

describe('renderWecomMessage: group robot (91770)', () => {
  const group = { kind: 'group', groupKey: 'team-east' } as const;

  it('targets the group key, never a robot key', () => {
    const request = render({ kind: 'text', to: group, text: '早上好' });
    expect(request).toEqual({
      api: 'webhook/send',
      body: '{"msgtype":"text","text":{"content":"早上好"}}',
      target: 'team-east',
      // No duplicate check on robots (91770): an ambiguous post must not be retried.
      ambiguousRetryWindowMs: 0,
    });
  });

  it('cuts markdown at 4096 bytes on a UTF-8 boundary, with a note', () => {
    // 3-byte characters and 4-byte emoji (surrogate pairs) so that a byte cut would split one.
    const markdown = `# 日报\n${'线索'.repeat(700)}${'🙂'.repeat(200)}`;
    const content: string = JSON.parse(render({ kind: 'markdown', to: group, markdown }).body).markdown
      .content;
    const bytes = Buffer.from(content, 'utf8');
    expect(bytes.length).toBeLessThanOrEqual(LIMITS.robotMarkdownBytes);
    expect(bytes.length).toBeGreaterThan(LIMITS.robotMarkdownBytes - 8);
    expect(content.endsWith('\n…（已截断）')).toBe(true);
    // Round-trips: no replacement characters, no lone surrogates.
    expect(bytes.toString('utf8')).toBe(content);
    expect(content).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
    expect(markdown.startsWith(content.slice(0, -'\n…（已截断）'.length))).toBe(true);
  });

  it('leaves markdown that fits untouched', () => {
    const markdown = '字'.repeat(1365); // 4095 bytes
    expect(JSON.parse(render({ kind: 'markdown', to: group, markdown }).body).markdown.content).toBe(
      markdown,
    );
  });

  it('posts a card to a group as markdown (robot cards have no buttons)', () => {
    const body = JSON.parse(render({ kind: 'card', to: group, cardId: 'c', card }).body);
    expect(body.msgtype).toBe('markdown');
    expect(body.markdown.content).toContain('电话：138****1234');
    expect(body.markdown.content).not.toContain('claim');
  });

  it('posts an image as base64 with the md5 of the decoded bytes', () => {
    const png = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.from('fake image data')]);
    const pngBase64 = png.toString('base64');
    const body = JSON.parse(render({ kind: 'image', to: group, pngBase64 }).body);
    expect(body).toEqual({
      msgtype: 'image',
      image: { base64: pngBase64, md5: createHash('md5').update(png).digest('hex') },
    });
    expectRenderError(() => render({ kind: 'image', to: group, pngBase64: 'not base64!' }), 'bad_image');
    expectRenderError(
      () => render({ kind: 'image', to: group, pngBase64: Buffer.from('GIF89a...').toString('base64') }),
      'bad_image',
    );
  });
});

describe('truncation helpers', () => {
  it('truncateUtf8 never splits a character and counts the note', () => {
    expect(truncateUtf8('abc', 3)).toBe('abc');
    expect(truncateUtf8('ab字', 4, '')).toBe('ab');
    expect(truncateUtf8('🙂🙂', 7, '')).toBe('🙂');
    expect(truncateUtf8('字字字字', 9, '…')).toBe('字字…');
    expect(() => truncateUtf8('字字字字', 2, '…（已截断）')).toThrow(RangeError);
  });

  it('truncateChars counts code points and ends with an ellipsis', () => {
    expect(truncateChars('一二三', 3)).toBe('一二三');
    expect(truncateChars('一二三四', 3)).toBe('一二…');
    expect(truncateChars('🙂🙂🙂🙂', 3)).toBe('🙂🙂…');
  });
});

describe('renderWecomMessage: the invisible tag (WeCom duplicate check, 90236)', () => {
  // Found by `npm run test:chaos`: a member typed 帮助 twice within 4 hours and got one answer, since
  // WeCom drops a message identical to one it delivered to the same member within the interval.
  const renderKeyed = (message: OutboundMessage, dedupeKey: string) =>
    renderWecomMessage(message, { agentId: AGENT_ID, dedupeKey });
  const content = (body: string) => {
    const parsed = JSON.parse(body);
    return String(parsed[parsed.msgtype].content);
  };

  it('makes two rows with the same words different requests, and a retry of one byte-identical', () => {
    const help: OutboundMessage = { kind: 'text', to: toZhang, text: '帮助：直接打字即可' };
    const first = renderKeyed(help, 'reply:wecom:7300000000000000001').body;
    const second = renderKeyed(help, 'reply:wecom:7300000000000000035').body;
    expect(first).not.toBe(second);
    expect(renderKeyed(help, 'reply:wecom:7300000000000000001').body).toBe(first);
    const shown = (s: string) => s.replace(/\u200b|\u200c|\u200d|\u2060/g, '');
    expect(shown(content(first))).toBe('帮助：直接打字即可');
    expect(content(first)).toBe(`帮助：直接打字即可${invisibleTag('reply:wecom:7300000000000000001')}`);
    expect(invisibleTag('x')).toMatch(/^(?:\u200b|\u200c|\u200d|\u2060){12}$/);
  });

  it('tags markdown and markdown-rendered cards to members, keeps the byte caps, leaves group posts alone', () => {
    const markdown: OutboundMessage = { kind: 'markdown', to: toZhang, markdown: 'x'.repeat(5000) };
    const body = content(renderKeyed(markdown, 'k1').body);
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(LIMITS.appMarkdownBytes);
    expect(body.endsWith(invisibleTag('k1'))).toBe(true);
    const settled: OutboundMessage = {
      kind: 'card',
      to: toZhang,
      cardId: 'lead_1',
      card: { ...card, settled: '已认领' },
    };
    expect(content(renderKeyed(settled, 'k2').body).endsWith(invisibleTag('k2'))).toBe(true);
    const group: OutboundMessage = { kind: 'text', to: { kind: 'group', groupKey: 'g' }, text: '日报' };
    expect(renderKeyed(group, 'k3').body).toBe(render(group).body);
    // A template card is told apart by its task_id already: no tag.
    const interactive: OutboundMessage = { kind: 'card', to: toZhang, cardId: 'lead_1', card };
    expect(renderKeyed(interactive, 'k4').body).toBe(render(interactive).body);
  });
});
