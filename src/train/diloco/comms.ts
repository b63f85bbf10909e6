/**
 * Communication accounting: what DiLoCo moves per round, against what
 * synchronous data-parallel training (DDP) would move for the same tokens
 * (issue 7, "Communication accounting"). Pure arithmetic on byte counts.
 *
 * Convention: bytes moved over the network, each transfer counted once. A
 * DiLoCo provider downloads θ_r (f32, or the int8 update from θ_{r−1} when
 * the run's downlink is int8 and it holds θ_{r−1}: downlink.ts), its slot's
 * AdamW state (unless it kept it) and its data shard, and uploads its int8
 * delta with per-row f32 scales (and its new AdamW state unless it keeps
 * it) (DESIGN.md, data flow step 1); the other end of each transfer is the
 * tracker. A DDP worker all-reduces its f32 gradient of N values (4N bytes)
 * every step with the ring algorithm (Patarasuk & Yuan 2009, "Bandwidth
 * optimal all-reduce algorithms for clusters of workstations", JPDC 69(2)):
 * a reduce-scatter and an all-gather of K−1 steps each, one chunk of 4N/K
 * bytes per step, so each of the K workers sends 2(K−1)/K · 4N bytes, and
 * the K workers together move 2(K−1) · 4N bytes a step, less than a
 * parameter server's 2K · 4N (every gradient up, the mean down), so the
 * comparison favours DDP. Counted per worker link instead (sent plus
 * received at each worker or provider, the server's end not counted), a DDP
 * worker's link carries 2 · 2(K−1)/K · 4N a step while a provider's carries
 * only its own transfers: that view doubles the ratio (DDP's every byte
 * touches two worker links, DiLoCo's one). The two views must not be
 * mixed (DDP per link against DiLoCo per transfer doubles the ratio); the
 * ratios here are per transfer, the smaller.
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
export function dilocoUnitTransfer(n: number, rows: number, o: { adamMoves: boolean; shardBytes?: number; downlink?: 'f32' | 'int8' }): UnitTransfer {
  const adam = o.adamMoves ? adamStateBytes(n) : 0;
  const theta = o.downlink === 'int8' ? int8DeltaBytes(n, rows) : f32Bytes(n);
  return { theta, adamState: adam, shard: count(o.shardBytes ?? 0, 'shardBytes'), delta: int8DeltaBytes(n, rows), newAdamState: adam };
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
  /** bytes moved over the network, each once: K · perWorkerSent = 2(K−1) · bytes */
  moved: number;
}

/** One ring all-reduce of a `bytes`-long buffer among K workers (Patarasuk & Yuan 2009). */
export function ringAllReduceBytes(workers: number, bytes: number): AllReduceBytes {
  const k = count(workers, 'workers');
  if (k === 0) throw new SwarmError('DILOCO_BAD_OPTION', 'an all-reduce needs at least one worker');
  const b = count(bytes, 'bytes');
  const sent = (2 * (k - 1) * b) / k;
  return { perWorkerSent: sent, perWorkerReceived: sent, moved: 2 * (k - 1) * b };
}

export interface DdpBytes {
  /** one worker's link, one step: sent + received (+ its data, if any) */
  perWorkerStep: number;
  /** all workers, all steps: bytes moved, each once (+ data) */
  total: number;
}

/**
 * Synchronous data parallelism: K workers, `steps` optimizer steps, one ring
 * all-reduce of the f32 gradient (N values) per step.
 */
export function ddpRunBytes(o: { workers: number; paramCount: number; steps: number }): DdpBytes {
  const ar = ringAllReduceBytes(o.workers, f32Bytes(o.paramCount));
  return { perWorkerStep: ar.perWorkerSent + ar.perWorkerReceived, total: count(o.steps, 'steps') * ar.moved };
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
export function compareComms(o: { slots: number; innerSteps: number; rounds: number; paramCount: number; rows: number; adamMoves: boolean; shardBytes?: number; downlink?: 'f32' | 'int8' }): CommsComparison {
  const h = count(o.innerSteps, 'innerSteps'), r = count(o.rounds, 'rounds'), k = count(o.slots, 'slots');
  const shard = count(o.shardBytes ?? 0, 'shardBytes');
  const diloco = dilocoRunBytes({ slots: k, rounds: r, unit: dilocoUnitTransfer(o.paramCount, o.rows, { adamMoves: o.adamMoves, shardBytes: shard, ...(o.downlink === undefined ? {} : { downlink: o.downlink }) }) });
  const grads = ddpRunBytes({ workers: k, paramCount: o.paramCount, steps: h * r });
  const ddp: DdpBytes = { perWorkerStep: grads.perWorkerStep + (h === 0 ? 0 : shard / h), total: grads.total + k * r * shard };
  return { diloco, ddp, ratio: diloco.total.total === 0 ? Infinity : ddp.total / diloco.total.total };
}
