/**
 * How much a finite context costs: the average log loss of the Bayes-optimal
 * predictor that sees only the last k symbols of the stream.
 *
 * The entropy floor conditions on the whole history (the true hidden state);
 * a model with a context window of k symbols cannot do better than
 * H(X_t | X_{t-k..t-1}) ≥ H(X_t | whole past) (conditioning reduces entropy,
 * Cover & Thomas, Elements of Information Theory, 2nd ed., Thm 2.6.5 and
 * §4.2: H(X_n | X_{n-1..1}) decreases to the entropy rate). This module
 * measures that bound for a given k on a sample stream: for each position,
 * start from the stationary state distribution, filter on the k previous
 * symbols (forward algorithm, Rabiner 1989 eq. 19-20), and score the actual
 * next symbol. k = 1 is the best possible bigram model (with unlimited data);
 * the gap between k and the floor says how much of the structure lies beyond
 * k symbols. Diagnostics only (Math.log); nothing here feeds a hashed result.
 */
import { SwarmError } from '../../core/errors.ts';
import { emissionIndex } from './unifilar-source.ts';
import type { UnifilarSource } from './unifilar-source.ts';

/** In the stream, a finished document is followed by a new one: `end` means `start`. */
function streamNext(source: UnifilarSource, s: number): number {
  return s === source.end ? source.start : s;
}

/**
 * Stationary distribution of the stream chain (documents back to back): the
 * expected visits per document of every state, normalised. Solved by
 * iterating visits = e_start + visits·P over the transient states.
 */
export function stationaryDistribution(source: UnifilarSource, relTol = 1e-13): Float64Array {
  const n = source.states.length;
  let visits = new Float64Array(n);
  for (let it = 0; it < 1_000_000; it++) {
    const next = new Float64Array(n);
    next[source.start] = 1;
    for (let s = 0; s < n; s++) {
      const v = visits[s]!;
      if (v === 0 || s === source.end) continue;
      const st = source.states[s]!;
      for (let i = 0; i < st.symbols.length; i++) {
        const to = st.next[i]!;
        if (to !== source.end) next[to]! += (v * st.weights[i]!) / st.total;
      }
    }
    let change = 0;
    let total = 0;
    for (let s = 0; s < n; s++) {
      change = Math.max(change, Math.abs(next[s]! - visits[s]!));
      total += next[s]!;
    }
    visits = next;
    if (change <= relTol * total) {
      for (let s = 0; s < n; s++) visits[s] = visits[s]! / total;
      return visits;
    }
  }
  throw new SwarmError('DATA_SOURCE_NOT_ABSORBING', 'stationary distribution did not converge');
}

export interface ContextLossOptions {
  /** score every `stride`-th position (default 1) */
  stride?: number;
  /** first scored position (default k, so every scored position has k symbols of context) */
  from?: number;
  /** stationary distribution, if already computed */
  stationary?: Float64Array;
}

/**
 * Mean −ln P(x_t | x_{t-k..t-1}) in nats per symbol over a stream of symbol
 * ids (documents back to back, as sampleSymbols gives them), where P is the
 * exact predictive distribution of the source given only those k symbols.
 */
export function contextLimitedLoss(source: UnifilarSource, stream: ArrayLike<number>, k: number, options: ContextLossOptions = {}): number {
  if (!Number.isInteger(k) || k < 0) throw new SwarmError('DATA_INVALID_OPTION', 'k must be a non-negative integer');
  const pi = options.stationary ?? stationaryDistribution(source);
  const stride = options.stride ?? 1;
  const from = Math.max(options.from ?? k, k);
  const prior = new Map<number, number>();
  pi.forEach((p, s) => {
    if (p > 0) prior.set(s, p);
  });
  let nll = 0;
  let count = 0;
  for (let t = from; t < stream.length; t += stride) {
    let post = prior;
    for (let j = t - k; j <= t; j++) {
      const x = stream[j]!;
      const q = new Map<number, number>();
      let z = 0;
      for (const [s, w] of post) {
        const st = source.states[s]!;
        const i = emissionIndex(st, x);
        if (i < 0) continue;
        const p = (w * st.weights[i]!) / st.total;
        z += p;
        const to = streamNext(source, st.next[i]!);
        q.set(to, (q.get(to) ?? 0) + p);
      }
      if (z === 0) throw new SwarmError('DATA_SOURCE_INVALID', 'the stream is impossible under the source', { position: j });
      if (j === t) {
        nll -= Math.log(z);
        count++;
      }
      for (const [s, w] of q) q.set(s, w / z);
      post = q;
    }
  }
  return count === 0 ? NaN : nll / count;
}
