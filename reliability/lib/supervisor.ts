import type { Backend } from './balancer';
import type { ManagedChild } from './child';
import { sleep } from './ports';

/**
 * Keeps the LeadRelay instances running, as systemd or Kubernetes would: an instance that exits (it
 * was killed, or could not start because the database was down) is started again after a short
 * pause, and the load balancer skips it meanwhile.
 */
export class Supervisor {
  private stopped = false;
  private readonly watching = new Set<Promise<void>>();
  restarts = 0;
  startFailures = 0;

  constructor(
    readonly instances: { child: ManagedChild; backend: Backend }[],
    private readonly log: (message: string) => void,
  ) {}

  /** Starts every instance (in parallel) and watches them. */
  async startAll(): Promise<void> {
    await Promise.all(this.instances.map((i) => this.bringUp(i, 0)));
  }

  private async bringUp(instance: { child: ManagedChild; backend: Backend }, pauseMs: number): Promise<void> {
    await sleep(pauseMs);
    for (;;) {
      if (this.stopped) return;
      try {
        await instance.child.start();
        instance.backend.up = true;
        break;
      } catch (error) {
        this.startFailures++;
        this.log(`${instance.child.name} failed to start: ${(error as Error).message.split('\n')[0]}`);
        await sleep(1000);
      }
    }
    const watch = instance.child.waitForExit().then(() => {
      instance.backend.up = false;
      if (this.stopped) return;
      this.restarts++;
      void this.bringUp(instance, 500 + Math.random() * 1500);
    });
    this.watching.add(watch);
    void watch.finally(() => this.watching.delete(watch));
  }

  /** Waits until every instance is running and announced. */
  async allUp(timeoutMs = 90_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.instances.every((i) => i.child.running && i.backend.up && !i.child.paused)) {
      if (Date.now() > deadline) throw new Error('instances did not all come up');
      await sleep(200);
    }
  }

  async stopAll(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.instances.map((i) => i.child.stop()));
  }
}
