/**
 * Set-up for the WeCom adapter tests: the bundled emulator on 127.0.0.1 with a manual clock, and a
 * real client talking to it over loopback (no axios mocks). Logs go to a buffer so tests can check
 * that no secret reaches them.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import { createEmulator, type Emulator, type EmulatorOptions } from '../../../src/emulator/create-emulator';
import { createManualClock, type ManualClock } from '../../../src/lib/clock';
import {
  createWecomClient,
  type WecomClient,
  type WecomClientOptions,
} from '../../../src/platforms/wecom/client';

export const CORP_ID = 'ww0123456789abcdef';
export const SECRET = 'app-secret-s3cr3t-0123456789';
export const CALLBACK_TOKEN = 'callbackToken42';
export const AES_KEY = randomBytes(32).toString('base64').slice(0, 43);
export const AGENT_ID = 1000002;
export const ROBOT_KEY = 'robot-key-secret-7f3a9c';

export interface CapturedLogs {
  logger: Logger;
  text(): string;
}

export function captureLogs(): CapturedLogs {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), text: () => chunks.join('') };
}

export interface Env {
  emulator: Emulator;
  clock: ManualClock;
  url: string;
  client: WecomClient;
  logs: CapturedLogs;
}

export async function startEnv(
  extra: Partial<Omit<EmulatorOptions, 'wecom'>> = {},
  client: Partial<Omit<WecomClientOptions, 'clock' | 'logger'>> = {},
  wecom: Partial<EmulatorOptions['wecom']> = {},
): Promise<Env> {
  const clock = createManualClock('2026-11-21T01:00:00.000Z');
  const emulator = createEmulator({
    clock,
    ...extra,
    wecom: {
      corpId: CORP_ID,
      corpSecret: SECRET,
      agentId: AGENT_ID,
      token: CALLBACK_TOKEN,
      encodingAesKey: AES_KEY,
      // Interactive cards need a callback URL (43012); nothing listens here unless a test sets one.
      callbackUrl: 'http://127.0.0.1:9/unused',
      members: [
        { userid: 'zhangsan', name: '张三' },
        { userid: 'lisi', name: '李四' },
        { userid: 'wangwu', name: '王五' },
      ],
      groupRobots: [{ key: ROBOT_KEY, name: '销售一组' }],
      ...wecom,
    },
  });
  const url = await emulator.start(0);
  const logs = captureLogs();
  const wecomClient = createWecomClient({
    settings: { corpId: CORP_ID, secret: SECRET, apiBase: url },
    clock,
    logger: logs.logger,
    timeoutMs: 2000,
    ...client,
  });
  return { emulator, clock, url, client: wecomClient, logs };
}

export function textBody(touser: string, content: string): string {
  return JSON.stringify({
    touser,
    msgtype: 'text',
    agentid: AGENT_ID,
    text: { content },
    enable_duplicate_check: 1,
    duplicate_check_interval: 14400,
  });
}
