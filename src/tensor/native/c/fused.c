/*
 * The fused kernels' driver: picks the ISA path's row kernels (fused_body.h)
 * and cuts the rows (columns, for RMSNorm's dw) into chunks for the thread
 * pool. Every row (column) is computed by one thread from start to end, so
 * the bits are those of one thread, whatever the count. The one sum across
 * rows (cross-entropy's loss) is taken here, in row order, after the rows.
 */
#include <math.h>
#include "native.h"

/* Below this many elements an op runs on the calling thread (as matmul.c's PARALLEL_MIN_MACS). */
#define FUSED_PARALLEL_MIN 32768

typedef struct {
  int op, isa;
  size_t rows, n, aux, chunks;
  const float *a, *b, *c, *d, *e;
  float *o1, *o2, *o3, *o4;
  const int32_t *targets;
  float s1, s2, s3;
} fused_job;

#if defined(__x86_64__) || defined(__i386__)
#define PICK(isa, name, ...)                                                  \
  do {                                                                        \
    if ((isa) == SW_ISA_AVX512) name##_avx512(__VA_ARGS__);                   \
    else if ((isa) == SW_ISA_AVX2) name##_avx2(__VA_ARGS__);                  \
    else name##_portable(__VA_ARGS__);                                        \
  } while (0)
#else
#define PICK(isa, name, ...) name##_portable(__VA_ARGS__)
#endif

static void run_chunk(const fused_job *j, size_t r0, size_t r1) {
  const size_t cnt = r1 - r0, n = j->n;
  switch (j->op) {
    case SW_F_RMSNORM:
      PICK(j->isa, sw_rmsnorm_rows, j->a + r0 * n, j->b, j->o1 + r0 * n, j->o2 + r0, cnt, n, j->s1);
      break;
    case SW_F_RMSNORM_BACK: /* rows, then (second job) columns */
      PICK(j->isa, sw_rmsnorm_back_rows, j->a + r0 * n, j->b + r0 * n, j->c, j->d + r0, j->e == NULL ? NULL : j->e + r0 * n,
           j->o1 + r0 * n, cnt, n);
      break;
    case SW_F_RMSNORM_DW:
      PICK(j->isa, sw_rmsnorm_dw_cols, j->a, j->b, j->d, j->o2, j->rows, n, r0, r1);
      break;
    case SW_F_SOFTMAX:
      PICK(j->isa, sw_softmax_rows, j->a + r0 * n, j->s1, j->b, j->o1 + r0 * n, j->o2 + r0, j->o3 + r0, r0, cnt, n, j->aux);
      break;
    case SW_F_SOFTMAX_BACK:
      PICK(j->isa, sw_softmax_back_rows, j->a + r0 * n, j->b + r0 * n, j->s1, j->c, j->d + r0, j->e + r0, j->o1 + r0 * n, r0, cnt, n,
           j->aux);
      break;
    case SW_F_SWIGLU: /* n == 1: "rows" are elements */
      PICK(j->isa, sw_swiglu, j->a + r0, j->b + r0, j->o1 + r0, cnt);
      break;
    case SW_F_SWIGLU_BACK:
      PICK(j->isa, sw_swiglu_back, j->a + r0, j->b + r0, j->c + r0, j->o1 + r0, j->o2 + r0, cnt);
      break;
    case SW_F_CE:
      PICK(j->isa, sw_ce_rows, j->a + r0 * n, j->targets + r0, j->o1 + r0, j->o2 + r0, j->o3 + r0, cnt, n);
      break;
    case SW_F_CE_BACK:
      PICK(j->isa, sw_ce_back_rows, j->a + r0 * n, j->targets + r0, j->b + r0, j->c + r0, j->o1 + r0 * n, cnt, n, j->s1, j->s2);
      break;
    case SW_F_ROPE:
      PICK(j->isa, sw_rope_rows, j->a + r0 * n, j->b, j->c, j->o1 + r0 * n, r0, cnt, n, j->aux);
      break;
    case SW_F_ROPE_BACK:
      PICK(j->isa, sw_rope_back_rows, j->a + r0 * n, j->b, j->c, j->e == NULL ? NULL : j->e + r0 * n, j->o1 + r0 * n, r0, cnt, n, j->aux);
      break;
    default:
      break;
  }
}

static void task(void *ctx, size_t i) {
  const fused_job *j = (const fused_job *)ctx;
  const size_t span = j->op == SW_F_RMSNORM_DW ? j->n : j->rows;
  run_chunk(j, span * i / j->chunks, span * (i + 1) / j->chunks);
}

/* Runs the job over `span` rows (or columns) of `per` elements each, split for `threads`. */
static void run(fused_job *j, size_t span, size_t per, int threads) {
  j->chunks = 1;
  if (threads > 1 && span >= 2 && span * per >= FUSED_PARALLEL_MIN) {
    j->chunks = (size_t)threads * 4;
    if (j->chunks > span) j->chunks = span;
  }
  if (span == 0) return;
  if (j->chunks == 1) run_chunk(j, 0, span);
  else sw_parallel_for(j->chunks, threads, task, j);
}

