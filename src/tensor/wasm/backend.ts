/**
 * The `wasm` backend: the canonical arithmetic of ../backend/backend.ts run
 * by AssemblyScript kernels compiled to WebAssembly SIMD (./assembly/*.ts,
 * built by scripts/build-wasm.mjs and embedded as ./kernels.generated.ts, so
 * this layer reads no files). It must agree with the `ref` backend bit for
 * bit on every input; test/tensor/backends-vs-ref.test.ts checks that.
 *
 * Why WebAssembly gives the same bits everywhere: its f32 arithmetic is IEEE
 * 754 binary32 with round-to-nearest-even and subnormals, never fused or
 * widened (WebAssembly core spec §4.3.3; SIMD lanes are the same scalar ops).
 * The only non-determinism the spec allows is the NaN payload, which the
 * canonical contract already leaves open. We never enable relaxed-simd.
 *
 * Memory: one shared WebAssembly.Memory per backend, grown on demand up to a
 * maximum fixed at creation. For each call the inputs are copied in, the
 * kernel runs, and the output is copied out into a Float32Array of its own
 * (a recycled one when the engine handed one back, see copyOut), so no
 * caller ever holds a view of wasm memory (which growth would detach).
 *
 * Threads: `threads - 1` worker_threads (./pool-worker.mjs, started by
 * ./pool-threads.ts) share the memory.
 * A large matmul is cut into row chunks handed out through an Atomics counter
 * on a SharedArrayBuffer control block; the calling thread takes chunks too
 * and then blocks in Atomics.wait until every worker has acknowledged, so
 * matmul stays synchronous. Each output element is computed whole by one
 * thread with the same kernel, so any thread count gives the same bits.
 */
import { SwarmError } from '../../core/errors.ts';
import type { Backend, BinaryOp, ReduceOp, UnaryOp } from '../backend/backend.ts';
import { collapseBroadcast } from '../backend/broadcast.ts';
import { badArgument, checkBinary, checkMatmul, checkMaxElements, checkReduce, checkScatterAdd, checkThreads } from '../backend/checks.ts';
import { decodeKernels } from './kernels.generated.ts';
import { startPoolThreads } from './pool-threads.ts';
import { BufferPool } from '../buffer-pool.ts';
import type { PoolThread } from './pool-threads.ts';

/*
 * The slice of the WebAssembly JS API used here, declared locally because
 * this project's tsconfig has no DOM lib and @types/node 20 does not type it.
 */
interface WasmModule {
  readonly __wasmModule?: never;
}
interface WasmMemory {
  readonly buffer: SharedArrayBuffer;
  grow(deltaPages: number): number;
}
interface WasmGlobal {
  readonly value: number;
}
declare const WebAssembly: {
  compile(bytes: Uint8Array): Promise<WasmModule>;
  instantiate(module: WasmModule, imports: object): Promise<{ exports: object }>;
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
};

/** The kernels module's exports (see ./assembly/index.ts). */
interface Kernels {
  heapBase(): number;
  unary(op: number, x: number, out: number, len: number): void;
  binary(op: number, a: number, b: number, out: number, dims: number, sa: number, sb: number, idx: number, nd: number): void;
  reduce(op: number, x: number, out: number, outer: number, n: number, inner: number): void;
  scatterAdd(src: number, idx: number, out: number, count: number, rows: number, cols: number): void;
  packB(b: number, bp: number, k: number, n: number): void;
  matmulRows(a: number, bp: number, c: number, k: number, n: number, r0: number, r1: number, scratch: number): void;
  matmulScratchBytes(): number;
  MR: WasmGlobal;
  NR: WasmGlobal;
}

export interface WasmBackendOptions {
  /** Threads for matmul, including the calling one (default 1). */
  threads?: number;
  /**
   * Largest working set of one op, in f32 elements (inputs + output +
   * scratch); ops that need more throw TENSOR_TOO_LARGE. Default: as much as
   * a wasm32 memory holds (4 GiB).
   */
  maxElements?: number;
}

// Op codes, in the order of the constants in ./assembly/{unary,binary,reduce}.ts.
const UNARY_CODE: Record<UnaryOp, number> = { neg: 0, exp: 1, log: 2, sqrt: 3, rsqrt: 4, tanh: 5 };
const BINARY_CODE: Record<BinaryOp, number> = { add: 0, sub: 1, mul: 2, div: 3, max: 4, gt: 5, eq: 6 };
const REDUCE_CODE: Record<ReduceOp, number> = { sum: 0, max: 1 };

const PAGE = 65536;
const MAX_PAGES = 65536; // wasm32: 4 GiB, as declared by scripts/build-wasm.mjs
const INITIAL_PAGES = 32; // 2 MiB, grown on demand
/** Bytes at the heap base for small parameter arrays (binary's dims/strides/index). */
const PARAM_BYTES = 512;

