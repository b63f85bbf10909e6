/**
 * The `native` backend: the canonical arithmetic of ../backend/backend.ts in
 * C (./c/*.c), built on `npm install` by scripts/build-native.mjs into
 * build/native/swarm_native.node and called through Node-API. It is the
 * speed path for Node providers; `wasm` stays what browsers and machines
 * without a C compiler run. Both give the bits of `ref`
 * (test/tensor/backends-vs-ref.test.ts, fused.test.ts, matmul-t.test.ts,
 * every ISA path this CPU has).
 *
 * ISA paths (matmul's register tile): `avx512` (AVX-512F, 8x32 tile),
 * `avx2` (6x16), `portable` (plain C, the compiler's baseline vectors).
 * Chosen at run time from what the CPU supports, widest first; SWARM_ISA or
 * the `isa` option forces one (tests run every path the machine has). All of
 * them do a rounded multiply, then a rounded add, per term and in order; the
 * build refuses an addon containing a fused multiply-add.
 *
 * Trust: the addon is loaded once per process (per worker thread) and checked
 * before use: its bytes must hash to the SHA-256 the build recorded beside it
 * (build-info.json), since a truncated or half-copied shared object can crash
 * the process inside dlopen before any check could run; its ABI number must
 * match, and a self-test runs every op on
 * every ISA path over small inputs full of IEEE corner cases and compares
 * the bits with `ref`. A missing, foreign, truncated or wrong build makes
 * `nativeStatus()` report why instead of throwing, so callers fall back to
 * `wasm` (same bits) with one clear line.
 *
 * Memory: the addon reads inputs in place and writes each output into an
 * array from a free list (../buffer-pool.ts) that the engine feeds with the
 * arrays it knows are dead (Backend.recycle: autograd's consumed gradients,
 * a finished step's activations), else a fresh one; every kernel writes all
 * of its output, so reuse changes no bit. `maxElements` bounds one op's
 * working set like the wasm backend's (the sandbox derives it from the
 * unit's memory limit): TENSOR_TOO_LARGE.
 *
 * Fused kernels (./c/fused.c, ./c/fused_body.h): RMSNorm, attention softmax,
 * SwiGLU, cross-entropy and rotary embedding, forward and backward, the
 * twins of ../fused-twin.ts bit for bit (checked by the self-test), and
 * matmulT, which reads a transposed operand in place for matmul's gradients.
 */
import { SwarmError } from '../../core/errors.ts';
import type { Backend, BinaryOp, FusedKernels, ReduceOp, UnaryOp } from '../backend/backend.ts';
import { BINARY_OPS, REDUCE_OPS, UNARY_OPS } from '../backend/backend.ts';
import { collapseBroadcast } from '../backend/broadcast.ts';
import { badArgument, checkBinary, checkMatmul, checkMaxElements, checkReduce, checkScatterAdd, checkThreads } from '../backend/checks.ts';
import { createRefBackend } from '../backend/ref.ts';
import { BufferPool } from '../buffer-pool.ts';
import { FUSED_TWIN } from '../fused-twin.ts';
import { stridedCopy } from '../layout.ts';
import { loadAddonFile, nativeAddonPath, requestedIsa } from './load.ts';

export { nativeAddonPath } from './load.ts';

export type NativeIsa = 'avx512' | 'avx2' | 'portable';
/** Widest first; the index in the addon's bit mask is ISA_CODE. */
export const NATIVE_ISAS: readonly NativeIsa[] = ['avx512', 'avx2', 'portable'];
const ISA_CODE: Record<NativeIsa, number> = { portable: 0, avx2: 1, avx512: 2 };

/** Must equal SW_ABI_VERSION in ./c/native.h. */
export const NATIVE_ABI_VERSION = 5;

