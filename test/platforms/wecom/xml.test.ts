import {
  buildEncryptedReplyXml,
  buildXml,
  MAX_XML_BYTES,
  parseWecomXml,
  WecomXmlError,
  type WecomXmlErrorCode,
} from '../../../src/platforms/wecom/xml';

function expectXmlError(fn: () => unknown, code: WecomXmlErrorCode): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(WecomXmlError);
  expect((caught as WecomXmlError).code).toBe(code);
}

/** Button click on a button_interaction card, as in 90240 (whitespace as WeCom formats it). */
const CLICK_EVENT = `<xml>
  <ToUserName><![CDATA[ww1234567890abcdef]]></ToUserName>
  <FromUserName><![CDATA[ZhangSan]]></FromUserName>
  <CreateTime>1763686800</CreateTime>
  <MsgType><![CDATA[event]]></MsgType>
  <Event><![CDATA[template_card_event]]></Event>
  <EventKey><![CDATA[grab:lead_01J9Z]]></EventKey>
  <TaskId><![CDATA[lead_01J9Z-grab]]></TaskId>
  <CardType><![CDATA[button_interaction]]></CardType>
  <ResponseCode><![CDATA[vxR7PzS5OS2axDF9MdgGaZ1atXhzsSUzfjwwwESILfY]]></ResponseCode>
  <AgentID>1000002</AgentID>
</xml>`;

/** The plaintext of WeCom's sample text message (91144 sample), verbatim. */
const TEXT_MESSAGE =
  '<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName>\n' +
  '<FromUserName><![CDATA[mycreate]]></FromUserName>\n' +
  '<CreateTime>1409659813</CreateTime>\n' +
  '<MsgType><![CDATA[text]]></MsgType>\n' +
  '<Content><![CDATA[hello]]></Content>\n' +
  '<MsgId>4561255354251345929</MsgId>\n' +
  '<AgentID>218</AgentID>\n' +
  '</xml>';

/** A vote card event with SelectedItems (90240): the deepest structure we accept. */
const VOTE_EVENT =
  '<xml><FromUserName><![CDATA[LiSi]]></FromUserName><MsgType><![CDATA[event]]></MsgType>' +
  '<Event><![CDATA[template_card_event]]></Event><CardType><![CDATA[vote_interaction]]></CardType>' +
  '<SelectedItems><SelectedItem><QuestionKey><![CDATA[q1]]></QuestionKey><OptionIds>' +
  '<OptionId><![CDATA[o1]]></OptionId><OptionId><![CDATA[o2]]></OptionId></OptionIds></SelectedItem>' +
  '<SelectedItem><QuestionKey><![CDATA[q2]]></QuestionKey><OptionIds><OptionId><![CDATA[o3]]></OptionId>' +
  '</OptionIds></SelectedItem></SelectedItems></xml>';

