/**
 * Every backend (wasm, and native on each ISA path this CPU has) must
 * reproduce the ref backend bit for bit (DESIGN.md,
 * "Verification, in layers", 1): property tests over random shapes (1s, odd
 * sizes, 0 where meaningful, long k) and values that stress IEEE corner cases
 * (subnormals, ±0, huge magnitudes, overflow, inf, NaN). Outputs are compared
 * as bit patterns; any NaN equals any NaN (payloads are not canonical,
 * WebAssembly core spec §4.3.3).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SwarmError } from '../../src/core/errors.ts';
import type { Backend, ReduceOp, UnaryOp } from '../../src/tensor/backend/backend.ts';
import { BINARY_OPS, REDUCE_OPS, UNARY_OPS } from '../../src/tensor/backend/backend.ts';
import { createRefBackend } from '../../src/tensor/backend/ref.ts';
import { collapseBroadcast } from '../../src/tensor/backend/broadcast.ts';
import { stridedCopy } from '../../src/tensor/layout.ts';
import { createNativeBackend, NATIVE_ISAS, nativeStatus } from '../../src/tensor/native/backend.ts';
import { createWasmBackend, PARALLEL_MIN_FLOPS } from '../../src/tensor/wasm/backend.ts';
import { codeOf } from '../helpers/errors.ts';
import { lcg, randArray } from './helpers.ts';

const ref = createRefBackend();
let wasm: Backend;

beforeAll(async () => {
  wasm = await createWasmBackend({ threads: 1 });
});
afterAll(() => wasm.close());

/** First index where x and y differ as bits (NaN == NaN), or -1; lengths must match. */
function firstMismatch(x: Float32Array, y: Float32Array): number {
  if (x.length !== y.length) return Math.min(x.length, y.length);
  const a = new Uint32Array(x.buffer, x.byteOffset, x.length);
  const b = new Uint32Array(y.buffer, y.byteOffset, y.length);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i] && !(Number.isNaN(x[i]) && Number.isNaN(y[i]))) return i;
  }
  return -1;
}

const hex = (v: number | undefined) => (v === undefined ? 'none' : `0x${(new Uint32Array(new Float32Array([v]).buffer)[0]!).toString(16)} (${v})`);

function expectSameBits(got: Float32Array, want: Float32Array, what: string): void {
  const i = firstMismatch(got, want);
  if (i >= 0) {
    const detail = got.length !== want.length
      ? `length ${got.length} vs ${want.length}`
      : `element ${i}: got ${hex(got[i])}, ref ${hex(want[i])}`;
    throw new Error(`${what}: ${detail}`);
  }
}

// ---- value generators ---------------------------------------------------

const FLT_MAX = 3.4028234663852886e38;
/** Values that sit on IEEE 754 binary32 corner cases. */
const SPECIALS = [
  0, -0, 1, -1, 0.5, 2, 3, 1e-40, -3e-39, 1.4e-45, -1.4e-45, 1.1754942e-38, 1.1754944e-38, 1e30, -1e30,
  FLT_MAX, -FLT_MAX, 3.4e38, Infinity, -Infinity, NaN, 88.72283, 88.7229, -103.97208, -104, 89, -87.3, 0.3,
  0.29999998, 9, 9.000001, 2 ** -12, -(2 ** -12), 1e-3, 16777216, 16777217, 1.4142135, 0.70710677,
];

/** Any binary32 value, weighted towards specials and ordinary magnitudes. */
const f32Value = fc.oneof(
  { weight: 3, arbitrary: fc.float() },
  { weight: 2, arbitrary: fc.constantFrom(...SPECIALS) },
  { weight: 4, arbitrary: fc.float({ min: -4, max: 4, noNaN: true }) },
  { weight: 1, arbitrary: fc.float({ min: -110, max: 110, noNaN: true }) },
);
/** Ordinary values, so sums and products stay finite and rounding is what is tested. */
const plainValue = fc.float({ min: -8, max: 8, noNaN: true, noDefaultInfinity: true });

