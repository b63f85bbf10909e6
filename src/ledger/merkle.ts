/**
 * Merkle tree hashing and proofs of RFC 6962 §2.1 (the same tree as
 * RFC 9162 §2.1), the hashing of Certificate Transparency logs.
 *
 *   leaf hash  MTH({d}) = SHA-256(0x00 ‖ d)
 *   node hash           = SHA-256(0x01 ‖ left ‖ right)
 *   MTH(D[n]), n > 1    = node(MTH(D[0:k]), MTH(D[k:n])), k the largest power
 *                         of two smaller than n
 *   MTH({})             = SHA-256("")
 * The 0x00 / 0x01 prefixes are domain separation (RFC 6962 §2.1, second
 * paragraph): a leaf can never be passed off as an inner node, which is what
 * defeats second-preimage attacks on the tree.
 *
 * Proof construction is split in two pure steps (the shape of
 * transparency-dev/merkle's `proof.Nodes`):
 *  1. `inclusionProofRanges` / `consistencyProofRanges` say WHICH subtrees
 *     the proof consists of, as half-open leaf ranges [start, end). They do
 *     no hashing, cost O(log n), and are what a database-backed log needs to
 *     look its stored hashes up.
 *  2. `inclusionProofWith` / `consistencyProofWith` map those ranges through a
 *     `SubtreeHasher`. `inclusionProof` / `consistencyProof` do it over an
 *     array of leaf hashes (O(n) hashes: every sibling subtree is hashed once,
 *     and their sizes sum to < n); `MerkleLog` (log.ts) does it over a level
 *     cache (O(log² n) hashes per proof).
 *
 * Every range produced here is "aligned": its start is a multiple of the
 * smallest power of two >= its size (a property of the recursive split), so
 * it decomposes into complete power-of-two subtrees that a level cache holds.
 *
 * Verification follows RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2
 * (consistency) step by step. Outcomes:
 *  - `true`   the proof is well formed and proves the claim;
 *  - `false`  the proof is well formed (right shape for the sizes) but the
 *             hashes do not match: a wrong leaf, a wrong root, a tampered node;
 *  - throws SwarmError LEDGER_BAD_PROOF (details.reason) when the arguments
 *    cannot form a proof at all:
 *      'bad-size'              size or index not a safe non-negative integer
 *      'bad-hash'              a hash or proof node that is not 32 bytes
 *      'index-out-of-range'    leaf index >= tree size (§2.1.3.2 step 1),
 *                              which includes every index for tree size 0
 *      'first-after-second'    consistency from a larger tree to a smaller one
 *      'empty-proof'           consistency with 0 < first < second and an
 *                              empty path (§2.1.4.2 step 1)
 *      'proof-too-long'        the RFC loop reached sn = 0 with nodes left
 *                              (§2.1.3.2 step 4a / §2.1.4.2 step 6a), or a
 *                              non-empty proof where none is defined
 *                              (first = second, first = 0)
 *      'proof-too-short'       the path ended with sn != 0 (step 5 / step 7)
 *    Both outcomes reject a proof; the exception only says why.
 * Consistency cases outside RFC 9162's 0 < first < second (§2.1.4.1):
 *  - first = second: the proof must be empty, and the roots must be equal;
 *  - first = 0: the proof must be empty; the empty tree is a prefix of every
 *    tree, so this holds iff firstRoot is the empty-tree hash SHA-256("")
 *    (secondRoot cannot be checked and is only length-validated).
 *
 * What a proof does not bind: the tree size. The root commits to the leaves,
 * but the verifier takes the size on trust, and two sizes can walk the same
 * left/right steps (index 0 of sizes 3 and 4 both hash as ((l, p0), p1)), so
 * a proof can check out against one root under either claimed size. Always
 * verify against the size and root of one signed tree head (tree-head.ts),
 * where the signature binds the two together, as RFC 6962 §3.5 does.
 */
import { bytesEqual } from '../core/encoding.ts';
import { SwarmError } from '../core/errors.ts';
import { SHA256_BYTES, sha256, sha256Parts } from '../core/sha256.ts';

/** Bytes of every hash in the tree (SHA-256). */
export const HASH_BYTES = SHA256_BYTES;

const LEAF_PREFIX = Uint8Array.of(0x00);
const NODE_PREFIX = Uint8Array.of(0x01);

