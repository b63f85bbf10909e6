/** The pure training unit: deterministic, input-preserving, learning, and the same bits on every backend. */
import { describe, expect, it } from 'vitest';
import { Prng } from '../../src/core/prng.ts';
import { sha256Hex } from '../../src/core/sha256.ts';
import { preset } from '../../src/model/config.ts';
import { initParams, paramCount, paramList } from '../../src/model/llama.ts';
import { createRefBackend } from '../../src/tensor/backend/ref.ts';
import { Engine } from '../../src/tensor/tensor.ts';
import { createWasmBackend } from '../../src/tensor/wasm/backend.ts';
import { DILOCO_INNER } from '../../src/train/adamw.ts';
import { concatFlat, initFlatAdam, runTrainUnit } from '../../src/train/unit.ts';
import type { Batch, TrainUnitInput } from '../../src/train/unit.ts';

const c = preset('nano', { vocabSize: 32, maxSeqLen: 16 });

/** A toy shard: a repeating pattern with seeded noise, a pure function of (shard, step). */
function batchAt(shard: number) {
  return (step: number): Batch => {
    const rng = Prng.fromSeed(1234).fork(`shard-${shard}`).fork(step);
    const B = 4, T = 16;
    const seq = Int32Array.from({ length: B * (T + 1) }, (_, i) => ((i % (T + 1)) * 3 + (rng.nextInt(10) === 0 ? rng.nextInt(32) : 0)) % 32);
    const inputs = new Int32Array(B * T), targets = new Int32Array(B * T);
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) { inputs[b * T + t] = seq[b * (T + 1) + t]!; targets[b * T + t] = seq[b * (T + 1) + t + 1]!; }
    return { inputs, targets, batch: B, seqLen: T };
  };
}

function unitInput(steps: number): TrainUnitInput {
  const e = new Engine(createRefBackend());
  const flat = concatFlat(paramList(initParams(e, c, Prng.fromSeed(3))));
  expect(flat.length).toBe(paramCount(c));
  return { config: c, params: flat, opt: initFlatAdam(flat.length), batchAt: batchAt(0), steps, adamw: { ...DILOCO_INNER, lr: 3e-3 } };
}

const h = (a: Float32Array) => sha256Hex(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));

describe('pure training unit', () => {
  it('is deterministic, leaves its inputs alone, and learns', () => {
    const u = unitInput(30);
    const before = h(u.params);
    const e = new Engine(createRefBackend());
    const a = runTrainUnit(e, u);
    const b = runTrainUnit(new Engine(createRefBackend()), u);
    expect(h(u.params)).toBe(before);
    expect(h(a.params)).toBe(h(b.params));
    expect(h(a.opt.m)).toBe(h(b.opt.m));
    expect(a.opt.step).toBe(30);
    expect(a.metrics.tokens).toBe(30 * 64);
    expect(a.metrics.losses.at(-1)!).toBeLessThan(a.metrics.losses[0]! - 1);
  });

  it('resuming from a split gives the same bits as one long unit', () => {
    const e = new Engine(createRefBackend());
    const u = unitInput(6);
    const whole = runTrainUnit(e, u);
    const first = runTrainUnit(e, { ...u, steps: 3 });
    const second = runTrainUnit(e, { ...u, params: first.params, opt: first.opt, steps: 3, batchAt: (s) => u.batchAt(s + 3) });
    expect(h(second.params)).toBe(h(whole.params));
  });

  it('a nano training step gives the same bits on ref and wasm', async () => {
    const u = unitInput(2);
    const ref = runTrainUnit(new Engine(createRefBackend()), u);
    const wb = await createWasmBackend({ threads: 2 });
    try {
      const w = runTrainUnit(new Engine(wb), u);
      expect(h(w.params)).toBe(h(ref.params));
      expect(h(w.opt.v)).toBe(h(ref.opt.v));
      expect(w.metrics.losses).toEqual(ref.metrics.losses);
    } finally {
      wb.close();
    }
  });

  it('rejects mismatched state with a coded error', () => {
    const u = unitInput(1);
    const e = new Engine(createRefBackend());
    expect(() => runTrainUnit(e, { ...u, opt: initFlatAdam(5) })).toThrow(expect.objectContaining({ code: 'TRAIN_BAD_STATE' }));
    expect(() => runTrainUnit(e, { ...u, params: new Float32Array(7), opt: initFlatAdam(7) })).toThrow(expect.objectContaining({ code: 'TRAIN_BAD_PARAMS' }));
  });
});
