/**
 * Gradient checks: every primitive and composite's analytic (binary32)
 * gradient against central differences of an independent binary64 version.
 */
import { describe, expect, it } from 'vitest';
import * as T from '../../src/tensor/index.ts';
import { ropeTables } from '../../src/tensor/rope.ts';
import { gradCheck, lcg, randArray, refEngine } from './helpers.ts';

type F = Float64Array;
const e = refEngine();
const rnd = lcg(42);
const inp = (shape: number[], lo = -1, hi = 1) => ({ data: randArray(shape.reduce((a, b) => a * b, 1), rnd, lo, hi), shape });

/** binary64 broadcasting elementwise op over shapes sa, sb. */
function bcast(sa: number[], sb: number[], fn: (x: number, y: number) => number) {
  const rank = Math.max(sa.length, sb.length);
  const A = [...Array(rank - sa.length).fill(1), ...sa];
  const B = [...Array(rank - sb.length).fill(1), ...sb];
  const out = A.map((d, i) => Math.max(d, B[i]!));
  const size = out.reduce((x, y) => x * y, 1);
  const strides = (s: number[]) => {
    const r = new Array(s.length).fill(0);
    let acc = 1;
    for (let i = s.length - 1; i >= 0; i--) { r[i] = s[i] === 1 ? 0 : acc; acc *= s[i]!; }
    return r;
  };
  const as = strides(A), bs = strides(B);
  return (a: F, b: F) => {
    const y = new Float64Array(size);
    for (let o = 0; o < size; o++) {
      let rem = o, ia = 0, ib = 0;
      for (let d = rank - 1; d >= 0; d--) { const id = rem % out[d]!; rem = Math.floor(rem / out[d]!); ia += id * as[d]; ib += id * bs[d]; }
      y[o] = fn(a[ia]!, b[ib]!);
    }
    return y;
  };
}

const map = (fn: (x: number) => number) => (xs: F[]) => xs[0]!.map(fn);

function expectGood(r: { maxRelErr: number; forwardErr: number }, tol = 2e-3) {
  expect(r.forwardErr).toBeLessThan(1e-4);
  expect(r.maxRelErr).toBeLessThan(tol);
}

