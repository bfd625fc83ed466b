import { z } from 'zod';

/**
 * The process environment, parsed once at start into one frozen object (the composition root passes
 * it on; nothing else reads `process.env`). Unknown variables are ignored; a bad value stops start-up
 * with the variable's name.
 */
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const bytes = (fallback: number) =>
  z.coerce
    .number()
    .int()
    .min(1024)
    .max(10 * 1024 * 1024)
    .default(fallback);

export const envSchema = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^mysql:\/\//, '必须是 mysql:// 开头的连接串')
    .default('mysql://root@127.0.0.1:3306/leadrelay'),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  LEADRELAY_CONFIG: z.string().default('config/leadrelay.example.jsonc'),
  ADMIN_API_KEY: z.string().min(16, 'ADMIN_API_KEY 至少 16 个字符').optional(),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  /** Body cap of the intake API, in bytes. */
  INTAKE_MAX_BYTES: bytes(64 * 1024),
  /** How long an API key lookup is cached per instance; revocation takes effect within this. */
  API_KEY_CACHE_SECONDS: z.coerce.number().int().min(0).max(3600).default(30),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(120_000).default(10_000),
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
});

export type Env = Readonly<z.infer<typeof envSchema>>;

export class EnvError extends Error {
  constructor(readonly problems: string[]) {
    super(`环境变量有误:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'EnvError';
  }
}

export function parseEnv(source: Record<string, string | undefined>): Env {
  // Empty strings mean "unset": docker-compose and .env files produce them for blank lines.
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const result = envSchema.safeParse(cleaned);
  if (!result.success) {
    throw new EnvError(result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  return Object.freeze(result.data);
}
