/**
 * `swarm bench browser` (issue 18): one training unit timed in a browser tab
 * against the Node provider on the same unit, in the same run. The Node side
 * is what `swarm provide --backend wasm` runs (the worker sandbox, a fresh
 * worker per unit); the browser side is what the join page runs (a fresh Web
 * Worker per unit, build/web/join/assets/unit-worker.js, served with the join
 * page's headers from a loopback server). Both receive the same spec and
 * blobs; the report gives each side's median wall time per unit (start-up
 * included on both sides), their ratio, and whether the result hashes agree.
 *
 * Needs Debian's Chromium (/usr/bin/chromium, or --chromium PATH) and
 * playwright-core (a development dependency): without either it fails with
 * BENCH_BROWSER_UNAVAILABLE and says what is missing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { SwarmError } from '../core/errors.ts';
import { base64Encode } from '../core/encoding.ts';
import { sha256Hex } from '../core/sha256.ts';
import { createWorkerSandbox } from '../provider/sandbox/worker-sandbox.ts';
import { createRefBackend } from '../tensor/backend/ref.ts';
import { Engine } from '../tensor/tensor.ts';
import { DILOCO_INNER } from '../train/adamw.ts';
import { planDilocoRun } from '../train/diloco/plan.ts';
import { parseUnitSpec } from '../train/work/kinds.ts';
import { unitMemoryBytes } from '../train/work/memory.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium.ts';
import { DEFAULT_WEB_DIR, createDashboardApp } from './dashboard.ts';


export interface BrowserBenchOptions {
  preset: string;
  steps: number;
  batch: number;
  seqLen: number;
  repeats: number;
  chromium?: string;
  webDir?: string;
}

export interface BrowserBenchReport {
  bench: 'browser';
  cpu: string;
  preset: string;
  steps: number;
  batch: number;
  seqLen: number;
  repeats: number;
  node: { backend: 'wasm'; runsMs: number[]; medianMs: number };
  browser: { engine: string; runsMs: number[]; medianMs: number };
  /** browser median / Node median (issue 18's target: ≤ 1.5) */
  ratio: number;
  /** every run on both sides gave the same result hash */
  sameHash: boolean;
  resultHash: string;
}

/**
 * What the page runs for one unit: a fresh unit worker, the input posted,
 * wall time until its answer. Plain JavaScript in a string, not a function
 * handed to page.evaluate, because the TypeScript loader renames functions
 * (esbuild keepNames adds __name calls) and the page has no __name.
 */
const IN_PAGE_RUN_UNIT_BODY = `
  const decode = (s) => Uint8Array.from(atob(s), (ch) => ch.charCodeAt(0));
  const input = { spec: w.spec, blobs: new Map(w.blobs.map(([h, b]) => [h, decode(b)])), threads: 1, backend: 'wasm', memoryMb: w.memoryMb };
  const t0 = performance.now();
  const worker = new Worker('/join/assets/unit-worker.js', { type: 'module' });
  return await new Promise((resolve) => {
    worker.onmessage = (ev) => {
      if (ev.data.type === 'progress') return;
      const ms = performance.now() - t0;
      worker.terminate();
      resolve(ev.data.type === 'result' ? { ms, hash: ev.data.resultHash } : { ms, error: ev.data.error.code + ': ' + ev.data.error.message });
    };
    worker.onerror = (ev) => resolve({ ms: performance.now() - t0, error: ev.message });
    worker.postMessage(input);
  });`;
/** The body above as a function Playwright can send (it sends a function's source and calls it with the argument). */
const AsyncFunction = (async () => undefined).constructor as new (arg: string, body: string) => (w: unknown) => Promise<unknown>;
const IN_PAGE_RUN_UNIT = new AsyncFunction('w', IN_PAGE_RUN_UNIT_BODY) as (w: unknown) => Promise<{ ms: number; hash?: string; error?: string }>;