/** A Float32Array of exactly n values: mostly plain, sometimes with corner cases mixed in. */
function f32Array(n: number, special = true): fc.Arbitrary<Float32Array> {
  const plain = fc.array(plainValue, { minLength: n, maxLength: n });
  const mixed = fc.array(f32Value, { minLength: n, maxLength: n });
  return (special ? fc.oneof(plain, mixed) : plain).map((v) => Float32Array.from(v));
}

// ---- unary ----------------------------------------------------------------

function suite0(label: string, be: () => Backend): void {
  describe(`${label} vs ref: unary`, () => {
    for (const op of UNARY_OPS) {
      it(`${op} on random arrays`, () => {
        fc.assert(
          fc.property(fc.array(f32Value, { maxLength: 67 }), (vals) => {
            const x = Float32Array.from(vals);
            expectSameBits(be().unary(op, x), ref.unary(op, x), `${op}`);
          }),
          { numRuns: 150 },
        );
      });
    }
  
    it('every op on a sweep of 2^20 bit patterns spread over all of binary32', () => {
      // Stride 4093 (prime) walks through every exponent and many mantissas,
      // subnormals, infinities and NaNs included.
      const n = 1 << 20;
      const bits = new Uint32Array(n);
      for (let i = 0; i < n; i++) bits[i] = Math.imul(i, 4093) >>> 0;
      const x = new Float32Array(bits.buffer);
      for (const op of UNARY_OPS) expectSameBits(be().unary(op, x), ref.unary(op, x), `${op} sweep`);
    });
  
    it('exp, log and tanh on every binary32 in their interesting ranges, stepping the bits', () => {
      const ranges: Array<[UnaryOp, number, number]> = [
        ['exp', -104.5, 89.5],
        ['tanh', -10, 10],
        ['log', 0, 4],
        ['log', 1e30, Infinity],
      ];
      for (const [op, lo, hi] of ranges) {
        const xs: number[] = [];
        for (const sign of lo < 0 ? [1, -1] : [1]) {
          const top = Math.min(Math.abs(sign > 0 ? hi : lo), FLT_MAX);
          const start = sign > 0 ? Math.max(lo, 0) : 0;
          const u = new Uint32Array(new Float32Array([start, top]).buffer);
          // About 200k points per range; an odd step visits odd and even mantissas.
          const step = Math.ceil((u[1]! - u[0]!) / 200_000) | 1;
          for (let b = u[0]!; b <= u[1]!; b += step) xs.push(sign * new Float32Array(new Uint32Array([b]).buffer)[0]!);
        }
        const x = Float32Array.from(xs);
        expectSameBits(be().unary(op, x), ref.unary(op, x), `${op} range sweep [${lo}, ${hi}]`);
      }
    });
  });
}

// ---- binary ----------------------------------------------------------------

/** Row-major strides of `shape`, 0 where `bcast` marks a broadcast dimension. */
function stridesFor(shape: readonly number[], bcast: readonly boolean[], order: readonly number[]): { strides: number[]; extent: number } {
  // `order` lists dimensions from slowest to fastest in memory (a permuted layout).
  const strides = new Array<number>(shape.length).fill(0);
  let step = 1;
  for (let i = order.length - 1; i >= 0; i--) {
    const d = order[i]!;
    if (bcast[d]) continue;
    strides[d] = step;
    step *= shape[d]!;
  }
  return { strides, extent: step };
}