/** The addon's exports (./c/addon.c). */
interface Addon {
  // `out` (optional): an array of the output's length to write into; the
  // addon returns it, or a new array when it overlaps an input.
  unary(isa: number, op: number, x: Float32Array, out?: Float32Array): Float32Array;
  binary(op: number, a: Float32Array, b: Float32Array, dims: Int32Array, out?: Float32Array): Float32Array;
  reduce(isa: number, op: number, x: Float32Array, outer: number, n: number, inner: number, out?: Float32Array): Float32Array;
  matmul(isa: number, a: Float32Array, b: Float32Array, batch: number, m: number, k: number, n: number, bBatched: number, threads: number, out?: Float32Array, trans?: number): Float32Array;
  scatterAdd(src: Float32Array, indices: Int32Array, rows: number, cols: number): Float32Array;
  stridedCopy(x: Float32Array, dims: Float64Array, offset: number, out?: Float32Array): Float32Array;
  adamw(isa: number, p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, k: Float32Array, decay: number): void;
  /** The fused kernels (./c/fused.c): inputs then outputs in `arrays`; sizes then binary32 scalars in `nums`. */
  fused(op: number, isa: number, threads: number, arrays: Array<Float32Array | null>, targets: Int32Array | null, nums: Float64Array): number | undefined;
  isaMask(): number;
  abiVersion(): number;
}

export interface NativeStatus {
  /** True when the addon loaded and passed its self-test. */
  available: boolean;
  /** ISA paths this CPU can run, widest first (empty when unavailable). */
  isas: NativeIsa[];
  /** Why the native backend is unavailable (one line), when it is. */
  reason?: string;
  /** Where the addon was looked for. */
  path: string;
}

export interface NativeBackendOptions {
  /** Threads for matmul, including the calling one (default 1). */
  threads?: number;
  /** Force an ISA path; default SWARM_ISA, else the widest this CPU has. */
  isa?: NativeIsa;
  /** Largest working set of one op in f32 elements (inputs + output); default unlimited. */
  maxElements?: number;
}

const UNARY_CODE = Object.fromEntries(UNARY_OPS.map((op, i) => [op, i])) as Record<UnaryOp, number>;
const BINARY_CODE = Object.fromEntries(BINARY_OPS.map((op, i) => [op, i])) as Record<BinaryOp, number>;
const REDUCE_CODE = Object.fromEntries(REDUCE_OPS.map((op, i) => [op, i])) as Record<ReduceOp, number>;

let cached: { path: string; status: NativeStatus; addon?: Addon } | undefined;

function unavailable(path: string, reason: string): NativeStatus {
  return { available: false, isas: [], reason, path };
}

function load(): { status: NativeStatus; addon?: Addon } {
  const path = nativeAddonPath();
  if (cached?.path === path) return cached;
  let result: { status: NativeStatus; addon?: Addon };
  const file = loadAddonFile(path);
  if (!file.ok) {
    result = { status: unavailable(path, file.missing ? file.reason : `native build at ${path} not usable: ${file.reason}`) };
  } else {
    try {
      const addon = file.exports as Partial<Addon>;
      for (const fn of ['unary', 'binary', 'reduce', 'matmul', 'scatterAdd', 'stridedCopy', 'adamw', 'fused', 'isaMask', 'abiVersion'] as const) {
        if (typeof addon[fn] !== 'function') throw new Error(`the addon lacks ${fn}()`);
      }
      const full = addon as Addon;
      const abi = full.abiVersion();
      if (abi !== NATIVE_ABI_VERSION) throw new Error(`the addon's ABI is ${abi}, this code expects ${NATIVE_ABI_VERSION} (rebuild: npm run build:native)`);
      const mask = full.isaMask();
      const isas = NATIVE_ISAS.filter((isa) => (mask & (1 << ISA_CODE[isa])) !== 0);
      const failed = selfTest(full, isas);
      if (failed !== undefined) throw new Error(`self-test against ref failed: ${failed}`);
      result = { status: { available: true, isas, path }, addon: full };
    } catch (e) {
      const msg = e instanceof Error ? e.message.split('\n')[0]! : String(e);
      result = { status: unavailable(path, `native build at ${path} not usable: ${msg}`) };
    }
  }
  cached = { path, ...result };
  return result;
}

