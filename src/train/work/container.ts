/**
 * The container every work blob uses: a canonical safetensors file
 * (model/format/safetensors.ts) whose "__metadata__" names the blob's format
 * ("format": "sovereign-swarm/<what>/v<n>"). Canonical encoding means equal
 * contents give equal bytes, hence equal content addresses on every machine;
 * the decoder treats the bytes as hostile (a provider must not trust its
 * cache or the network, nor a tracker its providers).
 *
 * The safetensors codes are folded into the work layer's own, so a caller
 * (runUnit, the tracker's validator) branches on three classes of bad blob:
 *   WORK_BLOB_TRUNCATED   the file ends early (safetensors' TRUNCATED)
 *   WORK_BLOB_WRONG_SIZE  a well-formed file whose sizes do not fit the unit
 *                         (tensor shape, row count, total length)
 *   WORK_BLOB_CORRUPT     anything else: not safetensors, not in canonical
 *                         form, wrong format tag, missing/extra tensors,
 *                         wrong dtype, bad values
 * The original safetensors code is kept in details.reason and as the cause.
 */
import { canonicalize } from '../../core/canonical-json.ts';
import { bytesEqual } from '../../core/encoding.ts';
import { SwarmError, isSwarmError } from '../../core/errors.ts';
import type { ErrorDetails } from '../../core/errors.ts';
import { decodeSafetensors, encodeSafetensors } from '../../model/format/safetensors.ts';
import type { DecodedSafetensors, SafetensorsDtype, SafetensorsTensor, TensorData } from '../../model/format/safetensors.ts';

/** A work blob's header is a handful of entries; 64 KiB bounds the JSON a hostile file can make us parse. */
export const MAX_BLOB_HEADER_BYTES = 64 * 1024;

export const FORMAT_PREFIX = 'sovereign-swarm/';

export function blobError(code: 'WORK_BLOB_CORRUPT' | 'WORK_BLOB_WRONG_SIZE' | 'WORK_BLOB_TRUNCATED', what: string, message: string, details: ErrorDetails = {}): never {
  throw new SwarmError(code, `${what} blob: ${message}`, { blob: what, ...details });
}

/** Canonical safetensors bytes of `tensors` with metadata {format, ...extra}. */
export function encodeContainer(format: string, tensors: readonly SafetensorsTensor[], extra: Record<string, string> = {}): Uint8Array {
  return encodeSafetensors(tensors, { ...extra, format: FORMAT_PREFIX + format });
}

export interface ContainerExpectation {
  /** the format tag without the prefix, e.g. "params/v1" */
  format: string;
  /** metadata keys besides "format" the file must hold (no others are accepted) */
  metadataKeys?: readonly string[];
  /** an upper bound on the whole file's length (header bound plus the expected data) */
  maxBytes: number;
  /** an upper bound on the header (default MAX_BLOB_HEADER_BYTES) */
  maxHeaderBytes?: number;
}

/** Decodes and checks the container; tensors are checked by the caller with `tensorOf`. */
export function decodeContainer(bytes: Uint8Array, what: string, e: ContainerExpectation): DecodedSafetensors {
  if (!(bytes instanceof Uint8Array)) blobError('WORK_BLOB_CORRUPT', what, 'not a byte array');
  if (bytes.length > e.maxBytes) {
    blobError('WORK_BLOB_WRONG_SIZE', what, `${bytes.length} bytes, at most ${e.maxBytes} expected`, { length: bytes.length, maxBytes: e.maxBytes });
  }
  let d: DecodedSafetensors;
  try {
    d = decodeSafetensors(bytes, { maxHeaderBytes: e.maxHeaderBytes ?? MAX_BLOB_HEADER_BYTES });
  } catch (err) {
    if (!isSwarmError(err)) throw err;
    const code = err.code === 'SAFETENSORS_TRUNCATED' ? 'WORK_BLOB_TRUNCATED' : 'WORK_BLOB_CORRUPT';
    throw new SwarmError(code, `${what} blob: ${err.message}`, { blob: what, reason: err.code }, { cause: err });
  }
  // One content, one byte form: a header with other spacing, member order or
  // escapes would decode the same but hash differently.
  const again = encodeSafetensors([...d.tensors].map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape, data: t.data })), d.metadata);
  if (!bytesEqual(again, bytes)) blobError('WORK_BLOB_CORRUPT', what, 'not in canonical safetensors form');
  const keys = Object.keys(d.metadata).sort();
  const want = ['format', ...(e.metadataKeys ?? [])].sort();
  if (keys.length !== want.length || keys.some((k, i) => k !== want[i])) {
    blobError('WORK_BLOB_CORRUPT', what, `metadata keys ${JSON.stringify(keys)}, expected ${JSON.stringify(want)}`);
  }
  if (d.metadata.format !== FORMAT_PREFIX + e.format) {
    blobError('WORK_BLOB_CORRUPT', what, `format "${d.metadata.format}", expected "${FORMAT_PREFIX + e.format}"`);
  }
  return d;
}

