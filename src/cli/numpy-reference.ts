/**
 * numpy/OpenBLAS single-thread matmul GFLOP/s measured on this machine, the
 * yardstick the engine issue sets. Optional: returns null when python3 or
 * numpy is missing. Thread count pinned to 1 through OpenBLAS's environment.
 */
import { spawnSync } from 'node:child_process';

// The same protocol as src/tensor/bench/matmul.ts measures wasm with, so the
// ratio compares like with like: a warm-up of about a tenth of the budget,
// then timed rounds of at least 50 ms until the budget is spent, and the best
// round (the least disturbed by other load on the machine) is reported.
const SCRIPT = `
import sys, json, time
import numpy as np
shapes = json.loads(sys.argv[1]); min_s = float(sys.argv[2])
rng = np.random.default_rng(0)
out = []
for m, k, n in shapes:
    a = rng.standard_normal((m, k), dtype=np.float32); b = rng.standard_normal((k, n), dtype=np.float32)
    warm_end = time.perf_counter() + min_s / 10
    a @ b
    while time.perf_counter() < warm_end: a @ b
    best = 0.0; end = time.perf_counter() + min_s
    while True:
        reps = 0; t0 = time.perf_counter()
        while True:
            a @ b; reps += 1
            dt = time.perf_counter() - t0
            if dt >= 0.05: break
        best = max(best, 2.0 * m * k * n * reps / dt / 1e9)
        if time.perf_counter() >= end: break
    out.append({"m": m, "k": k, "n": n, "gflops": best})
print(json.dumps(out))
`;

export function numpyMatmulGflops(shapes: Array<[number, number, number]>, minSeconds: number): Array<{ m: number; k: number; n: number; gflops: number }> | null {
  const env = { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
  const r = spawnSync('python3', ['-c', SCRIPT, JSON.stringify(shapes), String(minSeconds)], { env, encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0 || typeof r.stdout !== 'string') return null;
  try {
    return JSON.parse(r.stdout) as Array<{ m: number; k: number; n: number; gflops: number }>;
  } catch {
    return null;
  }
}
