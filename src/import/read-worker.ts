import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { type ReadMessage, type ReadOptions, readBatches } from './read-batches';
import { SheetError } from './read-sheet';

/**
 * `readBatches` in a worker thread: reading, parsing and validating the file run on the second core
 * while the main thread plans and writes. The worker runs at most `AHEAD` batches ahead of what the
 * main thread has taken (each taken batch sends a credit back), so memory stays bounded however fast
 * the file reads. This file is both sides: loaded as the worker's entry it runs the loop below.
 */
const AHEAD = 2;
const WORKER_YOUNG_MB = 8;

type WorkerMessage =
  | { type: 'message'; message: ReadMessage }
  | { type: 'error'; name: string; message: string };

if (!isMainThread && (workerData as { leadrelayImportReader?: ReadOptions } | null)?.leadrelayImportReader) {
  const options = (workerData as { leadrelayImportReader: ReadOptions }).leadrelayImportReader;
  const port = parentPort!;
  let credits = AHEAD;
  let wake: (() => void) | null = null;
  port.on('message', () => {
    credits++;
    wake?.();
    wake = null;
  });
  void (async () => {
    try {
      for await (const message of readBatches(options)) {
        while (credits === 0) await new Promise<void>((resolve) => (wake = resolve));
        credits--;
        port.postMessage({ type: 'message', message } satisfies WorkerMessage);
      }
      port.postMessage(null);
    } catch (error) {
      const e = error as Error;
      port.postMessage({ type: 'error', name: e.name, message: e.message } satisfies WorkerMessage);
    }
    port.close();
  })();
}

/** The messages of `readBatches(options)`, produced in a worker thread. */
export async function* readBatchesInWorker(options: ReadOptions): AsyncGenerator<ReadMessage> {
  // Under ts-node-like runners (tsx, jest) this module is TypeScript: the worker loads it through tsx.
  const typescript = __filename.endsWith('.ts');
  const worker = new Worker(__filename, {
    workerData: { leadrelayImportReader: options },
    execArgv: typescript ? ['--require', require.resolve('tsx/cjs')] : [],
    // A small young generation: the worker's garbage is short-lived rows, and the process's peak
    // RSS (both threads) stays under the import's budget.
    resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_MB },
  });
  const queue: (WorkerMessage | null)[] = [];
  let wake: (() => void) | null = null;
  let failure: Error | null = null;
  const notify = () => {
    wake?.();
    wake = null;
  };
  worker.on('message', (m: WorkerMessage | null) => {
    queue.push(m);
    notify();
  });
  worker.on('error', (error) => {
    failure = error;
    notify();
  });
  worker.on('exit', (code) => {
    if (code !== 0) failure ??= new Error(`import reader stopped with exit code ${code}`);
    queue.push(null);
    notify();
  });
  try {
    for (;;) {
      while (queue.length === 0 && failure === null) await new Promise<void>((resolve) => (wake = resolve));
      if (failure !== null && queue.length === 0) throw failure;
      const next = queue.shift()!;
      if (next === null) {
        if (failure !== null) throw failure;
        return;
      }
      if (next.type === 'error') {
        throw next.name === 'SheetError' ? new SheetError(next.message) : new Error(next.message);
      }
      worker.postMessage('more');
      yield next.message;
    }
  } finally {
    await worker.terminate();
  }
}
