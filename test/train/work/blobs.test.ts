/**
 * Work blob encodings: exact round trips, one byte form per content, and a
 * coded error for each class of hostile bytes (truncated, corrupt, wrong
 * size for the unit), per blob type.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { utf8Decode, utf8Encode } from '../../../src/core/encoding.ts';
import { preset } from '../../../src/model/config.ts';
import { decodeSafetensors, encodeSafetensors } from '../../../src/model/format/safetensors.ts';
import { paramCount } from '../../../src/model/llama.ts';
import { decodeEvalResult, encodeEvalResult } from '../../../src/train/work/eval-result.ts';
import { decodeOptBlob, encodeOptBlob } from '../../../src/train/work/opt-blob.ts';
import { decodeParamsBlob, encodeParamsBlob } from '../../../src/train/work/params-blob.ts';
import { decodeShardBlob, encodeShardBlob, evalShardBlob, trainShardBlob } from '../../../src/train/work/shard-blob.ts';
import { decodeTrainResult, deltaRows, encodeTrainResult } from '../../../src/train/work/train-result.ts';
import type { TrainResultParts } from '../../../src/train/work/train-result.ts';
import { codeOf } from '../../helpers/errors.ts';
import { BATCH, SEQ, makeFixture } from './fixtures.ts';
import type { Fixture } from './fixtures.ts';

/** Rewrites a safetensors header (re-padded to 8 bytes), keeping the data bytes. */
function rewriteHeader(bytes: Uint8Array, f: (json: string) => string): Uint8Array {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const json = utf8Encode(f(utf8Decode(bytes.subarray(8, 8 + n)).trimEnd()));
  const padded = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + padded + bytes.length - 8 - n);
  new DataView(out.buffer).setUint32(0, padded, true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + padded);
  out.set(bytes.subarray(8 + n), 8 + padded);
  return out;
}

/** Same bytes (fast on 100k-element arrays, where toEqual is slow). */
const same = (a: ArrayBufferView, b: ArrayBufferView): boolean =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

let fx: Fixture;
beforeAll(() => {
  fx = makeFixture();
});

describe('params blob', () => {
  it('round-trips θ bit for bit, canonically', () => {
    const b = encodeParamsBlob(fx.config, fx.theta);
    const back = decodeParamsBlob(b, fx.config);
    expect(same(back, fx.theta)).toBe(true);
    expect(same(encodeParamsBlob(fx.config, back), b)).toBe(true);
    expect(b.length).toBeLessThan(8 + 256 + 4 * paramCount(fx.config));
  });

  it('truncated → WORK_BLOB_TRUNCATED', () => {
    const b = encodeParamsBlob(fx.config, fx.theta);
    expect(codeOf(() => decodeParamsBlob(b.subarray(0, b.length - 1), fx.config))).toBe('WORK_BLOB_TRUNCATED');
    expect(codeOf(() => decodeParamsBlob(b.subarray(0, 5), fx.config))).toBe('WORK_BLOB_TRUNCATED');
  });

  it('corrupt → WORK_BLOB_CORRUPT (garbage, wrong format tag, extra tensor, NaN, non-canonical header)', () => {
    const b = encodeParamsBlob(fx.config, fx.theta);
    const garbage = b.slice();
    garbage[8] = 0x5b; // '[' instead of '{'
    expect(codeOf(() => decodeParamsBlob(garbage, fx.config))).toBe('WORK_BLOB_CORRUPT');
    expect(codeOf(() => decodeParamsBlob(rewriteHeader(b, (j) => j.replace('params/v1', 'params/v2')), fx.config))).toBe('WORK_BLOB_CORRUPT');
    const extra = encodeSafetensors(
      [{ name: 'params', shape: [fx.theta.length], data: fx.theta }, { name: 'x', shape: [1], data: new Float32Array(1) }],
      { format: 'sovereign-swarm/params/v1' },
    );
    expect(codeOf(() => decodeParamsBlob(extra, fx.config))).toBe('WORK_BLOB_CORRUPT');
    const nan = fx.theta.slice();
    nan[5] = NaN;
    expect(codeOf(() => decodeParamsBlob(encodeParamsBlob(fx.config, nan), fx.config))).toBe('WORK_BLOB_CORRUPT');
    // same tensors and metadata, other spacing: decodes, but is a second byte form
    const spaced = rewriteHeader(b, (j) => JSON.stringify(JSON.parse(j), null, 1));
    expect(decodeSafetensors(spaced).tensors.get('params')!.shape).toEqual([fx.theta.length]);
    expect(codeOf(() => decodeParamsBlob(spaced, fx.config))).toBe('WORK_BLOB_CORRUPT');
  });

  it('wrong size for the config → WORK_BLOB_WRONG_SIZE', () => {
    const other = preset('nano', { vocabSize: fx.config.vocabSize - 3, maxSeqLen: SEQ });
    const b = encodeParamsBlob(other, new Float32Array(paramCount(other)));
    expect(codeOf(() => decodeParamsBlob(b, fx.config))).toBe('WORK_BLOB_WRONG_SIZE');
    const bigger = preset('nano', { vocabSize: fx.config.vocabSize + 100, maxSeqLen: SEQ });
    expect(codeOf(() => decodeParamsBlob(encodeParamsBlob(bigger, new Float32Array(paramCount(bigger))), fx.config))).toBe('WORK_BLOB_WRONG_SIZE');
    expect(codeOf(() => encodeParamsBlob(fx.config, fx.theta.subarray(1)))).toBe('WORK_BLOB_WRONG_SIZE');
  });
});

