import { randomBytes } from 'node:crypto';
import { createEmulator, type Emulator } from '../../src/emulator/create-emulator';
import { createManualClock, type ManualClock } from '../../src/lib/clock';
import { startTestApp, type TestApp } from './test-app';

export const WECOM = {
  corpId: 'ww7c3e91a0d5b2f486',
  secret: 'leadrelay-test-secret-0001',
  agentId: 1000005,
  token: 'LeadRelayCallbackToken',
  aesKey: randomBytes(32).toString('base64').slice(0, 43),
};

export interface WecomStack {
  app: TestApp;
  emulator: Emulator;
  clock: ManualClock;
  close(): Promise<void>;
}

/**
 * The real server and the WeCom emulator, wired to each other over loopback exactly as in the demo:
 * the server calls the emulator as its WeCom API base, the emulator calls the server's callback URL.
 * Both read the same manual clock (timestamps, token expiry); the database clock decides due rows.
 */
export async function startWecomStack(
  options: {
    env?: Record<string, string>;
    server?: NonNullable<Parameters<typeof startTestApp>[0]>['server'];
    /** Org config for the server (default: test/fixtures/org.test.jsonc). */
    orgFile?: string;
    /** The emulator's members (their WeCom userids must match the org config). */
    members?: { userid: string; name: string }[];
    /** Group robots the emulator knows (webhook keys, as in the org config's teams[].digest.robot). */
    groupRobots?: { key: string; name: string }[];
    logging?: NonNullable<Parameters<typeof startTestApp>[0]>['logging'];
  } = {},
): Promise<WecomStack> {
  const clock = createManualClock(new Date());
  const emulator = createEmulator({
    clock,
    callbackTimeoutMs: 2000,
    wecom: {
      corpId: WECOM.corpId,
      corpSecret: WECOM.secret,
      agentId: WECOM.agentId,
      token: WECOM.token,
      encodingAesKey: WECOM.aesKey,
      members: options.members ?? [
        { userid: 'ChenSup', name: '陈主管' },
        { userid: 'WangLei', name: '王磊' },
        { userid: 'LiNa', name: '李娜' },
      ],
      ...(options.groupRobots ? { groupRobots: options.groupRobots } : {}),
    },
  });
  const emulatorUrl = await emulator.start(0);
  const app = await startTestApp({
    clock,
    ...(options.orgFile ? { orgFile: options.orgFile } : {}),
    ...(options.logging ? { logging: options.logging } : {}),
    env: {
      WECOM_CORP_ID: WECOM.corpId,
      WECOM_AGENT_ID: String(WECOM.agentId),
      WECOM_SECRET: WECOM.secret,
      WECOM_TOKEN: WECOM.token,
      WECOM_ENCODING_AES_KEY: WECOM.aesKey,
      WECOM_API_BASE: emulatorUrl,
      EMULATOR_URL: emulatorUrl,
      WECOM_TIMEOUT_MS: '1000',
      ...options.env,
    },
    server: {
      outbox: { pollMs: 20, policy: { maxAttempts: 20, backoff: { baseMs: 20, maxMs: 200 } } },
      timers: { maxIdleMs: 100 },
      ...options.server,
    },
  });
  emulator.control.setCallbackUrl(`${app.url}/callbacks/wecom`);
  return {
    app,
    emulator,
    clock,
    close: async () => {
      await app.close();
      await emulator.stop();
    },
  };
}

export async function waitFor<T>(
  probe: () => T | Promise<T>,
  what: string,
  timeoutMs = 10_000,
): Promise<NonNullable<T>> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
