import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { base64UrlDecode, base64UrlEncode, utf8Encode } from '../../src/core/encoding.ts';
import { keyPairFromSeed } from '../../src/ledger/keys.ts';
import { MemoryNonceStore, type NonceStore } from '../../src/protocol/nonce-store.ts';
import { codeOfAsync as codeOf } from '../helpers/errors.ts';
import {
  HEADER_KEY,
  HEADER_NONCE,
  HEADER_SIGNATURE,
  HEADER_TIMESTAMP,
  HEADER_VERSION,
  SIGNATURE_HEADERS,
  signRequest,
  verifyRequest,
  type SignatureHeaders,
} from '../../src/protocol/signing.ts';

const T0 = 1_700_000_000_000;
const alice = keyPairFromSeed(new Uint8Array(32).fill(1));
const mallory = keyPairFromSeed(new Uint8Array(32).fill(2));

/** Deterministic nonces: 16 bytes counting up. */
function counterNonces(start = 0): () => Uint8Array {
  let n = start;
  return () => {
    const b = new Uint8Array(16);
    new DataView(b.buffer).setUint32(12, n++);
    return b;
  };
}

function setup(opts: { maxEntries?: number } = {}) {
  const clock = new ManualClock(T0);
  const nonces = new MemoryNonceStore({ clock, maxEntries: opts.maxEntries });
  const nonce = counterNonces();
  const body = utf8Encode('{"unitId":"u1"}');
  const sign = (over: { method?: string; path?: string; body?: Uint8Array; key?: typeof alice } = {}) =>
    signRequest({
      method: over.method ?? 'POST',
      path: over.path ?? '/api/work?kind=train',
      body: over.body ?? body,
      key: over.key ?? alice,
      clock,
      nonce,
    });
  const verify = (
    headers: Record<string, string | string[] | undefined> | Headers,
    over: { method?: string; path?: string; body?: Uint8Array; store?: NonceStore; maxSkewMs?: number } = {},
  ) =>
    verifyRequest(
      { method: over.method ?? 'POST', path: over.path ?? '/api/work?kind=train', body: over.body ?? body, headers },
      { clock, nonces: over.store ?? nonces, maxSkewMs: over.maxSkewMs },
    );
  return { clock, nonces, body, sign, verify };
}


