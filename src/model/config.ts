/**
 * The one typed config object of a Llama-architecture decoder (nanoGPT
 * style), and the presets the swarm trains. Field meanings follow Hugging
 * Face's LlamaConfig (see format/hf-config.ts for the mapping).
 */
import { SwarmError } from '../core/errors.ts';

export interface ModelConfig {
  /** tokens in the vocabulary */
  vocabSize: number;
  /** model width d (hidden_size) */
  dim: number;
  /** SwiGLU inner width (intermediate_size) */
  hiddenDim: number;
  nLayers: number;
  nHeads: number;
  /** key/value heads; < nHeads is grouped-query attention (Ainslie et al. 2023) */
  nKvHeads: number;
  /** context length the rotary tables are built for (max_position_embeddings) */
  maxSeqLen: number;
  normEps: number;
  ropeTheta: number;
  /** share the embedding matrix with the LM head (Press & Wolf 2017) */
  tiedEmbeddings: boolean;
  /** std of the normal initialisation (initializer_range) */
  initStd: number;
}

export type PresetName = 'nano' | 'micro' | 'small';

/**
 * Presets: nano ≈ 0.1M parameters (tests), micro ≈ 2M (the default swarm
 * run), small ≈ 20M. vocabSize is the default tokenizer size for each; a run
 * overrides it with its tokenizer's.
 */
export const PRESETS: Record<PresetName, ModelConfig> = {
  nano: {
    vocabSize: 256, dim: 64, hiddenDim: 192, nLayers: 2, nHeads: 4, nKvHeads: 2,
    maxSeqLen: 64, normEps: 1e-5, ropeTheta: 10000, tiedEmbeddings: true, initStd: 0.02,
  },
  micro: {
    vocabSize: 512, dim: 192, hiddenDim: 576, nLayers: 4, nHeads: 6, nKvHeads: 3,
    maxSeqLen: 128, normEps: 1e-5, ropeTheta: 10000, tiedEmbeddings: true, initStd: 0.02,
  },
  small: {
    vocabSize: 4096, dim: 512, hiddenDim: 1408, nLayers: 6, nHeads: 8, nKvHeads: 4,
    maxSeqLen: 256, normEps: 1e-5, ropeTheta: 10000, tiedEmbeddings: false, initStd: 0.02,
  },
};

export function preset(name: string, overrides: Partial<ModelConfig> = {}): ModelConfig {
  if (!(name in PRESETS)) {
    throw new SwarmError('MODEL_UNKNOWN_PRESET', `unknown preset "${name}" (expected one of ${Object.keys(PRESETS).join(', ')})`);
  }
  return validateConfig({ ...PRESETS[name as PresetName], ...overrides });
}

export function headDim(c: ModelConfig): number {
  return c.dim / c.nHeads;
}

export function validateConfig(c: ModelConfig): ModelConfig {
  const bad = (why: string): never => {
    throw new SwarmError('MODEL_BAD_CONFIG', `invalid model config: ${why}`);
  };
  for (const k of ['vocabSize', 'dim', 'hiddenDim', 'nLayers', 'nHeads', 'nKvHeads', 'maxSeqLen'] as const) {
    if (!Number.isSafeInteger(c[k]) || c[k] <= 0) bad(`${k} must be a positive integer`);
  }
  if (c.dim % c.nHeads !== 0) bad(`dim ${c.dim} is not divisible by nHeads ${c.nHeads}`);
  if (c.nHeads % c.nKvHeads !== 0) bad(`nHeads ${c.nHeads} is not divisible by nKvHeads ${c.nKvHeads}`);
  if ((c.dim / c.nHeads) % 2 !== 0) bad('head dimension must be even for rotary embeddings');
  if (!(c.normEps > 0) || !(c.ropeTheta > 1) || !(c.initStd > 0)) bad('normEps, ropeTheta and initStd must be positive');
  return c;
}
