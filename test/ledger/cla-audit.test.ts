/**
 * The auditor's CLA rules (issue 20; ledger/cla-book.ts): a signature is
 * self-signed and names the current version; the first version needs no
 * decision, every later one an enacted `cla` council decision with the
 * same version and text hash, used once. Each broken log is named by its
 * first bad entry.
 */
import { describe, expect, it } from 'vitest';
import { base64Encode } from '../../src/core/encoding.ts';
import { sha256Hex } from '../../src/core/sha256.ts';
import { approveCouncilDecision } from '../../src/ledger/council.ts';
import { createEntry } from '../../src/ledger/entry.ts';
import type { CouncilProposal, EntryBodies, EntryKind, LedgerEntry } from '../../src/ledger/entry.ts';
import type { Ed25519KeyPair } from '../../src/ledger/keys.ts';
import { testKey } from './helpers.ts';
import { H1, alice, bob, credit, issue, register, result, tracker, valid, auditEntries, firstBadOf } from './log-fixture.ts';

const A = testKey(20);
const V1 = { version: 'cla-v1', sha256: sha256Hex('CLA text 1') };
const V2 = { version: 'cla-v2', sha256: sha256Hex('CLA text 2') };


class Log {
  readonly entries: LedgerEntry[] = [];
  t = 1_764_100_000_000;
  by<K extends EntryKind>(kind: K, body: EntryBodies[K], signer: Ed25519KeyPair = tracker): LedgerEntry<K> {
    const e = createEntry({ kind, time: ++this.t, body }, signer);
    this.entries.push(e);
    return e;
  }
  push(...e: LedgerEntry[]): this {
    this.entries.push(...e);
    return this;
  }
  publish(v: { version: string; sha256: string }, decision?: string): this {
    this.by('cla-published', { ...v, ...(decision === undefined ? {} : { decision }) });
    return this;
  }
  sign(who: Ed25519KeyPair, v: { version: string; sha256: string }): this {
    this.by('cla-signed', { ...v, publicKey: base64Encode(who.publicKeyRaw) }, who);
    return this;
  }
  /** A one-member council (A) decides `cla` for v (proposal, vote, decision). */
  decide(id: string, v: { version: string; sha256: string }): this {
    if (!this.entries.some((e) => e.kind === 'council-formed')) this.by('council-formed', { members: [A.keyId], threshold: 1 });
    const proposal: CouncilProposal = { decision: id, action: 'cla', subject: v.version, params: { sha256: v.sha256 }, threshold: 1, expires: this.t + 1_000_000 };
    this.by('council-proposal', { ...proposal, expires: proposal.expires!, proposer: A.keyId });
    const approval = approveCouncilDecision(proposal, A);
    this.by('council-vote', { decision: id, vote: 'approve', publicKey: base64Encode(A.publicKeyRaw), approval: approval.sig }, A);
    this.by('council-decision', { ...proposal, approvals: [approval] });
    return this;
  }
}

/** Genesis CLA, alice registers and signs it, then works and is credited. */
function signedWork(): Log {
  return new Log().publish(V1).push(register(alice)).sign(alice, V1).push(issue('u1', alice), result('u1', alice, H1), valid('u1', alice, H1), credit('u1', alice, H1));
}

const firstBad = (log: Log): { index: number; reason: string } | undefined => firstBadOf(log.entries);

describe('audit of CLA entries', () => {
  it('passes a log where the genesis CLA is signed before the signer\'s result counts, and counts both kinds', () => {
    const r = auditEntries(signedWork().entries);
    expect(r.firstBad).toBeUndefined();
    expect(r.ok).toBe(true);
    expect(r.counts).toMatchObject({ 'cla-published': 1, 'cla-signed': 1, 'result-submitted': 1, 'credit-granted': 1 });
  });

  it('a new version by an enacted cla decision passes; signatures must then name it', () => {
    const log = signedWork().decide('proposal-1', V2).publish(V2, 'proposal-1').sign(alice, V2);
    expect(firstBad(log)).toBeUndefined();
    expect(auditEntries(log.entries).counts).toMatchObject({ 'cla-published': 2, 'cla-signed': 2, 'council-decision': 1 });
    // a signature of the old version after the change names the entry
    log.sign(bob, V1);
    expect(firstBad(log)).toEqual({ index: log.entries.length - 1, reason: 'cla-not-current' });
  });

  it('a cla-published without a decision after the first is named', () => {
    const log = signedWork().publish(V2);
    expect(firstBad(log)).toEqual({ index: log.entries.length - 1, reason: 'cla-without-decision' });
  });

  it('a cla-published must match its decision\'s version and hash, and carry it out once', () => {
    const otherText = signedWork().decide('proposal-1', V2).publish({ version: V2.version, sha256: sha256Hex('another text') }, 'proposal-1');
    expect(firstBad(otherText)).toEqual({ index: otherText.entries.length - 1, reason: 'cla-without-decision' });
    const otherVersion = signedWork().decide('proposal-1', V2).publish({ version: 'cla-v3', sha256: V2.sha256 }, 'proposal-1');
    expect(firstBad(otherVersion)).toEqual({ index: otherVersion.entries.length - 1, reason: 'cla-without-decision' });
    const noSuchDecision = signedWork().publish(V2, 'proposal-7');
    expect(firstBad(noSuchDecision)).toEqual({ index: noSuchDecision.entries.length - 1, reason: 'cla-without-decision' });
    const twice = signedWork().decide('proposal-1', V2).publish(V2, 'proposal-1').publish(V2, 'proposal-1');
    expect(firstBad(twice)).toEqual({ index: twice.entries.length - 1, reason: 'cla-without-decision' });
    // the decision must come first: one published before it is enacted is named
    const early = signedWork().publish(V2, 'proposal-1').decide('proposal-1', V2);
    expect(firstBad(early)?.reason).toBe('cla-without-decision');
  });

  it('a signature before any CLA, of a wrong hash, or not by the key it carries is named', () => {
    const before = new Log().sign(alice, V1);
    expect(firstBad(before)).toEqual({ index: 0, reason: 'cla-not-current' });
    const wrongHash = new Log().publish(V1).sign(alice, { version: V1.version, sha256: sha256Hex('a text nobody published') });
    expect(firstBad(wrongHash)).toEqual({ index: 1, reason: 'cla-not-current' });
    // the body changed after signing: the carried key no longer verifies it
    const forged = new Log().publish(V1).sign(alice, V1);
    const e = forged.entries[1]!;
    forged.entries[1] = { ...e, time: e.time + 1 } as LedgerEntry;
    expect(firstBad(forged)).toEqual({ index: 1, reason: 'bad-signature' });
    // a tracker-signed cla-published by anyone else is not the tracker's
    const byAlice = new Log().push(createEntry({ kind: 'cla-published', time: 1, body: V1 }, alice));
    expect(firstBad(byAlice)).toEqual({ index: 0, reason: 'not-tracker' });
  });
});
