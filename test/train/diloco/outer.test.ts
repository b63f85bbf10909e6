/** The outer Nesterov step: torch.optim.SGD(nesterov=True) semantics, canonical f32 bits, coded errors. */
import { describe, expect, it } from 'vitest';
import { Prng } from '../../../src/core/prng.ts';
import { sha256Hex } from '../../../src/core/sha256.ts';
import { DILOCO_OUTER, outerDelta, outerStep, outerWarmup } from '../../../src/train/diloco/outer.ts';
import { expectCode } from '../../helpers/errors.ts';

const bytes = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

function seeded(n: number, seed: string, scale = 1): Float32Array {
  const rng = Prng.fromSeed(seed);
  return Float32Array.from({ length: n }, () => (rng.nextFloat() * 2 - 1) * scale);
}

/** The same step in binary64, written from the torch docs (b = μb + g; g + μb; θ − lr·that). */
function step64(theta: number[], b: number[], g: number[], lr: number, mu: number) {
  const nb = b.map((bi, i) => mu * bi + g[i]!);
  return { theta: theta.map((t, i) => t - lr * (g[i]! + mu * nb[i]!)), momentum: nb };
}

describe('outer Nesterov SGD step', () => {
  it('matches a binary64 hand computation with the paper values (lr 0.7, μ 0.9)', () => {
    const theta = [1, -2, 0.5, 3e-3], b = [0, 0.1, -0.3, 2], g = [0.2, -0.4, 1, -1e-4];
    const r = outerStep(Float32Array.from(theta), Float32Array.from(b), Float32Array.from(g), DILOCO_OUTER);
    const want = step64(theta, b, g, 0.7, 0.9);
    // by hand: b' = 0.9·b + g = [0.2, −0.31, 0.73, 1.7999]; θ' = θ − 0.7·(g + 0.9·b')
    [0.2, -0.31, 0.73, 1.7999].forEach((x, i) => expect(want.momentum[i]).toBeCloseTo(x, 12));
    expect(want.theta[0]).toBeCloseTo(1 - 0.7 * (0.2 + 0.18), 12);
    expect(want.theta[1]).toBeCloseTo(-2 - 0.7 * (-0.4 - 0.279), 12);
    for (let i = 0; i < 4; i++) {
      // binary32 inputs and rounding: within a few ulps of the binary64 result
      expect(Math.abs(r.momentum[i]! - want.momentum[i]!)).toBeLessThan(3e-7 * Math.max(1, Math.abs(want.momentum[i]!)));
      expect(Math.abs(r.theta[i]! - want.theta[i]!)).toBeLessThan(5e-7 * Math.max(1, Math.abs(want.theta[i]!)));
    }
  });

  it('is exact on dyadic values, and the first step from zero momentum is θ − lr(1+μ)g as in torch', () => {
    // all values and every intermediate are exactly representable in binary32
    const r1 = outerStep(Float32Array.from([1, 2]), new Float32Array(2), Float32Array.from([0.5, -0.25]), { lr: 0.5, momentum: 0.5 });
    expect([...r1.momentum]).toEqual([0.5, -0.25]);
    expect([...r1.theta]).toEqual([1 - 0.5 * 0.75, 2 + 0.5 * 0.375]);
    const r2 = outerStep(r1.theta, r1.momentum, Float32Array.from([0.25, 0.25]), { lr: 0.5, momentum: 0.5 });
    // b2 = 0.5·b1 + g2 = [0.5, 0.125]; u = g2 + 0.5·b2 = [0.5, 0.3125]
    expect([...r2.momentum]).toEqual([0.5, 0.125]);
    expect([...r2.theta]).toEqual([0.625 - 0.25, 2.1875 - 0.15625]);
    // momentum 0 is plain SGD
    const sgd = outerStep(Float32Array.from([1]), Float32Array.from([7]), Float32Array.from([0.5]), { lr: 1, momentum: 0 });
    expect([...sgd.theta]).toEqual([0.5]);
  });

  it('gives the same bits every time, leaves its inputs alone, and its bits are pinned', () => {
    const n = 10_001;
    const theta = seeded(n, 'theta'), mom = seeded(n, 'mom', 0.1), g = seeded(n, 'g', 0.01);
    const before = [sha256Hex(bytes(theta)), sha256Hex(bytes(mom)), sha256Hex(bytes(g))];
    const a = outerStep(theta, mom, g, DILOCO_OUTER);
    const b = outerStep(theta, mom, g, DILOCO_OUTER);
    expect(sha256Hex(bytes(a.theta))).toBe(sha256Hex(bytes(b.theta)));
    expect(sha256Hex(bytes(a.momentum))).toBe(sha256Hex(bytes(b.momentum)));
    expect([sha256Hex(bytes(theta)), sha256Hex(bytes(mom)), sha256Hex(bytes(g))]).toEqual(before);
    // Each value is the f32 op sequence; a fused multiply-add or another order would change some of them.
    const f = Math.fround, lr = f(0.7), mu = f(0.9);
    for (let i = 0; i < n; i += 997) {
      const bb = f(f(mu * mom[i]!) + g[i]!);
      expect(a.momentum[i]).toBe(bb);
      expect(a.theta[i]).toBe(f(theta[i]! - f(lr * f(g[i]! + f(mu * bb)))));
    }
    expect(sha256Hex(bytes(a.theta))).toBe(PINNED_THETA);
  });

  it('outerDelta is θ_r − θ_local in f32', () => {
    const d = outerDelta(Float32Array.from([1, 0.1]), Float32Array.from([0.75, 0.3]));
    expect([...d]).toEqual([0.25, Math.fround(Math.fround(0.1) - Math.fround(0.3))]);
    expectCode(() => outerDelta(new Float32Array(2), new Float32Array(3)), 'DILOCO_LENGTH_MISMATCH');
    expectCode(() => outerDelta(Float32Array.from([3e38]), Float32Array.from([-3e38])), 'DILOCO_NONFINITE');
  });

  it('rejects bad input with coded errors', () => {
    const v = new Float32Array(3);
    expectCode(() => outerStep(v, new Float32Array(2), v, DILOCO_OUTER), 'DILOCO_LENGTH_MISMATCH');
    expectCode(() => outerStep(v, v, new Float32Array(4), DILOCO_OUTER), 'DILOCO_LENGTH_MISMATCH');
    expectCode(() => outerStep(v, v, Float32Array.from([0, NaN, 0]), DILOCO_OUTER), 'DILOCO_NONFINITE');
    expectCode(() => outerStep(v, v, Float32Array.from([Infinity, 0, 0]), DILOCO_OUTER), 'DILOCO_NONFINITE');
    for (const o of [{ lr: 0, momentum: 0.9 }, { lr: -1, momentum: 0.9 }, { lr: NaN, momentum: 0.9 }, { lr: 0.7, momentum: 1 }, { lr: 0.7, momentum: -0.1 }, { lr: 0.7, momentum: NaN }]) {
      expectCode(() => outerStep(v, v, v, o), 'DILOCO_BAD_OPTION');
    }
  });
});

