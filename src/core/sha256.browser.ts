/**
 * The browser's twin of ./sha256.ts (same exports, same digests): the
 * provider's core hashes synchronously (result hashes, blob addresses, the
 * spool), and WebCrypto's digest is asynchronous, so the browser bundle
 * (scripts/build-web.mjs swaps every `X.browser.ts` in for `X.ts`) hashes
 * with @noble/hashes, an audited pure-JS SHA-2. test/core/browser-twins.test.ts
 * holds both files to the same digests and the same exports.
 */
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { hashInputBytes, hexEncode } from './encoding.ts';
import type { HashInput } from './encoding.ts';

export type { HashInput } from './encoding.ts';

export const SHA256_BYTES = 32;


/** SHA-256 of the concatenation of `parts` (see ./sha256.ts). */
export function sha256Parts(parts: readonly HashInput[]): Uint8Array {
  const h = nobleSha256.create();
  for (const p of parts) h.update(hashInputBytes(p));
  return h.digest();
}

/** SHA-256 digest (32 bytes). */
export function sha256(data: HashInput): Uint8Array {
  return nobleSha256(hashInputBytes(data));
}

/** SHA-256 digest as 64 lower-case hex characters. */
export function sha256Hex(data: HashInput): string {
  return hexEncode(sha256(data));
}
