/**
 * A tiny served model for gateway tests: the nano preset with the byte
 * tokenizer and a seeded random initialisation (no training: API tests need
 * a model that answers, not one that answers well). initStd is raised so the
 * logits are peaked and greedy output is varied text rather than one token.
 */
import { Prng } from '../../src/core/prng.ts';
import { preset } from '../../src/model/config.ts';
import type { ModelConfig } from '../../src/model/config.ts';
import { initParams, modelConstants } from '../../src/model/llama.ts';
import { createByteTokenizer } from '../../src/model/tokenizer/index.ts';
import { createRefBackend } from '../../src/tensor/backend/ref.ts';
import { Engine } from '../../src/tensor/tensor.ts';
import type { ServedModel } from '../../src/gateway/model.ts';

export function tinyModel(id = 'swarm-nano', overrides: Partial<ModelConfig> = {}, seed = 7): ServedModel {
  const engine = new Engine(createRefBackend());
  const tokenizer = createByteTokenizer();
  const config = preset('nano', { vocabSize: tokenizer.vocabSize, initStd: 0.5, ...overrides });
  const params = initParams(engine, config, Prng.fromSeed(seed).fork('init'));
  return { id, config, params, constants: modelConstants(engine, config), tokenizer, created: 1_700_000_000 };
}
