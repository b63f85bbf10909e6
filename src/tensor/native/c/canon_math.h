/*
 * Canonical scalar arithmetic in C, a line-for-line mirror of src/tensor/math.ts
 * (and of the wasm kernels' wasm/assembly/math.ts). Every expression is
 * binary32: on x86-64 C evaluates float expressions in SSE registers at float
 * precision (FLT_EVAL_METHOD == 0), and the build passes -ffp-contract=off so
 * no multiply and add are ever fused. Constants are written as
 * (float)(double expression), the way math.ts computes Math.fround(double),
 * so both round the same decimal value the same way. Comparisons against a
 * double literal in math.ts (tanh's `a < 0.3`) stay double comparisons here.
 */
#ifndef SWARM_CANON_MATH_H
#define SWARM_CANON_MATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

static inline float bits_to_f32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static inline uint32_t f32_to_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

/* 2^k exactly, for k in [-126, 127] (normal binary32 powers of two). */
static inline float pow2f_exact(int k) { return bits_to_f32((uint32_t)(k + 127) << 23); }

#define C_LN2_HI ((float)0.693359375)
#define C_LN2_LO ((float)-2.12194440e-4)
#define C_LOG2E ((float)1.44269504088896341)
#define C_EXP_MAX ((float)88.72283172607421875)
#define C_EXP_MIN ((float)-103.97208404541015625)

static inline float canon_expf(float x) {
  if (x != x) return NAN;
  if (x > C_EXP_MAX) return INFINITY;
  if (x < C_EXP_MIN) return 0.0f;
  const float E2 = (float)(1.0 / 2), E3 = (float)(1.0 / 6), E4 = (float)(1.0 / 24), E5 = (float)(1.0 / 120),
              E6 = (float)(1.0 / 720), E7 = (float)(1.0 / 5040);
  const int k = (int)floorf(x * C_LOG2E + 0.5f);
  const float kf = (float)k;
  float r = x - kf * C_LN2_HI;
  r = r - kf * C_LN2_LO;
  float p = E7;
  p = p * r + E6;
  p = p * r + E5;
  p = p * r + E4;
  p = p * r + E3;
  p = p * r + E2;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  if (k > 127) return (p * pow2f_exact(k - 1)) * 2.0f;
  if (k < -126) return (p * pow2f_exact(k + 100)) * pow2f_exact(-100);
  return p * pow2f_exact(k);
}

static inline float canon_logf(float x) {
  if (x != x || x < 0) return NAN;
  if (x == 0) return -INFINITY;
  if (x == INFINITY) return INFINITY;
  const float SQRT2 = (float)1.41421356237309505;
  const float L1 = (float)(2.0 / 3), L2 = (float)(2.0 / 5), L3 = (float)(2.0 / 7), L4 = (float)(2.0 / 9), L5 = (float)(2.0 / 11);
  int e = 0;
  if (x < pow2f_exact(-126)) { x = x * pow2f_exact(23); e = -23; }
  const uint32_t bits = f32_to_bits(x);
  e += (int)((bits >> 23) & 0xff) - 127;
  float m = bits_to_f32((bits & 0x007fffffu) | 0x3f800000u);
  if (m > SQRT2) { m = m * 0.5f; e += 1; }
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
  return (ef * C_LN2_LO + lm) + ef * C_LN2_HI;
}

static inline float canon_tanhf(float x) {
  if (x != x) return NAN;
  const float T3 = (float)(-1.0 / 3), T5 = (float)(2.0 / 15), T7 = (float)(-17.0 / 315), T9 = (float)(62.0 / 2835),
              T11 = (float)(-1382.0 / 155925);
  const float a = fabsf(x);
  if (a < pow2f_exact(-12)) return x;
  float t;
  if ((double)a < 0.3) {
    const float z = a * a;
    float p = T11;
    p = p * z + T9;
    p = p * z + T7;
    p = p * z + T5;
    p = p * z + T3;
    t = a + (a * z) * p;
  } else if (a > 9.0f) {
    t = 1.0f;
  } else {
    const float e = canon_expf(-2.0f * a);
    t = (1.0f - e) / (1.0f + e);
  }
  return x < 0 ? -t : t;
}

static inline float canon_sqrtf(float x) { return __builtin_sqrtf(x); }
static inline float canon_rsqrtf(float x) { return 1.0f / __builtin_sqrtf(x); }

/* IEEE 754-2019 maximum: NaN if either is NaN; +0 > -0. */
static inline float canon_fmax(float a, float b) {
  if (a != a || b != b) return NAN;
  if (a == b) return (a == 0.0f && signbit(a)) ? b : a;
  return a > b ? a : b;
}

#endif
