/**
 * DiLoCo hyper-parameter study (issue 7): DiLoCo with K slots and H inner
 * steps against DiLoCo's baseline (one AdamW worker, batch K·B, H·R steps,
 * the same tokens), in process (src/train/diloco/simulate.ts), plus the
 * communication ratio against synchronous data parallelism (comms.ts).
 *
 *   npx tsx scripts/diloco-study.ts --preset nano --slots 4 --inner-steps 50 --rounds 6 \
 *     --batch 4 --seq-len 64 --inner-lr 3e-3 --warmup 20 --outer-lr 0.7 --momentum 0.9 \
 *     [--aggregate mean|trimmed-mean|centered-clip] [--baseline-cache DIR] [--no-baseline]
 *     [--pretrain-steps P] [--baseline-only]
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
import { concatFlat } from '../src/train/unit.ts';

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
    'min-lr-ratio': { type: 'string', default: '0.1' },
    warmup: { type: 'string', default: '20' },
    'outer-lr': { type: 'string', default: '0.7' },
    momentum: { type: 'string', default: '0.9' },
    aggregate: { type: 'string', default: 'mean' },
    'eval-windows': { type: 'string', default: '320' },
    threads: { type: 'string', default: '1' },
    'baseline-cache': { type: 'string' },
    'pretrain-steps': { type: 'string', default: '0' },
    'no-baseline': { type: 'boolean', default: false },
    'baseline-only': { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
  },
});

const num = (k: keyof typeof a): number => Number(a[k]);
const K = num('slots'), H = num('inner-steps'), R = num('rounds'), B = num('batch'), T = num('seq-len');
const lr = num('inner-lr');
const setup = setupRun({ preset: a.preset!, seed: num('seed'), batchSize: B, seqLen: T, evalWindows: num('eval-windows') });
const c = setup.config;
const engine = await createEngine('wasm', num('threads'));
const log = (s: string) => {
  if (!a.quiet) process.stderr.write(`${s}\n`);
};
let init = concatFlat(paramList(initParams(engine, c, Prng.fromSeed(num('seed')).fork('init'))));
const P = num('pretrain-steps');
if (P > 0) {
  const key = `pre-${a.preset}-s${a.seed}-K${K}-B${B}-T${T}-lr${lr}-P${P}.f32`;
  const file = a['baseline-cache'] ? join(a['baseline-cache'], key) : null;
  if (file && existsSync(file)) {
    const b = readFileSync(file);
    init = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  } else {
    // shards 1e6 + … are disjoint from the shards r·K + k both arms read afterwards
    const preData = { ...setup.data, batch: (shard: number, step: number) => setup.data.batch(1_000_000 + shard, step) };
    const pre = simulateBaseline(engine, {
      config: c, data: preData, init, slots: K, innerSteps: P, rounds: 1, evalEvery: 1,
      inner: { ...DILOCO_INNER, lr }, innerSchedule: { maxLr: lr, minLr: lr, warmupSteps: 20, totalSteps: P },
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
  const key = `${a.preset}-P${P}-s${a.seed}-K${K}-H${H}-R${R}-B${B}-T${T}-lr${lr}-min${a['min-lr-ratio']}-w${a.warmup}-ev${a['eval-windows']}.json`;
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
  process.stdout.write(`${JSON.stringify({ preset: a.preset, pretrainSteps: P, K, H, R, B, T, innerLr: lr, baselineEval: baseline?.evalLoss, baselineCurve: baseline?.curve })}\n`);
  process.exit(0);
}

const aggregate: RoundAggregate =
  a.aggregate === 'trimmed-mean' ? { kind: 'trimmed-mean', trim: 0.25 }
    : a.aggregate === 'centered-clip' ? { kind: 'centered-clip', tau: 1, iterations: 3, center: 'momentum' }
      : { kind: 'mean' };
const t1 = performance.now();
const d = simulateDiloco(engine, {
  ...common,
  outer: { lr: num('outer-lr'), momentum: num('momentum') },
  aggregate,
  onRound: (r) => log(`diloco round ${r.round} train ${r.trainLoss.toFixed(4)} eval ${r.evalLoss?.toFixed(4)}`),
});
const dilocoSeconds = (performance.now() - t1) / 1000;

const rows = rowLengths(paramShapes(c).map(([, sh]) => sh)).length;
const comms = (adamMoves: boolean) => compareComms({ slots: K, innerSteps: H, rounds: R, paramCount: init.length, rows, adamMoves }).ratio;
const report = {
  preset: a.preset, params: init.length, pretrainSteps: P, K, H, R, B, T, innerLr: lr, warmup: num('warmup'), outerLr: num('outer-lr'), momentum: num('momentum'), aggregate: a.aggregate,
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