/** Half-open range of leaf indices [start, end) naming one subtree. */
export type LeafRange = readonly [start: number, end: number];

/** MTH(D[start:end]) of some fixed list of leaves. */
export type SubtreeHasher = (start: number, end: number) => Uint8Array;

/** Leaf hash of RFC 6962 §2.1: SHA-256(0x00 ‖ leafInput). */
export function leafHash(leafInput: Uint8Array): Uint8Array {
  if (!(leafInput instanceof Uint8Array)) throw new SwarmError('LEDGER_BAD_LEAF', 'leaf input must be a Uint8Array');
  return sha256Parts([LEAF_PREFIX, leafInput]);
}

/** Inner node hash of RFC 6962 §2.1: SHA-256(0x01 ‖ left ‖ right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return sha256Parts([NODE_PREFIX, left, right]);
}

/** MTH({}) = SHA-256 of the empty string (RFC 6962 §2.1). A fresh copy each call. */
export function emptyRootHash(): Uint8Array {
  return sha256(new Uint8Array(0));
}

/** The largest power of two strictly smaller than n (n >= 2): the split point k of RFC 6962 §2.1. */
export function splitPoint(n: number): number {
  if (!Number.isSafeInteger(n) || n < 2) throw new SwarmError('LEDGER_BAD_ARGUMENT', 'split point needs n >= 2', { n });
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function isPowerOfTwo(n: number): boolean {
  // n is a safe positive integer; floating halving is exact for these.
  while (n > 1 && n % 2 === 0) n /= 2;
  return n === 1;
}

function half(n: number): number {
  return Math.floor(n / 2); // ">> 1" would truncate sizes above 2^31
}

function isHash(h: unknown): h is Uint8Array {
  return h instanceof Uint8Array && h.length === HASH_BYTES;
}

// ---------------------------------------------------------------------------
// Root hashes

/**
 * MTH(D[start:end]) over leaf hashes, computed bottom-up: pair neighbours,
 * carry an unpaired last node up unchanged. This is the same tree as the
 * recursive definition (every left subtree of the split is a complete
 * power-of-two tree, so pairing from the left reproduces it) in O(n) hashes
 * and O(n) memory without recursion.
 */
export function subtreeHash(leafHashes: readonly Uint8Array[], start: number, end: number): Uint8Array {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start || end > leafHashes.length) {
    throw new SwarmError('LEDGER_OUT_OF_RANGE', 'subtree range outside the leaves', { start, end, leaves: leafHashes.length });
  }
  if (start === end) return emptyRootHash();
  let level: Uint8Array[] = [];
  for (let i = start; i < end; i++) {
    const h = leafHashes[i];
    if (!isHash(h)) throw new SwarmError('LEDGER_BAD_LEAF', 'leaf hash must be 32 bytes', { index: i });
    level.push(h);
  }
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(nodeHash(level[i]!, level[i + 1]!));
    if (level.length % 2 === 1) next.push(level[level.length - 1]!);
    level = next;
  }
  return level[0]!;
}

/** MTH of a list of leaf hashes (RFC 6962 §2.1); the empty list gives SHA-256(""). */
export function rootHash(leafHashes: readonly Uint8Array[]): Uint8Array {
  return subtreeHash(leafHashes, 0, leafHashes.length);
}

// ---------------------------------------------------------------------------
// Proof construction

function checkSize(n: number, name: string, code: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new SwarmError(code, `${name} must be a non-negative safe integer`, { [name]: n });
}

/**
 * The subtrees of the audit path PATH(index, D[size]) of RFC 6962 §2.1.1,
 * leaf-side first (the order the proof lists them). Walks the recursion
 * top-down, keeping the sibling of the side that holds the leaf.
 * Throws LEDGER_OUT_OF_RANGE unless 0 <= index < size.
 */
export function inclusionProofRanges(index: number, size: number): LeafRange[] {
  checkSize(index, 'index', 'LEDGER_OUT_OF_RANGE');
  checkSize(size, 'size', 'LEDGER_OUT_OF_RANGE');
  if (index >= size) throw new SwarmError('LEDGER_OUT_OF_RANGE', 'leaf index must be below the tree size', { index, size });
  const topDown: LeafRange[] = [];
  let lo = 0;
  let hi = size;
  while (hi - lo > 1) {
    const k = splitPoint(hi - lo);
    if (index < lo + k) {
      topDown.push([lo + k, hi]); // PATH(m, D[0:k]) : MTH(D[k:n])
      hi = lo + k;
    } else {
      topDown.push([lo, lo + k]); // PATH(m - k, D[k:n]) : MTH(D[0:k])
      lo += k;
    }
  }
  return topDown.reverse();
}

