/*
 * Matmul driver of the native backend: canonical order (backend.ts): every
 * out[b,i,j] is +0 then + a[b,i,p]*b[b,p,j] for p = 0..k-1, each product
 * rounded to binary32 before its add. Vector lanes and threads run across
 * independent output elements only, so any ISA path and any thread count
 * gives the same bits.
 *
 * Blocking: the output is cut into MR x NR tiles (one register tile of the
 * ISA's microkernel); tiles are numbered batch-major, then column panel, then
 * row block, so consecutive tiles share a k x NR panel of B that stays in
 * cache while A's rows stream. Tiles on the ragged right or bottom edge are
 * computed from zero-padded copies (padding adds products of zero to lanes
 * that are thrown away; it never touches a kept element's sum).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "native.h"

/* Below this many multiply-adds a matmul runs on the calling thread: waking
 * the pool costs more than it saves (same threshold idea as wasm's
 * PARALLEL_MIN_FLOPS). */
#define PARALLEL_MIN_MACS (1u << 17)

/* Grow-only scratch, one pair per thread (the caller's packed B, each pool
 * thread's edge tiles). Reusing it avoids a fresh mmap and its page faults
 * on every call: glibc serves large mallocs with mmap, and a matmul's packed
 * B is often above that threshold. The pair hangs off a pthread key whose
 * destructor frees it when the thread ends: a provider runs every unit in a
 * new worker thread, and thread-local buffers without one would leak a
 * packed B per unit. */
typedef struct {
  float *data;
  size_t cap;
} scratch_buf;

typedef struct {
  scratch_buf pack, edge;
} thread_scratch;

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_free(void *p) {
  thread_scratch *t = (thread_scratch *)p;
  free(t->pack.data);
  free(t->edge.data);
  free(t);
}

static void scratch_key_init(void) { (void)pthread_key_create(&scratch_key, scratch_free); }

/* This thread's scratch pair, or NULL when out of memory. */
static thread_scratch *my_scratch(void) {
  pthread_once(&scratch_once, scratch_key_init);
  thread_scratch *t = (thread_scratch *)pthread_getspecific(scratch_key);
  if (t == NULL) {
    t = (thread_scratch *)calloc(1, sizeof(thread_scratch));
    if (t == NULL || pthread_setspecific(scratch_key, t) != 0) {
      free(t);
      return NULL;
    }
  }
  return t;
}

/* Returns NULL when out of memory. */
static float *scratch_get(scratch_buf *s, size_t floats) {
  if (floats > s->cap) {
    free(s->data);
    s->data = (float *)malloc(sizeof(float) * floats);
    s->cap = s->data == NULL ? 0 : floats;
  }
  return s->data;
}

typedef struct {
  const float *a, *b;
  float *out;
  size_t m, k, n;
  int b_batched;
  int trans_a, trans_b; /* a stored [k][m], b stored [n][k] (sw_matmul_t) */
  const sw_tile_kernel *tk;
  size_t row_blocks, panels;
  float *bp; /* B packed: [b_batched ? batch : 1][panels][k][nr], zero-padded */
} tile_job;

/* Packs one k x NR column panel of B contiguously (rows of NR floats), so the
 * tile streams it linearly; columns past n are zeros. Pure data movement. */
static void pack_panel(void *ctx, size_t t) {
  const tile_job *j = (const tile_job *)ctx;
  const size_t nr = (size_t)j->tk->nr, k = j->k, n = j->n;
  const size_t bi = t / j->panels, panel = t % j->panels;
  const size_t j0 = panel * nr, cols = n - j0 < nr ? n - j0 : nr;
  float *dst = j->bp + t * k * nr;
  if (j->trans_b) { /* b stored [n][k]: column j0 + c of B is row j0 + c of b */
    const float *b = j->b + bi * k * n + j0 * k;
    for (size_t c = 0; c < cols; c++)
      for (size_t p = 0; p < k; p++) dst[p * nr + c] = b[c * k + p];
    if (cols < nr)
      for (size_t p = 0; p < k; p++) memset(dst + p * nr + cols, 0, sizeof(float) * (nr - cols));
    return;
  }
  const float *b = j->b + bi * k * n + j0;
  for (size_t p = 0; p < k; p++) {
    memcpy(dst + p * nr, b + p * n, sizeof(float) * cols);
    if (cols < nr) memset(dst + p * nr + cols, 0, sizeof(float) * (nr - cols));
  }
}

/* A tile on the bottom or right edge: the missing rows of A are zeros in a
 * copy, and the tile is written to a scratch block from which only the kept
 * rows and columns are copied out. */
static void edge_tile(const tile_job *j, const float *a, const float *bp, float *c, size_t rows, size_t cols) {
  const size_t mr = (size_t)j->tk->mr, nr = (size_t)j->tk->nr, k = j->k;
  const int pad_rows = rows < mr;
  thread_scratch *ts = my_scratch();
  float *scratch = ts == NULL ? NULL : scratch_get(&ts->edge, (pad_rows ? mr * k : 0) + mr * nr);
  if (scratch == NULL) abort(); /* out of memory inside a kernel: nothing sane to return */
  float *cp = scratch;
  const float *ap = a;
  size_t lda = j->trans_a ? j->m : k;
  sw_microkernel kernel = j->trans_a ? j->tk->kernel_at : j->tk->kernel;
  if (pad_rows) { /* a row-major copy of the rows there are, then zero rows */
    float *copy = scratch + mr * nr;
    if (j->trans_a) {
      for (size_t r = 0; r < rows; r++)
        for (size_t p = 0; p < k; p++) copy[r * k + p] = a[p * j->m + r];
    } else {
      memcpy(copy, a, sizeof(float) * rows * k);
    }
    memset(copy + rows * k, 0, sizeof(float) * (mr - rows) * k);
    ap = copy;
    lda = k;
    kernel = j->tk->kernel;
  }
  kernel(ap, lda, bp, nr, k, cp, nr);
  for (size_t r = 0; r < rows; r++) memcpy(c + r * j->n, cp + r * nr, sizeof(float) * cols);
}

