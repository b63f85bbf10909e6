import { describe, expect, it, vi } from 'vitest';
import { ManualClock, createSystemClock, systemClock, type Clock } from '../../src/core/clock.ts';
import { expectCode } from '../helpers/errors.ts';


describe('systemClock', () => {
  it('reads wall-clock milliseconds since the epoch', () => {
    const before = Date.now();
    const t = systemClock.now();
    const after = Date.now();
    expect(Number.isInteger(t)).toBe(true);
    expect(t).toBeGreaterThanOrEqual(before);
    expect(t).toBeLessThanOrEqual(after);
  });

  it('never goes backwards, even when the system clock steps back', () => {
    const spy = vi.spyOn(Date, 'now');
    try {
      const clock = createSystemClock();
      spy.mockReturnValue(5_000);
      expect(clock.now()).toBe(5_000);
      spy.mockReturnValue(4_000); // an NTP correction
      expect(clock.now()).toBe(5_000);
      spy.mockReturnValue(6_000);
      expect(clock.now()).toBe(6_000);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('ManualClock', () => {
  it('starts where told (default 0) and only moves when told', () => {
    expect(new ManualClock().now()).toBe(0);
    const c = new ManualClock(1_700_000_000_000);
    expect(c.now()).toBe(1_700_000_000_000);
    expect(c.now()).toBe(1_700_000_000_000);
  });

  it('advance() moves forward and returns the new time; 0 is allowed', () => {
    const c = new ManualClock(10);
    expect(c.advance(5)).toBe(15);
    expect(c.advance(0)).toBe(15);
    expect(c.now()).toBe(15);
  });

  it('set() jumps forward or stays; going backwards is CLOCK_BACKWARDS', () => {
    const c = new ManualClock(100);
    c.set(100);
    c.set(250);
    expect(c.now()).toBe(250);
    expectCode(() => c.set(249), 'CLOCK_BACKWARDS');
    expectCode(() => c.advance(-1), 'CLOCK_BACKWARDS');
    expect(c.now()).toBe(250);
  });

  it('rejects non-integer, non-finite and unsafe times with CLOCK_INVALID_TIME', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, 1.5, 2 ** 53, '5', null]) {
      expectCode(() => new ManualClock(bad as number), 'CLOCK_INVALID_TIME');
      const c = new ManualClock(0);
      expectCode(() => c.set(bad as number), 'CLOCK_INVALID_TIME');
      expectCode(() => c.advance(bad as number), 'CLOCK_INVALID_TIME');
      expect(c.now()).toBe(0);
    }
    const near = new ManualClock(Number.MAX_SAFE_INTEGER - 1);
    expectCode(() => near.advance(5), 'CLOCK_INVALID_TIME');
    expect(near.now()).toBe(Number.MAX_SAFE_INTEGER - 1);
  });

  it('is a Clock that code can be handed instead of the system clock', () => {
    const leaseExpired = (clock: Clock, deadline: number) => clock.now() >= deadline;
    const c = new ManualClock(0);
    expect(leaseExpired(c, 1000)).toBe(false);
    c.advance(1000);
    expect(leaseExpired(c, 1000)).toBe(true);
  });
});
