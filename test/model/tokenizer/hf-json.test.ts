/**
 * tokenizer.json (Hugging Face `tokenizers` format "1.0"): what we write, the
 * save -> load round trip, and the rejection of each class of bad file.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hfTokenizerConfig, tokenizerHash } from '../../../src/model/tokenizer/index.ts';
import { loadHfTokenizer, parseHfTokenizer } from '../../../src/model/tokenizer/hf-load.ts';
import { trainBpe } from '../../../src/model/tokenizer/train-bpe.ts';
import type { Tokenizer } from '../../../src/model/tokenizer/types.ts';
import { documents, englishLike, errorOf } from './helpers.ts';

const tok = trainBpe(documents('hf', 30, 3000), { vocabSize: 700 });
const json = tok.toHfJson();
const text = JSON.stringify(json);

/** A deep copy of the saved file, edited by `edit`. */
function edited(edit: (j: any) => void): unknown {
  const j = JSON.parse(text);
  edit(j);
  return j;
}

function reasonOf(file: unknown): string {
  const e = errorOf(() => loadHfTokenizer(file));
  return `${e.code}:${String(e.reason ?? e.details?.['feature'] ?? e.details?.['role'])}`;
}

describe('tokenizer.json writing', () => {
  it('has the shape of a HF ByteLevel BPE tokenizer.json', () => {
    expect(Object.keys(json)).toEqual([
      'version', 'truncation', 'padding', 'added_tokens', 'normalizer', 'pre_tokenizer', 'post_processor', 'decoder', 'model',
    ]);
    expect(json.version).toBe('1.0');
    expect(json.pre_tokenizer).toEqual({ type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true });
    expect(json.decoder.type).toBe('ByteLevel');
    expect(json.model).toMatchObject({
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
    });
    expect(Object.keys(json.model.vocab)).toHaveLength(697);
    expect(json.model.vocab['Ġ']).toBe(32);
    expect(json.model.vocab['!']).toBe(33);
    expect(json.model.merges).toHaveLength(697 - 256);
    for (const m of json.model.merges) expect(m).toMatch(/^[^ ]+ [^ ]+$/);
    const keyOf = (id: number) => Object.keys(json.model.vocab).find((k) => json.model.vocab[k] === id);
    expect(json.model.merges[0]).toBe(tok.toParts().merges[0]!.map(keyOf).join(' '));
    expect(json.added_tokens).toEqual([
      { id: 697, content: '<|begin_of_text|>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
      { id: 698, content: '<|end_of_text|>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
      { id: 699, content: '<|pad|>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
    ]);
    expect(json.post_processor?.single[0]).toEqual({ SpecialToken: { id: '<|begin_of_text|>', type_id: 0 } });
    expect(hfTokenizerConfig(tok)).toMatchObject({ bos_token: '<|begin_of_text|>', eos_token: '<|end_of_text|>', pad_token: '<|pad|>' });
  });

  it('encodes like Hugging Face tokenizers (vectors checked with tokenizers 0.23.2)', () => {
    // tokenizer: trainBpe(documents('golden', 10, 2000), { vocabSize: 400 }),
    // the tokenizer pinned in train-bpe.test.ts. HF's encode(text) adds BOS
    // (the post-processor) and matches added tokens, hence the options.
    const golden = trainBpe(documents('golden', 10, 2000), { vocabSize: 400 });
    const vectors: [string, number[]][] = [
      [
        "The model's training, verified: 12345 tokens!",
        [397, 84, 257, 353, 311, 108, 329, 384, 285, 326, 44, 32, 320, 105, 102, 105, 386, 58, 32, 49, 50, 51, 52, 53, 282, 107, 278, 115, 33],
      ],
      [
        '  naïve café\n\n\tZürich 日本語 😀',
        [
          397, 32, 272, 97, 195, 175, 342, 283, 97, 102, 195, 169, 10, 10, 9, 90, 195, 188, 114, 105, 277, 32, 230, 151, 165, 230,
          156, 172, 232, 170, 158, 32, 240, 159, 152, 128,
        ],
      ],
      ['the<|end_of_text|>', [397, 357, 398]],
    ];
    for (const [s, ids] of vectors) expect(Array.from(golden.encode(s, { bos: true, allowSpecial: true }))).toEqual(ids);
  });
});

describe('tokenizer.json round trip', () => {
  const back = parseHfTokenizer(text);

  it('save -> load gives the same tokenizer and the same encodings', () => {
    expect(back.kind).toBe('bpe');
    expect(back.vocabSize).toBe(700);
    expect(back.specialTokens).toEqual(tok.specialTokens);
    expect(back.toHfJson()).toEqual(json);
    expect(tokenizerHash(back)).toBe(tokenizerHash(tok));
    const sample = englishLike('round trip', 20000);
    expect(back.encode(sample)).toEqual(tok.encode(sample));
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        expect(back.encode(s, { allowSpecial: true })).toEqual(tok.encode(s, { allowSpecial: true }));
      }),
      { numRuns: 200 },
    );
  });

  it('accepts merges written as pairs (tokenizers >= 0.20) and unknown top-level keys', () => {
    const pairs = edited((j) => {
      j.model.merges = j.model.merges.map((m: string) => m.split(' '));
      j.some_future_field = { x: 1 };
    });
    const t = loadHfTokenizer(pairs);
    const sample = englishLike('pairs', 3000);
    expect(t.encode(sample)).toEqual(tok.encode(sample));
  });

  it('finds roles by name, by option, or fails with TOKENIZER_MISSING_SPECIAL', () => {
    const gpt2Style = edited((j) => {
      j.post_processor = null;
      j.added_tokens = [{ ...j.added_tokens[0], content: '<|endoftext|>' }];
    }) as object;
    const t: Tokenizer = loadHfTokenizer(gpt2Style);
    expect(t.specialTokens).toEqual({ bos: 697, eos: 697, pad: null });
    const named = edited((j) => {
      j.post_processor = null;
      j.added_tokens[0].content = '<start>';
      j.added_tokens[1].content = '<stop>';
      j.added_tokens[2].content = '<filler>';
    });
    expect(reasonOf(named)).toBe('TOKENIZER_MISSING_SPECIAL:bos');
    const roles = { bos: '<start>', eos: '<stop>', pad: '<filler>' };
    expect(loadHfTokenizer(named, { roles }).specialTokens).toEqual({ bos: 697, eos: 698, pad: 699 });
    expect(errorOf(() => loadHfTokenizer(named, { roles: { bos: '<start>', eos: '<nope>' } })).code).toBe('TOKENIZER_MISSING_SPECIAL');
    expect(loadHfTokenizer(json, { roles: { pad: null } }).specialTokens.pad).toBeNull();
  });

  it('an added token may also be a vocab entry with the same id (GPT-2 layout)', () => {
    // Make "<|endoftext|>" token 697 of the vocab itself (a byte-level string of printable ASCII).
    const file = edited((j) => {
      j.model.vocab['<|endoftext|>'] = 697;
      j.added_tokens = [{ ...j.added_tokens[0], content: '<|endoftext|>' }];
      j.post_processor = null;
    });
    const t = loadHfTokenizer(file);
    expect(t.vocabSize).toBe(698);
    expect(Array.from(t.encode('<|endoftext|>', { allowSpecial: true }))).toEqual([697]);
    expect(t.decode([697])).toBe('<|endoftext|>');
  });

  it('treats "__proto__" and other inherited names as plain tokens', () => {
    const j = edited((f) => {
      // Own, enumerable keys, as JSON.parse makes them (plain assignment would set the prototype).
      Object.defineProperty(f.model.vocab, '__proto__', { value: 697, enumerable: true, writable: true, configurable: true });
      f.model.vocab['constructor'] = 698;
      f.added_tokens.forEach((t: { id: number }) => (t.id += 2));
      f.post_processor.special_tokens['<|begin_of_text|>'].ids = [699];
    });
    const t = parseHfTokenizer(JSON.stringify(j));
    expect(t.vocabSize).toBe(702);
    expect(t.specialTokens).toEqual({ bos: 699, eos: 700, pad: 701 });
    expect(t.decode([697, 698])).toBe('__proto__constructor');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

describe('tokenizer.json rejection (one test per class of bad input)', () => {
  it('not JSON, too large, not an object', () => {
    expect(errorOf(() => parseHfTokenizer('{"version": "1.0",')).reason).toBe('json');
    expect(errorOf(() => parseHfTokenizer(text, { maxBytes: 100 })).reason).toBe('json');
    for (const bad of [null, 42, 'x', [], [json]]) expect(reasonOf(bad)).toBe('TOKENIZER_BAD_FILE:type');
  });

  it('wrong version', () => {
    expect(reasonOf(edited((j) => (j.version = '2.0')))).toBe('TOKENIZER_BAD_FILE:version');
    expect(reasonOf(edited((j) => delete j.version))).toBe('TOKENIZER_BAD_FILE:version');
  });

  it('wrong types', () => {
    const cases: ((j: any) => void)[] = [
      (j) => (j.model = 'BPE'),
      (j) => (j.model.vocab = []),
      (j) => delete j.model.vocab,
      (j) => (j.model.vocab['Ġ'] = '32'),
      (j) => (j.model.merges = 'a b'),
      (j) => (j.added_tokens = {}),
      (j) => (j.added_tokens[0] = 'x'),
      (j) => (j.added_tokens[0].content = 7),
      (j) => (j.added_tokens[0].content = ''),
      (j) => (j.added_tokens[0].special = 'yes'),
      (j) => (j.added_tokens[0].id = '697'),
      (j) => (j.pre_tokenizer.use_regex = 1),
      (j) => (j.model.byte_fallback = 'no'),
      (j) => (j.truncation = 5),
      (j) => (j.post_processor = []),
    ];
    for (const c of cases) expect(reasonOf(edited(c))).toBe('TOKENIZER_BAD_FILE:type');
  });

  it('ids out of range or leaving gaps', () => {
    // 697 is one past the last vocab id, which leaves 32 as a gap.
    for (const id of [-1, 1.5, 697, 700, 2 ** 40]) {
      expect(reasonOf(edited((j) => (j.model.vocab['Ġ'] = id)))).toBe('TOKENIZER_BAD_FILE:id-range');
    }
  });

  it('duplicate ids', () => {
    expect(reasonOf(edited((j) => (j.model.vocab['Ġ'] = 33)))).toBe('TOKENIZER_BAD_FILE:duplicate-id');
  });

  it('vocab keys outside the byte-level alphabet', () => {
    for (const key of [' the', '日', '']) {
      expect(reasonOf(edited((j) => {
        j.model.vocab[key] = j.model.vocab['Ġ'];
        delete j.model.vocab['Ġ'];
      }))).toBe('TOKENIZER_BAD_FILE:bad-token-string');
    }
  });

  it('a missing byte token', () => {
    // Byte 0 ('Ā') never occurs in the corpus, so no merge names it; give its id to another string.
    expect(reasonOf(edited((j) => {
      j.model.vocab['ĀĀĀ'] = j.model.vocab['Ā'];
      delete j.model.vocab['Ā'];
    }))).toBe('TOKENIZER_BAD_FILE:missing-byte');
  });

  it('malformed merges', () => {
    for (const m of ['Ġt', 'Ġ t h', ' Ġt', 5, null, ['Ġ'], ['Ġ', 't', 'h'], ['Ġ', 5]]) {
      expect(reasonOf(edited((j) => j.model.merges.push(m)))).toBe('TOKENIZER_BAD_FILE:bad-merge');
    }
  });

  it('merges naming unknown tokens or making unknown tokens', () => {
    expect(reasonOf(edited((j) => j.model.merges.push('Ġ zzzzzz')))).toBe('TOKENIZER_BAD_FILE:merge-unknown-token');
    expect(reasonOf(edited((j) => j.model.merges.push(['nope', 't'])))).toBe('TOKENIZER_BAD_FILE:merge-unknown-token');
    expect(reasonOf(edited((j) => j.model.merges.push('Ā Ā')))).toBe('TOKENIZER_BAD_FILE:merge-unknown-result');
  });

  it('duplicate merges', () => {
    expect(reasonOf(edited((j) => j.model.merges.push(j.model.merges[3])))).toBe('TOKENIZER_BAD_FILE:duplicate-merge');
  });

  it('added tokens with ids HF would not give them, or repeated', () => {
    expect(reasonOf(edited((j) => (j.added_tokens[0].id = 5)))).toBe('TOKENIZER_BAD_FILE:added-token-id');
    expect(reasonOf(edited((j) => (j.added_tokens[1].id = 697)))).toBe('TOKENIZER_BAD_FILE:added-token-id');
    expect(reasonOf(edited((j) => j.added_tokens.reverse()))).toBe('TOKENIZER_BAD_FILE:added-token-id');
    expect(reasonOf(edited((j) => (j.added_tokens[0].content = '!')))).toBe('TOKENIZER_BAD_FILE:added-token-id');
    expect(reasonOf(edited((j) => (j.added_tokens[1].content = j.added_tokens[0].content)))).toBe('TOKENIZER_BAD_FILE:duplicate-token');
  });

  it('well-formed files using features we do not implement: TOKENIZER_UNSUPPORTED', () => {
    const cases: [(j: any) => void, string][] = [
      [(j) => (j.model.type = 'WordPiece'), 'model:WordPiece'],
      [(j) => (j.normalizer = { type: 'NFC' }), 'normalizer'],
      [(j) => (j.pre_tokenizer = { type: 'Metaspace', replacement: '▁' }), 'pre_tokenizer:Metaspace'],
      [(j) => (j.pre_tokenizer = null), 'pre_tokenizer:none'],
      [(j) => (j.pre_tokenizer = { type: 'Sequence', pretokenizers: [] }), 'pre_tokenizer:Sequence'],
      [(j) => (j.pre_tokenizer.add_prefix_space = true), 'add_prefix_space'],
      [(j) => (j.pre_tokenizer.use_regex = false), 'use_regex'],
      [(j) => (j.decoder = { type: 'Metaspace' }), 'decoder:Metaspace'],
      [(j) => (j.model.dropout = 0.1), 'dropout'],
      [(j) => (j.model.unk_token = '<unk>'), 'unk_token'],
      [(j) => (j.model.byte_fallback = true), 'byte_fallback'],
      [(j) => (j.model.continuing_subword_prefix = '##'), 'continuing_subword_prefix'],
      [(j) => (j.added_tokens[0].lstrip = true), 'lstrip'],
    ];
    for (const [c, feature] of cases) expect(reasonOf(edited(c))).toBe(`TOKENIZER_UNSUPPORTED:${feature}`);
  });
});
