/**
 * Training on one machine: the pure training unit run in chunks, with
 * evaluation on the validation split between chunks. No I/O and no clock of
 * its own: time comes in through `now` (for tokens/s) and results go out
 * through callbacks, so the CLI decides what to print and where to write.
 */
import { SwarmError } from '../core/errors.ts';
import type { ModelConfig } from '../model/config.ts';
import { lossOf, modelConstants } from '../model/llama.ts';
import type { ModelConstants } from '../model/llama.ts';
import type { Engine } from '../tensor/tensor.ts';
import type { AdamWHyper } from './adamw.ts';
import type { BatchSource } from './data/batch-source.ts';
import type { Schedule } from './schedule.ts';
import { runTrainUnit, wrapFlatParams } from './unit.ts';
import type { Batch, FlatAdamState } from './unit.ts';

/** Split rows of [rows, seqLen + 1] tokens into inputs and next-token targets. */
export function toBatch(rows: Int32Array, seqLen: number): Batch {
  const rowLen = seqLen + 1;
  if (rows.length % rowLen !== 0) throw new SwarmError('TRAIN_BAD_BATCH', `batch of ${rows.length} tokens is not a multiple of ${rowLen}`);
  const n = rows.length / rowLen;
  const inputs = new Int32Array(n * seqLen);
  const targets = new Int32Array(n * seqLen);
  for (let r = 0; r < n; r++) {
    inputs.set(rows.subarray(r * rowLen, r * rowLen + seqLen), r * seqLen);
    targets.set(rows.subarray(r * rowLen + 1, (r + 1) * rowLen), r * seqLen);
  }
  return { inputs, targets, batch: n, seqLen };
}

/**
 * Mean next-token loss (nats per token) over the first `maxBatches`
 * evaluation batches, each batch weighted by its token count.
 */
export function evaluate(engine: Engine, c: ModelConfig, params: Float32Array, data: BatchSource, maxBatches = Infinity, consts?: ModelConstants): number {
  const k = consts ?? modelConstants(engine, c);
  const { params: p } = wrapFlatParams(engine, c, params);
  let nats = 0;
  let tokens = 0;
  const count = Math.min(maxBatches, data.evalBatchCount());
  if (count === 0) throw new SwarmError('TRAIN_NO_EVAL_DATA', 'the validation split is too short for one evaluation window');
  engine.noGrad(() => {
    for (let i = 0; i < count; i++) {
      const b = toBatch(data.evalBatch(i), data.seqLen);
      const loss = lossOf(c, p, k, b.inputs, b.targets, b.batch, b.seqLen).item();
      nats += loss * b.batch * b.seqLen;
      tokens += b.batch * b.seqLen;
    }
  });
  return nats / tokens;
}

export interface LocalTrainOptions {
  config: ModelConfig;
  data: BatchSource;
  /** total optimizer steps of the run (the schedule's length, counting steps already in `opt`) */
  steps: number;
  /** stop (to checkpoint) when the optimizer reaches this step; default `steps` */
  stopAt?: number;
  adamw: AdamWHyper;
  schedule: Schedule;
  /** evaluate every this many steps (and at the end) */
  evalEvery: number;
  evalBatches: number;
  /** the data shard this trainer reads (batches are (shard, step)) */
  shard: number;
  now: () => number;
}

export interface StepReport {
  step: number;
  loss: number;
  lr: number;
  tokens: number;
  tokensPerSecond: number;
  elapsedMs: number;
}

export interface LocalTrainResult {
  params: Float32Array;
  opt: FlatAdamState;
  steps: number;
  tokens: number;
  trainLoss: number;
  evalLoss: number;
  elapsedMs: number;
  tokensPerSecond: number;
}

/** Train from (params, opt) until opt.step reaches options.steps. */
export function trainLocal(
  engine: Engine,
  o: LocalTrainOptions,
  start: { params: Float32Array; opt: FlatAdamState },
  on: { step?: (r: StepReport) => void; eval?: (step: number, evalLoss: number) => void } = {},
): LocalTrainResult {
  const c = o.config;
  const k = modelConstants(engine, c);
  let params = start.params;
  let opt = start.opt;
  const t0 = o.now();
  let tokens = 0;
  let trainLoss = NaN;
  let evalLoss = NaN;
  const stopAt = Math.min(o.stopAt ?? o.steps, o.steps);
  while (opt.step < stopAt) {
    const first = opt.step;
    // run to the next evaluation point, one step per unit call so progress can be shown
    const out = runTrainUnit(
      engine,
      { config: c, params, opt, steps: 1, adamw: o.adamw, schedule: o.schedule, batchAt: (s) => toBatch(o.data.batch(o.shard, first + s), o.data.seqLen) },
      k,
    );
    params = out.params;
    opt = out.opt;
    tokens += out.metrics.tokens;
    trainLoss = out.metrics.losses[0]!;
    const elapsed = o.now() - t0;
    on.step?.({ step: opt.step, loss: trainLoss, lr: out.metrics.lrs[0]!, tokens, tokensPerSecond: tokens / Math.max(1e-9, elapsed / 1000), elapsedMs: elapsed });
    if (opt.step % o.evalEvery === 0 || opt.step === stopAt) {
      evalLoss = evaluate(engine, c, params, o.data, o.evalBatches, k);
      on.eval?.(opt.step, evalLoss);
    }
  }
  if (Number.isNaN(evalLoss)) evalLoss = evaluate(engine, c, params, o.data, o.evalBatches, k);
  const elapsedMs = o.now() - t0;
  return { params, opt, steps: opt.step, tokens, trainLoss, evalLoss, elapsedMs, tokensPerSecond: tokens / Math.max(1e-9, elapsedMs / 1000) };
}
