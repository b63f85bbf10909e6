/** Aggregators: exact values on crafted inputs, robustness to outliers, determinism, coded errors. */
import { describe, expect, it } from 'vitest';
import { Prng } from '../../../src/core/prng.ts';
import { sha256Hex } from '../../../src/core/sha256.ts';
import { aggregate, centeredClipAggregate, meanAggregate, trimCount, trimmedMeanAggregate } from '../../../src/train/diloco/aggregate.ts';
import { expectCode } from '../../helpers/errors.ts';

const F = (...xs: number[]) => Float32Array.from(xs);
const norm = (a: Float32Array) => Math.sqrt(a.reduce((s, x) => s + x * x, 0));
const bytes = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

function honest(K: number, n: number, seed: string): Float32Array[] {
  const rng = Prng.fromSeed(seed);
  // the honest deltas scatter ±0.05 around 0.1
  return Array.from({ length: K }, () => Float32Array.from({ length: n }, () => 0.1 + (rng.nextFloat() - 0.5) * 0.1));
}

describe('mean', () => {
  it('averages in slot order with one division', () => {
    expect([...meanAggregate([F(1, -2, 0.5), F(3, 2, 0.25), F(2, 3, 0.75)])]).toEqual([2, 1, 0.5]);
    expect([...meanAggregate([F(0.1)])]).toEqual([Math.fround(0.1)]);
    // f32 sums in order: (1e8 + 1) + (−1e8) = 0 in binary32 (1e8 + 1 rounds to 1e8), so the mean is 0, not 1/3
    expect([...meanAggregate([F(1e8), F(1), F(-1e8)])]).toEqual([Math.fround(Math.fround(Math.fround(1e8) + 1) - Math.fround(1e8)) / 3]);
    expect([...meanAggregate([F(1e8), F(1), F(-1e8)])]).toEqual([0]);
  });
});

describe('trimmed mean (Yin et al. 2018)', () => {
  it('drops ⌊βK⌋ values from each side per coordinate', () => {
    expect(trimCount(4, 0.25)).toBe(1);
    expect(trimCount(5, 0.25)).toBe(1);
    expect(trimCount(3, 0.2)).toBe(0);
    // coordinate 0: sorted [-100, 1, 2, 1000] → mean(1, 2); coordinate 1: [−7, 0, 4, 5] → mean(0, 4)
    const out = trimmedMeanAggregate([F(1000, 0), F(1, 4), F(-100, 5), F(2, -7)], 0.25);
    expect([...out]).toEqual([1.5, 2]);
    // β = 0 is the plain mean
    expect([...trimmedMeanAggregate([F(1), F(2), F(6)], 0)]).toEqual([3]);
  });

  it('ignores one huge outlier among five slots', () => {
    const good = honest(4, 1000, 'tm');
    const bad = Float32Array.from({ length: 1000 }, (_, i) => (i % 2 ? 1e6 : -1e6));
    const robust = trimmedMeanAggregate([...good.slice(0, 2), bad, ...good.slice(2)], 0.2);
    const clean = meanAggregate(good);
    for (let i = 0; i < 1000; i++) {
      expect(robust[i]).toBeGreaterThanOrEqual(0.05 - 1e-7);
      expect(robust[i]).toBeLessThanOrEqual(0.15 + 1e-7);
    }
    expect(norm(robust.map((x, i) => x - clean[i]!))).toBeLessThan(0.05 * Math.sqrt(1000));
    expect(norm(meanAggregate([...good, bad]))).toBeGreaterThan(5e4); // ≈ 2500·√1000 // the plain mean is ruined
  });

  it('is independent of slot order up to the sort (the same values give the same bits)', () => {
    const ds = honest(5, 500, 'perm');
    const a = trimmedMeanAggregate(ds, 0.2);
    const b = trimmedMeanAggregate([ds[3]!, ds[0]!, ds[4]!, ds[2]!, ds[1]!], 0.2);
    expect(sha256Hex(bytes(a))).toBe(sha256Hex(bytes(b)));
  });
});

