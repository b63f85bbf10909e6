/*
 * Node-API bindings of the native backend (Node-API is ABI-stable across Node
 * versions, so one build serves Node 20 and 24). Inputs are Float32Array /
 * Int32Array views read in place; each call returns a fresh Float32Array.
 * Shapes and ranges are checked by ../backend.ts before it calls in; the
 * checks here only keep a wrong call from reading out of bounds (they throw
 * a TypeError/RangeError, which the loader's self-test would surface).
 */
#define _GNU_SOURCE /* dladdr, RTLD_NODELETE */
#define NAPI_VERSION 8
#include <dlfcn.h>
#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include "native.h"

#define CHECK(call)                                                       \
  do {                                                                    \
    if ((call) != napi_ok) {                                              \
      napi_throw_error(env, "NATIVE_CALL", "Node-API call failed: " #call); \
      return NULL;                                                        \
    }                                                                     \
  } while (0)

static int get_f32(napi_env env, napi_value v, float **data, size_t *len) {
  napi_typedarray_type type;
  void *ptr;
  if (napi_get_typedarray_info(env, v, &type, len, &ptr, NULL, NULL) != napi_ok || type != napi_float32_array) {
    napi_throw_type_error(env, "NATIVE_ARG", "expected a Float32Array");
    return 0;
  }
  *data = (float *)ptr;
  return 1;
}

static int get_i32(napi_env env, napi_value v, int32_t **data, size_t *len) {
  napi_typedarray_type type;
  void *ptr;
  if (napi_get_typedarray_info(env, v, &type, len, &ptr, NULL, NULL) != napi_ok || type != napi_int32_array) {
    napi_throw_type_error(env, "NATIVE_ARG", "expected an Int32Array");
    return 0;
  }
  *data = (int32_t *)ptr;
  return 1;
}

static int get_size(napi_env env, napi_value v, size_t *out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || !(d >= 0) || d > 9007199254740991.0 || d != (double)(size_t)d) {
    napi_throw_range_error(env, "NATIVE_ARG", "expected a non-negative integer");
    return 0;
  }
  *out = (size_t)d;
  return 1;
}

static int get_int(napi_env env, napi_value v, int32_t *out) {
  if (napi_get_value_int32(env, v, out) != napi_ok) {
    napi_throw_type_error(env, "NATIVE_ARG", "expected an integer");
    return 0;
  }
  return 1;
}

/* A new zero-filled Float32Array of len elements; *data points at it. */
static napi_value new_f32(napi_env env, size_t len, float **data) {
  napi_value ab, out;
  void *ptr;
  if (napi_create_arraybuffer(env, len * sizeof(float), &ptr, &ab) != napi_ok) return NULL;
  if (napi_create_typedarray(env, napi_float32_array, len, ab, 0, &out) != napi_ok) return NULL;
  *data = (float *)ptr;
  return out;
}

/*
 * The output of an op: `given` when it is a Float32Array of exactly len
 * elements that overlaps none of the op's inputs (the backend passes a
 * buffer the engine has recycled, ../backend.ts), else a new one. Every
 * kernel writes each of its output elements, so a reused buffer's old
 * contents never show through.
 */
typedef struct {
  const float *p;
  size_t n;
} in_span;

static napi_value out_f32(napi_env env, napi_value given, size_t len, float **data, const in_span *ins, int n_ins) {
  napi_typedarray_type type;
  size_t glen;
  void *ptr;
  if (len > 0 && napi_get_typedarray_info(env, given, &type, &glen, &ptr, NULL, NULL) == napi_ok && type == napi_float32_array && glen == len) {
    const char *o0 = (const char *)ptr, *o1 = o0 + len * sizeof(float);
    int overlaps = 0;
    for (int i = 0; i < n_ins; i++) {
      const char *i0 = (const char *)ins[i].p, *i1 = i0 + ins[i].n * sizeof(float);
      if (ins[i].n > 0 && o0 < i1 && i0 < o1) overlaps = 1;
    }
    if (!overlaps) {
      *data = (float *)ptr;
      return given;
    }
  }
  return new_f32(env, len, data);
}

static int range_error(napi_env env, const char *msg) {
  napi_throw_range_error(env, "NATIVE_ARG", msg);
  return 0;
}

