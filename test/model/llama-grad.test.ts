/** The whole nano model: forward loss and analytic gradients against a binary64 reference with finite differences. */
import { describe, expect, it } from 'vitest';
import { Prng } from '../../src/core/prng.ts';
import { preset } from '../../src/model/config.ts';
import { initParams, lossOf, modelConstants, paramEntries } from '../../src/model/llama.ts';
import { gradients } from '../../src/tensor/autograd.ts';
import { createRefBackend } from '../../src/tensor/backend/ref.ts';
import { Engine } from '../../src/tensor/tensor.ts';
import { llamaLoss64 } from './llama-f64.ts';

describe('nano Llama gradient check', () => {
  for (const tied of [true, false]) {
    it(`matches binary64 finite differences (tied=${tied})`, () => {
      // initStd raised so activations are far from trivial and every path carries gradient
      const c = preset('nano', { vocabSize: 24, maxSeqLen: 8, tiedEmbeddings: tied, initStd: 0.2 });
      const e = new Engine(createRefBackend());
      const rng = Prng.fromSeed(11);
      const p = initParams(e, c, rng);
      // perturb norm weights away from 1 so their gradients are exercised
      const entries = paramEntries(p);
      for (const [, t] of entries) if (t.rank === 1) for (let i = 0; i < t.size; i++) t.data[i] = 1 + 0.3 * (rng.nextFloat() - 0.5);
      const k = modelConstants(e, c);
      const B = 2, T = 5;
      const inputs = Int32Array.from({ length: B * T }, () => rng.nextInt(c.vocabSize));
      const targets = Int32Array.from({ length: B * T }, () => rng.nextInt(c.vocabSize));
      const loss = lossOf(c, p, k, inputs, targets, B, T);
      const grads = gradients(loss, entries.map(([, t]) => t));
      const p64 = new Map(entries.map(([n, t]) => [n, Float64Array.from(t.data)]));
      const l64 = llamaLoss64(c, p64, inputs, targets, B, T);
      expect(Math.abs(l64 - loss.item())).toBeLessThan(1e-5);
      let worst = 0;
      let checked = 0;
      entries.forEach(([name, t], j) => {
        const w = p64.get(name)!;
        for (let s = 0; s < 6; s++) {
          const i = rng.nextInt(t.size);
          const v = w[i]!;
          const h = 1e-6;
          w[i] = v + h;
          const lp = llamaLoss64(c, p64, inputs, targets, B, T);
          w[i] = v - h;
          const lm = llamaLoss64(c, p64, inputs, targets, B, T);
          w[i] = v;
          const num = (lp - lm) / (2 * h);
          const ana = grads[j]!.data[i]!;
          worst = Math.max(worst, Math.abs(num - ana) / Math.max(1e-2, Math.abs(num)));
          checked++;
        }
      });
      expect(checked).toBeGreaterThan(100);
      expect(worst).toBeLessThan(2e-3);
    });
  }
});
