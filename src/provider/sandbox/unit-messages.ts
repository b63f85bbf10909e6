/**
 * The messages between a provider and the thread that runs its unit, shared
 * by the Node worker sandbox (./worker-sandbox.ts, worker_threads) and the
 * browser's (../browser/web-worker-sandbox.ts, a Web Worker): the input the
 * unit side gets, the progress / result / error it posts back, how blobs
 * move (transferred, not copied) and how the caller settles a run from an
 * answer. Environment-neutral: no node: module, no DOM type.
 */
import { SwarmError } from '../../core/errors.ts';
import { sha256Hex } from '../../core/sha256.ts';
import type { Engine } from '../../tensor/tensor.ts';
import { runUnit } from '../../train/work/run-unit.ts';
import type { UnitOutcome } from '../../train/work/run-unit.ts';
import type { RunControl } from './guarded-run.ts';
import { fromWireError, toWireError } from './sandbox.ts';
import type { SandboxBackend, WireError } from './sandbox.ts';

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

/** Moves each blob's buffer (copying views of shared or larger buffers first). */
export function forTransfer(inputs: ReadonlyMap<string, Uint8Array>): { blobs: Map<string, Uint8Array>; transfer: ArrayBuffer[] } {
  const blobs = new Map<string, Uint8Array>();
  const transfer = new Set<ArrayBuffer>();
  for (const [h, b] of inputs) {
    const whole = b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && b.buffer instanceof ArrayBuffer && !transfer.has(b.buffer);
    const own = whole ? b : b.slice();
    blobs.set(h, own);
    transfer.add(own.buffer as ArrayBuffer);
  }
  return { blobs, transfer: [...transfer] };
}

/**
 * The unit side: builds its engine, runs the unit, posts progress and then
 * exactly one of {result} (its buffer transferred) or {error}.
 */
export async function serveUnit(
  input: WorkerInput,
  makeEngine: (input: WorkerInput) => Promise<Engine>,
  post: (m: WorkerMessage, transfer?: ArrayBuffer[]) => void,
): Promise<void> {
  try {
    const engine = await makeEngine(input);
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
}

/**
 * The caller's side: settles the run from one message of the unit side. A
 * result is re-hashed (the check is cheap and keeps the contract honest: a
 * result that does not hash to what it claims is PROVIDER_BAD_OUTPUT);
 * anything that is not one of the three messages is PROVIDER_BAD_OUTPUT too.
 */
export function settleFrom(m: unknown, control: RunControl, onProgress: ((fraction: number) => void) | undefined): void {
  if (control.settled) return;
  const msg = m as Partial<WorkerMessage> | null;
  if (msg !== null && typeof msg === 'object' && msg.type === 'progress' && typeof msg.fraction === 'number') {
    onProgress?.(msg.fraction);
  } else if (msg !== null && typeof msg === 'object' && msg.type === 'result' && msg.result instanceof Uint8Array && typeof msg.resultHash === 'string') {
    const actual = sha256Hex(msg.result);
    if (actual !== msg.resultHash) control.finish(new SwarmError('PROVIDER_BAD_OUTPUT', 'the sandbox returned a result that does not hash to its resultHash'));
    else control.finish(null, { result: msg.result, resultHash: actual, metrics: msg.metrics ?? {} } satisfies UnitOutcome);
  } else if (msg !== null && typeof msg === 'object' && msg.type === 'error' && typeof msg.error === 'object' && msg.error !== null) {
    control.finish(fromWireError(msg.error));
  } else {
    control.finish(new SwarmError('PROVIDER_BAD_OUTPUT', 'the sandbox answered with a message that is not progress, result or error'));
  }
}