describe('AdamW state blob', () => {
  const state = () => {
    const n = fx.theta.length;
    return { step: 17, m: Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 1e-3), v: Float32Array.from({ length: n }, (_, i) => (i % 7) * 1e-6) };
  };

  it('round-trips m, v and the step', () => {
    const s = state();
    const back = decodeOptBlob(encodeOptBlob(fx.config, s), fx.config);
    expect(back.step).toBe(17);
    expect(same(back.m, s.m)).toBe(true);
    expect(same(back.v, s.v)).toBe(true);
  });

  it('truncated → WORK_BLOB_TRUNCATED', () => {
    const b = encodeOptBlob(fx.config, state());
    expect(codeOf(() => decodeOptBlob(b.subarray(0, b.length - 4), fx.config))).toBe('WORK_BLOB_TRUNCATED');
  });

  it('corrupt → WORK_BLOB_CORRUPT (negative v, non-canonical or missing step)', () => {
    const s = state();
    s.v[3] = -1e-9;
    expect(codeOf(() => decodeOptBlob(encodeOptBlob(fx.config, s), fx.config))).toBe('WORK_BLOB_CORRUPT');
    const b = encodeOptBlob(fx.config, state());
    expect(codeOf(() => decodeOptBlob(rewriteHeader(b, (j) => j.replace('"step":"17"', '"step":"017"')), fx.config))).toBe('WORK_BLOB_CORRUPT');
    expect(codeOf(() => decodeOptBlob(rewriteHeader(b, (j) => j.replace('"step":"17"', '"step":"-1"')), fx.config))).toBe('WORK_BLOB_CORRUPT');
    expect(codeOf(() => decodeOptBlob(rewriteHeader(b, (j) => j.replace('"step":"17"', '"stop":"17"')), fx.config))).toBe('WORK_BLOB_CORRUPT');
    // a params blob is not an optimizer state
    expect(codeOf(() => decodeOptBlob(encodeParamsBlob(fx.config, fx.theta), fx.config))).toBe('WORK_BLOB_CORRUPT');
  });

  it('wrong size → WORK_BLOB_WRONG_SIZE', () => {
    const other = preset('nano', { vocabSize: 100, maxSeqLen: SEQ });
    const n = paramCount(other);
    const b = encodeOptBlob(other, { step: 1, m: new Float32Array(n), v: new Float32Array(n) });
    expect(codeOf(() => decodeOptBlob(b, fx.config))).toBe('WORK_BLOB_WRONG_SIZE');
  });
});

