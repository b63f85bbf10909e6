/**
 * The tracker's work flow through its HTTP API (app.fetch, no sockets) on
 * PGlite, and on PostgreSQL when SWARM_TEST_PG_URL is set: registration,
 * adaptive replication of new identities, quorum, rejection of a
 * mismatching result, credit, lease expiry and reissue, and the ledger
 * entries every step appends.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { utf8Encode } from '../../src/core/encoding.ts';
import { decodeEntry } from '../../src/ledger/entry.ts';
import type { TrackerClient } from '../../src/provider/client.ts';
import { codeOfAsync } from '../helpers/errors.ts';
import { keyOf, nanoEvalUnit, startHarness } from './harness.ts';
import type { Harness } from './harness.ts';

const backends: Array<'pglite' | 'postgres'> = process.env.SWARM_TEST_PG_URL ? ['pglite', 'postgres'] : ['pglite'];
if (!process.env.SWARM_TEST_PG_URL) console.log('tracker work-flow: PostgreSQL run skipped (set SWARM_TEST_PG_URL to run it)');

const CAPS = { threads: 2, memoryBytes: 2 ** 30 };

async function ledgerKinds(h: Harness): Promise<string[]> {
  const rows = await h.db.query<{ leaf_input: Uint8Array }>('SELECT leaf_input FROM ledger_entries ORDER BY seq');
  return rows.map((r) => decodeEntry(r.leaf_input).kind);
}

describe.each(backends)('tracker work flow on %s', (backend) => {
  let h: Harness;
  let trainer: TrackerClient;
  let spec: Record<string, unknown>;
  const providers: TrackerClient[] = [];

  beforeEach(async () => {
    h = await startHarness({ db: backend, suite: 'work_flow' });
    trainer = h.client(h.trainerKey);
    const u = nanoEvalUnit();
    for (const b of u.blobs) await trainer.putBlob(b);
    spec = u.spec;
    providers.length = 0;
    for (let i = 1; i <= 3; i++) {
      const c = h.client(keyOf(i));
      await c.register(`p${i}`, CAPS, i === 3 ? undefined : 'team-a');
      providers.push(c);
    }
  });
  afterEach(async () => h.close());

  it('replicates a new identity\'s unit, validates by quorum, credits both, rejects the odd one out', async () => {
    await trainer.createUnits({ run: 'run1', units: [{ id: 'u1', kind: 'eval', spec }] });
    const [a, b, c] = providers as [TrackerClient, TrackerClient, TrackerClient];
    const wa = await a.work();
    expect(wa.unit?.unitId).toBe('u1');
    expect(wa.unit?.inputs).toEqual([spec.params, spec.data]);
    // never two replicas of one unit to one identity
    expect((await a.work()).unit).toBeNull();
    const wb = await b.work();
    expect(wb.unit?.unitId).toBe('u1'); // new identities are replicated: a second replica is needed
    const good = utf8Encode('the same result bytes');
    const bad = utf8Encode('a perturbed result');
    expect((await a.submit({ unitId: 'u1', runId: 'run1', result: good, metrics: { loss: 5 } })).unitStatus).toBe('open');
    // c cannot submit for a unit it does not hold
    expect(await codeOfAsync(c.submit({ unitId: 'u1', runId: 'run1', result: bad, metrics: {} }))).toBe('TRACKER_FORBIDDEN');
    expect((await b.submit({ unitId: 'u1', runId: 'run1', result: good, metrics: { loss: 5 } })).unitStatus).toBe('valid');
    const st = await trainer.getJson<{ status: string; canonicalHash: string; minQuorum: number }>('/api/units/u1');
    expect(st.status).toBe('valid');
    expect(st.minQuorum).toBe(2);
    const sa = await a.providerStatus();
    expect(sa.credit).toBeGreaterThan(0);
    expect(sa.valid).toBe(1);
    // a registration enters the log with the identity's first work request (registry.ts, issue 25): c never asked
    expect(await ledgerKinds(h)).toEqual([
      'provider-registered', 'unit-issued', 'provider-registered', 'unit-issued', 'result-submitted', 'result-submitted',
      'verdict', 'credit-granted', 'verdict', 'credit-granted',
    ]);
  });

  it('a cheater\'s mismatching result is invalid, earns nothing, and its reputation falls', async () => {
    await trainer.createUnits({ run: 'run1', units: [{ id: 'u1', kind: 'eval', spec }] });
    const [a, b, c] = providers as [TrackerClient, TrackerClient, TrackerClient];
    const rep0 = (await c.providerStatus()).reputation;
    await a.work();
    await c.work();
    const good = utf8Encode('honest');
    await a.submit({ unitId: 'u1', runId: 'run1', result: good, metrics: {} });
    expect((await c.submit({ unitId: 'u1', runId: 'run1', result: utf8Encode('cheat'), metrics: {} })).unitStatus).toBe('open');
    // disagreement: the unit needs a third replica, which b gets
    expect((await b.work()).unit?.unitId).toBe('u1');
    expect((await b.submit({ unitId: 'u1', runId: 'run1', result: good, metrics: {} })).unitStatus).toBe('valid');
    const sc = await c.providerStatus();
    expect(sc.credit).toBe(0);
    expect(sc.invalid).toBe(1);
    expect(sc.reputation).toBeLessThan(rep0);
    const lb = await trainer.getJson<{ providers: Array<{ providerId: string; credit: number }>; teams: Array<{ team: string; members: number }> }>('/api/leaderboard');
    // only identities with verified work are on the board (issue 25): c has none
    expect(lb.providers.map((p) => p.providerId).sort()).toEqual([a.key.keyId, b.key.keyId].sort());
    expect(lb.teams).toEqual([expect.objectContaining({ team: 'team-a', members: 2 })]);
    const kinds = await ledgerKinds(h);
    expect(kinds.filter((k) => k === 'verdict')).toHaveLength(3);
    expect(kinds.filter((k) => k === 'credit-granted')).toHaveLength(2);
  });

  it('an expired lease is reissued to another identity, and heartbeats keep a lease alive', async () => {
    await trainer.createUnits({ run: 'run1', units: [{ id: 'u1', kind: 'eval', spec, leaseMs: 10_000 }] });
    const [a, b, c] = providers as [TrackerClient, TrackerClient, TrackerClient];
    await a.work();
    await b.work();
    expect((await c.work()).unit).toBeNull();
    h.clock.advance(8_000);
    const d = await a.heartbeat('u1', 0.5);
    expect(d).toBe(h.clock.now() + 10_000);
    h.clock.advance(4_000); // b's lease (10 s) has passed, a's was extended
    expect((await c.work()).unit?.unitId).toBe('u1');
    // c's request expired b's lease: b's replica is timed out and cannot heartbeat
    expect(await codeOfAsync(b.heartbeat('u1'))).toBe('WU_REPLICA_NOT_IN_PROGRESS');
    expect(await h.service.sweep()).toBeGreaterThanOrEqual(0);
  });

  it('a provider that gives a unit back frees it for someone else at once', async () => {
    await trainer.createUnits({ run: 'run1', units: [{ id: 'u1', kind: 'eval', spec }] });
    const [a, b, c] = providers as [TrackerClient, TrackerClient, TrackerClient];
    await a.work();
    await b.work();
    expect((await c.work()).unit).toBeNull();
    await a.fail('u1', 'PROVIDER_CANCELLED', 'owner pressed Ctrl-C');
    expect((await c.work()).unit?.unitId).toBe('u1');
  });

  it('rejects bad requests with coded errors', async () => {
    const [a] = providers as [TrackerClient];
    const stranger = h.client(keyOf(50));
    expect(await codeOfAsync(stranger.work())).toBe('TRACKER_UNKNOWN_PROVIDER');
    expect(await codeOfAsync(a.createUnits({ run: 'run1', units: [{ id: 'u1', kind: 'eval', spec }] }))).toBe('TRACKER_FORBIDDEN');
    expect(await codeOfAsync(trainer.createUnits({ run: 'run1', units: [{ id: 'u1', kind: 'eval', spec: { ...spec, params: 'f'.repeat(64) } }] }))).toBe('TRACKER_MISSING_INPUT');
    expect(await codeOfAsync(trainer.createUnits({ run: 'run1', units: [{ id: 'u1', kind: 'train', spec }] }))).toBe('TRACKER_BAD_REQUEST');
    expect(await codeOfAsync(trainer.createUnits({ run: 'run1', units: [{ id: 'u1', kind: 'eval', spec: { ...spec, windows: 0 } }] }))).toBe('WORK_BAD_SPEC');
    await trainer.createUnits({ run: 'run1', units: [{ id: 'u1', kind: 'eval', spec }] });
    expect(await codeOfAsync(trainer.createUnits({ run: 'run1', units: [{ id: 'u1', kind: 'eval', spec }] }))).toBe('TRACKER_CONFLICT');
    await a.work();
    // submitting before uploading the blob
    const res = await codeOfAsync(a.json('POST', '/api/results', { unitId: 'u1', resultHash: 'a'.repeat(64), resultBytes: 3, metrics: {}, entry: {} }));
    expect(res).toBe('LEDGER_BAD_ENTRY');
    // blob whose bytes do not match its address
    expect(await codeOfAsync(a.send('PUT', `/api/blobs/${'0'.repeat(64)}`, utf8Encode('x'), { contentType: 'application/octet-stream' }))).toBe('STORAGE_HASH_MISMATCH');
    expect(await codeOfAsync(a.getBlob('0'.repeat(64)))).toBe('STORAGE_NOT_FOUND');
    expect(await codeOfAsync(a.getJson('/api/units/nope'))).toBe('TRACKER_NOT_FOUND');
  });

  it('serves blobs with HTTP Range', async () => {
    const blob = utf8Encode('0123456789');
    const sha = await trainer.putBlob(blob);
    const get = async (range?: string): Promise<Response> => h.app.request(`/api/blobs/${sha}`, range === undefined ? {} : { headers: { range } });
    expect(await (await get()).text()).toBe('0123456789');
    const r = await get('bytes=2-4');
    expect(r.status).toBe(206);
    expect(r.headers.get('content-range')).toBe('bytes 2-4/10');
    expect(await r.text()).toBe('234');
    expect(await (await get('bytes=7-')).text()).toBe('789');
    expect(await (await get('bytes=-3')).text()).toBe('789');
    const bad = await get('bytes=20-30');
    expect(bad.status).toBe(416);
    expect(bad.headers.get('content-range')).toBe('bytes */10');
    expect((await get('bytes=1-2,4-5')).status).toBe(416);
    const head = await h.app.request(`/api/blobs/${sha}`, { method: 'HEAD' });
    expect(head.headers.get('content-length')).toBe('10');
  });
});

