/**
 * Matmul throughput of the canonical backends, for `swarm bench matmul`.
 * Measures what a caller gets from Backend.matmul (copies into and out of
 * wasm memory, B packing and the native call included), in GFLOP/s = 2*m*k*n / seconds / 1e9.
 *
 * Inputs are seeded (a local LCG: benchmarks need repeatable data, not good
 * randomness) in [-1, 1), so no overflow, subnormal or NaN slow path is hit.
 * Each (backend, threads, shape) is warmed up (JIT tiers, memory growth,
 * worker wake-up), then timed in rounds until `minSeconds` have passed; the
 * best round is reported, as the least disturbed by other load on the machine.
 * Timing uses performance.now (monotonic); this is measurement, not a result
 * that flows into any hash.
 */
import type { Backend } from '../backend/backend.ts';
import { createRefBackend } from '../backend/ref.ts';
import { createNativeBackend, nativeStatus } from '../native/backend.ts';
import type { NativeIsa } from '../native/backend.ts';
import { createWasmBackend } from '../wasm/backend.ts';

export interface MatmulBenchRow {
  op: 'matmul';
  backend: string;
  /** native only: the ISA path measured */
  isa?: string;
  threads: number;
  m: number;
  k: number;
  n: number;
  gflops: number;
}

export interface MatmulBenchOptions {
  /** native runs every ISA path this CPU has; it is skipped (with a line to onSkip) when unavailable. */
  backends: Array<'ref' | 'wasm' | 'native'>;
  /** Thread counts to try for wasm and native (ref is always single-threaded and runs once per shape). */
  threads: number[];
  shapes: Array<[number, number, number]>;
  /** Minimum timed seconds per row (default 0.5). */
  minSeconds?: number;
}

/** Numerical Recipes LCG mapped to [-1, 1). */
function seededArray(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2147483648 - 1;
  }
  return out;
}

/** Rounds of at least this many seconds are timed, so timer resolution does not matter. */
const ROUND_SECONDS = 0.05;

function measure(be: Backend, m: number, k: number, n: number, minSeconds: number): number {
  const a = seededArray(m * k, 1 + m + k);
  const b = seededArray(k * n, 2 + k + n);
  const flops = 2 * m * k * n;
  const now = () => performance.now() / 1000;
  // Warm-up: at least one call and about a tenth of the budget.
  const warmEnd = now() + minSeconds / 10;
  do be.matmul(a, b, 1, m, k, n, false);
  while (now() < warmEnd);
  let best = 0;
  const end = now() + minSeconds;
  do {
    let calls = 0;
    const t0 = now();
    let t: number;
    do {
      be.matmul(a, b, 1, m, k, n, false);
      calls++;
      t = now() - t0;
    } while (t < ROUND_SECONDS);
    best = Math.max(best, (flops * calls) / t / 1e9);
  } while (now() < end);
  return best;
}

/**
 * Runs every requested combination and reports one row per result through
 * `onRow` as soon as it is measured. The caller chooses the shapes (skip the
 * big ones for `ref`, which is naive by design and takes seconds at 1024^3).
 */
export async function runMatmulBench(opts: MatmulBenchOptions, onRow: (row: MatmulBenchRow) => void, onSkip?: (why: string) => void): Promise<void> {
  const minSeconds = opts.minSeconds ?? 0.5;
  for (const backend of opts.backends) {
    const threadCounts = backend === 'ref' ? [1] : [...new Set(opts.threads)];
    const native = nativeStatus();
    if (backend === 'native' && !native.available) {
      onSkip?.(`native: ${native.reason}`);
      continue;
    }
    const variants: Array<NativeIsa | undefined> = backend === 'native' ? native.isas : [undefined];
    for (const isa of variants) {
      for (const threads of threadCounts) {
        const be = backend === 'ref'
          ? createRefBackend()
          : backend === 'wasm' ? await createWasmBackend({ threads }) : createNativeBackend({ threads, ...(isa === undefined ? {} : { isa }) });
        try {
          for (const [m, k, n] of opts.shapes) {
            const gflops = measure(be, m, k, n, minSeconds);
            onRow({ op: 'matmul', backend: be.name, ...(be.isa === undefined ? {} : { isa: be.isa }), threads: be.threads, m, k, n, gflops });
          }
        } finally {
          be.close();
        }
      }
    }
  }
}
