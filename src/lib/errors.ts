/**
 * One error type for everything a client may see. The HTTP error middleware renders it as
 * `{ "error": code, "message": message, ...details }` (the outline/outline shape). Messages are
 * Chinese first: they reach admins and integrators in China.
 */
export interface FieldIssue {
  /** Dotted path of the offending field, e.g. `contact.phone` or `tags.2`. */
  path: string;
  message: string;
}

export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const badRequest = (code: string, message: string, details?: Record<string, unknown>) =>
  new AppError(400, code, message, details);
export const unauthorized = (message = '身份验证失败') => new AppError(401, 'unauthorized', message);
export const forbidden = (message: string) => new AppError(403, 'forbidden', message);
export const notFound = (message = '资源不存在') => new AppError(404, 'not_found', message);
export const conflict = (code: string, message: string) => new AppError(409, code, message);
export const payloadTooLarge = (limit: number) =>
  new AppError(413, 'payload_too_large', `请求体超过上限 ${limit} 字节`, { limit });
export const unsupportedMediaType = (expected: string) =>
  new AppError(415, 'unsupported_media_type', `Content-Type 必须是 ${expected}`);
export const validationFailed = (issues: FieldIssue[], message = '数据校验失败') =>
  new AppError(422, 'validation_failed', message, { issues });

/** Errors from the org config file: each names the JSON path and the rule it broke. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: { path: string; message: string }[],
  ) {
    super(`${file}: ${problems.map((p) => `${p.path || '/'}: ${p.message}`).join('; ')}`);
    this.name = 'ConfigError';
  }
}
