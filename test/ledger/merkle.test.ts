import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MerkleLog } from '../../src/ledger/log.ts';
import {
  consistencyProof,
  consistencyProofLength,
  consistencyProofRanges,
  emptyRootHash,
  inclusionProof,
  inclusionProofLength,
  inclusionProofRanges,
  inclusionProofWith,
  consistencyProofWith,
  leafHash,
  nodeHash,
  rootFromInclusionProof,
  rootHash,
  splitPoint,
  subtreeHash,
  verifyConsistency,
  verifyInclusion,
} from '../../src/ledger/merkle.ts';
import { codeOf, hex, makeLeaves, proofReason, refMth, refPath, refProof, unhex } from './helpers.ts';
import { CONSISTENCY_PROOFS, INCLUSION_PROOFS, LEAF_HASHES, LEAF_INPUTS, ROOTS } from './merkle-vectors.ts';

const leafHashes = LEAF_INPUTS.map(leafHash);
const roots = ROOTS.map(unhex);

describe('RFC 6962 hashing', () => {
  it('hashes leaves with a 0x00 prefix and nodes with a 0x01 prefix', () => {
    expect(leafHashes.map(hex)).toEqual(LEAF_HASHES);
    const a = leafHashes[0]!;
    const b = leafHashes[1]!;
    expect(hex(nodeHash(a, b))).toBe(ROOTS[2]);
    expect(hex(nodeHash(a, b))).not.toBe(hex(nodeHash(b, a)));
    // A node is not the leaf hash of its children's concatenation (domain separation).
    expect(hex(nodeHash(a, b))).not.toBe(hex(leafHash(new Uint8Array([...a, ...b]))));
  });

  it('the empty tree hashes to SHA-256("")', () => {
    expect(hex(emptyRootHash())).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(hex(rootHash([]))).toBe(ROOTS[0]);
    const e = emptyRootHash();
    e[0] = 0;
    expect(hex(emptyRootHash())).toBe(ROOTS[0]); // fresh copy each time
  });

  it('splits at the largest power of two below n', () => {
    const table: [number, number][] = [[2, 1], [3, 2], [4, 2], [5, 4], [8, 4], [9, 8], [1000, 512], [1024, 512], [1025, 1024], [2 ** 40 + 1, 2 ** 40], [Number.MAX_SAFE_INTEGER, 2 ** 52]];
    for (const [n, k] of table) expect(splitPoint(n), String(n)).toBe(k);
    expect(codeOf(() => splitPoint(1))).toBe('LEDGER_BAD_ARGUMENT');
  });

  it('rejects malformed leaf inputs and leaf hashes', () => {
    expect(codeOf(() => leafHash('abc' as unknown as Uint8Array))).toBe('LEDGER_BAD_LEAF');
    expect(codeOf(() => rootHash([new Uint8Array(31)]))).toBe('LEDGER_BAD_LEAF');
    expect(codeOf(() => subtreeHash(leafHashes, 3, 2))).toBe('LEDGER_OUT_OF_RANGE');
    expect(codeOf(() => subtreeHash(leafHashes, 0, 9))).toBe('LEDGER_OUT_OF_RANGE');
  });
});

describe('reference tree (RFC 6962 test leaves; vectors cross-checked in merkle-vectors.ts)', () => {
  it('has the published root for every size 0..8', () => {
    for (let n = 0; n <= 8; n++) expect(hex(rootHash(leafHashes.slice(0, n))), `size ${n}`).toBe(ROOTS[n]);
    expect(ROOTS[8]).toBe('5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328');
  });

  it('generates exactly the known audit paths, and they verify', () => {
    expect(INCLUSION_PROOFS.length).toBe(36);
    for (const [index, size, path] of INCLUSION_PROOFS) {
      const proof = inclusionProof(leafHashes, index, size);
      expect(proof.map(hex), `${index}/${size}`).toEqual(path);
      expect(inclusionProofLength(index, size)).toBe(path.length);
      expect(verifyInclusion(leafHashes[index]!, index, size, path.map(unhex), roots[size]!)).toBe(true);
    }
  });

  it('generates exactly the known consistency proofs, and they verify', () => {
    expect(CONSISTENCY_PROOFS.length).toBe(36);
    for (const [first, second, path] of CONSISTENCY_PROOFS) {
      expect(consistencyProof(leafHashes, first, second).map(hex), `${first}->${second}`).toEqual(path);
      expect(consistencyProofLength(first, second)).toBe(path.length);
      expect(verifyConsistency(first, second, roots[first]!, roots[second]!, path.map(unhex))).toBe(true);
    }
  });

  it('a known proof fails against every other root', () => {
    for (const [index, size, path] of INCLUSION_PROOFS) {
      for (let other = 1; other <= 8; other++) {
        if (other === size) continue;
        const ok = (() => {
          try {
            return verifyInclusion(leafHashes[index]!, index, size, path.map(unhex), roots[other]!);
          } catch {
            return false;
          }
        })();
        expect(ok, `${index}/${size} vs root ${other}`).toBe(false);
      }
    }
  });

  it('matches the recursive reference over the same leaves', () => {
    for (let n = 0; n <= 8; n++) expect(hex(refMth(LEAF_INPUTS.slice(0, n)))).toBe(ROOTS[n]);
  });
});

