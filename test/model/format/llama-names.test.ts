/** Hugging Face Llama tensor names and shapes for small configs (GQA, tied and untied). */
import { describe, expect, it } from 'vitest';
import { SwarmError } from '../../../src/core/errors.ts';
import type { ModelConfigFields } from '../../../src/model/format/hf-config.ts';
import { hfLayerNames, llamaExpectMap, llamaParamCount, llamaTensorSpecs } from '../../../src/model/format/llama-names.ts';
import { decodeSafetensors, encodeSafetensors } from '../../../src/model/format/safetensors.ts';

// dim 16, 4 query heads of 4, 2 KV heads (grouped-query attention), SwiGLU width 40.
const gqa: ModelConfigFields = {
  vocabSize: 50, dim: 16, hiddenDim: 40, nLayers: 2, nHeads: 4, nKvHeads: 2,
  maxSeqLen: 32, normEps: 1e-5, ropeTheta: 10000, tiedEmbeddings: false, initStd: 0.02,
};

describe('llamaTensorSpecs', () => {
  it('lists every tensor of an untied GQA model in forward order, with HF [out, in] shapes', () => {
    expect(llamaTensorSpecs(gqa)).toEqual([
      { name: 'model.embed_tokens.weight', shape: [50, 16] },
      { name: 'model.layers.0.input_layernorm.weight', shape: [16] },
      { name: 'model.layers.0.self_attn.q_proj.weight', shape: [16, 16] },
      { name: 'model.layers.0.self_attn.k_proj.weight', shape: [8, 16] },
      { name: 'model.layers.0.self_attn.v_proj.weight', shape: [8, 16] },
      { name: 'model.layers.0.self_attn.o_proj.weight', shape: [16, 16] },
      { name: 'model.layers.0.post_attention_layernorm.weight', shape: [16] },
      { name: 'model.layers.0.mlp.gate_proj.weight', shape: [40, 16] },
      { name: 'model.layers.0.mlp.up_proj.weight', shape: [40, 16] },
      { name: 'model.layers.0.mlp.down_proj.weight', shape: [16, 40] },
      { name: 'model.layers.1.input_layernorm.weight', shape: [16] },
      { name: 'model.layers.1.self_attn.q_proj.weight', shape: [16, 16] },
      { name: 'model.layers.1.self_attn.k_proj.weight', shape: [8, 16] },
      { name: 'model.layers.1.self_attn.v_proj.weight', shape: [8, 16] },
      { name: 'model.layers.1.self_attn.o_proj.weight', shape: [16, 16] },
      { name: 'model.layers.1.post_attention_layernorm.weight', shape: [16] },
      { name: 'model.layers.1.mlp.gate_proj.weight', shape: [40, 16] },
      { name: 'model.layers.1.mlp.up_proj.weight', shape: [40, 16] },
      { name: 'model.layers.1.mlp.down_proj.weight', shape: [16, 40] },
      { name: 'model.norm.weight', shape: [16] },
      { name: 'lm_head.weight', shape: [50, 16] },
    ]);
  });

  it('omits lm_head.weight when the embeddings are tied (save_pretrained drops the shared tensor)', () => {
    const tied = llamaTensorSpecs({ ...gqa, tiedEmbeddings: true });
    expect(tied.map((s) => s.name)).not.toContain('lm_head.weight');
    expect(tied).toHaveLength(20);
    expect(tied.at(-1)).toEqual({ name: 'model.norm.weight', shape: [16] });
  });

  it('k/v projections follow nKvHeads; without GQA they equal q', () => {
    const mha = llamaTensorSpecs({ ...gqa, nKvHeads: 4 });
    const shape = (n: string): number[] => mha.find((s) => s.name === n)!.shape;
    expect(shape('model.layers.0.self_attn.k_proj.weight')).toEqual([16, 16]);
    const mqa = llamaTensorSpecs({ ...gqa, nKvHeads: 1 });
    expect(mqa.find((s) => s.name === 'model.layers.0.self_attn.v_proj.weight')!.shape).toEqual([4, 16]);
  });

  it('counts parameters like the closed form', () => {
    const hd = 4;
    const perLayer = 2 * 16 + 16 * 4 * hd * 2 + 16 * 2 * hd * 2 + 3 * 16 * 40;
    expect(llamaParamCount(gqa)).toBe(50 * 16 * 2 + 2 * perLayer + 16);
    expect(llamaParamCount({ ...gqa, tiedEmbeddings: true })).toBe(50 * 16 + 2 * perLayer + 16);
  });

  it('validates the config first', () => {
    expect(() => llamaTensorSpecs({ ...gqa, nKvHeads: 3 })).toThrow(SwarmError);
  });
});

describe('hfLayerNames', () => {
  it('names the nine weights of a block', () => {
    expect(hfLayerNames(11)).toEqual({
      inputNorm: 'model.layers.11.input_layernorm.weight',
      qProj: 'model.layers.11.self_attn.q_proj.weight',
      kProj: 'model.layers.11.self_attn.k_proj.weight',
      vProj: 'model.layers.11.self_attn.v_proj.weight',
      oProj: 'model.layers.11.self_attn.o_proj.weight',
      postAttentionNorm: 'model.layers.11.post_attention_layernorm.weight',
      gateProj: 'model.layers.11.mlp.gate_proj.weight',
      upProj: 'model.layers.11.mlp.up_proj.weight',
      downProj: 'model.layers.11.mlp.down_proj.weight',
    });
  });

  it('rejects a bad index with a code', () => {
    for (const l of [-1, 1.5, Number.NaN]) {
      expect(() => hfLayerNames(l)).toThrow(expect.objectContaining({ code: 'MODEL_BAD_LAYER_INDEX' }));
    }
  });
});

describe('llamaExpectMap', () => {
  it('accepts a file with exactly the model tensors in any float dtype, and rejects one missing a tensor', () => {
    const specs = llamaTensorSpecs({ ...gqa, tiedEmbeddings: true });
    const tensors = specs.map((s, i) => ({
      name: s.name,
      dtype: (['F32', 'F16', 'BF16'] as const)[i % 3],
      shape: s.shape,
      data: new Float32Array(s.shape.reduce((a, b) => a * b, 1)),
    }));
    const expectMap = llamaExpectMap({ ...gqa, tiedEmbeddings: true });
    expect(decodeSafetensors(encodeSafetensors(tensors), { expect: expectMap }).tensors.size).toBe(20);
    expect(() => decodeSafetensors(encodeSafetensors(tensors.slice(1)), { expect: expectMap })).toThrow(
      expect.objectContaining({ code: 'SAFETENSORS_MISSING_TENSOR' }),
    );
    expect(() => decodeSafetensors(encodeSafetensors(tensors), { expect: llamaExpectMap({ ...gqa, tiedEmbeddings: true }, 'F32') })).toThrow(
      expect.objectContaining({ code: 'SAFETENSORS_DTYPE_MISMATCH' }),
    );
    // An untied config needs lm_head.weight.
    expect(() => decodeSafetensors(encodeSafetensors(tensors), { expect: llamaExpectMap(gqa) })).toThrow(
      expect.objectContaining({ code: 'SAFETENSORS_MISSING_TENSOR', details: { name: 'lm_head.weight' } }),
    );
  });
});
