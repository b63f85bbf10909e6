import { describe, expect, it } from 'vitest';
import { sleep } from '../../src/core/sleep.ts';

describe('sleep', () => {
  it('resolves after the delay', async () => {
    const t0 = performance.now();
    await sleep(30);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(25);
  });

  it('resolves at once, without rejecting, when the signal aborts or has aborted', async () => {
    const stop = new AbortController();
    const t0 = performance.now();
    const waiting = sleep(60_000, stop.signal);
    stop.abort();
    await expect(waiting).resolves.toBeUndefined();
    await expect(sleep(60_000, stop.signal)).resolves.toBeUndefined();
    expect(performance.now() - t0).toBeLessThan(5_000);
  });
});
