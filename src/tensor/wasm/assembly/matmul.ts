/**
 * Canonical matmul: out[i,j] = ((+0 + a[i,0]*b[0,j]) + a[i,1]*b[1,j]) + ...
 * p = 0..k-1 in order, each product rounded to binary32 before its add
 * (f32x4.mul then f32x4.add; never a fused multiply-add: relaxed-simd's
 * f32x4.relaxed_madd may or may not fuse, so it is not deterministic).
 *
 * Structure after Goto & van de Geijn, "Anatomy of High-Performance Matrix
 * Multiplication" (ACM TOMS 34(3), 2008): B is packed once into column
 * panels NR wide, contiguous in p; for each block of rows a MC x KC block
 * of A is packed into MR-row slivers (contiguous in p); a register-blocked
 * micro-kernel then computes an MR x NR tile of C as MR*NR/4 f32x4
 * accumulators, one rank-1 update per p. It is vectorised over output
 * columns, so each lane owns one output element and adds its own products in
 * exactly the canonical p order; k-blocking (KC) only stores an accumulator
 * to C and reloads it for the next block, which is exact because the
 * accumulator is already a binary32 value. Tiles on the right/bottom edges
 * run the same micro-kernel on zero-padded panels into a scratch tile and copy
 * back only the valid elements: the padded lanes are independent, so the
 * valid ones get the same bits as everywhere else.
 *
 * Thread safety: matmulRows only reads A and packed B and writes C rows in
 * [r0, r1) plus its own scratch, so disjoint row ranges run concurrently on
 * the shared memory (../pool-worker.mjs) and give the same bits for any split.
 */

/** Micro-tile rows (A slivers). */
export const MR = 4;
/** Micro-tile columns (B panels): two f32x4 vectors. */
export const NR = 8;
/** Depth of a k-block: an MR x KC A sliver plus a KC x NR B sliver stay in L1. */
export const KC = 256;
/** Rows in a packed A block (MC x KC floats, kept in L2). */
export const MC = 64;

/** Bytes of per-thread scratch matmulRows needs: packed A block + edge tile. */
export function matmulScratchBytes(): i32 {
  return MC * KC * 4 + MR * NR * 4 + 64;
}

/**
 * Packs B [k, n] (row-major at b) into ceil(n/NR) panels at bp; panel q holds
 * b[p, q*NR .. q*NR+NR-1] for p = 0..k-1 contiguously, zero-padded past n.
 */
export function packB(b: usize, bp: usize, k: i32, n: i32): void {
  const panels = (n + NR - 1) / NR;
  const rowBytes = <usize>n << 2;
  for (let q = 0; q < panels; q++) {
    const j0 = q * NR;
    const w = min(NR, n - j0);
    let dst = bp + <usize>q * <usize>k * (NR << 2);
    let src = b + (<usize>j0 << 2);
    if (w == NR) {
      for (let p = 0; p < k; p++) {
        v128.store(dst, v128.load(src));
        v128.store(dst, v128.load(src, 16), 16);
        dst += NR << 2;
        src += rowBytes;
      }
    } else {
      for (let p = 0; p < k; p++) {
        let jj = 0;
        for (; jj < w; jj++) store<f32>(dst + (<usize>jj << 2), load<f32>(src + (<usize>jj << 2)));
        for (; jj < NR; jj++) store<f32>(dst + (<usize>jj << 2), 0);
        dst += NR << 2;
        src += rowBytes;
      }
    }
  }
}

/**
 * Packs rows [0, mc) x cols [0, kc) of A (row-major, row stride lda floats,
 * starting at a) into MR-row slivers at ap: sliver s holds, for p = 0..kc-1,
 * a[s*MR + 0..MR-1, p]. Rows past mc are zero.
 */
