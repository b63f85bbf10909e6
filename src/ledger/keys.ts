/**
 * Ed25519 (RFC 8032) identities through node:crypto, which is computation,
 * not I/O. No key is ever made from ambient randomness here: a key comes
 * from a 32-byte seed the caller supplies (the CLI draws it from
 * crypto.randomBytes once and stores it; tests use fixed seeds), so this
 * module stays deterministic like the rest of the ledger.
 *
 * Raw keys cross into node:crypto as DER (RFC 8410):
 *  - private: PKCS#8 OneAsymmetricKey (§7) = a fixed 16-byte header,
 *    then the 32-byte seed as an OCTET STRING inside the privateKey field;
 *  - public:  SubjectPublicKeyInfo (§4) = a fixed 12-byte header, then the
 *    32-byte public key as the BIT STRING contents.
 * Both headers carry the algorithm identifier id-Ed25519 (1.3.101.112).
 *
 * Key id: lower-case hex of the full SHA-256 of the raw 32-byte public key
 * (64 characters). The whole digest is kept, not a prefix, so a key id is as
 * collision resistant as the hash and never needs a length argument.
 *
 * Errors: LEDGER_BAD_KEY for a seed, raw key or KeyObject that is not a
 * usable Ed25519 key. Signature checks return booleans here; the entry and
 * tree-head modules turn a false into LEDGER_BAD_SIGNATURE.
 */
import { KeyObject, createPrivateKey, createPublicKey, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';
import { base64UrlDecode, concatBytes, hexDecode, hexEncode } from '../core/encoding.ts';
import { SwarmError } from '../core/errors.ts';

import { ED25519_PUBLIC_KEY_BYTES, ED25519_SEED_BYTES, ED25519_SIGNATURE_BYTES, keyIdOfRaw } from './key-format.ts';

export { ED25519_PUBLIC_KEY_BYTES, ED25519_SEED_BYTES, ED25519_SIGNATURE_BYTES, domainSeparated, isKeyId } from './key-format.ts';

/** RFC 8410 §7: SEQUENCE { INTEGER 0, SEQUENCE { OID 1.3.101.112 }, OCTET STRING { OCTET STRING (32) } }. */
const PKCS8_ED25519_PREFIX = hexDecode('302e020100300506032b657004220420');
/** RFC 8410 §4: SEQUENCE { SEQUENCE { OID 1.3.101.112 }, BIT STRING (0 unused bits, 32 bytes) }. */
const SPKI_ED25519_PREFIX = hexDecode('302a300506032b6570032100');

/** A signing identity. `keyId` names it in ledger entries and cosignatures. */
export interface Ed25519KeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** The raw 32-byte public key (RFC 8032 §5.1.5 encoding). */
  readonly publicKeyRaw: Uint8Array;
  /** keyIdOf(publicKeyRaw). */
  readonly keyId: string;
}

/** A public key given as a KeyObject or as its raw 32 bytes. */
export type PublicKeyInput = KeyObject | Uint8Array;

function badKey(message: string, details?: Record<string, unknown>, cause?: unknown): SwarmError {
  return new SwarmError('LEDGER_BAD_KEY', message, details, cause === undefined ? undefined : { cause });
}

function isEd25519(key: KeyObject, type: 'private' | 'public'): boolean {
  return key.type === type && key.asymmetricKeyType === 'ed25519';
}

/** The key pair whose RFC 8032 §5.1.5 private key (seed) is `seed` (32 bytes). Deterministic. */
export function keyPairFromSeed(seed: Uint8Array): Ed25519KeyPair {
  if (!(seed instanceof Uint8Array) || seed.length !== ED25519_SEED_BYTES) {
    throw badKey('an Ed25519 seed is 32 bytes', { length: seed instanceof Uint8Array ? seed.length : null });
  }
  const der = concatBytes(PKCS8_ED25519_PREFIX, seed);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' });
  } catch (cause) {
    throw badKey('seed was not accepted as an Ed25519 key', undefined, cause);
  }
  return keyPairFromPrivateKey(privateKey);
}

/** Completes a key pair from an Ed25519 private KeyObject (e.g. one loaded from PEM by the CLI). */
export function keyPairFromPrivateKey(privateKey: KeyObject): Ed25519KeyPair {
  if (!(privateKey instanceof KeyObject) || !isEd25519(privateKey, 'private')) {
    throw badKey('expected an Ed25519 private KeyObject');
  }
  const publicKey = createPublicKey(privateKey);
  const publicKeyRaw = rawPublicKey(publicKey);
  return Object.freeze({ privateKey, publicKey, publicKeyRaw, keyId: keyIdOf(publicKeyRaw) });
}