/* a*b*c without size_t overflow (a wrapped product could match a short
 * array's length and let a kernel run past it); 0 when it would overflow. */
static int product3(size_t a, size_t b, size_t c, size_t *out) {
  size_t ab;
  return !__builtin_mul_overflow(a, b, &ab) && !__builtin_mul_overflow(ab, c, out);
}

static int get_isa(napi_env env, napi_value v, int32_t *isa) {
  if (!get_int(env, v, isa)) return 0;
  if (*isa < 0 || *isa > SW_ISA_AVX512 || ((1 << *isa) & sw_isa_mask()) == 0) return range_error(env, "ISA not available");
  return 1;
}

/* unary(isa, op, x) */
static napi_value js_unary(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t isa, op;
  float *x, *out;
  size_t len;
  if (!get_isa(env, argv[0], &isa) || !get_int(env, argv[1], &op) || !get_f32(env, argv[2], &x, &len)) return NULL;
  if (op < SW_NEG || op > SW_TANH) { range_error(env, "bad unary op"); return NULL; }
  const in_span ins[] = {{x, len}};
  napi_value res = out_f32(env, argv[3], len, &out, ins, 1);
  if (res == NULL) return NULL;
  sw_unary_isa(isa, op, x, out, len);
  return res;
}

/* binary(op, a, b, dims) with dims = Int32Array [rank, shape..., aStrides..., bStrides...] */
static napi_value js_binary(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t op, *dims;
  float *a, *b, *out;
  size_t alen, blen, dlen;
  if (!get_int(env, argv[0], &op) || !get_f32(env, argv[1], &a, &alen) || !get_f32(env, argv[2], &b, &blen) ||
      !get_i32(env, argv[3], &dims, &dlen))
    return NULL;
  if (op < SW_ADD || op > SW_EQ) { range_error(env, "bad binary op"); return NULL; }
  const int rank = dlen > 0 ? dims[0] : -1;
  if (rank < 0 || rank > 8 || dlen != (size_t)(1 + 3 * rank)) { range_error(env, "bad dims"); return NULL; }
  const int32_t *shape = dims + 1, *as = dims + 1 + rank, *bs = dims + 1 + 2 * rank;
  size_t size = 1, amax = 0, bmax = 0;
  for (int d = 0; d < rank; d++) {
    if (shape[d] < 0 || as[d] < 0 || bs[d] < 0) { range_error(env, "negative dim or stride"); return NULL; }
    size *= (size_t)shape[d];
    if (shape[d] > 0) { amax += (size_t)as[d] * (size_t)(shape[d] - 1); bmax += (size_t)bs[d] * (size_t)(shape[d] - 1); }
  }
  if (size > 0 && (amax >= alen || bmax >= blen)) { range_error(env, "strides reach past an input"); return NULL; }
  const in_span ins[] = {{a, alen}, {b, blen}};
  napi_value res = out_f32(env, argv[4], size, &out, ins, 2);
  if (res == NULL) return NULL;
  sw_binary(op, a, as, b, bs, shape, rank, out);
  return res;
}

/* reduce(isa, op, x, outer, n, inner) */
static napi_value js_reduce(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t isa, op;
  float *x, *out;
  size_t len, outer, n, inner;
  if (!get_isa(env, argv[0], &isa) || !get_int(env, argv[1], &op) || !get_f32(env, argv[2], &x, &len) ||
      !get_size(env, argv[3], &outer) || !get_size(env, argv[4], &n) || !get_size(env, argv[5], &inner))
    return NULL;
  if (op < SW_SUM || op > SW_RMAX) { range_error(env, "bad reduce op"); return NULL; }
  size_t want;
  if (!product3(outer, n, inner, &want) || want != len) { range_error(env, "outer*n*inner != x.length"); return NULL; }
  const in_span ins[] = {{x, len}};
  napi_value res = out_f32(env, argv[6], outer * inner, &out, ins, 1);
  if (res == NULL) return NULL;
  sw_reduce_isa(isa, op, x, out, outer, n, inner);
  return res;
}

