/**
 * The auditor's council rules (ledger/council-book.ts through audit.ts,
 * issue 20): a well-kept governance history passes, and each way of
 * cheating it — a vote by an outsider, after expiry or twice, an approval
 * nobody cast, a removed member's approval, too few approvals, a decision
 * that differs from its proposal, a second genesis, credit changed without
 * a decision — is named at its leaf index with its reason.
 */
import { describe, expect, it } from 'vitest';
import { base64Encode } from '../../src/core/encoding.ts';
import { approveCouncilDecision } from '../../src/ledger/council.ts';
import { createEntry } from '../../src/ledger/entry.ts';
import type { CouncilProposal, CouncilProposalBody, EntryBodies, EntryKind, LedgerEntry } from '../../src/ledger/entry.ts';
import type { Ed25519KeyPair } from '../../src/ledger/keys.ts';
import { testKey } from './helpers.ts';
import { H1, H3, RUN, bob, carol, credit, invalid, register, result, valid, auditEntries, firstBadOf } from './log-fixture.ts';

const tracker = testKey(1);
const [A, B, C, D] = [testKey(20), testKey(21), testKey(22), testKey(23)];
const alice = testKey(2); // log-fixture's alice


/** A log under construction: each helper appends one entry at the next time. */
class Log {
  readonly entries: LedgerEntry[] = [];
  t = 100;
  by<K extends EntryKind>(kind: K, body: EntryBodies[K], signer: Ed25519KeyPair = tracker, time = ++this.t): LedgerEntry<K> {
    const e = createEntry({ kind, time, body }, signer);
    this.entries.push(e);
    return e;
  }
  form(members = [A, B, C], threshold = 2): this {
    this.by('council-formed', { members: members.map((m) => m.keyId), threshold });
    return this;
  }
  propose(decision: string, action: CouncilProposal['action'], subject: string, params: CouncilProposal['params'] | undefined, o: { threshold?: number; expires?: number; proposer?: Ed25519KeyPair } = {}): CouncilProposalBody {
    const body: CouncilProposalBody = {
      decision, action, subject, ...(params === undefined ? {} : { params }), threshold: o.threshold ?? 2, expires: o.expires ?? 10_000, proposer: (o.proposer ?? A).keyId,
    };
    this.by('council-proposal', body);
    return body;
  }
  vote(p: CouncilProposalBody, member: Ed25519KeyPair, vote: 'approve' | 'reject' = 'approve', time?: number): void {
    const { proposer: _p, ...proposal } = p;
    this.by('council-vote', {
      decision: p.decision, vote, publicKey: base64Encode(member.publicKeyRaw),
      ...(vote === 'approve' ? { approval: approveCouncilDecision(proposal, member).sig } : {}),
    }, member, time);
  }
  enact(p: CouncilProposalBody, approvers: Ed25519KeyPair[], time?: number): void {
    const { proposer: _p, ...proposal } = p;
    this.by('council-decision', { ...proposal, approvals: approvers.map((m) => approveCouncilDecision(proposal, m)) }, tracker, time);
  }
}

/** A well-kept history: formed 2 of A, B, C; D added; a credit grant decided and carried out; C removed. */
function history(): Log {
  const log = new Log().form();
  const add = log.propose('proposal-1', 'member-add', D.keyId, undefined);
  log.vote(add, A);
  log.vote(add, C, 'reject');
  log.vote(add, B);
  log.enact(add, [A, B]);
  const grant = log.propose('proposal-2', 'credit-adjust', alice.keyId, { change: 'grant', amount: 5, reason: 'benchmarks' }, { proposer: D });
  log.vote(grant, D);
  log.vote(grant, C);
  log.enact(grant, [C, D]);
  log.by('credit-adjusted', { provider: alice.keyId, change: 'grant', amount: 5, decision: 'proposal-2', reason: 'benchmarks' });
  const rm = log.propose('proposal-3', 'member-remove', C.keyId, undefined);
  log.vote(rm, A);
  log.vote(rm, B);
  log.enact(rm, [A, B]);
  return log;
}

const firstBad = (log: Log): { index: number; reason: string } | undefined => firstBadOf(log.entries);

