/**
 * Reductions over the middle axis of x viewed as [outer, n, inner]
 * (Backend.reduce). Canonical order: for each output element the terms are
 * combined one by one in increasing j, starting from +0 (sum) or -Inf (max,
 * IEEE maximum = f32.max). Only the order *within* an output element is
 * fixed; we are free to interleave different output elements, which is how
 * both paths below get their parallelism without touching any bits:
 *  - inner >= 4: the output row [o, :] is the accumulator and is swept once
 *    per j with f32x4 lanes covering 4 different i;
 *  - inner < 4 (typically 1, a reduction along the last axis): each sum is a
 *    serial dependency chain, so 4 different `o` run side by side in scalar
 *    registers to hide the add latency.
 */

export const R_SUM = 0;
export const R_MAX = 1;

// @ts-ignore: decorator
@inline
function comb(op: i32, acc: f32, v: f32): f32 {
  return op == R_SUM ? acc + v : max<f32>(acc, v);
}

// @ts-ignore: decorator
@inline
function combv(op: i32, acc: v128, v: v128): v128 {
  return op == R_SUM ? f32x4.add(acc, v) : f32x4.max(acc, v);
}

// @ts-ignore: decorator
@inline
function reduceImpl(op: i32, x: usize, out: usize, outer: i32, n: i32, inner: i32): void {
  const init: f32 = op == R_SUM ? <f32>0 : -Infinity;
  const rowBytes = <usize>inner << 2; // one j step
  const blockBytes = rowBytes * <usize>n; // one o step
  if (inner >= 4) {
    const initv = f32x4.splat(init);
    for (let o = 0; o < outer; o++) {
      const xo = x + <usize>o * blockBytes;
      const oo = out + <usize>o * rowBytes;
      let i = 0;
      // Tiles of 16 columns keep 4 vector accumulators in registers across j.
      for (; i + 16 <= inner; i += 16) {
        let a0 = initv, a1 = initv, a2 = initv, a3 = initv;
        let p = xo + (<usize>i << 2);
        for (let j = 0; j < n; j++) {
          a0 = combv(op, a0, v128.load(p));
          a1 = combv(op, a1, v128.load(p, 16));
          a2 = combv(op, a2, v128.load(p, 32));
          a3 = combv(op, a3, v128.load(p, 48));
          p += rowBytes;
        }
        const q = oo + (<usize>i << 2);
        v128.store(q, a0);
        v128.store(q, a1, 16);
        v128.store(q, a2, 32);
        v128.store(q, a3, 48);
      }
      for (; i + 4 <= inner; i += 4) {
        let a0 = initv;
        let p = xo + (<usize>i << 2);
        for (let j = 0; j < n; j++) {
          a0 = combv(op, a0, v128.load(p));
          p += rowBytes;
        }
        v128.store(oo + (<usize>i << 2), a0);
      }
      for (; i < inner; i++) {
        let acc = init;
        let p = xo + (<usize>i << 2);
        for (let j = 0; j < n; j++) {
          acc = comb(op, acc, load<f32>(p));
          p += rowBytes;
        }
        store<f32>(oo + (<usize>i << 2), acc);
      }
    }
  } else {
    for (let i = 0; i < inner; i++) {
      let o = 0;
      for (; o + 4 <= outer; o += 4) {
        let a0 = init, a1 = init, a2 = init, a3 = init;
        let p = x + <usize>o * blockBytes + (<usize>i << 2);
        for (let j = 0; j < n; j++) {
          a0 = comb(op, a0, load<f32>(p));
          a1 = comb(op, a1, load<f32>(p + blockBytes));
          a2 = comb(op, a2, load<f32>(p + 2 * blockBytes));
          a3 = comb(op, a3, load<f32>(p + 3 * blockBytes));
          p += rowBytes;
        }
        const q = out + ((<usize>o * <usize>inner + <usize>i) << 2);
        store<f32>(q, a0);
        store<f32>(q + rowBytes, a1);
        store<f32>(q + 2 * rowBytes, a2);
        store<f32>(q + 3 * rowBytes, a3);
      }
      for (; o < outer; o++) {
        let acc = init;
        let p = x + <usize>o * blockBytes + (<usize>i << 2);
        for (let j = 0; j < n; j++) {
          acc = comb(op, acc, load<f32>(p));
          p += rowBytes;
        }
        store<f32>(out + ((<usize>o * <usize>inner + <usize>i) << 2), acc);
      }
    }
  }
}

export function reduce(op: i32, x: usize, out: usize, outer: i32, n: i32, inner: i32): void {
  if (op == R_SUM) reduceImpl(R_SUM, x, out, outer, n, inner);
  else if (op == R_MAX) reduceImpl(R_MAX, x, out, outer, n, inner);
  else unreachable();
}
