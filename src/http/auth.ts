import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import { AppError, unauthorized } from '../lib/errors';
import type { SourceKeyAuthenticator } from '../sources/api-keys';
import { assertSingleHeaders } from './raw-headers';

export function bearerToken(ctx: Context): string | null {
  // Node keeps only the first of two Authorization headers; two credentials are refused instead.
  assertSingleHeaders(ctx.req, ['authorization']);
  const header = ctx.get('authorization');
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1]! : null;
}

/** Constant-time comparison of secrets of any length (both sides hashed to equal length first). */
export function secretsEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

export function assertAdmin(ctx: Context, adminKey: string | undefined): void {
  if (!adminKey) throw new AppError(401, 'admin_api_disabled', '未配置 ADMIN_API_KEY，管理接口已停用');
  const token = bearerToken(ctx);
  if (!token || !secretsEqual(token, adminKey)) throw unauthorized('管理密钥无效');
}

export type Caller = { kind: 'source'; sourceId: string; keyId: number } | { kind: 'admin' };

/** Source key first; the admin key also passes where `allowAdmin` (e.g. recording activities). */
export async function authenticateCaller(
  ctx: Context,
  deps: { keys: SourceKeyAuthenticator; adminKey: string | undefined },
  options: { allowAdmin: boolean },
): Promise<Caller> {
  const token = bearerToken(ctx);
  if (!token) throw unauthorized('缺少 Authorization: Bearer <API 密钥>');
  if (options.allowAdmin && deps.adminKey && secretsEqual(token, deps.adminKey)) return { kind: 'admin' };
  const source = await deps.keys.authenticate(token);
  if (!source) throw unauthorized('API 密钥无效或已吊销');
  return { kind: 'source', ...source };
}
