/**
 * Sends what a member does to our callback URL, as WeCom would: the plaintext XML is encrypted with
 * the corp's EncodingAESKey and receiveid = corpId, signed with
 * sha1(sort([token, timestamp, nonce, encrypt])) (path 91144), and POSTed as
 * `<xml><ToUserName/><AgentID/><Encrypt/></xml>` with `?msg_signature&timestamp&nonce` (path 90930).
 * Without a 200 within the timeout it retries, three attempts in all (path 90238). Uses
 * `@wecom/crypto` and node:crypto directly, never the adapter's crypto module, so that the two are
 * independent implementations.
 */
import { randomBytes } from 'node:crypto';
import { encrypt, getSignature } from '@wecom/crypto';
import axios from 'axios';
import type { RouteDeps } from './http-util';
import { EmulatorInputError } from './http-util';
import type { CallbackAttempt, CallbackOutcome, VerifyOutcome } from './types';

/** CDATA that survives a `]]>` inside the value. */
export function cdata(value: string): string {
  return `<![CDATA[${value.replace(/]]>/g, ']]]]><![CDATA[>')}]]>`;
}

export function buildXml(fields: Array<[string, string | number]>): string {
  const inner = fields.map(([k, v]) =>
    typeof v === 'number' ? `<${k}>${v}</${k}>` : `<${k}>${cdata(v)}</${k}>`,
  );
  return `<xml>${inner.join('')}</xml>`;
}

export class CallbackSender {
  private aborter = new AbortController();

  constructor(private readonly deps: RouteDeps) {}

  /** Cancels callbacks in flight (emulator stop). */
  close(): void {
    this.aborter.abort();
    this.aborter = new AbortController();
  }

  private sign(plaintext: string): { query: Record<string, string>; encrypted: string } {
    const { settings, state } = this.deps;
    const encrypted = encrypt(settings.encodingAesKey, plaintext, settings.corpId);
    const timestamp = String(Math.floor(state.nowMs() / 1000));
    const nonce = randomBytes(8).readBigUInt64BE().toString().slice(0, 10);
    const msg_signature = getSignature(settings.token, timestamp, nonce, encrypted);
    return { query: { msg_signature, timestamp, nonce }, encrypted };
  }

  private callbackUrl(query: Record<string, string>): string {
    const base = this.deps.settings.callbackUrl;
    if (!base) throw new EmulatorInputError(409, 'no callbackUrl configured');
    const url = new URL(base);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    return url.toString();
  }

  private async attempt(
    url: string,
    method: 'GET' | 'POST',
    body?: string,
  ): Promise<Omit<CallbackAttempt, 'attempt'>> {
    try {
      const res = await axios.request<string>({
        url,
        method,
        data: body,
        headers: body === undefined ? {} : { 'Content-Type': 'text/xml; charset=utf-8' },
        timeout: this.deps.settings.callbackTimeoutMs,
        responseType: 'text',
        transformResponse: (d: string) => d,
        validateStatus: () => true,
        maxRedirects: 0,
        proxy: false,
        signal: this.aborter.signal,
      });
      return { status: res.status, body: res.data };
    } catch (err) {
      const e = err as { code?: string; message?: string };
      return { error: e.code ?? e.message ?? 'request failed' };
    }
  }

  /** POSTs one message or event, retrying with the same MsgId/CreateTime (each attempt re-signed). */
  async deliver(plaintext: string, createTime: number, meta: { msgId?: string; responseCode?: string }) {
    const { settings, state } = this.deps;
    const attempts: CallbackAttempt[] = [];
    for (let n = 1; n <= settings.callbackRetries; n += 1) {
      const { query, encrypted } = this.sign(plaintext);
      const envelope = buildXml([
        ['ToUserName', settings.corpId],
        ['AgentID', String(settings.agentId)],
        ['Encrypt', encrypted],
      ]);
      const result = await this.attempt(this.callbackUrl(query), 'POST', envelope);
      attempts.push({ attempt: n, ...result });
      state.counters.callbacks_sent += 1;
      if (result.status === 200) break;
      state.counters.callback_failures += 1;
      settings.logger.debug(
        { attempt: n, status: result.status, error: result.error },
        'wecom emulator: callback failed',
      );
    }
    const ok = attempts[attempts.length - 1]?.status === 200;
    if (!ok) state.counters.callbacks_given_up += 1;
    const outcome: CallbackOutcome = { ok, attempts, plaintext, createTime, ...meta };
    return outcome;
  }

  /** The URL check WeCom makes when the callback is configured: GET with an encrypted echostr. */
  async verifyUrl(): Promise<VerifyOutcome> {
    const expected = randomBytes(9).readBigUInt64BE().toString();
    const { query, encrypted } = this.sign(expected);
    const url = this.callbackUrl({ ...query, echostr: encrypted });
    const result = await this.attempt(url, 'GET');
    return { ok: result.status === 200 && result.body === expected, expected, ...result };
  }
}
