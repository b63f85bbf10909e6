/**
 * What Ed25519 identities look like on the wire, the same in Node
 * (./keys.ts, node:crypto) and in the browser (./keys.browser.ts, @noble):
 * sizes (RFC 8032 §5.1.5, §5.1.6), the key id (lower-case hex SHA-256 of
 * the raw 32-byte public key) and the domain-separated bytes a signature
 * covers. Both key modules re-export these, so the two cannot drift apart.
 */
import { concatBytes, hexEncode, utf8Encode } from '../core/encoding.ts';
import { sha256 } from '../core/sha256.ts';

export const ED25519_SEED_BYTES = 32;
export const ED25519_PUBLIC_KEY_BYTES = 32;
export const ED25519_SIGNATURE_BYTES = 64;

/** Key id of a raw public key (already checked to be 32 bytes): 64 lower-case hex characters. */
export function keyIdOfRaw(raw: Uint8Array): string {
  return hexEncode(sha256(raw));
}

const KEY_ID_RE = /^[0-9a-f]{64}$/;

/** True when `s` has the shape of a key id (it says nothing about whose). */
export function isKeyId(s: unknown): s is string {
  return typeof s === 'string' && KEY_ID_RE.test(s);
}

/**
 * `domain` (UTF-8) ‖ `payload`: the bytes actually signed. Every kind of
 * signed object has its own domain string ending in "\n", so a signature
 * made for one kind (an entry) can never be replayed as another (a tree
 * head), even if their payloads happened to coincide.
 */
export function domainSeparated(domain: string, payload: Uint8Array): Uint8Array {
  return concatBytes(utf8Encode(domain), payload);
}
