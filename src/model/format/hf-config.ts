/**
 * Hugging Face `config.json` for Llama models, and its mapping to the
 * project's config fields.
 *
 * Field names, meanings and defaults follow transformers' LlamaConfig
 * (src/transformers/models/llama/configuration_llama.py): vocab_size,
 * hidden_size, intermediate_size, num_hidden_layers, num_attention_heads,
 * num_key_value_heads (default: num_attention_heads, i.e. no GQA),
 * head_dim (default hidden_size / num_attention_heads), hidden_act "silu",
 * max_position_embeddings 2048, initializer_range 0.02, rms_norm_eps 1e-6,
 * bos_token_id 1, eos_token_id 2 (an int or a list), tie_word_embeddings
 * false, rope_theta 10000 (transformers v5 moves it into
 * rope_parameters.rope_theta; both spellings are read), attention_bias
 * false, mlp_bias false. LlamaConfig itself requires hidden_size to be a
 * multiple of num_attention_heads (validate_architecture).
 *
 * Loading is strict where a silent difference would compute a different
 * model: the architecture sizes must be present (LlamaConfig's 7B defaults
 * mean nothing for a given checkpoint), and features this engine does not
 * implement are refused rather than ignored: an activation other than SiLU,
 * attention or MLP biases, RoPE scaling (e.g. Llama 3.1's "llama3" type), a
 * head_dim other than hidden_size / num_attention_heads. Fields that do not
 * change the math (use_cache, pretraining_tp, attention_dropout, torch_dtype
 * / dtype, transformers_version, pad_token_id, ...) are ignored. Every
 * refusal is MODEL_BAD_CONFIG with details {field, reason}.
 */
import type { ErrorDetails } from '../../core/errors.ts';
import { SwarmError } from '../../core/errors.ts';
import type { ModelConfig } from '../config.ts';

/**
 * The model config (src/model/config.ts: the one typed config object; its
 * comments map each field to its LlamaConfig name) plus the special-token
 * ids config.json records. The head dimension is derived: dim / nHeads.
 */
export interface ModelConfigFields extends ModelConfig {
  /** bos_token_id; null for none. Absent: written as null */
  bosTokenId?: number | null;
  /** eos_token_id: one id, several (Llama 3 lists them), or null. Absent: written as null */
  eosTokenId?: number | readonly number[] | null;
}

/** The config.json object we write (key order is the order written). */
export interface HfLlamaConfig {
  architectures: string[];
  model_type: 'llama';
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  head_dim: number;
  max_position_embeddings: number;
  rms_norm_eps: number;
  rope_theta: number;
  tie_word_embeddings: boolean;
  hidden_act: 'silu';
  bos_token_id: number | null;
  eos_token_id: number | number[] | null;
  torch_dtype: 'float32';
  attention_bias: false;
  mlp_bias: false;
  initializer_range: number;
}

/** LlamaConfig's defaults for the optional fields we read. */
const HF_DEFAULTS = {
  max_position_embeddings: 2048,
  rms_norm_eps: 1e-6,
  rope_theta: 10000,
  tie_word_embeddings: false,
  initializer_range: 0.02,
  bos_token_id: 1,
  eos_token_id: 2,
} as const;

function bad(field: string, reason: string, extra: ErrorDetails = {}): never {
  throw new SwarmError('MODEL_BAD_CONFIG', `invalid model config: ${field} ${reason}`, { field, reason, ...extra });
}

const POSITIVE_INTS = ['vocabSize', 'dim', 'hiddenDim', 'nLayers', 'nHeads', 'nKvHeads', 'maxSeqLen'] as const;

/** The head dimension, dim / nHeads. */
export function headDimOf(cfg: Pick<ModelConfigFields, 'dim' | 'nHeads'>): number {
  return cfg.dim / cfg.nHeads;
}

