/**
 * Byte-level BPE encoding and decoding (Sennrich, Haddow & Birch 2016,
 * "Neural Machine Translation of Rare Words with Subword Units", ACL; byte
 * level as in GPT-2, Radford et al. 2019 §2.2): text -> GPT-2 pieces
 * (pretokenize.ts) -> UTF-8 bytes of each piece -> merges applied by rank.
 *
 * Merge order within a piece: repeatedly merge the adjacent pair with the
 * lowest merge rank; among equal ranks (the same pair at several places) the
 * leftmost first. This is exactly Hugging Face tokenizers' BPE
 * (models/bpe/word.rs, merge_all: a heap ordered by (rank, position)), so a
 * tokenizer.json we write encodes the same in both. It runs in
 * O(n log n) per piece with a linked list and a binary heap of
 * (rank, position) entries whose stale entries are skipped when popped; a
 * naive quadratic version in the tests checks it.
 *
 * Pieces repeat a lot (words), so their ids are cached by piece text. The
 * cache only saves time: the ids never depend on it.
 */
import { SwarmError } from '../../core/errors.ts';
import { bytesToTokenString } from './byte-unicode.ts';
import { TokenizerBase, checkAddedAgainstVocab } from './base.ts';
import { writeHfJson } from './hf-json.ts';
import type { HfTokenizerJson } from './hf-types.ts';
import { pretokenize } from './pretokenize.ts';
import { appendUtf8 } from './text.ts';
import type { AddedToken, SpecialTokens } from './types.ts';

/** Ids must fit 24 bits so that a pair (a, b) packs into one exact double. */
export const MAX_VOCAB = 1 << 24;
const PAIR_SHIFT = 0x1000000; // 2^24

/** One number per ordered pair of ids: a * 2^24 + b (< 2^48, exact). */
export function pairKey(a: number, b: number): number {
  return a * PAIR_SHIFT + b;
}

// Heap entries pack (rank, position) as rank * 2^28 + position: ranks < 2^24
// and positions < 2^28 keep it below 2^52, exact, and numeric order is
// (rank, position) order. Longer pieces are cut (see MAX_PIECE_BYTES).
const POS_SHIFT = 0x10000000; // 2^28
/** Pieces longer than this are encoded in chunks of this many bytes. */
const MAX_PIECE_BYTES = POS_SHIFT - 1;

/** Everything that defines a byte-level BPE tokenizer. */
export interface BpeParts {
  /** bytes of the ordinary tokens; the id is the index */
  readonly tokens: readonly Uint8Array[];
  /** merges in rank order: merge r joins (left id, right id) */
  readonly merges: readonly (readonly [number, number])[];
  /** added tokens: ids tokens.length, tokens.length+1, ... or equal to an ordinary token's */
  readonly added: readonly AddedToken[];
  readonly special: SpecialTokens;
  /**
   * HF's `ignore_merges`: a piece that is itself a token is emitted as that
   * token without running the merges (Llama 3 sets it). Default false.
   */
  readonly ignoreMerges?: boolean;
}

function bad(reason: string, message: string, details: Record<string, unknown> = {}): never {
  throw new SwarmError('TOKENIZER_BAD_FILE', message, { reason, ...details });
}

/** Min-heap of non-negative numbers. */
class NumberHeap {
  private a: number[] = [];
  get size(): number {
    return this.a.length;
  }
  push(v: number): void {
    const a = this.a;
    let i = a.length;
    a.push(v);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]! <= v) break;
      a[i] = a[p]!;
      i = p;
    }
    a[i] = v;
  }
  pop(): number {
    const a = this.a;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      let i = 0;
      const n = a.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && a[r]! < a[l]! ? r : l;
        if (a[c]! >= last) break;
        a[i] = a[c]!;
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}

const CACHE_LIMIT = 1 << 16;

export class BpeTokenizer extends TokenizerBase {
  readonly kind = 'bpe' as const;
  private readonly tokens: readonly Uint8Array[];
  private readonly merges: readonly (readonly [number, number])[];
  private readonly ignoreMerges: boolean;
  /** byte value -> id of its single-byte token */
  private readonly byteToId: Int32Array;
  /** pairKey(left, right) -> rank */
  private readonly rankOf: Map<number, number>;
  /** rank -> id of the merged token */
  private readonly mergeResult: Int32Array;
  /** byte-level token string -> id (ordinary tokens) */
  private readonly idOfString: Map<string, number>;
  private cache = new Map<string, readonly number[]>();

