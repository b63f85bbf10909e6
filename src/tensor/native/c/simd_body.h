/*
 * Lane-wise kernels compiled once per ISA (simd_portable.c, simd_avx2.c,
 * simd_avx512.c include this file with SW_SIMD_NAME set and their own target
 * flags). Each function is a loop over independent elements (or independent
 * rows) written without branches, so the compiler can vectorise it for the
 * target: every lane still performs exactly the scalar operations of
 * src/tensor/math.ts (exp, log, tanh are mirrored here line for line) in the same order, rounding each one to binary32 (no
 * -ffast-math, -ffp-contract=off), so the bits equal the scalar definition
 * on every path. Special cases (NaN, overflow, subnormals) are computed as
 * selects over values that are always computed; a lane's unused branch may
 * hold garbage, never its result.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "native.h"
#include "canon_math.h"

#define SW_CAT2(a, b) a##_##b
#define SW_CAT(a, b) SW_CAT2(a, b)
#define SW_FN(name) SW_CAT(name, SW_SIMD_NAME)

static inline float sel(int c, float a, float b) { return c ? a : b; }

/* 2^k from an integer that may be out of range: garbage then, never selected. */
static inline float pow2_any(int32_t k) {
  uint32_t u = (uint32_t)(k + 127) << 23;
  float f;
  memcpy(&f, &u, 4);
  return f;
}

static inline float exp_lane(float x) {
  /* Clamp first so the core arithmetic sees only in-range inputs (the
   * scalar definition returns before reaching it otherwise). */
  float xc = x > C_EXP_MAX ? C_EXP_MAX : x;
  xc = xc < C_EXP_MIN ? C_EXP_MIN : xc;
  xc = x != x ? 0.0f : xc;
  const float E2 = (float)(1.0 / 2), E3 = (float)(1.0 / 6), E4 = (float)(1.0 / 24), E5 = (float)(1.0 / 120),
              E6 = (float)(1.0 / 720), E7 = (float)(1.0 / 5040);
  const float kf = floorf(xc * C_LOG2E + 0.5f);
  const int32_t k = (int32_t)kf;
  float r = xc - kf * C_LN2_HI;
  r = r - kf * C_LN2_LO;
  float p = E7;
  p = p * r + E6;
  p = p * r + E5;
  p = p * r + E4;
  p = p * r + E3;
  p = p * r + E2;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const float big = (p * pow2_any(k - 1)) * 2.0f;
  const float tiny = (p * pow2_any(k + 100)) * pow2_any(-100);
  const float mid = p * pow2_any(k);
  float y = sel(k > 127, big, sel(k < -126, tiny, mid));
  y = sel(x < C_EXP_MIN, 0.0f, y);
  y = sel(x > C_EXP_MAX, INFINITY, y);
  return sel(x != x, x, y);
}

static inline float log_lane(float x) {
  const float SQRT2 = (float)1.41421356237309505;
  const float L1 = (float)(2.0 / 3), L2 = (float)(2.0 / 5), L3 = (float)(2.0 / 7), L4 = (float)(2.0 / 9), L5 = (float)(2.0 / 11);
  const int sub = x < pow2f_exact(-126);
  const float xn = sel(sub, x * pow2f_exact(23), x);
  uint32_t bits;
  memcpy(&bits, &xn, 4);
  int32_t e = (int32_t)((bits >> 23) & 0xff) - 127 - (sub ? 23 : 0);
  const uint32_t mb = (bits & 0x007fffffu) | 0x3f800000u;
  float m;
  memcpy(&m, &mb, 4);
  const int hi = m > SQRT2;
  m = sel(hi, m * 0.5f, m);
  e += hi;
  const float fm = m - 1.0f;
  const float s = fm / (m + 1.0f);
  const float z = s * s;
  float q = L5;
  q = q * z + L4;
  q = q * z + L3;
  q = q * z + L2;
  q = q * z + L1;
  q = q * z;
  const float lm = 2.0f * s + s * q;
  const float ef = (float)e;
  float y = (ef * C_LN2_LO + lm) + ef * C_LN2_HI;
  y = sel(x == INFINITY, INFINITY, y);
  y = sel(x == 0.0f, -INFINITY, y);
  return sel(x != x || x < 0.0f, NAN, y);
}