const binaryCase = fc
  .integer({ min: 0, max: 5 })
  .chain((rank) =>
    fc.record({
      shape: fc.array(fc.oneof(fc.constantFrom(1, 1, 2, 3), fc.integer({ min: 0, max: 9 })), { minLength: rank, maxLength: rank }),
      aB: fc.array(fc.boolean(), { minLength: rank, maxLength: rank }),
      bB: fc.array(fc.boolean(), { minLength: rank, maxLength: rank }),
      aOrder: fc.shuffledSubarray([...Array(rank).keys()], { minLength: rank, maxLength: rank }),
      bOrder: fc.constant([...Array(rank).keys()]),
      sameOrder: fc.boolean(),
      special: fc.boolean(),
    }),
  )
  .chain((c) => {
    const a = stridesFor(c.shape, c.aB, c.aOrder);
    const b = stridesFor(c.shape, c.bB, c.sameOrder ? c.aOrder : c.bOrder);
    return fc.record({
      shape: fc.constant(c.shape),
      aStrides: fc.constant(a.strides),
      bStrides: fc.constant(b.strides),
      a: f32Array(a.extent, c.special),
      b: f32Array(b.extent, c.special),
    });
  });

function suite1(label: string, be: () => Backend): void {
  describe(`${label} vs ref: binary with broadcasting`, () => {
    for (const op of BINARY_OPS) {
      it(`${op}`, () => {
        fc.assert(
          fc.property(binaryCase, ({ shape, aStrides, a, bStrides, b }) => {
            expectSameBits(
              be().binary(op, a, aStrides, b, bStrides, shape),
              ref.binary(op, a, aStrides, b, bStrides, shape),
              `${op} shape [${shape}] a ${aStrides} b ${bStrides}`,
            );
          }),
          { numRuns: 120 },
        );
      });
    }
  
    it('rank 8 and long contiguous rows (the SIMD paths)', () => {
      const shape = [2, 1, 3, 1, 2, 1, 2, 37];
      const aS = [444, 0, 148, 0, 74, 0, 37, 1];
      const bS = [0, 0, 2, 0, 1, 0, 0, 0];
      const rnd = lcg(3);
      const a = Float32Array.from({ length: 888 }, () => rnd() * 4 - 2);
      const b = Float32Array.from({ length: 6 }, () => rnd() * 4 - 2);
      for (const op of BINARY_OPS) {
        expectSameBits(be().binary(op, a, aS, b, bS, shape), ref.binary(op, a, aS, b, bS, shape), `${op} rank 8`);
        expectSameBits(be().binary(op, b, bS, a, aS, shape), ref.binary(op, b, bS, a, aS, shape), `${op} rank 8 swapped`);
        const big = a.subarray(0, 500);
        expectSameBits(be().binary(op, big, [1], big.slice().reverse(), [1], [500]), ref.binary(op, big, [1], big.slice().reverse(), [1], [500]), `${op} flat`);
      }
      expectSameBits(be().binary('add', a, [], b, [], []), ref.binary('add', a, [], b, [], []), 'rank 0');
    });
  
    it('every pair of corner-case values, on the vector, broadcast and scalar paths', () => {
      const n = SPECIALS.length;
      const a = new Float32Array(n * n);
      const b = new Float32Array(n * n);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          a[i * n + j] = SPECIALS[i]!;
          b[i * n + j] = SPECIALS[j]!;
        }
      }
      const col = Float32Array.from(SPECIALS);
      for (const op of BINARY_OPS) {
        const cases: Array<[Float32Array, number[], Float32Array, number[], number[]]> = [
          [a, [1], b, [1], [n * n]], // both contiguous: f32x4 on both sides
          [col, [1, 0], col, [0, 1], [n, n]], // row of a splat against a contiguous row of b
          [col, [0, 1], col, [1, 0], [n, n]], // and the other way round
          [a, [n * n], b, [n * n], [1]], // a single element: the scalar tail
          [a, [1, n], b, [n, 1], [n, n]], // strided: scalar loop
        ];
        for (const [x, xs, y, ys, shape] of cases) {
          expectSameBits(be().binary(op, x, xs, y, ys, shape), ref.binary(op, x, xs, y, ys, shape), `${op} corner pairs ${xs}/${ys}`);
        }
      }
    });
  
    it('collapseBroadcast keeps the walk and merges contiguous runs', () => {
      expect(collapseBroadcast([2, 3, 4], [12, 4, 1], [0, 0, 0])).toEqual({ dims: [24], sa: [1], sb: [0] });
      expect(collapseBroadcast([2, 1, 4], [4, 4, 1], [1, 0, 0])).toEqual({ dims: [2, 4], sa: [4, 1], sb: [1, 0] });
      expect(collapseBroadcast([], [], [])).toEqual({ dims: [1], sa: [0], sb: [0] });
      expect(collapseBroadcast([3, 2], [1, 3], [2, 1])).toEqual({ dims: [3, 2], sa: [1, 3], sb: [2, 1] });
    });
  });
}

