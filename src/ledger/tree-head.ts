/**
 * Signed tree heads and witness cosignatures.
 *
 * A tree head {treeSize, timestamp, rootHash} is the tracker's commitment
 * to the whole log at one size (RFC 6962 §3.5 / RFC 9162 §4.10 signed tree
 * heads). Instead of RFC 6962's binary TreeHeadSignature struct we sign
 *
 *   "swarm-tree-head-v1\n" ‖ canonicalBytes({v: 1, treeSize, timestamp, rootHash: base64})
 *
 * (canonical JSON, RFC 8785, like every other signed object here, with its
 * own domain prefix so no entry or council signature can pass for a head).
 *
 * Witnesses — validators, any user — keep the last head they accepted, check
 * that a new head is consistent with it (RFC 9162 §2.1.4 consistency proof)
 * and then cosign: sign the very same head bytes with their own key. A
 * client that trusts a set of witnesses accepts a head once enough of them
 * cosigned it; a tracker that showed different histories to different
 * people ("split view") would need the witnesses to sign both forks, which
 * the consistency check prevents (the "witnessing" model of
 * transparency-dev / C2SP tlog-cosignature).
 *
 * Errors: LEDGER_BAD_TREE_HEAD (malformed head, details.path),
 * LEDGER_BAD_SIGNATURE (tracker signature), LEDGER_NO_QUORUM (too few
 * cosignatures), LEDGER_INCONSISTENT (a witness saw a head that does not
 * extend the one it trusts: evidence of a fork), LEDGER_BAD_PROOF (merkle.ts).
 */
import { canonicalBytes } from '../core/canonical-json.ts';
import { base64Encode, bytesEqual } from '../core/encoding.ts';
import { SwarmError } from '../core/errors.ts';
import { ED25519_SIGNATURE_BYTES, domainSeparated, keyIdOf, signBytes, verifyBytes } from './keys.ts';
import type { Ed25519KeyPair, PublicKeyInput } from './keys.ts';
import { HASH_BYTES, verifyConsistency } from './merkle.ts';
import { Validator, member } from './validate.ts';

export const TREE_HEAD_VERSION = 1;
/** Domain prefix of tree-head signatures and cosignatures. */
export const TREE_HEAD_SIGNING_DOMAIN = 'swarm-tree-head-v1\n';

/** The log at one size. `timestamp` is ms since the epoch, given by the caller. */
export interface TreeHead {
  treeSize: number;
  timestamp: number;
  /** MTH of the first treeSize leaves (32 bytes) */
  rootHash: Uint8Array;
}

/** A tree head with the tracker's Ed25519 signature over treeHeadSigningBytes. */
export interface SignedTreeHead extends TreeHead {
  signature: Uint8Array;
}

/** A witness's Ed25519 signature over the same bytes as the tracker's. */
export interface Cosignature {
  /** key id of the witness */
  witness: string;
  signature: Uint8Array;
}

/** Result of checking a set of cosignatures. */
export interface CosignatureReport {
  /** distinct trusted witnesses whose cosignature verifies, in input order */
  valid: string[];
  /** cosignatures that do not count, with why */
  rejected: { witness: string; reason: 'unknown-witness' | 'invalid-signature' | 'duplicate' }[];
}

const V: Validator = new Validator('LEDGER_BAD_TREE_HEAD');

/** Validates a tree head (safe integers, 32-byte root); returns a copy of the three fields. */
export function parseTreeHead(head: TreeHead): TreeHead {
  const o = V.object(head, '$', ['treeSize', 'timestamp', 'rootHash'], ['signature']);
  return {
    treeSize: V.uint(o.treeSize, member('$', 'treeSize')),
    timestamp: V.uint(o.timestamp, member('$', 'timestamp')),
    rootHash: V.bytes(o.rootHash, member('$', 'rootHash'), HASH_BYTES).slice(),
  };
}

/** The bytes the tracker signs and witnesses cosign. */
export function treeHeadSigningBytes(head: TreeHead): Uint8Array {
  const h = parseTreeHead(head);
  const payload = canonicalBytes({ v: TREE_HEAD_VERSION, treeSize: h.treeSize, timestamp: h.timestamp, rootHash: base64Encode(h.rootHash) });
  return domainSeparated(TREE_HEAD_SIGNING_DOMAIN, payload);
}

/** Signs a tree head with the tracker's key. */
export function signTreeHead(head: TreeHead, tracker: Ed25519KeyPair): SignedTreeHead {
  const h = parseTreeHead(head);
  return { ...h, signature: signBytes(treeHeadSigningBytes(h), tracker) };
}

/** True when `sth.signature` is the tracker's signature of the head. LEDGER_BAD_TREE_HEAD if malformed. */
export function isTreeHeadSignatureValid(sth: SignedTreeHead, trackerKey: PublicKeyInput): boolean {
  const bytes = treeHeadSigningBytes(sth);
  if (!(sth.signature instanceof Uint8Array) || sth.signature.length !== ED25519_SIGNATURE_BYTES) return false;
  return verifyBytes(bytes, sth.signature, trackerKey);
}

/** Throws LEDGER_BAD_SIGNATURE unless `sth` carries the tracker's valid signature. */
export function verifyTreeHead(sth: SignedTreeHead, trackerKey: PublicKeyInput): void {
  if (!isTreeHeadSignatureValid(sth, trackerKey)) {
    throw new SwarmError('LEDGER_BAD_SIGNATURE', 'tree head signature does not verify', { treeSize: sth.treeSize });
  }
}

