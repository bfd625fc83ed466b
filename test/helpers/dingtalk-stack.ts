import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import path from 'node:path';
import { createEmulator, type DingtalkEmulator, type Emulator } from '../../src/emulator/create-emulator';
import { createManualClock, type ManualClock } from '../../src/lib/clock';
import { startTestApp, type TestApp } from './test-app';
import { WECOM } from './wecom-stack';

export const DINGTALK = {
  appKey: 'dingleadrelaytestkey01',
  appSecret: 'leadrelay-dingtalk-test-secret-0001',
  robotCode: 'dingleadrelaytestkey01',
  cardTemplateId: 'a1b2c3d4-leadrelay-lead-card.schema',
  eventToken: 'LeadRelayEventToken',
  eventAesKey: randomBytes(32).toString('base64').slice(0, 43),
  group: 'cidEastTeam0001',
  robot: { accessToken: 'dt-robot-east-token', secret: 'SECeastrobotsecret0001' },
};

export const DINGTALK_ORG = path.resolve(__dirname, '../fixtures/org.dingtalk.jsonc');

/** Staff ids of test/fixtures/org.dingtalk.jsonc. */
export const STAFF = { sup: '0300001', rep_a: '0300002', rep_b: '0300003' } as const;

export interface DingtalkStack {
  app: TestApp;
  emulator: Emulator;
  dingtalk: DingtalkEmulator;
  clock: ManualClock;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * The real server and the emulator's DingTalk half, wired to each other over loopback: the server
 * calls the emulator as api.dingtalk.com and oapi.dingtalk.com, registers its card callback URL there
 * at start (HTTP mode) or opens a Stream connection to it (`mode: 'stream'`), and the emulator calls
 * the server's callback URLs or pushes frames. One manual clock for both. The app listens on a port
 * chosen beforehand, because DINGTALK_PUBLIC_URL must be known when the env is parsed.
 */
export async function startDingtalkStack(
  options: {
    mode?: 'http' | 'stream';
    env?: Record<string, string>;
    server?: NonNullable<Parameters<typeof startTestApp>[0]>['server'];
    orgFile?: string;
    members?: { userId: string; name: string }[];
    /** The emulator's group chats (default: DINGTALK.group with every STAFF member). */
    groups?: { openConversationId: string; name: string; members: string[] }[];
    /** The emulator's custom robots (default: DINGTALK.robot as 华东战报机器人). */
    customRobots?: { accessToken: string; secret: string; name: string }[];
    repushMs?: number;
    rateLimits?: Record<string, number>;
  } = {},
): Promise<DingtalkStack> {
  const clock = createManualClock(new Date());
  const mode = options.mode ?? 'http';
  const emulator = createEmulator({
    clock,
    callbackTimeoutMs: 2000,
    // The WeCom half is always there; this app does not use it.
    wecom: {
      corpId: WECOM.corpId,
      corpSecret: WECOM.secret,
      agentId: WECOM.agentId,
      token: WECOM.token,
      encodingAesKey: WECOM.aesKey,
      members: [],
    },
    dingtalk: {
      appKey: DINGTALK.appKey,
      appSecret: DINGTALK.appSecret,
      robotCode: DINGTALK.robotCode,
      cardTemplateId: DINGTALK.cardTemplateId,
      mode,
      members: options.members ?? [
        { userId: STAFF.sup, name: '陈主管' },
        { userId: STAFF.rep_a, name: '王磊' },
        { userId: STAFF.rep_b, name: '李娜' },
      ],
      groups: options.groups ?? [
        { openConversationId: DINGTALK.group, name: '华东销售群', members: Object.values(STAFF) },
      ],
      customRobots: options.customRobots ?? [{ ...DINGTALK.robot, name: '华东战报机器人' }],
      events: { token: DINGTALK.eventToken, aesKey: DINGTALK.eventAesKey },
      callbackTimeoutMs: 2000,
      repushMs: options.repushMs ?? 400,
      ...(options.rateLimits ? { rateLimits: options.rateLimits } : {}),
    },
  });
  const emulatorUrl = await emulator.start(0);
  const port = await freePort();
  const app = await startTestApp({
    clock,
    orgFile: options.orgFile ?? DINGTALK_ORG,
    env: {
      DINGTALK_APP_KEY: DINGTALK.appKey,
      DINGTALK_APP_SECRET: DINGTALK.appSecret,
      DINGTALK_ROBOT_CODE: DINGTALK.robotCode,
      DINGTALK_MODE: mode,
      DINGTALK_API_BASE: emulatorUrl,
      DINGTALK_OAPI_BASE: emulatorUrl,
      EMULATOR_URL: emulatorUrl,
      DINGTALK_CARD_TEMPLATE_ID: DINGTALK.cardTemplateId,
      DINGTALK_PUBLIC_URL: `http://127.0.0.1:${port}`,
      DINGTALK_EVENT_TOKEN: DINGTALK.eventToken,
      DINGTALK_EVENT_AES_KEY: DINGTALK.eventAesKey,
      DINGTALK_TIMEOUT_MS: '1000',
      ...options.env,
    },
    server: {
      port,
      outbox: { pollMs: 20, policy: { maxAttempts: 20, backoff: { baseMs: 20, maxMs: 200 } } },
      timers: { maxIdleMs: 100 },
      ...options.server,
    },
  });
  const dingtalk = emulator.dingtalk!;
  dingtalk.control.setCallbackUrl(`${app.url}/callbacks/dingtalk`);
  dingtalk.control.setEventUrl(`${app.url}/callbacks/dingtalk/events`);
  return {
    app,
    emulator,
    dingtalk,
    clock,
    close: async () => {
      await app.close();
      await emulator.stop();
    },
  };
}
