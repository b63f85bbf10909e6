/**
 * Request signing's argument and header checks at their limits (issue 26,
 * mutation testing): path length, body type, nonce size, clock values, the
 * skew window's range, repeated and oversized headers.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { base64UrlEncode, utf8Encode } from '../../src/core/encoding.ts';
import { keyPairFromSeed } from '../../src/ledger/keys.ts';
import { MemoryNonceStore } from '../../src/protocol/nonce-store.ts';
import {
  HEADER_NONCE, MAX_MAX_SKEW_MS, MAX_PATH_LENGTH, NONCE_MAX_BYTES, NONCE_MIN_BYTES, signRequest, verifyRequest,
} from '../../src/protocol/signing.ts';
import { codeOfAsync } from '../helpers/errors.ts';

const T0 = 1_700_000_000_000;
const key = keyPairFromSeed(new Uint8Array(32).fill(3));
const body = utf8Encode('{}');
const code = (c: string) => expect.objectContaining({ code: c });
let n = 0;
const nonce = (len = 16) => () => { const b = new Uint8Array(len); new DataView(b.buffer).setUint32(0, ++n); return b; };
const sign = (o: { path?: string; body?: unknown; len?: number; now?: number } = {}) =>
  signRequest({ method: 'POST', path: o.path ?? '/p', body: (o.body ?? body) as Uint8Array, key, clock: { now: () => o.now ?? T0 } as ManualClock, nonce: nonce(o.len) });
const verify = (headers: Record<string, string>, o: { maxSkewMs?: number; body?: unknown; path?: string } = {}) => {
  const clock = new ManualClock(T0);
  return verifyRequest({ method: 'POST', path: o.path ?? '/p', body: (o.body ?? body) as Uint8Array, headers }, { clock, nonces: new MemoryNonceStore({ clock }), maxSkewMs: o.maxSkewMs });
};

describe('signRequest arguments', () => {
  it('paths up to MAX_PATH_LENGTH characters', () => {
    expect(() => sign({ path: '/' + 'a'.repeat(MAX_PATH_LENGTH - 1) })).not.toThrow();
    expect(() => sign({ path: '/' + 'a'.repeat(MAX_PATH_LENGTH) })).toThrow(code('PROTOCOL_BAD_ARGUMENT'));
  });

  it('a body that is not bytes, a nonce of the wrong size and a bad clock are refused', () => {
    expect(() => sign({ body: '{}' })).toThrow(code('PROTOCOL_BAD_ARGUMENT'));
    expect(() => sign({ len: NONCE_MIN_BYTES - 1 })).toThrow(code('PROTOCOL_BAD_ARGUMENT'));
    expect(() => sign({ len: NONCE_MAX_BYTES + 1 })).toThrow(code('PROTOCOL_BAD_ARGUMENT'));
    expect(() => sign({ len: NONCE_MAX_BYTES })).not.toThrow();
    expect(() => sign({ now: -1 })).toThrow(code('PROTOCOL_BAD_ARGUMENT'));
    expect(() => sign({ now: 1.5 })).toThrow(code('PROTOCOL_BAD_ARGUMENT'));
    expect(() => sign({ now: 0 })).not.toThrow();
  });
});

describe('verifyRequest arguments and headers', () => {
  it('maxSkewMs from 0 to MAX_MAX_SKEW_MS, integers only', async () => {
    for (const m of [-1, MAX_MAX_SKEW_MS + 1, 1.5]) expect(await codeOfAsync(verify(sign(), { maxSkewMs: m })), String(m)).toBe('PROTOCOL_BAD_ARGUMENT');
    expect(await codeOfAsync(verify(sign(), { maxSkewMs: 0 }))).toBe('OK');
    expect(await codeOfAsync(verify(sign(), { maxSkewMs: MAX_MAX_SKEW_MS }))).toBe('OK');
  });

  it('a body that is not bytes is refused', async () => {
    expect(await codeOfAsync(verify(sign(), { body: '{}' }))).toBe('PROTOCOL_BAD_ARGUMENT');
  });

  it('a header given twice (comma-joined, or under two spellings) is PROTOCOL_BAD_HEADER', async () => {
    const h = sign();
    expect(await codeOfAsync(verify({ ...h, [HEADER_NONCE]: `${h[HEADER_NONCE]},${h[HEADER_NONCE]}` }))).toBe('PROTOCOL_BAD_HEADER');
    expect(await codeOfAsync(verify({ ...h, [HEADER_NONCE.toUpperCase()]: h[HEADER_NONCE] }))).toBe('PROTOCOL_BAD_HEADER');
  });

  it('a nonce header longer than NONCE_MAX_BYTES allows, or decoding to too few bytes, is PROTOCOL_BAD_HEADER', async () => {
    const h = sign();
    const b64 = (len: number) => base64UrlEncode(new Uint8Array(len).fill(7));
    expect(await codeOfAsync(verify({ ...h, [HEADER_NONCE]: 'A'.repeat(Math.ceil((NONCE_MAX_BYTES * 4) / 3) + 1) }))).toBe('PROTOCOL_BAD_HEADER');
    expect(await codeOfAsync(verify({ ...h, [HEADER_NONCE]: b64(NONCE_MIN_BYTES - 1) }))).toBe('PROTOCOL_BAD_HEADER');
    // a well-formed nonce of the maximum size gets past the header checks (and fails only the signature)
    expect(await codeOfAsync(verify({ ...h, [HEADER_NONCE]: b64(NONCE_MAX_BYTES) }))).toBe('PROTOCOL_BAD_SIGNATURE');
  });
});
