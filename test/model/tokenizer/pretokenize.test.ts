/** The GPT-2 split (Radford et al. 2019 §2.2), as HF's ByteLevel pre-tokenizer does it. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pretokenizeToArray } from '../../../src/model/tokenizer/pretokenize.ts';

describe('pretokenize', () => {
  it('splits words with their leading space, numbers, punctuation and contractions', () => {
    expect(pretokenizeToArray("Hello world, it's 2024!")).toEqual(['Hello', ' world', ',', ' it', "'s", ' 2024', '!']);
    expect(pretokenizeToArray("we'll they're I've you'd I'm")).toEqual(['we', "'ll", ' they', "'re", ' I', "'ve", ' you', "'d", ' I', "'m"]);
    expect(pretokenizeToArray('abc123def')).toEqual(['abc', '123', 'def']);
    expect(pretokenizeToArray('x := y;')).toEqual(['x', ' :=', ' y', ';']);
  });

  it('leaves the last space of a run to the next word, and keeps trailing whitespace', () => {
    expect(pretokenizeToArray('a   b')).toEqual(['a', '  ', ' b']);
    // Before a word that starts without a space, the run's last character stands alone.
    expect(pretokenizeToArray('a\n\nb')).toEqual(['a', '\n', '\n', 'b']);
    expect(pretokenizeToArray('a \n b')).toEqual(['a', ' \n', ' b']);
    expect(pretokenizeToArray('end   ')).toEqual(['end', '   ']);
    expect(pretokenizeToArray('')).toEqual([]);
  });

  it('uses Unicode White_Space, not JS \\s (U+0085 is space, U+FEFF is not)', () => {
    expect(pretokenizeToArray('a\u0085b')).toEqual(['a', '\u0085', 'b']);
    expect(pretokenizeToArray('a\ufeffb')).toEqual(['a', '\ufeff', 'b']);
    expect(pretokenizeToArray('日本語 テキスト')).toEqual(['日本語', ' テキスト']);
    expect(pretokenizeToArray('😀😀 x')).toEqual(['😀😀', ' x']);
  });

  it('pieces always concatenate back to the text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        expect(pretokenizeToArray(s).join('')).toBe(s);
      }),
      { numRuns: 300 },
    );
  });
});
