/**
 * Buffer reuse (Backend.recycle) must never hand back an array something
 * still reads. The check: a `ref` backend whose recycle() overwrites the
 * array with NaN on the spot (and the same with the fused twins plugged in).
 * If autograd recycled a gradient still held elsewhere (a pass-through, a
 * kept gradient, the seed), or releaseGraph recycled a parameter, constant
 * or anything the next step reads, some result would turn NaN or change;
 * instead every result must equal plain `ref`'s, bit for bit.
 */
import { describe, expect, it } from 'vitest';
import { Prng } from '../../src/core/prng.ts';
import { sha256Hex } from '../../src/core/sha256.ts';
import { preset } from '../../src/model/config.ts';
import { initParams, paramList } from '../../src/model/llama.ts';
import type { Backend } from '../../src/tensor/backend/backend.ts';
import { createRefBackend } from '../../src/tensor/backend/ref.ts';
import { backward, gradients } from '../../src/tensor/autograd.ts';
import { FUSED_TWIN } from '../../src/tensor/fused-twin.ts';
import { add, mul, reshape, sum } from '../../src/tensor/ops.ts';
import { Engine } from '../../src/tensor/tensor.ts';
import { DILOCO_INNER } from '../../src/train/adamw.ts';
import { concatFlat, initFlatAdam, runTrainUnit } from '../../src/train/unit.ts';
import type { TrainUnitInput } from '../../src/train/unit.ts';

function poisoning(fused: boolean): Backend & { recycled: number } {
  const b = { ...createRefBackend(), name: 'ref+poison', recycled: 0, ...(fused ? { fused: FUSED_TWIN } : {}) };
  return Object.assign(b, {
    recycle(a: Float32Array) {
      b.recycled++;
      a.fill(NaN);
    },
  });
}

const h = (a: Float32Array) => sha256Hex(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
const c = preset('nano', { vocabSize: 40, maxSeqLen: 16 });

function unit(steps: number): TrainUnitInput {
  const flat = concatFlat(paramList(initParams(new Engine(createRefBackend()), c, Prng.fromSeed(9))));
  return {
    config: c, params: flat, opt: initFlatAdam(flat.length), steps, adamw: { ...DILOCO_INNER, lr: 3e-3 },
    batchAt: (s) => {
      const seq = Int32Array.from({ length: 2 * 17 }, (_, i) => (i * 5 + s * 3) % 40);
      return { inputs: seq.subarray(0, 32), targets: seq.subarray(2, 34), batch: 2, seqLen: 16 };
    },
  };
}

describe('buffer reuse never recycles a live array', () => {
  for (const fused of [false, true]) {
    it(`training over 3 steps${fused ? ' with the fused twins' : ''}: same bits as plain ref`, () => {
      const u = unit(3);
      const want = runTrainUnit(new Engine(createRefBackend()), u);
      const b = poisoning(fused);
      const got = runTrainUnit(new Engine(b), u);
      expect(got.metrics.losses).toEqual(want.metrics.losses);
      expect(h(got.params)).toBe(h(want.params));
      expect(h(got.opt.v)).toBe(h(want.opt.v));
      expect(b.recycled).toBeGreaterThan(100);
    });
  }

  it('keeps the seed, kept gradients and pass-through gradients', () => {
    const run = (e: Engine) => {
      const x = e.tensor([1, -2, 3, 4], [4], { requiresGrad: true });
      const y = e.tensor([0.5, 0.25, -1, 2], [4], { requiresGrad: true });
      const s = add(x, y); // passes its gradient on to both, unchanged
      const t = add(mul(s, s), reshape(s, [2, 2]).shape.length === 2 ? s : x);
      const seed = e.tensor([1, 2, 3, 4], [4]);
      const gs = gradients(t, [x, y, s], seed);
      const leaf = e.tensor([2, 2, 2, 2], [4], { requiresGrad: true });
      backward(sum(mul(leaf, leaf), 0));
      backward(sum(mul(leaf, x.detach()), 0));
      return [...gs.map((g) => Array.from(g.data)), Array.from(seed.data), Array.from(leaf.grad!.data)];
    };
    expect(run(new Engine(poisoning(false)))).toEqual(run(new Engine(createRefBackend())));
  });
});
