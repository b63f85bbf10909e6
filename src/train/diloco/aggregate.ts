/**
 * Aggregation of the slots' deltas into one outer gradient (DESIGN.md, data
 * flow step 3; the "robust aggregation" layer of verification). Deltas come
 * in slot order, already dequantized; every rule is deterministic binary32
 * arithmetic with a fixed order (the canonical arithmetic of
 * src/tensor/backend/ref.ts), so the tracker and anyone replaying a
 * checkpoint get the same bits:
 *
 *   mean           g_i = (Σ_k Δ_k,i) / K, summed in slot order.
 *   trimmed-mean   coordinate-wise β-trimmed mean (Yin, Chen, Ramchandran,
 *                  Bartlett 2018, "Byzantine-Robust Distributed Learning:
 *                  Towards Optimal Statistical Rates", ICML, Definition 2):
 *                  per coordinate, sort the K values, drop the b = ⌊βK⌋
 *                  smallest and the b largest, average the rest in ascending
 *                  order. Tolerates up to b arbitrary slots per coordinate.
 *   centered-clip  centered clipping (Karimireddy, He, Jaggi 2021, "Learning
 *                  from History for Byzantine Robust Optimization", ICML,
 *                  eq. (CC)): from a reference v_0 (e.g. the previous outer
 *                  gradient, or zero), L times
 *                      v_{l+1} = v_l + (1/K) Σ_k (Δ_k − v_l)·min(1, τ/‖Δ_k − v_l‖)
 *                  so one slot moves the result by at most τ/K per iteration
 *                  however large its delta.
 *
 * Errors: DILOCO_NO_DELTAS (empty input), DILOCO_LENGTH_MISMATCH,
 * DILOCO_NONFINITE (a NaN or infinity in a delta or the reference),
 * DILOCO_BAD_OPTION.
 */
import { SwarmError } from '../../core/errors.ts';
import { sqrtf } from '../../tensor/math.ts';
import { checkFinite } from './outer.ts';

const f = Math.fround;

export type AggregatorName = 'mean' | 'trimmed-mean' | 'centered-clip';

export const AGGREGATORS: readonly AggregatorName[] = ['mean', 'trimmed-mean', 'centered-clip'];

export type AggregateOptions =
  | { kind: 'mean' }
  /** trim: fraction β in [0, 0.5) dropped from each side, per coordinate */
  | { kind: 'trimmed-mean'; trim: number }
  /** tau: clipping radius τ > 0; iterations: L ≥ 1; center: v_0 (default zero) */
  | { kind: 'centered-clip'; tau: number; iterations: number; center?: Float32Array };

/** Checks the common input rules and returns the vector length. */
function checkDeltas(deltas: readonly Float32Array[]): number {
  if (!Array.isArray(deltas) || deltas.length === 0) throw new SwarmError('DILOCO_NO_DELTAS', 'nothing to aggregate: no deltas');
  const n = deltas[0]!.length;
  for (let k = 0; k < deltas.length; k++) {
    const d = deltas[k];
    if (!(d instanceof Float32Array)) throw new SwarmError('DILOCO_BAD_OPTION', `delta ${k} is not a Float32Array`);
    if (d.length !== n) throw new SwarmError('DILOCO_LENGTH_MISMATCH', `delta ${k} has ${d.length} values, delta 0 has ${n}`, { slot: k });
    checkFinite(d, `delta ${k}`);
  }
  return n;
}

/** Plain mean, summed in slot order then divided once by K. */
export function meanAggregate(deltas: readonly Float32Array[]): Float32Array {
  const n = checkDeltas(deltas);
  const K = deltas.length;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = deltas[0]![i]!;
    for (let k = 1; k < K; k++) s = f(s + deltas[k]![i]!);
    out[i] = f(s / K);
  }
  return out;
}

/** Number of values dropped from each side by a β-trimmed mean of K values. */
export function trimCount(K: number, trim: number): number {
  if (typeof trim !== 'number' || !(trim >= 0 && trim < 0.5)) throw new SwarmError('DILOCO_BAD_OPTION', `trim fraction must be in [0, 0.5), got ${String(trim)}`);
  return Math.floor(trim * K);
}

