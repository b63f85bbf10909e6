/**
 * What every sandbox does around a unit, whatever it runs the unit in: check
 * the options, refuse a run already cancelled, find the spec's blobs, then
 * settle exactly once — with the answer, with PROVIDER_DEADLINE when the
 * deadline passes, with PROVIDER_CANCELLED when the caller's signal aborts —
 * and kill the sandboxed side when it does. The worker and the bwrap
 * sandboxes differ only in how they start the unit and how they kill it.
 */
import type { UnitSpec } from '../../train/work/kinds.ts';
import type { UnitOutcome } from '../../train/work/run-unit.ts';
import { cancelledError, checkRunOptions, deadlineError, prepareUnit } from './sandbox.ts';
import type { SandboxRunOptions } from './sandbox.ts';

/** Handed to the start function: how the sandboxed side reports back. */
export interface RunControl {
  /** Settles the run (only the first call counts) and kills the sandboxed side. */
  finish(err: Error | null, value?: UnitOutcome): void;
  /** True once settled: answers that arrive later are dropped. */
  readonly settled: boolean;
}

/**
 * Starts the unit with `start`, which returns the function that kills it.
 * Errors thrown before the start (bad options, a cancelled signal, a
 * missing blob) reject the returned promise.
 */
export function guardedRun(
  spec: UnitSpec,
  blobs: ReadonlyMap<string, Uint8Array>,
  o: SandboxRunOptions,
  start: (unit: ReturnType<typeof prepareUnit>, control: RunControl) => () => void,
): Promise<UnitOutcome> {
  return new Promise<UnitOutcome>((resolve, reject) => {
    checkRunOptions(o);
    if (o.signal?.aborted) throw cancelledError();
    const unit = prepareUnit(spec, blobs);
    let settled = false;
    let kill: (() => void) | undefined;
    const finish = (err: Error | null, value?: UnitOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      kill?.();
      if (err) reject(err);
      else resolve(value!);
    };
    const timer = setTimeout(() => finish(deadlineError(o.deadlineMs)), o.deadlineMs);
    const onAbort = (): void => finish(cancelledError());
    o.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      kill = start(unit, {
        finish,
        get settled() {
          return settled;
        },
      });
    } catch (e) {
      finish(e as Error); // clears the timer, which would otherwise hold the process open
      return;
    }
    // settled during start itself: kill what it started now that we have the means
    if (settled) kill();
  });
}
