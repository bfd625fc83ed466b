import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { buildCli } from '../../src/cli/main';
import { parseEnv } from '../../src/config/env';
import { leads, rejectedPayloads, sourceApiKeys } from '../../src/db/schema';
import { storeRejectedPayload } from '../../src/leads/rejected-payloads';
import { ConfigError } from '../../src/lib/errors';
import { hashApiKey } from '../../src/sources/api-keys';
import { FIXTURE_ORG } from '../helpers/test-app';
import { createTestDatabase, type TestDatabase, testServerUrl } from '../helpers/test-db';

let database: TestDatabase;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'leadrelay-cli-'));

async function run(args: string[], envOverrides: Record<string, string> = {}): Promise<string[]> {
  const lines: string[] = [];
  const cli = buildCli({
    out: (line) => lines.push(line),
    env: () => parseEnv({ DATABASE_URL: database.url, LEADRELAY_CONFIG: FIXTURE_ORG, ...envOverrides }),
  });
  await cli.parseAsync(args, { from: 'user' });
  return lines;
}

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.drop();
});

describe('leadrelay migrate', () => {
  it('creates a missing database and applies the migrations', async () => {
    const name = `${process.env.LEADRELAY_TEST_RUN}_climigrate`;
    const url = new URL(name, testServerUrl()).toString();
    expect(await run(['migrate'], { DATABASE_URL: url })).toEqual(['数据库迁移已完成 (migrations applied)']);
    const [rows] = await database.pool.query(`SELECT COUNT(*) AS n FROM \`${name}\`.leads`);
    expect((rows as { n: number }[])[0]!.n).toBe(0);
    await database.pool.query(`DROP DATABASE \`${name}\``);
  });
});

describe('leadrelay config check', () => {
  it('accepts a valid file and summarises it', async () => {
    expect(await run(['config', 'check', FIXTURE_ORG])).toEqual([
      `配置有效 (config OK): ${FIXTURE_ORG} — 1 个团队, 3 名成员, 2 个来源`,
    ]);
  });

  it('names the JSON path and the rule of every problem in a bad file', async () => {
    const bad = path.join(tmp, 'bad.jsonc');
    writeFileSync(
      bad,
      JSON.stringify({
        members: [{ id: 'a', name: 'A', platforms: {} }],
        teams: [{ id: 't', name: 'T', supervisor: 'ghost', members: ['a'] }],
        sources: [],
      }),
    );
    const error = await run(['config', 'check', bad]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    const paths = (error as ConfigError).problems.map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining(['/members/0/platforms', '/teams/0/supervisor']));
  });
});

describe('leadrelay keys', () => {
  it('prints a new key once and stores only its hash', async () => {
    const [key, note] = await run(['keys', 'create', 'website', '--label', '官网']);
    expect(key).toMatch(/^lr_[A-Za-z0-9_-]{43}$/);
    expect(note).toContain('只显示这一次');
    const rows = await database.db
      .select()
      .from(sourceApiKeys)
      .where(eq(sourceApiKeys.keyHash, hashApiKey(key!)));
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(key);
    const listed = await run(['keys', 'list']);
    expect(listed.join('\n')).toContain(`website\t${key!.slice(0, 10)}…\t有效\t官网`);
    expect(listed.join('\n')).not.toContain(key);
  });

  it('refuses a source that is not in the org config, listing the ones that are', async () => {
    await expect(run(['keys', 'create', 'tiktok'])).rejects.toThrow('可用的来源：website, baidu');
  });

  it('revokes a key', async () => {
    await run(['keys', 'create', 'baidu']);
    const [row] = await database.db.select().from(sourceApiKeys).where(eq(sourceApiKeys.sourceId, 'baidu'));
    expect(await run(['keys', 'revoke', String(row!.id)])).toEqual([expect.stringContaining('已吊销')]);
    await expect(run(['keys', 'revoke', String(row!.id)])).rejects.toThrow('没有有效的密钥');
  });
});

