/**
 * SHA-256 (FIPS 180-4 §6.2), the one hash of the system: content addresses,
 * result hashes compared across replicas, and the ledger's Merkle tree
 * (RFC 6962 §2.1). node:crypto is a pure computation here, not I/O. The
 * browser bundle uses ./sha256.browser.ts instead (same exports, same
 * digests, @noble/hashes), as every `X.browser.ts` twin replaces `X.ts`
 * there (scripts/build-web.mjs).
 *
 * Strings are hashed as their UTF-8 bytes; a string with a lone surrogate has
 * no UTF-8 form and is rejected (ENCODING_INVALID_UTF16) rather than hashed
 * as U+FFFD, so distinct strings never collide by encoding.
 */
import * as nodeCrypto from 'node:crypto';
import { hashInputBytes, hexEncode } from './encoding.ts';
import type { HashInput } from './encoding.ts';

export type { HashInput } from './encoding.ts';

export const SHA256_BYTES = 32;


/** SHA-256 of the concatenation of `parts` (no separators: callers that need
 * domain separation prepend a tag byte, as RFC 6962's 0x00 / 0x01 do). */
export function sha256Parts(parts: readonly HashInput[]): Uint8Array {
  const h = nodeCrypto.createHash('sha256');
  for (const p of parts) h.update(hashInputBytes(p));
  // Copy out of the Buffer so callers get a plain, unshared Uint8Array.
  return new Uint8Array(h.digest());
}

/**
 * Node's one-shot crypto.hash (Node >= 20.12) where it exists: about half the
 * time of a createHash object for the short inputs the Merkle tree and the
 * registration proof of work hash (test/protocol/pow.test.ts prints it).
 */
const oneShot = (nodeCrypto as { hash?: (algorithm: string, data: Uint8Array, encoding: 'buffer') => Uint8Array }).hash;

/** SHA-256 digest (32 bytes). */
export function sha256(data: HashInput): Uint8Array {
  if (oneShot === undefined) return sha256Parts([data]);
  // Copy out of the Buffer so callers get a plain, unshared Uint8Array.
  return new Uint8Array(oneShot('sha256', hashInputBytes(data), 'buffer'));
}

/** SHA-256 digest as 64 lower-case hex characters. */
export function sha256Hex(data: HashInput): string {
  return hexEncode(sha256(data));
}
