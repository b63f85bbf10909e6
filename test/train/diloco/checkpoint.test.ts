/** The global state's canonical blob (strict decode) and the outer round that `swarm audit --replay` recomputes. */
import { describe, expect, it } from 'vitest';
import { Prng } from '../../../src/core/prng.ts';
import { sha256Hex } from '../../../src/core/sha256.ts';
import { encodeSafetensors } from '../../../src/model/format/safetensors.ts';
import { meanAggregate, centeredClipAggregate } from '../../../src/train/diloco/aggregate.ts';
import {
  decodeGlobalState, encodeGlobalState, GLOBAL_STATE_FORMAT, globalStateSha256, initGlobalState, momentumCenter, outerRound,
} from '../../../src/train/diloco/checkpoint.ts';
import type { GlobalState } from '../../../src/train/diloco/checkpoint.ts';
import { DILOCO_OUTER, outerStep } from '../../../src/train/diloco/outer.ts';
import { codeOf, expectCode } from '../../helpers/errors.ts';

function seeded(n: number, seed: string, scale = 1): Float32Array {
  const rng = Prng.fromSeed(seed);
  return Float32Array.from({ length: n }, () => (rng.nextFloat() * 2 - 1) * scale);
}

const state = (round = 3): GlobalState => ({ round, theta: seeded(37, 'theta'), momentum: seeded(37, 'momentum', 0.01) });

function raw(theta: Float32Array, momentum: Float32Array, meta: Record<string, string>, extra: { name: string; data: Float32Array }[] = []): Uint8Array {
  return encodeSafetensors(
    [{ name: 'theta', shape: [theta.length], data: theta }, { name: 'momentum', shape: [momentum.length], data: momentum }, ...extra.map((e) => ({ ...e, shape: [e.data.length] }))],
    meta,
  );
}

