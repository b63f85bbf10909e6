/**
 * Composite ops, built only from the primitives in ops.ts, so their
 * gradients come for free and their bits follow from the primitives'.
 */
import { SwarmError } from '../core/errors.ts';
import { add, concat, div, exp, gather, log, max, mul, neg, reshape, rsqrt, slice, sub, sum } from './ops.ts';
import { fmtShape, normAxis } from './shape.ts';
import type { Tensor } from './tensor.ts';

/** Mean along an axis: sum / n (one correctly rounded division). */
export function mean(x: Tensor, axis: number, keepDim = false): Tensor {
  const n = x.shape[normAxis(axis, x.rank)]!;
  return div(sum(x, axis, keepDim), x.engine.scalar(n));
}

/** Sum of every element, in row-major order. */
export function sumAll(x: Tensor): Tensor {
  return sum(reshape(x, [x.size]), 0);
}

/** Mean of every element. */
export function meanAll(x: Tensor): Tensor {
  return div(sumAll(x), x.engine.scalar(x.size));
}

/** softmax(x)_i = exp(x_i - max x) / sum_j exp(x_j - max x); the max is a constant shift. */
export function softmax(x: Tensor, axis = -1): Tensor {
  const m = max(x, axis, true).detach();
  const ex = exp(sub(x, m));
  return div(ex, sum(ex, axis, true));
}

/** log softmax(x) = (x - max) - log sum exp(x - max). */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const shifted = sub(x, max(x, axis, true).detach());
  return sub(shifted, log(sum(exp(shifted), axis, true)));
}

/**
 * Mean cross-entropy of logits [N, V] against integer targets [N]:
 * -mean_n log softmax(logits_n)[target_n]. The pick is a gather on the
 * flattened [N*V, 1] table, so its gradient is a scatter-add.
 */
export function crossEntropy(logits: Tensor, targets: Int32Array): Tensor {
  if (logits.rank !== 2 || logits.shape[0] !== targets.length) {
    throw new SwarmError('TENSOR_SHAPE_MISMATCH', `crossEntropy logits ${fmtShape(logits.shape)} vs ${targets.length} targets`);
  }
  const [n, v] = logits.shape as [number, number];
  const flat = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const t = targets[i]!;
    if (!Number.isInteger(t) || t < 0 || t >= v) {
      throw new SwarmError('TENSOR_INDEX_OUT_OF_RANGE', `target ${t} at row ${i} outside [0, ${v})`);
    }
    flat[i] = i * v + t;
  }
  const lp = reshape(logSoftmax(logits, -1), [n * v, 1]);
  const picked = gather(lp, flat, [n]); // [n, 1]
  return neg(div(sumAll(picked), logits.engine.scalar(n)));
}

/** logistic sigmoid 1 / (1 + e^-x). */
export function sigmoid(x: Tensor): Tensor {
  return div(x.engine.scalar(1), add(x.engine.scalar(1), exp(neg(x))));
}

/** SiLU / swish: x * sigmoid(x) (Elfwing et al. 2018; Llama's MLP activation). */
export function silu(x: Tensor): Tensor {
  return div(x, add(x.engine.scalar(1), exp(neg(x))));
}

/**
 * RMSNorm (Zhang & Sennrich 2019): x * rsqrt(mean(x^2) + eps) * weight over the
 * last axis. x: [..., d], weight: [d].
 */
export function rmsNorm(x: Tensor, weight: Tensor, eps: number): Tensor {
  const ms = mean(mul(x, x), -1, true);
  return mul(mul(x, rsqrt(add(ms, x.engine.scalar(eps)))), weight);
}

/**
 * Rotary position embedding (Su et al. 2021, RoFormer) in the Hugging Face
 * Llama convention ("rotate half"): x * cos + rotate_half(x) * sin, where
 * rotate_half([x1, x2]) = [-x2, x1] splits the last axis in halves.
 * x: [..., T, d]; cos, sin: [T, d] (see rope.ts for the tables).
 */
export function rope(x: Tensor, cos: Tensor, sin: Tensor): Tensor {
  const d = x.shape[x.rank - 1]!;
  if (d % 2 !== 0) throw new SwarmError('TENSOR_SHAPE_MISMATCH', `rope needs an even last dimension, got ${d}`);
  const h = d / 2;
  const x1 = slice(x, -1, 0, h);
  const x2 = slice(x, -1, h, d);
  const rotated = concat([neg(x2), x1], -1);
  return add(mul(x, cos), mul(rotated, sin));
}
