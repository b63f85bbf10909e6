/**
 * The browser's twin of ./pool-threads.ts: a browser provider runs one unit
 * per Web Worker on one thread (src/provider/browser), so the wasm backend
 * there never starts matmul helpers; asking for more than one thread is a
 * coded error rather than a missing module.
 */
import { SwarmError } from '../../core/errors.ts';

export interface PoolThread {
  terminate(): void;
}

export async function startPoolThreads(
  count: number,
  _shared: { module: unknown; memory: unknown; control: SharedArrayBuffer },
  _onBroken: (e: unknown) => void,
): Promise<PoolThread[]> {
  throw new SwarmError('TENSOR_WORKER_FAILED', 'in the browser the wasm backend runs on one thread (each Web Worker runs its own unit)', { threads: count + 1 });
}
