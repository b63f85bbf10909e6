/**
 * Data-movement kernels shared by every backend. They copy values without
 * doing arithmetic, so they cannot change a bit and need no per-backend
 * version (the arithmetic kernels live behind the Backend interface).
 */
import type { Shape } from './shape.ts';
import { sizeOf, stridesOf } from './shape.ts';

/** out = x permuted: out.shape[i] = shape[perm[i]]. */
/** The strided view of a row-major array of `shape` whose axes are permuted by `perm`. */
export function permuteView(shape: Shape, perm: readonly number[]): { shape: number[]; strides: number[] } {
  const inStrides = stridesOf(shape);
  return { shape: perm.map((p) => shape[p]!), strides: perm.map((p) => inStrides[p]!) };
}

/** Copy the strided view (shape, strides, offset) of x into a new contiguous array. */
export function stridedCopy(x: Float32Array, shape: Shape, strides: readonly number[], offset: number): Float32Array {
  const size = sizeOf(shape);
  const out = new Float32Array(size);
  const rank = shape.length;
  if (size === 0) return out;
  if (rank === 0) {
    out[0] = x[offset]!;
    return out;
  }
  const last = rank - 1;
  const n = shape[last]!;
  const s = strides[last]!;
  const idx = new Array<number>(rank).fill(0);
  let src = offset;
  let o = 0;
  while (o < size) {
    if (s === 1) {
      out.set(x.subarray(src, src + n), o);
      o += n;
    } else {
      for (let j = 0; j < n; j++) out[o++] = x[src + j * s]!;
    }
    // advance the odometer over all but the last dimension
    let d = last - 1;
    for (; d >= 0; d--) {
      idx[d]!++;
      src += strides[d]!;
      if (idx[d]! < shape[d]!) break;
      src -= strides[d]! * shape[d]!;
      idx[d] = 0;
    }
    if (d < 0) break;
  }
  return out;
}

/** Slice [start, end) along `axis` of a contiguous tensor. */
export function sliceData(x: Float32Array, shape: Shape, axis: number, start: number, end: number): Float32Array {
  const outer = sizeOf(shape.slice(0, axis));
  const inner = sizeOf(shape.slice(axis + 1));
  const n = shape[axis]!;
  const len = end - start;
  const out = new Float32Array(outer * len * inner);
  for (let o = 0; o < outer; o++) {
    out.set(x.subarray((o * n + start) * inner, (o * n + end) * inner), o * len * inner);
  }
  return out;
}

/** Concatenate along `axis`; shapes agree on every other axis (checked by caller). */
export function concatData(parts: readonly { data: Float32Array; shape: Shape }[], axis: number): Float32Array {
  const first = parts[0]!.shape;
  const outer = sizeOf(first.slice(0, axis));
  const inner = sizeOf(first.slice(axis + 1));
  let total = 0;
  for (const p of parts) total += p.shape[axis]!;
  const out = new Float32Array(outer * total * inner);
  for (let o = 0; o < outer; o++) {
    let at = o * total * inner;
    for (const p of parts) {
      const len = p.shape[axis]! * inner;
      out.set(p.data.subarray(o * len, (o + 1) * len), at);
      at += len;
    }
  }
  return out;
}

/** Rows of a [rows, cols] table picked by indices (already range-checked). */
export function gatherRows(table: Float32Array, cols: number, indices: Int32Array): Float32Array {
  const out = new Float32Array(indices.length * cols);
  for (let t = 0; t < indices.length; t++) {
    const r = indices[t]!;
    out.set(table.subarray(r * cols, (r + 1) * cols), t * cols);
  }
  return out;
}

/** out[i] = cond[i] != 0 ? a[i] : b[i], all read through broadcast strides over `shape`. */
export function whereData(
  cond: Float32Array,
  cs: readonly number[],
  a: Float32Array,
  as: readonly number[],
  b: Float32Array,
  bs: readonly number[],
  shape: Shape,
): Float32Array {
  const size = sizeOf(shape);
  const out = new Float32Array(size);
  const rank = shape.length;
  const idx = new Array<number>(rank).fill(0);
  let ic = 0, ia = 0, ib = 0;
  for (let o = 0; o < size; o++) {
    out[o] = cond[ic] !== 0 ? a[ia]! : b[ib]!;
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++;
      ic += cs[d]!; ia += as[d]!; ib += bs[d]!;
      if (idx[d]! < shape[d]!) break;
      ic -= cs[d]! * shape[d]!; ia -= as[d]! * shape[d]!; ib -= bs[d]! * shape[d]!;
      idx[d] = 0;
    }
  }
  return out;
}