/* matmul(isa, a, b, batch, m, k, n, bBatched, threads, out?, trans?) with trans = transA | transB << 1
 * (a stored [batch][k][m], b stored [n][k]: the same element counts) */
static napi_value js_matmul(napi_env env, napi_callback_info info) {
  size_t argc = 11;
  napi_value argv[11];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t isa, bb, threads;
  float *a, *b, *out;
  size_t alen, blen, batch, m, k, n;
  if (!get_isa(env, argv[0], &isa) || !get_f32(env, argv[1], &a, &alen) || !get_f32(env, argv[2], &b, &blen) ||
      !get_size(env, argv[3], &batch) || !get_size(env, argv[4], &m) || !get_size(env, argv[5], &k) ||
      !get_size(env, argv[6], &n) || !get_int(env, argv[7], &bb) || !get_int(env, argv[8], &threads))
    return NULL;
  size_t an, bn, on;
  if (!product3(batch, m, k, &an) || !product3(bb ? batch : 1, k, n, &bn) || !product3(batch, m, n, &on) || alen != an || blen != bn) {
    range_error(env, "matmul sizes");
    return NULL;
  }
  if (threads < 1) { range_error(env, "threads < 1"); return NULL; }
  int32_t trans = 0;
  napi_valuetype tt;
  CHECK(napi_typeof(env, argv[10], &tt));
  if (tt != napi_undefined && (!get_int(env, argv[10], &trans) || trans < 0 || trans > 3)) {
    if (trans < 0 || trans > 3) range_error(env, "bad trans flags");
    return NULL;
  }
  const in_span ins[] = {{a, alen}, {b, blen}};
  napi_value res = out_f32(env, argv[9], on, &out, ins, 2);
  if (res == NULL) return NULL;
  sw_matmul_t(isa, a, b, out, batch, m, k, n, bb != 0, threads, trans & 1, (trans >> 1) & 1);
  return res;
}

/* scatterAdd(src, indices, rows, cols) */
static napi_value js_scatter_add(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  float *src, *out;
  int32_t *idx;
  size_t slen, ilen, rows, cols;
  if (!get_f32(env, argv[0], &src, &slen) || !get_i32(env, argv[1], &idx, &ilen) || !get_size(env, argv[2], &rows) ||
      !get_size(env, argv[3], &cols))
    return NULL;
  size_t want, outn;
  if (!product3(ilen, cols, 1, &want) || want != slen || !product3(rows, cols, 1, &outn)) { range_error(env, "src.length != indices.length*cols"); return NULL; }
  for (size_t t = 0; t < ilen; t++)
    if (idx[t] < 0 || (size_t)idx[t] >= rows) { range_error(env, "index out of range"); return NULL; }
  napi_value res = new_f32(env, outn, &out);
  if (res == NULL) return NULL;
  sw_scatter_add(src, idx, ilen, out, rows, cols);
  return res;
}

/* stridedCopy(x, dims, offset) with dims = Float64Array [rank, shape..., strides...] */
static napi_value js_strided_copy(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  float *x, *out;
  size_t len, offset, dlen;
  napi_typedarray_type type;
  void *ptr;
  if (!get_f32(env, argv[0], &x, &len) || !get_size(env, argv[2], &offset)) return NULL;
  if (napi_get_typedarray_info(env, argv[1], &type, &dlen, &ptr, NULL, NULL) != napi_ok || type != napi_float64_array) {
    napi_throw_type_error(env, "NATIVE_ARG", "expected a Float64Array");
    return NULL;
  }
  const double *dims = (const double *)ptr;
  const int rank = dlen > 0 ? (int)dims[0] : -1;
  if (rank < 0 || rank > 8 || dlen != (size_t)(1 + 2 * rank)) { range_error(env, "bad dims"); return NULL; }
  int32_t shape[8];
  int64_t strides[8];
  size_t size = 1, reach = offset;
  for (int d = 0; d < rank; d++) {
    const double sh = dims[1 + d], st = dims[1 + rank + d];
    if (!(sh >= 0 && sh <= 2147483647.0 && sh == (double)(int32_t)sh) || !(st >= 0 && st <= 9007199254740991.0 && st == (double)(int64_t)st)) {
      range_error(env, "bad shape or stride");
      return NULL;
    }
    shape[d] = (int32_t)sh;
    strides[d] = (int64_t)st;
    size *= (size_t)shape[d];
    if (shape[d] > 0) reach += (size_t)strides[d] * (size_t)(shape[d] - 1);
  }
  if (size > 0 && reach >= len) { range_error(env, "view reaches past the input"); return NULL; }
  const in_span ins[] = {{x, len}};
  napi_value res = out_f32(env, argv[3], size, &out, ins, 1);
  if (res == NULL) return NULL;
  sw_strided_copy(x, shape, strides, rank, offset, out);
  return res;
}

