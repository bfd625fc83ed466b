import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';

export const REPO_ROOT = path.resolve(__dirname, '../..');
/** The key of the JSON line a child prints on stdout once it listens: `{"reliabilityChildUrl": …}`. */
export const READY_KEY = 'reliabilityChildUrl';

export interface ManagedChildOptions {
  /** For logs: `instance-1`, `emulator`. */
  name: string;
  /** A TypeScript script, run as `node --import tsx <script>`; or a compiled one (`node <script>.js`). */
  script: string;
  /**
   * For a child that does not announce itself (the compiled server, src/main.ts as deployed): it is
   * ready when this URL answers 200, and its URL is the origin of this one.
   */
  readyUrl?: string;
  env: Record<string, string>;
  /** stdout and stderr of every start are appended here. */
  logFile: string;
  startTimeoutMs?: number;
}

/**
 * A child process the suites start, kill (SIGKILL), pause (SIGSTOP/SIGCONT), stop gracefully (SIGTERM)
 * and start again with the same environment, as a process supervisor would. The child announces its
 * URL with one JSON line on stdout (`announce` in lib/announce.ts) and stops when its stdin closes, so
 * it never outlives the suite.
 */
export class ManagedChild {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private readonly log: WriteStream;
  url = '';
  starts = 0;
  paused = false;

  constructor(readonly options: ManagedChildOptions) {
    this.log = createWriteStream(options.logFile, { flags: 'a' });
  }

  get name(): string {
    return this.options.name;
  }

  get pid(): number | null {
    return this.running ? (this.child?.pid ?? null) : null;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the child and resolves with the URL it announces. */
  async start(): Promise<string> {
    if (this.running) throw new Error(`${this.name} is already running`);
    this.starts++;
    this.paused = false;
    const args = this.options.script.endsWith('.js')
      ? [this.options.script]
      : ['--import', 'tsx', this.options.script];
    const child = spawn(process.execPath, args, {
      cwd: REPO_ROOT,
      env: { ...process.env, ...this.options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child = child;
    const spawnedAt = Date.now();
    this.log.write(`--- ${new Date().toISOString()} start #${this.starts} pid ${child.pid}\n`);
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.log.write(
          `--- ${new Date().toISOString()} pid ${child.pid} exited code ${code} signal ${signal}\n`,
        );
        resolve();
      }),
    );
    child.stderr!.pipe(this.log, { end: false });
    // A closed pipe (the child was killed) must not crash the suite.
    child.stdin!.on('error', () => undefined);
    const timeoutMs = this.options.startTimeoutMs ?? 60_000;
    if (this.options.readyUrl) {
      child.stdout!.pipe(this.log, { end: false });
      this.url = await this.pollReady(this.options.readyUrl, timeoutMs, spawnedAt);
      return this.url;
    }
    this.url = await new Promise<string>((resolve, reject) => {
      let found = false;
      const timer = setTimeout(() => {
        reject(new Error(`${this.name} did not announce its URL within ${timeoutMs} ms`));
      }, timeoutMs);
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (!found && line.includes(`"${READY_KEY}"`)) {
          const url = (JSON.parse(line) as Record<string, unknown>)[READY_KEY];
          if (typeof url === 'string') {
            found = true;
            clearTimeout(timer);
            this.log.write(`--- announced ${url} after ${Date.now() - spawnedAt} ms\n`);
            resolve(url);
            return;
          }
        }
        this.log.write(`${line}\n`);
      });
      void this.exited.then(() => {
        clearTimeout(timer);
        if (!found)
          reject(new Error(`${this.name} exited before announcing its URL (log: ${this.options.logFile})`));
      });
    });
    return this.url;
  }

  private async pollReady(readyUrl: string, timeoutMs: number, spawnedAt: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.running)
        throw new Error(`${this.name} exited before it was ready (log: ${this.options.logFile})`);
      const ok = await fetch(readyUrl, { signal: AbortSignal.timeout(1000) }).then(
        (res) => res.status === 200,
        () => false,
      );
      if (ok) {
        this.log.write(`--- ready at ${readyUrl} after ${Date.now() - spawnedAt} ms\n`);
        return new URL(readyUrl).origin;
      }
      if (Date.now() > deadline) throw new Error(`${this.name} not ready within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Resolves when the current process has exited (at once when none runs). */
  waitForExit(): Promise<void> {
    return this.exited;
  }

  signal(signal: NodeJS.Signals): void {
    if (!this.running) return;
    this.child!.kill(signal);
    if (signal === 'SIGSTOP') this.paused = true;
    if (signal === 'SIGCONT') this.paused = false;
  }

  /** SIGKILL, and wait until the process is gone. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.child!.kill('SIGKILL');
    this.paused = false;
    await this.exited;
  }

  /** SIGTERM (the child's graceful stop), SIGKILL after `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    if (!this.running) return;
    if (this.paused) this.signal('SIGCONT');
    this.child!.kill('SIGTERM');
    const killer = setTimeout(() => this.child?.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(killer);
  }

  /** For an `exit` handler: kill without waiting. */
  killNow(): void {
    if (this.running) this.child!.kill('SIGKILL');
  }

  closeLog(): void {
    this.log.end();
  }
}