// ---- reduce -----------------------------------------------------------------

const reduceCase = fc
  .record({
    outer: fc.oneof(fc.constantFrom(0, 1, 1, 5), fc.integer({ min: 0, max: 9 })),
    n: fc.oneof(fc.constantFrom(0, 1, 2), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 100, max: 400 })),
    inner: fc.oneof(fc.constantFrom(1, 1, 1, 4, 16), fc.integer({ min: 0, max: 37 })),
    special: fc.boolean(),
  })
  .chain((c) => fc.record({ outer: fc.constant(c.outer), n: fc.constant(c.n), inner: fc.constant(c.inner), x: f32Array(c.outer * c.n * c.inner, c.special) }));

function suite2(label: string, be: () => Backend): void {
  describe(`${label} vs ref: reduce over the middle axis`, () => {
    for (const op of REDUCE_OPS as readonly ReduceOp[]) {
      it(`${op}`, () => {
        fc.assert(
          fc.property(reduceCase, ({ outer, n, inner, x }) => {
            expectSameBits(be().reduce(op, x, outer, n, inner), ref.reduce(op, x, outer, n, inner), `${op} [${outer}, ${n}, ${inner}]`);
          }),
          { numRuns: 120 },
        );
      });
    }
  
    it('sum order is visible and kept; -0 sums to +0; max keeps NaN and +0 > -0', () => {
      const x = new Float32Array([1e8, 1, 1, 1, 1, -1e8, -0, -0, NaN, 1, -0, 0, 0, -0]);
      for (const op of ['sum', 'max'] as const) {
        for (const [o, n, i] of [[1, 14, 1], [2, 7, 1], [7, 2, 1], [1, 7, 2], [1, 2, 7]] as const) {
          expectSameBits(be().reduce(op, x, o, n, i), ref.reduce(op, x, o, n, i), `${op} [${o}, ${n}, ${i}]`);
        }
      }
    });
  });
}

// ---- matmul ---------------------------------------------------------------

const dim = (max: number) => fc.oneof(fc.constantFrom(1, 1, 2, 3, 4, 5, 7, 8, 9), fc.integer({ min: 1, max }));

interface MatmulCase {
  batch: number;
  m: number;
  k: number;
  n: number;
  bBatched: boolean;
  a: Float32Array;
  b: Float32Array;
}

const matmulCase: fc.Arbitrary<MatmulCase> = fc
  .record({
    batch: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 3 })),
    m: dim(70),
    k: fc.oneof(fc.constantFrom(1, 1, 2, 3), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 250, max: 600 })),
    n: dim(41),
    bBatched: fc.boolean(),
    special: fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  })
  .filter((c) => c.batch * c.m * c.k * c.n <= 400_000) // keeps the naive ref quick
  .chain(({ special, ...c }) =>
    fc.record({
      a: f32Array(c.batch * c.m * c.k, special),
      b: f32Array((c.bBatched ? c.batch : 1) * c.k * c.n, special),
    }).map(({ a, b }) => ({ ...c, a, b })),
  );

