/**
 * DingTalk's APIs as the emulator answers them.
 *
 * v1.0 (api.dingtalk.com) style: 200 with the result, or an HTTP error with `{code, message,
 * requestid}`. Every call but the token itself needs `x-acs-dingtalk-access-token`: missing, unknown
 * or expired → 401 InvalidAuthentication. More than `apiPerSecond` calls a second → 403
 * Forbidden.AccessDenied.QpsLimitForAppkeyAndApi.
 *
 * The custom robot (oapi.dingtalk.com/robot/send) answers 200 `{errcode, errmsg}`: 300001 unknown
 * access_token, 310000 signature missing, stale (over an hour) or wrong, 130101 over 20 a minute (then
 * throttled for ten minutes).
 */
import { createHmac, randomUUID } from 'node:crypto';
import type { Router } from '@koa/router';
import type { Context } from 'koa';
import getRawBody from 'raw-body';
import type { DingtalkEmulatorState } from './state';
import type { DingtalkCard, DingtalkSettings, JsonObject } from './types';

export interface ApiDeps {
  state: DingtalkEmulatorState;
  settings: DingtalkSettings;
  /** Stream gateway tickets (stream-gateway.ts). */
  openStream(input: { clientId: string; subscriptions: unknown }): { endpoint: string; ticket: string };
}

const isObject = (v: unknown): v is JsonObject => v !== null && typeof v === 'object' && !Array.isArray(v);

