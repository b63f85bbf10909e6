/**
 * The result blob of a train unit (DESIGN.md, data flow step 1): one
 * canonical safetensors file holding
 *   delta.q       I8  [N]     Δ = θ_in − θ_out quantized row-wise (../diloco/quantize.ts)
 *   delta.scales  F32 [rows]  one scale per row (rowLengths of paramShapes)
 *   opt.m, opt.v  F32 [N]     the slot's new AdamW moments
 * and in the metadata the optimizer's new step ("opt.step") and the unit's
 * metrics ("metrics": RFC 8785 canonical JSON {steps, tokens, losses,
 * gradNorms}). Every part is a deterministic function of the unit's inputs,
 * so replicas that computed the same thing produce the same bytes and the
 * quorum compares one SHA-256.
 *
 * The decoder is what the tracker runs on a provider's upload before the
 * aggregation touches it, so it is strict: sizes from the config, codes in
 * [-127, 127] (the quantizer never makes -128), finite non-negative scales, a
 * zero scale only over an all-zero row, finite moments, and the metadata in
 * canonical form (a second byte form of the same result would be a second
 * hash for one answer).
 */
import { z } from 'zod';
import { canonicalize } from '../../core/canonical-json.ts';
import type { ModelConfig } from '../../model/config.ts';
import { paramCount, paramShapes } from '../../model/llama.ts';
import { dequantizeRows, rowLengths } from '../diloco/quantize.ts';
import type { FlatAdamState } from '../unit.ts';
import { utf8Decode } from '../../core/encoding.ts';
import { sha256Hex } from '../../core/sha256.ts';
import { encodeOptBlob } from './opt-blob.ts';
import {
  FORMAT_PREFIX, MAX_BLOB_HEADER_BYTES, blobError, checkFinite, checkTensorNames, decodeContainer, encodeContainer, parseCanonicalJson, parseCount, tensorOf,
} from './container.ts';
import { MAX_SHARD_TOKENS, MAX_STEPS } from './limits.ts';

export const TRAIN_RESULT_FORMAT = 'train-result/v1';
const WHAT = 'train result';

export interface TrainMetrics {
  steps: number;
  /** input tokens trained on (steps · batch · seqLen) */
  tokens: number;
  /** training loss of each step (f32 values, before that step's update) */
  losses: number[];
  /** global gradient norm of each step, before clipping */
  gradNorms: number[];
}

export interface TrainResultParts {
  q: Int8Array;
  scales: Float32Array;
  opt: FlatAdamState;
  metrics: TrainMetrics;
}

export interface DecodedTrainResult extends TrainResultParts {
  /** the dequantized delta θ_in − θ_out, f32 (what the outer step consumes) */
  delta: Float32Array;
}

const MetricsSchema = z
  .strictObject({
    steps: z.number().int().min(1).max(MAX_STEPS),
    tokens: z.number().int().min(1).max(MAX_SHARD_TOKENS),
    losses: z.array(z.number()).max(MAX_STEPS),
    gradNorms: z.array(z.number().min(0)).max(MAX_STEPS),
  })
  .refine((m) => m.losses.length === m.steps && m.gradNorms.length === m.steps, 'losses and gradNorms must hold one value per step');

/** Row layout of a config's flat parameter vector. */
export function deltaRows(config: ModelConfig): number[] {
  return rowLengths(paramShapes(config).map(([, s]) => s));
}

export function encodeTrainResult(config: ModelConfig, r: TrainResultParts): Uint8Array {
  const n = paramCount(config);
  const rows = deltaRows(config).length;
  if (r.q.length !== n || r.scales.length !== rows || r.opt.m.length !== n || r.opt.v.length !== n) {
    blobError('WORK_BLOB_WRONG_SIZE', WHAT, `parts of ${r.q.length}/${r.scales.length}/${r.opt.m.length}/${r.opt.v.length} values, the config needs ${n}/${rows}/${n}/${n}`);
  }
  if (!Number.isSafeInteger(r.opt.step) || r.opt.step < 0) blobError('WORK_BLOB_CORRUPT', WHAT, `optimizer step must be a non-negative integer, got ${r.opt.step}`);
  const metrics = MetricsSchema.safeParse(r.metrics);
  if (!metrics.success) blobError('WORK_BLOB_CORRUPT', WHAT, `bad metrics: ${metrics.error.issues[0]!.message}`);
  return encodeContainer(
    TRAIN_RESULT_FORMAT,
    [
      { name: 'delta.q', dtype: 'I8', shape: [n], data: r.q },
      { name: 'delta.scales', dtype: 'F32', shape: [rows], data: r.scales },
      { name: 'opt.m', dtype: 'F32', shape: [n], data: r.opt.m },
      { name: 'opt.v', dtype: 'F32', shape: [n], data: r.opt.v },
    ],
    { metrics: canonicalize(r.metrics), 'opt.step': String(r.opt.step) },
  );
}

