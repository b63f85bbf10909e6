/**
 * Merkle range checks (issue 26, mutation testing): a subtree range or a tree
 * size outside the leaves given is refused, and the empty consistency cases
 * need no nodes.
 */
import { describe, expect, it } from 'vitest';
import { consistencyProof, consistencyProofRanges, inclusionProof, leafHash, rootHash, subtreeHash } from '../../src/ledger/merkle.ts';

const leaves = Array.from({ length: 5 }, (_, i) => leafHash(new Uint8Array([i])));
const code = (c: string) => expect.objectContaining({ code: c });
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('subtreeHash ranges', () => {
  it('refuses a range that is not inside the leaves', () => {
    for (const [s, e] of [[-1, 2], [0.5, 2], [0, 2.5], [3, 2], [0, 6]] as const) {
      expect(() => subtreeHash(leaves, s, e), `${s}..${e}`).toThrow(code('LEDGER_OUT_OF_RANGE'));
    }
  });

  it('accepts the whole range and the empty range at the end', () => {
    expect(hex(subtreeHash(leaves, 0, 5))).toBe(hex(rootHash(leaves)));
    expect(hex(subtreeHash(leaves, 5, 5))).toBe(hex(rootHash([])));
  });
});

describe('tree sizes against the leaves given', () => {
  it('a proof for a tree larger than the leaves is refused; one for all of them is given', () => {
    expect(() => inclusionProof(leaves, 0, 6)).toThrow(code('LEDGER_OUT_OF_RANGE'));
    expect(() => consistencyProof(leaves, 2, 6)).toThrow(code('LEDGER_OUT_OF_RANGE'));
    expect(inclusionProof(leaves, 0, 5)).toHaveLength(3);
    expect(consistencyProof(leaves, 2, 5).length).toBeGreaterThan(0);
  });

  it('is refused even when the proof needs no node beyond the leaves given', () => {
    expect(() => consistencyProof(leaves, 6, 6)).toThrow(code('LEDGER_OUT_OF_RANGE'));
    expect(() => consistencyProof(leaves, 0, 6)).toThrow(code('LEDGER_OUT_OF_RANGE'));
    expect(() => inclusionProof([], 0, 1)).toThrow(code('LEDGER_OUT_OF_RANGE'));
    expect(() => inclusionProof(leaves, 0, -1)).toThrow(code('LEDGER_OUT_OF_RANGE'));
    expect(() => consistencyProof(leaves, 0, -1)).toThrow(code('LEDGER_OUT_OF_RANGE'));
  });
});

describe('consistency with the empty tree or with itself', () => {
  it('needs no nodes', () => {
    expect(consistencyProofRanges(0, 5)).toEqual([]);
    expect(consistencyProofRanges(5, 5)).toEqual([]);
    expect(consistencyProofRanges(0, 0)).toEqual([]);
    expect(consistencyProof(leaves, 5, 5)).toEqual([]);
    expect(consistencyProof(leaves, 0, 5)).toEqual([]);
  });
});
