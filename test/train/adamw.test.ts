/** AdamW against a binary64 transcription of Loshchilov & Hutter's Algorithm 2, and the schedule's shape. */
import { describe, expect, it } from 'vitest';
import { adamwStep, globalNorm, initAdamW } from '../../src/train/adamw.ts';
import type { AdamWHyper } from '../../src/train/adamw.ts';
import { lrAt } from '../../src/train/schedule.ts';

const H: AdamWHyper = { lr: 0.01, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, clip: 1.0 };

describe('AdamW', () => {
  it('matches a binary64 reference over several steps, with clipping and decay masks', () => {
    const p = [new Float32Array([0.5, -1, 2]), new Float32Array([3, -0.25])];
    const decay = [true, false];
    const st = initAdamW([3, 2]);
    const ref = p.map((a) => Float64Array.from(a));
    const m = ref.map((a) => new Float64Array(a.length));
    const v = ref.map((a) => new Float64Array(a.length));
    for (let t = 1; t <= 5; t++) {
      const g = [new Float32Array([t, -2 * t, 0.5]), new Float32Array([-t / 3, 1])];
      const r = adamwStep(p, g, decay, st, H);
      const norm = globalNorm(g);
      expect(r.gradNorm).toBeCloseTo(norm, 10);
      expect(r.clipped).toBe(norm > 1);
      const sc = norm > 1 ? 1 / norm : 1;
      ref.forEach((w, j) => {
        for (let i = 0; i < w.length; i++) {
          const gi = g[j]![i]! * sc;
          m[j]![i] = 0.9 * m[j]![i]! + 0.1 * gi;
          v[j]![i] = 0.95 * v[j]![i]! + 0.05 * gi * gi;
          const upd = m[j]![i]! / (1 - 0.9 ** t) / (Math.sqrt(v[j]![i]! / (1 - 0.95 ** t)) + 1e-8) + (decay[j] ? 0.1 * w[i]! : 0);
          w[i] = w[i]! - 0.01 * upd;
        }
      });
    }
    ref.forEach((w, j) => w.forEach((x, i) => expect(p[j]![i]!).toBeCloseTo(x, 5)));
    expect(st.step).toBe(5);
  });

  it('minimises a quadratic', () => {
    const p = [new Float32Array([5, -3])];
    const st = initAdamW([2]);
    for (let i = 0; i < 2000; i++) adamwStep(p, [Float32Array.from(p[0]!, (x) => 2 * x)], [false], st, { ...H, lr: 0.05, clip: 0 });
    expect(Math.abs(p[0]![0]!)).toBeLessThan(1e-2);
    expect(Math.abs(p[0]![1]!)).toBeLessThan(1e-2);
  });

  it('rejects mismatched state and non-finite gradients with codes', () => {
    const st = initAdamW([2]);
    expect(() => adamwStep([new Float32Array(3)], [new Float32Array(3)], [false], st, H)).toThrow(expect.objectContaining({ code: 'OPTIM_BAD_STATE' }));
    expect(() => adamwStep([new Float32Array(2)], [new Float32Array([NaN, 0])], [false], st, H)).toThrow(expect.objectContaining({ code: 'OPTIM_NONFINITE_GRAD' }));
  });
});

describe('warm-up + cosine schedule', () => {
  const s = { maxLr: 1, minLr: 0.1, warmupSteps: 10, totalSteps: 110 };
  it('warms up linearly, peaks, decays by cosine to the floor', () => {
    expect(lrAt(s, 0)).toBeCloseTo(0.1);
    expect(lrAt(s, 9)).toBeCloseTo(1);
    expect(lrAt(s, 10)).toBeCloseTo(1);
    expect(lrAt(s, 60)).toBeCloseTo(0.55, 10);
    expect(lrAt(s, 110)).toBeCloseTo(0.1);
    expect(lrAt(s, 500)).toBe(0.1);
    for (let i = 11; i < 110; i++) expect(lrAt(s, i)).toBeLessThanOrEqual(lrAt(s, i - 1));
  });
});
