/**
 * PyTorch training tokens/s measured on this machine by scripts/bench-torch.py,
 * the yardstick issue 15 sets for `swarm bench train`. Optional: torch is not
 * a dependency, so every entry returns null (or says why) when no python on
 * the machine can import it.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TrainRowCommon } from './bench-train.ts';

export const TORCH_SCRIPT = fileURLToPath(new URL('../../scripts/bench-torch.py', import.meta.url));

/** What to say when torch is missing: the one install line the README gives. */
export const TORCH_MISSING = 'no python3 with torch found; skipping the PyTorch reference (install it with `apt-get install python3-torch libopenblas0`)';

/** Said when torch ran on Debian's reference BLAS, which makes it a straw man. */
export const TORCH_NETLIB = 'PyTorch ran on the netlib reference BLAS (about 10x slower than OpenBLAS), so the ratios to it flatter us; `apt-get install libopenblas0` makes OpenBLAS the system BLAS';

export interface TorchTrainRow extends TrainRowCommon {
  backend: 'torch';
  torchVersion: string;
  /** the BLAS torch's sgemm came from: openblas, mkl, blis, netlib or unknown */
  blas: string;
  /** OMP_WAIT_POLICY of the run: default (unset) or passive */
  ompWaitPolicy: string;
}

// Debian's python3-torch installs for the system interpreter; the python3 first
// on PATH may be another one (pyenv, a manylinux build) without torch, so the
// system one is tried first.
const CANDIDATES = ['/usr/bin/python3', 'python3'];

let found: string | null | undefined;

/** The first interpreter that can import torch, or null; looked up once per process. */
export function torchPython(): string | null {
  if (found !== undefined) return found;
  found = null;
  for (const py of CANDIDATES) {
    const r = spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore', timeout: 60_000 });
    if (r.status === 0) {
      found = py;
      break;
    }
  }
  return found;
}

export interface TorchTrainOptions {
  preset: string;
  batch: number;
  seqLen: number;
  steps: number;
  /** untimed steps first, as many as our bench takes (WARMUP_STEPS) */
  warmup: number;
  threads: number;
}

/**
 * One torch measurement, run synchronously in a child process so it never
 * overlaps our own (the caller interleaves the two). Throws with the script's
 * stderr when the script itself fails: a broken reference must not pass
 * silently as "torch missing".
 */
export function torchTrainTokensPerSecond(o: TorchTrainOptions): TorchTrainRow | null {
  const py = torchPython();
  if (py === null) return null;
  // GNU OpenMP's workers spin while they wait; on cores shared with other load
  // that collapses torch at 2+ threads (here micro fell from 2,600 to 140
  // tokens/s). Passive waiting can cost a little on an idle machine, so with
  // more than one thread both are run and the faster is the yardstick: the
  // ratio must never be flattered by a badly configured torch. A policy the
  // caller set in the environment is kept as it is.
  if (o.threads === 1 || process.env.OMP_WAIT_POLICY !== undefined) return runTorchOnce(py, o, {});
  const spin = runTorchOnce(py, o, {});
  const passive = runTorchOnce(py, o, { OMP_WAIT_POLICY: 'PASSIVE' });
  return passive.tokensPerSecond > spin.tokensPerSecond ? passive : spin;
}

function runTorchOnce(py: string, o: TorchTrainOptions, extraEnv: Record<string, string>): TorchTrainRow {
  const args = [TORCH_SCRIPT, '--json', '--preset', o.preset, '--batch', String(o.batch), '--seq-len', String(o.seqLen), '--steps', String(o.steps), '--warmup', String(o.warmup), '--threads', String(o.threads)];
  // Pin the BLAS and OpenMP pools too, so --threads is the whole story whatever the environment says.
  const n = String(o.threads);
  const env = { ...process.env, OMP_NUM_THREADS: n, OPENBLAS_NUM_THREADS: n, MKL_NUM_THREADS: n, ...extraEnv };
  const r = spawnSync(py, args, { env, encoding: 'utf8', timeout: 1_800_000 });
  if (r.status !== 0) {
    const why = r.error?.message ?? (r.stderr.trim() || `exit status ${String(r.status ?? r.signal)}`);
    throw new Error(`scripts/bench-torch.py failed: ${why}`);
  }
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as TorchTrainRow;
}