/** The CPU, with the widest SIMD it has (speed figures say which machine; machines here vary between AVX2 and AVX-512). */
export function cpuDescription(): string {
  let flags = '';
  try {
    flags = /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '';
  } catch {
    // not Linux: the model name alone
  }
  const isa = / avx512f( |$)/.test(flags) ? ', AVX-512' : / avx2( |$)/.test(flags) ? ', AVX2' : '';
  return `${cpus()[0]?.model.trim() ?? 'unknown CPU'} × ${cpus().length}${isa}`;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The unit: slot 0 of round 0 of a DiLoCo plan, and the blobs it names (also test/train/memory-probe.ts's unit). */
export function benchUnit(o: Pick<BrowserBenchOptions, 'preset' | 'steps' | 'batch' | 'seqLen'>): { spec: Record<string, unknown>; blobs: Map<string, Uint8Array> } {
  const plan = planDilocoRun(new Engine(createRefBackend()), {
    preset: o.preset, seed: 1, slots: 1, innerSteps: o.steps, rounds: 1, batch: o.batch, seqLen: o.seqLen,
    adamw: DILOCO_INNER, outer: { lr: 0.7, momentum: 0.9 }, aggregate: { kind: 'mean' },
    replication: 1, quorumFraction: 1, roundDeadlineMs: 60_000, leaseMs: 60_000, evalWindows: 0,
  });
  const s = plan.spec as { config: unknown; init: string; shards: string[][] };
  const spec = { kind: 'train', v: 1, config: s.config, params: s.init, opt: null, data: s.shards[0]![0]!, steps: o.steps, batch: o.batch, seqLen: o.seqLen, adamw: DILOCO_INNER };
  parseUnitSpec(spec); // a bad --batch/--seq-len for the preset fails here, with the spec's own message
  return { spec, blobs: new Map(plan.blobs.map((b) => [sha256Hex(b), b])) };
}

export async function benchBrowser(o: BrowserBenchOptions, progress: (line: string) => void = () => undefined): Promise<BrowserBenchReport> {
  const chromiumPath = o.chromium ?? CHROMIUM_PATH;
  if (!existsSync(chromiumPath)) throw new SwarmError('BENCH_BROWSER_UNAVAILABLE', `no Chromium at ${chromiumPath} (apt-get install chromium, or --chromium PATH)`);
  const webDir = o.webDir ?? DEFAULT_WEB_DIR;
  if (!existsSync(join(webDir, 'join', 'assets', 'unit-worker.js'))) throw new SwarmError('BENCH_BROWSER_UNAVAILABLE', `the join page is not built in ${webDir} (npm run build:web)`);
  let playwright: typeof import('playwright-core');
  try {
    playwright = await import('playwright-core');
  } catch (cause) {
    throw new SwarmError('BENCH_BROWSER_UNAVAILABLE', 'playwright-core is not installed (it is a development dependency: npm install without --omit=dev)', undefined, { cause });
  }
  const { spec, blobs } = benchUnit(o);
  const parsed = parseUnitSpec(spec);
  const memoryMb = Math.max(256, Math.ceil((unitMemoryBytes(parsed) * 1.5) / 2 ** 20));

  // Node: the worker sandbox on wasm, one thread, a fresh worker per unit (as swarm provide).
  const sandbox = createWorkerSandbox({ backend: 'wasm', memoryMb });
  const nodeMs: number[] = [];
  const hashes = new Set<string>();
  for (let i = 0; i < o.repeats; i++) {
    const copy = new Map([...blobs].map(([h, b]) => [h, b.slice()]));
    const t0 = performance.now();
    const out = await sandbox.run(parsed, copy, { threads: 1, deadlineMs: 3_600_000 });
    nodeMs.push(performance.now() - t0);
    hashes.add(out.resultHash);
    progress(`node wasm run ${i + 1}/${o.repeats}: ${nodeMs[i]!.toFixed(0)} ms`);
  }

  // Browser: the join page's unit worker, served with its headers from loopback.
  const app = createDashboardApp({ dir: webDir });
  const server = await new Promise<{ url: string; close: () => void }>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => resolve({ url: `http://127.0.0.1:${info.port}`, close: () => s.close() }));
  });
  const browser = await playwright.chromium.launch({ executablePath: chromiumPath, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage();
    await page.goto(`${server.url}/join`);
    const engine = await page.evaluate<string>('/Chrom(e|ium)\\/\\d+/.exec(navigator.userAgent)?.[0] ?? navigator.userAgent');
    const wire = { spec, blobs: [...blobs].map(([h, b]) => [h, base64Encode(b)] as [string, string]), memoryMb };
    const browserMs: number[] = [];
    for (let i = 0; i < o.repeats; i++) {
      const r = await page.evaluate(IN_PAGE_RUN_UNIT, wire);
      if (r.error !== undefined || r.hash === undefined) throw new SwarmError('BENCH_BROWSER_FAILED', `the unit failed in the browser: ${r.error ?? 'no hash'}`);
      browserMs.push(r.ms);
      hashes.add(r.hash);
      progress(`browser run ${i + 1}/${o.repeats}: ${r.ms.toFixed(0)} ms`);
    }
    const nodeMedian = median(nodeMs);
    const browserMedian = median(browserMs);
    return {
      bench: 'browser', cpu: cpuDescription(), preset: o.preset, steps: o.steps, batch: o.batch, seqLen: o.seqLen, repeats: o.repeats,
      node: { backend: 'wasm', runsMs: nodeMs, medianMs: nodeMedian },
      browser: { engine, runsMs: browserMs, medianMs: browserMedian },
      ratio: browserMedian / nodeMedian,
      sameHash: hashes.size === 1,
      resultHash: [...hashes][0]!,
    };
  } finally {
    await browser.close();
    server.close();
  }
}
