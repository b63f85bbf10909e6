/**
 * Conversion between the engine's parameter layout and Hugging Face Llama
 * tensors. Inside, linear weights are [in, out] (x · W without a transpose);
 * Hugging Face's nn.Linear stores [out, in] (y = x Wᵀ), so every projection
 * is transposed on the way out and back in. Embeddings, norms and the
 * (untied) LM head follow the same rule: lm_head.weight is [V, D].
 */
import { SwarmError } from '../../core/errors.ts';
import type { ModelConfig } from '../config.ts';
import { paramShapes } from '../llama.ts';
import type { SafetensorsTensor } from './safetensors.ts';
import { HF_EMBED_TOKENS, HF_FINAL_NORM, HF_LM_HEAD, hfLayerNames } from './llama-names.ts';

/** Transpose a row-major [r, c] matrix. */
export function transpose2d(x: Float32Array, r: number, c: number): Float32Array {
  const out = new Float32Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = x[i * c + j]!;
  return out;
}

const LAYER_KEYS = {
  attnNorm: 'inputNorm',
  wq: 'qProj',
  wk: 'kProj',
  wv: 'vProj',
  wo: 'oProj',
  mlpNorm: 'postAttentionNorm',
  wGate: 'gateProj',
  wUp: 'upProj',
  wDown: 'downProj',
} as const;

/** HF name of an internal parameter name, and whether it is stored transposed. */
function hfNameOf(name: string): { hf: string; transpose: boolean } {
  if (name === 'embed') return { hf: HF_EMBED_TOKENS, transpose: false };
  if (name === 'norm') return { hf: HF_FINAL_NORM, transpose: false };
  if (name === 'lmHead') return { hf: HF_LM_HEAD, transpose: true };
  const m = /^layers\.(\d+)\.(\w+)$/.exec(name);
  const key = m ? LAYER_KEYS[m[2] as keyof typeof LAYER_KEYS] : undefined;
  if (!m || !key) throw new SwarmError('MODEL_BAD_PARAMS', `no Hugging Face name for parameter ${name}`);
  return { hf: hfLayerNames(Number(m[1]))[key], transpose: !m[2]!.endsWith('Norm') };
}

/** Internal parameter arrays (canonical order) → HF tensors (F32). */
export function toHfTensors(c: ModelConfig, params: readonly Float32Array[]): SafetensorsTensor[] {
  const shapes = paramShapes(c);
  if (params.length !== shapes.length) throw new SwarmError('MODEL_BAD_PARAMS', `expected ${shapes.length} tensors, got ${params.length}`);
  return shapes.map(([name, shape], i) => {
    const { hf, transpose } = hfNameOf(name);
    const data = params[i]!;
    if (transpose) {
      const [r, col] = shape as [number, number];
      return { name: hf, dtype: 'F32' as const, shape: [col, r], data: transpose2d(data, r, col) };
    }
    return { name: hf, dtype: 'F32' as const, shape: [...shape], data };
  });
}

/** HF tensors (already decoded to Float32Array and shape-checked) → internal arrays in canonical order. */
export function fromHfTensors(c: ModelConfig, tensors: ReadonlyMap<string, { shape: readonly number[]; data: unknown }>): Float32Array[] {
  return paramShapes(c).map(([name, shape]) => {
    const { hf, transpose } = hfNameOf(name);
    const t = tensors.get(hf);
    if (!t) throw new SwarmError('MODEL_BAD_PARAMS', `checkpoint lacks ${hf}`);
    if (!(t.data instanceof Float32Array)) throw new SwarmError('MODEL_BAD_PARAMS', `${hf} is not a floating-point tensor`);
    const want = transpose ? [shape[1]!, shape[0]!] : shape;
    if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) {
      throw new SwarmError('MODEL_BAD_PARAMS', `${hf} has shape [${t.shape.join(',')}], expected [${want.join(',')}]`);
    }
    return transpose ? transpose2d(t.data, want[0]!, want[1]!) : Float32Array.from(t.data);
  });
}
