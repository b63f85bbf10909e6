/**
 * Replay at the very edge of the skew window (issue 26, a surviving mutant):
 * a request whose timestamp is exactly maxSkewMs old is still accepted, so
 * its nonce must still be remembered at that millisecond; otherwise the same
 * signed request is accepted twice.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { utf8Encode } from '../../src/core/encoding.ts';
import { keyPairFromSeed } from '../../src/ledger/keys.ts';
import { MemoryNonceStore } from '../../src/protocol/nonce-store.ts';
import { signRequest, verifyRequest } from '../../src/protocol/signing.ts';
import { codeOfAsync as codeOf } from '../helpers/errors.ts';

const T0 = 1_700_000_000_000;
const alice = keyPairFromSeed(new Uint8Array(32).fill(1));

describe('MemoryNonceStore at the expiry instant', () => {
  it('records a nonce that expires exactly now, so a second use at that instant is a replay', () => {
    const clock = new ManualClock(2000);
    const s = new MemoryNonceStore({ clock });
    expect(s.remember('edge', 2000)).toBe('fresh');
    expect(s.size).toBe(1);
    expect(s.remember('edge', 2000)).toBe('replay');
  });

  it('does not record a nonce that expired one millisecond ago', () => {
    const clock = new ManualClock(2001);
    const s = new MemoryNonceStore({ clock });
    expect(s.remember('past', 2000)).toBe('fresh');
    expect(s.size).toBe(0);
  });
});

describe('MemoryNonceStore when full', () => {
  it('answers fresh, not busy, for a nonce whose window has already closed', () => {
    const clock = new ManualClock(500);
    const s = new MemoryNonceStore({ clock, maxEntries: 1 });
    expect(s.remember('live', 1000)).toBe('fresh');
    expect(s.remember('old', 499)).toBe('fresh');
    expect(s.remember('new', 1000)).toBe('busy');
  });
});

describe('verifyRequest at the edge of the skew window', () => {
  it('accepts a request exactly maxSkewMs old once, and rejects the same request again as PROTOCOL_REPLAY', async () => {
    const clock = new ManualClock(T0);
    const nonces = new MemoryNonceStore({ clock });
    const body = utf8Encode('{"unitId":"u1"}');
    const nonce = () => new Uint8Array(16).fill(9);
    const headers = signRequest({ method: 'POST', path: '/api/work', body, key: alice, clock, nonce });
    const verify = () => verifyRequest({ method: 'POST', path: '/api/work', body, headers }, { clock, nonces, maxSkewMs: 60_000 });
    clock.set(T0 + 60_000); // first seen at the last accepted millisecond
    expect(await codeOf(verify())).toBe('OK');
    expect(await codeOf(verify())).toBe('PROTOCOL_REPLAY');
    clock.set(T0 + 60_001);
    expect(await codeOf(verify())).toBe('PROTOCOL_STALE');
  });
});

describe('MemoryNonceStore expiry order', () => {
  it('forgets exactly the expired nonces at every instant, for many expiries in scrambled order with ties', () => {
    const clock = new ManualClock(0);
    const s = new MemoryNonceStore({ clock });
    const expiries = Array.from({ length: 300 }, (_, i) => 1 + ((i * 97) % 61));
    expiries.forEach((at, i) => expect(s.remember(`n${i}`, at)).toBe('fresh'));
    for (let t = 1; t <= 61; t++) {
      clock.set(t);
      expect(s.size, `t=${t}`).toBe(expiries.filter((at) => at >= t).length);
      // a nonce still live is a replay
      const live = expiries.findIndex((at) => at >= t);
      expect(s.remember(`n${live}`, expiries[live]!), `t=${t}`).toBe('replay');
    }
    clock.set(62);
    expect(s.size).toBe(0);
  });
});
