/**
 * Naive reference implementations (nanoGPT / llm.c style: a slow, obviously
 * right version beside every fast one). The tests require the fast code in
 * src/model/tokenizer to agree with these exactly.
 */
import { countPieces } from '../../../src/model/tokenizer/train-bpe.ts';

/**
 * BPE encoding of one piece, the textbook way: while some adjacent pair has a
 * merge, merge the one with the lowest rank (leftmost among equals).
 * `rankOf` maps "a,b" to [rank, result id]. O(n^2) per piece.
 */
export function naiveMerge(ids: number[], rankOf: Map<string, [number, number]>): number[] {
  const s = [...ids];
  for (;;) {
    let best = -1;
    let bestRank = Infinity;
    for (let i = 0; i + 1 < s.length; i++) {
      const r = rankOf.get(`${s[i]},${s[i + 1]}`);
      if (r !== undefined && r[0] < bestRank) {
        bestRank = r[0];
        best = i;
      }
    }
    if (best < 0) return s;
    s.splice(best, 2, rankOf.get(`${s[best]},${s[best + 1]}`)![1]);
  }
}

export interface NaiveTrainResult {
  /** bytes of every token, ids 0..n-1 */
  tokens: number[][];
  merges: [number, number][];
}

/**
 * BPE training (Sennrich et al. 2016, Algorithm 1) with a full recount of all
 * pairs before every merge. Same rules as train-bpe.ts: best = highest count,
 * then smallest (left, right); merges left to right; an existing token with
 * the same bytes is reused; `targetTokens` excludes special tokens.
 */
export function naiveTrain(texts: string[], targetTokens: number, minFrequency: number): NaiveTrainResult {
  const tokens: number[][] = Array.from({ length: 256 }, (_, b) => [b]);
  const idOf = new Map<string, number>(tokens.map((t, i) => [t.join(','), i]));
  const words: { s: number[]; c: number }[] = [];
  for (const [piece, c] of countPieces(texts)) words.push({ s: Array.from(new TextEncoder().encode(piece)), c });
  const merges: [number, number][] = [];
  const done = new Set<string>();
  const minCount = Math.max(1, minFrequency);
  while (tokens.length < targetTokens) {
    const counts = new Map<string, number>();
    for (const { s, c } of words) {
      for (let i = 0; i + 1 < s.length; i++) {
        const k = `${s[i]},${s[i + 1]}`;
        counts.set(k, (counts.get(k) ?? 0) + c);
      }
    }
    let best: [number, number] | null = null;
    let bestCount = 0;
    for (const [k, c] of counts) {
      const [a, b] = k.split(',').map(Number) as [number, number];
      if (best === null || c > bestCount || (c === bestCount && (a < best[0] || (a === best[0] && b < best[1])))) {
        best = [a, b];
        bestCount = c;
      }
    }
    if (best === null || bestCount < minCount) break;
    const [a, b] = best;
    const bytes = [...tokens[a]!, ...tokens[b]!];
    let id = idOf.get(bytes.join(','));
    if (id === undefined) {
      id = tokens.length;
      tokens.push(bytes);
      idOf.set(bytes.join(','), id);
    }
    if (!done.has(`${a},${b}`)) {
      done.add(`${a},${b}`);
      merges.push([a, b]);
    }
    for (const w of words) {
      const out: number[] = [];
      for (let i = 0; i < w.s.length; i++) {
        if (i + 1 < w.s.length && w.s[i] === a && w.s[i + 1] === b) {
          out.push(id);
          i++;
        } else {
          out.push(w.s[i]!);
        }
      }
      w.s = out;
    }
  }
  return { tokens, merges };
}
