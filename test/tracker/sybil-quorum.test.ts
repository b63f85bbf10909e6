/**
 * The Sybil rule (issue 25; DESIGN.md "Identity and security"): a quorum
 * never consists only of identities younger than the trust threshold while
 * an established provider that may take the unit is online. Two fresh keys
 * (free to make, possibly one attacker) must not fill a unit between them;
 * with no established provider online they still may, so work goes on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ADAPTIVE_POLICY } from '../../src/tracker/validation/adaptive.ts';
import type { TrackerClient } from '../../src/provider/client.ts';
import { keyOf, nanoEvalUnit, startHarness } from './harness.ts';
import type { Harness } from './harness.ts';

const backends: Array<'pglite' | 'postgres'> = process.env.SWARM_TEST_PG_URL ? ['pglite', 'postgres'] : ['pglite'];

describe.each(backends)('no quorum of fresh identities only while an established provider is online, on %s', (backend) => {
  let h: Harness;
  let fresh1: TrackerClient;
  let fresh2: TrackerClient;
  let veteran: TrackerClient;

  beforeAll(async () => {
    h = await startHarness({ db: backend, suite: 'sybil_quorum' });
    const trainer = h.client(h.trainerKey);
    const u = nanoEvalUnit();
    for (const b of u.blobs) await trainer.putBlob(b);
    await trainer.createUnits({ run: 'run1', units: ['s1', 's2'].map((id) => ({ id, kind: 'eval' as const, spec: u.spec })) });
    fresh1 = h.client(keyOf(31));
    fresh2 = h.client(keyOf(32));
    veteran = h.client(keyOf(33));
    for (const [c, n] of [[fresh1, 'fresh-1'], [fresh2, 'fresh-2'], [veteran, 'veteran']] as const) await c.register(n, { threads: 1, memoryBytes: 1 });
    // the veteran's record: as many clean verdicts as the trust threshold asks (adaptive.ts)
    const n = DEFAULT_ADAPTIVE_POLICY.minConsecutiveValid;
    const record = { provider: keyOf(33).keyId, recent: Array.from({ length: n }, () => 'valid'), total: n };
    await h.db.query('UPDATE providers SET record = $2 WHERE key_id = $1', [keyOf(33).keyId, JSON.stringify(record)]);
  }, 60_000);
  afterAll(async () => h?.close());

  it('the second fresh identity does not get the unit while the veteran is online; the veteran does', async () => {
    expect((await fresh1.schedule({ want: 1 })).units.map((u) => u.unitId)).toEqual(['s1']);
    // s1 needs one more result (fresh1 is new: replicated, quorum 2), and fresh2 would
    // complete it with fresh1 alone: fresh2 gets the next unit instead
    expect((await fresh2.schedule({ want: 1 })).units.map((u) => u.unitId)).toEqual(['s2']);
    expect((await veteran.schedule({ want: 1 })).units.map((u) => u.unitId)).toEqual(['s1']);
    const s1 = await h.service.unitStatus('s1');
    expect(s1.replicas.map((r) => r.provider).sort()).toEqual([keyOf(31).keyId, keyOf(33).keyId].sort());
  });

  it('with no established provider online, fresh identities may complete the quorum; a veteran asking for nothing (paused) is not online', async () => {
    await h.db.query('UPDATE providers SET last_seen = 0 WHERE key_id = $1', [keyOf(33).keyId]);
    // a paused provider keeps in touch with want 0 (to hand over kept blobs): that is not "available for work"
    expect((await veteran.schedule({ want: 0 })).units).toEqual([]);
    const [seen] = await h.db.query<{ last_seen: string }>('SELECT last_seen FROM providers WHERE key_id = $1', [keyOf(33).keyId]);
    expect(Number(seen!.last_seen)).toBe(0);
    // s2 is held by fresh2 only; the veteran is not online, so fresh1 may take its last replica
    expect((await fresh1.schedule({ want: 1 })).units.map((u) => u.unitId)).toEqual(['s2']);
    const s2 = await h.service.unitStatus('s2');
    expect(s2.replicas.map((r) => r.provider).sort()).toEqual([keyOf(31).keyId, keyOf(32).keyId].sort());
  });
});
