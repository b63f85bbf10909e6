/**
 * Shared test helpers for the ledger: a recursive reference of RFC 6962
 * §2.1 written as literally as the RFC states it (slices and recursion, no
 * caches; independent of src/ledger/merkle.ts), deterministic leaves, and a
 * "rejected" predicate for the verifier's two ways of saying no.
 */
import { hexDecode, hexEncode, utf8Encode } from '../../src/core/encoding.ts';
import { isSwarmError } from '../../src/core/errors.ts';
import { sha256Parts } from '../../src/core/sha256.ts';
import { keyPairFromSeed } from '../../src/ledger/keys.ts';
import type { Ed25519KeyPair } from '../../src/ledger/keys.ts';

/** SHA-256 of the concatenation of the parts. */
function h(...parts: Uint8Array[]): Uint8Array {
  return sha256Parts(parts);
}

function k(n: number): number {
  let x = 1;
  while (x * 2 < n) x *= 2;
  return x;
}

/** RFC 6962 §2.1 MTH over leaf INPUTS, recursively. */
export function refMth(d: readonly Uint8Array[]): Uint8Array {
  if (d.length === 0) return h();
  if (d.length === 1) return h(Uint8Array.of(0), d[0]!);
  const s = k(d.length);
  return h(Uint8Array.of(1), refMth(d.slice(0, s)), refMth(d.slice(s)));
}

/** RFC 6962 §2.1.1 PATH(m, D[n]). */
export function refPath(m: number, d: readonly Uint8Array[]): Uint8Array[] {
  if (d.length <= 1) return [];
  const s = k(d.length);
  return m < s ? [...refPath(m, d.slice(0, s)), refMth(d.slice(s))] : [...refPath(m - s, d.slice(s)), refMth(d.slice(0, s))];
}

/** RFC 6962 §2.1.2 PROOF(m, D[n]) = SUBPROOF(m, D[n], true). */
export function refProof(m: number, d: readonly Uint8Array[]): Uint8Array[] {
  const sub = (m: number, d: readonly Uint8Array[], b: boolean): Uint8Array[] => {
    if (m === d.length) return b ? [] : [refMth(d)];
    const s = k(d.length);
    return m <= s ? [...sub(m, d.slice(0, s), b), refMth(d.slice(s))] : [...sub(m - s, d.slice(s), false), refMth(d.slice(0, s))];
  };
  return sub(m, d, true);
}

/** Deterministic, distinct leaf inputs of varied lengths. */
export function makeLeaves(n: number, tag = 'leaf'): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => utf8Encode(`${tag}-${i}-${'x'.repeat(i % 7)}`));
}

export const hex = hexEncode;
export const unhex = hexDecode;

/**
 * True when the verifier rejects: returns false, or throws LEDGER_BAD_PROOF.
 * Any other exception is a bug and propagates.
 */
export function rejected(verify: () => boolean): boolean {
  try {
    return verify() === false;
  } catch (e) {
    if (isSwarmError(e, 'LEDGER_BAD_PROOF')) return true;
    throw e;
  }
}

/** Error code thrown by `f`, or undefined. */
export function codeOf(f: () => unknown): string | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    return isSwarmError(e) ? e.code : `not a SwarmError: ${String(e)}`;
  }
}

/** details.reason of the LEDGER_BAD_PROOF thrown by `f`, or undefined. */
export function proofReason(f: () => unknown): unknown {
  try {
    f();
    return undefined;
  } catch (e) {
    if (isSwarmError(e, 'LEDGER_BAD_PROOF')) return e.details?.reason;
    throw e;
  }
}

/** A fixed test key: seed = 32 bytes of `n`. */
export function testKey(n: number): Ed25519KeyPair {
  return keyPairFromSeed(new Uint8Array(32).fill(n));
}

/** A copy of `bytes` with bit `bit` of byte `byte` flipped. */
export function flipBit(bytes: Uint8Array, byte: number, bit: number): Uint8Array {
  const out = bytes.slice();
  out[byte % out.length] ^= 1 << (bit % 8);
  return out;
}
