/**
 * int8 quantization of a DiLoCo delta with one scale per row (issue 7, data
 * flow step 1: Δ_k is sent "int8-quantized with per-row scales").
 *
 * Rows: the flat delta is cut along the model's parameter tensors in
 * canonical order (paramShapes); a tensor of shape [a, b] is a rows of b
 * values, a 1-D tensor [n] is one row of n. Each row gets
 *     scale = fround(maxabs(row) / 127)
 *     q_i   = roundTiesToEven(fround(x_i / scale)), clamped to [-127, 127]
 *     x̂_i  = fround(q_i · scale)
 * (absmax "linear" quantization as in Dettmers et al., "LLM.int8()", arXiv
 * 2208.07339, §3.1, applied row-wise). A zero row has scale 0 and all q = 0.
 * Every step is an f32 operation rounded once, so two machines that quantize
 * the same delta get the same bytes, which the quorum compares.
 *
 * -128 is never produced: the range is symmetric so negating a delta negates
 * its codes exactly.
 */
import { SwarmError } from '../../core/errors.ts';

const f = Math.fround;

/** Row lengths of a parameter layout: [a, b] → a rows of b; [n] → 1 row of n; [] → 1 row of 1. */
export function rowLengths(shapes: readonly (readonly number[])[]): number[] {
  const out: number[] = [];
  for (const sh of shapes) {
    if (sh.length === 0) out.push(1);
    else if (sh.length === 1) out.push(sh[0]!);
    else {
      const cols = sh[sh.length - 1]!;
      const rows = sh.slice(0, -1).reduce((a, b) => a * b, 1);
      for (let r = 0; r < rows; r++) out.push(cols);
    }
  }
  return out;
}

export interface QuantizedDelta {
  /** one code per value, same order as the flat delta */
  q: Int8Array;
  /** one scale per row */
  scales: Float32Array;
}

/** Round half to even on an f32 value already in [-127.5, 127.5]. */
function roundTiesToEven(x: number): number {
  const r = Math.round(x); // ties toward +∞
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export function quantizeRows(delta: Float32Array, rows: readonly number[]): QuantizedDelta {
  const total = rows.reduce((a, b) => a + b, 0);
  if (total !== delta.length) {
    throw new SwarmError('TRAIN_BAD_DELTA', `delta has ${delta.length} values, the row layout covers ${total}`);
  }
  const q = new Int8Array(delta.length);
  const scales = new Float32Array(rows.length);
  let at = 0;
  for (let r = 0; r < rows.length; r++) {
    const n = rows[r]!;
    let maxAbs = 0;
    for (let i = at; i < at + n; i++) {
      const v = delta[i]!;
      if (!Number.isFinite(v)) throw new SwarmError('TRAIN_NAN', 'delta holds a NaN or infinity', { index: i });
      const a = Math.abs(v);
      if (a > maxAbs) maxAbs = a;
    }
    const scale = f(maxAbs / 127);
    scales[r] = scale;
    if (scale !== 0) {
      for (let i = at; i < at + n; i++) {
        const c = roundTiesToEven(f(delta[i]! / scale));
        q[i] = c > 127 ? 127 : c < -127 ? -127 : c;
      }
    }
    at += n;
  }
  return { q, scales };
}

/** x̂ = fround(q · scale), row by row. */
export function dequantizeRows(qd: QuantizedDelta, rows: readonly number[]): Float32Array {
  if (qd.scales.length !== rows.length) {
    throw new SwarmError('TRAIN_BAD_DELTA', `${qd.scales.length} scales for ${rows.length} rows`);
  }
  const out = new Float32Array(qd.q.length);
  let at = 0;
  for (let r = 0; r < rows.length; r++) {
    const s = qd.scales[r]!;
    if (!Number.isFinite(s) || s < 0) throw new SwarmError('TRAIN_BAD_DELTA', 'row scales must be finite and non-negative', { row: r });
    const n = rows[r]!;
    if (at + n > out.length) throw new SwarmError('TRAIN_BAD_DELTA', 'the row layout runs past the codes');
    for (let i = at; i < at + n; i++) out[i] = f(qd.q[i]! * s);
    at += n;
  }
  if (at !== out.length) throw new SwarmError('TRAIN_BAD_DELTA', `the row layout covers ${at} values, the delta has ${out.length}`);
  return out;
}
