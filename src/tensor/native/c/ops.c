/*
 * Elementwise, reduction and scatter kernels of the native backend, in the
 * canonical order of src/tensor/backend/backend.ts (the `ref` backend is the
 * definition; test/tensor/native-vs-ref.test.ts holds these to its bits).
 * Compiled for the baseline x86-64 ISA (SSE2) or the host's portable baseline:
 * these ops move memory more than they compute, and the compiler may
 * vectorise a loop only where lanes are independent outputs (it never
 * reassociates a float sum without -ffast-math / -fassociative-math, which
 * the build never passes).
 */
#include "native.h"
#include "canon_math.h"
#include <string.h>

/* neg, sqrt and rsqrt; exp, log and tanh are the lane-wise kernels of
 * simd_body.h, which call this for the other ops (sw_unary_isa). */
void sw_unary(int op, const float *x, float *out, size_t len) {
  switch (op) {
    case SW_NEG: for (size_t i = 0; i < len; i++) out[i] = -x[i]; break;
    case SW_SQRT: for (size_t i = 0; i < len; i++) out[i] = canon_sqrtf(x[i]); break;
    case SW_RSQRT: for (size_t i = 0; i < len; i++) out[i] = canon_rsqrtf(x[i]); break;
    default: break;
  }
}

static inline float binop(int op, float a, float b) {
  switch (op) {
    case SW_ADD: return a + b;
    case SW_SUB: return a - b;
    case SW_MUL: return a * b;
    case SW_DIV: return a / b;
    case SW_MAX: return canon_fmax(a, b);
    case SW_GT: return a > b ? 1.0f : 0.0f;
    case SW_EQ: return a == b ? 1.0f : 0.0f;
    default: return 0.0f;
  }
}

/* One innermost row: n outputs, a and b advancing by sa / sb. The four
 * stride cases are separate loops so the compiler can vectorise the common
 * contiguous ones (each output is independent, so lanes change no bit). */
#define ROW_LOOP(EXPR)                                                                          \
  do {                                                                                          \
    if (sa == 1 && sb == 1) for (size_t j = 0; j < n; j++) { float av = a[j], bv = b[j]; out[j] = (EXPR); } \
    else if (sa == 1 && sb == 0) { float bv = b[0]; for (size_t j = 0; j < n; j++) { float av = a[j]; out[j] = (EXPR); } } \
    else if (sa == 0 && sb == 1) { float av = a[0]; for (size_t j = 0; j < n; j++) { float bv = b[j]; out[j] = (EXPR); } } \
    else for (size_t j = 0; j < n; j++) { float av = a[j * sa], bv = b[j * sb]; out[j] = (EXPR); } \
  } while (0)

static void binary_row(int op, const float *a, ptrdiff_t sa, const float *b, ptrdiff_t sb, float *out, size_t n) {
  switch (op) {
    case SW_ADD: ROW_LOOP(av + bv); break;
    case SW_SUB: ROW_LOOP(av - bv); break;
    case SW_MUL: ROW_LOOP(av * bv); break;
    case SW_DIV: ROW_LOOP(av / bv); break;
    default: for (size_t j = 0; j < n; j++) out[j] = binop(op, a[j * sa], b[j * sb]); break;
  }
}

void sw_binary(int op, const float *a, const int32_t *as, const float *b, const int32_t *bs, const int32_t *shape,
               int rank, float *out) {
  size_t size = 1;
  for (int d = 0; d < rank; d++) size *= (size_t)shape[d];
  if (size == 0) return;
  if (rank == 0) { out[0] = binop(op, a[0], b[0]); return; }
  const size_t n = (size_t)shape[rank - 1];
  const ptrdiff_t sa = as[rank - 1], sb = bs[rank - 1];
  int32_t idx[8] = {0};
  ptrdiff_t ia = 0, ib = 0;
  /* Odometer over every dimension but the last, row-major, as ref.ts walks it. */
  for (size_t o = 0; o < size; o += n) {
    binary_row(op, a + ia, sa, b + ib, sb, out + o, n);
    for (int d = rank - 2; d >= 0; d--) {
      idx[d]++;
      ia += as[d];
      ib += bs[d];
      if (idx[d] < shape[d]) break;
      ia -= (ptrdiff_t)as[d] * shape[d];
      ib -= (ptrdiff_t)bs[d] * shape[d];
      idx[d] = 0;
    }
  }
}

