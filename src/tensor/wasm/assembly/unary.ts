/**
 * Elementwise unary kernels: out[i] = op(x[i]), i = 0..len-1.
 *
 * neg, sqrt and rsqrt use 128-bit SIMD: f32x4.neg / f32x4.sqrt / f32x4.div
 * are lane-wise and defined by the same scalar IEEE operations as their f32
 * counterparts (WebAssembly SIMD spec, "Floating-point arithmetic"), so the
 * vector and scalar paths give identical bits. exp, log and tanh are branchy
 * polynomial code and stay scalar (./math.ts).
 */
import { expf, logf, tanhf } from './math';

// Op codes shared with ../backend.ts (UNARY_CODE).
export const U_NEG = 0;
export const U_EXP = 1;
export const U_LOG = 2;
export const U_SQRT = 3;
export const U_RSQRT = 4;
export const U_TANH = 5;

export function unary(op: i32, x: usize, out: usize, len: i32): void {
  let i = 0;
  if (op == U_NEG) {
    for (; i + 4 <= len; i += 4) {
      const o = <usize>i << 2;
      v128.store(out + o, f32x4.neg(v128.load(x + o)));
    }
    for (; i < len; i++) {
      const o = <usize>i << 2;
      store<f32>(out + o, -load<f32>(x + o));
    }
  } else if (op == U_SQRT) {
    for (; i + 4 <= len; i += 4) {
      const o = <usize>i << 2;
      v128.store(out + o, f32x4.sqrt(v128.load(x + o)));
    }
    for (; i < len; i++) {
      const o = <usize>i << 2;
      store<f32>(out + o, sqrt<f32>(load<f32>(x + o)));
    }
  } else if (op == U_RSQRT) {
    const one = f32x4.splat(1);
    for (; i + 4 <= len; i += 4) {
      const o = <usize>i << 2;
      v128.store(out + o, f32x4.div(one, f32x4.sqrt(v128.load(x + o))));
    }
    for (; i < len; i++) {
      const o = <usize>i << 2;
      store<f32>(out + o, <f32>1 / sqrt<f32>(load<f32>(x + o)));
    }
  } else if (op == U_EXP) {
    for (; i < len; i++) {
      const o = <usize>i << 2;
      store<f32>(out + o, expf(load<f32>(x + o)));
    }
  } else if (op == U_LOG) {
    for (; i < len; i++) {
      const o = <usize>i << 2;
      store<f32>(out + o, logf(load<f32>(x + o)));
    }
  } else if (op == U_TANH) {
    for (; i < len; i++) {
      const o = <usize>i << 2;
      store<f32>(out + o, tanhf(load<f32>(x + o)));
    }
  } else {
    unreachable();
  }
}