/** Whether the native backend can run here, and if not, why. Loads and self-tests the addon once. */
export function nativeStatus(): NativeStatus {
  return load().status;
}

// ---- self-test ------------------------------------------------------------

/** IEEE corner cases every op sees in the self-test (subnormals, ±0, overflow, Inf, NaN). */
const CORNERS = [0, -0, 1, -1, 0.5, 3, 1e-40, -3e-39, 1.4e-45, 1.1754942e-38, 1e30, -1e30, 3.4028234663852886e38,
  Infinity, -Infinity, NaN, 88.72283, 88.7229, -103.97208, -104, 0.3, 0.29999998, 9.000001, 2 ** -12, 16777217, 1.4142135];

/** Deterministic test data: corners, then a fixed pseudo-random sequence (xorshift32). */
function testData(len: number, seed: number): Float32Array {
  const out = new Float32Array(len);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < len; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    out[i] = i < CORNERS.length && seed % 2 === 1 ? CORNERS[i]! : (s / 2 ** 31 - 1) * 4;
  }
  return out;
}

function sameBits(x: Float32Array, y: Float32Array): boolean {
  if (x.length !== y.length) return false;
  const a = new Uint32Array(x.buffer, x.byteOffset, x.length);
  const b = new Uint32Array(y.buffer, y.byteOffset, y.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && !(Number.isNaN(x[i]) && Number.isNaN(y[i]))) return false;
  return true;
}

/** Returns a description of the first op whose bits differ from ref, or undefined. */
function selfTest(addon: Addon, isas: readonly NativeIsa[]): string | undefined {
  const ref = createRefBackend();
  const x = testData(64, 1);
  for (const isa of isas) {
    for (const op of UNARY_OPS) if (!sameBits(addon.unary(ISA_CODE[isa], UNARY_CODE[op], x), ref.unary(op, x))) return `unary ${op} (${isa})`;
  }
  const a = testData(24, 3), b = testData(4, 5);
  for (const op of BINARY_OPS) {
    const got = addon.binary(BINARY_CODE[op], a, b, Int32Array.of(2, 6, 4, 4, 1, 0, 1));
    if (!sameBits(got, ref.binary(op, a, [4, 1], b, [0, 1], [6, 4]))) return `binary ${op}`;
  }
  const r = testData(77, 7);
  for (const isa of isas) {
    for (const op of REDUCE_OPS) {
      // [3, 5, 4] reduces across columns; [11, 7, 1] takes the eight-rows-at-once path and its tail.
      for (const [o, n, i] of [[3, 5, 4], [11, 7, 1]] as const) {
        const xs = r.subarray(0, o * n * i);
        if (!sameBits(addon.reduce(ISA_CODE[isa], REDUCE_CODE[op], xs, o, n, i), ref.reduce(op, xs, o, n, i))) return `reduce ${op} [${o}, ${n}, ${i}] (${isa})`;
      }
    }
  }
  const src = testData(15, 9), idx = Int32Array.of(2, 0, 2, 1, 2);
  if (!sameBits(addon.scatterAdd(src, idx, 4, 3), ref.scatterAdd(src, idx, 4, 3))) return 'scatterAdd';
  // A permuted and broadcast view: [2, 3, 4] read with strides [1, 0, 2] from offset 1.
  if (!sameBits(addon.stridedCopy(r, Float64Array.of(3, 2, 3, 4, 1, 0, 2), 1), stridedCopy(r, [2, 3, 4], [1, 0, 2], 1))) return 'stridedCopy';
  // Sizes that leave ragged tiles on both edges for every register tile (6x16, 8x32).
  const [m, k, n] = [13, 37, 35];
  const ma = testData(2 * m * k, 11), mb = testData(2 * k * n, 13);
  const want = ref.matmul(ma, mb, 2, m, k, n, true);
  // adamw: the per-element update of src/train/adamw.ts, restated here because
  // the tensor layer may not import train/ (test/train/adamw-fused.test.ts
  // holds the kernel to adamw.ts itself on random inputs).
  const f = Math.fround;
  const kk = Float32Array.of(f(0.75), f(0.9), f(0.95), f(0.1), f(0.05), f(0.19), f(0.0975), f(3e-3), f(1e-8), f(0.1));
  for (const decay of [0, 1]) {
    const p0 = testData(40, 15), g0 = testData(40, 17), m0 = testData(40, 19).map(Math.abs), v0 = testData(40, 21).map(Math.abs);
    const [wp, wm, wv] = [p0.slice(), m0.slice(), v0.slice()];
    for (let i = 0; i < 40; i++) {
      const gi = f(g0[i]! * kk[0]!);
      wm[i] = f(f(kk[1]! * wm[i]!) + f(kk[3]! * gi));
      wv[i] = f(f(kk[2]! * wv[i]!) + f(kk[4]! * f(gi * gi)));
      let u = f(f(wm[i]! / kk[5]!) / f(f(Math.sqrt(f(wv[i]! / kk[6]!))) + kk[8]!));
      if (decay === 1) u = f(u + f(kk[9]! * wp[i]!));
      wp[i] = f(wp[i]! - f(kk[7]! * u));
    }
    for (const isa of isas) {
      const [p, m, v] = [p0.slice(), m0.slice(), v0.slice()];
      addon.adamw(ISA_CODE[isa], p, g0, m, v, kk, decay);
      if (!sameBits(p, wp) || !sameBits(m, wm) || !sameBits(v, wv)) return `adamw (${isa}, decay ${decay})`;
    }
  }
  for (const isa of isas) {
    for (const threads of [1, 2]) {
      if (!sameBits(addon.matmul(ISA_CODE[isa], ma, mb, 2, m, k, n, 1, threads), want)) return `matmul (${isa}, ${threads} threads)`;
    }
  }
  // The fused kernels against their TypeScript twins (which test/tensor/fused.test.ts holds to the composed ops).
  for (const isa of isas) {
    const why = fusedSelfTest(nativeFused(addon, ISA_CODE[isa], 1, () => {}, (n) => new Float32Array(n)));
    if (why !== undefined) return `fused ${why} (${isa})`;
  }
  return undefined;
}