// @ts-ignore: decorator
@inline
function packA(a: usize, lda: i32, mc: i32, kc: i32, ap: usize): void {
  const ldab = <usize>lda << 2;
  for (let s = 0; s < mc; s += MR) {
    const h = min(MR, mc - s);
    let dst = ap + <usize>s * <usize>kc * 4;
    const r0 = a + <usize>s * ldab;
    if (h == MR) {
      const r1 = r0 + ldab, r2 = r1 + ldab, r3 = r2 + ldab;
      let p = 0;
      // 4x4 transpose per step: rows are contiguous in p, slivers in i.
      for (; p + 4 <= kc; p += 4) {
        const o = <usize>p << 2;
        const x0 = v128.load(r0 + o), x1 = v128.load(r1 + o);
        const x2 = v128.load(r2 + o), x3 = v128.load(r3 + o);
        const t0 = v128.shuffle<f32>(x0, x1, 0, 4, 1, 5);
        const t1 = v128.shuffle<f32>(x2, x3, 0, 4, 1, 5);
        const t2 = v128.shuffle<f32>(x0, x1, 2, 6, 3, 7);
        const t3 = v128.shuffle<f32>(x2, x3, 2, 6, 3, 7);
        v128.store(dst, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
        v128.store(dst, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7), 16);
        v128.store(dst, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5), 32);
        v128.store(dst, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7), 48);
        dst += 64;
      }
      for (; p < kc; p++) {
        const o = <usize>p << 2;
        store<f32>(dst, load<f32>(r0 + o));
        store<f32>(dst, load<f32>(r1 + o), 4);
        store<f32>(dst, load<f32>(r2 + o), 8);
        store<f32>(dst, load<f32>(r3 + o), 12);
        dst += 16;
      }
    } else {
      for (let p = 0; p < kc; p++) {
        let i = 0;
        for (; i < h; i++) store<f32>(dst + (<usize>i << 2), load<f32>(r0 + <usize>i * ldab + (<usize>p << 2)));
        for (; i < MR; i++) store<f32>(dst + (<usize>i << 2), 0);
        dst += MR << 2;
      }
    }
  }
}

/**
 * MR x NR micro-kernel: C[0..3, 0..7] (row stride ldc bytes) = acc after
 * kc rank-1 updates, acc starting from +0 when `first`, else from C.
 * Starting from a +0 vector (not from the first product) is what the
 * canonical order asks for: +0 + (-0) = +0, so a -0 first product must
 * not survive.
 *
 * Why 4x8 and this exact loop shape (measured on Zen 3 / Node 20, V8
 * Turbofan; see also WebAssembly SIMD spec: there is no fused op to use):
 *  - V8 allocates xmm0..xmm14 (xmm15 is its scratch) and schedules a step's
 *    six loads ahead of its arithmetic, so 8 accumulators + 2 B vectors +
 *    4 broadcasts + 1 product temp = 15 registers exactly. Bigger tiles
 *    spill in the inner loop (a 5x8 tile measured 40% slower).
 *  - Unrolling p in the source makes Binaryen chain each accumulator's adds
 *    across the unrolled steps and V8 then hoists all of their loads: the
 *    2x and 4x unrolled versions spilled and ran 30-40% slower. V8 already
 *    unrolls this loop twice itself (one stack check per two steps).
 *  - The loop ends on a pointer compare, saving a counter increment.
 * One step is 6 loads + 8 mulps + 8 addps + ~3 loop ops. Measured against a
 * calibrated clock it takes ~6 cycles (vs 4 for the FP pipes alone, and
 * ~4.4 for a probe without the 4 A loads): the xmm loads occupy the FP side's
 * ~4 ops/cycle just like arithmetic, and V8 does not fold SIMD loads into
 * mulps/addps operands. Pre-broadcast A (plain loads instead of
 * load32_splat), a 2x16 tile, swapped loop orders and a KC x MC grid
 * (128..512 x 16..256) all measured equal or slower.
 */