describe('parseWecomXml', () => {
  it('parses a template card click event', () => {
    expect(parseWecomXml(CLICK_EVENT)).toEqual({
      ToUserName: 'ww1234567890abcdef',
      FromUserName: 'ZhangSan',
      CreateTime: '1763686800',
      MsgType: 'event',
      Event: 'template_card_event',
      EventKey: 'grab:lead_01J9Z',
      TaskId: 'lead_01J9Z-grab',
      CardType: 'button_interaction',
      ResponseCode: 'vxR7PzS5OS2axDF9MdgGaZ1atXhzsSUzfjwwwESILfY',
      AgentID: '1000002',
    });
  });

  it('parses a text message and keeps the 64-bit MsgId as a string', () => {
    expect(parseWecomXml(TEXT_MESSAGE)).toEqual({
      ToUserName: 'wx5823bf96d3bd56c7',
      FromUserName: 'mycreate',
      CreateTime: '1409659813',
      MsgType: 'text',
      Content: 'hello',
      MsgId: '4561255354251345929',
      AgentID: '218',
    });
  });

  it('parses the callback envelope, with an XML declaration', () => {
    const xml =
      '<?xml version="1.0" encoding="UTF-8"?>\n<xml><ToUserName><![CDATA[ww1]]></ToUserName>' +
      '<Encrypt><![CDATA[RypEvHKD8QQ+/==]]></Encrypt><AgentID><![CDATA[218]]></AgentID></xml>';
    expect(parseWecomXml(xml)).toEqual({ ToUserName: 'ww1', Encrypt: 'RypEvHKD8QQ+/==', AgentID: '218' });
  });

  it('flattens SelectedItems with indexed list items', () => {
    expect(parseWecomXml(VOTE_EVENT)).toEqual({
      FromUserName: 'LiSi',
      MsgType: 'event',
      Event: 'template_card_event',
      CardType: 'vote_interaction',
      'SelectedItems.SelectedItem.0.QuestionKey': 'q1',
      'SelectedItems.SelectedItem.0.OptionIds.OptionId.0': 'o1',
      'SelectedItems.SelectedItem.0.OptionIds.OptionId.1': 'o2',
      'SelectedItems.SelectedItem.1.QuestionKey': 'q2',
      'SelectedItems.SelectedItem.1.OptionIds.OptionId.0': 'o3',
    });
  });

  it('keeps CDATA content verbatim: spaces, markup, ampersands, Chinese', () => {
    const xml = '<xml><Content><![CDATA[  <b>a & b</b> 你好  ]]></Content><Empty></Empty><Also/></xml>';
    expect(parseWecomXml(xml)).toEqual({ Content: '  <b>a & b</b> 你好  ', Empty: '', Also: '' });
  });

  it('does not expand entities, not even the predefined ones', () => {
    expect(parseWecomXml('<xml><A>a &amp; b</A></xml>')).toEqual({ A: 'a &amp; b' });
  });

  it('ignores attributes', () => {
    expect(parseWecomXml('<xml><A type="x">1</A></xml>')).toEqual({ A: '1' });
  });

  it('returns an object without a prototype', () => {
    expect(Object.getPrototypeOf(parseWecomXml('<xml><A>1</A></xml>'))).toBeNull();
  });

  describe('refuses before parsing', () => {
    it('a DOCTYPE, in any case', () => {
      expectXmlError(() => parseWecomXml('<!DOCTYPE xml><xml><A>1</A></xml>'), 'doctype_forbidden');
      expectXmlError(
        () => parseWecomXml('<?xml version="1.0"?><!doctype xml [ ]><xml></xml>'),
        'doctype_forbidden',
      );
      expectXmlError(() => parseWecomXml('<xml><A><![CDATA[<!DocType x>]]></A></xml>'), 'doctype_forbidden');
    });

    it('an ENTITY (billion laughs)', () => {
      const lol = [
        '<?xml version="1.0"?>',
        '<!DOCTYPE xml [',
        ' <!ENTITY lol "lol">',
        ' <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">',
        ' <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">',
        ']>',
        '<xml><Content>&lol2;</Content></xml>',
      ].join('\n');
      expect(() => parseWecomXml(lol)).toThrow(WecomXmlError);
      // Without the DOCTYPE line the ENTITY declarations are still caught on their own.
      const entityOnly = lol.replace('<!DOCTYPE xml [', '').replace(']>', '');
      expectXmlError(() => parseWecomXml(entityOnly), 'entity_forbidden');
      expectXmlError(() => parseWecomXml('<xml><!eNtItY x "y"><A>1</A></xml>'), 'entity_forbidden');
    });

    it('an input over 64 KiB (bytes, not characters)', () => {
      const big = `<xml><Content><![CDATA[${'a'.repeat(65 * 1024)}]]></Content></xml>`;
      expectXmlError(() => parseWecomXml(big), 'too_large');
      // 3-byte characters: under 64 Ki characters but over 64 KiB.
      const wide = `<xml><Content><![CDATA[${'中'.repeat(22_000)}]]></Content></xml>`;
      expect(wide.length).toBeLessThan(MAX_XML_BYTES);
      expectXmlError(() => parseWecomXml(wide), 'too_large');
    });

    it('accepts an input of exactly 64 KiB', () => {
      const frame = '<xml><Content><![CDATA[]]></Content></xml>';
      const exact = frame.replace('[]]', `[${'a'.repeat(MAX_XML_BYTES - frame.length)}]]`);
      expect(Buffer.byteLength(exact)).toBe(MAX_XML_BYTES);
      expect(parseWecomXml(exact).Content).toHaveLength(MAX_XML_BYTES - frame.length);
    });

    it.each([
      ['another root', '<root><A>1</A></root>'],
      ['a root with a longer name', '<xmlx><A>1</A></xmlx>'],
      ['text before the root', 'hello<xml><A>1</A></xml>'],
      ['a second root', '<xml><A>1</A></xml><xml><A>2</A></xml><xml2/>'],
      ['two roots ending in </xml>', '<xml><A>1</A></xml><xml><A>2</A></xml>'],
      ['a self-closed root', '<xml/>'],
      ['JSON', '{"xml": {}}'],
      ['an empty string', ''],
    ])('a wrong root: %s', (_label, xml) => {
      expect(() => parseWecomXml(xml)).toThrow(WecomXmlError);
    });

    it('reports wrong_root for another root element', () => {
      expectXmlError(() => parseWecomXml('<root><A>1</A></root>'), 'wrong_root');
    });

    it('nesting deeper than 4 below <xml>', () => {
      expectXmlError(() => parseWecomXml('<xml><a><b><c><d><e>1</e></d></c></b></a></xml>'), 'too_deep');
      expectXmlError(() => parseWecomXml(`<xml>${'<a>'.repeat(500)}${'</a>'.repeat(500)}</xml>`), 'too_deep');
      expect(parseWecomXml('<xml><a><b><c><d>1</d></c></b></a></xml>')).toEqual({ 'a.b.c.d': '1' });
    });

    it('counts self-closing tags toward the depth', () => {
      expectXmlError(() => parseWecomXml('<xml><a><b><c><d><e/></d></c></b></a></xml>'), 'too_deep');
    });

    it('ignores tag-like text inside CDATA when measuring depth', () => {
      const xml = `<xml><Content><![CDATA[${'<a>'.repeat(10)}]]></Content></xml>`;
      expect(parseWecomXml(xml)).toEqual({ Content: '<a>'.repeat(10) });
    });
  });

  describe('refuses while parsing', () => {
    it('unbalanced tags', () => {
      expectXmlError(() => parseWecomXml('<xml><A>1</B></xml>'), 'malformed');
    });

    it('an unterminated CDATA section', () => {
      expectXmlError(() => parseWecomXml('<xml><A><![CDATA[1</A></xml>'), 'malformed');
    });

    it('a repeated top-level field (an ambiguous Encrypt)', () => {
      expectXmlError(
        () => parseWecomXml('<xml><Encrypt><![CDATA[a]]></Encrypt><Encrypt><![CDATA[b]]></Encrypt></xml>'),
        'duplicate_field',
      );
    });

    it.each(['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty'])(
      'a reserved element name: %s (fast-xml-parser would rename some silently)',
      (name) => {
        expectXmlError(() => parseWecomXml(`<xml><${name}>1</${name}></xml>`), 'bad_field_name');
        expectXmlError(() => parseWecomXml(`<xml><A><${name}/></A></xml>`), 'bad_field_name');
      },
    );
  });
});