function isTokenId(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

/**
 * Checks a project-side config and returns it unchanged: positive integer
 * sizes, dim divisible by nHeads, nHeads divisible by nKvHeads (each KV head
 * serves a whole group of query heads), an even head dimension (RoPE rotates
 * pairs), finite positive normEps / ropeTheta / initStd, boolean
 * tiedEmbeddings, non-negative integer token ids, and weight matrices whose
 * element counts are safe integers. MODEL_BAD_CONFIG otherwise.
 */
export function validateModelConfig<T extends ModelConfigFields>(cfg: T): T {
  if (cfg === null || typeof cfg !== 'object') bad('config', 'must be an object');
  for (const k of POSITIVE_INTS) {
    const v = cfg[k];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) bad(k, 'must be a positive integer', { value: v ?? null });
  }
  if (cfg.dim % cfg.nHeads !== 0) bad('dim', `(hidden_size) ${cfg.dim} is not divisible by nHeads (num_attention_heads) ${cfg.nHeads}`);
  if (cfg.nHeads % cfg.nKvHeads !== 0) {
    bad('nKvHeads', `(num_key_value_heads) ${cfg.nKvHeads} does not divide nHeads (num_attention_heads) ${cfg.nHeads}`);
  }
  if (headDimOf(cfg) % 2 !== 0) bad('dim', `gives an odd head dimension ${headDimOf(cfg)}; rotary embeddings need pairs`);
  for (const k of ['normEps', 'ropeTheta', 'initStd'] as const) {
    const v = cfg[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) bad(k, 'must be a finite positive number', { value: v ?? null });
  }
  if (typeof cfg.tiedEmbeddings !== 'boolean') bad('tiedEmbeddings', 'must be a boolean');
  if (cfg.bosTokenId !== undefined && cfg.bosTokenId !== null && !isTokenId(cfg.bosTokenId)) bad('bosTokenId', 'must be a non-negative integer or null');
  const eos = cfg.eosTokenId;
  if (eos !== undefined && eos !== null && !isTokenId(eos) && !(Array.isArray(eos) && eos.every(isTokenId))) {
    bad('eosTokenId', 'must be a non-negative integer, a list of them, or null');
  }
  // The largest weight matrices must have a safe element count.
  const big = Math.max(cfg.vocabSize * cfg.dim, cfg.hiddenDim * cfg.dim, cfg.nHeads * headDimOf(cfg) * cfg.dim);
  if (!Number.isSafeInteger(big)) bad('config', 'describes weight matrices too large to address');
  return cfg;
}

/**
 * The Hugging Face config.json object for `cfg` (validated first). Fields
 * in the fixed order of HfLlamaConfig; torch_dtype "float32" because our
 * checkpoints store F32.
 */
export function toHfLlamaConfig(cfg: ModelConfigFields): HfLlamaConfig {
  validateModelConfig(cfg);
  const eos = cfg.eosTokenId;
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: cfg.vocabSize,
    hidden_size: cfg.dim,
    intermediate_size: cfg.hiddenDim,
    num_hidden_layers: cfg.nLayers,
    num_attention_heads: cfg.nHeads,
    num_key_value_heads: cfg.nKvHeads,
    head_dim: headDimOf(cfg),
    max_position_embeddings: cfg.maxSeqLen,
    rms_norm_eps: cfg.normEps,
    rope_theta: cfg.ropeTheta,
    tie_word_embeddings: cfg.tiedEmbeddings,
    hidden_act: 'silu',
    bos_token_id: cfg.bosTokenId ?? null,
    eos_token_id: eos === undefined || eos === null ? null : typeof eos === 'number' ? eos : [...eos],
    torch_dtype: 'float32',
    attention_bias: false,
    mlp_bias: false,
    initializer_range: cfg.initStd,
  };
}

// ---------------------------------------------------------------------------
// reading config.json

type Obj = Record<string, unknown>;

function has(o: Obj, k: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, k) && o[k] !== undefined;
}

function requiredInt(o: Obj, k: string): number {
  if (!has(o, k)) bad(k, 'is missing');
  const v = o[k];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) bad(k, 'must be a positive integer', { value: v });
  return v;
}

function optionalInt(o: Obj, k: string, dflt: number): number {
  return has(o, k) && o[k] !== null ? requiredInt(o, k) : dflt;
}

function optionalNumber(o: Obj, k: string, dflt: number): number {
  if (!has(o, k)) return dflt;
  const v = o[k];
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) bad(k, 'must be a finite positive number', { value: v });
  return v;
}

function optionalBool(o: Obj, k: string, dflt: boolean): boolean {
  if (!has(o, k)) return dflt;
  const v = o[k];
  if (typeof v !== 'boolean') bad(k, 'must be a boolean', { value: v });
  return v;
}

