/**
 * Golden-vector cases: fixed-seed inputs run through every op (forward and
 * backward). The SHA-256 of each output's bytes is stored in kernels.json;
 * any change to the canonical arithmetic changes a hash and fails the test.
 * Regenerate deliberately with `npx tsx test/vectors/generate.ts`.
 */
import { Prng } from '../../src/core/prng.ts';
import { sha256Hex } from '../../src/core/sha256.ts';
import { BINARY_OPS, UNARY_OPS } from '../../src/tensor/backend/backend.ts';
import * as T from '../../src/tensor/index.ts';
import type { Engine, Tensor } from '../../src/tensor/index.ts';

/** Values spanning the awkward corners: subnormals, ±0, large magnitudes, ordinary numbers. */
function values(rng: Prng, n: number, lo = -4, hi = 4): Float32Array {
  const specials = [0, -0, 1e-40, -3e-39, 1e-45, 1e30, -1e30, 3.4e38, 1, -1, 0.5];
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a[i] = rng.nextInt(8) === 0 ? specials[rng.nextInt(specials.length)]! : lo + (hi - lo) * rng.nextFloat();
  }
  return a;
}

function smooth(rng: Prng, n: number, lo = -2, hi = 2): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * rng.nextFloat();
  return a;
}

/** SHA-256 of the little-endian binary32 bytes, every NaN written as 0x7fc00000. */
export function hashF32(x: Float32Array): string {
  const c = Float32Array.from(x);
  const u = new Uint32Array(c.buffer);
  for (let i = 0; i < c.length; i++) if (c[i] !== c[i]) u[i] = 0x7fc00000;
  return sha256Hex(new Uint8Array(c.buffer));
}

export type Case = { name: string; run: (e: Engine) => Float32Array[] };

const rngFor = (name: string) => Prng.fromSeed('golden-vectors-v1').fork(name);

function grads(e: Engine, inputs: Array<{ data: Float32Array; shape: number[] }>, f: (xs: Tensor[]) => Tensor): Float32Array[] {
  const xs = inputs.map((i) => e.tensor(i.data, i.shape, { requiresGrad: true }));
  const out = f(xs);
  const loss = T.sumAll(T.mul(out, e.tensor(Float32Array.from({ length: out.size }, (_, i) => 1 + (i % 7) / 8), out.shape)));
  return [out.data, ...T.gradients(loss, xs).map((g) => g.data)];
}

export const CASES: Case[] = [
  ...UNARY_OPS.map((op) => ({
    name: `unary.${op}`,
    run: (e: Engine) => {
      const r = rngFor(op);
      return [e.backend.unary(op, values(r, 257, -90, 90)), e.backend.unary(op, smooth(r, 64, 0, 3))];
    },
  })),
  ...BINARY_OPS.map((op) => ({
    name: `binary.${op}`,
    run: (e: Engine) => {
      const r = rngFor(op);
      const a = e.tensor(values(r, 3 * 5 * 7), [3, 5, 7]);
      const b = e.tensor(values(r, 5 * 1), [5, 1]);
      const fn = { add: T.add, sub: T.sub, mul: T.mul, div: T.div, max: T.maximum, gt: T.gt, eq: T.eq }[op];
      return [fn(a, b).data, fn(b, a).data];
    },
  })),
  {
    name: 'reduce.sum-max',
    run: (e) => {
      const x = e.tensor(values(rngFor('reduce'), 4 * 33 * 5), [4, 33, 5]);
      return [0, 1, 2].flatMap((ax) => [T.sum(x, ax).data, T.max(x, ax).data]);
    },
  },
  {
    name: 'matmul',
    run: (e) => {
      const r = rngFor('matmul');
      const shapes: [number, number, number][] = [[1, 1, 1], [7, 13, 5], [33, 64, 17], [64, 64, 64], [128, 96, 72]];
      const outs = shapes.map(([m, k, n]) => T.matmul(e.tensor(smooth(r, m * k), [m, k]), e.tensor(smooth(r, k * n), [k, n])).data);
      const a = e.tensor(values(r, 3 * 9 * 11), [3, 9, 11]);
      const b = e.tensor(values(r, 3 * 11 * 6), [3, 11, 6]);
      outs.push(T.matmul(a, b).data);
      return outs;
    },
  },
  {
    name: 'scatterAdd',
    run: (e) => {
      const r = rngFor('scatter');
      const idx = Int32Array.from({ length: 40 }, () => r.nextInt(9));
      return [e.backend.scatterAdd(values(r, 40 * 6), idx, 9, 6)];
    },
  },
  {
    name: 'composite.forward-backward',
    run: (e) => {
      const r = rngFor('composite');
      const x = { data: smooth(r, 6 * 10, -3, 3), shape: [6, 10] };
      const w = { data: smooth(r, 10, 0.5, 1.5), shape: [10] };
      const targets = Int32Array.from({ length: 6 }, () => r.nextInt(10));
      const { cos, sin } = T.ropeTables(e, 6, 10);
      return [
        ...grads(e, [x], ([t]) => T.softmax(t!, -1)),
        ...grads(e, [x], ([t]) => T.logSoftmax(t!, -1)),
        ...grads(e, [x], ([t]) => T.crossEntropy(t!, targets)),
        ...grads(e, [x, w], ([t, g]) => T.rmsNorm(t!, g!, 1e-5)),
        ...grads(e, [x], ([t]) => T.silu(t!)),
        ...grads(e, [x], ([t]) => T.tanh(t!)),
        ...grads(e, [x], ([t]) => T.rope(t!, cos, sin)),
      ];
    },
  },
  {
    name: 'mlp.backward',
    run: (e) => {
      const r = rngFor('mlp');
      const x = { data: smooth(r, 16 * 12), shape: [16, 12] };
      const w1 = { data: smooth(r, 12 * 24, -0.3, 0.3), shape: [12, 24] };
      const w2 = { data: smooth(r, 24 * 8, -0.3, 0.3), shape: [24, 8] };
      const targets = Int32Array.from({ length: 16 }, () => r.nextInt(8));
      return grads(e, [x, w1, w2], ([a, b, c]) => T.crossEntropy(T.matmul(T.silu(T.matmul(a!, b!)), c!), targets));
    },
  },
];

export function hashCase(e: Engine, c: Case): string[] {
  return c.run(e).map(hashF32);
}
