/**
 * `swarm bench ...`: speed measured as ratios against a reference run in the
 * same process (wasm vs ref) and, when python3 with numpy is on the machine,
 * against numpy/OpenBLAS single-threaded (the yardstick; numpy is not
 * a dependency). One JSON object per line with --json.
 */
import type { Command } from 'commander';
import { runMatmulBench } from '../tensor/bench/matmul.ts';
import type { MatmulBenchRow } from '../tensor/bench/matmul.ts';
import { defaultThreads } from './engine.ts';
import { MAX_BATCH_UNITS } from '../protocol/schemas.ts';
import { parseChoice, parseChoiceList, parseIntList, parseNumberList, parsePositiveInt, parsePositiveNumber } from './flags.ts';
import { numpyMatmulGflops } from './numpy-reference.ts';
import { benchTrain, WARMUP_STEPS } from './bench-train.ts';
import type { TrainBenchRow } from './bench-train.ts';
import { TORCH_MISSING, TORCH_NETLIB, torchPython, torchTrainTokensPerSecond } from './torch-reference.ts';
import type { TorchTrainRow } from './torch-reference.ts';
import { nativeStatus } from '../tensor/native/backend.ts';
import { benchLedger } from './bench-ledger.ts';
import { benchBrowser } from './bench-browser.ts';
import { CHROMIUM_PATH } from './chromium.ts';
import { BENCH_PROTOCOLS, benchTracker } from './bench-tracker.ts';
import type { BenchProtocolChoice } from './bench-tracker.ts';
import { benchDiloco, DEFAULT_OUTER_LRS } from './bench-diloco.ts';
import { registerBenchServe } from './serve.ts';

type Shape3 = [number, number, number];
const DEFAULT_SHAPES: Shape3[] = [[128, 128, 128], [256, 256, 256], [512, 512, 512], [1024, 1024, 1024], [512, 256, 1024]];

interface MatmulFlags {
  json?: boolean;
  backends: Array<'ref' | 'wasm' | 'native'>;
  threads?: number[];
  sizes?: number[];
  minSeconds: number;
  numpy: boolean;
}

