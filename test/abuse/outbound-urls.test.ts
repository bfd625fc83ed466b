import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { dingtalkSettings, EnvError, parseEnv, wecomSettings } from '../../src/config/env';
import { checkOutboundBase } from '../../src/config/outbound-urls';
import { createManualClock } from '../../src/lib/clock';
import { createLogging } from '../../src/lib/logger';
import { createDingtalkClient } from '../../src/platforms/dingtalk/client';
import { createWecomClient } from '../../src/platforms/wecom/client';

/**
 * The outbound allow-list (RELIABILITY.md "Outbound delivery" 5; issue 9 item 3): an API base is the
 * platform's own https host or exactly the configured emulator origin (on loopback), so no setting
 * can point the clients, which carry the corp secret and customers' data, at an internal address;
 * redirects are never followed; robot webhooks are keys, so a "webhook URL" in the org config cannot
 * send the request anywhere but the platform host.
 */
const WECOM = {
  WECOM_CORP_ID: 'ww7c3e91a0d5b2f486',
  WECOM_AGENT_ID: '1000005',
  WECOM_SECRET: 'outbound-secret',
  WECOM_TOKEN: 'OutboundToken',
  WECOM_ENCODING_AES_KEY: 'b'.repeat(43),
};

function envError(source: Record<string, string>): string {
  try {
    parseEnv(source);
  } catch (error) {
    if (error instanceof EnvError) return error.problems.join('\n');
    throw error;
  }
  return '';
}

describe('API bases: the platforms or the configured emulator, nothing else', () => {
  it.each([
    ['https://qyapi.weixin.qq.com', 'development'],
    ['https://qyapi.weixin.qq.com/', 'production'],
    ['http://qyapi.weixin.qq.com', 'development'],
    ['https://QYAPI.weixin.qq.com', 'production'],
  ])('accepts WECOM_API_BASE=%s (NODE_ENV=%s)', (base, nodeEnv) => {
    expect(envError({ ...WECOM, WECOM_API_BASE: base, NODE_ENV: nodeEnv })).toBe('');
  });

  it.each([
    ['http://qyapi.weixin.qq.com', 'production', '生产环境必须使用 https'],
    ['https://qyapi.weixin.qq.com:8443', 'development', '不能指定端口 8443'],
    ['https://evil.example.com', 'development', '不能指向主机 evil.example.com'],
    ['https://qyapi.weixin.qq.com.evil.example.com', 'development', '不能指向主机'],
    ['https://qyapi.weixin.qq.com@evil.example.com', 'development', '不能带账号'],
    ['https://qyapi.weixin.qq.com?x=1', 'development', '不能带账号、查询参数或锚点'],
    ['http://127.0.0.1:9000', 'test', '本机地址（loopback）'],
    ['http://localhost:9000', 'test', '本机地址（loopback）'],
    ['http://api.localhost', 'test', '本机地址（loopback）'],
    ['http://[::1]:9000', 'test', '本机地址（loopback）'],
    ['http://0x7f000001', 'test', '本机地址（loopback）'],
    ['http://2130706433', 'test', '本机地址（loopback）'],
    ['http://169.254.169.254/latest/meta-data', 'test', '链路本地地址'],
    ['http://[fe80::1]', 'test', '链路本地地址'],
    ['http://10.0.0.5', 'test', '内网 IP 地址'],
    ['http://192.168.1.10:8080', 'test', '内网 IP 地址'],
    ['https://8.8.8.8', 'production', 'IP 地址'],
  ])('refuses WECOM_API_BASE=%s (NODE_ENV=%s): %s', (base, nodeEnv, message) => {
    const problems = envError({ ...WECOM, WECOM_API_BASE: base, NODE_ENV: nodeEnv });
    expect(problems).toContain('WECOM_API_BASE');
    expect(problems).toContain(message);
    expect(problems).toContain('https://qyapi.weixin.qq.com');
  });

  it('checks the DingTalk bases the same way, each against its own host', () => {
    expect(envError({ DINGTALK_API_BASE: 'http://169.254.169.254' })).toMatch(
      /^DINGTALK_API_BASE: .*链路本地/,
    );
    expect(envError({ DINGTALK_OAPI_BASE: 'https://api.dingtalk.com' })).toMatch(
      /^DINGTALK_OAPI_BASE: .*https:\/\/oapi\.dingtalk\.com/,
    );
    expect(
      envError({
        DINGTALK_API_BASE: 'https://api.dingtalk.com',
        DINGTALK_OAPI_BASE: 'https://oapi.dingtalk.com',
      }),
    ).toBe('');
  });

  it('accepts a loopback base only when it is exactly the configured emulator, in any NODE_ENV', () => {
    const emulator = 'http://127.0.0.1:9000';
    for (const NODE_ENV of ['development', 'test', 'production']) {
      expect(envError({ ...WECOM, NODE_ENV, WECOM_API_BASE: emulator, EMULATOR_URL: emulator })).toBe('');
    }
    // Another port, another loopback name, a path under it: same origin or nothing.
    expect(envError({ ...WECOM, WECOM_API_BASE: 'http://127.0.0.1:9001', EMULATOR_URL: emulator })).toContain(
      '本机地址',
    );
    expect(envError({ ...WECOM, WECOM_API_BASE: 'http://localhost:9000', EMULATOR_URL: emulator })).toContain(
      '本机地址',
    );
    expect(envError({ ...WECOM, WECOM_API_BASE: `${emulator}/prefix`, EMULATOR_URL: emulator })).toBe('');
  });

  it('refuses an EMULATOR_URL that is not on loopback (it must not become a hole in the list)', () => {
    for (const url of ['http://10.0.0.5:9000', 'http://169.254.169.254', 'https://evil.example.com']) {
      const problems = envError({ ...WECOM, WECOM_API_BASE: url, EMULATOR_URL: url });
      expect(problems).toContain('EMULATOR_URL: 模拟器必须在本机');
      expect(problems).toContain('WECOM_API_BASE');
    }
  });

  it('is a pure function too, for the clients and the docs', () => {
    expect(
      checkOutboundBase('WECOM_API_BASE', 'https://qyapi.weixin.qq.com', {
        emulatorUrl: undefined,
        production: true,
      }),
    ).toEqual([]);
  });
});

