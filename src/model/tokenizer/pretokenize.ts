/**
 * GPT-2 pre-tokenization: the text is cut into pieces before BPE, and merges
 * never cross a piece boundary (Radford et al. 2019, §2.2: BPE "was observed
 * to include many versions of common words like dog. dog! dog?", so merges
 * across character categories are prevented). The pattern is GPT-2's
 * (openai/gpt-2 encoder.py), which Hugging Face's ByteLevel pre-tokenizer
 * with use_regex: true also uses (pre_tokenizers/byte_level.rs):
 *
 *   's|'t|'re|'ve|'m|'ll|'d       English contractions
 *    ?\p{L}+                      a word, with its leading space
 *    ?\p{N}+                      a number, with its leading space
 *    ?[^\s\p{L}\p{N}]+            punctuation/symbols, with its leading space
 *   \s+(?!\S)                     whitespace, leaving the last space to the next word
 *   \s+                           trailing whitespace
 *
 * `\s` is written \p{White_Space} because JS's \s differs from the Unicode
 * property that Oniguruma (HF) and Python `regex` (GPT-2) use: JS adds
 * U+FEFF and lacks U+0085. With \p{White_Space} the three agree.
 *
 * Determinism note: \p{L}, \p{N} and \p{White_Space} come from the Unicode
 * tables of the JS engine (V8's ICU). A character assigned in a newer Unicode
 * version than the engine knows is treated as "other" (the punctuation
 * class), so engines on different Unicode versions could split such rare
 * text differently. Machines that must agree bit for bit should run the same
 * Node major version, or exchange token ids instead of text.
 */

const PATTERN = String.raw`'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\p{White_Space}\p{L}\p{N}]+|\p{White_Space}+(?!\P{White_Space})|\p{White_Space}+`;

/** The GPT-2 split pattern (JS syntax, needs the `u` flag). */
export const GPT2_SPLIT_REGEX = new RegExp(PATTERN, 'gu');

/**
 * Calls `emit` with each piece of `text`, in order. The pieces concatenate
 * to `text` (a character matched by no branch, which the pattern does not
 * allow for well-formed text, would still be emitted as its own piece, as
 * HF's "Isolated" split behaviour does).
 */
export function pretokenize(text: string, emit: (piece: string) => void): void {
  // A fresh RegExp per call: `lastIndex` is state, and `emit` may itself
  // pre-tokenize (e.g. a tokenizer used inside a training callback).
  const re = new RegExp(GPT2_SPLIT_REGEX);
  let last = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    if (m.index > last) emit(text.slice(last, m.index));
    emit(m[0]);
    last = m.index + m[0].length;
    // No branch matches the empty string, so exec always advances.
  }
  if (last < text.length) emit(text.slice(last));
}

/** The pieces of `text` as an array (for tests and tools). */
export function pretokenizeToArray(text: string): string[] {
  const out: string[] = [];
  pretokenize(text, (p) => out.push(p));
  return out;
}
