/** The ref backend implements the documented canonical order exactly. */
import { describe, expect, it } from 'vitest';
import { createRefBackend } from '../../src/tensor/backend/ref.ts';
import * as T from '../../src/tensor/index.ts';
import { Engine } from '../../src/tensor/tensor.ts';

const be = createRefBackend();
const e = new Engine(be);
const f = Math.fround;

describe('ref backend: canonical order', () => {
  it('sums in increasing index order from +0', () => {
    // (1e8 + 1) rounds back to 1e8 in binary32, so order is visible in the result
    const x = new Float32Array([1e8, 1, 1, 1, 1, -1e8]);
    expect(be.reduce('sum', x, 1, 6, 1)[0]).toBe(0);
    const y = new Float32Array([1, 1, 1, 1, 1e8, -1e8]);
    expect(be.reduce('sum', y, 1, 6, 1)[0]).toBe(f(f(4 + 1e8) - 1e8));
    expect(Object.is(be.reduce('sum', new Float32Array([-0]), 1, 1, 1)[0], 0)).toBe(true);
    expect(be.reduce('sum', new Float32Array(0), 1, 0, 1)[0]).toBe(0);
    expect(be.reduce('max', new Float32Array(0), 1, 0, 1)[0]).toBe(-Infinity);
  });

  it('reduces the middle axis of [outer, n, inner]', () => {
    const x = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]); // [2, 3, 2]
    expect(Array.from(be.reduce('sum', x, 2, 3, 2))).toEqual([9, 12, 27, 30]);
    expect(Array.from(be.reduce('max', x, 2, 3, 2))).toEqual([5, 6, 11, 12]);
  });

  it('matmul rounds every product and every partial sum', () => {
    // a·b with products 1e8, 1, -1e8: sequential binary32 gives 0, exact gives 1.
    const a = new Float32Array([1e4, 1, -1e4]);
    const b = new Float32Array([1e4, 1, 1e4]);
    expect(be.matmul(a, b, 1, 1, 3, 1, false)[0]).toBe(0);
    // product rounding: (1+2^-12)^2 = 1 + 2^-11 + 2^-24 rounds to 1 + 2^-11 before the add
    const v = f(1 + 2 ** -12);
    expect(be.matmul(new Float32Array([v]), new Float32Array([v]), 1, 1, 1, 1, false)[0]).toBe(1 + 2 ** -11);
  });

  it('matmul on a known product, batched and shared', () => {
    const a = e.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const b = e.tensor([7, 8, 9, 10, 11, 12], [3, 2]);
    expect(T.matmul(a, b).toArray()).toEqual([58, 64, 139, 154]);
    const ab = e.tensor([1, 2, 3, 4, 5, 6, 1, 0, 0, 0, 1, 0], [2, 2, 3]);
    expect(T.matmul(ab, b).toArray()).toEqual([58, 64, 139, 154, 7, 8, 9, 10]);
    const bb = e.tensor([7, 8, 9, 10, 11, 12, 1, 1, 1, 1, 1, 1], [2, 3, 2]);
    expect(T.matmul(ab, bb).toArray()).toEqual([58, 64, 139, 154, 1, 1, 1, 1]);
  });

  it('scatter-add accumulates repeated indices in order', () => {
    const out = be.scatterAdd(new Float32Array([1, 2, 3, 4, 5, 6]), Int32Array.of(1, 0, 1), 3, 2);
    expect(Array.from(out)).toEqual([3, 4, 6, 8, 0, 0]);
  });

  it('broadcasting binary ops and comparisons', () => {
    const a = e.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    expect(T.add(a, e.tensor([10, 20, 30], [3])).toArray()).toEqual([11, 22, 33, 14, 25, 36]);
    expect(T.sub(a, e.tensor([1, 2], [2, 1])).toArray()).toEqual([0, 1, 2, 2, 3, 4]);
    expect(T.gt(a, e.scalar(3)).toArray()).toEqual([0, 0, 0, 1, 1, 1]);
    expect(T.eq(e.tensor([NaN, 1], [2]), e.tensor([NaN, 1], [2])).toArray()).toEqual([0, 1]);
    expect(T.maximum(a, e.scalar(3.5)).toArray()).toEqual([3.5, 3.5, 3.5, 4, 5, 6]);
  });

  it('data movement: permute, slice, concat, gather, where, expand', () => {
    const x = e.tensor([0, 1, 2, 3, 4, 5], [2, 3]);
    expect(T.transpose(x, 0, 1).toArray()).toEqual([0, 3, 1, 4, 2, 5]);
    expect(T.slice(x, 1, 1, 3).toArray()).toEqual([1, 2, 4, 5]);
    expect(T.concat([x, x], 0).shape).toEqual([4, 3]);
    expect(T.concat([x, T.slice(x, 1, 0, 1)], 1).toArray()).toEqual([0, 1, 2, 0, 3, 4, 5, 3]);
    expect(T.gather(x, Int32Array.of(1, 1, 0)).toArray()).toEqual([3, 4, 5, 3, 4, 5, 0, 1, 2]);
    expect(T.where(e.tensor([1, 0, 1], [3]), x, e.scalar(-1)).toArray()).toEqual([0, -1, 2, 3, -1, 5]);
    expect(T.expand(e.tensor([1, 2], [2, 1]), [2, 2]).toArray()).toEqual([1, 1, 2, 2]);
    expect(T.reshape(x, [3, -1]).shape).toEqual([3, 2]);
  });

  it('softmax rows sum to one and cross-entropy of uniform logits is log V', () => {
    const s = T.softmax(e.tensor([1, 2, 3, 1000, 1000, 1000], [2, 3]));
    expect(s.data[3]).toBeCloseTo(1 / 3, 6);
    expect(s.data[0]! + s.data[1]! + s.data[2]!).toBeCloseTo(1, 6);
    const ce = T.crossEntropy(e.zeros([4, 8]), Int32Array.of(0, 1, 2, 7));
    expect(ce.item()).toBeCloseTo(Math.log(8), 6);
  });
});