describe('centered clip (Karimireddy, He, Jaggi 2021)', () => {
  it('computes v + (1/K) Σ clip_τ(Δ_k − v) exactly on a crafted input', () => {
    // from v0 = 0 with τ = 1: Δ = (3, 4) has norm 5 → scaled by 1/5 to (0.6, 0.8); (0.5, 0) is inside the ball
    const v1 = centeredClipAggregate([F(3, 4), F(0.5, 0)], 1, 1);
    expect(v1[0]).toBe(Math.fround(Math.fround(Math.fround(3 * Math.fround(1 / 5)) + 0.5) / 2));
    expect(v1[1]).toBe(Math.fround(Math.fround(4 * Math.fround(1 / 5)) / 2));
    // with a radius above every distance it is the mean, whatever L
    expect([...centeredClipAggregate([F(1, 2), F(3, 4)], 100, 5)]).toEqual([2, 3]);
  });

  it('one slot moves the result by exactly τ/K per iteration when the others agree with the centre', () => {
    const n = 64, K = 4, tau = 0.3;
    const c = Float32Array.from({ length: n }, (_, i) => Math.sin(i));
    const bad = Float32Array.from({ length: n }, (_, i) => (i % 3 ? 5e3 : -7e3));
    const one = centeredClipAggregate([c, c, bad, c], tau, 1, c);
    expect(norm(one.map((x, i) => x - c[i]!))).toBeCloseTo(tau / K, 6);
    const three = centeredClipAggregate([c, c, bad, c], tau, 3, c);
    const shift = norm(three.map((x, i) => x - c[i]!));
    expect(shift).toBeGreaterThan(tau / K);
    // iterating converges to the fixed point τ/(K−1) (K−1 honest pulls of x against one push of τ): 21τ/64 after 3
    expect(shift).toBeCloseTo((21 * tau) / 64, 5);
    expect(norm(centeredClipAggregate([c, c, bad, c], tau, 200, c).map((x, i) => x - c[i]!))).toBeCloseTo(tau / (K - 1), 5);
  });

  it('bounds a huge outlier’s influence by τ/K per iteration, where the mean follows it', () => {
    const K = 4, n = 1000, tau = 0.5, L = 3;
    const good = honest(K - 1, n, 'cc');
    const clean = meanAggregate(good);
    const bad = Float32Array.from({ length: n }, () => -1e4);
    const out = centeredClipAggregate([...good, bad], tau, L, clean);
    const shift = norm(out.map((x, i) => x - clean[i]!));
    // each iteration: honest terms move v by at most their own clipped norms, the outlier by ≤ τ/K
    expect(shift).toBeLessThan(L * tau); // loose bound: every slot contributes ≤ τ/K per iteration
    expect(shift).toBeGreaterThan(0);
    expect(norm(meanAggregate([...good, bad]))).toBeGreaterThan(5e4); // ≈ 2500·√1000
    // the same input gives the same bits, and a zero centre is the default
    expect(sha256Hex(bytes(centeredClipAggregate([...good, bad], tau, L)))).toBe(sha256Hex(bytes(centeredClipAggregate([...good, bad], tau, L, new Float32Array(n)))));
  });
});

describe('aggregate()', () => {
  it('dispatches on kind', () => {
    const ds = [F(1, 0), F(3, 8), F(100, 1)];
    expect([...aggregate(ds, { kind: 'mean' })]).toEqual([...meanAggregate(ds)]);
    expect([...aggregate(ds, { kind: 'trimmed-mean', trim: 0.34 })]).toEqual([3, 1]);
    expect([...aggregate(ds, { kind: 'centered-clip', tau: 1, iterations: 2 })]).toEqual([...centeredClipAggregate(ds, 1, 2)]);
  });

  it('rejects bad input with coded errors', () => {
    for (const kind of [{ kind: 'mean' }, { kind: 'trimmed-mean', trim: 0.1 }, { kind: 'centered-clip', tau: 1, iterations: 1 }] as const) {
      expectCode(() => aggregate([], kind), 'DILOCO_NO_DELTAS');
      expectCode(() => aggregate([F(1, 2), F(1)], kind), 'DILOCO_LENGTH_MISMATCH');
      expectCode(() => aggregate([F(1, 2), F(NaN, 1)], kind), 'DILOCO_NONFINITE');
      expectCode(() => aggregate([F(1, -Infinity)], kind), 'DILOCO_NONFINITE');
    }
    expectCode(() => aggregate([F(1)], { kind: 'trimmed-mean', trim: 0.5 }), 'DILOCO_BAD_OPTION');
    expectCode(() => aggregate([F(1)], { kind: 'trimmed-mean', trim: -0.1 }), 'DILOCO_BAD_OPTION');
    expectCode(() => aggregate([F(1)], { kind: 'centered-clip', tau: 0, iterations: 1 }), 'DILOCO_BAD_OPTION');
    expectCode(() => aggregate([F(1)], { kind: 'centered-clip', tau: 1, iterations: 0 }), 'DILOCO_BAD_OPTION');
    expectCode(() => aggregate([F(1)], { kind: 'centered-clip', tau: 1, iterations: 1, center: F(1, 2) }), 'DILOCO_LENGTH_MISMATCH');
    expectCode(() => aggregate([F(1)], { kind: 'centered-clip', tau: 1, iterations: 1, center: F(NaN) }), 'DILOCO_NONFINITE');
    expectCode(() => aggregate([F(1)], { kind: 'median' } as never), 'DILOCO_BAD_OPTION');
    expectCode(() => aggregate([[1, 2] as never], { kind: 'mean' }), 'DILOCO_BAD_OPTION');
  });
});