describe('data-shard blob', () => {
  it('a train shard holds the source batches of (shard, step) in step order', () => {
    const b = trainShardBlob(fx.source, 3, 4);
    const t = decodeShardBlob(b, { seqLen: SEQ, rows: 4 * BATCH, vocabSize: fx.config.vocabSize });
    for (let s = 0; s < 4; s++) {
      expect(Array.from(t.subarray(s * BATCH * (SEQ + 1), (s + 1) * BATCH * (SEQ + 1)))).toEqual(Array.from(fx.source.batch(3, s)));
    }
    expect(trainShardBlob(fx.source, 3, 4)).toEqual(b); // a pure function of (source, shard, steps)
    expect(trainShardBlob(fx.source, 4, 4)).not.toEqual(b);
  });

  it('an eval shard holds the evaluation windows in order, all or the first k', () => {
    const all = decodeShardBlob(evalShardBlob(fx.source), { seqLen: SEQ, rows: fx.source.evalWindows(), vocabSize: fx.config.vocabSize });
    const joined = [...fx.source.evalBatches()].flatMap((b) => Array.from(b));
    expect(Array.from(all)).toEqual(joined);
    const first = decodeShardBlob(evalShardBlob(fx.source, 5), { seqLen: SEQ, rows: 5, vocabSize: fx.config.vocabSize });
    expect(Array.from(first)).toEqual(joined.slice(0, 5 * (SEQ + 1)));
    expect(codeOf(() => evalShardBlob(fx.source, fx.source.evalWindows() + 1))).toBe('WORK_BAD_ARGUMENT');
  });

  it('truncated → WORK_BLOB_TRUNCATED', () => {
    const b = trainShardBlob(fx.source, 0, 2);
    expect(codeOf(() => decodeShardBlob(b.subarray(0, b.length - 2), { seqLen: SEQ, rows: 4, vocabSize: 259 }))).toBe('WORK_BLOB_TRUNCATED');
  });

  it('a token outside the vocabulary → WORK_BLOB_CORRUPT', () => {
    const t = new Int32Array(2 * (SEQ + 1));
    t[7] = 259;
    expect(codeOf(() => decodeShardBlob(encodeShardBlob(t, SEQ), { seqLen: SEQ, rows: 2, vocabSize: 259 }))).toBe('WORK_BLOB_CORRUPT');
    t[7] = 258;
    expect(decodeShardBlob(encodeShardBlob(t, SEQ), { seqLen: SEQ, rows: 2, vocabSize: 259 })[7]).toBe(258);
    expect(codeOf(() => encodeShardBlob(Int32Array.of(-1, 0), 1))).toBe('WORK_BAD_ARGUMENT');
  });

  it('other rows or seqLen than the unit expects → WORK_BLOB_WRONG_SIZE', () => {
    const b = trainShardBlob(fx.source, 0, 2); // 4 rows of 17
    expect(codeOf(() => decodeShardBlob(b, { seqLen: SEQ, rows: 6, vocabSize: 259 }))).toBe('WORK_BLOB_WRONG_SIZE');
    expect(codeOf(() => decodeShardBlob(b, { seqLen: SEQ, rows: 2, vocabSize: 259 }))).toBe('WORK_BLOB_WRONG_SIZE');
    expect(codeOf(() => decodeShardBlob(encodeShardBlob(new Int32Array(4 * 9), 8), { seqLen: SEQ, rows: 2, vocabSize: 259 }))).toBe('WORK_BLOB_WRONG_SIZE');
  });
});

