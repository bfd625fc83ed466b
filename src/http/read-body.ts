import type { Context } from 'koa';
import getRawBody from 'raw-body';
import secureJson from 'secure-json-parse';
import { AppError, payloadTooLarge, unsupportedMediaType } from '../lib/errors';

/**
 * Content type first (415), then the size cap (413) from Content-Length before reading and again
 * while reading (a chunked body cannot lie its way past it). RELIABILITY.md "Inbound" 1 and 2.
 */
export function assertJsonContentType(ctx: Context): void {
  if (!ctx.is('application/json', 'application/*+json')) throw unsupportedMediaType('application/json');
}

export async function readRawBody(ctx: Context, limit: number): Promise<Buffer> {
  const declared = Number(ctx.get('content-length') || Number.NaN);
  if (Number.isFinite(declared) && declared > limit) throw payloadTooLarge(limit);
  try {
    return await getRawBody(ctx.req, { limit, length: Number.isFinite(declared) ? declared : undefined });
  } catch (error) {
    const type = (error as { type?: string }).type;
    if (type === 'entity.too.large') throw payloadTooLarge(limit);
    if (type === 'request.aborted') throw new AppError(400, 'request_aborted', '请求在传输中被中断');
    if (type === 'request.size.invalid')
      throw new AppError(400, 'bad_content_length', 'Content-Length 与实际长度不符');
    throw error;
  }
}

export class MalformedBodyError extends AppError {
  constructor(
    code: 'invalid_utf8' | 'malformed_json',
    message: string,
    readonly raw: Buffer,
  ) {
    super(400, code, message);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Strict JSON: valid UTF-8, valid JSON, and no `__proto__` / `constructor.prototype` keys (prototype
 * poisoning), nesting at most 32 deep.
 */
export function parseJsonBody(raw: Buffer): unknown {
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    throw new MalformedBodyError('invalid_utf8', '请求体不是有效的 UTF-8 文本', raw);
  }
  let value: unknown;
  try {
    value = secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
  } catch (error) {
    const detail = (error as Error).message.includes('prototype')
      ? '包含禁止的 __proto__/constructor 键'
      : (error as Error).message;
    throw new MalformedBodyError('malformed_json', `请求体不是有效的 JSON：${detail}`, raw);
  }
  if (depthOf(value, 0) > 32)
    throw new MalformedBodyError('malformed_json', '请求体 JSON 嵌套过深（上限 32 层）', raw);
  return value;
}

function depthOf(value: unknown, depth: number): number {
  if (depth > 32 || value === null || typeof value !== 'object') return depth;
  let max = depth + 1;
  for (const child of Object.values(value)) max = Math.max(max, depthOf(child, depth + 1));
  return max;
}
