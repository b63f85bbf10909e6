/**
 * Fused kernels (src/tensor/fused.ts) against their composed definitions
 * (composite.ts on `ref`): forward values and every gradient, bit for bit
 * (DESIGN.md, verification layer 1: a fused kernel may only round in the
 * order of the primitives it replaces). Run for the TypeScript twins
 * (fused-twin.ts plugged into `ref`), for wasm (which composes), and for the
 * native kernels on every ISA path this CPU has, with 1 and 2 threads.
 * Inputs mix smooth random values with IEEE corner cases; gradients are
 * taken with a random seed gradient and, for RMSNorm, with the input also
 * used elsewhere before and after (its gradient is accumulated into).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Prng } from '../../src/core/prng.ts';
import { preset } from '../../src/model/config.ts';
import { initParams, lossOf, modelConstants, paramList } from '../../src/model/llama.ts';
import type { Backend } from '../../src/tensor/backend/backend.ts';
import { createRefBackend } from '../../src/tensor/backend/ref.ts';
import { gradients } from '../../src/tensor/autograd.ts';
import * as composed from '../../src/tensor/composite.ts';
import * as fused from '../../src/tensor/fused.ts';
import { FUSED_TWIN } from '../../src/tensor/fused-twin.ts';
import { createNativeBackend, NATIVE_ISAS, nativeStatus } from '../../src/tensor/native/backend.ts';
import { add, matmul, mul, reshape } from '../../src/tensor/ops.ts';
import { ropeTables } from '../../src/tensor/rope.ts';
import { Engine } from '../../src/tensor/tensor.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { createWasmBackend } from '../../src/tensor/wasm/backend.ts';
import { lcg } from './helpers.ts';

const ref = createRefBackend();
const refEngine = new Engine(ref);

const CORNERS = [0, -0, 1, -1, 1e-40, -3e-39, 1e-20, 3e4, -3e4, 88.7, -104, 1e30, -1e30, Infinity, -Infinity, NaN];

/** n values: smooth in [lo, hi], with corner cases sprinkled in when `corners`. */
function data(n: number, seed: number, lo = -3, hi = 3, corners = false): Float32Array {
  const r = lcg(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = corners && r() < 0.08 ? CORNERS[Math.floor(r() * CORNERS.length)]! : lo + (hi - lo) * r();
  return a;
}

function sameBits(got: Float32Array, want: Float32Array): string | undefined {
  if (got.length !== want.length) return `length ${got.length} vs ${want.length}`;
  const a = new Uint32Array(got.buffer, got.byteOffset, got.length);
  const b = new Uint32Array(want.buffer, want.byteOffset, want.length);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i] && !(Number.isNaN(got[i]) && Number.isNaN(want[i]))) return `element ${i}: got ${got[i]}, want ${want[i]}`;
  }
  return undefined;
}

type Input = { data: Float32Array; shape: number[] };

/** [output, dL/d input...] for L = sum(out * seed), seed a fixed random tensor. */
function run(e: Engine, inputs: Input[], fn: (xs: Tensor[]) => Tensor, seed: number): Float32Array[] {
  const xs = inputs.map((i) => e.tensor(i.data, i.shape, { requiresGrad: true }));
  const y = fn(xs);
  const g = e.tensor(data(y.size, seed, 0.5, 1.5), y.shape);
  return [y.data, ...gradients(y, xs, g).map((t) => t.data)];
}

function expectSame(e: Engine, inputs: Input[], fusedFn: (xs: Tensor[]) => Tensor, composedFn: (xs: Tensor[]) => Tensor, what: string): void {
  const want = run(refEngine, inputs, composedFn, 99);
  const got = run(e, inputs, fusedFn, 99);
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => {
    const why = sameBits(g, want[i]!);
    if (why !== undefined) throw new Error(`${what}, ${i === 0 ? 'forward' : `gradient ${i - 1}`}: ${why}`);
  });
}

function causalMask(e: Engine, t: number): Tensor {
  const m = new Float32Array(t * t);
  for (let i = 0; i < t; i++) for (let j = i + 1; j < t; j++) m[i * t + j] = -Infinity;
  return e.tensor(m, [t, t]);
}

