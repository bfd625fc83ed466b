/**
 * The DingTalk emulator's own HTTP API under `/_emulator/dingtalk/api/`, for the page and for tests
 * running the emulator in another process: chats, groups, custom robot posts, cards, counters, and
 * acting as a member.
 */
import type { Router } from '@koa/router';
import type { Context } from 'koa';
import getRawBody from 'raw-body';
import { type DingtalkControl, DingtalkInputError } from './control';
import type { DingtalkEmulatorState } from './state';

export const DINGTALK_API_BASE_PATH = '/_emulator/dingtalk/api';

async function body(ctx: Context): Promise<Record<string, unknown>> {
  try {
    const value: unknown = JSON.parse((await getRawBody(ctx.req, { limit: 64 * 1024 })).toString('utf8'));
    if (value !== null && typeof value === 'object' && !Array.isArray(value))
      return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new DingtalkInputError(400, 'body must be a JSON object');
}

const str = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : undefined);

async function act(ctx: Context, action: () => Promise<unknown> | unknown): Promise<void> {
  try {
    ctx.body = (await action()) ?? { ok: true };
    ctx.status = 200;
  } catch (err) {
    if (!(err instanceof DingtalkInputError)) throw err;
    ctx.status = err.status;
    ctx.body = { error: err.message };
  }
}

export function registerDingtalkEmulatorApi(
  router: Router,
  state: DingtalkEmulatorState,
  control: DingtalkControl,
): void {
  const base = DINGTALK_API_BASE_PATH;
  router.get(`${base}/state`, (ctx) => {
    ctx.body = {
      ...state.snapshot(),
      stream: { connections: control.streamConnections, unacknowledged: control.unacknowledgedFrames },
    };
  });
  router.get(`${base}/stats`, (ctx) => {
    ctx.body = state.stats();
  });
  router.get(`${base}/chats/:userId`, (ctx) => {
    const chat = state.chat(ctx.params.userId!);
    ctx.status = chat ? 200 : 404;
    ctx.body = chat ?? { error: 'unknown member' };
  });
  router.get(`${base}/groups/:id`, (ctx) => {
    const group = state.group(ctx.params.id!);
    ctx.status = group ? 200 : 404;
    ctx.body = group ?? { error: 'unknown group' };
  });
  router.get(`${base}/cards/:outTrackId`, (ctx) => {
    const card = state.cardsById.get(ctx.params.outTrackId!);
    ctx.status = card ? 200 : 404;
    ctx.body = card ?? { error: 'unknown card' };
  });
  router.post(`${base}/members/:userId/text`, (ctx) =>
    act(ctx, async () => {
      const b = await body(ctx);
      const content = str(b.content);
      if (!content) throw new DingtalkInputError(400, 'content must be a non-empty string');
      const group = str(b.group);
      return control.sendText(ctx.params.userId!, content, group ? { group } : {});
    }),
  );
  router.post(`${base}/members/:userId/click`, (ctx) =>
    act(ctx, async () => {
      const b = await body(ctx);
      const options = {
        ...(str(b.outTrackId) ? { outTrackId: str(b.outTrackId) } : {}),
        ...(str(b.action) ? { action: str(b.action) } : {}),
        ...(str(b.buttonText) ? { buttonText: str(b.buttonText) } : {}),
        ...(str(b.group) ? { group: str(b.group) } : {}),
      };
      return control.clickButton(ctx.params.userId!, options);
    }),
  );
  router.post(`${base}/events/check`, (ctx) => act(ctx, () => control.sendEvent()));
  router.post(`${base}/stream/drop`, (ctx) => act(ctx, () => control.dropStreamConnections()));
  router.post(`${base}/expire-tokens`, (ctx) => act(ctx, () => control.expireTokens()));
  router.post(`${base}/reset`, (ctx) => act(ctx, () => control.reset()));
}