describe('global state blob', () => {
  it('round-trips bit for bit and has one canonical encoding', () => {
    const s = state();
    const blob = encodeGlobalState(s);
    const back = decodeGlobalState(blob, 37);
    expect(back.round).toBe(3);
    expect(Buffer.from(back.theta.buffer).equals(Buffer.from(s.theta.buffer))).toBe(true);
    expect(Buffer.from(back.momentum.buffer).equals(Buffer.from(s.momentum.buffer))).toBe(true);
    expect(sha256Hex(encodeGlobalState(back))).toBe(sha256Hex(blob));
    expect(globalStateSha256(s)).toBe(sha256Hex(blob));
    expect(decodeGlobalState(blob).round).toBe(3); // size taken from the blob
    // the container is plain safetensors with our metadata
    const header = new TextDecoder().decode(blob.subarray(8, 8 + Number(new DataView(blob.buffer, blob.byteOffset).getBigUint64(0, true))));
    expect(header.startsWith(`{"__metadata__":{"format":"${GLOBAL_STATE_FORMAT}","round":"3"},"momentum":{"dtype":"F32","shape":[37]`)).toBe(true);
  });

  it('keeps −0, subnormals and every bit pattern of finite values', () => {
    const theta = Float32Array.from([-0, 1e-45, -3.4028234663852886e38, 0.1]);
    const s = { round: 0, theta, momentum: new Float32Array(4) };
    const back = decodeGlobalState(encodeGlobalState(s), 4);
    expect(Object.is(back.theta[0], -0)).toBe(true);
    expect([...back.theta]).toEqual([...theta]);
  });

  it('initGlobalState is round 0 with zero momentum, and copies θ', () => {
    const t = seeded(5, 't');
    const s = initGlobalState(t);
    t[0] = 99;
    expect(s.round).toBe(0);
    expect(s.theta[0]).not.toBe(99);
    expect([...s.momentum]).toEqual([0, 0, 0, 0, 0]);
  });

  it('strict decode rejects corrupt and non-canonical bytes with coded errors', () => {
    const s = state();
    const blob = encodeGlobalState(s);
    expectCode(() => decodeGlobalState(blob.subarray(0, blob.length - 1), 37), 'SAFETENSORS_TRUNCATED');
    expectCode(() => decodeGlobalState(Uint8Array.from([...blob, 0]), 37), 'SAFETENSORS_BAD_OFFSETS');
    expectCode(() => decodeGlobalState(blob.subarray(0, 5), 37), 'SAFETENSORS_TRUNCATED');
    const flipped = Uint8Array.from(blob);
    flipped[8] = 0x5b; // '[' instead of '{'
    expectCode(() => decodeGlobalState(flipped, 37), 'SAFETENSORS_BAD_HEADER');
    expectCode(() => decodeGlobalState(blob, 38), 'SAFETENSORS_SHAPE_MISMATCH');
    const meta = { format: GLOBAL_STATE_FORMAT, round: '3' };
    expectCode(() => decodeGlobalState(raw(s.theta, s.momentum, { ...meta, round: '03' }), 37), 'DILOCO_BAD_CHECKPOINT');
    expectCode(() => decodeGlobalState(raw(s.theta, s.momentum, { ...meta, round: '-1' }), 37), 'DILOCO_BAD_CHECKPOINT');
    expectCode(() => decodeGlobalState(raw(s.theta, s.momentum, { ...meta, round: '1e3' }), 37), 'DILOCO_BAD_CHECKPOINT');
    expectCode(() => decodeGlobalState(raw(s.theta, s.momentum, { ...meta, format: 'other/v1' }), 37), 'DILOCO_BAD_CHECKPOINT');
    expectCode(() => decodeGlobalState(raw(s.theta, s.momentum, { ...meta, note: 'x' }), 37), 'DILOCO_BAD_CHECKPOINT');
    expectCode(() => decodeGlobalState(raw(s.theta, s.momentum, { round: '3' }), 37), 'DILOCO_BAD_CHECKPOINT');
    expectCode(() => decodeGlobalState(raw(s.theta, s.momentum, meta, [{ name: 'zeta', data: new Float32Array(1) }]), 37), 'SAFETENSORS_UNEXPECTED_TENSOR');
    expectCode(() => decodeGlobalState(raw(s.theta, s.momentum.subarray(1), meta)), 'SAFETENSORS_SHAPE_MISMATCH');
    const nan = Float32Array.from(s.theta);
    nan[7] = NaN;
    expectCode(() => decodeGlobalState(raw(nan, s.momentum, meta), 37), 'DILOCO_NONFINITE');
    // valid safetensors, same state, but the header padded with 8 more spaces: not the canonical blob
    const hlen = Number(new DataView(blob.buffer, blob.byteOffset).getBigUint64(0, true));
    const padded = new Uint8Array(blob.length + 8);
    new DataView(padded.buffer).setBigUint64(0, BigInt(hlen + 8), true);
    padded.set(blob.subarray(8, 8 + hlen), 8);
    padded.fill(0x20, 8 + hlen, 16 + hlen);
    padded.set(blob.subarray(8 + hlen), 16 + hlen);
    expectCode(() => decodeGlobalState(padded, 37), 'DILOCO_BAD_CHECKPOINT');
    // a flipped data bit decodes (it is another state) but has another hash
    const bit = Uint8Array.from(blob);
    bit[bit.length - 1]! ^= 1;
    expect(codeOf(() => decodeGlobalState(bit, 37))).toBeUndefined();
    expect(sha256Hex(bit)).not.toBe(sha256Hex(blob));
  });

  it('encode rejects a state that cannot be a checkpoint', () => {
    const s = state();
    expectCode(() => encodeGlobalState({ ...s, round: -1 }), 'DILOCO_BAD_CHECKPOINT');
    expectCode(() => encodeGlobalState({ ...s, round: 1.5 }), 'DILOCO_BAD_CHECKPOINT');
    expectCode(() => encodeGlobalState({ ...s, momentum: new Float32Array(3) }), 'DILOCO_LENGTH_MISMATCH');
    expectCode(() => encodeGlobalState({ ...s, theta: Float32Array.from(s.theta).fill(Infinity, 2, 3) }), 'DILOCO_NONFINITE');
  });
});

