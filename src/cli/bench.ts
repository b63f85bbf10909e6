/**
 * `swarm bench ...`: speed measured as ratios against a reference run in the
 * same process (wasm vs ref) and, when python3 with numpy is on the machine,
 * against numpy/OpenBLAS single-threaded (the yardstick; numpy is not
 * a dependency). One JSON object per line with --json.
 */
import type { Command } from 'commander';
import { runMatmulBench } from '../tensor/bench/matmul.ts';
import { defaultThreads } from './engine.ts';
import { parseChoice, parseChoiceList, parseIntList, parsePositiveInt, parsePositiveNumber } from './flags.ts';
import { numpyMatmulGflops } from './numpy-reference.ts';
import { benchTrain } from './bench-train.ts';
import { benchLedger } from './bench-ledger.ts';
import { benchTracker } from './bench-tracker.ts';
import { benchDiloco } from './bench-diloco.ts';
import { registerBenchServe } from './serve.ts';

type Shape3 = [number, number, number];
const DEFAULT_SHAPES: Shape3[] = [[128, 128, 128], [256, 256, 256], [512, 512, 512], [1024, 1024, 1024], [512, 256, 1024]];

interface MatmulFlags {
  json?: boolean;
  backends: Array<'ref' | 'wasm'>;
  threads?: number[];
  sizes?: number[];
  minSeconds: number;
  numpy: boolean;
}

async function benchMatmul(o: MatmulFlags): Promise<void> {
  const threads = o.threads ?? [...new Set([1, defaultThreads()])];
  const shapes: Shape3[] = o.sizes ? o.sizes.map((s) => [s, s, s]) : DEFAULT_SHAPES;
  const out = (row: object) => process.stdout.write(o.json ? `${JSON.stringify(row)}\n` : `${fmt(row)}\n`);
  const rows: Array<{ backend: string; threads: number; m: number; k: number; n: number; gflops: number }> = [];
  await runMatmulBench({ backends: o.backends, threads, shapes, minSeconds: o.minSeconds }, (row) => {
    rows.push(row);
    out(row);
  });
  for (const s of shapes) {
    const one = rows.find((x) => x.backend === 'wasm' && x.threads === 1 && x.m === s[0] && x.k === s[1] && x.n === s[2]);
    for (const many of rows.filter((x) => x.backend === 'wasm' && x.threads > 1 && x.m === s[0] && x.k === s[1] && x.n === s[2])) {
      if (one) out({ op: 'matmul-scaling', threads: many.threads, m: s[0], k: s[1], n: s[2], speedup: many.gflops / one.gflops });
    }
  }
  if (!o.numpy) return;
  const np = numpyMatmulGflops(shapes, o.minSeconds);
  if (np === null) {
    process.stderr.write('swarm bench: python3 with numpy not found; skipping the numpy reference\n');
    return;
  }
  for (const r of np) {
    out({ op: 'matmul', backend: 'numpy', threads: 1, m: r.m, k: r.k, n: r.n, gflops: r.gflops });
    const w1 = rows.find((x) => x.backend === 'wasm' && x.threads === 1 && x.m === r.m && x.k === r.k && x.n === r.n);
    if (w1) out({ op: 'matmul-ratio', of: 'wasm/numpy', threads: 1, m: r.m, k: r.k, n: r.n, ratio: w1.gflops / r.gflops });
  }
}

/** Batch shapes per preset: the defaults of swarm train --local. */
const TRAIN_SHAPES: Record<string, [number, number]> = { nano: [16, 64], micro: [16, 64], small: [8, 128] };

async function benchTrainAll(presets: string[], steps: number, json: boolean): Promise<void> {
  const out = (row: object) => process.stdout.write(json ? `${JSON.stringify(row)}\n` : `${fmt(row)}\n`);
  const all = defaultThreads();
  for (const p of presets) {
    const [b, t] = TRAIN_SHAPES[p]!;
    const rows = [];
    for (const threads of [...new Set([1, all])]) {
      const row = await benchTrain(p, threads, steps, b, t);
      rows.push(row);
      out(row);
    }
    if (rows.length > 1) out({ op: 'train-scaling', preset: p, threads: all, speedup: rows[1]!.tokensPerSecond / rows[0]!.tokensPerSecond });
  }
}

