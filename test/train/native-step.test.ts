/**
 * A whole training unit on the native backend, which fuses RMSNorm,
 * attention softmax, SwiGLU, cross-entropy and AdamW and writes outputs into
 * recycled gradient buffers, must give the bits `ref` gives (composed
 * primitives, fresh arrays): parameters, optimizer moments and losses over
 * several steps (so buffers recycled in one step are reused in the next),
 * on every ISA path this CPU has, with 1 and 2 threads.
 */
import { describe, expect, it } from 'vitest';
import { Prng } from '../../src/core/prng.ts';
import { sha256Hex } from '../../src/core/sha256.ts';
import { preset } from '../../src/model/config.ts';
import { initParams, paramList } from '../../src/model/llama.ts';
import { createRefBackend } from '../../src/tensor/backend/ref.ts';
import { createNativeBackend, NATIVE_ISAS, nativeStatus } from '../../src/tensor/native/backend.ts';
import { Engine } from '../../src/tensor/tensor.ts';
import { DILOCO_INNER } from '../../src/train/adamw.ts';
import { concatFlat, initFlatAdam, runTrainUnit } from '../../src/train/unit.ts';
import type { TrainUnitInput } from '../../src/train/unit.ts';

// T = 24 < maxSeqLen exercises the sliced mask and rotary tables; vocabulary and dims are small but not round.
const c = preset('nano', { vocabSize: 61, maxSeqLen: 32 });
const B = 3, T = 24;

function unit(steps: number): TrainUnitInput {
  const flat = concatFlat(paramList(initParams(new Engine(createRefBackend()), c, Prng.fromSeed(11))));
  return {
    config: c, params: flat, opt: initFlatAdam(flat.length), steps, adamw: { ...DILOCO_INNER, lr: 3e-3 },
    batchAt: (s) => {
      const rng = Prng.fromSeed(5).fork(s);
      const seq = Int32Array.from({ length: B * (T + 1) }, () => rng.nextInt(c.vocabSize));
      const inputs = new Int32Array(B * T), targets = new Int32Array(B * T);
      for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) { inputs[b * T + t] = seq[b * (T + 1) + t]!; targets[b * T + t] = seq[b * (T + 1) + t + 1]!; }
      return { inputs, targets, batch: B, seqLen: T };
    },
  };
}

const h = (a: Float32Array) => sha256Hex(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
const status = nativeStatus();

describe.skipIf(!status.available)(`native training unit vs ref${status.available ? '' : ` (skipped: ${status.reason})`}`, () => {
  const u = unit(4);
  const want = runTrainUnit(new Engine(createRefBackend()), u);
  for (const isa of NATIVE_ISAS.filter((i) => status.isas.includes(i))) {
    for (const threads of [1, 2]) {
      it(`${isa}, ${threads} thread(s): same parameters, moments and losses over 4 steps`, () => {
        const b = createNativeBackend({ isa, threads });
        try {
          const got = runTrainUnit(new Engine(b), u);
          expect(got.metrics.losses).toEqual(want.metrics.losses);
          expect(h(got.params)).toBe(h(want.params));
          expect(h(got.opt.m)).toBe(h(want.opt.m));
          expect(h(got.opt.v)).toBe(h(want.opt.v));
          expect(b.pool.stats.reused).toBeGreaterThan(0); // the buffers were in fact reused
        } finally {
          b.close();
        }
      });
    }
  }
});
