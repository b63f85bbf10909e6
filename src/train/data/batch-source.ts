/**
 * Deterministic training batches and a fixed evaluation set.
 *
 * batch(shard, step) is a pure function of (corpus content, tokenizer, seed,
 * seqLen, batchSize, shard, step): any provider holding the same inputs
 * rebuilds exactly the batch of any work unit (DESIGN.md: unit (r, k) reads
 * "the seeded data shard (r, k)"), and a replica's result hash can only match
 * if its data matched. All randomness comes from one Prng forked by
 * (domain, shard, step), so batches of different units are independent
 * streams and no state is carried between calls.
 *
 * A batch is an Int32Array holding batchSize rows of seqLen + 1 consecutive
 * tokens, row-major ([batchSize, seqLen + 1]): inputs are row[0 .. seqLen-1],
 * next-token targets row[1 .. seqLen] (the nanoGPT / llm.c convention of
 * sampling one extra token per window).
 *
 *  - Real text: the train split is tokenized once (documents in load order,
 *    each followed by the corpus separator, and eosId if given) and each row
 *    starts at a uniformly random offset into that stream.
 *  - Synthetic text: there is no finite stream. Row r of (shard, step) draws
 *    its own documents with the fork (shard, step, r) and starts at a uniform
 *    offset inside the first document, so rows also cover document middles
 *    and ends. Data is unlimited and never repeats across units.
 *
 * Evaluation reads the validation split as one stream cut into consecutive
 * windows of seqLen + 1 tokens with stride seqLen: every token after the
 * first is a target exactly once, except a final partial window, which is
 * dropped so every batch has the same row length.
 */
import { SwarmError } from '../../core/errors.ts';
import { Prng } from '../../core/prng.ts';
import type { Seed } from '../../core/prng.ts';
import type { SyntheticCorpus } from './synthetic-corpus.ts';
import type { TextCorpus } from './text-corpus.ts';
import { tokenizeDocument, tokenizeStream } from './tokenizer-like.ts';
import type { DocumentTokenization, TokenizerLike } from './tokenizer-like.ts';

export type Corpus = TextCorpus | SyntheticCorpus;

export interface BatchSourceOptions {
  /** tokens of input per row; each row holds seqLen + 1 tokens */
  seqLen: number;
  /** rows per training batch */
  batchSize: number;
  seed: Seed;
  /** end-of-text id appended after every document, if any */
  eosId?: number;
  /** rows per evaluation batch (default batchSize) */
  evalBatchSize?: number;
  /** use at most this many evaluation windows (default: all) */
  maxEvalWindows?: number;
}

export interface BatchSource {
  readonly seqLen: number;
  readonly batchSize: number;
  /** seqLen + 1 */
  readonly rowLength: number;
  /** training batch of work unit (shard, step): [batchSize, seqLen + 1] row-major */
  batch(shardIndex: number, step: number): Int32Array;
  /** tokens in the train stream; null for an unlimited (synthetic) source */
  trainTokens(): number | null;
  /** number of evaluation windows (rows) over the validation split */
  evalWindows(): number;
  evalBatchCount(): number;
  /** evaluation batch `index`: [rows, seqLen + 1], rows = evalBatchSize except possibly in the last batch */
  evalBatch(index: number): Int32Array;
  evalBatches(): Generator<Int32Array, void, undefined>;
  /** tokens scored by one full evaluation pass (evalWindows · seqLen) */
  evalTargets(): number;
}

const DOMAIN = 'sovereign-swarm/data/batch/v1';
const MAX_SEQ_LEN = 1 << 20;
const MAX_BATCH = 1 << 16;
const MAX_BATCH_TOKENS = 1 << 28;

function intIn(x: number, lo: number, hi: number, name: string): number {
  if (!Number.isSafeInteger(x) || x < lo || x > hi) {
    throw new SwarmError('DATA_INVALID_OPTION', `${name} must be an integer in [${lo}, ${hi}]`, { [name]: String(x) });
  }
  return x;
}

function memo<T>(f: () => T): () => T {
  let done = false;
  let v: T;
  return () => {
    if (!done) {
      v = f();
      done = true;
    }
    return v;
  };
}

