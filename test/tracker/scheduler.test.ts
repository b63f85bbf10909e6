/**
 * The scheduler's assignment rules through the service (scheduler.ts), on
 * PGlite and, when SWARM_TEST_PG_URL is set, on PostgreSQL with several
 * tracker services (one pool each, as several tracker processes) over one
 * database: oldest unit first, never more replicas than the unit's target
 * under concurrent requests nor two of one unit to one provider, and never
 * more than max_total_results replicas in all. (Quorum, leases, reissue and
 * the one-identity rule one request at a time: work-flow.test.ts.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import { decodeEntry } from '../../src/ledger/entry.ts';
import type { WorkAssignment } from '../../src/protocol/schemas.ts';
import type { TrackerClient } from '../../src/provider/client.ts';
import { TrackerService } from '../../src/tracker/service.ts';
import type { TrackerServiceOptions } from '../../src/tracker/service.ts';
import { openPostgres } from '../../src/tracker/storage/db.ts';
import type { Db } from '../../src/tracker/storage/db.ts';
import { keyOf, nanoEvalUnit, startHarness } from './harness.ts';
import type { Harness } from './harness.ts';
import { PG_URL } from './ledger/backends.ts';

const backends: Array<'pglite' | 'postgres'> = PG_URL === undefined ? ['pglite'] : ['pglite', 'postgres'];
if (PG_URL === undefined) console.log('tracker scheduler: PostgreSQL run skipped (set SWARM_TEST_PG_URL to run it)');

const CAPS = { threads: 2, memoryBytes: 2 ** 30 };

describe.each(backends)('scheduler on %s', (backend) => {
  let h: Harness | undefined;
  const extra: Db[] = [];
  afterEach(async () => {
    await Promise.all(extra.splice(0).map((db) => db.close()));
    await h?.close();
    h = undefined;
  });

  async function setup(suite: string, service: Partial<TrackerServiceOptions> = {}) {
    h = await startHarness({ db: backend, suite, service });
    const trainer = h.client(h.trainerKey);
    const u = nanoEvalUnit();
    for (const b of u.blobs) await trainer.putBlob(b);
    const provider = async (i: number): Promise<TrackerClient> => {
      const p = h!.client(keyOf(i));
      await p.register(`p${i}`, CAPS);
      return p;
    };
    const create = (ids: string[], leaseMs?: number) =>
      trainer.createUnits({ run: 'run1', units: ids.map((id) => ({ id, kind: 'eval' as const, spec: u.spec, ...(leaseMs === undefined ? {} : { leaseMs }) })) });
    return { h, provider, create };
  }

  it('hands out the oldest unit first (creation time, not id order)', async () => {
    const { h, provider, create } = await setup('scheduler_oldest');
    await create(['z-old']);
    h.clock.advance(1);
    await create(['a-new']);
    const [p1, p2] = [await provider(1), await provider(2)];
    expect((await p1.work()).unit?.unitId).toBe('z-old');
    expect((await p1.work()).unit?.unitId).toBe('a-new'); // p1 holds z-old already
    expect((await p2.work()).unit?.unitId).toBe('z-old'); // a new identity's unit wants a second replica, and is older
  });

  it('never issues more than max_total_results replicas: the unit errors out instead', async () => {
    const { h, provider, create } = await setup('scheduler_total', { maxTotalResults: 4, maxErrorResults: 9 });
    await create(['u1'], 10_000);
    const ps = [];
    for (let i = 1; i <= 5; i++) ps.push(await provider(i));
    const [a, b, c, d, e] = ps as [TrackerClient, TrackerClient, TrackerClient, TrackerClient, TrackerClient];
    expect((await a.work()).unit?.unitId).toBe('u1');
    expect((await b.work()).unit?.unitId).toBe('u1'); // new identities: quorum 2
    h.clock.advance(11_000); // both leases run out: 2 issued, 2 more needed, 4 allowed
    expect((await c.work()).unit?.unitId).toBe('u1');
    expect((await d.work()).unit?.unitId).toBe('u1');
    h.clock.advance(11_000); // those run out too: 2 more would make 6 > 4
    expect((await e.work()).unit).toBeNull();
    const st = await h.service.unitStatus('u1');
    expect(st.status).toBe('error');
    expect(st.replicas).toHaveLength(4);
    expect((await h.db.query('SELECT count(*) AS n FROM replicas'))[0]!.n).toBe('4');
  });

  it('concurrent requests (to several tracker services on PostgreSQL): no unit over its target, never two replicas of one unit to one provider, one dense log', async () => {
    const { h, provider, create } = await setup('scheduler_concurrent');
    const UNITS = 24;
    const PROVIDERS = 36;
    await create(Array.from({ length: UNITS }, (_, i) => `u${String(i).padStart(2, '0')}`));
    const keys: string[] = [];
    for (let i = 1; i <= PROVIDERS; i++) keys.push((await provider(i)).key.keyId);
    // Four "tracker processes": on PostgreSQL, four services with a pool each over the one database.
    const trackers: TrackerService[] = [h.service];
    if (backend === 'postgres') {
      const url = new URL(PG_URL!);
      url.pathname = '/swarm_test_scheduler_concurrent';
      for (let t = 1; t < 4; t++) {
        const db = await openPostgres(url.toString(), { max: 4 });
        extra.push(db);
        trackers.push(new TrackerService({ ...h.service.ctx.options, db }));
      }
    }
    const leases: Array<{ provider: string; unit: WorkAssignment }> = [];
    const ask = async (k: number, p: string): Promise<boolean> => {
      const unit = await trackers[k % trackers.length]!.requestWork(p);
      if (unit !== null) leases.push({ provider: p, unit });
      return unit !== null;
    };
    // Every provider asks twice, all at once (new identities: every unit wants 2 replicas).
    await Promise.all(keys.flatMap((p, i) => [ask(i, p), ask(i + 1, p)]));
    // SKIP LOCKED may send a request away empty while another holds the unit it wanted: drain what is left, one request at a time.
    for (let progress = true; progress;) {
      progress = false;
      for (const [i, p] of keys.entries()) if (await ask(i, p)) progress = true;
    }
    const perUnit = new Map<string, number>();
    for (const l of leases) perUnit.set(l.unit.unitId, (perUnit.get(l.unit.unitId) ?? 0) + 1);
    expect([...perUnit.values()]).toEqual(Array.from({ length: UNITS }, () => 2));
    expect(new Set(leases.map((l) => `${l.unit.unitId}/${l.provider}`)).size).toBe(leases.length);
    const rows = await h.db.query<{ unit_id: string; n: string }>('SELECT unit_id, count(*) AS n FROM replicas GROUP BY unit_id');
    expect(rows).toHaveLength(UNITS);
    for (const r of rows) expect(Number(r.n)).toBe(2);
    // every lease is one unit-issued entry, in one dense log
    for (const t of trackers) await t.flushLedger();
    const log = await h.db.query<{ seq: string; leaf_input: Uint8Array }>('SELECT seq, leaf_input FROM ledger_entries ORDER BY seq');
    expect(log.map((r) => Number(r.seq))).toEqual(log.map((_, i) => i));
    expect(log.filter((r) => decodeEntry(r.leaf_input).kind === 'unit-issued')).toHaveLength(UNITS * 2);
  });
});
