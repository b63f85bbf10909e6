/*
 * AVX-512F register tile for matmul: 8 rows x 32 columns (16 zmm
 * accumulators). Same canonical order as the AVX2 tile: one rounded
 * _mm512_mul_ps then one rounded _mm512_add_ps per p and lane. GCC's
 * -mavx512f also enables FMA instructions, so -ffp-contract=off is what
 * keeps mul+add separate here; the build's objdump check proves it.
 */
#include "native.h"
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define MR 8
#define NR 32

/* The eight rows' multiply-then-add for one p, given their A values. */
#define ROW(r, v)                                            \
    av = _mm512_set1_ps(v);                                  \
    c##r##0 = _mm512_add_ps(c##r##0, _mm512_mul_ps(av, b0)); \
    c##r##1 = _mm512_add_ps(c##r##1, _mm512_mul_ps(av, b1));
#define ROWS(v0, v1, v2, v3, v4, v5, v6, v7) ROW(0, v0) ROW(1, v1) ROW(2, v2) ROW(3, v3) ROW(4, v4) ROW(5, v5) ROW(6, v6) ROW(7, v7)

/* The tile, with row r's p-th A value at a[r*rs + p*ps]: (lda, 1) for A as
 * stored, (1, lda) for A read transposed (A stored [k][m], as for
 * dW = Xᵀ·dY, so no transposed copy is made). Inlined into the two kernels
 * below with one stride constant, so each loop is specialised. */
static inline __attribute__((always_inline)) void tile_8x32(const float *a, size_t rs, size_t ps, const float *b, size_t ldb, size_t k, float *c, size_t ldc) {
  __m512 c00 = _mm512_setzero_ps(), c01 = _mm512_setzero_ps();
  __m512 c10 = _mm512_setzero_ps(), c11 = _mm512_setzero_ps();
  __m512 c20 = _mm512_setzero_ps(), c21 = _mm512_setzero_ps();
  __m512 c30 = _mm512_setzero_ps(), c31 = _mm512_setzero_ps();
  __m512 c40 = _mm512_setzero_ps(), c41 = _mm512_setzero_ps();
  __m512 c50 = _mm512_setzero_ps(), c51 = _mm512_setzero_ps();
  __m512 c60 = _mm512_setzero_ps(), c61 = _mm512_setzero_ps();
  __m512 c70 = _mm512_setzero_ps(), c71 = _mm512_setzero_ps();
  const float *a0 = a, *a1 = a + rs, *a2 = a + 2 * rs, *a3 = a + 3 * rs;
  const float *a4 = a + 4 * rs, *a5 = a + 5 * rs, *a6 = a + 6 * rs, *a7 = a + 7 * rs;
  for (size_t p = 0; p < k; p++) {
    const __m512 b0 = _mm512_loadu_ps(b + p * ldb);
    const __m512 b1 = _mm512_loadu_ps(b + p * ldb + 16);
    const size_t q = p * ps;
    __m512 av;
    ROWS(a0[q], a1[q], a2[q], a3[q], a4[q], a5[q], a6[q], a7[q])
  }
  _mm512_storeu_ps(c, c00); _mm512_storeu_ps(c + 16, c01); c += ldc;
  _mm512_storeu_ps(c, c10); _mm512_storeu_ps(c + 16, c11); c += ldc;
  _mm512_storeu_ps(c, c20); _mm512_storeu_ps(c + 16, c21); c += ldc;
  _mm512_storeu_ps(c, c30); _mm512_storeu_ps(c + 16, c31); c += ldc;
  _mm512_storeu_ps(c, c40); _mm512_storeu_ps(c + 16, c41); c += ldc;
  _mm512_storeu_ps(c, c50); _mm512_storeu_ps(c + 16, c51); c += ldc;
  _mm512_storeu_ps(c, c60); _mm512_storeu_ps(c + 16, c61); c += ldc;
  _mm512_storeu_ps(c, c70); _mm512_storeu_ps(c + 16, c71);
}

static void kernel_8x32(const float *a, size_t lda, const float *b, size_t ldb, size_t k, float *c, size_t ldc) {
  tile_8x32(a, lda, 1, b, ldb, k, c, ldc);
}

static void kernel_8x32_at(const float *a, size_t lda, const float *b, size_t ldb, size_t k, float *c, size_t ldc) {
  tile_8x32(a, 1, lda, b, ldb, k, c, ldc);
}

#undef ROWS
#undef ROW

const sw_tile_kernel sw_kernel_avx512 = {MR, NR, kernel_8x32, kernel_8x32_at};
#endif
