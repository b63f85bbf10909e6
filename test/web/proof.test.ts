/**
 * The browser's proof checks (src/web/proof/) against src/ledger, the
 * definition: the RFC 6962 reference vectors (test/ledger/merkle-vectors.ts)
 * verify, every broken variant of them (a flipped byte, a node dropped or
 * added, a wrong index or size, a swapped root) gets the same outcome as
 * src/ledger/merkle.ts (false, or LEDGER_BAD_PROOF with the same reason),
 * the signed tree-head bytes equal src/ledger/tree-head.ts's, and WebCrypto
 * Ed25519 accepts the tracker's real signature and refuses a tampered one.
 * Runs on Node's WebCrypto (globalThis.crypto), the same API as a browser's.
 */
import { describe, expect, it } from 'vitest';
import { base64Encode, hexDecode } from '../../src/core/encoding.ts';
import { isSwarmError } from '../../src/core/errors.ts';
import { sha256Parts } from '../../src/core/sha256.ts';
import { keyPairFromSeed } from '../../src/ledger/keys.ts';
import * as ledger from '../../src/ledger/merkle.ts';
import { TREE_HEAD_SIGNING_DOMAIN, TREE_HEAD_VERSION, signTreeHead, treeHeadSigningBytes } from '../../src/ledger/tree-head.ts';
import { checkConsistency, checkInclusion } from '../../src/web/proof/check.ts';
import * as web from '../../src/web/proof/merkle.ts';
import * as webHead from '../../src/web/proof/tree-head.ts';
import { CONSISTENCY_PROOFS, INCLUSION_PROOFS, LEAF_HASHES, LEAF_INPUTS, ROOTS } from '../ledger/merkle-vectors.ts';

const sha = web.webCryptoSha256;
const h = (hex: string): Uint8Array => hexDecode(hex);

/** "true" / "false" / the LEDGER_BAD_PROOF reason: one outcome, comparable across the two implementations. */
async function outcome(f: () => boolean | Promise<boolean>): Promise<string> {
  try {
    return String(await f());
  } catch (e) {
    if (isSwarmError(e, 'LEDGER_BAD_PROOF')) return `bad-proof:${String((e.details as { reason: string }).reason)}`;
    throw e;
  }
}

function flip(b: Uint8Array): Uint8Array {
  const c = b.slice();
  c[c.length - 1] ^= 1;
  return c;
}

/** A proof and broken variants of it. */
function variants(proof: readonly Uint8Array[]): Array<{ name: string; proof: Uint8Array[] }> {
  const out = [{ name: 'as given', proof: [...proof] }, { name: 'one node added', proof: [...proof, new Uint8Array(32)] }];
  if (proof.length > 0) {
    out.push({ name: 'last node dropped', proof: proof.slice(0, -1) });
    out.push({ name: 'first node flipped', proof: [flip(proof[0]!), ...proof.slice(1)] });
    out.push({ name: 'nodes reversed', proof: [...proof].reverse() });
  }
  return out;
}

describe('the browser Merkle check equals src/ledger/merkle.ts', () => {
  it('computes the reference leaf hashes', async () => {
    for (let i = 0; i < LEAF_INPUTS.length; i++) {
      expect(base64Encode(await web.leafHash(sha, LEAF_INPUTS[i]!))).toBe(base64Encode(h(LEAF_HASHES[i]!)));
    }
  });

  it('accepts every reference inclusion proof', async () => {
    for (const [index, size, path] of INCLUSION_PROOFS) {
      const ok = await web.verifyInclusion(sha, h(LEAF_HASHES[index]!), index, size, path.map(h), h(ROOTS[size]!));
      expect(ok, `(${index}, ${size})`).toBe(true);
    }
  });

  it('gives the same outcome as the ledger on broken inclusion proofs, wrong indices, sizes and roots', async () => {
    let broken = 0;
    for (const [index, size, path] of INCLUSION_PROOFS) {
      const leaf = h(LEAF_HASHES[index]!);
      const root = h(ROOTS[size]!);
      const cases: Array<[string, number, number, Uint8Array[], Uint8Array, Uint8Array]> = [];
      for (const v of variants(path.map(h))) cases.push([v.name, index, size, v.proof, root, leaf]);
      cases.push(['index + 1', index + 1, size, path.map(h), root, leaf]);
      cases.push(['size + 1', index, size + 1, path.map(h), root, leaf]);
      cases.push(['other root', index, size, path.map(h), flip(root), leaf]);
      cases.push(['other leaf', index, size, path.map(h), root, flip(leaf)]);
      cases.push(['short hash', index, size, path.map(h), root, leaf.slice(1)]);
      for (const [name, i, n, p, r, l] of cases) {
        const want = await outcome(() => ledger.verifyInclusion(l, i, n, p, r));
        const got = await outcome(() => web.verifyInclusion(sha, l, i, n, p, r));
        expect(got, `(${index}, ${size}) ${name}`).toBe(want);
        if (want !== 'true') broken++;
      }
    }
    // the variants really are broken, and rejected
    expect(broken).toBeGreaterThan(INCLUSION_PROOFS.length * 5);
  });

  it('accepts every reference consistency proof and agrees with the ledger on broken ones', async () => {
    let broken = 0;
    for (const [first, second, path] of CONSISTENCY_PROOFS) {
      const a = h(ROOTS[first]!);
      const b = h(ROOTS[second]!);
      expect(await web.verifyConsistency(sha, first, second, a, b, path.map(h)), `(${first}, ${second})`).toBe(true);
      for (const v of [...variants(path.map(h)), { name: 'roots swapped', proof: path.map(h) }]) {
        const [x, y] = v.name === 'roots swapped' ? [b, a] : [a, b];
        const want = await outcome(() => ledger.verifyConsistency(first, second, x, y, v.proof));
        expect(await outcome(() => web.verifyConsistency(sha, first, second, x, y, v.proof)), `(${first}, ${second}) ${v.name}`).toBe(want);
        if (want !== 'true') broken++;
      }
    }
    expect(broken).toBeGreaterThan(CONSISTENCY_PROOFS.length * 3);
  });
});

