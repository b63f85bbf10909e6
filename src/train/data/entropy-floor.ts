/**
 * The entropy floor of an evaluation set under a known source: the loss, in
 * nats per token, that no model of the tokens can beat in expectation (see
 * synthetic-corpus.ts for why, and for the finite-context caveat):
 *     floor = −Σ_docs ln p(doc) / Σ_docs tokens(doc)
 * where tokens(doc) are counted exactly as the batch source counts them
 * (tokenizer-like.ts), so the floor and the evaluation loss share a
 * denominator. The same total nats divided by bytes or words gives the floor
 * per byte / per word. (An appended end-of-text id is a token whose true
 * probability is 1 after the document's final newline: it adds a token and no
 * nats.)
 */
import { SwarmError } from '../../core/errors.ts';
import { tokenizeDocument } from './tokenizer-like.ts';
import type { DocumentTokenization, TokenizerLike } from './tokenizer-like.ts';

export interface EntropyFloor {
  documents: number;
  /** −Σ ln p(doc), nats */
  nats: number;
  tokens: number;
  /** UTF-8 bytes of the documents (without separators) */
  bytes: number;
  natsPerToken: number;
  natsPerByte: number;
}

export function entropyFloor(
  docs: readonly string[],
  logProb: (doc: string) => number,
  tokenizer: TokenizerLike,
  how: DocumentTokenization = {},
): EntropyFloor {
  let nats = 0;
  let tokens = 0;
  let bytes = 0;
  const enc = new TextEncoder();
  docs.forEach((doc, index) => {
    const lp = logProb(doc);
    if (!(lp > -Infinity)) throw new SwarmError('DATA_NOT_IN_SOURCE', 'a document has probability zero under the source', { index });
    nats -= lp;
    tokens += tokenizeDocument(tokenizer, doc, how).length;
    bytes += enc.encode(doc).length;
  });
  return { documents: docs.length, nats, tokens, bytes, natsPerToken: nats / tokens, natsPerByte: nats / bytes };
}