describe('outerRound', () => {
  const deltas = [seeded(37, 'd0', 0.01), seeded(37, 'd1', 0.01), seeded(37, 'd2', 0.01)];

  it('is aggregate then the Nesterov step, and replays from the blob to the same hash', () => {
    const s = state(4);
    const r = outerRound(s, deltas, { outer: DILOCO_OUTER, aggregate: { kind: 'mean' } });
    const manual = outerStep(s.theta, s.momentum, meanAggregate(deltas), DILOCO_OUTER);
    expect(r.state.round).toBe(5);
    expect([...r.state.theta]).toEqual([...manual.theta]);
    expect([...r.state.momentum]).toEqual([...manual.momentum]);
    expect([...r.outerGrad]).toEqual([...meanAggregate(deltas)]);
    // replay: someone holding only the blob of θ_4 and the deltas
    const replay = outerRound(decodeGlobalState(encodeGlobalState(s), 37), deltas, { outer: DILOCO_OUTER, aggregate: { kind: 'mean' } });
    expect(globalStateSha256(replay.state)).toBe(globalStateSha256(r.state));
    // slot order is part of the input: a mean summed in another order may differ, but the same order never does
    expect(globalStateSha256(outerRound(s, deltas, { outer: DILOCO_OUTER, aggregate: { kind: 'mean' } }).state)).toBe(globalStateSha256(r.state));
  });

  it('centres centered clipping at zero or at (1 − μ)·b', () => {
    const s = state(2);
    const cc = (center: 'zero' | 'momentum') => outerRound(s, deltas, { outer: DILOCO_OUTER, aggregate: { kind: 'centered-clip', tau: 0.01, iterations: 2, center } }).outerGrad;
    expect([...cc('zero')]).toEqual([...centeredClipAggregate(deltas, 0.01, 2)]);
    const mc = momentumCenter(s.momentum, 0.9);
    expect(mc[0]).toBe(Math.fround(Math.fround(1 - Math.fround(0.9)) * s.momentum[0]!));
    expect([...cc('momentum')]).toEqual([...centeredClipAggregate(deltas, 0.01, 2, mc)]);
    const tm = outerRound(s, deltas, { outer: DILOCO_OUTER, aggregate: { kind: 'trimmed-mean', trim: 0.34 } }).outerGrad;
    expect(tm[0]).toBe([deltas[0]![0]!, deltas[1]![0]!, deltas[2]![0]!].sort((a, b) => a - b)[1]);
  });

  it('rejects bad rounds with coded errors', () => {
    const s = state();
    const o = { outer: DILOCO_OUTER, aggregate: { kind: 'mean' } as const };
    expectCode(() => outerRound(s, [], o), 'DILOCO_NO_DELTAS');
    expectCode(() => outerRound(s, [new Float32Array(36)], o), 'DILOCO_LENGTH_MISMATCH');
    expectCode(() => outerRound(s, [Float32Array.from(deltas[0]!).fill(NaN, 3, 4)], o), 'DILOCO_NONFINITE');
    expectCode(() => outerRound(s, deltas, { ...o, outer: { lr: 0.7, momentum: 1.5 } }), 'DILOCO_BAD_OPTION');
    expectCode(() => outerRound(s, deltas, { ...o, aggregate: { kind: 'centered-clip', tau: 1, iterations: 1, center: 'mean' as never } }), 'DILOCO_BAD_OPTION');
    // finite inputs that overflow θ
    expectCode(() => outerRound({ round: 0, theta: Float32Array.from([-3e38]), momentum: new Float32Array(1) }, [Float32Array.from([3e38])], o), 'DILOCO_NONFINITE');
  });
});
