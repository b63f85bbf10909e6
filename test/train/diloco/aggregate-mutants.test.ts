/**
 * Robust aggregation at its edges (issue 26, mutation testing): exact values
 * of each aggregator on small inputs, and every option and input check at
 * its boundary.
 */
import { describe, expect, it } from 'vitest';
import {
  AGGREGATORS, aggregate, centeredClipAggregate, checkAggregateOptions, meanAggregate, trimCount, trimmedMeanAggregate,
} from '../../../src/train/diloco/aggregate.ts';
import type { AggregateOptions } from '../../../src/train/diloco/aggregate.ts';

const F = (...x: number[]) => Float32Array.from(x);
const code = (c: string) => expect.objectContaining({ code: c });
const arr = (a: Float32Array) => Array.from(a);

describe('inputs', () => {
  it('refuses no deltas, a non-array, a delta that is not a Float32Array, unequal lengths and non-finite values', () => {
    expect(() => meanAggregate([])).toThrow(code('DILOCO_NO_DELTAS'));
    expect(() => meanAggregate('x' as unknown as Float32Array[])).toThrow(code('DILOCO_NO_DELTAS'));
    expect(() => meanAggregate([F(1), [1] as unknown as Float32Array])).toThrow(code('DILOCO_BAD_OPTION'));
    expect(() => meanAggregate([F(1, 2), F(1)])).toThrow(code('DILOCO_LENGTH_MISMATCH'));
    expect(() => meanAggregate([F(1), F(Number.NaN)])).toThrow(code('DILOCO_NONFINITE'));
    expect(arr(meanAggregate([F(4)]))).toEqual([4]);
  });
});

describe('mean', () => {
  it('sums in slot order and divides once by K', () => {
    expect(arr(meanAggregate([F(1, 2), F(3, 4), F(5, 7)]))).toEqual([3, Math.fround(13 / 3)]);
  });
});

describe('trimmed mean', () => {
  it('drops ⌊βK⌋ values from each side', () => {
    expect(trimCount(10, 0)).toBe(0);
    expect(trimCount(10, 0.2)).toBe(2);
    expect(trimCount(9, 0.25)).toBe(2);
    expect(trimCount(10, 0.49)).toBe(4);
  });

  it('refuses a fraction outside [0, 0.5)', () => {
    for (const t of [-0.01, 0.5, 0.7, Number.NaN, '0.1' as unknown as number]) expect(() => trimCount(10, t), String(t)).toThrow(code('DILOCO_BAD_OPTION'));
  });

  it('averages the kept middle values per coordinate', () => {
    const d = [F(1, 10), F(2, -50), F(3, 20), F(100, 30), F(-100, 40)];
    expect(arr(trimmedMeanAggregate(d, 0.2))).toEqual([2, 20]); // drops 1 per side: [1,2,3] and [10,20,30]
    expect(arr(trimmedMeanAggregate(d, 0))).toEqual([Math.fround(6 / 5), 10]);
  });
});

describe('centered clip', () => {
  it('clips each delta to radius τ around the center and averages', () => {
    // norms 0, 0, 10 around 0: scales 1, 1, 0.1 -> (0 + 0 + 1) / 3
    expect(arr(centeredClipAggregate([F(0, 0), F(0, 0), F(10, 0)], 1, 1))).toEqual([Math.fround(1 / 3), 0]);
    // a delta within the radius is not scaled
    expect(arr(centeredClipAggregate([F(0.5, 0), F(-0.5, 0), F(0, 0.3)], 1, 1))).toEqual([0, Math.fround(0.3 / 3)]);
    // around a given center
    expect(arr(centeredClipAggregate([F(10, 0), F(10, 0)], 1, 1, F(8, 0)))).toEqual([9, 0]);
  });

  it('iterates from the previous estimate', () => {
    const d = [F(0), F(0), F(30)];
    const one = centeredClipAggregate(d, 1, 1)[0]!;
    const two = centeredClipAggregate(d, 1, 2)[0]!;
    expect(one).toBe(Math.fround(1 / 3));
    expect(two).toBeGreaterThan(one);
  });

  it('checks τ, the iterations and the center', () => {
    const d = [F(1, 2)];
    for (const tau of [0, -1, Number.POSITIVE_INFINITY, Number.NaN, '1' as unknown as number]) expect(() => centeredClipAggregate(d, tau, 1), String(tau)).toThrow(code('DILOCO_BAD_OPTION'));
    for (const n of [0, 1001, 1.5]) expect(() => centeredClipAggregate(d, 1, n), String(n)).toThrow(code('DILOCO_BAD_OPTION'));
    expect(arr(centeredClipAggregate(d, 1e-3, 1000))).toHaveLength(2);
    expect(() => centeredClipAggregate(d, 1, 1, [0, 0] as unknown as Float32Array)).toThrow(code('DILOCO_BAD_OPTION'));
    expect(() => centeredClipAggregate(d, 1, 1, F(0))).toThrow(code('DILOCO_LENGTH_MISMATCH'));
    expect(() => centeredClipAggregate(d, 1, 1, F(0, Number.NaN))).toThrow(code('DILOCO_NONFINITE'));
  });
});

describe('options and dispatch', () => {
  it('checks the options of each kind', () => {
    for (const o of [null, 'mean', { kind: 'median' }, { kind: 'trimmed-mean', trim: 0.5 }, { kind: 'centered-clip', tau: 0, iterations: 1 }, { kind: 'centered-clip', tau: Number.NaN, iterations: 1 },
      { kind: 'centered-clip', tau: 1, iterations: 0 }, { kind: 'centered-clip', tau: 1, iterations: 1001 }, { kind: 'centered-clip', tau: 1, iterations: 2.5 }, { kind: 'centered-clip', tau: '1', iterations: 1 },
      { kind: 'median', tau: 1, iterations: 1 }]) {
      expect(() => checkAggregateOptions(o as unknown as AggregateOptions), JSON.stringify(o)).toThrow(code('DILOCO_BAD_OPTION'));
    }
    for (const o of [{ kind: 'mean' }, { kind: 'trimmed-mean', trim: 0 }, { kind: 'centered-clip', tau: 1, iterations: 1 }, { kind: 'centered-clip', tau: 1, iterations: 1000 }]) {
      expect(() => checkAggregateOptions(o as AggregateOptions), JSON.stringify(o)).not.toThrow();
    }
    expect(AGGREGATORS).toEqual(['mean', 'trimmed-mean', 'centered-clip']);
  });

  it('runs the aggregator the options name', () => {
    const d = [F(0), F(1), F(2), F(3), F(100)];
    expect(arr(aggregate(d, { kind: 'mean' }))).toEqual([Math.fround(106 / 5)]);
    expect(arr(aggregate(d, { kind: 'trimmed-mean', trim: 0.2 }))).toEqual([2]);
    expect(arr(aggregate(d, { kind: 'centered-clip', tau: 1, iterations: 1 }))).toEqual(arr(centeredClipAggregate(d, 1, 1)));
    expect(arr(aggregate(d, { kind: 'centered-clip', tau: 1, iterations: 1, center: F(2) }))).toEqual(arr(centeredClipAggregate(d, 1, 1, F(2))));
  });
});
