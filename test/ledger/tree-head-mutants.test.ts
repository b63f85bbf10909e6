/**
 * Tree heads and witnesses at their edges (issue 26, mutation testing): the
 * paths of malformed-head errors, parseTreeHead's copy, cosignatures that
 * name another witness than their key, a shrinking head with a later
 * timestamp, and sameTree on half-equal heads.
 */
import { describe, expect, it } from 'vitest';
import type { PublicKeyInput } from '../../src/ledger/keys.ts';
import { MerkleLog } from '../../src/ledger/log.ts';
import {
  checkCosignatures, cosignTreeHead, isCosignatureValid, parseTreeHead, sameTree, signTreeHead, witnessCosign,
} from '../../src/ledger/tree-head.ts';
import type { TreeHead } from '../../src/ledger/tree-head.ts';
import { makeLeaves, testKey } from './helpers.ts';

const tracker = testKey(1);
const alice = testKey(40);
const bob = testKey(41);
const log = MerkleLog.from(makeLeaves(20, 'th'));
const headAt = (size: number, timestamp = 1000 + size): TreeHead => ({ treeSize: size, timestamp, rootHash: log.rootHash(size) });

/** 'ok', or the code and details.path of the refusal */
function outcome(f: () => unknown): string {
  try {
    f();
    return 'ok';
  } catch (e) {
    const err = e as { code?: string; details?: { path?: string } };
    return `${String(err.code)} at ${String(err.details?.path)}`;
  }
}

describe('parseTreeHead', () => {
  it('names the bad member in details.path', () => {
    const h = headAt(5);
    expect(outcome(() => parseTreeHead(null as unknown as TreeHead))).toBe('LEDGER_BAD_TREE_HEAD at $');
    expect(outcome(() => parseTreeHead({ ...h, extra: 1 } as TreeHead))).toBe('LEDGER_BAD_TREE_HEAD at $["extra"]');
    expect(outcome(() => parseTreeHead({ ...h, treeSize: -1 }))).toBe('LEDGER_BAD_TREE_HEAD at $["treeSize"]');
    expect(outcome(() => parseTreeHead({ ...h, timestamp: 1.5 }))).toBe('LEDGER_BAD_TREE_HEAD at $["timestamp"]');
    expect(outcome(() => parseTreeHead({ ...h, rootHash: new Uint8Array(31) }))).toBe('LEDGER_BAD_TREE_HEAD at $["rootHash"]');
  });

  it('returns a copy of the root: changing the input later changes nothing', () => {
    const h = headAt(5);
    const root = h.rootHash.slice();
    const parsed = parseTreeHead(h);
    const signed = signTreeHead(h, tracker);
    h.rootHash.fill(0);
    expect(parsed.rootHash).toEqual(root);
    expect(signed.rootHash).toEqual(root);
  });
});

describe('cosignatures must name the key that made them', () => {
  const head = headAt(10);

  it('isCosignatureValid: a signature by the right key under another witness id is not valid', () => {
    const c = cosignTreeHead(head, alice);
    expect(isCosignatureValid(head, c, alice.publicKeyRaw)).toBe(true);
    expect(isCosignatureValid(head, { witness: bob.keyId, signature: c.signature }, alice.publicKeyRaw)).toBe(false);
  });

  it('checkCosignatures: a trusted-witness map that files a key under another id does not vouch for it', () => {
    const misfiled = new Map<string, PublicKeyInput>([[bob.keyId, alice.publicKeyRaw]]);
    const c = cosignTreeHead(head, alice);
    const report = checkCosignatures(head, [{ witness: bob.keyId, signature: c.signature }], misfiled);
    expect(report).toEqual({ valid: [], rejected: [{ witness: bob.keyId, reason: 'unknown-witness' }] });
  });
});

describe('witnessCosign', () => {
  it('refuses a smaller head as such even when its timestamp is later', () => {
    const trusted = headAt(10, 1000);
    const smaller = signTreeHead(headAt(9, 5000), tracker);
    expect(outcome(() => witnessCosign({ trusted, next: smaller, proof: [], trackerKey: tracker.publicKeyRaw, witness: alice }))).toBe('LEDGER_BAD_TREE_HEAD at undefined');
  });

  it('accepts the same head again, and the same tree at a later time', () => {
    const trusted = headAt(10, 1000);
    for (const next of [signTreeHead(trusted, tracker), signTreeHead(headAt(10, 2000), tracker)]) {
      expect(outcome(() => witnessCosign({ trusted, next, proof: [], trackerKey: tracker.publicKeyRaw, witness: alice }))).toBe('ok');
    }
  });
});

describe('sameTree', () => {
  it('needs both the size and the root to match', () => {
    const a = headAt(10);
    expect(sameTree(a, { ...headAt(10, 99) })).toBe(true);
    expect(sameTree(a, { ...a, rootHash: log.rootHash(11) })).toBe(false); // same size, other root
    expect(sameTree(a, { ...a, treeSize: 11 })).toBe(false); // same root, other size
  });
});
