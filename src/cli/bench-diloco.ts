/**
 * `swarm bench diloco --json` (issue 7, "Quality at low communication"):
 * the same preset trained on the same tokens twice —
 *   1. DiLoCo's baseline: one AdamW worker, batch K·B, H·R steps
 *      (Douillard et al., arXiv 2311.08105 §3 compares against exactly this);
 *   2. DiLoCo with K slots and H inner steps THROUGH THE TRACKER: an
 *      embedded tracker, provider processes, quorum-verified units, the
 *      outer step on the tracker;
 * both from the same θ_0 (optionally pretrained, as the paper starts DiLoCo
 * from a pretrained model), both scored by the same evaluation on the same
 * windows. Defaults (bench.ts): nano, K=4, H=50, R=48, outer 0.85/0.9, each
 * arm at its best peak lr of a sweep at R=48 (single worker 6e-3, DiLoCo's
 * inner AdamW 4.2e-3), θ going down as an int8 update with error feedback —
 * measured here: loss ratio 1.022 (0.5813 vs 0.5689) and 114× fewer bytes
 * than synchronous data parallelism (one replica per slot, each transfer
 * counted once; 60× with every verification copy), ~20 min. Prints the two
 * eval losses, their ratio, the bytes providers actually moved (counted
 * from the blobs of every verified replica), the
 * bytes synchronous data parallelism would have moved for the same tokens
 * (ring all-reduce of f32 gradients every step, comms.ts), and their ratio.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { systemClock } from '../core/clock.ts';
import { DILOCO_INNER } from '../train/adamw.ts';
import { ddpRunBytes } from '../train/diloco/comms.ts';
import { planDilocoRun } from '../train/diloco/plan.ts';
import { simulateBaseline } from '../train/diloco/simulate.ts';
import { evaluate } from '../train/local-trainer.ts';
import { decodeParamsBlob } from '../train/work/params-blob.ts';
import { getBlob, putBlob } from '../tracker/storage/blobs.ts';
import type { RunView } from '../tracker/runs/diloco.ts';
import { createEngine } from './engine.ts';
import { startTracker } from './tracker.ts';

const BIN = fileURLToPath(new URL('../../bin/swarm.mjs', import.meta.url));

export interface BenchDilocoOptions {
  preset: string;
  slots: number;
  innerSteps: number;
  rounds: number;
  batch: number;
  seqLen: number;
  lr: number;
  /** the single worker's peak lr (default: lr), to compare against a baseline tuned on its own */
  baselineLr?: number;
  warmup: number;
  minLrRatio: number;
  outerLr: number;
  momentum: number;
  pretrainSteps: number;
  /** the pretraining's lr (default: lr), so that arms at other lrs still start from the same θ_0 */
  pretrainLr?: number;
  providers: number;
  seed: number;
  evalWindows: number;
  /** providers keep their slot's AdamW state (DiLoCo's workers do); false moves it through the tracker */
  keepOpt: boolean;
  /** θ down as an int8 update with error feedback (default) or whole in f32 */
  downlink?: 'int8' | 'f32';
  log?: (s: string) => void;
}

export interface BenchDilocoResult {
  preset: string;
  slots: number;
  innerSteps: number;
  rounds: number;
  tokens: number;
  pretrainSteps: number;
  pretrainLr: number;
  initialEvalLoss: number;
  /** peak lr of each arm */
  singleLr: number;
  dilocoLr: number;
  singleEvalLoss: number;
  dilocoEvalLoss: number;
  lossRatio: number;
  /** bytes every verified replica moved (quorum copies included) */
  dilocoBytes: number;
  /** bytes of one replica per slot: DiLoCo's own communication */
  dilocoBytesOneReplica: number;
  ddpBytes: number;
  /** ddpBytes / dilocoBytesOneReplica: the algorithm's saving (the yardstick) */
  commRatio: number;
  /** ddpBytes / dilocoBytes: with the verification copies */
  commRatioWithReplicas: number;
  keepOpt: boolean;
  downlink: 'int8' | 'f32';
  unitsVerified: number;
  checkpointSha256: string;
  dilocoSeconds: number;
  singleSeconds: number;
}

