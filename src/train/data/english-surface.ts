/**
 * The surface form of the synthetic English: how a sequence of symbols
 * (lower-case words, punctuation, the end-of-document newline) is written as
 * text, and how text is read back.
 *
 * Rules (deterministic from the symbol sequence alone):
 *  - a word is preceded by one space unless it is the first symbol or follows
 *    a newline; punctuation and the newline attach to what precedes them;
 *  - a word is capitalised (first letter upper case) when it opens the text or
 *    follows ".", "?", "!" or a newline.
 * Words are ASCII [a-z]+, so capitalisation is invertible and one byte per
 * letter. The map symbols → text is injective, and `parseSurface` is its
 * inverse on its image: it tokenises, undoes the capitalisation, and accepts
 * only if re-rendering reproduces the input exactly. This injectivity is what
 * lets P(text) = P(symbol sequence) in the entropy floor.
 */

export const PUNCTUATION: ReadonlySet<string> = new Set(['.', ',', '?', '!', ';', ':', '\n']);
const SENTENCE_END: ReadonlySet<string> = new Set(['.', '?', '!', '\n']);
const WORD = /^[a-z]+$/;

/** True for symbols the surface can write: [a-z]+ words and PUNCTUATION. */
export function isSurfaceSymbol(s: string): boolean {
  return WORD.test(s) || PUNCTUATION.has(s);
}

export function isWordSymbol(s: string): boolean {
  return WORD.test(s);
}

/** Text of a symbol sequence (see the header for the rules). */
export function renderSurface(symbols: readonly string[]): string {
  let out = '';
  let prev: string | undefined;
  for (const s of symbols) {
    if (WORD.test(s)) {
      const opens = prev === undefined || SENTENCE_END.has(prev);
      if (prev !== undefined && prev !== '\n') out += ' ';
      out += opens ? s[0]!.toUpperCase() + s.slice(1) : s;
    } else {
      out += s;
    }
    prev = s;
  }
  return out;
}

/** Bytes that `symbol` adds to the text after `prev` (undefined at the start); ASCII, so bytes = characters. */
export function surfaceByteLength(symbol: string, prev: string | undefined): number {
  return symbol.length + (WORD.test(symbol) && prev !== undefined && prev !== '\n' ? 1 : 0);
}

const TOKEN = /[A-Za-z]+|[^A-Za-z ]/g;

/** The symbol sequence whose rendering is exactly `text`, or null when there is none. */
export function parseSurface(text: string): string[] | null {
  const out: string[] = [];
  for (const m of text.matchAll(TOKEN)) {
    const t = m[0];
    if (/^[A-Za-z]/.test(t)) out.push(t.toLowerCase());
    else if (PUNCTUATION.has(t)) out.push(t);
    else return null;
  }
  return renderSurface(out) === text ? out : null;
}
