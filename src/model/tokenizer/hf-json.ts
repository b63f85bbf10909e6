/**
 * Writing a tokenizer as a Hugging Face tokenizer.json (the serialization of
 * the `tokenizers` library, format "1.0": tokenizers/src/tokenizer/
 * serialization.rs, models/bpe/serialization.rs). The loader is hf-load.ts.
 *
 * What we write, and why:
 *  - model: BPE over the GPT-2 byte alphabet (byte-unicode.ts), vocab keyed
 *    by the byte-level string of each token, merges as "left right" strings
 *    in rank order (the form every tokenizers version reads; a byte-level
 *    token never holds a literal space, so the split is unambiguous).
 *  - pre_tokenizer ByteLevel with use_regex: true and no prefix space: the
 *    GPT-2 split of pretokenize.ts followed by the byte mapping.
 *  - decoder ByteLevel: maps the characters back to bytes.
 *  - added_tokens: the special tokens, special: true, normalized: false, no
 *    stripping. HF gives an added token that is not in the vocab the next
 *    free id in file order, so they are written in id order after the vocab.
 *  - post_processor TemplateProcessing "<bos> $A" (and "<bos> $A <bos> $B"),
 *    as Llama 3's tokenizer.json does, so HF's default encode prepends BOS.
 *    Our encode prepends it only when asked ({ bos: true }).
 * The result is plain JSON data (canonical-JSON safe), so a tokenizer's
 * identity is the SHA-256 of its canonical form (index.ts, tokenizerHash).
 */
import { bytesToTokenString } from './byte-unicode.ts';
import type { HfAddedToken, HfTokenizerJson, HfTemplateProcessing } from './hf-types.ts';
import type { AddedToken } from './types.ts';

export interface HfWriteInput {
  readonly tokens: readonly Uint8Array[];
  readonly merges: readonly (readonly [number, number])[];
  readonly added: readonly AddedToken[];
  /** id of the BOS token (an added token), for the post-processor */
  readonly bos: number;
  readonly ignoreMerges: boolean;
}

function bosTemplate(content: string, id: number): HfTemplateProcessing {
  const bos = (typeId: number) => ({ SpecialToken: { id: content, type_id: typeId } });
  const seq = (name: 'A' | 'B', typeId: number) => ({ Sequence: { id: name, type_id: typeId } });
  // A null-prototype map: a token named "__proto__" must stay a plain key.
  const special: HfTemplateProcessing['special_tokens'] = Object.create(null);
  special[content] = { id: content, ids: [id], tokens: [content] };
  return {
    type: 'TemplateProcessing',
    single: [bos(0), seq('A', 0)],
    pair: [bos(0), seq('A', 0), bos(1), seq('B', 1)],
    special_tokens: special,
  };
}

export function writeHfJson(input: HfWriteInput): HfTokenizerJson {
  const strings = input.tokens.map((t) => bytesToTokenString(t));
  const vocab: Record<string, number> = Object.create(null);
  strings.forEach((s, id) => {
    vocab[s] = id;
  });
  const merges = input.merges.map(([a, b]) => `${strings[a]!} ${strings[b]!}`);
  const added: HfAddedToken[] = [...input.added]
    .sort((x, y) => x.id - y.id)
    .map((t) => ({
      id: t.id,
      content: t.content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: t.special,
    }));
  const bosToken = input.added.find((t) => t.id === input.bos);
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: bosToken === undefined ? null : bosTemplate(bosToken.content, bosToken.id),
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: input.ignoreMerges,
      vocab,
      merges,
    },
  };
}