describe('buildXml', () => {
  it('wraps strings in CDATA and writes numbers bare', () => {
    expect(buildXml({ ToUserName: 'ww1', CreateTime: 1700000000, Content: 'hi' })).toBe(
      '<xml><ToUserName><![CDATA[ww1]]></ToUserName><CreateTime>1700000000</CreateTime>' +
        '<Content><![CDATA[hi]]></Content></xml>',
    );
  });

  it.each(['a]]>b', ']]>', ']]>]]>', ']]]>>', 'x]]', '<![CDATA[nested]]>'])(
    'round-trips %j through parseWecomXml',
    (value) => {
      const xml = buildXml({ Content: value, MsgType: 'text' });
      expect(parseWecomXml(xml)).toEqual({ Content: value, MsgType: 'text' });
    },
  );

  it('round-trips a click event built for the emulator', () => {
    const fields = {
      ToUserName: 'ww1234567890abcdef',
      FromUserName: 'ZhangSan',
      CreateTime: 1763686800,
      MsgType: 'event',
      Event: 'template_card_event',
      EventKey: 'grab:lead_01J9Z',
      TaskId: 'lead_01J9Z-grab',
      CardType: 'button_interaction',
      ResponseCode: 'rc-1',
      AgentID: 1000002,
    };
    expect(parseWecomXml(buildXml(fields))).toEqual({
      ...fields,
      CreateTime: '1763686800',
      AgentID: '1000002',
    });
  });

  it('refuses element names that are not plain XML names', () => {
    expectXmlError(() => buildXml({ 'a b': 'x' }), 'bad_field_name');
    expectXmlError(() => buildXml({ 'a><b': 'x' }), 'bad_field_name');
  });
});

describe('buildEncryptedReplyXml', () => {
  it('builds the passive-reply envelope of 90930 and parses back', () => {
    const xml = buildEncryptedReplyXml({
      encrypt: 'QUJD+/==',
      signature: 'a'.repeat(40),
      timestamp: 1409659813,
      nonce: '1372623149',
    });
    expect(xml).toBe(
      '<xml><Encrypt><![CDATA[QUJD+/==]]></Encrypt><MsgSignature><![CDATA[' +
        'a'.repeat(40) +
        ']]></MsgSignature><TimeStamp>1409659813</TimeStamp><Nonce><![CDATA[1372623149]]></Nonce></xml>',
    );
    expect(parseWecomXml(xml)).toEqual({
      Encrypt: 'QUJD+/==',
      MsgSignature: 'a'.repeat(40),
      TimeStamp: '1409659813',
      Nonce: '1372623149',
    });
  });

  it('refuses a timestamp that is not whole seconds', () => {
    expect(() =>
      buildEncryptedReplyXml({ encrypt: 'x', signature: 'y', timestamp: '12<a>', nonce: 'n' }),
    ).toThrow(RangeError);
  });
});
