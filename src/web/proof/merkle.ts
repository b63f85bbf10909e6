/**
 * RFC 6962 / RFC 9162 Merkle proof verification for the browser: the same
 * algorithm as src/ledger/merkle.ts (rootFromInclusionProof,
 * verifyConsistency), over an injected asynchronous SHA-256 so it runs on
 * WebCrypto (crypto.subtle.digest is asynchronous, and src/core/sha256.ts is
 * node:crypto, which a browser does not have).
 *
 *   leaf = SHA-256(0x00 ‖ leafInput), node = SHA-256(0x01 ‖ left ‖ right)
 *
 * Outcomes match src/ledger/merkle.ts exactly (test/web/proof.test.ts holds
 * the two to it on the RFC 6962 reference vectors and on broken proofs):
 * false for a well-formed proof whose hashes do not lead to the root, and a
 * LEDGER_BAD_PROOF SwarmError with the same details.reason for a malformed
 * one ('bad-size', 'bad-hash', 'index-out-of-range', 'proof-too-long',
 * 'proof-too-short', 'first-after-second', 'empty-proof'). A page shows both
 * as a failed check; the reason says why.
 */
import { bytesEqual } from '../../core/encoding.ts';
import { SwarmError } from '../../core/errors.ts';

/** An asynchronous SHA-256 of the concatenation of its parts (WebCrypto in the browser). */
export type Sha256 = (parts: readonly Uint8Array[]) => Promise<Uint8Array>;

export const HASH_BYTES = 32;
const LEAF_PREFIX = Uint8Array.of(0x00);
const NODE_PREFIX = Uint8Array.of(0x01);

/** SHA-256 through WebCrypto (the browser's, or Node's globalThis.crypto in tests). */
export const webCryptoSha256: Sha256 = async (parts) => {
  const total = parts.reduce((a, p) => a + p.length, 0);
  const buf = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    buf.set(p, o);
    o += p.length;
  }
  return new Uint8Array(await crypto.subtle.digest('SHA-256', buf));
};

export function leafHash(sha: Sha256, leafInput: Uint8Array): Promise<Uint8Array> {
  return sha([LEAF_PREFIX, leafInput]);
}

export function nodeHash(sha: Sha256, left: Uint8Array, right: Uint8Array): Promise<Uint8Array> {
  return sha([NODE_PREFIX, left, right]);
}

function badProof(reason: string, message: string, details: Record<string, unknown> = {}): SwarmError {
  return new SwarmError('LEDGER_BAD_PROOF', message, { reason, ...details });
}

function checkSize(n: number, name: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw badProof('bad-size', `${name} must be a non-negative safe integer`, { [name]: n });
}

function checkHash(h: unknown, name: string): asserts h is Uint8Array {
  if (!(h instanceof Uint8Array) || h.length !== HASH_BYTES) throw badProof('bad-hash', `${name} must be a 32-byte Uint8Array`, { name });
}

function checkPath(proof: readonly Uint8Array[]): void {
  if (!Array.isArray(proof)) throw badProof('bad-hash', 'proof must be an array of hashes');
  proof.forEach((p, i) => checkHash(p, `proof[${i}]`));
}

const half = (n: number): number => Math.floor(n / 2); // ">> 1" would truncate sizes above 2^31

function isPowerOfTwo(n: number): boolean {
  while (n > 1 && n % 2 === 0) n /= 2;
  return n === 1;
}

/** Root implied by an inclusion proof: RFC 9162 §2.1.3.2 steps 1-5 (first half). */
export async function rootFromInclusionProof(sha: Sha256, leaf: Uint8Array, index: number, treeSize: number, proof: readonly Uint8Array[]): Promise<Uint8Array> {
  checkSize(index, 'index');
  checkSize(treeSize, 'treeSize');
  checkHash(leaf, 'leafHash');
  checkPath(proof);
  if (index >= treeSize) throw badProof('index-out-of-range', 'leaf index must be below the tree size', { index, treeSize });
  let fn = index;
  let sn = treeSize - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) throw badProof('proof-too-long', 'inclusion proof has more nodes than the tree has levels', { index, treeSize, length: proof.length });
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(sha, p, r);
      // the last node of a level with no right sibling is carried up until it is a right child
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = await nodeHash(sha, r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) throw badProof('proof-too-short', 'inclusion proof has fewer nodes than the tree has levels', { index, treeSize, length: proof.length });
  return r;
}

/** RFC 9162 §2.1.3.2: is `leaf` leaf `index` of the tree of size `treeSize` with root `root`? */
export async function verifyInclusion(sha: Sha256, leaf: Uint8Array, index: number, treeSize: number, proof: readonly Uint8Array[], root: Uint8Array): Promise<boolean> {
  checkHash(root, 'root');
  return bytesEqual(await rootFromInclusionProof(sha, leaf, index, treeSize, proof), root);
}

/** RFC 9162 §2.1.4.2 (with src/ledger/merkle.ts's first = second and first = 0 rules): is tree `first` a prefix of tree `second`? */
export async function verifyConsistency(sha: Sha256, first: number, second: number, firstRoot: Uint8Array, secondRoot: Uint8Array, proof: readonly Uint8Array[]): Promise<boolean> {
  checkSize(first, 'first');
  checkSize(second, 'second');
  checkHash(firstRoot, 'firstRoot');
  checkHash(secondRoot, 'secondRoot');
  checkPath(proof);
  if (first > second) throw badProof('first-after-second', 'first tree size exceeds the second', { first, second });
  if (first === second) {
    if (proof.length > 0) throw badProof('proof-too-long', 'a tree is consistent with itself by an empty proof', { first, second, length: proof.length });
    return bytesEqual(firstRoot, secondRoot);
  }
  if (first === 0) {
    if (proof.length > 0) throw badProof('proof-too-long', 'consistency with the empty tree needs no proof', { first, second, length: proof.length });
    return bytesEqual(firstRoot, await sha([]));
  }
  if (proof.length === 0) throw badProof('empty-proof', 'consistency proof is empty', { first, second });
  // when first is a power of two, the old root is itself a node of the new tree and the proof omits it
  const path = isPowerOfTwo(first) ? [firstRoot, ...proof] : proof;
  let fn = first - 1;
  let sn = second - 1;
  while (fn % 2 === 1) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (let i = 1; i < path.length; i++) {
    const c = path[i]!;
    if (sn === 0) throw badProof('proof-too-long', 'consistency proof has more nodes than the trees need', { first, second, length: proof.length });
    if (fn % 2 === 1 || fn === sn) {
      fr = await nodeHash(sha, c, fr);
      sr = await nodeHash(sha, c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      sr = await nodeHash(sha, sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) throw badProof('proof-too-short', 'consistency proof has fewer nodes than the trees need', { first, second, length: proof.length });
  return bytesEqual(fr, firstRoot) && bytesEqual(sr, secondRoot);
}
