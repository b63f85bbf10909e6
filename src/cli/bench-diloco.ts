/**
 * `swarm bench diloco --json` (issue 7, "Quality at low communication"; made
 * fair by issue 23): the same preset trained on the same tokens by
 *   1. DiLoCo's baseline: one AdamW worker, batch K·B, H·R steps
 *      (Douillard et al., arXiv 2311.08105 §3 compares against exactly this);
 *   2. DiLoCo with K slots and H inner steps,
 * both from the same θ_0 (optionally pretrained, as the paper starts DiLoCo
 * from a pretrained model), both scored by the same evaluation on the same
 * windows.
 *
 * Neither side is favoured: the single worker is trained at every peak lr of
 * a log-spaced sweep around DiLoCo's inner lr (default ×2^{−1, −½, 0, ½, 1}),
 * and DiLoCo at every outer lr of its own sweep; the reported ratio is best
 * against best, and both sweeps are in the JSON (`baselineSweep`,
 * `outerSweep`). DiLoCo's sweep runs in this process (simulate.ts: the same
 * pure units, quantization and outer step the tracker runs); the best outer
 * lr then runs THROUGH THE TRACKER (an embedded tracker, provider processes,
 * quorum-verified units, the outer step on the tracker) and its checkpoint
 * must equal the simulation's bit for bit (`trackerMatchesSimulation`), so
 * the in-process figures are the swarm's figures.
 *
 * Traffic: the bytes providers actually moved (counted from the blobs of
 * every verified replica), DiLoCo's own figure (one replica per slot, no
 * verification copies and no AdamW-state upload made only for them), and
 * the bytes synchronous data parallelism would have moved for the same
 * tokens (ring all-reduce of f32 gradients every step, comms.ts).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { systemClock } from '../core/clock.ts';
import { sleep } from '../core/sleep.ts';
import { DILOCO_INNER } from '../train/adamw.ts';
import { ddpRunBytes } from '../train/diloco/comms.ts';
import { planDilocoRun } from '../train/diloco/plan.ts';
import { simulateBaseline, simulateDiloco } from '../train/diloco/simulate.ts';
import { evaluate } from '../train/local-trainer.ts';
import { decodeParamsBlob } from '../train/work/params-blob.ts';
import { getBlob, putBlob } from '../tracker/storage/blobs.ts';
import type { RunView } from '../tracker/runs/diloco.ts';
import { createEngine } from './engine.ts';
import { startTracker } from './tracker.ts';

const BIN = fileURLToPath(new URL('../../bin/swarm.mjs', import.meta.url));

/** DiLoCo's outer lrs tried by default: around the nano sweep's best (0.85), with the paper's 0.7. */
export const DEFAULT_OUTER_LRS: readonly number[] = [0.5, 0.7, 0.85, 1.0];

/** `n` learning rates log-spaced around `center`, a factor `ratio` apart (default: 5 values, ×√2 apart, ×½ … ×2). */
export function logSweep(center: number, n = 5, ratio = Math.SQRT2): number[] {
  const mid = (n - 1) / 2;
  return Array.from({ length: n }, (_, i) => Number((center * ratio ** (i - mid)).toPrecision(3)));
}

export interface SweepPoint {
  lr: number;
  loss: number;
}

/** Whether a sweep's best point is its lowest or highest lr: the optimum may lie outside, so widen the sweep. */
export function bestAtEdge(sweep: readonly SweepPoint[]): boolean {
  const lrs = sweep.map((p) => p.lr);
  const best = bestOf(sweep).lr;
  return sweep.length > 1 && (best === Math.min(...lrs) || best === Math.max(...lrs));
}

/** The sweep point with the lowest loss (the first of equals). */
export function bestOf(sweep: readonly SweepPoint[]): SweepPoint {
  if (sweep.length === 0) throw new Error('an empty sweep has no best point');
  return sweep.reduce((b, p) => (p.loss < b.loss ? p : b));
}

