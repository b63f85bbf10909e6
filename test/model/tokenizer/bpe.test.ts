/** Byte-level BPE encode/decode: agreement with the naive merge loop, round trips, special tokens. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Prng } from '../../../src/core/prng.ts';
import { BpeTokenizer } from '../../../src/model/tokenizer/bpe.ts';
import { pretokenizeToArray } from '../../../src/model/tokenizer/pretokenize.ts';
import { trainBpe } from '../../../src/model/tokenizer/train-bpe.ts';
import { documents, englishLike, errorOf } from './helpers.ts';
import { naiveMerge } from './reference.ts';

const tok = trainBpe(documents('bpe', 40, 4000), { vocabSize: 1000 });
const parts = tok.toParts();

function rankTable(merges: readonly (readonly [number, number])[], tokens: readonly Uint8Array[]): Map<string, [number, number]> {
  const idOf = new Map(tokens.map((t, i) => [Array.from(t).join(','), i]));
  return new Map(merges.map(([a, b], r) => [`${a},${b}`, [r, idOf.get([...tokens[a]!, ...tokens[b]!].join(','))!]]));
}

function utf8(s: string): number[] {
  return Array.from(new TextEncoder().encode(s));
}

describe('BpeTokenizer', () => {
  it('encodes each piece as the naive lowest-rank-first merge loop does', () => {
    const ranks = rankTable(parts.merges, parts.tokens);
    const check = (s: string): void => {
      const expected = pretokenizeToArray(s).flatMap((p) => naiveMerge(utf8(p), ranks));
      expect(Array.from(tok.encode(s))).toEqual(expected);
    };
    check(englishLike('held-out', 5000));
    fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), check), { numRuns: 300 });
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('the', ' the', 'e', 't', 'h', ' ', 'in', 'g', '1', '0'), maxLength: 30 }), check),
      { numRuns: 300 },
    );
  });

  it('agrees with the naive loop for merge tables in any order (as loaded files may have)', () => {
    const rng = Prng.fromSeed('shuffled merges');
    for (let trial = 0; trial < 5; trial++) {
      const merges = [...parts.merges];
      for (let i = merges.length - 1; i > 0; i--) {
        const j = rng.nextInt(i + 1);
        [merges[i], merges[j]] = [merges[j]!, merges[i]!];
      }
      const shuffled = new BpeTokenizer({ ...parts, merges });
      const ranks = rankTable(merges, parts.tokens);
      fc.assert(
        fc.property(fc.string({ unit: fc.constantFrom('the', 'e', 't', 'h', 'in', 'g', 'an', 'd', 's'), maxLength: 40 }), (s) => {
          expect(shuffled.mergeBytes(utf8(s))).toEqual(naiveMerge(utf8(s), ranks));
        }),
        { numRuns: 100, seed: trial },
      );
    }
  });

  it('decode(encode(s)) === s for every well-formed string', () => {
    for (const unit of ['binary', 'grapheme', 'grapheme-ascii'] as const) {
      fc.assert(
        fc.property(fc.string({ unit }), (s) => {
          expect(tok.decode(tok.encode(s))).toBe(s);
        }),
        { numRuns: 300 },
      );
    }
    const text = englishLike('round trip', 50000);
    expect(tok.decode(tok.encode(text))).toBe(text);
    expect(tok.decode(tok.encode('\ufeff\u0085\u3000  \n\t x'))).toBe('\ufeff\u0085\u3000  \n\t x');
  });

  it('gives the same ids whether or not pieces were cached, and for long pieces', () => {
    const text = englishLike('cache', 3000);
    const first = tok.encode(text);
    const fresh = new BpeTokenizer(parts);
    expect(fresh.encode(text)).toEqual(first);
    expect(tok.encode(text)).toEqual(first);
    const long = 'the'.repeat(100_000);
    const ids = tok.encode(long);
    expect(tok.decode(ids)).toBe(long);
    expect(ids.length).toBeLessThan(long.length / 2);
  });

  it('rejects lone surrogates and decodes split characters to U+FFFD', () => {
    expect(errorOf(() => tok.encode('x\ud83d')).code).toBe('TOKENIZER_INVALID_TEXT');
    const ids = Array.from(tok.encode('日本'));
    const bytes = ids.flatMap((id) => Array.from(tok.tokenBytes(id)));
    expect(bytes).toEqual(utf8('日本'));
    // Byte tokens 0xe6 0x97 (the first two bytes of 日) and nothing more.
    expect(tok.decode([0xe6, 0x97])).toBe('\ufffd');
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: tok.vocabSize - 1 }), { maxLength: 30 }), (xs) => {
        expect(typeof tok.decode(xs)).toBe('string');
      }),
    );
    expect(errorOf(() => tok.decode([tok.vocabSize])).code).toBe('TOKENIZER_BAD_ID');
  });

  it('handles BOS/EOS and special tokens in text only when asked', () => {
    const { bos, eos, pad } = tok.specialTokens;
    expect([bos, eos, pad]).toEqual([997, 998, 999]);
    const plain = tok.encode('the end');
    expect(Array.from(tok.encode('the end', { bos: true, eos: true }))).toEqual([bos, ...plain, eos]);
    const text = 'one<|end_of_text|><|begin_of_text|>two<|pad|';
    const withSpecial = Array.from(tok.encode(text, { allowSpecial: true }));
    expect(withSpecial).toContain(eos);
    expect(withSpecial).toContain(bos);
    expect(withSpecial).not.toContain(pad); // '<|pad|' is not complete
    expect(Array.from(tok.encode(text))).not.toContain(eos);
    expect(tok.decode(withSpecial)).toBe(text);
    expect(tok.decode(withSpecial, { skipSpecial: true })).toBe('onetwo<|pad|');
  });

  it('matches added tokens leftmost first, then longest', () => {
    const t = trainBpe(['x'], { vocabSize: 262, specialTokens: { bos: '<a>', eos: '<a><b>', pad: '<b>' } });
    const [a, ab, b] = [256, 257, 258];
    expect(Array.from(t.encode('<a><b><b>', { allowSpecial: true }))).toEqual([ab, b]);
    expect(Array.from(t.encode('<b><a>', { allowSpecial: true }))).toEqual([b, a]);
  });

  it('ignore_merges emits a piece that is a token as that token', () => {
    // Vocabulary with the tokens "ab" (from the merge) and " ab" reachable only
    // by ignore_merges: no merge makes it.
    const tokens = [...Array.from({ length: 256 }, (_, b) => Uint8Array.of(b)), Uint8Array.of(97, 98), Uint8Array.of(32, 97, 98)];
    const added = [
      { id: 258, content: '<s>', special: true },
      { id: 259, content: '</s>', special: true },
    ];
    const base = { tokens, merges: [[97, 98] as const], added, special: { bos: 258, eos: 259, pad: null } };
    expect(Array.from(new BpeTokenizer(base).encode('ab ab'))).toEqual([256, 32, 256]);
    expect(Array.from(new BpeTokenizer({ ...base, ignoreMerges: true }).encode('ab ab'))).toEqual([256, 257]);
  });
});
