import type { Command } from 'commander';
import { erasePerson } from '../privacy/erase';
import type { PersonQuery } from '../privacy/person';
import { countExpiredLeads, purgeExpiredLeads } from '../privacy/purge';
import type { RemovalCounts } from '../privacy/remove-lead-data';
import type { CommandIo } from './key-commands';

/** One line per table, in a stable order: `leads: 1 deleted`, `inbox_events: 2 scrubbed`. */
function describeCounts(counts: RemovalCounts): string[] {
  return Object.keys(counts)
    .sort()
    .map((table) => {
      const { deleted, scrubbed } = counts[table]!;
      const parts = [
        ...(deleted > 0 ? [`${deleted} 条删除 (deleted)`] : []),
        ...(scrubbed > 0 ? [`${scrubbed} 条脱敏 (scrubbed)`] : []),
      ];
      return `${table}: ${parts.length > 0 ? parts.join(', ') : '0'}`;
    });
}

/**
 * `leadrelay privacy erase --phone … | --email … | --lead ID [--dry-run]`: a deletion request (PIPL
 * art. 47), every table; `leadrelay privacy purge [--dry-run]`: the retention purge now.
 */
export function registerPrivacyCommands(program: Command, io: CommandIo): void {
  const privacy = program.command('privacy').description('个人信息：删除请求与保留期 / personal data');
  privacy
    .command('erase')
    .description("删除一个人的全部数据（所有表）/ remove a person's data from every table")
    .option('--phone <phone>', '手机号 / phone')
    .option('--email <email>', '邮箱 / e-mail')
    .option('--lead <id>', '线索编号 / lead id')
    .option('--dry-run', '只统计，不删除 / count, change nothing')
    .action((options: { phone?: string; email?: string; lead?: string; dryRun?: boolean }) =>
      io.withRuntime(async ({ database, logging, clock }) => {
        const query: PersonQuery = {
          ...(options.phone !== undefined ? { phone: options.phone } : {}),
          ...(options.email !== undefined ? { email: options.email } : {}),
          ...(options.lead !== undefined ? { leadId: Number(options.lead) } : {}),
        };
        const result = await erasePerson(
          { db: database.db, logger: logging.logger, now: () => clock.now() },
          query,
          { dryRun: !!options.dryRun },
        );
        if (result.leadIds.length === 0) io.out('没有找到这个人的线索 (no lead of this person)');
        else io.out(`线索 (leads): ${result.leadIds.map((id) => `#${id}`).join(', ')}`);
        for (const line of describeCounts(result.counts)) io.out(line);
        io.out(result.dryRun ? '试运行：没有修改任何数据 (dry run: nothing changed)' : '已删除 (erased)');
      }),
    );
  privacy
    .command('purge')
    .description('立即匿名化超过保留期的线索 / anonymise leads past their retention date now')
    .option('--dry-run', '只统计 / count only')
    .action((options: { dryRun?: boolean }) =>
      io.withRuntime(async ({ database, org, logging, clock }) => {
        if (options.dryRun) {
          io.out(
            `超过保留期的线索 (leads past retention): ${await countExpiredLeads(database.db, org, clock.now())}`,
          );
          return;
        }
        let total = 0;
        for (;;) {
          const result = await purgeExpiredLeads({
            db: database.db,
            org,
            logger: logging.logger,
            now: () => clock.now(),
          });
          total += result.leadIds.length;
          for (const line of describeCounts(result.counts)) io.out(line);
          if (!result.more) break;
        }
        io.out(`已匿名化 ${total} 条线索 (anonymised ${total} leads)`);
      }),
    );
}