/** Returns the first fused kernel whose bits differ from its twin's on small inputs with corner cases, or undefined. */
function fusedSelfTest(k: FusedKernels): string | undefined {
  const t = FUSED_TWIN;
  const rows = 6, d = 5;
  const x = testData(rows * d, 23), w = testData(d, 25), g = testData(rows * d, 27), acc = testData(rows * d, 29);
  const a = k.rmsNorm(x, w, rows, d, Math.fround(1e-5)), b = t.rmsNorm(x, w, rows, d, Math.fround(1e-5));
  if (!sameBits(a.y, b.y) || !sameBits(a.r, b.r)) return 'rmsNorm';
  for (const ac of [null, acc]) {
    const c = k.rmsNormBackward(g, x, w, b.r, rows, d, ac), e = t.rmsNormBackward(g, x, w, b.r, rows, d, ac);
    if (!sameBits(c.dx, e.dx) || !sameBits(c.dw, e.dw)) return 'rmsNormBackward';
  }
  const mask = Float32Array.of(0, -Infinity, -Infinity, -Infinity, -Infinity, 0, 0, -Infinity, -Infinity, -Infinity, 0, 0, 0, 0, -Infinity);
  const sa = k.attnSoftmax(x, 0.25, mask, rows, d, 3), sb = t.attnSoftmax(x, 0.25, mask, rows, d, 3);
  if (!sameBits(sa.y, sb.y) || !sameBits(sa.m, sb.m) || !sameBits(sa.s, sb.s)) return 'attnSoftmax';
  if (!sameBits(k.attnSoftmaxBackward(g, x, 0.25, mask, sb.m, sb.s, rows, d, 3), t.attnSoftmaxBackward(g, x, 0.25, mask, sb.m, sb.s, rows, d, 3))) return 'attnSoftmaxBackward';
  const up = testData(rows * d, 31);
  if (!sameBits(k.swiglu(x, up), t.swiglu(x, up))) return 'swiglu';
  const sg = k.swigluBackward(g, x, up), tg = t.swigluBackward(g, x, up);
  if (!sameBits(sg.dGate, tg.dGate) || !sameBits(sg.dUp, tg.dUp)) return 'swigluBackward';
  const targets = Int32Array.of(0, 4, 2, 2, 1, 3);
  const ca = k.crossEntropy(x, targets, rows, d), cb = t.crossEntropy(x, targets, rows, d);
  if (!sameBits(Float32Array.of(ca.loss), Float32Array.of(cb.loss)) || !sameBits(ca.m, cb.m) || !sameBits(ca.se, cb.se)) return 'crossEntropy';
  if (!sameBits(k.crossEntropyBackward(0.75, x, targets, cb.m, cb.se, rows, d), t.crossEntropyBackward(0.75, x, targets, cb.m, cb.se, rows, d))) return 'crossEntropyBackward';
  const x6 = testData(rows * 6, 33), cs = testData(18, 35), sn = testData(18, 37), g6 = testData(rows * 6, 39);
  if (!sameBits(k.rope(x6, cs, sn, rows, 6, 3), t.rope(x6, cs, sn, rows, 6, 3))) return 'rope';
  for (const ac of [null, testData(rows * 6, 41)]) {
    if (!sameBits(k.ropeBackward(g6, cs, sn, rows, 6, 3, ac), t.ropeBackward(g6, cs, sn, rows, 6, 3, ac))) return 'ropeBackward';
  }
  return undefined;
}

