/**
 * Hugging Face Llama tensor names and shapes (the state_dict keys of
 * transformers' LlamaForCausalLM, src/transformers/models/llama/modeling_llama.py):
 *
 *   model.embed_tokens.weight                       [vocab, dim]
 *   model.layers.N.input_layernorm.weight           [dim]
 *   model.layers.N.self_attn.q_proj.weight          [nHeads * headDim, dim]
 *   model.layers.N.self_attn.k_proj.weight          [nKvHeads * headDim, dim]
 *   model.layers.N.self_attn.v_proj.weight          [nKvHeads * headDim, dim]
 *   model.layers.N.self_attn.o_proj.weight          [dim, nHeads * headDim]
 *   model.layers.N.post_attention_layernorm.weight  [dim]
 *   model.layers.N.mlp.gate_proj.weight             [hidden, dim]
 *   model.layers.N.mlp.up_proj.weight               [hidden, dim]
 *   model.layers.N.mlp.down_proj.weight             [dim, hidden]
 *   model.norm.weight                               [dim]
 *   lm_head.weight                                  [vocab, dim]   (absent when tied)
 *
 * torch.nn.Linear stores its weight as [out_features, in_features] and
 * computes y = x Wᵀ, so a matmul engine that computes x W needs the
 * transpose. With tie_word_embeddings, save_pretrained drops lm_head.weight
 * (it shares storage with embed_tokens), so a tied checkpoint has no such
 * tensor. No biases: Llama has attention_bias = mlp_bias = false.
 *
 * RoPE convention: HF Llama rotates the halves of each head (rotate_half:
 * pairs (i, i + headDim/2)), not interleaved pairs (2i, 2i+1) as Meta's
 * original code did; HF's convert_llama_weights_to_hf.py permutes q_proj and
 * k_proj rows to match. Weights under these names therefore assume the
 * half-split layout that src/tensor/rope.ts builds its tables for.
 */
import { SwarmError } from '../../core/errors.ts';
import type { ModelConfigFields } from './hf-config.ts';
import { headDimOf, validateModelConfig } from './hf-config.ts';
import type { SafetensorsDtype, SafetensorsExpectation } from './safetensors.ts';
import { FLOAT_DTYPES } from './safetensors.ts';

export const HF_EMBED_TOKENS = 'model.embed_tokens.weight';
export const HF_FINAL_NORM = 'model.norm.weight';
export const HF_LM_HEAD = 'lm_head.weight';

/** The nine weights of decoder block `layer`, by role. */
export interface HfLayerNames {
  inputNorm: string;
  qProj: string;
  kProj: string;
  vProj: string;
  oProj: string;
  postAttentionNorm: string;
  gateProj: string;
  upProj: string;
  downProj: string;
}

export function hfLayerNames(layer: number): HfLayerNames {
  if (!Number.isSafeInteger(layer) || layer < 0) {
    throw new SwarmError('MODEL_BAD_LAYER_INDEX', `layer index must be a non-negative integer, got ${layer}`, { layer });
  }
  const p = `model.layers.${layer}`;
  return {
    inputNorm: `${p}.input_layernorm.weight`,
    qProj: `${p}.self_attn.q_proj.weight`,
    kProj: `${p}.self_attn.k_proj.weight`,
    vProj: `${p}.self_attn.v_proj.weight`,
    oProj: `${p}.self_attn.o_proj.weight`,
    postAttentionNorm: `${p}.post_attention_layernorm.weight`,
    gateProj: `${p}.mlp.gate_proj.weight`,
    upProj: `${p}.mlp.up_proj.weight`,
    downProj: `${p}.mlp.down_proj.weight`,
  };
}

export interface TensorSpec {
  name: string;
  shape: number[];
}

/**
 * Every tensor of a Llama checkpoint for `cfg`, in forward order:
 * embeddings; per layer input norm, q, k, v, o, post-attention norm, gate,
 * up, down; final norm; LM head unless tied. (The safetensors file itself is
 * ordered by name; this order is for code that walks the model.)
 */
export function llamaTensorSpecs(cfg: ModelConfigFields): TensorSpec[] {
  validateModelConfig(cfg);
  const { vocabSize: vocab, dim, hiddenDim: hidden, nHeads, nKvHeads } = cfg;
  const hd = headDimOf(cfg);
  const specs: TensorSpec[] = [{ name: HF_EMBED_TOKENS, shape: [vocab, dim] }];
  for (let l = 0; l < cfg.nLayers; l++) {
    const n = hfLayerNames(l);
    specs.push(
      { name: n.inputNorm, shape: [dim] },
      { name: n.qProj, shape: [nHeads * hd, dim] },
      { name: n.kProj, shape: [nKvHeads * hd, dim] },
      { name: n.vProj, shape: [nKvHeads * hd, dim] },
      { name: n.oProj, shape: [dim, nHeads * hd] },
      { name: n.postAttentionNorm, shape: [dim] },
      { name: n.gateProj, shape: [hidden, dim] },
      { name: n.upProj, shape: [hidden, dim] },
      { name: n.downProj, shape: [dim, hidden] },
    );
  }
  specs.push({ name: HF_FINAL_NORM, shape: [dim] });
  if (!cfg.tiedEmbeddings) specs.push({ name: HF_LM_HEAD, shape: [vocab, dim] });
  return specs;
}

/**
 * The expectation map for decodeSafetensors / readCheckpointDir: every
 * tensor of llamaTensorSpecs with its shape, and by default any float dtype
 * (F32, F16, BF16 all decode to Float32Array).
 */
export function llamaExpectMap(
  cfg: ModelConfigFields,
  dtype: SafetensorsDtype | readonly SafetensorsDtype[] = FLOAT_DTYPES,
): Map<string, SafetensorsExpectation> {
  return new Map(llamaTensorSpecs(cfg).map((s) => [s.name, { shape: s.shape, dtype }]));
}

/** Number of parameters stored in the checkpoint (sum over llamaTensorSpecs). */
export function llamaParamCount(cfg: ModelConfigFields): number {
  let n = 0;
  for (const s of llamaTensorSpecs(cfg)) n += s.shape.reduce((a, b) => a * b, 1);
  return n;
}