describe('leadrelay keys signing-secret', () => {
  it('prints a fresh whsec_ secret that sources[].signing accepts, and the config refuses a malformed one', async () => {
    const [secret, hint] = await run(['keys', 'signing-secret']);
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(hint).toContain('sources[].signing.secrets');
    expect((await run(['keys', 'signing-secret']))[0]).not.toBe(secret);
    const fixture = require('node:fs').readFileSync(FIXTURE_ORG, 'utf8') as string;
    const withSigning = (secrets: string[]) => {
      const file = path.join(tmp, `signing-${secrets.length}-${secrets[0]!.length}.jsonc`);
      writeFileSync(
        file,
        fixture.replace(
          '"channel": "search_ads" }',
          `"channel": "search_ads", "signing": { "secrets": ${JSON.stringify(secrets)} } }`,
        ),
      );
      return file;
    };
    const good = withSigning([secret!]);
    expect((await run(['config', 'check', good]))[0]).toContain('配置有效');
    const error = await run(['config', 'check', withSigning(['hunter2'])]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.path)).toContain('/sources/1/signing/secrets/0');
  });
});

describe('leadrelay intake', () => {
  it('lists, shows, edits and replays a refused payload into a lead', async () => {
    const id = await storeRejectedPayload(database.db, {
      sourceId: 'website',
      reasonCode: 'validation_failed',
      issues: [{ path: 'phone', message: '至少需要手机号、邮箱或微信号之一' }],
      contentType: 'application/json',
      idempotencyKey: null,
      requestId: null,
      body: Buffer.from('{"name":"回放客户"}'),
      now: new Date('2026-11-21T01:00:00Z'),
    });
    expect((await run(['intake', 'list'])).join('\n')).toContain(
      `#${id}\t2026-11-21T01:00:00.000Z\twebsite\tvalidation_failed\tphone`,
    );
    expect(await run(['intake', 'show', String(id)])).toContain('{"name":"回放客户"}');

    // Replaying the unfixed payload records that it is still refused.
    const still = await run(['intake', 'replay', String(id)]);
    expect(still[0]).toContain(`#${id} 仍被拒绝 (validation_failed)`);

    const fixed = path.join(tmp, 'fixed.json');
    writeFileSync(fixed, '{"name":"回放客户","phone":"13800138000"}');
    await run(['intake', 'edit', String(id), fixed]);
    const replayed = await run(['intake', 'replay', String(id)]);
    expect(replayed[0]).toMatch(new RegExp(`^#${id} 已重放 → 线索 \\d+（新建）$`));
    expect(replayed[1]).toBe('共 1 条：1 条成功，0 条仍被拒绝');

    const [row] = await database.db.select().from(rejectedPayloads).where(eq(rejectedPayloads.id, id));
    expect(row).toMatchObject({ status: 'replayed', replayCount: 2 });
    const [lead] = await database.db.select().from(leads).where(eq(leads.id, row!.leadId!));
    expect(lead).toMatchObject({ name: '回放客户', phone: '+8613800138000', sourceId: 'website' });
    await expect(run(['intake', 'replay', String(id)])).rejects.toThrow('没有待处理的被拒载荷');
  });

  it('replays every pending payload with --all and discards on request', async () => {
    const store = (body: string) =>
      storeRejectedPayload(database.db, {
        sourceId: 'baidu',
        reasonCode: 'malformed_json',
        issues: [],
        contentType: 'application/json',
        idempotencyKey: null,
        requestId: null,
        body: Buffer.from(body),
        now: new Date('2026-11-21T02:00:00Z'),
      });
    await store('{"email":"all-1@a.cn"}');
    const bad = await store('{"email":');
    const drop = await store('{"email":"drop@a.cn"}');
    await run(['intake', 'discard', String(drop)]);
    const out = await run(['intake', 'replay', '--all']);
    expect(out.at(-1)).toBe('共 2 条：1 条成功，1 条仍被拒绝');
    expect(out.join('\n')).toContain(`#${bad} 仍被拒绝 (malformed_json)`);
  });
});
