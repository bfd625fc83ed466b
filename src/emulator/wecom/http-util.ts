/**
 * Small helpers for the emulator's Koa handlers: raw body reading (the duplicate check compares raw
 * bytes, path 90236), JSON parsing and WeCom-style answers.
 */
import type { Context } from 'koa';
import getRawBody from 'raw-body';
import { wecomError } from './errcodes';
import type { WecomEmulatorState } from './state';
import type { JsonObject, WecomSettings } from './types';

/** What every API handler needs. */
export interface RouteDeps {
  state: WecomEmulatorState;
  settings: WecomSettings;
}

/** Large enough for a 2 MB robot image in base64 (path 91770). */
const BODY_LIMIT = 4 * 1024 * 1024;

/** The request body; read once (fault injection may have read it already, see faults.ts). */
export async function readRawBody(ctx: Context): Promise<Buffer> {
  const stashed: unknown = ctx.state.rawBody;
  if (Buffer.isBuffer(stashed)) return stashed;
  const raw = await getRawBody(ctx.req, { limit: BODY_LIMIT });
  ctx.state.rawBody = raw;
  return raw;
}

export function parseJsonObject(raw: Buffer): JsonObject | undefined {
  try {
    const value: unknown = JSON.parse(raw.toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as JsonObject)
      : undefined;
  } catch {
    return undefined;
  }
}

/** WeCom answers every API call with HTTP 200 and `{errcode, errmsg, ...}`. */
export function answer(ctx: Context, body: JsonObject): void {
  ctx.status = 200;
  ctx.type = 'application/json';
  ctx.body = body;
}

export function answerError(ctx: Context, errcode: number, detail?: string, extra: JsonObject = {}): void {
  answer(ctx, { ...wecomError(errcode, detail), ...extra });
}

export const isObject = (v: unknown): v is JsonObject =>
  v !== null && typeof v === 'object' && !Array.isArray(v);
export const isNonEmptyString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
export const byteLength = (s: string): number => Buffer.byteLength(s, 'utf8');

/** Truncates to at most `max` UTF-8 bytes without splitting a character. */
export function truncateBytes(s: string, max: number): string {
  let out = '';
  let used = 0;
  for (const ch of s) {
    const n = byteLength(ch);
    if (used + n > max) break;
    out += ch;
    used += n;
  }
  return out;
}

/** A request the emulator cannot act on (unknown member, no such card…); `status` is for the HTTP API. */
export class EmulatorInputError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'EmulatorInputError';
  }
}
