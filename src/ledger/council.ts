/**
 * M-of-N council approvals carried in a council-decision entry.
 *
 * Each member signs the proposal (the decision body without `approvals`)
 * under its own domain, "swarm-council-decision-v1\n", so an approval can
 * never be mistaken for an entry or tree-head signature. The entry itself is
 * then signed by whoever publishes it (usually the tracker); its validity
 * as a decision rests on the approvals, not on the publisher.
 *
 * Which keys form the council and which threshold a given action needs are
 * policy, held by the caller: these functions count valid approvals by the
 * members they are given against the threshold the body states, and the
 * caller also checks that this threshold is the one its policy requires.
 */
import { canonicalBytes } from '../core/canonical-json.ts';
import { base64Decode, base64Encode } from '../core/encoding.ts';
import { SwarmError } from '../core/errors.ts';
import type { CouncilApproval, CouncilDecisionBody, CouncilProposal, KeyId } from './entry.ts';
import { parseCouncilProposal } from './entry.ts';
import { domainSeparated, keyIdOf, signBytes, verifyBytes } from './keys.ts';
import type { Ed25519KeyPair, PublicKeyInput } from './keys.ts';

export const COUNCIL_SIGNING_DOMAIN = 'swarm-council-decision-v1\n';

/** Result of checking the approvals of one decision. */
export interface CouncilApprovalReport {
  /** members whose approval verifies, in body order */
  approvers: KeyId[];
  /** approvals that do not count, with why */
  rejected: { key: KeyId; reason: 'not-a-member' | 'invalid-signature' }[];
}

function proposalOf(body: CouncilProposal | CouncilDecisionBody): CouncilProposal {
  const { approvals: _approvals, ...proposal } = body as CouncilDecisionBody;
  return parseCouncilProposal(proposal);
}

/**
 * Bytes a member signs: domain ‖ canonical JSON of the proposal. The
 * proposal is validated with the entry rules first (LEDGER_BAD_ENTRY), so
 * nobody signs a decision that could not be published.
 */
export function councilDecisionBytes(proposal: CouncilProposal | CouncilDecisionBody): Uint8Array {
  return domainSeparated(COUNCIL_SIGNING_DOMAIN, canonicalBytes(proposalOf(proposal)));
}

/** A member's approval of a proposal. */
export function approveCouncilDecision(proposal: CouncilProposal, member: Ed25519KeyPair): CouncilApproval {
  return { key: member.keyId, sig: base64Encode(signBytes(councilDecisionBytes(proposal), member)) };
}

/**
 * Checks every approval against `members` (key id -> public key). A member
 * map entry whose key does not hash to its id is ignored (so a mis-built
 * map cannot lend one key two votes).
 */
export function checkCouncilApprovals(body: CouncilDecisionBody, members: ReadonlyMap<KeyId, PublicKeyInput>): CouncilApprovalReport {
  const message = councilDecisionBytes(body);
  const report: CouncilApprovalReport = { approvers: [], rejected: [] };
  const seen = new Set<KeyId>();
  for (const { key, sig } of body.approvals) {
    const pub = members.get(key);
    if (pub === undefined || keyIdOf(pub) !== key) {
      report.rejected.push({ key, reason: 'not-a-member' });
      continue;
    }
    let sigBytes: Uint8Array;
    try {
      sigBytes = base64Decode(sig);
    } catch {
      report.rejected.push({ key, reason: 'invalid-signature' });
      continue;
    }
    if (seen.has(key) || !verifyBytes(message, sigBytes, pub)) {
      report.rejected.push({ key, reason: 'invalid-signature' });
      continue;
    }
    seen.add(key);
    report.approvers.push(key);
  }
  return report;
}

/**
 * Throws LEDGER_NO_QUORUM (details: the report) unless at least
 * `body.threshold` distinct members approved; returns the approvers.
 */
export function verifyCouncilDecision(body: CouncilDecisionBody, members: ReadonlyMap<KeyId, PublicKeyInput>): KeyId[] {
  const report = checkCouncilApprovals(body, members);
  if (report.approvers.length < body.threshold) {
    throw new SwarmError('LEDGER_NO_QUORUM', `${report.approvers.length} valid approvals, ${body.threshold} needed`, {
      approvers: report.approvers,
      rejected: report.rejected,
      threshold: body.threshold,
    });
  }
  return report.approvers;
}
