/**
 * AdamW (Loshchilov & Hutter 2019, "Decoupled Weight Decay Regularization",
 * Algorithm 2) over flat binary32 parameter arrays, with global-norm gradient
 * clipping (Pascanu et al. 2013). Plain TypeScript with a rounding after
 * every operation, so the update has the same bits whatever tensor backend
 * produced the gradients. Weight decay applies to matrices only (rank >= 2),
 * not to norm gains, the usual practice since GPT-2.
 */
import { SwarmError } from '../core/errors.ts';
import type { Backend } from '../tensor/backend/backend.ts';
import { sqrtf } from '../tensor/math.ts';

const f = Math.fround;

export interface AdamWHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** clip the global gradient norm to this (0 = no clipping) */
  clip: number;
}

/** DiLoCo's inner optimizer settings (Douillard et al. 2023, arXiv 2311.08105 §3). */
export const DILOCO_INNER: AdamWHyper = { lr: 4e-4, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, clip: 1.0 };

/** Optimizer state for a list of parameter tensors in canonical order. */
export interface AdamWState {
  step: number;
  m: Float32Array[];
  v: Float32Array[];
}

export function initAdamW(sizes: readonly number[]): AdamWState {
  return { step: 0, m: sizes.map((n) => new Float32Array(n)), v: sizes.map((n) => new Float32Array(n)) };
}

/** sqrt(sum of squares) of all gradients, summed in binary64 in canonical order (deterministic). */
export function globalNorm(grads: readonly Float32Array[]): number {
  let s = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) s += g[i]! * g[i]!;
  return Math.sqrt(s);
}

export interface AdamWStepResult {
  gradNorm: number;
  clipped: boolean;
}

/**
 * One AdamW step in place: params[i] -= lr_t (m̂/(sqrt(v̂)+eps) + wd·p).
 * `decay[i]` says whether tensor i gets weight decay. `lr` overrides hyper.lr
 * (for schedules). `fused` is a backend's adamwUpdate (same bits as the loop
 * below, which is its reference twin; test/train/adamw-fused.test.ts).
 */
export function adamwStep(
  params: Float32Array[],
  grads: readonly Float32Array[],
  decay: readonly boolean[],
  state: AdamWState,
  hyper: AdamWHyper,
  lr = hyper.lr,
  fused?: Backend['adamwUpdate'],
): AdamWStepResult {
  if (params.length !== grads.length || params.length !== state.m.length) {
    throw new SwarmError('OPTIM_BAD_STATE', `optimizer state holds ${state.m.length} tensors, got ${params.length} parameters and ${grads.length} gradients`);
  }
  const norm = globalNorm(grads);
  if (!Number.isFinite(norm)) throw new SwarmError('OPTIM_NONFINITE_GRAD', 'gradient norm is not finite');
  const clipped = hyper.clip > 0 && norm > hyper.clip;
  // The fused kernel always multiplies by the scale; g * 1 is g exactly (g
  // is finite here, and -0 * 1 is -0), so it equals the branch below.
  const scale = clipped ? f(hyper.clip / norm) : 1;
  state.step++;
  const t = state.step;
  const b1 = f(hyper.beta1), b2 = f(hyper.beta2);
  const c1 = f(1 - b1), c2 = f(1 - b2);
  // bias corrections 1 - beta^t, with beta^t by repeated binary64 multiplication (exact ops, fixed order)
  let p1 = 1, p2 = 1;
  for (let i = 0; i < t; i++) { p1 *= hyper.beta1; p2 *= hyper.beta2; }
  const bc1 = f(1 - p1), bc2 = f(1 - p2);
  const lrf = f(lr), eps = f(hyper.eps), wd = f(hyper.weightDecay);
  for (let j = 0; j < params.length; j++) {
    const p = params[j]!, g = grads[j]!, m = state.m[j]!, v = state.v[j]!;
    if (p.length !== g.length || p.length !== m.length) {
      throw new SwarmError('OPTIM_BAD_STATE', `tensor ${j}: ${p.length} parameters, ${g.length} gradients, ${m.length} state values`);
    }
    const dec = decay[j] === true;
    if (fused !== undefined) {
      fused(p, g, m, v, { gradScale: scale, b1, b2, c1, c2, bc1, bc2, lr: lrf, eps, wd, decay: dec });
      continue;
    }
    for (let i = 0; i < p.length; i++) {
      const gi = clipped ? f(g[i]! * scale) : g[i]!;
      const mi = f(f(b1 * m[i]!) + f(c1 * gi));
      const vi = f(f(b2 * v[i]!) + f(c2 * f(gi * gi)));
      m[i] = mi;
      v[i] = vi;
      const mhat = f(mi / bc1);
      const vhat = f(vi / bc2);
      let upd = f(mhat / f(sqrtf(vhat) + eps));
      if (dec) upd = f(upd + f(wd * p[i]!));
      p[i] = f(p[i]! - f(lrf * upd));
    }
  }
  return { gradNorm: norm, clipped };
}
