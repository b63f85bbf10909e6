/**
 * Fused ops with autograd: RMSNorm, causal attention softmax, SwiGLU,
 * cross-entropy and rotary embedding, each one pass over its data forward and one backward
 * instead of a chain of primitives and their gradients. DESIGN.md allows a
 * fused kernel only when it rounds in the same order as the primitives it
 * replaces, so every function here gives exactly the bits of its composed
 * definition in composite.ts (forward and every gradient, including how a
 * gradient is added into what its input has already received; see
 * GradNode.backwardInto). Where the backend has no fused kernels (`ref`,
 * `wasm`), or the shapes are not the fused kernel's, the composed definition
 * runs: same bits, more passes.
 */
import { SwarmError } from '../core/errors.ts';
import { add, mul } from './ops.ts';
import * as composed from './composite.ts';
import { fmtShape } from './shape.ts';
import type { Engine, Tensor } from './tensor.ts';

/** a + b where a may be absent (autograd's accumulation: the first contribution is taken as it is). */
function accumulate(prev: Tensor | undefined, g: Tensor): Tensor {
  return prev === undefined ? g : add(prev, g);
}

function out(e: Engine, op: string, data: Float32Array, shape: readonly number[]): Tensor {
  return e.result(op, data, [...shape], null);
}

/** RMSNorm over the last axis (composite.ts rmsNorm). x: [..., d], weight: [d]. */
export function rmsNorm(x: Tensor, weight: Tensor, eps: number): Tensor {
  const e = x.engine;
  const k = e.backend.fused;
  const d = x.shape[x.rank - 1];
  // Rank >= 2 and d >= 2: otherwise some sum the composed gradient takes is
  // skipped (sumToShape of an equal shape), and 0 + (-0) = +0 would differ.
  if (k === undefined || x.rank < 2 || d === undefined || d < 2 || x.size === 0 || weight.engine !== e || weight.rank !== 1 || weight.shape[0] !== d) {
    return composed.rmsNorm(x, weight, eps);
  }
  const rows = x.size / d;
  const { y, r } = k.rmsNorm(x.data, weight.data, rows, d, Math.fround(eps));
  const backwardInto = (g: Tensor, acc: readonly (Tensor | undefined)[]): Array<Tensor | null> => {
    const { dx, dw } = k.rmsNormBackward(g.data, x.data, weight.data, r, rows, d, acc[0]?.data ?? null);
    return [out(e, 'rmsNorm.dx', dx, x.shape), accumulate(acc[1], out(e, 'rmsNorm.dw', dw, weight.shape))];
  };
  return e.result('rmsNorm', y, [...x.shape], {
    op: 'rmsNorm',
    parents: [x, weight],
    backward: (g) => backwardInto(g, [undefined, undefined]),
    backwardInto,
  });
}

/**
 * Attention probabilities softmax(scores * scale + mask) over the last axis
 * (llama.ts's attention). scores: [..., T, n]; scale: a one-element
 * constant; mask: [T, n] constant, broadcast over the leading axes.
 */
export function attentionSoftmax(scores: Tensor, scale: Tensor, mask: Tensor): Tensor {
  const e = scores.engine;
  const k = e.backend.fused;
  const n = scores.shape[scores.rank - 1];
  const t = scores.shape[scores.rank - 2];
  // n >= 2 for the same reason as rmsNorm's d.
  if (k === undefined || n === undefined || t === undefined || n < 2 || scores.size === 0 || scale.size !== 1 || scale.requiresGrad
    || mask.requiresGrad || mask.rank !== 2 || mask.shape[0] !== t || mask.shape[1] !== n || scale.engine !== e || mask.engine !== e) {
    return composed.softmax(add(mul(scores, scale), mask), -1);
  }
  const rows = scores.size / n;
  const sc = scale.data[0]!;
  const { y, m, s } = k.attnSoftmax(scores.data, sc, mask.data, rows, n, t);
  return e.result('attentionSoftmax', y, [...scores.shape], {
    op: 'attentionSoftmax',
    parents: [scores],
    backward: (g) => [out(e, 'attentionSoftmax.dx', k.attnSoftmaxBackward(g.data, scores.data, sc, mask.data, m, s, rows, n, t), scores.shape)],
  });
}

