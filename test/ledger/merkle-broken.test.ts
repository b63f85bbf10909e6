/**
 * Broken proofs must be rejected (transparency-dev/merkle's "corrupted
 * proof" tests, generalised with fast-check): every mutation of a valid
 * inclusion or consistency proof — a flipped bit anywhere, a dropped, added,
 * swapped or duplicated node, a wrong index, wrong sizes, first > second, a
 * proof for another tree — is refused, by `false` or by LEDGER_BAD_PROOF.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesEqual } from '../../src/core/encoding.ts';
import { MerkleLog } from '../../src/ledger/log.ts';
import { inclusionProofLength, leafHash, verifyConsistency, verifyInclusion } from '../../src/ledger/merkle.ts';
import { flipBit, makeLeaves, rejected } from './helpers.ts';
import { CONSISTENCY_PROOFS, INCLUSION_PROOFS, LEAF_INPUTS, ROOTS } from './merkle-vectors.ts';
import { unhex } from './helpers.ts';

const N = 300;
const log = MerkleLog.from(makeLeaves(N, 'broken'));
const other = MerkleLog.from(makeLeaves(N, 'other-tree'));
const rootAt = Array.from({ length: N + 1 }, (_, n) => log.rootHash(n));
const otherRootAt = Array.from({ length: N + 1 }, (_, n) => other.rootHash(n));

/** (index, size) with 0 <= index < size <= N. */
const inclusionCase = fc.integer({ min: 1, max: N }).chain((size) => fc.tuple(fc.integer({ min: 0, max: size - 1 }), fc.constant(size)));
/** (first, second) with 1 <= first < second <= N: the proofs that have nodes. */
const consistencyCase = fc
  .tuple(fc.integer({ min: 1, max: N }), fc.integer({ min: 1, max: N }))
  .filter(([a, b]) => a !== b)
  .map(([a, b]) => (a < b ? [a, b] : [b, a]) as [number, number]);
const randomHash = fc.uint8Array({ minLength: 32, maxLength: 32 });
const bitPos = fc.tuple(fc.nat(), fc.integer({ min: 0, max: 31 }), fc.integer({ min: 0, max: 7 }));

function incl(index: number, size: number) {
  return { leaf: log.leafHash(index), proof: log.inclusionProof(index, size), root: rootAt[size]! };
}

function cons(first: number, second: number) {
  return { proof: log.consistencyProof(first, second), r1: rootAt[first]!, r2: rootAt[second]! };
}

