/**
 * Training a byte-level BPE vocabulary (Sennrich et al. 2016, Algorithm 1,
 * on bytes as in GPT-2, Radford et al. 2019 §2.2).
 *
 * Procedure:
 *  1. Split every document with the GPT-2 pattern (pretokenize.ts) and count
 *     the distinct pieces ("words"). Merges never cross a piece, and every
 *     occurrence of a word merges alike, so the rest works on distinct words
 *     weighted by their counts (the word-frequency table of Sennrich et al.).
 *  2. Start from the 256 byte tokens (ids = byte values) and count adjacent
 *     pairs over the words.
 *  3. Repeatedly merge the best pair into a new token until the vocabulary has
 *     `vocabSize` ids (counting the special tokens) or no pair occurs at least
 *     `minFrequency` times.
 *
 * Tie-breaking rule (the determinism contract): the best pair is the one
 * with the highest count; among equal counts, the lexicographically smallest
 * (left id, right id). Ids are integers and counts exact integer sums, so
 * the result depends on the multiset of documents' pieces only — not on
 * hashing, Map order, thread count or the machine. (Hugging Face's
 * BpeTrainer breaks ties the same way, by the smaller pair.)
 *
 * Merging a pair (a, b) replaces its occurrences in each word left to right,
 * non-overlapping ("aaa" with (a, a) gives [aa, a]). If the merged bytes are
 * already a token (two different pairs can spell the same bytes: (ab, c)
 * and (a, bc)), the existing id is reused and the merge is still recorded,
 * as HF's trainer does; the vocabulary then grows by one token less.
 *
 * Speed: instead of recounting all pairs after each merge (O(corpus) per
 * merge), pair counts are updated incrementally, touching only the words that
 * contain the merged pair (an index pair -> words), and the best pair comes
 * from a max-heap with lazy deletion: an entry whose stored count is stale is
 * re-pushed with the current count when popped. Counts only fall, except for
 * pairs that a merge creates or extends, which are pushed afresh, so a popped
 * entry whose count is current is the true maximum. Test code holds a naive
 * trainer (full recount per merge) that must give identical merges.
 */
import { SwarmError } from '../../core/errors.ts';
import { BpeTokenizer, MAX_VOCAB, pairKey } from './bpe.ts';
import { BYTE_TO_CHAR } from './byte-unicode.ts';
import { pretokenize } from './pretokenize.ts';
import { resolveSpecials } from './special.ts';
import { assertWellFormed, utf8Bytes } from './text.ts';
import type { AddedToken, SpecialTokenSpec } from './types.ts';

export interface TrainBpeOptions {
  /**
   * Total number of ids wanted: 256 byte tokens + merged tokens + special
   * tokens. Reached exactly unless the corpus runs out of pairs that occur
   * at least minFrequency times (then the vocabulary is smaller).
   */
  readonly vocabSize: number;
  /** default: bos <|begin_of_text|>, eos <|end_of_text|>, pad <|pad|> */
  readonly specialTokens?: SpecialTokenSpec;
  /** a pair is merged only if it occurs at least this often (default 2) */
  readonly minFrequency?: number;
}

const PAIR_SHIFT = 0x1000000; // must match bpe.ts pairKey

/**
 * Max-heap of (count, pair key): higher count first, then smaller key, i.e.
 * the smaller (left, right) pair, since key = left * 2^24 + right.
 */
class PairHeap {
  private counts: number[] = [];
  private keys: number[] = [];

  get size(): number {
    return this.keys.length;
  }

  private before(ci: number, ki: number, cj: number, kj: number): boolean {
    return ci > cj || (ci === cj && ki < kj);
  }

