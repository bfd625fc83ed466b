/**
 * `POST /cgi-bin/webhook/send?key=KEY`: the group robot (消息推送, path 91770). No access token; text
 * ≤2048 bytes, markdown ≤4096 bytes, image as base64 + md5 (≤2 MB, JPG/PNG), news, and template_card
 * of text_notice/news_notice only. At most 20 messages per minute per robot: the excess is refused
 * with 45009 and not posted.
 */
import { createHash } from 'node:crypto';
import type { Context } from 'koa';
import { resolveErrcode, validateTemplateCard } from './card-validation';
import { ERR } from './errcodes';
import type { RouteDeps } from './http-util';
import {
  answer,
  answerError,
  byteLength,
  isNonEmptyString,
  isObject,
  parseJsonObject,
  readRawBody,
} from './http-util';
import type { JsonObject } from './types';

const IMAGE_MAX_BYTES = 2 * 1024 * 1024;
const LIMITS: Record<string, number> = { text: 2048, markdown: 4096, markdown_v2: 4096 };

const isJpeg = (b: Buffer): boolean => b.length > 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;
const isPng = (b: Buffer): boolean =>
  b.length > 8 && b.subarray(0, 8).equals(Buffer.from('89504e470d0a1a0a', 'hex'));

/** Returns undefined when valid, else [errcode, detail]. */
function validate(msgtype: string, part: unknown, { settings }: RouteDeps): [number, string] | undefined {
  const codes = settings.errcodes;
  if (!isObject(part)) return [codes.invalidParameter, msgtype];
  const limit = LIMITS[msgtype];
  if (limit !== undefined) {
    if (!isNonEmptyString(part.content)) return [ERR.emptyTextContent, 'content'];
    if (byteLength(part.content) > limit) return [codes.contentTooLong, `${msgtype} over ${limit} bytes`];
    return undefined;
  }
  if (msgtype === 'image') {
    if (!isNonEmptyString(part.base64) || !isNonEmptyString(part.md5))
      return [codes.invalidParameter, 'base64/md5'];
    const data = Buffer.from(part.base64, 'base64');
    if (data.length > IMAGE_MAX_BYTES) return [ERR.invalidImageSize, 'image over 2 MB'];
    if (createHash('md5').update(data).digest('hex') !== part.md5.toLowerCase()) {
      return [codes.invalidParameter, 'md5 does not match the image'];
    }
    if (!isJpeg(data) && !isPng(data)) return [ERR.invalidMediaType, 'image must be JPG or PNG'];
    return undefined;
  }
  if (msgtype === 'news') {
    const articles = Array.isArray(part.articles) ? part.articles : [];
    if (articles.length < 1 || articles.length > 8) return [codes.invalidParameter, 'news.articles'];
    const bad = articles.some((a) => !isObject(a) || !isNonEmptyString(a.title) || !isNonEmptyString(a.url));
    return bad ? [codes.invalidParameter, 'news.articles.title/url'] : undefined;
  }
  const check = validateTemplateCard(part, true);
  return check.ok ? undefined : [resolveErrcode(check.errcode, codes), check.detail];
}

export async function handleRobotSend(ctx: Context, deps: RouteDeps): Promise<void> {
  const { state, settings } = deps;
  const key = typeof ctx.query.key === 'string' ? ctx.query.key : '';
  if (!key || !state.hasRobot(key)) return answerError(ctx, ERR.invalidWebhook);
  const body = parseJsonObject(await readRawBody(ctx));
  if (!body) return answerError(ctx, settings.errcodes.invalidParameter, 'Warning: wrong json format.');
  const msgtype = body.msgtype;
  const known = ['text', 'markdown', 'markdown_v2', 'image', 'news', 'template_card'];
  if (typeof msgtype !== 'string' || !known.includes(msgtype)) return answerError(ctx, ERR.invalidMsgtype);
  const problem = validate(msgtype, body[msgtype], deps);
  if (problem) return answerError(ctx, problem[0], problem[1]);
  if (!state.admitToRobot(key)) {
    settings.logger.debug({ robot: state.group(key)?.name }, 'wecom emulator: robot over 20 per minute');
    return answerError(ctx, ERR.freqOutOfLimit);
  }
  state.appendToGroup(key, msgtype, body[msgtype] as JsonObject);
  state.counters.sent += 1;
  answer(ctx, { errcode: 0, errmsg: 'ok' });
}
