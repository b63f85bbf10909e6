/**
 * How the cheating providers of the tests corrupt a result (issue 7,
 * "Byzantine providers"): one place for the e2e cheater process
 * (cheater.mjs) and the in-process Byzantine run (test/tracker). Lives in
 * test/, never in the product.
 *   flip-byte  any unit: flip the lowest bit of the last byte
 *   noise      train units: replace the int8 delta codes with random ones
 *   scale      train units: multiply every row scale by 10
 *   sign-flip  train units: negate the delta
 * A stale replay (an old result resubmitted) needs the old result, so the
 * callers do it themselves.
 */
import type { ModelConfig } from '../../src/model/config.ts';
import { decodeTrainHead, decodeTrainResult, encodeTrainHead, encodeTrainResult } from '../../src/train/work/train-result.ts';

export type Corruption = 'flip-byte' | 'noise' | 'scale' | 'sign-flip';
export const DELTA_CORRUPTIONS: readonly Corruption[] = ['noise', 'scale', 'sign-flip'];

export interface TamperedUnit {
  kind: string;
  spec: Record<string, unknown>;
}

/** `result` as uploaded (a train head when the spec says keepOpt, else the full result), corrupted by `how`. */
export function corrupt(result: Uint8Array, unit: TamperedUnit, how: Corruption, rand: () => number): Uint8Array {
  if (how === 'flip-byte' || unit.kind !== 'train') {
    const out = Uint8Array.from(result);
    out[out.length - 1]! ^= 1;
    return out;
  }
  const config = unit.spec.config as ModelConfig;
  const head = unit.spec.keepOpt === true;
  const r = head ? decodeTrainHead(result, config) : decodeTrainResult(result, config);
  const q = Int8Array.from(r.q);
  const scales = Float32Array.from(r.scales);
  if (how === 'noise') for (let i = 0; i < q.length; i++) q[i] = (rand() % 255) - 127;
  else if (how === 'scale') for (let i = 0; i < scales.length; i++) scales[i] = Math.fround(scales[i]! * 10);
  else for (let i = 0; i < q.length; i++) q[i] = -q[i]!;
  if ('optSha256' in r) return encodeTrainHead({ ...r, q, scales });
  return encodeTrainResult(config, { q, scales, opt: r.opt, metrics: r.metrics });
}

/** A small seeded LCG for the noise (the tests must be reproducible). */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s;
  };
}
