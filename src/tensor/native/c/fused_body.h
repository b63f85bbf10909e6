/*
 * Fused kernels, compiled once per ISA path (included by simd_*.c after
 * simd_body.h, whose exp_lane / log_lane they use). Each mirrors its twin
 * in src/tensor/fused-twin.ts line for line: the same binary32 operations
 * in the same order (the twins' comments derive that order from the
 * composed primitives and autograd). Loops over independent elements are
 * written so the compiler can vectorise them (lanes change no bit); every
 * sum runs in index order from +0 on one scalar accumulator, after its terms
 * have been computed lane-wise into a small block (SW_BLOCK) so only the
 * dependent adds stay serial. Row kernels take a row range, so fused.c can
 * split rows across threads: rows are independent, so any split gives the
 * same bits.
 */
#ifndef SW_BLOCK
#define SW_BLOCK 256
#endif

/*
 * Row maximum in 16 lanes, then across the lanes. IEEE 754-2019 maximum is
 * commutative and associative on values: the result is the row's largest
 * element, +0 above -0, or NaN when any element is NaN, whatever the order
 * (only a NaN's payload could differ, and NaN payloads are not canonical,
 * backend.ts). So this equals the in-order maximum of the twin. The lanes
 * are GCC vector extensions (split into the target's widest registers), as
 * written selects, since the compiler keeps canon_fmax's branches.
 */
#ifndef SW_VEC16_DEFINED
#define SW_VEC16_DEFINED
typedef float sw_v16f __attribute__((vector_size(64)));
typedef int32_t sw_v16i __attribute__((vector_size(64)));
#endif

/* Lane-wise select and IEEE maximum, as macros so no vector value crosses a
 * function boundary (whose ABI would depend on the ISA flags). */
#define SW_VSEL(m, a, b) ((sw_v16f)((((sw_v16i)(a)) & (m)) | (((sw_v16i)(b)) & ~(m))))
/* NaN if either is NaN; of equal values (+0 == -0) the one whose sign bit is clear; else the larger. */
#define SW_VMAX16(a, b) \
  SW_VSEL(((a) != (a)) | ((b) != (b)), nan16, SW_VSEL((a) == (b), SW_VSEL((sw_v16i)(a) < 0, (b), (a)), SW_VSEL((a) > (b), (a), (b))))

static inline float SW_FN(row_max)(const float *y, size_t n) {
  sw_v16f acc = {-INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY,
                 -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY};
  const sw_v16f nan16 = {NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN};
  size_t j = 0;
  for (; j + 16 <= n; j += 16) {
    sw_v16f v;
    memcpy(&v, y + j, sizeof v);
    acc = SW_VMAX16(acc, v);
  }
  float m = -INFINITY;
  for (int l = 0; l < 16; l++) m = canon_fmax(m, acc[l]);
  for (; j < n; j++) m = canon_fmax(m, y[j]);
  return m;
}

/* acc[q] = acc[q] + t[q*ldt + j] for j = 0..len-1 in order, for 8 rows side
 * by side: eight independent chains of dependent adds (the adder is busy
 * instead of waiting on each add's latency), each in index order. */
static inline void SW_FN(sum8)(const float *t, size_t ldt, size_t len, float *acc) {
  float a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3], a4 = acc[4], a5 = acc[5], a6 = acc[6], a7 = acc[7];
  for (size_t j = 0; j < len; j++) {
    a0 = a0 + t[j]; a1 = a1 + t[ldt + j]; a2 = a2 + t[2 * ldt + j]; a3 = a3 + t[3 * ldt + j];
    a4 = a4 + t[4 * ldt + j]; a5 = a5 + t[5 * ldt + j]; a6 = a6 + t[6 * ldt + j]; a7 = a7 + t[7 * ldt + j];
  }
  acc[0] = a0; acc[1] = a1; acc[2] = a2; acc[3] = a3; acc[4] = a4; acc[5] = a5; acc[6] = a6; acc[7] = a7;
}

