/**
 * Serving speed: what the KV cache buys. Three rates on one model:
 *   prefill   tokens/s running a prompt through an empty cache in one pass
 *   decode    tokens/s of one-token steps against the cache, up to the context
 *   noCache   tokens/s when every new token recomputes the whole sequence
 *             with the training forward pass (what serving without a cache costs)
 * decode and noCache are measured at the same positions (the end of the
 * context), so their ratio is the cache's speed-up there (Pope et al. 2022,
 * "Efficiently Scaling Transformer Inference", §2 on incremental decoding).
 */
import { Prng } from '../core/prng.ts';
import { preset } from '../model/config.ts';
import { emptyCache, forwardCached } from '../model/generate.ts';
import { forward, initParams, modelConstants } from '../model/llama.ts';
import type { Engine } from '../tensor/tensor.ts';

export interface ServeBenchResult {
  preset: string;
  contextTokens: number;
  decodeTokensPerSecond: number;
  prefillTokensPerSecond: number;
  noCacheTokensPerSecond: number;
  speedup: number;
}

export function benchServe(engine: Engine, presetName: string, opts: { decodeSteps?: number; noCacheSteps?: number } = {}): ServeBenchResult {
  const c = preset(presetName);
  const T = c.maxSeqLen;
  const decodeSteps = Math.min(opts.decodeSteps ?? 32, T - 1);
  const noCacheSteps = opts.noCacheSteps ?? 3;
  const p = initParams(engine, c, Prng.fromSeed(1).fork('bench-serve'));
  const k = modelConstants(engine, c);
  const rng = Prng.fromSeed(2).fork('tokens');
  const tokens = Int32Array.from({ length: T }, () => rng.nextInt(c.vocabSize));
  const prefillLen = T - decodeSteps;

  const cache = emptyCache(c);
  let t0 = performance.now();
  forwardCached(c, p, k, cache, tokens.subarray(0, prefillLen));
  const prefillS = (performance.now() - t0) / 1000;

  t0 = performance.now();
  for (let i = prefillLen; i < T; i++) forwardCached(c, p, k, cache, tokens.subarray(i, i + 1));
  const decodeS = (performance.now() - t0) / 1000;

  // the last positions again, each recomputing the whole prefix
  t0 = performance.now();
  for (let i = 0; i < noCacheSteps; i++) {
    const len = T - noCacheSteps + 1 + i;
    engine.noGrad(() => forward(c, p, k, tokens.subarray(0, len), 1, len).data);
  }
  const noCacheS = (performance.now() - t0) / 1000;

  const decode = decodeSteps / decodeS;
  const noCache = noCacheSteps / noCacheS;
  return {
    preset: presetName,
    contextTokens: T,
    decodeTokensPerSecond: decode,
    prefillTokensPerSecond: prefillLen / prefillS,
    noCacheTokensPerSecond: noCache,
    speedup: decode / noCache,
  };
}
