import type { Middleware } from 'koa';
import { isDatabaseUnavailable } from '../db/unavailable';
import { AppError } from '../lib/errors';
import type { Logger } from '../lib/logger';

/** What a client is told to wait while the database is unreachable (a restart takes seconds). */
const DATABASE_RETRY_AFTER_SECONDS = 5;

/**
 * The one place errors become responses: `{ "error": "snake_code", "message": "…", ...details }`.
 * Unknown errors are logged with their stack and answered with a generic 500 that leaks nothing.
 */
export function errorHandler(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      // The routers leave 404 (no route) and 405/501 (router.allowedMethods, which also sets Allow)
      // without a body; give them the one error shape.
      if (ctx.body === undefined || ctx.body === null) {
        if (ctx.status === 404) {
          ctx.status = 404;
          ctx.body = { error: 'not_found', message: `没有这个接口：${ctx.method} ${ctx.path}` };
        } else if (ctx.status === 405) {
          ctx.status = 405;
          ctx.body = { error: 'method_not_allowed', message: `${ctx.path} 不支持 ${ctx.method}` };
        } else if (ctx.status === 501) {
          ctx.status = 501;
          ctx.body = { error: 'not_implemented', message: `不支持的方法 ${ctx.method}` };
        }
      }
    } catch (error) {
      if (error instanceof AppError) {
        ctx.status = error.status;
        for (const [name, value] of Object.entries(error.headers)) ctx.set(name, value);
        ctx.body = { error: error.code, message: error.message, ...error.details };
        return;
      }
      // Errors Koa or a library throws with a client status (ctx.throw, malformed URLs).
      const status = (error as { status?: number }).status;
      if (typeof status === 'number' && status >= 400 && status < 500) {
        ctx.status = status;
        ctx.body = { error: 'bad_request', message: '请求无效' };
        return;
      }
      if (isDatabaseUnavailable(error)) {
        // Temporary: the caller should come back (WeCom and DingTalk retry callbacks on a non-200).
        logger.warn({ err: (error as Error).message }, 'database unavailable; answering 503');
        ctx.status = 503;
        ctx.set('Retry-After', String(DATABASE_RETRY_AFTER_SECONDS));
        ctx.body = { error: 'database_unavailable', message: '数据库暂时不可用，请稍后重试' };
        return;
      }
      logger.error({ err: error }, 'unhandled error');
      ctx.status = 500;
      ctx.body = { error: 'internal_error', message: '服务器内部错误，请稍后重试' };
    }
  };
}
