/**
 * A tiny, real work-unit setup shared by the work and sandbox tests: the
 * `nano` model over the byte tokenizer, the synthetic corpus, batch 2 of 16
 * tokens, and a blob store keyed by SHA-256.
 */
import { Prng } from '../../../src/core/prng.ts';
import { sha256Hex } from '../../../src/core/sha256.ts';
import { preset } from '../../../src/model/config.ts';
import type { ModelConfig } from '../../../src/model/config.ts';
import { initParams, paramList } from '../../../src/model/llama.ts';
import { createByteTokenizer } from '../../../src/model/tokenizer/index.ts';
import { createRefBackend } from '../../../src/tensor/backend/ref.ts';
import { Engine } from '../../../src/tensor/tensor.ts';
import { DILOCO_INNER } from '../../../src/train/adamw.ts';
import type { AdamWHyper } from '../../../src/train/adamw.ts';
import { makeBatchSource } from '../../../src/train/data/batch-source.ts';
import type { BatchSource } from '../../../src/train/data/batch-source.ts';
import { createSyntheticCorpus } from '../../../src/train/data/synthetic-corpus.ts';
import { concatFlat } from '../../../src/train/unit.ts';
import type { EvalSpec } from '../../../src/train/work/eval-kind.ts';
import { encodeParamsBlob } from '../../../src/train/work/params-blob.ts';
import { evalShardBlob, trainShardBlob } from '../../../src/train/work/shard-blob.ts';
import type { TrainSpec } from '../../../src/train/work/train-kind.ts';

export const SEQ = 16;
export const BATCH = 2;
export const EVAL_BATCH = 4;
export const ADAMW: AdamWHyper = { ...DILOCO_INNER, lr: 1e-3 };

export interface Fixture {
  config: ModelConfig;
  source: BatchSource;
  theta: Float32Array;
  blobs: Map<string, Uint8Array>;
  put(bytes: Uint8Array): string;
  trainSpec(over?: Partial<TrainSpec>): TrainSpec;
  evalSpec(over?: Partial<EvalSpec>): EvalSpec;
  /** a fresh copy of every blob (the worker sandbox moves the buffers it is given) */
  copyBlobs(): Map<string, Uint8Array>;
}

export function makeFixture(steps = 2): Fixture {
  const tok = createByteTokenizer();
  const config = preset('nano', { vocabSize: tok.vocabSize, maxSeqLen: SEQ });
  const source = makeBatchSource(createSyntheticCorpus({ validationDocuments: 4 }), tok, {
    seqLen: SEQ, batchSize: BATCH, seed: 7, evalBatchSize: EVAL_BATCH, maxEvalWindows: 10,
  });
  const theta = concatFlat(paramList(initParams(new Engine(createRefBackend()), config, Prng.fromSeed(1))));
  const blobs = new Map<string, Uint8Array>();
  const put = (b: Uint8Array): string => {
    const h = sha256Hex(b);
    blobs.set(h, b);
    return h;
  };
  const params = put(encodeParamsBlob(config, theta));
  const data = put(trainShardBlob(source, 0, steps));
  const evalData = put(evalShardBlob(source));
  return {
    config, source, theta, blobs, put,
    trainSpec: (over = {}) => ({ kind: 'train', v: 1, config, params, opt: null, data, steps, batch: BATCH, seqLen: SEQ, adamw: ADAMW, ...over }),
    evalSpec: (over = {}) => ({ kind: 'eval', v: 1, config, params, data: evalData, seqLen: SEQ, windows: source.evalWindows(), batch: EVAL_BATCH, ...over }),
    copyBlobs: () => new Map([...blobs].map(([h, b]) => [h, b.slice()])),
  };
}