describe('the signed tree head in the browser', () => {
  const tracker = keyPairFromSeed(new Uint8Array(32).fill(9));
  const leaves = LEAF_INPUTS.map((x) => ledger.leafHash(x));
  const head = { treeSize: 8, timestamp: 1_700_000_000_123, rootHash: ledger.rootHash(leaves) };
  const sth = signTreeHead(head, tracker);
  const sthJson = { tree_size: 8, timestamp: head.timestamp, sha256_root_hash: base64Encode(head.rootHash), tree_head_signature: base64Encode(sth.signature) };

  it('signs the same bytes as src/ledger/tree-head.ts', () => {
    expect(webHead.TREE_HEAD_SIGNING_DOMAIN).toBe(TREE_HEAD_SIGNING_DOMAIN);
    expect(webHead.TREE_HEAD_VERSION).toBe(TREE_HEAD_VERSION);
    for (const hd of [head, { treeSize: 0, timestamp: 0, rootHash: ledger.emptyRootHash() }, { treeSize: 2 ** 40, timestamp: 1, rootHash: new Uint8Array(32).fill(255) }]) {
      expect(base64Encode(webHead.treeHeadSigningBytes(hd))).toBe(base64Encode(treeHeadSigningBytes(hd)));
    }
  });

  it('verifies the tracker signature with WebCrypto Ed25519 and refuses a changed head, signature or key', async () => {
    expect(await webHead.verifyTreeHeadSignature(head, sth.signature, tracker.publicKeyRaw)).toBe(true);
    expect(await webHead.verifyTreeHeadSignature({ ...head, treeSize: 7 }, sth.signature, tracker.publicKeyRaw)).toBe(false);
    expect(await webHead.verifyTreeHeadSignature(head, flip(sth.signature), tracker.publicKeyRaw)).toBe(false);
    expect(await webHead.verifyTreeHeadSignature(head, sth.signature, keyPairFromSeed(new Uint8Array(32).fill(8)).publicKeyRaw)).toBe(false);
    expect(await webHead.verifyTreeHeadSignature(head, sth.signature, new Uint8Array(31))).toBe(false);
  });

  it('checkInclusion: green for a real entry, red with the failing step for a tampered proof, head or entry', async () => {
    const index = 5;
    const proof = { leaf_index: index, audit_path: ledger.inclusionProof(leaves, index, 8).map(base64Encode) };
    const good = await checkInclusion({ leafInput: LEAF_INPUTS[index]!, index, sth: sthJson, proof, trackerKey: tracker.publicKeyRaw });
    expect(good.ok).toBe(true);
    expect(good.steps.map((s) => s.ok)).toEqual([true, true, true, true]);

    const tampered = { ...proof, audit_path: [base64Encode(flip(ledger.inclusionProof(leaves, index, 8)[0]!)), ...proof.audit_path.slice(1)] };
    const bad = await checkInclusion({ leafInput: LEAF_INPUTS[index]!, index, sth: sthJson, proof: tampered, trackerKey: tracker.publicKeyRaw });
    expect(bad.ok).toBe(false);
    expect(bad.steps.at(-1)).toMatchObject({ ok: false, detail: 'the hashes lead to another root' });

    const short = await checkInclusion({ leafInput: LEAF_INPUTS[index]!, index, sth: sthJson, proof: { ...proof, audit_path: proof.audit_path.slice(1) }, trackerKey: tracker.publicKeyRaw });
    expect(short.ok).toBe(false);
    expect(short.steps.at(-1)!.detail).toMatch(/proof-too-short/);

    const forgedHead = await checkInclusion({ leafInput: LEAF_INPUTS[index]!, index, sth: { ...sthJson, timestamp: sthJson.timestamp + 1 }, proof, trackerKey: tracker.publicKeyRaw });
    expect(forgedHead.ok).toBe(false);
    expect(forgedHead.steps[0]!.ok).toBe(false);

    const otherEntry = await checkInclusion({ leafInput: Uint8Array.of(1, 2, 3), index, sth: sthJson, proof, trackerKey: tracker.publicKeyRaw });
    expect(otherEntry.ok).toBe(false);

    const garbage = await checkInclusion({ leafInput: LEAF_INPUTS[index]!, index, sth: sthJson, proof: { ...proof, audit_path: ['not base64!'] }, trackerKey: tracker.publicKeyRaw });
    expect(garbage.ok).toBe(false);
  });

  it('checkConsistency: green between two real heads, red for a tampered proof', async () => {
    const older = signTreeHead({ treeSize: 6, timestamp: 1, rootHash: ledger.rootHash(leaves.slice(0, 6)) }, tracker);
    const olderJson = { tree_size: 6, timestamp: 1, sha256_root_hash: base64Encode(older.rootHash), tree_head_signature: base64Encode(older.signature) };
    const proof = ledger.consistencyProof(leaves, 6, 8).map(base64Encode);
    expect((await checkConsistency({ older: olderJson, newer: sthJson, proof, trackerKey: tracker.publicKeyRaw })).ok).toBe(true);
    const bad = await checkConsistency({ older: olderJson, newer: sthJson, proof: [base64Encode(sha256Parts(['x'])), ...proof.slice(1)], trackerKey: tracker.publicKeyRaw });
    expect(bad.ok).toBe(false);
  });
});
