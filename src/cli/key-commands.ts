import type { Command } from 'commander';
import type { Runtime } from '../runtime';
import { createApiKey, listApiKeys, revokeApiKey } from '../sources/api-keys';
import { generateSigningSecret } from '../sources/webhook-signature';

export interface CommandIo {
  out: (line: string) => void;
  withRuntime: <T>(fn: (runtime: Runtime) => Promise<T>, migrate?: boolean) => Promise<T>;
}

/** `leadrelay keys create|list|revoke`: API keys of lead sources (shown once, stored hashed). */
export function registerKeyCommands(program: Command, io: CommandIo): void {
  const keys = program.command('keys').description('线索来源 API 密钥 / source API keys');
  keys
    .command('create <source>')
    .description('为来源生成新密钥（只显示一次）/ create a key for a source (shown once)')
    .option('--label <label>', '备注，例如“官网表单 2026”')
    .action((source: string, options: { label?: string }) =>
      io.withRuntime(async ({ org, database, clock }) => {
        if (!org.sources.some((s) => s.id === source)) {
          throw new Error(
            `来源 "${source}" 不在组织配置中；可用的来源：${org.sources.map((s) => s.id).join(', ')}`,
          );
        }
        const created = await createApiKey(database.db, {
          sourceId: source,
          label: options.label,
          now: clock.now(),
        });
        io.out(created.key);
        io.out(`# 已为来源 ${source} 创建密钥 #${created.id}。请立即保存：密钥只显示这一次，库中只存哈希。`);
      }, true),
    );
  keys
    .command('list')
    .description('列出密钥（不含密钥本身）/ list keys')
    .action(() =>
      io.withRuntime(async ({ database }) => {
        for (const k of await listApiKeys(database.db)) {
          const state = k.revokedAt ? `已吊销 ${k.revokedAt.toISOString()}` : '有效';
          io.out(`#${k.id}\t${k.sourceId}\t${k.prefix}…\t${state}\t${k.label ?? ''}`);
        }
      }),
    );
  keys
    .command('signing-secret')
    .description(
      '生成 Standard Webhooks 签名密钥 (whsec_…) / generate a signing secret for sources[].signing',
    )
    .action(() => {
      io.out(generateSigningSecret());
      io.out(
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the org config's ${ENV} syntax, printed literally.
        '# 把它交给发送方，并写进组织配置 sources[].signing.secrets（建议经环境变量，例如 "${WEBSITE_SIGNING_SECRET}"）；轮换时两个密钥并列。',
      );
    });
  keys
    .command('revoke <id>')
    .description('吊销密钥 / revoke a key')
    .action((id: string) =>
      io.withRuntime(async ({ database, clock }) => {
        const done = await revokeApiKey(database.db, Number(id), clock.now());
        if (!done) throw new Error(`没有有效的密钥 #${id}`);
        io.out(`密钥 #${id} 已吊销（各实例的缓存最多 API_KEY_CACHE_SECONDS 秒后生效）`);
      }),
    );
}
