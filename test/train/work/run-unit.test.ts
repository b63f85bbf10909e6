/**
 * runUnit: train and eval units give the same bytes on every run and engine,
 * match the local computation they stand for, and refuse missing or
 * tampered inputs before computing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRefBackend } from '../../../src/tensor/backend/ref.ts';
import { Engine } from '../../../src/tensor/tensor.ts';
import { createWasmBackend } from '../../../src/tensor/wasm/backend.ts';
import { quantizeRows } from '../../../src/train/diloco/quantize.ts';
import { evaluate, toBatch } from '../../../src/train/local-trainer.ts';
import { initFlatAdam, runTrainUnit } from '../../../src/train/unit.ts';
import type { FlatAdamState } from '../../../src/train/unit.ts';
import { decodeEvalResult } from '../../../src/train/work/eval-result.ts';
import { encodeOptBlob } from '../../../src/train/work/opt-blob.ts';
import { encodeParamsBlob } from '../../../src/train/work/params-blob.ts';
import { runUnit } from '../../../src/train/work/run-unit.ts';
import { trainShardBlob } from '../../../src/train/work/shard-blob.ts';
import { decodeTrainResult, deltaRows } from '../../../src/train/work/train-result.ts';
import { codeOf } from '../../helpers/errors.ts';
import { ADAMW, SEQ, makeFixture } from './fixtures.ts';
import type { Fixture } from './fixtures.ts';

const same = (a: ArrayBufferView, b: ArrayBufferView): boolean =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

let fx: Fixture;
let ref: Engine;
let wasm: Engine;
beforeAll(async () => {
  fx = makeFixture(2);
  ref = new Engine(createRefBackend());
  wasm = new Engine(await createWasmBackend({ threads: 2 }));
});
afterAll(() => wasm.backend.close());

/** The same H steps run directly with runTrainUnit on the source's batches of shard 0. */
function direct(params: Float32Array, opt: FlatAdamState, steps: number, first = 0) {
  return runTrainUnit(ref, { config: fx.config, params, opt, steps, adamw: ADAMW, batchAt: (s) => toBatch(fx.source.batch(0, first + s), SEQ) });
}

describe('runUnit: train', () => {
  it('is deterministic: the same hash twice, and on ref and wasm (2 threads)', () => {
    const get = (h: string) => fx.blobs.get(h);
    const progress: number[] = [];
    const a = runUnit(ref, fx.trainSpec(), get, (p) => progress.push(p));
    const b = runUnit(ref, fx.trainSpec(), get);
    const w = runUnit(wasm, fx.trainSpec(), get);
    expect(a.resultHash).toMatch(/^[0-9a-f]{64}$/);
    expect(b.resultHash).toBe(a.resultHash);
    expect(w.resultHash).toBe(a.resultHash);
    expect(same(w.result, a.result)).toBe(true);
    expect(progress).toEqual([0.5, 1]);
  });

  it('is the quantized θ_in − θ_out of the direct computation, with its AdamW state and metrics', () => {
    const out = runUnit(ref, fx.trainSpec(), (h) => fx.blobs.get(h));
    const d = decodeTrainResult(out.result, fx.config);
    const want = direct(fx.theta, initFlatAdam(fx.theta.length), 2);
    const exact = Float32Array.from(fx.theta, (x, i) => Math.fround(x - want.params[i]!));
    const rows = deltaRows(fx.config);
    const q = quantizeRows(exact, rows);
    expect(same(d.q, q.q) && same(d.scales, q.scales)).toBe(true);
    expect(same(d.opt.m, want.opt.m) && same(d.opt.v, want.opt.v)).toBe(true);
    expect(d.opt.step).toBe(2);
    // dequantized delta within half a quantization step of the exact one, row by row
    let at = 0;
    let moved = 0;
    let worst = 0; // largest error as a fraction of its row's scale
    for (let r = 0; r < rows.length; r++) {
      for (let i = at; i < at + rows[r]!; i++) {
        const err = Math.abs(d.delta[i]! - exact[i]!);
        if (err > 0) worst = Math.max(worst, err / d.scales[r]!);
        if (d.delta[i] !== 0) moved++;
      }
      at += rows[r]!;
    }
    expect(worst).toBeGreaterThan(0.1);
    expect(worst).toBeLessThanOrEqual(0.5 * (1 + 1e-6));
    expect(moved).toBeGreaterThan(fx.theta.length / 2);
    expect(d.metrics).toEqual({ steps: 2, tokens: 2 * 2 * SEQ, losses: want.metrics.losses, gradNorms: want.metrics.gradNorms });
    // near ln(259) ≈ 5.56 at initialisation, and finite
    for (const l of d.metrics.losses) expect(Math.abs(l - Math.log(259))).toBeLessThan(0.5);
    expect(out.metrics).toMatchObject({ loss: want.metrics.losses[1], firstLoss: want.metrics.losses[0], tokens: 64, steps: 2 });
  });

  it('continues from an optimizer-state blob exactly like one longer run', () => {
    const first = runUnit(ref, fx.trainSpec(), (h) => fx.blobs.get(h));
    const d = decodeTrainResult(first.result, fx.config);
    const mid = direct(fx.theta, initFlatAdam(fx.theta.length), 2);
    const params = fx.put(encodeParamsBlob(fx.config, mid.params));
    const opt = fx.put(encodeOptBlob(fx.config, d.opt));
    const data = fx.put(trainShardBlob(fx.source, 0, 2, 2));
    const second = decodeTrainResult(runUnit(ref, fx.trainSpec({ params, opt, data }), (h) => fx.blobs.get(h)).result, fx.config);
    const whole = direct(fx.theta, initFlatAdam(fx.theta.length), 4);
    expect(second.opt.step).toBe(4);
    expect(same(second.opt.m, whole.opt.m) && same(second.opt.v, whole.opt.v)).toBe(true);
  });
});

