/**
 * Inside the worker sandbox's thread: build an engine, run the unit on the
 * blobs the parent transferred, post progress and then exactly one of
 * {result} or {error}. The result's buffer is transferred back, not copied.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runUnit } from '../../train/work/run-unit.ts';
import { toWireError } from './sandbox.ts';
import type { SandboxBackend, WireError } from './sandbox.ts';
import { createUnitEngine } from './unit-engine.ts';

export interface WorkerInput {
  spec: unknown;
  blobs: Map<string, Uint8Array>;
  threads: number;
  backend: SandboxBackend;
  memoryMb: number;
}

export type WorkerMessage =
  | { type: 'progress'; fraction: number }
  | { type: 'result'; result: Uint8Array; resultHash: string; metrics: Record<string, number> }
  | { type: 'error'; error: WireError };

const port = parentPort;
if (port === null) throw new Error('worker-main.ts must run in a worker thread');
const input = workerData as WorkerInput;
const post = (m: WorkerMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);

try {
  const engine = await createUnitEngine(input.backend, input.threads, input.memoryMb);
  try {
    const out = runUnit(engine, input.spec, (h) => input.blobs.get(h), (fraction) => post({ type: 'progress', fraction }));
    const r = out.result;
    const own = r.byteOffset === 0 && r.byteLength === r.buffer.byteLength && r.buffer instanceof ArrayBuffer;
    const result = own ? r : r.slice();
    post({ type: 'result', result, resultHash: out.resultHash, metrics: out.metrics }, [result.buffer as ArrayBuffer]);
  } finally {
    engine.backend.close();
  }
} catch (e) {
  post({ type: 'error', error: toWireError(e) });
}
