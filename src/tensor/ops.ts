/**
 * The closed set of primitive ops, each with its reverse-mode derivative
 * (tinygrad's lesson: a small primitive set, everything else composed; see
 * composite.ts). Arithmetic goes through the engine's Backend; pure data
 * movement uses layout.ts. Backward functions are written with these same
 * ops, run with recording off.
 */
import { SwarmError } from '../core/errors.ts';
import type { BinaryOp, UnaryOp } from './backend/backend.ts';
import { concatData, gatherRows, permuteView, sliceData, stridedCopy, whereData } from './layout.ts';
import type { Shape } from './shape.ts';
import { broadcastShapes, broadcastStrides, fmtShape, normAxis, sameShape, sizeOf } from './shape.ts';
import type { Engine, Tensor } from './tensor.ts';

function engineOf(...ts: Tensor[]): Engine {
  const e = ts[0]!.engine;
  for (const t of ts) {
    if (t.engine !== e) throw new SwarmError('TENSOR_ENGINE_MISMATCH', 'tensors come from different engines');
  }
  return e;
}

// ---------------------------------------------------------------- unary

function unary(op: UnaryOp, x: Tensor, backward: (g: Tensor, out: Tensor) => Tensor): Tensor {
  const e = x.engine;
  const out: Tensor = e.result(op, e.backend.unary(op, x.data), x.shape, {
    op,
    parents: [x],
    backward: (g) => [backward(g, out)],
  });
  return out;
}

export function neg(x: Tensor): Tensor {
  return unary('neg', x, (g) => neg(g));
}

/** d exp(x) = exp(x) dx */
export function exp(x: Tensor): Tensor {
  return unary('exp', x, (g, out) => mul(g, out.detach()));
}

/** d log(x) = dx / x */
export function log(x: Tensor): Tensor {
  return unary('log', x, (g) => div(g, x.detach()));
}

/** d sqrt(x) = dx / (2 sqrt x) */
export function sqrt(x: Tensor): Tensor {
  return unary('sqrt', x, (g, out) => div(g, mul(out.detach(), x.engine.scalar(2))));
}

/** d x^-1/2 = -1/2 x^-3/2 dx = -1/2 out^3 dx */
export function rsqrt(x: Tensor): Tensor {
  return unary('rsqrt', x, (g, out) => {
    const o = out.detach();
    return mul(g, mul(mul(mul(o, o), o), x.engine.scalar(-0.5)));
  });
}

/** d tanh(x) = (1 - tanh^2 x) dx */
export function tanh(x: Tensor): Tensor {
  return unary('tanh', x, (g, out) => {
    const o = out.detach();
    return mul(g, sub(x.engine.scalar(1), mul(o, o)));
  });
}

// ---------------------------------------------------------------- binary (broadcasting)

/** Sum a gradient of a broadcast result back down to `shape`. */
export function sumToShape(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return g;
  let t = g;
  const lead = t.rank - shape.length;
  if (lead > 0) {
    // Sum all leading dimensions as one axis, in row-major order.
    t = sum(reshape(t, [sizeOf(t.shape.slice(0, lead)), ...t.shape.slice(lead)]), 0, false);
  }
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] === 1 && t.shape[i] !== 1) t = sum(t, i, true);
  }
  return t;
}

/**
 * `grads(g, needA, needB)` returns each operand's gradient, or null where the
 * operand does not require one: a constant operand's gradient (a scalar
 * scale, a mask, the 1 in 1 + e^-x) would be computed and summed down to its
 * shape only to be dropped by autograd. Skipping it changes no kept bit.
 */
function binary(
  op: BinaryOp,
  a: Tensor,
  b: Tensor,
  grads: ((g: Tensor, needA: boolean, needB: boolean) => [Tensor | null, Tensor | null]) | null,
): Tensor {
  const e = engineOf(a, b);
  const shape = broadcastShapes(a.shape, b.shape);
  e.checkSize(sizeOf(shape), op);
  const data = e.backend.binary(op, a.data, broadcastStrides(a.shape, shape), b.data, broadcastStrides(b.shape, shape), shape);
  return e.result(
    op,
    data,
    shape,
    grads === null
      ? null
      : {
          op,
          parents: [a, b],
          backward: (g) => {
            const [ga, gb] = grads(g, a.requiresGrad, b.requiresGrad);
            return [ga && sumToShape(ga, a.shape), gb && sumToShape(gb, b.shape)];
          },
        },
  );
}

export function add(a: Tensor, b: Tensor): Tensor {
  return binary('add', a, b, (g, na, nb) => [na ? g : null, nb ? g : null]);
}

