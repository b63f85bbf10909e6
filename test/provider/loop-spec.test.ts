/**
 * The provider parses a unit's spec once, where it arrives: a spec it cannot
 * run is given back to the tracker (POST /api/failures) with the parser's
 * code, before any blob is fetched or anything runs.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { Prng } from '../../src/core/prng.ts';
import { MemoryBlobCache } from '../../src/provider/blob-cache.ts';
import type { TrackerClient } from '../../src/provider/client.ts';
import { ProviderLoop } from '../../src/provider/loop.ts';
import type { UnitRunner } from '../../src/provider/loop.ts';
import { makeFixture } from '../train/work/fixtures.ts';

describe('provider loop: the spec is parsed where it arrives', () => {
  it('gives a bad spec back with WORK_BAD_SPEC, fetching and running nothing', async () => {
    const fx = makeFixture();
    const failed: Array<{ unit: string; code: string }> = [];
    const fetched: string[] = [];
    let ran = 0;
    let loop: ProviderLoop | undefined;
    const client = {
      register: async () => undefined,
      schedule: async () => ({
        results: [],
        failures: [],
        units: [{ unitId: 'u1', runId: 'r', kind: 'train', spec: { ...fx.trainSpec(), steps: -1 }, inputs: [fx.trainSpec().data], leaseDeadlineMs: 60_000 }],
      }),
      getBlob: async (sha: string) => {
        fetched.push(sha);
        return fx.blobs.get(sha)!;
      },
      fail: async (unit: string, code: string) => {
        failed.push({ unit, code });
        loop!.stop();
      },
    } as unknown as TrackerClient;
    const runner: UnitRunner = {
      run: async () => {
        ran++;
        throw new Error('must not run');
      },
    };
    loop = new ProviderLoop({ client, runner, cache: new MemoryBlobCache(), clock: new ManualClock(0), rng: Prng.fromSeed(1), sleep: async () => undefined, name: 'p', threads: 1, memoryBytes: 1 });
    const status = await loop.run();
    expect(failed).toEqual([{ unit: 'u1', code: 'WORK_BAD_SPEC' }]);
    expect(fetched).toEqual([]);
    expect(ran).toBe(0);
    expect(status.failed).toBe(1);
  });
});
