/**
 * `swarm bench tracker` end to end on a small queue (PGlite): the simulated
 * providers run in their own process, with the one-unit endpoints and with
 * the batched scheduler request; every unit is assigned and accepted under
 * both, and the figures add up.
 */
import { describe, expect, it } from 'vitest';
import { benchTracker } from '../../src/cli/bench-tracker.ts';

describe('bench tracker', () => {
  it('drives every unit through assignment and acceptance with both protocols, and reports their ratio', async () => {
    const progress: Array<[string, number]> = [];
    const r = await benchTracker({ providers: 6, units: 40, batch: 4, onProgress: (p, done) => progress.push([p, done]) });
    expect(r.db).toBe('pglite');
    expect(r.runs.map((x) => x.protocol)).toEqual(['single', 'batch']);
    expect(r.runs.map((x) => x.trackers)).toEqual([1, 1]);
    for (const run of r.runs) {
      expect(run.assignments, run.protocol).toBe(run.submissions);
      // every unit at least once, new identities twice at first (adaptive replication), never more than twice
      expect(run.submissions, run.protocol).toBeGreaterThanOrEqual(40);
      expect(run.submissions, run.protocol).toBeLessThanOrEqual(80);
      expect(run.operationsPerSecond).toBeCloseTo((run.assignments + run.submissions) / run.wallSeconds, 6);
      expect(run.p99Ms).toBeGreaterThanOrEqual(run.p50Ms);
      expect(run.p50Ms).toBeGreaterThan(0);
      expect(run.cpuMsPerOperation.tracker).toBeGreaterThan(0);
      expect(run.cpuMsPerOperation.client).toBeGreaterThan(0);
      expect(run.cpuMsPerOperation.database).toBeNull();
    }
    const [single, batch] = r.runs;
    // one: work; two: the blob and the result — three signed requests per replica, 1.5 per
    // operation, and each provider's last work request that finds nothing
    expect(single!.requestsPerOperation).toBeCloseTo((3 * single!.submissions + 6) / (2 * single!.submissions), 9);
    // a batch of 4 reports 4 and leases 4: 8 operations per request, plus each provider's last, empty exchange
    expect(batch!.requestsPerOperation).toBeLessThan(0.25);
    expect(r.batchVsSingle).toBeCloseTo(batch!.operationsPerSecond / single!.operationsPerSecond, 9);
    // progress is counted per protocol, in steps of at least 50 results
    expect(progress.filter(([p]) => p === 'single').every(([, d], i, a) => i === 0 || d > a[i - 1]![1])).toBe(true);
    expect(progress.some(([p]) => p === 'batch')).toBe(true);
  }, 180_000);

  it('refuses --trackers above 1 without a PostgreSQL database, with a coded error', async () => {
    await expect(benchTracker({ providers: 1, units: 1, trackers: 2 })).rejects.toMatchObject({ code: 'CLI_BAD_FLAG' });
  });
});
