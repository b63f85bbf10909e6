/**
 * The tracker's signed tree head, checked in the browser with WebCrypto's
 * Ed25519 (RFC 8032; SubtleCrypto "Ed25519"). The signed bytes are those of
 * src/ledger/tree-head.ts treeHeadSigningBytes:
 *
 *   "swarm-tree-head-v1\n" ‖ canonicalBytes({v: 1, treeSize, timestamp, rootHash: base64})
 *
 * built here from src/core's pure canonical JSON and base64 (tree-head.ts
 * itself signs through node:crypto, which a browser lacks).
 * test/web/proof.test.ts checks these bytes equal tree-head.ts's for the
 * same head, so the two cannot drift apart unnoticed.
 */
import { canonicalBytes } from '../../core/canonical-json.ts';
import { base64Encode, concatBytes, utf8Encode } from '../../core/encoding.ts';

/** Equal to src/ledger/tree-head.ts TREE_HEAD_SIGNING_DOMAIN and TREE_HEAD_VERSION (tested). */
export const TREE_HEAD_SIGNING_DOMAIN = 'swarm-tree-head-v1\n';
export const TREE_HEAD_VERSION = 1;

export interface TreeHead {
  treeSize: number;
  timestamp: number;
  rootHash: Uint8Array;
}

export function treeHeadSigningBytes(h: TreeHead): Uint8Array {
  const payload = canonicalBytes({ v: TREE_HEAD_VERSION, treeSize: h.treeSize, timestamp: h.timestamp, rootHash: base64Encode(h.rootHash) });
  return concatBytes(utf8Encode(TREE_HEAD_SIGNING_DOMAIN), payload);
}

/** A copy on a fresh ArrayBuffer: what SubtleCrypto's BufferSource parameters take. */
function own(b: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(b);
}

/**
 * True when `signature` is the Ed25519 signature of the head by the raw
 * 32-byte `publicKey`. False for a wrong signature and for malformed key or
 * signature bytes (the page shows both as a failed check).
 */
export async function verifyTreeHeadSignature(h: TreeHead, signature: Uint8Array, publicKey: Uint8Array): Promise<boolean> {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  const key = await crypto.subtle.importKey('raw', own(publicKey), { name: 'Ed25519' }, false, ['verify']).then((k) => k, () => null);
  if (key === null) return false;
  return crypto.subtle.verify({ name: 'Ed25519' }, key, own(signature), own(treeHeadSigningBytes(h)));
}
