/**
 * The result of an eval unit: the UTF-8 bytes of the RFC 8785 canonical JSON
 * {"kind":"eval","loss":L,"tokens":T,"v":1}. The loss is a mean of f32 batch
 * losses accumulated in binary64 in a fixed order, so it is the same double
 * on every machine, and JCS prints a double one way (ECMAScript's shortest
 * round-trip form), so replicas agree byte for byte.
 */
import { z } from 'zod';
import { canonicalBytes } from '../../core/canonical-json.ts';
import { bytesEqual, utf8Decode } from '../../core/encoding.ts';
import { blobError } from './container.ts';
import { MAX_SHARD_TOKENS } from './limits.ts';

const WHAT = 'eval result';
/** Far above the ~70 bytes a real one takes. */
const MAX_EVAL_RESULT_BYTES = 1024;

export interface EvalResult {
  /** mean next-token cross-entropy, nats per token */
  loss: number;
  /** tokens scored */
  tokens: number;
}

const EvalResultSchema = z.strictObject({
  v: z.literal(1),
  kind: z.literal('eval'),
  loss: z.number().min(0),
  tokens: z.number().int().min(1).max(MAX_SHARD_TOKENS),
});

export function encodeEvalResult(r: EvalResult): Uint8Array {
  const parsed = EvalResultSchema.safeParse({ v: 1, kind: 'eval', loss: r.loss, tokens: r.tokens });
  if (!parsed.success) blobError('WORK_BLOB_CORRUPT', WHAT, parsed.error.issues[0]!.message);
  return canonicalBytes(parsed.data);
}

export function decodeEvalResult(bytes: Uint8Array): EvalResult {
  if (!(bytes instanceof Uint8Array)) blobError('WORK_BLOB_CORRUPT', WHAT, 'not a byte array');
  if (bytes.length > MAX_EVAL_RESULT_BYTES) blobError('WORK_BLOB_WRONG_SIZE', WHAT, `${bytes.length} bytes, at most ${MAX_EVAL_RESULT_BYTES}`);
  let value: unknown;
  try {
    value = JSON.parse(utf8Decode(bytes));
  } catch {
    return blobError('WORK_BLOB_CORRUPT', WHAT, 'not UTF-8 JSON');
  }
  const parsed = EvalResultSchema.safeParse(value);
  if (!parsed.success) blobError('WORK_BLOB_CORRUPT', WHAT, parsed.error.issues[0]!.message);
  if (!bytesEqual(canonicalBytes(parsed.data), bytes)) blobError('WORK_BLOB_CORRUPT', WHAT, 'not canonical JSON (RFC 8785)');
  return { loss: parsed.data.loss, tokens: parsed.data.tokens };
}