  push(count: number, key: number): void {
    const c = this.counts;
    const k = this.keys;
    let i = k.length;
    c.push(count);
    k.push(key);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(count, key, c[p]!, k[p]!)) break;
      c[i] = c[p]!;
      k[i] = k[p]!;
      i = p;
    }
    c[i] = count;
    k[i] = key;
  }

  /** Removes the top; returns [count, key]. */
  pop(): [number, number] {
    const c = this.counts;
    const k = this.keys;
    const top: [number, number] = [c[0]!, k[0]!];
    const lc = c.pop()!;
    const lk = k.pop()!;
    const n = k.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const m = r < n && this.before(c[r]!, k[r]!, c[l]!, k[l]!) ? r : l;
        if (!this.before(c[m]!, k[m]!, lc, lk)) break;
        c[i] = c[m]!;
        k[i] = k[m]!;
        i = m;
      }
      c[i] = lc;
      k[i] = lk;
    }
    return top;
  }
}

function badOption(message: string, details?: Record<string, unknown>): never {
  throw new SwarmError('TOKENIZER_BAD_OPTIONS', message, details);
}

/** Counts of the distinct GPT-2 pieces of the documents, in first-seen order. */
export function countPieces(texts: Iterable<string> | string): Map<string, number> {
  const docs: Iterable<string> = typeof texts === 'string' ? [texts] : texts;
  const counts = new Map<string, number>();
  const add = (piece: string): void => {
    counts.set(piece, (counts.get(piece) ?? 0) + 1);
  };
  let index = 0;
  for (const doc of docs) {
    try {
      assertWellFormed(doc);
    } catch (e) {
      if (e instanceof SwarmError) throw new SwarmError(e.code, `document ${index}: ${e.message}`, { ...e.details, document: index });
      throw e;
    }
    pretokenize(doc, add);
    index++;
  }
  return counts;
}

/**
 * Trains a byte-level BPE tokenizer on `texts` (documents; a single string
 * is one document). Deterministic: the same documents give the same
 * vocabulary, merges and ids. Special tokens get the ids after the merged
 * tokens. TOKENIZER_BAD_OPTIONS for bad options, TOKENIZER_INVALID_TEXT for a
 * document with a lone surrogate.
 */
