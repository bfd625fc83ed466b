import { EnvError } from './config/env';
import { formatConfigError } from './config/load-org-config';
import { ConfigError } from './lib/errors';
import { openRuntime } from './runtime';
import { createServerMetrics, startServer } from './server';

/**
 * Composition root: env → org config → database (created and migrated) → app → listen → signals.
 * SIGTERM/SIGINT drain in-flight requests, then close the pool (RELIABILITY.md "Time" 4).
 */
async function main(): Promise<void> {
  const runtime = await openRuntime({ migrate: true });
  const { logger } = runtime.logging;
  const running = await startServer(runtime, {
    port: runtime.env.PORT,
    host: runtime.env.HOST,
    metrics: createServerMetrics(runtime, { processMetrics: true }),
  });
  logger.info(
    { url: running.url, teams: runtime.org.teams.length, sources: runtime.org.sources.length },
    'LeadRelay 已启动',
  );

  const shutdown = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    running.stop().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (error) => {
        logger.error({ err: error }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) console.error(formatConfigError(error));
  else if (error instanceof EnvError) console.error(error.message);
  else console.error(`LeadRelay 启动失败：${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
