/** BPE training: determinism, agreement with a naive trainer, sizes, options. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Prng } from '../../../src/core/prng.ts';
import { tokenizerHash } from '../../../src/model/tokenizer/index.ts';
import { trainBpe } from '../../../src/model/tokenizer/train-bpe.ts';
import { documents, englishLike, errorOf } from './helpers.ts';
import { naiveTrain } from './reference.ts';

function utf8Length(s: string): number {
  return new TextEncoder().encode(s).length;
}

describe('trainBpe', () => {
  const corpus = documents('train', 40, 4000);

  it('is deterministic: same corpus, same vocabulary, merges and hash', () => {
    const a = trainBpe(corpus, { vocabSize: 600 });
    const b = trainBpe(
      (function* () {
        yield* corpus;
      })(),
      { vocabSize: 600 },
    );
    expect(b.toHfJson()).toEqual(a.toHfJson());
    expect(tokenizerHash(b)).toBe(tokenizerHash(a));
    expect(tokenizerHash(a)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('matches a pinned hash (the same bytes on every machine and Node version)', () => {
    // Pinned from this implementation; a change means every trained
    // tokenizer (and so every run's data) changes: bump it consciously.
    const tok = trainBpe(documents('golden', 10, 2000), { vocabSize: 400 });
    expect(tok.vocabSize).toBe(400);
    expect(tokenizerHash(tok)).toBe('2f36468fc967f9d1f878f6890979ce37c86938713ffbc92803c9b1cb1bf806e5');
  });

  it('agrees with a naive full-recount trainer (merges and token bytes)', () => {
    const word = fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'é', ' ', '1', '.'), maxLength: 12 });
    fc.assert(
      fc.property(fc.array(word, { maxLength: 25 }), fc.integer({ min: 256, max: 330 }), fc.nat(3), (docs, target, minFrequency) => {
        const tok = trainBpe(docs, { vocabSize: target + 3, minFrequency });
        const ref = naiveTrain(docs, target, minFrequency);
        const parts = tok.toParts();
        expect(parts.merges).toEqual(ref.merges);
        expect(parts.tokens.map((t) => Array.from(t))).toEqual(ref.tokens);
      }),
      { numRuns: 300 },
    );
    // And on English-like text, where counts tie often.
    const docs = documents('naive', 4, 600);
    const ref = naiveTrain(docs, 420, 2);
    const parts = trainBpe(docs, { vocabSize: 423 }).toParts();
    expect(parts.merges).toEqual(ref.merges);
    expect(parts.tokens.map((t) => Array.from(t))).toEqual(ref.tokens);
  });

  it('breaks ties by the smallest (left id, right id)', () => {
    // Pieces "ab" and " cd": all three pairs occur once. (32,99) < (97,98) < (99,100).
    const parts = trainBpe(['ab cd'], { vocabSize: 262, minFrequency: 1 }).toParts();
    expect(parts.merges).toEqual([
      [32, 99], // ' c' -> 256
      [97, 98], // 'ab' -> 257
      [256, 100], // ' cd' -> 258
    ]);
    // The higher count wins over the smaller pair.
    expect(trainBpe(['ab zz zz'], { vocabSize: 260, minFrequency: 1 }).toParts().merges[0]).toEqual([32, 122]);
  });

  it('reaches vocabSize exactly when the corpus allows, and stops early when it does not', () => {
    for (const v of [259, 300, 512, 1000]) expect(trainBpe(corpus, { vocabSize: v }).vocabSize).toBe(v);
    const small = trainBpe(['hello hello'], { vocabSize: 5000 });
    // pieces "hello" x1, " hello" x1: only pairs inside "hello" occur twice.
    expect(small.toParts().merges.length).toBe(4);
    expect(small.vocabSize).toBe(256 + 4 + 3);
    expect(trainBpe(corpus, { vocabSize: 5000, minFrequency: 1_000_000 }).vocabSize).toBe(259);
    expect(trainBpe([], { vocabSize: 300 }).vocabSize).toBe(259);
  });

  it('puts the special tokens after the merged tokens', () => {
    const tok = trainBpe(corpus, { vocabSize: 300, specialTokens: { bos: '<s>', eos: '</s>', pad: null, extra: ['<|im_start|>'] } });
    expect(tok.vocabSize).toBe(300);
    expect(tok.specialTokens).toEqual({ bos: 297, eos: 298, pad: null });
    expect(tok.addedTokens.map((t) => [t.id, t.content])).toEqual([
      [297, '<s>'],
      [298, '</s>'],
      [299, '<|im_start|>'],
    ]);
    expect(tok.mergeCount).toBe(297 - 256);
  });

  it('compresses repetitive English-like text to more than 2 bytes per token at vocab 512', () => {
    const tok = trainBpe(corpus, { vocabSize: 512 });
    const held = englishLike('held-out', 20000);
    const ratio = utf8Length(held) / tok.encode(held).length;
    expect(ratio).toBeGreaterThan(2);
  });

  it('treats a single string as one document', () => {
    const text = corpus.slice(0, 3).join('');
    expect(trainBpe(text, { vocabSize: 400 }).toHfJson()).toEqual(trainBpe([text], { vocabSize: 400 }).toHfJson());
  });

  it('rejects bad options and bad text with coded errors', () => {
    expect(errorOf(() => trainBpe(corpus, { vocabSize: 258 })).code).toBe('TOKENIZER_BAD_OPTIONS');
    expect(errorOf(() => trainBpe(corpus, { vocabSize: 300.5 })).code).toBe('TOKENIZER_BAD_OPTIONS');
    expect(errorOf(() => trainBpe(corpus, { vocabSize: 2 ** 30 })).code).toBe('TOKENIZER_BAD_OPTIONS');
    expect(errorOf(() => trainBpe(corpus, { vocabSize: 300, minFrequency: -1 })).code).toBe('TOKENIZER_BAD_OPTIONS');
    expect(errorOf(() => trainBpe(corpus, { vocabSize: 300, specialTokens: { bos: 'x', eos: 'x' } })).code).toBe('TOKENIZER_BAD_OPTIONS');
    const e = errorOf(() => trainBpe(['fine', 'bad \udfff'], { vocabSize: 300 }));
    expect(e.code).toBe('TOKENIZER_INVALID_TEXT');
    expect(e.details).toEqual({ index: 4, document: 1 });
  });

  it('trains on about 1 MB of text within the test timeout (speed sanity, not a timed assertion)', () => {
    const big = documents('speed', 200, 5000);
    const tok = trainBpe(big, { vocabSize: 2048, minFrequency: 1 });
    expect(tok.vocabSize).toBe(2048);
    const sample = big[7]!;
    expect(tok.decode(tok.encode(sample))).toBe(sample);
  });

  it('does not depend on document order, and never merges across documents', () => {
    // Pieces are counted per document; merges never cross documents.
    const rng = Prng.fromSeed('shuffle');
    const shuffled = [...corpus];
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = rng.nextInt(i + 1);
      [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
    }
    expect(trainBpe(shuffled, { vocabSize: 500 }).toHfJson()).toEqual(trainBpe(corpus, { vocabSize: 500 }).toHfJson());
    const tokens = trainBpe(['ab', 'cd'], { vocabSize: 300, minFrequency: 1 }).toParts().tokens;
    expect(tokens.some((t) => t.length === 2 && t[0] === 98 && t[1] === 99)).toBe(false); // no 'bc'
  });
});
