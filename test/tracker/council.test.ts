/**
 * The Steering Council through the tracker's HTTP API (issue 20): a 2-of-3
 * council proposes and votes with signed requests and self-signed vote
 * entries; decisions take effect only at the threshold; bad votes and bad
 * proposals change nothing; a ban stops a provider on its next request and
 * sends its unit to another; and the resulting log passes `swarm audit`'s
 * checks (ledger/audit.ts).
 *
 * One tracker per database kind (a fresh database costs seconds): PGlite,
 * and PostgreSQL when SWARM_TEST_PG_URL is set (CI sets it). The tests run
 * in order and each leaves the council as it found it (2 of A, B, C), but
 * the last, which removes C; credit is compared before and after.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { utf8Encode } from '../../src/core/encoding.ts';
import { auditLog } from '../../src/ledger/audit.ts';
import { approveCouncilDecision } from '../../src/ledger/council.ts';
import { createEntry, decodeEntry } from '../../src/ledger/entry.ts';
import type { LedgerEntry } from '../../src/ledger/entry.ts';
import { leafHash, rootHash } from '../../src/ledger/merkle.ts';
import { signTreeHead } from '../../src/ledger/tree-head.ts';
import type { ProposalView } from '../../src/protocol/council.ts';
import { councilVoteEntry } from '../../src/protocol/entries.ts';
import type { TrackerClient } from '../../src/provider/client.ts';
import { propose, vote } from '../../src/cli/council.ts';
import { sha256Hex } from '../../src/core/sha256.ts';
import { createRefBackend } from '../../src/tensor/backend/ref.ts';
import { Engine } from '../../src/tensor/tensor.ts';
import { runUnit } from '../../src/train/work/run-unit.ts';
import { codeOfAsync } from '../helpers/errors.ts';
import { keyOf, nanoEvalUnit, startHarness } from './harness.ts';
import { PG_URL } from './ledger/backends.ts';
import type { Harness } from './harness.ts';

const [A, B, C] = [keyOf(31), keyOf(32), keyOf(33)];
const OUTSIDER = keyOf(34);


async function log(h: Harness): Promise<LedgerEntry[]> {
  const rows = await h.db.query<{ leaf_input: Uint8Array }>('SELECT leaf_input FROM ledger_entries ORDER BY seq');
  return rows.map((r) => decodeEntry(new Uint8Array(r.leaf_input)));
}

async function audit(h: Harness): Promise<ReturnType<typeof auditLog>> {
  const leaves = (await h.db.query<{ leaf_input: Uint8Array }>('SELECT leaf_input FROM ledger_entries ORDER BY seq')).map((r) => new Uint8Array(r.leaf_input));
  const head = signTreeHead({ treeSize: leaves.length, timestamp: h.clock.now(), rootHash: rootHash(leaves.map(leafHash)) }, h.trackerKey);
  return auditLog({ leafInputs: leaves, head, trackerKey: h.trackerKey.publicKeyRaw });
}

const backends: Array<'pglite' | 'postgres'> = PG_URL === undefined ? ['pglite'] : ['pglite', 'postgres'];
if (PG_URL === undefined) console.log('council: PostgreSQL run skipped (set SWARM_TEST_PG_URL to run it)');

describe.each(backends)('council through the tracker (2 of 3) on %s', (backend) => {
  let h: Harness;
  let a: TrackerClient;
  let b: TrackerClient;
  let c: TrackerClient;
  let outsider: TrackerClient;
  let p1: TrackerClient;

  beforeAll(async () => {
    h = await startHarness({ db: backend, suite: 'council' });
    await h.service.council.form([A.keyId, B.keyId, C.keyId], 2);
    [a, b, c, outsider] = [A, B, C, OUTSIDER].map((k) => h.client(k)) as [TrackerClient, TrackerClient, TrackerClient, TrackerClient];
    p1 = h.client(keyOf(41));
    await p1.register('p1', { threads: 1, memoryBytes: 2 ** 30 });
  }, 60_000);
  afterAll(async () => h.close());
  const credit = async (): Promise<number> => (await p1.providerStatus()).credit;

  it('one approval does not enact; the second does, and the log holds the proposal, both votes and the decision', async () => {
    const size = (await log(h)).length;
    const p = await propose(a, { action: 'credit-adjust', subject: p1.key.keyId, params: { change: 'grant', amount: 7, reason: 'ran the tracker benchmark' } });
    expect(p).toMatchObject({ id: 'proposal-1', status: 'open', threshold: 2, approvals: 0 });
    expect((await vote(a, p.id, 'approve', h.clock)).status).toBe('open');
    expect(await credit()).toBe(0);
    const done = await vote(b, p.id, 'approve', h.clock);
    expect(done).toMatchObject({ status: 'enacted', approvals: 2 });
    expect(await credit()).toBe(7);
    const kinds = (await log(h)).slice(size).map((e) => e.kind);
    expect(kinds).toEqual(['council-proposal', 'council-vote', 'council-vote', 'council-decision', 'credit-adjusted']);
    const decision = (await log(h)).find((e) => e.kind === 'council-decision' && e.body.decision === p.id)!;
    expect(decision.kind === 'council-decision' && decision.body.approvals.map((x) => x.key).sort()).toEqual([A.keyId, B.keyId].sort());
    // a third vote on an enacted proposal is refused
    expect(await codeOfAsync(vote(c, p.id, 'approve', h.clock))).toBe('COUNCIL_PROPOSAL_CLOSED');
    const report = await audit(h);
    expect(report.firstBad).toBeUndefined();
    expect(report.counts['council-formed']).toBe(1);
    expect(report.counts['credit-adjusted']).toBe(1);
  });

  it('two rejections of three reject a 2-of-3 proposal', async () => {
    const p = await propose(a, { action: 'ban', subject: p1.key.keyId, params: { reason: 'test' } });
    expect((await vote(b, p.id, 'reject', h.clock)).status).toBe('open');
    expect((await vote(c, p.id, 'reject', h.clock)).status).toBe('rejected');
    expect((await p1.providerStatus()).banned).toBe(false);
    expect(await codeOfAsync(vote(a, p.id, 'approve', h.clock))).toBe('COUNCIL_PROPOSAL_CLOSED');
  });

  it('forged, replayed, duplicate, outsider and late votes do not count, and nothing of them is logged', async () => {
    const p = await propose(a, { action: 'member-add', subject: OUTSIDER.keyId });
    const size = (await log(h)).length;
    // an outsider: refused before its body is read
    expect(await codeOfAsync(vote(outsider, p.id, 'approve', h.clock))).toBe('COUNCIL_NOT_A_MEMBER');
    // a vote entry signed by another member than the request's signer
    const byB = councilVoteEntry(B, h.clock.now(), p.proposal, 'approve');
    expect(await codeOfAsync(a.json('POST', `/api/council/proposals/${p.id}/votes`, { entry: byB }))).toBe('COUNCIL_BAD_VOTE');
    // a forged entry signature (the body changed after signing)
    const rejection = councilVoteEntry(A, h.clock.now(), p.proposal, 'reject');
    const approveBody = councilVoteEntry(A, h.clock.now(), p.proposal, 'approve').body;
    expect(await codeOfAsync(a.json('POST', `/api/council/proposals/${p.id}/votes`, { entry: { ...rejection, body: approveBody } }))).toBe('LEDGER_BAD_SIGNATURE');
    // an approval that signs another proposal (a different subject)
    const wrongApproval = approveCouncilDecision({ ...p.proposal, subject: C.keyId }, A).sig;
    const badApproval = createEntry({ kind: 'council-vote', time: h.clock.now(), body: { ...approveBody, approval: wrongApproval } }, A);
    expect(await codeOfAsync(a.json('POST', `/api/council/proposals/${p.id}/votes`, { entry: badApproval }))).toBe('COUNCIL_BAD_APPROVAL');
    // a vote entry made far from the tracker's clock
    const stale = councilVoteEntry(A, h.clock.now() - 3_600_000, p.proposal, 'approve');
    expect(await codeOfAsync(a.json('POST', `/api/council/proposals/${p.id}/votes`, { entry: stale }))).toBe('COUNCIL_BAD_VOTE');
    expect((await log(h)).length).toBe(size);
    // one good vote; the same entry again (a replay in a fresh request) is a duplicate
    const good = councilVoteEntry(A, h.clock.now(), p.proposal, 'approve');
    expect((await a.json<ProposalView>('POST', `/api/council/proposals/${p.id}/votes`, { entry: good })).approvals).toBe(1);
    expect(await codeOfAsync(a.json('POST', `/api/council/proposals/${p.id}/votes`, { entry: good }))).toBe('COUNCIL_DUPLICATE_VOTE');
    expect(await codeOfAsync(vote(a, p.id, 'reject', h.clock))).toBe('COUNCIL_DUPLICATE_VOTE');
    expect((await log(h)).length).toBe(size + 1);
    expect((await h.service.council.show(p.id)).status).toBe('open');
    // after the expiry (a week by default) no vote counts, and the proposal reads as expired
    h.clock.advance(7 * 24 * 3_600_000 + 1);
    expect(await codeOfAsync(vote(b, p.id, 'approve', h.clock))).toBe('COUNCIL_PROPOSAL_EXPIRED');
    expect((await h.service.council.show(p.id)).status).toBe('expired');
    expect((await h.service.council.view()).members).not.toContain(OUTSIDER.keyId);
    expect((await audit(h)).ok).toBe(true);
  });

  it('a threshold change applies to proposals opened after it, not to those already open', async () => {
    const credit0 = await credit();
    const before = await propose(a, { action: 'credit-adjust', subject: p1.key.keyId, params: { change: 'grant', amount: 2, reason: 'x' } });
    const t = await propose(a, { action: 'threshold', subject: 'council', params: { threshold: 3 } });
    await vote(a, t.id, 'approve', h.clock);
    expect((await vote(b, t.id, 'approve', h.clock)).status).toBe('enacted');
    expect((await h.service.council.view()).threshold).toBe(3);
    const after = await propose(a, { action: 'credit-adjust', subject: p1.key.keyId, params: { change: 'grant', amount: 3, reason: 'y' } });
    expect(after.threshold).toBe(3);
    await vote(a, before.id, 'approve', h.clock);
    expect((await vote(b, before.id, 'approve', h.clock)).status).toBe('enacted'); // still 2 of 3
    await vote(a, after.id, 'approve', h.clock);
    expect((await vote(b, after.id, 'approve', h.clock)).status).toBe('open');
    expect((await vote(c, after.id, 'approve', h.clock)).status).toBe('enacted');
    expect(await credit()).toBe(credit0 + 5);
    // back to 2 of 3, which now takes all three
    const back = await propose(b, { action: 'threshold', subject: 'council', params: { threshold: 2 } });
    for (const m of [a, b, c]) await vote(m, back.id, 'approve', h.clock);
    expect((await h.service.council.view()).threshold).toBe(2);
    expect((await audit(h)).ok).toBe(true);
  });

  it('bad proposals are refused with codes before anything is appended', async () => {
    const size = (await log(h)).length;
    const bad: Array<[unknown, string]> = [
      [{ action: 'mint', subject: 'x' }, 'PROTOCOL_INVALID'],
      [{ action: 'ban', subject: p1.key.keyId }, 'COUNCIL_BAD_PROPOSAL'], // no reason
      [{ action: 'ban', subject: 'not-a-key', params: { reason: 'x' } }, 'COUNCIL_BAD_PROPOSAL'],
      [{ action: 'run-parameters', subject: 'run1', params: { replication: 0 } }, 'COUNCIL_BAD_PROPOSAL'],
      [{ action: 'threshold', subject: 'council', params: { threshold: 4 } }, 'COUNCIL_NOT_APPLICABLE'],
      [{ action: 'member-remove', subject: OUTSIDER.keyId }, 'COUNCIL_NOT_APPLICABLE'],
      [{ action: 'ban', subject: OUTSIDER.keyId, params: { reason: 'x' } }, 'COUNCIL_UNKNOWN_IDENTITY'],
      [{ action: 'release', subject: 'sovereign-nano-v1', params: { checkpoint: 'ab'.repeat(32) } }, 'COUNCIL_UNKNOWN_CHECKPOINT'],
      [{ action: 'release', subject: 'Bad Name', params: { checkpoint: 'ab'.repeat(32) } }, 'COUNCIL_BAD_PROPOSAL'],
      [{ action: 'run-parameters', subject: 'run1', params: { replication: 3 } }, 'COUNCIL_UNKNOWN_RUN'], // units of run1, but no DiLoCo run
      [{ action: 'run-parameters', subject: 'run1', params: { replication: 9 } }, 'COUNCIL_BAD_PROPOSAL'],
      [{ action: 'dispute', subject: 'run1', params: { units: [], reason: 'x' } }, 'COUNCIL_BAD_PROPOSAL'],
      [{ action: 'credit-adjust', subject: p1.key.keyId, params: { change: 'grant', amount: 1, reason: 'x', extra: 1 } }, 'COUNCIL_BAD_PROPOSAL'],
      [{ action: 'ban', subject: p1.key.keyId, params: { reason: 'x' }, expiresInMs: 1 }, 'PROTOCOL_INVALID'],
    ];
    for (const [req, code] of bad) expect([req, await codeOfAsync(a.json('POST', '/api/council/proposals', req))]).toEqual([req, code]);
    expect(await codeOfAsync(propose(outsider, { action: 'member-add', subject: OUTSIDER.keyId }))).toBe('COUNCIL_NOT_A_MEMBER');
    expect(await codeOfAsync(vote(a, 'proposal-99', 'approve', h.clock))).toBe('COUNCIL_UNKNOWN_PROPOSAL');
    expect((await log(h)).length).toBe(size);
  });

  it('a ban refuses the provider on its next request, discards its unjudged replica, and the unit goes to another', async () => {
    const trainer = h.client(h.trainerKey);
    const u = nanoEvalUnit();
    for (const blob of u.blobs) await trainer.putBlob(blob);
    const p2 = h.client(keyOf(42));
    const p3 = h.client(keyOf(43));
    for (const [cl, name] of [[p2, 'p2'], [p3, 'p3']] as const) await cl.register(name, { threads: 1, memoryBytes: 2 ** 30 });
    await trainer.createUnits({ run: 'run1', units: [{ id: 'u1', kind: 'eval', spec: u.spec }] });
    expect((await p1.work()).unit?.unitId).toBe('u1');
    expect((await p2.work()).unit?.unitId).toBe('u1');
    await p1.submit({ unitId: 'u1', runId: 'run1', result: utf8Encode('wrong'), metrics: {} });
    const p = await propose(a, { action: 'ban', subject: p1.key.keyId, params: { reason: 'submitted wrong results' } });
    await vote(a, p.id, 'approve', h.clock);
    expect((await vote(b, p.id, 'approve', h.clock)).status).toBe('enacted');
    expect(await codeOfAsync(p1.work())).toBe('TRACKER_BANNED');
    expect(await codeOfAsync(p1.schedule({ want: 1 }))).toBe('TRACKER_BANNED');
    const status = await h.app.request(`/api/providers/${p1.key.keyId}`);
    expect(await status.json()).toMatchObject({ banned: true, bannedBy: p.id });
    // p1's reported result was discarded: the unit needs another replica, which p3 gets, and p2 + p3 agree
    expect((await p3.work()).unit?.unitId).toBe('u1');
    await p2.submit({ unitId: 'u1', runId: 'run1', result: utf8Encode('right'), metrics: {} });
    expect((await p3.submit({ unitId: 'u1', runId: 'run1', result: utf8Encode('right'), metrics: {} })).unitStatus).toBe('valid');
    const entries = await log(h);
    const discarded = entries.find((e) => e.kind === 'verdict' && e.body.provider === p1.key.keyId);
    expect(discarded?.kind === 'verdict' && discarded.body.outcome).toBe('invalid');
    expect(discarded?.kind === 'verdict' && discarded.body.reason).toContain(p.id);
    // an unban lets it back
    const un = await propose(a, { action: 'unban', subject: p1.key.keyId });
    await vote(a, un.id, 'approve', h.clock);
    await vote(c, un.id, 'approve', h.clock);
    expect((await p1.work()).unit).toBeNull();
    expect((await audit(h)).ok).toBe(true);
  });

  it('the genesis is logged once; another genesis for the same database is refused', async () => {
    expect(await h.service.council.form([A.keyId, B.keyId, C.keyId], 2)).toEqual({ formed: false });
    expect(await codeOfAsync(h.service.council.form([A.keyId], 1))).toBe('COUNCIL_GENESIS_MISMATCH');
    expect(await codeOfAsync(h.service.council.form([A.keyId, A.keyId], 1))).toBe('COUNCIL_BAD_GENESIS');
    expect(await codeOfAsync(h.service.council.form([A.keyId], 2))).toBe('COUNCIL_BAD_GENESIS');
    expect((await log(h)).filter((e) => e.kind === 'council-formed')).toHaveLength(1);
  });

  it('a dispute over a unit where two colluders agreed on a wrong hash revokes their credit, credits the honest one, and the audit holds', async () => {
    const trainer = h.client(h.trainerKey);
    const u = nanoEvalUnit(9);
    for (const blob of u.blobs) await trainer.putBlob(blob);
    await trainer.createUnits({ run: 'run1', units: [{ id: 'u2', kind: 'eval', spec: u.spec }] });
    // the honest result, computed here as any provider would
    const blobs = new Map(u.blobs.map((b) => [sha256Hex(b), b]));
    const honest = runUnit(new Engine(createRefBackend()), u.spec, (x) => blobs.get(x)).result;
    const [good, c1, c2] = [keyOf(44), keyOf(45), keyOf(46)].map((k) => h.client(k)) as [TrackerClient, TrackerClient, TrackerClient];
    for (const [cl, name] of [[good, 'good'], [c1, 'c1'], [c2, 'c2']] as const) await cl.register(name, { threads: 1, memoryBytes: 2 ** 30 });
    const wrong = utf8Encode('colluded');
    expect((await good.work()).unit?.unitId).toBe('u2');
    expect((await c1.work()).unit?.unitId).toBe('u2');
    await good.submit({ unitId: 'u2', runId: 'run1', result: honest, metrics: {} });
    await c1.submit({ unitId: 'u2', runId: 'run1', result: wrong, metrics: {} });
    expect((await c2.work()).unit?.unitId).toBe('u2'); // no agreement: a third replica
    expect((await c2.submit({ unitId: 'u2', runId: 'run1', result: wrong, metrics: {} })).unitStatus).toBe('valid');
    const before = await Promise.all([good, c1, c2].map((x) => x.providerStatus()));
    expect(before.map((x) => [x.valid, x.invalid])).toEqual([[0, 1], [1, 0], [1, 0]]);
    const credit = before[1]!.credit;
    expect(credit).toBeGreaterThan(0);
    // bad disputes first: an unknown unit, a unit of another run
    expect(await codeOfAsync(propose(a, { action: 'dispute', subject: 'run1', params: { units: ['nope'], reason: 'x' } }))).toBe('COUNCIL_UNKNOWN_UNIT');
    expect(await codeOfAsync(propose(a, { action: 'dispute', subject: 'run2', params: { units: ['u2'], reason: 'x' } }))).toBe('COUNCIL_UNKNOWN_UNIT');
    const p = await propose(a, { action: 'dispute', subject: 'run1', params: { units: ['u2'], reason: 'two new identities agreed' } });
    // the proposal carries the tracker's re-execution: members approve the evidence
    expect(p.params.findings).toEqual([{ unit: 'u2', accepted: sha256Hex(wrong), recomputed: sha256Hex(honest) }]);
    await vote(a, p.id, 'approve', h.clock);
    expect((await vote(c, p.id, 'approve', h.clock)).status).toBe('enacted');
    const after = await Promise.all([good, c1, c2].map((x) => x.providerStatus()));
    expect(after.map((x) => [x.valid, x.invalid])).toEqual([[1, 0], [0, 1], [0, 1]]);
    expect(after.map((x, i) => x.credit - before[i]!.credit)).toEqual([credit, -credit, -credit]);
    const adjusted = (await log(h)).filter((e) => e.kind === 'credit-adjusted' && e.body.decision === p.id);
    expect(adjusted.map((e) => e.kind === 'credit-adjusted' && [e.body.provider, e.body.change, e.body.amount, e.body.unit]).sort()).toEqual(
      [[good.key.keyId, 'grant', credit, 'u2'], [c1.key.keyId, 'revoke', credit, 'u2'], [c2.key.keyId, 'revoke', credit, 'u2']].sort(),
    );
    const report = await audit(h);
    expect(report.firstBad).toBeUndefined();
    expect(report.ok).toBe(true);
  });

  it('a removed member\'s earlier approval stops counting (last: it leaves the council at A and B)', async () => {
    const before = await credit();
    const p = await propose(a, { action: 'credit-adjust', subject: p1.key.keyId, params: { change: 'grant', amount: 1, reason: 'x' } });
    await vote(c, p.id, 'approve', h.clock);
    // remove c (A and B approve)
    const rm = await propose(a, { action: 'member-remove', subject: C.keyId });
    await vote(a, rm.id, 'approve', h.clock);
    expect((await vote(b, rm.id, 'approve', h.clock)).status).toBe('enacted');
    expect((await h.service.council.view()).members).toEqual([A.keyId, B.keyId].sort());
    // c can no longer vote, and its approval no longer counts: a's alone does not enact
    expect(await codeOfAsync(vote(c, p.id, 'approve', h.clock))).toBe('COUNCIL_NOT_A_MEMBER');
    expect((await vote(a, p.id, 'approve', h.clock)).status).toBe('open');
    expect(await credit()).toBe(before);
    expect((await vote(b, p.id, 'approve', h.clock)).status).toBe('enacted');
    expect(await credit()).toBe(before + 1);
    const report = await audit(h);
    expect(report.firstBad).toBeUndefined();
  });
});
