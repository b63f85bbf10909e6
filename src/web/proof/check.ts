/**
 * The ledger explorer's "verify" (issue 17), done wholly in the browser from
 * the tracker's own answers, trusting none of them: the tree head must carry
 * the tracker's Ed25519 signature, the leaf hash is computed here from the
 * entry's exact bytes (RFC 6962 §2.1), and the audit path must lead from it
 * to the signed root (RFC 9162 §2.1.3.2). Likewise two heads: both signed,
 * and the consistency proof shows the older log is a prefix of the newer
 * (RFC 9162 §2.1.4.2): the tracker did not rewrite history in between.
 *
 * Each check returns its steps, so the page can say which one failed.
 * Inputs are the JSON of /ledger/v1 (standard base64 fields).
 */
import { base64Decode, base64Encode } from '../../core/encoding.ts';
import { isSwarmError } from '../../core/errors.ts';
import { leafHash, verifyConsistency, verifyInclusion, webCryptoSha256 } from './merkle.ts';
import type { Sha256 } from './merkle.ts';
import { verifyTreeHeadSignature } from './tree-head.ts';
import type { TreeHead } from './tree-head.ts';

/** GET /ledger/v1/get-sth (the members the check reads). */
export interface SthJson {
  tree_size: number;
  timestamp: number;
  sha256_root_hash: string;
  tree_head_signature: string;
}

/** GET /ledger/v1/get-proof-by-hash. */
export interface AuditPathJson {
  leaf_index: number;
  audit_path: string[];
}

export interface CheckStep {
  label: string;
  ok: boolean;
  detail: string;
}

export interface CheckResult {
  ok: boolean;
  steps: CheckStep[];
}

function decode(b64: string): Uint8Array | undefined {
  try {
    return base64Decode(b64);
  } catch {
    return undefined;
  }
}

function result(steps: CheckStep[]): CheckResult {
  return { ok: steps.length > 0 && steps.every((s) => s.ok), steps };
}

/** Why a proof check threw (a malformed proof), or rethrows what is not a proof error. */
function proofFailure(e: unknown): string {
  if (isSwarmError(e)) return `${e.message} (${String((e.details as { reason?: unknown } | undefined)?.reason ?? e.code)})`;
  throw e;
}

async function headStep(label: string, sth: SthJson, trackerKey: Uint8Array): Promise<{ step: CheckStep; head?: TreeHead }> {
  const root = decode(sth.sha256_root_hash);
  const sig = decode(sth.tree_head_signature);
  if (root === undefined || root.length !== 32 || sig === undefined) return { step: { label, ok: false, detail: 'the tree head is malformed' } };
  const head: TreeHead = { treeSize: sth.tree_size, timestamp: sth.timestamp, rootHash: root };
  const ok = await verifyTreeHeadSignature(head, sig, trackerKey);
  return { step: { label, ok, detail: ok ? `size ${sth.tree_size}, root ${sth.sha256_root_hash}` : 'the Ed25519 signature of the head does not verify with the tracker key' }, head };
}

/** Is the entry with bytes `leafInput` at `index` in the log the signed head `sth` describes? */
export async function checkInclusion(o: { leafInput: Uint8Array; index: number; sth: SthJson; proof: AuditPathJson; trackerKey: Uint8Array; sha?: Sha256 }): Promise<CheckResult> {
  const sha = o.sha ?? webCryptoSha256;
  const steps: CheckStep[] = [];
  const { step, head } = await headStep('tree head signed by the tracker (Ed25519)', o.sth, o.trackerKey);
  steps.push(step);
  const leaf = await leafHash(sha, o.leafInput);
  steps.push({ label: 'leaf hash SHA-256(0x00 ‖ entry) computed here', ok: true, detail: base64Encode(leaf) });
  steps.push({ label: 'proof is for this entry', ok: o.proof.leaf_index === o.index, detail: `leaf index ${o.proof.leaf_index}` });
  const path = o.proof.audit_path.map(decode);
  if (head === undefined || path.some((p) => p === undefined)) {
    steps.push({ label: 'audit path leads to the signed root', ok: false, detail: 'the proof or head is not valid base64' });
    return result(steps);
  }
  try {
    const ok = await verifyInclusion(sha, leaf, o.index, head.treeSize, path as Uint8Array[], head.rootHash);
    steps.push({ label: 'audit path leads to the signed root (RFC 9162 §2.1.3.2)', ok, detail: ok ? `${path.length} hashes` : 'the hashes lead to another root' });
  } catch (e) {
    steps.push({ label: 'audit path leads to the signed root (RFC 9162 §2.1.3.2)', ok: false, detail: proofFailure(e) });
  }
  return result(steps);
}

/** Is the log of signed head `older` a prefix of the log of signed head `newer`? */
export async function checkConsistency(o: { older: SthJson; newer: SthJson; proof: string[]; trackerKey: Uint8Array; sha?: Sha256 }): Promise<CheckResult> {
  const sha = o.sha ?? webCryptoSha256;
  const a = await headStep('older tree head signed by the tracker', o.older, o.trackerKey);
  const b = await headStep('newer tree head signed by the tracker', o.newer, o.trackerKey);
  const steps = [a.step, b.step];
  const path = o.proof.map(decode);
  if (a.head === undefined || b.head === undefined || path.some((p) => p === undefined)) {
    steps.push({ label: 'the older log is a prefix of the newer', ok: false, detail: 'the proof or a head is not valid base64' });
    return result(steps);
  }
  try {
    const ok = await verifyConsistency(sha, a.head.treeSize, b.head.treeSize, a.head.rootHash, b.head.rootHash, path as Uint8Array[]);
    steps.push({ label: 'the older log is a prefix of the newer (RFC 9162 §2.1.4.2)', ok, detail: ok ? `${a.head.treeSize} → ${b.head.treeSize} entries` : 'the proof does not join the two roots' });
  } catch (e) {
    steps.push({ label: 'the older log is a prefix of the newer (RFC 9162 §2.1.4.2)', ok: false, detail: proofFailure(e) });
  }
  return result(steps);
}
