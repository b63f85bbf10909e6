/**
 * Everything a training run fixes before its first step, derived
 * deterministically from its options: the corpus, the tokenizer (trained on
 * the corpus's training text when it is BPE), the model config (vocabulary
 * size from the tokenizer) and the batch source. Shared by `swarm train
 * --local` and, later, by runs the tracker creates.
 */
import type { ModelConfig } from '../model/config.ts';
import { preset } from '../model/config.ts';
import { createByteTokenizer, trainBpe } from '../model/tokenizer/index.ts';
import type { Tokenizer } from '../model/tokenizer/index.ts';
import { makeBatchSource } from './data/batch-source.ts';
import type { BatchSource, Corpus } from './data/batch-source.ts';
import { entropyFloor } from './data/entropy-floor.ts';
import { loadTextCorpus } from './data/load-text-corpus.ts';
import { createSyntheticCorpus } from './data/synthetic-corpus.ts';

export interface RunSetupOptions {
  preset: string;
  /** path of real text; absent = the synthetic default corpus */
  data?: string;
  seed: number;
  batchSize: number;
  seqLen?: number;
  /** use this tokenizer (e.g. from a checkpoint) instead of building one */
  tokenizer?: Tokenizer;
  /** evaluation windows scored at each evaluation (default: the whole validation split, which the floor also covers) */
  evalWindows?: number;
}

export interface RunSetup {
  corpus: Corpus;
  tokenizer: Tokenizer;
  config: ModelConfig;
  data: BatchSource;
  /** nats per token no model can beat (synthetic corpus only) */
  entropyFloor: number | null;
}

/** Synthetic documents used to train the BPE tokenizer of a synthetic run. */
const SYNTHETIC_TOKENIZER_DOCS = 2000;

export function buildTokenizer(corpus: Corpus, vocabSize: number): Tokenizer {
  if (vocabSize <= 259) return createByteTokenizer();
  const texts = corpus.kind === 'synthetic' ? Array.from({ length: SYNTHETIC_TOKENIZER_DOCS }, (_, i) => corpus.document(i)) : corpus.train;
  return trainBpe(texts, { vocabSize });
}

export function setupRun(o: RunSetupOptions): RunSetup {
  const corpus: Corpus = o.data ? loadTextCorpus(o.data) : createSyntheticCorpus();
  const base = preset(o.preset);
  const tokenizer = o.tokenizer ?? buildTokenizer(corpus, base.vocabSize);
  const config = preset(o.preset, { vocabSize: tokenizer.vocabSize, maxSeqLen: Math.max(base.maxSeqLen, o.seqLen ?? 0) });
  const seqLen = o.seqLen ?? config.maxSeqLen;
  const eosId = tokenizer.specialTokens.eos;
  const data = makeBatchSource(corpus, tokenizer, {
    seqLen,
    batchSize: o.batchSize,
    seed: o.seed,
    eosId,
    evalBatchSize: 16,
    ...(o.evalWindows === undefined ? {} : { maxEvalWindows: o.evalWindows }),
  });
  let floor: number | null = null;
  if (corpus.kind === 'synthetic') {
    floor = entropyFloor(corpus.validation, (d) => corpus.logProb(d), tokenizer, { separator: corpus.separator, eosId }).natsPerToken;
  }
  return { corpus, tokenizer, config, data, entropyFloor: floor };
}