export function makeBatchSource(corpus: Corpus, tokenizer: TokenizerLike, options: BatchSourceOptions): BatchSource {
  const seqLen = intIn(options.seqLen, 1, MAX_SEQ_LEN, 'seqLen');
  const batchSize = intIn(options.batchSize, 1, MAX_BATCH, 'batchSize');
  const evalBatchSize = intIn(options.evalBatchSize ?? batchSize, 1, MAX_BATCH, 'evalBatchSize');
  const maxEvalWindows = options.maxEvalWindows === undefined ? Infinity : intIn(options.maxEvalWindows, 0, Number.MAX_SAFE_INTEGER, 'maxEvalWindows');
  const rowLength = seqLen + 1;
  if (batchSize * rowLength > MAX_BATCH_TOKENS) throw new SwarmError('DATA_INVALID_OPTION', 'batchSize × (seqLen + 1) is too large');
  const how: DocumentTokenization = { separator: corpus.separator };
  if (options.eosId !== undefined) how.eosId = options.eosId;
  const root = Prng.fromSeed(options.seed).fork(DOMAIN);

  const unitPrng = (shardIndex: number, step: number): Prng => {
    intIn(shardIndex, 0, Number.MAX_SAFE_INTEGER, 'shardIndex');
    intIn(step, 0, Number.MAX_SAFE_INTEGER, 'step');
    return root.fork(shardIndex).fork(step);
  };

  let batch: (shardIndex: number, step: number) => Int32Array;
  let trainTokens: () => number | null;

  if (corpus.kind === 'synthetic') {
    const docTokens = (prng: Prng): Int32Array => {
      const t = tokenizeDocument(tokenizer, corpus.sample(prng), how);
      if (t.length === 0) throw new SwarmError('DATA_BAD_TOKEN', 'the tokenizer returned no tokens for a non-empty document');
      return t;
    };
    batch = (shardIndex, step) => {
      const unit = unitPrng(shardIndex, step);
      const out = new Int32Array(batchSize * rowLength);
      for (let r = 0; r < batchSize; r++) {
        const row = unit.fork(r);
        const docs = row.fork('documents');
        const first = docTokens(docs);
        const offset = row.fork('offset').nextInt(first.length);
        let filled = 0;
        let piece: Int32Array = first.subarray(offset);
        for (;;) {
          const take = Math.min(piece.length, rowLength - filled);
          out.set(piece.subarray(0, take), r * rowLength + filled);
          filled += take;
          if (filled === rowLength) break;
          piece = docTokens(docs);
        }
      }
      return out;
    };
    trainTokens = () => null;
  } else {
    const stream = memo(() => tokenizeStream(tokenizer, corpus.train, how));
    batch = (shardIndex, step) => {
      const unit = unitPrng(shardIndex, step);
      const s = stream();
      if (s.length < rowLength) {
        throw new SwarmError('DATA_TOO_SMALL', `the train split has ${s.length} tokens; a row needs seqLen + 1 = ${rowLength}`, {
          tokens: s.length,
          rowLength,
        });
      }
      const out = new Int32Array(batchSize * rowLength);
      for (let r = 0; r < batchSize; r++) {
        const start = unit.nextInt(s.length - seqLen); // start in [0, N - rowLength]
        out.set(s.subarray(start, start + rowLength), r * rowLength);
      }
      return out;
    };
    trainTokens = () => stream().length;
  }

  const evalStream = memo(() => tokenizeStream(tokenizer, corpus.validation, how));
  const evalWindows = (): number => {
    const m = evalStream().length;
    return m < rowLength ? 0 : Math.min(Math.floor((m - 1) / seqLen), maxEvalWindows);
  };
  const evalBatchCount = (): number => Math.ceil(evalWindows() / evalBatchSize);
  const evalBatch = (index: number): Int32Array => {
    const count = evalBatchCount();
    intIn(index, 0, Math.max(0, count - 1), 'index');
    if (count === 0) throw new SwarmError('DATA_TOO_SMALL', 'the validation split has no complete window');
    const first = index * evalBatchSize;
    const rows = Math.min(evalBatchSize, evalWindows() - first);
    const s = evalStream();
    const out = new Int32Array(rows * rowLength);
    for (let r = 0; r < rows; r++) {
      const start = (first + r) * seqLen;
      out.set(s.subarray(start, start + rowLength), r * rowLength);
    }
    return out;
  };
  function* evalBatches(): Generator<Int32Array, void, undefined> {
    const count = evalBatchCount();
    for (let i = 0; i < count; i++) yield evalBatch(i);
  }

  return {
    seqLen,
    batchSize,
    rowLength,
    batch,
    trainTokens,
    evalWindows,
    evalBatchCount,
    evalBatch,
    evalBatches,
    evalTargets: () => evalWindows() * seqLen,
  };
}