async function jsonBody(ctx: Context): Promise<JsonObject | undefined> {
  const raw = await getRawBody(ctx.req, { limit: 1024 * 1024 });
  try {
    const value: unknown = JSON.parse(raw.toString('utf8'));
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function fail(ctx: Context, status: number, code: string, message = code): void {
  ctx.status = status;
  ctx.type = 'application/json';
  ctx.body = { code, message, requestid: randomUUID() };
}

function ok(ctx: Context, body: JsonObject): void {
  ctx.status = 200;
  ctx.type = 'application/json';
  ctx.body = body;
}

function robotAnswer(ctx: Context, errcode: number, errmsg: string): void {
  ctx.status = 200;
  ctx.type = 'application/json';
  ctx.body = { errcode, errmsg };
}

/** Token and QPS checks of every v1.0 call; false when an error answer was written. */
function guard(ctx: Context, { state }: ApiDeps): boolean {
  const token = ctx.get('x-acs-dingtalk-access-token');
  if (!state.tokenValid(token || undefined)) {
    fail(ctx, 401, 'InvalidAuthentication', '不合法的access_token');
    return false;
  }
  if (!state.admitApiCall()) {
    fail(ctx, 403, 'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi', '应用调用该接口的QPS已达到上限');
    return false;
  }
  return true;
}

const MSG_KEYS = new Set([
  'sampleText',
  'sampleMarkdown',
  'sampleActionCard',
  'sampleLink',
  'sampleImageMsg',
]);

/** msgParam is a JSON string; sampleText needs content, sampleMarkdown title and text. */
function readMessage(
  body: JsonObject,
): { kind: string; text?: string; title?: string; markdown?: string } | string {
  const msgKey = body.msgKey;
  if (typeof msgKey !== 'string' || !MSG_KEYS.has(msgKey)) return 'param.msgKeyInvalid';
  if (typeof body.msgParam !== 'string') return 'param.msgParamInvalid';
  let param: unknown;
  try {
    param = JSON.parse(body.msgParam);
  } catch {
    return 'param.msgParamInvalid';
  }
  if (!isObject(param)) return 'param.msgParamInvalid';
  if (msgKey === 'sampleText') {
    return typeof param.content === 'string' && param.content.length > 0
      ? { kind: msgKey, text: param.content }
      : 'param.msgParamInvalid';
  }
  if (msgKey === 'sampleMarkdown') {
    return typeof param.title === 'string' && typeof param.text === 'string' && param.text.length > 0
      ? { kind: msgKey, title: param.title, markdown: param.text }
      : 'param.msgParamInvalid';
  }
  return { kind: msgKey, text: JSON.stringify(param) };
}

async function handleToken(ctx: Context, { state, settings }: ApiDeps): Promise<void> {
  state.counters.token_calls += 1;
  const body = await jsonBody(ctx);
  if (!body || body.appKey !== settings.appKey || body.appSecret !== settings.appSecret) {
    return fail(ctx, 400, settings.unconfirmed.invalidAppCredentials, 'appkey或appsecret不正确');
  }
  ok(ctx, state.issueToken());
}

async function handleBatchSend(ctx: Context, deps: ApiDeps): Promise<void> {
  if (!guard(ctx, deps)) return;
  const { state, settings } = deps;
  const body = await jsonBody(ctx);
  if (!body) return fail(ctx, 400, 'param.invalid', 'body must be JSON');
  if (body.robotCode !== settings.robotCode) return fail(ctx, 400, 'resource.not.found', 'robot 不存在');
  const userIds = Array.isArray(body.userIds)
    ? body.userIds.filter((u): u is string => typeof u === 'string')
    : [];
  if (userIds.length === 0 || userIds.length > 20) return fail(ctx, 400, 'param.userIdsInvalid');
  const message = readMessage(body);
  if (typeof message === 'string') return fail(ctx, 400, message);
  const invalid: string[] = [];
  const throttled: string[] = [];
  for (const userId of userIds) {
    if (!state.hasMember(userId)) invalid.push(userId);
    else if (!state.admitToMember(userId)) {
      throttled.push(userId);
      state.counters.flow_controlled += 1;
    } else state.appendToMember(userId, { direction: 'out', via: 'app', ...message });
  }
  ok(ctx, {
    processQueryKey: state.randomId(16),
    invalidStaffIdList: invalid,
    flowControlledStaffIdList: throttled,
  });
}

async function handleGroupSend(ctx: Context, deps: ApiDeps): Promise<void> {
  if (!guard(ctx, deps)) return;
  const { state, settings } = deps;
  const body = await jsonBody(ctx);
  if (!body) return fail(ctx, 400, 'param.invalid', 'body must be JSON');
  if (body.robotCode !== settings.robotCode) return fail(ctx, 400, 'resource.not.found', 'robot 不存在');
  const group = typeof body.openConversationId === 'string' ? body.openConversationId : '';
  if (!state.hasGroup(group)) return fail(ctx, 400, 'resource.not.found', '群不存在或机器人不在群中');
  const message = readMessage(body);
  if (typeof message === 'string') return fail(ctx, 400, message);
  if (!state.admitToGroup(group)) {
    state.counters.qps_limited += 1;
    return fail(ctx, 403, 'Forbidden.AccessDenied.QpsLimitForApi', '群消息发送过于频繁');
  }
  state.appendToGroup(group, { direction: 'out', via: 'app', ...message });
  ok(ctx, { processQueryKey: state.randomId(16) });
}

const SPACE_RE = /^dtv1\.card\/\/(IM_ROBOT|IM_GROUP)\.(.+)$/;

async function handleCreateAndDeliver(ctx: Context, deps: ApiDeps): Promise<void> {
  if (!guard(ctx, deps)) return;
  const { state, settings } = deps;
  const body = await jsonBody(ctx);
  if (!body) return fail(ctx, 400, 'param.empty');
  if (typeof body.cardTemplateId !== 'string' || !body.cardTemplateId)
    return fail(ctx, 400, 'param.cardTemplateIdEmpty');
  if (settings.cardTemplateId && body.cardTemplateId !== settings.cardTemplateId) {
    return fail(ctx, 400, 'param.cardTemplateNotExist', '卡片模板不存在');
  }
  const outTrackId = body.outTrackId;
  if (typeof outTrackId !== 'string' || !outTrackId) return fail(ctx, 400, 'param.outTrackIdEmpty');
  if (state.cardsById.has(outTrackId))
    return fail(ctx, 400, settings.unconfirmed.outTrackIdExists, 'outTrackId 已存在');
  const callbackType =
    body.callbackType === 'HTTP' || body.callbackType === 'STREAM' ? body.callbackType : undefined;
  if (!callbackType) return fail(ctx, 400, 'param.callbackTypeInvalid');
  const routeKey = typeof body.callbackRouteKey === 'string' ? body.callbackRouteKey : undefined;
  if (callbackType === 'HTTP' && !routeKey) return fail(ctx, 400, 'param.callbackRouteKeyEmpty');
  const params =
    isObject(body.cardData) && isObject(body.cardData.cardParamMap) ? body.cardData.cardParamMap : undefined;
  if (!params) return fail(ctx, 400, 'param.cardPublicDataEmpty');
  if (Object.values(params).some((v) => typeof v !== 'string')) {
    return fail(ctx, 400, 'param.cardParamMapInvalid', 'cardParamMap 的值必须是字符串');
  }
  const space = typeof body.openSpaceId === 'string' ? SPACE_RE.exec(body.openSpaceId) : null;
  if (!space) return fail(ctx, 400, 'param.openSpaceIdInvalid');
  const type = space[1] as 'IM_ROBOT' | 'IM_GROUP';
  const id = space[2]!;
  const deliver = type === 'IM_ROBOT' ? body.imRobotOpenDeliverModel : body.imGroupOpenDeliverModel;
  if (!isObject(deliver))
    return fail(ctx, 400, 'param.openSpaceModelInvalid', `${type} 需要对应的 deliver model`);
  if (deliver.robotCode !== settings.robotCode) return fail(ctx, 400, 'param.robotCodeInvalid');
  const exists = type === 'IM_ROBOT' ? state.hasMember(id) : state.hasGroup(id);
  const admitted = exists && (type === 'IM_ROBOT' ? state.admitToMember(id) : state.admitToGroup(id));
  if (exists && !admitted) {
    state.counters.qps_limited += 1;
    return fail(ctx, 403, 'Forbidden.AccessDenied.QpsLimitForApi', '投放过于频繁');
  }
  const deliverResults = [
    { spaceType: type, spaceId: id, success: exists, ...(exists ? {} : { errorMsg: '场域不存在' }) },
  ];
  if (exists) {
    const card: DingtalkCard = {
      outTrackId,
      cardTemplateId: body.cardTemplateId,
      callbackType,
      callbackRouteKey: routeKey,
      params: { ...(params as Record<string, string>) },
      space: { type, id },
      createdAt: state.nowIso(),
      updatedAt: undefined,
      updates: 0,
    };
    state.counters.cards_created += 1;
    state.putCard(card);
    const entry = { direction: 'out' as const, kind: 'card', outTrackId, via: 'app' as const };
    if (type === 'IM_ROBOT') state.appendToMember(id, entry);
    else state.appendToGroup(id, entry);
  }
  ok(ctx, { success: true, result: { outTrackId, deliverResults } });
}

async function handleUpdateCard(ctx: Context, deps: ApiDeps): Promise<void> {
  if (!guard(ctx, deps)) return;
  const { state } = deps;
  const body = await jsonBody(ctx);
  if (!body) return fail(ctx, 400, 'param.empty');
  const card = typeof body.outTrackId === 'string' ? state.cardsById.get(body.outTrackId) : undefined;
  if (!card) return fail(ctx, 400, 'param.outTrackIdNotExist', '卡片不存在');
  const params =
    isObject(body.cardData) && isObject(body.cardData.cardParamMap) ? body.cardData.cardParamMap : undefined;
  if (!params || Object.values(params).some((v) => typeof v !== 'string')) {
    return fail(ctx, 400, 'param.cardParamMapInvalid');
  }
  const byKey = isObject(body.cardUpdateOptions) && body.cardUpdateOptions.updateCardDataByKey === true;
  card.params = byKey
    ? { ...card.params, ...(params as Record<string, string>) }
    : { ...(params as Record<string, string>) };
  card.updatedAt = state.nowIso();
  card.updates += 1;
  state.counters.cards_updated += 1;
  state.cardUpdated(card);
  ok(ctx, { success: true, result: true });
}

async function handleRegisterCallback(ctx: Context, deps: ApiDeps): Promise<void> {
  if (!guard(ctx, deps)) return;
  const body = await jsonBody(ctx);
  const routeKey = body && typeof body.callbackRouteKey === 'string' ? body.callbackRouteKey : '';
  const url = body && typeof body.callbackUrl === 'string' ? body.callbackUrl : '';
  const apiSecret = body && typeof body.apiSecret === 'string' ? body.apiSecret : '';
  if (!routeKey || !/^https?:\/\//.test(url) || !apiSecret) return fail(ctx, 400, 'param.invalid');
  const existing = deps.state.callbacks.get(routeKey);
  if (existing && body?.forceUpdate !== true && existing.url !== url) {
    return fail(ctx, 400, 'param.callbackRouteKeyExist', 'callbackRouteKey 已注册（forceUpdate 可覆盖）');
  }
  deps.state.callbacks.set(routeKey, { url, apiSecret });
  ok(ctx, { success: true, result: { callbackUrl: url, apiSecret } });
}

async function handleGatewayOpen(ctx: Context, deps: ApiDeps): Promise<void> {
  const body = await jsonBody(ctx);
  if (!body || body.clientId !== deps.settings.appKey || body.clientSecret !== deps.settings.appSecret) {
    return fail(ctx, 401, 'InvalidAuthentication', 'clientId 或 clientSecret 不正确');
  }
  ok(ctx, deps.openStream({ clientId: body.clientId as string, subscriptions: body.subscriptions }));
}

/** oapi …/robot/send?access_token=&timestamp=&sign= (自定义机器人, 加签). */
async function handleCustomRobot(ctx: Context, { state }: ApiDeps): Promise<void> {
  const token = typeof ctx.query.access_token === 'string' ? ctx.query.access_token : '';
  const robot = state.robot(token);
  if (!robot) return robotAnswer(ctx, 300001, 'token is not exist');
  const timestamp = typeof ctx.query.timestamp === 'string' ? ctx.query.timestamp : '';
  const sign = typeof ctx.query.sign === 'string' ? ctx.query.sign : '';
  const expected = createHmac('sha256', robot.secret)
    .update(`${timestamp}\n${robot.secret}`)
    .digest('base64');
  const age = Math.abs(state.nowMs() - Number(timestamp));
  if (!/^\d{13}$/.test(timestamp) || age > 3_600_000)
    return robotAnswer(ctx, 310000, 'sign not match, timestamp is invalid');
  if (sign !== expected) return robotAnswer(ctx, 310000, 'sign not match');
  const body = await jsonBody(ctx);
  if (!body) return robotAnswer(ctx, 400000, 'wrong json format');
  const msgtype = body.msgtype;
  let entry: { kind: string; text?: string; title?: string; markdown?: string };
  if (msgtype === 'text' && isObject(body.text) && typeof body.text.content === 'string') {
    entry = { kind: 'text', text: body.text.content };
  } else if (
    msgtype === 'markdown' &&
    isObject(body.markdown) &&
    typeof body.markdown.title === 'string' &&
    typeof body.markdown.text === 'string'
  ) {
    entry = { kind: 'markdown', title: body.markdown.title, markdown: body.markdown.text };
  } else if (msgtype === 'actionCard' || msgtype === 'link' || msgtype === 'feedCard') {
    entry = { kind: msgtype, text: JSON.stringify(body[msgtype as string]) };
  } else return robotAnswer(ctx, 400000, 'invalid msgtype or content');
  if (!state.admitToRobot(token))
    return robotAnswer(ctx, 130101, 'send too fast, exceed 20 times per minute');
  state.appendToRobot(token, { direction: 'out', via: 'custom_robot', ...entry });
  robotAnswer(ctx, 0, 'ok');
}

export function registerDingtalkApi(router: Router, deps: ApiDeps): void {
  router.post('/v1.0/oauth2/accessToken', (ctx) => handleToken(ctx, deps));
  router.post('/v1.0/robot/oToMessages/batchSend', (ctx) => handleBatchSend(ctx, deps));
  router.post('/v1.0/robot/groupMessages/send', (ctx) => handleGroupSend(ctx, deps));
  router.post('/v1.0/card/instances/createAndDeliver', (ctx) => handleCreateAndDeliver(ctx, deps));
  router.put('/v1.0/card/instances', (ctx) => handleUpdateCard(ctx, deps));
  router.post('/v1.0/card/callbacks/register', (ctx) => handleRegisterCallback(ctx, deps));
  router.post('/v1.0/gateway/connections/open', (ctx) => handleGatewayOpen(ctx, deps));
  router.post('/robot/send', (ctx) => handleCustomRobot(ctx, deps));
}
