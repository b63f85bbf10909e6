import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hexEncode, utf8Encode } from '../../src/core/encoding.ts';
import { createEntry, decodeEntry, encodeEntry } from '../../src/ledger/entry.ts';
import { MerkleLog } from '../../src/ledger/log.ts';
import { consistencyProof, inclusionProof, leafHash, rootHash, verifyConsistency, verifyInclusion } from '../../src/ledger/merkle.ts';
import { codeOf, hex, makeLeaves, testKey } from './helpers.ts';
import { CONSISTENCY_PROOFS, INCLUSION_PROOFS, LEAF_INPUTS, ROOTS } from './merkle-vectors.ts';

describe('MerkleLog', () => {
  it('reproduces the reference tree vectors', () => {
    const log = new MerkleLog();
    expect(hex(log.rootHash())).toBe(ROOTS[0]);
    LEAF_INPUTS.forEach((input, i) => {
      expect(log.append(input)).toBe(i);
      expect(hex(log.rootHash())).toBe(ROOTS[i + 1]);
    });
    for (let n = 0; n <= 8; n++) expect(hex(log.rootHash(n))).toBe(ROOTS[n]);
    for (const [i, n, path] of INCLUSION_PROOFS) expect(log.inclusionProof(i, n).map(hex)).toEqual(path);
    for (const [m, n, path] of CONSISTENCY_PROOFS) expect(log.consistencyProof(m, n).map(hex)).toEqual(path);
  });

  it('agrees with the pure functions while it grows', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { minLength: 1, maxLength: 80 }), fc.nat(), fc.nat(), (inputs, a, b) => {
        const log = MerkleLog.from(inputs);
        const hashes = inputs.map(leafHash);
        const n = 1 + (a % inputs.length);
        const i = b % n;
        const m = b % (n + 1);
        expect(log.size).toBe(inputs.length);
        expect(log.rootHash(n)).toEqual(rootHash(hashes.slice(0, n)));
        expect(log.inclusionProof(i, n)).toEqual(inclusionProof(hashes, i, n));
        expect(log.consistencyProof(m, n)).toEqual(consistencyProof(hashes, m, n));
      }),
    );
  });

  it('old roots and proofs stay valid as the log grows (append-only)', () => {
    const log = new MerkleLog();
    const heads: Uint8Array[] = [log.rootHash()];
    for (const input of makeLeaves(130, 'grow')) {
      log.append(input);
      heads.push(log.rootHash());
      const n = log.size;
      for (const m of [0, 1, Math.floor(n / 2), n - 1]) {
        expect(verifyConsistency(m, n, heads[m]!, heads[n]!, log.consistencyProof(m, n))).toBe(true);
      }
      expect(verifyInclusion(log.leafHash(n - 1), n - 1, n, log.inclusionProof(n - 1), heads[n]!)).toBe(true);
    }
    for (let n = 0; n <= 130; n++) expect(log.rootHash(n)).toEqual(heads[n]);
  });

  it('copies leaf inputs in and out', () => {
    const input = utf8Encode('hello');
    const log = MerkleLog.from([input]);
    const root = log.rootHash();
    input[0] = 0;
    expect(log.leafInput(0)).toEqual(utf8Encode('hello'));
    log.leafInput(0)[0] = 0;
    log.leafHash(0)[0] ^= 1;
    log.rootHash()[0] ^= 1;
    log.inclusionProof(0)?.forEach((p) => (p[0] ^= 1));
    expect(log.rootHash()).toEqual(root);
    expect(log.leafInputs(0, 1)).toEqual([utf8Encode('hello')]);
  });

  it('finds leaves by hash (get-proof-by-hash), first occurrence, before and after growth', () => {
    const log = MerkleLog.from([utf8Encode('a'), utf8Encode('b'), utf8Encode('a')]);
    expect(log.indexOfLeafHash(leafHash(utf8Encode('a')))).toBe(0);
    expect(log.indexOfLeafHash(leafHash(utf8Encode('b')))).toBe(1);
    expect(log.indexOfLeafHash(leafHash(utf8Encode('c')))).toBeUndefined();
    log.append(utf8Encode('c'));
    log.append(utf8Encode('b'));
    expect(log.indexOfLeafHash(leafHash(utf8Encode('c')))).toBe(3);
    expect(log.indexOfLeafHash(leafHash(utf8Encode('b')))).toBe(1);
    expect(log.indexOfLeafHash(new Uint8Array(5))).toBeUndefined();
  });

  it('rejects out-of-range arguments with LEDGER_OUT_OF_RANGE', () => {
    const log = MerkleLog.from(makeLeaves(5));
    const bad: (() => unknown)[] = [
      () => log.leafInput(5),
      () => log.leafInput(-1),
      () => log.leafHash(1.5),
      () => log.leafInputs(3, 2),
      () => log.leafInputs(0, 6),
      () => log.rootHash(6),
      () => log.inclusionProof(5),
      () => log.inclusionProof(0, 6),
      () => log.inclusionProof(0, 0),
      () => log.consistencyProof(3, 6),
      () => log.consistencyProof(4, 3),
    ];
    for (const f of bad) expect(codeOf(f), f.toString()).toBe('LEDGER_OUT_OF_RANGE');
    expect(codeOf(() => log.append('x' as unknown as Uint8Array))).toBe('LEDGER_BAD_LEAF');
    expect(log.size).toBe(5);
  });

  it('holds ledger entries: leaf input = canonical signed entry', () => {
    const k = testKey(9);
    const log = new MerkleLog();
    for (let i = 0; i < 10; i++) {
      const e = createEntry({ kind: 'result-submitted', seq: i, time: 1000 + i, body: { run: 'r', unit: `u${i}`, result: hexEncode(leafHash(utf8Encode(String(i)))) } }, k);
      expect(log.append(encodeEntry(e))).toBe(i);
    }
    const e7 = decodeEntry(log.leafInput(7));
    expect(e7.seq).toBe(7);
    expect(verifyInclusion(leafHash(encodeEntry(e7)), 7, 10, log.inclusionProof(7), log.rootHash())).toBe(true);
  });

  it('builds 2^16 leaves and serves proofs from the level cache', () => {
    const n = 1 << 16;
    const log = new MerkleLog();
    const input = new Uint8Array(8);
    const view = new DataView(input.buffer);
    for (let i = 0; i < n; i++) {
      view.setUint32(0, i);
      log.append(input);
    }
    const root = log.rootHash();
    const t0 = performance.now();
    for (let i = 0; i < 2000; i++) {
      const index = (i * 7919) % n;
      const size = n - ((i * 104729) % (n - index));
      const proof = log.inclusionProof(index, size);
      if (size === n && !verifyInclusion(log.leafHash(index), index, n, proof, root)) throw new Error(`proof ${index}`);
    }
    const perProof = (performance.now() - t0) / 2000;
    // O(log^2 n) hashes per proof: far below the O(n) = 65536 hashes of a rebuild.
    expect(perProof).toBeLessThan(20);
  });
});