describe('audit of council entries', () => {
  it('passes a well-kept history and counts it', () => {
    const r = auditEntries(history().entries);
    expect(r.firstBad).toBeUndefined();
    expect(r.ok).toBe(true);
    expect(r.counts).toMatchObject({ 'council-formed': 1, 'council-proposal': 3, 'council-vote': 7, 'council-decision': 3, 'credit-adjusted': 1 });
  });

  it('credit changed without a decision fails and names the entry', () => {
    const log = history();
    log.by('credit-adjusted', { provider: alice.keyId, change: 'revoke', amount: 5, decision: 'proposal-9' });
    expect(firstBad(log)).toEqual({ index: log.entries.length - 1, reason: 'adjustment-without-decision' });
    // nor can one decision be carried out twice
    const twice = history();
    twice.by('credit-adjusted', { provider: alice.keyId, change: 'grant', amount: 5, decision: 'proposal-2' });
    expect(firstBad(twice)).toEqual({ index: twice.entries.length - 1, reason: 'adjustment-without-decision' });
    // nor for another amount than decided
    const more = new Log().form();
    const g = more.propose('p1', 'credit-adjust', alice.keyId, { change: 'grant', amount: 5, reason: 'x' });
    more.vote(g, A);
    more.vote(g, B);
    more.enact(g, [A, B]);
    more.by('credit-adjusted', { provider: alice.keyId, change: 'grant', amount: 50, decision: 'p1' });
    expect(firstBad(more)).toEqual({ index: 5, reason: 'adjustment-without-decision' });
  });

  it('a vote by an outsider, a removed member, after expiry, or twice is named', () => {
    const outsider = new Log().form();
    const p = outsider.propose('p1', 'member-add', D.keyId, undefined);
    outsider.vote(p, D);
    expect(firstBad(outsider)).toEqual({ index: 2, reason: 'not-a-member' });

    const removed = history();
    const later = removed.propose('proposal-4', 'threshold', 'council', { threshold: 1 });
    removed.vote(later, C);
    expect(firstBad(removed)).toEqual({ index: removed.entries.length - 1, reason: 'not-a-member' });

    const late = new Log().form();
    const q = late.propose('p1', 'member-add', D.keyId, undefined, { expires: 500 });
    late.vote(q, A, 'approve', 501);
    expect(firstBad(late)).toEqual({ index: 2, reason: 'after-expiry' });

    const twice = new Log().form();
    const r = twice.propose('p1', 'member-add', D.keyId, undefined);
    twice.vote(r, A);
    twice.vote(r, A, 'reject');
    expect(firstBad(twice)).toEqual({ index: 3, reason: 'duplicate-vote' });
  });

  it('an approval that signs another proposal is named', () => {
    const log = new Log().form();
    const p = log.propose('p1', 'member-add', D.keyId, undefined);
    const { proposer: _x, ...other } = { ...p, subject: C.keyId };
    log.by('council-vote', { decision: 'p1', vote: 'approve', publicKey: base64Encode(A.publicKeyRaw), approval: approveCouncilDecision(other, A).sig }, A);
    expect(firstBad(log)).toEqual({ index: 2, reason: 'bad-approval' });
  });

  it('a decision needs approvals of earlier votes by current members, at the proposal\'s threshold, before expiry', () => {
    // an approval no vote carried (B never voted)
    const unvoted = new Log().form();
    const p = unvoted.propose('p1', 'member-add', D.keyId, undefined);
    unvoted.vote(p, A);
    unvoted.enact(p, [A, B]);
    expect(firstBad(unvoted)).toEqual({ index: 3, reason: 'bad-approval' });

    // a removed member's earlier approval no longer counts
    const stale = new Log().form();
    const q = stale.propose('p1', 'credit-adjust', alice.keyId, { change: 'grant', amount: 1, reason: 'x' });
    stale.vote(q, C);
    const rm = stale.propose('p2', 'member-remove', C.keyId, undefined);
    stale.vote(rm, A);
    stale.vote(rm, B);
    stale.enact(rm, [A, B]);
    stale.vote(q, A);
    stale.enact(q, [A, C]);
    expect(firstBad(stale)).toEqual({ index: stale.entries.length - 1, reason: 'bad-approval' });

    // enacted after its expiry
    const late = new Log().form();
    const r = late.propose('p1', 'member-add', D.keyId, undefined, { expires: 500 });
    late.vote(r, A, 'approve', 400);
    late.vote(r, B, 'approve', 450);
    late.enact(r, [A, B], 501);
    expect(firstBad(late)).toEqual({ index: 4, reason: 'after-expiry' });

    // a decision that restates its proposal differently (another subject)
    const changed = new Log().form();
    const s = changed.propose('p1', 'member-add', D.keyId, undefined);
    changed.vote(s, A);
    changed.vote(s, B);
    changed.enact({ ...s, subject: alice.keyId }, [A, B]);
    expect(firstBad(changed)).toEqual({ index: 4, reason: 'decision-mismatch' });

    // one decision enacted twice
    const again = new Log().form();
    const t = again.propose('p1', 'member-add', D.keyId, undefined);
    again.vote(t, A);
    again.vote(t, B);
    again.enact(t, [A, B]);
    again.enact(t, [A, B]);
    expect(firstBad(again)).toEqual({ index: 5, reason: 'proposal-closed' });
  });

  it('a threshold decision binds only later proposals; a proposal at the wrong threshold is named', () => {
    const log = new Log().form();
    const open = log.propose('p1', 'member-add', D.keyId, undefined);
    const t = log.propose('p2', 'threshold', 'council', { threshold: 3 });
    log.vote(t, A);
    log.vote(t, B);
    log.enact(t, [A, B]);
    // p1 was opened at 2: two approvals still enact it
    log.vote(open, A);
    log.vote(open, C);
    log.enact(open, [A, C]);
    expect(firstBad(log)).toBeUndefined();
    log.propose('p3', 'member-add', alice.keyId, undefined, { threshold: 2 });
    expect(firstBad(log)).toEqual({ index: log.entries.length - 1, reason: 'wrong-threshold' });
  });

  it('a second genesis, a proposal by an outsider or with bad parameters, and an effect that cannot apply are named', () => {
    const twice = new Log().form().form();
    expect(firstBad(twice)).toEqual({ index: 1, reason: 'council-formed-twice' });
    const before = new Log();
    before.propose('p1', 'member-add', D.keyId, undefined);
    expect(firstBad(before)).toEqual({ index: 0, reason: 'council-not-formed' });
    const outsider = new Log().form();
    outsider.propose('p1', 'member-add', D.keyId, undefined, { proposer: D });
    expect(firstBad(outsider)).toEqual({ index: 1, reason: 'not-a-member' });
    const params = new Log().form();
    params.propose('p1', 'run-parameters', 'run1', { replication: 0 });
    expect(firstBad(params)).toEqual({ index: 1, reason: 'bad-council-params' });
    const member = new Log().form();
    const p = member.propose('p1', 'member-add', B.keyId, undefined);
    member.vote(p, A);
    member.vote(p, C);
    member.enact(p, [A, C]);
    expect(firstBad(member)).toEqual({ index: 4, reason: 'effect-not-applicable' });
  });

  it('a vote whose signature does not verify with the key it carries is a bad signature', () => {
    const log = new Log().form();
    const p = log.propose('p1', 'member-add', D.keyId, undefined);
    log.vote(p, A);
    const v = log.entries[2]!;
    log.entries[2] = { ...v, time: v.time + 1 } as LedgerEntry;
    expect(firstBad(log)).toEqual({ index: 2, reason: 'bad-signature' });
  });

  it('a dispute\'s corrections: exactly the credit for the wrong hash revoked, the honest result granted the unit\'s credit, each once', () => {
    // alice honest (H1), bob and carol agree on H3; the tracker's re-execution gives H1
    const history = (): Log => {
      const log = new Log();
      log.entries.push(register(alice), register(bob), register(carol), result('u1', alice, H1), result('u1', bob, H3), result('u1', carol, H3),
        valid('u1', bob, H3, 2), valid('u1', carol, H3, 2), invalid('u1', alice, H1), credit('u1', bob, H3), credit('u1', carol, H3));
      log.form();
      const d = log.propose('p1', 'dispute', RUN, { units: ['u1'], reason: 'collusion', findings: [{ unit: 'u1', accepted: H3, recomputed: H1 }] });
      log.vote(d, A);
      log.vote(d, B);
      log.enact(d, [A, B]);
      return log;
    };
    const fix = (log: Log, who: Ed25519KeyPair, change: 'grant' | 'revoke', amount = 1000, unit = 'u1'): void => {
      log.by('credit-adjusted', { provider: who.keyId, change, amount, decision: 'p1', run: RUN, unit });
    };
    const ok = history();
    fix(ok, bob, 'revoke');
    fix(ok, carol, 'revoke');
    fix(ok, alice, 'grant');
    expect(firstBad(ok)).toBeUndefined();
    const cases: Array<[string, (l: Log) => void]> = [
      ['revoking the honest one', (l) => fix(l, alice, 'revoke')],
      ['revoking more than was credited', (l) => fix(l, bob, 'revoke', 5000)],
      ['revoking twice', (l) => (fix(l, bob, 'revoke'), fix(l, bob, 'revoke'))],
      ['granting a colluder', (l) => fix(l, bob, 'grant')],
      ['granting another amount', (l) => fix(l, alice, 'grant', 7)],
      ['a unit the dispute did not name', (l) => fix(l, bob, 'revoke', 1000, 'u2')],
      ['revoking again under a second dispute of the same unit', (l) => {
        fix(l, bob, 'revoke');
        const again = l.propose('p2', 'dispute', RUN, { units: ['u1'], reason: 'again', findings: [{ unit: 'u1', accepted: H3, recomputed: H1 }] });
        l.vote(again, A);
        l.vote(again, B);
        l.enact(again, [A, B]);
        l.by('credit-adjusted', { provider: bob.keyId, change: 'revoke', amount: 1000, decision: 'p2', run: RUN, unit: 'u1' });
      }],
    ];
    for (const [name, spoil] of cases) {
      const log = history();
      spoil(log);
      expect([name, firstBad(log)]).toEqual([name, { index: log.entries.length - 1, reason: 'adjustment-without-decision' }]);
    }
    // a dispute in the log without the tracker's findings is malformed
    const bare = new Log().form();
    bare.propose('p1', 'dispute', RUN, { units: ['u1'], reason: 'x' });
    expect(firstBad(bare)).toEqual({ index: 1, reason: 'bad-council-params' });
  });
});