/* adamw(isa, p, g, m, v, k, decay): in place; k = Float32Array of the 10 scalars */
static napi_value js_adamw(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t isa, decay;
  float *p, *g, *m, *v, *k;
  size_t pn, gn, mn, vn, kn;
  if (!get_isa(env, argv[0], &isa) || !get_f32(env, argv[1], &p, &pn) || !get_f32(env, argv[2], &g, &gn) ||
      !get_f32(env, argv[3], &m, &mn) || !get_f32(env, argv[4], &v, &vn) || !get_f32(env, argv[5], &k, &kn) ||
      !get_int(env, argv[6], &decay))
    return NULL;
  if (gn != pn || mn != pn || vn != pn || kn != 10) { range_error(env, "adamw sizes"); return NULL; }
  sw_adamw_isa(isa, p, g, m, v, pn, k, decay != 0);
  return NULL;
}

/*
 * fused(op, isa, threads, arrays, targets, nums): one entry for the fused
 * kernels (fused.c; op = SW_F_*). arrays: Float32Array inputs then outputs
 * (null only for RMSNorm backward's absent accumulator); targets: Int32Array
 * or null; nums: Float64Array of sizes and binary32 scalars. Every length is
 * checked against the sizes before a kernel runs. Returns the loss for
 * cross-entropy forward, else undefined.
 */
