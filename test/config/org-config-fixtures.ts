import { createOrgConfigValidator, parseOrgConfig } from '../../src/config/load-org-config';
import { ConfigError } from '../../src/lib/errors';

/** Shared by the org-config tests: a small valid config that each test breaks in one place. */

export const validator = createOrgConfigValidator();
export type Env = Record<string, string | undefined>;
export type Doc = Record<string, unknown> & {
  members: Record<string, unknown>[];
  teams: Record<string, unknown>[];
  sources: Record<string, unknown>[];
};

/** A small valid config; each test breaks one thing. */
export function doc(): Doc {
  return {
    members: [
      { id: 'zhang_san', name: '张三', platforms: { wecom: 'ZhangSan' } },
      { id: 'li_si', name: '李四', platforms: { dingtalk: '0421583926174561' } },
      { id: 'wang_wu', name: '王五', platforms: { wecom: 'WangWu', dingtalk: '0421583926174578' } },
    ],
    teams: [{ id: 'east', name: '华东大区', supervisor: 'zhang_san', members: ['li_si', 'wang_wu'] }],
    sources: [{ id: 'baidu', name: '百度推广', channel: 'search_ads' }],
  };
}

export const text = (input: Doc | string) =>
  typeof input === 'string' ? input : JSON.stringify(input, null, 2);
export const parse = (input: Doc | string, env: Env = {}) =>
  parseOrgConfig(text(input), 'org.jsonc', env, validator);

export function problemsOf(input: Doc | string, env: Env = {}): string[] {
  try {
    parse(input, env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => `${p.path}: ${p.message}`);
    throw err;
  }
  throw new Error('expected a ConfigError');
}
