import { createCipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';

/**
 * Signed requests for the abuse suites, built from the documented algorithms with node:crypto only,
 * independent of the code under test: WeCom and DingTalk event encryption (path 91144: AES-256-CBC,
 * IV = key[0..16], PKCS#7 to 32 bytes; sha1 of the sorted token, timestamp, nonce and ciphertext),
 * and DingTalk's robot header signature (base64 HMAC-SHA256 of `timestamp\nsecret`).
 */
export function encryptFor(aesKey43: string, plain: string | Buffer, receiveId: string): string {
  const key = Buffer.from(`${aesKey43}=`, 'base64');
  const msg = Buffer.isBuffer(plain) ? plain : Buffer.from(plain);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(msg.length);
  const body = Buffer.concat([randomBytes(16), length, msg, Buffer.from(receiveId)]);
  const pad = 32 - (body.length % 32);
  const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
  cipher.setAutoPadding(false);
  return Buffer.concat([
    cipher.update(Buffer.concat([body, Buffer.alloc(pad, pad)])),
    cipher.final(),
  ]).toString('base64');
}

export const sha1Signature = (token: string, timestamp: string, nonce: string, encrypted: string) =>
  createHash('sha1').update([token, timestamp, nonce, encrypted].sort().join('')).digest('hex');

export const robotSign = (secret: string, timestamp: string) =>
  createHmac('sha256', secret).update(`${timestamp}\n${secret}`).digest('base64');

/** A WeCom callback: the signed query and the XML envelope around the encrypted plaintext. */
export function wecomCallback(
  wecom: { corpId: string; token: string; aesKey: string; agentId: number },
  plain: string,
  nowSeconds: number,
): { query: Record<string, string>; body: string; encrypted: string } {
  const encrypted = encryptFor(wecom.aesKey, plain, wecom.corpId);
  const timestamp = String(nowSeconds);
  const nonce = randomBytes(6).toString('hex');
  return {
    query: { msg_signature: sha1Signature(wecom.token, timestamp, nonce, encrypted), timestamp, nonce },
    body: `<xml><ToUserName><![CDATA[${wecom.corpId}]]></ToUserName><Encrypt><![CDATA[${encrypted}]]></Encrypt><AgentID><![CDATA[${wecom.agentId}]]></AgentID></xml>`,
    encrypted,
  };
}

let seq = 0;
/** A WeCom text message plaintext with a fresh MsgId. */
export function wecomText(corpId: string, from: string, content: string, nowSeconds: number): string {
  seq += 1;
  return `<xml><ToUserName><![CDATA[${corpId}]]></ToUserName><FromUserName><![CDATA[${from}]]></FromUserName><CreateTime>${nowSeconds}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[${content}]]></Content><MsgId>${7100000000000000000n + BigInt(seq) + BigInt(process.pid) * 1000n}</MsgId><AgentID>1</AgentID></xml>`;
}

export interface RawResponse {
  status: number;
  body: string;
}

/**
 * One HTTP request with headers exactly as given, repeats included (fetch merges them), and a body
 * of raw bytes. A server that answers before reading everything may reset the connection: that is
 * reported as status 0 unless the answer arrived first.
 */
export function rawRequest(
  url: string,
  options: { method?: string; headers: [string, string][]; body?: Buffer | string; chunked?: boolean },
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    // With a raw header list Node adds nothing, not even the Host that HTTP/1.1 requires.
    const flat = [['host', new URL(url).host], ...options.headers].flat();
    const body = options.body === undefined ? undefined : Buffer.from(options.body);
    if (body && !options.chunked) flat.push('content-length', String(body.length));
    const req = http.request(url, { method: options.method ?? 'POST', headers: flat }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('error', (error) => {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EPIPE' || code === 'ECONNRESET') resolve({ status: 0, body: '' });
      else reject(error);
    });
    if (body) {
      // Chunked bodies go in pieces, as a streaming client sends them.
      if (options.chunked)
        for (let i = 0; i < body.length; i += 16_384) req.write(body.subarray(i, i + 16_384));
      else req.write(body);
    }
    req.end();
  });
}
