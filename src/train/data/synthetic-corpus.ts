/**
 * The default corpus: synthetic English from a seeded stochastic grammar
 * (english-grammar.ts), needing no download, with an exactly computable
 * entropy floor.
 *
 * Determinism: a document is a pure function of (grammar, seed, index): the
 * grammar compiles to integer weights and sampling uses only Prng.nextInt
 * (unifilar-source.ts), so every machine produces the same bytes.
 *
 * Why the floor is a floor: a model q predicting the tokens of text drawn
 * from the true process p pays the cross-entropy
 *     E_p[−ln q(x)] = H(p) + D(p‖q) ≥ H(p)
 * (Gibbs' inequality, Cover & Thomas, Elements of Information Theory, 2nd
 * ed., Thm 2.6.3), and per symbol the same holds for the entropy rate of the
 * process (ibid., ch. 4). Because the source is unifilar and its surface form
 * injective, logProb(text) is the exact −ln p of the text, so on a held-out
 * set the floor is −Σ logProb(doc) / (tokens in those docs) for any
 * tokenizer: tokenization is a deterministic invertible re-writing of the
 * same text, so it changes the per-token normalisation, not the total nats.
 * Caveats: (1) the bound is in expectation; a finite validation set can sit
 * slightly on either side of the analytic rate; (2) the floor conditions on
 * the entire document history, while a model with a context window of T
 * tokens conditions on less, so its achievable loss is
 * H(X_t | last T tokens) ≥ floor (context-bound.ts quantifies this for k
 * symbols of context; for the default grammar 8 words-or-punctuation marks
 * come within 0.01 nats/symbol of the floor, 1 stays 0.68 above); windows
 * that start mid-document also lose the history before the window.
 */
import { Prng } from '../../core/prng.ts';
import type { Seed } from '../../core/prng.ts';
import { SwarmError } from '../../core/errors.ts';
import { DEFAULT_ENGLISH_GRAMMAR, compileEnglishSource } from './english-grammar.ts';
import type { EnglishGrammarConfig } from './english-grammar.ts';
import { isWordSymbol, parseSurface, renderSurface, surfaceByteLength } from './english-surface.ts';
import { sourceEntropy } from './source-entropy.ts';
import type { SourceEntropy } from './source-entropy.ts';
import { hashSource, sampleSymbols, symbolsLogProb } from './unifilar-source.ts';
import type { UnifilarSource } from './unifilar-source.ts';

export const SYNTHETIC_ENGLISH_NAME = 'synthetic-english-v1';
export const DEFAULT_SYNTHETIC_SEED = 'sovereign-swarm/synthetic-english/v1';
export const DEFAULT_VALIDATION_DOCUMENTS = 128;

/** Fork label of the corpus's own streams (documents by index, validation set). */
const DOMAIN = 'sovereign-swarm/data/synthetic/v1';

export interface SyntheticCorpusOptions {
  /** seed of the corpus's documents and validation set (default DEFAULT_SYNTHETIC_SEED) */
  seed?: Seed;
  grammar?: EnglishGrammarConfig;
  /** number of fixed validation documents (default 128, ~44 KB of text) */
  validationDocuments?: number;
}

export interface SyntheticCorpus {
  readonly kind: 'synthetic';
  readonly name: string;
  readonly seed: Seed;
  readonly source: UnifilarSource;
  /** hashSource(source): names the grammar exactly (record it with the seed) */
  readonly sourceHash: string;
  /** fixed held-out documents, a pure function of (grammar, seed) */
  readonly validation: readonly string[];
  /** documents end with "\n" themselves: nothing is appended between them */
  readonly separator: '';
  /** document number `index` of this corpus (fork of the corpus seed by index) */
  document(index: number): string;
  /** a document drawn with `prng` (advancing it); how batch sources generate training data */
  sample(prng: Prng): string;
  /** exact natural-log probability of `text` as one whole document; -Infinity outside the support */
  logProb(text: string): number;
  /** analytic entropy rates (computed once, on first call) */
  entropy(): SourceEntropy;
}

/** Compiled sources by grammar config: compiling the default takes ~0.1 s, so do it once. */
const compiled = new WeakMap<EnglishGrammarConfig, { source: UnifilarSource; hash: string }>();

function sourceFor(grammar: EnglishGrammarConfig): { source: UnifilarSource; hash: string } {
  let c = compiled.get(grammar);
  if (c === undefined) {
    const s = compileEnglishSource(grammar);
    // The byte count of entropy() treats the start state as "nothing written
    // yet"; that holds only if no transition re-enters it.
    for (const st of s.states) {
      if (st.next.includes(s.start)) throw new SwarmError('DATA_SOURCE_INVALID', 'the start state must not be re-entered');
    }
    c = { source: s, hash: hashSource(s) };
    compiled.set(grammar, c);
  }
  return c;
}

export function createSyntheticCorpus(options: SyntheticCorpusOptions = {}): SyntheticCorpus {
  const seed = options.seed ?? DEFAULT_SYNTHETIC_SEED;
  const grammar = options.grammar ?? DEFAULT_ENGLISH_GRAMMAR;
  const nVal = options.validationDocuments ?? DEFAULT_VALIDATION_DOCUMENTS;
  if (!Number.isSafeInteger(nVal) || nVal < 0) {
    throw new SwarmError('DATA_INVALID_OPTION', 'validationDocuments must be a non-negative integer', { validationDocuments: nVal });
  }
  const { source, hash: sourceHash } = sourceFor(grammar);
  const symbolId = new Map(source.symbols.map((s, i) => [s, i]));
  const root = Prng.fromSeed(seed).fork(DOMAIN);

  const sample = (prng: Prng): string => renderSurface(sampleSymbols(source, prng).map((i) => source.symbols[i]!));
  const document = (index: number): string => {
    if (!Number.isSafeInteger(index) || index < 0) throw new SwarmError('DATA_INVALID_OPTION', 'document index must be a non-negative integer');
    return sample(root.fork('document').fork(index));
  };
  const valRoot = root.fork('validation');
  const validation = Array.from({ length: nVal }, (_, i) => sample(valRoot.fork(i)));

  const logProb = (text: string): number => {
    const symbols = parseSurface(text);
    if (symbols === null) return -Infinity;
    const ids: number[] = [];
    for (const s of symbols) {
      const id = symbolId.get(s);
      if (id === undefined) return -Infinity;
      ids.push(id);
    }
    return symbolsLogProb(source, ids);
  };

  let entropyMemo: SourceEntropy | undefined;
  const entropy = (): SourceEntropy =>
    (entropyMemo ??= sourceEntropy(
      source,
      (sym) => isWordSymbol(source.symbols[sym]!),
      // Only the first symbol of a document has no predecessor; a word elsewhere gets its space.
      (state, sym) => surfaceByteLength(source.symbols[sym]!, state === source.start ? undefined : ' '),
    ));

  return { kind: 'synthetic', name: SYNTHETIC_ENGLISH_NAME, seed, source, sourceHash, validation, separator: '', document, sample, logProb, entropy };
}