describe('gradient checks (binary64 finite differences)', () => {
  it('unary primitives', () => {
    expectGood(gradCheck(e, [inp([3, 4])], ([x]) => T.neg(x!), map((x) => -x)));
    expectGood(gradCheck(e, [inp([3, 4])], ([x]) => T.exp(x!), map(Math.exp)));
    expectGood(gradCheck(e, [inp([3, 4], 0.5, 3)], ([x]) => T.log(x!), map(Math.log)));
    expectGood(gradCheck(e, [inp([3, 4], 0.5, 3)], ([x]) => T.sqrt(x!), map(Math.sqrt)));
    expectGood(gradCheck(e, [inp([3, 4], 0.5, 3)], ([x]) => T.rsqrt(x!), map((x) => 1 / Math.sqrt(x))));
    expectGood(gradCheck(e, [inp([3, 4], -2, 2)], ([x]) => T.tanh(x!), map(Math.tanh)));
  });

  it('binary primitives with broadcasting', () => {
    const cases: [number[], number[]][] = [[[2, 3], [2, 3]], [[2, 3], [3]], [[4, 1, 3], [2, 1]], [[1], [2, 2]], [[], [3]]];
    for (const [sa, sb] of cases) {
      expectGood(gradCheck(e, [inp(sa), inp(sb)], ([a, b]) => T.add(a!, b!), (xs) => bcast(sa, sb, (x, y) => x + y)(xs[0]!, xs[1]!)));
      expectGood(gradCheck(e, [inp(sa), inp(sb)], ([a, b]) => T.sub(a!, b!), (xs) => bcast(sa, sb, (x, y) => x - y)(xs[0]!, xs[1]!)));
      expectGood(gradCheck(e, [inp(sa), inp(sb)], ([a, b]) => T.mul(a!, b!), (xs) => bcast(sa, sb, (x, y) => x * y)(xs[0]!, xs[1]!)));
      expectGood(
        gradCheck(e, [inp(sa), inp(sb, 0.5, 2)], ([a, b]) => T.div(a!, b!), (xs) => bcast(sa, sb, (x, y) => x / y)(xs[0]!, xs[1]!)),
      );
      // values far apart so no finite-difference step crosses a tie
      expectGood(
        gradCheck(e, [inp(sa, -1, 1), inp(sb, 1.5, 2)], ([a, b]) => T.maximum(a!, b!), (xs) => bcast(sa, sb, Math.max)(xs[0]!, xs[1]!)),
      );
    }
  });

  it('sum and max along axes', () => {
    const x = inp([2, 3, 4]);
    for (const axis of [0, 1, 2, -1]) {
      const ax = (axis + 3) % 3;
      const red = (fn: (acc: number, v: number) => number, init: number) => (xs: F[]) => {
        const s = [2, 3, 4];
        const outer = s.slice(0, ax).reduce((a, b) => a * b, 1), n = s[ax]!, inner = s.slice(ax + 1).reduce((a, b) => a * b, 1);
        const y = new Float64Array(outer * inner);
        for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) {
          let acc = init;
          for (let j = 0; j < n; j++) acc = fn(acc, xs[0]![(o * n + j) * inner + i]!);
          y[o * inner + i] = acc;
        }
        return y;
      };
      expectGood(gradCheck(e, [x], ([t]) => T.sum(t!, axis), red((a, v) => a + v, 0)));
      expectGood(gradCheck(e, [x], ([t]) => T.max(t!, axis, true), red(Math.max, -Infinity)));
    }
  });

  it('batched and shared-B matmul', () => {
    const mm = (batch: number, m: number, k: number, n: number, shared: boolean) => (xs: F[]) => {
      const y = new Float64Array(batch * m * n);
      for (let b = 0; b < batch; b++) for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += xs[0]![b * m * k + i * k + p]! * xs[1]![(shared ? 0 : b * k * n) + p * n + j]!;
        y[b * m * n + i * n + j] = s;
      }
      return y;
    };
    expectGood(gradCheck(e, [inp([3, 5]), inp([5, 2])], ([a, b]) => T.matmul(a!, b!), mm(1, 3, 5, 2, true)));
    expectGood(gradCheck(e, [inp([2, 3, 4]), inp([2, 4, 3])], ([a, b]) => T.matmul(a!, b!), mm(2, 3, 4, 3, false)));
    expectGood(gradCheck(e, [inp([2, 3, 4]), inp([4, 1])], ([a, b]) => T.matmul(a!, b!), mm(2, 3, 4, 1, true)));
  });

  it('data movement: reshape, permute, expand, slice, concat, gather, where', () => {
    const id = (xs: F[]) => xs[0]!;
    expectGood(gradCheck(e, [inp([2, 6])], ([x]) => T.reshape(x!, [3, 4]), id));
    expectGood(
      gradCheck(e, [inp([2, 3, 4])], ([x]) => T.permute(x!, [2, 0, 1]), (xs) => {
        const y = new Float64Array(24);
        let o = 0;
        for (let k = 0; k < 4; k++) for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) y[o++] = xs[0]![i * 12 + j * 4 + k]!;
        return y;
      }),
    );
    expectGood(gradCheck(e, [inp([3, 1])], ([x]) => T.expand(x!, [2, 3, 4]), (xs) => bcast([3, 1], [2, 3, 4], (a) => a)(xs[0]!, new Float64Array(24))));
    expectGood(
      gradCheck(e, [inp([3, 5])], ([x]) => T.slice(x!, 1, 1, 4), (xs) => {
        const y = new Float64Array(9);
        for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) y[i * 3 + j] = xs[0]![i * 5 + j + 1]!;
        return y;
      }),
    );
    expectGood(
      gradCheck(e, [inp([2, 2]), inp([2, 3])], ([a, b]) => T.concat([a!, b!], 1), (xs) => {
        const y = new Float64Array(10);
        for (let i = 0; i < 2; i++) { y.set(xs[0]!.subarray(i * 2, i * 2 + 2), i * 5); y.set(xs[1]!.subarray(i * 3, i * 3 + 3), i * 5 + 2); }
        return y;
      }),
    );
    const idx = Int32Array.from([2, 0, 2, 1]);
    expectGood(
      gradCheck(e, [inp([3, 2])], ([t]) => T.gather(t!, idx, [2, 2]), (xs) => {
        const y = new Float64Array(8);
        idx.forEach((r, t) => { y[t * 2] = xs[0]![r * 2]!; y[t * 2 + 1] = xs[0]![r * 2 + 1]!; });
        return y;
      }),
    );
    const cond = e.tensor([1, 0, 0, 1, 1, 0], [2, 3]);
    expectGood(
      gradCheck(e, [inp([2, 3]), inp([3])], ([a, b]) => T.where(cond, a!, b!), (xs) =>
        Float64Array.from({ length: 6 }, (_, i) => (cond.data[i] ? xs[0]![i]! : xs[1]![i % 3]!)),
      ),
    );
  });

  it('composites: softmax, log-softmax, cross-entropy, rmsnorm, silu, sigmoid, rope, mean', () => {
    const rows = (fn: (row: number[]) => number[], cols: number) => (xs: F[]) => {
      const x = xs[0]!;
      const y = new Float64Array(x.length);
      for (let r = 0; r < x.length / cols; r++) y.set(fn(Array.from(x.subarray(r * cols, (r + 1) * cols))), r * cols);
      return y;
    };
    const sm = (row: number[]) => { const m = Math.max(...row); const ex = row.map((v) => Math.exp(v - m)); const s = ex.reduce((a, b) => a + b); return ex.map((v) => v / s); };
    expectGood(gradCheck(e, [inp([3, 5], -3, 3)], ([x]) => T.softmax(x!, -1), rows(sm, 5)));
    expectGood(gradCheck(e, [inp([3, 5], -3, 3)], ([x]) => T.logSoftmax(x!, -1), rows((r) => sm(r).map(Math.log), 5)));
    const targets = Int32Array.from([4, 0, 2]);
    expectGood(
      gradCheck(e, [inp([3, 5], -3, 3)], ([x]) => T.crossEntropy(x!, targets), (xs) => {
        let s = 0;
        for (let r = 0; r < 3; r++) s -= Math.log(sm(Array.from(xs[0]!.subarray(r * 5, r * 5 + 5)))[targets[r]!]!);
        return Float64Array.of(s / 3);
      }),
    );
    expectGood(
      gradCheck(e, [inp([3, 4]), inp([4], 0.5, 1.5)], ([x, w]) => T.rmsNorm(x!, w!, 1e-5), (xs) => {
        const y = new Float64Array(12);
        for (let r = 0; r < 3; r++) {
          let ms = 0;
          for (let c = 0; c < 4; c++) ms += xs[0]![r * 4 + c]! ** 2;
          const inv = 1 / Math.sqrt(ms / 4 + 1e-5);
          for (let c = 0; c < 4; c++) y[r * 4 + c] = xs[0]![r * 4 + c]! * inv * xs[1]![c]!;
        }
        return y;
      }),
    );
    expectGood(gradCheck(e, [inp([2, 5], -4, 4)], ([x]) => T.silu(x!), map((x) => x / (1 + Math.exp(-x)))));
    expectGood(gradCheck(e, [inp([2, 5], -4, 4)], ([x]) => T.sigmoid(x!), map((x) => 1 / (1 + Math.exp(-x)))));
    expectGood(gradCheck(e, [inp([2, 5])], ([x]) => T.mean(x!, 1), (xs) => Float64Array.from([0, 1], (r) => xs[0]!.subarray(r * 5, r * 5 + 5).reduce((a, b) => a + b) / 5)));
    const { cos, sin } = ropeTables(e, 3, 4);
    expectGood(
      gradCheck(e, [inp([2, 3, 4])], ([x]) => T.rope(x!, cos, sin), (xs) => {
        const y = new Float64Array(24);
        for (let b = 0; b < 2; b++) for (let t = 0; t < 3; t++) for (let i = 0; i < 4; i++) {
          const o = b * 12 + t * 4;
          const invFreq = Math.pow(10000, -2 * (i % 2) / 4);
          const rot = i < 2 ? -xs[0]![o + i + 2]! : xs[0]![o + i - 2]!;
          y[o + i] = xs[0]![o + i]! * Math.cos(t * invFreq) + rot * Math.sin(t * invFreq);
        }
        return y;
      }),
    );
  });

  it('gradient of a tensor used twice accumulates', () => {
    const x = e.tensor([1.5, -2], [2], { requiresGrad: true });
    const loss = T.sumAll(T.mul(x, x));
    const [g] = T.gradients(loss, [x]);
    expect(Array.from(g!.data)).toEqual([3, -4]);
  });
});
