/**
 * The little the data layer needs from a tokenizer: text in, token ids out.
 * Kept minimal on purpose so any tokenizer (the project's byte-level BPE, a
 * plain byte tokenizer in tests) fits without an adapter.
 *
 * How a document becomes tokens is fixed here, once, because the batches of
 * training, the evaluation windows and the entropy floor must all count the
 * same tokens: ids = encode(document text + separator), then `eosId` if set.
 */
import { concatArrays } from '../../core/concat.ts';
import { SwarmError } from '../../core/errors.ts';

export interface TokenizerLike {
  encode(text: string): ArrayLike<number>;
}

export interface DocumentTokenization {
  /** text appended to each document before encoding (e.g. "\n\n" between paragraphs); default "" */
  separator?: string;
  /** id appended after each document's tokens (an end-of-text token), if any */
  eosId?: number;
}

const MAX_ID = 0x7fffffff;

function checkId(id: number): void {
  if (!Number.isInteger(id) || id < 0 || id > MAX_ID) {
    throw new SwarmError('DATA_BAD_TOKEN', 'token ids must be integers in [0, 2^31)', { id: String(id) });
  }
}

/** Token ids of one document, checked to fit an Int32Array. */
export function tokenizeDocument(tokenizer: TokenizerLike, text: string, how: DocumentTokenization = {}): Int32Array {
  const ids = tokenizer.encode(how.separator ? text + how.separator : text);
  const extra = how.eosId === undefined ? 0 : 1;
  const out = new Int32Array(ids.length + extra);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    checkId(id);
    out[i] = id;
  }
  if (how.eosId !== undefined) {
    checkId(how.eosId);
    out[ids.length] = how.eosId;
  }
  return out;
}

/** Token ids of documents back to back, in order. */
export function tokenizeStream(tokenizer: TokenizerLike, docs: readonly string[], how: DocumentTokenization = {}): Int32Array {
  return concatArrays(Int32Array, docs.map((d) => tokenizeDocument(tokenizer, d, how)));
}
