import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { base64Encode, utf8Decode } from '../../src/core/encoding.ts';
import type { PublicKeyInput } from '../../src/ledger/keys.ts';
import { MerkleLog } from '../../src/ledger/log.ts';
import {
  checkCosignatures,
  cosignTreeHead,
  isCosignatureValid,
  isTreeHeadSignatureValid,
  parseTreeHead,
  sameTree,
  signTreeHead,
  treeHeadSigningBytes,
  verifyCosignatures,
  verifyTreeHead,
  witnessCosign,
} from '../../src/ledger/tree-head.ts';
import type { TreeHead } from '../../src/ledger/tree-head.ts';
import { codeOf, flipBit, makeLeaves, testKey } from './helpers.ts';

const tracker = testKey(1);
const witnesses = [testKey(40), testKey(41), testKey(42)];
const stranger = testKey(50);
const witnessMap = new Map<string, PublicKeyInput>(witnesses.map((w) => [w.keyId, w.publicKey]));

const log = MerkleLog.from(makeLeaves(50, 'sth'));
const headAt = (size: number, timestamp = 1000 + size): TreeHead => ({ treeSize: size, timestamp, rootHash: log.rootHash(size) });

describe('signed tree heads', () => {
  it('sign the domain-separated canonical head', () => {
    const head = headAt(7);
    expect(utf8Decode(treeHeadSigningBytes(head))).toBe(
      `swarm-tree-head-v1\n{"rootHash":"${base64Encode(head.rootHash)}","timestamp":1007,"treeSize":7,"v":1}`,
    );
    const sth = signTreeHead(head, tracker);
    verifyTreeHead(sth, tracker.publicKeyRaw);
    expect(isTreeHeadSignatureValid(sth, tracker.publicKey)).toBe(true);
  });

  it('any change to size, time, root or signature breaks it', () => {
    const sth = signTreeHead(headAt(20), tracker);
    const bad = [
      { ...sth, treeSize: 21 },
      { ...sth, timestamp: sth.timestamp + 1 },
      { ...sth, rootHash: log.rootHash(19) },
      { ...sth, rootHash: flipBit(sth.rootHash, 3, 1) },
      { ...sth, signature: flipBit(sth.signature, 40, 7) },
      { ...sth, signature: sth.signature.subarray(1) },
    ];
    for (const b of bad) {
      expect(isTreeHeadSignatureValid(b, tracker.publicKeyRaw)).toBe(false);
      expect(codeOf(() => verifyTreeHead(b, tracker.publicKeyRaw))).toBe('LEDGER_BAD_SIGNATURE');
    }
    expect(isTreeHeadSignatureValid(sth, stranger.publicKeyRaw)).toBe(false);
  });

  it('rejects malformed heads with LEDGER_BAD_TREE_HEAD', () => {
    const head = headAt(3);
    const bad: unknown[] = [
      { ...head, treeSize: -1 },
      { ...head, treeSize: 1.5 },
      { ...head, timestamp: 2 ** 53 },
      { ...head, rootHash: new Uint8Array(31) },
      { ...head, rootHash: base64Encode(head.rootHash) },
      { ...head, extra: true },
      { treeSize: 3, timestamp: 1 },
      null,
    ];
    for (const h of bad) expect(codeOf(() => parseTreeHead(h as TreeHead))).toBe('LEDGER_BAD_TREE_HEAD');
    expect(codeOf(() => signTreeHead({ ...head, treeSize: -1 }, tracker))).toBe('LEDGER_BAD_TREE_HEAD');
  });

  it('a tree-head signature is not a cosignature of another head, nor valid under another domain', () => {
    const a = signTreeHead(headAt(5), tracker);
    const b = headAt(6);
    expect(isCosignatureValid(b, { witness: tracker.keyId, signature: a.signature }, tracker.publicKeyRaw)).toBe(false);
  });

  it('sameTree ignores timestamps', () => {
    expect(sameTree(headAt(4, 1), headAt(4, 2))).toBe(true);
    expect(sameTree(headAt(4), headAt(5))).toBe(false);
  });
});