// sha256 of the step's θ bytes above: a change of arithmetic order, rounding or fusion changes it
const PINNED_THETA = '64a091bbb513908852b2b28a7b63978e0f28de60e556527cd1be437acdad3306';

describe('outerWarmup (optional outer lr warm-up)', () => {
  it('ramps lr linearly over the first rounds, keeps μ, then holds the base settings', () => {
    const o = { lr: 0.6, momentum: 0.9 };
    [0.2, 0.4, 0.6, 0.6, 0.6].forEach((want, i) => expect(outerWarmup(o, 3, [0, 1, 2, 3, 10][i]!).lr).toBeCloseTo(want, 15));
    expect(outerWarmup(o, 3, 2).lr).toBe(0.6);
    expect([0, 1, 5].map((r) => outerWarmup(o, 3, r).momentum)).toEqual([0.9, 0.9, 0.9]);
    // one warm-up round is no warm-up
    expect(outerWarmup(o, 1, 0)).toEqual(o);
    // the first step from zero momentum with W rounds is θ − (lr/W)(1+μ)g: here 0.25·1.5·g, dyadic and exact
    const r1 = outerStep(Float32Array.from([1]), new Float32Array(1), Float32Array.from([0.5]), outerWarmup({ lr: 0.5, momentum: 0.5 }, 2, 0));
    expect([...r1.theta]).toEqual([1 - 0.25 * 1.5 * 0.5]);
  });

  it('rejects bad settings with coded errors', () => {
    expectCode(() => outerWarmup(DILOCO_OUTER, 0, 0), 'DILOCO_BAD_OPTION');
    expectCode(() => outerWarmup(DILOCO_OUTER, 2.5, 0), 'DILOCO_BAD_OPTION');
    expectCode(() => outerWarmup(DILOCO_OUTER, 3, -1), 'DILOCO_BAD_OPTION');
    expectCode(() => outerWarmup(DILOCO_OUTER, 3, 0.5), 'DILOCO_BAD_OPTION');
    expectCode(() => outerWarmup({ lr: 0.7, momentum: 1 }, 3, 0), 'DILOCO_BAD_OPTION');
  });
});
