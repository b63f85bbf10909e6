/**
 * Rotary embedding tables (Su et al. 2021, RoFormer §3.4), Hugging Face
 * Llama layout: inv_freq[i] = theta^(-2i/d) for i < d/2, angle[t, i] =
 * t * inv_freq[i], and cos/sin tables [T, d] with the half repeated
 * (cat(freqs, freqs)). Computed with the canonical math so every machine
 * builds the same bits.
 */
import { SwarmError } from '../core/errors.ts';
import { expf, logf, sincos64 } from './math.ts';
import type { Engine, Tensor } from './tensor.ts';

const f = Math.fround;

export function ropeTables(engine: Engine, seqLen: number, headDim: number, theta = 10000): { cos: Tensor; sin: Tensor } {
  if (!Number.isInteger(headDim) || headDim <= 0 || headDim % 2 !== 0) {
    throw new SwarmError('TENSOR_BAD_SHAPE', `rope head dimension must be a positive even integer, got ${headDim}`);
  }
  if (!Number.isInteger(seqLen) || seqLen < 0) throw new SwarmError('TENSOR_BAD_SHAPE', `bad sequence length ${seqLen}`);
  const half = headDim / 2;
  const lnTheta = logf(theta);
  const cos = new Float32Array(seqLen * headDim);
  const sin = new Float32Array(seqLen * headDim);
  for (let i = 0; i < half; i++) {
    const invFreq = expf(f(f(f(-2 * i) / headDim) * lnTheta));
    for (let t = 0; t < seqLen; t++) {
      const angle = f(t * invFreq);
      const sc = sincos64(angle);
      const c = f(sc.cos);
      const s = f(sc.sin);
      cos[t * headDim + i] = c;
      cos[t * headDim + i + half] = c;
      sin[t * headDim + i] = s;
      sin[t * headDim + i + half] = s;
    }
  }
  return { cos: engine.tensor(cos, [seqLen, headDim]), sin: engine.tensor(sin, [seqLen, headDim]) };
}
