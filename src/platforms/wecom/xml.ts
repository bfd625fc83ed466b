/**
 * WeCom XML: the callback envelope `<xml><ToUserName/><Encrypt/><AgentID/></xml>` (90238), the
 * decrypted messages and events inside it (90238, 90240), and the encrypted passive reply (90930).
 *
 * Parsing is defensive (RELIABILITY.md, inbound rule 7): the raw text is screened BEFORE
 * fast-xml-parser sees it (size, DOCTYPE/ENTITY, root, depth), and the parser runs with entity
 * processing off, attributes ignored and values kept as strings.
 */
import { XMLParser } from 'fast-xml-parser';

/** Same cap as the route's body limit for callbacks (RELIABILITY.md, inbound rule 1). */
export const MAX_XML_BYTES = 64 * 1024;
/**
 * Element depth below `<xml>`. WeCom messages are flat except a few event structures; the deepest
 * one we accept is the vote/multiple-choice card event of 90240:
 * `SelectedItems > SelectedItem > OptionIds > OptionId` (4). Approval events (ApprovalInfo > SpRecord >
 * Details > Approver > UserId) are deeper and are refused: this app does not subscribe to them.
 */
export const MAX_XML_DEPTH = 4;

export type WecomXmlErrorCode =
  | 'not_string'
  | 'too_large'
  | 'doctype_forbidden'
  | 'entity_forbidden'
  | 'wrong_root'
  | 'too_deep'
  | 'duplicate_field'
  | 'malformed'
  | 'bad_field_name';

export class WecomXmlError extends Error {
  constructor(
    readonly code: WecomXmlErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'WecomXmlError';
  }
}

/**
 * Elements that are list items in WeCom's nested event structures (90240 `SelectedItem`, `OptionId`;
 * `item` in the picture-menu events). They are always indexed, even when there is only one, so a
 * consumer sees the same key shape for one choice and for several.
 */
const LIST_ITEM_TAGS = new Set(['SelectedItem', 'OptionId', 'item']);

const parser = new XMLParser({
  // No entity expansion at all: no billion laughs, no external entities. Predefined entities such as
  // `&amp;` are therefore left as written; WeCom wraps free text in CDATA, where they do not occur.
  processEntities: false,
  htmlEntities: false,
  ignoreAttributes: true,
  // Keep strings: MsgId is a 64-bit integer and would lose precision as a number.
  parseTagValue: false,
  // CDATA is unwrapped into the element's text. trimValues trims plain text (the whitespace between
  // elements) but not CDATA content, so a message's leading/trailing spaces survive.
  cdataPropName: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  // Backstop for the pre-parse depth scan (root + MAX_XML_DEPTH, plus slack).
  maxNestedTags: MAX_XML_DEPTH + 2,
  isArray: (tagName) => LIST_ITEM_TAGS.has(tagName),
  // Backstop for RESERVED_NAMES: refuse instead of renaming.
  onDangerousProperty: (name) => {
    throw new WecomXmlError('bad_field_name', `reserved element name <${name}>`);
  },
});

const DOCTYPE_RE = /<!\s*doctype/i;
const ENTITY_RE = /<!\s*entity/i;
/** Optional BOM, optional XML declaration, then exactly `<xml>`; nothing but whitespace after `</xml>`. */
const ROOT_OPEN_RE = /^\uFEFF?\s*(?:<\?xml[^>]*\?>\s*)?<xml\s*>/;
const ROOT_CLOSE_RE = /<\/xml\s*>\s*$/;

/**
 * Element names that would collide with Object.prototype. fast-xml-parser throws on the first three
 * and silently renames the others (`toString` → `__toString`); we refuse them all, up front, so a
 * field never changes its name on the way in.
 */
const RESERVED_NAMES = new Set([
  '__proto__',
  'constructor',
  'prototype',
  'hasOwnProperty',
  'isPrototypeOf',
  'propertyIsEnumerable',
  'toLocaleString',
  'toString',
  'valueOf',
  '__defineGetter__',
  '__defineSetter__',
  '__lookupGetter__',
  '__lookupSetter__',
]);

