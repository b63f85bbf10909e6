/**
 * DiLoCo in one process, with no tracker and no I/O: the same pure pieces the
 * swarm runs (the training unit, int8 delta quantization, aggregation, the
 * outer step on the canonical global state), wired in a loop. Used to choose
 * hyper-parameters and as the reference the swarm run must reproduce bit for
 * bit when no slot is dropped.
 *
 * Round r (Douillard et al., arXiv 2311.08105, Algorithm 1):
 *   for slot k in 0..K−1: θ_k = runTrainUnit(θ_r, AdamW state of slot k,
 *       shard r·K + k, H steps)      (the slot's AdamW state carries across rounds)
 *   Δ_k = dequantize(quantize(θ_r − θ_k))   (what the tracker receives)
 *   θ_{r+1} = outerRound(θ_r, [Δ_0 … Δ_{K−1}])
 *
 * The baseline is DiLoCo's: one worker, AdamW, batch K·B, H·R steps, on the
 * same tokens. Its step r·H + h reads the K batches (r·K + k, h) that the K
 * slots read at their inner step h of round r, stacked in slot order.
 */
import { concatArrays } from '../../core/concat.ts';
import { SwarmError } from '../../core/errors.ts';
import { sha256Hex } from '../../core/sha256.ts';
import type { ModelConfig } from '../../model/config.ts';
import { modelConstants, paramCount, paramShapes } from '../../model/llama.ts';
import type { Engine } from '../../tensor/tensor.ts';
import type { AdamWHyper } from '../adamw.ts';
import type { BatchSource } from '../data/batch-source.ts';
import { evaluate, toBatch } from '../local-trainer.ts';
import type { Schedule } from '../schedule.ts';
import { initFlatAdam, runTrainUnit } from '../unit.ts';
import type { FlatAdamState } from '../unit.ts';
import { globalStateSha256, initGlobalState, outerRound } from './checkpoint.ts';
import type { GlobalState, RoundAggregate } from './checkpoint.ts';
import { outerDelta } from './outer.ts';
import type { OuterOptions } from './outer.ts';
import { dequantizeRows, quantizeRows, rowLengths } from './quantize.ts';

export interface SimCommon {
  config: ModelConfig;
  /** batches of B rows by (shard, step); its validation split scores the model */
  data: BatchSource;
  /** θ_0, flat in canonical order */
  init: Float32Array;
  /** K */
  slots: number;
  /** H */
  innerSteps: number;
  /** R */
  rounds: number;
  inner: AdamWHyper;
  /** inner learning-rate schedule, by the optimizer's step (0 … H·R − 1 per slot) */
  innerSchedule?: Schedule;
  /** evaluation batches per evaluation (default: the whole validation split) */
  evalBatches?: number;
  /** evaluate after every this many rounds (default 1); the last round always */
  evalEvery?: number;
}

export interface DilocoSimOptions extends SimCommon {
  outer: OuterOptions;
  /**
   * Optional per-round outer settings (round = the 0-based index of the outer
   * step, e.g. outerWarmup in outer.ts); absent: `outer` every round. Off by
   * default: the swarm's tracker uses one fixed `outer`.
   */
  outerAt?: (round: number) => OuterOptions;
  aggregate: RoundAggregate;
  /** 'int8': θ goes down as an int8 update with error feedback (downlink.ts), as in a run whose spec says so; default 'f32' */
  downlink?: 'f32' | 'int8';
  onRound?: (r: SimRoundReport) => void;
}

export interface SimRoundReport {
  /** rounds completed */
  round: number;
  /** mean over slots (or the baseline's steps) of the inner training losses of the round */
  trainLoss: number;
  /** validation loss of the parameters after the round; null when not evaluated */
  evalLoss: number | null;
}

export interface DilocoSimResult {
  rounds: SimRoundReport[];
  state: GlobalState;
  /** SHA-256 of the final global state's canonical blob */
  stateSha256: string;
  evalLoss: number;
  /** training tokens read (inputs) */
  tokens: number;
}

export interface BaselineResult {
  rounds: SimRoundReport[];
  params: Float32Array;
  paramsSha256: string;
  evalLoss: number;
  tokens: number;
}