describe('against the recursive RFC 6962 reference', () => {
  const leaves = makeLeaves(70);
  const hashes = leaves.map(leafHash);

  it('roots, all audit paths and all consistency proofs for n <= 40', () => {
    for (let n = 1; n <= 40; n++) {
      const d = leaves.slice(0, n);
      expect(hex(rootHash(hashes.slice(0, n)))).toBe(hex(refMth(d)));
      for (let i = 0; i < n; i++) expect(inclusionProof(hashes, i, n).map(hex)).toEqual(refPath(i, d).map(hex));
      for (let m = 1; m <= n; m++) expect(consistencyProof(hashes, m, n).map(hex)).toEqual(refProof(m, d).map(hex));
    }
  });

  it('subtreeHash of any range is the MTH of that range', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 70 }), fc.integer({ min: 0, max: 70 }), (a, b) => {
        const [s, e] = a <= b ? [a, b] : [b, a];
        expect(hex(subtreeHash(hashes, s, e))).toBe(hex(refMth(leaves.slice(s, e))));
      }),
    );
  });
});

describe('proof shape', () => {
  it('inclusion ranges are aligned siblings, leaf side first, covering the tree once', () => {
    for (const size of [1, 2, 3, 7, 8, 9, 100, 1000, 1_000_000, 2 ** 40 + 12345, Number.MAX_SAFE_INTEGER]) {
      for (const index of [0, 1, Math.floor(size / 2), size - 2, size - 1].filter((i) => i >= 0 && i < size)) {
        const ranges = inclusionProofRanges(index, size);
        expect(ranges.length).toBeLessThanOrEqual(Math.ceil(Math.log2(Math.max(size, 2))));
        // Siblings plus the leaf partition [0, size).
        let covered = 1;
        let lo = index;
        let hi = index + 1;
        for (const [s, e] of ranges) {
          expect(e - s).toBeGreaterThan(0);
          const width = 2 ** Math.ceil(Math.log2(e - s));
          expect(s % width).toBe(0);
          expect(e === lo || s === hi).toBe(true); // adjacent to what is covered so far
          lo = Math.min(lo, s);
          hi = Math.max(hi, e);
          covered += e - s;
        }
        expect([lo, hi, covered]).toEqual([0, size, size]);
      }
    }
  });

  it('consistency ranges are aligned and O(log n) even for huge trees', () => {
    for (const [m, n] of [[1, 2], [3, 7], [6, 8], [999_999, 1_000_000], [1, 1_000_000], [2 ** 33 + 1, 2 ** 34 - 3], [12345, Number.MAX_SAFE_INTEGER]]) {
      const ranges = consistencyProofRanges(m!, n!);
      expect(ranges.length).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(n!)));
      for (const [s, e] of ranges) {
        const width = 2 ** Math.ceil(Math.log2(e - s));
        expect(s % width).toBe(0);
        expect(e).toBeLessThanOrEqual(n!);
      }
    }
  });

  it('a proof over a million leaves asks for O(log n) subtrees', () => {
    let calls = 0;
    const fake = (): Uint8Array => {
      calls++;
      return new Uint8Array(32);
    };
    expect(inclusionProofWith(123_456, 1_000_000, fake).length).toBe(inclusionProofLength(123_456, 1_000_000));
    expect(calls).toBeLessThanOrEqual(20);
    calls = 0;
    consistencyProofWith(333_333, 1_000_000, fake);
    expect(calls).toBeLessThanOrEqual(40);
  });

  it('the empty and trivial consistency proofs', () => {
    expect(consistencyProofRanges(0, 0)).toEqual([]);
    expect(consistencyProofRanges(0, 5)).toEqual([]);
    expect(consistencyProofRanges(5, 5)).toEqual([]);
    expect(consistencyProof(leafHashes, 0, 8)).toEqual([]);
  });

  it('generation rejects out-of-range arguments with LEDGER_OUT_OF_RANGE', () => {
    const bad: (() => unknown)[] = [
      () => inclusionProofRanges(0, 0),
      () => inclusionProofRanges(8, 8),
      () => inclusionProofRanges(-1, 8),
      () => inclusionProofRanges(0.5, 8),
      () => inclusionProofRanges(0, Number.NaN),
      () => inclusionProof(leafHashes, 0, 9),
      () => consistencyProofRanges(5, 4),
      () => consistencyProofRanges(-1, 4),
      () => consistencyProofRanges(1, 2 ** 53),
      () => consistencyProof(leafHashes, 1, 9),
    ];
    for (const f of bad) expect(codeOf(f), f.toString()).toBe('LEDGER_OUT_OF_RANGE');
  });
});