const TAG_NAME_RE = /^<\/?([^\s/>]+)/;

/**
 * Maximum element depth (counting `<xml>` as 1), refusing reserved element names on the way. A small
 * scanner that skips CDATA, comments and processing instructions; it does not validate (the parser
 * does), it only bounds the work before the parser starts.
 */
function scanElements(xml: string): number {
  let depth = 0;
  let max = 0;
  let i = 0;
  for (;;) {
    const lt = xml.indexOf('<', i);
    if (lt === -1) return max;
    const skipTo = (opener: string, closer: string): number | undefined => {
      if (!xml.startsWith(opener, lt)) return undefined;
      const end = xml.indexOf(closer, lt + opener.length);
      if (end === -1) throw new WecomXmlError('malformed', `unterminated ${opener}`);
      return end + closer.length;
    };
    const skipped = skipTo('<![CDATA[', ']]>') ?? skipTo('<!--', '-->') ?? skipTo('<?', '?>');
    if (skipped !== undefined) {
      i = skipped;
      continue;
    }
    if (xml.startsWith('<!', lt)) throw new WecomXmlError('malformed', 'unexpected markup declaration');
    const gt = xml.indexOf('>', lt);
    if (gt === -1) throw new WecomXmlError('malformed', 'unterminated tag');
    const name = TAG_NAME_RE.exec(xml.slice(lt, gt + 1))?.[1];
    if (name !== undefined && RESERVED_NAMES.has(name)) {
      throw new WecomXmlError('bad_field_name', `reserved element name <${name}>`);
    }
    if (xml[lt + 1] === '/') {
      depth -= 1;
    } else if (xml[gt - 1] === '/') {
      max = Math.max(max, depth + 1);
    } else {
      depth += 1;
      max = Math.max(max, depth);
    }
    i = gt + 1;
  }
}

/** Parsed value from fast-xml-parser with our options: strings, objects and arrays of those. */
type Node = string | NodeObject | Node[];
interface NodeObject {
  [key: string]: Node;
}

function flatten(out: Record<string, string>, path: string, node: Node): void {
  if (typeof node === 'string') {
    out[path] = node;
    return;
  }
  if (Array.isArray(node)) {
    node.forEach((child, index) => {
      flatten(out, `${path}.${index}`, child);
    });
    return;
  }
  for (const [key, child] of Object.entries(node)) {
    // Mixed content (text beside child elements) does not occur in WeCom XML; keep the text at the
    // element's own path rather than inventing a `#text` key.
    flatten(out, key === '#text' ? path : `${path}.${key}`, child);
  }
}

/**
 * Parses WeCom XML into a flat map of strings. Top-level elements are keyed by name (`MsgType`,
 * `EventKey`, ...). Nested elements are keyed by dotted path; list items (see LIST_ITEM_TAGS) and any
 * other repeated nested element get a 0-based index:
 * `SelectedItems.SelectedItem.0.QuestionKey`, `SelectedItems.SelectedItem.0.OptionIds.OptionId.1`.
 * Empty elements map to ''. A repeated top-level element is refused: the envelope's `Encrypt` must be
 * unambiguous, and no WeCom message repeats one.
 */
