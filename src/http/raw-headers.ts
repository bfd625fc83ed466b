import type { IncomingMessage } from 'node:http';
import { badRequest } from '../lib/errors';

/**
 * Request headers as the client sent them. Node's `req.headers` hides a repeated header: it joins
 * most (`timestamp: a, b`) and keeps only the first of some (`authorization`). A credential or a
 * signature sent twice is ambiguous (which copy did the sender mean, which one did a proxy add?), so
 * the gates read headers from here, where a repeated one is an array (RELIABILITY.md "Inbound" 2:
 * as bad as a missing header, 400).
 */
export function rawHeaderMap(req: Pick<IncomingMessage, 'rawHeaders'>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null);
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    const seen = out[name];
    if (seen === undefined) out[name] = value;
    else out[name] = Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return out;
}

/** 400 `duplicate_header` when any of `names` (lower case) was sent more than once. */
export function assertSingleHeaders(
  req: Pick<IncomingMessage, 'rawHeaders'>,
  names: readonly string[],
): void {
  const raw = req.rawHeaders;
  const counts = new Map<string, number>();
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (names.includes(name)) counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  for (const [name, count] of counts) {
    if (count > 1) throw badRequest('duplicate_header', `请求头 ${name} 出现了 ${count} 次，只能有一个`);
  }
}
