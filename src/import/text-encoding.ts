import { PassThrough, type Readable, type Transform } from 'node:stream';
import iconv from 'iconv-lite';

/**
 * Which encoding a CSV file is in. Chinese Excel saves "CSV (逗号分隔)" in the ANSI code page, GBK
 * (read here as GB18030, its superset), and "CSV UTF-8" with a byte order mark; WPS and most web
 * exports write UTF-8 without one; "Unicode 文本" is UTF-16 with a BOM. Without a BOM the first
 * non-ASCII bytes decide: valid UTF-8 is UTF-8, anything else GB18030 (GBK text is practically never
 * valid UTF-8 once it holds a few Chinese characters).
 */
export type TextEncoding = 'utf8' | 'gb18030' | 'utf16le' | 'utf16be';

/** Names accepted by `--encoding`. */
export const ENCODING_NAMES: Record<string, TextEncoding> = {
  utf8: 'utf8',
  'utf-8': 'utf8',
  gbk: 'gb18030',
  gb2312: 'gb18030',
  gb18030: 'gb18030',
  utf16le: 'utf16le',
  'utf-16le': 'utf16le',
  utf16be: 'utf16be',
  'utf-16be': 'utf16be',
};

/** Enough Chinese to decide: ~300 characters (or the whole file, or the first MiB). */
const NON_ASCII_TO_DECIDE = 1024;
const MAX_SNIFF_BYTES = 1 << 20;

export interface DecodedText {
  encoding: TextEncoding;
  /** How it was decided: a byte order mark, the bytes, or `--encoding`. */
  decidedBy: 'bom' | 'content' | 'option';
  /** The text without a BOM: the bytes themselves when UTF-8, decoded string chunks otherwise. */
  text: Readable;
  /** The first decoded characters, to guess the delimiter from. */
  head: string;
}

/** Detects the encoding from the first bytes of `input` (unless `forced`) and decodes the rest. */
export async function decodeText(input: Readable, forced?: TextEncoding): Promise<DecodedText> {
  const chunks: Buffer[] = [];
  let length = 0;
  let nonAscii = 0;
  const iterator = input[Symbol.asyncIterator]();
  while (length < MAX_SNIFF_BYTES && nonAscii < NON_ASCII_TO_DECIDE) {
    const next = await iterator.next();
    if (next.done) break;
    const chunk = next.value as Buffer;
    chunks.push(chunk);
    length += chunk.length;
    for (const byte of chunk) if (byte >= 0x80) nonAscii++;
    if (forced) break;
  }
  const sniffed = Buffer.concat(chunks, length);
  const { encoding, decidedBy, bomLength } = forced
    ? { encoding: forced, decidedBy: 'option' as const, bomLength: bomOf(sniffed)?.length ?? 0 }
    : detect(sniffed);

  // The sniffed bytes first, then the rest of the input, through one decoder (a character may
  // straddle the boundary).
  const raw = new PassThrough();
  raw.write(sniffed.subarray(bomLength));
  void (async () => {
    try {
      for (;;) {
        const next = await iterator.next();
        if (next.done) break;
        if (!raw.write(next.value as Buffer)) await new Promise((resolve) => raw.once('drain', resolve));
      }
      raw.end();
    } catch (error) {
      raw.destroy(error as Error);
    }
  })();
  let text: Readable = raw;
  if (encoding !== 'utf8') {
    // iconv-lite declares the generic NodeJS.ReadWriteStream; under Node it is a stream.Transform.
    const decoder = iconv.decodeStream(encoding, { stripBOM: false }) as unknown as Transform;
    raw.on('error', (error) => decoder.destroy(error));
    text = raw.pipe(decoder);
  }
  const head = iconv.decode(sniffed.subarray(bomLength, bomLength + 64 * 1024), encoding, {
    stripBOM: false,
  });
  return { encoding, decidedBy, text, head };
}

function bomOf(bytes: Buffer): { encoding: TextEncoding; length: number } | null {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return { encoding: 'utf8', length: 3 };
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return { encoding: 'utf16le', length: 2 };
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return { encoding: 'utf16be', length: 2 };
  return null;
}

export function detect(bytes: Buffer): {
  encoding: TextEncoding;
  decidedBy: 'bom' | 'content';
  bomLength: number;
} {
  const bom = bomOf(bytes);
  if (bom) return { encoding: bom.encoding, decidedBy: 'bom', bomLength: bom.length };
  return { encoding: isUtf8Prefix(bytes) ? 'utf8' : 'gb18030', decidedBy: 'content', bomLength: 0 };
}

/** True when `bytes` is valid UTF-8, allowing a character cut off at the end (a sniffed prefix). */
function isUtf8Prefix(bytes: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: true });
    return true;
  } catch {
    return false;
  }
}