export function trainBpe(texts: Iterable<string> | string, options: TrainBpeOptions): BpeTokenizer {
  if (typeof options !== 'object' || options === null) badOption('options must be an object');
  const specials = resolveSpecials(options.specialTokens);
  const nSpecial = specials.contents.length;
  const vocabSize = options.vocabSize;
  if (!Number.isInteger(vocabSize) || vocabSize < 256 + nSpecial || vocabSize > MAX_VOCAB) {
    badOption(`vocabSize must be an integer in [${256 + nSpecial}, ${MAX_VOCAB}]`, { vocabSize: String(vocabSize) });
  }
  const minFrequency = options.minFrequency ?? 2;
  if (!Number.isSafeInteger(minFrequency) || minFrequency < 0) {
    badOption('minFrequency must be a non-negative integer', { minFrequency: String(minFrequency) });
  }
  const minCount = Math.max(1, minFrequency);
  const targetTokens = vocabSize - nSpecial;

  // Token table: bytes and byte-level string per id; ids 0..255 are bytes.
  const tokenBytes: Uint8Array[] = [];
  const tokenStr: string[] = [];
  const idOfStr = new Map<string, number>();
  for (let b = 0; b < 256; b++) {
    tokenBytes.push(Uint8Array.of(b));
    tokenStr.push(BYTE_TO_CHAR[b]!);
    idOfStr.set(BYTE_TO_CHAR[b]!, b);
  }

  // Distinct words of two or more bytes (a one-byte word has no pair).
  const words: number[][] = [];
  const wordCount: number[] = [];
  for (const [piece, count] of countPieces(texts)) {
    const bytes = utf8Bytes(piece);
    if (bytes.length < 2) continue;
    words.push(Array.from(bytes));
    wordCount.push(count);
  }

  // Pair counts and, per pair, the words that (may) contain it.
  const pairCount = new Map<number, number>();
  const pairWords = new Map<number, number[]>();
  const noteWord = (key: number, w: number): void => {
    const list = pairWords.get(key);
    if (list === undefined) pairWords.set(key, [w]);
    else if (list[list.length - 1] !== w) list.push(w);
  };
  for (let w = 0; w < words.length; w++) {
    const s = words[w]!;
    const c = wordCount[w]!;
    for (let i = 0; i + 1 < s.length; i++) {
      const key = pairKey(s[i]!, s[i + 1]!);
      pairCount.set(key, (pairCount.get(key) ?? 0) + c);
      noteWord(key, w);
    }
  }
  const heap = new PairHeap();
  for (const [key, count] of pairCount) if (count >= minCount) heap.push(count, key);

  const merges: [number, number][] = [];
  const merged = new Set<number>();
  const seenInMerge = new Int32Array(words.length).fill(-1);
  let step = 0;

  while (tokenBytes.length < targetTokens && heap.size > 0) {
    const [stored, key] = heap.pop();
    const actual = pairCount.get(key) ?? 0;
    if (actual !== stored) {
      if (actual >= minCount) heap.push(actual, key);
      continue;
    }
    // `stored` is current, so this is the best pair; below minCount means no pair qualifies.
    if (actual < minCount) break;
    const a = Math.floor(key / PAIR_SHIFT);
    const b = key - a * PAIR_SHIFT;

    const str = tokenStr[a]! + tokenStr[b]!;
    let id = idOfStr.get(str);
    if (id === undefined) {
      id = tokenBytes.length;
      const bytes = new Uint8Array(tokenBytes[a]!.length + tokenBytes[b]!.length);
      bytes.set(tokenBytes[a]!, 0);
      bytes.set(tokenBytes[b]!, tokenBytes[a]!.length);
      tokenBytes.push(bytes);
      tokenStr.push(str);
      idOfStr.set(str, id);
    }
    // A pair merged before can only come back through a reused id; it is
    // merged again here (the word state must stay right) but listed once.
    if (!merged.has(key)) {
      merged.add(key);
      merges.push([a, b]);
    }

    const changed = new Set<number>();
    const dec = (x: number, y: number, c: number): void => {
      const k = pairKey(x, y);
      const left = pairCount.get(k)! - c;
      if (left === 0) pairCount.delete(k);
      else pairCount.set(k, left);
    };
    const inc = (x: number, y: number, c: number, w: number): void => {
      const k = pairKey(x, y);
      pairCount.set(k, (pairCount.get(k) ?? 0) + c);
      noteWord(k, w);
      changed.add(k);
    };
    const list = pairWords.get(key) ?? [];
    pairWords.delete(key);
    for (const w of list) {
      if (seenInMerge[w] === step) continue;
      seenInMerge[w] = step;
      const s = words[w]!;
      const c = wordCount[w]!;
      const out: number[] = [];
      let i = 0;
      let hit = false;
      while (i < s.length) {
        if (i + 1 < s.length && s[i] === a && s[i + 1] === b) {
          hit = true;
          // Account on the current (partly merged) state, so that two
          // occurrences in a row (a b a b -> N N) come out right.
          if (out.length > 0) {
            const p = out[out.length - 1]!;
            dec(p, a, c);
            inc(p, id, c, w);
          }
          dec(a, b, c);
          if (i + 2 < s.length) {
            const q = s[i + 2]!;
            dec(b, q, c);
            inc(id, q, c, w);
          }
          out.push(id);
          i += 2;
        } else {
          out.push(s[i]!);
          i++;
        }
      }
      if (hit) words[w] = out;
    }
    for (const k of changed) {
      const count = pairCount.get(k) ?? 0;
      if (count >= minCount) heap.push(count, k);
    }
    step++;
  }

  const added: AddedToken[] = specials.contents.map((content, i) => {
    if (idOfStr.has(content)) {
      badOption('a special token is spelled like a trained token', { content });
    }
    return { id: tokenBytes.length + i, content, special: true };
  });
  const base = tokenBytes.length;
  return new BpeTokenizer({
    tokens: tokenBytes,
    merges,
    added,
    special: { bos: base + specials.bos, eos: base + specials.eos, pad: specials.pad === null ? null : base + specials.pad },
  });
}