describe('broken inclusion proofs are rejected', () => {
  it('a flipped bit in any proof node', () => {
    fc.assert(
      fc.property(inclusionCase.filter(([, n]) => n > 1), bitPos, ([i, n], [node, byte, bit]) => {
        const { leaf, proof, root } = incl(i, n);
        const k = node % proof.length;
        proof[k] = flipBit(proof[k]!, byte, bit);
        expect(rejected(() => verifyInclusion(leaf, i, n, proof, root))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('a flipped bit in the leaf hash or the root', () => {
    fc.assert(
      fc.property(inclusionCase, bitPos, fc.boolean(), ([i, n], [, byte, bit], inLeaf) => {
        const { leaf, proof, root } = incl(i, n);
        const l = inLeaf ? flipBit(leaf, byte, bit) : leaf;
        const r = inLeaf ? root : flipBit(root, byte, bit);
        expect(rejected(() => verifyInclusion(l, i, n, proof, r))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('a dropped node', () => {
    fc.assert(
      fc.property(inclusionCase.filter(([, n]) => n > 1), fc.nat(), ([i, n], at) => {
        const { leaf, proof, root } = incl(i, n);
        proof.splice(at % proof.length, 1);
        expect(rejected(() => verifyInclusion(leaf, i, n, proof, root))).toBe(true);
      }),
    );
  });

  it('an added node (random or copied) anywhere', () => {
    fc.assert(
      fc.property(inclusionCase, fc.nat(), randomHash, fc.boolean(), ([i, n], at, extra, duplicate) => {
        const { leaf, proof, root } = incl(i, n);
        const node = duplicate && proof.length > 0 ? proof[at % proof.length]! : extra;
        proof.splice(at % (proof.length + 1), 0, node);
        expect(rejected(() => verifyInclusion(leaf, i, n, proof, root))).toBe(true);
      }),
    );
  });

  it('two nodes swapped', () => {
    fc.assert(
      fc.property(inclusionCase.filter(([, n]) => n > 2), fc.nat(), fc.nat(), ([i, n], a, b) => {
        const { leaf, proof, root } = incl(i, n);
        const x = a % proof.length;
        const y = b % proof.length;
        fc.pre(x !== y && !bytesEqual(proof[x]!, proof[y]!));
        [proof[x], proof[y]] = [proof[y]!, proof[x]!];
        expect(rejected(() => verifyInclusion(leaf, i, n, proof, root))).toBe(true);
      }),
    );
  });

  it('a node replaced by its duplicate neighbour', () => {
    fc.assert(
      fc.property(inclusionCase.filter(([, n]) => n > 2), fc.nat(), ([i, n], a) => {
        const { leaf, proof, root } = incl(i, n);
        fc.pre(proof.length >= 2);
        const x = a % (proof.length - 1);
        proof[x] = proof[x + 1]!;
        expect(rejected(() => verifyInclusion(leaf, i, n, proof, root))).toBe(true);
      }),
    );
  });

  it('a wrong leaf index (with the leaf it claims, or the right leaf)', () => {
    fc.assert(
      fc.property(inclusionCase.filter(([, n]) => n > 1), fc.nat(), fc.boolean(), ([i, n], d, sameLeaf) => {
        const { leaf, proof, root } = incl(i, n);
        const j = (i + 1 + (d % (n - 1))) % n; // any index but i
        const claimed = sameLeaf ? leaf : log.leafHash(j);
        expect(rejected(() => verifyInclusion(claimed, j, n, proof, root))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('an index at or beyond the tree size', () => {
    fc.assert(
      fc.property(inclusionCase, fc.nat(1000), ([i, n], extra) => {
        const { leaf, proof, root } = incl(i, n);
        expect(rejected(() => verifyInclusion(leaf, n + extra, n, proof, root))).toBe(true);
      }),
    );
  });

  it('a wrong tree size, with the root of that size', () => {
    fc.assert(
      fc.property(inclusionCase, fc.integer({ min: 1, max: N }), ([i, n], m) => {
        fc.pre(m !== n && i < m);
        const { leaf, proof } = incl(i, n);
        expect(rejected(() => verifyInclusion(leaf, i, m, proof, rootAt[m]!))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('a doubled or halved tree size with the original root (the path length no longer fits)', () => {
    fc.assert(
      fc.property(inclusionCase, fc.boolean(), ([i, n], double) => {
        const m = double ? 2 * n : Math.floor(n / 2);
        fc.pre(i < m);
        expect(inclusionProofLength(i, m)).not.toBe(inclusionProofLength(i, n));
        const { leaf, proof, root } = incl(i, n);
        expect(rejected(() => verifyInclusion(leaf, i, m, proof, root))).toBe(true);
      }),
    );
  });

  it('a proof from another tree of the same size', () => {
    fc.assert(
      fc.property(inclusionCase.filter(([, n]) => n > 1), ([i, n]) => {
        // (size 1 has the empty proof in every tree, so nothing to swap in)
        const { leaf, root } = incl(i, n);
        const foreign = other.inclusionProof(i, n);
        expect(rejected(() => verifyInclusion(leaf, i, n, foreign, root))).toBe(true);
        // ...and the other tree's leaf under its own proof, against our root.
        expect(rejected(() => verifyInclusion(other.leafHash(i), i, n, foreign, root))).toBe(true);
      }),
    );
  });

  it('every single-bit corruption of every reference-tree vector', () => {
    const leaves = LEAF_INPUTS.map(leafHash);
    let count = 0;
    for (const [i, n, path] of INCLUSION_PROOFS) {
      const proof = path.map(unhex);
      for (let k = 0; k < proof.length; k++) {
        for (let bit = 0; bit < 256; bit += 37) {
          const bad = proof.slice();
          bad[k] = flipBit(proof[k]!, bit >> 3, bit & 7);
          expect(rejected(() => verifyInclusion(leaves[i]!, i, n, bad, unhex(ROOTS[n]!)))).toBe(true);
          count++;
        }
      }
    }
    expect(count).toBeGreaterThan(500);
  });
});

describe('broken consistency proofs are rejected', () => {
  it('a flipped bit in any proof node', () => {
    fc.assert(
      fc.property(consistencyCase, bitPos, ([m, n], [node, byte, bit]) => {
        const { proof, r1, r2 } = cons(m, n);
        const k = node % proof.length;
        proof[k] = flipBit(proof[k]!, byte, bit);
        expect(rejected(() => verifyConsistency(m, n, r1, r2, proof))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('a flipped bit in either root', () => {
    fc.assert(
      fc.property(consistencyCase, bitPos, fc.boolean(), ([m, n], [, byte, bit], inFirst) => {
        const { proof, r1, r2 } = cons(m, n);
        const a = inFirst ? flipBit(r1, byte, bit) : r1;
        const b = inFirst ? r2 : flipBit(r2, byte, bit);
        expect(rejected(() => verifyConsistency(m, n, a, b, proof))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('a dropped node', () => {
    fc.assert(
      fc.property(consistencyCase, fc.nat(), ([m, n], at) => {
        const { proof, r1, r2 } = cons(m, n);
        proof.splice(at % proof.length, 1);
        expect(rejected(() => verifyConsistency(m, n, r1, r2, proof))).toBe(true);
      }),
    );
  });

  it('an added or duplicated node anywhere', () => {
    fc.assert(
      fc.property(consistencyCase, fc.nat(), randomHash, fc.boolean(), ([m, n], at, extra, duplicate) => {
        const { proof, r1, r2 } = cons(m, n);
        const node = duplicate ? proof[at % proof.length]! : extra;
        proof.splice(at % (proof.length + 1), 0, node);
        expect(rejected(() => verifyConsistency(m, n, r1, r2, proof))).toBe(true);
      }),
    );
  });

  it('two nodes swapped', () => {
    fc.assert(
      fc.property(consistencyCase, fc.nat(), fc.nat(), ([m, n], a, b) => {
        const { proof, r1, r2 } = cons(m, n);
        const x = a % proof.length;
        const y = b % proof.length;
        fc.pre(x !== y && !bytesEqual(proof[x]!, proof[y]!));
        [proof[x], proof[y]] = [proof[y]!, proof[x]!];
        expect(rejected(() => verifyConsistency(m, n, r1, r2, proof))).toBe(true);
      }),
    );
  });

  it('wrong sizes, with the roots of those sizes', () => {
    fc.assert(
      fc.property(consistencyCase, fc.integer({ min: 0, max: N }), fc.integer({ min: 0, max: N }), ([m, n], m2, n2) => {
        fc.pre((m2 !== m || n2 !== n) && m2 <= n2);
        const { proof } = cons(m, n);
        // The only other claim this proof could support is the same pair.
        expect(rejected(() => verifyConsistency(m2, n2, rootAt[m2]!, rootAt[n2]!, proof))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('first > second', () => {
    fc.assert(
      fc.property(consistencyCase, ([m, n]) => {
        const { proof, r1, r2 } = cons(m, n);
        expect(rejected(() => verifyConsistency(n, m, r2, r1, proof))).toBe(true);
        expect(rejected(() => verifyConsistency(n, m, r1, r2, proof))).toBe(true);
      }),
    );
  });

  it('a proof from another tree, or roots of another tree', () => {
    fc.assert(
      fc.property(consistencyCase, ([m, n]) => {
        const { proof, r1, r2 } = cons(m, n);
        const foreign = other.consistencyProof(m, n);
        expect(rejected(() => verifyConsistency(m, n, r1, r2, foreign))).toBe(true);
        // a fork: same old head, a different new history
        expect(rejected(() => verifyConsistency(m, n, r1, otherRootAt[n]!, proof))).toBe(true);
        expect(rejected(() => verifyConsistency(m, n, r1, otherRootAt[n]!, foreign))).toBe(true);
        expect(rejected(() => verifyConsistency(m, n, otherRootAt[m]!, r2, proof))).toBe(true);
      }),
    );
  });

  it('an empty proof where one is needed, a non-empty one where none is', () => {
    fc.assert(
      fc.property(consistencyCase, randomHash, ([m, n], extra) => {
        const { r1, r2 } = cons(m, n);
        expect(rejected(() => verifyConsistency(m, n, r1, r2, []))).toBe(true);
        expect(rejected(() => verifyConsistency(n, n, r2, r2, [extra]))).toBe(true);
        expect(rejected(() => verifyConsistency(0, n, rootAt[0]!, r2, [extra]))).toBe(true);
      }),
    );
  });

  it('every single-bit corruption of every reference-tree vector', () => {
    let count = 0;
    for (const [m, n, path] of CONSISTENCY_PROOFS) {
      const proof = path.map(unhex);
      for (let k = 0; k < proof.length; k++) {
        for (let bit = 0; bit < 256; bit += 37) {
          const bad = proof.slice();
          bad[k] = flipBit(proof[k]!, bit >> 3, bit & 7);
          expect(rejected(() => verifyConsistency(m, n, unhex(ROOTS[m]!), unhex(ROOTS[n]!), bad))).toBe(true);
          count++;
        }
      }
    }
    expect(count).toBeGreaterThan(300);
  });
});
