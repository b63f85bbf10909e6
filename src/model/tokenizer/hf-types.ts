/**
 * Shape of the Hugging Face `tokenizers` serialization ("tokenizer.json",
 * format version "1.0"; tokenizers/src/tokenizer/serialization.rs), limited
 * to the parts a byte-level BPE tokenizer uses. These are the types we
 * write; the loader (hf-json.ts) checks untrusted files against them by hand.
 */

export interface HfAddedToken {
  id: number;
  content: string;
  single_word: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

export interface HfByteLevel {
  type: 'ByteLevel';
  add_prefix_space: boolean;
  trim_offsets: boolean;
  use_regex: boolean;
}

/** One piece of a TemplateProcessing template. */
export type HfTemplatePiece =
  | { SpecialToken: { id: string; type_id: number } }
  | { Sequence: { id: 'A' | 'B'; type_id: number } };

export interface HfTemplateProcessing {
  type: 'TemplateProcessing';
  single: HfTemplatePiece[];
  pair: HfTemplatePiece[];
  special_tokens: Record<string, { id: string; ids: number[]; tokens: string[] }>;
}

export interface HfBpeModel {
  type: 'BPE';
  dropout: null;
  unk_token: null;
  continuing_subword_prefix: null;
  end_of_word_suffix: null;
  fuse_unk: boolean;
  byte_fallback: boolean;
  ignore_merges: boolean;
  /** byte-level token string -> id */
  vocab: Record<string, number>;
  /** "left right" in rank order (lowest rank = first merge) */
  merges: string[];
}

export interface HfTokenizerJson {
  version: '1.0';
  truncation: null;
  padding: null;
  added_tokens: HfAddedToken[];
  normalizer: null;
  pre_tokenizer: HfByteLevel;
  post_processor: HfTemplateProcessing | null;
  decoder: HfByteLevel;
  model: HfBpeModel;
}
