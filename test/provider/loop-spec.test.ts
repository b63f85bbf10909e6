/**
 * The provider parses a unit's spec once, where it arrives: a spec it cannot
 * run is given back to the tracker (POST /api/failures) with the parser's
 * code, before any blob is fetched or anything runs. An input blob that
 * cannot be had for good (it does not hash to its address) is given back the
 * same way, with its code; network trouble is not (the back-off retries).
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { SwarmError } from '../../src/core/errors.ts';
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

  it.each([
    ['a blob that does not hash to its address', new SwarmError('PROVIDER_BAD_BLOB', 'a downloaded blob does not hash to its address'), ['PROVIDER_BAD_BLOB']],
    ['an unreachable tracker (transient: not reported, retried)', new SwarmError('TRACKER_UNREACHABLE', 'cannot reach the tracker'), []],
  ])('input fetch failing with %s: reported %j, nothing runs', async (_what, error, reported) => {
    const fx = makeFixture();
    const failed: string[] = [];
    let ran = 0;
    let loop: ProviderLoop | undefined;
    let getBlobCalls = 0;
    const client = {
      register: async () => undefined,
      schedule: async () => ({ results: [], failures: [], units: [{ unitId: 'u1', runId: 'r', kind: 'train', spec: fx.trainSpec(), inputs: [fx.trainSpec().data], leaseDeadlineMs: 60_000 }] }),
      getBlob: async () => {
        getBlobCalls++;
        loop!.stop();
        throw error;
      },
      fail: async (_unit: string, code: string) => {
        failed.push(code);
      },
    } as unknown as TrackerClient;
    const runner: UnitRunner = {
      run: async () => {
        ran++;
        throw new Error('must not run');
      },
    };
    loop = new ProviderLoop({ client, runner, cache: new MemoryBlobCache(), clock: new ManualClock(0), rng: Prng.fromSeed(1), sleep: async () => undefined, name: 'p', threads: 1, memoryBytes: 1 });
    await loop.run();
    expect(getBlobCalls).toBe(1);
    expect(failed).toEqual(reported);
    expect(ran).toBe(0);
  });
});