export function sub(a: Tensor, b: Tensor): Tensor {
  return binary('sub', a, b, (g, na, nb) => [na ? g : null, nb ? neg(g) : null]);
}

export function mul(a: Tensor, b: Tensor): Tensor {
  return binary('mul', a, b, (g, na, nb) => [na ? mul(g, b.detach()) : null, nb ? mul(g, a.detach()) : null]);
}

/** d(a/b) = da / b - a db / b^2 */
export function div(a: Tensor, b: Tensor): Tensor {
  return binary('div', a, b, (g, na, nb) => {
    const bd = b.detach();
    const q = div(g, bd);
    return [na ? q : null, nb ? neg(div(mul(q, a.detach()), bd)) : null];
  });
}

/** IEEE maximum; the gradient goes to a where a >= b, else to b. */
export function maximum(a: Tensor, b: Tensor): Tensor {
  return binary('max', a, b, (g, na, nb) => {
    const bWins = gt(b.detach(), a.detach());
    const zero = g.engine.scalar(0);
    return [na ? where(bWins, zero, g) : null, nb ? where(bWins, g, zero) : null];
  });
}

/** 1 where a > b else 0 (no gradient). */
export function gt(a: Tensor, b: Tensor): Tensor {
  return binary('gt', a, b, null);
}

/** 1 where a == b else 0 (no gradient). */
export function eq(a: Tensor, b: Tensor): Tensor {
  return binary('eq', a, b, null);
}

// ---------------------------------------------------------------- reductions

function reduceDims(x: Tensor, axis: number): { ax: number; outer: number; n: number; inner: number } {
  const ax = normAxis(axis, x.rank);
  return {
    ax,
    outer: sizeOf(x.shape.slice(0, ax)),
    n: x.shape[ax]!,
    inner: sizeOf(x.shape.slice(ax + 1)),
  };
}

function reducedShape(x: Tensor, ax: number, keepDim: boolean): number[] {
  return keepDim ? x.shape.map((d, i) => (i === ax ? 1 : d)) : x.shape.filter((_, i) => i !== ax);
}

/** Sum along one axis (order: index 0 first, from +0). */
export function sum(x: Tensor, axis: number, keepDim = false): Tensor {
  const e = x.engine;
  const { ax, outer, n, inner } = reduceDims(x, axis);
  const shape = reducedShape(x, ax, keepDim);
  return e.result('sum', e.backend.reduce('sum', x.data, outer, n, inner), shape, {
    op: 'sum',
    parents: [x],
    backward: (g) => [expand(reshape(g, reducedShape(x, ax, true)), x.shape)],
  });
}

/** Maximum along one axis; the gradient is shared equally by tied maxima. */
export function max(x: Tensor, axis: number, keepDim = false): Tensor {
  const e = x.engine;
  const { ax, outer, n, inner } = reduceDims(x, axis);
  const shape = reducedShape(x, ax, keepDim);
  const out: Tensor = e.result('max', e.backend.reduce('max', x.data, outer, n, inner), shape, {
    op: 'max',
    parents: [x],
    backward: (g) => {
      const kept = reducedShape(x, ax, true);
      const mask = eq(x.detach(), reshape(out.detach(), kept));
      const count = sum(mask, ax, true);
      return [mul(mask, div(reshape(g, kept), count))];
    },
  });
  return out;
}

// ---------------------------------------------------------------- matmul

