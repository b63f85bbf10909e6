/**
 * The params update blob of the int8 downlink (src/train/work/update-blob.ts):
 * a provider holding θ_r rebuilds θ_{r+1}'s params blob from it bit for bit,
 * and every wrong input — another base, a tampered update, a hostile blob —
 * fails with a code instead of yielding wrong parameters.
 */
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../../../src/core/sha256.ts';
import { decodeSafetensors, encodeSafetensors } from '../../../src/model/format/safetensors.ts';
import { initGlobalState, outerRound } from '../../../src/train/diloco/checkpoint.ts';
import { DILOCO_OUTER } from '../../../src/train/diloco/outer.ts';
import { encodeParamsBlob } from '../../../src/train/work/params-blob.ts';
import { deltaRows } from '../../../src/train/work/train-result.ts';
import { applyParamsUpdate, decodeUpdateBlob, encodeUpdateBlob } from '../../../src/train/work/update-blob.ts';
import { codeOf } from '../../helpers/errors.ts';
import { makeFixture } from './fixtures.ts';

describe('params update blobs', () => {
  const fx = makeFixture();
  const rows = deltaRows(fx.config);
  const base = encodeParamsBlob(fx.config, fx.theta);
  const delta = Float32Array.from(fx.theta, (_, i) => 1e-3 * Math.cos(i));
  const round = outerRound(initGlobalState(fx.theta, { residual: true }), [delta], { outer: DILOCO_OUTER, aggregate: { kind: 'mean' }, downlinkRows: rows });
  const target = encodeParamsBlob(fx.config, round.state.theta);
  const blob = encodeUpdateBlob(fx.config, { base: sha256Hex(base), target: sha256Hex(target), update: round.update! });

  it('rebuilds the target params blob bit for bit, at about a quarter of its size', () => {
    const r = applyParamsUpdate(fx.config, base, blob);
    expect(r.sha256).toBe(sha256Hex(target));
    expect(Buffer.from(r.bytes).equals(Buffer.from(target))).toBe(true);
    expect(blob.length * 3.5).toBeLessThan(target.length);
    const d = decodeUpdateBlob(blob, fx.config);
    expect(d.base).toBe(sha256Hex(base));
    expect(sha256Hex(encodeUpdateBlob(fx.config, d))).toBe(sha256Hex(blob));
  });

  it('another base, or an update that does not lead to its target: WORK_PATCH_MISMATCH', () => {
    expect(codeOf(() => applyParamsUpdate(fx.config, target, blob))).toBe('WORK_PATCH_MISMATCH');
    const d = decodeUpdateBlob(blob, fx.config);
    const q = Int8Array.from(d.update.q);
    q[5] = q[5]! === 127 ? 126 : q[5]! + 1;
    const tampered = encodeUpdateBlob(fx.config, { ...d, update: { q, scales: d.update.scales } });
    expect(codeOf(() => applyParamsUpdate(fx.config, base, tampered))).toBe('WORK_PATCH_MISMATCH');
  });

  it('rejects hostile blobs by class', () => {
    const d = decodeSafetensors(blob);
    const rebuild = (meta: Record<string, string>, q?: Int8Array, scales?: Float32Array): Uint8Array =>
      encodeSafetensors(
        [
          { name: 'update.q', dtype: 'I8', shape: d.tensors.get('update.q')!.shape, data: q ?? (d.tensors.get('update.q')!.data as Int8Array) },
          { name: 'update.scales', dtype: 'F32', shape: d.tensors.get('update.scales')!.shape, data: scales ?? (d.tensors.get('update.scales')!.data as Float32Array) },
        ],
        meta,
      );
    expect(codeOf(() => decodeUpdateBlob(blob.subarray(0, blob.length - 3), fx.config))).toMatch(/^WORK_BLOB_(TRUNCATED|CORRUPT)$/);
    expect(codeOf(() => decodeUpdateBlob(rebuild({ ...d.metadata, base: 'nope' }), fx.config))).toBe('WORK_BLOB_CORRUPT');
    expect(codeOf(() => decodeUpdateBlob(rebuild({ ...d.metadata, extra: '1' }), fx.config))).toBe('WORK_BLOB_CORRUPT');
    const q = Int8Array.from(d.tensors.get('update.q')!.data as Int8Array);
    q[0] = -128;
    expect(codeOf(() => decodeUpdateBlob(rebuild(d.metadata, q), fx.config))).toBe('WORK_BLOB_CORRUPT');
    const scales = Float32Array.from(d.tensors.get('update.scales')!.data as Float32Array);
    scales[0] = NaN;
    expect(codeOf(() => decodeUpdateBlob(rebuild(d.metadata, undefined, scales), fx.config))).toMatch(/^WORK_BLOB_/);
    expect(codeOf(() => decodeUpdateBlob(base, fx.config))).toMatch(/^WORK_BLOB_/); // a params blob is not an update
    expect(codeOf(() => encodeUpdateBlob(fx.config, { ...decodeUpdateBlob(blob, fx.config), target: 'x' }))).toBe('WORK_BLOB_CORRUPT');
  });
});