describe('cosignatures', () => {
  const head = headAt(30);

  it('witnesses sign the same head bytes with their own keys', () => {
    const c = cosignTreeHead(head, witnesses[0]!);
    expect(c.witness).toBe(witnesses[0]!.keyId);
    expect(isCosignatureValid(head, c, witnesses[0]!.publicKeyRaw)).toBe(true);
    expect(isCosignatureValid(head, c, witnesses[1]!.publicKeyRaw)).toBe(false); // key is not the named witness
    expect(isCosignatureValid(headAt(31), c, witnesses[0]!.publicKeyRaw)).toBe(false);
    // The tracker's signature and a witness's are over identical bytes.
    const sth = signTreeHead(head, tracker);
    expect(isCosignatureValid(sth, { witness: tracker.keyId, signature: sth.signature }, tracker.publicKeyRaw)).toBe(true);
  });

  it('a set is counted per distinct trusted witness', () => {
    const cosigs = [
      cosignTreeHead(head, witnesses[0]!),
      cosignTreeHead(head, witnesses[0]!), // duplicate
      cosignTreeHead(head, stranger), // not trusted
      { witness: witnesses[1]!.keyId, signature: flipBit(cosignTreeHead(head, witnesses[1]!).signature, 0, 0) },
      cosignTreeHead(head, witnesses[2]!),
    ];
    const report = checkCosignatures(head, cosigs, witnessMap);
    expect(report.valid).toEqual([witnesses[0]!.keyId, witnesses[2]!.keyId]);
    expect(report.rejected.map((r) => r.reason)).toEqual(['duplicate', 'unknown-witness', 'invalid-signature']);
    expect(verifyCosignatures(head, cosigs, witnessMap, 2)).toEqual(report.valid);
    expect(codeOf(() => verifyCosignatures(head, cosigs, witnessMap, 3))).toBe('LEDGER_NO_QUORUM');
    expect(codeOf(() => verifyCosignatures(head, cosigs, witnessMap, 0))).toBe('LEDGER_BAD_ARGUMENT');
    expect(codeOf(() => verifyCosignatures(headAt(29), cosigs, witnessMap, 1))).toBe('LEDGER_NO_QUORUM');
  });
});

describe('witnessing', () => {
  it('cosigns a head that extends the trusted one', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 50 }), (a, b) => {
        const [m, n] = a <= b ? [a, b] : [b, a];
        const next = signTreeHead(headAt(n), tracker);
        const c = witnessCosign({ trusted: headAt(m), next, proof: log.consistencyProof(m, n), trackerKey: tracker.publicKeyRaw, witness: witnesses[0]! });
        expect(isCosignatureValid(next, c, witnesses[0]!.publicKeyRaw)).toBe(true);
      }),
    );
    const first = signTreeHead(headAt(10), tracker);
    const c = witnessCosign({ trusted: undefined, next: first, proof: [], trackerKey: tracker.publicKeyRaw, witness: witnesses[1]! });
    expect(isCosignatureValid(first, c, witnesses[1]!.publicKey)).toBe(true);
  });

  it('refuses a fork, a shrinking log, time going back, or a bad tracker signature', () => {
    const forked = MerkleLog.from([...makeLeaves(20, 'sth'), ...makeLeaves(30, 'fork')]);
    const forkHead = signTreeHead({ treeSize: 50, timestamp: 2000, rootHash: forked.rootHash(50) }, tracker);
    const trusted = headAt(20);
    const w = witnesses[0]!;
    const k = tracker.publicKeyRaw;
    // Another continuation after the trusted prefix is not a fork from this
    // witness's view: nothing it has seen (the first 20 leaves) changed.
    expect(() => witnessCosign({ trusted, next: forkHead, proof: forked.consistencyProof(20, 50), trackerKey: k, witness: w })).not.toThrow();
    // A fork that rewrites history: the trusted head is not its prefix.
    const rewritten = MerkleLog.from(makeLeaves(50, 'rewritten'));
    const rwHead = signTreeHead({ treeSize: 50, timestamp: 2000, rootHash: rewritten.rootHash(50) }, tracker);
    expect(codeOf(() => witnessCosign({ trusted, next: rwHead, proof: rewritten.consistencyProof(20, 50), trackerKey: k, witness: w }))).toBe('LEDGER_INCONSISTENT');
    expect(codeOf(() => witnessCosign({ trusted, next: rwHead, proof: log.consistencyProof(20, 50), trackerKey: k, witness: w }))).toBe('LEDGER_INCONSISTENT');
    // Same size, different root.
    const sameSize = signTreeHead({ treeSize: 20, timestamp: 3000, rootHash: rewritten.rootHash(20) }, tracker);
    expect(codeOf(() => witnessCosign({ trusted, next: sameSize, proof: [], trackerKey: k, witness: w }))).toBe('LEDGER_INCONSISTENT');
    // Shrinking, going back in time, malformed proof, bad signature.
    expect(codeOf(() => witnessCosign({ trusted, next: signTreeHead(headAt(19), tracker), proof: [], trackerKey: k, witness: w }))).toBe('LEDGER_BAD_TREE_HEAD');
    expect(codeOf(() => witnessCosign({ trusted, next: signTreeHead(headAt(30, 5), tracker), proof: log.consistencyProof(20, 30), trackerKey: k, witness: w }))).toBe('LEDGER_BAD_TREE_HEAD');
    expect(codeOf(() => witnessCosign({ trusted, next: signTreeHead(headAt(30), tracker), proof: log.consistencyProof(20, 30).slice(1), trackerKey: k, witness: w }))).toBe('LEDGER_BAD_PROOF');
    expect(codeOf(() => witnessCosign({ trusted, next: signTreeHead(headAt(30), stranger), proof: log.consistencyProof(20, 30), trackerKey: k, witness: w }))).toBe('LEDGER_BAD_SIGNATURE');
    expect(codeOf(() => witnessCosign({ trusted: undefined, next: signTreeHead(headAt(30), tracker), proof: log.consistencyProof(20, 30), trackerKey: k, witness: w }))).toBe('LEDGER_BAD_PROOF');
  });
});
