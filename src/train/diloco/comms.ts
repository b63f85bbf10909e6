/**
 * Communication accounting: what DiLoCo moves per round, against what
 * synchronous data-parallel training (DDP) would move for the same tokens
 * (issue 7, "Communication accounting"). Pure arithmetic on byte counts.
 *
 * Convention: bytes are counted at the participants' network links, in +
 * out. A DiLoCo provider downloads θ_r (f32), its slot's AdamW state and its
 * data shard, and uploads its int8 delta with per-row f32 scales and its new
 * AdamW state (DESIGN.md, data flow step 1). A DDP worker all-reduces its f32
 * gradient of N values (4N bytes) every step with the bandwidth-optimal ring
 * algorithm (Patarasuk & Yuan 2009, "Bandwidth optimal all-reduce algorithms
 * for clusters of workstations", JPDC 69(2)): a reduce-scatter and an
 * all-gather of K−1 steps each, one chunk of 4N/K bytes per step, so each of
 * the K workers sends 2(K−1)/K · 4N bytes and receives as many. The ring is
 * the cheapest all-reduce in bandwidth, so the comparison favours DDP.
 *
 * "Same tokens": DiLoCo with K slots, H inner steps of batch B and R rounds
 * sees K·B·H·R sequences; DDP with K workers of batch B does H·R steps.
 */
import { SwarmError } from '../../core/errors.ts';

function count(x: number, name: string): number {
  if (!Number.isSafeInteger(x) || x < 0) throw new SwarmError('DILOCO_BAD_OPTION', `${name} must be a non-negative integer, got ${String(x)}`);
  return x;
}

/** f32 tensor of n values. */
export function f32Bytes(n: number): number {
  return 4 * count(n, 'value count');
}

/** AdamW first and second moments of n parameters, f32 each. */
export function adamStateBytes(n: number): number {
  return 8 * count(n, 'value count');
}

/** int8 codes for n values plus one f32 scale per row (quantize.ts). */
export function int8DeltaBytes(n: number, rows: number): number {
  return count(n, 'value count') + 4 * count(rows, 'row count');
}

/** What one training unit moves between its provider and the tracker. */
export interface UnitTransfer {
  /** θ_r download */
  theta: number;
  /** the slot's AdamW state download (0 when the provider keeps its slot's state) */
  adamState: number;
  /** the data shard download (0 when the shard is derived from a seed) */
  shard: number;
  /** int8 delta + scales upload */
  delta: number;
  /** the slot's new AdamW state upload (0 when the provider keeps it) */
  newAdamState: number;
}

export interface LinkBytes {
  download: number;
  upload: number;
  total: number;
}

export function unitBytes(t: UnitTransfer): LinkBytes {
  const download = count(t.theta, 'theta') + count(t.adamState, 'adamState') + count(t.shard, 'shard');
  const upload = count(t.delta, 'delta') + count(t.newAdamState, 'newAdamState');
  return { download, upload, total: download + upload };
}

/**
 * Payload sizes of a DiLoCo unit for a model of n parameters cut into `rows`
 * quantization rows. `adamMoves` says whether the slot's AdamW state travels
 * every round (a stateless provider) or stays with the provider that owns the
 * slot; `shardBytes` is the data the unit downloads.
 */
export function dilocoUnitTransfer(n: number, rows: number, o: { adamMoves: boolean; shardBytes?: number }): UnitTransfer {
  const adam = o.adamMoves ? adamStateBytes(n) : 0;
  return { theta: f32Bytes(n), adamState: adam, shard: count(o.shardBytes ?? 0, 'shardBytes'), delta: int8DeltaBytes(n, rows), newAdamState: adam };
}

export interface DilocoBytes {
  /** one provider, one round */
  perProviderRound: LinkBytes;
  /** all K providers over R rounds */
  total: LinkBytes;
}

export function dilocoRunBytes(o: { slots: number; rounds: number; unit: UnitTransfer }): DilocoBytes {
  const k = count(o.slots, 'slots'), r = count(o.rounds, 'rounds');
  const u = unitBytes(o.unit);
  const units = k * r;
  return { perProviderRound: u, total: { download: units * u.download, upload: units * u.upload, total: units * u.total } };
}

export interface AllReduceBytes {
  /** bytes each worker sends (= receives): 2(K−1)/K · bytes */
  perWorkerSent: number;
  perWorkerReceived: number;
  /** sent + received over all workers: 2 · 2(K−1) · bytes */
  linkTotal: number;
}

/** One ring all-reduce of a `bytes`-long buffer among K workers (Patarasuk & Yuan 2009). */
export function ringAllReduceBytes(workers: number, bytes: number): AllReduceBytes {
  const k = count(workers, 'workers');
  if (k === 0) throw new SwarmError('DILOCO_BAD_OPTION', 'an all-reduce needs at least one worker');
  const b = count(bytes, 'bytes');
  const sent = (2 * (k - 1) * b) / k;
  return { perWorkerSent: sent, perWorkerReceived: sent, linkTotal: 2 * 2 * (k - 1) * b };
}

export interface DdpBytes {
  /** one worker, one step: sent + received (+ its data, if any) */
  perWorkerStep: number;
  /** all workers, all steps: sent + received (+ data) */
  total: number;
}

/**
 * Synchronous data parallelism: K workers, `steps` optimizer steps, one ring
 * all-reduce of the f32 gradient (N values) per step.
 */
export function ddpRunBytes(o: { workers: number; paramCount: number; steps: number }): DdpBytes {
  const ar = ringAllReduceBytes(o.workers, f32Bytes(o.paramCount));
  return { perWorkerStep: ar.perWorkerSent + ar.perWorkerReceived, total: count(o.steps, 'steps') * ar.linkTotal };
}

export interface CommsComparison {
  diloco: DilocoBytes;
  ddp: DdpBytes;
  /** DDP bytes / DiLoCo bytes for the same tokens (Infinity when DiLoCo moves nothing) */
  ratio: number;
}

/**
 * DiLoCo (K slots, H inner steps, R rounds) against DDP on the same tokens
 * (K workers, H·R steps). `shardBytes` is the data one unit downloads; the
 * DDP workers then download the same data (each worker a unit's worth per H
 * steps), so data counts on both sides alike.
 */
export function compareComms(o: { slots: number; innerSteps: number; rounds: number; paramCount: number; rows: number; adamMoves: boolean; shardBytes?: number }): CommsComparison {
  const h = count(o.innerSteps, 'innerSteps'), r = count(o.rounds, 'rounds'), k = count(o.slots, 'slots');
  const shard = count(o.shardBytes ?? 0, 'shardBytes');
  const diloco = dilocoRunBytes({ slots: k, rounds: r, unit: dilocoUnitTransfer(o.paramCount, o.rows, { adamMoves: o.adamMoves, shardBytes: shard }) });
  const grads = ddpRunBytes({ workers: k, paramCount: o.paramCount, steps: h * r });
  const ddp: DdpBytes = { perWorkerStep: grads.perWorkerStep + (h === 0 ? 0 : shard / h), total: grads.total + k * r * shard };
  return { diloco, ddp, ratio: diloco.total.total === 0 ? Infinity : ddp.total / diloco.total.total };
}