/**
 * Below this many flops (2*batch*m*k*n) a matmul runs on the calling thread
 * alone. Waking the workers and waiting for every one to acknowledge costs
 * tens to hundreds of microseconds on a busy machine; measured here, 128^3
 * (2^22 flops, ~0.15 ms on one core) gained nothing from a second thread and
 * 256^3 gained ~1.3-1.5x.
 */
export const PARALLEL_MIN_FLOPS = 1 << 23;
/** Chunks per thread a parallel matmul aims for (dynamic load balancing). */
const CHUNKS_PER_THREAD = 4;

// Control block layout, mirrored in ./pool-worker.mjs.
const SEQ = 0, NEXT = 1, ACK = 2, ERR = 3, QUIT = 4;
const P_A = 8, P_BP = 9, P_C = 10, P_K = 11, P_N = 12, P_M = 13, P_ROWS = 14, P_CPB = 15, P_TOTAL = 16;
const P_ASTRIDE = 17, P_BPSTRIDE = 18, P_CSTRIDE = 19, P_SCRATCH = 20, P_SCRATCH_STRIDE = 21;
const CONTROL_INTS = 32;

let compiled: Promise<WasmModule> | undefined;
function kernelsModule(): Promise<WasmModule> {
  compiled ??= WebAssembly.compile(decodeKernels());
  return compiled;
}

/** Rounds a byte count up to a multiple of 64 (a cache line; keeps f32x4 accesses aligned). */
function align64(bytes: number): number {
  return Math.ceil(bytes / 64) * 64;
}



