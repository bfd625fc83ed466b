import { isIP } from 'node:net';

/**
 * The allow-list of outbound API bases (RELIABILITY.md "Outbound delivery" 5). Every URL LeadRelay
 * calls is built from one of these bases plus a fixed path (robot webhook keys and access tokens are
 * query values, never URLs), and the clients never follow redirects, so checking the bases at start
 * is what keeps the app secret, the corp secret and the customers' data from going anywhere else:
 *
 * - a base is one of its platform's own hosts, over https, on the default port; or
 * - it is exactly the origin of `EMULATOR_URL`, the bundled emulator (demo, tests, benchmarks), which
 *   must itself be on loopback: the one address an operator sets on purpose, twice.
 *
 * Anything else (an IP literal, loopback, a link-local or private address, another host, http to a
 * platform host in production) stops the start with the variable's name and what is allowed.
 */
export const PLATFORM_HOSTS = {
  WECOM_API_BASE: ['qyapi.weixin.qq.com'],
  DINGTALK_API_BASE: ['api.dingtalk.com'],
  DINGTALK_OAPI_BASE: ['oapi.dingtalk.com'],
} as const;

export type OutboundBaseName = keyof typeof PLATFORM_HOSTS;

/** The host without IPv6 brackets, lower case. */
function bareHost(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
}

/** 127.0.0.0/8, ::1, `localhost` (and its subdomains), and IPv4-mapped loopback. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || /^::ffff:127\./.test(h) || h === '0:0:0:0:0:0:0:1';
  return false;
}

/** What kind of address a host is, for a precise refusal. */
function describeHost(host: string): string {
  if (isLoopbackHost(host)) return '本机地址（loopback）';
  const version = isIP(host);
  if (version === 4) {
    if (host.startsWith('169.254.')) return '链路本地地址（169.254.0.0/16，如云元数据服务）';
    if (/^(?:10\.|192\.168\.|172\.(?:1[6-9]|2\d|3[01])\.|0\.)/.test(host)) return '内网 IP 地址';
    return 'IP 地址';
  }
  if (version === 6) {
    if (/^fe[89ab]/i.test(host)) return '链路本地地址（fe80::/10）';
    if (/^f[cd]/i.test(host)) return '内网 IP 地址（fc00::/7）';
    return 'IP 地址';
  }
  return `主机 ${host}`;
}

/**
 * Problems with `EMULATOR_URL` itself: it must be an http(s) origin on loopback (the emulator runs
 * next to LeadRelay; pointing it elsewhere would turn the exception into a hole in the allow-list).
 */
export function checkEmulatorUrl(value: string | undefined): string[] {
  if (value === undefined) return [];
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return ['EMULATOR_URL: 不是合法的 URL'];
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return ['EMULATOR_URL: 必须是 http(s) 地址'];
  if (!isLoopbackHost(bareHost(url))) {
    return [
      `EMULATOR_URL: 模拟器必须在本机（127.0.0.1、::1 或 localhost），得到 ${describeHost(bareHost(url))}；它只用于演示、测试和基准`,
    ];
  }
  return [];
}

/** Problems with one API base, in words that name the variable and what it may be. */
export function checkOutboundBase(
  name: OutboundBaseName,
  value: string,
  options: { emulatorUrl: string | undefined; production: boolean },
): string[] {
  const allowed = PLATFORM_HOSTS[name];
  const expected = `https://${allowed.join(' 或 https://')}`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return [`${name}: 不是合法的 URL`];
  }
  const hint = `只允许 ${expected}（演示和测试时可指向 EMULATOR_URL 配置的本机模拟器）`;
  if (url.username || url.password || url.search || url.hash) {
    return [`${name}: 不能带账号、查询参数或锚点：${hint}`];
  }
  if (options.emulatorUrl !== undefined && checkEmulatorUrl(options.emulatorUrl).length === 0) {
    if (url.origin === new URL(options.emulatorUrl).origin) return [];
  }
  const host = bareHost(url);
  if (!(allowed as readonly string[]).includes(host)) {
    return [`${name}: 不能指向${describeHost(host)}：${hint}`];
  }
  if (url.port !== '') return [`${name}: 不能指定端口 ${url.port}：${hint}`];
  if (url.protocol !== 'https:' && options.production) {
    return [`${name}: 生产环境必须使用 https：${hint}`];
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return [`${name}: 必须是 https 地址`];
  return [];
}

/** Every problem with the outbound bases of an environment (the values env.ts parsed). */
export function checkOutboundUrls(env: {
  NODE_ENV: string;
  EMULATOR_URL?: string | undefined;
  WECOM_API_BASE: string;
  DINGTALK_API_BASE: string;
  DINGTALK_OAPI_BASE: string;
}): string[] {
  const options = { emulatorUrl: env.EMULATOR_URL, production: env.NODE_ENV === 'production' };
  return [
    ...checkEmulatorUrl(env.EMULATOR_URL),
    ...(Object.keys(PLATFORM_HOSTS) as OutboundBaseName[]).flatMap((name) =>
      checkOutboundBase(name, env[name], options),
    ),
  ];
}
