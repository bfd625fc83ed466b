import { createCipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * WeCom credentials and signed, encrypted member callbacks for the benchmarks that need them. The
 * callbacks are built here with node:crypto from the documented algorithm (path 91144), as
 * test/e2e/wecom-callback-matrix.test.ts does: independent of the code under test and of the emulator.
 */
export interface WecomCredentials {
  corpId: string;
  secret: string;
  agentId: number;
  token: string;
  /** 43 base64 characters (a random key per run). */
  aesKey: string;
}

export function benchWecomCredentials(): WecomCredentials {
  return {
    corpId: 'ww7c3e91a0d5b2f486',
    secret: 'leadrelay-bench-secret-0001',
    agentId: 1000005,
    token: 'LeadRelayBenchToken',
    // Letters and digits only, as WeCom issues them (base64 '+' and '/' replaced).
    aesKey: randomBytes(32).toString('base64').slice(0, 43).replace(/[+/]/g, 'A'),
  };
}

/** The server's WECOM_* environment for these credentials, calling `apiBase` as its WeCom API. */
export function wecomServerEnv(credentials: WecomCredentials, apiBase: string): Record<string, string> {
  return {
    WECOM_CORP_ID: credentials.corpId,
    WECOM_AGENT_ID: String(credentials.agentId),
    WECOM_SECRET: credentials.secret,
    WECOM_TOKEN: credentials.token,
    WECOM_ENCODING_AES_KEY: credentials.aesKey,
    WECOM_API_BASE: apiBase,
    // The emulator is the one non-WeCom host an API base may name (src/config/outbound-urls.ts).
    EMULATOR_URL: apiBase,
  };
}

export const CALLBACK_PATH = '/callbacks/wecom';

/** One ready-to-send callback: `path` carries the signed query string. */
export interface SignedCallback {
  msgId: string;
  path: string;
  body: string;
}

/**
 * Builds signed, encrypted text-message callbacks ahead of a run, so that the load generator pays
 * nothing for crypto while it measures. Every MsgId is unique for the life of the builder.
 */
export class CallbackFactory {
  private readonly key: Buffer;
  private seq = 0;

  constructor(
    private readonly credentials: WecomCredentials,
    private readonly from = 'WangLei',
    /** MsgIds are this + 1, + 2, …: give two factories in one run different bases. */
    private readonly msgIdBase = 7_100_000_000_000_000_000n,
  ) {
    this.key = Buffer.from(`${credentials.aesKey}=`, 'base64');
  }

  /** How many MsgIds have been handed out. */
  get issued(): number {
    return this.seq;
  }

  /** The next message, signed with a timestamp of now (the server accepts ±300 s). */
  build(basePath = CALLBACK_PATH): SignedCallback {
    this.seq += 1;
    const msgId = (this.msgIdBase + BigInt(this.seq)).toString();
    const { corpId, agentId, token } = this.credentials;
    const createTime = Math.floor(Date.now() / 1000);
    const plain =
      `<xml><ToUserName><![CDATA[${corpId}]]></ToUserName><FromUserName><![CDATA[${this.from}]]></FromUserName>` +
      `<CreateTime>${createTime}</CreateTime><MsgType><![CDATA[text]]></MsgType>` +
      `<Content><![CDATA[收到，王总下午三点方便通话 #${this.seq}]]></Content><MsgId>${msgId}</MsgId>` +
      `<AgentID>${agentId}</AgentID></xml>`;
    const encrypted = this.encrypt(plain);
    const timestamp = String(createTime);
    const nonce = String(100_000_000 + Math.floor(Math.random() * 900_000_000));
    const signature = createHash('sha1')
      .update([token, timestamp, nonce, encrypted].sort().join(''))
      .digest('hex');
    const query = new URLSearchParams({ msg_signature: signature, timestamp, nonce });
    return {
      msgId,
      path: `${basePath}?${query}`,
      body:
        `<xml><ToUserName><![CDATA[${corpId}]]></ToUserName><Encrypt><![CDATA[${encrypted}]]></Encrypt>` +
        `<AgentID><![CDATA[${agentId}]]></AgentID></xml>`,
    };
  }

  /** random(16) + msg_len(4) + msg + receiveid, PKCS#7 to 32 bytes, AES-256-CBC, IV = key[0..16]. */
  private encrypt(plain: string): string {
    const msg = Buffer.from(plain);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(msg.length);
    const body = Buffer.concat([randomBytes(16), length, msg, Buffer.from(this.credentials.corpId)]);
    const pad = 32 - (body.length % 32);
    const cipher = createCipheriv('aes-256-cbc', this.key, this.key.subarray(0, 16));
    cipher.setAutoPadding(false);
    return Buffer.concat([
      cipher.update(Buffer.concat([body, Buffer.alloc(pad, pad)])),
      cipher.final(),
    ]).toString('base64');
  }
}

/**
 * A stock of pre-built callbacks handed out in order. `fill` replaces the stock (a left-over callback's
 * timestamp could be stale by the next scenario); when a run outgrows it, `take` builds on the spot
 * and counts it, so the report can say the load generator paid for crypto.
 */
export class CallbackStock {
  private items: SignedCallback[] = [];
  private next = 0;
  builtDuringRun = 0;

  constructor(private readonly factory: CallbackFactory) {}

  fill(count: number): { count: number; ms: number } {
    const started = performance.now();
    this.items = new Array<SignedCallback>(count);
    for (let i = 0; i < count; i++) this.items[i] = this.factory.build();
    this.next = 0;
    return { count, ms: performance.now() - started };
  }

  get remaining(): number {
    return this.items.length - this.next;
  }

  take(): SignedCallback {
    const item = this.items[this.next];
    if (item) {
      this.next++;
      return item;
    }
    this.builtDuringRun++;
    return this.factory.build();
  }
}
