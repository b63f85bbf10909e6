/**
 * Generation with a key/value cache: the prompt is run once (prefill), then
 * each new token attends to the cached keys and values of every earlier
 * position instead of recomputing them (the standard incremental decoding of
 * autoregressive transformers; Pope et al. 2022 discuss its cost model).
 * Sampling is greedy or seeded nucleus sampling (Holtzman et al. 2020, top-p),
 * computed with the canonical expf so a fixed seed gives the same tokens on
 * every machine.
 */
import { SwarmError } from '../core/errors.ts';
import { Prng } from '../core/prng.ts';
import { rmsNorm, rope, silu, softmax } from '../tensor/composite.ts';
import { expf } from '../tensor/math.ts';
import { add, concat, gather, matmul, mul, permute, reshape, slice, transpose } from '../tensor/ops.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { ModelConfig } from './config.ts';
import { headDim } from './config.ts';
import type { LlamaParams, ModelConstants } from './llama.ts';
import { repeatKv } from './llama.ts';

/** Per-layer cached keys and values, each [1, K, t, E]. */
export interface KvCache {
  keys: Array<Tensor | null>;
  values: Array<Tensor | null>;
  length: number;
}

export function emptyCache(c: ModelConfig): KvCache {
  return { keys: new Array(c.nLayers).fill(null), values: new Array(c.nLayers).fill(null), length: 0 };
}

/**
 * Run `tokens` (new positions only) through the model, extending `cache`;
 * returns the logits of the last position [V]. With an empty cache and all
 * tokens this is the prefill; with one token it is a decode step.
 */
export function forwardCached(c: ModelConfig, p: LlamaParams, k: ModelConstants, cache: KvCache, tokens: Int32Array): Float32Array {
  const e = p.embed.engine;
  const n = tokens.length;
  const start = cache.length;
  if (n === 0) throw new SwarmError('MODEL_BAD_INPUT', 'no tokens to run');
  if (start + n > c.maxSeqLen) {
    throw new SwarmError('MODEL_CONTEXT_FULL', `context of ${c.maxSeqLen} tokens exceeded (${start} cached + ${n} new)`);
  }
  return e.noGrad(() => {
    const E = headDim(c), H = c.nHeads, K = c.nKvHeads, D = c.dim;
    const total = start + n;
    const cos = slice(k.cos, 0, start, total), sin = slice(k.sin, 0, start, total);
    // rows start..total-1 of the causal mask, columns 0..total-1: [n, total]
    const mask = slice(slice(k.causal, 0, start, total), 1, 0, total);
    const scale = e.scalar(1 / Math.sqrt(E));
    let h = gather(p.embed, tokens, [1, n]); // [1, n, D]
    p.layers.forEach((l, li) => {
      const x = reshape(rmsNorm(h, l.attnNorm, c.normEps), [n, D]);
      const heads = (w: Tensor, m: number) => permute(reshape(matmul(x, w), [1, n, m, E]), [0, 2, 1, 3]); // [1, m, n, E]
      const q = rope(heads(l.wq, H), cos, sin);
      const kNew = rope(heads(l.wk, K), cos, sin);
      const vNew = heads(l.wv, K);
      const kAll = cache.keys[li] ? concat([cache.keys[li]!, kNew], 2) : kNew; // [1, K, total, E]
      const vAll = cache.values[li] ? concat([cache.values[li]!, vNew], 2) : vNew;
      cache.keys[li] = kAll;
      cache.values[li] = vAll;
      const att = softmax(add(mul(matmul(q, transpose(repeatKv(kAll, H), -1, -2)), scale), mask), -1); // [1, H, n, total]
      const o = reshape(permute(matmul(att, repeatKv(vAll, H)), [0, 2, 1, 3]), [n, H * E]);
      h = add(h, reshape(matmul(o, l.wo), [1, n, D]));
      const y = reshape(rmsNorm(h, l.mlpNorm, c.normEps), [n, D]);
      h = add(h, reshape(matmul(mul(silu(matmul(y, l.wGate)), matmul(y, l.wUp)), l.wDown), [1, n, D]));
    });
    cache.length = total;
    const last = reshape(slice(h, 1, n - 1, n), [1, D]);
    const hn = rmsNorm(last, p.norm, c.normEps);
    const head = p.lmHead ?? transpose(p.embed, 0, 1);
    return matmul(hn, head).data;
  });
}

export interface SampleOptions {
  /** 0 = greedy (argmax); otherwise logits are divided by it. */
  temperature: number;
  /** nucleus mass in (0, 1]. */
  topP: number;
}

/** Pick the next token from logits. Greedy ties go to the lowest id. */
export function sampleToken(logits: Float32Array, opts: SampleOptions, rng: Prng | null): number {
  if (opts.temperature === 0 || rng === null) {
    let best = 0;
    for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
    return best;
  }
  const f = Math.fround;
  const invT = f(1 / opts.temperature);
  let m = -Infinity;
  for (const v of logits) if (v > m) m = v;
  const probs = new Float64Array(logits.length);
  let z = 0;
  for (let i = 0; i < logits.length; i++) {
    probs[i] = expf(f(f(logits[i]! - m) * invT));
    z += probs[i]!; // binary64 adds in index order: correctly rounded, so deterministic
  }
  const order = Array.from(logits.keys()).sort((a, b) => probs[b]! - probs[a]! || a - b);
  let keep = 0;
  let mass = 0;
  for (const i of order) {
    mass += probs[i]!;
    keep++;
    if (mass >= opts.topP * z) break;
  }
  let r = rng.nextFloat() * mass;
  for (let j = 0; j < keep; j++) {
    r -= probs[order[j]!]!;
    if (r < 0) return order[j]!;
  }
  return order[keep - 1]!;
}

export interface GenerateOptions extends SampleOptions {
  maxTokens: number;
  seed: number;
  /** stop when one of these ids is produced (not included in the output) */
  stopTokens?: readonly number[];
  /** called with each new token; return false to stop early */
  onToken?: (id: number) => boolean | void;
}

/** Generate up to maxTokens after `prompt`; returns the new token ids. */
export function generate(c: ModelConfig, p: LlamaParams, k: ModelConstants, prompt: Int32Array, opts: GenerateOptions): number[] {
  if (prompt.length === 0) throw new SwarmError('MODEL_BAD_INPUT', 'the prompt has no tokens');
  const rng = opts.temperature > 0 ? Prng.fromSeed(opts.seed).fork('sample') : null;
  const cache = emptyCache(c);
  const out: number[] = [];
  let logits = forwardCached(c, p, k, cache, prompt);
  for (let i = 0; i < opts.maxTokens; i++) {
    const id = sampleToken(logits, opts, rng);
    if (opts.stopTokens?.includes(id)) break;
    out.push(id);
    if (opts.onToken?.(id) === false) break;
    if (cache.length >= c.maxSeqLen) break;
    logits = forwardCached(c, p, k, cache, Int32Array.of(id));
  }
  return out;
}
