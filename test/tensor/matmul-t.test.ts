/**
 * Backend.matmulT (the native backend reads a transposed operand in place,
 * for matmul's gradients) must give the bits of `ref`'s matmul on explicit
 * transposed copies: every ISA path this CPU has, 1 and 2 threads, shapes
 * with ragged tiles on both edges, batched and shared B, values with IEEE
 * corner cases.
 */
import { describe, expect, it } from 'vitest';
import { createRefBackend } from '../../src/tensor/backend/ref.ts';
import { stridedCopy } from '../../src/tensor/layout.ts';
import { createNativeBackend, NATIVE_ISAS, nativeStatus } from '../../src/tensor/native/backend.ts';
import { lcg } from './helpers.ts';

const ref = createRefBackend();
const CORNERS = [0, -0, 1e-40, -3e-39, 1e30, -1e30, Infinity, NaN];

function values(n: number, seed: number): Float32Array {
  const r = lcg(seed);
  return Float32Array.from({ length: n }, () => (r() < 0.05 ? CORNERS[Math.floor(r() * CORNERS.length)]! : r() * 4 - 2));
}

/** [batch, rows, cols] → [batch, cols, rows]. */
function transposed(x: Float32Array, batch: number, rows: number, cols: number): Float32Array {
  return stridedCopy(x, [batch, cols, rows], [rows * cols, 1, cols], 0);
}

function sameBits(x: Float32Array, y: Float32Array): boolean {
  const a = new Uint32Array(x.buffer, x.byteOffset, x.length), b = new Uint32Array(y.buffer, y.byteOffset, y.length);
  return x.length === y.length && a.every((v, i) => v === b[i] || (Number.isNaN(x[i]) && Number.isNaN(y[i])));
}

const status = nativeStatus();
const SHAPES: Array<[number, number, number, number]> = [[1, 1, 1, 1], [1, 13, 37, 35], [2, 8, 32, 32], [3, 17, 5, 70], [1, 70, 129, 33], [2, 1, 300, 9]];

for (const isa of NATIVE_ISAS) {
  const skip = !status.available ? status.reason : status.isas.includes(isa) ? undefined : `this CPU has no ${isa} path`;
  describe.skipIf(skip !== undefined)(`native matmulT, ${isa}${skip === undefined ? '' : ` (skipped: ${skip})`}`, () => {
    for (const threads of [1, 2]) {
      it(`${threads} thread(s): transposed A, transposed B, both, batched and shared B`, () => {
        const b = createNativeBackend({ isa, threads });
        try {
          for (const [batch, m, k, n] of SHAPES) {
            for (const bBatched of [true, false]) {
              const a = values(batch * m * k, m * 7 + k), bb = values((bBatched ? batch : 1) * k * n, n * 11 + k);
              const want = ref.matmul(a, bb, batch, m, k, n, bBatched);
              const aT = transposed(a, batch, m, k);
              const bT = transposed(bb, bBatched ? batch : 1, k, n);
              for (const [ta, tb] of [[true, false], [false, true], [true, true], [false, false]] as const) {
                const got = b.matmulT!(ta ? aT : a, tb ? bT : bb, batch, m, k, n, bBatched, ta, tb);
                expect(sameBits(got, want), `${batch}x${m}x${k}x${n} bBatched=${bBatched} transA=${ta} transB=${tb}`).toBe(true);
              }
            }
          }
        } finally {
          b.close();
        }
      });
    }
  });
}