function suite3(label: string, be: () => Backend): void {
  describe(`${label} vs ref: matmul`, () => {
    it('random shapes (edges, k-blocks, batches, shared B) and values', () => {
      fc.assert(
        fc.property(matmulCase, ({ batch, m, k, n, bBatched, a, b }) => {
          expectSameBits(be().matmul(a, b, batch, m, k, n, bBatched), ref.matmul(a, b, batch, m, k, n, bBatched), `matmul b${batch} ${m}x${k}x${n} ${bBatched ? 'batched' : 'shared'} B`);
        }),
        { numRuns: 80 },
      );
    });
  
    it('size-0 dimensions and k = 0 give empty / +0 results', () => {
      for (const [batch, m, k, n] of [[0, 3, 4, 5], [2, 0, 4, 5], [2, 3, 4, 0], [2, 3, 0, 5], [1, 1, 0, 1]] as const) {
        for (const bBatched of [false, true]) {
          const a = new Float32Array(batch * m * k).fill(-1);
          const b = new Float32Array((bBatched ? batch : 1) * k * n).fill(-1);
          expectSameBits(be().matmul(a, b, batch, m, k, n, bBatched), ref.matmul(a, b, batch, m, k, n, bBatched), `matmul ${batch} ${m}x${k}x${n}`);
        }
      }
    });
  
    it('rounds each product before its add, and keeps a -0 first product at +0', () => {
      const v = Math.fround(1 + 2 ** -12);
      const cases: Array<[number[], number[]]> = [
        [[1e4, 1, -1e4], [1e4, 1, 1e4]],
        [[v, v], [v, -v]],
        [[-0], [5]],
        [[1e-30, 1e-20], [1e-20, 1e-30]],
        [[3e38, 3e38, -Infinity], [10, 10, 0]],
      ];
      for (const [a, b] of cases) {
        const A = Float32Array.from(a);
        const B = Float32Array.from(b);
        expectSameBits(be().matmul(A, B, 1, 1, a.length, 1, false), ref.matmul(A, B, 1, 1, a.length, 1, false), `dot ${a} . ${b}`);
      }
    });
  });
}

// ---- scatterAdd -------------------------------------------------------------

const scatterCase = fc
  .record({ rows: fc.integer({ min: 1, max: 7 }), cols: fc.oneof(fc.constantFrom(1, 4, 8), fc.integer({ min: 0, max: 13 })), count: fc.integer({ min: 0, max: 14 }), special: fc.boolean() })
  .chain((c) =>
    fc.record({
      rows: fc.constant(c.rows),
      cols: fc.constant(c.cols),
      indices: fc.array(fc.integer({ min: 0, max: c.rows - 1 }), { minLength: c.count, maxLength: c.count }).map((v) => Int32Array.from(v)),
      src: f32Array(c.count * c.cols, c.special),
    }),
  );

function suite4(label: string, be: () => Backend): void {
  describe(`${label} vs ref: scatterAdd`, () => {
    it('repeated indices accumulate in order', () => {
      fc.assert(
        fc.property(scatterCase, ({ rows, cols, indices, src }) => {
          expectSameBits(be().scatterAdd(src, indices, rows, cols), ref.scatterAdd(src, indices, rows, cols), `scatterAdd ${rows}x${cols} <- ${indices.length}`);
        }),
        { numRuns: 150 },
      );
      const r0 = new Float32Array(0);
      expectSameBits(be().scatterAdd(r0, new Int32Array(0), 0, 3), ref.scatterAdd(r0, new Int32Array(0), 0, 3), 'empty');
    });
  });
}

// ---- stridedCopy (an optional data-movement hook) ------------------------------

