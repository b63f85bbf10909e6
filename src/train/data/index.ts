/**
 * Training data: the synthetic default corpus (a seeded English-like grammar
 * with an exact entropy floor), real text loaded from disk, and deterministic
 * batches for work units. See each file's header for the why.
 *
 * The disk loader (load-text-corpus.ts, node:fs) is deliberately not
 * re-exported: providers, which may run in a browser, import this barrel and
 * must not pull in the file system. Import it from its own file.
 */
export { makeBatchSource } from './batch-source.ts';
export type { BatchSource, BatchSourceOptions, Corpus } from './batch-source.ts';
export { contextLimitedLoss, stationaryDistribution } from './context-bound.ts';
export type { ContextLossOptions } from './context-bound.ts';
export { entropyFloor } from './entropy-floor.ts';
export type { EntropyFloor } from './entropy-floor.ts';
export { DEFAULT_ENGLISH_GRAMMAR, DEFAULT_LEXICON, DEFAULT_WEIGHTS, compileEnglishSource, englishGrammarSpec } from './english-grammar.ts';
export type {
  DeterminerEntry,
  EnglishGrammarConfig,
  EnglishGrammarWeights,
  EnglishLexicon,
  InflectedEntry,
  TopicLexicon,
  WordEntry,
} from './english-grammar.ts';
export { isSurfaceSymbol, isWordSymbol, parseSurface, renderSurface, surfaceByteLength } from './english-surface.ts';
export { buildUnifilarSource } from './source-builder.ts';
export type { Choice, GrammarSpec } from './source-builder.ts';
export { expectedPerDocument, sourceEntropy } from './source-entropy.ts';
export type { EmissionCost, SourceEntropy } from './source-entropy.ts';
export {
  DEFAULT_SYNTHETIC_SEED,
  DEFAULT_VALIDATION_DOCUMENTS,
  SYNTHETIC_ENGLISH_NAME,
  createSyntheticCorpus,
} from './synthetic-corpus.ts';
export type { SyntheticCorpus, SyntheticCorpusOptions } from './synthetic-corpus.ts';
export { DEFAULT_VAL_PERCENT, TEXT_SEPARATOR, makeTextCorpus, splitParagraphs } from './text-corpus.ts';
export type { TextCorpus, TextCorpusOptions } from './text-corpus.ts';
export { tokenizeDocument, tokenizeStream } from './tokenizer-like.ts';
export type { DocumentTokenization, TokenizerLike } from './tokenizer-like.ts';
export { MAX_DOCUMENT_SYMBOLS, emissionIndex, hashSource, sampleSymbols, symbolsLogProb, validateSource } from './unifilar-source.ts';
export type { SourceState, UnifilarSource } from './unifilar-source.ts';
export { firstInvalidUtf8 } from './utf8-check.ts';
export { isValidationDocument, splitBucket } from './validation-split.ts';
