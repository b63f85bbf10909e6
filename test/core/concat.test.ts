import { describe, expect, it } from 'vitest';
import { concatArrays } from '../../src/core/concat.ts';
import { concatBytes } from '../../src/core/encoding.ts';

describe('concatArrays', () => {
  it('puts the parts back to back in a new array of the asked type', () => {
    const out = concatArrays(Int32Array, [Int32Array.of(1, -2), new Int32Array(0), Int32Array.of(3)]);
    expect(out).toBeInstanceOf(Int32Array);
    expect([...out]).toEqual([1, -2, 3]);
    const f = concatArrays(Float32Array, [Float32Array.of(0.5), Float32Array.of(-0)]);
    expect(f).toBeInstanceOf(Float32Array);
    expect(Object.is(f[1], -0)).toBe(true);
  });

  it('copies: the result shares no memory with the parts, and views are read at their offset', () => {
    const backing = Uint8Array.of(9, 1, 2, 9);
    const view = backing.subarray(1, 3);
    const out = concatArrays(Uint8Array, [view]);
    backing[1] = 7;
    expect([...out]).toEqual([1, 2]);
    expect(out.buffer).not.toBe(backing.buffer);
  });

  it('takes more parts than a call may have arguments (a long stream of chunks)', () => {
    const parts = Array.from({ length: 200_000 }, (_, i) => Uint8Array.of(i & 0xff));
    const out = concatArrays(Uint8Array, parts);
    expect(out.length).toBe(200_000);
    expect(out[199_999]).toBe(199_999 & 0xff);
  });

  it('is what concatBytes does for bytes', () => {
    expect(concatBytes(Uint8Array.of(1), Uint8Array.of(2, 3))).toEqual(concatArrays(Uint8Array, [Uint8Array.of(1), Uint8Array.of(2, 3)]));
    expect(concatBytes()).toEqual(new Uint8Array(0));
  });
});
