/**
 * The compressed downlink of a DiLoCo round (issue 7, "at least 100× fewer
 * bytes"). Without it every provider downloads θ_{r+1} in f32 each round —
 * 4 bytes a parameter, four times its int8 delta upload — so the downlink
 * is four fifths of DiLoCo's traffic.
 *
 * With it, the round's outer step is applied as an int8 update with one
 * scale per row (quantize.ts, the same code as the deltas), and the
 * quantization error is carried into the next round (error feedback:
 * Seide et al., "1-bit stochastic gradient descent", Interspeech 2014;
 * Karimireddy et al., "Error feedback fixes SignSGD", ICML 2019, which shows
 * compressed updates with feedback converge like uncompressed ones). With
 * θ_r, the exact outer step's result θ', and the residual e_r:
 *
 *     u      = fround(fround(θ' − θ_r) + e_r)        what should be applied
 *     (q, s) = quantizeRows(u)                       the update providers download
 *     θ_{r+1} = fround(θ_r + fround(q · s))           applyUpdate
 *     e_{r+1} = fround(u − fround(θ_{r+1} − θ_r))      what was not applied (carried over)
 *
 * A provider that still holds θ_r (it trained the round before) rebuilds
 * θ_{r+1} bit for bit from the update — N bytes and the scales instead of
 * 4N — and checks it against θ_{r+1}'s hash; anyone else downloads θ_{r+1}
 * itself. The outer momentum stays exact (f32) on the tracker; only what is
 * applied to θ is quantized. Streaming DiLoCo (Douillard et al., arXiv
 * 2501.18512, §2.3) quantizes its outer gradients to 4 bits with no loss of
 * quality; 8 bits with feedback is the conservative choice here.
 */
import { SwarmError } from '../../core/errors.ts';
import { dequantizeRows, quantizeRows } from './quantize.ts';
import type { QuantizedDelta } from './quantize.ts';

const f = Math.fround;

/** θ_r + x̂ with x̂ the dequantized update: what the tracker applies and what a provider rebuilds. */
export function applyUpdate(base: Float32Array, update: QuantizedDelta, rows: readonly number[]): Float32Array {
  const x = dequantizeRows(update, rows);
  if (x.length !== base.length) throw new SwarmError('DILOCO_LENGTH_MISMATCH', `the update has ${x.length} values, θ ${base.length}`);
  const out = new Float32Array(base.length);
  for (let i = 0; i < out.length; i++) out[i] = f(base[i]! + x[i]!);
  return out;
}

export interface DownlinkStep {
  /** θ_{r+1} as providers will hold it */
  theta: Float32Array;
  /** e_{r+1}: the part of the outer steps not applied yet */
  residual: Float32Array;
  /** the int8 update θ_r → θ_{r+1} */
  update: QuantizedDelta;
}

/** One quantized application of the step θ_r → `target` with the residual `residual` (e_r). */
export function quantizedStep(theta: Float32Array, target: Float32Array, residual: Float32Array, rows: readonly number[]): DownlinkStep {
  const n = theta.length;
  if (target.length !== n || residual.length !== n) {
    throw new SwarmError('DILOCO_LENGTH_MISMATCH', `θ has ${n} values, the target ${target.length}, the residual ${residual.length}`);
  }
  const u = new Float32Array(n);
  for (let i = 0; i < n; i++) u[i] = f(f(target[i]! - theta[i]!) + residual[i]!);
  const update = quantizeRows(u, rows);
  const next = applyUpdate(theta, update, rows);
  const e = new Float32Array(n);
  for (let i = 0; i < n; i++) e[i] = f(u[i]! - f(next[i]! - theta[i]!));
  return { theta: next, residual: e, update };
}