/** The 32-byte seed of an Ed25519 private key (to store it; keyPairFromSeed restores it). */
export function privateKeySeed(privateKey: KeyObject): Uint8Array {
  if (!(privateKey instanceof KeyObject) || !isEd25519(privateKey, 'private')) {
    throw badKey('expected an Ed25519 private KeyObject');
  }
  const jwk = privateKey.export({ format: 'jwk' });
  return base64UrlDecode(String(jwk.d)); // RFC 8037 §2: "d" is the seed, base64url
}

/** The raw 32-byte public key of an Ed25519 public (or private) KeyObject. */
export function rawPublicKey(key: KeyObject): Uint8Array {
  if (!(key instanceof KeyObject) || key.asymmetricKeyType !== 'ed25519') {
    throw badKey('expected an Ed25519 KeyObject');
  }
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  const jwk = pub.export({ format: 'jwk' });
  const raw = base64UrlDecode(String(jwk.x)); // RFC 8037 §2: "x" is the public key, base64url
  if (raw.length !== ED25519_PUBLIC_KEY_BYTES) throw badKey('public key is not 32 bytes', { length: raw.length });
  return raw;
}

/**
 * A public KeyObject from the raw 32-byte key. Throws LEDGER_BAD_KEY for a
 * wrong length or bytes OpenSSL refuses (an undecodable point).
 */
export function publicKeyFromRaw(raw: Uint8Array): KeyObject {
  if (!(raw instanceof Uint8Array) || raw.length !== ED25519_PUBLIC_KEY_BYTES) {
    throw badKey('an Ed25519 public key is 32 bytes', { length: raw instanceof Uint8Array ? raw.length : null });
  }
  const id = hexEncode(raw);
  const cached = KEY_OBJECTS.get(id);
  if (cached !== undefined) return cached;
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(concatBytes(SPKI_ED25519_PREFIX, raw)), format: 'der', type: 'spki' });
  } catch (cause) {
    throw badKey('bytes are not an Ed25519 public key', undefined, cause);
  }
  // Parsing a key costs more than verifying a signature with it (OpenSSL
  // decodes the point); a tracker verifies the same few thousand keys over
  // and over. Bounded: cleared when full, so hostile keys cannot grow it.
  if (KEY_OBJECTS.size >= MAX_CACHED_KEYS) KEY_OBJECTS.clear();
  KEY_OBJECTS.set(id, key);
  return key;
}

const MAX_CACHED_KEYS = 8192;
/** Parsed public keys by raw hex (immutable objects, safe to share). */
const KEY_OBJECTS = new Map<string, KeyObject>();

function toPublicKeyObject(key: PublicKeyInput): KeyObject {
  if (key instanceof KeyObject) {
    if (!isEd25519(key, 'public')) throw badKey('expected an Ed25519 public KeyObject');
    return key;
  }
  return publicKeyFromRaw(key);
}

/** Raw bytes of a public key given either way. */
export function publicKeyBytes(key: PublicKeyInput): Uint8Array {
  if (key instanceof KeyObject) return rawPublicKey(toPublicKeyObject(key));
  toPublicKeyObject(key); // validates
  return key.slice();
}

/** Key id: lower-case hex SHA-256 of the raw 32-byte public key (64 characters). */
export function keyIdOf(key: PublicKeyInput): string {
  return keyIdOfRaw(publicKeyBytes(key));
}



/** Ed25519 signature (64 bytes) of `message` (RFC 8032 §5.1.6, pure Ed25519: no prehash). */
export function signBytes(message: Uint8Array, signer: Ed25519KeyPair | KeyObject): Uint8Array {
  const key = signer instanceof KeyObject ? signer : signer.privateKey;
  if (!(key instanceof KeyObject) || !isEd25519(key, 'private')) throw badKey('expected an Ed25519 private key');
  return new Uint8Array(cryptoSign(null, message, key));
}

/**
 * RFC 8032 §5.1.7 verification. False for a wrong signature, a signature of
 * the wrong length, or a public key that is not a valid Ed25519 key.
 */
export function verifyBytes(message: Uint8Array, signature: Uint8Array, publicKey: PublicKeyInput): boolean {
  if (!(signature instanceof Uint8Array) || signature.length !== ED25519_SIGNATURE_BYTES) return false;
  let key: KeyObject;
  try {
    key = toPublicKeyObject(publicKey);
  } catch {
    return false;
  }
  try {
    return cryptoVerify(null, message, key, signature);
  } catch {
    return false;
  }
}
