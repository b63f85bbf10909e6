/**
 * An in-memory Merkle tree over leaf HASHES only: the tracker's mirror of
 * ledger_entries. It is src/ledger/log.ts's level cache without the leaf
 * inputs (those stay in the database), so a million entries hold ~64 MiB of
 * hashes and nothing else.
 *
 * Level 0 holds the leaf hashes, level j the roots of the complete, aligned
 * subtrees of 2^j leaves (node i of level j covers leaves [i·2^j, (i+1)·2^j)).
 * Appending a leaf closes at most log2(n) subtrees (amortised one hash), and
 * any root or proof (RFC 6962 §2.1.1, §2.1.2, via the ranges of
 * src/ledger/merkle.ts) costs O(log² n) hashes: every range in a proof is
 * aligned, so it is one cached node when complete and at most log2(n) cached
 * nodes folded together on the right edge.
 */
import { SwarmError } from '../core/errors.ts';
import { HASH_BYTES, consistencyProofWith, emptyRootHash, inclusionProofWith, nodeHash } from './merkle.ts';

/** Hashes of one level, back to back in a growable buffer. */
class HashLevel {
  buf = new Uint8Array(HASH_BYTES * 1024);
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

  /** A view (no copy) of node i. */
  view(i: number): Uint8Array {
    return this.buf.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES);
  }
}

export class HashTree {
  private levels: HashLevel[] = [new HashLevel()];

  /** Number of leaves. */
  get size(): number {
    return this.levels[0]!.count;
  }

  /** Appends one leaf hash (SHA-256(0x00 ‖ leaf input), 32 bytes); returns its index. */
  append(hash: Uint8Array): number {
    if (!(hash instanceof Uint8Array) || hash.length !== HASH_BYTES) {
      throw new SwarmError('LEDGER_BAD_LEAF', 'a leaf hash is 32 bytes', { length: hash instanceof Uint8Array ? hash.length : null });
    }
    const index = this.size;
    this.levels[0]!.push(hash);
    // Close every complete subtree this leaf finishes: while the node just
    // written is a right child, hash it with its left sibling.
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
    return index;
  }

  /** Drops every leaf (the store rebuilds when its database shrank). */
  clear(): void {
    this.levels = [new HashLevel()];
  }

  /** A copy of leaf hash `index`. */
  leafHash(index: number): Uint8Array {
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.size) {
      throw new SwarmError('LEDGER_OUT_OF_RANGE', 'leaf index outside the tree', { index, size: this.size });
    }
    return this.levels[0]!.view(index).slice();
  }

  /** MTH of the first `size` leaves (RFC 6962 §2.1). */
  rootHash(size: number = this.size): Uint8Array {
    this.checkSize(size);
    return size === 0 ? emptyRootHash() : this.subtree(0, size).slice();
  }

  /** Audit path of leaf `index` in the tree of the first `size` leaves (RFC 6962 §2.1.1). */
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
   * MTH(D[start:end]) of an aligned range: its complete power-of-two pieces
   * (the binary digits of end - start, largest first) are cached nodes;
   * folding them right to left is RFC 6962's recursion, since each piece is
   * the left half of the split of what remains.
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

  private checkSize(size: number): void {
    if (!Number.isSafeInteger(size) || size < 0 || size > this.size) {
      throw new SwarmError('LEDGER_OUT_OF_RANGE', 'tree size outside the tree', { size, treeSize: this.size });
    }
  }
}
