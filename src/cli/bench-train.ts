/**
 * `swarm bench train`: training throughput (tokens/s) of the pure training
 * unit for the micro and small presets, the fraction of step time spent in
 * matmul, and the speed-up of all threads over one thread measured in the
 * same process (the reference run).
 */
import { Prng } from '../core/prng.ts';
import { preset } from '../model/config.ts';
import { initParams, paramList } from '../model/llama.ts';
import type { Backend, FusedKernels } from '../tensor/backend/backend.ts';
import { Engine } from '../tensor/tensor.ts';
import { createNativeBackend } from '../tensor/native/backend.ts';
import type { NativeBackend } from '../tensor/native/backend.ts';
import { createWasmBackend } from '../tensor/wasm/backend.ts';
import { DILOCO_INNER } from '../train/adamw.ts';
import { concatFlat, initFlatAdam, runTrainUnit } from '../train/unit.ts';
import type { Batch } from '../train/unit.ts';

/** What every `bench train` row says, ours and the PyTorch reference's (./torch-reference.ts) alike. */
export interface TrainRowCommon {
  op: 'train';
  backend: string;
  preset: string;
  params: number;
  batch: number;
  seqLen: number;
  threads: number;
  steps: number;
  tokensPerSecond: number;
}

export interface TrainBenchRow extends TrainRowCommon {
  /** native only: the ISA path */
  isa?: string;
  /** shares of the timed steps' wall time: matmul, the other kernels (elementwise, reductions, copies), the fused kernels (RMSNorm, attention softmax, SwiGLU, cross-entropy, AdamW) */
  matmulFraction: number;
  kernelFraction: number;
  fusedFraction: number;
  /** the rest: autograd bookkeeping, JavaScript data movement, garbage collection */
  otherFraction: number;
  /** arrays the kernels allocated fresh per step, and their bytes */
  allocationsPerStep: number;
  allocatedBytesPerStep: number;
  /** outputs written into recycled buffers instead (native: Backend.recycle), and their bytes */
  reusedPerStep: number;
  reusedBytesPerStep: number;
  /** first touches of fresh memory per step (each costs microseconds on a VM) */
  pageFaultsPerStep: number;
}

/** Untimed steps before the timed ones (see benchTrain). */
export const WARMUP_STEPS = 3;

interface Counters {
  matmulMs: number;
  kernelMs: number;
  fusedMs: number;
  allocations: number;
  bytes: number;
}

/** Wrap a backend so the time inside each kind of kernel, and what the kernels allocate, are counted. */
function timed(b: Backend): { backend: Backend; counters: Counters } {
  const counters: Counters = { matmulMs: 0, kernelMs: 0, fusedMs: 0, allocations: 0, bytes: 0 };
  const backend: Backend = Object.create(b) as Backend;
  const wrap = <A extends unknown[], R>(fn: ((...a: A) => R) | undefined, into: 'matmulMs' | 'kernelMs' | 'fusedMs') => {
    if (fn === undefined) return undefined;
    return (...args: A): R => {
      const t = performance.now();
      try {
        const out = fn.apply(b, args);
        if (out instanceof Float32Array) {
          counters.allocations++;
          counters.bytes += out.byteLength;
        }
        return out;
      } finally {
        counters[into] += performance.now() - t;
      }
    };
  };
  backend.matmul = wrap(b.matmul, 'matmulMs')!;
  if (b.matmulT) backend.matmulT = wrap(b.matmulT, 'matmulMs');
  backend.unary = wrap(b.unary, 'kernelMs')!;
  backend.binary = wrap(b.binary, 'kernelMs')!;
  backend.reduce = wrap(b.reduce, 'kernelMs')!;
  backend.scatterAdd = wrap(b.scatterAdd, 'kernelMs')!;
  if (b.stridedCopy) backend.stridedCopy = wrap(b.stridedCopy, 'kernelMs');
  if (b.adamwUpdate) backend.adamwUpdate = wrap(b.adamwUpdate, 'fusedMs');
  if (b.fused) {
    // Each fused kernel returns an array or an object of arrays: count them all.
    const k = b.fused as unknown as Record<string, (...a: unknown[]) => unknown>;
    const fused: Record<string, (...a: unknown[]) => unknown> = {};
    for (const name of Object.keys(k)) {
      fused[name] = (...args: unknown[]) => {
        const t = performance.now();
        try {
          const out = k[name]!.apply(k, args);
          for (const a of out instanceof Float32Array ? [out] : Object.values(out as object)) {
            if (a instanceof Float32Array) {
              counters.allocations++;
              counters.bytes += a.byteLength;
            }
          }
          return out;
        } finally {
          counters.fusedMs += performance.now() - t;
        }
      };
    }
    Object.defineProperty(backend, 'fused', { value: fused as unknown as FusedKernels });
  }
  return { backend, counters };
}

