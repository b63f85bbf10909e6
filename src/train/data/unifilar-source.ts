/**
 * A unifilar finite-state source: a Markov chain over states in which every
 * step emits one symbol, and the (state, symbol) pair determines the next
 * state. Cover & Thomas, "Elements of Information Theory" (2nd ed.), ch. 4
 * (entropy rates of Markov chains and functions of Markov chains), and Ash,
 * "Information Theory" (1965) §6.4 call such a source unifilar.
 *
 * Why unifilar: the emitted symbols alone pin down the hidden state, so
 *  - the exact probability of a text is a product along ONE path (no forward
 *    sum is needed, and no ambiguity can be missed), and
 *  - the entropy rate has a closed form, Σ_s π(s) H(next symbol | s), which
 *    source-entropy.ts evaluates.
 *
 * Determinism: each state stores integer weights; a step draws
 * prng.nextInt(total) and scans the cumulative weights. Integer comparison
 * only, so the same seed gives the same document on every machine (no
 * floating-point probability ever decides a branch).
 *
 * A document starts in `start` and ends when the chain enters `end`, an
 * absorbing state with no emissions; documents are therefore self-delimiting
 * (the symbol that enters `end`, e.g. a newline, is part of the document).
 */
import { hexEncode } from '../../core/encoding.ts';
import { SwarmError } from '../../core/errors.ts';
import type { Prng } from '../../core/prng.ts';
import { sha256Parts } from '../../core/sha256.ts';

export interface SourceState {
  /** human-readable key, for debugging and error messages */
  readonly name: string;
  /** emitted symbol ids, strictly ascending */
  readonly symbols: Int32Array;
  /** next state id for each emission */
  readonly next: Int32Array;
  /** positive integer weight of each emission */
  readonly weights: Uint32Array;
  /** sum of weights, at most 2^32 (the bound of Prng.nextInt) */
  readonly total: number;
}

export interface UnifilarSource {
  /** symbol strings; ids index this array */
  readonly symbols: readonly string[];
  readonly states: readonly SourceState[];
  readonly start: number;
  readonly end: number;
}

/** Default cap on the symbols of one document: a runaway grammar fails loudly instead of looping. */
export const MAX_DOCUMENT_SYMBOLS = 100_000;

/** Index of `symbol` among the emissions of `state`, or -1 (binary search: symbols ascend). */
export function emissionIndex(state: SourceState, symbol: number): number {
  let lo = 0;
  let hi = state.symbols.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const s = state.symbols[mid]!;
    if (s === symbol) return mid;
    if (s < symbol) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/**
 * One document as symbol ids, drawn with `prng` (which it advances). One
 * nextInt per symbol; the branch is the first emission whose cumulative
 * weight exceeds the draw (inverse-CDF sampling on integers).
 */
export function sampleSymbols(source: UnifilarSource, prng: Prng, maxSymbols = MAX_DOCUMENT_SYMBOLS): number[] {
  const out: number[] = [];
  let s = source.start;
  while (s !== source.end) {
    if (out.length >= maxSymbols) {
      throw new SwarmError('DATA_SOURCE_RUNAWAY', `document exceeded ${maxSymbols} symbols`, { maxSymbols });
    }
    const st = source.states[s]!;
    let r = prng.nextInt(st.total);
    let i = 0;
    while (r >= st.weights[i]!) {
      r -= st.weights[i]!;
      i++;
    }
    out.push(st.symbols[i]!);
    s = st.next[i]!;
  }
  return out;
}

/**
 * Natural-log probability that the source emits exactly the document `ids`
 * (start → end), or -Infinity when it cannot. Because the source is unifilar
 * this is the log of a product along the unique path. Math.log is fine here:
 * the value is a measurement (the entropy floor), never an input to a
 * hashed computation.
 */
export function symbolsLogProb(source: UnifilarSource, ids: ArrayLike<number>): number {
  let s = source.start;
  let lp = 0;
  for (let t = 0; t < ids.length; t++) {
    if (s === source.end) return -Infinity; // symbols after the document ended
    const st = source.states[s]!;
    const i = emissionIndex(st, ids[t]!);
    if (i < 0) return -Infinity;
    lp += Math.log(st.weights[i]! / st.total);
    s = st.next[i]!;
  }
  return s === source.end ? lp : -Infinity;
}

/** Structural checks a hand-built or compiled source must pass (DATA_SOURCE_INVALID otherwise). */
export function validateSource(source: UnifilarSource): void {
  const bad = (msg: string, details?: Record<string, unknown>): never => {
    throw new SwarmError('DATA_SOURCE_INVALID', msg, details);
  };
  const n = source.states.length;
  if (!Number.isInteger(source.start) || source.start < 0 || source.start >= n) bad('start state out of range');
  if (!Number.isInteger(source.end) || source.end < 0 || source.end >= n) bad('end state out of range');
  if (source.states[source.end]!.symbols.length !== 0) bad('end state must not emit');
  source.states.forEach((st, id) => {
    const k = st.symbols.length;
    if (st.next.length !== k || st.weights.length !== k) bad('ragged state tables', { state: st.name });
    if (id !== source.end && k === 0) bad('non-end state without emissions', { state: st.name });
    let sum = 0;
    for (let i = 0; i < k; i++) {
      const sym = st.symbols[i]!;
      if (sym < 0 || sym >= source.symbols.length) bad('symbol id out of range', { state: st.name });
      if (i > 0 && sym <= st.symbols[i - 1]!) bad('symbols must ascend (unifilar: one next state per symbol)', { state: st.name });
      if (st.next[i]! < 0 || st.next[i]! >= n) bad('next state out of range', { state: st.name });
      if (st.weights[i]! === 0) bad('zero weight', { state: st.name });
      sum += st.weights[i]!;
    }
    if (sum !== st.total) bad('total is not the sum of the weights', { state: st.name });
    if (k > 0 && sum > 0x100000000) bad('total exceeds 2^32', { state: st.name });
  });
}

/**
 * SHA-256 (hex) naming the generating process: the symbols and every state's
 * table, canonically encoded (u32 big-endian counts and values, symbols as
 * length-prefixed UTF-8, under a domain tag). Two sources with the same hash
 * sample the same documents from the same seed; a run records it next to the
 * seed so a change to the grammar cannot pass unnoticed.
 */
export function hashSource(source: UnifilarSource): string {
  const words: number[] = [source.symbols.length];
  const enc = new TextEncoder();
  const symbolBytes: Uint8Array[] = source.symbols.map((s) => enc.encode(s));
  for (const b of symbolBytes) words.push(b.length);
  words.push(source.states.length, source.start, source.end);
  for (const st of source.states) {
    words.push(st.symbols.length);
    for (let i = 0; i < st.symbols.length; i++) words.push(st.symbols[i]!, st.next[i]!, st.weights[i]!);
  }
  const head = new Uint8Array(words.length * 4);
  const dv = new DataView(head.buffer);
  words.forEach((w, i) => dv.setUint32(i * 4, w));
  return hexEncode(sha256Parts(['sovereign-swarm/data/unifilar-source/v1\0', head, ...symbolBytes]));
}