  /**
   * Checks the parts (TOKENIZER_BAD_FILE with details.reason: 'too-large',
   * 'duplicate-token', 'missing-byte', 'merge-unknown-token',
   * 'merge-unknown-result', 'duplicate-merge'; and base.ts's checks of the
   * added tokens) and builds the lookup tables.
   */
  constructor(parts: BpeParts) {
    super(parts.tokens, parts.added, parts.special);
    const tokens = this.idBytes.slice(0, parts.tokens.length); // base.ts's copies
    if (this.vocabSize > MAX_VOCAB) bad('too-large', `vocabulary larger than ${MAX_VOCAB}`, { size: this.vocabSize });
    this.tokens = tokens;
    this.ignoreMerges = parts.ignoreMerges === true;

    this.idOfString = new Map();
    this.byteToId = new Int32Array(256).fill(-1);
    for (let id = 0; id < tokens.length; id++) {
      const b = tokens[id]!;
      if (b.length === 0) bad('empty-token', 'a token has no bytes', { id });
      const s = bytesToTokenString(b);
      if (this.idOfString.has(s)) bad('duplicate-token', 'two ids have the same bytes', { id, other: this.idOfString.get(s) });
      this.idOfString.set(s, id);
      if (b.length === 1) this.byteToId[b[0]!] = id;
    }
    for (let byte = 0; byte < 256; byte++) {
      if (this.byteToId[byte]! < 0) bad('missing-byte', `no token for byte ${byte}`, { byte });
    }
    checkAddedAgainstVocab(parts.added, tokens.length, (key) => this.idOfString.get(key));

    this.merges = parts.merges.map(([a, b]) => [a, b] as const);
    this.rankOf = new Map();
    this.mergeResult = new Int32Array(parts.merges.length);
    parts.merges.forEach(([a, b], rank) => {
      if (!(a >= 0 && a < tokens.length && b >= 0 && b < tokens.length && Number.isInteger(a) && Number.isInteger(b))) {
        bad('merge-unknown-token', `merge ${rank} uses an id that is not an ordinary token`, { rank, left: a, right: b });
      }
      const key = pairKey(a, b);
      if (this.rankOf.has(key)) bad('duplicate-merge', `merge ${rank} repeats merge ${this.rankOf.get(key)}`, { rank });
      const joined = bytesToTokenString(tokens[a]!) + bytesToTokenString(tokens[b]!);
      const result = this.idOfString.get(joined);
      if (result === undefined) {
        bad('merge-unknown-result', `merge ${rank} makes a token that is not in the vocabulary`, { rank, token: joined });
      }
      this.rankOf.set(key, rank);
      this.mergeResult[rank] = result;
    });
  }

  /** Number of merges. */
  get mergeCount(): number {
    return this.merges.length;
  }

  /** The parts this tokenizer was built from (copies). */
  toParts(): BpeParts {
    return {
      tokens: this.tokens.map((t) => t.slice()),
      merges: this.merges.map(([a, b]) => [a, b] as const),
      added: this.addedTokens.map((t) => ({ ...t })),
      special: { ...this.specialTokens },
      ignoreMerges: this.ignoreMerges,
    };
  }

  toHfJson(): HfTokenizerJson {
    return writeHfJson({
      tokens: this.tokens,
      merges: this.merges,
      added: this.addedTokens,
      bos: this.specialTokens.bos,
      ignoreMerges: this.ignoreMerges,
    });
  }

  protected encodeOrdinary(text: string, out: number[]): void {
    pretokenize(text, (piece) => {
      let ids = this.cache.get(piece);
      if (ids === undefined) {
        ids = this.encodePiece(piece);
        if (this.cache.size >= CACHE_LIMIT) this.cache = new Map();
        this.cache.set(piece, ids);
      }
      for (let i = 0; i < ids.length; i++) out.push(ids[i]!);
    });
  }

  /** Ids of one pre-tokenized piece. */
  private encodePiece(piece: string): number[] {
    const bytes: number[] = [];
    appendUtf8(piece, bytes);
    if (this.ignoreMerges) {
      const whole = this.idOfString.get(bytesToTokenString(bytes));
      if (whole !== undefined) return [whole];
    }
    if (bytes.length <= MAX_PIECE_BYTES) return this.mergeBytes(bytes);
    const out: number[] = [];
    for (let i = 0; i < bytes.length; i += MAX_PIECE_BYTES) out.push(...this.mergeBytes(bytes.slice(i, i + MAX_PIECE_BYTES)));
    return out;
  }

  /** Applies the merges to a byte string: lowest rank first, then leftmost. */
  mergeBytes(bytes: ArrayLike<number>): number[] {
    const n = bytes.length;
    const ids = new Int32Array(n);
    for (let i = 0; i < n; i++) ids[i] = this.byteToId[bytes[i]!]!;
    if (n < 2 || this.merges.length === 0) return Array.from(ids);
    // Doubly linked list over positions; a merge keeps the left position and
    // unlinks the right one.
    const next = new Int32Array(n);
    const prev = new Int32Array(n);
    const gone = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      next[i] = i + 1 < n ? i + 1 : -1;
      prev[i] = i - 1;
    }
    const heap = new NumberHeap();
    const rankOf = this.rankOf;
    for (let i = 0; i + 1 < n; i++) {
      const r = rankOf.get(pairKey(ids[i]!, ids[i + 1]!));
      if (r !== undefined) heap.push(r * POS_SHIFT + i);
    }
    while (heap.size > 0) {
      const v = heap.pop();
      const pos = v % POS_SHIFT;
      const rank = (v - pos) / POS_SHIFT;
      if (gone[pos] === 1) continue;
      const right = next[pos]!;
      if (right < 0) continue;
      // Stale entry: the pair at pos changed since it was pushed. Ranks are
      // unique per pair, so an equal rank means the same pair.
      if (rankOf.get(pairKey(ids[pos]!, ids[right]!)) !== rank) continue;
      ids[pos] = this.mergeResult[rank]!;
      gone[right] = 1;
      const after = next[right]!;
      next[pos] = after;
      if (after >= 0) prev[after] = pos;
      const before = prev[pos]!;
      if (before >= 0) {
        const r = rankOf.get(pairKey(ids[before]!, ids[pos]!));
        if (r !== undefined) heap.push(r * POS_SHIFT + before);
      }
      if (after >= 0) {
        const r = rankOf.get(pairKey(ids[pos]!, ids[after]!));
        if (r !== undefined) heap.push(r * POS_SHIFT + pos);
      }
    }
    const out: number[] = [];
    for (let i = 0; i >= 0; i = next[i]!) out.push(ids[i]!);
    return out;
  }
}
