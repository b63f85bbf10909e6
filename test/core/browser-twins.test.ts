/**
 * Every `X.browser.ts` replaces `X.ts` in the browser bundle
 * (scripts/build-web.mjs). The browser provider's results and signatures
 * must be the Node provider's bytes, so each twin is held here to its
 * original: the same runtime exports, and the same outputs on the same
 * inputs (run in Node, where both load).
 */
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as nodeSha from '../../src/core/sha256.ts';
import * as browserSha from '../../src/core/sha256.browser.ts';
import * as nodeKeys from '../../src/ledger/keys.ts';
import * as browserKeys from '../../src/ledger/keys.browser.ts';
import * as nodePool from '../../src/tensor/wasm/pool-threads.ts';
import * as browserPool from '../../src/tensor/wasm/pool-threads.browser.ts';
import { Prng } from '../../src/core/prng.ts';
import { codeOf, codeOfAsync } from '../helpers/errors.ts';

const SRC = join(import.meta.dirname, '..', '..', 'src');

function twinsOnDisk(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...twinsOnDisk(p));
    else if (e.name.endsWith('.browser.ts')) out.push(relative(SRC, p).split('\\').join('/'));
  }
  return out.sort();
}

const PAIRS: Record<string, [object, object]> = {
  'core/sha256.browser.ts': [nodeSha, browserSha],
  'ledger/keys.browser.ts': [nodeKeys, browserKeys],
  'tensor/wasm/pool-threads.browser.ts': [nodePool, browserPool],
};

function bytes(rng: Prng, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rng.nextFloat() * 256);
  return b;
}

describe('browser twins', () => {
  it('every twin on disk is checked here (a new one needs its pair in PAIRS)', () => {
    expect(twinsOnDisk(SRC)).toEqual(Object.keys(PAIRS).sort());
  });

  it.each(Object.keys(PAIRS))('%s has the same runtime exports as its Node original', (name) => {
    const [n, b] = PAIRS[name]!;
    const names = (m: object) => Object.keys(m).filter((k) => k !== 'BrowserPrivateKey').sort();
    expect(names(b)).toEqual(names(n));
  });

  it('sha256: same digests for empty, short, block-edge, large and string inputs, in one piece and in parts', () => {
    const rng = Prng.fromSeed(7);
    const inputs: (Uint8Array | string)[] = [new Uint8Array(0), 'abc', 'héllo ✓ 𝄞', bytes(rng, 55), bytes(rng, 56), bytes(rng, 64), bytes(rng, 1_000_003)];
    for (const x of inputs) {
      expect(browserSha.sha256Hex(x)).toBe(nodeSha.sha256Hex(x));
      expect(browserSha.sha256(x)).toEqual(nodeSha.sha256(x));
    }
    expect(browserSha.sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'); // FIPS 180-2 B.1
    const parts = [bytes(rng, 10), 'x', bytes(rng, 100)];
    expect(browserSha.sha256Parts(parts)).toEqual(nodeSha.sha256Parts(parts));
  });

  it('sha256: both refuse a lone surrogate and a non-bytes input with the same codes', () => {
    expect(codeOf(() => browserSha.sha256('\ud800'))).toBe(codeOf(() => nodeSha.sha256('\ud800')));
    expect(codeOf(() => browserSha.sha256(42 as unknown as string))).toBe('HASH_INVALID_INPUT');
    expect(codeOf(() => nodeSha.sha256(42 as unknown as string))).toBe('HASH_INVALID_INPUT');
  });

  it('keys: the same seed gives the same public key, key id and signature bytes; each verifies the other', () => {
    const rng = Prng.fromSeed(11);
    for (let i = 0; i < 8; i++) {
      const seed = bytes(rng, 32);
      const n = nodeKeys.keyPairFromSeed(seed);
      const b = browserKeys.keyPairFromSeed(seed);
      expect(b.publicKeyRaw).toEqual(n.publicKeyRaw);
      expect(b.keyId).toBe(n.keyId);
      expect(browserKeys.privateKeySeed(b.privateKey)).toEqual(seed);
      const msg = bytes(rng, i * 37);
      const sb = browserKeys.signBytes(msg, b);
      expect(sb).toEqual(nodeKeys.signBytes(msg, n));
      expect(nodeKeys.verifyBytes(msg, sb, n.publicKeyRaw)).toBe(true);
      expect(browserKeys.verifyBytes(msg, nodeKeys.signBytes(msg, n), b.publicKeyRaw)).toBe(true);
      const bad = sb.slice();
      bad[i] = bad[i]! ^ 1;
      expect(browserKeys.verifyBytes(msg, bad, b.publicKeyRaw)).toBe(false);
      expect(nodeKeys.verifyBytes(msg, bad, n.publicKeyRaw)).toBe(false);
    }
  });

  it('keys: bad seeds and public keys get LEDGER_BAD_KEY in both; a short signature or key verifies false', () => {
    for (const m of [nodeKeys, browserKeys]) {
      expect(codeOf(() => m.keyPairFromSeed(new Uint8Array(31)))).toBe('LEDGER_BAD_KEY');
      expect(codeOf(() => m.publicKeyFromRaw(new Uint8Array(33)))).toBe('LEDGER_BAD_KEY');
      const k = m.keyPairFromSeed(new Uint8Array(32).fill(3));
      expect(m.verifyBytes(new Uint8Array(1), new Uint8Array(63), k.publicKeyRaw)).toBe(false);
      expect(m.verifyBytes(new Uint8Array(1), new Uint8Array(64), new Uint8Array(5))).toBe(false);
    }
    // y = 2 has no x on the curve (RFC 8032 §5.1.3): both take the bytes as a key and no signature verifies under it
    const notAPoint = new Uint8Array(32);
    notAPoint[0] = 2;
    expect(codeOf(() => browserKeys.publicKeyFromRaw(notAPoint))).toBe(codeOf(() => nodeKeys.publicKeyFromRaw(notAPoint)));
    const signer = nodeKeys.keyPairFromSeed(new Uint8Array(32).fill(4));
    const sig = nodeKeys.signBytes(new Uint8Array(3), signer);
    expect(nodeKeys.verifyBytes(new Uint8Array(3), sig, notAPoint)).toBe(false);
    expect(browserKeys.verifyBytes(new Uint8Array(3), sig, notAPoint)).toBe(false);
  });

  it('pool threads: the browser twin refuses helper threads with TENSOR_WORKER_FAILED', async () => {
    expect(await codeOfAsync(browserPool.startPoolThreads(1, { module: null, memory: null, control: new SharedArrayBuffer(8) }, () => undefined))).toBe('TENSOR_WORKER_FAILED');
  });
});
