/**
 * Runs one work unit: parse the spec, fetch and verify every input blob,
 * compute with the kind's built-in kernel, hash the result. runUnit is the
 * sandboxed side's entry (worker-main.ts, bwrap-main.ts), where the spec
 * arrives as a message from another thread or process, so it parses the
 * spec itself.
 *
 * Every input's SHA-256 is checked before use: the hash in the spec is the
 * only thing a provider may trust, not its cache, not the network, not the
 * tracker's blob store. A blob that is absent is WORK_BLOB_MISSING, one
 * whose bytes do not hash to its name WORK_BLOB_HASH_MISMATCH; both before
 * any computation starts.
 */
import { SwarmError } from '../../core/errors.ts';
import { sha256Hex } from '../../core/sha256.ts';
import type { Engine } from '../../tensor/tensor.ts';
import { kindOf, parseUnitSpec } from './kinds.ts';
import type { UnitSpec } from './kinds.ts';

export interface UnitOutcome {
  result: Uint8Array;
  /** SHA-256 hex of `result`: what replicas compare */
  resultHash: string;
  metrics: Record<string, number>;
}

export type BlobGetter = (sha: string) => Uint8Array | undefined;

/** Fetches each input of `spec` once and checks its hash. */
export function verifiedInputs(spec: UnitSpec, getBlob: BlobGetter): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const h of kindOf(spec).inputs(spec)) {
    const bytes = getBlob(h);
    if (!(bytes instanceof Uint8Array)) throw new SwarmError('WORK_BLOB_MISSING', `input blob ${h} is not available`, { blob: h });
    const got = sha256Hex(bytes);
    if (got !== h) throw new SwarmError('WORK_BLOB_HASH_MISMATCH', `input blob ${h} hashes to ${got}`, { blob: h, actual: got });
    out.set(h, bytes);
  }
  return out;
}

/**
 * Runs `spec` (untrusted JSON) on `engine`. `onProgress` gets the fraction
 * done, non-decreasing, ending at 1.
 */
export function runUnit(engine: Engine, spec: unknown, getBlob: BlobGetter, onProgress?: (fraction: number) => void): UnitOutcome {
  const s = parseUnitSpec(spec);
  const inputs = verifiedInputs(s, getBlob);
  const { result, metrics } = kindOf(s).run(engine, s, (h) => inputs.get(h)!, (p) => onProgress?.(p));
  return { result, resultHash: sha256Hex(result), metrics };
}
