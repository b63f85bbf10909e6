/**
 * An in-memory append-only Merkle log: the pure data structure that the
 * tracker's database-backed log mirrors, and that the auditor rebuilds from
 * `get-entries` to check what the tracker claims.
 *
 * The hashes live in a HashTree (hash-tree.ts), a "level cache": level 0 holds the leaf
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
import { HashTree } from './hash-tree.ts';
import { HASH_BYTES, leafHash } from './merkle.ts';

export class MerkleLog {
  private readonly inputs: Uint8Array[] = [];
  /** the level cache over the leaf hashes (hash-tree.ts) */
  private readonly tree = new HashTree();
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
    this.tree.append(hash);
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
    return this.tree.leafHash(index);
  }

  /**
   * Index of the first leaf whose leaf hash is `hash`, or undefined: the
   * lookup behind RFC 6962 §4.5 get-proof-by-hash.
   */
  indexOfLeafHash(hash: Uint8Array): number | undefined {
    if (this.byHash === undefined) {
      this.byHash = new Map();
      for (let i = 0; i < this.tree.size; i++) {
        const key = hexEncode(this.tree.leafHash(i));
        if (!this.byHash.has(key)) this.byHash.set(key, i);
      }
    }
    if (!(hash instanceof Uint8Array) || hash.length !== HASH_BYTES) return undefined;
    return this.byHash.get(hexEncode(hash));
  }

  /** MTH of the first `size` leaves (RFC 6962 §2.1); any size up to the current one. */
  rootHash(size: number = this.size): Uint8Array {
    this.checkSize(size);
    return this.tree.rootHash(size);
  }

  /** Inclusion proof of leaf `index` in the tree of the first `size` leaves (RFC 6962 §2.1.1). */
  inclusionProof(index: number, size: number = this.size): Uint8Array[] {
    this.checkSize(size);
    return this.tree.inclusionProof(index, size);
  }

  /** Consistency proof between the trees of the first `first` and `second` leaves (RFC 6962 §2.1.2). */
  consistencyProof(first: number, second: number = this.size): Uint8Array[] {
    this.checkSize(second);
    return this.tree.consistencyProof(first, second);
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
