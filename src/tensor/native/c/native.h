/*
 * The native backend's C interface (see ../backend.ts for the JavaScript side
 * and src/tensor/backend/backend.ts for the canonical arithmetic every
 * function here reproduces bit for bit).
 */
#ifndef SWARM_NATIVE_H
#define SWARM_NATIVE_H

#include <stddef.h>
#include <stdint.h>

/* Bumped whenever a function's arguments or meaning change; the loader
 * refuses a build whose number differs from the one it expects. */
#ifndef SW_ABI_VERSION
#define SW_ABI_VERSION 5
#endif

/* Op codes: the same order as UNARY_OPS / BINARY_OPS / REDUCE_OPS in backend.ts. */
enum { SW_NEG, SW_EXP, SW_LOG, SW_SQRT, SW_RSQRT, SW_TANH };
enum { SW_ADD, SW_SUB, SW_MUL, SW_DIV, SW_MAX, SW_GT, SW_EQ };
enum { SW_SUM, SW_RMAX };

/* Instruction-set paths for matmul, widest first. */
enum { SW_ISA_PORTABLE = 0, SW_ISA_AVX2 = 1, SW_ISA_AVX512 = 2 };

/* neg, sqrt, rsqrt only (see sw_unary_isa for every unary op). */
void sw_unary(int op, const float *x, float *out, size_t len);
void sw_binary(int op, const float *a, const int32_t *as, const float *b, const int32_t *bs, const int32_t *shape,
               int rank, float *out);
void sw_reduce(int op, const float *x, float *out, size_t outer, size_t n, size_t inner);
void sw_strided_copy(const float *x, const int32_t *shape, const int64_t *strides, int rank, size_t offset, float *out);
void sw_scatter_add(const float *src, const int32_t *indices, size_t count, float *out, size_t rows, size_t cols);

/* out[b] = a[b] @ (bBatched ? b[b] : b), canonical order; `threads` >= 1. */
void sw_matmul(int isa, const float *a, const float *b, float *out, size_t batch, size_t m, size_t k, size_t n,
               int b_batched, int threads);
/* The same product with a and/or b read transposed in place: trans_a means
 * a is stored [batch][k][m], trans_b means b is stored [n][k] (per batch when
 * b_batched). Every output's sum still runs over p in order. */
void sw_matmul_t(int isa, const float *a, const float *b, float *out, size_t batch, size_t m, size_t k, size_t n,
                 int b_batched, int threads, int trans_a, int trans_b);

/* Lane-wise versions compiled per ISA (simd_body.h): exp, log and tanh
 * vectorised (other unary ops fall through to sw_unary), and reductions of
 * whole rows (inner == 1) eight rows at a time. Same bits as sw_unary /
 * sw_reduce on every path. */
void sw_unary_simd_portable(int op, const float *x, float *out, size_t len);
void sw_unary_simd_avx2(int op, const float *x, float *out, size_t len);
void sw_unary_simd_avx512(int op, const float *x, float *out, size_t len);
void sw_reduce_rows_portable(int op, const float *x, float *out, size_t outer, size_t n);
void sw_reduce_rows_avx2(int op, const float *x, float *out, size_t outer, size_t n);
void sw_reduce_rows_avx512(int op, const float *x, float *out, size_t outer, size_t n);

void sw_adamw_portable(float *p, const float *g, float *m, float *v, size_t n, const float *k, int decay);
void sw_adamw_avx2(float *p, const float *g, float *m, float *v, size_t n, const float *k, int decay);
void sw_adamw_avx512(float *p, const float *g, float *m, float *v, size_t n, const float *k, int decay);

/* ISA dispatch of the two above (isa already checked against sw_isa_mask). */
void sw_unary_isa(int isa, int op, const float *x, float *out, size_t len);
void sw_adamw_isa(int isa, float *p, const float *g, float *m, float *v, size_t n, const float *k, int decay);
void sw_reduce_isa(int isa, int op, const float *x, float *out, size_t outer, size_t n, size_t inner);

/* Fused kernels (fused_body.h per ISA, driven by fused.c): the twins of
 * src/tensor/fused-twin.ts, bit for bit. Op codes for fused.c's jobs. */
enum { SW_F_RMSNORM, SW_F_RMSNORM_BACK, SW_F_RMSNORM_DW, SW_F_SOFTMAX, SW_F_SOFTMAX_BACK, SW_F_SWIGLU, SW_F_SWIGLU_BACK, SW_F_CE, SW_F_CE_BACK, SW_F_ROPE, SW_F_ROPE_BACK };