export interface BenchDilocoOptions {
  preset: string;
  slots: number;
  innerSteps: number;
  rounds: number;
  batch: number;
  seqLen: number;
  /** DiLoCo's inner AdamW peak lr */
  lr: number;
  /** the single worker's peak lrs to try (default: logSweep(lr)) */
  baselineLrs?: readonly number[];
  /** DiLoCo's outer Nesterov lrs to try (default: DEFAULT_OUTER_LRS) */
  outerLrs?: readonly number[];
  warmup: number;
  minLrRatio: number;
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
  /** the in-process engine, e.g. "native avx512" (metadata: every engine gives the same bits) */
  kernels: string;
  preset: string;
  slots: number;
  innerSteps: number;
  rounds: number;
  tokens: number;
  pretrainSteps: number;
  pretrainLr: number;
  initialEvalLoss: number;
  /** the single worker at each peak lr tried */
  baselineSweep: SweepPoint[];
  /** DiLoCo (in-process, same bits as the tracker) at each outer lr tried */
  outerSweep: SweepPoint[];
  /** the best lr of that sweep is one of its ends (the optimum may lie outside: widen the sweep) */
  baselineBestAtEdge: boolean;
  outerBestAtEdge: boolean;
  /** the best of each sweep */
  singleLr: number;
  dilocoLr: number;
  outerLr: number;
  singleEvalLoss: number;
  dilocoEvalLoss: number;
  /** dilocoEvalLoss / singleEvalLoss, best against best */
  lossRatio: number;
  /** the tracker's checkpoint equals the in-process simulation's at the best outer lr */
  trackerMatchesSimulation: boolean;
  /** bytes every verified replica moved (quorum copies included) */
  dilocoBytes: number;
  /** bytes of one replica per slot: DiLoCo's own communication */
  dilocoBytesOneReplica: number;
  ddpBytes: number;
  /** ddpBytes / dilocoBytesOneReplica: the algorithm's saving (the issue's yardstick) */
  commRatio: number;
  /** ddpBytes / dilocoBytes: with the verification copies */
  commRatioWithReplicas: number;
  keepOpt: boolean;
  downlink: 'int8' | 'f32';
  unitsVerified: number;
  checkpointSha256: string;
  /** wall time of the tracker run, of the single-worker sweep, of DiLoCo's in-process sweep */
  dilocoSeconds: number;
  singleSeconds: number;
  outerSweepSeconds: number;
}

