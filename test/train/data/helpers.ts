/** Shared helpers for the data tests: a byte tokenizer, a word tokenizer for the synthetic source, an add-k bigram model. */
import type { TokenizerLike } from '../../../src/train/data/tokenizer-like.ts';
import type { EnglishGrammarConfig } from '../../../src/train/data/english-grammar.ts';
import { parseSurface } from '../../../src/train/data/english-surface.ts';
import type { UnifilarSource } from '../../../src/train/data/unifilar-source.ts';

/** ids = UTF-8 bytes, vocabulary 256. */
export const byteTokenizer: TokenizerLike = { encode: (text: string) => new TextEncoder().encode(text) };

/** One token per symbol of the synthetic source (word or punctuation). */
export function symbolTokenizer(source: UnifilarSource): TokenizerLike {
  const id = new Map(source.symbols.map((s, i) => [s, i]));
  return {
    encode(text: string): number[] {
      const syms = parseSurface(text);
      if (syms === null) throw new Error('not a synthetic document');
      return syms.map((s) => id.get(s)!);
    },
  };
}

/** Add-k bigram over a token stream: counts[prev * V + next]. */
export class Bigram {
  readonly counts: Float64Array;
  readonly rowTotals: Float64Array;
  constructor(readonly vocab: number, stream: ArrayLike<number>) {
    this.counts = new Float64Array(vocab * vocab);
    this.rowTotals = new Float64Array(vocab);
    for (let t = 1; t < stream.length; t++) {
      this.counts[stream[t - 1]! * vocab + stream[t]!]!++;
      this.rowTotals[stream[t - 1]!]!++;
    }
  }
  /** mean −ln q(x_t | x_{t-1}) over t = 1 .. n-1, nats per token */
  loss(stream: ArrayLike<number>, k: number): number {
    const V = this.vocab;
    let nll = 0;
    for (let t = 1; t < stream.length; t++) {
      const a = stream[t - 1]!;
      nll -= Math.log((this.counts[a * V + stream[t]!]! + k) / (this.rowTotals[a]! + k * V));
    }
    return nll / (stream.length - 1);
  }
}

const w = (word: string, weight = 1) => ({ word, weight });

/**
 * A grammar small enough to enumerate: two topics with one word per class,
 * but every mechanism of the default grammar kept (topics that switch between
 * sentences, "the" leaving the number open, questions, agreement,
 * prepositional phrases, adverbs, coordination).
 */
export const TINY_GRAMMAR: EnglishGrammarConfig = {
  lexicon: {
    topics: [
      { name: 'farm', nouns: [{ sg: 'dog', pl: 'dogs', weight: 1 }], adjectives: [w('brown')], intransitive: [{ sg: 'sleeps', pl: 'sleep', weight: 1 }], transitive: [{ sg: 'feeds', pl: 'feed', weight: 1 }], places: [w('barn')] },
      { name: 'sea', nouns: [{ sg: 'crab', pl: 'crabs', weight: 2 }, { sg: 'seal', pl: 'seals', weight: 1 }], adjectives: [w('wet')], intransitive: [{ sg: 'swims', pl: 'swim', weight: 1 }], transitive: [{ sg: 'pulls', pl: 'pull', weight: 1 }], places: [w('shore')] },
    ],
    determiners: [
      { word: 'the', number: 'any', weight: 2 },
      { word: 'a', number: 'sg', weight: 1 },
      { word: 'some', number: 'pl', weight: 1 },
    ],
    placeDeterminers: [w('the')],
    prepositions: [w('near')],
    preVerbAdverbs: [w('often')],
    postVerbAdverbs: [w('today')],
  },
  weights: {
    statement: 3,
    question: 1,
    adjectives: [4, 1, 1],
    subjectPP: [4, 1],
    intransitive: 3,
    transitive: 1,
    preVerbAdverb: 1,
    vpEnd: { stop: 6, adverb: 1, pp: 1, and: 1, but: 1 },
    modifierEnd: { stop: 3, and: 1, but: 1 },
    nounNumber: [2, 1],
    topicStay: 3,
    topicSwitch: 1,
    documentContinue: 1,
    documentEnd: 3,
  },
};
