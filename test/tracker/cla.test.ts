/**
 * The contributor licence agreement through the tracker's HTTP API (issue
 * 20; tracker/cla.ts): with a CLA configured, a provider that has not signed
 * the current version gets no lease and no result counts
 * (TRACKER_CLA_REQUIRED, saying how to sign) and nothing is written; it
 * signs with its own cla-signed entry and works; a council `cla` decision
 * makes a new version current, after which the old signature no longer
 * suffices; bad signatures and wrong versions are refused and logged
 * nowhere; and the resulting log passes `swarm audit`'s checks.
 *
 * One tracker for the whole file; the tests run in order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { utf8Encode } from '../../src/core/encoding.ts';
import { isSwarmError } from '../../src/core/errors.ts';
import { sha256Hex } from '../../src/core/sha256.ts';
import { auditLog } from '../../src/ledger/audit.ts';
import { createEntry, decodeEntry } from '../../src/ledger/entry.ts';
import type { LedgerEntry } from '../../src/ledger/entry.ts';
import { leafHash, rootHash } from '../../src/ledger/merkle.ts';
import { signTreeHead } from '../../src/ledger/tree-head.ts';
import { claSignedEntry, parseClaDocument } from '../../src/protocol/cla.ts';
import type { ClaView } from '../../src/protocol/cla.ts';
import { acceptCla } from '../../src/provider/cla.ts';
import type { TrackerClient } from '../../src/provider/client.ts';
import { propose, vote } from '../../src/cli/council.ts';
import { keyOf, nanoEvalUnit, startHarness } from './harness.ts';
import type { Harness } from './harness.ts';

const CLA1 = parseClaDocument(utf8Encode('# A CLA\n\nVersion: cla-v1\n\nContributions are licensed under Apache-2.0.\n'));
const CLA2 = parseClaDocument(utf8Encode('# A CLA\n\nVersion: cla-v2\n\nContributions, feedback included, are licensed under Apache-2.0.\n'));
const MEMBER = keyOf(51);

async function refusal(p: Promise<unknown>): Promise<{ code: string; message: string; status: unknown }> {
  try {
    await p;
  } catch (e) {
    if (isSwarmError(e)) return { code: e.code, message: e.message, status: e.details?.status };
    throw e;
  }
  throw new Error('expected a refusal');
}

async function log(h: Harness): Promise<LedgerEntry[]> {
  const rows = await h.db.query<{ leaf_input: Uint8Array }>('SELECT leaf_input FROM ledger_entries ORDER BY seq');
  return rows.map((r) => decodeEntry(new Uint8Array(r.leaf_input)));
}

/** What the scheduler wrote: replicas and their states. */
async function replicas(h: Harness): Promise<string> {
  return JSON.stringify(await h.db.query('SELECT unit_id, provider, state FROM replicas ORDER BY unit_id, provider'));
}