/** A witness's cosignature of `head` (the caller has checked the head first; see witnessCosign). */
export function cosignTreeHead(head: TreeHead, witness: Ed25519KeyPair): Cosignature {
  return { witness: witness.keyId, signature: signBytes(treeHeadSigningBytes(head), witness) };
}

/** True when `cosig` is a valid cosignature of `head` by `witnessKey` (whose id it must name). */
export function isCosignatureValid(head: TreeHead, cosig: Cosignature, witnessKey: PublicKeyInput): boolean {
  if (keyIdOf(witnessKey) !== cosig.witness) return false;
  return verifyBytes(treeHeadSigningBytes(head), cosig.signature, witnessKey);
}

/**
 * Checks each cosignature against the trusted witnesses (key id -> key).
 * Each witness counts once however often it appears; unknown witnesses
 * and bad signatures are reported, not thrown.
 */
export function checkCosignatures(
  head: TreeHead,
  cosigs: readonly Cosignature[],
  witnesses: ReadonlyMap<string, PublicKeyInput>,
): CosignatureReport {
  const bytes = treeHeadSigningBytes(head);
  const report: CosignatureReport = { valid: [], rejected: [] };
  const counted = new Set<string>();
  for (const c of cosigs) {
    const key = witnesses.get(c.witness);
    if (key === undefined || keyIdOf(key) !== c.witness) {
      report.rejected.push({ witness: c.witness, reason: 'unknown-witness' });
    } else if (counted.has(c.witness)) {
      report.rejected.push({ witness: c.witness, reason: 'duplicate' });
    } else if (!(c.signature instanceof Uint8Array) || !verifyBytes(bytes, c.signature, key)) {
      report.rejected.push({ witness: c.witness, reason: 'invalid-signature' });
    } else {
      counted.add(c.witness);
      report.valid.push(c.witness);
    }
  }
  return report;
}

/**
 * Throws LEDGER_NO_QUORUM (details: the report) unless at least `threshold`
 * distinct trusted witnesses cosigned `head`; returns their key ids.
 */
export function verifyCosignatures(
  head: TreeHead,
  cosigs: readonly Cosignature[],
  witnesses: ReadonlyMap<string, PublicKeyInput>,
  threshold: number,
): string[] {
  if (!Number.isSafeInteger(threshold) || threshold < 1) {
    throw new SwarmError('LEDGER_BAD_ARGUMENT', 'cosignature threshold must be a positive integer', { threshold });
  }
  const report = checkCosignatures(head, cosigs, witnesses);
  if (report.valid.length < threshold) {
    throw new SwarmError('LEDGER_NO_QUORUM', `${report.valid.length} valid cosignatures, ${threshold} needed`, {
      valid: report.valid,
      rejected: report.rejected,
      threshold,
    });
  }
  return report.valid;
}

/** What a witness needs to decide whether to cosign a new head. */
export interface WitnessCheck {
  /** the head this witness last accepted (undefined: none yet, accept any well-signed head) */
  trusted: TreeHead | undefined;
  /** the tracker's new head */
  next: SignedTreeHead;
  /** consistency proof from trusted.treeSize to next.treeSize (RFC 6962 §2.1.2) */
  proof: readonly Uint8Array[];
  trackerKey: PublicKeyInput;
  witness: Ed25519KeyPair;
}

/**
 * The witness step: verify the tracker's signature on `next`, that time and
 * size do not go backwards, and that `next` extends `trusted` (consistency
 * proof); only then cosign. Throws LEDGER_BAD_SIGNATURE, LEDGER_BAD_TREE_HEAD
 * (size or timestamp going backwards), LEDGER_BAD_PROOF (malformed proof) or
 * LEDGER_INCONSISTENT (a well-formed proof that fails: the two heads cannot
 * both be honest, so keep them both as evidence).
 */
export function witnessCosign(check: WitnessCheck): Cosignature {
  const { trusted, next, proof, trackerKey, witness } = check;
  verifyTreeHead(next, trackerKey);
  if (trusted !== undefined) {
    const t = parseTreeHead(trusted);
    if (next.treeSize < t.treeSize) {
      throw new SwarmError('LEDGER_BAD_TREE_HEAD', 'new head is smaller than the trusted one', { trusted: t.treeSize, next: next.treeSize });
    }
    if (next.timestamp < t.timestamp) {
      throw new SwarmError('LEDGER_BAD_TREE_HEAD', 'new head is older than the trusted one', { trusted: t.timestamp, next: next.timestamp });
    }
    if (!verifyConsistency(t.treeSize, next.treeSize, t.rootHash, next.rootHash, proof)) {
      throw new SwarmError('LEDGER_INCONSISTENT', 'new head does not extend the trusted head', {
        trustedSize: t.treeSize,
        nextSize: next.treeSize,
        trustedRoot: base64Encode(t.rootHash),
        nextRoot: base64Encode(next.rootHash),
      });
    }
  } else if (proof.length > 0) {
    throw new SwarmError('LEDGER_BAD_PROOF', 'no trusted head, so no proof is expected', { reason: 'proof-too-long' });
  }
  return cosignTreeHead(next, witness);
}

/** True when two heads describe the same tree (same size and root), whatever their timestamps. */
export function sameTree(a: TreeHead, b: TreeHead): boolean {
  return a.treeSize === b.treeSize && bytesEqual(a.rootHash, b.rootHash);
}