/** Coordinate-wise β-trimmed mean (Yin et al. 2018). */
export function trimmedMeanAggregate(deltas: readonly Float32Array[], trim: number): Float32Array {
  const n = checkDeltas(deltas);
  const K = deltas.length;
  const b = trimCount(K, trim);
  const keep = K - 2 * b; // ≥ 1 since b ≤ ⌊βK⌋ < K/2
  const out = new Float32Array(n);
  const col = new Float32Array(K);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < K; k++) col[k] = deltas[k]![i]!;
    // TypedArray sort is numeric with −0 before +0: a total order on the
    // finite values, so the kept values and their order are well defined.
    col.sort();
    let s = col[b]!;
    for (let j = b + 1; j < b + keep; j++) s = f(s + col[j]!);
    out[i] = f(s / keep);
  }
  return out;
}

/** ‖a − c‖₂ with every square and partial sum rounded to binary32, in index order. */
function f32DistNorm(a: Float32Array, c: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = f(a[i]! - c[i]!);
    s = f(s + f(d * d));
  }
  return sqrtf(s);
}

/** Centered clipping (Karimireddy, He, Jaggi 2021). */
export function centeredClipAggregate(deltas: readonly Float32Array[], tau: number, iterations: number, center?: Float32Array): Float32Array {
  const n = checkDeltas(deltas);
  if (typeof tau !== 'number' || !Number.isFinite(tau) || tau <= 0) throw new SwarmError('DILOCO_BAD_OPTION', `centered clip radius τ must be positive, got ${String(tau)}`);
  if (!Number.isSafeInteger(iterations) || iterations < 1 || iterations > 1000) {
    throw new SwarmError('DILOCO_BAD_OPTION', `centered clip iterations must be an integer in [1, 1000], got ${String(iterations)}`);
  }
  const K = deltas.length;
  let v = new Float32Array(n);
  if (center !== undefined) {
    if (!(center instanceof Float32Array)) throw new SwarmError('DILOCO_BAD_OPTION', 'the centered clip reference must be a Float32Array');
    if (center.length !== n) throw new SwarmError('DILOCO_LENGTH_MISMATCH', `the reference has ${center.length} values, the deltas ${n}`);
    checkFinite(center, 'the centered clip reference');
    v = Float32Array.from(center);
  }
  const tauF = f(tau);
  const scales = new Float64Array(K);
  for (let l = 0; l < iterations; l++) {
    for (let k = 0; k < K; k++) {
      const norm = f32DistNorm(deltas[k]!, v);
      scales[k] = norm > tauF ? f(tauF / norm) : 1;
    }
    const next = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const vi = v[i]!;
      let s = 0;
      for (let k = 0; k < K; k++) {
        const d = f(deltas[k]![i]! - vi);
        s = f(s + f(d * scales[k]!)); // a scale of 1 leaves d exact
      }
      next[i] = f(vi + f(s / K));
    }
    v = next;
  }
  return v;
}

export function checkAggregateOptions(o: AggregateOptions): void {
  if (typeof o !== 'object' || o === null) throw new SwarmError('DILOCO_BAD_OPTION', 'aggregate options must be an object');
  if (o.kind === 'mean') return;
  if (o.kind === 'trimmed-mean') {
    trimCount(2, o.trim);
    return;
  }
  if (o.kind === 'centered-clip') {
    if (typeof o.tau !== 'number' || !Number.isFinite(o.tau) || o.tau <= 0) throw new SwarmError('DILOCO_BAD_OPTION', `centered clip radius τ must be positive, got ${String(o.tau)}`);
    if (!Number.isSafeInteger(o.iterations) || o.iterations < 1 || o.iterations > 1000) {
      throw new SwarmError('DILOCO_BAD_OPTION', `centered clip iterations must be an integer in [1, 1000], got ${String(o.iterations)}`);
    }
    return;
  }
  throw new SwarmError('DILOCO_BAD_OPTION', `unknown aggregator ${String((o as { kind?: unknown }).kind)} (expected ${AGGREGATORS.join(', ')})`);
}

/** The outer gradient of deltas given in slot order. */
export function aggregate(deltas: readonly Float32Array[], o: AggregateOptions): Float32Array {
  checkAggregateOptions(o);
  switch (o.kind) {
    case 'mean':
      return meanAggregate(deltas);
    case 'trimmed-mean':
      return trimmedMeanAggregate(deltas, o.trim);
    case 'centered-clip':
      return centeredClipAggregate(deltas, o.tau, o.iterations, o.center);
  }
}
