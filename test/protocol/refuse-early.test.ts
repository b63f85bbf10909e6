/**
 * The steps a server runs before reading a body (issue 25): the read-only
 * nonce look (`MemoryNonceStore.seen`, `refuseLiveNonce`) and the body step
 * `verifyRequestBody`, at their edges: a look never records, a live nonce is
 * refused with its key named, an expired one is not, a store without `seen`
 * defers to the authoritative check, and a malformed body hash is a coded
 * argument error.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { sha256Hex } from '../../src/core/sha256.ts';
import { utf8Encode } from '../../src/core/encoding.ts';
import { keyPairFromSeed } from '../../src/ledger/keys.ts';
import { MemoryNonceStore } from '../../src/protocol/nonce-store.ts';
import type { NonceStore } from '../../src/protocol/nonce-store.ts';
import { checkRequestHead, refuseLiveNonce, signRequest, verifyRequestBody } from '../../src/protocol/signing.ts';
import { codeOfAsync } from '../helpers/errors.ts';

const T0 = 1_700_000_000_000;
const key = keyPairFromSeed(new Uint8Array(32).fill(5));
const body = utf8Encode('{"x":1}');

function signed(nonceByte: number) {
  const headers = signRequest({ method: 'POST', path: '/p', body, key, clock: new ManualClock(T0), nonce: () => new Uint8Array(16).fill(nonceByte) });
  const clock = new ManualClock(T0);
  return { head: checkRequestHead({ method: 'POST', path: '/p', headers }, { clock, maxSkewMs: 1000 }), clock };
}

describe('MemoryNonceStore.seen', () => {
  it('is a read-only look: false before, true while live (to the last millisecond), false after expiry, and never records', () => {
    const clock = new ManualClock(T0);
    const store = new MemoryNonceStore({ clock });
    expect(store.seen('a')).toBe(false);
    expect(store.seen('a')).toBe(false); // looking twice recorded nothing
    expect(store.remember('a', T0 + 10)).toBe('fresh');
    expect(store.seen('a')).toBe(true);
    clock.set(T0 + 10);
    expect(store.seen('a')).toBe(true); // live up to and including its expiry instant, as remember counts it
    expect(store.remember('a', T0 + 20)).toBe('replay');
    clock.set(T0 + 11);
    expect(store.seen('a')).toBe(false);
    expect(store.remember('a', T0 + 30)).toBe('fresh');
  });
});

describe('refuseLiveNonce', () => {
  it('refuses a nonce the store holds, naming the key, and lets a new one through', async () => {
    const { head, clock } = signed(1);
    const store = new MemoryNonceStore({ clock });
    await expect(refuseLiveNonce(head, store)).resolves.toBeUndefined();
    expect(store.seen(head.nonceId)).toBe(false); // the look recorded nothing
    expect(store.remember(head.nonceId, head.nonceExpiresAtMs)).toBe('fresh');
    await expect(refuseLiveNonce(head, store)).rejects.toMatchObject({ code: 'PROTOCOL_REPLAY', details: { keyId: head.keyId } });
  });

  it('is a no-op with a store that cannot look without recording', async () => {
    const { head } = signed(2);
    const remembers: string[] = [];
    const store: NonceStore = { remember: (id) => { remembers.push(id); return 'replay'; } };
    await expect(refuseLiveNonce(head, store)).resolves.toBeUndefined();
    expect(remembers).toEqual([]);
  });
});

describe('verifyRequestBody', () => {
  it('refuses a body hash that is not 64 lower-case hex characters, before any signature work', async () => {
    const { head, clock } = signed(3);
    const store = new MemoryNonceStore({ clock });
    const good = sha256Hex(body);
    for (const bad of [good.toUpperCase(), good.slice(1), `${good}0`, 'z'.repeat(64), 42 as unknown as string, undefined as unknown as string,
      // a String object spells the right hex but is not a string
      new String(good) as unknown as string]) {
      expect(await codeOfAsync(verifyRequestBody(head, bad, { nonces: store }))).toBe('PROTOCOL_BAD_ARGUMENT');
    }
    expect(store.seen(head.nonceId)).toBe(false); // nothing recorded by the refusals
    await expect(verifyRequestBody(head, good, { nonces: store })).resolves.toMatchObject({ keyId: head.keyId });
    expect(store.seen(head.nonceId)).toBe(true);
  });
});
