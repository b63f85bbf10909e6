/*
 * Canonical scalar arithmetic in C shared by the native kernels: exact powers
 * of two, the constants of src/tensor/math.ts, sqrt/rsqrt and IEEE maximum.
 * exp, log and tanh live in simd_body.h, written lane-wise (branch-free) as a
 * line-for-line mirror of math.ts so one source serves every ISA path. Every expression is
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

static inline float canon_sqrtf(float x) { return __builtin_sqrtf(x); }
static inline float canon_rsqrtf(float x) { return 1.0f / __builtin_sqrtf(x); }

/* IEEE 754-2019 maximum: NaN if either is NaN; +0 > -0. */
static inline float canon_fmax(float a, float b) {
  if (a != a || b != b) return NAN;
  if (a == b) return (a == 0.0f && signbit(a)) ? b : a;
  return a > b ? a : b;
}

#endif