/** Codes in [-127, 127] (the quantizer never makes -128); a zero scale only over an all-zero row. */
export function checkCodes(q: Int8Array, scales: Float32Array, layout: readonly number[], what: string): void {
  let at = 0;
  for (let r = 0; r < layout.length; r++) {
    const len = layout[r]!;
    for (let i = at; i < at + len; i++) {
      const c = q[i]!;
      if (c === -128) blobError('WORK_BLOB_CORRUPT', what, `code -128 at ${i} (codes are in [-127, 127])`, { index: i });
      if (c !== 0 && scales[r] === 0) blobError('WORK_BLOB_CORRUPT', what, `row ${r} has scale 0 but a non-zero code at ${i}`, { row: r, index: i });
    }
    at += len;
  }
}

/** Whether a container's metadata names `format` (a cheap peek; the decoders check everything). */
function isFormat(bytes: Uint8Array, format: string): boolean {
  if (!(bytes instanceof Uint8Array) || bytes.length < 8) return false;
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (n > MAX_BLOB_HEADER_BYTES + 128 * MAX_STEPS || 8 + n > bytes.length) return false;
  return utf8Decode(bytes.subarray(8, 8 + n)).includes(`"format":"${FORMAT_PREFIX}${format}"`);
}

/** Strict decode of a train result for `config`; see the module comment for what is checked. */
export function decodeTrainResult(bytes: Uint8Array, config: ModelConfig): DecodedTrainResult {
  const n = paramCount(config);
  const layout = deltaRows(config);
  const rows = layout.length;
  // The metrics ride in the header: one loss and one norm per step, under
  // 64 characters each as escaped JSON.
  const maxHeaderBytes = MAX_BLOB_HEADER_BYTES + 128 * MAX_STEPS;
  const d = decodeContainer(bytes, WHAT, {
    format: TRAIN_RESULT_FORMAT,
    metadataKeys: ['metrics', 'opt.step'],
    maxHeaderBytes,
    maxBytes: 8 + maxHeaderBytes + 9 * n + 4 * rows,
  });
  checkTensorNames(d, WHAT, ['delta.q', 'delta.scales', 'opt.m', 'opt.v']);
  const q = tensorOf<Int8Array>(d, WHAT, 'delta.q', 'I8', [n]);
  const scales = tensorOf<Float32Array>(d, WHAT, 'delta.scales', 'F32', [rows]);
  const m = tensorOf<Float32Array>(d, WHAT, 'opt.m', 'F32', [n]);
  const v = tensorOf<Float32Array>(d, WHAT, 'opt.v', 'F32', [n]);
  checkFinite(scales, WHAT, 'delta.scales', true);
  checkFinite(m, WHAT, 'opt.m');
  checkFinite(v, WHAT, 'opt.v', true);
  checkCodes(q, scales, layout, WHAT);
  const step = parseCount(d.metadata['opt.step'], WHAT, 'opt.step');
  const raw = parseCanonicalJson(d.metadata.metrics, WHAT, 'metrics');
  const parsed = MetricsSchema.safeParse(raw);
  if (!parsed.success) blobError('WORK_BLOB_CORRUPT', WHAT, `bad metrics: ${parsed.error.issues[0]!.message}`);
  return { q, scales, delta: dequantizeRows({ q, scales }, layout), opt: { step, m, v }, metrics: parsed.data };
}

// ---------------------------------------------------------------------------
// The head form: the slot's AdamW state stays with the provider.
//
// DiLoCo workers keep their inner optimizer state between rounds (Douillard
// et al., arXiv 2311.08105, Algorithm 1: each worker's inner optimizer runs
// on); moving it through the tracker every round costs 8 bytes per parameter
// each way, four times the f32 parameters and eight times the int8 delta.
// A train unit whose spec says keepOpt returns only its head:
//   delta.q, delta.scales   as in the full result
//   metadata                metrics, opt.step, and opt.sha256: the SHA-256 of
//                           the opt blob (opt-blob.ts) of the new state
// and the provider keeps the opt blob itself. The head commits to the state
// through its hash, so replicas that agree on the head agree on the state,
// and the next round's unit names that hash as its `opt` input: the
// providers that computed it already hold it; anyone else fetches it once a
// holder has uploaded it.