describe.each(backends)('tracker work flow on %s: a candidate the state machine turns down', (backend) => {
  it('a unit that errors out when its expired lease is counted is skipped, and the next unit is leased in the same request', async () => {
    const h = await startHarness({ db: backend, suite: 'work_flow_limit', service: { maxErrorResults: 0 } });
    try {
      const trainer = h.client(h.trainerKey);
      const u = nanoEvalUnit();
      for (const b of u.blobs) await trainer.putBlob(b);
      const [a, b] = await Promise.all([1, 2].map(async (i) => {
        const p = h.client(keyOf(i));
        await p.register(`p${i}`, CAPS);
        return p;
      }));
      await trainer.createUnits({ run: 'run1', units: [{ id: 'u1', kind: 'eval', spec: u.spec, leaseMs: 10_000 }] });
      expect((await a!.work()).unit?.unitId).toBe('u1'); // a new identity: u1 now wants a second replica
      h.clock.advance(1);
      await trainer.createUnits({ run: 'run1', units: [{ id: 'u2', kind: 'eval', spec: u.spec, leaseMs: 10_000 }] });
      h.clock.advance(11_000); // a's lease runs out, no sweep in between
      // u1 is still indexed as short of a replica and is the oldest candidate;
      // counting a's missed deadline passes max_error_results (0), so the state
      // machine errors it out and the same request goes on to u2
      expect((await b!.work()).unit?.unitId).toBe('u2');
      expect((await h.service.unitStatus('u1')).status).toBe('error');
    } finally {
      await h.close();
    }
  });
});

