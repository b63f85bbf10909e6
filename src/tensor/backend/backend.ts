/**
 * The kernel interface every backend implements. It is deliberately small:
 * only the operations that do floating-point arithmetic live here. Pure data
 * movement (reshape, permute, slice, concat, gather, where, broadcast copies)
 * does no arithmetic, cannot change a bit, and is shared by all backends
 * (see ../layout.ts).
 *
 * The canonical arithmetic (defined by the `ref` backend, reproduced bit for
 * bit by every other backend):
 *  - binary32 everywhere; every multiply and every add is rounded to binary32
 *    on its own (no fused multiply-add, no wider accumulators);
 *  - transcendentals are the project's own (../math.ts), never the host's;
 *  - every sum starts from +0 and adds its terms in increasing index order;
 *  - max is IEEE 754-2019 `maximum` (NaN wins, +0 > -0), starting from -Inf;
 *  - matmul: out[b,i,j] = (((+0 + a[b,i,0]*b[b,0,j]) + a[b,i,1]*b[b,1,j]) + ...)
 *    with p = 0..k-1 in order, each product rounded before the add.
 * NaN payloads are not canonical (WebAssembly leaves them non-deterministic,
 * spec §4.3.3); tests treat all NaNs as equal and result hashing must
 * canonicalise or reject NaN.
 */
export type UnaryOp = 'neg' | 'exp' | 'log' | 'sqrt' | 'rsqrt' | 'tanh';
/** gt / eq give 1 or 0 (NaN compares false); max is IEEE maximum. */
export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'max' | 'gt' | 'eq';
export type ReduceOp = 'sum' | 'max';

export const UNARY_OPS: readonly UnaryOp[] = ['neg', 'exp', 'log', 'sqrt', 'rsqrt', 'tanh'];
export const BINARY_OPS: readonly BinaryOp[] = ['add', 'sub', 'mul', 'div', 'max', 'gt', 'eq'];
export const REDUCE_OPS: readonly ReduceOp[] = ['sum', 'max'];

/** The per-step constants of one AdamW update, each already a binary32 value. */
export interface AdamWScalars {
  gradScale: number;
  b1: number;
  b2: number;
  c1: number;
  c2: number;
  bc1: number;
  bc2: number;
  lr: number;
  eps: number;
  wd: number;
  decay: boolean;
}

/**
 * Optional fused kernels (DESIGN.md, verification layer 1): each replaces a
 * chain of primitive ops and their backward passes with one pass over the
 * data, and must give the bits that chain gives on `ref`. The definition of
 * each, written as the exact sequence of binary32 roundings the composed
 * primitives perform, is ../fused-twin.ts; ../fused.ts wires them into
 * autograd and composes the primitives (../composite.ts) when a backend
 * leaves `fused` out. Arrays are row-major and contiguous; every output is a
 * fresh array. Scalars (eps, scale) are binary32 values.
 */
export interface FusedKernels {
  /** RMSNorm over rows of d: y = (x * rsqrt(sum(x*x)/d + eps)) * w; r = the per-row rsqrt (kept for backward). */
  rmsNorm(x: Float32Array, w: Float32Array, rows: number, d: number, eps: number): { y: Float32Array; r: Float32Array };
  /**
   * RMSNorm's gradients from dL/dy = g. dx is added into `acc` (x's gradient
   * so far, or null) one contribution at a time, in autograd's order.
   */
  rmsNormBackward(g: Float32Array, x: Float32Array, w: Float32Array, r: Float32Array, rows: number, d: number, acc: Float32Array | null): { dx: Float32Array; dw: Float32Array };
  /** Causal attention probabilities: softmax over rows of n of x*scale + mask[row % maskRows]; m, s: row max and row sum of exps. */
  attnSoftmax(x: Float32Array, scale: number, mask: Float32Array, rows: number, n: number, maskRows: number): { y: Float32Array; m: Float32Array; s: Float32Array };
  /** dL/dx of attnSoftmax from dL/dy = g (the exps are recomputed from x, m and s). */
  attnSoftmaxBackward(g: Float32Array, x: Float32Array, scale: number, mask: Float32Array, m: Float32Array, s: Float32Array, rows: number, n: number, maskRows: number): Float32Array;
  /** SwiGLU's gate: silu(gate) * up, elementwise. */
  swiglu(gate: Float32Array, up: Float32Array): Float32Array;
  swigluBackward(g: Float32Array, gate: Float32Array, up: Float32Array): { dGate: Float32Array; dUp: Float32Array };
  /** Mean cross-entropy of logits [rows, v] against targets (already range-checked); m, se: row max and row sum of exps. */
  crossEntropy(logits: Float32Array, targets: Int32Array, rows: number, v: number): { loss: number; m: Float32Array; se: Float32Array };
  /** dL/dlogits from dL/dloss = gLoss. */
  crossEntropyBackward(gLoss: number, logits: Float32Array, targets: Int32Array, m: Float32Array, se: Float32Array, rows: number, v: number): Float32Array;
  /** Rotary embedding over rows of d (even): x*cos + rotate_half(x)*sin, tables [tRows, d] indexed by row % tRows. */
  rope(x: Float32Array, cos: Float32Array, sin: Float32Array, rows: number, d: number, tRows: number): Float32Array;
  /** Its dL/dx, added into `acc` (x's gradient so far, or null) in autograd's order. */
  ropeBackward(g: Float32Array, cos: Float32Array, sin: Float32Array, rows: number, d: number, tRows: number, acc: Float32Array | null): Float32Array;
}