const viewCase = fc
  .integer({ min: 0, max: 5 })
  .chain((rank) => fc.record({
    shape: fc.array(fc.oneof(fc.constantFrom(1, 2, 3), fc.integer({ min: 0, max: 7 })), { minLength: rank, maxLength: rank }),
    strides: fc.array(fc.oneof(fc.constantFrom(0, 1), fc.integer({ min: 0, max: 40 })), { minLength: rank, maxLength: rank }),
    offset: fc.integer({ min: 0, max: 5 }),
  }))
  .map((c) => {
    let reach = c.offset;
    for (let d = 0; d < c.shape.length; d++) if (c.shape[d]! > 0) reach += c.strides[d]! * (c.shape[d]! - 1);
    return { ...c, x: Float32Array.from({ length: reach + 1 }, (_, i) => i * 0.5 - 3) };
  });

function stridedCopySuite(label: string, be: () => Backend): void {
  // Only the native backend has its own copy; the others use layout.ts itself.
  describe.skipIf(!label.startsWith('native'))(`${label} vs layout.ts: stridedCopy`, () => {
    it('copies every view (broadcast, permuted, offset, empty) exactly as layout.ts does', () => {
      expect(be().stridedCopy).toBeTypeOf('function');
      const copy = (x: Float32Array, shape: number[], strides: number[], offset: number) => be().stridedCopy!(x, shape, strides, offset);
      fc.assert(
        fc.property(viewCase, ({ shape, strides, offset, x }) => {
          expectSameBits(copy(x, shape, strides, offset), stridedCopy(x, shape, strides, offset), `view [${shape}] strides ${strides} at ${offset}`);
        }),
        { numRuns: 300 },
      );
    });
  });
}

// ---- threads, lifecycle, limits ----------------------------------------------

describe('wasm matmul pool', () => {
  // Every shape is above the parallel threshold and splits into several row
  // chunks; m is not a multiple of the chunk height or of the 4-row tile.
  const shapes: Array<[number, number, number, number, boolean]> = [
    [1, 131, 197, 173, false],
    [1, 257, 300, 61, false],
    [3, 45, 128, 250, true],
    [4, 33, 130, 250, false],
    [2, 6, 1400, 301, true],
    [1, 300, 1000, 600, false], // last and largest: memory grows while the workers exist
  ];

  it('test shapes take the parallel path', () => {
    for (const [batch, m, k, n] of shapes) expect(2 * batch * m * k * n).toBeGreaterThanOrEqual(PARALLEL_MIN_FLOPS);
  });

  it('threads 2 and 3 give the same bits as threads 1 (and as ref)', async () => {
    const w2 = await createWasmBackend({ threads: 2 });
    const w3 = await createWasmBackend({ threads: 3 });
    try {
      expect(w2.threads).toBe(2);
      expect(w3.threads).toBe(3);
      const rnd = lcg(11);
      for (const [batch, m, k, n, bBatched] of shapes) {
        const a = randArray(batch * m * k, rnd);
        const b = randArray((bBatched ? batch : 1) * k * n, rnd);
        const one = wasm.matmul(a, b, batch, m, k, n, bBatched);
        const what = `b${batch} ${m}x${k}x${n}`;
        expectSameBits(w2.matmul(a, b, batch, m, k, n, bBatched), one, `threads 2 ${what}`);
        expectSameBits(w3.matmul(a, b, batch, m, k, n, bBatched), one, `threads 3 ${what}`);
        // Repeat: the control block is reused across tasks.
        expectSameBits(w3.matmul(a, b, batch, m, k, n, bBatched), one, `threads 3 again ${what}`);
      }
      const [batch, m, k, n, bBatched] = shapes[0]!;
      const a = randArray(batch * m * k, rnd);
      const b = randArray(k * n, rnd);
      expectSameBits(w2.matmul(a, b, batch, m, k, n, bBatched), ref.matmul(a, b, batch, m, k, n, bBatched), 'threads 2 vs ref');
    } finally {
      w2.close();
      w3.close();
    }
  });

  it('close() stops the workers; later calls throw a coded error; closing twice is harmless', async () => {
    const w = await createWasmBackend({ threads: 2 });
    const x = new Float32Array([1, 2, 3]);
    expect(Array.from(w.unary('neg', x))).toEqual([-1, -2, -3]);
    w.close();
    w.close();
    expect(() => w.unary('neg', x)).toThrow(SwarmError);
    expect(codeOf(() => w.matmul(x, x, 1, 1, 3, 1, false))).toBe('TENSOR_BACKEND_CLOSED');
  });

  it('rejects a bad thread count', async () => {
    await expect(createWasmBackend({ threads: 0 })).rejects.toThrow(SwarmError);
    await expect(createWasmBackend({ threads: 1.5 })).rejects.toThrow(SwarmError);
  });
});

