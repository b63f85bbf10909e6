/**
 * What the byte-level and the BPE tokenizer share: the id -> bytes table,
 * added (special) tokens, BOS/EOS handling, and decoding. Subclasses supply
 * only encodeOrdinary (text without special tokens -> ids) and toHfJson.
 */
import { findLoneSurrogate } from '../../core/encoding.ts';
import { SwarmError } from '../../core/errors.ts';
import type { HfTokenizerJson } from './hf-types.ts';
import { AddedTokenMatcher } from './special.ts';
import { assertWellFormed, decodeUtf8Lossy, utf8Bytes } from './text.ts';
import type { AddedToken, DecodeOptions, EncodeOptions, SpecialTokens, Tokenizer } from './types.ts';

/** Upper bound on ids, so that a hostile file cannot make us allocate 2^53 slots. */
const MAX_IDS = 1 << 24;

/**
 * Checks that each added token agrees with the ordinary vocabulary the way
 * Hugging Face assigns ids (AddedVocabulary::add_tokens): a content that is
 * itself a vocabulary key takes that key's id; any other content takes a new
 * id after the ordinary ones. `modelIdOf` looks a string up as a vocabulary
 * key (byte-level form). TOKENIZER_BAD_FILE reason 'added-token-id'.
 */
export function checkAddedAgainstVocab(
  added: readonly AddedToken[],
  n: number,
  modelIdOf: (key: string) => number | undefined,
): void {
  for (const t of added) {
    const modelId = modelIdOf(t.content);
    const ok = modelId === undefined ? t.id >= n : t.id === modelId;
    if (!ok) {
      throw new SwarmError('TOKENIZER_BAD_FILE', `added token ${JSON.stringify(t.content)} has the wrong id`, {
        reason: 'added-token-id',
        id: t.id,
        expected: modelId ?? `>= ${n}`,
      });
    }
  }
}

export abstract class TokenizerBase implements Tokenizer {
  abstract readonly kind: 'byte' | 'bpe';
  readonly vocabSize: number;
  readonly specialTokens: SpecialTokens;
  readonly addedTokens: readonly AddedToken[];
  /** bytes of every id; added tokens hold their content's UTF-8 */
  protected readonly idBytes: readonly Uint8Array[];
  /** 1 where the id is a special added token (skipped by skipSpecial) */
  private readonly isSpecial: Uint8Array;
  private readonly matcher: AddedTokenMatcher;

  /**
   * `modelBytes[id]` are the bytes of the ordinary tokens (ids 0..n-1);
   * `added` are the added tokens, either past the end (ids n, n+1, ...) or
   * shadowing an ordinary token of the same bytes (GPT-2's <|endoftext|>).
   */
  protected constructor(modelBytes: readonly Uint8Array[], added: readonly AddedToken[], special: SpecialTokens) {
    const n = modelBytes.length;
    // Copies: a caller's later writes to its arrays must not change our ids.
    const idBytes: Uint8Array[] = modelBytes.map((b) => Uint8Array.from(b));
    const seenIds = new Set<number>();
    const seenContent = new Set<string>();
    for (const t of added) {
      if (!Number.isInteger(t.id) || t.id < 0 || t.id >= MAX_IDS) {
        throw new SwarmError('TOKENIZER_BAD_FILE', 'added token id out of range', { reason: 'id-range', id: t.id });
      }
      if (typeof t.content !== 'string' || t.content.length === 0 || findLoneSurrogate(t.content) >= 0) {
        throw new SwarmError('TOKENIZER_BAD_FILE', 'added token content must be a non-empty well-formed string', {
          reason: 'type',
          id: t.id,
        });
      }
      if (seenIds.has(t.id)) {
        throw new SwarmError('TOKENIZER_BAD_FILE', 'two added tokens share an id', { reason: 'duplicate-id', id: t.id });
      }
      if (seenContent.has(t.content)) {
        throw new SwarmError('TOKENIZER_BAD_FILE', 'two added tokens share a content', { reason: 'duplicate-token', id: t.id });
      }
      seenIds.add(t.id);
      seenContent.add(t.content);
      // An added token shadowing an ordinary one keeps the ordinary bytes
      // (HF's ByteLevel decoder maps its characters through the byte table).
      if (t.id >= n) idBytes[t.id] = utf8Bytes(t.content);
    }
    for (let i = 0; i < idBytes.length; i++) {
      if (idBytes[i] === undefined) {
        throw new SwarmError('TOKENIZER_BAD_FILE', `id ${i} has no token (ids must be contiguous)`, { reason: 'id-range', id: i });
      }
    }
    this.vocabSize = idBytes.length;
    this.idBytes = idBytes;
    this.addedTokens = Object.freeze([...added].sort((a, b) => a.id - b.id).map((t) => Object.freeze({ ...t })));
    this.isSpecial = new Uint8Array(idBytes.length);
    for (const t of added) if (t.special) this.isSpecial[t.id] = 1;
    this.matcher = new AddedTokenMatcher(this.addedTokens);
    for (const role of ['bos', 'eos', 'pad'] as const) {
      const id = special[role];
      if (id === null && role === 'pad') continue;
      if (!Number.isInteger(id) || id! < 0 || id! >= idBytes.length) {
        throw new SwarmError('TOKENIZER_MISSING_SPECIAL', `${role} id is not a token`, { role, id });
      }
    }
    this.specialTokens = Object.freeze({ bos: special.bos, eos: special.eos, pad: special.pad });
  }

  /** Appends the ids of `text` (well-formed, no added-token matching) to `out`. */
  protected abstract encodeOrdinary(text: string, out: number[]): void;

  abstract toHfJson(): HfTokenizerJson;

  encode(text: string, options: EncodeOptions = {}): Int32Array {
    assertWellFormed(text);
    const out: number[] = [];
    if (options.bos === true) out.push(this.specialTokens.bos);
    if (options.allowSpecial === true) {
      for (const piece of this.matcher.split(text)) {
        if (typeof piece === 'string') this.encodeOrdinary(piece, out);
        else out.push(piece.id);
      }
    } else {
      this.encodeOrdinary(text, out);
    }
    if (options.eos === true) out.push(this.specialTokens.eos);
    return Int32Array.from(out);
  }

  private checkId(id: number, index: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
      throw new SwarmError('TOKENIZER_BAD_ID', `token id out of range [0, ${this.vocabSize})`, {
        index,
        id: String(id),
      });
    }
  }

  tokenBytes(id: number): Uint8Array {
    this.checkId(id, 0);
    return this.idBytes[id]!.slice();
  }

  /**
   * Concatenates the bytes of all ids (special tokens as their UTF-8
   * content, as Hugging Face's ByteLevel decoder does for tokens outside the
   * byte table) and decodes the whole byte string once, leniently.
   */
  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    const skip = options.skipSpecial === true;
    let total = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      this.checkId(id, i);
      if (!(skip && this.isSpecial[id] === 1)) total += this.idBytes[id]!.length;
    }
    const buf = new Uint8Array(total);
    let o = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (skip && this.isSpecial[id] === 1) continue;
      const b = this.idBytes[id]!;
      buf.set(b, o);
      o += b.length;
    }
    return decodeUtf8Lossy(buf);
  }
}
