/**
 * Tokenizers for the swarm's Llama-style models.
 *
 *   createByteTokenizer(spec?)           256 byte tokens + specials (bytes.ts)
 *   trainBpe(texts, { vocabSize, ... })  deterministic byte-level BPE training (train-bpe.ts)
 *   tok.encode / tok.decode              text <-> Int32Array ids (types.ts: Tokenizer)
 *   tok.toHfJson()                       Hugging Face tokenizer.json object (hf-json.ts)
 *   loadHfTokenizer / parseHfTokenizer   checked loading of tokenizer.json (hf-load.ts)
 *   tokenizerHash(tok)                   content address of a tokenizer
 */
import { canonicalBytes } from '../../core/canonical-json.ts';
import { sha256Hex } from '../../core/sha256.ts';
import type { Tokenizer } from './types.ts';

export { BpeTokenizer, MAX_VOCAB } from './bpe.ts';
export type { BpeParts } from './bpe.ts';
export { ByteTokenizer, createByteTokenizer } from './bytes.ts';
export { BYTE_TO_CHAR, bytesToTokenString, tokenStringToBytes } from './byte-unicode.ts';
export { writeHfJson } from './hf-json.ts';
export { loadHfTokenizer, parseHfTokenizer } from './hf-load.ts';
export type { HfLoadOptions } from './hf-load.ts';
export type { HfTokenizerJson, HfAddedToken, HfBpeModel } from './hf-types.ts';
export { GPT2_SPLIT_REGEX, pretokenize, pretokenizeToArray } from './pretokenize.ts';
export { countPieces, trainBpe } from './train-bpe.ts';
export type { TrainBpeOptions } from './train-bpe.ts';
export { DEFAULT_SPECIAL_TOKENS } from './types.ts';
export type { AddedToken, DecodeOptions, EncodeOptions, SpecialTokens, SpecialTokenSpec, Tokenizer } from './types.ts';

/**
 * SHA-256 (hex) of the canonical JSON (RFC 8785) of the tokenizer's
 * tokenizer.json: the id a run records for its tokenizer. Two tokenizers with
 * the same hash encode every text alike.
 */
export function tokenizerHash(tok: Tokenizer): string {
  return sha256Hex(canonicalBytes(tok.toHfJson()));
}

/**
 * The companion tokenizer_config.json that transformers reads next to
 * tokenizer.json (it names the role tokens, which tokenizer.json cannot).
 */
export function hfTokenizerConfig(tok: Tokenizer): Record<string, unknown> {
  const content = (id: number | null): string | null => {
    if (id === null) return null;
    const t = tok.addedTokens.find((a) => a.id === id);
    return t === undefined ? null : t.content;
  };
  return {
    tokenizer_class: 'PreTrainedTokenizerFast',
    bos_token: content(tok.specialTokens.bos),
    eos_token: content(tok.specialTokens.eos),
    pad_token: content(tok.specialTokens.pad),
    clean_up_tokenization_spaces: false,
  };
}