describe.each(backends)('tracker work flow on %s: reissue to a timed-out holder (issue 24)', (backend) => {
  let h: Harness;
  let trainer: TrackerClient;
  let spec: Record<string, unknown>;
  const provider = async (i: number): Promise<TrackerClient> => {
    const p = h.client(keyOf(i));
    await p.register(`p${i}`, CAPS);
    return p;
  };
  const replicaOf = async (who: TrackerClient) => (await h.service.unitStatus('u1')).replicas.filter((r) => r.provider === who.key.keyId);

  beforeEach(async () => {
    h = await startHarness({ db: backend, suite: 'work_flow_reissue' });
    trainer = h.client(h.trainerKey);
    const u = nanoEvalUnit();
    for (const b of u.blobs) await trainer.putBlob(b);
    spec = u.spec;
    await trainer.createUnits({ run: 'run1', units: [{ id: 'u1', kind: 'eval', spec, leaseMs: 10_000 }] });
  });
  afterEach(async () => h.close());

  it('two providers whose leases both ran out: the unit goes back to them once no provider that never held it is online, and validates', async () => {
    const a = await provider(1);
    const b = await provider(2);
    expect((await a.work()).unit?.unitId).toBe('u1');
    expect((await b.work()).unit?.unitId).toBe('u1'); // new identities: quorum 2
    const first = (await replicaOf(a))[0]!;
    h.clock.advance(11_000); // both leases run out (both providers were killed, say)
    const c = await provider(3); // online, never held u1: it goes first
    expect((await a.work()).unit).toBeNull();
    expect((await c.work()).unit?.unitId).toBe('u1');
    // now every online provider has held u1 and a's replica timed out: a gets it again
    const again = await a.work();
    expect(again.unit?.unitId).toBe('u1');
    expect(again.unit?.leaseDeadlineMs).toBe(h.clock.now() + 10_000);
    const mine = await replicaOf(a);
    expect(mine).toHaveLength(1); // the same replica, leased again
    expect(mine[0]).toMatchObject({ id: first.id, state: 'in-progress' });
    expect((await b.work()).unit).toBeNull(); // the unit has its two live replicas
    const good = utf8Encode('the same result bytes');
    await a.submit({ unitId: 'u1', runId: 'run1', result: good, metrics: {} });
    expect((await c.submit({ unitId: 'u1', runId: 'run1', result: good, metrics: {} })).unitStatus).toBe('valid');
    expect((await a.providerStatus()).credit).toBeGreaterThan(0);
    const kinds = await ledgerKinds(h);
    expect(kinds.filter((k) => k === 'unit-issued')).toHaveLength(4); // a, b, c, a again
    expect(kinds.filter((k) => k === 'credit-granted')).toHaveLength(2);
  });

  it('a provider whose result was rejected or inconclusive, or who gave the unit back, never gets it again; one that timed out does', async () => {
    const [a, b, c] = [await provider(1), await provider(2), await provider(3)];
    await a.work();
    await b.work();
    await a.submit({ unitId: 'u1', runId: 'run1', result: utf8Encode('one answer'), metrics: {} });
    expect((await b.submit({ unitId: 'u1', runId: 'run1', result: utf8Encode('another'), metrics: {} })).unitStatus).toBe('open');
    expect((await c.work()).unit?.unitId).toBe('u1'); // the tie needs a third replica
    await c.fail('u1', 'PROVIDER_ERROR', 'out of memory');
    h.clock.advance(60_000); // nobody new is online
    for (const p of [a, b, c]) expect((await p.work()).unit).toBeNull();
    const d = await provider(4);
    expect((await d.work()).unit?.unitId).toBe('u1');
    h.clock.advance(11_000); // d's lease runs out
    for (const p of [a, b, c]) expect((await p.work()).unit).toBeNull();
    expect((await d.work()).unit?.unitId).toBe('u1');
    expect((await d.submit({ unitId: 'u1', runId: 'run1', result: utf8Encode('one answer'), metrics: {} })).unitStatus).toBe('valid');
  });

  it('a provider that keeps timing out errors the unit out (each expired lease counts towards max_error_results)', async () => {
    const a = await provider(1);
    expect((await a.work()).unit?.unitId).toBe('u1');
    let leases = 1;
    for (;;) {
      h.clock.advance(11_000);
      const w = await a.work();
      if (w.unit === null) break;
      leases++;
      expect(leases).toBeLessThan(20);
    }
    const st = await h.service.unitStatus('u1');
    expect(st.status).toBe('error');
    expect(leases).toBe(5); // max_error_results 4: the fifth expired lease errors it out
  });
});