export function parseWecomXml(xml: string): Record<string, string> {
  if (typeof xml !== 'string') throw new WecomXmlError('not_string', 'XML input must be a string');
  const bytes = Buffer.byteLength(xml, 'utf8');
  if (bytes > MAX_XML_BYTES) {
    throw new WecomXmlError('too_large', `XML is ${bytes} bytes, over the ${MAX_XML_BYTES}-byte limit`);
  }
  // Refused anywhere in the input, even inside CDATA: the rule is cheap and leaves no room for a
  // disagreement between this screen and the parser about where CDATA ends.
  if (DOCTYPE_RE.test(xml)) throw new WecomXmlError('doctype_forbidden', 'DOCTYPE is not allowed');
  if (ENTITY_RE.test(xml)) throw new WecomXmlError('entity_forbidden', 'ENTITY declarations are not allowed');
  if (!ROOT_OPEN_RE.test(xml) || !ROOT_CLOSE_RE.test(xml)) {
    throw new WecomXmlError('wrong_root', 'the root element must be <xml>');
  }
  const depth = scanElements(xml);
  if (depth > MAX_XML_DEPTH + 1) {
    throw new WecomXmlError(
      'too_deep',
      `elements nest ${depth - 1} deep below <xml>; at most ${MAX_XML_DEPTH}`,
    );
  }

  let parsed: unknown;
  try {
    // `true` runs fast-xml-parser's validator first, so unbalanced tags are an error, not a guess.
    parsed = parser.parse(xml, true);
  } catch (error) {
    if (error instanceof WecomXmlError) throw error;
    throw new WecomXmlError('malformed', `XML is not well-formed: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null) throw new WecomXmlError('malformed', 'empty XML');
  const roots = Object.keys(parsed);
  if (roots.length !== 1 || roots[0] !== 'xml') {
    throw new WecomXmlError('wrong_root', 'the document must have exactly one <xml> root');
  }
  const root = (parsed as { xml: Node }).xml;

  // Null prototype: field names come from the sender and must not reach Object.prototype.
  const out: Record<string, string> = Object.create(null);
  if (typeof root === 'string') return out; // `<xml></xml>`: no fields
  if (Array.isArray(root)) {
    throw new WecomXmlError('wrong_root', 'the document must have exactly one <xml> root');
  }
  for (const [key, child] of Object.entries(root)) {
    if (key === '#text') continue; // stray text directly under <xml>
    if (Array.isArray(child) && !LIST_ITEM_TAGS.has(key)) {
      throw new WecomXmlError('duplicate_field', `<${key}> appears more than once`);
    }
    flatten(out, key, child);
  }
  return out;
}

/** Element names we emit: plain XML names, as WeCom uses them (CamelCase ASCII). */
const FIELD_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * CDATA-wraps a string. `]]>` cannot appear inside one CDATA section, so it is split across two:
 * `]]` ends the first section and `>` starts the next (`]]]]><![CDATA[>`).
 */
export function cdata(value: string): string {
  return `<![CDATA[${value.split(']]>').join(']]]]><![CDATA[>')}]]>`;
}

/**
 * Builds a flat WeCom XML document (for the emulator and for reply plaintexts). Strings are
 * CDATA-wrapped and numbers written bare, as WeCom writes `CreateTime` and `AgentID` (90238).
 */
export function buildXml(fields: Record<string, string | number>): string {
  let body = '';
  for (const [name, value] of Object.entries(fields)) {
    if (!FIELD_NAME_RE.test(name))
      throw new WecomXmlError('bad_field_name', `invalid XML element name: ${name}`);
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw new RangeError(`<${name}> must be a finite number`);
      body += `<${name}>${value}</${name}>`;
    } else {
      body += `<${name}>${cdata(value)}</${name}>`;
    }
  }
  return `<xml>${body}</xml>`;
}

export interface EncryptedReply {
  encrypt: string;
  signature: string;
  /** Seconds since the epoch. */
  timestamp: string | number;
  nonce: string;
}

/**
 * The passive-reply envelope of 90930/91144:
 * `<xml><Encrypt/><MsgSignature/><TimeStamp>n</TimeStamp><Nonce/></xml>`, TimeStamp bare.
 */
export function buildEncryptedReplyXml(reply: EncryptedReply): string {
  const timestamp = String(reply.timestamp);
  if (!/^\d{1,12}$/.test(timestamp)) throw new RangeError('timestamp must be whole seconds');
  return (
    `<xml><Encrypt>${cdata(reply.encrypt)}</Encrypt>` +
    `<MsgSignature>${cdata(reply.signature)}</MsgSignature>` +
    `<TimeStamp>${timestamp}</TimeStamp>` +
    `<Nonce>${cdata(reply.nonce)}</Nonce></xml>`
  );
}
