/**
 * The int8 downlink of a DiLoCo round as a blob (src/train/diloco/downlink.ts):
 * the update that turns θ_r's params blob (`base`) into θ_{r+1}'s (`target`).
 * A provider that holds the base downloads this — one byte a parameter plus
 * one scale per row — instead of the target's four bytes a parameter, rebuilds
 * the target with `applyParamsUpdate`, and keeps it only if it hashes to the
 * target (the tracker names all three hashes in the work assignment).
 *
 * Canonical safetensors (container.ts) holding
 *   update.q       I8  [N]     codes, row-wise like a delta (quantize.ts)
 *   update.scales  F32 [rows]  one scale per row
 * and in the metadata "base" and "target", the SHA-256 of the two params blobs.
 */
import { SwarmError } from '../../core/errors.ts';
import { sha256Hex } from '../../core/sha256.ts';
import type { ModelConfig } from '../../model/config.ts';
import { applyUpdate } from '../diloco/downlink.ts';
import type { QuantizedDelta } from '../diloco/quantize.ts';
import { paramCount } from '../../model/llama.ts';
import { MAX_BLOB_HEADER_BYTES, blobError, checkFinite, checkTensorNames, decodeContainer, encodeContainer, tensorOf } from './container.ts';
import { decodeParamsBlob, encodeParamsBlob } from './params-blob.ts';
import { checkCodes, deltaRows } from './train-result.ts';

export const PARAMS_UPDATE_FORMAT = 'params-update/v1';
const WHAT = 'params update';
const SHA_RE = /^[0-9a-f]{64}$/;

export interface ParamsUpdate {
  base: string;
  target: string;
  update: QuantizedDelta;
}

export function encodeUpdateBlob(config: ModelConfig, u: ParamsUpdate): Uint8Array {
  const n = paramCount(config);
  const rows = deltaRows(config).length;
  if (u.update.q.length !== n || u.update.scales.length !== rows) blobError('WORK_BLOB_WRONG_SIZE', WHAT, `${u.update.q.length} codes and ${u.update.scales.length} scales, the config needs ${n} and ${rows}`);
  if (!SHA_RE.test(u.base) || !SHA_RE.test(u.target)) blobError('WORK_BLOB_CORRUPT', WHAT, 'base and target must be SHA-256 hex digests');
  return encodeContainer(
    PARAMS_UPDATE_FORMAT,
    [
      { name: 'update.q', dtype: 'I8', shape: [n], data: u.update.q },
      { name: 'update.scales', dtype: 'F32', shape: [rows], data: u.update.scales },
    ],
    { base: u.base, target: u.target },
  );
}

/** Strict decode for `config`: sizes, codes in [-127, 127], finite non-negative scales, hashes. */
export function decodeUpdateBlob(bytes: Uint8Array, config: ModelConfig): ParamsUpdate {
  const n = paramCount(config);
  const layout = deltaRows(config);
  const d = decodeContainer(bytes, WHAT, { format: PARAMS_UPDATE_FORMAT, metadataKeys: ['base', 'target'], maxBytes: 8 + MAX_BLOB_HEADER_BYTES + n + 4 * layout.length });
  checkTensorNames(d, WHAT, ['update.q', 'update.scales']);
  const q = tensorOf<Int8Array>(d, WHAT, 'update.q', 'I8', [n]);
  const scales = tensorOf<Float32Array>(d, WHAT, 'update.scales', 'F32', [layout.length]);
  checkFinite(scales, WHAT, 'update.scales', true);
  checkCodes(q, scales, layout, WHAT);
  const base = d.metadata.base!, target = d.metadata.target!;
  if (!SHA_RE.test(base) || !SHA_RE.test(target)) blobError('WORK_BLOB_CORRUPT', WHAT, 'base and target must be SHA-256 hex digests');
  return { base, target, update: { q, scales } };
}

/**
 * The target params blob from the base params blob and an update blob. Throws
 * WORK_PATCH_MISMATCH when the base is not the update's, or the result does
 * not hash to the update's target (a corrupt or hostile update: the caller
 * then downloads the target itself).
 */
export function applyParamsUpdate(config: ModelConfig, baseBlob: Uint8Array, updateBlob: Uint8Array): { sha256: string; bytes: Uint8Array } {
  const u = decodeUpdateBlob(updateBlob, config);
  if (sha256Hex(baseBlob) !== u.base) throw new SwarmError('WORK_PATCH_MISMATCH', 'the params update is not for this base', { base: u.base });
  const bytes = encodeParamsBlob(config, applyUpdate(decodeParamsBlob(baseBlob, config), u.update, deltaRows(config)));
  const sha = sha256Hex(bytes);
  if (sha !== u.target) throw new SwarmError('WORK_PATCH_MISMATCH', 'the rebuilt parameters do not hash to the update\'s target', { target: u.target });
  return { sha256: sha, bytes };
}
