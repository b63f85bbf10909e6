/**
 * The data-shard blob: token windows as one I32 tensor "tokens" of shape
 * [rows, seqLen + 1] (row-major; inputs are row[0 .. seqLen-1], targets
 * row[1 .. seqLen], the BatchSource convention). A train unit of H steps with
 * batch B holds H·B rows and step s reads rows [s·B, (s+1)·B); an eval unit
 * holds its windows in order and scores them in batches.
 *
 * Shipping the tokens (not a corpus name and a seed) makes a unit a function
 * of content-addressed bytes only: a provider needs no corpus, tokenizer or
 * data code of the right version to reproduce the batch, and the tracker can
 * build shards with any data pipeline.
 */
import { SwarmError } from '../../core/errors.ts';
import type { BatchSource } from '../data/batch-source.ts';
import { MAX_BLOB_HEADER_BYTES, blobError, checkTensorNames, decodeContainer, encodeContainer, tensorOf } from './container.ts';
import { MAX_SEQ_LEN, MAX_SHARD_TOKENS } from './limits.ts';

export const SHARD_FORMAT = 'tokens/v1';
const WHAT = 'data shard';

function badArgument(message: string): never {
  throw new SwarmError('WORK_BAD_ARGUMENT', message);
}

function checkShape(rows: number, seqLen: number): void {
  if (!Number.isSafeInteger(seqLen) || seqLen < 1 || seqLen > MAX_SEQ_LEN) badArgument(`seqLen must be an integer in [1, ${MAX_SEQ_LEN}], got ${seqLen}`);
  if (!Number.isSafeInteger(rows) || rows < 1 || rows * (seqLen + 1) > MAX_SHARD_TOKENS) {
    badArgument(`a shard holds 1 to ${MAX_SHARD_TOKENS} tokens; ${rows} rows of ${seqLen + 1} do not fit`);
  }
}

/** Canonical bytes of `tokens`, rows of seqLen + 1. */
export function encodeShardBlob(tokens: Int32Array, seqLen: number): Uint8Array {
  const rowLength = seqLen + 1;
  if (!(tokens instanceof Int32Array) || tokens.length % rowLength !== 0) badArgument(`a shard of ${tokens?.length} tokens is not made of rows of ${rowLength}`);
  const rows = tokens.length / rowLength;
  checkShape(rows, seqLen);
  for (let i = 0; i < tokens.length; i++) if (tokens[i]! < 0) badArgument(`token ${tokens[i]} at ${i} is negative`);
  return encodeContainer(SHARD_FORMAT, [{ name: 'tokens', dtype: 'I32', shape: [rows, rowLength], data: tokens }]);
}

export interface ShardExpectation {
  seqLen: number;
  rows: number;
  /** every token must be < vocabSize (an out-of-range id would index past the embedding) */
  vocabSize: number;
}

/** The tokens of a shard blob: exactly rows × (seqLen + 1) ids in [0, vocabSize). */
export function decodeShardBlob(bytes: Uint8Array, e: ShardExpectation): Int32Array {
  checkShape(e.rows, e.seqLen);
  const n = e.rows * (e.seqLen + 1);
  const d = decodeContainer(bytes, WHAT, { format: SHARD_FORMAT, maxBytes: 8 + MAX_BLOB_HEADER_BYTES + 4 * n });
  checkTensorNames(d, WHAT, ['tokens']);
  const t = tensorOf<Int32Array>(d, WHAT, 'tokens', 'I32', [e.rows, e.seqLen + 1]);
  for (let i = 0; i < t.length; i++) {
    const id = t[i]!;
    if (id < 0 || id >= e.vocabSize) blobError('WORK_BLOB_CORRUPT', WHAT, `token ${id} at ${i} is outside the vocabulary [0, ${e.vocabSize})`, { index: i });
  }
  return t;
}

/**
 * The shard of a train unit: batches (shard, firstStep + s) of `source` for
 * s = 0 .. steps-1, concatenated, so step s of the unit reads rows
 * [s·B, (s+1)·B) with B = source.batchSize.
 */
export function trainShardBlob(source: BatchSource, shard: number, steps: number, firstStep = 0): Uint8Array {
  if (!Number.isSafeInteger(steps) || steps < 1) badArgument(`steps must be a positive integer, got ${steps}`);
  checkShape(steps * source.batchSize, source.seqLen);
  const rowTokens = source.batchSize * source.rowLength;
  const out = new Int32Array(steps * rowTokens);
  for (let s = 0; s < steps; s++) out.set(source.batch(shard, firstStep + s), s * rowTokens);
  return encodeShardBlob(out, source.seqLen);
}

/**
 * The shard of an eval unit: the first `windows` evaluation windows of
 * `source` (default all), in order: the windows `evaluate` scores.
 */
export function evalShardBlob(source: BatchSource, windows?: number): Uint8Array {
  const all = source.evalWindows();
  const want = windows ?? all;
  if (!Number.isSafeInteger(want) || want < 1 || want > all) badArgument(`windows must be an integer in [1, ${all}], got ${want}`);
  checkShape(want, source.seqLen);
  const out = new Int32Array(want * source.rowLength);
  let rows = 0;
  for (let i = 0; rows < want; i++) {
    const b = source.evalBatch(i);
    const take = Math.min(b.length / source.rowLength, want - rows);
    out.set(b.subarray(0, take * source.rowLength), rows * source.rowLength);
    rows += take;
  }
  return encodeShardBlob(out, source.seqLen);
}
