/**
 * The browser's sandbox (issue 18): each unit runs in a fresh Web Worker
 * (./unit-worker.ts) on the wasm backend, one thread, with the same messages
 * as the Node worker sandbox (../sandbox/unit-messages.ts) and the same
 * deadline / cancel / settle-once guard (../sandbox/guarded-run.ts).
 * Terminating the worker is how a unit is stopped.
 *
 * Memory: a tab has a budget (memoryMb), and a unit refuses to start when
 * its estimated peak (train/work/memory.ts) exceeds it: PROVIDER_OVER_BUDGET,
 * before any worker starts, instead of the browser killing the tab (the
 * loop asks `admit` before it even fetches the unit's inputs; `run` checks
 * again for callers that do not). The
 * kernels' wasm memory is capped to the same budget, so an op that
 * outgrows it fails with PROVIDER_OUT_OF_MEMORY rather than growing on.
 *
 * No DOM types here (this layer compiles without them): the worker is
 * described by the few members used.
 */
import { SwarmError } from '../../core/errors.ts';
import { unitMemoryBytes } from '../../train/work/memory.ts';
import type { UnitSpec } from '../../train/work/kinds.ts';
import type { UnitOutcome } from '../../train/work/run-unit.ts';
import { guardedRun } from '../sandbox/guarded-run.ts';
import type { Sandbox, SandboxRunOptions } from '../sandbox/sandbox.ts';
import { forTransfer, settleFrom } from '../sandbox/unit-messages.ts';
import type { WorkerInput } from '../sandbox/unit-messages.ts';

/** The members of a Web Worker used here. */
export interface WebWorkerLike {
  postMessage(message: unknown, transfer: ArrayBuffer[]): void;
  terminate(): void;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onerror: ((ev: { message?: string; preventDefault?: () => void }) => void) | null;
  onmessageerror: ((ev: unknown) => void) | null;
}

export interface WebWorkerSandboxOptions {
  /** a fresh worker running ./unit-worker.ts (its URL is the page's business) */
  createWorker: () => WebWorkerLike;
  /** the tab's budget for one unit, MiB */
  memoryMb: number;
}

const MIB = 2 ** 20;

/** PROVIDER_OVER_BUDGET unless the unit's estimated peak fits `memoryMb`. */
export function checkBudget(spec: UnitSpec, memoryMb: number): void {
  const need = unitMemoryBytes(spec);
  if (need > memoryMb * MIB) {
    throw new SwarmError('PROVIDER_OVER_BUDGET', `this ${spec.kind} unit needs about ${Math.ceil(need / MIB)} MiB; this tab lends ${memoryMb} MiB, so it was not started`, {
      neededMb: Math.ceil(need / MIB),
      budgetMb: memoryMb,
    });
  }
}

export function createWebWorkerSandbox(o: WebWorkerSandboxOptions): Sandbox & { admit(spec: UnitSpec): void } {
  if (!Number.isSafeInteger(o.memoryMb) || o.memoryMb < 16) throw new SwarmError('PROVIDER_BAD_OPTION', `memoryMb must be an integer ≥ 16, got ${o.memoryMb}`);
  return {
    kind: 'web-worker',
    admit: (spec) => checkBudget(spec, o.memoryMb),
    async run(spec: UnitSpec, blobs: ReadonlyMap<string, Uint8Array>, ro: SandboxRunOptions): Promise<UnitOutcome> {
      checkBudget(spec, o.memoryMb);
      return guardedRun(spec, blobs, { ...ro, threads: 1 }, (unit, control) => {
        const { blobs: sent, transfer } = forTransfer(unit.inputs);
        const input: WorkerInput = { spec: unit.spec, blobs: sent, threads: 1, backend: 'wasm', memoryMb: o.memoryMb };
        const worker = o.createWorker();
        worker.onmessage = (ev) => settleFrom(ev.data, control, ro.onProgress);
        worker.onerror = (ev) => {
          ev.preventDefault?.();
          control.finish(new SwarmError('PROVIDER_SANDBOX_FAILED', `the unit's worker failed: ${ev.message ?? 'no message'}`));
        };
        worker.onmessageerror = () => control.finish(new SwarmError('PROVIDER_BAD_OUTPUT', "the unit's worker sent a message that could not be read"));
        worker.postMessage(input, transfer);
        return () => worker.terminate();
      });
    },
  };
}