/** Op codes of ./c/native.h's SW_F_* (2, RMSNorm's dw pass, is internal to fused.c). */
const F = { rmsNorm: 0, rmsNormBack: 1, softmax: 3, softmaxBack: 4, swiglu: 5, swigluBack: 6, ce: 7, ceBack: 8, rope: 9, ropeBack: 10 } as const;

/** The FusedKernels of the addon on one ISA path; `check(elements, what)` runs first (closed backend, working-set limit). */
function nativeFused(addon: Addon, isa: number, threads: number, check: (elements: number, what: string) => void, alloc: (n: number) => Float32Array): FusedKernels {
  const call = (op: number, what: string, arrays: Array<Float32Array | null>, targets: Int32Array | null, nums: number[]) => {
    check(arrays.reduce((s, a) => s + (a?.length ?? 0), 0), what);
    return addon.fused(op, isa, threads, arrays, targets, Float64Array.from(nums));
  };
  return {
    rmsNorm(x, w, rows, d, eps) {
      const y = alloc(rows * d), r = alloc(rows);
      call(F.rmsNorm, 'rmsNorm', [x, w, y, r], null, [rows, d, eps]);
      return { y, r };
    },
    rmsNormBackward(g, x, w, r, rows, d, acc) {
      const dx = alloc(rows * d), dw = alloc(d);
      call(F.rmsNormBack, 'rmsNormBackward', [g, x, w, r, acc, dx, dw], null, [rows, d]);
      return { dx, dw };
    },
    attnSoftmax(x, scale, mask, rows, n, maskRows) {
      const y = alloc(rows * n), m = alloc(rows), s = alloc(rows);
      call(F.softmax, 'attnSoftmax', [x, mask, y, m, s], null, [rows, n, maskRows, scale]);
      return { y, m, s };
    },
    attnSoftmaxBackward(g, x, scale, mask, m, s, rows, n, maskRows) {
      const dx = alloc(rows * n);
      call(F.softmaxBack, 'attnSoftmaxBackward', [g, x, mask, m, s, dx], null, [rows, n, maskRows, scale]);
      return dx;
    },
    swiglu(gate, up) {
      const out = alloc(gate.length);
      call(F.swiglu, 'swiglu', [gate, up, out], null, [gate.length]);
      return out;
    },
    swigluBackward(g, gate, up) {
      const dGate = alloc(gate.length), dUp = alloc(gate.length);
      call(F.swigluBack, 'swigluBackward', [g, gate, up, dGate, dUp], null, [gate.length]);
      return { dGate, dUp };
    },
    crossEntropy(logits, targets, rows, v) {
      const m = alloc(rows), se = alloc(rows), lp = alloc(rows);
      const loss = call(F.ce, 'crossEntropy', [logits, m, se, lp], targets, [rows, v])!;
      return { loss, m, se };
    },
    crossEntropyBackward(gLoss, logits, targets, m, se, rows, v) {
      const dx = alloc(rows * v);
      call(F.ceBack, 'crossEntropyBackward', [logits, m, se, dx], targets, [rows, v, gLoss]);
      return dx;
    },
    rope(x, cos, sin, rows, d, tRows) {
      const y = alloc(rows * d);
      call(F.rope, 'rope', [x, cos, sin, y], null, [rows, d, tRows]);
      return y;
    },
    ropeBackward(g, cos, sin, rows, d, tRows, acc) {
      const dx = alloc(rows * d);
      call(F.ropeBack, 'ropeBackward', [g, cos, sin, acc, dx], null, [rows, d, tRows]);
      return dx;
    },
  };
}

