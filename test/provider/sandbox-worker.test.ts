/**
 * The worker sandbox: the same bytes as a direct runUnit, progress, the
 * unit's own coded errors passed through, and the limits that make it a
 * sandbox (deadline, cancel, memory) each ending in their code.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { preset } from '../../src/model/config.ts';
import { createWorkerSandbox } from '../../src/provider/sandbox/worker-sandbox.ts';
import { createRefBackend } from '../../src/tensor/backend/ref.ts';
import { Engine } from '../../src/tensor/tensor.ts';
import { paramCount } from '../../src/model/llama.ts';
import type { EvalSpec } from '../../src/train/work/eval-kind.ts';
import { encodeParamsBlob } from '../../src/train/work/params-blob.ts';
import { runUnit } from '../../src/train/work/run-unit.ts';
import { encodeShardBlob } from '../../src/train/work/shard-blob.ts';
import { codeOf, codeOfAsync } from '../helpers/errors.ts';
import { makeFixture } from '../train/work/fixtures.ts';
import type { Fixture } from '../train/work/fixtures.ts';

let fx: Fixture;
let long: Fixture;
beforeAll(() => {
  fx = makeFixture(2);
  long = makeFixture(4000); // minutes of work on two cores even with the native engine: it never finishes inside these tests
});

/**
 * An eval unit whose LM-head matmul alone needs 4.2M f32 of kernel memory
 * (vocabulary 65536 × dim 64): more than a 16 MiB sandbox allows.
 */
function bigVocabUnit(): { spec: EvalSpec; blobs: Map<string, Uint8Array> } {
  const f = makeFixture(1);
  const config = preset('nano', { vocabSize: 65536, maxSeqLen: 16 });
  const params = encodeParamsBlob(config, new Float32Array(paramCount(config)).fill(0.01));
  const data = encodeShardBlob(Int32Array.from({ length: 5 }, (_, i) => i * 1000), 4);
  const p = f.put(params);
  const d = f.put(data);
  return { spec: { kind: 'eval', v: 1, config, params: p, data: d, seqLen: 4, windows: 1, batch: 1 }, blobs: f.blobs };
}

describe('worker sandbox', () => {
  it('gives the resultHash of a direct runUnit (ref there, wasm with 2 threads here), with progress; blobs are moved, not copied', async () => {
    const direct = runUnit(new Engine(createRefBackend()), fx.trainSpec(), (h) => fx.blobs.get(h));
    const progress: number[] = [];
    const blobs = fx.copyBlobs();
    const params = blobs.get(fx.trainSpec().params)!;
    const out = await createWorkerSandbox().run(fx.trainSpec(), blobs, { threads: 2, deadlineMs: 60_000, onProgress: (p) => progress.push(p) });
    expect(out.resultHash).toBe(direct.resultHash);
    expect(Buffer.from(out.result).equals(Buffer.from(direct.result))).toBe(true);
    expect(out.metrics).toEqual(direct.metrics);
    expect(progress).toEqual([0.5, 1]);
    expect(params.byteLength).toBe(0); // detached: its buffer was transferred to the worker
  });

  it("passes the unit's coded errors through (a tampered blob → WORK_BLOB_HASH_MISMATCH)", async () => {
    const blobs = fx.copyBlobs();
    const spec = fx.trainSpec();
    blobs.get(spec.data)![40]! ^= 1;
    expect(await codeOfAsync(createWorkerSandbox().run(spec, blobs, { threads: 1, deadlineMs: 60_000 }))).toBe('WORK_BLOB_HASH_MISMATCH');
    expect(await codeOfAsync(createWorkerSandbox().run({ ...spec, steps: -1 }, fx.copyBlobs(), { threads: 1, deadlineMs: 60_000 }))).toBe('WORK_BAD_SPEC');
    const missing = fx.copyBlobs();
    missing.delete(spec.data);
    expect(await codeOfAsync(createWorkerSandbox().run(spec, missing, { threads: 1, deadlineMs: 60_000 }))).toBe('WORK_BLOB_MISSING');
  });

  it('a unit past its deadline is stopped → PROVIDER_DEADLINE', async () => {
    const t0 = performance.now();
    let progressed = 0;
    const run = createWorkerSandbox().run(long.trainSpec(), long.copyBlobs(), { threads: 1, deadlineMs: 1500, onProgress: () => progressed++ });
    expect(await codeOfAsync(run)).toBe('PROVIDER_DEADLINE');
    const elapsed = performance.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(1450);
    // promptly at the deadline (a loaded CI machine gets slack), not after the minutes the unit needs
    expect(elapsed).toBeLessThan(10_000);
    expect(progressed).toBeLessThan(4000); // stopped before the unit could finish
  });

  it('aborting the signal cancels a running unit → PROVIDER_CANCELLED', async () => {
    const ac = new AbortController();
    const t0 = performance.now();
    const run = createWorkerSandbox().run(long.trainSpec(), long.copyBlobs(), { threads: 1, deadlineMs: 60_000, signal: ac.signal, onProgress: () => ac.abort() });
    expect(await codeOfAsync(run)).toBe('PROVIDER_CANCELLED');
    expect(performance.now() - t0).toBeLessThan(20_000);
    expect(await codeOfAsync(createWorkerSandbox().run(fx.trainSpec(), fx.copyBlobs(), { threads: 1, deadlineMs: 60_000, signal: AbortSignal.abort() }))).toBe('PROVIDER_CANCELLED');
  });

  it('a unit over the memory cap → PROVIDER_OUT_OF_MEMORY', async () => {
    const big = bigVocabUnit();
    const err = await createWorkerSandbox({ memoryMb: 16 }).run(big.spec, big.blobs, { threads: 1, deadlineMs: 60_000 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'PROVIDER_OUT_OF_MEMORY', details: { reason: 'TENSOR_TOO_LARGE' } });
  });

  it('bad options → PROVIDER_BAD_OPTION', async () => {
    expect(codeOf(() => createWorkerSandbox({ memoryMb: 1 }))).toBe('PROVIDER_BAD_OPTION');
    expect(codeOf(() => createWorkerSandbox({ backend: 'gpu' as never }))).toBe('PROVIDER_BAD_OPTION');
    const s = createWorkerSandbox();
    expect(await codeOfAsync(s.run(fx.trainSpec(), fx.copyBlobs(), { threads: 0, deadlineMs: 1000 }))).toBe('PROVIDER_BAD_OPTION');
    expect(await codeOfAsync(s.run(fx.trainSpec(), fx.copyBlobs(), { threads: 1, deadlineMs: 0 }))).toBe('PROVIDER_BAD_OPTION');
  });
});
