/**
 * The global state of a DiLoCo run between rounds, its canonical blob, and
 * the outer round that turns one state into the next (DESIGN.md, data flow
 * steps 3-4). The blob is what the ledger's checkpoint entry names by
 * SHA-256, and `outerRound` is what `swarm audit --replay` recomputes: given
 * the blob of θ_r, the verified deltas in slot order and the run's outer
 * options, anyone gets the next blob bit for bit.
 *
 * Blob: canonical safetensors (src/model/format/safetensors.ts) with exactly
 *   "momentum"  F32 [N]   the outer Nesterov buffer b_r
 *   "residual"  F32 [N]   only in runs with an int8 downlink (downlink.ts): e_r,
 *                         the outer steps' part not applied to θ yet
 *   "theta"     F32 [N]   θ_r, the parameters flat in canonical order (paramShapes)
 *   __metadata__ {"format": "sovereign-swarm/diloco-state/v1", "round": "<r>"}
 * Decoding is strict: besides every safetensors check it rejects other
 * tensors or metadata keys, a round that is not a canonical decimal, NaN or
 * infinite values, and any encoding that is not the canonical one (so one
 * state has exactly one blob and one hash). Codes: the SAFETENSORS_* codes
 * of the container, DILOCO_BAD_CHECKPOINT, DILOCO_NONFINITE.
 */
import { SwarmError } from '../../core/errors.ts';
import { bytesEqual } from '../../core/encoding.ts';
import { sha256Hex } from '../../core/sha256.ts';
import { decodeSafetensors, encodeSafetensors } from '../../model/format/safetensors.ts';
import { aggregate } from './aggregate.ts';
import { quantizedStep } from './downlink.ts';
import type { QuantizedDelta } from './quantize.ts';
import type { AggregateOptions } from './aggregate.ts';
import { checkFinite, checkOuterOptions, outerStep } from './outer.ts';
import type { OuterOptions } from './outer.ts';

const f = Math.fround;

export const GLOBAL_STATE_FORMAT = 'sovereign-swarm/diloco-state/v1';

export interface GlobalState {
  /** outer steps taken so far (θ_0 is round 0) */
  round: number;
  theta: Float32Array;
  momentum: Float32Array;
  /** error-feedback residual of the int8 downlink (downlink.ts); absent in runs that send θ in f32 */
  residual?: Float32Array;
}

/** Round 0: the initial parameters, a zero outer momentum, and a zero residual when the downlink is int8. */
export function initGlobalState(theta: Float32Array, o: { residual?: boolean } = {}): GlobalState {
  checkFinite(theta, 'θ_0');
  const s: GlobalState = { round: 0, theta: Float32Array.from(theta), momentum: new Float32Array(theta.length) };
  if (o.residual === true) s.residual = new Float32Array(theta.length);
  return s;
}

function checkState(s: GlobalState): void {
  if (!Number.isSafeInteger(s.round) || s.round < 0) throw new SwarmError('DILOCO_BAD_CHECKPOINT', `round must be a non-negative integer, got ${String(s.round)}`);
  if (!(s.theta instanceof Float32Array) || !(s.momentum instanceof Float32Array)) throw new SwarmError('DILOCO_BAD_CHECKPOINT', 'θ and momentum must be Float32Arrays');
  if (s.theta.length !== s.momentum.length) {
    throw new SwarmError('DILOCO_LENGTH_MISMATCH', `θ has ${s.theta.length} values, the momentum ${s.momentum.length}`);
  }
  checkFinite(s.theta, 'θ');
  checkFinite(s.momentum, 'the outer momentum');
  if (s.residual !== undefined) {
    if (!(s.residual instanceof Float32Array)) throw new SwarmError('DILOCO_BAD_CHECKPOINT', 'the residual must be a Float32Array');
    if (s.residual.length !== s.theta.length) throw new SwarmError('DILOCO_LENGTH_MISMATCH', `θ has ${s.theta.length} values, the residual ${s.residual.length}`);
    checkFinite(s.residual, 'the downlink residual');
  }
}

export function encodeGlobalState(s: GlobalState): Uint8Array {
  checkState(s);
  return encodeSafetensors(
    [
      { name: 'theta', dtype: 'F32', shape: [s.theta.length], data: s.theta },
      { name: 'momentum', dtype: 'F32', shape: [s.momentum.length], data: s.momentum },
      ...(s.residual === undefined ? [] : [{ name: 'residual', dtype: 'F32' as const, shape: [s.residual.length], data: s.residual }]),
    ],
    { format: GLOBAL_STATE_FORMAT, round: String(s.round) },
  );
}

/** SHA-256 (hex) of the canonical blob: the checkpoint's identity in the ledger. */
export function globalStateSha256(s: GlobalState): string {
  return sha256Hex(encodeGlobalState(s));
}

/**
 * Strict decode. `paramCount`, when given, is the N the run's model needs
 * (a blob of another size fails with SAFETENSORS_SHAPE_MISMATCH).
 */
