/** KV-cache generation equals full recomputation; seeded sampling is reproducible. */
import { describe, expect, it } from 'vitest';
import { Prng } from '../../src/core/prng.ts';
import { preset } from '../../src/model/config.ts';
import { emptyCache, forwardCached, generate, sampleToken } from '../../src/model/generate.ts';
import { forward, initParams, modelConstants } from '../../src/model/llama.ts';
import { createRefBackend } from '../../src/tensor/backend/ref.ts';
import { Engine } from '../../src/tensor/tensor.ts';

describe('generation with a KV cache', () => {
  const c = preset('nano', { vocabSize: 40, maxSeqLen: 16, initStd: 0.3 });
  const e = new Engine(createRefBackend());
  const p = initParams(e, c, Prng.fromSeed(5));
  const k = modelConstants(e, c);

  it('cached logits are bit-identical to a full forward at every position', () => {
    const tokens = Int32Array.from([3, 17, 5, 39, 0, 12, 8, 8, 21]);
    const full = e.noGrad(() => forward(c, p, k, tokens, 1, tokens.length)).data;
    const cache = emptyCache(c);
    // prefill 4, then one at a time
    const chunks = [tokens.subarray(0, 4), ...Array.from(tokens.subarray(4), (t) => Int32Array.of(t))];
    let pos = 0;
    for (const ch of chunks) {
      const logits = forwardCached(c, p, k, cache, ch);
      pos += ch.length;
      const want = full.subarray((pos - 1) * c.vocabSize, pos * c.vocabSize);
      expect(Buffer.from(logits.buffer).equals(Buffer.from(want.slice().buffer))).toBe(true);
    }
    expect(cache.length).toBe(tokens.length);
  });

  it('greedy generation is deterministic and the same seed gives the same samples', () => {
    const prompt = Int32Array.of(1, 2, 3);
    const g1 = generate(c, p, k, prompt, { maxTokens: 8, temperature: 0, topP: 1, seed: 0 });
    const g2 = generate(c, p, k, prompt, { maxTokens: 8, temperature: 0, topP: 1, seed: 99 });
    expect(g1).toEqual(g2);
    expect(g1.length).toBe(8);
    const s1 = generate(c, p, k, prompt, { maxTokens: 10, temperature: 1.5, topP: 0.95, seed: 7 });
    const s2 = generate(c, p, k, prompt, { maxTokens: 10, temperature: 1.5, topP: 0.95, seed: 7 });
    const s3 = generate(c, p, k, prompt, { maxTokens: 10, temperature: 1.5, topP: 0.95, seed: 8 });
    expect(s1).toEqual(s2);
    expect(s1).not.toEqual(s3);
  });

  it('stops at the context limit and at stop tokens', () => {
    const prompt = Int32Array.of(1, 2, 3);
    const all = generate(c, p, k, prompt, { maxTokens: 100, temperature: 0, topP: 1, seed: 0 });
    expect(prompt.length + all.length).toBeLessThanOrEqual(c.maxSeqLen + 1);
    const stopAt = all[2]!;
    const cut = generate(c, p, k, prompt, { maxTokens: 100, temperature: 0, topP: 1, seed: 0, stopTokens: [stopAt] });
    expect(cut).toEqual(all.slice(0, all.indexOf(stopAt)));
  });

  it('top-p keeps only the nucleus', () => {
    const logits = new Float32Array([10, 9.9, -5, -6]);
    const rng = Prng.fromSeed(1);
    const seen = new Set<number>();
    for (let i = 0; i < 500; i++) seen.add(sampleToken(logits, { temperature: 1, topP: 0.9 }, rng));
    expect([...seen].sort()).toEqual([0, 1]);
    expect(sampleToken(new Float32Array([1, 3, 3]), { temperature: 0, topP: 1 }, null)).toBe(1);
  });

  it('rejects an overflowing context with a coded error', () => {
    const cache = emptyCache(c);
    expect(() => forwardCached(c, p, k, cache, new Int32Array(17))).toThrow(expect.objectContaining({ code: 'MODEL_CONTEXT_FULL' }));
  });
});
