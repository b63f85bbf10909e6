/**
 * The worker sandbox: the unit runs in a worker_threads Worker with a V8
 * heap cap (resourceLimits.maxOldGenerationSizeMb), the kernels' wasm memory
 * capped to the same size, and a wall-clock deadline after which the worker
 * is terminated. Cancelling (the caller's AbortSignal, e.g. Ctrl-C)
 * terminates it the same way. Terminating a worker also ends the matmul
 * workers it started.
 *
 * Blobs are transferred to the worker, not copied and not re-read: each
 * blob's ArrayBuffer moves to the worker and the caller's Uint8Array is
 * detached once run() has started (a blob that is a view into a larger
 * buffer, e.g. a slice of a Node Buffer pool, is copied first). Pass copies
 * to keep using them. The result comes back the same way.
 *
 * Limits of this sandbox: typed arrays outside the wasm memory are not
 * counted by the V8 heap cap, and a worker shares the process (no
 * filesystem or network isolation): that is what ./bwrap-sandbox.ts adds.
 */
import { Worker } from 'node:worker_threads';
import { SwarmError } from '../../core/errors.ts';
import type { UnitSpec } from '../../train/work/kinds.ts';
import type { UnitOutcome } from '../../train/work/run-unit.ts';
import { guardedRun } from './guarded-run.ts';
import { checkLimits } from './sandbox.ts';
import type { Sandbox, SandboxLimits, SandboxRunOptions } from './sandbox.ts';
import { forTransfer, settleFrom } from './unit-messages.ts';
import type { WorkerInput } from './unit-messages.ts';

const ENTRY = new URL('./worker-entry.mjs', import.meta.url);

export function createWorkerSandbox(limits: SandboxLimits = {}): Sandbox {
  const { memoryMb, backend } = checkLimits(limits);
  return {
    kind: 'worker',
    run(spec: UnitSpec, blobs: ReadonlyMap<string, Uint8Array>, o: SandboxRunOptions): Promise<UnitOutcome> {
      return guardedRun(spec, blobs, o, (unit, control) => {
        const { finish } = control;
        const { blobs: sent, transfer } = forTransfer(unit.inputs);
        const workerData: WorkerInput = { spec: unit.spec, blobs: sent, threads: o.threads, backend, memoryMb };
        const worker = new Worker(ENTRY, {
          workerData,
          transferList: transfer,
          // The entry registers its own loader; the parent's flags (vitest's,
          // an inspector) have no business in the sandbox.
          execArgv: [],
          resourceLimits: { maxOldGenerationSizeMb: memoryMb },
        });

        worker.on('message', (m: unknown) => settleFrom(m, control, o.onProgress));
        worker.on('error', (e: Error & { code?: string }) => {
          if (e.code === 'ERR_WORKER_OUT_OF_MEMORY') {
            finish(new SwarmError('PROVIDER_OUT_OF_MEMORY', `the unit exceeded the sandbox's ${memoryMb} MiB heap`, { memoryMb }, { cause: e }));
          } else {
            finish(new SwarmError('PROVIDER_SANDBOX_FAILED', `the sandbox worker failed: ${e.message}`, { reason: e.code ?? e.name }, { cause: e }));
          }
        });
        worker.on('exit', (code) => finish(new SwarmError('PROVIDER_SANDBOX_FAILED', `the sandbox worker exited (code ${code}) without an answer`, { exitCode: code })));
        return () => void worker.terminate();
      });
    },
  };
}