describe('signRequest / verifyRequest', () => {
  it('round-trips and names the signer', async () => {
    const s = setup();
    const h = s.sign();
    expect(Object.keys(h).sort()).toEqual([...SIGNATURE_HEADERS].sort());
    expect(h[HEADER_TIMESTAMP]).toBe(String(T0));
    expect(h[HEADER_VERSION]).toBe('1');
    expect(base64UrlDecode(h[HEADER_KEY])).toEqual(alice.publicKeyRaw);
    const v = await s.verify(h);
    expect(v.keyId).toBe(alice.keyId);
    expect(v.timestamp).toBe(T0);
  });

  it('is deterministic for the same clock, nonce and key (Ed25519 signatures are)', () => {
    const a = setup().sign();
    const b = setup().sign();
    expect(a).toEqual(b);
  });

  it('accepts fetch Headers and mixed-case record keys; an empty body works', async () => {
    const s = setup();
    const empty = new Uint8Array(0);
    const h = s.sign({ method: 'GET', path: '/api/leaderboard', body: empty });
    await expect(s.verify(new Headers(h), { method: 'GET', path: '/api/leaderboard', body: empty })).resolves.toMatchObject({
      keyId: alice.keyId,
    });
    const h2 = s.sign({ method: 'GET', path: '/api/leaderboard', body: empty });
    const upper = Object.fromEntries(Object.entries(h2).map(([k, v]) => [k.toUpperCase(), v]));
    await expect(s.verify(upper, { method: 'GET', path: '/api/leaderboard', body: empty })).resolves.toBeDefined();
  });

  it('PROTOCOL_UNSIGNED when any signature header is missing', async () => {
    const s = setup();
    expect(await codeOf(s.verify({}))).toBe('PROTOCOL_UNSIGNED');
    for (const name of SIGNATURE_HEADERS) {
      const h: Record<string, string> = { ...s.sign() };
      delete h[name];
      expect(await codeOf(s.verify(h)), name).toBe('PROTOCOL_UNSIGNED');
    }
  });

  it('PROTOCOL_BAD_SIGNATURE for a tampered method, path, query, body, timestamp or nonce', async () => {
    const s = setup();
    expect(await codeOf(s.verify(s.sign(), { method: 'PUT' }))).toBe('PROTOCOL_BAD_SIGNATURE');
    expect(await codeOf(s.verify(s.sign(), { path: '/api/work?kind=eval' }))).toBe('PROTOCOL_BAD_SIGNATURE');
    expect(await codeOf(s.verify(s.sign(), { path: '/api/work' }))).toBe('PROTOCOL_BAD_SIGNATURE');
    expect(await codeOf(s.verify(s.sign(), { body: utf8Encode('{"unitId":"u2"}') }))).toBe('PROTOCOL_BAD_SIGNATURE');
    const t = s.sign();
    expect(await codeOf(s.verify({ ...t, [HEADER_TIMESTAMP]: String(T0 + 1) }))).toBe('PROTOCOL_BAD_SIGNATURE');
    const n = s.sign();
    const other = base64UrlEncode(new Uint8Array(16).fill(9));
    expect(await codeOf(s.verify({ ...n, [HEADER_NONCE]: other }))).toBe('PROTOCOL_BAD_SIGNATURE');
  });

  it('PROTOCOL_BAD_SIGNATURE for a substituted key or a signature by another key', async () => {
    const s = setup();
    // Key header swapped to mallory, signature still alice's.
    const h = s.sign();
    expect(await codeOf(s.verify({ ...h, [HEADER_KEY]: base64UrlEncode(mallory.publicKeyRaw) }))).toBe('PROTOCOL_BAD_SIGNATURE');
    // Mallory's signature presented under alice's key.
    const m = s.sign({ key: mallory });
    expect(await codeOf(s.verify({ ...m, [HEADER_KEY]: base64UrlEncode(alice.publicKeyRaw) }))).toBe('PROTOCOL_BAD_SIGNATURE');
    // A flipped signature bit.
    const f = s.sign();
    const sig = base64UrlDecode(f[HEADER_SIGNATURE]);
    sig[10]! ^= 1;
    expect(await codeOf(s.verify({ ...f, [HEADER_SIGNATURE]: base64UrlEncode(sig) }))).toBe('PROTOCOL_BAD_SIGNATURE');
  });

  it('PROTOCOL_STALE outside ±maxSkewMs, in the past and in the future; edges inclusive', async () => {
    const s = setup();
    const old = s.sign();
    s.clock.advance(60_001);
    expect(await codeOf(s.verify(old))).toBe('PROTOCOL_STALE');

    const s2 = setup();
    const edge = s2.sign();
    s2.clock.advance(60_000);
    expect(await codeOf(s2.verify(edge))).toBe('OK');

    // Future: the signer's clock runs ahead.
    const ahead = new ManualClock(T0 + 60_001);
    const s3 = setup();
    const fut = signRequest({ method: 'POST', path: '/api/work?kind=train', body: s3.body, key: alice, clock: ahead, nonce: counterNonces() });
    expect(await codeOf(s3.verify(fut))).toBe('PROTOCOL_STALE');
    const ahead2 = new ManualClock(T0 + 60_000);
    const fut2 = signRequest({ method: 'POST', path: '/api/work?kind=train', body: s3.body, key: alice, clock: ahead2, nonce: counterNonces(7) });
    expect(await codeOf(s3.verify(fut2))).toBe('OK');

    // A custom window.
    const s4 = setup();
    const h = s4.sign();
    s4.clock.advance(1001);
    expect(await codeOf(s4.verify(h, { maxSkewMs: 1000 }))).toBe('PROTOCOL_STALE');
  });

  it('PROTOCOL_REPLAY for the same request twice, even within the same millisecond', async () => {
    const s = setup();
    const h = s.sign();
    await s.verify(h);
    expect(await codeOf(s.verify(h))).toBe('PROTOCOL_REPLAY');
    s.clock.advance(59_999);
    expect(await codeOf(s.verify(h))).toBe('PROTOCOL_REPLAY');
    // Once out of the window, the timestamp check takes over.
    s.clock.advance(2);
    expect(await codeOf(s.verify(h))).toBe('PROTOCOL_STALE');
  });

  it('scopes nonces by key: another key using the same nonce does not burn it', async () => {
    const s = setup();
    const mine = signRequest({ method: 'POST', path: '/p', body: s.body, key: alice, clock: s.clock, nonce: counterNonces(5) });
    const theirs = signRequest({ method: 'POST', path: '/p', body: s.body, key: mallory, clock: s.clock, nonce: counterNonces(5) });
    expect(mine[HEADER_NONCE]).toBe(theirs[HEADER_NONCE]);
    await s.verify(theirs, { path: '/p' });
    await expect(s.verify(mine, { path: '/p' })).resolves.toMatchObject({ keyId: alice.keyId });
  });

  it('forged requests neither reach nor fill the nonce store', async () => {
    const s = setup();
    const calls: string[] = [];
    const spy: NonceStore = { remember: (id, at) => (calls.push(id), s.nonces.remember(id, at)) };
    const h = s.sign();
    expect(await codeOf(s.verify(h, { store: spy, body: new Uint8Array([1]) }))).toBe('PROTOCOL_BAD_SIGNATURE');
    expect(calls).toEqual([]);
    // The honest request with that nonce still goes through afterwards.
    await expect(s.verify(h, { store: spy })).resolves.toBeDefined();
    expect(calls).toHaveLength(1);
  });

  it('PROTOCOL_BUSY when the nonce store is full, and recovers as nonces expire', async () => {
    const s = setup({ maxEntries: 2 });
    await s.verify(s.sign());
    await s.verify(s.sign());
    const third = s.sign();
    expect(await codeOf(s.verify(third))).toBe('PROTOCOL_BUSY');
    s.clock.advance(60_001); // the first two expire; `third` is now stale too
    expect(await codeOf(s.verify(s.sign()))).toBe('OK');
  });

  it('accepts an async NonceStore (a database-backed one)', async () => {
    const s = setup();
    const seen = new Set<string>();
    const store: NonceStore = {
      remember: async (id) => (seen.has(id) ? 'replay' : (seen.add(id), 'fresh')),
    };
    const h = s.sign();
    await s.verify(h, { store });
    expect(await codeOf(s.verify(h, { store }))).toBe('PROTOCOL_REPLAY');
  });

  describe('PROTOCOL_BAD_HEADER for malformed values', () => {
    const cases: Array<[string, keyof SignatureHeaders, string]> = [
      ['timestamp not a number', HEADER_TIMESTAMP, 'yesterday'],
      ['timestamp with sign', HEADER_TIMESTAMP, `+${T0}`],
      ['timestamp with leading zero', HEADER_TIMESTAMP, `0${T0}`],
      ['timestamp fractional', HEADER_TIMESTAMP, `${T0}.5`],
      ['timestamp beyond 2^53', HEADER_TIMESTAMP, '9999999999999999'],
      ['timestamp with space', HEADER_TIMESTAMP, ` ${T0}`],
      ['nonce too short', HEADER_NONCE, base64UrlEncode(new Uint8Array(15))],
      ['nonce too long', HEADER_NONCE, base64UrlEncode(new Uint8Array(65))],
      ['nonce padded', HEADER_NONCE, base64UrlEncode(new Uint8Array(16)) + '=='],
      ['nonce std base64', HEADER_NONCE, 'AAAAAAAAAAAAAAAAAAAAA+'],
      ['key wrong length', HEADER_KEY, base64UrlEncode(new Uint8Array(31))],
      ['key not base64url', HEADER_KEY, '!'.repeat(43)],
      ['key huge', HEADER_KEY, 'A'.repeat(100_000)],
      ['signature wrong length', HEADER_SIGNATURE, base64UrlEncode(new Uint8Array(63))],
      ['signature empty', HEADER_SIGNATURE, ''],
      ['version not a number', HEADER_VERSION, 'v1'],
      ['version with leading zero', HEADER_VERSION, '01'],
      ['repeated header joined by fetch', HEADER_NONCE, 'AAAAAAAAAAAAAAAAAAAAAA, AAAAAAAAAAAAAAAAAAAAAB'],
    ];
    it.each(cases)('%s', async (_what, name, value) => {
      const s = setup();
      expect(await codeOf(s.verify({ ...s.sign(), [name]: value }))).toBe('PROTOCOL_BAD_HEADER');
    });

    it('a repeated header (array value, or two spellings)', async () => {
      const s = setup();
      const h = s.sign();
      expect(await codeOf(s.verify({ ...h, [HEADER_NONCE]: [h[HEADER_NONCE], h[HEADER_NONCE]] }))).toBe('PROTOCOL_BAD_HEADER');
      expect(await codeOf(s.verify({ ...h, 'X-Swarm-Nonce': h[HEADER_NONCE] }))).toBe('PROTOCOL_BAD_HEADER');
    });

    it('a key that is not a point on the curve', async () => {
      // y = 2 has no x on edwards25519 (RFC 8032 §5.1.3 decoding fails) — OpenSSL refuses it.
      const bad = new Uint8Array(32);
      bad[0] = 2;
      const s = setup();
      const code = await codeOf(s.verify({ ...s.sign(), [HEADER_KEY]: base64UrlEncode(bad) }));
      expect(['PROTOCOL_BAD_HEADER', 'PROTOCOL_BAD_SIGNATURE']).toContain(code);
    });

    it('a request path or method the signer could not have signed', async () => {
      const s = setup();
      expect(await codeOf(s.verify(s.sign(), { path: 'api/work' }))).toBe('PROTOCOL_BAD_HEADER');
      expect(await codeOf(s.verify(s.sign(), { method: 'post' }))).toBe('PROTOCOL_BAD_HEADER');
    });
  });

  it('PROTOCOL_UNSUPPORTED_VERSION for a version this build does not speak', async () => {
    const s = setup();
    expect(await codeOf(s.verify({ ...s.sign(), [HEADER_VERSION]: '2' }))).toBe('PROTOCOL_UNSUPPORTED_VERSION');
  });

  it('PROTOCOL_BAD_ARGUMENT for a short nonce source or a bad path on the signing side', () => {
    const clock = new ManualClock(T0);
    const base = { method: 'GET', path: '/x', body: new Uint8Array(0), key: alice, clock };
    expect(() => signRequest({ ...base, nonce: () => new Uint8Array(8) })).toThrow(expect.objectContaining({ code: 'PROTOCOL_BAD_ARGUMENT' }));
    expect(() => signRequest({ ...base, path: '/a b', nonce: counterNonces() })).toThrow(expect.objectContaining({ code: 'PROTOCOL_BAD_ARGUMENT' }));
  });

  it('property: any single-byte change of the body fails verification', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 1, maxLength: 256 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        async (bytes, at, delta) => {
          const s = setup();
          const h = s.sign({ body: bytes });
          const tampered = bytes.slice();
          const i = at % tampered.length;
          tampered[i] = (tampered[i]! + delta) & 0xff;
          expect(await codeOf(s.verify(h, { body: tampered }))).toBe('PROTOCOL_BAD_SIGNATURE');
          expect(await codeOf(s.verify(h, { body: bytes }))).toBe('OK');
        },
      ),
    );
  });
});
