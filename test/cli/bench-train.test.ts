/**
 * `swarm bench train`'s rows: tokens/s per engine, and a breakdown of the
 * step that adds up (matmul, other kernels, fused kernels, the rest), with
 * the allocations the kernels made and the buffers they reused. Speeds are not asserted (benchmarks report
 * ratios, tests assert behaviour); the accounting is.
 */
import { describe, expect, it } from 'vitest';
import { benchTrain } from '../../src/cli/bench-train.ts';
import { nativeStatus } from '../../src/tensor/native/backend.ts';

const native = nativeStatus();

describe('bench train rows', () => {
  const engines = native.available ? (['wasm', 'native'] as const) : (['wasm'] as const);
  for (const engine of engines) {
    it(`${engine}: names the engine, and the shares of the step add up to one`, async () => {
      const row = await benchTrain('nano', 1, 2, 2, 16, engine);
      expect(row).toMatchObject({ op: 'train', backend: engine, preset: 'nano', batch: 2, seqLen: 16, threads: 1, steps: 2 });
      expect(row.isa).toBe(engine === 'native' ? native.isas[0] : undefined);
      expect(row.tokensPerSecond).toBeGreaterThan(0);
      const shares = [row.matmulFraction, row.kernelFraction, row.fusedFraction, row.otherFraction];
      for (const s of shares) expect(s).toBeGreaterThanOrEqual(0);
      expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
      // only the native engine has fused kernels (AdamW, RMSNorm, attention softmax, ...)
      expect(row.fusedFraction > 0).toBe(engine === 'native');
      // a nano step makes hundreds of arrays; each is counted with its bytes,
      // as a fresh allocation or (native, which reuses dead buffers) a reuse
      expect(row.allocationsPerStep + row.reusedPerStep).toBeGreaterThan(100);
      expect(row.allocatedBytesPerStep).toBeGreaterThan(row.allocationsPerStep * 4);
      expect(row.reusedPerStep > 0).toBe(engine === 'native');
      expect(row.reusedBytesPerStep).toBeGreaterThanOrEqual(row.reusedPerStep * 4);
      expect(row.pageFaultsPerStep).toBeGreaterThanOrEqual(0);
    }, 60_000);
  }
});