void sw_reduce(int op, const float *x, float *out, size_t outer, size_t n, size_t inner) {
  for (size_t o = 0; o < outer; o++) {
    float *dst = out + o * inner;
    const float *src = x + o * n * inner;
    /* Lanes run across `inner` (independent outputs); each output still adds
     * (or maxes) its n terms in index order starting from +0 (or -Inf). */
    if (op == SW_SUM) {
      for (size_t i = 0; i < inner; i++) dst[i] = 0.0f;
      for (size_t j = 0; j < n; j++) {
        const float *row = src + j * inner;
        for (size_t i = 0; i < inner; i++) dst[i] = dst[i] + row[i];
      }
    } else {
      for (size_t i = 0; i < inner; i++) dst[i] = -INFINITY;
      for (size_t j = 0; j < n; j++) {
        const float *row = src + j * inner;
        for (size_t i = 0; i < inner; i++) dst[i] = canon_fmax(dst[i], row[i]);
      }
    }
  }
}

void sw_scatter_add(const float *src, const int32_t *indices, size_t count, float *out, size_t rows, size_t cols) {
  for (size_t i = 0; i < rows * cols; i++) out[i] = 0.0f;
  for (size_t t = 0; t < count; t++) {
    float *dst = out + (size_t)indices[t] * cols;
    const float *s = src + t * cols;
    for (size_t c = 0; c < cols; c++) dst[c] = dst[c] + s[c];
  }
}

void sw_unary_isa(int isa, int op, const float *x, float *out, size_t len) {
#if defined(__x86_64__) || defined(__i386__)
  if (isa == SW_ISA_AVX512) { sw_unary_simd_avx512(op, x, out, len); return; }
  if (isa == SW_ISA_AVX2) { sw_unary_simd_avx2(op, x, out, len); return; }
#endif
  (void)isa;
  sw_unary_simd_portable(op, x, out, len);
}

void sw_reduce_isa(int isa, int op, const float *x, float *out, size_t outer, size_t n, size_t inner) {
  if (inner != 1 || outer < 8) { sw_reduce(op, x, out, outer, n, inner); return; }
#if defined(__x86_64__) || defined(__i386__)
  if (isa == SW_ISA_AVX512) { sw_reduce_rows_avx512(op, x, out, outer, n); return; }
  if (isa == SW_ISA_AVX2) { sw_reduce_rows_avx2(op, x, out, outer, n); return; }
#endif
  (void)isa;
  sw_reduce_rows_portable(op, x, out, outer, n);
}

/* Copy of a strided view into a contiguous array (layout.ts stridedCopy):
 * odometer over all but the last dimension, the last one a memcpy when it
 * is contiguous. Pure data movement. Dimensions are already collapsed by
 * the caller (../backend.ts) so the odometer is as short as it can be. */
void sw_strided_copy(const float *x, const int32_t *shape, const int64_t *strides, int rank, size_t offset, float *out) {
  size_t size = 1;
  for (int d = 0; d < rank; d++) size *= (size_t)shape[d];
  if (size == 0) return;
  if (rank == 0) { out[0] = x[offset]; return; }
  const size_t n = (size_t)shape[rank - 1];
  const int64_t s = strides[rank - 1];
  int32_t idx[8] = {0};
  int64_t src = (int64_t)offset;
  for (size_t o = 0; o < size; o += n) {
    if (s == 1) memcpy(out + o, x + src, sizeof(float) * n);
    else for (size_t j = 0; j < n; j++) out[o + j] = x[src + (int64_t)j * s];
    for (int d = rank - 2; d >= 0; d--) {
      idx[d]++;
      src += strides[d];
      if (idx[d] < shape[d]) break;
      src -= strides[d] * shape[d];
      idx[d] = 0;
    }
  }
}

void sw_adamw_isa(int isa, float *p, const float *g, float *m, float *v, size_t n, const float *k, int decay) {
#if defined(__x86_64__) || defined(__i386__)
  if (isa == SW_ISA_AVX512) { sw_adamw_avx512(p, g, m, v, n, k, decay); return; }
  if (isa == SW_ISA_AVX2) { sw_adamw_avx2(p, g, m, v, n, k, decay); return; }
#endif
  (void)isa;
  sw_adamw_portable(p, g, m, v, n, k, decay);
}