#define FUSED_MAX_ARRAYS 8
static napi_value js_fused(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t op, isa, threads;
  if (!get_int(env, argv[0], &op) || !get_isa(env, argv[1], &isa) || !get_int(env, argv[2], &threads)) return NULL;
  if (threads < 1) { range_error(env, "threads < 1"); return NULL; }
  uint32_t count;
  bool is_array;
  if (napi_is_array(env, argv[3], &is_array) != napi_ok || !is_array || napi_get_array_length(env, argv[3], &count) != napi_ok ||
      count > FUSED_MAX_ARRAYS) {
    range_error(env, "arrays");
    return NULL;
  }
  float *p[FUSED_MAX_ARRAYS] = {0};
  size_t len[FUSED_MAX_ARRAYS] = {0};
  for (uint32_t i = 0; i < count; i++) {
    napi_value el;
    napi_valuetype t;
    CHECK(napi_get_element(env, argv[3], i, &el));
    CHECK(napi_typeof(env, el, &t));
    if (t == napi_null) continue;
    if (!get_f32(env, el, &p[i], &len[i])) return NULL;
  }
  int32_t *targets = NULL;
  size_t tlen = 0;
  napi_valuetype tt;
  CHECK(napi_typeof(env, argv[4], &tt));
  if (tt != napi_null && !get_i32(env, argv[4], &targets, &tlen)) return NULL;
  napi_typedarray_type nt;
  size_t nn;
  void *nptr;
  if (napi_get_typedarray_info(env, argv[5], &nt, &nn, &nptr, NULL, NULL) != napi_ok || nt != napi_float64_array || nn < 1) {
    napi_throw_type_error(env, "NATIVE_ARG", "expected a Float64Array of sizes");
    return NULL;
  }
  const double *num = (const double *)nptr;
  /* sizes: nums[0] = rows (or length), nums[1] = row length, nums[2] = mask rows */
  size_t sz[3] = {0, 0, 0};
  const size_t nsizes = op == SW_F_SWIGLU || op == SW_F_SWIGLU_BACK ? 1
                       : op == SW_F_SOFTMAX || op == SW_F_SOFTMAX_BACK || op == SW_F_ROPE || op == SW_F_ROPE_BACK ? 3 : 2;
  if (nn < nsizes) { range_error(env, "too few sizes"); return NULL; }
  for (size_t i = 0; i < nsizes; i++) {
    const double d = num[i];
    if (!(d >= 0 && d <= 9007199254740991.0 && d == (double)(size_t)d)) { range_error(env, "bad size"); return NULL; }
    sz[i] = (size_t)d;
  }
  size_t rn;
  if (!product3(sz[0], nsizes > 1 ? sz[1] : 1, 1, &rn)) { range_error(env, "sizes overflow"); return NULL; }
  const size_t rows = sz[0], n = sz[1];
  /* want[i]: the length array i must have (SIZE_MAX: may be null, else rn) */
  size_t want[FUSED_MAX_ARRAYS];
  size_t arrays = 0, scalars = 0;
  switch (op) {
    case SW_F_RMSNORM: arrays = 4; scalars = 1; want[0] = rn; want[1] = n; want[2] = rn; want[3] = rows; break;
    case SW_F_RMSNORM_BACK:
      arrays = 7; want[0] = rn; want[1] = rn; want[2] = n; want[3] = rows; want[4] = SIZE_MAX; want[5] = rn; want[6] = n; break;
    case SW_F_SOFTMAX: case SW_F_SOFTMAX_BACK: {
      size_t mn;
      if (sz[2] < 1 || !product3(sz[2], n, 1, &mn)) { range_error(env, "mask rows"); return NULL; }
      scalars = 1;
      if (op == SW_F_SOFTMAX) { arrays = 5; want[0] = rn; want[1] = mn; want[2] = rn; want[3] = rows; want[4] = rows; }
      else { arrays = 6; want[0] = rn; want[1] = rn; want[2] = mn; want[3] = rows; want[4] = rows; want[5] = rn; }
      break;
    }
    case SW_F_ROPE: case SW_F_ROPE_BACK: {
      size_t tn;
      if (sz[2] < 1 || n % 2 != 0 || !product3(sz[2], n, 1, &tn)) { range_error(env, "rope tables"); return NULL; }
      if (op == SW_F_ROPE) { arrays = 4; want[0] = rn; want[1] = tn; want[2] = tn; want[3] = rn; }
      else { arrays = 5; want[0] = rn; want[1] = tn; want[2] = tn; want[3] = SIZE_MAX; want[4] = rn; }
      break;
    }
    case SW_F_SWIGLU: arrays = 3; for (int i = 0; i < 3; i++) want[i] = rn; break;
    case SW_F_SWIGLU_BACK: arrays = 5; for (int i = 0; i < 5; i++) want[i] = rn; break;
    case SW_F_CE: case SW_F_CE_BACK:
      arrays = 4; want[0] = rn; want[1] = rows; want[2] = rows; want[3] = op == SW_F_CE ? rows : rn;
      scalars = op == SW_F_CE_BACK ? 1 : 0;
      if (targets == NULL || tlen != rows) { range_error(env, "targets length"); return NULL; }
      for (size_t i = 0; i < rows; i++)
        if (targets[i] < 0 || (size_t)targets[i] >= n) { range_error(env, "target out of range"); return NULL; }
      break;
    default: range_error(env, "bad fused op"); return NULL;
  }
  if (count != arrays || nn != nsizes + scalars) { range_error(env, "argument count"); return NULL; }
  for (size_t i = 0; i < arrays; i++) {
    if (want[i] == SIZE_MAX) { if (p[i] != NULL && len[i] != rn) { range_error(env, "accumulator length"); return NULL; } continue; }
    if (p[i] == NULL || len[i] != want[i]) { range_error(env, "array length"); return NULL; }
  }
  const float s0 = (float)num[nsizes];
  switch (op) {
    case SW_F_RMSNORM: sw_fused_rmsnorm(isa, threads, p[0], p[1], p[2], p[3], rows, n, s0); break;
    case SW_F_RMSNORM_BACK: sw_fused_rmsnorm_back(isa, threads, p[0], p[1], p[2], p[3], p[4], p[5], p[6], rows, n); break;
    case SW_F_SOFTMAX: sw_fused_softmax(isa, threads, p[0], s0, p[1], p[2], p[3], p[4], rows, n, sz[2]); break;
    case SW_F_SOFTMAX_BACK: sw_fused_softmax_back(isa, threads, p[0], p[1], s0, p[2], p[3], p[4], p[5], rows, n, sz[2]); break;
    case SW_F_SWIGLU: sw_fused_swiglu(isa, threads, p[0], p[1], p[2], rows); break;
    case SW_F_SWIGLU_BACK: sw_fused_swiglu_back(isa, threads, p[0], p[1], p[2], p[3], p[4], rows); break;
    case SW_F_CE: {
      napi_value v;
      CHECK(napi_create_double(env, (double)sw_fused_ce(isa, threads, p[0], targets, p[1], p[2], p[3], rows, n), &v));
      return v;
    }
    case SW_F_CE_BACK: sw_fused_ce_back(isa, threads, s0, p[0], targets, p[1], p[2], p[3], rows, n); break;
    case SW_F_ROPE: sw_fused_rope(isa, threads, p[0], p[1], p[2], p[3], rows, n, sz[2]); break;
    case SW_F_ROPE_BACK: sw_fused_rope_back(isa, threads, p[0], p[1], p[2], p[3], p[4], rows, n, sz[2]); break;
    default: break;
  }
  return NULL;
}