/**
 * The subtrees of PROOF(first, D[second]) = SUBPROOF(first, D[second], true)
 * of RFC 6962 §2.1.2, in proof order. first = second gives the empty proof
 * (SUBPROOF(m, D[m], true) = {}); first = 0 also gives the empty proof (the
 * RFC leaves it undefined; see the verifier's rule in the header).
 * Throws LEDGER_OUT_OF_RANGE unless 0 <= first <= second.
 */
export function consistencyProofRanges(first: number, second: number): LeafRange[] {
  checkSize(first, 'first', 'LEDGER_OUT_OF_RANGE');
  checkSize(second, 'second', 'LEDGER_OUT_OF_RANGE');
  if (first > second) throw new SwarmError('LEDGER_OUT_OF_RANGE', 'first tree size exceeds the second', { first, second });
  if (first === 0 || first === second) return [];
  const topDown: LeafRange[] = [];
  let lo = 0;
  let hi = second;
  let m = first; // relative to lo
  let b = true; // SUBPROOF's flag: is this subtree's root the old root itself?
  for (;;) {
    if (m === hi - lo) {
      // SUBPROOF(m, D[m], b): {} when b, else {MTH(D[m])}. It is the
      // deepest call, so its node comes first in the proof.
      const out = topDown.reverse();
      if (!b) out.unshift([lo, hi]);
      return out;
    }
    const k = splitPoint(hi - lo);
    if (m <= k) {
      topDown.push([lo + k, hi]); // SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
      hi = lo + k;
    } else {
      topDown.push([lo, lo + k]); // SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])
      lo += k;
      m -= k;
      b = false;
    }
  }
}

/** Number of nodes in an inclusion proof for (index, size); O(log size). */
export function inclusionProofLength(index: number, size: number): number {
  return inclusionProofRanges(index, size).length;
}

/** Number of nodes in a consistency proof for (first, second); O(log second). */
export function consistencyProofLength(first: number, second: number): number {
  return consistencyProofRanges(first, second).length;
}

/** Inclusion proof for leaf `index` in the tree of the first `size` leaves, hashes from `subtree`. */
export function inclusionProofWith(index: number, size: number, subtree: SubtreeHasher): Uint8Array[] {
  return inclusionProofRanges(index, size).map(([s, e]) => subtree(s, e));
}

/** Consistency proof between the trees of the first `first` and `second` leaves, hashes from `subtree`. */
export function consistencyProofWith(first: number, second: number, subtree: SubtreeHasher): Uint8Array[] {
  return consistencyProofRanges(first, second).map(([s, e]) => subtree(s, e));
}

function checkTreeSize(size: number, leaves: number): void {
  checkSize(size, 'size', 'LEDGER_OUT_OF_RANGE');
  if (size > leaves) throw new SwarmError('LEDGER_OUT_OF_RANGE', 'tree size exceeds the leaves given', { size, leaves });
}

/**
 * Inclusion proof (RFC 6962 §2.1.1 audit path) of leaf `index` in the tree
 * of the first `treeSize` of `leafHashes`. O(treeSize) hashes.
 */
export function inclusionProof(leafHashes: readonly Uint8Array[], index: number, treeSize: number = leafHashes.length): Uint8Array[] {
  checkTreeSize(treeSize, leafHashes.length);
  return inclusionProofWith(index, treeSize, (s, e) => subtreeHash(leafHashes, s, e));
}

/**
 * Consistency proof (RFC 6962 §2.1.2) between the trees of the first `first`
 * and the first `second` of `leafHashes`. O(second) hashes.
 */
export function consistencyProof(
  leafHashes: readonly Uint8Array[],
  first: number,
  second: number = leafHashes.length,
): Uint8Array[] {
  checkTreeSize(second, leafHashes.length);
  return consistencyProofWith(first, second, (s, e) => subtreeHash(leafHashes, s, e));
}

// ---------------------------------------------------------------------------
// Verification

function badProof(reason: string, message: string, details: Record<string, unknown> = {}): SwarmError {
  return new SwarmError('LEDGER_BAD_PROOF', message, { reason, ...details });
}

