/**
 * An in-memory append-only Merkle log: the pure data structure that the
 * tracker's database-backed log mirrors, and that the auditor rebuilds from
 * `get-entries` to check what the tracker claims.
 *
 * Hashes are kept per level (a "level cache"): level 0 holds the leaf
 * hashes, level j the roots of the complete, aligned subtrees of 2^j leaves
 * (node i of level j covers leaves [i·2^j, (i+1)·2^j)). Appending a leaf adds
 * at most log2(n) nodes (amortised one), so building a log of n leaves costs
 * ~2n hashes, and any later root or proof costs O(log² n) hashes: a subtree
 * of a proof (merkle.ts ranges are aligned) is one cached node when complete,
 * and at most log2(n) cached nodes folded together on the right edge.
 * Each level is one flat byte buffer (32 bytes a node), so a million leaves
 * hold ~64 MiB of hashes instead of millions of small objects.
 *
 * Leaf inputs are copied on the way in and on the way out: nothing a caller
 * does to its arrays can change what the log has committed to.
 */
import { hexEncode } from '../core/encoding.ts';
import { SwarmError } from '../core/errors.ts';
import {
  HASH_BYTES,
  consistencyProofWith,
  emptyRootHash,
  inclusionProofWith,
  leafHash,
  nodeHash,
} from './merkle.ts';

/** Hashes of one tree level, packed back to back in a growable buffer. */
class HashLevel {
  private buf = new Uint8Array(HASH_BYTES * 16);
  count = 0;

  push(hash: Uint8Array): void {
    if ((this.count + 1) * HASH_BYTES > this.buf.length) {
      const bigger = new Uint8Array(this.buf.length * 2);
      bigger.set(this.buf);
      this.buf = bigger;
    }
    this.buf.set(hash, this.count * HASH_BYTES);
    this.count++;
  }

  /** A view (no copy) of node i; callers that hand it out copy it. */
  view(i: number): Uint8Array {
    return this.buf.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES);
  }
}

export class MerkleLog {
  private readonly inputs: Uint8Array[] = [];
  private readonly levels: HashLevel[] = [new HashLevel()];
  /** leaf hash (hex) -> first index; built on first lookup, then kept up to date. */
  private byHash: Map<string, number> | undefined;

  /** A log holding `leafInputs` in order. */
  static from(leafInputs: Iterable<Uint8Array>): MerkleLog {
    const log = new MerkleLog();
    for (const input of leafInputs) log.append(input);
    return log;
  }

  /** Number of leaves. */
  get size(): number {
    return this.inputs.length;
  }

  /** Appends one leaf input (e.g. an entry's canonical bytes) and returns its index. */
  append(leafInput: Uint8Array): number {
    const hash = leafHash(leafInput); // validates the type
    const index = this.inputs.length;
    this.inputs.push(leafInput.slice());
    this.levels[0]!.push(hash);
    // Close every complete subtree that this leaf finishes: while the node
    // just written is a right child, hash it with its left sibling.
    let j = 0;
    let i = index;
    while (i % 2 === 1) {
      const level = this.levels[j]!;
      const parent = nodeHash(level.view(i - 1), level.view(i));
      if (this.levels.length === j + 1) this.levels.push(new HashLevel());
      this.levels[j + 1]!.push(parent);
      i = (i - 1) / 2;
      j++;
    }
    if (this.byHash !== undefined) {
      const key = hexEncode(hash);
      if (!this.byHash.has(key)) this.byHash.set(key, index);
    }
    return index;
  }

  /** A copy of leaf input `index`. */
  leafInput(index: number): Uint8Array {
    this.checkIndex(index, this.size);
    return this.inputs[index]!.slice();
  }

  /** Copies of the leaf inputs in [start, end) (half-open, unlike RFC 6962 §4.6's inclusive get-entries). */
  leafInputs(start: number, end: number = this.size): Uint8Array[] {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start || end > this.size) {
      throw new SwarmError('LEDGER_OUT_OF_RANGE', 'leaf range outside the log', { start, end, size: this.size });
    }
    return this.inputs.slice(start, end).map((x) => x.slice());
  }

  /** Leaf hash of leaf `index` (a copy). */
  leafHash(index: number): Uint8Array {
    this.checkIndex(index, this.size);
    return this.levels[0]!.view(index).slice();
  }

  /**
   * Index of the first leaf whose leaf hash is `hash`, or undefined: the
   * lookup behind RFC 6962 §4.5 get-proof-by-hash.
   */
  indexOfLeafHash(hash: Uint8Array): number | undefined {
    if (this.byHash === undefined) {
      this.byHash = new Map();
      const leaves = this.levels[0]!;
      for (let i = 0; i < leaves.count; i++) {
        const key = hexEncode(leaves.view(i));
        if (!this.byHash.has(key)) this.byHash.set(key, i);
      }
    }
    if (!(hash instanceof Uint8Array) || hash.length !== HASH_BYTES) return undefined;
    return this.byHash.get(hexEncode(hash));
  }

  /** MTH of the first `size` leaves (RFC 6962 §2.1); any size up to the current one. */
  rootHash(size: number = this.size): Uint8Array {
    this.checkSize(size);
    if (size === 0) return emptyRootHash();
    return this.subtree(0, size).slice();
  }

  /** Inclusion proof of leaf `index` in the tree of the first `size` leaves (RFC 6962 §2.1.1). */
  inclusionProof(index: number, size: number = this.size): Uint8Array[] {
    this.checkSize(size);
    return inclusionProofWith(index, size, (s, e) => this.subtree(s, e).slice());
  }

  /** Consistency proof between the trees of the first `first` and `second` leaves (RFC 6962 §2.1.2). */
  consistencyProof(first: number, second: number = this.size): Uint8Array[] {
    this.checkSize(second);
    return consistencyProofWith(first, second, (s, e) => this.subtree(s, e).slice());
  }

  /**
   * MTH(D[start:end]) for an aligned range (start a multiple of the smallest
   * power of two >= end - start, as all proof ranges are). The range splits
   * into complete subtrees of decreasing size (the binary digits of
   * end - start), each one cached node; folding them right to left is the
   * recursive definition, because each is the left half of the split of
   * what remains.
   */
  private subtree(start: number, end: number): Uint8Array {
    const nodes: Uint8Array[] = [];
    let pos = start;
    let remaining = end - start;
    let width = 1;
    let level = 0;
    while (width * 2 <= remaining) {
      width *= 2;
      level++;
    }
    while (remaining > 0) {
      if (width <= remaining) {
        if (pos % width !== 0) throw new SwarmError('LEDGER_INTERNAL', 'unaligned subtree range', { start, end });
        nodes.push(this.levels[level]!.view(pos / width));
        pos += width;
        remaining -= width;
      }
      width /= 2;
      level--;
    }
    let acc = nodes[nodes.length - 1]!;
    for (let i = nodes.length - 2; i >= 0; i--) acc = nodeHash(nodes[i]!, acc);
    return acc;
  }

  private checkIndex(index: number, size: number): void {
    if (!Number.isSafeInteger(index) || index < 0 || index >= size) {
      throw new SwarmError('LEDGER_OUT_OF_RANGE', 'leaf index outside the log', { index, size });
    }
  }

  private checkSize(size: number): void {
    if (!Number.isSafeInteger(size) || size < 0 || size > this.size) {
      throw new SwarmError('LEDGER_OUT_OF_RANGE', 'tree size outside the log', { size, logSize: this.size });
    }
  }
}
