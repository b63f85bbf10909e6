/**
 * The pure training unit: (parameters, optimizer state, data, steps,
 * hyper-parameters) → (new parameters, new optimizer state, metrics).
 *
 * No hidden state: no global RNG, no clock, no I/O. The batch for each step
 * comes from a pure function of the unit's shard, so any provider can rebuild
 * it. The engine is injected, and since every backend reproduces the
 * canonical arithmetic the result bits do not depend on which one runs it.
 * This is what a provider executes in the swarm (DESIGN.md, data flow step 1).
 */
import { concatArrays } from '../core/concat.ts';
import { SwarmError } from '../core/errors.ts';
import type { ModelConfig } from '../model/config.ts';
import { lossOf, modelConstants, paramShapes, paramsFromList } from '../model/llama.ts';
import type { LlamaParams, ModelConstants } from '../model/llama.ts';
import { gradients, releaseGraph } from '../tensor/autograd.ts';
import type { Engine, Tensor } from '../tensor/tensor.ts';
import { adamwStep } from './adamw.ts';
import type { AdamWHyper, AdamWState } from './adamw.ts';
import { lrAt } from './schedule.ts';
import type { Schedule } from './schedule.ts';

/** One training batch: inputs and next-token targets, both [batch, seqLen]. */
export interface Batch {
  inputs: Int32Array;
  targets: Int32Array;
  batch: number;
  seqLen: number;
}

/** Flat optimizer state, laid out like the flat parameter vector. */
export interface FlatAdamState {
  step: number;
  m: Float32Array;
  v: Float32Array;
}

export interface TrainUnitInput {
  config: ModelConfig;
  /** all parameters, canonical order (paramShapes), concatenated */
  params: Float32Array;
  opt: FlatAdamState;
  /** batch of local step s of this unit (a pure function of the unit's shard) */
  batchAt: (step: number) => Batch;
  steps: number;
  adamw: AdamWHyper;
  /** optional schedule, indexed by the optimizer's global step */
  schedule?: Schedule;
}

export interface TrainUnitOutput {
  params: Float32Array;
  opt: FlatAdamState;
  metrics: { losses: number[]; gradNorms: number[]; tokens: number; lrs: number[] };
}

/** Views of a flat vector as the parameter tensors (no copy). */
export function splitFlat(c: ModelConfig, flat: Float32Array): Float32Array[] {
  const out: Float32Array[] = [];
  let at = 0;
  for (const [, sh] of paramShapes(c)) {
    const n = sh.reduce((a, b) => a * b, 1);
    out.push(flat.subarray(at, at + n));
    at += n;
  }
  if (at !== flat.length) {
    throw new SwarmError('TRAIN_BAD_PARAMS', `parameter vector has ${flat.length} values, the config needs ${at}`);
  }
  return out;
}

/**
 * The model parameters as tensors over views of a flat vector (no copy), in
 * canonical order, plus the same tensors as a list (what gradients are taken
 * against).
 */
export function wrapFlatParams(engine: Engine, c: ModelConfig, flat: Float32Array, requiresGrad = false): { params: LlamaParams; tensors: Tensor[] } {
  const views = splitFlat(c, flat);
  const tensors = paramShapes(c).map(([, sh], i) => engine.wrap(views[i]!, sh, { requiresGrad }));
  return { params: paramsFromList(c, tensors), tensors };
}

/** Concatenate parameter arrays (canonical order) into one flat vector. */
export function concatFlat(parts: ReadonlyArray<Float32Array | { data: Float32Array }>): Float32Array {
  return concatArrays(Float32Array, parts.map((p) => (p instanceof Float32Array ? p : p.data)));
}

export function initFlatAdam(n: number): FlatAdamState {
  return { step: 0, m: new Float32Array(n), v: new Float32Array(n) };
}

/** Run `steps` AdamW steps. Inputs are not modified; outputs are fresh arrays. */
export function runTrainUnit(engine: Engine, u: TrainUnitInput, consts?: ModelConstants): TrainUnitOutput {
  const c = u.config;
  if (!Number.isSafeInteger(u.steps) || u.steps < 0) throw new SwarmError('TRAIN_BAD_ARGUMENT', `steps must be a non-negative integer, got ${u.steps}`);
  const params = Float32Array.from(u.params);
  const n = params.length;
  if (u.opt.m.length !== n || u.opt.v.length !== n) {
    throw new SwarmError('TRAIN_BAD_STATE', `optimizer state has ${u.opt.m.length}/${u.opt.v.length} values, parameters ${n}`);
  }
  const m = Float32Array.from(u.opt.m);
  const v = Float32Array.from(u.opt.v);
  const pViews = splitFlat(c, params);
  const state: AdamWState = { step: u.opt.step, m: splitFlat(c, m), v: splitFlat(c, v) };
  const shapes = paramShapes(c);
  const decay = shapes.map(([, sh]) => sh.length >= 2);
  const k = consts ?? modelConstants(engine, c);
  const losses: number[] = [], gradNorms: number[] = [], lrs: number[] = [];
  let tokens = 0;
  for (let s = 0; s < u.steps; s++) {
    const b = u.batchAt(s);
    const { params: p, tensors: ts } = wrapFlatParams(engine, c, params, true);
    const loss = lossOf(c, p, k, b.inputs, b.targets, b.batch, b.seqLen);
    const grads = gradients(loss, ts).map((g) => g.data);
    const lr = u.schedule ? lrAt(u.schedule, state.step) : u.adamw.lr;
    const r = adamwStep(pViews, grads, decay, state, u.adamw, lr, engine.backend.adamwUpdate?.bind(engine.backend));
    losses.push(loss.item());
    // The step's activations and the applied gradients are dead: their
    // arrays go back to the backend for the next step's outputs (no bit changes).
    releaseGraph(loss, grads);
    gradNorms.push(r.gradNorm);
    lrs.push(lr);
    tokens += b.batch * b.seqLen;
  }
  return { params, opt: { step: state.step, m, v }, metrics: { losses, gradNorms, tokens, lrs } };
}
