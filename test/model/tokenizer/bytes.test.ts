/** The byte-level tokenizer: ids = UTF-8 bytes, specials after 255. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findLoneSurrogate } from '../../../src/core/encoding.ts';
import { createByteTokenizer } from '../../../src/model/tokenizer/bytes.ts';
import { loadHfTokenizer } from '../../../src/model/tokenizer/hf-load.ts';
import { errorOf } from './helpers.ts';

describe('ByteTokenizer', () => {
  const tok = createByteTokenizer();

  it('has 256 byte ids then bos, eos, pad', () => {
    expect(tok.kind).toBe('byte');
    expect(tok.vocabSize).toBe(259);
    expect(tok.specialTokens).toEqual({ bos: 256, eos: 257, pad: 258 });
    expect(tok.addedTokens.map((t) => t.content)).toEqual(['<|begin_of_text|>', '<|end_of_text|>', '<|pad|>']);
    expect(Array.from(tok.encode('hé€😀'))).toEqual([0x68, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80]);
    expect(Array.from(tok.encode('hi', { bos: true, eos: true }))).toEqual([256, 104, 105, 257]);
    expect(tok.encode('')).toEqual(new Int32Array(0));
  });

  it('custom special tokens, and no pad', () => {
    const t = createByteTokenizer({ bos: '<s>', eos: '</s>', pad: null, extra: ['<|user|>'] });
    expect(t.vocabSize).toBe(259);
    expect(t.specialTokens).toEqual({ bos: 256, eos: 257, pad: null });
    expect(Array.from(t.encode('<|user|>x', { allowSpecial: true }))).toEqual([258, 120]);
  });

  it('special token text is plain text unless allowSpecial', () => {
    const text = 'a<|end_of_text|>b';
    expect(tok.encode(text)).toHaveLength(text.length);
    expect(Array.from(tok.encode(text, { allowSpecial: true }))).toEqual([97, 257, 98]);
    expect(tok.decode(tok.encode(text, { allowSpecial: true }))).toBe(text);
    expect(tok.decode([256, 97, 257], { skipSpecial: true })).toBe('a');
  });

  it('decode(encode(s)) === s for every well-formed string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        expect(tok.decode(tok.encode(s))).toBe(s);
      }),
      { numRuns: 300 },
    );
    expect(tok.decode(tok.encode('\ufeffBOM kept'))).toBe('\ufeffBOM kept');
  });

  it('rejects lone surrogates with TOKENIZER_INVALID_TEXT, accepts everything else', () => {
    expect(errorOf(() => tok.encode('a\ud800b')).details).toEqual({ index: 1 });
    expect(errorOf(() => tok.encode('\udc00')).code).toBe('TOKENIZER_INVALID_TEXT');
    const seen = { wellFormed: 0, lone: 0 }; // both kinds must come up, or half the property went unchecked
    fc.assert(
      fc.property(fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) }), (s) => {
        const lone = findLoneSurrogate(s) >= 0;
        seen[lone ? 'lone' : 'wellFormed']++;
        // the code encode throws, or the round trip's text
        const outcome = lone ? errorOf(() => tok.encode(s)).code : tok.decode(tok.encode(s));
        expect(outcome).toBe(lone ? 'TOKENIZER_INVALID_TEXT' : s);
      }),
      { numRuns: 500 },
    );
    expect(Math.min(seen.wellFormed, seen.lone)).toBeGreaterThan(0);
  });

  it('decodes invalid UTF-8 to U+FFFD instead of throwing', () => {
    expect(tok.decode([0xe2, 0x82])).toBe('\ufffd'); // truncated 3-byte sequence: one maximal subpart
    expect(tok.decode([0xc3, 0x41])).toBe('\ufffdA');
    expect(tok.decode([0xff, 0xfe])).toBe('\ufffd\ufffd');
    expect(tok.decode([0xe2, 256, 0x82, 0xac])).toBe('\ufffd<|begin_of_text|>\ufffd\ufffd');
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 258 })), (ids) => {
        expect(typeof tok.decode(ids)).toBe('string');
      }),
    );
  });

  it('rejects ids out of range with TOKENIZER_BAD_ID', () => {
    for (const bad of [-1, 259, 1.5, NaN]) expect(errorOf(() => tok.decode([1, bad])).code).toBe('TOKENIZER_BAD_ID');
    expect(errorOf(() => tok.tokenBytes(259)).code).toBe('TOKENIZER_BAD_ID');
    expect(tok.tokenBytes(257)).toEqual(new TextEncoder().encode('<|end_of_text|>'));
  });

  it('rejects bad special token names with TOKENIZER_BAD_OPTIONS', () => {
    for (const spec of [{ bos: '' }, { eos: '<|begin_of_text|>' }, { pad: '!' }, { extra: ['\ud800'] }]) {
      expect(errorOf(() => createByteTokenizer(spec)).code).toBe('TOKENIZER_BAD_OPTIONS');
    }
  });

  it('is a BPE tokenizer.json with no merges, and loads back as a ByteTokenizer', () => {
    const json = tok.toHfJson();
    expect(json.model.type).toBe('BPE');
    expect(json.model.merges).toEqual([]);
    expect(Object.keys(json.model.vocab)).toHaveLength(256);
    expect(json.model.vocab['Ġ']).toBe(32);
    const back = loadHfTokenizer(JSON.parse(JSON.stringify(json)));
    expect(back.kind).toBe('byte');
    expect(back.specialTokens).toEqual(tok.specialTokens);
    expect(back.toHfJson()).toEqual(json);
  });
});
