/**
 * The parameters blob: θ as one flat F32 tensor "params" of paramCount(config)
 * values, in the canonical order of paramShapes (the order of the flat
 * vector runTrainUnit and wrapFlatParams use). One tensor rather than one per
 * parameter keeps the layout a pure function of the config and the blob a
 * single checksum-friendly run of bytes; checkpoints in Hugging Face names
 * are model/format's business.
 */
import type { ModelConfig } from '../../model/config.ts';
import { paramCount } from '../../model/llama.ts';
import { MAX_BLOB_HEADER_BYTES, blobError, checkFinite, checkTensorNames, decodeContainer, encodeContainer, tensorOf } from './container.ts';

export const PARAMS_FORMAT = 'params/v1';
const WHAT = 'params';

export function encodeParamsBlob(config: ModelConfig, params: Float32Array): Uint8Array {
  const n = paramCount(config);
  if (params.length !== n) blobError('WORK_BLOB_WRONG_SIZE', WHAT, `${params.length} values, the config needs ${n}`);
  return encodeContainer(PARAMS_FORMAT, [{ name: 'params', dtype: 'F32', shape: [n], data: params }]);
}

/** θ from a params blob: exactly paramCount(config) finite f32 values. */
export function decodeParamsBlob(bytes: Uint8Array, config: ModelConfig): Float32Array {
  const n = paramCount(config);
  const d = decodeContainer(bytes, WHAT, { format: PARAMS_FORMAT, maxBytes: 8 + MAX_BLOB_HEADER_BYTES + 4 * n });
  checkTensorNames(d, WHAT, ['params']);
  const p = tensorOf<Float32Array>(d, WHAT, 'params', 'F32', [n]);
  checkFinite(p, WHAT, 'params');
  return p;
}
