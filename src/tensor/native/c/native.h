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
#define SW_ABI_VERSION 4
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
typedef struct {
  int mr, nr;
  sw_microkernel kernel;
} sw_tile_kernel;

#if defined(__x86_64__) || defined(__i386__)
extern const sw_tile_kernel sw_kernel_avx2;
extern const sw_tile_kernel sw_kernel_avx512;
#endif

#endif