describe.each(backends)('tracker work flow on %s: late results (issue 24)', (backend) => {
  it('results that arrive after their leases ran out count while the unit has no canonical result, and earn credit', async () => {
    const h = await startHarness({ db: backend, suite: 'work_flow_late' });
    try {
      const trainer = h.client(h.trainerKey);
      const u = nanoEvalUnit();
      for (const b of u.blobs) await trainer.putBlob(b);
      const [a, b, c] = await Promise.all([1, 2, 3].map(async (i) => {
        const p = h.client(keyOf(i));
        await p.register(`p${i}`, CAPS);
        return p;
      })) as [TrackerClient, TrackerClient, TrackerClient];
      await trainer.createUnits({ run: 'run1', units: [{ id: 'u1', kind: 'eval', spec: u.spec, leaseMs: 10_000 }] });
      await a.work();
      await b.work();
      h.clock.advance(30_000); // the tracker was down for longer than a lease
      await h.service.sweep();
      expect((await h.service.unitStatus('u1')).replicas.map((r) => r.state)).toEqual(['timed-out', 'timed-out']);
      const good = utf8Encode('the same result bytes');
      expect((await a.submit({ unitId: 'u1', runId: 'run1', result: good, metrics: {} })).unitStatus).toBe('open');
      expect((await b.submit({ unitId: 'u1', runId: 'run1', result: good, metrics: {} })).unitStatus).toBe('valid');
      expect((await a.providerStatus()).credit).toBeGreaterThan(0);
      expect((await b.providerStatus()).credit).toBeGreaterThan(0);
      // a late result for a unit that errored out (a closed round cancels it) is recorded too late: no credit
      await trainer.createUnits({ run: 'run1', units: [{ id: 'u2', kind: 'eval', spec: u.spec, leaseMs: 10_000 }] });
      await c.work();
      h.clock.advance(30_000);
      await h.db.transaction((tx) => h.service.cancelUnits(tx, ['u2'], h.clock.now()));
      expect((await c.submit({ unitId: 'u2', runId: 'run1', result: good, metrics: {} })).unitStatus).toBe('error');
      expect((await c.providerStatus()).credit).toBe(0);
      // a result for a unit the tracker does not know is refused with a code (the provider drops it)
      expect(await codeOfAsync(c.submit({ unitId: 'gone', runId: 'run1', result: good, metrics: {} }))).toBe('TRACKER_NOT_FOUND');
    } finally {
      await h.close();
    }
  });
});
