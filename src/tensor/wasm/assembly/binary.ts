/**
 * Elementwise binary kernels over a broadcast (Backend.binary in
 * ../../backend/backend.ts). The caller (../backend.ts) has already dropped
 * size-1 dimensions and merged contiguous ones, which changes no arithmetic:
 * every output element is still op(a[offA], b[offB]) on its own, so the
 * iteration order and SIMD width cannot change a bit.
 *
 * Per-lane f32x4 add/sub/mul/div/max are the scalar IEEE operations
 * (WebAssembly SIMD spec); f32x4.max is fmax = IEEE 754-2019 maximum (NaN
 * wins, -0 < +0), exactly f32.max. gt/eq produce an all-ones lane mask that
 * is ANDed with 1.0f to give 1 or +0 (NaN compares false).
 */

export const B_ADD = 0;
export const B_SUB = 1;
export const B_MUL = 2;
export const B_DIV = 3;
export const B_MAX = 4;
export const B_GT = 5;
export const B_EQ = 6;

// @ts-ignore: decorator
@inline
function scalarOp(op: i32, x: f32, y: f32): f32 {
  switch (op) {
    case B_ADD: return x + y;
    case B_SUB: return x - y;
    case B_MUL: return x * y;
    case B_DIV: return x / y;
    case B_MAX: return max<f32>(x, y);
    case B_GT: return x > y ? <f32>1 : <f32>0;
    default: return x == y ? <f32>1 : <f32>0;
  }
}

// @ts-ignore: decorator
@inline
function vecOp(op: i32, x: v128, y: v128): v128 {
  switch (op) {
    case B_ADD: return f32x4.add(x, y);
    case B_SUB: return f32x4.sub(x, y);
    case B_MUL: return f32x4.mul(x, y);
    case B_DIV: return f32x4.div(x, y);
    case B_MAX: return f32x4.max(x, y);
    case B_GT: return v128.and(f32x4.gt(x, y), f32x4.splat(1));
    default: return v128.and(f32x4.eq(x, y), f32x4.splat(1));
  }
}

/**
 * One contiguous output row of `len` elements; a advances by sa elements,
 * b by sb (each 0 or 1 take the SIMD paths, anything else is scalar).
 * `op` is a compile-time constant after inlining into the specialised
 * loops below, so the switch disappears from the inner loop.
 */
// @ts-ignore: decorator
@inline
function row(op: i32, a: usize, sa: i32, b: usize, sb: i32, out: usize, len: i32): void {
  let i = 0;
  if (sa == 1 && sb == 1) {
    for (; i + 4 <= len; i += 4) {
      const o = <usize>i << 2;
      v128.store(out + o, vecOp(op, v128.load(a + o), v128.load(b + o)));
    }
  } else if (sa == 1 && sb == 0) {
    const yb = v128.load32_splat(b);
    for (; i + 4 <= len; i += 4) {
      const o = <usize>i << 2;
      v128.store(out + o, vecOp(op, v128.load(a + o), yb));
    }
  } else if (sa == 0 && sb == 1) {
    const xa = v128.load32_splat(a);
    for (; i + 4 <= len; i += 4) {
      const o = <usize>i << 2;
      v128.store(out + o, vecOp(op, xa, v128.load(b + o)));
    }
  }
  const sab = <usize>sa << 2;
  const sbb = <usize>sb << 2;
  for (; i < len; i++) {
    store<f32>(out + (<usize>i << 2), scalarOp(op, load<f32>(a + <usize>i * sab), load<f32>(b + <usize>i * sbb)));
  }
}

/**
 * Walks the output in row-major order. dims: i32[nd] sizes, sa/sb: i32[nd]
 * element strides (0 on broadcast dims), nd in 1..8, all in wasm memory;
 * idx: i32[nd] scratch for the multi-index counter.
 */
// @ts-ignore: decorator
@inline
function walk(op: i32, a: usize, b: usize, out: usize, dims: usize, sa: usize, sb: usize, idx: usize, nd: i32): void {
  const last = <usize>(nd - 1) << 2;
  const len = load<i32>(dims + last);
  const sal = load<i32>(sa + last);
  const sbl = load<i32>(sb + last);
  let rows: i32 = 1;
  for (let d = 0; d < nd - 1; d++) {
    rows *= load<i32>(dims + (<usize>d << 2));
    store<i32>(idx + (<usize>d << 2), 0);
  }
  let offA: usize = 0; // element offsets of the current row's start
  let offB: usize = 0;
  let o = out;
  for (let r = 0; r < rows; r++) {
    row(op, a + (offA << 2), sal, b + (offB << 2), sbl, o, len);
    o += <usize>len << 2;
    // Increment the multi-index over dims 0..nd-2 (odometer, last fastest).
    for (let d = nd - 2; d >= 0; d--) {
      const dp = <usize>d << 2;
      const v = load<i32>(idx + dp) + 1;
      const sad = <usize>load<i32>(sa + dp);
      const sbd = <usize>load<i32>(sb + dp);
      if (v < load<i32>(dims + dp)) {
        store<i32>(idx + dp, v);
        offA += sad;
        offB += sbd;
        break;
      }
      store<i32>(idx + dp, 0);
      offA -= sad * <usize>(v - 1);
      offB -= sbd * <usize>(v - 1);
    }
  }
}

export function binary(op: i32, a: usize, b: usize, out: usize, dims: usize, sa: usize, sb: usize, idx: usize, nd: i32): void {
  switch (op) {
    case B_ADD: walk(B_ADD, a, b, out, dims, sa, sb, idx, nd); break;
    case B_SUB: walk(B_SUB, a, b, out, dims, sa, sb, idx, nd); break;
    case B_MUL: walk(B_MUL, a, b, out, dims, sa, sb, idx, nd); break;
    case B_DIV: walk(B_DIV, a, b, out, dims, sa, sb, idx, nd); break;
    case B_MAX: walk(B_MAX, a, b, out, dims, sa, sb, idx, nd); break;
    case B_GT: walk(B_GT, a, b, out, dims, sa, sb, idx, nd); break;
    case B_EQ: walk(B_EQ, a, b, out, dims, sa, sb, idx, nd); break;
    default: unreachable();
  }
}
