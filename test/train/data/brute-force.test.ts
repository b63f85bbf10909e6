/**
 * The exact log-probability, the analytic entropy rate and the entropy floor
 * checked against brute-force enumeration of a tiny grammar. The enumeration
 * walks the UNCOMPILED grammar (englishGrammarSpec: integer weights, epsilon
 * moves) with floating-point path products, so it is independent of the
 * compiler (source-builder.ts), the compiled tables, the parser and the
 * Gauss-Seidel solve it checks.
 */
import { describe, expect, it } from 'vitest';
import { Prng } from '../../../src/core/prng.ts';
import { englishGrammarSpec } from '../../../src/train/data/english-grammar.ts';
import type { EnglishGrammarConfig } from '../../../src/train/data/english-grammar.ts';
import { renderSurface, surfaceByteLength, isWordSymbol } from '../../../src/train/data/english-surface.ts';
import { entropyFloor } from '../../../src/train/data/entropy-floor.ts';
import { createSyntheticCorpus } from '../../../src/train/data/synthetic-corpus.ts';
import { TINY_GRAMMAR, byteTokenizer } from './helpers.ts';

type Spec = ReturnType<typeof englishGrammarSpec>;
type Node = Spec['start'];

function normalised(spec: Spec, node: Node): { p: number; symbol: string | null; next: Node }[] {
  const cs = spec.choices(node).filter((c) => c.weight > 0);
  const total = cs.reduce((a, c) => a + c.weight, 0);
  return cs.map((c) => ({ p: c.weight / total, symbol: c.symbol, next: c.next }));
}

/** All documents of at most `maxSymbols` symbols: text -> probability, plus the mass of longer ones. */
function enumerateShortDocuments(spec: Spec, maxSymbols: number): { docs: Map<string, number>; truncated: number } {
  const docs = new Map<string, number>();
  let truncated = 0;
  const syms: string[] = [];
  const walk = (node: Node, p: number): void => {
    if (spec.isEnd(node)) {
      const text = renderSurface(syms);
      docs.set(text, (docs.get(text) ?? 0) + p);
      return;
    }
    for (const c of normalised(spec, node)) {
      if (c.symbol !== null) {
        if (syms.length === maxSymbols) {
          truncated += p * c.p;
          continue;
        }
        syms.push(c.symbol);
      }
      walk(c.next, p * c.p);
      if (c.symbol !== null) syms.pop();
    }
  };
  walk(spec.start, 1);
  return { docs, truncated };
}

interface Segment {
  p: number;
  symbols: string[];
  /** key of the next sentence start, or null when the document ended */
  next: string | null;
}

const isSentenceStart = (spec: Spec, node: Node): boolean => /^sentence /.test(spec.key(node));

/** Every sentence (with the continue/end decision after it) from a sentence-start node: finite, no truncation. */
function enumerateSegments(spec: Spec, from: Node, nodes: Map<string, Node>): Segment[] {
  const out: Segment[] = [];
  const syms: string[] = [];
  const walk = (node: Node, p: number, first: boolean): void => {
    if (spec.isEnd(node)) {
      out.push({ p, symbols: [...syms], next: null });
      return;
    }
    if (!first && isSentenceStart(spec, node)) {
      nodes.set(spec.key(node), node);
      out.push({ p, symbols: [...syms], next: spec.key(node) });
      return;
    }
    for (const c of normalised(spec, node)) {
      if (c.symbol !== null) syms.push(c.symbol);
      walk(c.next, p * c.p, false);
      if (c.symbol !== null) syms.pop();
    }
  };
  walk(from, 1, true);
  return out;
}

/** TINY_GRAMMAR without the branches that make a sentence combinatorially long, so whole sentences can be listed. */
const ENUMERABLE: EnglishGrammarConfig = {
  lexicon: TINY_GRAMMAR.lexicon,
  weights: {
    ...TINY_GRAMMAR.weights,
    adjectives: [3, 1, 0],
    subjectPP: [1, 0],
    vpEnd: { stop: 3, adverb: 1, pp: 0, and: 0, but: 0 },
    modifierEnd: { stop: 1, and: 0, but: 0 },
  },
};