describe('verification of malformed arguments (LEDGER_BAD_PROOF reasons)', () => {
  const r = roots;
  const L = leafHashes;
  const p = (index: number, size: number): Uint8Array[] => inclusionProof(L, index, size);

  it('inclusion', () => {
    const cases: [() => unknown, string][] = [
      [() => verifyInclusion(L[0]!, 0, 0, [], r[0]!), 'index-out-of-range'], // size 0: no leaf to prove
      [() => verifyInclusion(L[0]!, 8, 8, p(7, 8), r[8]!), 'index-out-of-range'],
      [() => verifyInclusion(L[0]!, 9, 8, p(7, 8), r[8]!), 'index-out-of-range'],
      [() => verifyInclusion(L[0]!, -1, 8, p(0, 8), r[8]!), 'bad-size'],
      [() => verifyInclusion(L[0]!, 0.5, 8, p(0, 8), r[8]!), 'bad-size'],
      [() => verifyInclusion(L[0]!, 0, 2 ** 53, p(0, 8), r[8]!), 'bad-size'],
      [() => verifyInclusion(L[0]!.subarray(1), 0, 8, p(0, 8), r[8]!), 'bad-hash'],
      [() => verifyInclusion(L[0]!, 0, 8, p(0, 8), new Uint8Array(33)), 'bad-hash'],
      [() => verifyInclusion(L[0]!, 0, 8, [...p(0, 8).slice(0, 2), new Uint8Array(31)], r[8]!), 'bad-hash'],
      [() => verifyInclusion(L[0]!, 0, 8, 'nope' as unknown as Uint8Array[], r[8]!), 'bad-hash'],
      [() => verifyInclusion(L[0]!, 0, 8, p(0, 8).slice(1), r[8]!), 'proof-too-short'],
      [() => verifyInclusion(L[0]!, 0, 8, [], r[8]!), 'proof-too-short'],
      [() => verifyInclusion(L[0]!, 0, 8, [...p(0, 8), L[1]!], r[8]!), 'proof-too-long'],
      [() => verifyInclusion(L[0]!, 0, 1, [L[1]!], r[1]!), 'proof-too-long'],
    ];
    for (const [f, reason] of cases) expect(proofReason(f), f.toString()).toBe(reason);
  });

  it('consistency', () => {
    const c = (m: number, n: number): Uint8Array[] => consistencyProof(L, m, n);
    const cases: [() => unknown, string][] = [
      [() => verifyConsistency(5, 4, r[5]!, r[4]!, c(4, 5)), 'first-after-second'],
      [() => verifyConsistency(-1, 4, r[0]!, r[4]!, []), 'bad-size'],
      [() => verifyConsistency(1, 4.5, r[1]!, r[4]!, c(1, 4)), 'bad-size'],
      [() => verifyConsistency(3, 8, r[3]!.subarray(2), r[8]!, c(3, 8)), 'bad-hash'],
      [() => verifyConsistency(3, 8, r[3]!, r[8]!, [...c(3, 8), new Uint8Array(0)]), 'bad-hash'],
      [() => verifyConsistency(3, 8, r[3]!, r[8]!, []), 'empty-proof'],
      [() => verifyConsistency(4, 8, r[4]!, r[8]!, []), 'empty-proof'],
      [() => verifyConsistency(3, 8, r[3]!, r[8]!, c(3, 8).slice(1)), 'proof-too-short'],
      [() => verifyConsistency(3, 8, r[3]!, r[8]!, [...c(3, 8), L[0]!]), 'proof-too-long'],
      [() => verifyConsistency(4, 4, r[4]!, r[4]!, [L[0]!]), 'proof-too-long'],
      [() => verifyConsistency(0, 4, r[0]!, r[4]!, [L[0]!]), 'proof-too-long'],
      [() => verifyConsistency(0, 0, r[0]!, r[0]!, [L[0]!]), 'proof-too-long'],
    ];
    for (const [f, reason] of cases) expect(proofReason(f), f.toString()).toBe(reason);
  });

  it('the cases outside 0 < first < second', () => {
    // first = second: empty proof, equal roots.
    expect(verifyConsistency(5, 5, r[5]!, r[5]!, [])).toBe(true);
    expect(verifyConsistency(5, 5, r[5]!, r[6]!, [])).toBe(false);
    // first = 0: the empty tree is a prefix of every tree, if its root is SHA-256("").
    expect(verifyConsistency(0, 8, r[0]!, r[8]!, [])).toBe(true);
    expect(verifyConsistency(0, 0, r[0]!, r[0]!, [])).toBe(true);
    expect(verifyConsistency(0, 8, r[1]!, r[8]!, [])).toBe(false);
    // inclusion in a one-leaf tree: empty path, root = leaf hash.
    expect(verifyInclusion(L[0]!, 0, 1, [], r[1]!)).toBe(true);
    expect(verifyInclusion(L[1]!, 0, 1, [], r[1]!)).toBe(false);
  });

  it('rootFromInclusionProof recomputes the root', () => {
    expect(hex(rootFromInclusionProof(L[5]!, 5, 8, p(5, 8)))).toBe(ROOTS[8]);
  });

  it('a proof binds the root, not the claimed size: sizes must come signed with roots (tree-head.ts)', () => {
    // Index 0 of a 3-leaf tree and of a 4-leaf tree take the same left/right
    // steps, so the 3-leaf proof checked against the 3-leaf ROOT passes under
    // either size. Against the 4-leaf root (what a signed head of size 4
    // carries) it fails.
    const proof = p(0, 3);
    expect(verifyInclusion(L[0]!, 0, 3, proof, r[3]!)).toBe(true);
    expect(verifyInclusion(L[0]!, 0, 4, proof, r[3]!)).toBe(true);
    expect(verifyInclusion(L[0]!, 0, 4, proof, r[4]!)).toBe(false);
  });
});