describe('a tracker that requires a CLA', () => {
  let h: Harness;
  let p1: TrackerClient;
  let p2: TrackerClient;
  let member: TrackerClient;
  const u = nanoEvalUnit();

  beforeAll(async () => {
    h = await startHarness({ suite: 'cla' });
    await h.service.cla.start(CLA1);
    await h.service.council.form([MEMBER.keyId], 1);
    member = h.client(MEMBER);
    p1 = h.client(keyOf(52));
    p2 = h.client(keyOf(53));
    for (const [c, name] of [[p1, 'p1'], [p2, 'p2']] as const) await c.register(name, { threads: 1, memoryBytes: 2 ** 30 });
    const trainer = h.client(h.trainerKey);
    for (const blob of u.blobs) await trainer.putBlob(blob);
    await trainer.createUnits({ run: 'run1', units: [{ id: 'u1', kind: 'eval', spec: u.spec }, { id: 'u2', kind: 'eval', spec: u.spec }] });
  }, 60_000);
  afterAll(async () => h.close());

  it('serves the current version: id, hash of the text and the text', async () => {
    expect((await log(h)).filter((e) => e.kind === 'cla-published').map((e) => e.body)).toEqual([{ version: 'cla-v1', sha256: CLA1.sha256 }]);
    const v = (await (await h.app.request('/api/cla')).json()) as ClaView;
    expect(v).toMatchObject({ required: true, version: 'cla-v1', sha256: CLA1.sha256, decision: null });
    expect(v.required && sha256Hex(utf8Encode(v.text!))).toBe(CLA1.sha256);
    // starting again with the same text changes nothing; another text is refused (a new version is a decision)
    expect(await h.service.cla.start(CLA1)).toEqual({ published: false });
    expect((await refusal(h.service.cla.start(CLA2))).code).toBe('CLA_MISMATCH');
  });

  it('an unsigned provider is refused leases and results with TRACKER_CLA_REQUIRED before anything is written', async () => {
    const before = await replicas(h);
    const kinds = (await log(h)).map((e) => e.kind);
    const r = await refusal(p1.work());
    expect(r.code).toBe('TRACKER_CLA_REQUIRED');
    expect(r.status).toBe(403);
    expect(r.message).toContain('cla-v1');
    expect(r.message).toContain('swarm provide --accept-cla');
    expect(r.message).toContain('swarm cla sign');
    expect((await refusal(p1.schedule({ want: 2 }))).code).toBe('TRACKER_CLA_REQUIRED');
    expect(await replicas(h)).toBe(before);
    // no lease was logged (only the provider's own registration, logged at its first work request: registry.ts)
    expect((await log(h)).map((e) => e.kind).filter((k) => k !== 'provider-registered')).toEqual(kinds.filter((k) => k !== 'provider-registered'));
    expect((await log(h)).some((e) => e.kind === 'unit-issued')).toBe(false);
  });

  it('bad signatures and wrong versions are refused, and nothing is logged', async () => {
    const size = (await log(h)).length;
    const post = (c: TrackerClient, entry: unknown): Promise<unknown> => c.json('POST', '/api/cla/signatures', { entry });
    // signed by another key than the request's signer
    expect((await refusal(post(p1, claSignedEntry(p2.key, h.clock.now(), CLA1)))).code).toBe('CLA_BAD_ENTRY');
    // the body changed after signing
    const good = claSignedEntry(p1.key, h.clock.now(), CLA1);
    expect((await refusal(post(p1, { ...good, time: good.time + 1 }))).code).toBe('LEDGER_BAD_SIGNATURE');
    // another version, or the right version with another text's hash
    expect((await refusal(post(p1, claSignedEntry(p1.key, h.clock.now(), CLA2)))).code).toBe('CLA_WRONG_VERSION');
    expect((await refusal(post(p1, claSignedEntry(p1.key, h.clock.now(), { version: 'cla-v1', sha256: CLA2.sha256 })))).code).toBe('CLA_WRONG_VERSION');
    // made far from the tracker's clock
    expect((await refusal(post(p1, claSignedEntry(p1.key, h.clock.now() - 3_600_000, CLA1)))).code).toBe('CLA_BAD_ENTRY');
    // another kind of entry
    expect((await refusal(post(p1, createEntry({ kind: 'result-submitted', time: h.clock.now(), body: { run: 'run1', unit: 'u1', result: CLA1.sha256 } }, p1.key)))).code).toBe('CLA_BAD_ENTRY');
    // a key the tracker does not know: refused before its body is read
    const stranger = h.client(keyOf(54));
    expect((await refusal(post(stranger, claSignedEntry(stranger.key, h.clock.now(), CLA1)))).code).toBe('TRACKER_UNKNOWN_PROVIDER');
    expect((await log(h)).length).toBe(size);
    expect(await h.db.query('SELECT 1 FROM cla_signatures')).toHaveLength(0);
  });

  it('a provider that signs works; signing again logs nothing new', async () => {
    const size = (await log(h)).length;
    const signed = await acceptCla(p1, h.clock);
    expect(signed?.signature).toMatchObject({ keyId: p1.key.keyId, version: 'cla-v1', sha256: CLA1.sha256, created: true });
    expect((await acceptCla(p1, h.clock))?.signature.created).toBe(false);
    const added = (await log(h)).slice(size);
    expect(added.map((e) => e.kind)).toEqual(['cla-signed']);
    expect(added[0]!.actor).toBe(p1.key.keyId);
    expect((await p1.work()).unit?.unitId).toBe('u1');
    // p2 signs too and gets work (a replica: both are new identities)
    await acceptCla(p2, h.clock);
    expect((await p2.work()).unit).not.toBeNull();
  });

  it('a council cla decision makes a new version current: the old signature no longer suffices for results or leases', async () => {
    const p = await propose(member, { action: 'cla', subject: CLA2.version, params: { sha256: CLA2.sha256 } });
    expect((await vote(member, p.id, 'approve', h.clock)).status).toBe('enacted');
    const v = (await (await h.app.request('/api/cla')).json()) as ClaView;
    expect(v).toMatchObject({ required: true, version: 'cla-v2', sha256: CLA2.sha256, decision: p.id });
    expect(v.required && v.text).toBeUndefined(); // the tracker has only the hash of a decided version
    const published = (await log(h)).filter((e) => e.kind === 'cla-published');
    expect(published.map((e) => e.body)).toEqual([{ version: 'cla-v1', sha256: CLA1.sha256 }, { version: 'cla-v2', sha256: CLA2.sha256, decision: p.id }]);
    // p1 holds u1 from before: its result is refused, and nothing of it is written
    const before = await replicas(h);
    const size = (await log(h)).length;
    const r = await refusal(p1.submit({ unitId: 'u1', runId: 'run1', result: utf8Encode('42'), metrics: {} }));
    expect(r.code).toBe('TRACKER_CLA_REQUIRED');
    expect(r.message).toContain('cla-v2');
    expect((await refusal(p1.work())).code).toBe('TRACKER_CLA_REQUIRED');
    expect(await replicas(h)).toBe(before);
    expect((await log(h)).length).toBe(size);
    // a signature of the old version is refused now
    expect((await refusal(p1.json('POST', '/api/cla/signatures', { entry: claSignedEntry(p1.key, h.clock.now(), CLA1) }))).code).toBe('CLA_WRONG_VERSION');
    // signed again, the same result counts
    expect((await acceptCla(p1, h.clock))?.view).toMatchObject({ version: 'cla-v2' });
    expect((await p1.submit({ unitId: 'u1', runId: 'run1', result: utf8Encode('42'), metrics: {} })).unitStatus).toBeDefined();
    // a version id is used once: deciding cla-v2 again cannot be enacted
    const again = await propose(member, { action: 'cla', subject: CLA2.version, params: { sha256: CLA1.sha256 } });
    expect((await refusal(vote(member, again.id, 'approve', h.clock))).code).toBe('COUNCIL_NOT_APPLICABLE');
  });

  it('the resulting log passes the audit, with both versions and every signature', async () => {
    const leaves = (await h.db.query<{ leaf_input: Uint8Array }>('SELECT leaf_input FROM ledger_entries ORDER BY seq')).map((r) => new Uint8Array(r.leaf_input));
    const head = signTreeHead({ treeSize: leaves.length, timestamp: h.clock.now(), rootHash: rootHash(leaves.map(leafHash)) }, h.trackerKey);
    const report = auditLog({ leafInputs: leaves, head, trackerKey: h.trackerKey.publicKeyRaw });
    expect(report.firstBad).toBeUndefined();
    expect(report.counts).toMatchObject({ 'cla-published': 2, 'cla-signed': 3 });
  });
});
