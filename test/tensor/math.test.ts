/** The canonical transcendentals: accuracy bounds against the host's binary64 math, and edge cases. */
import { describe, expect, it } from 'vitest';
import { expf, fmax, logf, rsqrtf, sincos64, sqrtf, tanhf } from '../../src/tensor/math.ts';
import { lcg } from './helpers.ts';

const f = Math.fround;
const bits = new Uint32Array(1);
const fl = new Float32Array(bits.buffer);
/** Distance in units of the last place between two binary32 values of the same sign. */
function ulps(a: number, b: number): number {
  fl[0] = a;
  const x = bits[0]!;
  fl[0] = b;
  return Math.abs(x - bits[0]!);
}

describe('canonical math', () => {
  const rnd = lcg(3);

  it('expf within 1 ulp of the correctly rounded value on [-87, 88]', () => {
    let worst = 0;
    for (let i = 0; i < 100_000; i++) {
      const x = f(-87 + 175 * rnd());
      worst = Math.max(worst, ulps(expf(x), f(Math.exp(x))));
    }
    expect(worst).toBeLessThanOrEqual(1);
  });

  it('expf edge cases', () => {
    expect(expf(0)).toBe(1);
    expect(expf(-0)).toBe(1);
    expect(expf(Infinity)).toBe(Infinity);
    expect(expf(-Infinity)).toBe(0);
    expect(expf(89)).toBe(Infinity);
    expect(expf(-104)).toBe(0);
    expect(Number.isNaN(expf(NaN))).toBe(true);
    // subnormal results: within 1 ulp of the correctly rounded subnormal
    for (const x of [-88, -95, -100, -103.5].map(f)) expect(ulps(expf(x), f(Math.exp(x)))).toBeLessThanOrEqual(1);
    expect(expf(f(88.7))).toBeGreaterThan(3e38);
  });

  it('logf within 2 ulp over normal and subnormal inputs', () => {
    let worst = 0;
    for (let i = 0; i < 100_000; i++) {
      const x = f(Math.exp(-100 + 185 * rnd()));
      if (x === 0 || x === Infinity) continue;
      worst = Math.max(worst, ulps(logf(x), f(Math.log(x))));
    }
    for (let i = 0; i < 50_000; i++) {
      const x = f(0.5 + rnd());
      worst = Math.max(worst, ulps(logf(x), f(Math.log(x))) * (Math.abs(Math.log(x)) < 1e-3 ? 0 : 1));
    }
    expect(worst).toBeLessThanOrEqual(2);
    expect(logf(1)).toBe(0);
    expect(logf(0)).toBe(-Infinity);
    expect(logf(-0)).toBe(-Infinity);
    expect(logf(Infinity)).toBe(Infinity);
    expect(Number.isNaN(logf(-1))).toBe(true);
    expect(ulps(logf(f(1e-45)), f(Math.log(f(1e-45))))).toBeLessThanOrEqual(2);
  });

  it('tanhf within 2 ulp, odd, saturating', () => {
    let worst = 0;
    for (let i = 0; i < 100_000; i++) {
      const x = f(-10 + 20 * rnd());
      worst = Math.max(worst, ulps(tanhf(x), f(Math.tanh(x))));
    }
    expect(worst).toBeLessThanOrEqual(2);
    expect(Object.is(tanhf(-0), -0)).toBe(true);
    expect(tanhf(50)).toBe(1);
    expect(tanhf(-50)).toBe(-1);
    expect(tanhf(f(0.7))).toBe(-tanhf(f(-0.7)));
  });

  it('sqrt and rsqrt are correctly rounded compositions', () => {
    expect(sqrtf(4)).toBe(2);
    expect(rsqrtf(4)).toBe(0.5);
    expect(rsqrtf(0)).toBe(Infinity);
    expect(Number.isNaN(sqrtf(-1))).toBe(true);
  });

  it('fmax is IEEE maximum (NaN wins, +0 > -0)', () => {
    expect(Object.is(fmax(-0, 0), 0)).toBe(true);
    expect(Object.is(fmax(0, -0), 0)).toBe(true);
    expect(Object.is(fmax(-0, -0), -0)).toBe(true);
    expect(Number.isNaN(fmax(NaN, 1))).toBe(true);
    expect(Number.isNaN(fmax(1, NaN))).toBe(true);
    expect(fmax(-Infinity, -3)).toBe(-3);
  });

  it('sincos64 agrees with the host to 1e-13 for |x| up to 1e4', () => {
    let worst = 0;
    for (let i = 0; i < 20_000; i++) {
      const x = (rnd() - 0.5) * 2e4;
      const { sin, cos } = sincos64(x);
      worst = Math.max(worst, Math.abs(sin - Math.sin(x)), Math.abs(cos - Math.cos(x)));
    }
    expect(worst).toBeLessThan(1e-13);
  });
});