describe('properties (n <= 300)', () => {
  const N = 300;
  const log = MerkleLog.from(makeLeaves(N, 'prop'));
  const rootAt = Array.from({ length: N + 1 }, (_, n) => log.rootHash(n));

  it('roots from the log agree with the pure root of the prefix', () => {
    const hashes = Array.from({ length: N }, (_, i) => log.leafHash(i));
    for (let n = 0; n <= N; n++) expect(hex(rootAt[n]!)).toBe(hex(rootHash(hashes.slice(0, n))));
  });

  it('every inclusion proof verifies, for every size n <= 300 and every index', () => {
    let checked = 0;
    for (let n = 1; n <= N; n++) {
      for (let i = 0; i < n; i++) {
        const proof = log.inclusionProof(i, n);
        expect(proof.length).toBe(inclusionProofLength(i, n));
        if (!verifyInclusion(log.leafHash(i), i, n, proof, rootAt[n]!)) throw new Error(`inclusion ${i}/${n} failed`);
        checked++;
      }
    }
    expect(checked).toBe((N * (N + 1)) / 2);
  });

  it('inclusion proofs verify at random (index, size)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: N }).chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 0, max: n - 1 }))), ([n, i]) => {
        expect(verifyInclusion(log.leafHash(i), i, n, log.inclusionProof(i, n), rootAt[n]!)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('every consistency proof verifies for all pairs m <= n <= 64', () => {
    for (let n = 0; n <= 64; n++) {
      for (let m = 0; m <= n; m++) {
        const proof = log.consistencyProof(m, n);
        expect(proof.length).toBe(consistencyProofLength(m, n));
        if (!verifyConsistency(m, n, rootAt[m]!, rootAt[n]!, proof)) throw new Error(`consistency ${m}->${n} failed`);
      }
    }
  });

  it('consistency proofs verify for random pairs m <= n <= 300', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: N }), fc.integer({ min: 0, max: N }), (a, b) => {
        const [m, n] = a <= b ? [a, b] : [b, a];
        expect(verifyConsistency(m, n, rootAt[m]!, rootAt[n]!, log.consistencyProof(m, n))).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('larger trees: proofs from the level cache match the pure functions', () => {
    const big = MerkleLog.from(makeLeaves(5000, 'big'));
    const hashes = Array.from({ length: big.size }, (_, i) => big.leafHash(i));
    for (const n of [4096, 4097, 4999, 5000]) {
      const root = big.rootHash(n);
      expect(hex(root)).toBe(hex(rootHash(hashes.slice(0, n))));
      for (const i of [0, 1, 2047, 2048, 4095, n - 1]) {
        const proof = big.inclusionProof(i, n);
        expect(proof.map(hex)).toEqual(inclusionProof(hashes, i, n).map(hex));
        expect(verifyInclusion(hashes[i]!, i, n, proof, root)).toBe(true);
      }
      for (const m of [1, 1000, 2048, 4095, n]) {
        const proof = big.consistencyProof(m, n);
        expect(proof.map(hex)).toEqual(consistencyProof(hashes, m, n).map(hex));
        expect(verifyConsistency(m, n, big.rootHash(m), root, proof)).toBe(true);
      }
    }
  });
});