export async function benchDiloco(o: BenchDilocoOptions): Promise<BenchDilocoResult> {
  const log = o.log ?? (() => undefined);
  const downlink = o.downlink ?? 'int8';
  const engine = await createEngine('wasm', 2);
  const inner = { ...DILOCO_INNER, lr: o.lr };
  const schedule = { maxLr: o.lr, minLr: o.lr * o.minLrRatio, warmupSteps: o.warmup, totalSteps: o.innerSteps * o.rounds };
  // The plan builds the corpus, θ_0 and the shards; its BatchSource is what the baseline reads.
  let plan = planDilocoRun(engine, {
    preset: o.preset, seed: o.seed, slots: o.slots, innerSteps: o.innerSteps, rounds: o.rounds, batch: o.batch, seqLen: o.seqLen,
    adamw: inner, schedule, outer: { lr: o.outerLr, momentum: o.momentum }, aggregate: { kind: 'mean' },
    replication: 1, quorumFraction: 1, roundDeadlineMs: 24 * 3_600_000, leaseMs: 300_000, evalWindows: 0, keepOpt: o.keepOpt, downlink,
  });
  const data = plan.setup.data;
  const c = plan.setup.config;
  const evalBatches = Math.ceil(o.evalWindows / 16);
  let init = plan.theta0;
  const preLr = o.pretrainLr ?? o.lr;
  if (o.pretrainSteps > 0) {
    // Shards 1e6 + … are never read by either arm afterwards.
    const preData = { ...data, batch: (shard: number, step: number) => data.batch(1_000_000 + shard, step) };
    const pre = simulateBaseline(engine, {
      config: c, data: preData, init, slots: o.slots, innerSteps: o.pretrainSteps, rounds: 1, evalEvery: 1, evalBatches,
      inner: { ...inner, lr: preLr }, innerSchedule: { maxLr: preLr, minLr: preLr, warmupSteps: o.warmup, totalSteps: o.pretrainSteps },
    });
    init = pre.params;
    log(`pretrained ${o.pretrainSteps} steps: eval ${pre.evalLoss.toFixed(4)}`);
    plan = planDilocoRun(engine, {
      preset: o.preset, seed: o.seed, slots: o.slots, innerSteps: o.innerSteps, rounds: o.rounds, batch: o.batch, seqLen: o.seqLen,
      adamw: inner, schedule, outer: { lr: o.outerLr, momentum: o.momentum }, aggregate: { kind: 'mean' },
      replication: 1, quorumFraction: 1, roundDeadlineMs: 24 * 3_600_000, leaseMs: 300_000, evalWindows: 0, init, keepOpt: o.keepOpt, downlink,
    });
  }
  const initialEvalLoss = evaluate(engine, c, init, data, evalBatches);

  // 1. the single worker (its own lr when asked: each arm at its best is the fair comparison)
  const bLr = o.baselineLr ?? o.lr;
  let t = performance.now();
  const single = simulateBaseline(engine, {
    config: c, data, init, slots: o.slots, innerSteps: o.innerSteps, rounds: o.rounds, evalEvery: o.rounds, evalBatches,
    inner: { ...inner, lr: bLr }, innerSchedule: { ...schedule, maxLr: bLr, minLr: bLr * o.minLrRatio },
  });
  const singleSeconds = (performance.now() - t) / 1000;
  log(`single worker: eval ${single.evalLoss.toFixed(4)} in ${singleSeconds.toFixed(0)}s`);

  // 2. DiLoCo through the tracker
  const home = mkdtempSync(join(tmpdir(), 'swarm-bench-diloco-'));
  const children: ChildProcess[] = [];
  const tracker = await startTracker({ port: 0, host: '127.0.0.1', home, db: join(home, 'db') });
  try {
    const now = systemClock.now();
    for (const b of plan.blobs) await putBlob(tracker.db, b, undefined, { now });
    await tracker.runs.create(tracker.key.keyId, 'bench', plan.spec);
    t = performance.now();
    for (let i = 0; i < o.providers; i++) {
      const child = spawn(process.execPath, [BIN, 'provide', '--tracker', tracker.url, '--threads', '1', '--json', '--name', `bench-${i}`], {
        env: { ...process.env, SWARM_HOME: join(home, `p${i}`) },
        stdio: 'ignore',
      });
      children.push(child);
    }
    let view: RunView;
    let last = -1;
    for (;;) {
      view = await tracker.runs.get('bench');
      if (view.progress.history.length !== last) {
        last = view.progress.history.length;
        log(`diloco: round ${last}/${o.rounds} closed`);
      }
      if (view.progress.status === 'finished') break;
      if (view.progress.status !== 'training') throw new Error(`the run ${view.progress.status}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const dilocoSeconds = (performance.now() - t) / 1000;
    const theta = decodeParamsBlob((await getBlob(tracker.db, view.progress.params)).bytes, c);
    const dilocoEvalLoss = evaluate(engine, c, theta, data, evalBatches);
    const verified = await tracker.db.query<{ n: string }>(`SELECT count(*) AS n FROM replicas WHERE verdict = 'valid'`);
    const dilocoBytes = view.progress.history.reduce((a, r) => a + r.bytesDown + r.bytesUp, 0);
    const dilocoBytesOneReplica = view.progress.history.reduce((a, r) => a + (r.bytesOneReplica ?? 0), 0);
    // DDP moves gradients every step and the same data; count the data once per worker-round like DiLoCo's shards
    const shardBytes = plan.blobs.length > 0 ? (await tracker.db.query<{ size: string }>('SELECT size FROM blobs WHERE sha256 = $1', [view.spec.shards[0]![0]!]))[0]!.size : '0';
    const ddpBytes = ddpRunBytes({ workers: o.slots, paramCount: theta.length, steps: o.innerSteps * o.rounds }).total + o.slots * o.rounds * Number(shardBytes);
    return {
      preset: o.preset,
      slots: o.slots,
      innerSteps: o.innerSteps,
      rounds: o.rounds,
      tokens: o.slots * o.innerSteps * o.rounds * o.batch * o.seqLen,
      pretrainSteps: o.pretrainSteps,
      pretrainLr: preLr,
      initialEvalLoss,
      singleLr: bLr,
      dilocoLr: o.lr,
      singleEvalLoss: single.evalLoss,
      dilocoEvalLoss,
      lossRatio: dilocoEvalLoss / single.evalLoss,
      dilocoBytes,
      dilocoBytesOneReplica,
      ddpBytes,
      commRatio: ddpBytes / dilocoBytesOneReplica,
      commRatioWithReplicas: ddpBytes / dilocoBytes,
      keepOpt: o.keepOpt,
      downlink,
      unitsVerified: Number(verified[0]!.n),
      checkpointSha256: view.progress.state,
      dilocoSeconds,
      singleSeconds,
    };
  } finally {
    for (const ch of children) ch.kill('SIGKILL');
    await tracker.close();
    rmSync(home, { recursive: true, force: true });
  }
}
