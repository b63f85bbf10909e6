/**
 * Starts the wasm backend's matmul helpers (./pool-worker.mjs) as
 * worker_threads sharing the kernels' memory and control block (see
 * ./backend.ts, "Threads"). Its own file so that the browser bundle can swap
 * in ./pool-threads.browser.ts, where each Web Worker runs a unit on one
 * thread and node:worker_threads does not exist.
 */
import { Worker } from 'node:worker_threads';
import { SwarmError } from '../../core/errors.ts';

export interface PoolThread {
  terminate(): void;
}

/**
 * Starts `count` helpers numbered 1..count and resolves once each has said it
 * is ready; `onBroken` hears of a helper that dies later. Throws
 * TENSOR_WORKER_FAILED (and stops the ones started) when one fails to start.
 */
export async function startPoolThreads(
  count: number,
  shared: { module: unknown; memory: unknown; control: SharedArrayBuffer },
  onBroken: (e: unknown) => void,
): Promise<PoolThread[]> {
  const url = new URL('./pool-worker.mjs', import.meta.url);
  const workers: Worker[] = [];
  const started: Promise<void>[] = [];
  let starting = true;
  for (let w = 1; w <= count; w++) {
    // execArgv []: the worker is plain JS, so it needs none of the parent's
    // loaders (tsx, vitest), which would only slow its start-up.
    const worker = new Worker(url, { workerData: { ...shared, index: w }, execArgv: [] });
    worker.unref();
    workers.push(worker);
    started.push(new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.on('error', (e) => {
        onBroken(e);
        reject(e);
      });
      worker.on('exit', (code) => {
        if (!starting) onBroken(new Error(`matmul worker exited with code ${code}`));
        reject(new Error(`matmul worker exited with code ${code} during start-up`));
      });
    }));
  }
  try {
    await Promise.all(started);
  } catch (e) {
    for (const w of workers) void w.terminate();
    throw new SwarmError('TENSOR_WORKER_FAILED', 'could not start the wasm matmul workers', { threads: count + 1 }, { cause: e });
  }
  starting = false;
  return workers.map((w) => ({ terminate: () => void w.terminate() }));
}
