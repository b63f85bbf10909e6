/**
 * A DiLoCo run as the tracker stores it (issue 7): everything that fixes the
 * run, validated strictly when it is created. The trainer prepares the data
 * (the tokenised shards of every round and slot, the evaluation windows) and
 * θ_0 as content-addressed blobs, so the tracker never needs the corpus or
 * the tokenizer, and every unit is a pure function of blobs.
 *
 * Defaults follow DiLoCo (Douillard et al., arXiv 2311.08105, §3): outer SGD
 * with Nesterov momentum, lr 0.7, momentum 0.9; the inner AdamW
 * hyper-parameters are the trainer's choice (scaled for the tiny presets).
 */
import { z } from 'zod';
import { SwarmError } from '../../core/errors.ts';
import { ModelConfigSchema, BlobHashSchema } from '../../train/work/spec.ts';
import { AdamWHyperSchema } from '../../train/work/train-kind.ts';
import { deltaRows } from '../../train/work/train-result.ts';
import type { OuterRoundOptions } from '../../train/diloco/checkpoint.ts';

export const MAX_SLOTS = 64;
export const MAX_ROUNDS = 10_000;

const RunAggregateSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('mean') }),
  z.strictObject({ kind: z.literal('trimmed-mean'), trim: z.number().min(0).lt(0.5) }),
  z.strictObject({ kind: z.literal('centered-clip'), tau: z.number().gt(0).max(1e6), iterations: z.number().int().min(1).max(100), center: z.enum(['zero', 'momentum']) }),
]);

export const DilocoRunSpecSchema = z
  .strictObject({
    kind: z.literal('diloco'),
    v: z.literal(1),
    /** free-form label: preset name, corpus, … (for people, not for the tracker) */
    label: z.string().max(200),
    config: ModelConfigSchema,
    slots: z.number().int().min(1).max(MAX_SLOTS),
    innerSteps: z.number().int().min(1).max(100_000),
    rounds: z.number().int().min(1).max(MAX_ROUNDS),
    batch: z.number().int().min(1).max(4096),
    seqLen: z.number().int().min(1).max(8192),
    adamw: AdamWHyperSchema,
    schedule: z.strictObject({ maxLr: z.number().gt(0).max(1), minLr: z.number().min(0).max(1), warmupSteps: z.number().int().min(0), totalSteps: z.number().int().min(1) }).optional(),
    outer: z.strictObject({ lr: z.number().gt(0).max(10), momentum: z.number().min(0).lt(1) }),
    aggregate: RunAggregateSchema,
    /**
     * providers keep their slot's AdamW state between rounds (DiLoCo workers
     * do); only a head with its hash travels (train-result.ts). Default false:
     * the state goes through the tracker as a blob every round.
     */
    keepOpt: z.boolean().optional(),
    /**
     * how θ_{r+1} reaches providers (src/train/diloco/downlink.ts): 'int8', an
     * update with error feedback that providers holding θ_r apply (θ_{r+1} is
     * still stored whole for everyone else), or 'f32' (default: θ only).
     */
    downlink: z.enum(['f32', 'int8']).optional(),
    /** BOINC min_quorum of every train unit (adaptive replication may raise it) */
    replication: z.number().int().min(1).max(8),
    /** a round closes once all slots are verified, or after its deadline with at least ceil(fraction · K) */
    quorumFraction: z.number().gt(0).max(1),
    roundDeadlineMs: z.number().int().min(1_000).max(7 * 86_400_000),
    leaseMs: z.number().int().min(1_000).max(86_400_000),
    /** θ_0 as a params blob */
    init: BlobHashSchema,
    /** data shard of (round r, slot k) at shards[r][k] */
    shards: z.array(z.array(BlobHashSchema)),
    /** evaluation windows (a shard blob) scored for every θ_r, or null */
    eval: z.strictObject({ data: BlobHashSchema, windows: z.number().int().min(1), batch: z.number().int().min(1) }).nullable(),
    /** nats per token no model can beat, when the corpus is synthetic (display only) */
    entropyFloor: z.number().nullable(),
  })
  .superRefine((s, ctx) => {
    if (s.shards.length !== s.rounds || s.shards.some((r) => r.length !== s.slots)) {
      ctx.addIssue({ code: 'custom', path: ['shards'], message: `shards must be rounds × slots (${s.rounds} × ${s.slots}) blob hashes` });
    }
    if (s.seqLen > s.config.maxSeqLen) ctx.addIssue({ code: 'custom', path: ['seqLen'], message: 'seqLen exceeds the config maxSeqLen' });
  });

export type DilocoRunSpec = z.infer<typeof DilocoRunSpecSchema>;

/** The outer-round options a run's spec fixes (what the tracker and `swarm audit --replay` both use). */
export function runRoundOptions(spec: Pick<DilocoRunSpec, 'config' | 'outer' | 'aggregate' | 'downlink'>): OuterRoundOptions {
  return { outer: spec.outer, aggregate: spec.aggregate, ...(spec.downlink === 'int8' ? { downlinkRows: deltaRows(spec.config) } : {}) };
}

export function parseRunSpec(x: unknown): DilocoRunSpec {
  const r = DilocoRunSpecSchema.safeParse(x);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const path = issue.path.map(String).join('.');
  throw new SwarmError('RUN_BAD_SPEC', `${path === '' ? '' : `${path}: `}${issue.message}`, { path });
}

/** The run's progress, kept beside its spec (runs.progress). */
export interface RoundRecord {
  round: number;
  /** global state blob (θ and outer momentum) after this round's outer step */
  checkpoint: string;
  /** slots aggregated, in slot order, and those dropped */
  slots: number[];
  dropped: number[];
  /** slots whose kept AdamW state was lost with their providers: they start afresh next round */
  resets?: number[];
  /** mean of the verified units' last inner loss */
  trainLoss: number | null;
  /** bytes providers moved for this round's verified replicas: inputs down, results up */
  bytesDown: number;
  bytesUp: number;
  /** the same for one replica per slot: what DiLoCo itself moves, without the verification copies */
  bytesOneReplica?: number;
  closedAt: number;
}

export interface RunProgress {
  status: 'training' | 'finished' | 'stopped' | 'failed';
  /** round being trained (θ_round is current) */
  round: number;
  /** global state blob of θ_round */
  state: string;
  /** params blob of θ_round (what train units read) */
  params: string;
  /** AdamW state blob per slot (null before the slot's first verified unit) */
  opt: Array<string | null>;
  /** when the current round may close without all its slots */
  deadline: number;
  history: RoundRecord[];
  /** eval loss of θ_r by round r, once its eval unit validated */
  evalLoss: Record<string, number>;
  message?: string;
}
