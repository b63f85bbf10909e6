/*
 * AVX2 register tile for matmul: 6 rows x 16 columns (12 ymm accumulators,
 * two B vectors, one broadcast A value and one product = all 16 ymm).
 * Each lane is one output element; for every p it does one rounded multiply
 * (_mm256_mul_ps) then one rounded add (_mm256_add_ps), exactly the canonical
 * order of backend.ts. Compiled with -mavx2 and without -mfma, and with
 * -ffp-contract=off, so the compiler can neither choose nor contract to
 * vfmadd (the build's objdump check enforces it).
 */
#include "native.h"
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define MR 6
#define NR 16

/* The six rows' multiply-then-add for one p, given the addresses of their A values. */
#define ROW(r, ap)                                           \
    av = _mm256_broadcast_ss(ap);                            \
    c##r##0 = _mm256_add_ps(c##r##0, _mm256_mul_ps(av, b0)); \
    c##r##1 = _mm256_add_ps(c##r##1, _mm256_mul_ps(av, b1));
#define ROWS(v0, v1, v2, v3, v4, v5) ROW(0, v0) ROW(1, v1) ROW(2, v2) ROW(3, v3) ROW(4, v4) ROW(5, v5)

/* The tile, with row r's p-th A value at a[r*rs + p*ps]: (lda, 1) for A as
 * stored, (1, lda) for A read transposed (A stored [k][m], as for
 * dW = Xᵀ·dY, so no transposed copy is made). Inlined into the two kernels
 * below with one stride constant, so each loop is specialised. */
static inline __attribute__((always_inline)) void tile_6x16(const float *a, size_t rs, size_t ps, const float *b, size_t ldb, size_t k, float *c, size_t ldc) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
  __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
  __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
  __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  const float *a0 = a, *a1 = a + rs, *a2 = a + 2 * rs, *a3 = a + 3 * rs, *a4 = a + 4 * rs, *a5 = a + 5 * rs;
  for (size_t p = 0; p < k; p++) {
    const __m256 b0 = _mm256_loadu_ps(b + p * ldb);
    const __m256 b1 = _mm256_loadu_ps(b + p * ldb + 8);
    const size_t q = p * ps;
    __m256 av;
    ROWS(a0 + q, a1 + q, a2 + q, a3 + q, a4 + q, a5 + q)
  }
  _mm256_storeu_ps(c, c00); _mm256_storeu_ps(c + 8, c01); c += ldc;
  _mm256_storeu_ps(c, c10); _mm256_storeu_ps(c + 8, c11); c += ldc;
  _mm256_storeu_ps(c, c20); _mm256_storeu_ps(c + 8, c21); c += ldc;
  _mm256_storeu_ps(c, c30); _mm256_storeu_ps(c + 8, c31); c += ldc;
  _mm256_storeu_ps(c, c40); _mm256_storeu_ps(c + 8, c41); c += ldc;
  _mm256_storeu_ps(c, c50); _mm256_storeu_ps(c + 8, c51);
}

static void kernel_6x16(const float *a, size_t lda, const float *b, size_t ldb, size_t k, float *c, size_t ldc) {
  tile_6x16(a, lda, 1, b, ldb, k, c, ldc);
}

static void kernel_6x16_at(const float *a, size_t lda, const float *b, size_t ldb, size_t k, float *c, size_t ldc) {
  tile_6x16(a, 1, lda, b, ldb, k, c, ldc);
}

#undef ROWS
#undef ROW

const sw_tile_kernel sw_kernel_avx2 = {MR, NR, kernel_6x16, kernel_6x16_at};
#endif
