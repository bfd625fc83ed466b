/**
 * The emulator's own HTTP API under `/_emulator/api/`, used by the page and by tests running the
 * emulator in another process: chats, group posts, counters, and acting as a member.
 */
import type { Router } from '@koa/router';
import type { Context } from 'koa';
import type { WecomControl } from './control';
import type { RouteDeps } from './http-util';
import { EmulatorInputError, isObject, parseJsonObject, readRawBody } from './http-util';
import { handleLiveEvents } from './live-events';
import type { JsonObject } from './types';

async function jsonBody(ctx: Context): Promise<JsonObject> {
  const body = parseJsonObject(await readRawBody(ctx));
  if (!body) throw new EmulatorInputError(400, 'body must be a JSON object');
  return body;
}

function reply(ctx: Context, status: number, body: unknown): void {
  ctx.status = status;
  ctx.body = body;
}

/** Runs an action, turning EmulatorInputError into its HTTP status. */
async function act(ctx: Context, action: () => Promise<unknown>): Promise<void> {
  try {
    reply(ctx, 200, await action());
  } catch (err) {
    if (!(err instanceof EmulatorInputError)) throw err;
    reply(ctx, err.status, { error: err.message });
  }
}

export function registerEmulatorApi(router: Router, deps: RouteDeps, control: WecomControl): void {
  const { state } = deps;
  const base = '/_emulator/api';
  router.get(`${base}/state`, (ctx) => reply(ctx, 200, state.snapshot()));
  router.get(`${base}/events`, (ctx) => handleLiveEvents(ctx, deps));
  router.get(`${base}/stats`, (ctx) => reply(ctx, 200, state.stats()));
  router.get(`${base}/chats/:userid`, (ctx) => {
    const chat = state.chat(ctx.params.userid!);
    reply(ctx, chat ? 200 : 404, chat ?? { error: 'unknown member' });
  });
  router.get(`${base}/groups/:key`, (ctx) => {
    const group = state.group(ctx.params.key!);
    reply(ctx, group ? 200 : 404, group ?? { error: 'unknown group robot' });
  });
  router.post(`${base}/members/:userid/text`, (ctx) =>
    act(ctx, async () => {
      const body = await jsonBody(ctx);
      if (typeof body.content !== 'string') throw new EmulatorInputError(400, 'content must be a string');
      return control.sendText(ctx.params.userid!, body.content);
    }),
  );
  router.post(`${base}/members/:userid/click`, (ctx) =>
    act(ctx, async () => {
      const body = await jsonBody(ctx);
      const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
      const selected = Array.isArray(body.selectedItems) ? body.selectedItems.filter(isObject) : undefined;
      return control.clickButton(ctx.params.userid!, {
        taskId: str(body.taskId),
        eventKey: str(body.eventKey),
        buttonText: str(body.buttonText),
        selectedItems: selected?.map((s) => ({
          questionKey: String(s.questionKey),
          optionIds: Array.isArray(s.optionIds) ? s.optionIds.map(String) : [],
        })),
      });
    }),
  );
  router.post(`${base}/verify-url`, (ctx) => act(ctx, () => control.verifyUrl()));
  router.post(`${base}/expire-tokens`, (ctx) => {
    control.expireTokens();
    reply(ctx, 200, { ok: true });
  });
  router.post(`${base}/reset`, (ctx) => {
    control.reset();
    reply(ctx, 200, { ok: true });
  });
}
