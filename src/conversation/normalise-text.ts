/**
 * Text helpers shared by the command grammar and the time reader. Chat text arrives with full-width
 * characters (ＡＢＣ１２３＃：), ideographic spaces and zero-width characters pasted from other apps.
 */

const FOLDED = /[\uff01-\uff5e\u3000\u200b-\u200d\u2060\ufeff]/g;

/**
 * Full-width ASCII becomes half-width (`＃１２３：` → `#123:`), the ideographic space and zero-width
 * characters become plain spaces. Every UTF-16 unit maps to exactly one unit, so an index into the
 * folded text is the same index into the original: the grammar matches on the folded text and slices
 * free text (notes, reasons) out of the original, as typed. (src/lib/amount.ts and src/leads/normalise.ts
 * have their own copies of the width fold; src/conversation depends on neither module's internals.)
 */
export function foldWidth(s: string): string {
  return s.replace(FOLDED, (c) => {
    const code = c.charCodeAt(0);
    return code >= 0xff01 && code <= 0xff5e ? String.fromCharCode(code - 0xfee0) : ' ';
  });
}

/** Whitespace as `String.prototype.trim` sees it. Folded text has no zero-width characters left. */
function isSpace(c: string): boolean {
  return c.trim() === '';
}

/**
 * Sentence punctuation that may end a command without changing it (`认领 12。`, `我回来了！`), after
 * folding: full-width `！？，：；～` are already ASCII here.
 */
const TRAILING_PUNCTUATION = new Set(['.', ',', '!', '?', ';', ':', '~', '。', '、', '…', '～']);

/**
 * [start, end) of `folded` without surrounding whitespace. Scans by hand: an end-anchored regex such as
 * `/\s+$/` is quadratic on long runs of inner spaces, and chat text is untrusted input.
 */
export function trimRange(folded: string, start = 0, end = folded.length): [number, number] {
  let s = start;
  let e = end;
  while (s < e && isSpace(folded[s]!)) s++;
  while (e > s && isSpace(folded[e - 1]!)) e--;
  return [s, e];
}

/** `end` moved back over trailing punctuation and whitespace (`8万。` → `8万`). */
export function trimTrailingPunctuation(folded: string, start: number, end: number): number {
  let e = end;
  while (e > start && (TRAILING_PUNCTUATION.has(folded[e - 1]!) || isSpace(folded[e - 1]!))) e--;
  return e;
}

/** Separators allowed between a command's arguments, after folding (`，` is `,` here). */
const ARGUMENT_SEPARATORS = new Set([',', '、', ':', ';']);

/** `start` moved forward over whitespace and argument separators (`123，商机` → `商机`). */
export function skipSeparators(folded: string, start: number, end = folded.length): number {
  let s = start;
  while (s < end && (isSpace(folded[s]!) || ARGUMENT_SEPARATORS.has(folded[s]!))) s++;
  return s;
}

/** Trimmed text of `original` from `start` on, with leading argument separators dropped. */
export function restFrom(original: string, start: number): string {
  const folded = foldWidth(original);
  const [s, e] = trimRange(folded, skipSeparators(folded, start));
  return original.slice(s, e);
}
