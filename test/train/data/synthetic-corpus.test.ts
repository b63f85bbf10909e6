/**
 * The default synthetic corpus: determinism (golden hashes), exact
 * log-probabilities, the analytic floor, and the "worth learning" property:
 * a bigram model stays well above the floor while a few words of context
 * almost reach it.
 */
import { describe, expect, it } from 'vitest';
import { isSwarmError } from '../../../src/core/errors.ts';
import { Prng } from '../../../src/core/prng.ts';
import { sha256Hex } from '../../../src/core/sha256.ts';
import { contextLimitedLoss, stationaryDistribution } from '../../../src/train/data/context-bound.ts';
import { DEFAULT_ENGLISH_GRAMMAR, DEFAULT_LEXICON, compileEnglishSource } from '../../../src/train/data/english-grammar.ts';
import { parseSurface, renderSurface } from '../../../src/train/data/english-surface.ts';
import { entropyFloor } from '../../../src/train/data/entropy-floor.ts';
import { createSyntheticCorpus } from '../../../src/train/data/synthetic-corpus.ts';
import { tokenizeStream } from '../../../src/train/data/tokenizer-like.ts';
import type { TokenizerLike } from '../../../src/train/data/tokenizer-like.ts';
import { Bigram, TINY_GRAMMAR, byteTokenizer, symbolTokenizer } from './helpers.ts';

const corpus = createSyntheticCorpus();

describe('synthetic corpus: determinism', () => {
  it('documents are a fixed function of (seed, index): golden SHA-256', () => {
    const docs = Array.from({ length: 50 }, (_, i) => corpus.document(i)).join('');
    expect(sha256Hex(docs)).toBe('60194cc1c9b84c343a7943aeb2e056e66a45a5640d2866d6090c2514d6271675');
    expect(sha256Hex(corpus.validation.join(''))).toBe('26904b2bff2a2fecd291e6e6790ef29d84357b3e88e33c9e7872e950313c92f9');
    expect(corpus.document(0)).toBe('Do the busy bakers work? Do some bakers call two young kind neighbors?\n');
    // The compiled grammar itself (every weight of every state) is pinned too.
    expect(corpus.sourceHash).toBe('80445847feda219efb9bbf75ab7afbfbc85b82928871b52a4bae20d831a11748');
    expect(corpus.source.states.length).toBe(645);
    expect(corpus.source.symbols.length).toBe(198);
    expect(Object.isFrozen(DEFAULT_LEXICON.topics[0]!.nouns[0])).toBe(true);
  });

  it('same seed and index give the same document; other seeds or indices differ', () => {
    const again = createSyntheticCorpus();
    expect(again.document(17)).toBe(corpus.document(17));
    expect(corpus.document(17)).not.toBe(corpus.document(18));
    expect(createSyntheticCorpus({ seed: 2, validationDocuments: 0 }).document(17)).not.toBe(corpus.document(17));
    const a = Prng.fromSeed('x');
    const b = Prng.fromSeed('x');
    for (let i = 0; i < 5; i++) expect(corpus.sample(a)).toBe(corpus.sample(b));
  });

  it('the analytic entropy rates are pinned (changing the grammar must update them)', () => {
    const e = corpus.entropy();
    expect(e.natsPerDocument).toBeCloseTo(158.62999227404, 8);
    expect(e.symbolsPerDocument).toBeCloseTo(73.037044807027, 8);
    expect(e.natsPerWord).toBeCloseTo(2.515348268216, 9);
    expect(e.natsPerSymbol).toBeCloseTo(2.171911427867, 9);
    expect(e.natsPerByte).toBeCloseTo(0.461028187344, 9);
  });

  it('rejects bad options and malformed grammars with coded errors', () => {
    const code = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (e) {
        return isSwarmError(e) ? e.code : 'not a SwarmError';
      }
      return undefined;
    };
    expect(code(() => createSyntheticCorpus({ validationDocuments: -1 }))).toBe('DATA_INVALID_OPTION');
    expect(code(() => corpus.document(-1))).toBe('DATA_INVALID_OPTION');
    expect(code(() => corpus.document(1.5))).toBe('DATA_INVALID_OPTION');
    const lx = TINY_GRAMMAR.lexicon;
    const withTopics = (topics: typeof lx.topics) => ({ ...TINY_GRAMMAR, lexicon: { ...lx, topics } });
    // A word shared by two topics would make the parse ambiguous.
    const dup = withTopics([lx.topics[0]!, { ...lx.topics[1]!, adjectives: [{ word: 'brown', weight: 1 }] }]);
    expect(code(() => compileEnglishSource(dup))).toBe('DATA_GRAMMAR_INVALID');
    // "a" before a vowel would need "an".
    const vowel = withTopics([lx.topics[0]!, { ...lx.topics[1]!, nouns: [{ sg: 'eel', pl: 'eels', weight: 1 }] }]);
    expect(code(() => compileEnglishSource(vowel))).toBe('DATA_GRAMMAR_INVALID');
    expect(code(() => compileEnglishSource({ ...TINY_GRAMMAR, weights: { ...TINY_GRAMMAR.weights, documentEnd: 0 } }))).toBe('DATA_GRAMMAR_INVALID');
    expect(code(() => compileEnglishSource(withTopics([]))) ).toBe('DATA_GRAMMAR_INVALID');
  });
});