static napi_value js_isa_mask(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value v;
  CHECK(napi_create_int32(env, sw_isa_mask(), &v));
  return v;
}

static napi_value js_abi(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value v;
  CHECK(napi_create_int32(env, SW_ABI_VERSION, &v));
  return v;
}

/*
 * Every op returns a fresh buffer, and glibc serves allocations above its
 * mmap threshold (128 KiB, adjusted upwards at run time) with fresh pages
 * that fault in on first touch and go back to the kernel when freed. On a
 * virtual machine a fault is expensive: measured here, touching a fresh
 * 1 MiB costs 3.6 ms, while a 512^3 matmul takes 2 ms, so a training step
 * spent most of its time faulting. Keeping large blocks in the heap (served
 * again from malloc's free lists, already mapped) removes that. This is
 * process-wide and changes only speed and resident memory, never a bit.
 */
static void keep_freed_memory(void) {
#ifdef __GLIBC__
  static int done = 0;
  if (done) return;
  done = 1;
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
#endif
}

/*
 * Node unloads an addon (dlclose) when the last worker thread that loaded it
 * ends. This library leaves code behind that must outlive any one thread:
 * its thread pool (pool.c) and the destructor of each thread's scratch
 * buffers (matmul.c), which runs as a thread ends. Loading itself once more
 * with RTLD_NODELETE keeps it mapped for the life of the process (measured:
 * without it, a worker that used it and exited crashed the process in that
 * destructor).
 */
static void pin_self(void) {
  static int done = 0;
  if (done) return;
  done = 1;
  Dl_info info;
  if (dladdr((void *)&pin_self, &info) != 0 && info.dli_fname != NULL) (void)dlopen(info.dli_fname, RTLD_NOW | RTLD_NODELETE);
}

NAPI_MODULE_INIT() {
  pin_self();
  keep_freed_memory();
  const napi_property_descriptor props[] = {
    {"unary", NULL, js_unary, NULL, NULL, NULL, napi_enumerable, NULL},
    {"binary", NULL, js_binary, NULL, NULL, NULL, napi_enumerable, NULL},
    {"reduce", NULL, js_reduce, NULL, NULL, NULL, napi_enumerable, NULL},
    {"matmul", NULL, js_matmul, NULL, NULL, NULL, napi_enumerable, NULL},
    {"scatterAdd", NULL, js_scatter_add, NULL, NULL, NULL, napi_enumerable, NULL},
    {"stridedCopy", NULL, js_strided_copy, NULL, NULL, NULL, napi_enumerable, NULL},
    {"adamw", NULL, js_adamw, NULL, NULL, NULL, napi_enumerable, NULL},
    {"fused", NULL, js_fused, NULL, NULL, NULL, napi_enumerable, NULL},
    {"isaMask", NULL, js_isa_mask, NULL, NULL, NULL, napi_enumerable, NULL},
    {"abiVersion", NULL, js_abi, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props) != napi_ok) return NULL;
  return exports;
}
