/**
 * The head form of a train result (providers keep their slot's AdamW state):
 * split is deterministic, the head commits to the state by its hash, both
 * forms decode to the same delta, a continued unit from the kept state equals
 * one from the tracker-stored state, and hostile heads are rejected by class.
 */
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../../../src/core/sha256.ts';
import { encodeSafetensors, decodeSafetensors } from '../../../src/model/format/safetensors.ts';
import { createRefBackend } from '../../../src/tensor/backend/ref.ts';
import { Engine } from '../../../src/tensor/tensor.ts';
import { finalizeOutput } from '../../../src/train/work/finalize.ts';
import { runUnit } from '../../../src/train/work/run-unit.ts';
import { decodeTrainHead, decodeTrainOutput, decodeTrainResult, encodeTrainHead, splitTrainResult } from '../../../src/train/work/train-result.ts';
import { codeOf } from '../../helpers/errors.ts';
import { makeFixture } from './fixtures.ts';

const engine = new Engine(createRefBackend());

describe('train heads', () => {
  const fx = makeFixture();
  const full = runUnit(engine, fx.trainSpec(), (h) => fx.blobs.get(h)).result;

  it('split is deterministic and both forms decode to the same delta and state hash', () => {
    const a = splitTrainResult(full, fx.config);
    const b = splitTrainResult(full.slice(), fx.config);
    expect(sha256Hex(a.head)).toBe(sha256Hex(b.head));
    expect(a.optSha256).toBe(sha256Hex(a.optBlob));
    const fromHead = decodeTrainOutput(a.head, fx.config);
    const fromFull = decodeTrainOutput(full, fx.config);
    expect(fromHead.opt).toBeNull();
    expect(fromFull.opt).not.toBeNull();
    expect(fromHead.optSha256).toBe(fromFull.optSha256);
    expect(Buffer.from(fromHead.delta.buffer).equals(Buffer.from(decodeTrainResult(full, fx.config).delta.buffer))).toBe(true);
    expect(a.head.length * 5).toBeLessThan(full.length); // the AdamW moments are 8 bytes a parameter, the codes 1
  });

  it('a decoded head encodes back to the same bytes, and its parts are the full result\'s', () => {
    const { head, optSha256 } = splitTrainResult(full, fx.config);
    const h = decodeTrainHead(head, fx.config);
    const r = decodeTrainResult(full, fx.config);
    expect(Buffer.from(h.q.buffer, h.q.byteOffset, h.q.byteLength).equals(Buffer.from(r.q.buffer, r.q.byteOffset, r.q.byteLength))).toBe(true);
    expect(Array.from(h.scales)).toEqual(Array.from(r.scales));
    expect(h.optStep).toBe(r.opt.step);
    expect(h.optSha256).toBe(optSha256);
    expect(sha256Hex(encodeTrainHead(h))).toBe(sha256Hex(head));
    // a changed code is a different head (what a cheater's sign flip uploads)
    const q = Int8Array.from(h.q, (x) => -x);
    expect(sha256Hex(encodeTrainHead({ ...h, q }))).not.toBe(sha256Hex(head));
  });

  it('finalizeOutput keeps the state only for keepOpt units, and the kept state continues the slot exactly', () => {
    expect(finalizeOutput(fx.trainSpec(), full).keep).toEqual([]);
    const fin = finalizeOutput(fx.trainSpec({ keepOpt: true }), full);
    expect(fin.keep).toHaveLength(1);
    const kept = fin.keep[0]!;
    const next = (opt: string) => runUnit(engine, fx.trainSpec({ opt }), (h) => (h === kept.sha256 ? kept.bytes : fx.blobs.get(h))).resultHash;
    // the tracker-stored form of the same state (encodeOptBlob of the full result's moments) has the same hash
    expect(decodeTrainOutput(full, fx.config).optSha256).toBe(kept.sha256);
    expect(next(kept.sha256)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('rejects hostile heads by class', () => {
    const { head } = splitTrainResult(full, fx.config);
    const d = decodeSafetensors(head);
    const rebuild = (meta: Record<string, string>, q?: Int8Array): Uint8Array =>
      encodeSafetensors(
        [
          { name: 'delta.q', dtype: 'I8', shape: d.tensors.get('delta.q')!.shape, data: q ?? (d.tensors.get('delta.q')!.data as Int8Array) },
          { name: 'delta.scales', dtype: 'F32', shape: d.tensors.get('delta.scales')!.shape, data: d.tensors.get('delta.scales')!.data as Float32Array },
        ],
        meta,
      );
    expect(codeOf(() => decodeTrainHead(head.subarray(0, head.length - 10), fx.config))).toMatch(/^WORK_BLOB_(TRUNCATED|CORRUPT)$/);
    expect(codeOf(() => decodeTrainHead(rebuild({ ...d.metadata, 'opt.sha256': 'not-a-hash' }), fx.config))).toBe('WORK_BLOB_CORRUPT');
    expect(codeOf(() => decodeTrainHead(rebuild({ ...d.metadata, extra: '1' }), fx.config))).toBe('WORK_BLOB_CORRUPT');
    expect(codeOf(() => decodeTrainHead(rebuild({ ...d.metadata, metrics: '{"steps":1}' }), fx.config))).toBe('WORK_BLOB_CORRUPT');
    const bad = Int8Array.from(d.tensors.get('delta.q')!.data as Int8Array);
    bad[0] = -128;
    expect(codeOf(() => decodeTrainHead(rebuild(d.metadata, bad), fx.config))).toBe('WORK_BLOB_CORRUPT');
    // a head for another model size
    const other = { ...fx.config, dim: 32, hiddenDim: 96 };
    expect(codeOf(() => decodeTrainHead(head, other))).toMatch(/^WORK_BLOB_/);
    // the full form is not a head, and vice versa
    expect(codeOf(() => decodeTrainHead(full, fx.config))).toMatch(/^WORK_BLOB_/);
    expect(codeOf(() => decodeTrainResult(head, fx.config))).toMatch(/^WORK_BLOB_/);
  });
});
