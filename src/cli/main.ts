#!/usr/bin/env node
import { Command } from 'commander';
import { type Env, EnvError, parseEnv } from '../config/env';
import { formatConfigError, loadOrgConfig } from '../config/load-org-config';
import { ConfigError } from '../lib/errors';
import { createLogging } from '../lib/logger';
import { openRuntime, type Runtime } from '../runtime';
import { registerDigestCommands } from './digest-commands';
import { registerImportCommands } from './import-commands';
import { registerIntakeCommands } from './intake-commands';
import { registerKeyCommands } from './key-commands';
import { registerMemberCommands } from './member-commands';
import { registerPrivacyCommands } from './privacy-commands';

/**
 * `leadrelay`: the admin's command line. Every command opens the same runtime as the server (env,
 * org config, database), so what the CLI checks is what the server will do.
 */
export function buildCli(io: { out: (line: string) => void; env: () => Env }): Command {
  const program = new Command('leadrelay').description('LeadRelay 线索助手命令行').showHelpAfterError();
  const withRuntime = async <T>(fn: (runtime: Runtime) => Promise<T>, migrate = false): Promise<T> => {
    const env = io.env();
    // Commands print their own results; keep the JSON logs for warnings only.
    const runtime = await openRuntime({ env, migrate, logging: createLogging({ level: 'warn' }) });
    try {
      return await fn(runtime);
    } finally {
      await runtime.database.close();
    }
  };

  program
    .command('migrate')
    .description('创建数据库（如不存在）并执行全部迁移 / create the database and apply migrations')
    .action(() =>
      withRuntime(async () => {
        io.out('数据库迁移已完成 (migrations applied)');
      }, true),
    );

  const config = program.command('config').description('组织配置 / org config');
  config
    .command('check [file]')
    .description('校验组织配置文件 / validate the org config file')
    .action((file?: string) => {
      const path = file ?? io.env().LEADRELAY_CONFIG;
      const org = loadOrgConfig(path, process.env);
      io.out(
        `配置有效 (config OK): ${path} — ${org.teams.length} 个团队, ${org.members.length} 名成员, ${org.sources.length} 个来源`,
      );
    });

  registerKeyCommands(program, { out: io.out, withRuntime });
  registerIntakeCommands(program, { out: io.out, withRuntime });
  registerMemberCommands(program, { out: io.out, withRuntime });
  registerDigestCommands(program, { out: io.out, withRuntime });
  registerImportCommands(program, { out: io.out, withRuntime });
  registerPrivacyCommands(program, { out: io.out, withRuntime });
  return program;
}

export async function runCli(argv: string[]): Promise<number> {
  const program = buildCli({ out: (line) => console.log(line), env: () => parseEnv(process.env) });
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof ConfigError) console.error(formatConfigError(error));
    else if (error instanceof EnvError) console.error(error.message);
    else console.error(`错误: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

if (require.main === module) {
  runCli(process.argv).then((code) => process.exit(code));
}
