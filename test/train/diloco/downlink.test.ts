/**
 * The int8 downlink with error feedback (src/train/diloco/downlink.ts) and
 * the global state that carries its residual: what is applied is exactly
 * what providers rebuild, the residual holds exactly what was not applied,
 * and over many rounds the quantized trajectory stays within one
 * quantization step of the exact one instead of drifting.
 */
import { describe, expect, it } from 'vitest';
import { Prng } from '../../../src/core/prng.ts';
import { decodeGlobalState, encodeGlobalState, initGlobalState, outerRound } from '../../../src/train/diloco/checkpoint.ts';
import { applyUpdate, quantizedStep } from '../../../src/train/diloco/downlink.ts';
import { DILOCO_OUTER } from '../../../src/train/diloco/outer.ts';
import { expectCode } from '../../helpers/errors.ts';

const f = Math.fround;
const rows = [8, 8, 8, 13];
const n = 37;

function seeded(seed: string, scale = 1): Float32Array {
  const rng = Prng.fromSeed(seed);
  return Float32Array.from({ length: n }, () => (rng.nextFloat() * 2 - 1) * scale);
}

describe('int8 downlink', () => {
  it('applies exactly what applyUpdate rebuilds, and the residual is exactly what was not applied', () => {
    const theta = seeded('theta');
    const target = Float32Array.from(theta, (t, i) => f(t + f(0.01 * Math.sin(i))));
    const residual = seeded('residual', 1e-4);
    const d = quantizedStep(theta, target, residual, rows);
    expect(Array.from(applyUpdate(theta, d.update, rows))).toEqual(Array.from(d.theta));
    for (let i = 0; i < n; i++) {
      const u = f(f(target[i]! - theta[i]!) + residual[i]!);
      expect(d.residual[i]).toBe(f(u - f(d.theta[i]! - theta[i]!)));
      expect(d.update.q[i]).toBeGreaterThanOrEqual(-127);
    }
    // the error of one step is within half a code of its row (plus f32 rounding)
    let at = 0;
    rows.forEach((len, r) => {
      for (let i = at; i < at + len; i++) expect(Math.abs(d.residual[i]!)).toBeLessThanOrEqual(d.update.scales[r]! * 0.5 + 1e-6);
      at += len;
    });
  });

  it('error feedback: 200 quantized steps end within one code of the exact trajectory (no drift)', () => {
    const rng = Prng.fromSeed('steps');
    let exact: Float32Array = seeded('theta');
    let q: Float32Array = Float32Array.from(exact);
    let e: Float32Array = new Float32Array(n);
    let biggest = 0;
    for (let s = 0; s < 200; s++) {
      // a biased step: without feedback the rounding errors of a step that is always the same would add up
      const step = Float32Array.from({ length: n }, (_, i) => f(1e-3 * (1 + (i % 3)) + 2e-4 * (rng.nextFloat() - 0.5)));
      exact = Float32Array.from(exact, (x, i) => f(x + step[i]!));
      const d = quantizedStep(q, Float32Array.from(q, (x, i) => f(x + step[i]!)), e, rows);
      q = d.theta;
      e = d.residual;
      for (const sc of d.update.scales) biggest = Math.max(biggest, sc);
    }
    for (let i = 0; i < n; i++) expect(Math.abs(q[i]! + e[i]! - exact[i]!)).toBeLessThan(1e-5);
    for (let i = 0; i < n; i++) expect(Math.abs(q[i]! - exact[i]!)).toBeLessThanOrEqual(biggest);
  });

  it('the state blob carries the residual; outerRound requires it exactly when the downlink is int8', () => {
    const s = initGlobalState(seeded('theta'), { residual: true });
    expect(Array.from(s.residual!)).toEqual(new Array(n).fill(0));
    const deltas = [seeded('d0', 0.01), seeded('d1', 0.01)];
    const r = outerRound(s, deltas, { outer: DILOCO_OUTER, aggregate: { kind: 'mean' }, downlinkRows: rows });
    expect(r.update).toBeDefined();
    // the momentum is the exact outer step's; θ is θ_r plus the update
    const exact = outerRound(initGlobalState(seeded('theta')), deltas, { outer: DILOCO_OUTER, aggregate: { kind: 'mean' } });
    expect(Array.from(r.state.momentum)).toEqual(Array.from(exact.state.momentum));
    expect(Array.from(r.state.theta)).toEqual(Array.from(applyUpdate(s.theta, r.update!, rows)));
    expect(r.state.theta.some((x, i) => x !== exact.state.theta[i])).toBe(true);
    const back = decodeGlobalState(encodeGlobalState(r.state), n);
    expect(Array.from(back.residual!)).toEqual(Array.from(r.state.residual!));
    expect(encodeGlobalState(back)).toEqual(encodeGlobalState(r.state));
    expectCode(() => outerRound(s, deltas, { outer: DILOCO_OUTER, aggregate: { kind: 'mean' } }), 'DILOCO_BAD_CHECKPOINT');
    expectCode(() => outerRound(exact.state, deltas, { outer: DILOCO_OUTER, aggregate: { kind: 'mean' }, downlinkRows: rows }), 'DILOCO_BAD_CHECKPOINT');
    expectCode(() => encodeGlobalState({ ...s, residual: new Float32Array(n - 1) }), 'DILOCO_LENGTH_MISMATCH');
    expectCode(() => encodeGlobalState({ ...s, residual: Float32Array.from(s.residual!).fill(NaN, 2, 3) }), 'DILOCO_NONFINITE');
    expectCode(() => quantizedStep(s.theta, s.theta, new Float32Array(3), rows), 'DILOCO_LENGTH_MISMATCH');
  });
});