// ---- the backend ------------------------------------------------------------

/** The ISA a backend should use: the option, else SWARM_ISA, else the widest available. */
export function chooseIsa(status: NativeStatus, requested?: string): NativeIsa {
  const want = requested ?? requestedIsa();
  if (want === undefined) return status.isas[0]!;
  if (!(NATIVE_ISAS as readonly string[]).includes(want)) {
    throw new SwarmError('NATIVE_BAD_ISA', `unknown ISA path "${want}" (expected one of ${NATIVE_ISAS.join(', ')})`);
  }
  if (!status.isas.includes(want as NativeIsa)) {
    throw new SwarmError('NATIVE_ISA_UNAVAILABLE', `this CPU cannot run the ${want} path (it has: ${status.isas.join(', ')})`, { isa: want, available: status.isas });
  }
  return want as NativeIsa;
}

/** `pool`: the free list its outputs come from (buffer-pool.ts); its stats say how many were fresh. */
export type NativeBackend = Backend & { readonly isa: NativeIsa; readonly pool: BufferPool };

/** Throws NATIVE_UNAVAILABLE (with the reason) when the addon cannot be used; see nativeStatus(). */
export function createNativeBackend(opts: NativeBackendOptions = {}): NativeBackend {
  const { status, addon } = load();
  if (!status.available || addon === undefined) {
    throw new SwarmError('NATIVE_UNAVAILABLE', status.reason ?? 'the native backend is unavailable', { path: status.path });
  }
  const threads = opts.threads ?? 1;
  checkThreads(threads);
  const maxElements = opts.maxElements;
  checkMaxElements(maxElements);
  const isa = chooseIsa(status, opts.isa);
  const isaCode = ISA_CODE[isa];
  let closed = false;
  // Outputs come from buffers the engine recycled (Backend.recycle) when one
  // of the right length is free; every kernel writes all of its output.
  // A unit run with a working-set limit (maxElements, from the sandbox's
  // memory limit) keeps no more dead buffers than one op may use.
  const pool = BufferPool.forMaxElements(maxElements);
  const take = (n: number) => pool.take(n);

  function check(elements: number, what: string): void {
    if (closed) throw new SwarmError('TENSOR_BACKEND_CLOSED', 'the native backend was closed');
    if (maxElements !== undefined && elements > maxElements) {
      throw new SwarmError('TENSOR_TOO_LARGE', `${what} needs ${elements} f32 elements; the limit is ${maxElements}`, { op: what, elements, maxElements });
    }
  }

  return {
    name: 'native',
    isa,
    threads,
    pool,
    fused: nativeFused(addon, isaCode, threads, check, take),

    recycle(a) {
      pool.give(a);
    },

    unary(op, x) {
      const code = UNARY_CODE[op];
      if (code === undefined) badArgument(`unknown unary op ${String(op)}`);
      check(2 * x.length, `unary ${op}`);
      return addon.unary(isaCode, code, x, take(x.length));
    },

    binary(op, a, aStrides, b, bStrides, shape) {
      const code = BINARY_CODE[op];
      if (code === undefined) badArgument(`unknown binary op ${String(op)}`);
      const size = checkBinary(op, a, aStrides, b, bStrides, shape);
      if (size === 0) return new Float32Array(0);
      check(a.length + b.length + size, `binary ${op}`);
      const { dims, sa, sb } = collapseBroadcast(shape, aStrides, bStrides);
      for (const v of [...dims, ...sa, ...sb]) if (v > 0x7fffffff) badArgument(`binary ${op}: a dimension or stride exceeds 2^31-1`);
      return addon.binary(code, a, b, Int32Array.from([dims.length, ...dims, ...sa, ...sb]), take(size));
    },

    reduce(op, x, outer, n, inner) {
      const code = REDUCE_CODE[op];
      if (code === undefined) badArgument(`unknown reduce op ${String(op)}`);
      const size = checkReduce(op, x, outer, n, inner);
      if (size === 0) return new Float32Array(0);
      check(size * n + size, `reduce ${op}`);
      return addon.reduce(isaCode, code, x.length === size * n ? x : x.subarray(0, size * n), outer, n, inner, take(size));
    },

    matmul(a, b, batch, m, k, n, bBatched) {
      const { aCount, bCount, outSize } = checkMatmul(a, b, batch, m, k, n, bBatched);
      check(aCount + bCount + outSize, 'matmul');
      if (outSize === 0 || k === 0) return new Float32Array(outSize); // empty sums are +0
      return addon.matmul(isaCode, a.length === aCount ? a : a.subarray(0, aCount), b.length === bCount ? b : b.subarray(0, bCount),
        batch, m, k, n, bBatched ? 1 : 0, threads, take(outSize));
    },

    matmulT(a, b, batch, m, k, n, bBatched, transA, transB) {
      // The element counts are those of the untransposed operands.
      const { aCount, bCount, outSize } = checkMatmul(a, b, batch, m, k, n, bBatched);
      check(aCount + bCount + outSize, 'matmul');
      if (outSize === 0 || k === 0) return new Float32Array(outSize);
      return addon.matmul(isaCode, a.length === aCount ? a : a.subarray(0, aCount), b.length === bCount ? b : b.subarray(0, bCount),
        batch, m, k, n, bBatched ? 1 : 0, threads, take(outSize), (transA ? 1 : 0) | (transB ? 2 : 0));
    },

    scatterAdd(src, indices, rows, cols) {
      const size = checkScatterAdd(src, indices, rows, cols);
      if (size === 0) return new Float32Array(0);
      const count = indices.length;
      check(count * cols + size, 'scatterAdd');
      return addon.scatterAdd(src.length === count * cols ? src : src.subarray(0, count * cols), indices, rows, cols);
    },

    stridedCopy(x, shape, strides, offset) {
      // The same walk with fewer, longer runs (one operand's view collapsed
      // as broadcast.ts collapses two): layout.ts's order is kept.
      const { dims, sa: st } = collapseBroadcast(shape, strides, strides);
      check(x.length + dims.reduce((a, b) => a * b, 1), 'stridedCopy');
      const size = dims.reduce((a, b) => a * b, 1);
      return addon.stridedCopy(x, Float64Array.from([dims.length, ...dims, ...st]), offset, take(size));
    },

    adamwUpdate(p, g, m, v, s) {
      check(0, 'adamwUpdate'); // in place: nothing new to bound, but a closed backend refuses
      if (g.length !== p.length || m.length !== p.length || v.length !== p.length) {
        throw new SwarmError('TENSOR_SHAPE_MISMATCH', `adamwUpdate: ${p.length} parameters, ${g.length} gradients, ${m.length}/${v.length} state values`);
      }
      addon.adamw(isaCode, p, g, m, v, Float32Array.of(s.gradScale, s.b1, s.b2, s.c1, s.c2, s.bc1, s.bc2, s.lr, s.eps, s.wd), s.decay ? 1 : 0);
    },

    close() {
      closed = true;
    },
  };
}