static inline float tanh_lane(float x) {
  const float T3 = (float)(-1.0 / 3), T5 = (float)(2.0 / 15), T7 = (float)(-17.0 / 315), T9 = (float)(62.0 / 2835),
              T11 = (float)(-1382.0 / 155925);
  const float a = fabsf(x);
  /* Series for a < 0.3 (math.ts compares the float with the double 0.3;
   * no binary32 lies between the double 0.3 and 0.3f, so a < 0.3f is the
   * same test). */
  const float z = a * a;
  float p = T11;
  p = p * z + T9;
  p = p * z + T7;
  p = p * z + T5;
  p = p * z + T3;
  const float series = a + (a * z) * p;
  const float e = exp_lane(-2.0f * a);
  const float viaexp = (1.0f - e) / (1.0f + e);
  float t = sel(a < 0.3f, series, sel(a > 9.0f, 1.0f, viaexp));
  t = sel(x < 0, -t, t);
  t = sel(a < pow2f_exact(-12), x, t);
  return sel(x != x, x, t);
}

void SW_FN(sw_unary_simd)(int op, const float *x, float *out, size_t len) {
  switch (op) {
    case SW_EXP: for (size_t i = 0; i < len; i++) out[i] = exp_lane(x[i]); break;
    case SW_LOG: for (size_t i = 0; i < len; i++) out[i] = log_lane(x[i]); break;
    case SW_TANH: for (size_t i = 0; i < len; i++) out[i] = tanh_lane(x[i]); break;
    default: sw_unary(op, x, out, len); break;
  }
}

/* Reduction over the middle axis when inner == 1 (each row of n is one
 * output): one row's sum is a chain of dependent adds, so eight rows are
 * summed side by side (eight independent chains, each still in index order
 * from +0) to keep the adder busy instead of waiting on each add's latency. */
void SW_FN(sw_reduce_rows)(int op, const float *x, float *out, size_t outer, size_t n) {
  size_t o = 0;
  for (; o + 8 <= outer; o += 8) {
    const float *r = x + o * n;
    float acc[8];
    if (op == SW_SUM) {
      for (int q = 0; q < 8; q++) acc[q] = 0.0f;
      for (size_t j = 0; j < n; j++)
        for (int q = 0; q < 8; q++) acc[q] = acc[q] + r[(size_t)q * n + j];
    } else {
      for (int q = 0; q < 8; q++) acc[q] = -INFINITY;
      for (size_t j = 0; j < n; j++)
        for (int q = 0; q < 8; q++) acc[q] = canon_fmax(acc[q], r[(size_t)q * n + j]);
    }
    for (int q = 0; q < 8; q++) out[o + (size_t)q] = acc[q];
  }
  if (o < outer) sw_reduce(op, x + o * n, out + o, outer - o, n, 1);
}

/* Fused AdamW update of one tensor, in place: the per-element arithmetic of
 * src/train/adamw.ts (its JavaScript loop is the reference twin), every
 * operation rounded to binary32 in the same order. Elements are independent,
 * so lanes change no bit. k = {gradScale, b1, b2, c1, c2, bc1, bc2, lr, eps, wd}. */
void SW_FN(sw_adamw)(float *p, const float *g, float *m, float *v, size_t n, const float *k, int decay) {
  const float scale = k[0], b1 = k[1], b2 = k[2], c1 = k[3], c2 = k[4], bc1 = k[5], bc2 = k[6], lr = k[7], eps = k[8], wd = k[9];
  /* `decay` is loop-invariant, so the compiler splits the loop on it (loop
   * unswitching at -O3) and vectorises both halves; the decay term is a
   * select, never `upd + 0 * p` (which would turn an infinite p into NaN). */
  for (size_t i = 0; i < n; i++) {
    const float gi = g[i] * scale;
    const float mi = b1 * m[i] + c1 * gi;
    const float vi = b2 * v[i] + c2 * (gi * gi);
    m[i] = mi;
    v[i] = vi;
    const float upd = (mi / bc1) / (__builtin_sqrtf(vi / bc2) + eps);
    p[i] = p[i] - lr * (decay ? upd + wd * p[i] : upd);
  }
}