export function decodeGlobalState(bytes: Uint8Array, paramCount?: number): GlobalState {
  let n = paramCount;
  // Size and whether a residual is there from the container itself; the expectation below then checks the tensors agree.
  const loose = decodeSafetensors(bytes);
  if (n === undefined) n = loose.tensors.get('theta')?.shape[0] ?? 0;
  const hasResidual = loose.tensors.has('residual');
  if (!Number.isSafeInteger(n) || n < 0) throw new SwarmError('DILOCO_BAD_CHECKPOINT', `parameter count must be a non-negative integer, got ${String(n)}`);
  const dec = decodeSafetensors(bytes, {
    expect: { theta: { shape: [n], dtype: 'F32' }, momentum: { shape: [n], dtype: 'F32' }, ...(hasResidual ? { residual: { shape: [n], dtype: 'F32' as const } } : {}) },
  });
  const meta = dec.metadata;
  const keys = Object.keys(meta).sort();
  if (keys.length !== 2 || keys[0] !== 'format' || keys[1] !== 'round') {
    throw new SwarmError('DILOCO_BAD_CHECKPOINT', `metadata must be exactly {format, round}, got {${keys.join(', ')}}`);
  }
  if (meta.format !== GLOBAL_STATE_FORMAT) throw new SwarmError('DILOCO_BAD_CHECKPOINT', `unknown state format ${JSON.stringify(meta.format)}`);
  const roundText = meta.round!;
  const round = Number(roundText);
  if (!/^(0|[1-9][0-9]*)$/.test(roundText) || !Number.isSafeInteger(round)) {
    throw new SwarmError('DILOCO_BAD_CHECKPOINT', `round ${JSON.stringify(roundText)} is not a canonical non-negative integer`);
  }
  const state: GlobalState = {
    round,
    theta: dec.tensors.get('theta')!.data as Float32Array,
    momentum: dec.tensors.get('momentum')!.data as Float32Array,
  };
  if (hasResidual) state.residual = dec.tensors.get('residual')!.data as Float32Array;
  checkFinite(state.theta, 'θ');
  checkFinite(state.momentum, 'the outer momentum');
  if (state.residual !== undefined) checkFinite(state.residual, 'the downlink residual');
  if (!bytesEqual(encodeGlobalState(state), bytes)) {
    throw new SwarmError('DILOCO_BAD_CHECKPOINT', 'the blob is valid safetensors but not the canonical encoding of its state');
  }
  return state;
}

/**
 * How a round aggregates. Centered clipping is centred either at zero or at
 * (1 − μ)·b_r, the exponential moving average of the past outer gradients
 * that the momentum buffer already holds (b_r = Σ_i μ^i g_{r−i}); that is
 * Karimireddy et al.'s "learning from history" reference without storing
 * anything beyond the checkpoint.
 */
export type RoundAggregate =
  | { kind: 'mean' }
  | { kind: 'trimmed-mean'; trim: number }
  | { kind: 'centered-clip'; tau: number; iterations: number; center: 'zero' | 'momentum' };

export interface OuterRoundOptions {
  outer: OuterOptions;
  aggregate: RoundAggregate;
  /**
   * Row layout of the int8 downlink (downlink.ts; deltaRows of the config),
   * or absent when θ goes down in f32. The state carries a residual exactly
   * when this is given.
   */
  downlinkRows?: readonly number[];
}

/** The centered clip reference v_0 = fround(fround(1 − μ) · b_i). */
export function momentumCenter(momentum: Float32Array, mu: number): Float32Array {
  const c = f(1 - f(mu));
  const out = new Float32Array(momentum.length);
  for (let i = 0; i < out.length; i++) out[i] = f(c * momentum[i]!);
  return out;
}

export interface OuterRoundResult {
  state: GlobalState;
  /** the aggregated outer gradient (for metrics; not part of the blob) */
  outerGrad: Float32Array;
  /** with an int8 downlink: the update θ_r → θ_{r+1} that providers holding θ_r download */
  update?: QuantizedDelta;
}

/**
 * θ_{r+1}, b_{r+1} from θ_r, b_r and the verified deltas (dequantized, in
 * slot order; dropped slots are simply absent). Pure and bit-reproducible.
 */
export function outerRound(state: GlobalState, deltas: readonly Float32Array[], o: OuterRoundOptions): OuterRoundResult {
  checkState(state);
  checkOuterOptions(o.outer);
  const n = state.theta.length;
  if (Array.isArray(deltas)) {
    deltas.forEach((d, k) => {
      if (d instanceof Float32Array && d.length !== n) {
        throw new SwarmError('DILOCO_LENGTH_MISMATCH', `delta ${k} has ${d.length} values, θ has ${n}`, { slot: k });
      }
    });
  }
  const a = o.aggregate;
  let agg: AggregateOptions;
  if (a.kind === 'centered-clip') {
    if (a.center !== 'zero' && a.center !== 'momentum') throw new SwarmError('DILOCO_BAD_OPTION', `centered clip center must be zero or momentum, got ${String(a.center)}`);
    agg = { kind: 'centered-clip', tau: a.tau, iterations: a.iterations, ...(a.center === 'momentum' ? { center: momentumCenter(state.momentum, o.outer.momentum) } : {}) };
  } else {
    agg = a;
  }
  if ((o.downlinkRows === undefined) !== (state.residual === undefined)) {
    throw new SwarmError('DILOCO_BAD_CHECKPOINT', o.downlinkRows === undefined ? 'the state has a downlink residual but the run sends θ in f32' : 'the run has an int8 downlink but the state has no residual');
  }
  const outerGrad = aggregate(deltas, agg);
  const next = outerStep(state.theta, state.momentum, outerGrad, o.outer);
  checkFinite(next.theta, 'θ after the outer step'); // finite inputs can still overflow
  if (o.downlinkRows === undefined) return { state: { round: state.round + 1, theta: next.theta, momentum: next.momentum }, outerGrad };
  const d = quantizedStep(state.theta, next.theta, state.residual!, o.downlinkRows);
  checkFinite(d.theta, 'θ after the outer step');
  checkFinite(d.residual, 'the downlink residual');
  return { state: { round: state.round + 1, theta: d.theta, momentum: next.momentum, residual: d.residual }, outerGrad, update: d.update };
}