export async function benchTrain(presetName: string, threads: number, steps: number, batch: number, seqLen: number, backendName: 'wasm' | 'native' = 'wasm'): Promise<TrainBenchRow> {
  const raw = backendName === 'native' ? createNativeBackend({ threads }) : await createWasmBackend({ threads });
  try {
    const { backend, counters } = timed(raw);
    const e = new Engine(backend);
    const c = preset(presetName, { maxSeqLen: Math.max(seqLen, preset(presetName).maxSeqLen) });
    const flat = concatFlat(paramList(initParams(e, c, Prng.fromSeed(1))));
    const rng = Prng.fromSeed(2);
    const tokens = Int32Array.from({ length: batch * (seqLen + 1) }, () => rng.nextInt(c.vocabSize));
    const b: Batch = { inputs: tokens.subarray(0, batch * seqLen), targets: tokens.subarray(1, 1 + batch * seqLen), batch, seqLen };
    const unit = { config: c, params: flat, opt: initFlatAdam(flat.length), batchAt: () => b, adamw: DILOCO_INNER };
    // Warm-up: JIT tiers, worker start-up, and the allocator's heap growing to
    // a step's working set (fresh pages fault in at ~14 µs each on a VM; a
    // real unit runs tens of steps, so the steady state is what it sees).
    runTrainUnit(e, { ...unit, steps: WARMUP_STEPS });
    const pool = (raw as Partial<NativeBackend>).pool;
    const p0 = pool === undefined ? undefined : { ...pool.stats };
    const c0 = { ...counters };
    const f0 = process.resourceUsage().minorPageFault;
    const t0 = performance.now();
    runTrainUnit(e, { ...unit, steps });
    const ms = performance.now() - t0;
    const faults = process.resourceUsage().minorPageFault - f0;
    const d = (k: keyof Counters) => counters[k] - c0[k];
    return {
      op: 'train',
      backend: raw.name,
      ...(raw.isa === undefined ? {} : { isa: raw.isa }),
      preset: presetName,
      params: flat.length,
      batch,
      seqLen,
      threads,
      steps,
      tokensPerSecond: (steps * batch * seqLen) / (ms / 1000),
      matmulFraction: d('matmulMs') / ms,
      kernelFraction: d('kernelMs') / ms,
      fusedFraction: d('fusedMs') / ms,
      otherFraction: 1 - (d('matmulMs') + d('kernelMs') + d('fusedMs')) / ms,
      // With a pool, only its fresh arrays are allocations; else every output is.
      allocationsPerStep: (pool === undefined ? d('allocations') : pool.stats.fresh - p0!.fresh) / steps,
      allocatedBytesPerStep: (pool === undefined ? d('bytes') : pool.stats.freshBytes - p0!.freshBytes) / steps,
      reusedPerStep: pool === undefined ? 0 : (pool.stats.reused - p0!.reused) / steps,
      reusedBytesPerStep: pool === undefined ? 0 : (pool.stats.reusedBytes - p0!.reusedBytes) / steps,
      pageFaultsPerStep: faults / steps,
    };
  } finally {
    raw.close();
  }
}
