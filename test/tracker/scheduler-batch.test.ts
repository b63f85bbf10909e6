/**
 * The batched scheduler request (issue 16, POST /api/scheduler): one signed
 * exchange reports results (inline or uploaded) and failures and leases up
 * to `want` units; a bad result among good ones is refused by name while
 * the good ones count; a refused batch (replayed, malformed, too many
 * entries) changes nothing stored.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { utf8Encode } from '../../src/core/encoding.ts';
import { sha256Hex } from '../../src/core/sha256.ts';
import { MAX_BATCH_RESULTS, MAX_BATCH_UNITS } from '../../src/protocol/schemas.ts';
import type { BatchedResult } from '../../src/protocol/schemas.ts';
import { signRequest } from '../../src/protocol/signing.ts';
import type { TrackerClient } from '../../src/provider/client.ts';
import { keyOf, nanoEvalUnit, startHarness } from './harness.ts';
import type { Harness } from './harness.ts';

const backends: Array<'pglite' | 'postgres'> = process.env.SWARM_TEST_PG_URL ? ['pglite', 'postgres'] : ['pglite'];

async function counts(h: Harness): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of ['ledger_entries', 'replicas', 'blobs', 'units']) {
    const r = await h.db.query<{ n: string }>(`SELECT count(*) AS n FROM ${t}`);
    out[t] = Number(r[0]!.n);
  }
  return out;
}

const resultOf = (unitId: string): Uint8Array => utf8Encode(`result of ${unitId}`);

describe.each(backends)('the batched scheduler request on %s', (backend) => {
  let h: Harness;
  let alice: TrackerClient;
  let bob: TrackerClient;
  const ids = Array.from({ length: 6 }, (_, i) => `u${i}`);

  beforeAll(async () => {
    h = await startHarness({ db: backend, suite: 'scheduler_batch' });
    const trainer = h.client(h.trainerKey);
    const u = nanoEvalUnit();
    for (const b of u.blobs) await trainer.putBlob(b);
    await trainer.createUnits({ run: 'run1', units: ids.map((id) => ({ id, kind: 'eval' as const, spec: u.spec })) });
    alice = h.client(keyOf(1));
    bob = h.client(keyOf(2));
    await alice.register('alice', { threads: 1, memoryBytes: 1 });
    await bob.register('bob', { threads: 1, memoryBytes: 1 });
  }, 60_000);
  afterAll(async () => h?.close());

  it('leases up to `want` units in one exchange, each with its unit-issued entry', async () => {
    const before = await counts(h);
    const r = await alice.schedule({ want: 4 });
    expect(r.units.map((u) => u.unitId)).toEqual(['u0', 'u1', 'u2', 'u3']);
    expect(r.retryAfterMs).toBeUndefined();
    const after = await counts(h);
    // four unit-issued entries, after alice's registration, which waited for her first work request (registry.ts, issue 25)
    expect(after.ledger_entries - before.ledger_entries).toBe(5);
    expect(after.replicas - before.replicas).toBe(4);
    // new identities are replicated (adaptive.ts): each unit now wants a second provider
    for (const u of r.units) expect((await h.service.unitStatus(u.unitId)).minQuorum).toBe(2);
  });

  it('reports results inline with the next request; a quorum of two makes them valid and credits both', async () => {
    const a = await Promise.all(['u0', 'u1'].map((id) => alice.prepareResult({ unitId: id, runId: 'run1', result: resultOf(id), metrics: { loss: 1 } })));
    expect(a.every((x) => x.data !== undefined)).toBe(true);
    const r1 = await alice.schedule({ results: a, want: 0 });
    expect(r1.results).toEqual([{ unitId: 'u0', ok: true, unitStatus: 'open' }, { unitId: 'u1', ok: true, unitStatus: 'open' }]);
    expect(r1.units).toEqual([]);
    const leased = await bob.schedule({ want: 2 });
    expect(leased.units.map((u) => u.unitId)).toEqual(['u0', 'u1']);
    const b = await Promise.all(['u0', 'u1'].map((id) => bob.prepareResult({ unitId: id, runId: 'run1', result: resultOf(id), metrics: {} })));
    const r2 = await bob.schedule({ results: b, want: 0 });
    expect(r2.results.map((x) => x.ok && x.unitStatus)).toEqual(['valid', 'valid']);
    for (const id of ['u0', 'u1']) {
      const s = await h.service.unitStatus(id);
      expect(s.status).toBe('valid');
      expect(s.canonicalHash).toBe(sha256Hex(resultOf(id)));
    }
    expect((await alice.providerStatus()).valid).toBe(2);
    expect((await bob.providerStatus()).valid).toBe(2);
    expect((await bob.providerStatus()).credit).toBeGreaterThan(0);
  });

  it('a bad result among good ones: the good ones count, the bad one is refused by name and changes nothing', async () => {
    const good = await alice.prepareResult({ unitId: 'u2', runId: 'run1', result: resultOf('u2'), metrics: {} });
    // bytes that do not hash to the announced result: refused, not stored
    const lying: BatchedResult = { ...(await alice.prepareResult({ unitId: 'u3', runId: 'run1', result: resultOf('u3'), metrics: {} })), data: Buffer.from('something else!!!!').toString('base64') };
    lying.resultBytes = 18;
    // a unit alice holds no replica of
    const foreign = await alice.prepareResult({ unitId: 'u5', runId: 'run1', result: resultOf('u5'), metrics: {} });
    const before = await counts(h);
    const r = await alice.schedule({ results: [lying, foreign, good], want: 0 });
    expect(r.results).toEqual([
      { unitId: 'u2', ok: true, unitStatus: 'open' },
      { unitId: 'u3', ok: false, error: expect.objectContaining({ code: 'STORAGE_HASH_MISMATCH' }) },
      { unitId: 'u5', ok: false, error: expect.objectContaining({ code: 'TRACKER_FORBIDDEN' }) },
    ]);
    const after = await counts(h);
    // one result-submitted entry (u2) and its blob; nothing for u3 or u5
    expect(after.ledger_entries - before.ledger_entries).toBe(1);
    expect(after.blobs - before.blobs).toBe(1);
    expect((await h.service.unitStatus('u3')).replicas[0]!.state).toBe('in-progress');
    // the same result again (its acknowledgement was lost) is acknowledged, changing nothing
    const again = await alice.schedule({ results: [good], want: 0 });
    expect(again.results).toEqual([{ unitId: 'u2', ok: true, unitStatus: 'open' }]);
    expect(await counts(h)).toEqual(after);
  });

  it('gives units back as failures in the same exchange, and leases what is left', async () => {
    const r = await alice.schedule({ failures: [{ unitId: 'u3', code: 'PROVIDER_STOPPED', message: 'stopping' }], want: MAX_BATCH_UNITS });
    expect(r.failures).toEqual([{ unitId: 'u3', ok: true }]);
    expect((await h.service.unitStatus('u3')).replicas[0]!.state).toBe('error');
    // alice holds u0..u3 already; only u4 and u5 are new to her, and fewer than wanted means a retry hint
    expect(r.units.map((u) => u.unitId)).toEqual(['u4', 'u5']);
    expect(r.retryAfterMs).toBeGreaterThan(0);
  });

  it('refuses replayed, oversized-in-count and self-contradictory batches with a coded 4xx, storing nothing', async () => {
    const before = await counts(h);
    const firstStatus: number[] = [];
    const send = async (value: unknown, o: { replay?: boolean } = {}): Promise<{ status: number; code: string }> => {
      const body = utf8Encode(JSON.stringify(value));
      const headers = { ...signRequest({ method: 'POST', path: '/api/scheduler', body, key: keyOf(1), clock: h.clock, nonce: () => new Uint8Array(randomBytes(16)) }), 'content-type': 'application/json' };
      const first = await h.app.request('/api/scheduler', { method: 'POST', body, headers });
      firstStatus.push(first.status);
      const res = o.replay === true ? await h.app.request('/api/scheduler', { method: 'POST', body, headers }) : first;
      return { status: res.status, code: ((await res.json()) as { error?: { code: string } }).error?.code ?? '' };
    };
    const one = await alice.prepareResult({ unitId: 'u4', runId: 'run1', result: resultOf('u4'), metrics: {} });
    expect(await send({ want: MAX_BATCH_UNITS + 1 })).toEqual({ status: 400, code: 'PROTOCOL_INVALID' });
    expect(await send({ results: Array.from({ length: MAX_BATCH_RESULTS + 1 }, () => one), want: 0 })).toEqual({ status: 400, code: 'PROTOCOL_INVALID' });
    expect(await send({ results: [one], failures: [{ unitId: 'u4', code: 'X', message: '' }], want: 0 })).toEqual({ status: 400, code: 'PROTOCOL_INVALID' });
    expect(await send({ results: [{ ...one, data: 'not base64!' }], want: 0 })).toEqual({ status: 400, code: 'PROTOCOL_INVALID' });
    expect(await send({ want: 0, extra: 1 })).toEqual({ status: 400, code: 'PROTOCOL_INVALID' });
    expect(await counts(h)).toEqual(before);
    // a replayed batch: the first copy acts (want 0: it leases nothing), the second is refused
    expect(await send({ want: 0 }, { replay: true })).toEqual({ status: 409, code: 'PROTOCOL_REPLAY' });
    expect(firstStatus.at(-1)).toBe(200);
    // an unregistered key is refused before its body is read
    const stranger = h.client(keyOf(9));
    await expect(stranger.schedule({ want: 1 })).rejects.toMatchObject({ code: 'TRACKER_UNKNOWN_PROVIDER' });
    expect(await counts(h)).toEqual(before);
  });
});