/** The checks, run against one backend. */
function fusedSuite(name: string, backend: () => Backend): void {
  describe(`fused ops on ${name}`, () => {
    const eng = () => new Engine(backend());

    it('rmsNorm: forward, dx (accumulated before and after) and dw', () => {
      for (const [d, corners] of [[2, false], [7, true], [64, false], [193, true]] as const) {
        const x = { data: data(3 * 5 * d, d, -3, 3, corners), shape: [3, 5, d] };
        const w = { data: data(d, d + 1, 0.5, 1.5), shape: [d] };
        expectSame(eng(), [x, w], ([a, b]) => fused.rmsNorm(a!, b!, 1e-5), ([a, b]) => composed.rmsNorm(a!, b!, 1e-5), `alone d=${d}`);
        // x also feeds a residual (its gradient arrives first) and a later use (after).
        const residual = (norm: typeof fused.rmsNorm) => ([a, b]: Tensor[]) => mul(add(a!, norm(a!, b!, 1e-5)), norm(add(a!, a!), b!, 1e-6));
        expectSame(eng(), [x, w], residual(fused.rmsNorm), residual(composed.rmsNorm), `residual d=${d}`);
      }
    });

    it('attention softmax: causal mask, scale, forward and dscores', () => {
      for (const [t, corners] of [[2, false], [5, true], [17, false], [33, true]] as const) {
        const e = eng();
        const x = { data: data(2 * 3 * t * t, t, -4, 4, corners), shape: [2, 3, t, t] };
        const mk = (en: Engine) => ({ mask: causalMask(en, t), scale: en.scalar(1 / Math.sqrt(8)) });
        const a = mk(e), b = mk(refEngine);
        expectSame(e, [x], ([s]) => fused.attentionSoftmax(s!, a.scale, a.mask), ([s]) => composed.softmax(add(mul(s!, b.scale), b.mask), -1), `T=${t}`);
      }
    });

    it('swiglu: forward, dgate and dup', () => {
      for (const [n, corners] of [[1, false], [37, true], [1000, false], [777, true]] as const) {
        const g = { data: data(n, n, -12, 12, corners), shape: [n] };
        const u = { data: data(n, n + 5, -2, 2, corners), shape: [n] };
        expectSame(eng(), [g, u], ([a, b]) => fused.swiglu(a!, b!), ([a, b]) => mul(composed.silu(a!), b!), `n=${n}`);
      }
    });

    it('cross-entropy: loss and dlogits', () => {
      for (const [n, v, corners] of [[1, 2, false], [6, 9, true], [33, 300, false], [9, 77, true]] as const) {
        const r = lcg(n * v);
        const targets = Int32Array.from({ length: n }, () => Math.floor(r() * v));
        const x = { data: data(n * v, v, -6, 6, corners), shape: [n, v] };
        expectSame(eng(), [x], ([l]) => fused.crossEntropy(l!, targets), ([l]) => composed.crossEntropy(l!, targets), `${n}x${v}`);
        // The loss scaled afterwards: a seed gradient other than 1 reaches the kernel.
        expectSame(eng(), [x], ([l]) => mul(fused.crossEntropy(l!, targets), l!.engine.scalar(0.37)),
          ([l]) => mul(composed.crossEntropy(l!, targets), l!.engine.scalar(0.37)), `${n}x${v} scaled`);
      }
    });

    it('rope: forward and dx (accumulated before and after)', () => {
      for (const [t, d, corners] of [[1, 2, false], [5, 8, true], [16, 32, false], [7, 10, true]] as const) {
        const e = eng();
        const { cos, sin } = ropeTables(e, t, d);
        const r = ropeTables(refEngine, t, d);
        const x = { data: data(2 * 3 * t * d, t * d, -3, 3, corners), shape: [2, 3, t, d] };
        expectSame(e, [x], ([a]) => fused.rope(a!, cos, sin), ([a]) => composed.rope(a!, r.cos, r.sin), `alone T=${t} d=${d}`);
        expectSame(e, [x], ([a]) => mul(add(a!, fused.rope(a!, cos, sin)), fused.rope(add(a!, a!), cos, sin)),
          ([a]) => mul(add(a!, composed.rope(a!, r.cos, r.sin)), composed.rope(add(a!, a!), r.cos, r.sin)), `residual T=${t} d=${d}`);
      }
      const e = eng();
      const big = ropeTables(e, 64, 32), bigRef = ropeTables(refEngine, 64, 32);
      expectSame(e, [{ data: data(4 * 6 * 64 * 32, 3), shape: [4, 6, 64, 32] }], ([a]) => fused.rope(a!, big.cos, big.sin), ([a]) => composed.rope(a!, bigRef.cos, bigRef.sin), 'threads');
    });

    it('a whole Llama loss and its parameter gradients', () => {
      const c = preset('nano', { vocabSize: 48, maxSeqLen: 12 });
      const tokens = Int32Array.from({ length: 2 * 13 }, (_, i) => (i * 7 + 3) % 48);
      const grads = (e: Engine) => {
        const p = initParams(e, c, Prng.fromSeed(5));
        const loss = lossOf(c, p, modelConstants(e, c), tokens.subarray(0, 24), tokens.subarray(2, 26), 2, 12);
        return [loss.data, ...gradients(loss, paramList(p)).map((t) => t.data)];
      };
      const want = grads(refEngine);
      const got = grads(eng());
      got.forEach((g, i) => expect(sameBits(g, want[i]!), `tensor ${i}`).toBeUndefined());
    });

    it('sizes large enough to be split across threads', () => {
      const e = eng();
      const x = { data: data(64 * 8 * 96, 11), shape: [64, 8, 96] };
      const w = { data: data(96, 12, 0.5, 1.5), shape: [96] };
      expectSame(e, [x, w], ([a, b]) => fused.rmsNorm(add(a!, a!), b!, 1e-5), ([a, b]) => composed.rmsNorm(add(a!, a!), b!, 1e-5), 'rmsNorm');
      const s = { data: data(3 * 4 * 64 * 64, 13, -5, 5), shape: [3, 4, 64, 64] };
      const [ma, mb] = [causalMask(e, 64), causalMask(refEngine, 64)];
      expectSame(e, [s], ([a]) => fused.attentionSoftmax(a!, e.scalar(0.125), ma), ([a]) => composed.softmax(add(mul(a!, refEngine.scalar(0.125)), mb), -1), 'softmax');
      const g = { data: data(50000, 14, -9, 9), shape: [50000] };
      expectSame(e, [g, g], ([a, b]) => fused.swiglu(a!, b!), ([a, b]) => mul(composed.silu(a!), b!), 'swiglu');
      const targets = Int32Array.from({ length: 160 }, (_, i) => (i * 37) % 301);
      const l = { data: data(160 * 301, 15, -8, 8), shape: [160, 301] };
      expectSame(e, [l], ([a]) => fused.crossEntropy(a!, targets), ([a]) => composed.crossEntropy(a!, targets), 'crossEntropy');
    });

    it('falls back to the composed ops on shapes the kernels do not take', () => {
      const e = eng();
      const x = e.tensor(data(6, 1), [6], { requiresGrad: true });
      const w = e.tensor(data(6, 2, 0.5, 1.5), [6]);
      expectSame(e, [{ data: x.data, shape: [6] }, { data: w.data, shape: [6] }], ([a, b]) => fused.rmsNorm(a!, b!, 1e-5), ([a, b]) => composed.rmsNorm(a!, b!, 1e-5), 'rank 1');
      const s = { data: data(12, 3), shape: [3, 4] };
      expectSame(e, [s], ([a]) => fused.crossEntropy(reshape(a!, [12, 1]), new Int32Array(12)), ([a]) => composed.crossEntropy(reshape(a!, [12, 1]), new Int32Array(12)), 'v = 1');
      expectSame(e, [s, { data: data(12, 4), shape: [4, 3] }], ([a, b]) => fused.swiglu(matmul(a!, b!), matmul(a!, b!)),
        ([a, b]) => mul(composed.silu(matmul(a!, b!)), matmul(a!, b!)), 'shared input');
    });

    it('refuses out-of-range targets with a coded error', () => {
      const e = eng();
      const l = e.tensor(data(8, 1), [2, 4]);
      expect(() => fused.crossEntropy(l, Int32Array.of(0, 4))).toThrow(expect.objectContaining({ code: 'TENSOR_INDEX_OUT_OF_RANGE' }));
    });
  });
}

fusedSuite('TypeScript twins on ref', () => ({ ...ref, name: 'ref+twin', fused: FUSED_TWIN }));

describe('wasm (composes the primitives)', () => {
  let w: Backend;
  beforeAll(async () => {
    w = await createWasmBackend({ threads: 1 });
  });
  afterAll(() => w.close());
  fusedSuite('wasm', () => w);
});

const native = nativeStatus();
for (const isa of NATIVE_ISAS) {
  const skip = !native.available ? native.reason : native.isas.includes(isa) ? undefined : `this CPU has no ${isa} path`;
  describe.skipIf(skip !== undefined)(`native ${isa}${skip === undefined ? '' : ` (skipped: ${skip})`}`, () => {
    for (const threads of [1, 2]) {
      const b = skip === undefined ? createNativeBackend({ isa, threads }) : undefined;
      afterAll(() => b?.close());
      it('has fused kernels', () => expect(b!.fused).toBeDefined());
      fusedSuite(`native ${isa}, ${threads} thread(s)`, () => b!);
    }
  });
}
