/** The tracker's in-memory tree of leaf hashes against src/ledger/merkle.ts (itself checked against RFC 6962 vectors). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { consistencyProof, emptyRootHash, inclusionProof, leafHash, rootHash, verifyConsistency, verifyInclusion } from '../../src/ledger/merkle.ts';
import { HashTree } from '../../src/ledger/hash-tree.ts';
import { codeOf } from '../helpers/errors.ts';
import { makeLeaves } from './helpers.ts';

const LEAVES = makeLeaves(300).map(leafHash);

function treeOf(n: number): HashTree {
  const t = new HashTree();
  for (let i = 0; i < n; i++) t.append(LEAVES[i]!);
  return t;
}

describe('HashTree', () => {
  it('gives the root of every size 0..300 and of every prefix of the largest tree', () => {
    const big = treeOf(300);
    const t = new HashTree();
    expect(t.rootHash()).toEqual(emptyRootHash());
    for (let n = 1; n <= 300; n++) {
      t.append(LEAVES[n - 1]!);
      const want = rootHash(LEAVES.slice(0, n));
      expect(t.rootHash()).toEqual(want);
      expect(big.rootHash(n)).toEqual(want);
    }
  });

  it('property: inclusion and consistency proofs equal merkle.ts and verify, for random sizes and pairs', () => {
    const big = treeOf(300);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.nat(), fc.nat(), (size, a, b) => {
        const index = a % size;
        const first = b % (size + 1);
        const leaves = LEAVES.slice(0, size);
        const path = big.inclusionProof(index, size);
        expect(path).toEqual(inclusionProof(leaves, index));
        expect(verifyInclusion(LEAVES[index]!, index, size, path, rootHash(leaves))).toBe(true);
        const proof = big.consistencyProof(first, size);
        expect(proof).toEqual(consistencyProof(leaves, first));
        expect(verifyConsistency(first, size, rootHash(LEAVES.slice(0, first)), rootHash(leaves), proof)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('hands out copies: changing a returned hash does not change the tree', () => {
    const t = treeOf(5);
    const root = t.rootHash();
    t.rootHash().fill(0);
    t.leafHash(2).fill(0);
    t.inclusionProof(0).forEach((p) => p.fill(0));
    expect(t.rootHash()).toEqual(root);
    expect(t.leafHash(2)).toEqual(LEAVES[2]);
  });

  it('clear() empties it for a rebuild', () => {
    const t = treeOf(9);
    t.clear();
    expect(t.size).toBe(0);
    t.append(LEAVES[0]!);
    expect(t.rootHash()).toEqual(rootHash(LEAVES.slice(0, 1)));
  });

  it('rejects bad leaves and out-of-range sizes with codes', () => {
    const t = treeOf(4);
    expect(codeOf(() => t.append(new Uint8Array(31)))).toBe('LEDGER_BAD_LEAF');
    expect(codeOf(() => t.append('x' as unknown as Uint8Array))).toBe('LEDGER_BAD_LEAF');
    expect(codeOf(() => t.rootHash(5))).toBe('LEDGER_OUT_OF_RANGE');
    expect(codeOf(() => t.rootHash(-1))).toBe('LEDGER_OUT_OF_RANGE');
    expect(codeOf(() => t.leafHash(4))).toBe('LEDGER_OUT_OF_RANGE');
    expect(codeOf(() => t.inclusionProof(4, 4))).toBe('LEDGER_OUT_OF_RANGE');
    expect(codeOf(() => t.consistencyProof(3, 5))).toBe('LEDGER_OUT_OF_RANGE');
    expect(codeOf(() => t.consistencyProof(4, 3))).toBe('LEDGER_OUT_OF_RANGE');
  });
});