function checkProofSize(n: number, name: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw badProof('bad-size', `${name} must be a non-negative safe integer`, { [name]: n });
}

function checkHash(h: unknown, name: string): asserts h is Uint8Array {
  if (!isHash(h)) throw badProof('bad-hash', `${name} must be a 32-byte Uint8Array`, { name });
}

function checkPath(proof: readonly Uint8Array[]): void {
  if (!Array.isArray(proof)) throw badProof('bad-hash', 'proof must be an array of hashes');
  proof.forEach((p, i) => checkHash(p, `proof[${i}]`));
}

/**
 * Root hash implied by an inclusion proof, computed exactly as RFC 9162
 * §2.1.3.2 steps 1-4; step 5's "sn is 0" check is applied here, so a result
 * always comes from a proof of the right length. Throws LEDGER_BAD_PROOF as
 * documented in the header; the caller compares the root.
 */
export function rootFromInclusionProof(leaf: Uint8Array, index: number, treeSize: number, proof: readonly Uint8Array[]): Uint8Array {
  checkProofSize(index, 'index');
  checkProofSize(treeSize, 'treeSize');
  checkHash(leaf, 'leafHash');
  checkPath(proof);
  // Step 1.
  if (index >= treeSize) throw badProof('index-out-of-range', 'leaf index must be below the tree size', { index, treeSize });
  // Steps 2-3.
  let fn = index;
  let sn = treeSize - 1;
  let r = leaf;
  // Step 4.
  for (const p of proof) {
    if (sn === 0) throw badProof('proof-too-long', 'inclusion proof has more nodes than the tree has levels', { index, treeSize, length: proof.length });
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        // fn is the last node of its level with no right sibling: it is
        // carried up unchanged until it becomes a right child (or the root).
        while (fn % 2 === 0 && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  // Step 5 (first half).
  if (sn !== 0) throw badProof('proof-too-short', 'inclusion proof has fewer nodes than the tree has levels', { index, treeSize, length: proof.length });
  return r;
}

/**
 * Verifies that `leafHash` is leaf `index` of the tree of size `treeSize`
 * with root `root` (RFC 9162 §2.1.3.2). Returns false on a hash mismatch;
 * throws LEDGER_BAD_PROOF for malformed arguments (see the header).
 */
export function verifyInclusion(
  leaf: Uint8Array,
  index: number,
  treeSize: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  checkHash(root, 'root');
  const r = rootFromInclusionProof(leaf, index, treeSize, proof);
  return bytesEqual(r, root); // step 5 (second half)
}

/**
 * Verifies that the tree of size `first` with root `firstRoot` is a prefix
 * of the tree of size `second` with root `secondRoot` (RFC 9162 §2.1.4.2,
 * plus the first = second and first = 0 cases in the header). Returns false
 * on a hash mismatch; throws LEDGER_BAD_PROOF for malformed arguments.
 */
export function verifyConsistency(
  first: number,
  second: number,
  firstRoot: Uint8Array,
  secondRoot: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  checkProofSize(first, 'first');
  checkProofSize(second, 'second');
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
    return bytesEqual(firstRoot, emptyRootHash());
  }
  // Step 1.
  if (proof.length === 0) throw badProof('empty-proof', 'consistency proof is empty', { first, second });
  // Step 2: when first is a power of two, the old root is itself a node of
  // the new tree and the proof omits it.
  const path = isPowerOfTwo(first) ? [firstRoot, ...proof] : proof;
  // Step 3.
  let fn = first - 1;
  let sn = second - 1;
  // Step 4: skip the levels where the old tree's last node is a right child
  // whose left sibling is inside the complete subtree the path starts from.
  while (fn % 2 === 1) {
    fn = half(fn);
    sn = half(sn);
  }
  // Step 5.
  let fr = path[0]!;
  let sr = path[0]!;
  // Step 6.
  for (let i = 1; i < path.length; i++) {
    const c = path[i]!;
    if (sn === 0) throw badProof('proof-too-long', 'consistency proof has more nodes than the trees need', { first, second, length: proof.length });
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  // Step 7.
  if (sn !== 0) throw badProof('proof-too-short', 'consistency proof has fewer nodes than the trees need', { first, second, length: proof.length });
  return bytesEqual(fr, firstRoot) && bytesEqual(sr, secondRoot);
}