/** Names of the tensors must be exactly `names`. */
export function checkTensorNames(d: DecodedSafetensors, what: string, names: readonly string[]): void {
  const have = [...d.tensors.keys()].sort();
  const want = [...names].sort();
  if (have.length !== want.length || have.some((k, i) => k !== want[i])) {
    blobError('WORK_BLOB_CORRUPT', what, `tensors ${JSON.stringify(have)}, expected ${JSON.stringify(want)}`);
  }
}

/** The tensor `name` with `dtype` and exactly `shape` (wrong shape: WORK_BLOB_WRONG_SIZE). */
export function tensorOf<T extends TensorData>(d: DecodedSafetensors, what: string, name: string, dtype: SafetensorsDtype, shape: readonly number[]): T {
  const t = d.tensors.get(name);
  if (t === undefined) blobError('WORK_BLOB_CORRUPT', what, `tensor "${name}" is missing`);
  if (t.dtype !== dtype) blobError('WORK_BLOB_CORRUPT', what, `tensor "${name}" is ${t.dtype}, expected ${dtype}`);
  if (t.shape.length !== shape.length || t.shape.some((s, i) => s !== shape[i])) {
    blobError('WORK_BLOB_WRONG_SIZE', what, `tensor "${name}" has shape ${JSON.stringify(t.shape)}, expected ${JSON.stringify(shape)}`, {
      tensor: name, shape: t.shape, expected: [...shape],
    });
  }
  return t.data as T;
}

/** Every value finite (and ≥ 0 when `nonNegative`), else WORK_BLOB_CORRUPT. */
export function checkFinite(a: Float32Array, what: string, name: string, nonNegative = false): void {
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    if (!Number.isFinite(x) || (nonNegative && !(x >= 0))) {
      blobError('WORK_BLOB_CORRUPT', what, `tensor "${name}" holds ${x} at ${i}${nonNegative ? ' (values must be finite and non-negative)' : ' (values must be finite)'}`, { tensor: name, index: i });
    }
  }
}

/** A non-negative safe integer written as its canonical decimal digits (no sign, no leading zeros). */
export function parseCount(s: string | undefined, what: string, key: string): number {
  if (s === undefined || !/^(0|[1-9][0-9]{0,15})$/.test(s) || !Number.isSafeInteger(Number(s))) {
    blobError('WORK_BLOB_CORRUPT', what, `metadata "${key}" must be a non-negative integer in decimal, got ${JSON.stringify(s)}`);
  }
  return Number(s);
}

/** Parses JSON that must be in canonical form (RFC 8785): one value, one byte form. */
export function parseCanonicalJson(s: string | undefined, what: string, key: string): unknown {
  let v: unknown;
  try {
    v = JSON.parse(s ?? '');
  } catch {
    blobError('WORK_BLOB_CORRUPT', what, `metadata "${key}" is not JSON`);
  }
  let canon: string | undefined;
  try {
    canon = canonicalize(v);
  } catch {
    canon = undefined;
  }
  if (canon !== s) blobError('WORK_BLOB_CORRUPT', what, `metadata "${key}" is not canonical JSON (RFC 8785)`);
  return v;
}
