/**
 * The core API: coded errors, encodings, typed-array concatenation, SHA-256,
 * canonical JSON (RFC 8785), the seeded PRNG, the injected clock and an
 * abortable sleep. Core imports nothing internal and does no I/O (see
 * DESIGN.md, enforced by test/architecture).
 */
export { SwarmError, isSwarmError, check } from './errors.ts';
export type { ErrorDetails } from './errors.ts';
export {
  hexEncode,
  hexDecode,
  base64Encode,
  base64Decode,
  base64UrlEncode,
  base64UrlDecode,
  utf8Encode,
  utf8Decode,
  findLoneSurrogate,
  bytesEqual,
  concatBytes,
} from './encoding.ts';
export { concatArrays } from './concat.ts';
export type { NumericArray } from './concat.ts';
export { sha256, sha256Hex, sha256Parts, SHA256_BYTES } from './sha256.ts';
export type { HashInput } from './sha256.ts';
export { canonicalize, canonicalBytes, CANONICAL_MAX_DEPTH } from './canonical-json.ts';
export type { JsonValue } from './canonical-json.ts';
export { Prng, seedKey, stateFromKey } from './prng.ts';
export type { Seed, ForkLabel, PrngState } from './prng.ts';
export { systemClock, createSystemClock, ManualClock } from './clock.ts';
export type { Clock } from './clock.ts';
export { sleep } from './sleep.ts';