/**
 * Matrix product over the last two axes.
 * a: [...batch, m, k], b: [...batch, k, n] (same batch dims) or [k, n] → [...batch, m, n].
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  const e = engineOf(a, b);
  if (a.rank < 2 || b.rank < 2) {
    throw new SwarmError('TENSOR_SHAPE_MISMATCH', `matmul needs rank >= 2, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  }
  const m = a.shape[a.rank - 2]!;
  const k = a.shape[a.rank - 1]!;
  const k2 = b.shape[b.rank - 2]!;
  const n = b.shape[b.rank - 1]!;
  const batchShape = a.shape.slice(0, -2);
  const bBatched = b.rank > 2;
  if (k !== k2 || (bBatched && !sameShape(batchShape, b.shape.slice(0, -2)))) {
    throw new SwarmError('TENSOR_SHAPE_MISMATCH', `matmul ${fmtShape(a.shape)} x ${fmtShape(b.shape)}`, {
      a: [...a.shape],
      b: [...b.shape],
    });
  }
  const batch = sizeOf(batchShape);
  const shape = [...batchShape, m, n];
  e.checkSize(sizeOf(shape), 'matmul');
  const data = e.backend.matmul(a.data, b.data, batch, m, k, n, bBatched);
  return e.result('matmul', data, shape, {
    op: 'matmul',
    parents: [a, b],
    backward: (g) => {
      // dA = dC · Bᵀ ; dB = Aᵀ · dC (summed over the batch when B is shared).
      // (Only for operands that require a gradient; see binary.) A backend
      // with matmulT reads the transposed operand in place instead of a copy.
      const mt = e.backend.matmulT?.bind(e.backend);
      let ga: Tensor | null = null;
      if (!a.requiresGrad) ga = null;
      else if (mt) ga = e.result('matmul', mt(g.data, b.data, batch, m, n, k, bBatched, false, true), a.shape, null);
      else ga = matmul(g, transpose(b.detach(), -1, -2));
      let gb: Tensor | null = null;
      if (!b.requiresGrad) gb = null;
      else if (mt) {
        gb = bBatched
          ? e.result('matmul', mt(a.data, g.data, batch, k, m, n, true, true, false), b.shape, null)
          : e.result('matmul', mt(a.data, g.data, 1, k, batch * m, n, false, true, false), b.shape, null);
      } else if (bBatched) gb = matmul(transpose(a.detach(), -1, -2), g);
      else gb = matmul(transpose(reshape(a.detach(), [batch * m, k]), 0, 1), reshape(g, [batch * m, n]));
      return [ga, gb];
    },
  });
}

// ---------------------------------------------------------------- data movement

export function reshape(x: Tensor, shape: Shape): Tensor {
  const s = [...shape];
  const neg1 = s.indexOf(-1);
  if (neg1 >= 0) {
    const rest = sizeOf(s.filter((_, i) => i !== neg1));
    s[neg1] = rest === 0 ? 0 : x.size / rest;
  }
  if (!s.every((d) => Number.isSafeInteger(d) && d >= 0) || sizeOf(s) !== x.size) {
    throw new SwarmError('TENSOR_SHAPE_MISMATCH', `cannot reshape ${fmtShape(x.shape)} to ${fmtShape(shape)}`);
  }
  return x.engine.result('reshape', x.data, s, {
    op: 'reshape',
    parents: [x],
    backward: (g) => [reshape(g, x.shape)],
  });
}

/** A strided view copied out, by the backend's own copy when it has one (same values either way). */
function copyView(e: Engine, x: Float32Array, shape: Shape, strides: readonly number[]): Float32Array {
  return e.backend.stridedCopy ? e.backend.stridedCopy(x, shape, strides, 0) : stridedCopy(x, shape, strides, 0);
}

/** out.shape[i] = x.shape[perm[i]]. */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  const p = perm.map((a) => normAxis(a, x.rank));
  if (p.length !== x.rank || new Set(p).size !== p.length) {
    throw new SwarmError('TENSOR_BAD_AXIS', `bad permutation ${fmtShape(perm)} for rank ${x.rank}`);
  }
  const inverse = new Array<number>(p.length);
  p.forEach((src, dst) => (inverse[src] = dst));
  const v = permuteView(x.shape, p);
  return x.engine.result('permute', copyView(x.engine, x.data, v.shape, v.strides), v.shape, {
    op: 'permute',
    parents: [x],
    backward: (g) => [permute(g, inverse)],
  });
}

export function transpose(x: Tensor, a0: number, a1: number): Tensor {
  const perm = x.shape.map((_, i) => i);
  const i0 = normAxis(a0, x.rank);
  const i1 = normAxis(a1, x.rank);
  perm[i0] = i1;
  perm[i1] = i0;
  return permute(x, perm);
}

/** Broadcast x to `shape` by copying (gradient: sum back). */
export function expand(x: Tensor, shape: Shape): Tensor {
  const target = broadcastShapes(x.shape, shape);
  if (!sameShape(target, shape)) {
    throw new SwarmError('TENSOR_SHAPE_MISMATCH', `cannot expand ${fmtShape(x.shape)} to ${fmtShape(shape)}`);
  }
  if (sameShape(x.shape, shape)) return x;
  x.engine.checkSize(sizeOf(shape), 'expand');
  return x.engine.result('expand', copyView(x.engine, x.data, shape, broadcastStrides(x.shape, shape)), [...shape], {
    op: 'expand',
    parents: [x],
    backward: (g) => [sumToShape(g, x.shape)],
  });
}

