import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import {
  discardRejectedPayload,
  getRejectedPayload,
  listRejectedPayloads,
  type ReplayResult,
  replaceRejectedBody,
  replayAllPending,
  replayRejectedPayload,
} from '../leads/rejected-payloads';
import { leadDepsOf } from '../runtime';
import type { CommandIo } from './key-commands';

function describe(result: ReplayResult): string {
  if (result.outcome === 'rejected') {
    return `#${result.id} 仍被拒绝 (${result.reasonCode}): ${result.issues.map((i) => `${i.path || '/'} ${i.message}`).join('; ')}`;
  }
  return `#${result.id} 已重放 → 线索 ${result.leadId}（${result.outcome === 'created' ? '新建' : '合并'}）`;
}

/** `leadrelay intake list|show|edit|replay|discard`: refused payloads, fixed and replayed. */
export function registerIntakeCommands(program: Command, io: CommandIo): void {
  const intake = program.command('intake').description('被拒绝的线索载荷 / rejected intake payloads');
  intake
    .command('list')
    .option('--status <status>', 'pending | replayed | discarded', 'pending')
    .option('--limit <n>', '最多条数', '100')
    .action((options: { status: string; limit: string }) =>
      io.withRuntime(async ({ database }) => {
        const rows = await listRejectedPayloads(database.db, {
          status: options.status,
          limit: Number(options.limit),
        });
        if (rows.length === 0) io.out(`没有状态为 ${options.status} 的被拒载荷`);
        for (const r of rows) {
          const first = r.issues[0];
          io.out(
            `#${r.id}\t${r.receivedAt.toISOString()}\t${r.sourceId}\t${r.reasonCode}\t${first ? `${first.path} ${first.message}` : ''}${r.issues.length > 1 ? ` (+${r.issues.length - 1})` : ''}`,
          );
        }
      }),
    );
  intake
    .command('show <id>')
    .description('显示载荷原文和拒绝原因 / print the payload and why it was refused')
    .action((id: string) =>
      io.withRuntime(async ({ database }) => {
        const row = await getRejectedPayload(database.db, Number(id));
        if (!row) throw new Error(`没有被拒载荷 #${id}`);
        io.out(`# #${row.id} ${row.status} ${row.sourceId} ${row.reasonCode}`);
        for (const issue of row.issues) io.out(`# ${issue.path || '/'}: ${issue.message}`);
        io.out(row.body.toString('utf8'));
      }),
    );
  intake
    .command('edit <id> <file>')
    .description('用修正后的 JSON 文件替换载荷 / replace the payload with a corrected JSON file')
    .action((id: string, file: string) =>
      io.withRuntime(async ({ database, clock }) => {
        await replaceRejectedBody(database.db, Number(id), readFileSync(file), clock.now());
        io.out(`#${id} 的载荷已替换；运行 leadrelay intake replay ${id} 重新提交`);
      }),
    );
  intake
    .command('replay [ids...]')
    .description('重新提交被拒载荷 / re-submit rejected payloads')
    .option('--all', '全部待处理载荷 / every pending payload')
    .action((ids: string[], options: { all?: boolean }) =>
      io.withRuntime(async (runtime) => {
        const deps = leadDepsOf(runtime);
        if (!options.all && ids.length === 0) throw new Error('请给出载荷编号，或使用 --all');
        const results = options.all
          ? await replayAllPending(deps)
          : await Promise.all(ids.map((id) => replayRejectedPayload(deps, Number(id))));
        for (const result of results) io.out(describe(result));
        const ok = results.filter((r) => r.outcome !== 'rejected').length;
        io.out(`共 ${results.length} 条：${ok} 条成功，${results.length - ok} 条仍被拒绝`);
      }),
    );
  intake
    .command('discard <id>')
    .description('放弃一条被拒载荷 / discard a rejected payload')
    .action((id: string) =>
      io.withRuntime(async ({ database, clock }) => {
        if (!(await discardRejectedPayload(database.db, Number(id), clock.now())))
          throw new Error(`没有待处理的被拒载荷 #${id}`);
        io.out(`#${id} 已放弃`);
      }),
    );
}