export const TRAIN_HEAD_FORMAT = 'train-head/v1';
const HEAD_WHAT = 'train head';

export interface SplitTrainResult {
  /** what is uploaded and compared by the quorum */
  head: Uint8Array;
  /** the new AdamW state as an opt blob, kept by the provider */
  optBlob: Uint8Array;
  optSha256: string;
}

/** The parts of a head: the quantized delta, the metrics, and the new state's step and opt-blob hash. */
export interface TrainHeadParts {
  q: Int8Array;
  scales: Float32Array;
  metrics: TrainMetrics;
  optStep: number;
  optSha256: string;
}

/** Canonical head bytes of `h` (the sizes are checked by the decoder, which every reader runs). */
export function encodeTrainHead(h: TrainHeadParts): Uint8Array {
  return encodeContainer(
    TRAIN_HEAD_FORMAT,
    [
      { name: 'delta.q', dtype: 'I8', shape: [h.q.length], data: h.q },
      { name: 'delta.scales', dtype: 'F32', shape: [h.scales.length], data: h.scales },
    ],
    { metrics: canonicalize(h.metrics), 'opt.step': String(h.optStep), 'opt.sha256': h.optSha256 },
  );
}

/** Splits a full train result into its head and its opt blob (canonical, deterministic). */
export function splitTrainResult(bytes: Uint8Array, config: ModelConfig): SplitTrainResult {
  const r = decodeTrainResult(bytes, config);
  const optBlob = encodeOptBlob(config, r.opt);
  const optSha256 = sha256Hex(optBlob);
  const head = encodeTrainHead({ q: r.q, scales: r.scales, metrics: r.metrics, optStep: r.opt.step, optSha256 });
  return { head, optBlob, optSha256 };
}

export interface DecodedTrainOutput {
  delta: Float32Array;
  metrics: TrainMetrics;
  /** the new AdamW state when the result carries it (full form) */
  opt: FlatAdamState | null;
  /** SHA-256 of the opt blob of the new state (both forms) */
  optSha256: string;
}

/** Strict decode of a train head for `config`. */
export function decodeTrainHead(bytes: Uint8Array, config: ModelConfig): TrainHeadParts & Omit<DecodedTrainOutput, 'opt'> {
  const n = paramCount(config);
  const layout = deltaRows(config);
  const rows = layout.length;
  const maxHeaderBytes = MAX_BLOB_HEADER_BYTES + 128 * MAX_STEPS;
  const d = decodeContainer(bytes, HEAD_WHAT, { format: TRAIN_HEAD_FORMAT, metadataKeys: ['metrics', 'opt.step', 'opt.sha256'], maxHeaderBytes, maxBytes: 8 + maxHeaderBytes + n + 4 * rows });
  checkTensorNames(d, HEAD_WHAT, ['delta.q', 'delta.scales']);
  const q = tensorOf<Int8Array>(d, HEAD_WHAT, 'delta.q', 'I8', [n]);
  const scales = tensorOf<Float32Array>(d, HEAD_WHAT, 'delta.scales', 'F32', [rows]);
  checkFinite(scales, HEAD_WHAT, 'delta.scales', true);
  checkCodes(q, scales, layout, HEAD_WHAT);
  const optSha256 = d.metadata['opt.sha256']!;
  if (!/^[0-9a-f]{64}$/.test(optSha256)) blobError('WORK_BLOB_CORRUPT', HEAD_WHAT, 'opt.sha256 is not a SHA-256 hex digest');
  const optStep = parseCount(d.metadata['opt.step'], HEAD_WHAT, 'opt.step');
  const parsed = MetricsSchema.safeParse(parseCanonicalJson(d.metadata.metrics, HEAD_WHAT, 'metrics'));
  if (!parsed.success) blobError('WORK_BLOB_CORRUPT', HEAD_WHAT, `bad metrics: ${parsed.error.issues[0]!.message}`);
  return { q, scales, delta: dequantizeRows({ q, scales }, layout), metrics: parsed.data, optSha256, optStep };
}

/** Either form of a train unit's output (the tracker's aggregation and the replay read both). */
export function decodeTrainOutput(bytes: Uint8Array, config: ModelConfig): DecodedTrainOutput {
  if (isFormat(bytes, TRAIN_HEAD_FORMAT)) {
    const h = decodeTrainHead(bytes, config);
    return { delta: h.delta, metrics: h.metrics, opt: null, optSha256: h.optSha256 };
  }
  const r = decodeTrainResult(bytes, config);
  return { delta: r.delta, metrics: r.metrics, opt: r.opt, optSha256: sha256Hex(encodeOptBlob(config, r.opt)) };
}