function fmt(row: object): string {
  return Object.entries(row)
    .map(([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(3) : String(v)}`)
    .join(' ');
}

export function registerBench(program: Command): void {
  const bench = program.command('bench').description('benchmarks (speed as ratios against a reference measured in the same run)');
  registerBenchServe(bench);
  const addMatmulFlags = (c: Command) =>
    c
      .option('--json', 'one JSON object per line')
      .option('--backends <list>', 'comma-separated backends', parseChoiceList('--backends', ['ref', 'wasm'] as const), ['ref', 'wasm'])
      .option('--threads <list>', 'comma-separated thread counts for wasm (default: 1 and all cores)', parseIntList('--threads', 256))
      .option('--sizes <list>', 'square sizes instead of the default set (128,256,512,1024 and 512x256x1024)', parseIntList('--sizes', 8192))
      .option('--min-seconds <s>', 'measure each case for at least this long', parsePositiveNumber('--min-seconds'), 0.5)
      .option('--no-numpy', 'skip the numpy/OpenBLAS reference even if python3 has numpy');
  addMatmulFlags(bench.command('matmul').description('matmul GFLOP/s for ref and wasm (1..N threads), and the ratio to numpy single-thread')).action(benchMatmul);
  bench
    .command('train')
    .description('training tokens/s of micro and small (wasm), matmul share of step time, and thread speed-up against one thread')
    .option('--json', 'one JSON object per line')
    .option('--presets <list>', 'comma-separated presets', parseChoiceList('--presets', ['nano', 'micro', 'small'] as const), ['micro', 'small'])
    .option('--steps <n>', 'timed steps per case', parseIntList('--steps', 10_000), [3])
    .action(async (o: { json?: boolean; presets: string[]; steps: number[] }) => benchTrainAll(o.presets, o.steps[0]!, o.json === true));
  bench
    .command('ledger')
    .description('ledger Merkle log: appends/s (hash + tree, batched in memory) and proof times at 1,000,000 entries')
    .option('--json', 'one JSON object')
    .option('--entries <n>', 'leaves in the log', parsePositiveInt('--entries', 1 << 26), 1_000_000)
    .option('--proofs <n>', 'proofs of each kind timed', parsePositiveInt('--proofs', 1_000_000), 1000)
    .action((o: { json?: boolean; entries: number; proofs: number }) => {
      const r = benchLedger({ entries: o.entries, proofs: o.proofs });
      process.stdout.write(o.json ? `${JSON.stringify(r)}\n` : `${fmt(r)}\n`);
    });
  bench
    .command('tracker')
    .description('tracker over loopback HTTP with simulated providers: assignments/s, submissions/s, p99 latency')
    .option('--json', 'one JSON object')
    .option('--db <url>', 'postgres://… (its public schema is wiped); default: a fresh PGlite in a temp directory')
    .option('--providers <n>', 'simulated providers working at once', parsePositiveInt('--providers', 4096), 32)
    .option('--units <n>', 'units in the queue (each is assigned and submitted twice)', parsePositiveInt('--units', 1_000_000), 1000)
    .option('--load-threads <n>', 'worker threads the simulated providers run on (the tracker keeps the main one)', parsePositiveInt('--load-threads', 64), 1)
    .action(async (o: { json?: boolean; db?: string; providers: number; units: number; loadThreads: number }) => {
      const r = await benchTracker({
        providers: o.providers,
        units: o.units,
        loadThreads: o.loadThreads,
        ...(o.db === undefined ? {} : { db: o.db }),
        onProgress: (done, total) => {
          if (!o.json && process.stderr.isTTY && done % 50 === 0) process.stderr.write(`\rswarm bench tracker: ${done}/${total} submissions`);
        },
      });
      if (!o.json && process.stderr.isTTY) process.stderr.write('\n');
      process.stdout.write(o.json === true ? `${JSON.stringify(r)}\n` : `${fmt({ op: 'tracker', ...r })}\n`);
    });

  bench
    .command('diloco')
    .description('the same tokens twice: one AdamW worker (batch K·B) vs DiLoCo (K slots × H steps) through the tracker; eval losses, their ratio, bytes moved vs synchronous data parallelism')
    .option('--json', 'one JSON object')
    .option('--preset <name>', 'model preset', 'nano')
    .option('--slots <n>', 'K', parsePositiveInt('--slots', 64), 4)
    .option('--inner-steps <n>', 'H', parsePositiveInt('--inner-steps', 100_000), 50)
    .option('--rounds <n>', 'R (48: DiLoCo needs rounds to close the gap; 6 rounds leave it at ~6 %)', parsePositiveInt('--rounds', 10_000), 48)
    .option('--batch <n>', 'rows per inner step per slot (B)', parsePositiveInt('--batch', 4096), 4)
    .option('--seq-len <n>', 'tokens per row', parsePositiveInt('--seq-len', 8192), 64)
    .option('--lr <x>', 'DiLoCo\'s inner AdamW peak learning rate (4.2e-3: the better of 3e-3 and 4.2e-3 at 48 rounds)', parsePositiveNumber('--lr'), 4.2e-3)
    .option('--baseline-lr <x>', 'the single worker\'s peak learning rate (6e-3: its best of 2.1e-3 … 8.5e-3 at 48 rounds; each arm at its own best)', parsePositiveNumber('--baseline-lr'), 6e-3)
    .option('--pretrain-lr <x>', 'learning rate of the shared pretraining, so θ_0 does not depend on the arms\' lrs', parsePositiveNumber('--pretrain-lr'), 3e-3)
    .option('--warmup <n>', 'inner warm-up steps', (v: string) => (v === '0' ? 0 : parsePositiveInt('--warmup', 1_000_000)(v)), 20)
    .option('--min-lr-ratio <x>', 'cosine floor as a fraction of the peak', parsePositiveNumber('--min-lr-ratio'), 0.1)
    .option('--outer-lr <x>', 'outer Nesterov learning rate (0.85: the best of a sweep at nano; the paper\'s 0.7 ends 0.7 points worse at R=6)', parsePositiveNumber('--outer-lr'), 0.85)
    .option('--momentum <x>', 'outer momentum', parsePositiveNumber('--momentum'), 0.9)
    .option('--pretrain-steps <n>', 'steps of one worker before both arms (DiLoCo starts from a pretrained model)', (v: string) => (v === '0' ? 0 : parsePositiveInt('--pretrain-steps', 1_000_000)(v)), 300)
    .option('--providers <n>', 'provider processes', parsePositiveInt('--providers', 64), 2)
    .option('--eval-windows <n>', 'evaluation windows', parsePositiveInt('--eval-windows', 100_000), 320)
    .option('--seed <n>', 'seed', parsePositiveInt('--seed', 2 ** 32 - 1), 1)
    .option('--move-opt', 'move each slot\'s AdamW state through the tracker every round instead of keeping it with its providers')
    .option('--downlink <kind>', 'how θ goes down each round: int8 (an update with error feedback, applied by providers holding the previous θ) or f32 (θ whole)', parseChoice('--downlink', ['int8', 'f32'] as const), 'int8')
    .action(async (o: { moveOpt?: boolean; downlink: 'int8' | 'f32'; json?: boolean; preset: string; slots: number; innerSteps: number; rounds: number; batch: number; seqLen: number; lr: number; baselineLr: number; pretrainLr: number; warmup: number; minLrRatio: number; outerLr: number; momentum: number; pretrainSteps: number; providers: number; evalWindows: number; seed: number }) => {
      const r = await benchDiloco({ ...o, keepOpt: o.moveOpt !== true, log: (s) => process.stderr.write(`swarm bench diloco: ${s}\n`) });
      process.stdout.write(o.json === true ? `${JSON.stringify(r)}\n` : `${fmt({ op: 'diloco', ...r })}\n`);
    });

  addMatmulFlags(bench.command('all').description('every benchmark (for `npm run bench`)')).action(async (o: MatmulFlags) => {
    await benchMatmul(o);
    await benchTrainAll(['micro', 'small'], 3, o.json === true);
    const ledger = benchLedger();
    process.stdout.write(o.json === true ? `${JSON.stringify({ op: 'ledger', ...ledger })}\n` : `${fmt({ op: 'ledger', ...ledger })}\n`);
  });
}
