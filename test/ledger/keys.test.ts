import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hexDecode, hexEncode, utf8Encode } from '../../src/core/encoding.ts';
import { sha256Hex } from '../../src/core/sha256.ts';
import {
  domainSeparated,
  isKeyId,
  keyIdOf,
  keyPairFromPrivateKey,
  keyPairFromSeed,
  privateKeySeed,
  publicKeyBytes,
  publicKeyFromRaw,
  rawPublicKey,
  signBytes,
  verifyBytes,
} from '../../src/ledger/keys.ts';
import { codeOf, flipBit } from './helpers.ts';

// RFC 8032 §7.1, TEST 1-3 (Ed25519): secret key (the seed), public key,
// message, signature.
const RFC8032: [string, string, string, string][] = [
  [
    '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    '',
    'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  ],
  [
    '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    '72',
    '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  ],
  [
    'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
    'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
    'af82',
    '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a',
  ],
];

describe('Ed25519 keys', () => {
  it('reproduces the RFC 8032 §7.1 test vectors from the seed', () => {
    for (const [seed, pub, msg, sig] of RFC8032) {
      const kp = keyPairFromSeed(hexDecode(seed));
      expect(hexEncode(kp.publicKeyRaw)).toBe(pub);
      expect(hexEncode(signBytes(hexDecode(msg), kp))).toBe(sig);
      expect(verifyBytes(hexDecode(msg), hexDecode(sig), hexDecode(pub))).toBe(true);
      expect(verifyBytes(hexDecode(msg), hexDecode(sig), kp.publicKey)).toBe(true);
      expect(hexEncode(privateKeySeed(kp.privateKey))).toBe(seed);
    }
  });

  it('is deterministic in the seed, and round-trips seed and raw key', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (seed) => {
        const a = keyPairFromSeed(seed);
        const b = keyPairFromSeed(seed.slice());
        expect(hexEncode(a.publicKeyRaw)).toBe(hexEncode(b.publicKeyRaw));
        expect(a.keyId).toBe(b.keyId);
        expect(privateKeySeed(a.privateKey)).toEqual(seed);
        expect(rawPublicKey(publicKeyFromRaw(a.publicKeyRaw))).toEqual(a.publicKeyRaw);
        expect(rawPublicKey(a.privateKey)).toEqual(a.publicKeyRaw);
      }),
      { numRuns: 50 },
    );
  });

  it('key id = lower-case hex SHA-256 of the raw public key, 64 characters', () => {
    const kp = keyPairFromSeed(hexDecode(RFC8032[0]![0]));
    expect(kp.keyId).toBe(sha256Hex(kp.publicKeyRaw));
    expect(kp.keyId).toMatch(/^[0-9a-f]{64}$/);
    expect(keyIdOf(kp.publicKey)).toBe(kp.keyId);
    expect(keyIdOf(kp.publicKeyRaw)).toBe(kp.keyId);
    expect(isKeyId(kp.keyId)).toBe(true);
    expect(isKeyId(kp.keyId.toUpperCase())).toBe(false);
    expect(isKeyId(kp.keyId.slice(2))).toBe(false);
    expect(isKeyId(42)).toBe(false);
    expect(publicKeyBytes(kp.publicKey)).toEqual(kp.publicKeyRaw);
  });

  it('accepts a private KeyObject made elsewhere (e.g. loaded from PEM)', () => {
    const pem = keyPairFromSeed(new Uint8Array(32).fill(7)).privateKey.export({ format: 'pem', type: 'pkcs8' });
    expect(String(pem)).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const kp = keyPairFromPrivateKey(createPrivateKey(pem));
    const again = keyPairFromSeed(privateKeySeed(kp.privateKey));
    expect(again.keyId).toBe(kp.keyId);
    const msg = utf8Encode('hello');
    expect(verifyBytes(msg, signBytes(msg, kp.privateKey), again.publicKeyRaw)).toBe(true);
  });

  it('signatures fail for another message, key, or any flipped bit', () => {
    const a = keyPairFromSeed(new Uint8Array(32).fill(1));
    const b = keyPairFromSeed(new Uint8Array(32).fill(2));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), fc.nat(63), fc.nat(7), (msg, byte, bit) => {
        const sig = signBytes(msg, a);
        expect(verifyBytes(msg, sig, a.publicKeyRaw)).toBe(true);
        expect(verifyBytes(msg, sig, b.publicKeyRaw)).toBe(false);
        expect(verifyBytes(msg, flipBit(sig, byte, bit), a.publicKeyRaw)).toBe(false);
        // another message: one bit flipped, or for the empty message one byte
        const other = msg.length > 0 ? flipBit(msg, byte, bit) : Uint8Array.of(0);
        expect(verifyBytes(other, sig, a.publicKeyRaw)).toBe(false);
        expect(verifyBytes(concat(msg, Uint8Array.of(0)), sig, a.publicKeyRaw)).toBe(false);
      }),
      { numRuns: 60 },
    );
  });

  it('verifyBytes is false, not an exception, for malformed signatures and keys', () => {
    const a = keyPairFromSeed(new Uint8Array(32).fill(1));
    const msg = utf8Encode('m');
    const sig = signBytes(msg, a);
    expect(verifyBytes(msg, sig.subarray(1), a.publicKeyRaw)).toBe(false);
    expect(verifyBytes(msg, new Uint8Array(65), a.publicKeyRaw)).toBe(false);
    expect(verifyBytes(msg, 'sig' as unknown as Uint8Array, a.publicKeyRaw)).toBe(false);
    expect(verifyBytes(msg, sig, a.publicKeyRaw.subarray(1))).toBe(false);
    expect(verifyBytes(msg, sig, a.privateKey)).toBe(false); // a private key is not a public key
  });

  it('rejects bad seeds and keys with LEDGER_BAD_KEY', () => {
    expect(codeOf(() => keyPairFromSeed(new Uint8Array(31)))).toBe('LEDGER_BAD_KEY');
    expect(codeOf(() => keyPairFromSeed('x'.repeat(32) as unknown as Uint8Array))).toBe('LEDGER_BAD_KEY');
    expect(codeOf(() => publicKeyFromRaw(new Uint8Array(33)))).toBe('LEDGER_BAD_KEY');
    // Another algorithm (its random key does not affect the outcome).
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(codeOf(() => keyPairFromPrivateKey(ec.privateKey))).toBe('LEDGER_BAD_KEY');
    expect(codeOf(() => rawPublicKey(ec.publicKey))).toBe('LEDGER_BAD_KEY');
    expect(codeOf(() => keyIdOf(ec.publicKey))).toBe('LEDGER_BAD_KEY');
    expect(codeOf(() => signBytes(utf8Encode('m'), ec.privateKey))).toBe('LEDGER_BAD_KEY');
  });

  it('domain separation prefixes the UTF-8 domain', () => {
    expect(domainSeparated('d\n', Uint8Array.of(1, 2))).toEqual(Uint8Array.of(0x64, 0x0a, 1, 2));
  });
});

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