export interface Backend {
  /**
   * 'ref', 'wasm' or 'native'. Metadata only: every backend gives the same
   * bits, so a result's hash and provenance never depend on it.
   */
  readonly name: string;
  /** The instruction-set path a native backend runs ('avx512', 'avx2', 'portable'); metadata only. */
  readonly isa?: string;
  /** Worker threads used by matmul (1 = the calling thread only). */
  readonly threads: number;

  /** out[i] = op(x[i]). */
  unary(op: UnaryOp, x: Float32Array): Float32Array;

  /**
   * Elementwise op over a broadcast: `shape` is the output shape (row-major,
   * contiguous); element at multi-index idx reads a[sum idx[d]*aStrides[d]]
   * and b[sum idx[d]*bStrides[d]] (stride 0 on broadcast dimensions).
   * shape, aStrides and bStrides have the same length (0..8).
   */
  binary(
    op: BinaryOp,
    a: Float32Array,
    aStrides: readonly number[],
    b: Float32Array,
    bStrides: readonly number[],
    shape: readonly number[],
  ): Float32Array;

  /**
   * x viewed as [outer, n, inner] (row-major) reduced over the middle axis to
   * [outer, inner]: sum = +0 then + x[o,0,i] + x[o,1,i] + ... in order;
   * max = -Inf then maximum(acc, x[o,j,i]) in order.
   */
  reduce(op: ReduceOp, x: Float32Array, outer: number, n: number, inner: number): Float32Array;

  /**
   * Batched matmul: a is [batch, m, k]; b is [batch, k, n] when bBatched,
   * else [k, n] shared by every batch; out is [batch, m, n] in canonical order.
   */
  matmul(a: Float32Array, b: Float32Array, batch: number, m: number, k: number, n: number, bBatched: boolean): Float32Array;

  /**
   * Optional: matmul with an operand read transposed in place, so that
   * matmul's gradients (dA = dC·Bᵀ, dB = Aᵀ·dC) need no transposed copy.
   * transA: a is stored [batch, k, m] (the product uses its transpose);
   * transB: b is stored [n, k] ([batch, n, k] when bBatched). Same canonical
   * order and bits as matmul on the transposed copies.
   */
  matmulT?(a: Float32Array, b: Float32Array, batch: number, m: number, k: number, n: number, bBatched: boolean, transA: boolean, transB: boolean): Float32Array;

  /**
   * Gradient of gather (embedding lookup): out is [rows, cols] of +0, then for
   * t = 0..indices.length-1 in order: out[indices[t], c] += src[t, c].
   * Indices are already range-checked by the caller.
   */
  scatterAdd(src: Float32Array, indices: Int32Array, rows: number, cols: number): Float32Array;

  /**
   * Optional faster copy of the strided view (shape, strides, offset) of x
   * into a new contiguous array, exactly as ../layout.ts stridedCopy does.
   * Pure data movement (no arithmetic, so no bit can change); the engine
   * uses layout.ts where a backend leaves it out.
   */
  stridedCopy?(x: Float32Array, shape: readonly number[], strides: readonly number[], offset: number): Float32Array;

  /**
   * Optional fused AdamW update of one tensor, in place, reproducing
   * src/train/adamw.ts adamwStep's per-element arithmetic bit for bit (its
   * JavaScript loop is the reference twin). Element i, every op rounded to
   * binary32 in this order:
   *   g = g[i] * gradScale;  m[i] = b1*m[i] + c1*g;  v[i] = b2*v[i] + c2*(g*g);
   *   u = (m[i]/bc1) / (sqrt(v[i]/bc2) + eps);  if decay: u = u + wd*p[i];
   *   p[i] = p[i] - lr*u.
   */
  adamwUpdate?(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, s: AdamWScalars): void;

  /**
   * Optional: the engine hands back an array that no tensor reads any more
   * (autograd's consumed intermediate gradients); the backend may return it
   * as the output of a later op of the same length, instead of allocating.
   * The caller guarantees nothing aliases it.
   */
  recycle?(a: Float32Array): void;

  /** Optional fused kernels (see FusedKernels); where absent the engine composes primitives (same bits). */
  readonly fused?: FusedKernels;

  /** Release threads and memory; the backend must not be used afterwards. */
  close(): void;
}