/** Elements [start, end) along `axis`. */
export function slice(x: Tensor, axis: number, start: number, end: number): Tensor {
  const ax = normAxis(axis, x.rank);
  const n = x.shape[ax]!;
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > n || start > end) {
    throw new SwarmError('TENSOR_INDEX_OUT_OF_RANGE', `slice [${start}, ${end}) out of range for axis ${ax} of size ${n}`);
  }
  const shape = x.shape.map((d, i) => (i === ax ? end - start : d));
  return x.engine.result('slice', sliceData(x.data, x.shape, ax, start, end), shape, {
    op: 'slice',
    parents: [x],
    backward: (g) => {
      const parts: Tensor[] = [];
      const zeros = (len: number) => g.engine.zeros(x.shape.map((d, i) => (i === ax ? len : d)));
      if (start > 0) parts.push(zeros(start));
      parts.push(g);
      if (end < n) parts.push(zeros(n - end));
      return [parts.length === 1 ? g : concat(parts, ax)];
    },
  });
}

export function concat(xs: readonly Tensor[], axis: number): Tensor {
  if (xs.length === 0) throw new SwarmError('TENSOR_SHAPE_MISMATCH', 'concat of no tensors');
  const e = engineOf(...xs);
  const first = xs[0]!;
  const ax = normAxis(axis, first.rank);
  for (const t of xs) {
    if (t.rank !== first.rank || t.shape.some((d, i) => i !== ax && d !== first.shape[i])) {
      throw new SwarmError('TENSOR_SHAPE_MISMATCH', `concat ${fmtShape(first.shape)} with ${fmtShape(t.shape)} on axis ${ax}`);
    }
  }
  const shape = first.shape.map((d, i) => (i === ax ? xs.reduce((s, t) => s + t.shape[ax]!, 0) : d));
  e.checkSize(sizeOf(shape), 'concat');
  return e.result('concat', concatData(xs, ax), shape, {
    op: 'concat',
    parents: xs,
    backward: (g) => {
      let at = 0;
      return xs.map((t) => {
        const part = slice(g, ax, at, at + t.shape[ax]!);
        at += t.shape[ax]!;
        return part;
      });
    },
  });
}

/**
 * Embedding lookup: table [rows, cols], indices of any shape → [...indices.shape, cols].
 * Gradient: scatter-add into a zero table (in index order).
 */
export function gather(table: Tensor, indices: Int32Array, indexShape: Shape = [indices.length]): Tensor {
  const e = table.engine;
  if (table.rank !== 2) throw new SwarmError('TENSOR_SHAPE_MISMATCH', `gather needs a 2-D table, got ${fmtShape(table.shape)}`);
  if (sizeOf(indexShape) !== indices.length) {
    throw new SwarmError('TENSOR_BAD_SHAPE', `index shape ${fmtShape(indexShape)} does not hold ${indices.length} indices`);
  }
  const [rows, cols] = table.shape as [number, number];
  for (let t = 0; t < indices.length; t++) {
    const r = indices[t]!;
    if (r < 0 || r >= rows) {
      throw new SwarmError('TENSOR_INDEX_OUT_OF_RANGE', `gather index ${r} at position ${t} outside [0, ${rows})`, {
        index: r,
        position: t,
        rows,
      });
    }
  }
  const shape = [...indexShape, cols];
  e.checkSize(sizeOf(shape), 'gather');
  const idx = Int32Array.from(indices);
  return e.result('gather', gatherRows(table.data, cols, idx), shape, {
    op: 'gather',
    parents: [table],
    backward: (g) => [e.result('scatterAdd', e.backend.scatterAdd(g.data, idx, rows, cols), [rows, cols], null)],
  });
}

/** cond != 0 ? a : b, broadcasting all three (cond carries no gradient). */
export function where(cond: Tensor, a: Tensor, b: Tensor): Tensor {
  const e = engineOf(cond, a, b);
  const shape = broadcastShapes(broadcastShapes(cond.shape, a.shape), b.shape);
  e.checkSize(sizeOf(shape), 'where');
  const data = whereData(
    cond.data,
    broadcastStrides(cond.shape, shape),
    a.data,
    broadcastStrides(a.shape, shape),
    b.data,
    broadcastStrides(b.shape, shape),
    shape,
  );
  return e.result('where', data, shape, {
    op: 'where',
    parents: [a, b],
    backward: (g) => {
      const zero = e.scalar(0);
      const c = cond.detach();
      return [a.requiresGrad ? sumToShape(where(c, g, zero), a.shape) : null, b.requiresGrad ? sumToShape(where(c, zero, g), b.shape) : null];
    },
  });
}
