import type { Command } from 'commander';
import { buildDigest, type DigestKind, digestPeriod, sendDigest, sendTimeForDate } from '../reports/digest';
import { leadDepsOf } from '../runtime';
import type { CommandIo } from './key-commands';

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * `leadrelay digest --team east --date 2026-11-21 [--weekly] [--dry-run]`: prints a team's digest
 * for that day (or the week containing it), or queues it for the team's group robot, once per period
 * like the scheduled one (a running server's outbox sends it).
 */
export function registerDigestCommands(program: Command, io: CommandIo): void {
  program
    .command('digest')
    .description('团队战报：打印或发送某天（或某周）的战报 / print or send a team digest')
    .requiredOption('--team <team>', '团队 id')
    .option('--date <date>', '日期 YYYY-MM-DD（默认昨天）')
    .option('--weekly', '周报：包含该日期的那一周（周一至周日）')
    .option('--dry-run', '只打印，不发送')
    .action((options: { team: string; date?: string; weekly?: boolean; dryRun?: boolean }) =>
      io.withRuntime(async (runtime) => {
        const team = runtime.org.teams.find((t) => t.id === options.team);
        if (!team) {
          throw new Error(
            `团队 "${options.team}" 不在组织配置中；可用的团队：${runtime.org.teams.map((t) => t.id).join(', ')}`,
          );
        }
        if (options.date !== undefined && !DATE.test(options.date))
          throw new Error(`--date "${options.date}" 应为 YYYY-MM-DD，例如 2026-11-21`);
        const kind: DigestKind = options.weekly ? 'weekly' : 'daily';
        const at = options.date ? sendTimeForDate(kind, team.timezone, options.date) : runtime.clock.now();
        const deps = leadDepsOf(runtime);
        if (options.dryRun) {
          const { period, periodKey } = digestPeriod(kind, team.timezone, at);
          const digest = await buildDigest(deps, { team, kind, period, periodKey });
          io.out(digest.markdown);
          io.out(`\n（漏斗图 PNG ${digest.png.length} 字节；--dry-run 未发送）`);
          return;
        }
        const outcome = await sendDigest(deps, { team, kind, at, instance: 'cli' });
        const messages: Record<string, string> = {
          sent: '已排队发送到团队群（由运行中的服务发出）',
          already_sent: '该时段的战报已经发过了，不再重复发送',
          no_robot: `团队 ${team.id} 没有配置群机器人（teams[].digest.robot.wecom），请先配置或用 --dry-run 查看`,
          disabled: `团队 ${team.id} 关闭了战报（teams[].digest.enabled: false）`,
          no_platform: '没有配置企业微信（WECOM_*），无法发送',
        };
        io.out(messages[outcome] ?? outcome);
        if (outcome !== 'sent' && outcome !== 'already_sent') process.exitCode = 1;
      }),
    );
}
