/**
 * What a provider does with a unit's output before uploading it: most kinds
 * upload the result as computed; a train unit with keepOpt uploads only its
 * head and keeps its new AdamW state (train-result.ts, "The head form"),
 * which the provider caches under its hash for the slot's next unit.
 */
import type { UnitSpec } from './kinds.ts';
import { splitTrainResult } from './train-result.ts';

export interface FinalOutput {
  /** the bytes to upload; their SHA-256 is the result hash replicas compare */
  upload: Uint8Array;
  /** blobs the provider keeps (and uploads only when the tracker asks) */
  keep: Array<{ sha256: string; bytes: Uint8Array }>;
}

/** `spec` is the parsed spec the result was computed from (parseUnitSpec). */
export function finalizeOutput(spec: UnitSpec, result: Uint8Array): FinalOutput {
  if (spec.kind === 'train' && spec.keepOpt === true) {
    const split = splitTrainResult(result, spec.config);
    return { upload: split.head, keep: [{ sha256: split.optSha256, bytes: split.optBlob }] };
  }
  return { upload: result, keep: [] };
}
