/**
 * The in-memory log and its level cache at their edges (issue 26, mutation
 * testing): leaf ranges and indexes outside the log, copies handed out
 * (ranges of inputs, roots and proof nodes that are cached nodes), and a
 * leaf-hash lookup with something that is not a Uint8Array.
 */
import { describe, expect, it } from 'vitest';
import { HashTree } from '../../src/ledger/hash-tree.ts';
import { MerkleLog } from '../../src/ledger/log.ts';
import { leafHash } from '../../src/ledger/merkle.ts';
import { codeOf, hex, makeLeaves } from './helpers.ts';

const inputs = makeLeaves(5, 'lm');

describe('MerkleLog.leafInputs', () => {
  const log = MerkleLog.from(inputs);

  it('refuses ranges outside the log', () => {
    for (const [s, e] of [[1.5, 3], [0, 2.5], [-1, 2], [3, 2], [0, 6], [Number.NaN, 2]] as const) {
      expect(codeOf(() => log.leafInputs(s, e)), `${s}..${e}`).toBe('LEDGER_OUT_OF_RANGE');
    }
  });

  it('gives exactly the range asked for; an empty range is empty', () => {
    expect(log.leafInputs(2, 2)).toEqual([]);
    expect(log.leafInputs(5)).toEqual([]);
    expect(log.leafInputs(1, 3).map(hex)).toEqual(inputs.slice(1, 3).map(hex));
    expect(log.leafInputs(3).map(hex)).toEqual(inputs.slice(3).map(hex));
  });

  it('hands out copies', () => {
    const got = log.leafInputs(0, 2);
    got[0]!.fill(0xee);
    got[1]!.fill(0xee);
    expect(log.leafInputs(0, 2).map(hex)).toEqual(inputs.slice(0, 2).map(hex));
  });
});

describe('MerkleLog.indexOfLeafHash', () => {
  it('finds a leaf only by a 32-byte Uint8Array, not by an array of the same numbers', () => {
    const log = MerkleLog.from(inputs);
    const h = leafHash(inputs[2]!);
    expect(log.indexOfLeafHash(h)).toBe(2);
    expect(log.indexOfLeafHash(Array.from(h) as unknown as Uint8Array)).toBeUndefined();
  });
});

describe('HashTree', () => {
  const tree = new HashTree();
  for (const x of makeLeaves(8, 'ht')) tree.append(leafHash(x));

  it('holds about two hashes a leaf: appending allocates no level it does not fill', () => {
    // DESIGN: a million entries hold ~64 MiB of hashes. 4096 leaves need
    // well under 1 MiB of level buffers (32 KiB the least a level allocates).
    const hashes = makeLeaves(4096, 'mem').map((x) => leafHash(x));
    const before = process.memoryUsage().arrayBuffers;
    const big = new HashTree();
    for (const h of hashes) big.append(h);
    const grown = process.memoryUsage().arrayBuffers - before;
    expect(big.size).toBe(4096);
    expect(grown).toBeLessThan(8 * 2 ** 20);
  });

  it('refuses leaf indexes outside the tree', () => {
    for (const i of [-1, 1.5, Number.NaN, 8]) expect(codeOf(() => tree.leafHash(i)), String(i)).toBe('LEDGER_OUT_OF_RANGE');
    expect(tree.leafHash(7)).toHaveLength(32);
  });

  it('a root that is a cached node is handed out as a copy', () => {
    for (const size of [1, 2, 4, 8]) {
      const before = hex(tree.rootHash(size));
      tree.rootHash(size).fill(0);
      expect(hex(tree.rootHash(size)), `size ${size}`).toBe(before);
    }
  });

  it('consistency proof nodes that are cached nodes are handed out as copies', () => {
    const before = tree.consistencyProof(4, 8).map(hex);
    expect(before).toHaveLength(1); // MTH(D[4:8]), one cached node
    for (const n of tree.consistencyProof(4, 8)) n.fill(0);
    expect(tree.consistencyProof(4, 8).map(hex)).toEqual(before);
    expect(hex(tree.rootHash())).toBe(hex(MerkleLog.from(makeLeaves(8, 'ht')).rootHash()));
  });
});