function checkCommon(o: SimCommon): void {
  for (const [k, v, min] of [['slots', o.slots, 1], ['innerSteps', o.innerSteps, 1], ['rounds', o.rounds, 1], ['evalEvery', o.evalEvery ?? 1, 1]] as const) {
    if (!Number.isSafeInteger(v) || v < min) throw new SwarmError('DILOCO_BAD_OPTION', `${k} must be an integer ≥ ${min}, got ${String(v)}`);
  }
  if (o.init.length !== paramCount(o.config)) {
    throw new SwarmError('DILOCO_LENGTH_MISMATCH', `θ_0 has ${o.init.length} values, the config needs ${paramCount(o.config)}`);
  }
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

function shouldEval(o: SimCommon, round: number): boolean {
  return round === o.rounds || round % (o.evalEvery ?? 1) === 0;
}

export function simulateDiloco(engine: Engine, o: DilocoSimOptions): DilocoSimResult {
  checkCommon(o);
  const c = o.config;
  const consts = modelConstants(engine, c);
  const rows = rowLengths(paramShapes(c).map(([, sh]) => sh));
  const n = o.init.length;
  const opts: FlatAdamState[] = Array.from({ length: o.slots }, () => initFlatAdam(n));
  const int8Down = o.downlink === 'int8';
  let state = initGlobalState(o.init, { residual: int8Down });
  const reports: SimRoundReport[] = [];
  let tokens = 0;
  let evalLoss = NaN;
  for (let r = 0; r < o.rounds; r++) {
    const deltas: Float32Array[] = [];
    const losses: number[] = [];
    for (let k = 0; k < o.slots; k++) {
      const shard = r * o.slots + k;
      const out = runTrainUnit(
        engine,
        {
          config: c,
          params: state.theta,
          opt: opts[k]!,
          steps: o.innerSteps,
          adamw: o.inner,
          ...(o.innerSchedule ? { schedule: o.innerSchedule } : {}),
          batchAt: (s) => toBatch(o.data.batch(shard, s), o.data.seqLen),
        },
        consts,
      );
      opts[k] = out.opt;
      tokens += out.metrics.tokens;
      losses.push(mean(out.metrics.losses));
      deltas.push(dequantizeRows(quantizeRows(outerDelta(state.theta, out.params), rows), rows));
    }
    state = outerRound(state, deltas, { outer: o.outerAt ? o.outerAt(r) : o.outer, aggregate: o.aggregate, ...(int8Down ? { downlinkRows: rows } : {}) }).state;
    const ev = shouldEval(o, r + 1) ? evaluate(engine, c, state.theta, o.data, o.evalBatches ?? Infinity, consts) : null;
    if (ev !== null) evalLoss = ev;
    const report = { round: r + 1, trainLoss: mean(losses), evalLoss: ev };
    reports.push(report);
    o.onRound?.(report);
  }
  return { rounds: reports, state, stateSha256: globalStateSha256(state), evalLoss, tokens };
}

/** The K slots' batches of round r, inner step h, stacked in slot order: one batch of K·B rows. */
function stackedBatch(data: BatchSource, slots: number, round: number, step: number): Int32Array {
  return concatArrays(Int32Array, Array.from({ length: slots }, (_, k) => data.batch(round * slots + k, step)));
}

/** DiLoCo's baseline: one AdamW worker, batch K·B, H·R steps, the same tokens. */
export function simulateBaseline(engine: Engine, o: SimCommon & { onRound?: (r: SimRoundReport) => void }): BaselineResult {
  checkCommon(o);
  const c = o.config;
  const consts = modelConstants(engine, c);
  let params: Float32Array = Float32Array.from(o.init);
  let opt = initFlatAdam(params.length);
  const reports: SimRoundReport[] = [];
  let tokens = 0;
  let evalLoss = NaN;
  for (let r = 0; r < o.rounds; r++) {
    const out = runTrainUnit(
      engine,
      {
        config: c,
        params,
        opt,
        steps: o.innerSteps,
        adamw: o.inner,
        ...(o.innerSchedule ? { schedule: o.innerSchedule } : {}),
        batchAt: (h) => toBatch(stackedBatch(o.data, o.slots, r, h), o.data.seqLen),
      },
      consts,
    );
    params = out.params;
    opt = out.opt;
    tokens += out.metrics.tokens;
    const ev = shouldEval(o, r + 1) ? evaluate(engine, c, params, o.data, o.evalBatches ?? Infinity, consts) : null;
    if (ev !== null) evalLoss = ev;
    const report = { round: r + 1, trainLoss: mean(out.metrics.losses), evalLoss: ev };
    reports.push(report);
    o.onRound?.(report);
  }
  return { rounds: reports, params, paramsSha256: sha256Hex(new Uint8Array(params.buffer, params.byteOffset, params.byteLength)), evalLoss, tokens };
}
