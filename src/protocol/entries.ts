/**
 * The ledger entries a provider signs and sends inside protocol messages
 * (issue 6: "each entry is signed by the identity that acts"): its own
 * registration, and each result it submits. They are wire messages as much
 * as ledger records, so the provider builds them through the protocol layer
 * (DESIGN.md: provider → protocol), which owns message signing.
 */
import { base64Encode } from '../core/encoding.ts';
import { createEntry } from '../ledger/entry.ts';
import type { CouncilProposal, CouncilVote, CouncilVoteBody, LedgerEntry } from '../ledger/entry.ts';
import { approveCouncilDecision } from '../ledger/council.ts';
import type { Ed25519KeyPair } from '../ledger/keys.ts';

/** provider-registered, self-signed: the key registers itself under a display name. */
export function providerRegisteredEntry(key: Ed25519KeyPair, time: number, name: string): LedgerEntry<'provider-registered'> {
  return createEntry({ kind: 'provider-registered', time, body: { publicKey: base64Encode(key.publicKeyRaw), name } }, key);
}

/** result-submitted, signed by the provider that computed the result. */
export function resultSubmittedEntry(key: Ed25519KeyPair, time: number, body: { run: string; unit: string; result: string }): LedgerEntry<'result-submitted'> {
  return createEntry({ kind: 'result-submitted', time, body }, key);
}
export type { Ed25519KeyPair } from '../ledger/keys.ts';

/**
 * council-vote, signed by the member itself (issue 20): on `proposal` (as
 * the tracker serves it), approve or reject; an approval also signs the
 * proposal under the council domain (ledger/council.ts), which the enacted
 * decision entry then carries.
 */
export function councilVoteEntry(key: Ed25519KeyPair, time: number, proposal: CouncilProposal, vote: CouncilVote): LedgerEntry<'council-vote'> {
  const body: CouncilVoteBody = { decision: proposal.decision, vote, publicKey: base64Encode(key.publicKeyRaw) };
  if (vote === 'approve') body.approval = approveCouncilDecision(proposal, key).sig;
  return createEntry({ kind: 'council-vote', time, body }, key);
}
