/**
 * The `eval` unit: the mean next-token cross-entropy of parameters θ over
 * the windows of a data shard.
 *
 * spec: {kind:'eval', v:1, config, params, data, seqLen, windows, batch}.
 * The shard holds `windows` rows of seqLen + 1 tokens; they are scored in
 * order, `batch` rows at a time, and the loss is Σ batch_loss·tokens / Σ
 * tokens in binary64, exactly as the local trainer's evaluate() computes it,
 * so an eval unit over a BatchSource's windows (evalShardBlob) reproduces
 * the local number. seqLen and windows are in the spec (not only implied by
 * the shard) so the tracker knows a unit's cost without reading its blobs.
 *
 * Cost: ≈ 2·N FLOPs per scored token, a forward pass (Kaplan et al. 2020,
 * §2.1; N counts every parameter, see ./train-kind.ts).
 */
import { z } from 'zod';
import { lossOf, modelConstants, paramCount } from '../../model/llama.ts';
import { toBatch } from '../local-trainer.ts';
import { wrapFlatParams } from '../unit.ts';
import { encodeEvalResult } from './eval-result.ts';
import type { UnitKindDef } from './kind.ts';
import { distinct } from './kind.ts';
import { MAX_BATCH, MAX_SEQ_LEN, MAX_SHARD_TOKENS } from './limits.ts';
import { decodeParamsBlob } from './params-blob.ts';
import { decodeShardBlob } from './shard-blob.ts';
import { BlobHashSchema, ModelConfigSchema } from './spec.ts';

const int = (lo: number, hi: number) => z.number().int().min(lo).max(hi);

export const EvalSpecSchema = z
  .strictObject({
    kind: z.literal('eval'),
    v: z.literal(1),
    config: ModelConfigSchema,
    params: BlobHashSchema,
    data: BlobHashSchema,
    seqLen: int(1, MAX_SEQ_LEN),
    windows: int(1, MAX_SHARD_TOKENS),
    batch: int(1, MAX_BATCH),
  })
  .superRefine((s, ctx) => {
    if (s.seqLen > s.config.maxSeqLen) ctx.addIssue({ code: 'custom', path: ['seqLen'], message: `seqLen ${s.seqLen} exceeds the config's maxSeqLen ${s.config.maxSeqLen}` });
    if (s.windows * (s.seqLen + 1) > MAX_SHARD_TOKENS) {
      ctx.addIssue({ code: 'custom', path: ['windows'], message: `windows × (seqLen + 1) exceeds ${MAX_SHARD_TOKENS} tokens` });
    }
  });

export type EvalSpec = z.infer<typeof EvalSpecSchema>;

export const evalKind: UnitKindDef<EvalSpec> = {
  kind: 'eval',
  schema: EvalSpecSchema,
  inputs: (s) => distinct([s.params, s.data]),
  flops: (s) => 2 * paramCount(s.config) * s.windows * s.seqLen,
  run(engine, s, blob, onProgress) {
    const c = s.config;
    const theta = decodeParamsBlob(blob(s.params), c);
    const tokens = decodeShardBlob(blob(s.data), { seqLen: s.seqLen, rows: s.windows, vocabSize: c.vocabSize });
    const k = modelConstants(engine, c);
    const { params } = wrapFlatParams(engine, c, theta);
    const rowLength = s.seqLen + 1;
    let nats = 0;
    let scored = 0;
    engine.noGrad(() => {
      for (let first = 0; first < s.windows; first += s.batch) {
        const rows = Math.min(s.batch, s.windows - first);
        const b = toBatch(tokens.subarray(first * rowLength, (first + rows) * rowLength), s.seqLen);
        const loss = lossOf(c, params, k, b.inputs, b.targets, b.batch, b.seqLen).item();
        nats += loss * b.batch * b.seqLen;
        scored += b.batch * b.seqLen;
        onProgress((first + rows) / s.windows);
      }
    });
    const loss = nats / scored;
    return { result: encodeEvalResult({ loss, tokens: scored }), metrics: { loss, tokens: scored } };
  },
};
