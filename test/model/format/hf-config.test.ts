/** Hugging Face LlamaConfig <-> project config fields: round trip, defaults, and refusals. */
import { describe, expect, it } from 'vitest';
import { SwarmError } from '../../../src/core/errors.ts';
import { fromHfLlamaConfig, headDimOf, toHfLlamaConfig, validateModelConfig } from '../../../src/model/format/hf-config.ts';
import type { ModelConfigFields } from '../../../src/model/format/hf-config.ts';

const small: ModelConfigFields = {
  vocabSize: 300, dim: 64, hiddenDim: 176, nLayers: 3, nHeads: 8, nKvHeads: 2,
  maxSeqLen: 128, normEps: 1e-5, ropeTheta: 10000, tiedEmbeddings: true, initStd: 0.02,
  bosTokenId: 1, eosTokenId: 2,
};

function failure(fn: () => unknown): SwarmError {
  try {
    fn();
  } catch (e) {
    if (e instanceof SwarmError) return e;
    throw e;
  }
  throw new Error('expected a SwarmError');
}

/** A config.json in the shape transformers 4.x writes for a TinyLlama-style GQA model. */
const tinyLlamaStyle = {
  architectures: ['LlamaForCausalLM'],
  attention_bias: false,
  bos_token_id: 1,
  eos_token_id: 2,
  hidden_act: 'silu',
  hidden_size: 2048,
  initializer_range: 0.02,
  intermediate_size: 5632,
  max_position_embeddings: 2048,
  model_type: 'llama',
  num_attention_heads: 32,
  num_hidden_layers: 22,
  num_key_value_heads: 4,
  pretraining_tp: 1,
  rms_norm_eps: 1e-5,
  rope_scaling: null,
  rope_theta: 10000.0,
  tie_word_embeddings: false,
  torch_dtype: 'bfloat16',
  transformers_version: '4.35.0',
  use_cache: true,
  vocab_size: 32000,
};

describe('toHfLlamaConfig', () => {
  it('writes the LlamaConfig fields in a fixed order', () => {
    const hf = toHfLlamaConfig(small);
    expect(Object.keys(hf)).toEqual([
      'architectures', 'model_type', 'vocab_size', 'hidden_size', 'intermediate_size', 'num_hidden_layers',
      'num_attention_heads', 'num_key_value_heads', 'head_dim', 'max_position_embeddings', 'rms_norm_eps',
      'rope_theta', 'tie_word_embeddings', 'hidden_act', 'bos_token_id', 'eos_token_id', 'torch_dtype',
      'attention_bias', 'mlp_bias', 'initializer_range',
    ]);
    expect(hf).toMatchObject({
      architectures: ['LlamaForCausalLM'], model_type: 'llama', vocab_size: 300, hidden_size: 64, intermediate_size: 176,
      num_hidden_layers: 3, num_attention_heads: 8, num_key_value_heads: 2, head_dim: 8, max_position_embeddings: 128,
      rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: true, hidden_act: 'silu', bos_token_id: 1,
      eos_token_id: 2, torch_dtype: 'float32', attention_bias: false, mlp_bias: false, initializer_range: 0.02,
    });
  });

  it('round trips through JSON text', () => {
    for (const cfg of [small, { ...small, tiedEmbeddings: false, nKvHeads: 8, eosTokenId: [2, 7], bosTokenId: null }]) {
      expect(fromHfLlamaConfig(JSON.parse(JSON.stringify(toHfLlamaConfig(cfg))))).toEqual(cfg);
    }
  });

  it('writes absent token ids as null', () => {
    const { bosTokenId: _b, eosTokenId: _e, ...bare } = small;
    const hf = toHfLlamaConfig(bare);
    expect(hf.bos_token_id).toBeNull();
    expect(hf.eos_token_id).toBeNull();
    expect(fromHfLlamaConfig(hf)).toEqual({ ...bare, bosTokenId: null, eosTokenId: null });
  });

  it('validates before writing', () => {
    expect(failure(() => toHfLlamaConfig({ ...small, nHeads: 7 })).code).toBe('MODEL_BAD_CONFIG');
  });
});

