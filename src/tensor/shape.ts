/** Shape arithmetic: sizes, row-major strides, numpy-style broadcasting. */
import { SwarmError } from '../core/errors.ts';

export type Shape = readonly number[];

export const MAX_RANK = 8;

export function checkShape(shape: Shape): void {
  if (!Array.isArray(shape) || shape.length > MAX_RANK) {
    throw new SwarmError('TENSOR_BAD_SHAPE', `shape must be an array of at most ${MAX_RANK} dimensions`, { shape });
  }
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new SwarmError('TENSOR_BAD_SHAPE', `dimension ${String(d)} is not a non-negative integer`, { shape });
    }
  }
}

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function stridesOf(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function fmtShape(s: Shape): string {
  return `[${s.join(',')}]`;
}

/** Broadcast two shapes (NumPy rules: align right; sizes equal or one of them 1). */
export function broadcastShapes(a: Shape, b: Shape): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new SwarmError('TENSOR_SHAPE_MISMATCH', `cannot broadcast ${fmtShape(a)} with ${fmtShape(b)}`, {
        a: [...a],
        b: [...b],
      });
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Strides for reading a tensor of `shape` as if it had `target` shape (0 on broadcast dims). */
export function broadcastStrides(shape: Shape, target: Shape): number[] {
  const own = stridesOf(shape);
  const off = target.length - shape.length;
  return target.map((_, i) => {
    const j = i - off;
    if (j < 0) return 0;
    return shape[j] === 1 ? 0 : own[j]!;
  });
}

/** Normalise a possibly negative axis against a rank. */
export function normAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) {
    throw new SwarmError('TENSOR_BAD_AXIS', `axis ${axis} out of range for rank ${rank}`, { axis, rank });
  }
  return a;
}
