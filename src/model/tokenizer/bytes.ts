/**
 * The byte-level tokenizer: one token per UTF-8 byte (ids 0..255 = the byte
 * value) plus special tokens after them. For the tiniest runs and tests: no
 * training, no unknown tokens, every string encodable, 259 ids with the
 * default specials. It is exactly a byte-level BPE with no merges, and its
 * tokenizer.json says so (a BPE model with the 256 byte tokens and an empty
 * merge list), so Hugging Face tokenizers loads it as is.
 */
import { SwarmError } from '../../core/errors.ts';
import { TokenizerBase, checkAddedAgainstVocab } from './base.ts';
import { BYTE_TO_CHAR } from './byte-unicode.ts';
import { writeHfJson } from './hf-json.ts';
import type { HfTokenizerJson } from './hf-types.ts';
import { resolveSpecials } from './special.ts';
import { appendUtf8 } from './text.ts';
import type { AddedToken, SpecialTokenSpec, SpecialTokens } from './types.ts';

const BYTE_TOKENS: readonly Uint8Array[] = Array.from({ length: 256 }, (_, b) => Uint8Array.of(b));
const BYTE_ID_OF = new Map<string, number>(BYTE_TO_CHAR.map((c, b) => [c, b]));

export class ByteTokenizer extends TokenizerBase {
  readonly kind = 'byte' as const;

  /** `added` must have ids 256, 257, ... (see createByteTokenizer for the usual way in). */
  constructor(added: readonly AddedToken[], special: SpecialTokens) {
    super(BYTE_TOKENS, added, special);
    checkAddedAgainstVocab(added, 256, (key) => BYTE_ID_OF.get(key));
  }

  protected encodeOrdinary(text: string, out: number[]): void {
    appendUtf8(text, out);
  }

  toHfJson(): HfTokenizerJson {
    return writeHfJson({ tokens: BYTE_TOKENS, merges: [], added: this.addedTokens, bos: this.specialTokens.bos, ignoreMerges: false });
  }
}

/** A byte tokenizer with the given special tokens (default bos, eos, pad = ids 256, 257, 258). */
export function createByteTokenizer(specialTokens?: SpecialTokenSpec): ByteTokenizer {
  const r = resolveSpecials(specialTokens);
  for (const c of r.contents) {
    if (BYTE_ID_OF.has(c)) {
      throw new SwarmError('TOKENIZER_BAD_OPTIONS', 'a special token may not be spelled like a byte token', { content: c });
    }
  }
  const added = r.contents.map((content, i) => ({ id: 256 + i, content, special: true }));
  return new ByteTokenizer(added, { bos: 256 + r.bos, eos: 256 + r.eos, pad: r.pad === null ? null : 256 + r.pad });
}