describe('runUnit: eval', () => {
  it("equals the local trainer's evaluate() on the same windows, on ref and wasm", () => {
    const get = (h: string) => fx.blobs.get(h);
    const progress: number[] = [];
    const out = runUnit(ref, fx.evalSpec(), get, (p) => progress.push(p));
    const r = decodeEvalResult(out.result);
    expect(r.loss).toBe(evaluate(ref, fx.config, fx.theta, fx.source));
    expect(r.tokens).toBe(fx.source.evalWindows() * SEQ);
    expect(out.metrics).toEqual({ loss: r.loss, tokens: r.tokens });
    expect(runUnit(wasm, fx.evalSpec(), get).resultHash).toBe(out.resultHash);
    expect(progress).toEqual([0.4, 0.8, 1]);
    // another batching of the same windows: the same loss up to f32 rounding of each batch mean
    const other = decodeEvalResult(runUnit(ref, fx.evalSpec({ batch: 3 }), get).result);
    expect(Math.abs(other.loss - r.loss)).toBeLessThan(1e-5);
  });
});

describe('runUnit: inputs are verified before use', () => {
  it('a missing blob → WORK_BLOB_MISSING', () => {
    const spec = fx.trainSpec();
    expect(codeOf(() => runUnit(ref, spec, (h) => (h === spec.data ? undefined : fx.blobs.get(h))))).toBe('WORK_BLOB_MISSING');
  });

  it('bytes that do not hash to their name → WORK_BLOB_HASH_MISMATCH', () => {
    const spec = fx.trainSpec();
    const tampered = fx.blobs.get(spec.params)!.slice();
    tampered[tampered.length - 1]! ^= 1;
    expect(codeOf(() => runUnit(ref, spec, (h) => (h === spec.params ? tampered : fx.blobs.get(h))))).toBe('WORK_BLOB_HASH_MISMATCH');
  });

  it('a correctly named blob of the wrong size for the unit → WORK_BLOB_WRONG_SIZE', () => {
    const data = fx.put(trainShardBlob(fx.source, 0, 1)); // 1 step of rows, the unit has 2
    expect(codeOf(() => runUnit(ref, fx.trainSpec({ data }), (h) => fx.blobs.get(h)))).toBe('WORK_BLOB_WRONG_SIZE');
    const evalData = fx.put(trainShardBlob(fx.source, 0, 1));
    expect(codeOf(() => runUnit(ref, fx.evalSpec({ data: evalData }), (h) => fx.blobs.get(h)))).toBe('WORK_BLOB_WRONG_SIZE');
  });

  it('a bad spec → WORK_BAD_SPEC / WORK_UNKNOWN_KIND before any blob is read', () => {
    let reads = 0;
    const get = (h: string) => {
      reads++;
      return fx.blobs.get(h);
    };
    expect(codeOf(() => runUnit(ref, { ...fx.trainSpec(), steps: 0 }, get))).toBe('WORK_BAD_SPEC');
    expect(codeOf(() => runUnit(ref, { ...fx.trainSpec(), kind: 'shell' }, get))).toBe('WORK_UNKNOWN_KIND');
    expect(reads).toBe(0);
  });
});