/** A loopback HTTP server recording what reaches it. */
async function recorder(handle: (req: http.IncomingMessage, res: http.ServerResponse) => void) {
  const seen: { method: string; url: string }[] = [];
  const server = http.createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '' });
    req.resume();
    req.on('end', () => handle(req, res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const logger = createLogging({ level: 'silent' }).logger;
const clock = createManualClock(new Date());

describe('no redirects, no webhook URLs', () => {
  it('a WeCom API answering with a redirect to an internal address is not followed: a permanent failure', async () => {
    const internal = await recorder((_req, res) => res.end('{"errcode":0}'));
    const api = await recorder((_req, res) => {
      res.statusCode = 302;
      res.setHeader('location', `${internal.url}/cgi-bin/gettoken?stolen=1`);
      res.end();
    });
    try {
      const settings = wecomSettings(
        parseEnv({ ...WECOM, WECOM_API_BASE: api.url, EMULATOR_URL: api.url, NODE_ENV: 'test' }),
      )!;
      const client = createWecomClient({ settings, clock, logger, timeoutMs: 2000 });
      const result = await client.sendMessage('{"touser":"WangLei","msgtype":"text","text":{"content":"x"}}');
      expect(result).toMatchObject({ ok: false, outcome: 'permanent' });
      expect(api.seen.length).toBeGreaterThan(0);
      expect(internal.seen).toEqual([]);
    } finally {
      await Promise.all([api.close(), internal.close()]);
    }
  });

  it('a DingTalk API answering with a redirect is not followed either', async () => {
    const internal = await recorder((_req, res) => res.end('{}'));
    const api = await recorder((_req, res) => {
      res.statusCode = 307;
      res.setHeader('location', `${internal.url}/v1.0/oauth2/accessToken`);
      res.end();
    });
    try {
      const settings = dingtalkSettings(
        parseEnv({
          DINGTALK_APP_KEY: 'dingkey',
          DINGTALK_APP_SECRET: 'dingsecret',
          DINGTALK_ROBOT_CODE: 'dingkey',
          DINGTALK_API_BASE: api.url,
          DINGTALK_OAPI_BASE: api.url,
          EMULATOR_URL: api.url,
        }),
      )!;
      const client = createDingtalkClient({ settings, clock, logger, timeoutMs: 2000 });
      const result = await client.callApi('robot/oToMessages/batchSend', '{}');
      expect(result.ok).toBe(false);
      expect(internal.seen).toEqual([]);
    } finally {
      await Promise.all([api.close(), internal.close()]);
    }
  });

  it('a robot webhook "key" that is really a URL still goes to the platform host, as an encoded key', async () => {
    const api = await recorder((_req, res) => res.end('{"errcode":0,"errmsg":"ok"}'));
    try {
      const settings = wecomSettings(parseEnv({ ...WECOM, WECOM_API_BASE: api.url, EMULATOR_URL: api.url }))!;
      const client = createWecomClient({ settings, clock, logger, timeoutMs: 2000 });
      const planted = 'http://169.254.169.254/latest/meta-data/?x=1#frag';
      await client.sendGroupRobot(planted, '{"msgtype":"text","text":{"content":"日报"}}');
      expect(api.seen).toHaveLength(1);
      const url = new URL(api.seen[0]!.url, api.url);
      expect(url.pathname).toBe('/cgi-bin/webhook/send');
      expect(url.searchParams.get('key')).toBe(planted);
    } finally {
      await api.close();
    }
  });

  it('a DingTalk custom robot access token that is really a URL stays a query value on the oapi host', async () => {
    const api = await recorder((_req, res) => res.end('{"errcode":0,"errmsg":"ok"}'));
    try {
      const settings = dingtalkSettings(
        parseEnv({
          DINGTALK_APP_KEY: 'dingkey',
          DINGTALK_APP_SECRET: 'dingsecret',
          DINGTALK_ROBOT_CODE: 'dingkey',
          DINGTALK_API_BASE: api.url,
          DINGTALK_OAPI_BASE: api.url,
          EMULATOR_URL: api.url,
        }),
      )!;
      const client = createDingtalkClient({ settings, clock, logger, timeoutMs: 2000 });
      const planted = 'http://127.0.0.1:1/steal?&x=';
      await client.sendCustomRobot(
        { accessToken: planted, secret: 'SECx' },
        '{"msgtype":"text","text":{"content":"x"}}',
      );
      expect(api.seen).toHaveLength(1);
      const url = new URL(api.seen[0]!.url, api.url);
      expect(url.pathname).toBe('/robot/send');
      expect(url.searchParams.get('access_token')).toBe(planted);
    } finally {
      await api.close();
    }
  });
});
