/**
 * Time as an injected dependency. Leases, deadlines, request timestamps and
 * ledger entries read time through a Clock, never from the host directly, so
 * a test (or a replay of the ledger) can drive time by hand and get the same
 * result every run. This file is the only place in the no-I/O layers that
 * reads the system clock (test/architecture allows it here and nowhere else).
 *
 * Contract: now() returns milliseconds since the Unix epoch and never
 * decreases between two calls on the same clock.
 */
import { SwarmError } from './errors.ts';

export interface Clock {
  /** Milliseconds since 1970-01-01T00:00:00Z; non-decreasing. */
  now(): number;
}

/**
 * Wall-clock time. Date.now() can step backwards when NTP corrects the system
 * clock; a lease computed across that step would extend itself, so the value
 * is clamped to the largest one seen (the Clock contract).
 */
export function createSystemClock(): Clock {
  let last = -Infinity;
  return {
    now(): number {
      const t = Date.now();
      if (t > last) last = t;
      return last;
    },
  };
}

/** The process-wide system clock; inject it at the edges (cli), not inside code. */
export const systemClock: Clock = createSystemClock();

function checkTime(ms: number, what: string): void {
  if (!Number.isSafeInteger(ms)) {
    throw new SwarmError('CLOCK_INVALID_TIME', `${what} must be a safe integer number of milliseconds`, { value: String(ms) });
  }
}

/** A clock that moves only when told to: for tests and deterministic replays. */
export class ManualClock implements Clock {
  private t: number;

  constructor(startMs = 0) {
    checkTime(startMs, 'start time');
    this.t = startMs;
  }

  now(): number {
    return this.t;
  }

  /** Jumps to `ms`; CLOCK_BACKWARDS if that is earlier than now(). */
  set(ms: number): void {
    checkTime(ms, 'time');
    if (ms < this.t) {
      throw new SwarmError('CLOCK_BACKWARDS', 'a clock may not go backwards', { now: this.t, requested: ms });
    }
    this.t = ms;
  }

  /** Moves forward by `ms` >= 0 and returns the new time; CLOCK_BACKWARDS for negative steps. */
  advance(ms: number): number {
    checkTime(ms, 'step');
    if (ms < 0) throw new SwarmError('CLOCK_BACKWARDS', 'a clock may not go backwards', { now: this.t, step: ms });
    const next = this.t + ms;
    checkTime(next, 'time');
    this.t = next;
    return next;
  }
}
