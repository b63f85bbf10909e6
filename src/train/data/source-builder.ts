/**
 * Compiles a grammar written as "nodes with integer-weighted choices" into a
 * UnifilarSource with exact integer emission weights.
 *
 * A grammar node offers choices; each choice either emits a symbol or is an
 * epsilon move (symbol null) to another node. Epsilon moves let a grammar
 * say "pick a topic, then a number, then a word" as nested integer weights;
 * the builder multiplies them out as exact rationals, so the compiled table
 * of each state holds the exact probabilities P(symbol | state) scaled to a
 * common integer denominator. No floating point is involved, which keeps
 * sampling bit-identical everywhere.
 *
 * Unifilarity is checked, not assumed: if two paths from one state emit the
 * same symbol but lead to different nodes, the grammar is rejected
 * (DATA_SOURCE_NOT_UNIFILAR), because then a text would no longer determine
 * its path and the closed-form log-probability and entropy rate would be
 * wrong. Two paths emitting the same symbol into the same node are merged
 * (their probabilities add), which is exactly the marginal.
 */
import { SwarmError } from '../../core/errors.ts';
import type { SourceState, UnifilarSource } from './unifilar-source.ts';
import { validateSource } from './unifilar-source.ts';

export interface Choice<K> {
  /** relative weight, a non-negative integer; zero-weight choices are dropped */
  weight: number;
  /** emitted symbol, or null for an epsilon move */
  symbol: string | null;
  next: K;
}

export interface GrammarSpec<K> {
  start: K;
  /** stable identity of a node (equal keys = same node) */
  key(node: K): string;
  /** true for the terminal node (document complete) */
  isEnd(node: K): boolean;
  choices(node: K): readonly Choice<K>[];
}

/** Exact rational n/d with safe-integer parts, kept reduced. */
interface Rational {
  n: number;
  d: number;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

function safe(x: number, what: string): number {
  if (!Number.isSafeInteger(x)) throw new SwarmError('DATA_SOURCE_OVERFLOW', `${what} exceeds 2^53; simplify the grammar weights`);
  return x;
}

function mul(a: Rational, b: Rational): Rational {
  const g1 = gcd(a.n, b.d);
  const g2 = gcd(b.n, a.d);
  return { n: safe((a.n / g1) * (b.n / g2), 'rational numerator'), d: safe((a.d / g2) * (b.d / g1), 'rational denominator') };
}

function add(a: Rational, b: Rational): Rational {
  const g = gcd(a.d, b.d);
  const d = safe((a.d / g) * b.d, 'rational denominator');
  const n = safe(a.n * (b.d / g) + b.n * (a.d / g), 'rational numerator');
  const r = gcd(n, d);
  return { n: n / r, d: d / r };
}

/** Longest chain of epsilon moves followed before giving up (catches epsilon cycles). */
const MAX_EPSILON_DEPTH = 64;
/** Cap on compiled states: a grammar whose features multiply out of control fails loudly. */
const MAX_STATES = 200_000;

export function buildUnifilarSource<K>(spec: GrammarSpec<K>): UnifilarSource {
  const ids = new Map<string, number>();
  const nodes: K[] = [];
  const idOf = (node: K): number => {
    const k = spec.key(node);
    let id = ids.get(k);
    if (id === undefined) {
      id = nodes.length;
      if (id >= MAX_STATES) throw new SwarmError('DATA_SOURCE_OVERFLOW', `grammar has more than ${MAX_STATES} states`);
      ids.set(k, id);
      nodes.push(node);
    }
    return id;
  };

  // Per state: symbol -> { next state id, probability }.
  const tables: Map<string, { next: number; p: Rational }>[] = [];
  let endId = -1;

  const expand = (node: K, p: Rational, depth: number, into: Map<string, { next: number; p: Rational }>, from: string): void => {
    if (depth > MAX_EPSILON_DEPTH) throw new SwarmError('DATA_SOURCE_INVALID', 'epsilon moves nest too deep (cycle?)', { node: from });
    if (spec.isEnd(node)) throw new SwarmError('DATA_SOURCE_INVALID', 'the end is reachable without emitting a symbol', { node: from });
    const cs = spec.choices(node).filter((c) => c.weight !== 0);
    let total = 0;
    for (const c of cs) {
      if (!Number.isSafeInteger(c.weight) || c.weight < 0) throw new SwarmError('DATA_SOURCE_INVALID', 'choice weights must be non-negative integers', { node: spec.key(node) });
      total += c.weight;
    }
    if (cs.length === 0) throw new SwarmError('DATA_SOURCE_INVALID', 'node has no choices', { node: spec.key(node) });
    for (const c of cs) {
      const g = gcd(c.weight, total);
      const q = mul(p, { n: c.weight / g, d: total / g });
      if (c.symbol === null) {
        expand(c.next, q, depth + 1, into, from);
        continue;
      }
      const next = idOf(c.next);
      const prev = into.get(c.symbol);
      if (prev === undefined) into.set(c.symbol, { next, p: q });
      else if (prev.next !== next) {
        throw new SwarmError('DATA_SOURCE_NOT_UNIFILAR', `symbol "${c.symbol}" leads to two different states`, {
          state: from,
          a: spec.key(nodes[prev.next]!),
          b: spec.key(c.next),
        });
      } else prev.p = add(prev.p, q);
    }
  };

  idOf(spec.start);
  for (let id = 0; id < nodes.length; id++) {
    const node = nodes[id]!;
    const table = new Map<string, { next: number; p: Rational }>();
    if (spec.isEnd(node)) {
      if (endId >= 0 && endId !== id) throw new SwarmError('DATA_SOURCE_INVALID', 'more than one end node');
      endId = id;
    } else {
      expand(node, { n: 1, d: 1 }, 0, table, spec.key(node));
    }
    tables.push(table);
  }
  if (endId < 0) throw new SwarmError('DATA_SOURCE_INVALID', 'the end node is unreachable');

  const symbolList = [...new Set(tables.flatMap((t) => [...t.keys()]))].sort();
  const symbolId = new Map(symbolList.map((s, i) => [s, i]));

  const states: SourceState[] = tables.map((table, id) => {
    const entries = [...table.entries()]
      .map(([sym, e]) => ({ sym: symbolId.get(sym)!, next: e.next, p: e.p }))
      .sort((a, b) => a.sym - b.sym);
    // Common denominator: weights are the numerators over lcm of the denominators.
    let l = 1;
    for (const e of entries) l = safe((l / gcd(l, e.p.d)) * e.p.d, 'state denominator');
    let w = entries.map((e) => (l / e.p.d) * e.p.n);
    let g = 0;
    for (const x of w) g = gcd(g, x);
    if (g > 1) w = w.map((x) => x / g);
    const total = w.reduce((a, b) => a + b, 0);
    if (entries.length > 0 && total * g !== l) {
      throw new SwarmError('DATA_SOURCE_INVALID', 'probabilities of a state do not sum to one', { state: spec.key(nodes[id]!) });
    }
    if (total > 0x100000000) throw new SwarmError('DATA_SOURCE_OVERFLOW', 'state weights exceed 2^32', { state: spec.key(nodes[id]!) });
    return {
      name: spec.key(nodes[id]!),
      symbols: Int32Array.from(entries, (e) => e.sym),
      next: Int32Array.from(entries, (e) => e.next),
      weights: Uint32Array.from(w),
      total,
    };
  });

  const source: UnifilarSource = { symbols: symbolList, states, start: 0, end: endId };
  validateSource(source);
  return source;
}
