/**
 * `swarm bench tracker` end to end on a small queue (PGlite): the simulated
 * providers run on load threads, every unit is assigned and submitted, and
 * the figures add up.
 */
import { describe, expect, it } from 'vitest';
import { benchTracker } from '../../src/cli/bench-tracker.ts';

describe('bench tracker', () => {
  it('drives every unit through assignment and submission from two load threads', async () => {
    const progress: number[] = [];
    const r = await benchTracker({ providers: 6, units: 30, loadThreads: 2, onProgress: (done) => progress.push(done) });
    expect(r.db).toBe('pglite');
    expect(r.loadThreads).toBe(2);
    expect(r.assignments).toBe(r.submissions);
    // every unit at least once, new identities twice at first (adaptive replication), never more than twice
    expect(r.submissions).toBeGreaterThanOrEqual(30);
    expect(r.submissions).toBeLessThanOrEqual(60);
    expect(r.operationsPerSecond).toBeCloseTo((r.assignments + r.submissions) / r.wallSeconds, 6);
    expect(r.p99Ms).toBeGreaterThanOrEqual(r.p50Ms);
    expect(r.p50Ms).toBeGreaterThan(0);
    // progress comes in steps of 50 submissions per load thread
    expect(progress.every((d, i) => d === 50 * (i + 1))).toBe(true);
    expect(progress.at(-1) ?? 0).toBeLessThanOrEqual(r.submissions);
  }, 120_000);
});
