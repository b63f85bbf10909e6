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
import { paramShapes } from '../../model/llama.ts';
import { dequantizeRows, rowLengths } from '../diloco/quantize.ts';
import { paramCount } from '../unit.ts';
import type { FlatAdamState } from '../unit.ts';
import {
  MAX_BLOB_HEADER_BYTES, blobError, checkFinite, checkTensorNames, decodeContainer, encodeContainer, parseCanonicalJson, parseCount, tensorOf,
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
  let at = 0;
  for (let r = 0; r < rows; r++) {
    const len = layout[r]!;
    for (let i = at; i < at + len; i++) {
      const c = q[i]!;
      if (c === -128) blobError('WORK_BLOB_CORRUPT', WHAT, `code -128 at ${i} (codes are in [-127, 127])`, { index: i });
      if (c !== 0 && scales[r] === 0) blobError('WORK_BLOB_CORRUPT', WHAT, `row ${r} has scale 0 but a non-zero code at ${i}`, { row: r, index: i });
    }
    at += len;
  }
  const step = parseCount(d.metadata['opt.step'], WHAT, 'opt.step');
  const raw = parseCanonicalJson(d.metadata.metrics, WHAT, 'metrics');
  const parsed = MetricsSchema.safeParse(raw);
  if (!parsed.success) blobError('WORK_BLOB_CORRUPT', WHAT, `bad metrics: ${parsed.error.issues[0]!.message}`);
  return { q, scales, delta: dequantizeRows({ q, scales }, layout), opt: { step, m, v }, metrics: parsed.data };
}
