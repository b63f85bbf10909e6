/** Test helpers for the tensor engine: seeded data and f64 finite differences. */
import { Engine } from '../../src/tensor/tensor.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { createRefBackend } from '../../src/tensor/backend/ref.ts';
import { gradients } from '../../src/tensor/autograd.ts';
import { mul, reshape, sum } from '../../src/tensor/ops.ts';

/** A tiny seeded LCG for test data (Numerical Recipes constants); tests only. */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

export function refEngine(): Engine {
  return new Engine(createRefBackend());
}

export function randArray(n: number, rnd: () => number, lo = -1, hi = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * rnd();
  return a;
}

/**
 * Check the analytic gradient of L = sum(op(xs) * w) (w random, fixed) against
 * central finite differences of an independent binary64 implementation `f64`
 * of the same function. Returns the worst relative error.
 */
export function gradCheck(
  e: Engine,
  inputs: { data: Float32Array; shape: number[] }[],
  op: (xs: Tensor[]) => Tensor,
  f64: (xs: Float64Array[]) => Float64Array,
  opts: { h?: number; seed?: number } = {},
): { maxRelErr: number; forwardErr: number } {
  const h = opts.h ?? 1e-6;
  const rnd = lcg(opts.seed ?? 7);
  const xs = inputs.map((i) => e.tensor(i.data, i.shape, { requiresGrad: true }));
  const out = op(xs);
  const w = randArray(out.size, rnd, 0.5, 1.5);
  const wT = e.tensor(w, out.shape);
  const loss = sum(reshape(mul(out, wT), [out.size]), 0);
  const grads = gradients(loss, xs);
  const x64 = inputs.map((i) => Float64Array.from(i.data));
  const L = (a: Float64Array[]) => {
    const y = f64(a);
    let s = 0;
    for (let i = 0; i < y.length; i++) s += y[i]! * w[i]!;
    return s;
  };
  // forward agreement
  const y64 = f64(x64);
  let forwardErr = 0;
  for (let i = 0; i < y64.length; i++) {
    forwardErr = Math.max(forwardErr, Math.abs(y64[i]! - out.data[i]!) / Math.max(1, Math.abs(y64[i]!)));
  }
  let maxRelErr = 0;
  x64.forEach((x, k) => {
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      x[i] = v + h;
      const lp = L(x64);
      x[i] = v - h;
      const lm = L(x64);
      x[i] = v;
      const num = (lp - lm) / (2 * h);
      const ana = grads[k]!.data[i]!;
      const err = Math.abs(num - ana) / Math.max(1, Math.abs(num));
      maxRelErr = Math.max(maxRelErr, err);
    }
  });
  return { maxRelErr, forwardErr };
}
