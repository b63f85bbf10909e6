/**
 * The tokenizer contract shared by every tokenizer of the swarm.
 *
 * A run fixes its tokenizer as data (a Hugging Face tokenizer.json, see
 * hf-json.ts), and token ids are part of every work unit's inputs, so each
 * operation here is a pure function of the tokenizer and its argument: the
 * same text gives the same ids on every machine.
 *
 * Id layout of the tokenizers we build (byte-level and trained BPE):
 *   0..255              the 256 single-byte tokens, id = byte value
 *   256..256+M-1        tokens made by the M merges, in merge order (BPE only)
 *   after those         the special tokens, in the order given (bos, eos,
 *                       pad, extra...), like Llama 3's <|begin_of_text|> at
 *                       128000 after its 128000 ordinary tokens.
 * Loaded files may lay ids out differently (see hf-json.ts), so code must use
 * `specialTokens` rather than assume positions.
 */
import type { HfTokenizerJson } from './hf-types.ts';

/** Ids of the tokens with a role. */
export interface SpecialTokens {
  /** begin-of-sequence, prepended to every document */
  readonly bos: number;
  /** end-of-sequence, appended to every document; generation stops on it */
  readonly eos: number;
  /** padding id for batched inference, or null when the tokenizer has none */
  readonly pad: number | null;
}

/** A token matched as a whole in text (when allowed) and never merged. */
export interface AddedToken {
  readonly id: number;
  readonly content: string;
  /** special tokens are dropped by decode(..., { skipSpecial: true }) */
  readonly special: boolean;
}

export interface EncodeOptions {
  /** prepend specialTokens.bos (default false) */
  readonly bos?: boolean;
  /** append specialTokens.eos (default false) */
  readonly eos?: boolean;
  /**
   * Recognise the contents of added tokens (e.g. "<|end_of_text|>") inside the
   * text and emit their ids (default false). Off by default so that data can
   * never inject control tokens: the string "<|end_of_text|>" in a document
   * is encoded as the ordinary bytes it is (what tiktoken does by default).
   * Hugging Face tokenizers always recognises added tokens, so its
   * `encode(text)` equals ours with { allowSpecial: true, bos: true } for the
   * files we write (their post-processor prepends BOS).
   */
  readonly allowSpecial?: boolean;
}

export interface DecodeOptions {
  /** leave out special tokens instead of writing their content (default false) */
  readonly skipSpecial?: boolean;
}

export interface Tokenizer {
  /** 'byte' for the 256-byte tokenizer, 'bpe' for byte-level BPE */
  readonly kind: 'byte' | 'bpe';
  /** number of ids: every id in [0, vocabSize) is a token */
  readonly vocabSize: number;
  readonly specialTokens: SpecialTokens;
  /** tokens outside the byte/merge vocabulary (special tokens), by id */
  readonly addedTokens: readonly AddedToken[];
  /**
   * Token ids of `text`. Throws TOKENIZER_INVALID_TEXT for a string with a
   * lone surrogate (see text.ts); every well-formed string round-trips:
   * decode(encode(s)) === s.
   */
  encode(text: string, options?: EncodeOptions): Int32Array;
  /**
   * Text of `ids`. Never throws for valid ids: byte sequences that are not
   * UTF-8 (an id sequence that splits a character) decode to U+FFFD. An id
   * outside [0, vocabSize) or not an integer is TOKENIZER_BAD_ID.
   */
  decode(ids: ArrayLike<number>, options?: DecodeOptions): string;
  /**
   * Raw bytes of one token (an added token gives its content's UTF-8), for
   * streaming decoders that must hold back incomplete characters.
   * TOKENIZER_BAD_ID when out of range.
   */
  tokenBytes(id: number): Uint8Array;
  /** The tokenizer as a Hugging Face tokenizer.json object (plain JSON data). */
  toHfJson(): HfTokenizerJson;
}

/** Names of the special tokens to create: bos and eos always, pad unless null. */
export interface SpecialTokenSpec {
  readonly bos?: string;
  readonly eos?: string;
  /** null for no pad token */
  readonly pad?: string | null;
  /** further special tokens (e.g. chat markers), ids after bos/eos/pad */
  readonly extra?: readonly string[];
}

/** Llama 3's names for the role tokens; pad is ours (Llama 3 has none). */
export const DEFAULT_SPECIAL_TOKENS = {
  bos: '<|begin_of_text|>',
  eos: '<|end_of_text|>',
  pad: '<|pad|>',
} as const;
