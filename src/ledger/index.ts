/**
 * The ledger API: RFC 6962 / RFC 9162 Merkle hashing and proofs, the
 * in-memory append-only log, Ed25519 keys, signed entries, council
 * approvals, signed tree heads and witness cosignatures. Pure: no I/O, no
 * clock, no ambient randomness (DESIGN.md "Ledger"; enforced by
 * test/architecture). Imports only src/core.
 */
export {
  HASH_BYTES,
  leafHash,
  nodeHash,
  emptyRootHash,
  splitPoint,
  subtreeHash,
  rootHash,
  inclusionProofRanges,
  consistencyProofRanges,
  inclusionProofLength,
  consistencyProofLength,
  inclusionProofWith,
  consistencyProofWith,
  inclusionProof,
  consistencyProof,
  rootFromInclusionProof,
  verifyInclusion,
  verifyConsistency,
} from './merkle.ts';
export type { LeafRange, SubtreeHasher } from './merkle.ts';

export { MerkleLog } from './log.ts';

export {
  ED25519_SEED_BYTES,
  ED25519_PUBLIC_KEY_BYTES,
  ED25519_SIGNATURE_BYTES,
  keyPairFromSeed,
  keyPairFromPrivateKey,
  privateKeySeed,
  rawPublicKey,
  publicKeyFromRaw,
  publicKeyBytes,
  keyIdOf,
  isKeyId,
  domainSeparated,
  signBytes,
  verifyBytes,
} from './keys.ts';
export type { Ed25519KeyPair, PublicKeyInput } from './keys.ts';

export {
  ENTRY_VERSION,
  ENTRY_SIGNING_DOMAIN,
  MAX_ENTRY_BYTES,
  ENTRY_KINDS,
  ENTRY_LIMITS,
  COUNCIL_ACTIONS,
  VERDICT_OUTCOMES,
  parseEntry,
  parseUnsignedEntry,
  parseCouncilProposal,
  encodeEntry,
  decodeEntry,
  entryLeafHash,
  entryId,
  entrySigningBytes,
  createEntry,
  verifyEntrySignature,
  isEntrySignatureValid,
  registeredPublicKey,
} from './entry.ts';
export type {
  EntryKind,
  CouncilAction,
  VerdictOutcome,
  HashHex,
  KeyId,
  ProviderRegisteredBody,
  UnitIssuedBody,
  ResultSubmittedBody,
  VerdictBody,
  CreditGrantedBody,
  AggregatedUnit,
  CheckpointPublishedBody,
  CouncilApproval,
  CouncilDecisionBody,
  CouncilProposal,
  EntryBodies,
  UnsignedEntry,
  LedgerEntry,
  EntryDraft,
} from './entry.ts';

export {
  COUNCIL_SIGNING_DOMAIN,
  councilDecisionBytes,
  approveCouncilDecision,
  checkCouncilApprovals,
  verifyCouncilDecision,
} from './council.ts';
export type { CouncilApprovalReport } from './council.ts';

export {
  TREE_HEAD_VERSION,
  TREE_HEAD_SIGNING_DOMAIN,
  parseTreeHead,
  treeHeadSigningBytes,
  signTreeHead,
  isTreeHeadSignatureValid,
  verifyTreeHead,
  cosignTreeHead,
  isCosignatureValid,
  checkCosignatures,
  verifyCosignatures,
  witnessCosign,
  sameTree,
} from './tree-head.ts';
export type { TreeHead, SignedTreeHead, Cosignature, CosignatureReport, WitnessCheck } from './tree-head.ts';