describe('fromHfLlamaConfig', () => {
  it('reads a transformers-written config, ignoring fields that do not change the math', () => {
    expect(fromHfLlamaConfig(tinyLlamaStyle)).toEqual({
      vocabSize: 32000, dim: 2048, hiddenDim: 5632, nLayers: 22, nHeads: 32, nKvHeads: 4, maxSeqLen: 2048,
      normEps: 1e-5, ropeTheta: 10000, tiedEmbeddings: false, initStd: 0.02, bosTokenId: 1, eosTokenId: 2,
    });
    expect(headDimOf(fromHfLlamaConfig(tinyLlamaStyle))).toBe(64);
  });

  it("applies LlamaConfig's defaults to absent optional fields", () => {
    const minimal = { vocab_size: 100, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 1, num_attention_heads: 4 };
    expect(fromHfLlamaConfig(minimal)).toEqual({
      vocabSize: 100, dim: 32, hiddenDim: 64, nLayers: 1, nHeads: 4, nKvHeads: 4, maxSeqLen: 2048,
      normEps: 1e-6, ropeTheta: 10000, tiedEmbeddings: false, initStd: 0.02, bosTokenId: 1, eosTokenId: 2,
    });
    expect(fromHfLlamaConfig({ ...minimal, num_key_value_heads: null, head_dim: null }).nKvHeads).toBe(4);
  });

  it('reads transformers v5 rope_parameters and Llama 3 eos lists', () => {
    const base = { ...tinyLlamaStyle, rope_theta: undefined, rope_scaling: undefined };
    const cfg = fromHfLlamaConfig({ ...base, rope_parameters: { rope_type: 'default', rope_theta: 500000 }, eos_token_id: [128001, 128009] });
    expect(cfg.ropeTheta).toBe(500000);
    expect(cfg.eosTokenId).toEqual([128001, 128009]);
  });

  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['vocab_size missing', { vocab_size: undefined }, 'vocab_size'],
    ['hidden_size missing', { hidden_size: undefined }, 'hidden_size'],
    ['intermediate_size missing', { intermediate_size: undefined }, 'intermediate_size'],
    ['num_hidden_layers missing', { num_hidden_layers: undefined }, 'num_hidden_layers'],
    ['num_attention_heads missing', { num_attention_heads: undefined }, 'num_attention_heads'],
    ['hidden_size a string', { hidden_size: '2048' }, 'hidden_size'],
    ['hidden_size fractional', { hidden_size: 2048.5 }, 'hidden_size'],
    ['vocab_size zero', { vocab_size: 0 }, 'vocab_size'],
    ['num_hidden_layers negative', { num_hidden_layers: -1 }, 'num_hidden_layers'],
    ['hidden_size not divisible by heads', { hidden_size: 2050 }, 'hidden_size'],
    ['heads not divisible by kv heads', { num_key_value_heads: 5 }, 'num_key_value_heads'],
    ['odd head dimension', { hidden_size: 32 * 3 }, 'hidden_size'],
    ['head_dim differs', { head_dim: 128 }, 'head_dim'],
    ['rms_norm_eps zero', { rms_norm_eps: 0 }, 'rms_norm_eps'],
    ['rms_norm_eps a string', { rms_norm_eps: '1e-5' }, 'rms_norm_eps'],
    ['rope_theta negative', { rope_theta: -1 }, 'rope_theta'],
    ['tie_word_embeddings a string', { tie_word_embeddings: 'false' }, 'tie_word_embeddings'],
    ['gelu activation', { hidden_act: 'gelu' }, 'hidden_act'],
    ['attention bias', { attention_bias: true }, 'attention_bias'],
    ['mlp bias', { mlp_bias: true }, 'mlp_bias'],
    ['rope scaling', { rope_scaling: { rope_type: 'llama3', factor: 8 } }, 'rope_scaling'],
    ['rope_parameters scaling', { rope_parameters: { rope_type: 'yarn', rope_theta: 10000 } }, 'rope_parameters'],
    ['model_type mistral', { model_type: 'mistral' }, 'model_type'],
    ['architectures other', { architectures: ['GPT2LMHeadModel'] }, 'architectures'],
    ['bos negative', { bos_token_id: -1 }, 'bos_token_id'],
    ['eos list with a string', { eos_token_id: [1, 'x'] }, 'eos_token_id'],
  ];
  for (const [what, patch, field] of cases) {
    it(`${what}: MODEL_BAD_CONFIG naming ${field}`, () => {
      const e = failure(() => fromHfLlamaConfig({ ...tinyLlamaStyle, ...patch }));
      expect(e.code).toBe('MODEL_BAD_CONFIG');
      expect(e.details?.field).toBe(field);
    });
  }

  it('rejects non-objects', () => {
    for (const x of [null, 3, 'config', [tinyLlamaStyle]]) expect(failure(() => fromHfLlamaConfig(x)).code).toBe('MODEL_BAD_CONFIG');
  });
});

describe('validateModelConfig', () => {
  it('returns the same object when valid', () => {
    expect(validateModelConfig(small)).toBe(small);
  });

  const cases: Array<[string, Partial<ModelConfigFields> & Record<string, unknown>, string]> = [
    ['dim not divisible by nHeads', { dim: 60 }, 'dim'],
    ['nHeads not divisible by nKvHeads', { nKvHeads: 3 }, 'nKvHeads'],
    ['nKvHeads zero', { nKvHeads: 0 }, 'nKvHeads'],
    ['odd head dim', { dim: 72, nHeads: 8 }, 'dim'],
    ['fractional vocab', { vocabSize: 10.5 }, 'vocabSize'],
    ['NaN eps', { normEps: Number.NaN }, 'normEps'],
    ['infinite theta', { ropeTheta: Infinity }, 'ropeTheta'],
    ['zero initStd', { initStd: 0 }, 'initStd'],
    ['non-boolean tie', { tiedEmbeddings: 1 as unknown as boolean }, 'tiedEmbeddings'],
    ['bad bos', { bosTokenId: 1.5 }, 'bosTokenId'],
    ['bad eos', { eosTokenId: [-1] }, 'eosTokenId'],
    ['matrices past 2^53', { vocabSize: 2 ** 50, dim: 2 ** 10, nHeads: 8, nKvHeads: 2 }, 'config'],
  ];
  for (const [what, patch, field] of cases) {
    it(`${what}: MODEL_BAD_CONFIG naming ${field}`, () => {
      const e = failure(() => validateModelConfig({ ...small, ...patch } as ModelConfigFields));
      expect(e.code).toBe('MODEL_BAD_CONFIG');
      expect(e.details?.field).toBe(field);
    });
  }
});
