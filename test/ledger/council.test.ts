import { describe, expect, it } from 'vitest';
import { base64Encode, utf8Decode } from '../../src/core/encoding.ts';
import {
  approveCouncilDecision,
  checkCouncilApprovals,
  councilDecisionBytes,
  verifyCouncilDecision,
} from '../../src/ledger/council.ts';
import { createEntry, parseCouncilProposal, verifyEntrySignature } from '../../src/ledger/entry.ts';
import type { CouncilDecisionBody, CouncilProposal } from '../../src/ledger/entry.ts';
import type { PublicKeyInput } from '../../src/ledger/keys.ts';
import { codeOf, testKey } from './helpers.ts';

const members = [testKey(20), testKey(21), testKey(22), testKey(23)];
const outsider = testKey(30);
const tracker = testKey(1);
const memberMap = new Map<string, PublicKeyInput>(members.map((m) => [m.keyId, m.publicKeyRaw]));
const proposal: CouncilProposal = { decision: 'release-7', action: 'release', subject: 'a'.repeat(64), threshold: 3, params: { tag: 'v0.1' } };

function body(approvers: typeof members, p: CouncilProposal = proposal): CouncilDecisionBody {
  return { ...p, approvals: approvers.map((m) => approveCouncilDecision(p, m)) };
}

describe('council decisions (M-of-N)', () => {
  it('members sign the domain-separated canonical proposal', () => {
    const text = utf8Decode(councilDecisionBytes(proposal));
    expect(text).toBe('swarm-council-decision-v1\n{"action":"release","decision":"release-7","params":{"tag":"v0.1"},"subject":"' + 'a'.repeat(64) + '","threshold":3}');
    // The approvals are not part of what is approved.
    expect(councilDecisionBytes(body(members.slice(0, 3)))).toEqual(councilDecisionBytes(proposal));
  });

  it('a quorum of member approvals is accepted, in an entry the tracker publishes', () => {
    const b = body([members[0]!, members[2]!, members[3]!]);
    expect(verifyCouncilDecision(b, memberMap)).toEqual([members[0]!.keyId, members[2]!.keyId, members[3]!.keyId]);
    const entry = createEntry({ kind: 'council-decision', time: 100, body: b }, tracker);
    verifyEntrySignature(entry, tracker.publicKey);
    if (entry.kind !== 'council-decision') throw new Error('kind');
    expect(verifyCouncilDecision(entry.body, memberMap).length).toBe(3);
  });

  it('outsiders, bad signatures and approvals of another proposal do not count', () => {
    const other: CouncilProposal = { ...proposal, subject: 'b'.repeat(64) };
    const b: CouncilDecisionBody = {
      ...proposal,
      approvals: [
        approveCouncilDecision(proposal, members[0]!),
        approveCouncilDecision(proposal, outsider),
        approveCouncilDecision(other, members[1]!), // signed something else
        { key: members[2]!.keyId, sig: base64Encode(new Uint8Array(64)) },
      ],
    };
    const report = checkCouncilApprovals(b, memberMap);
    expect(report.approvers).toEqual([members[0]!.keyId]);
    expect(report.rejected).toEqual([
      { key: outsider.keyId, reason: 'not-a-member' },
      { key: members[1]!.keyId, reason: 'invalid-signature' },
      { key: members[2]!.keyId, reason: 'invalid-signature' },
    ]);
    expect(codeOf(() => verifyCouncilDecision(b, memberMap))).toBe('LEDGER_NO_QUORUM');
  });

  it('a mis-keyed member map cannot lend one key two votes', () => {
    const b = body([members[0]!, members[1]!, members[2]!]);
    const wrong = new Map(memberMap);
    wrong.set(members[1]!.keyId, members[0]!.publicKeyRaw);
    expect(checkCouncilApprovals(b, wrong).approvers).toEqual([members[0]!.keyId, members[2]!.keyId]);
  });

  it('changing the threshold after approval invalidates every approval', () => {
    const b = { ...body(members.slice(0, 3)), threshold: 2 };
    expect(checkCouncilApprovals(b, memberMap).approvers).toEqual([]);
  });

  it('proposals are validated before anyone signs them', () => {
    expect(codeOf(() => parseCouncilProposal({ ...proposal, action: 'mint' }))).toBe('LEDGER_BAD_ENTRY');
    expect(codeOf(() => approveCouncilDecision({ ...proposal, threshold: 0 }, members[0]!))).toBe('LEDGER_BAD_ENTRY');
    expect(codeOf(() => councilDecisionBytes({ ...proposal, extra: 1 } as CouncilProposal))).toBe('LEDGER_BAD_ENTRY');
  });
});