/* RMSNorm forward over `rows` rows of d. */
void SW_FN(sw_rmsnorm_rows)(const float *x, const float *w, float *y, float *r, size_t rows, size_t d, float eps) {
  const float n = (float)d;
  float t[SW_BLOCK];
  size_t i = 0;
  for (; i + 8 <= rows; i += 8) {
    float s8[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    float t8[8 * SW_BLOCK];
    const float *xb = x + i * d;
    for (size_t b = 0; b < d; b += SW_BLOCK) {
      const size_t len = d - b < SW_BLOCK ? d - b : SW_BLOCK;
      for (size_t q = 0; q < 8; q++)
        for (size_t j = 0; j < len; j++) t8[q * SW_BLOCK + j] = xb[q * d + b + j] * xb[q * d + b + j];
      SW_FN(sum8)(t8, SW_BLOCK, len, s8);
    }
    for (size_t q = 0; q < 8; q++) {
      const float ri = canon_rsqrtf(s8[q] / n + eps);
      r[i + q] = ri;
      const float *xr = xb + q * d;
      float *yr = y + (i + q) * d;
      for (size_t j = 0; j < d; j++) yr[j] = (xr[j] * ri) * w[j];
    }
  }
  for (; i < rows; i++) {
    const float *xr = x + i * d;
    float *yr = y + i * d;
    float s = 0.0f;
    for (size_t b = 0; b < d; b += SW_BLOCK) {
      const size_t len = d - b < SW_BLOCK ? d - b : SW_BLOCK;
      for (size_t j = 0; j < len; j++) t[j] = xr[b + j] * xr[b + j];
      for (size_t j = 0; j < len; j++) s = s + t[j];
    }
    const float ri = canon_rsqrtf(s / n + eps);
    r[i] = ri;
    for (size_t j = 0; j < d; j++) yr[j] = (xr[j] * ri) * w[j];
  }
}

/* RMSNorm backward, dx only (acc: x's gradient so far, or NULL). */
void SW_FN(sw_rmsnorm_back_rows)(const float *g, const float *x, const float *w, const float *r, const float *acc, float *dx,
                                 size_t rows, size_t d) {
  const float n = (float)d;
  float t[8 * SW_BLOCK];
  float dr8[8];
  for (size_t i = 0; i < rows; i++) {
    const float *gr = g + i * d, *xr = x + i * d;
    float *dr_out = dx + i * d;
    const float ri = r[i];
    if (i % 8 == 0 && i + 8 <= rows) { /* the next 8 rows' sums side by side */
      for (size_t q = 0; q < 8; q++) dr8[q] = 0.0f;
      for (size_t b = 0; b < d; b += SW_BLOCK) {
        const size_t len = d - b < SW_BLOCK ? d - b : SW_BLOCK;
        for (size_t q = 0; q < 8; q++)
          for (size_t j = 0; j < len; j++) t[q * SW_BLOCK + j] = (gr[q * d + b + j] * w[b + j]) * xr[q * d + b + j];
        SW_FN(sum8)(t, SW_BLOCK, len, dr8);
      }
    }
    float dr = 0.0f;
    if (rows - rows % 8 > i) dr = dr8[i % 8];
    else {
      for (size_t b = 0; b < d; b += SW_BLOCK) {
        const size_t len = d - b < SW_BLOCK ? d - b : SW_BLOCK;
        for (size_t j = 0; j < len; j++) t[j] = (gr[b + j] * w[b + j]) * xr[b + j];
        for (size_t j = 0; j < len; j++) dr = dr + t[j];
      }
    }
    const float dA = dr * (((ri * ri) * ri) * -0.5f);
    const float q = dA / n;
    if (acc != NULL) {
      const float *ar = acc + i * d;
      for (size_t j = 0; j < d; j++) {
        const float c1 = (gr[j] * w[j]) * ri, cp = q * xr[j];
        float a = ar[j] + c1;
        a = a + cp;
        dr_out[j] = a + cp;
      }
    } else {
      for (size_t j = 0; j < d; j++) {
        const float c1 = (gr[j] * w[j]) * ri, cp = q * xr[j];
        const float a = c1 + cp;
        dr_out[j] = a + cp;
      }
    }
  }
}

/* RMSNorm backward, dw for columns [c0, c1): each column's rows summed in order from +0 (lanes across columns). */
void SW_FN(sw_rmsnorm_dw_cols)(const float *g, const float *x, const float *r, float *dw, size_t rows, size_t d, size_t c0, size_t c1) {
  for (size_t j = c0; j < c1; j++) dw[j] = 0.0f;
  for (size_t i = 0; i < rows; i++) {
    const float *gr = g + i * d, *xr = x + i * d;
    const float ri = r[i];
    for (size_t j = c0; j < c1; j++) dw[j] = dw[j] + gr[j] * (xr[j] * ri);
  }
}

/* Attention softmax forward; row0 is the first row's global index (for its mask row). */
void SW_FN(sw_softmax_rows)(const float *x, float scale, const float *mask, float *y, float *m, float *s, size_t row0, size_t rows,
                            size_t n, size_t mask_rows) {
  size_t i = 0;
  for (; i + 8 <= rows; i += 8) { /* 8 rows at a time: the phases below, with the 8 row sums side by side */
    float mx[8], sum[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    float *yb = y + i * n;
    for (size_t q = 0; q < 8; q++) {
      const float *xr = x + (i + q) * n, *mr = mask + ((row0 + i + q) % mask_rows) * n;
      float *yr = yb + q * n;
      for (size_t j = 0; j < n; j++) yr[j] = xr[j] * scale + mr[j];
      mx[q] = SW_FN(row_max)(yr, n);
      for (size_t j = 0; j < n; j++) yr[j] = exp_lane(yr[j] - mx[q]);
    }
    SW_FN(sum8)(yb, n, n, sum);
    for (size_t q = 0; q < 8; q++) {
      float *yr = yb + q * n;
      for (size_t j = 0; j < n; j++) yr[j] = yr[j] / sum[q];
      m[i + q] = mx[q];
      s[i + q] = sum[q];
    }
  }
  for (; i < rows; i++) {
    const float *xr = x + i * n, *mr = mask + ((row0 + i) % mask_rows) * n;
    float *yr = y + i * n;
    for (size_t j = 0; j < n; j++) yr[j] = xr[j] * scale + mr[j];
    const float mx = SW_FN(row_max)(yr, n);
    for (size_t j = 0; j < n; j++) yr[j] = exp_lane(yr[j] - mx);
    float sum = 0.0f;
    for (size_t j = 0; j < n; j++) sum = sum + yr[j];
    for (size_t j = 0; j < n; j++) yr[j] = yr[j] / sum;
    m[i] = mx;
    s[i] = sum;
  }
}

/* Attention softmax backward (dx holds each row's exps until the last pass overwrites them). */
void SW_FN(sw_softmax_back_rows)(const float *g, const float *x, float scale, const float *mask, const float *m, const float *s,
                                 float *dx, size_t row0, size_t rows, size_t n, size_t mask_rows) {
  float t[8 * SW_BLOCK];
  size_t i = 0;
  for (; i + 8 <= rows; i += 8) { /* 8 rows at a time, their gs sums side by side */
    float gs8[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (size_t q = 0; q < 8; q++) {
      const float *xr = x + (i + q) * n, *mr = mask + ((row0 + i + q) % mask_rows) * n;
      float *dr = dx + (i + q) * n;
      for (size_t j = 0; j < n; j++) dr[j] = exp_lane((xr[j] * scale + mr[j]) - m[i + q]);
    }
    for (size_t b = 0; b < n; b += SW_BLOCK) {
      const size_t len = n - b < SW_BLOCK ? n - b : SW_BLOCK;
      for (size_t q = 0; q < 8; q++) {
        const float *gr = g + (i + q) * n + b, *dr = dx + (i + q) * n + b;
        const float si = s[i + q];
        for (size_t j = 0; j < len; j++) t[q * SW_BLOCK + j] = -(((gr[j] / si) * dr[j]) / si);
      }
      SW_FN(sum8)(t, SW_BLOCK, len, gs8);
    }
    for (size_t q = 0; q < 8; q++) {
      const float *gr = g + (i + q) * n;
      float *dr = dx + (i + q) * n;
      const float si = s[i + q], gs = gs8[q];
      for (size_t j = 0; j < n; j++) dr[j] = (((gr[j] / si) + gs) * dr[j]) * scale;
    }
  }
  for (; i < rows; i++) {
    const float *gr = g + i * n, *xr = x + i * n, *mr = mask + ((row0 + i) % mask_rows) * n;
    float *dr = dx + i * n;
    const float si = s[i], mi = m[i];
    for (size_t j = 0; j < n; j++) dr[j] = exp_lane((xr[j] * scale + mr[j]) - mi);
    float gs = 0.0f;
    for (size_t b = 0; b < n; b += SW_BLOCK) {
      const size_t len = n - b < SW_BLOCK ? n - b : SW_BLOCK;
      for (size_t j = 0; j < len; j++) t[j] = -(((gr[b + j] / si) * dr[b + j]) / si);
      for (size_t j = 0; j < len; j++) gs = gs + t[j];
    }
    for (size_t j = 0; j < n; j++) dr[j] = (((gr[j] / si) + gs) * dr[j]) * scale;
  }
}

/* silu(gate) * up. */
void SW_FN(sw_swiglu)(const float *gate, const float *up, float *out, size_t len) {
  for (size_t i = 0; i < len; i++) {
    const float x = gate[i];
    out[i] = (x / (1.0f + exp_lane(-x))) * up[i];
  }
}

void SW_FN(sw_swiglu_back)(const float *g, const float *gate, const float *up, float *dgate, float *dup, size_t len) {
  for (size_t i = 0; i < len; i++) {
    const float x = gate[i];
    const float e = exp_lane(-x);
    const float d = 1.0f + e;
    const float sv = x / d;
    const float ds = g[i] * up[i];
    dup[i] = g[i] * sv;
    const float q = ds / d;
    const float dd = -((q * x) / d);
    dgate[i] = q + -(dd * e);
  }
}

/* Cross-entropy forward per row: m, se and the picked log-probability lp (fused.c sums lp in row order). */
void SW_FN(sw_ce_rows)(const float *logits, const int32_t *targets, float *m, float *se, float *lp, size_t rows, size_t v) {
  float t[8 * SW_BLOCK];
  size_t i = 0;
  for (; i + 8 <= rows; i += 8) { /* 8 rows at a time, their sums of exps side by side */
    float mx[8], sum[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (size_t q = 0; q < 8; q++) mx[q] = SW_FN(row_max)(logits + (i + q) * v, v);
    for (size_t b = 0; b < v; b += SW_BLOCK) {
      const size_t len = v - b < SW_BLOCK ? v - b : SW_BLOCK;
      for (size_t q = 0; q < 8; q++) {
        const float *xr = logits + (i + q) * v + b;
        for (size_t j = 0; j < len; j++) t[q * SW_BLOCK + j] = exp_lane(xr[j] - mx[q]);
      }
      SW_FN(sum8)(t, SW_BLOCK, len, sum);
    }
    for (size_t q = 0; q < 8; q++) {
      m[i + q] = mx[q];
      se[i + q] = sum[q];
      lp[i + q] = (logits[(i + q) * v + (size_t)targets[i + q]] - mx[q]) - log_lane(sum[q]);
    }
  }
  for (; i < rows; i++) {
    const float *xr = logits + i * v;
    const float mx = SW_FN(row_max)(xr, v);
    float sum = 0.0f;
    for (size_t b = 0; b < v; b += SW_BLOCK) {
      const size_t len = v - b < SW_BLOCK ? v - b : SW_BLOCK;
      for (size_t j = 0; j < len; j++) t[j] = exp_lane(xr[b + j] - mx);
      for (size_t j = 0; j < len; j++) sum = sum + t[j];
    }
    m[i] = mx;
    se[i] = sum;
    lp[i] = (xr[targets[i]] - mx) - log_lane(sum);
  }
}

/*
 * Cross-entropy backward per row. dlse is the twin's sum over j of
 * -(j == t ? picked : +0) from +0, taken in one add: every term but one is
 * -0, and x + (-0) == x for every x (IEEE 754 §6.3), so the sum is
 * 0 + (-picked) exactly; fused.c passes it in.
 */
void SW_FN(sw_ce_back_rows)(const float *logits, const int32_t *targets, const float *m, const float *se, float *dx, size_t rows,
                            size_t v, float picked, float dlse) {
  for (size_t i = 0; i < rows; i++) {
    const float *xr = logits + i * v;
    float *dr = dx + i * v;
    const float dse = dlse / se[i], mi = m[i];
    const size_t tg = (size_t)targets[i];
    for (size_t j = 0; j < v; j++) dr[j] = (j == tg ? picked : 0.0f) + dse * exp_lane(xr[j] - mi);
  }
}

/* Rotary embedding forward over rows of d (h = d/2); row0 is the first row's global index (table row = index % t_rows). */
void SW_FN(sw_rope_rows)(const float *x, const float *cs, const float *sn, float *y, size_t row0, size_t rows, size_t d, size_t t_rows) {
  const size_t h = d / 2;
  for (size_t i = 0; i < rows; i++) {
    const float *xr = x + i * d, *c = cs + ((row0 + i) % t_rows) * d, *s = sn + ((row0 + i) % t_rows) * d;
    float *yr = y + i * d;
    for (size_t j = 0; j < h; j++) yr[j] = xr[j] * c[j] + (-xr[j + h]) * s[j];
    for (size_t j = h; j < d; j++) yr[j] = xr[j] * c[j] + xr[j - h] * s[j];
  }
}

/* Rotary embedding backward (acc: x's gradient so far, or NULL); the zeros the composed slices pad with are added too. */
void SW_FN(sw_rope_back_rows)(const float *g, const float *cs, const float *sn, const float *acc, float *dx, size_t row0, size_t rows,
                              size_t d, size_t t_rows) {
  const size_t h = d / 2;
  for (size_t i = 0; i < rows; i++) {
    const float *gr = g + i * d, *c = cs + ((row0 + i) % t_rows) * d, *s = sn + ((row0 + i) % t_rows) * d;
    const float *ar = acc == NULL ? NULL : acc + i * d;
    float *dr = dx + i * d;
    if (ar != NULL) {
      for (size_t j = 0; j < h; j++) dr[j] = ((ar[j] + gr[j + h] * s[j + h]) + 0.0f) + gr[j] * c[j];
      for (size_t j = h; j < d; j++) dr[j] = ((ar[j] + 0.0f) + -(gr[j - h] * s[j - h])) + gr[j] * c[j];
    } else {
      for (size_t j = 0; j < h; j++) dr[j] = ((gr[j + h] * s[j + h]) + 0.0f) + gr[j] * c[j];
      for (size_t j = h; j < d; j++) dr[j] = (0.0f + -(gr[j - h] * s[j - h])) + gr[j] * c[j];
    }
  }
}