// @ts-ignore: decorator
@inline
function kernel4x8(ap: usize, bp: usize, c: usize, ldc: usize, kc: i32, first: bool): void {
  let c00: v128, c01: v128, c10: v128, c11: v128, c20: v128, c21: v128, c30: v128, c31: v128;
  if (first) {
    const z = f32x4.splat(0);
    c00 = z; c01 = z; c10 = z; c11 = z; c20 = z; c21 = z; c30 = z; c31 = z;
  } else {
    c00 = v128.load(c); c01 = v128.load(c, 16);
    c10 = v128.load(c + ldc); c11 = v128.load(c + ldc, 16);
    c20 = v128.load(c + 2 * ldc); c21 = v128.load(c + 2 * ldc, 16);
    c30 = v128.load(c + 3 * ldc); c31 = v128.load(c + 3 * ldc, 16);
  }
  const bEnd = bp + (<usize>kc << 5);
  while (bp < bEnd) {
    const b0 = v128.load(bp), b1 = v128.load(bp, 16);
    let a = v128.load32_splat(ap);
    c00 = f32x4.add(c00, f32x4.mul(a, b0));
    c01 = f32x4.add(c01, f32x4.mul(a, b1));
    a = v128.load32_splat(ap, 4);
    c10 = f32x4.add(c10, f32x4.mul(a, b0));
    c11 = f32x4.add(c11, f32x4.mul(a, b1));
    a = v128.load32_splat(ap, 8);
    c20 = f32x4.add(c20, f32x4.mul(a, b0));
    c21 = f32x4.add(c21, f32x4.mul(a, b1));
    a = v128.load32_splat(ap, 12);
    c30 = f32x4.add(c30, f32x4.mul(a, b0));
    c31 = f32x4.add(c31, f32x4.mul(a, b1));
    ap += 16;
    bp += 32;
  }
  v128.store(c, c00); v128.store(c, c01, 16);
  v128.store(c + ldc, c10); v128.store(c + ldc, c11, 16);
  v128.store(c + 2 * ldc, c20); v128.store(c + 2 * ldc, c21, 16);
  v128.store(c + 3 * ldc, c30); v128.store(c + 3 * ldc, c31, 16);
}

/**
 * Rows [r0, r1) of one product: c[m, n] = a[m, k] x B, with B already packed
 * by packB at bp. scratch: matmulScratchBytes() bytes owned by this thread.
 * Requires k >= 1 (the caller writes +0 for k = 0).
 */
export function matmulRows(a: usize, bp: usize, c: usize, k: i32, n: i32, r0: i32, r1: i32, scratch: usize): void {
  const apack = scratch;
  const tile = scratch + <usize>(MC * KC * 4);
  const ldc = <usize>n << 2;
  const panels = (n + NR - 1) / NR;
  for (let pc = 0; pc < k; pc += KC) {
    const kc = min(KC, k - pc);
    const first = pc == 0;
    for (let ic = r0; ic < r1; ic += MC) {
      const mc = min(MC, r1 - ic);
      packA(a + ((<usize>ic * <usize>k + <usize>pc) << 2), k, mc, kc, apack);
      for (let q = 0; q < panels; q++) {
        const j0 = q * NR;
        const w = min(NR, n - j0);
        const bsl = bp + ((<usize>q * <usize>k + <usize>pc) * NR << 2);
        for (let ir = 0; ir < mc; ir += MR) {
          const h = min(MR, mc - ir);
          const asl = apack + <usize>ir * <usize>kc * 4;
          const cij = c + (<usize>(ic + ir) * <usize>n + <usize>j0) * 4;
          if (h == MR && w == NR) {
            kernel4x8(asl, bsl, cij, ldc, kc, first);
          } else {
            // Edge tile: run the full kernel on a scratch tile, copy back h x w.
            if (!first) {
              for (let i = 0; i < h; i++) {
                for (let j = 0; j < w; j++) {
                  store<f32>(tile + (<usize>(i * NR + j) << 2), load<f32>(cij + <usize>i * ldc + (<usize>j << 2)));
                }
              }
            }
            kernel4x8(asl, bsl, tile, NR << 2, kc, first);
            for (let i = 0; i < h; i++) {
              for (let j = 0; j < w; j++) {
                store<f32>(cij + <usize>i * ldc + (<usize>j << 2), load<f32>(tile + (<usize>(i * NR + j) << 2)));
              }
            }
          }
        }
      }
    }
  }
}
