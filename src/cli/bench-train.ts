/**
 * `swarm bench train`: training throughput (tokens/s) of the pure training
 * unit for the micro and small presets, the fraction of step time spent in
 * matmul, and the speed-up of all threads over one thread measured in the
 * same process (the reference run).
 */
import { Prng } from '../core/prng.ts';
import { preset } from '../model/config.ts';
import { initParams, paramList } from '../model/llama.ts';
import type { Backend } from '../tensor/backend/backend.ts';
import { Engine } from '../tensor/tensor.ts';
import { createNativeBackend } from '../tensor/native/backend.ts';
import { createWasmBackend } from '../tensor/wasm/backend.ts';
import { DILOCO_INNER } from '../train/adamw.ts';
import { concatFlat, initFlatAdam, runTrainUnit } from '../train/unit.ts';
import type { Batch } from '../train/unit.ts';

export interface TrainBenchRow {
  op: 'train';
  backend: string;
  /** native only: the ISA path */
  isa?: string;
  preset: string;
  params: number;
  batch: number;
  seqLen: number;
  threads: number;
  steps: number;
  tokensPerSecond: number;
  matmulFraction: number;
}

/** Untimed steps before the timed ones (see benchTrain). */
export const WARMUP_STEPS = 3;

/** Wrap a backend so time spent inside matmul is counted. */
function timed(b: Backend): { backend: Backend; matmulMs: () => number } {
  let ms = 0;
  const backend: Backend = Object.create(b) as Backend;
  backend.matmul = (...args) => {
    const t = performance.now();
    try {
      return b.matmul(...args);
    } finally {
      ms += performance.now() - t;
    }
  };
  return { backend, matmulMs: () => ms };
}

export async function benchTrain(presetName: string, threads: number, steps: number, batch: number, seqLen: number, backendName: 'wasm' | 'native' = 'wasm'): Promise<TrainBenchRow> {
  const raw = backendName === 'native' ? createNativeBackend({ threads }) : await createWasmBackend({ threads });
  try {
    const { backend, matmulMs } = timed(raw);
    const e = new Engine(backend);
    const c = preset(presetName, { maxSeqLen: Math.max(seqLen, preset(presetName).maxSeqLen) });
    const flat = concatFlat(paramList(initParams(e, c, Prng.fromSeed(1))));
    const rng = Prng.fromSeed(2);
    const tokens = Int32Array.from({ length: batch * (seqLen + 1) }, () => rng.nextInt(c.vocabSize));
    const b: Batch = { inputs: tokens.subarray(0, batch * seqLen), targets: tokens.subarray(1, 1 + batch * seqLen), batch, seqLen };
    const unit = { config: c, params: flat, opt: initFlatAdam(flat.length), batchAt: () => b, adamw: DILOCO_INNER };
    // Warm-up: JIT tiers, worker start-up, and the allocator's heap growing to
    // a step's working set (fresh pages fault in at ~14 µs each on a VM; a
    // real unit runs tens of steps, so the steady state is what it sees).
    runTrainUnit(e, { ...unit, steps: WARMUP_STEPS });
    const m0 = matmulMs();
    const t0 = performance.now();
    runTrainUnit(e, { ...unit, steps });
    const ms = performance.now() - t0;
    return {
      op: 'train',
      backend: raw.name,
      ...(raw.isa === undefined ? {} : { isa: raw.isa }),
      preset: presetName,
      params: flat.length,
      batch,
      seqLen,
      threads,
      steps,
      tokensPerSecond: (steps * batch * seqLen) / (ms / 1000),
      matmulFraction: (matmulMs() - m0) / ms,
    };
  } finally {
    raw.close();
  }
}
