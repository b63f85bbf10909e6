/**
 * The browser's twin of ./keys.ts: Ed25519 (RFC 8032) identities through
 * @noble/ed25519 (audited, pure JS) instead of node:crypto, with the same
 * exports the provider's core uses and the same bytes — Ed25519 signatures
 * are deterministic (RFC 8032 §5.1.6), so a seed signs a message identically
 * in Node and in the browser (test/core/browser-twins.test.ts checks it).
 *
 * Why not WebCrypto's Ed25519 (Chromium 137+, Firefox 129+, Safari 17+):
 * the protocol core signs synchronously (entries, requests, CLA signatures
 * are built by the same functions in Node and in the browser) and
 * WebCrypto only signs asynchronously; making every signer async for one
 * platform would fork the shared code. The cost is that the browser keeps
 * its 32-byte seed in IndexedDB (as `swarm provide` keeps it in a 0600
 * file) rather than as a non-extractable CryptoKey.
 *
 * Verification is RFC 8032's strict rule (zip215: false), as OpenSSL's.
 * "Private key" objects here are opaque holders of the seed; only this
 * module reads them.
 */
import * as ed from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';
import { SwarmError } from '../core/errors.ts';

ed.hashes.sha512 = sha512;

import { ED25519_PUBLIC_KEY_BYTES, ED25519_SEED_BYTES, ED25519_SIGNATURE_BYTES, keyIdOfRaw } from './key-format.ts';

export { ED25519_PUBLIC_KEY_BYTES, ED25519_SEED_BYTES, ED25519_SIGNATURE_BYTES, domainSeparated, isKeyId } from './key-format.ts';

/** An Ed25519 private key in the browser: the seed, held privately. */
export class BrowserPrivateKey {
  readonly #seed: Uint8Array;
  constructor(seed: Uint8Array) {
    this.#seed = seed.slice();
  }
  /** @internal */
  static seedOf(k: BrowserPrivateKey): Uint8Array {
    return k.#seed;
  }
}

/** A signing identity (see ./keys.ts). */
export interface Ed25519KeyPair {
  readonly privateKey: BrowserPrivateKey;
  readonly publicKey: Uint8Array;
  readonly publicKeyRaw: Uint8Array;
  readonly keyId: string;
}

export type PublicKeyInput = Uint8Array;

function badKey(message: string, details?: Record<string, unknown>): SwarmError {
  return new SwarmError('LEDGER_BAD_KEY', message, details);
}

/** The key pair whose RFC 8032 §5.1.5 private key (seed) is `seed` (32 bytes). Deterministic. */
export function keyPairFromSeed(seed: Uint8Array): Ed25519KeyPair {
  if (!(seed instanceof Uint8Array) || seed.length !== ED25519_SEED_BYTES) {
    throw badKey('an Ed25519 seed is 32 bytes', { length: seed instanceof Uint8Array ? seed.length : null });
  }
  const publicKeyRaw = ed.getPublicKey(seed);
  return Object.freeze({ privateKey: new BrowserPrivateKey(seed), publicKey: publicKeyRaw, publicKeyRaw, keyId: keyIdOf(publicKeyRaw) });
}

/** Completes a key pair from a private key. */
export function keyPairFromPrivateKey(privateKey: BrowserPrivateKey): Ed25519KeyPair {
  if (!(privateKey instanceof BrowserPrivateKey)) throw badKey('expected an Ed25519 private key');
  return keyPairFromSeed(BrowserPrivateKey.seedOf(privateKey));
}

/** The raw 32-byte public key of a private key or of raw public bytes (checked). */
export function rawPublicKey(key: BrowserPrivateKey | Uint8Array): Uint8Array {
  if (key instanceof BrowserPrivateKey) return ed.getPublicKey(BrowserPrivateKey.seedOf(key));
  return publicKeyBytes(key);
}

/** The checked raw key (in the browser a public key is its raw bytes; LEDGER_BAD_KEY for a wrong length). */
export function publicKeyFromRaw(raw: Uint8Array): Uint8Array {
  return publicKeyBytes(raw);
}

/** The 32-byte seed of a private key (to store it; keyPairFromSeed restores it). */
export function privateKeySeed(privateKey: BrowserPrivateKey): Uint8Array {
  if (!(privateKey instanceof BrowserPrivateKey)) throw badKey('expected an Ed25519 private key');
  return BrowserPrivateKey.seedOf(privateKey).slice();
}

/**
 * Raw bytes of a public key (LEDGER_BAD_KEY for a wrong length). Like
 * OpenSSL's import in ./keys.ts, the bytes are not decoded to a point here
 * (an undecodable key fails verification instead), so both twins accept and
 * refuse the same keys.
 */
export function publicKeyBytes(key: PublicKeyInput): Uint8Array {
  if (!(key instanceof Uint8Array) || key.length !== ED25519_PUBLIC_KEY_BYTES) {
    throw badKey('an Ed25519 public key is 32 bytes', { length: key instanceof Uint8Array ? key.length : null });
  }
  return key.slice();
}

/** Key id: lower-case hex SHA-256 of the raw 32-byte public key (64 characters). */
export function keyIdOf(key: PublicKeyInput): string {
  return keyIdOfRaw(publicKeyBytes(key));
}



/** Ed25519 signature (64 bytes) of `message` (RFC 8032 §5.1.6, pure Ed25519). */
export function signBytes(message: Uint8Array, signer: Ed25519KeyPair | BrowserPrivateKey): Uint8Array {
  const key = signer instanceof BrowserPrivateKey ? signer : signer.privateKey;
  if (!(key instanceof BrowserPrivateKey)) throw badKey('expected an Ed25519 private key');
  return ed.sign(message, BrowserPrivateKey.seedOf(key));
}

/** RFC 8032 §5.1.7 verification; false for a wrong signature, length or key. */
export function verifyBytes(message: Uint8Array, signature: Uint8Array, publicKey: PublicKeyInput): boolean {
  if (!(signature instanceof Uint8Array) || signature.length !== ED25519_SIGNATURE_BYTES) return false;
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== ED25519_PUBLIC_KEY_BYTES) return false;
  try {
    return ed.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}