/** rope_theta (v4) or rope_parameters.rope_theta (v5); any scaling is refused. */
function readRope(o: Obj): number {
  if (has(o, 'rope_scaling') && o.rope_scaling !== null) {
    bad('rope_scaling', 'is not supported (only plain RoPE is implemented)', { value: o.rope_scaling });
  }
  let theta = optionalNumber(o, 'rope_theta', HF_DEFAULTS.rope_theta);
  if (has(o, 'rope_parameters') && o.rope_parameters !== null) {
    const p = o.rope_parameters;
    if (typeof p !== 'object' || Array.isArray(p)) bad('rope_parameters', 'must be an object');
    const params = p as Obj;
    if (has(params, 'rope_type') && params.rope_type !== 'default') {
      bad('rope_parameters', `rope_type ${JSON.stringify(params.rope_type)} is not supported (only "default")`);
    }
    if (has(params, 'rope_theta')) {
      const t = optionalNumber(params, 'rope_theta', theta);
      if (has(o, 'rope_theta') && t !== theta) bad('rope_parameters', 'rope_theta disagrees with the top-level rope_theta');
      theta = t;
    }
  }
  return theta;
}

function readTokenId(o: Obj, k: string, dflt: number): number | null {
  if (!has(o, k)) return dflt;
  const v = o[k];
  if (v === null) return null;
  if (!isTokenId(v)) bad(k, 'must be a non-negative integer or null', { value: v });
  return v;
}

function readEos(o: Obj): number | number[] | null {
  const k = 'eos_token_id';
  if (has(o, k) && Array.isArray(o[k])) {
    const list = o[k] as unknown[];
    if (!list.every(isTokenId)) bad(k, 'must hold non-negative integers');
    return [...list] as number[];
  }
  return readTokenId(o, k, HF_DEFAULTS.eos_token_id);
}

/**
 * Reads a parsed config.json into project fields, applying LlamaConfig's
 * defaults to absent optional fields and refusing what this engine cannot
 * compute (module comment). MODEL_BAD_CONFIG on any problem.
 */
export function fromHfLlamaConfig(json: unknown): ModelConfigFields {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) bad('config', 'must be a JSON object');
  const o = json as Obj;

  if (has(o, 'model_type') && o.model_type !== 'llama') bad('model_type', `is ${JSON.stringify(o.model_type)}, expected "llama"`);
  if (has(o, 'architectures')) {
    const a = o.architectures;
    if (!Array.isArray(a) || !a.includes('LlamaForCausalLM')) bad('architectures', 'must include "LlamaForCausalLM"', { value: a });
  }
  if (has(o, 'hidden_act') && o.hidden_act !== 'silu') bad('hidden_act', `${JSON.stringify(o.hidden_act)} is not supported (only "silu")`);
  if (optionalBool(o, 'attention_bias', false)) bad('attention_bias', 'true is not supported');
  if (optionalBool(o, 'mlp_bias', false)) bad('mlp_bias', 'true is not supported');

  const dim = requiredInt(o, 'hidden_size');
  const nHeads = requiredInt(o, 'num_attention_heads');
  if (dim % nHeads !== 0) bad('hidden_size', `${dim} is not divisible by num_attention_heads ${nHeads}`);
  if (has(o, 'head_dim') && o.head_dim !== null) {
    const hd = requiredInt(o, 'head_dim');
    if (hd !== dim / nHeads) bad('head_dim', `${hd} differs from hidden_size / num_attention_heads = ${dim / nHeads} (not supported)`);
  }

  const nKvHeads = optionalInt(o, 'num_key_value_heads', nHeads);
  if (nHeads % nKvHeads !== 0) bad('num_key_value_heads', `${nKvHeads} does not divide num_attention_heads ${nHeads}`);
  if ((dim / nHeads) % 2 !== 0) bad('hidden_size', `gives an odd head dimension ${dim / nHeads}; rotary embeddings need pairs`);

  const cfg: ModelConfigFields = {
    vocabSize: requiredInt(o, 'vocab_size'),
    dim,
    hiddenDim: requiredInt(o, 'intermediate_size'),
    nLayers: requiredInt(o, 'num_hidden_layers'),
    nHeads,
    nKvHeads,
    maxSeqLen: optionalInt(o, 'max_position_embeddings', HF_DEFAULTS.max_position_embeddings),
    normEps: optionalNumber(o, 'rms_norm_eps', HF_DEFAULTS.rms_norm_eps),
    ropeTheta: readRope(o),
    tiedEmbeddings: optionalBool(o, 'tie_word_embeddings', HF_DEFAULTS.tie_word_embeddings),
    initStd: optionalNumber(o, 'initializer_range', HF_DEFAULTS.initializer_range),
    bosTokenId: readTokenId(o, 'bos_token_id', HF_DEFAULTS.bos_token_id),
    eosTokenId: readEos(o),
  };
  return validateModelConfig(cfg);
}
