/**
 * Exact expectations over one document of a UnifilarSource, and from them the
 * entropy rate.
 *
 * A document is a run of the chain from `start` until it is absorbed in
 * `end`. For an additive per-emission cost c, the expected total cost from
 * state s satisfies the linear system (first-step analysis of an absorbing
 * chain; Kemeny & Snell, "Finite Markov Chains", 1960, ch. 3)
 *     v(end) = 0,    v(s) = Σ_i p_i(s) · (c(s, i) + v(next_i(s))),
 * solved here by Gauss-Seidel sweeps to convergence.
 *
 * With c = −ln p the value at `start` is the entropy of a document, H(D).
 * Training data is the concatenation of i.i.d. documents; since each
 * document is self-delimiting, the concatenation is a renewal process and its
 * entropy rate per symbol is H(D) / E[|D|] (renewal-reward theorem), the same
 * number as Σ_s π(s) H(symbol | s) for the stationary distribution π of the
 * stream's chain (Cover & Thomas, Elements of Information Theory, 2nd ed.,
 * Theorem 4.2.4 for Markov chains; unifilarity makes the symbol entropy the
 * state entropy). Per word / per byte rates divide by the expected words or
 * bytes per document instead.
 */
import { SwarmError } from '../../core/errors.ts';
import type { UnifilarSource } from './unifilar-source.ts';

/** Cost of emitting emission `i` of state `state` (symbol id `symbol`). */
export type EmissionCost = (state: number, symbol: number, i: number) => number;

const MAX_SWEEPS = 1_000_000;

/**
 * Expected total cost of one document, E[Σ c], from the start state, for
 * several costs at once (one solve, one value vector per cost).
 */
export function expectedPerDocument(source: UnifilarSource, costs: readonly EmissionCost[], relTol = 1e-14): number[] {
  const n = source.states.length;
  const m = costs.length;
  const v = new Float64Array(n * m);
  const probs = source.states.map((st) => Float64Array.from(st.weights, (w) => w / st.total));
  // c[s][i * m + j] = cost j of emission i of state s, computed once.
  const c = source.states.map((st, s) => {
    const out = new Float64Array(st.symbols.length * m);
    for (let i = 0; i < st.symbols.length; i++) for (let j = 0; j < m; j++) out[i * m + j] = costs[j]!(s, st.symbols[i]!, i);
    return out;
  });
  const acc = new Float64Array(m);
  for (let sweep = 0; sweep < MAX_SWEEPS; sweep++) {
    let change = 0;
    let scale = 1;
    // Reverse order: states are numbered breadth-first from the start, so
    // later states tend to lie closer to the end and this ordering makes each
    // Gauss-Seidel sweep propagate values back along whole sentences.
    for (let s = n - 1; s >= 0; s--) {
      if (s === source.end) continue;
      const st = source.states[s]!;
      const p = probs[s]!;
      const cs = c[s]!;
      acc.fill(0);
      for (let i = 0; i < p.length; i++) {
        const base = st.next[i]! * m;
        for (let j = 0; j < m; j++) acc[j]! += p[i]! * (cs[i * m + j]! + v[base + j]!);
      }
      for (let j = 0; j < m; j++) {
        change = Math.max(change, Math.abs(acc[j]! - v[s * m + j]!));
        scale = Math.max(scale, Math.abs(acc[j]!));
        v[s * m + j] = acc[j]!;
      }
    }
    if (change <= relTol * scale) return Array.from(v.subarray(source.start * m, source.start * m + m));
  }
  throw new SwarmError('DATA_SOURCE_NOT_ABSORBING', 'expected document cost did not converge (can the document end from every state?)');
}

export interface SourceEntropy {
  /** H(D): entropy of one document, nats */
  natsPerDocument: number;
  /** expected symbols (words and punctuation) per document */
  symbolsPerDocument: number;
  /** expected words per document (symbols for which isWord holds) */
  wordsPerDocument: number;
  /** expected UTF-8 bytes per document */
  bytesPerDocument: number;
  /** entropy rate per symbol = H(D) / E[symbols] */
  natsPerSymbol: number;
  /** entropy rate per word = H(D) / E[words] */
  natsPerWord: number;
  /** entropy rate per byte = H(D) / E[bytes]: the floor of a byte-level model */
  natsPerByte: number;
}

export function sourceEntropy(
  source: UnifilarSource,
  isWord: (symbol: number) => boolean,
  bytes: EmissionCost,
): SourceEntropy {
  const [nats, symbols, words, byteCount] = expectedPerDocument(source, [
    (s, _sym, i) => -Math.log(source.states[s]!.weights[i]! / source.states[s]!.total),
    () => 1,
    (_s, sym) => (isWord(sym) ? 1 : 0),
    bytes,
  ]) as [number, number, number, number];
  return {
    natsPerDocument: nats,
    symbolsPerDocument: symbols,
    wordsPerDocument: words,
    bytesPerDocument: byteCount,
    natsPerSymbol: nats / symbols,
    natsPerWord: nats / words,
    natsPerByte: nats / byteCount,
  };
}