/** SwiGLU's gating (Shazeer 2020): silu(gate) * up, elementwise (same shapes). */
export function swiglu(gate: Tensor, up: Tensor): Tensor {
  const e = gate.engine;
  const k = e.backend.fused;
  if (k === undefined || up.engine !== e || gate.rank !== up.rank || gate.shape.some((d, i) => d !== up.shape[i])) {
    return mul(composed.silu(gate), up);
  }
  return e.result('swiglu', k.swiglu(gate.data, up.data), [...gate.shape], {
    op: 'swiglu',
    parents: [gate, up],
    backward: (g) => {
      const { dGate, dUp } = k.swigluBackward(g.data, gate.data, up.data);
      return [out(e, 'swiglu.dGate', dGate, gate.shape), out(e, 'swiglu.dUp', dUp, up.shape)];
    },
  });
}

/** Mean cross-entropy of logits [N, V] against targets [N] (composite.ts crossEntropy). */
export function crossEntropy(logits: Tensor, targets: Int32Array): Tensor {
  const e = logits.engine;
  const k = e.backend.fused;
  // v >= 2 for the same reason as rmsNorm's d.
  if (k === undefined || logits.rank !== 2 || logits.shape[0] !== targets.length || logits.shape[0] === 0 || logits.shape[1]! < 2) {
    return composed.crossEntropy(logits, targets);
  }
  const [n, v] = logits.shape as [number, number];
  for (let i = 0; i < n; i++) {
    const t = targets[i]!;
    if (!Number.isInteger(t) || t < 0 || t >= v) {
      throw new SwarmError('TENSOR_INDEX_OUT_OF_RANGE', `target ${t} at row ${i} outside [0, ${v}) for logits ${fmtShape(logits.shape)}`);
    }
  }
  const tg = Int32Array.from(targets);
  const { loss, m, se } = k.crossEntropy(logits.data, tg, n, v);
  return e.result('crossEntropy', Float32Array.of(loss), [], {
    op: 'crossEntropy',
    parents: [logits],
    backward: (g) => [out(e, 'crossEntropy.dx', k.crossEntropyBackward(g.data[0]!, logits.data, tg, m, se, n, v), logits.shape)],
  });
}

/** Rotary embedding (composite.ts rope). x: [..., T, d] with d even; cos, sin: [T, d] constants. */
export function rope(x: Tensor, cos: Tensor, sin: Tensor): Tensor {
  const e = x.engine;
  const k = e.backend.fused;
  const d = x.shape[x.rank - 1];
  const t = x.shape[x.rank - 2];
  if (k === undefined || d === undefined || t === undefined || d % 2 !== 0 || d === 0 || x.size === 0 || cos.requiresGrad || sin.requiresGrad
    || cos.engine !== e || sin.engine !== e || cos.rank !== 2 || sin.rank !== 2 || cos.shape[0] !== t || cos.shape[1] !== d || sin.shape[0] !== t || sin.shape[1] !== d) {
    return composed.rope(x, cos, sin);
  }
  const rows = x.size / d;
  const backwardInto = (g: Tensor, acc: readonly (Tensor | undefined)[]): Array<Tensor | null> =>
    [out(e, 'rope.dx', k.ropeBackward(g.data, cos.data, sin.data, rows, d, t, acc[0]?.data ?? null), x.shape)];
  return e.result('rope', k.rope(x.data, cos.data, sin.data, rows, d, t), [...x.shape], {
    op: 'rope',
    parents: [x],
    backward: (g) => backwardInto(g, [undefined]),
    backwardInto,
  });
}