export async function benchDiloco(o: BenchDilocoOptions): Promise<BenchDilocoResult> {
  const log = o.log ?? (() => undefined);
  const downlink = o.downlink ?? 'int8';
  const baselineLrs = o.baselineLrs ?? logSweep(o.lr);
  const outerLrs = o.outerLrs ?? DEFAULT_OUTER_LRS;
  if (baselineLrs.length === 0 || outerLrs.length === 0) throw new Error('each sweep needs at least one learning rate');
  const engine = await createEngine('auto', 2);
  const inner = { ...DILOCO_INNER, lr: o.lr };
  const schedule = { maxLr: o.lr, minLr: o.lr * o.minLrRatio, warmupSteps: o.warmup, totalSteps: o.innerSteps * o.rounds };
  const planFor = (init: Float32Array | undefined, outerLr: number) =>
    planDilocoRun(engine, {
      preset: o.preset, seed: o.seed, slots: o.slots, innerSteps: o.innerSteps, rounds: o.rounds, batch: o.batch, seqLen: o.seqLen,
      adamw: inner, schedule, outer: { lr: outerLr, momentum: o.momentum }, aggregate: { kind: 'mean' },
      replication: 1, quorumFraction: 1, roundDeadlineMs: 24 * 3_600_000, leaseMs: 300_000, evalWindows: 0, keepOpt: o.keepOpt, downlink,
      ...(init === undefined ? {} : { init }),
    });
  // The plan builds the corpus, θ_0 and the shards; its BatchSource is what every arm reads.
  const first = planFor(undefined, outerLrs[0]!);
  const data = first.setup.data;
  const c = first.setup.config;
  const evalBatches = Math.ceil(o.evalWindows / 16);
  let init = first.theta0;
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
  }
  const initialEvalLoss = evaluate(engine, c, init, data, evalBatches);

  // 1. the single worker at every lr of its sweep
  let t = performance.now();
  const baselineSweep: SweepPoint[] = [];
  for (const lr of baselineLrs) {
    const s = performance.now();
    const single = simulateBaseline(engine, {
      config: c, data, init, slots: o.slots, innerSteps: o.innerSteps, rounds: o.rounds, evalEvery: o.rounds, evalBatches,
      inner: { ...inner, lr }, innerSchedule: { ...schedule, maxLr: lr, minLr: lr * o.minLrRatio },
    });
    baselineSweep.push({ lr, loss: single.evalLoss });
    log(`single worker at lr ${lr}: eval ${single.evalLoss.toFixed(4)} in ${((performance.now() - s) / 1000).toFixed(0)}s`);
  }
  const singleSeconds = (performance.now() - t) / 1000;
  const single = bestOf(baselineSweep);

  // 2. DiLoCo in-process at every outer lr of its sweep (the same bits as a run through the tracker)
  t = performance.now();
  const outerSweep: SweepPoint[] = [];
  const simSha = new Map<number, string>();
  for (const lr of outerLrs) {
    const s = performance.now();
    const sim = simulateDiloco(engine, {
      config: c, data, init, slots: o.slots, innerSteps: o.innerSteps, rounds: o.rounds, evalEvery: o.rounds, evalBatches,
      inner, innerSchedule: schedule, outer: { lr, momentum: o.momentum }, aggregate: { kind: 'mean' }, downlink,
    });
    outerSweep.push({ lr, loss: sim.evalLoss });
    simSha.set(lr, sim.stateSha256);
    log(`diloco (in-process) at outer lr ${lr}: eval ${sim.evalLoss.toFixed(4)} in ${((performance.now() - s) / 1000).toFixed(0)}s`);
  }
  const outerSweepSeconds = (performance.now() - t) / 1000;
  const diloco = bestOf(outerSweep);
  for (const [name, sweep] of [['the single worker\'s lr', baselineSweep], ['DiLoCo\'s outer lr', outerSweep]] as const) {
    if (bestAtEdge(sweep)) log(`note: the best ${name} (${bestOf(sweep).lr}) is at the edge of its sweep; the optimum may lie outside it`);
  }

  // 3. the best outer lr through the tracker
  const plan = planFor(o.pretrainSteps > 0 ? init : undefined, diloco.lr);
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
        log(`diloco through the tracker (outer lr ${diloco.lr}): round ${last}/${o.rounds} closed`);
      }
      if (view.progress.status === 'finished') break;
      if (view.progress.status !== 'training') throw new Error(`the run ${view.progress.status}`);
      await sleep(500);
    }
    const dilocoSeconds = (performance.now() - t) / 1000;
    const theta = decodeParamsBlob((await getBlob(tracker.db, view.progress.params)).bytes, c);
    const trackerLoss = evaluate(engine, c, theta, data, evalBatches);
    const trackerMatchesSimulation = view.progress.state === simSha.get(diloco.lr) && trackerLoss === diloco.loss;
    if (!trackerMatchesSimulation) log(`WARNING: the tracker's checkpoint differs from the in-process simulation (eval ${trackerLoss} vs ${diloco.loss})`);
    const verified = await tracker.db.query<{ n: string }>(`SELECT count(*) AS n FROM replicas WHERE verdict = 'valid'`);
    const dilocoBytes = view.progress.history.reduce((a, r) => a + r.bytesDown + r.bytesUp, 0);
    const dilocoBytesOneReplica = view.progress.history.reduce((a, r) => a + (r.bytesOneReplica ?? 0), 0);
    // DDP moves gradients every step and the same data; count the data once per worker-round like DiLoCo's shards
    const shardBytes = plan.blobs.length > 0 ? (await tracker.db.query<{ size: string }>('SELECT size FROM blobs WHERE sha256 = $1', [view.spec.shards[0]![0]!]))[0]!.size : '0';
    const ddpBytes = ddpRunBytes({ workers: o.slots, paramCount: theta.length, steps: o.innerSteps * o.rounds }).total + o.slots * o.rounds * Number(shardBytes);
    const lossRatio = trackerLoss / single.loss;
    if (lossRatio > 1.03) log(`DiLoCo ends ${((lossRatio - 1) * 100).toFixed(1)} % above the tuned single worker: above the 3 % the paper's comparison allows`);
    return {
      kernels: `${engine.backend.name}${engine.backend.isa === undefined ? '' : ` ${engine.backend.isa}`}`,
      preset: o.preset,
      slots: o.slots,
      innerSteps: o.innerSteps,
      rounds: o.rounds,
      tokens: o.slots * o.innerSteps * o.rounds * o.batch * o.seqLen,
      pretrainSteps: o.pretrainSteps,
      pretrainLr: preLr,
      initialEvalLoss,
      baselineSweep,
      outerSweep,
      baselineBestAtEdge: bestAtEdge(baselineSweep),
      outerBestAtEdge: bestAtEdge(outerSweep),
      singleLr: single.lr,
      dilocoLr: o.lr,
      outerLr: diloco.lr,
      singleEvalLoss: single.loss,
      dilocoEvalLoss: trackerLoss,
      lossRatio,
      trackerMatchesSimulation,
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
      outerSweepSeconds,
    };
  } finally {
    for (const ch of children) ch.kill('SIGKILL');
    await tracker.close();
    rmSync(home, { recursive: true, force: true });
  }
}