describe('wasm memory limits', () => {
  it('raises TENSOR_TOO_LARGE instead of crashing, and keeps working afterwards', async () => {
    const small = await createWasmBackend({ maxElements: 1 << 16 });
    try {
      const big = new Float32Array(1 << 17);
      expect(codeOf(() => small.unary('exp', big))).toBe('TENSOR_TOO_LARGE');
      expect(codeOf(() => small.binary('add', big, [1], big, [1], [1 << 17]))).toBe('TENSOR_TOO_LARGE');
      expect(codeOf(() => small.reduce('sum', big, 1, 1 << 17, 1))).toBe('TENSOR_TOO_LARGE');
      expect(codeOf(() => small.matmul(big, big, 1, 256, 512, 256, false))).toBe('TENSOR_TOO_LARGE');
      expect(codeOf(() => small.matmul(new Float32Array(0), new Float32Array(0), 1, 512, 0, 512, false))).toBe('TENSOR_TOO_LARGE');
      expect(codeOf(() => small.scatterAdd(big, new Int32Array(1 << 10), 1 << 10, 128))).toBe('TENSOR_TOO_LARGE');
      const x = Float32Array.from([0.5, -2, 3]);
      expectSameBits(small.unary('exp', x), ref.unary('exp', x), 'after TENSOR_TOO_LARGE');
      // Just under the limit still works (memory grows on demand).
      const fits = randArray(1 << 15, lcg(5));
      expectSameBits(small.unary('tanh', fits), ref.unary('tanh', fits), 'near the limit');
    } finally {
      small.close();
    }
  });

  it('grows memory for large operands', () => {
    const x = randArray(3_000_000, lcg(9)); // 12 MB, beyond the initial 2 MiB
    expectSameBits(wasm.unary('neg', x), ref.unary('neg', x), 'large neg');
    const r = wasm.reduce('sum', x, 1000, 3000, 1);
    expectSameBits(r, ref.reduce('sum', x, 1000, 3000, 1), 'large reduce');
  });
});

// ---- every backend against ref ------------------------------------------------

const native = nativeStatus();
/** wasm, then native on every ISA path; paths this CPU lacks are listed as skipped, with the reason. */
const CANDIDATES: Array<{ label: string; skip?: string; make: () => Promise<Backend> }> = [
  { label: 'wasm', make: () => createWasmBackend({ threads: 1 }) },
  ...NATIVE_ISAS.map((isa) => ({
    label: `native ${isa}`,
    skip: !native.available ? native.reason : native.isas.includes(isa) ? undefined : `this CPU has no ${isa} path`,
    make: async () => createNativeBackend({ isa, threads: 1 }),
  })),
];

for (const c of CANDIDATES) {
  describe.skipIf(c.skip !== undefined)(`${c.label}${c.skip !== undefined ? ` (skipped: ${c.skip})` : ''}`, () => {
    let backend: Backend | undefined;
    beforeAll(async () => {
      backend = await c.make();
    });
    afterAll(() => backend?.close());
    const be = (): Backend => {
      if (backend === undefined) throw new Error(`${c.label} was not created`);
      return backend;
    };
    for (const suite of [stridedCopySuite, suite0, suite1, suite2, suite3, suite4]) suite(c.label, be);
  });
}
