/**
 * The `ref` backend: plain TypeScript, naive on purpose, and the definition
 * of the canonical arithmetic (see backend.ts). Every value is rounded to
 * binary32 with Math.fround after each operation; loops run in the
 * documented order and nothing is reassociated. Faster backends are tested
 * against this one bit for bit.
 */
import type { Backend, BinaryOp, ReduceOp, UnaryOp } from './backend.ts';
import { expf, fmax, logf, rsqrtf, sqrtf, tanhf } from '../math.ts';

const f = Math.fround;

function unaryFn(op: UnaryOp): (x: number) => number {
  switch (op) {
    case 'neg': return (x) => -x;
    case 'exp': return expf;
    case 'log': return logf;
    case 'sqrt': return sqrtf;
    case 'rsqrt': return rsqrtf;
    case 'tanh': return tanhf;
  }
}

function binaryFn(op: BinaryOp): (a: number, b: number) => number {
  switch (op) {
    case 'add': return (a, b) => f(a + b);
    case 'sub': return (a, b) => f(a - b);
    case 'mul': return (a, b) => f(a * b);
    case 'div': return (a, b) => f(a / b);
    case 'max': return fmax;
    case 'gt': return (a, b) => (a > b ? 1 : 0);
    case 'eq': return (a, b) => (a === b ? 1 : 0);
  }
}

export function createRefBackend(): Backend {
  return {
    name: 'ref',
    threads: 1,

    unary(op, x) {
      const fn = unaryFn(op);
      const out = new Float32Array(x.length);
      for (let i = 0; i < x.length; i++) out[i] = fn(x[i]!);
      return out;
    },

    binary(op, a, aStrides, b, bStrides, shape) {
      const fn = binaryFn(op);
      let size = 1;
      for (const d of shape) size *= d;
      const out = new Float32Array(size);
      const rank = shape.length;
      const idx = new Array<number>(rank).fill(0);
      let ia = 0;
      let ib = 0;
      // Odometer walk over the output in row-major order.
      for (let o = 0; o < size; o++) {
        out[o] = fn(a[ia]!, b[ib]!);
        for (let d = rank - 1; d >= 0; d--) {
          idx[d]!++;
          ia += aStrides[d]!;
          ib += bStrides[d]!;
          if (idx[d]! < shape[d]!) break;
          ia -= aStrides[d]! * shape[d]!;
          ib -= bStrides[d]! * shape[d]!;
          idx[d] = 0;
        }
      }
      return out;
    },

    reduce(op: ReduceOp, x, outer, n, inner) {
      const out = new Float32Array(outer * inner);
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < inner; i++) {
          let acc = op === 'sum' ? 0 : -Infinity;
          const base = o * n * inner + i;
          if (op === 'sum') for (let j = 0; j < n; j++) acc = f(acc + x[base + j * inner]!);
          else for (let j = 0; j < n; j++) acc = fmax(acc, x[base + j * inner]!);
          out[o * inner + i] = acc;
        }
      }
      return out;
    },

    matmul(a, b, batch, m, k, n, bBatched) {
      const out = new Float32Array(batch * m * n);
      for (let bi = 0; bi < batch; bi++) {
        const aOff = bi * m * k;
        const bOff = bBatched ? bi * k * n : 0;
        const oOff = bi * m * n;
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < n; j++) {
            let acc = 0;
            for (let p = 0; p < k; p++) acc = f(acc + f(a[aOff + i * k + p]! * b[bOff + p * n + j]!));
            out[oOff + i * n + j] = acc;
          }
        }
      }
      return out;
    },

    scatterAdd(src, indices, rows, cols) {
      const out = new Float32Array(rows * cols);
      for (let t = 0; t < indices.length; t++) {
        const r = indices[t]!;
        for (let c = 0; c < cols; c++) out[r * cols + c] = f(out[r * cols + c]! + src[t * cols + c]!);
      }
      return out;
    },

    close() {},
  };
}
