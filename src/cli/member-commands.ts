import type { Command } from 'commander';
import type { AvailabilityActor } from '../availability/authorize';
import { listAvailability, type MemberStatus, setAway, setBack } from '../availability/availability';
import { parseUntil, UNTIL_HINT } from '../availability/parse-until';
import { AppError, type FieldIssue } from '../lib/errors';
import { toLocal } from '../routing/local-time';
import type { CommandIo } from './key-commands';

/** The command line is run by whoever administers the deployment. */
const ADMIN: AvailabilityActor = { kind: 'admin', via: 'cli' };

const STATUS_LABELS: Record<MemberStatus, string> = { available: '在岗', away: '离开', inactive: '已停用' };

/** `2026-11-24 09:00` in the org's timezone: what the admin typed `--until` in. */
function formatLocal(at: Date, timeZone: string): string {
  const l = toLocal(timeZone, at);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${l.year}-${p(l.month)}-${p(l.day)} ${p(l.hour)}:${p(l.minute)}`;
}

/** A 422 from the domain carries its reasons in `issues`; on the command line they are the message. */
async function explained<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    const issues = error instanceof AppError ? (error.details.issues as FieldIssue[] | undefined) : undefined;
    if (issues) throw new Error(issues.map((i) => i.message).join('；'));
    throw error;
  }
}

/** `leadrelay members away|back|list`: who is away (leave, sick, travel) and how loaded everyone is. */
export function registerMemberCommands(program: Command, io: CommandIo): void {
  const members = program.command('members').description('成员在岗状态 / member availability');
  members
    .command('away <member>')
    .description('设置成员离开，期间不分配新线索 / mark a member away (no new leads until then)')
    .requiredOption(
      '--until <time>',
      '时长 3d / 4h，或 2026-11-25、2026-11-25 13:30（组织时区）、带时区的 ISO 时间',
    )
    .option('--reason <reason>', '原因，例如“年假”')
    .action((memberId: string, options: { until: string; reason?: string }) =>
      io.withRuntime(async ({ database, directory, org, clock }) => {
        const now = clock.now();
        const until = parseUntil(options.until, now, org.timezone);
        if (!until) throw new Error(`--until "${options.until}" 无法识别：${UNTIL_HINT}`);
        await explained(() =>
          setAway(
            { db: database.db, directory },
            { memberId, until, reason: options.reason ?? null, setBy: ADMIN, now },
          ),
        );
        const name = directory.member(memberId)!.name;
        io.out(
          `${name} (${memberId}) 离开至 ${formatLocal(until, org.timezone)} (${org.timezone})` +
            `${options.reason ? `，原因：${options.reason}` : ''}；期间不会分配新线索`,
        );
      }),
    );
  members
    .command('back <member>')
    .description('成员回到岗位，恢复分配 / mark a member back')
    .action((memberId: string) =>
      io.withRuntime(async ({ database, directory, clock }) => {
        const wasAway = await explained(() =>
          setBack({ db: database.db, directory }, { memberId, setBy: ADMIN, now: clock.now() }),
        );
        const name = directory.member(memberId)!.name;
        io.out(wasAway ? `${name} (${memberId}) 已回到岗位，恢复分配` : `${name} (${memberId}) 本来就在岗`);
      }),
    );
  members
    .command('list')
    .description('列出成员状态、离开截止时间和未结束线索数 / list status, away until and open leads')
    .action(() =>
      io.withRuntime(async ({ database, directory, org, clock }) => {
        const rows = await listAvailability({ db: database.db, org, directory }, clock.now());
        io.out('id\t姓名\t状态\t离开至\t未结束线索\t今日新分配\t团队');
        for (const m of rows) {
          const until = m.awayUntil ? formatLocal(m.awayUntil, org.timezone) : '-';
          const reason = m.reason ? `（${m.reason}）` : '';
          io.out(
            `${m.memberId}\t${m.name}\t${STATUS_LABELS[m.status]}${reason}\t${until}\t${m.openLeads}\t${m.assignedToday}\t${m.teams.join(',') || '-'}`,
          );
        }
      }),
    );
}
