/**
 * The AdamW state blob of one DiLoCo slot: first and second moments "m" and
 * "v" (F32, laid out like the flat parameter vector) and the optimizer's step
 * count in the metadata ("step", decimal), which the bias corrections of
 * AdamW depend on (Loshchilov & Hutter 2019, Algorithm 2).
 */
import type { ModelConfig } from '../../model/config.ts';
import { paramCount } from '../../model/llama.ts';
import type { FlatAdamState } from '../unit.ts';
import { MAX_BLOB_HEADER_BYTES, blobError, checkFinite, checkTensorNames, decodeContainer, encodeContainer, parseCount, tensorOf } from './container.ts';

export const OPT_FORMAT = 'adamw/v1';
const WHAT = 'optimizer state';

export function encodeOptBlob(config: ModelConfig, opt: FlatAdamState): Uint8Array {
  const n = paramCount(config);
  if (opt.m.length !== n || opt.v.length !== n) blobError('WORK_BLOB_WRONG_SIZE', WHAT, `${opt.m.length}/${opt.v.length} values, the config needs ${n}`);
  if (!Number.isSafeInteger(opt.step) || opt.step < 0) blobError('WORK_BLOB_CORRUPT', WHAT, `step must be a non-negative integer, got ${opt.step}`);
  return encodeContainer(
    OPT_FORMAT,
    [{ name: 'm', dtype: 'F32', shape: [n], data: opt.m }, { name: 'v', dtype: 'F32', shape: [n], data: opt.v }],
    { step: String(opt.step) },
  );
}

/** The state from an AdamW blob: m finite, v finite and non-negative, step a count. */
export function decodeOptBlob(bytes: Uint8Array, config: ModelConfig): FlatAdamState {
  const n = paramCount(config);
  const d = decodeContainer(bytes, WHAT, { format: OPT_FORMAT, metadataKeys: ['step'], maxBytes: 8 + MAX_BLOB_HEADER_BYTES + 8 * n });
  checkTensorNames(d, WHAT, ['m', 'v']);
  const m = tensorOf<Float32Array>(d, WHAT, 'm', 'F32', [n]);
  const v = tensorOf<Float32Array>(d, WHAT, 'v', 'F32', [n]);
  checkFinite(m, WHAT, 'm');
  checkFinite(v, WHAT, 'v', true);
  return { step: parseCount(d.metadata.step, WHAT, 'step'), m, v };
}