describe('synthetic corpus: exact probabilities', () => {
  it('every sampled document parses back and has a finite exact log-probability', () => {
    const prng = Prng.fromSeed('roundtrip');
    for (let i = 0; i < 300; i++) {
      const doc = corpus.sample(prng);
      const syms = parseSurface(doc);
      expect(syms).not.toBeNull();
      expect(renderSurface(syms!)).toBe(doc);
      expect(doc.endsWith('\n')).toBe(true);
      expect(doc.indexOf('\n')).toBe(doc.length - 1);
      expect(corpus.logProb(doc)).toBeLessThan(0);
      expect(corpus.logProb(doc)).toBeGreaterThan(-Infinity);
    }
  });

  it('subject and verb agree in number, also across an object or a question', () => {
    const prng = Prng.fromSeed('agreement');
    const sg = new Set<string>();
    const pl = new Set<string>();
    for (const t of DEFAULT_LEXICON.topics) {
      for (const v of [...t.intransitive, ...t.transitive]) {
        sg.add(v.sg);
        pl.add(v.pl);
      }
    }
    // the verb form an opening word calls for: after does/do the bare (plural) form; "the" fixes no number
    const formAfter = new Map<string, Set<string>>([
      ...['does', 'do', 'some', 'these', 'those', 'many', 'two'].map((w) => [w, pl] as const),
      ...['a', 'every', 'this', 'that'].map((w) => [w, sg] as const),
    ]);
    let checked = 0;
    const disagreeing: string[] = [];
    for (let i = 0; i < 200; i++) {
      const syms = parseSurface(corpus.sample(prng))!;
      // Sentences as symbol runs; the first verb of a sentence agrees with how it opened.
      let sentence: string[] = [];
      for (const x of syms) {
        sentence.push(x);
        if (x !== '.' && x !== '?') continue;
        const verb = sentence.find((w) => sg.has(w) || pl.has(w))!;
        const form = formAfter.get(sentence[0]!);
        if (form !== undefined) {
          checked++;
          if (!form.has(verb)) disagreeing.push(sentence.join(' '));
        }
        sentence = [];
      }
    }
    expect(disagreeing).toEqual([]);
    expect(checked).toBeGreaterThan(1000);
    expect(corpus.logProb('The dogs chase the cat and sleep.\n')).toBeGreaterThan(-Infinity);
    expect(corpus.logProb('The dogs chase the cat and sleeps.\n')).toBe(-Infinity);
    expect(corpus.logProb('Does the lazy brown dog chase the cats?\n')).toBeGreaterThan(-Infinity);
    expect(corpus.logProb('Does the lazy brown dogs chase the cats?\n')).toBe(-Infinity);
    // Topic: content words of one sentence come from one topic.
    expect(corpus.logProb('The dog chases the cat.\n')).toBeGreaterThan(-Infinity);
    expect(corpus.logProb('The dog chases the whale.\n')).toBe(-Infinity);
  });
});

