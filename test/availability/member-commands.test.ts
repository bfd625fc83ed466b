import { Command } from 'commander';
import { registerMemberCommands } from '../../src/cli/member-commands';
import { parseEnv } from '../../src/config/env';
import { memberAvailability } from '../../src/db/schema';
import { createManualClock } from '../../src/lib/clock';
import { createLogging } from '../../src/lib/logger';
import { assembleRuntime, type Runtime } from '../../src/runtime';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db';
import { insertLead, parseOrg } from '../routing/routing-fixtures';

let database: TestDatabase;
let runtime: Runtime;
const clock = createManualClock('2026-11-21T01:00:00.000Z');

beforeAll(async () => {
  database = await createTestDatabase();
  runtime = assembleRuntime({
    env: parseEnv({ DATABASE_URL: database.url, LOG_LEVEL: 'silent' }),
    org: parseOrg(),
    logging: createLogging({ level: 'silent' }),
    clock,
    database,
  });
});
afterAll(async () => {
  await database.drop();
});
beforeEach(async () => {
  await database.db.delete(memberAvailability);
});

/** The commands as main.ts registers them, on the test's runtime (main.ts closes its own). */
async function run(args: string[]): Promise<string[]> {
  const lines: string[] = [];
  const program = new Command('leadrelay').exitOverride().configureOutput({ writeErr: () => undefined });
  registerMemberCommands(program, { out: (line) => lines.push(line), withRuntime: (fn) => fn(runtime) });
  await program.parseAsync(args, { from: 'user' });
  return lines;
}

describe('leadrelay members', () => {
  it('away, list and back', async () => {
    expect(await run(['members', 'away', 'b', '--until', '2026-11-25', '--reason', '年假'])).toEqual([
      '成员b (b) 离开至 2026-11-25 00:00 (Asia/Shanghai)，原因：年假；期间不会分配新线索',
    ]);
    await run(['members', 'away', 'c', '--until', '3d']);
    await insertLead(database.db, { ownerId: 'a', stage: 'contacted' });

    const list = await run(['members', 'list']);
    expect(list[0]).toBe('id\t姓名\t状态\t离开至\t未结束线索\t今日新分配\t团队');
    expect(list).toEqual(
      expect.arrayContaining([
        'a\t成员a\t在岗\t-\t1\t0\teast',
        'b\t成员b\t离开（年假）\t2026-11-25 00:00\t0\t0\teast',
        'c\t成员c\t离开\t2026-11-24 09:00\t0\t0\teast',
        'd\t成员d\t已停用\t-\t0\t0\teast',
      ]),
    );

    expect(await run(['members', 'back', 'b'])).toEqual(['成员b (b) 已回到岗位，恢复分配']);
    expect(await run(['members', 'back', 'b'])).toEqual(['成员b (b) 本来就在岗']);
    const [row] = (await database.db.select().from(memberAvailability)).filter((r) => r.memberId === 'b');
    expect(row).toMatchObject({ awayUntil: null, setBy: 'admin:cli' });
  });

  it('explains what is wrong', async () => {
    await expect(run(['members', 'away', 'b', '--until', 'soon'])).rejects.toThrow(
      /--until "soon" 无法识别：应为时长/,
    );
    await expect(run(['members', 'away', 'b', '--until', '2026-01-01'])).rejects.toThrow(
      '离开截止时间必须晚于当前时间',
    );
    await expect(run(['members', 'away', 'ghost', '--until', '3d'])).rejects.toThrow('成员 "ghost" 不存在');
    await expect(run(['members', 'away', 'b'])).rejects.toThrow(/--until/);
    expect(await database.db.select().from(memberAvailability)).toEqual([]);
  });
});
