/**
 * Special (added) tokens: checking the names a caller asks for, and finding
 * their contents inside text when the caller allows it.
 *
 * Matching rule: leftmost match first; of several tokens matching at the same
 * place, the longest. This is the rule of Hugging Face tokenizers'
 * AddedVocabulary (an Aho-Corasick automaton in LeftmostLongest mode), so
 * both give the same split for the files we write.
 */
import { SwarmError } from '../../core/errors.ts';
import { findLoneSurrogate } from '../../core/encoding.ts';
import { DEFAULT_SPECIAL_TOKENS } from './types.ts';
import type { AddedToken, SpecialTokenSpec } from './types.ts';

/** The special tokens to create, in id order, and the positions of the roles in that list. */
export interface ResolvedSpecials {
  readonly contents: readonly string[];
  readonly bos: number;
  readonly eos: number;
  readonly pad: number | null;
}

function checkContent(s: unknown, what: string): string {
  if (typeof s !== 'string' || s.length === 0) {
    throw new SwarmError('TOKENIZER_BAD_OPTIONS', `${what} must be a non-empty string`, { what });
  }
  if (findLoneSurrogate(s) >= 0) {
    throw new SwarmError('TOKENIZER_BAD_OPTIONS', `${what} contains a lone surrogate`, { what });
  }
  return s;
}

/** Checks a SpecialTokenSpec and fills in the defaults (TOKENIZER_BAD_OPTIONS when invalid). */
export function resolveSpecials(spec: SpecialTokenSpec | undefined): ResolvedSpecials {
  const s = spec ?? {};
  if (typeof s !== 'object' || s === null) {
    throw new SwarmError('TOKENIZER_BAD_OPTIONS', 'specialTokens must be an object');
  }
  const contents = [
    checkContent(s.bos ?? DEFAULT_SPECIAL_TOKENS.bos, 'specialTokens.bos'),
    checkContent(s.eos ?? DEFAULT_SPECIAL_TOKENS.eos, 'specialTokens.eos'),
  ];
  let pad: number | null = null;
  const padName = s.pad === undefined ? DEFAULT_SPECIAL_TOKENS.pad : s.pad;
  if (padName !== null) {
    pad = contents.length;
    contents.push(checkContent(padName, 'specialTokens.pad'));
  }
  const extra = s.extra ?? [];
  if (!Array.isArray(extra)) throw new SwarmError('TOKENIZER_BAD_OPTIONS', 'specialTokens.extra must be an array');
  extra.forEach((e, i) => contents.push(checkContent(e, `specialTokens.extra[${i}]`)));
  if (new Set(contents).size !== contents.length) {
    throw new SwarmError('TOKENIZER_BAD_OPTIONS', 'special token names must be distinct', { contents });
  }
  return { contents, bos: 0, eos: 1, pad };
}

/** A piece of text, or an added token found in it. */
export type Piece = string | AddedToken;

/**
 * Splits text around the added tokens it contains (leftmost, then longest).
 * Built once per tokenizer.
 */
export class AddedTokenMatcher {
  private readonly tokens: readonly AddedToken[];

  constructor(tokens: readonly AddedToken[]) {
    // Longest first, so that at equal positions the first found is the longest.
    this.tokens = [...tokens].sort((a, b) => b.content.length - a.content.length || a.id - b.id);
  }

  split(text: string): Piece[] {
    const out: Piece[] = [];
    if (this.tokens.length === 0) {
      if (text.length > 0) out.push(text);
      return out;
    }
    // next[i] = index of the next occurrence of tokens[i] at or after `pos`.
    const next = this.tokens.map((t) => text.indexOf(t.content));
    let pos = 0;
    for (;;) {
      let best = -1;
      for (let i = 0; i < next.length; i++) {
        if (next[i]! < pos) next[i] = next[i]! < 0 ? -1 : text.indexOf(this.tokens[i]!.content, pos);
        if (next[i]! >= 0 && (best < 0 || next[i]! < next[best]!)) best = i;
      }
      if (best < 0) break;
      const at = next[best]!;
      if (at > pos) out.push(text.slice(pos, at));
      out.push(this.tokens[best]!);
      pos = at + this.tokens[best]!.content.length;
    }
    if (pos < text.length) out.push(text.slice(pos));
    return out;
  }
}
