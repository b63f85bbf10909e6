/**
 * A provider facing a tracker that requires a CLA (issue 20): without
 * accepting it, its first scheduler request is refused with
 * TRACKER_CLA_REQUIRED and the loop ends with that error — which says where
 * to read the CLA and to rerun with --accept-cla — instead of backing off
 * forever; with the afterRegister hook `swarm provide --accept-cla` installs
 * (provider/cla.ts acceptCla), it signs after registering and works.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { utf8Encode } from '../../src/core/encoding.ts';
import { isSwarmError } from '../../src/core/errors.ts';
import { Prng } from '../../src/core/prng.ts';
import { parseClaDocument } from '../../src/protocol/cla.ts';
import { MemoryBlobCache } from '../../src/provider/blob-cache.ts';
import { acceptCla } from '../../src/provider/cla.ts';
import type { TrackerClient } from '../../src/provider/client.ts';
import { ProviderLoop } from '../../src/provider/loop.ts';
import type { ProviderLoopOptions, UnitRunner } from '../../src/provider/loop.ts';
import { MemoryResultSpool } from '../../src/provider/spool.ts';
import { keyOf, startHarness } from '../tracker/harness.ts';
import type { Harness } from '../tracker/harness.ts';

const runner: UnitRunner = { run: () => Promise.reject(new Error('no unit is expected')) };

describe('a provider and the tracker\'s CLA', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ suite: 'loop_cla' });
    await h.service.cla.start(parseClaDocument(utf8Encode('Version: cla-v1\n\nApache-2.0 for all contributions.\n')));
  }, 60_000);
  afterAll(async () => h.close());

  const loopOf = (client: TrackerClient, o: Partial<ProviderLoopOptions>, sleeps: { n: number }): ProviderLoop => {
    const loop: ProviderLoop = new ProviderLoop({
      client, runner, cache: new MemoryBlobCache(), spool: new MemoryResultSpool(), clock: h.clock, rng: Prng.fromSeed(1),
      name: 'p', threads: 1, memoryBytes: 1,
      // without the rule the loop would back off and ask again: end it after a few sleeps (and fail below)
      sleep: async () => {
        if (++sleeps.n > 3) loop.stop();
      },
      ...o,
    });
    return loop;
  };

  it('without --accept-cla it stops on TRACKER_CLA_REQUIRED, saying where to read the CLA and to rerun with --accept-cla', async () => {
    const client = h.client(keyOf(81));
    const sleeps = { n: 0 };
    const loop = loopOf(client, {}, sleeps);
    const err = await loop.run().then(() => null, (e: unknown) => e);
    expect(isSwarmError(err) && err.code).toBe('TRACKER_CLA_REQUIRED');
    expect((err as Error).message).toContain('cla-v1');
    expect((err as Error).message).toContain(`${client.baseUrl}/api/cla`);
    expect((err as Error).message).toContain('--accept-cla');
    expect(sleeps.n).toBe(0);
    expect(loop.status.state).toBe('stopped');
  });

  it('with the hook --accept-cla installs, it signs after registering and then asks for work as usual', async () => {
    const client = h.client(keyOf(82));
    const sleeps = { n: 0 };
    let accepted = '';
    const loop = loopOf(client, {
      afterRegister: async () => {
        accepted = (await acceptCla(client, h.clock))?.view.required === true ? 'yes' : 'no';
      },
    }, sleeps);
    expect(await loop.run()).toMatchObject({ state: 'stopped' });
    expect(accepted).toBe('yes');
    expect(sleeps.n).toBeGreaterThan(3); // idle waits: no work, but no refusal either
  });
});
