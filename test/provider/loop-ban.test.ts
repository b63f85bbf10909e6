/**
 * A provider the council bans stops (issue 20): its next scheduler request
 * is refused with TRACKER_BANNED, and the loop ends with that error — which
 * names the decision — instead of backing off and asking again forever.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSwarmError } from '../../src/core/errors.ts';
import { Prng } from '../../src/core/prng.ts';
import { propose, vote } from '../../src/cli/council.ts';
import { MemoryBlobCache } from '../../src/provider/blob-cache.ts';
import { ProviderLoop } from '../../src/provider/loop.ts';
import type { UnitRunner } from '../../src/provider/loop.ts';
import { MemoryResultSpool } from '../../src/provider/spool.ts';
import { keyOf, startHarness } from '../tracker/harness.ts';
import type { Harness } from '../tracker/harness.ts';

const member = keyOf(70);
const runner: UnitRunner = { run: () => Promise.reject(new Error('no unit is expected')) };

describe('a banned provider stops', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ suite: 'loop_ban' });
    await h.service.council.form([member.keyId], 1);
  }, 60_000);
  afterAll(async () => h.close());

  it('when the ban is enacted while it waits for work, its next request ends the loop with TRACKER_BANNED naming the decision', async () => {
    const client = h.client(keyOf(71));
    let sleeps = 0;
    let decision = '';
    let enacted = '';
    const loop = new ProviderLoop({
      client, runner, cache: new MemoryBlobCache(), spool: new MemoryResultSpool(), clock: h.clock, rng: Prng.fromSeed(1),
      name: 'p', threads: 1, memoryBytes: 1,
      sleep: async () => {
        // the first idle wait: the council bans this provider (it has registered and asked for work by now)
        if (++sleeps === 1) {
          const c = h.client(member);
          const p = await propose(c, { action: 'ban', subject: client.key.keyId, params: { reason: 'test' } });
          decision = p.id;
          enacted = (await vote(c, p.id, 'approve', h.clock)).status;
        }
        if (sleeps > 5) loop.stop(); // without the rule, the loop would keep asking: end the test, and fail below
      },
    });
    const err = await loop.run().then(() => null, (e: unknown) => e);
    expect(enacted).toBe('enacted');
    expect(isSwarmError(err) && err.code).toBe('TRACKER_BANNED');
    expect((err as Error).message).toContain(decision);
    expect(sleeps).toBe(1);
    expect(loop.status.state).toBe('stopped');
  });
});