#define SW_FUSED_DECL(S)                                                                                                          \
  void sw_rmsnorm_rows_##S(const float *x, const float *w, float *y, float *r, size_t rows, size_t d, float eps);                 \
  void sw_rmsnorm_back_rows_##S(const float *g, const float *x, const float *w, const float *r, const float *acc, float *dx,      \
                                size_t rows, size_t d);                                                                           \
  void sw_rmsnorm_dw_cols_##S(const float *g, const float *x, const float *r, float *dw, size_t rows, size_t d, size_t c0,        \
                              size_t c1);                                                                                         \
  void sw_softmax_rows_##S(const float *x, float scale, const float *mask, float *y, float *m, float *s, size_t row0, size_t rows, \
                           size_t n, size_t mask_rows);                                                                           \
  void sw_softmax_back_rows_##S(const float *g, const float *x, float scale, const float *mask, const float *m, const float *s,    \
                                float *dx, size_t row0, size_t rows, size_t n, size_t mask_rows);                                 \
  void sw_swiglu_##S(const float *gate, const float *up, float *out, size_t len);                                                \
  void sw_swiglu_back_##S(const float *g, const float *gate, const float *up, float *dgate, float *dup, size_t len);              \
  void sw_ce_rows_##S(const float *logits, const int32_t *targets, float *m, float *se, float *lp, size_t rows, size_t v);       \
  void sw_ce_back_rows_##S(const float *logits, const int32_t *targets, const float *m, const float *se, float *dx, size_t rows,  \
                           size_t v, float picked, float dlse);                                                             \
  void sw_rope_rows_##S(const float *x, const float *cs, const float *sn, float *y, size_t row0, size_t rows, size_t d,          \
                        size_t t_rows);                                                                                           \
  void sw_rope_back_rows_##S(const float *g, const float *cs, const float *sn, const float *acc, float *dx, size_t row0,         \
                             size_t rows, size_t d, size_t t_rows);
SW_FUSED_DECL(portable)
SW_FUSED_DECL(avx2)
SW_FUSED_DECL(avx512)

void sw_fused_rmsnorm(int isa, int threads, const float *x, const float *w, float *y, float *r, size_t rows, size_t d, float eps);
void sw_fused_rmsnorm_back(int isa, int threads, const float *g, const float *x, const float *w, const float *r, const float *acc,
                           float *dx, float *dw, size_t rows, size_t d);
void sw_fused_softmax(int isa, int threads, const float *x, float scale, const float *mask, float *y, float *m, float *s, size_t rows,
                      size_t n, size_t mask_rows);
void sw_fused_softmax_back(int isa, int threads, const float *g, const float *x, float scale, const float *mask, const float *m,
                           const float *s, float *dx, size_t rows, size_t n, size_t mask_rows);
void sw_fused_swiglu(int isa, int threads, const float *gate, const float *up, float *out, size_t len);
void sw_fused_swiglu_back(int isa, int threads, const float *g, const float *gate, const float *up, float *dgate, float *dup, size_t len);
float sw_fused_ce(int isa, int threads, const float *logits, const int32_t *targets, float *m, float *se, float *lp, size_t rows, size_t v);
void sw_fused_ce_back(int isa, int threads, float g_loss, const float *logits, const int32_t *targets, const float *m, const float *se,
                      float *dx, size_t rows, size_t v);

void sw_fused_rope(int isa, int threads, const float *x, const float *cs, const float *sn, float *y, size_t rows, size_t d, size_t t_rows);
void sw_fused_rope_back(int isa, int threads, const float *g, const float *cs, const float *sn, const float *acc, float *dx, size_t rows,
                        size_t d, size_t t_rows);

/* Which ISA paths this CPU (and OS) can run: a bit mask of 1 << SW_ISA_*. */
int sw_isa_mask(void);

/* Thread pool: fn(ctx, i) for every i in [0, count), on up to `threads`
 * threads including the caller; returns when all are done. Which thread runs
 * which index is not fixed, so fn must write disjoint outputs. */
typedef void (*sw_task_fn)(void *ctx, size_t index);
void sw_parallel_for(size_t count, int threads, sw_task_fn fn, void *ctx);

/* One register-tile microkernel per ISA: computes the full MR x NR block
 * c[r*ldc + j] = sum_p a[r*lda + p] * b[p*ldb + j] (p in order from +0,
 * each product rounded before its add) for r < MR, j < NR. */
typedef void (*sw_microkernel)(const float *a, size_t lda, const float *b, size_t ldb, size_t k, float *c, size_t ldc);
/* kernel_at: the same tile with A read transposed, a[p*lda + r]. */
typedef struct {
  int mr, nr;
  sw_microkernel kernel, kernel_at;
} sw_tile_kernel;

#if defined(__x86_64__) || defined(__i386__)
extern const sw_tile_kernel sw_kernel_avx2;
extern const sw_tile_kernel sw_kernel_avx512;
#endif

#endif
