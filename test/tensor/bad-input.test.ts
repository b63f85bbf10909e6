/** Bad input to the engine gets a coded SwarmError, never a wrong result or a crash. */
import { describe, expect, it } from 'vitest';
import { SwarmError } from '../../src/core/errors.ts';
import { createRefBackend } from '../../src/tensor/backend/ref.ts';
import * as T from '../../src/tensor/index.ts';
import { Engine } from '../../src/tensor/tensor.ts';
import { codeOf as code } from '../helpers/errors.ts';


describe('bad input', () => {
  const e = new Engine(createRefBackend());

  it('shape mismatches', () => {
    expect(code(() => T.add(e.zeros([2, 3]), e.zeros([4, 3])))).toBe('TENSOR_SHAPE_MISMATCH');
    expect(code(() => T.matmul(e.zeros([2, 3]), e.zeros([4, 5])))).toBe('TENSOR_SHAPE_MISMATCH');
    expect(code(() => T.matmul(e.zeros([2, 2, 3]), e.zeros([3, 3, 5])))).toBe('TENSOR_SHAPE_MISMATCH');
    expect(code(() => T.matmul(e.zeros([3]), e.zeros([3, 1])))).toBe('TENSOR_SHAPE_MISMATCH');
    expect(code(() => T.reshape(e.zeros([2, 3]), [4, 2]))).toBe('TENSOR_SHAPE_MISMATCH');
    expect(code(() => T.concat([e.zeros([2, 3]), e.zeros([3, 2])], 0))).toBe('TENSOR_SHAPE_MISMATCH');
    expect(code(() => T.expand(e.zeros([2, 3]), [3, 3]))).toBe('TENSOR_SHAPE_MISMATCH');
    expect(code(() => T.crossEntropy(e.zeros([2, 3]), Int32Array.of(0)))).toBe('TENSOR_SHAPE_MISMATCH');
    expect(code(() => T.rope(e.zeros([2, 3]), e.zeros([2, 3]), e.zeros([2, 3])))).toBe('TENSOR_SHAPE_MISMATCH');
  });

  it('bad shapes, data and axes', () => {
    expect(code(() => e.tensor([1, 2, 3], [2, 2]))).toBe('TENSOR_BAD_SHAPE');
    expect(code(() => e.zeros([2, -1]))).toBe('TENSOR_BAD_SHAPE');
    expect(code(() => e.zeros([1.5]))).toBe('TENSOR_BAD_SHAPE');
    expect(code(() => e.zeros([1, 1, 1, 1, 1, 1, 1, 1, 1]))).toBe('TENSOR_BAD_SHAPE');
    expect(code(() => T.sum(e.zeros([2, 3]), 2))).toBe('TENSOR_BAD_AXIS');
    expect(code(() => T.permute(e.zeros([2, 3]), [0, 0]))).toBe('TENSOR_BAD_AXIS');
    expect(code(() => e.zeros([2]).item())).toBe('TENSOR_BAD_SHAPE');
  });

  it('out-of-range indices', () => {
    const table = e.zeros([4, 2]);
    expect(code(() => T.gather(table, Int32Array.of(0, 4)))).toBe('TENSOR_INDEX_OUT_OF_RANGE');
    expect(code(() => T.gather(table, Int32Array.of(-1)))).toBe('TENSOR_INDEX_OUT_OF_RANGE');
    expect(code(() => T.slice(table, 0, 2, 5))).toBe('TENSOR_INDEX_OUT_OF_RANGE');
    expect(code(() => T.slice(table, 0, 3, 2))).toBe('TENSOR_INDEX_OUT_OF_RANGE');
    expect(code(() => T.crossEntropy(e.zeros([1, 3]), Int32Array.of(3)))).toBe('TENSOR_INDEX_OUT_OF_RANGE');
  });

  it('tensors over the size limit', () => {
    const small = new Engine(createRefBackend(), { maxElements: 100 });
    expect(code(() => small.zeros([11, 10]))).toBe('TENSOR_TOO_LARGE');
    expect(code(() => T.matmul(small.zeros([20, 1]), small.zeros([1, 20])))).toBe('TENSOR_TOO_LARGE');
    expect(code(() => T.add(small.zeros([20, 1]), small.zeros([1, 20])))).toBe('TENSOR_TOO_LARGE');
    expect(code(() => T.expand(small.zeros([1, 20]), [20, 20]))).toBe('TENSOR_TOO_LARGE');
  });

  it('NaN-producing ops are flagged when asked, and pass silently otherwise', () => {
    const x = e.tensor([-1, 4], [2]);
    expect(Number.isNaN(T.log(x).data[0])).toBe(true);
    const strict = new Engine(createRefBackend(), { checkNaN: true });
    const err = (() => {
      try {
        T.log(strict.tensor([-1, 4], [2]));
      } catch (er) {
        return er as SwarmError;
      }
      return null;
    })();
    expect(err?.code).toBe('TENSOR_NAN');
    expect(err?.details).toMatchObject({ op: 'log', index: 0 });
    expect(code(() => T.div(strict.zeros([1]), strict.zeros([1])))).toBe('TENSOR_NAN');
    expect(T.sqrt(strict.tensor([4], [1])).item()).toBe(2);
  });

  it('misuse of autograd and engines', () => {
    const x = e.tensor([1, 2], [2], { requiresGrad: true });
    expect(code(() => T.gradients(T.mul(x, x), [x]))).toBe('TENSOR_BAD_GRAD');
    expect(code(() => T.gradients(T.sumAll(e.zeros([2])), [x]))).toBe('TENSOR_NO_GRAD');
    const other = new Engine(createRefBackend());
    expect(code(() => T.add(x, other.zeros([2])))).toBe('TENSOR_ENGINE_MISMATCH');
  });
});