describe('train result blob', () => {
  const parts = (): TrainResultParts => {
    const n = fx.theta.length;
    const rows = deltaRows(fx.config);
    const q = Int8Array.from({ length: n }, (_, i) => ((i * 37) % 255) - 127);
    const scales = Float32Array.from(rows, (_, r) => 1e-4 * (r + 1));
    return { q, scales, opt: { step: 2, m: new Float32Array(n).fill(1e-3), v: new Float32Array(n).fill(1e-6) }, metrics: { steps: 2, tokens: 64, losses: [5.5, 5.25], gradNorms: [1.5, 1.25] } };
  };

  it('round-trips, and the delta is q·scale per row', () => {
    const p = parts();
    const b = encodeTrainResult(fx.config, p);
    const d = decodeTrainResult(b, fx.config);
    expect(same(d.q, p.q)).toBe(true);
    expect(same(d.scales, p.scales)).toBe(true);
    expect(same(d.opt.m, p.opt.m) && same(d.opt.v, p.opt.v)).toBe(true);
    expect(d.opt.step).toBe(2);
    expect(d.metrics).toEqual(p.metrics);
    const rows = deltaRows(fx.config);
    expect(d.delta[rows[0]! + 3]).toBe(Math.fround(p.q[rows[0]! + 3]! * p.scales[1]!));
  });

  it('carries the metrics of a long unit (5000 steps: a header over 64 KiB)', () => {
    const steps = 5000;
    const p = { ...parts(), metrics: { steps, tokens: steps * 32, losses: Array.from({ length: steps }, (_, i) => Math.fround(5 - i / 1e4 + 1 / 3)), gradNorms: Array.from({ length: steps }, (_, i) => 1 / (i + 3)) } };
    const d = decodeTrainResult(encodeTrainResult(fx.config, p), fx.config);
    expect(d.metrics).toEqual(p.metrics);
  });

  it('truncated → WORK_BLOB_TRUNCATED', () => {
    const b = encodeTrainResult(fx.config, parts());
    expect(codeOf(() => decodeTrainResult(b.subarray(0, b.length - 100), fx.config))).toBe('WORK_BLOB_TRUNCATED');
  });

  it('corrupt → WORK_BLOB_CORRUPT (code -128, code over a zero scale, NaN scale, metrics not canonical or inconsistent)', () => {
    const p1 = parts();
    p1.q[10] = -128;
    expect(codeOf(() => decodeTrainResult(encodeTrainResult(fx.config, p1), fx.config))).toBe('WORK_BLOB_CORRUPT');
    const p2 = parts();
    p2.scales[0] = 0;
    expect(codeOf(() => decodeTrainResult(encodeTrainResult(fx.config, p2), fx.config))).toBe('WORK_BLOB_CORRUPT');
    p2.q.fill(0, 0, deltaRows(fx.config)[0]!);
    expect(decodeTrainResult(encodeTrainResult(fx.config, p2), fx.config).delta[0]).toBe(0);
    const p3 = parts();
    p3.scales[2] = NaN;
    expect(codeOf(() => decodeTrainResult(encodeTrainResult(fx.config, p3), fx.config))).toBe('WORK_BLOB_CORRUPT');
    const b = encodeTrainResult(fx.config, parts());
    // JSON-escaped metadata: the metrics string is {"gradNorms":[1.5,1.25],"losses":[5.5,5.25],"steps":2,"tokens":64}
    const spaced = rewriteHeader(b, (j) => j.replace('\\"steps\\":2', '\\"steps\\": 2'));
    expect(decodeSafetensors(spaced).metadata.metrics).toContain('"steps": 2');
    expect(codeOf(() => decodeTrainResult(spaced, fx.config))).toBe('WORK_BLOB_CORRUPT');
    const short = rewriteHeader(b, (j) => j.replace('[5.5,5.25]', '[5.5]'));
    expect(codeOf(() => decodeTrainResult(short, fx.config))).toBe('WORK_BLOB_CORRUPT');
  });

  it('for another config → WORK_BLOB_WRONG_SIZE', () => {
    const b = encodeTrainResult(fx.config, parts());
    const other = preset('nano', { vocabSize: fx.config.vocabSize + 1, maxSeqLen: SEQ });
    expect(codeOf(() => decodeTrainResult(b, other))).toBe('WORK_BLOB_WRONG_SIZE');
  });
});

describe('eval result', () => {
  it('is canonical JSON and round-trips', () => {
    const b = encodeEvalResult({ loss: 5.566475772857666, tokens: 160 });
    expect(utf8Decode(b)).toBe('{"kind":"eval","loss":5.566475772857666,"tokens":160,"v":1}');
    expect(decodeEvalResult(b)).toEqual({ loss: 5.566475772857666, tokens: 160 });
  });

  it('rejects other byte forms, bad values and oversize input', () => {
    expect(codeOf(() => decodeEvalResult(utf8Encode('{"v":1,"kind":"eval","loss":5,"tokens":160}')))).toBe('WORK_BLOB_CORRUPT');
    expect(codeOf(() => decodeEvalResult(utf8Encode('{"kind":"eval","loss":-1,"tokens":160,"v":1}')))).toBe('WORK_BLOB_CORRUPT');
    expect(codeOf(() => decodeEvalResult(utf8Encode('{"extra":0,"kind":"eval","loss":1,"tokens":160,"v":1}')))).toBe('WORK_BLOB_CORRUPT');
    expect(codeOf(() => decodeEvalResult(utf8Encode('{"kind":"eval","loss":1,"tokens":16')))).toBe('WORK_BLOB_CORRUPT');
    expect(codeOf(() => decodeEvalResult(new Uint8Array([0xff, 0xfe])))).toBe('WORK_BLOB_CORRUPT');
    expect(codeOf(() => decodeEvalResult(new Uint8Array(2000).fill(0x20)))).toBe('WORK_BLOB_WRONG_SIZE');
  });
});
