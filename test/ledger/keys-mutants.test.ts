/**
 * Ed25519 keys at their edges (issue 26, mutation testing): coded refusals
 * of objects that are not Ed25519 private keys, errors without a cause,
 * copies of raw keys, the parsed-key cache (same object back, bounded at
 * MAX_CACHED_KEYS), and verifyBytes refusing what is not a Uint8Array.
 */
import { generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { keyPairFromPrivateKey, keyPairFromSeed, privateKeySeed, publicKeyBytes, publicKeyFromRaw, signBytes, verifyBytes } from '../../src/ledger/keys.ts';
import { codeOf } from './helpers.ts';

const alice = keyPairFromSeed(new Uint8Array(32).fill(7));

describe('private keys', () => {
  const notPrivateEd25519: [string, unknown][] = [
    ['a plain object', {}],
    ['an Ed25519 public KeyObject', alice.publicKey],
    ['an X25519 private KeyObject', generateKeyPairSync('x25519').privateKey],
  ];

  it.each(notPrivateEd25519)('keyPairFromPrivateKey and privateKeySeed refuse %s with LEDGER_BAD_KEY', (_, k) => {
    expect(codeOf(() => keyPairFromPrivateKey(k as KeyObject))).toBe('LEDGER_BAD_KEY');
    expect(codeOf(() => privateKeySeed(k as KeyObject))).toBe('LEDGER_BAD_KEY');
  });

  it('a bad-key error without a cause has no cause member', () => {
    let err: unknown;
    try {
      keyPairFromSeed(new Uint8Array(31));
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'LEDGER_BAD_KEY' });
    expect(Object.hasOwn(err as object, 'cause')).toBe(false);
  });
});

describe('raw public keys', () => {
  it('publicKeyBytes of raw bytes is a copy', () => {
    const raw = alice.publicKeyRaw.slice();
    const out = publicKeyBytes(raw);
    expect(out).toEqual(raw);
    out.fill(0);
    expect(raw).toEqual(alice.publicKeyRaw);
  });

  it('parsing the same raw key twice gives the same KeyObject (cached)', () => {
    const raw = new Uint8Array(32).fill(0x5a);
    expect(publicKeyFromRaw(raw)).toBe(publicKeyFromRaw(raw.slice()));
  });

  it('the cache is cleared when it holds 8192 keys', () => {
    // any 32 bytes import as a key in Node; these are unlike any other test's
    let n = 0;
    const fresh = (): Uint8Array => {
      const b = new Uint8Array(32).fill(0xc3);
      new DataView(b.buffer).setUint32(0, ++n);
      return b;
    };
    /** inserts fresh keys until the one before the newest is no longer cached; returns how many were inserted */
    const untilCleared = (limit: number): number => {
      let prev = fresh();
      let prevKey = publicKeyFromRaw(prev);
      for (let i = 1; i <= limit; i++) {
        const next = fresh();
        const nextKey = publicKeyFromRaw(next);
        if (publicKeyFromRaw(prev) !== prevKey) return i; // a miss re-inserts prev: the cache now holds next and prev
        prev = next;
        prevKey = nextKey;
      }
      return -1;
    };
    // the first clear comes at most 8192 keys in (whatever earlier tests left)
    expect(untilCleared(9000)).toBeGreaterThan(0);
    // after a clear it holds 2 keys; the next call's first key makes 3, and
    // the 8190th after that one finds 8192 held and clears
    expect(untilCleared(9000)).toBe(8190);
  });
});

describe('verifyBytes', () => {
  const msg = new Uint8Array([1, 2, 3]);
  const sig = signBytes(msg, alice);

  it('is false for a signature that is not a Uint8Array, even with the right bytes', () => {
    expect(verifyBytes(msg, sig, alice.publicKeyRaw)).toBe(true);
    const view = new DataView(sig.buffer, sig.byteOffset, sig.byteLength);
    expect(verifyBytes(msg, view as unknown as Uint8Array, alice.publicKeyRaw)).toBe(false);
  });

  it('is false, not an exception, for a message node:crypto cannot take', () => {
    expect(verifyBytes(42 as unknown as Uint8Array, sig, alice.publicKeyRaw)).toBe(false);
  });
});
