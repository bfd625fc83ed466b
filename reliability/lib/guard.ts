import { spawn } from 'node:child_process';

/**
 * A watchdog that outlives the suite only if the suite dies without cleaning up (SIGKILL, OOM): it
 * polls the suite's pid, then kills the private mariadbd (by its pid file, if it still is a mariadbd)
 * and removes the suite's temporary directories. Node children stop by themselves when their stdin
 * closes; mariadbd does not watch stdin, hence this.
 */
export function startGuard(options: { pidFile: string; dirs: string[] }): { stop(): void } {
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const script = [
    `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done`,
    `if [ -f ${quote(options.pidFile)} ]; then p=$(cat ${quote(options.pidFile)});`,
    `  if [ "$(cat /proc/$p/comm 2>/dev/null)" = mariadbd ]; then kill -9 "$p"; fi; fi`,
    'sleep 1',
    ...options.dirs.map((d) => `rm -rf ${quote(d)}`),
  ].join('\n');
  const child = spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' });
  child.unref();
  return {
    stop() {
      try {
        if (child.pid) process.kill(child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    },
  };
}
