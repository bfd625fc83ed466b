/**
 * Shared set-up for the emulator tests: an emulator on 127.0.0.1:0 with a manual clock, an axios
 * client that never throws on status, and a callback receiver that verifies and decrypts with
 * node:crypto directly (not the emulator's code), so the tests check the wire format independently.
 */
import { createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import axios, { type AxiosInstance } from 'axios';
import { XMLParser } from 'fast-xml-parser';
import Koa from 'koa';
import getRawBody from 'raw-body';
import { createEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/create-emulator';
import { createManualClock, type ManualClock } from '../../src/lib/clock';

export const CORP_ID = 'ww0123456789abcdef';
export const SECRET = 'app-secret-0123456789';
export const TOKEN = 'callbackToken42';
export const AES_KEY = randomBytes(32).toString('base64').slice(0, 43);
export const AGENT_ID = 1000002;

export interface Started {
  emulator: Emulator;
  clock: ManualClock;
  url: string;
  http: AxiosInstance;
}

export async function startEmulator(
  extra: Partial<Omit<EmulatorOptions, 'wecom'>> = {},
  wecom: Partial<EmulatorOptions['wecom']> = {},
): Promise<Started> {
  const clock = createManualClock('2026-11-21T01:00:00.000Z');
  const emulator = createEmulator({
    clock,
    ...extra,
    wecom: {
      corpId: CORP_ID,
      corpSecret: SECRET,
      agentId: AGENT_ID,
      token: TOKEN,
      encodingAesKey: AES_KEY,
      callbackUrl: 'http://127.0.0.1:9/unused',
      members: [
        { userid: 'zhangsan', name: '张三' },
        { userid: 'lisi', name: '李四' },
        { userid: 'wangwu', name: '王五' },
      ],
      groupRobots: [{ key: 'robot-key-1', name: '销售一组' }],
      ...wecom,
    },
  });
  const url = await emulator.start(0);
  const http = axios.create({ baseURL: url, validateStatus: () => true, proxy: false });
  return { emulator, clock, url, http };
}

export async function getToken(http: AxiosInstance): Promise<string> {
  const res = await http.get('/cgi-bin/gettoken', { params: { corpid: CORP_ID, corpsecret: SECRET } });
  expect(res.data.errcode).toBe(0);
  return res.data.access_token as string;
}

/** Posts a body as the exact bytes given (the duplicate check compares raw bytes). */
export async function postRaw(http: AxiosInstance, path: string, body: string | object) {
  const data = typeof body === 'string' ? body : JSON.stringify(body);
  const res = await http.post(path, data, { headers: { 'Content-Type': 'application/json' } });
  return res.data;
}

export function textMessage(touser: string, content: string, extra: object = {}) {
  return { touser, msgtype: 'text', agentid: AGENT_ID, text: { content }, ...extra };
}

export function buttonCard(taskId: string, extra: object = {}) {
  return {
    card_type: 'button_interaction',
    task_id: taskId,
    main_title: { title: '新线索：张*', desc: '来自官网表单' },
    horizontal_content_list: [{ keyname: '电话', value: '138****1234' }],
    button_list: [
      { text: '抢单', style: 1, key: `grab:${taskId}` },
      { text: '忽略', style: 2, key: `skip:${taskId}` },
    ],
    ...extra,
  };
}

export function cardMessage(touser: string, card: object, extra: object = {}) {
  return { touser, msgtype: 'template_card', agentid: AGENT_ID, template_card: card, ...extra };
}

// --- an independent WeCom crypto implementation (path 91144) for checking the emulator ---

export function signature(token: string, timestamp: string, nonce: string, encrypt: string): string {
  return createHash('sha1').update([token, timestamp, nonce, encrypt].sort().join('')).digest('hex');
}

export function decrypt(aesKey: string, encrypted: string): { message: string; receiveId: string } {
  const key = Buffer.from(`${aesKey}=`, 'base64');
  const decipher = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
  decipher.setAutoPadding(false);
  const padded = Buffer.concat([decipher.update(encrypted, 'base64'), decipher.final()]);
  const pad = padded[padded.length - 1]!;
  if (pad < 1 || pad > 32 || padded.length % 32 !== 0) throw new Error('bad padding');
  if (!padded.subarray(padded.length - pad).every((b) => b === pad)) throw new Error('bad padding bytes');
  const plain = padded.subarray(0, padded.length - pad);
  const length = plain.readUInt32BE(16);
  return {
    message: plain.subarray(20, 20 + length).toString('utf8'),
    receiveId: plain.subarray(20 + length).toString('utf8'),
  };
}

export const xml = new XMLParser({ processEntities: false, parseTagValue: false });

export interface Received {
  method: string;
  query: Record<string, string>;
  body: string;
  envelope?: Record<string, string>;
  signatureOk: boolean;
  receiveId?: string;
  fields?: Record<string, unknown>;
  echo?: string;
}

/** A tiny Koa callback receiver; `behave(n)` decides the answer to the n-th request (1-based). */
export async function startReceiver(
  behave: (n: number) => { delayMs?: number; status?: number; body?: string } = () => ({}),
): Promise<{ url: string; received: Received[]; stop: () => Promise<void> }> {
  const received: Received[] = [];
  const app = new Koa();
  app.use(async (ctx) => {
    const query = Object.fromEntries(new URL(ctx.url, 'http://x').searchParams);
    const body = (await getRawBody(ctx.req)).toString('utf8');
    const rec: Received = { method: ctx.method, query, body, signatureOk: false };
    const encrypted = ctx.method === 'GET' ? query.echostr : undefined;
    const envelope = ctx.method === 'POST' ? (xml.parse(body).xml as Record<string, string>) : undefined;
    const cipher = encrypted ?? envelope?.Encrypt;
    if (cipher) {
      rec.envelope = envelope;
      rec.signatureOk = signature(TOKEN, query.timestamp!, query.nonce!, cipher) === query.msg_signature;
      const plain = decrypt(AES_KEY, cipher);
      rec.receiveId = plain.receiveId;
      if (encrypted) rec.echo = plain.message;
      else rec.fields = xml.parse(plain.message).xml as Record<string, unknown>;
    }
    received.push(rec);
    const { delayMs = 0, status = 200, body: answer } = behave(received.length);
    if (delayMs) await new Promise((resolve) => setTimeout(resolve, delayMs));
    ctx.status = status;
    ctx.body = answer ?? rec.echo ?? '';
  });
  const server: Server = createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/wecom/callback`,
    received,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