export async function createWasmBackend(opts: WasmBackendOptions = {}): Promise<Backend> {
  const threads = opts.threads ?? 1;
  checkThreads(threads);
  const maxElements = opts.maxElements;
  checkMaxElements(maxElements);

  const module = await kernelsModule();
  // Upper bound of the memory: the working set plus one page for the static
  // area (the kernels have none, but the heap base is module-defined) and
  // per-thread matmul scratch (< 128 KiB per thread).
  const maxPages = maxElements === undefined
    ? MAX_PAGES
    : Math.min(MAX_PAGES, Math.ceil((maxElements * 4) / PAGE) + 1 + Math.ceil((threads * 131072) / PAGE));
  const memory = new WebAssembly.Memory({ initial: Math.min(INITIAL_PAGES, maxPages), maximum: maxPages, shared: true });
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  const K = instance.exports as unknown as Kernels;

  const heap = align64(K.heapBase());
  const params = heap;
  const dataStart = heap + PARAM_BYTES;
  const scratchBytes = align64(K.matmulScratchBytes());
  const MR = K.MR.value;
  const NR = K.NR.value;
  const maxBytes = maxPages * PAGE;
  const limitBytes = maxElements === undefined ? maxBytes : Math.min(maxBytes, dataStart + maxElements * 4 + threads * scratchBytes);

  let f32 = new Float32Array(memory.buffer);
  let i32 = new Int32Array(memory.buffer);
  let closed = false;
  /** Set when a worker dies after start-up; every later call then throws. */
  let broken: unknown;

  /** Throws TENSOR_TOO_LARGE unless an op ending at byte `end` fits the limit. */
  function checkLimit(end: number, what: string): void {
    if (closed) throw new SwarmError('TENSOR_BACKEND_CLOSED', 'the wasm backend was closed');
    if (broken !== undefined) throw new SwarmError('TENSOR_WORKER_FAILED', 'a wasm matmul worker died', undefined, { cause: broken });
    if (end > limitBytes) {
      throw new SwarmError('TENSOR_TOO_LARGE', `${what} needs ${Math.ceil((end - dataStart) / 4)} f32 elements of wasm memory; the limit is ${Math.floor((limitBytes - dataStart) / 4)}`, {
        op: what, neededBytes: end, limitBytes,
      });
    }
  }

  /** Makes [0, end) addressable, or throws TENSOR_TOO_LARGE. */
  function reserve(end: number, what: string): void {
    checkLimit(end, what);
    const have = memory.buffer.byteLength;
    if (end > have) {
      try {
        memory.grow(Math.ceil((end - have) / PAGE));
      } catch (e) {
        throw new SwarmError('TENSOR_TOO_LARGE', `${what}: cannot grow wasm memory to ${end} bytes`, { op: what, neededBytes: end }, { cause: e });
      }
    }
    if (f32.buffer.byteLength !== memory.buffer.byteLength) {
      f32 = new Float32Array(memory.buffer);
      i32 = new Int32Array(memory.buffer);
    }
  }

  // ---- matmul pool -------------------------------------------------------
  // Shared only when helpers need it: one thread (every browser unit) works
  // on a plain buffer, so no SharedArrayBuffer is needed for the block.
  const control = new Int32Array(threads > 1 ? new SharedArrayBuffer(CONTROL_INTS * 4) : new ArrayBuffer(CONTROL_INTS * 4));
  const workers: PoolThread[] = threads > 1
    ? await startPoolThreads(threads - 1, { module, memory, control: control.buffer as SharedArrayBuffer }, (e) => {
      if (!closed) broken ??= e;
    })
    : [];

  /** Runs chunk `c` of the task in the control block on this thread. */
  function runChunk(c: number, scratch: number): void {
    const cpb = control[P_CPB]!;
    const rows = control[P_ROWS]!;
    const b = Math.floor(c / cpb);
    const r0 = (c - b * cpb) * rows;
    const r1 = Math.min(r0 + rows, control[P_M]!);
    const u = (i: number) => control[i]! >>> 0;
    K.matmulRows(u(P_A) + b * u(P_ASTRIDE), u(P_BP) + b * u(P_BPSTRIDE), u(P_C) + b * u(P_CSTRIDE),
      control[P_K]!, control[P_N]!, r0, r1, scratch);
  }

  function matmulParallel(A: number, BP: number, C: number, batch: number, m: number, k: number, n: number,
    aStride: number, bpStride: number, cStride: number, S: number): void {
    const nThreads = workers.length + 1;
    // Chunk height: a multiple of MR near (all rows) / (threads * CHUNKS_PER_THREAD).
    const target = Math.ceil((batch * m) / (nThreads * CHUNKS_PER_THREAD));
    const rows = Math.min(Math.ceil(m / MR) * MR, Math.max(MR, Math.ceil(target / MR) * MR));
    const cpb = Math.ceil(m / rows);
    const total = batch * cpb;
    control[P_A] = A | 0; control[P_BP] = BP | 0; control[P_C] = C | 0;
    control[P_K] = k; control[P_N] = n; control[P_M] = m;
    control[P_ROWS] = rows; control[P_CPB] = cpb; control[P_TOTAL] = total;
    control[P_ASTRIDE] = aStride | 0; control[P_BPSTRIDE] = bpStride | 0; control[P_CSTRIDE] = cStride | 0;
    control[P_SCRATCH] = S | 0; control[P_SCRATCH_STRIDE] = scratchBytes;
    Atomics.store(control, NEXT, 0);
    Atomics.store(control, ACK, 0);
    Atomics.store(control, ERR, 0);
    Atomics.add(control, SEQ, 1);
    Atomics.notify(control, SEQ);
    let failure: unknown;
    try {
      for (;;) {
        const c = Atomics.add(control, NEXT, 1);
        if (c >= total) break;
        runChunk(c, S);
      }
    } catch (e) {
      failure = e;
      Atomics.store(control, NEXT, total); // let the workers stop early
    }
    for (;;) {
      const acks = Atomics.load(control, ACK);
      if (acks >= workers.length) break;
      Atomics.wait(control, ACK, acks);
    }
    if (failure !== undefined || Atomics.load(control, ERR) !== 0) {
      throw new SwarmError('TENSOR_WORKER_FAILED', 'a wasm matmul kernel failed', { batch, m, k, n }, { cause: failure });
    }
  }

  // Outputs leave wasm memory in arrays from a free list the engine refills
  // (../buffer-pool.ts, Backend.recycle), not in fresh ones: a fresh large
  // ArrayBuffer costs page faults and zero-filling, which in Chromium made a
  // micro 8×128 training step ~4× slower than in Node (swarm bench browser;
  // a 16 MiB slice: ~58 ms in Chromium 150 against 6–17 ms in Node 20). A
  // kernel's output is copied whole, so reuse cannot change a bit.
  const pool = BufferPool.forMaxElements(maxElements);
  function copyOut(byteOffset: number, length: number): Float32Array {
    const out = pool.take(length);
    out.set(f32.subarray(byteOffset >>> 2, (byteOffset >>> 2) + length));
    return out;
  }

  const backend: Backend = {
    name: 'wasm',
    threads,

    recycle(a) {
      pool.give(a);
    },

    unary(op, x) {
      const code = UNARY_CODE[op];
      if (code === undefined) badArgument(`unknown unary op ${String(op)}`);
      const len = x.length;
      if (len === 0) return new Float32Array(0);
      const X = dataStart;
      reserve(X + align64(len * 4), `unary ${op}`);
      f32.set(x, X >>> 2);
      K.unary(code, X, X, len); // in place: element i is read before it is written
      return copyOut(X, len);
    },

    binary(op, a, aStrides, b, bStrides, shape) {
      const code = BINARY_CODE[op];
      if (code === undefined) badArgument(`unknown binary op ${String(op)}`);
      const size = checkBinary(op, a, aStrides, b, bStrides, shape);
      if (size === 0) return new Float32Array(0);
      const { dims, sa, sb } = collapseBroadcast(shape, aStrides, bStrides);
      const A = dataStart;
      const B = A + align64(a.length * 4);
      const O = B + align64(b.length * 4);
      reserve(O + align64(size * 4), `binary ${op}`);
      f32.set(a, A >>> 2);
      f32.set(b, B >>> 2);
      const nd = dims.length;
      const P = params >>> 2; // dims | sa | sb | idx, 8 i32 each
      for (let d = 0; d < nd; d++) {
        i32[P + d] = dims[d]!;
        i32[P + 8 + d] = sa[d]!;
        i32[P + 16 + d] = sb[d]!;
      }
      K.binary(code, A, B, O, params, params + 32, params + 64, params + 96, nd);
      return copyOut(O, size);
    },

    reduce(op, x, outer, n, inner) {
      const code = REDUCE_CODE[op];
      if (code === undefined) badArgument(`unknown reduce op ${String(op)}`);
      const size = checkReduce(op, x, outer, n, inner);
      if (size === 0) return new Float32Array(0);
      if (n === 0) return new Float32Array(size).fill(op === 'sum' ? 0 : -Infinity);
      const X = dataStart;
      const O = X + align64(size * n * 4);
      reserve(O + align64(size * 4), `reduce ${op}`);
      f32.set(x.length === size * n ? x : x.subarray(0, size * n), X >>> 2);
      K.reduce(code, X, O, outer, n, inner);
      return copyOut(O, size);
    },

    matmul(a, b, batch, m, k, n, bBatched) {
      const { bCount, outSize } = checkMatmul(a, b, batch, m, k, n, bBatched);
      if (outSize === 0 || k === 0) {
        checkLimit(dataStart + align64(outSize * 4), 'matmul'); // the same limit as the kernel path
        return new Float32Array(outSize); // empty sums are +0
      }
      const nb = bBatched ? batch : 1;
      const packed = Math.ceil(n / NR) * NR * k * 4; // ceil(n/NR) panels of k x NR (see packB)
      // Layout: A | B | packed B (per batch when bBatched) | C | per-thread scratch.
      const A = dataStart;
      const B = A + align64(batch * m * k * 4);
      const BP = B + align64(bCount * 4);
      const C = BP + align64(nb * packed);
      const S = C + align64(outSize * 4);
      const flops = 2 * batch * m * k * n;
      const parallel = workers.length > 0 && flops >= PARALLEL_MIN_FLOPS && batch * m >= 2 * MR;
      // Sizes are checked as float64 before anything is cast to a wasm i32.
      reserve(S + (parallel ? workers.length + 1 : 1) * scratchBytes, 'matmul');
      f32.set(a.length === batch * m * k ? a : a.subarray(0, batch * m * k), A >>> 2);
      f32.set(b.length === bCount ? b : b.subarray(0, bCount), B >>> 2);
      for (let q = 0; q < nb; q++) K.packB(B + q * k * n * 4, BP + q * packed, k, n);
      const aStride = m * k * 4;
      const bpStride = bBatched ? packed : 0;
      const cStride = m * n * 4;
      if (parallel) {
        matmulParallel(A, BP, C, batch, m, k, n, aStride, bpStride, cStride, S);
      } else {
        for (let q = 0; q < batch; q++) K.matmulRows(A + q * aStride, BP + q * bpStride, C + q * cStride, k, n, 0, m, S);
      }
      return copyOut(C, outSize);
    },

    scatterAdd(src, indices, rows, cols) {
      const size = checkScatterAdd(src, indices, rows, cols);
      if (size === 0) return new Float32Array(0);
      const count = indices.length;
      const Sr = dataStart;
      const I = Sr + align64(count * cols * 4);
      const O = I + align64(count * 4);
      reserve(O + align64(size * 4), 'scatterAdd');
      f32.set(src.length === count * cols ? src : src.subarray(0, count * cols), Sr >>> 2);
      i32.set(indices, I >>> 2);
      K.scatterAdd(Sr, I, O, count, rows, cols);
      return copyOut(O, size);
    },

    close() {
      if (closed) return;
      closed = true;
      if (workers.length > 0) {
        Atomics.store(control, QUIT, 1);
        Atomics.add(control, SEQ, 1);
        Atomics.notify(control, SEQ);
        for (const w of workers) w.terminate();
      }
    },
  };
  return backend;
}