/** Mean loss of an add-k bigram: counts from `train`, k picked on a held-out tenth of `train`, scored on `val`. */
function bigramLoss(vocab: number, train: Int32Array, val: Int32Array): number {
  const cut = Math.floor(train.length * 0.9);
  const fit = new Bigram(vocab, train.subarray(0, cut));
  let bestK = 1;
  let best = Infinity;
  for (const k of [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1]) {
    const l = fit.loss(train.subarray(cut), k);
    if (l < best) [best, bestK] = [l, k];
  }
  return new Bigram(vocab, train).loss(val, bestK);
}

describe('synthetic corpus: worth learning', () => {
  // ~200 KB of training text (the scale of a few minutes of CPU training) and the fixed validation split.
  const prng = Prng.fromSeed('bigram-train');
  const trainDocs: string[] = [];
  for (let bytes = 0; bytes < 200_000; ) {
    const d = corpus.sample(prng);
    trainDocs.push(d);
    bytes += d.length;
  }

  const measure = (tokenizer: TokenizerLike, vocab: number) => {
    const floor = entropyFloor(corpus.validation, (d) => corpus.logProb(d), tokenizer);
    const loss = bigramLoss(vocab, tokenizeStream(tokenizer, trainDocs), tokenizeStream(tokenizer, corpus.validation));
    return { floor: floor.natsPerToken, loss, gap: loss - floor.natsPerToken, tokens: floor.tokens, words: floor.nats / corpus.entropy().natsPerWord };
  };

  it('a byte-level bigram model stays at least 0.5 nats/token above the entropy floor', () => {
    const m = measure(byteTokenizer, 256);
    const e = corpus.entropy();
    console.info(
      `[synthetic-english] byte tokens: floor ${m.floor.toFixed(4)} nats/token (analytic ${e.natsPerByte.toFixed(4)}), ` +
        `bigram ${m.loss.toFixed(4)}, gap ${m.gap.toFixed(4)}; ${m.tokens} validation tokens`,
    );
    expect(Math.abs(m.floor / e.natsPerByte - 1)).toBeLessThan(0.05); // the sample sits near the analytic rate
    expect(m.gap).toBeGreaterThanOrEqual(0.5);
  });

  it('so does a word-level bigram (one token per word or punctuation mark)', () => {
    const m = measure(symbolTokenizer(corpus.source), corpus.source.symbols.length);
    console.info(`[synthetic-english] word tokens: floor ${m.floor.toFixed(4)} nats/token, bigram ${m.loss.toFixed(4)}, gap ${m.gap.toFixed(4)}`);
    expect(m.gap).toBeGreaterThanOrEqual(0.5);
  });

  it('the structure is local: 8 symbols of context nearly reach the floor, 1 (the best bigram) does not', () => {
    const source = compileEnglishSource(DEFAULT_ENGLISH_GRAMMAR);
    const ids = symbolTokenizer(source);
    const stream = tokenizeStream(ids, corpus.validation.slice(0, 40));
    const pi = stationaryDistribution(source);
    const opts = { stride: 2, from: 24, stationary: pi };
    const full = contextLimitedLoss(source, stream, 24, opts);
    const gaps = [1, 2, 4, 8].map((k) => contextLimitedLoss(source, stream, k, opts) - full);
    console.info(`[synthetic-english] optimal loss with k symbols (words or punctuation) of context minus floor, k=1,2,4,8: ${gaps.map((g) => g.toFixed(3)).join(', ')} nats/symbol`);
    expect(gaps[0]!).toBeGreaterThan(0.5); // even with unlimited data, a bigram cannot reach the floor
    expect(gaps[3]!).toBeLessThan(0.05); // a model that sees 8 words of context can
    for (let i = 1; i < gaps.length; i++) expect(gaps[i]!).toBeLessThanOrEqual(gaps[i - 1]! + 1e-9);
  });
});