void sw_fused_rmsnorm(int isa, int threads, const float *x, const float *w, float *y, float *r, size_t rows, size_t d, float eps) {
  fused_job j = {.op = SW_F_RMSNORM, .isa = isa, .rows = rows, .n = d, .a = x, .b = w, .o1 = y, .o2 = r, .s1 = eps};
  run(&j, rows, d, threads);
}

void sw_fused_rmsnorm_back(int isa, int threads, const float *g, const float *x, const float *w, const float *r, const float *acc,
                           float *dx, float *dw, size_t rows, size_t d) {
  fused_job j = {.op = SW_F_RMSNORM_BACK, .isa = isa, .rows = rows, .n = d, .a = g, .b = x, .c = w, .d = r, .e = acc, .o1 = dx, .o2 = dw};
  run(&j, rows, d, threads);
  j.op = SW_F_RMSNORM_DW;
  run(&j, d, rows, threads);
}

void sw_fused_softmax(int isa, int threads, const float *x, float scale, const float *mask, float *y, float *m, float *s, size_t rows,
                      size_t n, size_t mask_rows) {
  fused_job j = {.op = SW_F_SOFTMAX, .isa = isa, .rows = rows, .n = n, .aux = mask_rows, .a = x, .b = mask, .o1 = y, .o2 = m, .o3 = s, .s1 = scale};
  run(&j, rows, n, threads);
}

void sw_fused_softmax_back(int isa, int threads, const float *g, const float *x, float scale, const float *mask, const float *m,
                           const float *s, float *dx, size_t rows, size_t n, size_t mask_rows) {
  fused_job j = {.op = SW_F_SOFTMAX_BACK, .isa = isa, .rows = rows, .n = n, .aux = mask_rows, .a = g, .b = x, .c = mask, .d = m, .e = s,
                 .o1 = dx, .s1 = scale};
  run(&j, rows, n, threads);
}

void sw_fused_swiglu(int isa, int threads, const float *gate, const float *up, float *out, size_t len) {
  fused_job j = {.op = SW_F_SWIGLU, .isa = isa, .rows = len, .n = 1, .a = gate, .b = up, .o1 = out};
  run(&j, len, 1, threads);
}

void sw_fused_swiglu_back(int isa, int threads, const float *g, const float *gate, const float *up, float *dgate, float *dup, size_t len) {
  fused_job j = {.op = SW_F_SWIGLU_BACK, .isa = isa, .rows = len, .n = 1, .a = g, .b = gate, .c = up, .o1 = dgate, .o2 = dup};
  run(&j, len, 1, threads);
}

float sw_fused_ce(int isa, int threads, const float *logits, const int32_t *targets, float *m, float *se, float *lp, size_t rows, size_t v) {
  fused_job j = {.op = SW_F_CE, .isa = isa, .rows = rows, .n = v, .a = logits, .targets = targets, .o1 = m, .o2 = se, .o3 = lp};
  run(&j, rows, v, threads);
  /* The picked log-probabilities summed over rows in order from +0, then the mean, negated (fused-twin.ts crossEntropy). */
  float total = 0.0f;
  for (size_t i = 0; i < rows; i++) total = total + lp[i];
  return -(total / (float)rows);
}

void sw_fused_ce_back(int isa, int threads, float g_loss, const float *logits, const int32_t *targets, const float *m, const float *se,
                      float *dx, size_t rows, size_t v) {
  const float q = -g_loss / (float)rows;
  const float picked = 0.0f + q;
  const float dlse = 0.0f + -picked; /* see sw_ce_back_rows */
  fused_job j = {.op = SW_F_CE_BACK, .isa = isa, .rows = rows, .n = v, .a = logits, .b = m, .c = se, .targets = targets, .o1 = dx,
                 .s1 = picked, .s2 = dlse};
  run(&j, rows, v, threads);
}

void sw_fused_rope(int isa, int threads, const float *x, const float *cs, const float *sn, float *y, size_t rows, size_t d, size_t t_rows) {
  fused_job j = {.op = SW_F_ROPE, .isa = isa, .rows = rows, .n = d, .aux = t_rows, .a = x, .b = cs, .c = sn, .o1 = y};
  run(&j, rows, d, threads);
}

void sw_fused_rope_back(int isa, int threads, const float *g, const float *cs, const float *sn, const float *acc, float *dx, size_t rows,
                        size_t d, size_t t_rows) {
  fused_job j = {.op = SW_F_ROPE_BACK, .isa = isa, .rows = rows, .n = d, .aux = t_rows, .a = g, .b = cs, .c = sn, .e = acc, .o1 = dx};
  run(&j, rows, d, threads);
}
