/**
 * Argument checks shared by the backends that hand work to kernels outside
 * JavaScript (wasm, native): each op's inputs are checked here, the same way
 * and with the same coded errors, before a kernel may read a byte. `ref`
 * needs none of it (plain array reads cannot go out of bounds silently in a
 * way that matters to it), but the kernels can.
 */
import { SwarmError } from '../../core/errors.ts';
import type { BinaryOp } from './backend.ts';

export function badArgument(message: string, details?: Record<string, unknown>): never {
  throw new SwarmError('TENSOR_BAD_ARGUMENT', message, details);
}

export function checkCount(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) badArgument(`${name} must be a non-negative integer, got ${v}`);
}

/** threads for a backend's pool: an integer in [1, 256]. */
export function checkThreads(threads: number): void {
  if (!Number.isInteger(threads) || threads < 1 || threads > 256) badArgument(`threads must be an integer in [1, 256], got ${threads}`);
}

/** An optional working-set limit in f32 elements: a positive integer. */
export function checkMaxElements(maxElements: number | undefined): void {
  if (maxElements !== undefined && (!Number.isSafeInteger(maxElements) || maxElements < 1)) {
    badArgument(`maxElements must be a positive integer, got ${maxElements}`);
  }
}

/** One past the largest element offset a broadcast walk reads (shape has no 0). */
export function extentOf(shape: readonly number[], strides: readonly number[]): number {
  let last = 0;
  for (let d = 0; d < shape.length; d++) last += (shape[d]! - 1) * strides[d]!;
  return last + 1;
}

/** Checks a broadcast binary op's shape and strides; returns the output size (0: nothing to compute). */
export function checkBinary(op: BinaryOp, a: Float32Array, aStrides: readonly number[], b: Float32Array, bStrides: readonly number[], shape: readonly number[]): number {
  if (shape.length > 8 || aStrides.length !== shape.length || bStrides.length !== shape.length) {
    badArgument(`binary ${op}: shape and strides must have the same rank (0..8)`, { shape, aStrides, bStrides });
  }
  let size = 1;
  for (const d of shape) {
    checkCount('shape entry', d);
    size *= d;
  }
  if (size === 0) return 0;
  for (let d = 0; d < shape.length; d++) {
    checkCount('stride', aStrides[d]!);
    checkCount('stride', bStrides[d]!);
  }
  if (extentOf(shape, aStrides) > a.length || extentOf(shape, bStrides) > b.length) {
    throw new SwarmError('TENSOR_SHAPE_MISMATCH', `binary ${op}: strides reach past the end of an operand`, {
      shape, aStrides, bStrides, aLength: a.length, bLength: b.length,
    });
  }
  return size;
}

/** Checks a reduction's view of x as [outer, n, inner]; returns the output size outer*inner. */
export function checkReduce(op: string, x: Float32Array, outer: number, n: number, inner: number): number {
  checkCount('outer', outer);
  checkCount('n', n);
  checkCount('inner', inner);
  const size = outer * inner;
  if (x.length < size * n) {
    throw new SwarmError('TENSOR_SHAPE_MISMATCH', `reduce ${op}: ${x.length} elements cannot be viewed as [${outer}, ${n}, ${inner}]`);
  }
  return size;
}

/** Checks a batched matmul's operands; returns the element counts it reads and writes. */
export function checkMatmul(a: Float32Array, b: Float32Array, batch: number, m: number, k: number, n: number, bBatched: boolean): { aCount: number; bCount: number; outSize: number } {
  checkCount('batch', batch);
  checkCount('m', m);
  checkCount('k', k);
  checkCount('n', n);
  const aCount = batch * m * k;
  const bCount = bBatched ? batch * k * n : k * n;
  if (a.length < aCount || b.length < bCount) {
    throw new SwarmError('TENSOR_SHAPE_MISMATCH', `matmul: operands too short for [${batch}, ${m}, ${k}] x [${bBatched ? `${batch}, ` : ''}${k}, ${n}]`, {
      aLength: a.length, bLength: b.length,
    });
  }
  return { aCount, bCount, outSize: batch * m * n };
}

/** Checks a scatter-add's source length and every index; returns the output size rows*cols. */
export function checkScatterAdd(src: Float32Array, indices: Int32Array, rows: number, cols: number): number {
  checkCount('rows', rows);
  checkCount('cols', cols);
  const count = indices.length;
  if (src.length < count * cols) {
    throw new SwarmError('TENSOR_SHAPE_MISMATCH', `scatterAdd: ${src.length} source elements for ${count} rows of ${cols}`);
  }
  const size = rows * cols;
  if (size === 0) return 0;
  for (let t = 0; t < count; t++) {
    const r = indices[t]!;
    if (r < 0 || r >= rows) {
      throw new SwarmError('TENSOR_INDEX_OUT_OF_RANGE', `scatterAdd index ${r} at position ${t} outside [0, ${rows})`);
    }
  }
  return size;
}
