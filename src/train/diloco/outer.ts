/**
 * DiLoCo's outer optimizer (Douillard et al., "DiLoCo: Distributed
 * Low-Communication Training of Language Models", arXiv 2311.08105,
 * Algorithm 1): after H inner steps, each slot k reports
 *     Δ_k = θ_r − θ_k                      (the outer-gradient contribution)
 * the tracker aggregates them into one outer gradient g, and takes one step of
 * SGD with Nesterov momentum, with PyTorch's torch.optim.SGD(nesterov=True)
 * semantics (dampening 0, no weight decay):
 *     b_t = μ·b_{t−1} + g_t                 (b_0 = 0, so b_1 = g_1 as in torch)
 *     u_t = g_t + μ·b_t
 *     θ_{r+1} = θ_r − lr·u_t
 * The paper's values are lr 0.7, μ 0.9.
 *
 * Canonical arithmetic (src/tensor/backend/ref.ts): lr and μ are rounded to
 * binary32 once, every multiply and every add/subtract is rounded with
 * Math.fround, in the order written above, never fused. A checkpoint replayed
 * from the ledger on any machine therefore has the same bits.
 */
import { SwarmError } from '../../core/errors.ts';

const f = Math.fround;

export interface OuterOptions {
  /** outer learning rate (DiLoCo: 0.7) */
  lr: number;
  /** Nesterov momentum μ in [0, 1) (DiLoCo: 0.9); 0 makes the step plain SGD */
  momentum: number;
}

/** DiLoCo's outer optimizer settings (arXiv 2311.08105 §3). */
export const DILOCO_OUTER: OuterOptions = { lr: 0.7, momentum: 0.9 };

/**
 * Outer learning-rate warm-up (optional; the tracker does not use it): the
 * settings of outer step `round` (0-based) when the outer lr ramps linearly
 * over the first `rounds` outer steps, lr_r = lr·min(1, (r+1)/rounds), the
 * momentum unchanged. Why: PyTorch-style Nesterov's first step is
 * lr·(1+μ)·g (b_1 = g_1), 1.33·g at DiLoCo's 0.7/0.9, and from a pretrained
 * start the first outer gradient already overshoots at 1·g (a line search
 * along it finds its minimum below 1); a warm-up, as for the inner optimizer
 * (Goyal et al., arXiv 1706.02677), removes that first overshoot. Measured on
 * nano (issue 7 study, scripts/diloco-study.ts --outer-warmup): it does NOT
 * close the gap to the baseline (the momentum re-applies g_1 in round 2), so
 * it stays a study option. Throws DILOCO_BAD_OPTION.
 */
export function outerWarmup(o: OuterOptions, rounds: number, round: number): OuterOptions {
  checkOuterOptions(o);
  if (!Number.isSafeInteger(rounds) || rounds < 1) throw new SwarmError('DILOCO_BAD_OPTION', `warm-up rounds must be an integer ≥ 1, got ${String(rounds)}`);
  if (!Number.isSafeInteger(round) || round < 0) throw new SwarmError('DILOCO_BAD_OPTION', `round must be an integer ≥ 0, got ${String(round)}`);
  return round + 1 >= rounds ? { lr: o.lr, momentum: o.momentum } : { lr: (o.lr * (round + 1)) / rounds, momentum: o.momentum };
}

export interface OuterStepResult {
  theta: Float32Array;
  momentum: Float32Array;
}

export function checkOuterOptions(o: OuterOptions): void {
  if (typeof o !== 'object' || o === null) throw new SwarmError('DILOCO_BAD_OPTION', 'outer options must be an object');
  if (typeof o.lr !== 'number' || !Number.isFinite(o.lr) || o.lr <= 0) {
    throw new SwarmError('DILOCO_BAD_OPTION', `outer lr must be a positive finite number, got ${String(o.lr)}`);
  }
  if (typeof o.momentum !== 'number' || !(o.momentum >= 0 && o.momentum < 1)) {
    throw new SwarmError('DILOCO_BAD_OPTION', `outer momentum must be in [0, 1), got ${String(o.momentum)}`);
  }
}

/** Throws DILOCO_NONFINITE at the first NaN or infinity of `a`. */
export function checkFinite(a: Float32Array, what: string): void {
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i]!)) throw new SwarmError('DILOCO_NONFINITE', `${what} holds a NaN or infinity`, { index: i });
  }
}

/**
 * One outer Nesterov SGD step. Pure: the inputs are not modified, the outputs
 * are fresh arrays. Throws DILOCO_LENGTH_MISMATCH, DILOCO_NONFINITE (in the
 * outer gradient) and DILOCO_BAD_OPTION.
 */
export function outerStep(theta: Float32Array, momentum: Float32Array, outerGrad: Float32Array, o: OuterOptions): OuterStepResult {
  checkOuterOptions(o);
  const n = theta.length;
  if (momentum.length !== n || outerGrad.length !== n) {
    throw new SwarmError('DILOCO_LENGTH_MISMATCH', `θ has ${n} values, momentum ${momentum.length}, outer gradient ${outerGrad.length}`);
  }
  checkFinite(outerGrad, 'the outer gradient');
  const lr = f(o.lr), mu = f(o.momentum);
  const nextTheta = new Float32Array(n);
  const nextMomentum = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const g = outerGrad[i]!;
    const b = f(f(mu * momentum[i]!) + g);
    const u = f(g + f(mu * b));
    nextMomentum[i] = b;
    nextTheta[i] = f(theta[i]! - f(lr * u));
  }
  return { theta: nextTheta, momentum: nextMomentum };
}

/**
 * Δ = θ_r − θ_local, one f32 subtraction per value: what a training unit
 * reports before int8 quantization (quantize.ts). Throws
 * DILOCO_LENGTH_MISMATCH and DILOCO_NONFINITE (a diverged local run).
 */
export function outerDelta(thetaRound: Float32Array, thetaLocal: Float32Array): Float32Array {
  if (thetaRound.length !== thetaLocal.length) {
    throw new SwarmError('DILOCO_LENGTH_MISMATCH', `θ_r has ${thetaRound.length} values, the local parameters ${thetaLocal.length}`);
  }
  const out = new Float32Array(thetaRound.length);
  for (let i = 0; i < out.length; i++) out[i] = f(thetaRound[i]! - thetaLocal[i]!);
  checkFinite(out, 'the delta');
  return out;
}
