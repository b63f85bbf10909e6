/**
 * The `train` unit: H inner AdamW steps of DiLoCo (Douillard et al. 2023,
 * arXiv 2311.08105, Algorithm 1, inner loop) from the global parameters θ,
 * with slot k's optimizer state, on the unit's data shard.
 *
 * spec: {kind:'train', v:1, config, params, opt (hash, or null for a fresh
 * zero state), data, steps H, batch B, seqLen T, adamw hyper-parameters,
 * keepOpt?, schedule?}. Step s reads rows [s·B, (s+1)·B) of the shard. The
 * lr is adamw.lr, or with `schedule` a warm-up + cosine lr (../schedule.ts)
 * indexed by the AdamW state's global step, so a slot's schedule runs on
 * across DiLoCo rounds.
 *
 * Result (./train-result.ts): Δ = θ_in − θ_out, computed in f32 and int8
 * quantized per row, the new AdamW state and the per-step metrics. With
 * keepOpt the provider uploads only the head and keeps the state
 * (./finalize.ts).
 *
 * Cost: ≈ 6·N FLOPs per trained token (forward 2N, backward 4N; Kaplan et
 * al. 2020, "Scaling Laws for Neural Language Models", §2.1). Kaplan's N
 * leaves out the embeddings; we count every parameter, which for the small
 * presets (embeddings are a large share, and the tied LM head is a real
 * V·D matmul per token) is the closer estimate, and in any case one fixed
 * rule, which is all credit needs.
 */
import { z } from 'zod';
import { modelConstants, paramCount } from '../../model/llama.ts';
import { quantizeRows } from '../diloco/quantize.ts';
import { toBatch } from '../local-trainer.ts';
import { initFlatAdam, runTrainUnit } from '../unit.ts';
import type { FlatAdamState } from '../unit.ts';
import type { UnitKindDef } from './kind.ts';
import { distinct } from './kind.ts';
import { MAX_BATCH, MAX_SEQ_LEN, MAX_SHARD_TOKENS, MAX_STEPS } from './limits.ts';
import { decodeOptBlob } from './opt-blob.ts';
import { decodeParamsBlob } from './params-blob.ts';
import { decodeShardBlob } from './shard-blob.ts';
import { BlobHashSchema, ModelConfigSchema } from './spec.ts';
import { deltaRows, encodeTrainResult } from './train-result.ts';

const int = (lo: number, hi: number) => z.number().int().min(lo).max(hi);

export const AdamWHyperSchema = z.strictObject({
  lr: z.number().gt(0).max(1),
  beta1: z.number().min(0).lt(1),
  beta2: z.number().min(0).lt(1),
  eps: z.number().gt(0).max(1),
  weightDecay: z.number().min(0).max(100),
  clip: z.number().min(0).max(1e6),
});

export const TrainSpecSchema = z
  .strictObject({
    kind: z.literal('train'),
    v: z.literal(1),
    config: ModelConfigSchema,
    params: BlobHashSchema,
    opt: BlobHashSchema.nullable(),
    data: BlobHashSchema,
    steps: int(1, MAX_STEPS),
    batch: int(1, MAX_BATCH),
    seqLen: int(1, MAX_SEQ_LEN),
    adamw: AdamWHyperSchema,
    /**
     * the provider keeps the new AdamW state and uploads only the head
     * (train-result.ts splitTrainResult); the quorum compares heads
     */
    keepOpt: z.boolean().optional(),
    /**
     * optional warm-up + cosine schedule (schedule.ts) indexed by the AdamW
     * state's global step, so a slot's schedule runs on across DiLoCo rounds;
     * absent: constant adamw.lr
     */
    schedule: z
      .strictObject({
        maxLr: z.number().gt(0).max(1),
        minLr: z.number().min(0).max(1),
        warmupSteps: z.number().int().min(0).max(10_000_000),
        totalSteps: z.number().int().min(1).max(10_000_000),
      })
      .optional(),
  })
  .superRefine((s, ctx) => {
    if (s.seqLen > s.config.maxSeqLen) ctx.addIssue({ code: 'custom', path: ['seqLen'], message: `seqLen ${s.seqLen} exceeds the config's maxSeqLen ${s.config.maxSeqLen}` });
    if (s.steps * s.batch * (s.seqLen + 1) > MAX_SHARD_TOKENS) {
      ctx.addIssue({ code: 'custom', path: ['steps'], message: `steps × batch × (seqLen + 1) exceeds ${MAX_SHARD_TOKENS} tokens` });
    }
  });

export type TrainSpec = z.infer<typeof TrainSpecSchema>;

const f = Math.fround;

export const trainKind: UnitKindDef<TrainSpec> = {
  kind: 'train',
  schema: TrainSpecSchema,
  inputs: (s) => distinct(s.opt === null ? [s.params, s.data] : [s.params, s.opt, s.data]),
  flops: (s) => 6 * paramCount(s.config) * s.steps * s.batch * s.seqLen,
  run(engine, s, blob, onProgress) {
    const c = s.config;
    const theta0 = decodeParamsBlob(blob(s.params), c);
    const opt0: FlatAdamState = s.opt === null ? initFlatAdam(theta0.length) : decodeOptBlob(blob(s.opt), c);
    const tokens = decodeShardBlob(blob(s.data), { seqLen: s.seqLen, rows: s.steps * s.batch, vocabSize: c.vocabSize });
    const k = modelConstants(engine, c);
    const stepTokens = s.batch * (s.seqLen + 1);
    let params = theta0;
    let opt = opt0;
    const losses: number[] = [];
    const gradNorms: number[] = [];
    let trained = 0;
    // One step per call so progress can be reported; a split run gives the
    // same bits as one long one (test/train/unit.test.ts).
    for (let step = 0; step < s.steps; step++) {
      const rows = tokens.subarray(step * stepTokens, (step + 1) * stepTokens);
      const out = runTrainUnit(engine, { config: c, params, opt, steps: 1, adamw: s.adamw, batchAt: () => toBatch(rows, s.seqLen), ...(s.schedule === undefined ? {} : { schedule: s.schedule }) }, k);
      params = out.params;
      opt = out.opt;
      losses.push(out.metrics.losses[0]!);
      gradNorms.push(out.metrics.gradNorms[0]!);
      trained += out.metrics.tokens;
      onProgress((step + 1) / s.steps);
    }
    const delta = new Float32Array(theta0.length);
    for (let i = 0; i < delta.length; i++) delta[i] = f(theta0[i]! - params[i]!);
    const { q, scales } = quantizeRows(delta, deltaRows(c));
    const result = encodeTrainResult(c, { q, scales, opt, metrics: { steps: s.steps, tokens: trained, losses, gradNorms } });
    const mean = losses.reduce((a, b) => a + b, 0) / losses.length;
    return {
      result,
      metrics: { loss: losses.at(-1)!, firstLoss: losses[0]!, meanLoss: mean, gradNorm: gradNorms.at(-1)!, tokens: trained, steps: s.steps },
    };
  },
};
