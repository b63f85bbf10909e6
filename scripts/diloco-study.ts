/**
 * DiLoCo hyper-parameter study (issue 7): DiLoCo with K slots and H inner
 * steps against DiLoCo's baseline (one AdamW worker, batch K·B, H·R steps,
 * the same tokens), in process (src/train/diloco/simulate.ts), plus the
 * communication ratio against synchronous data parallelism (comms.ts).
 *
 *   npx tsx scripts/diloco-study.ts --preset nano --slots 4 --inner-steps 50 --rounds 6 \
 *     --batch 4 --seq-len 64 --inner-lr 3e-3 --warmup 20 --outer-lr 0.7 --momentum 0.9 \
 *     [--aggregate mean|trimmed-mean|centered-clip] [--baseline-cache DIR] [--no-baseline]
 *     [--pretrain-steps P] [--baseline-only] [--diloco-inner-lr X] [--pretrain-lr X]
 *     [--outer-warmup W] [--outer-first-lr X] [--diagnose]
 *
 * --diloco-inner-lr sets the DiLoCo arm's inner peak lr apart from the
 * baseline's --inner-lr; --pretrain-lr fixes the pretraining lr (default
 * --inner-lr) so that arms at another lr still start from the same θ_0.
 * --outer-warmup W ramps the outer lr over the first W rounds (outer.ts
 * outerWarmup); --outer-first-lr X uses outer lr X for the first round only.
 * --diagnose runs the DiLoCo arm's loop written out and prints, per round, the
 * slots' own eval losses, the loss along θ_r − s·mean(Δ) for s = 0.5…2 and the
 * mean cosine between the slots' deltas.
 *
 * --pretrain-steps P starts both arms from a shared checkpoint: P steps of one
 * AdamW worker with batch K·B (constant lr after a 20-step warm-up) on shards
 * no arm reads later, as the DiLoCo paper starts from a pretrained model
 * (arXiv 2311.08105 §3: 24k pretraining steps before DiLoCo).
 *
 * Prints one JSON line. The baseline does not depend on the outer settings,
 * so --baseline-cache DIR keeps it between runs.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createEngine } from '../src/cli/engine.ts';
import { Prng } from '../src/core/prng.ts';
import { initParams, paramList, paramShapes } from '../src/model/llama.ts';
import { DILOCO_INNER } from '../src/train/adamw.ts';
import type { RoundAggregate } from '../src/train/diloco/checkpoint.ts';
import { compareComms } from '../src/train/diloco/comms.ts';
import { rowLengths } from '../src/train/diloco/quantize.ts';
import { simulateBaseline, simulateDiloco } from '../src/train/diloco/simulate.ts';
import type { SimCommon } from '../src/train/diloco/simulate.ts';
import { setupRun } from '../src/train/run-setup.ts';
import { concatFlat, initFlatAdam, runTrainUnit } from '../src/train/unit.ts';
import type { FlatAdamState } from '../src/train/unit.ts';
import { evaluate, toBatch } from '../src/train/local-trainer.ts';
import { modelConstants } from '../src/model/llama.ts';
import { initGlobalState, outerRound } from '../src/train/diloco/checkpoint.ts';
import { outerDelta, outerWarmup } from '../src/train/diloco/outer.ts';
import type { OuterOptions } from '../src/train/diloco/outer.ts';
import { dequantizeRows, quantizeRows } from '../src/train/diloco/quantize.ts';

const { values: a } = parseArgs({
  options: {
    preset: { type: 'string', default: 'nano' },
    seed: { type: 'string', default: '1' },
    slots: { type: 'string', default: '4' },
    'inner-steps': { type: 'string', default: '50' },
    rounds: { type: 'string', default: '6' },
    batch: { type: 'string', default: '4' },
    'seq-len': { type: 'string', default: '64' },
    'inner-lr': { type: 'string', default: '3e-3' },
    'diloco-inner-lr': { type: 'string' },
    'pretrain-lr': { type: 'string' },
    'min-lr-ratio': { type: 'string', default: '0.1' },
    warmup: { type: 'string', default: '20' },
    'outer-lr': { type: 'string', default: '0.7' },
    momentum: { type: 'string', default: '0.9' },
    'outer-warmup': { type: 'string', default: '0' },
    'outer-first-lr': { type: 'string' },
    aggregate: { type: 'string', default: 'mean' },
    downlink: { type: 'string', default: 'f32' },
    'eval-windows': { type: 'string', default: '320' },
    threads: { type: 'string', default: '1' },
    'baseline-cache': { type: 'string' },
    'pretrain-steps': { type: 'string', default: '0' },
    'no-baseline': { type: 'boolean', default: false },
    'baseline-only': { type: 'boolean', default: false },
    diagnose: { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
  },
});

const num = (k: keyof typeof a): number => Number(a[k]);
const K = num('slots'), H = num('inner-steps'), R = num('rounds'), B = num('batch'), T = num('seq-len');
const lr = num('inner-lr');
// The DiLoCo arm's inner peak lr (default: the baseline's); the pretraining lr (default: the baseline's).
const dlr = a['diloco-inner-lr'] === undefined ? lr : Number(a['diloco-inner-lr']);
const plr = a['pretrain-lr'] === undefined ? lr : Number(a['pretrain-lr']);
const setup = setupRun({ preset: a.preset!, seed: num('seed'), batchSize: B, seqLen: T, evalWindows: num('eval-windows') });
const c = setup.config;
const engine = await createEngine('wasm', num('threads'));
const log = (s: string) => {
  if (!a.quiet) process.stderr.write(`${s}\n`);
};
let init = concatFlat(paramList(initParams(engine, c, Prng.fromSeed(num('seed')).fork('init'))));
const P = num('pretrain-steps');
if (P > 0) {
  const key = `pre-${a.preset}-s${a.seed}-K${K}-B${B}-T${T}-lr${plr}-P${P}.f32`;
  const file = a['baseline-cache'] ? join(a['baseline-cache'], key) : null;
  if (file && existsSync(file)) {
    const b = readFileSync(file);
    init = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  } else {
    // shards 1e6 + … are disjoint from the shards r·K + k both arms read afterwards
    const preData = { ...setup.data, batch: (shard: number, step: number) => setup.data.batch(1_000_000 + shard, step) };
    const pre = simulateBaseline(engine, {
      config: c, data: preData, init, slots: K, innerSteps: P, rounds: 1, evalEvery: 1,
      inner: { ...DILOCO_INNER, lr: plr }, innerSchedule: { maxLr: plr, minLr: plr, warmupSteps: 20, totalSteps: P },
    });
    log(`pretrained ${P} steps: eval ${pre.evalLoss.toFixed(4)}`);
    init = pre.params;
    if (file) {
      mkdirSync(a['baseline-cache']!, { recursive: true });
      writeFileSync(file, new Uint8Array(init.buffer, init.byteOffset, init.byteLength));
    }
  }
}
const common: SimCommon = {
  config: c,
  data: setup.data,
  init,
  slots: K,
  innerSteps: H,
  rounds: R,
  inner: { ...DILOCO_INNER, lr },
  innerSchedule: { maxLr: lr, minLr: lr * num('min-lr-ratio'), warmupSteps: num('warmup'), totalSteps: H * R },
};

const t0 = performance.now();
let baseline: { evalLoss: number; curve: (number | null)[]; seconds: number } | null = null;
if (!a['no-baseline']) {
  const key = `${a.preset}-P${P}${plr === lr ? '' : `-plr${plr}`}-s${a.seed}-K${K}-H${H}-R${R}-B${B}-T${T}-lr${lr}-min${a['min-lr-ratio']}-w${a.warmup}-ev${a['eval-windows']}.json`;
  const file = a['baseline-cache'] ? join(a['baseline-cache'], key) : null;
  if (file && existsSync(file)) baseline = JSON.parse(readFileSync(file, 'utf8')) as typeof baseline;
  else {
    const t = performance.now();
    const b = simulateBaseline(engine, { ...common, onRound: (r) => log(`baseline round ${r.round} train ${r.trainLoss.toFixed(4)} eval ${r.evalLoss?.toFixed(4)}`) });
    baseline = { evalLoss: b.evalLoss, curve: b.rounds.map((r) => r.evalLoss), seconds: (performance.now() - t) / 1000 };
    if (file) {
      mkdirSync(a['baseline-cache']!, { recursive: true });
      writeFileSync(file, JSON.stringify(baseline));
    }
  }
}

if (a['baseline-only']) {
  process.stdout.write(`${JSON.stringify({ preset: a.preset, pretrainSteps: P, pretrainLr: plr, K, H, R, B, T, innerLr: lr, baselineEval: baseline?.evalLoss, baselineCurve: baseline?.curve })}\n`);
  process.exit(0);
}

if (a.diagnose) {
  // --diagnose: the DiLoCo arm's loop, written out, scoring per round the slots'
  // own parameters and points on the line θ_r − s·mean(Δ) (s = 0.5, 1, 1.5, 2),
  // to see where averaging loses progress.
  const consts = modelConstants(engine, c);
  const rowsL = rowLengths(paramShapes(c).map(([, sh]) => sh));
  const opts: FlatAdamState[] = Array.from({ length: K }, () => initFlatAdam(init.length));
  let state = initGlobalState(init);
  const ev = (p: Float32Array) => evaluate(engine, c, p, setup.data, Infinity, consts);
  const sched = { maxLr: dlr, minLr: dlr * num('min-lr-ratio'), warmupSteps: num('warmup'), totalSteps: H * R };
  for (let r = 0; r < R; r++) {
    const deltas: Float32Array[] = [];
    const slotEval: number[] = [];
    for (let k = 0; k < K; k++) {
      const out = runTrainUnit(engine, {
        config: c, params: state.theta, opt: opts[k]!, steps: H, adamw: { ...DILOCO_INNER, lr: dlr }, schedule: sched,
        batchAt: (st) => toBatch(setup.data.batch(r * K + k, st), setup.data.seqLen),
      }, consts);
      opts[k] = out.opt;
      slotEval.push(ev(out.params));
      deltas.push(dequantizeRows(quantizeRows(outerDelta(state.theta, out.params), rowsL), rowsL));
    }
    const avg = new Float32Array(init.length);
    for (const dd of deltas) for (let i = 0; i < avg.length; i++) avg[i] = avg[i]! + dd[i]! / K;
    const line: Record<string, number> = {};
    for (const sc of [0.5, 1, 1.5, 2]) line[`s${sc}`] = ev(state.theta.map((t, i) => t - sc * avg[i]!));
    // cosine between slots' deltas: how much of each Δ_k is shared
    const dot = (x: Float32Array, y: Float32Array) => x.reduce((acc, v, i) => acc + v * y[i]!, 0);
    let cs = 0, np = 0;
    for (let i = 0; i < K; i++) for (let j = i + 1; j < K; j++) { cs += dot(deltas[i]!, deltas[j]!) / Math.sqrt(dot(deltas[i]!, deltas[i]!) * dot(deltas[j]!, deltas[j]!)); np++; }
    state = outerRound(state, deltas, { outer: { lr: num('outer-lr'), momentum: num('momentum') }, aggregate: { kind: 'mean' } }).state;
    const after = ev(state.theta);
    process.stdout.write(`${JSON.stringify({ round: r + 1, slotEval, slotMean: slotEval.reduce((x, y) => x + y, 0) / K, line, after, meanCos: cs / np, baseline: baseline?.curve[r] ?? null })}\n`);
  }
  process.exit(0);
}

const aggregate: RoundAggregate =
  a.aggregate === 'trimmed-mean' ? { kind: 'trimmed-mean', trim: 0.25 }
    : a.aggregate === 'centered-clip' ? { kind: 'centered-clip', tau: 1, iterations: 3, center: 'momentum' }
      : { kind: 'mean' };
// --outer-warmup W ramps the outer lr over the first W rounds (outer.ts outerWarmup);
// --outer-first-lr X uses lr X (same momentum) for the first outer step only.
const outerBase: OuterOptions = { lr: num('outer-lr'), momentum: num('momentum') };
const W = num('outer-warmup');
const firstLr = a['outer-first-lr'] === undefined ? null : Number(a['outer-first-lr']);
const outerAt = W > 0 || firstLr !== null
  ? (r: number): OuterOptions => (r === 0 && firstLr !== null ? { lr: firstLr, momentum: outerBase.momentum } : W > 0 ? outerWarmup(outerBase, W, r) : outerBase)
  : undefined;
const t1 = performance.now();
const d = simulateDiloco(engine, {
  ...common,
  ...(outerAt ? { outerAt } : {}),
  inner: { ...DILOCO_INNER, lr: dlr },
  innerSchedule: { maxLr: dlr, minLr: dlr * num('min-lr-ratio'), warmupSteps: num('warmup'), totalSteps: H * R },
  outer: { lr: num('outer-lr'), momentum: num('momentum') },
  aggregate,
  downlink: a.downlink === 'int8' ? 'int8' : 'f32',
  onRound: (r) => log(`diloco round ${r.round} train ${r.trainLoss.toFixed(4)} eval ${r.evalLoss?.toFixed(4)}`),
});
const dilocoSeconds = (performance.now() - t1) / 1000;

const rows = rowLengths(paramShapes(c).map(([, sh]) => sh)).length;
const comms = (adamMoves: boolean) => compareComms({ slots: K, innerSteps: H, rounds: R, paramCount: init.length, rows, adamMoves, downlink: a.downlink === 'int8' ? 'int8' : 'f32' }).ratio;
const report = {
  preset: a.preset, params: init.length, pretrainSteps: P, pretrainLr: plr, K, H, R, B, T, innerLr: lr, dilocoInnerLr: dlr, warmup: num('warmup'), outerLr: num('outer-lr'), momentum: num('momentum'), outerWarmup: W, outerFirstLr: firstLr, aggregate: a.aggregate, downlink: a.downlink,
  dilocoEval: d.evalLoss,
  baselineEval: baseline?.evalLoss ?? null,
  ratio: baseline ? d.evalLoss / baseline.evalLoss : null,
  dilocoCurve: d.rounds.map((r) => r.evalLoss),
  baselineCurve: baseline?.curve ?? null,
  entropyFloor: setup.entropyFloor,
  commRatioKeepAdam: comms(false),
  commRatioMoveAdam: comms(true),
  stateSha256: d.stateSha256,
  dilocoSeconds,
  baselineSeconds: baseline?.seconds ?? null,
  wallSeconds: (performance.now() - t0) / 1000,
};
process.stdout.write(`${JSON.stringify(report)}\n`);
engine.backend.close?.();
process.exit(0);
