/**
 * The trainer's half of creating a DiLoCo run (issue 7): build the corpus,
 * tokenizer and config (run-setup.ts), θ_0, the data shard of every (round,
 * slot) and the evaluation windows, as content-addressed blobs, and the run
 * spec that names them. The tracker then needs nothing but blobs: units are
 * pure functions of them, and anyone holding the blobs can replay the run.
 *
 * Shard (r, k) is BatchSource shard r·K + k, steps 0 … H−1 (batch-source.ts
 * makes every (shard, step) batch a pure function of the corpus and seed).
 */
import { Prng } from '../../core/prng.ts';
import { sha256Hex } from '../../core/sha256.ts';
import { initParams, paramList } from '../../model/llama.ts';
import type { Engine } from '../../tensor/tensor.ts';
import type { AdamWHyper } from '../adamw.ts';
import { setupRun } from '../run-setup.ts';
import type { RunSetup } from '../run-setup.ts';
import { concatFlat } from '../unit.ts';
import { encodeParamsBlob } from '../work/params-blob.ts';
import { evalShardBlob, trainShardBlob } from '../work/shard-blob.ts';
import type { RoundAggregate } from './checkpoint.ts';
import type { OuterOptions } from './outer.ts';
import type { Schedule } from '../schedule.ts';

export interface DilocoPlanOptions {
  preset: string;
  data?: string;
  seed: number;
  slots: number;
  innerSteps: number;
  rounds: number;
  batch: number;
  seqLen: number;
  adamw: AdamWHyper;
  /** inner schedule by each slot's optimizer step (0 … H·R − 1); absent: constant adamw.lr */
  schedule?: Schedule;
  /** start from these parameters instead of a fresh initialisation (a pretrained θ_0) */
  init?: Float32Array;
  outer: OuterOptions;
  aggregate: RoundAggregate;
  replication: number;
  quorumFraction: number;
  roundDeadlineMs: number;
  leaseMs: number;
  /** providers keep their slot's AdamW state (default true, as DiLoCo workers do) */
  keepOpt?: boolean;
  /** how θ goes down each round (downlink.ts): 'int8' updates with error feedback (default), or 'f32' θ */
  downlink?: 'f32' | 'int8';
  /** evaluation windows scored per round (default 64); 0 = no eval units */
  evalWindows?: number;
}

export interface DilocoPlan {
  /** the run spec (src/tracker/runs/diloco-spec.ts validates it) */
  spec: Record<string, unknown>;
  /** every blob the spec names */
  blobs: Uint8Array[];
  setup: RunSetup;
  theta0: Float32Array;
}

export function planDilocoRun(engine: Engine, o: DilocoPlanOptions): DilocoPlan {
  const setup = setupRun({ preset: o.preset, seed: o.seed, batchSize: o.batch, seqLen: o.seqLen, ...(o.data === undefined ? {} : { data: o.data }) });
  const c = setup.config;
  const theta0 = o.init ?? concatFlat(paramList(initParams(engine, c, Prng.fromSeed(o.seed).fork('init'))));
  const init = encodeParamsBlob(c, theta0);
  const blobs: Uint8Array[] = [init];
  const shards: string[][] = [];
  for (let r = 0; r < o.rounds; r++) {
    const row: string[] = [];
    for (let k = 0; k < o.slots; k++) {
      const b = trainShardBlob(setup.data, r * o.slots + k, o.innerSteps);
      blobs.push(b);
      row.push(sha256Hex(b));
    }
    shards.push(row);
  }
  let evalSpec: { data: string; windows: number; batch: number } | null = null;
  const windows = Math.min(o.evalWindows ?? 64, setup.data.evalWindows());
  if (windows > 0) {
    const e = evalShardBlob(setup.data, windows);
    blobs.push(e);
    evalSpec = { data: sha256Hex(e), windows, batch: 16 };
  }
  const spec = {
    kind: 'diloco', v: 1,
    label: `${o.preset} on ${o.data ?? 'the synthetic corpus'}, seed ${o.seed}`,
    config: c,
    slots: o.slots, innerSteps: o.innerSteps, rounds: o.rounds, batch: o.batch, seqLen: o.seqLen,
    adamw: o.adamw, ...(o.schedule === undefined ? {} : { schedule: o.schedule }), outer: o.outer, aggregate: o.aggregate,
    keepOpt: o.keepOpt ?? true,
    downlink: o.downlink ?? 'int8',
    replication: o.replication, quorumFraction: o.quorumFraction, roundDeadlineMs: o.roundDeadlineMs, leaseMs: o.leaseMs,
    init: sha256Hex(init), shards, eval: evalSpec, entropyFloor: setup.entropyFloor,
  };
  return { spec, blobs: dedupe(blobs), setup, theta0 };
}

function dedupe(blobs: Uint8Array[]): Uint8Array[] {
  const seen = new Set<string>();
  return blobs.filter((b) => {
    const h = sha256Hex(b);
    if (seen.has(h)) return false;
    seen.add(h);
    return true;
  });
}