static void run_tile(void *ctx, size_t t) {
  const tile_job *j = (const tile_job *)ctx;
  const size_t per_batch = j->row_blocks * j->panels;
  const size_t bi = t / per_batch, rest = t % per_batch;
  const size_t panel = rest / j->row_blocks, rb = rest % j->row_blocks;
  const size_t mr = (size_t)j->tk->mr, nr = (size_t)j->tk->nr;
  const size_t i0 = rb * mr, j0 = panel * nr;
  const size_t rows = j->m - i0 < mr ? j->m - i0 : mr;
  const size_t cols = j->n - j0 < nr ? j->n - j0 : nr;
  /* trans_a: A's rows i0.. are columns i0.. of a [k][m] */
  const float *a = j->a + bi * j->m * j->k + (j->trans_a ? i0 : i0 * j->k);
  const float *bp = j->bp + ((j->b_batched ? bi * j->panels : 0) + panel) * j->k * nr;
  float *c = j->out + bi * j->m * j->n + i0 * j->n + j0;
  if (rows == mr && cols == nr) {
    if (j->trans_a) j->tk->kernel_at(a, j->m, bp, nr, j->k, c, j->n);
    else j->tk->kernel(a, j->k, bp, nr, j->k, c, j->n);
  } else {
    edge_tile(j, a, bp, c, rows, cols);
  }
}

typedef struct {
  const float *a, *b;
  float *out;
  size_t m, k, n;
  int b_batched;
  int trans_a, trans_b;
} row_job;

/* Portable path, one output row per task: the row of C is the accumulator
 * vector, so each element still sums its p terms in order; the j loop has
 * independent lanes and the compiler may vectorise it with the baseline ISA. */
static void run_row(void *ctx, size_t t) {
  const row_job *j = (const row_job *)ctx;
  const size_t bi = t / j->m, i = t % j->m;
  const float *a = j->a + bi * j->m * j->k + (j->trans_a ? i : i * j->k);
  const size_t as = j->trans_a ? j->m : 1; /* a's step from p to p+1 */
  const float *b = j->b + (j->b_batched ? bi * j->k * j->n : 0);
  float *c = j->out + bi * j->m * j->n + i * j->n;
  const size_t n = j->n, k = j->k;
  for (size_t x = 0; x < n; x++) c[x] = 0.0f;
  for (size_t p = 0; p < k; p++) {
    const float av = a[p * as];
    if (j->trans_b) { /* b stored [n][k] */
      for (size_t x = 0; x < n; x++) c[x] = c[x] + av * b[x * k + p];
    } else {
      const float *brow = b + p * n;
      for (size_t x = 0; x < n; x++) c[x] = c[x] + av * brow[x];
    }
  }
}

void sw_matmul(int isa, const float *a, const float *b, float *out, size_t batch, size_t m, size_t k, size_t n,
               int b_batched, int threads) {
  sw_matmul_t(isa, a, b, out, batch, m, k, n, b_batched, threads, 0, 0);
}

void sw_matmul_t(int isa, const float *a, const float *b, float *out, size_t batch, size_t m, size_t k, size_t n,
                 int b_batched, int threads, int trans_a, int trans_b) {
  if (batch == 0 || m == 0 || n == 0) return;
  if (k == 0) { memset(out, 0, sizeof(float) * batch * m * n); return; }
  const double macs = (double)batch * (double)m * (double)n * (double)k;
  const int use = macs < PARALLEL_MIN_MACS ? 1 : threads;
  const sw_tile_kernel *tk = NULL;
#if defined(__x86_64__) || defined(__i386__)
  if (isa == SW_ISA_AVX512) tk = &sw_kernel_avx512;
  else if (isa == SW_ISA_AVX2) tk = &sw_kernel_avx2;
#else
  (void)isa;
#endif
  if (tk == NULL) {
    row_job j = {a, b, out, m, k, n, b_batched, trans_a, trans_b};
    sw_parallel_for(batch * m, use, run_row, &j);
    return;
  }
  tile_job j = {a, b, out, m, k, n, b_batched, trans_a, trans_b, tk, (m + (size_t)tk->mr - 1) / (size_t)tk->mr,
                (n + (size_t)tk->nr - 1) / (size_t)tk->nr, NULL};
  const size_t nb = b_batched ? batch : 1;
  thread_scratch *ts = my_scratch();
  j.bp = ts == NULL ? NULL : scratch_get(&ts->pack, nb * j.panels * k * (size_t)tk->nr);
  if (j.bp == NULL) abort(); /* out of memory inside a kernel: nothing sane to return */
  sw_parallel_for(nb * j.panels, use, pack_panel, &j);
  sw_parallel_for(batch * j.row_blocks * j.panels, use, run_tile, &j);
}

int sw_isa_mask(void) {
  int mask = 1 << SW_ISA_PORTABLE;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2")) mask |= 1 << SW_ISA_AVX2;
  if (__builtin_cpu_supports("avx512f")) mask |= 1 << SW_ISA_AVX512;
#endif
  return mask;
}