async function benchMatmul(o: MatmulFlags): Promise<void> {
  const threads = o.threads ?? [...new Set([1, defaultThreads()])];
  const shapes: Shape3[] = o.sizes ? o.sizes.map((s) => [s, s, s]) : DEFAULT_SHAPES;
  const out = (row: object) => process.stdout.write(o.json ? `${JSON.stringify(row)}\n` : `${fmt(row)}\n`);
  const rows: MatmulBenchRow[] = [];
  await runMatmulBench({ backends: o.backends, threads, shapes, minSeconds: o.minSeconds }, (row) => {
    rows.push(row);
    out(row);
  }, (why) => process.stderr.write(`swarm bench: skipping ${why}\n`));
  const same = (x: MatmulBenchRow, s: readonly number[]) => x.m === s[0] && x.k === s[1] && x.n === s[2];
  for (const s of shapes) {
    for (const [backend, isa] of [...new Set(rows.map((x) => `${x.backend}|${x.isa ?? ''}`))].map((v) => v.split('|') as [string, string])) {
      const mine = rows.filter((x) => x.backend === backend && (x.isa ?? '') === isa && same(x, s));
      const one = mine.find((x) => x.threads === 1);
      for (const many of mine.filter((x) => x.threads > 1)) {
        if (one) out({ op: 'matmul-scaling', backend, ...(isa === '' ? {} : { isa }), threads: many.threads, m: s[0], k: s[1], n: s[2], speedup: many.gflops / one.gflops });
      }
    }
    const wasm1 = rows.find((x) => x.backend === 'wasm' && x.threads === 1 && same(x, s));
    for (const nat of rows.filter((x) => x.backend === 'native' && x.threads === 1 && same(x, s))) {
      if (wasm1) out({ op: 'matmul-ratio', of: 'native/wasm', isa: nat.isa, threads: 1, m: s[0], k: s[1], n: s[2], ratio: nat.gflops / wasm1.gflops });
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
    for (const x of rows.filter((y) => y.backend !== 'ref' && y.threads === 1 && same(y, [r.m, r.k, r.n]))) {
      out({ op: 'matmul-ratio', of: `${x.backend}/numpy`, ...(x.isa === undefined ? {} : { isa: x.isa }), threads: 1, m: r.m, k: r.k, n: r.n, ratio: x.gflops / r.gflops });
    }
  }
}

/** Batch shapes per preset: the defaults of swarm train --local (issue 15's figures use --batch 8 --seq-len 128). */
const TRAIN_SHAPES: Record<string, [number, number]> = { nano: [16, 64], micro: [16, 64], small: [8, 128] };

interface TrainFlags {
  presets: string[];
  steps: number;
  json: boolean;
  backends: Array<'wasm' | 'native'>;
  /** override TRAIN_SHAPES for every engine and the torch reference */
  batch?: number;
  seqLen?: number;
  /** also run scripts/bench-torch.py, interleaved with ours */
  torch?: boolean;
}

async function benchTrainAll(o: TrainFlags): Promise<void> {
  const out = (row: object) => process.stdout.write(o.json ? `${JSON.stringify(row)}\n` : `${fmt(row)}\n`);
  const all = defaultThreads();
  const threadCounts = [...new Set([1, all])];
  const native = nativeStatus();
  if (o.backends.includes('native') && !native.available) process.stderr.write(`swarm bench: skipping native: ${native.reason}\n`);
  const usable = o.backends.filter((b) => b !== 'native' || native.available);
  let torch = o.torch === true;
  if (torch && torchPython() === null) {
    process.stderr.write(`swarm bench: ${TORCH_MISSING}\n`);
    torch = false;
  }
  let saidNetlib = false;
  for (const p of o.presets) {
    const b = o.batch ?? TRAIN_SHAPES[p]![0];
    const t = o.seqLen ?? TRAIN_SHAPES[p]![1];
    const rows: TrainBenchRow[] = [];
    const torchRows: TorchTrainRow[] = [];
    // Thread count outermost and torch right after our engines, so a change in
    // the machine's other load during the run hits both sides of each ratio alike.
    for (const threads of threadCounts) {
      for (const backend of usable) {
        const row = await benchTrain(p, threads, o.steps, b, t, backend);
        rows.push(row);
        out(row);
      }
      if (!torch) continue;
      try {
        const row = torchTrainTokensPerSecond({ preset: p, batch: b, seqLen: t, steps: o.steps, warmup: WARMUP_STEPS, threads });
        if (row !== null) {
          torchRows.push(row);
          out(row);
          if (row.blas === 'netlib' && !saidNetlib) process.stderr.write(`swarm bench: ${TORCH_NETLIB}\n`);
          saidNetlib ||= row.blas === 'netlib';
        }
      } catch (err) {
        process.stderr.write(`swarm bench: ${(err as Error).message}; skipping the PyTorch reference\n`);
        torch = false;
      }
    }
    for (const backend of usable) {
      const mine = rows.filter((r) => r.backend === backend);
      const one = mine.find((r) => r.threads === 1);
      for (const many of mine.filter((r) => r.threads > 1)) {
        if (one) out({ op: 'train-scaling', backend, preset: p, threads: many.threads, speedup: many.tokensPerSecond / one.tokensPerSecond });
      }
    }
    for (const nat of rows.filter((r) => r.backend === 'native')) {
      const w = rows.find((r) => r.backend === 'wasm' && r.threads === nat.threads);
      if (w) out({ op: 'train-ratio', of: 'native/wasm', isa: nat.isa, preset: p, threads: nat.threads, ratio: nat.tokensPerSecond / w.tokensPerSecond });
    }
    for (const r of rows) {
      const ref = torchRows.find((x) => x.threads === r.threads);
      if (ref) out({ op: 'train-ratio', of: `${r.backend}/torch`, ...(r.isa === undefined ? {} : { isa: r.isa }), preset: p, threads: r.threads, ratio: r.tokensPerSecond / ref.tokensPerSecond });
    }
  }
}

function fmt(row: object): string {
  return Object.entries(row)
    .map(([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? String(Number(v.toPrecision(4))) : typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`)
    .join(' ');
}

export function registerBench(program: Command): void {
  const bench = program.command('bench').description('benchmarks; speeds are also given as ratios to a reference measured in the same run');
  registerBenchServe(bench);
  const addMatmulFlags = (c: Command) =>
    c
      .option('--json', 'print one JSON object per line')
      .option('--backends <list>', 'comma-separated tensor backends: ref, wasm, native (native: every ISA path this CPU has)', parseChoiceList('--backends', ['ref', 'wasm', 'native'] as const), ['ref', 'wasm', 'native'])
      .option('--threads <list>', 'comma-separated thread counts for wasm and native (default: 1 and all cores)', parseIntList('--threads', 256))
      .option('--sizes <list>', 'comma-separated square sizes instead of the default set (128, 256, 512, 1024 and 512×256×1024)', parseIntList('--sizes', 8192))
      .option('--min-seconds <s>', 'measure each case for at least this many seconds', parsePositiveNumber('--min-seconds'), 0.5)
      .option('--no-numpy', 'skip the numpy/OpenBLAS reference even if python3 has numpy');
  addMatmulFlags(bench.command('matmul').description('matmul GFLOP/s of ref, wasm and native (each ISA path; 1 to N threads), and the ratio to numpy single-threaded when python3 has numpy')).action(benchMatmul);
  bench
    .command('train')
    .description('training tokens/s of micro and small per engine (wasm, native) and thread count, matmul share of step time, and native/wasm and thread speed-up ratios; with --torch, PyTorch on the same model and the ratio to it')
    .option('--json', 'print one JSON object per line')
    .option('--presets <list>', 'comma-separated model presets (nano, micro, small)', parseChoiceList('--presets', ['nano', 'micro', 'small'] as const), ['micro', 'small'])
    .option('--steps <n>', 'timed training steps per case', parseIntList('--steps', 10_000), [3])
    .option('--backends <list>', 'comma-separated engines: wasm, native', parseChoiceList('--backends', ['wasm', 'native'] as const), ['wasm', 'native'])
    .option('--batch <n>', 'rows per step for every preset (default: 16 for nano and micro, 8 for small)', parsePositiveInt('--batch', 4096))
    .option('--seq-len <n>', 'tokens per row for every preset (default: 64 for nano and micro, 128 for small)', parsePositiveInt('--seq-len', 8192))
    .option('--torch', 'also train the same model with PyTorch (scripts/bench-torch.py; needs python3-torch), interleaved with ours, and print the ratios to it')
    .action(async (o: { json?: boolean; presets: string[]; steps: number[]; backends: Array<'wasm' | 'native'>; batch?: number; seqLen?: number; torch?: boolean }) =>
      benchTrainAll({ presets: o.presets, steps: o.steps[0]!, json: o.json === true, backends: o.backends, ...(o.batch === undefined ? {} : { batch: o.batch }), ...(o.seqLen === undefined ? {} : { seqLen: o.seqLen }), torch: o.torch === true }));
  bench
    .command('browser')
    .description('one training unit in a headless Chromium tab (the join page\'s unit worker) against the Node provider\'s wasm worker on the same unit: median ms per unit each, their ratio, and whether the result hashes agree (needs chromium and playwright-core)')
    .option('--json', 'print one JSON object')
    .option('--preset <name>', 'model preset (nano, micro, small)', 'micro')
    .option('--steps <n>', 'inner steps in the unit', parsePositiveInt('--steps', 10_000), 4)
    .option('--batch <n>', 'sequences per step', parsePositiveInt('--batch', 1024), 8)
    .option('--seq-len <n>', 'tokens per sequence', parsePositiveInt('--seq-len', 1 << 16), 128)
    .option('--repeats <n>', 'units timed on each side (the median is reported)', parsePositiveInt('--repeats', 100), 3)
    .option('--chromium <path>', 'the Chromium binary', CHROMIUM_PATH)
    .action(async (o: { json?: boolean; preset: string; steps: number; batch: number; seqLen: number; repeats: number; chromium: string }) => {
      const r = await benchBrowser({ preset: o.preset, steps: o.steps, batch: o.batch, seqLen: o.seqLen, repeats: o.repeats, chromium: o.chromium },
        o.json === true ? undefined : (line) => process.stderr.write(`${line}\n`));
      process.stdout.write(o.json === true
        ? `${JSON.stringify(r)}\n`
        : `${r.preset} ${r.batch}x${r.seqLen}, ${r.steps} steps on ${r.cpu}: node wasm ${r.node.medianMs.toFixed(0)} ms, ${r.browser.engine} ${r.browser.medianMs.toFixed(0)} ms per unit (browser/node ${r.ratio.toFixed(2)}x); result hashes ${r.sameHash ? 'equal' : 'DIFFER'}\n`);
      if (!r.sameHash) process.exitCode = 1;
    });
  bench
    .command('ledger')
    .description('the ledger\'s Merkle log: appends/s (hash and tree, batched in memory) and proof times at 1,000,000 entries')
    .option('--json', 'print one JSON object')
    .option('--entries <n>', 'leaves in the log', parsePositiveInt('--entries', 1 << 26), 1_000_000)
    .option('--proofs <n>', 'proofs of each kind timed', parsePositiveInt('--proofs', 1_000_000), 1000)
    .action((o: { json?: boolean; entries: number; proofs: number }) => {
      const r = benchLedger({ entries: o.entries, proofs: o.proofs });
      process.stdout.write(o.json ? `${JSON.stringify(r)}\n` : `${fmt(r)}\n`);
    });
  bench
    .command('tracker')
    .description('the tracker over loopback HTTP with simulated providers in a process of their own: operations/s (a replica assigned, or its result accepted), request latency and CPU per operation (tracker, load generator, PostgreSQL), for the one-unit endpoints and the batched scheduler request, side by side')
    .option('--json', 'print one JSON object')
    .option('--db <url>', 'postgres://… database to use, whose public schema is wiped (default: a fresh PGlite in a temporary directory)')
    .option('--providers <n>', 'simulated providers working at once', parsePositiveInt('--providers', 4096), 32)
    .option('--units <n>', 'units in the queue (each is assigned and submitted twice)', parsePositiveInt('--units', 1_000_000), 1000)
    .option('--protocol <p>', `which protocol the providers speak: ${BENCH_PROTOCOLS.join(', ')} (both: one after the other, and their ratio)`, parseChoice('--protocol', BENCH_PROTOCOLS), 'both')
    .option('--batch <n>', 'units per scheduler request (protocol batch)', parsePositiveInt('--batch', MAX_BATCH_UNITS), 8)
    .option('--trackers <n>', 'tracker processes sharing the one database (needs --db postgres://…); providers are dealt among them', parsePositiveInt('--trackers', 16), 1)
    .action(async (o: { json?: boolean; db?: string; providers: number; units: number; protocol: BenchProtocolChoice; batch: number; trackers: number }) => {
      const r = await benchTracker({
        providers: o.providers,
        units: o.units,
        protocol: o.protocol,
        batch: o.batch,
        trackers: o.trackers,
        ...(o.db === undefined ? {} : { db: o.db }),
        onProgress: (protocol, done, total) => {
          if (!o.json && process.stderr.isTTY) process.stderr.write(`\rswarm bench tracker (${protocol}): ${done}/${total} results`);
        },
      });
      if (!o.json && process.stderr.isTTY) process.stderr.write('\n');
      if (o.json === true) process.stdout.write(`${JSON.stringify(r)}\n`);
      else {
        for (const run of r.runs) process.stdout.write(`${fmt({ op: 'tracker', db: r.db, ...run, cpuMsPerOperation: undefined, cpuTracker: run.cpuMsPerOperation.tracker, cpuClient: run.cpuMsPerOperation.client, cpuDatabase: run.cpuMsPerOperation.database })}\n`);
        if (r.batchVsSingle !== null) process.stdout.write(`batch/single operations per second: ${r.batchVsSingle.toFixed(2)}x\n`);
      }
    });

  bench
    .command('diloco')
    .summary('DiLoCo against one AdamW worker on the same tokens: eval losses and bytes moved')
    .description('DiLoCo against its fair baseline on the same tokens: one AdamW worker (batch K·B) at each lr of a sweep, DiLoCo (K slots × H steps) at each outer lr of a sweep, the best of each compared, and the best DiLoCo run again through the tracker to count the bytes it moves against synchronous data parallelism.')
    .option('--json', 'print one JSON object')
    .option('--preset <name>', 'model size: nano, micro or small', 'nano')
    .option('--slots <n>', 'slots per round (K)', parsePositiveInt('--slots', 64), 4)
    .option('--inner-steps <n>', 'inner AdamW steps per slot and round (H)', parsePositiveInt('--inner-steps', 100_000), 50)
    .option('--rounds <n>', 'rounds (R); DiLoCo needs rounds to close the gap: 6 rounds leave it about 6 % above the single worker', parsePositiveInt('--rounds', 10_000), 48)
    .option('--batch <n>', 'rows per inner step per slot (B)', parsePositiveInt('--batch', 4096), 4)
    .option('--seq-len <n>', 'tokens per row', parsePositiveInt('--seq-len', 8192), 64)
    .option('--lr <x>', 'DiLoCo\'s inner AdamW peak learning rate (4.2e-3: the better of 3e-3 and 4.2e-3 at 48 rounds)', parsePositiveNumber('--lr'), 4.2e-3)
    .option('--baseline-lrs <list>', 'the single worker\'s peak learning rates to try, comma-separated; its best is reported (default: five values from half to twice --lr, √2 apart)', parseNumberList('--baseline-lrs'))
    .option('--pretrain-lr <x>', 'learning rate of the shared pretraining, so θ_0 does not depend on the arms\' lrs', parsePositiveNumber('--pretrain-lr'), 3e-3)
    .option('--warmup <n>', 'inner warm-up steps', (v: string) => (v === '0' ? 0 : parsePositiveInt('--warmup', 1_000_000)(v)), 20)
    .option('--min-lr-ratio <x>', 'cosine floor as a fraction of the peak', parsePositiveNumber('--min-lr-ratio'), 0.1)
    .option('--outer-lrs <list>', 'DiLoCo\'s outer Nesterov learning rates to try in-process, comma-separated; the best one then runs through the tracker', parseNumberList('--outer-lrs'), [...DEFAULT_OUTER_LRS])
    .option('--momentum <x>', 'outer momentum', parsePositiveNumber('--momentum'), 0.9)
    .option('--pretrain-steps <n>', 'steps of one worker before both arms (DiLoCo starts from a pretrained model)', (v: string) => (v === '0' ? 0 : parsePositiveInt('--pretrain-steps', 1_000_000)(v)), 300)
    .option('--providers <n>', 'provider processes for the run through the tracker', parsePositiveInt('--providers', 64), 2)
    .option('--eval-windows <n>', 'evaluation windows, the same for both arms', parsePositiveInt('--eval-windows', 100_000), 320)
    .option('--seed <n>', 'seed of the corpus, the initial weights and the data order', parsePositiveInt('--seed', 2 ** 32 - 1), 1)
    .option('--move-opt', 'move each slot\'s AdamW state through the tracker every round instead of keeping it with its providers')
    .option('--downlink <kind>', 'how θ goes down each round: int8 (an update with error feedback, applied by providers holding the previous θ) or f32 (θ whole)', parseChoice('--downlink', ['int8', 'f32'] as const), 'int8')
    .action(async (o: { moveOpt?: boolean; downlink: 'int8' | 'f32'; json?: boolean; preset: string; slots: number; innerSteps: number; rounds: number; batch: number; seqLen: number; lr: number; baselineLrs?: number[]; pretrainLr: number; warmup: number; minLrRatio: number; outerLrs: number[]; momentum: number; pretrainSteps: number; providers: number; evalWindows: number; seed: number }) => {
      const r = await benchDiloco({ ...o, keepOpt: o.moveOpt !== true, log: (s) => process.stderr.write(`swarm bench diloco: ${s}\n`) });
      process.stdout.write(o.json === true ? `${JSON.stringify(r)}\n` : `${fmt({ op: 'diloco', ...r })}\n`);
    });

  addMatmulFlags(bench.command('all').description('the matmul, train and ledger benchmarks in a row (`npm run bench` runs this with --json); the options apply to matmul')).action(async (o: MatmulFlags) => {
    await benchMatmul(o);
    await benchTrainAll({ presets: ['micro', 'small'], steps: 3, json: o.json === true, backends: ['wasm', 'native'] });
    const ledger = benchLedger();
    process.stdout.write(o.json === true ? `${JSON.stringify({ op: 'ledger', ...ledger })}\n` : `${fmt({ op: 'ledger', ...ledger })}\n`);
  });
}