describe('synthetic source vs brute-force enumeration', () => {
  it('logProb of every short document equals the summed probability of its grammar paths', () => {
    const spec = englishGrammarSpec(TINY_GRAMMAR);
    const corpus = createSyntheticCorpus({ grammar: TINY_GRAMMAR, validationDocuments: 0 });
    const { docs, truncated } = enumerateShortDocuments(spec, 10);
    expect(docs.size).toBeGreaterThan(5_000);
    let mass = 0;
    let worst = 0;
    for (const [text, p] of docs) {
      mass += p;
      worst = Math.max(worst, Math.abs(Math.exp(corpus.logProb(text)) / p - 1));
    }
    expect(worst).toBeLessThan(1e-12);
    // Nothing lost or double counted: short documents plus the truncated rest is all the mass.
    expect(Math.abs(mass + truncated - 1)).toBeLessThan(1e-12);
    // Every mechanism shows up among the short documents.
    const all = [...docs.keys()].join('');
    for (const w of ['Does', 'Do', ' near ', ' and ', ', but ', ' often ', ' today', ' brown ', '?', 'some']) expect(all).toContain(w);

    // The floor over these documents is −Σ ln p / Σ tokens with the enumerated p.
    const texts = [...docs.keys()].slice(0, 2000);
    const floor = entropyFloor(texts, (d) => corpus.logProb(d), byteTokenizer);
    const nats = texts.reduce((a, t) => a - Math.log(docs.get(t)!), 0);
    const bytes = texts.reduce((a, t) => a + new TextEncoder().encode(t).length, 0);
    expect(floor.tokens).toBe(bytes);
    expect(Math.abs(floor.nats / nats - 1)).toBeLessThan(1e-12);
    expect(Math.abs(floor.natsPerToken - nats / bytes)).toBeLessThan(1e-12);
  });

  it('text outside the support has probability zero', () => {
    const corpus = createSyntheticCorpus({ grammar: TINY_GRAMMAR, validationDocuments: 0 });
    expect(corpus.logProb('The dog sleeps.\n')).toBeGreaterThan(-Infinity);
    for (const bad of ['The dog sleep.\n', 'The dogs sleeps.\n', 'the dog sleeps.\n', 'The dog sleeps.', 'The  dog sleeps.\n', 'The dog sleeps .\n', 'Does the dog sleeps?\n', 'The dog barks.\n', 'A dogs sleep.\n', 'The dog sleeps.\nThe dog sleeps.\n', '']) {
      expect(corpus.logProb(bad), JSON.stringify(bad)).toBe(-Infinity);
    }
  });

  it('analytic entropy, length and bytes per document match the enumeration of whole sentences', () => {
    const spec = englishGrammarSpec(ENUMERABLE);
    const corpus = createSyntheticCorpus({ grammar: ENUMERABLE, validationDocuments: 0 });
    // Sentence-start nodes: the document start (topic open) and "topic t, may switch" for each topic.
    const nodes = new Map<string, Node>([[spec.key(spec.start), spec.start]]);
    const segments = new Map<string, Segment[]>();
    for (let changed = true; changed; ) {
      changed = false;
      for (const [k, node] of [...nodes]) {
        if (segments.has(k)) continue;
        segments.set(k, enumerateSegments(spec, node, nodes));
        changed = true;
      }
    }
    expect(segments.size).toBe(1 + ENUMERABLE.lexicon.topics.length);
    const startKey = spec.key(spec.start);
    // Per sentence start: expected entropy, symbols, words, bytes of one segment.
    const local = new Map<string, number[]>();
    for (const [k, segs] of segments) {
      const mass = segs.reduce((a, s) => a + s.p, 0);
      expect(Math.abs(mass - 1)).toBeLessThan(1e-12);
      // Segments from one start are distinct symbol strings (unifilar + injective surface).
      expect(new Set(segs.map((s) => s.symbols.join(' ') + '|' + s.next)).size).toBe(segs.length);
      let h = 0, n = 0, words = 0, bytes = 0;
      for (const s of segs) {
        h -= s.p * Math.log(s.p);
        n += s.p * s.symbols.length;
        words += s.p * s.symbols.filter(isWordSymbol).length;
        let prev: string | undefined = k === startKey ? undefined : '.';
        let b = 0;
        for (const x of s.symbols) {
          b += surfaceByteLength(x, prev);
          prev = x;
        }
        bytes += s.p * b;
      }
      local.set(k, [h, n, words, bytes]);
    }
    // v(k) = local(k) + Σ_{segments continuing to k'} p · v(k'); a 3×3 system, solved by iteration (P(continue) = 1/4).
    const v = new Map<string, number[]>([...segments.keys()].map((k) => [k, [0, 0, 0, 0]]));
    for (let it = 0; it < 200; it++) {
      for (const [k, segs] of segments) {
        const acc = [...local.get(k)!];
        for (const s of segs) if (s.next !== null) v.get(s.next)!.forEach((x, j) => (acc[j]! += s.p * x));
        v.set(k, acc);
      }
    }
    const [h, n, words, bytes] = v.get(startKey)!;
    const e = corpus.entropy();
    expect(Math.abs(e.natsPerDocument / h! - 1)).toBeLessThan(1e-10);
    expect(Math.abs(e.symbolsPerDocument / n! - 1)).toBeLessThan(1e-10);
    expect(Math.abs(e.wordsPerDocument / words! - 1)).toBeLessThan(1e-10);
    expect(Math.abs(e.bytesPerDocument / bytes! - 1)).toBeLessThan(1e-10);
    expect(Math.abs(e.natsPerByte - h! / bytes!)).toBeLessThan(1e-12);

    // And a sampled validation set's floor per byte sits near the analytic rate (law of large numbers).
    const sampled = createSyntheticCorpus({ grammar: ENUMERABLE, validationDocuments: 4000, seed: 7 });
    const floor = entropyFloor(sampled.validation, (d) => sampled.logProb(d), byteTokenizer);
    expect(Math.abs(floor.natsPerToken / e.natsPerByte - 1)).toBeLessThan(0.03);
  });

  it('the sampler draws documents with their exact probabilities', () => {
    const spec = englishGrammarSpec(TINY_GRAMMAR);
    const corpus = createSyntheticCorpus({ grammar: TINY_GRAMMAR, validationDocuments: 0 });
    const { docs } = enumerateShortDocuments(spec, 6);
    const N = 20_000;
    const counts = new Map<string, number>();
    const prng = Prng.fromSeed('sampler-frequency-test');
    for (let i = 0; i < N; i++) {
      const d = corpus.sample(prng);
      counts.set(d, (counts.get(d) ?? 0) + 1);
    }
    let checked = 0;
    for (const [text, p] of docs) {
      if (p < 0.002) continue;
      const expected = N * p;
      // |count − Np| within 5 standard deviations (binomial).
      expect(Math.abs((counts.get(text) ?? 0) - expected), text).toBeLessThan(5 * Math.sqrt(expected * (1 - p)) + 1);
      checked++;
    }
    expect(checked).toBeGreaterThan(20);
  });
});
