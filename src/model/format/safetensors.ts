/**
 * safetensors: encode and decode on bytes (no file I/O here; see
 * checkpoint-dir.ts for that).
 *
 * The format (huggingface/safetensors, README.md "Format"):
 *   - 8 bytes: N, an unsigned little-endian 64-bit integer, the header size;
 *   - N bytes: a UTF-8 JSON object, the header. It maps each tensor name to
 *     {"dtype": "F32", "shape": [2, 3], "data_offsets": [BEGIN, END]}, with
 *     offsets relative to the start of the byte buffer and END one past the
 *     last byte. The reserved key "__metadata__" holds a string-to-string map.
 *     The header must begin with '{' and may be padded with trailing spaces;
 *   - the rest of the file: the byte buffer. Tensors are little-endian and
 *     row-major ('C' order), packed without strides.
 * The README's notes add: duplicate keys are disallowed; empty tensors (a 0
 * dimension) and 0-rank tensors (shape []) are allowed; the byte buffer "needs
 * to be entirely indexed, and cannot contain holes", which prevents polyglot
 * files; the reference reader refuses headers over 100 MB (MAX_HEADER_SIZE in
 * safetensors/src/tensor.rs) so a hostile file cannot make it parse gigabytes
 * of JSON.
 *
 * Decoding treats the file as hostile. Every check of the reference reader
 * (read_metadata and Metadata::validate in safetensors/src/tensor.rs) is
 * made, plus the ones its serde parse makes implicitly, and every failure is
 * a coded SwarmError, never an out-of-bounds read or a silently wrong tensor:
 *   SAFETENSORS_BAD_INPUT        bytes is not a Uint8Array / bad options
 *   SAFETENSORS_TRUNCATED        shorter than 8 bytes, header or data past the end
 *   SAFETENSORS_HEADER_TOO_LARGE N > maxHeaderBytes (default 100 MB, as the reference)
 *   SAFETENSORS_BAD_HEADER       not '{' first, invalid UTF-8 or JSON, not an object,
 *                                a tensor entry without exactly dtype/shape/data_offsets
 *   SAFETENSORS_DUPLICATE_NAME   a name twice in the header (JSON.parse would keep the last)
 *   SAFETENSORS_BAD_METADATA     __metadata__ not an object of strings
 *   SAFETENSORS_BAD_DTYPE        a dtype the format does not define
 *   SAFETENSORS_BAD_SHAPE        shape not an array of non-negative integers, or too large
 *   SAFETENSORS_SHAPE_MISMATCH   END-BEGIN differs from shape x dtype size; or a
 *                                tensor's shape differs from `expect`
 *   SAFETENSORS_BAD_OFFSETS      malformed offsets, BEGIN > END, gaps, overlaps,
 *                                bytes after the last tensor (buffer not entirely indexed)
 *   SAFETENSORS_DTYPE_MISMATCH   a tensor's dtype is not the one `expect` names
 *   SAFETENSORS_MISSING_TENSOR   a tensor of `expect` is absent
 *   SAFETENSORS_UNEXPECTED_TENSOR a tensor not in `expect` (unless allowExtra)
 * The encoder reuses these codes for its own input (duplicate names, bad
 * dtypes, shapes, metadata, data lengths) and adds SAFETENSORS_BAD_NAME (a
 * name that is "__metadata__" or not well-formed Unicode) and
 * SAFETENSORS_BAD_DATA (a typed array that cannot hold the dtype).
 *
 * Encoding is canonical, so that equal tensors give equal bytes and hence
 * equal checkpoint hashes on every machine:
 *   - tensors sorted by name (JavaScript string order, i.e. UTF-16 code
 *     units), and the data laid out in that order with no gaps. (The Rust
 *     reference sorts by dtype alignment first, then name; for a file with
 *     one dtype, e.g. our all-F32 checkpoints, the two orders agree.)
 *   - the header JSON with no whitespace, "__metadata__" first (omitted when
 *     empty, as the reference omits None) with its keys sorted, then each
 *     tensor as {"dtype","shape","data_offsets"} in that key order (the
 *     reference's serde field order), strings escaped by JSON.stringify;
 *   - the header padded with spaces (0x20) to a multiple of 8 bytes, as the
 *     reference's prepare() does, so the buffer starts 8-byte aligned.
 * The reference's own test vectors (test_serialization, test_empty in
 * safetensors/src/tensor.rs) come out byte for byte; see the tests.
 *
 * Values: F16 and BF16 decode exactly into Float32Array (every half and
 * bfloat16 value is an f32 value), so Hugging Face checkpoints load into the
 * f32 engine. Conversions work on bit patterns, never through JS numbers, so
 * NaN payloads, -0 and subnormals survive byte-exactly (reading a float into
 * a double may quiet a signalling NaN). Encoding a Float32Array as F16/BF16
 * rounds to nearest, ties to even (IEEE 754-2019 §4.3.1).
 */
import { utf8Decode, utf8Encode } from '../../core/encoding.ts';
import { SwarmError, check } from '../../core/errors.ts';

// ---------------------------------------------------------------------------
// dtypes

/** Every dtype of the format (safetensors/src/tensor.rs, enum Dtype). */
export type SafetensorsDtype =
  | 'BOOL' | 'U8' | 'I8' | 'F8_E5M2' | 'F8_E4M3' | 'F8_E8M0'
  | 'I16' | 'U16' | 'F16' | 'BF16'
  | 'I32' | 'U32' | 'F32'
  | 'F64' | 'I64' | 'U64' | 'C64'
  | 'F4' | 'F6_E2M3' | 'F6_E3M2';

/** Bits per element (Dtype::bitsize in the reference). */
const DTYPE_BITS: Readonly<Record<SafetensorsDtype, number>> = {
  F4: 4, F6_E2M3: 6, F6_E3M2: 6,
  BOOL: 8, U8: 8, I8: 8, F8_E5M2: 8, F8_E4M3: 8, F8_E8M0: 8,
  I16: 16, U16: 16, F16: 16, BF16: 16,
  I32: 32, U32: 32, F32: 32,
  F64: 64, I64: 64, U64: 64, C64: 64,
};

export const SAFETENSORS_DTYPES: readonly SafetensorsDtype[] = Object.keys(DTYPE_BITS) as SafetensorsDtype[];

/** The float dtypes that decode to Float32Array. */
export const FLOAT_DTYPES: readonly SafetensorsDtype[] = ['F32', 'F16', 'BF16'];

export function isSafetensorsDtype(x: unknown): x is SafetensorsDtype {
  return typeof x === 'string' && Object.prototype.hasOwnProperty.call(DTYPE_BITS, x);
}

/** Bits per element of `dtype`. */
export function dtypeBits(dtype: SafetensorsDtype): number {
  return DTYPE_BITS[dtype];
}

/**
 * Element arrays. Uint8Array given to the encoder always means the raw
 * little-endian bytes of the tensor, whatever its dtype. The decoder returns
 * Float32Array for F32/F16/BF16, the matching typed array for the integer
 * dtypes and F64, and raw bytes (Uint8Array) for the dtypes the engine cannot
 * compute with (F8_*, F4, F6_*, C64).
 */
export type TensorData =
  | Float32Array | Float64Array
  | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array
  | BigInt64Array | BigUint64Array;

/** One tensor to encode. dtype defaults to F32. */
export interface SafetensorsTensor {
  name: string;
  dtype?: SafetensorsDtype;
  shape: readonly number[];
  data: TensorData;
}

export interface DecodedTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  data: TensorData;
}

/** What a named tensor must look like; dtype absent means any, a list means any of them. */
export interface SafetensorsExpectation {
  shape: readonly number[];
  dtype?: SafetensorsDtype | readonly SafetensorsDtype[];
}

export type SafetensorsExpectMap =
  | ReadonlyMap<string, SafetensorsExpectation>
  | Readonly<Record<string, SafetensorsExpectation>>;

export interface DecodeSafetensorsOptions {
  /** largest header accepted, bytes (default 100_000_000, the reference's MAX_HEADER_SIZE) */
  maxHeaderBytes?: number;
  /** the tensors the file must hold, with their shapes and dtypes */
  expect?: SafetensorsExpectMap;
  /** with `expect`: accept tensors it does not name (default false: a checkpoint is exactly the model) */
  allowExtra?: boolean;
}

export interface DecodedSafetensors {
  /** in the file's data order (ascending offsets) */
  tensors: Map<string, DecodedTensor>;
  /** the __metadata__ map ({} when absent) */
  metadata: Record<string, string>;
}

/** The reference's MAX_HEADER_SIZE (safetensors/src/tensor.rs). */
export const DEFAULT_MAX_HEADER_BYTES = 100_000_000;

const METADATA_KEY = '__metadata__';

// ---------------------------------------------------------------------------
// half precision (IEEE 754 binary16) and bfloat16, on bit patterns

/** binary16 bits -> binary32 bits, exact (binary16 ⊂ binary32). NaN payloads kept. */
export function f16BitsToF32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0; // ±inf, NaN with its payload
  if (exp !== 0) return (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0; // rebias 15 -> 127
  if (mant === 0) return sign >>> 0; // ±0
  // Subnormal: mant * 2^-24. Normalise so the leading 1 moves to bit 10.
  let e = 113;
  let m = mant;
  while ((m & 0x400) === 0) {
    m <<= 1;
    e--;
  }
  return (sign | (e << 23) | ((m & 0x3ff) << 13)) >>> 0;
}

/**
 * binary32 bits -> binary16 bits, rounding to nearest, ties to even;
 * overflow gives ±inf, underflow ±0 or a subnormal. A NaN keeps the top 10
 * bits of its payload (the quiet bit is set if they are all zero, so it stays
 * a NaN), which makes f16 -> f32 -> f16 the identity on all 65536 patterns.
 */
export function f32BitsToF16Bits(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) {
    if (mant === 0) return sign | 0x7c00;
    const m = mant >>> 13;
    return sign | 0x7c00 | (m === 0 ? 0x200 : m);
  }
  const e = exp - 112; // binary16 biased exponent (127 - 15 = 112)
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Result is subnormal (or zero): value / 2^-24 = m * 2^(e - 14), m with its implicit bit.
    if (e < -10) return sign; // below half the smallest subnormal: rounds to ±0
    const m = mant | 0x800000;
    const shift = 14 - e; // 14..24
    const half = 1 << (shift - 1);
    const rem = m & ((1 << shift) - 1);
    let r = m >>> shift;
    if (rem > half || (rem === half && (r & 1) === 1)) r++; // may carry into the smallest normal: correct
    return sign | r;
  }
  let r = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (r & 1) === 1)) r++; // a carry may reach 0x7c00 = inf: correct
  return sign | r;
}

/** bfloat16 bits -> binary32 bits: bfloat16 is the top half of a binary32. */
export function bf16BitsToF32Bits(b: number): number {
  return ((b & 0xffff) << 16) >>> 0;
}

/** binary32 bits -> bfloat16 bits, round to nearest, ties to even; NaN keeps its top payload bits. */
export function f32BitsToBf16Bits(x: number): number {
  if ((x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff) !== 0) {
    const r = x >>> 16;
    return (r & 0x7f) === 0 ? r | 0x40 : r;
  }
  // x + 0x7fff + lsb stays below 2^32 for every non-NaN x (max 0xff7fffff + 0x8000).
  return ((x >>> 0) + 0x7fff + ((x >>> 16) & 1)) >>> 16;
}

let f16Table: Uint32Array | undefined;
/** All 65536 binary16 -> binary32 conversions (256 KiB), built on first use. */
function f16ToF32Table(): Uint32Array {
  if (f16Table === undefined) {
    const t = new Uint32Array(65536);
    for (let h = 0; h < 65536; h++) t[h] = f16BitsToF32Bits(h);
    f16Table = t;
  }
  return f16Table;
}

// ---------------------------------------------------------------------------
// byte order

/** True on little-endian hosts (every current JS platform; kept honest anyway). */
const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Reverses each `size`-byte group of `b` in place (host order <-> little-endian on BE hosts). */
function swapInPlace(b: Uint8Array, size: number): void {
  if (size === 1) return;
  for (let i = 0; i < b.length; i += size) {
    for (let lo = i, hi = i + size - 1; lo < hi; lo++, hi--) {
      const t = b[lo]!;
      b[lo] = b[hi]!;
      b[hi] = t;
    }
  }
}

function bytesOf(a: TensorData): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

// ---------------------------------------------------------------------------
// shapes

/** Elements of a validated shape, or -1 if a dimension is not a non-negative safe integer. */
function elementCount(shape: readonly unknown[]): bigint {
  let n = 1n;
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) return -1n;
    n *= BigInt(d);
  }
  return n;
}

/**
 * Bytes of a tensor: elements x bits / 8, which must be a whole number and a
 * safe integer (sub-byte dtypes must fill whole bytes, as the reference's
 * validate requires).
 */
function byteLength(name: string, dtype: SafetensorsDtype, shape: readonly number[], numel: bigint): number {
  const bits = numel * BigInt(DTYPE_BITS[dtype]);
  if (bits % 8n !== 0n) {
    throw new SwarmError('SAFETENSORS_SHAPE_MISMATCH', `tensor "${name}": ${numel} elements of ${dtype} do not fill whole bytes`, {
      name, dtype, shape: [...shape],
    });
  }
  const bytes = bits / 8n;
  if (bytes > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new SwarmError('SAFETENSORS_BAD_SHAPE', `tensor "${name}": shape ${JSON.stringify(shape)} is too large`, { name, shape: [...shape] });
  }
  return Number(bytes);
}

// ---------------------------------------------------------------------------
// encode

/** The little-endian bytes of `data` stored as `dtype` (a fresh copy). */
function encodeData(name: string, dtype: SafetensorsDtype, data: TensorData, numel: number, nbytes: number): Uint8Array {
  const bad = (what: string): never => {
    throw new SwarmError('SAFETENSORS_BAD_DATA', `tensor "${name}": ${what}`, { name, dtype, data: data?.constructor?.name ?? typeof data });
  };
  const lengthMismatch = (have: number, want: number): never => {
    throw new SwarmError('SAFETENSORS_SHAPE_MISMATCH', `tensor "${name}": data has ${have} elements, shape needs ${want}`, {
      name, dtype, have, want,
    });
  };

  if (data instanceof Uint8Array) {
    // Raw little-endian bytes, any dtype.
    if (data.length !== nbytes) {
      throw new SwarmError('SAFETENSORS_SHAPE_MISMATCH', `tensor "${name}": ${data.length} raw bytes, shape needs ${nbytes}`, {
        name, dtype, have: data.length, want: nbytes,
      });
    }
    return data.slice();
  }

  if ((dtype === 'F16' || dtype === 'BF16') && data instanceof Float32Array) {
    if (data.length !== numel) lengthMismatch(data.length, numel);
    const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
    const conv = dtype === 'F16' ? f32BitsToF16Bits : f32BitsToBf16Bits;
    const out = new Uint8Array(nbytes);
    for (let i = 0; i < bits.length; i++) {
      const h = conv(bits[i]!);
      out[2 * i] = h & 0xff;
      out[2 * i + 1] = h >>> 8;
    }
    return out;
  }

  // Otherwise the typed array must be the dtype's own element type
  // (Uint16Array for F16/BF16 holds the 16-bit patterns).
  const ok =
    (dtype === 'F32' && data instanceof Float32Array) ||
    (dtype === 'F64' && data instanceof Float64Array) ||
    (dtype === 'I8' && data instanceof Int8Array) ||
    (dtype === 'I16' && data instanceof Int16Array) ||
    ((dtype === 'U16' || dtype === 'F16' || dtype === 'BF16') && data instanceof Uint16Array) ||
    (dtype === 'I32' && data instanceof Int32Array) ||
    (dtype === 'U32' && data instanceof Uint32Array) ||
    (dtype === 'I64' && data instanceof BigInt64Array) ||
    (dtype === 'U64' && data instanceof BigUint64Array);
  if (!ok) bad(`a ${data?.constructor?.name ?? typeof data} cannot hold ${dtype} (give raw bytes as a Uint8Array)`);
  if (data.length !== numel) lengthMismatch(data.length, numel);
  const out = bytesOf(data).slice();
  if (!HOST_LE) swapInPlace(out, data.BYTES_PER_ELEMENT);
  return out;
}

function checkName(name: unknown): asserts name is string {
  if (typeof name !== 'string') throw new SwarmError('SAFETENSORS_BAD_NAME', 'tensor name must be a string', { name: String(name) });
  if (name === METADATA_KEY) throw new SwarmError('SAFETENSORS_BAD_NAME', `"${METADATA_KEY}" is reserved for the metadata map`, { name });
  try {
    utf8Encode(name);
  } catch {
    throw new SwarmError('SAFETENSORS_BAD_NAME', 'tensor name is not well-formed Unicode (lone surrogate)', { name });
  }
}

/** Sorted entries of a string-to-string metadata map, validated. */
function metadataEntries(metadata: Readonly<Record<string, string>> | undefined): Array<[string, string]> {
  if (metadata === undefined) return [];
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) {
    throw new SwarmError('SAFETENSORS_BAD_METADATA', 'metadata must be a string-to-string object');
  }
  const entries = Object.entries(metadata);
  for (const [k, v] of entries) {
    if (typeof v !== 'string') throw new SwarmError('SAFETENSORS_BAD_METADATA', `metadata "${k}" must be a string`, { key: k });
    try {
      utf8Encode(k);
      utf8Encode(v);
    } catch {
      throw new SwarmError('SAFETENSORS_BAD_METADATA', `metadata "${k}" is not well-formed Unicode`, { key: k });
    }
  }
  return entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/**
 * Encodes tensors as a canonical safetensors file (layout in the module
 * comment). Throws SAFETENSORS_BAD_NAME / _DUPLICATE_NAME / _BAD_DTYPE /
 * _BAD_SHAPE / _SHAPE_MISMATCH / _BAD_DATA / _BAD_METADATA /
 * _HEADER_TOO_LARGE on bad input.
 */
export function encodeSafetensors(
  tensors: readonly SafetensorsTensor[],
  metadata?: Readonly<Record<string, string>>,
): Uint8Array {
  check(Array.isArray(tensors), 'SAFETENSORS_BAD_INPUT', 'tensors must be an array');
  const seen = new Set<string>();
  const prepared: Array<{ name: string; dtype: SafetensorsDtype; shape: number[]; bytes: Uint8Array }> = [];
  for (const t of tensors) {
    checkName(t?.name);
    const name = t.name;
    if (seen.has(name)) throw new SwarmError('SAFETENSORS_DUPLICATE_NAME', `tensor "${name}" given twice`, { name });
    seen.add(name);
    const dtype = t.dtype ?? 'F32';
    check(isSafetensorsDtype(dtype), 'SAFETENSORS_BAD_DTYPE', `tensor "${name}": unknown dtype ${String(dtype)}`, { name, dtype: String(dtype) });
    check(Array.isArray(t.shape), 'SAFETENSORS_BAD_SHAPE', `tensor "${name}": shape must be an array`, { name });
    const numel = elementCount(t.shape);
    if (numel < 0n) throw new SwarmError('SAFETENSORS_BAD_SHAPE', `tensor "${name}": dimensions must be non-negative integers`, { name, shape: [...t.shape] });
    const nbytes = byteLength(name, dtype, t.shape, numel);
    const bytes = encodeData(name, dtype, t.data, Number(numel), nbytes);
    prepared.push({ name, dtype, shape: [...t.shape], bytes });
  }
  prepared.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  const parts: string[] = [];
  const meta = metadataEntries(metadata);
  if (meta.length > 0) {
    parts.push(`${JSON.stringify(METADATA_KEY)}:{${meta.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`);
  }
  let offset = 0;
  for (const p of prepared) {
    const end = offset + p.bytes.length;
    parts.push(`${JSON.stringify(p.name)}:{"dtype":"${p.dtype}","shape":[${p.shape.join(',')}],"data_offsets":[${offset},${end}]}`);
    offset = end;
  }
  const json = utf8Encode(`{${parts.join(',')}}`);
  const headerLen = Math.ceil(json.length / 8) * 8;
  if (headerLen > DEFAULT_MAX_HEADER_BYTES) {
    throw new SwarmError('SAFETENSORS_HEADER_TOO_LARGE', `header of ${headerLen} bytes exceeds ${DEFAULT_MAX_HEADER_BYTES}`, { headerLen });
  }
  if (8 + headerLen + offset > Number.MAX_SAFE_INTEGER) throw new SwarmError('SAFETENSORS_BAD_SHAPE', 'tensors too large for one file');

  const out = new Uint8Array(8 + headerLen + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerLen, true); // N < 2^32 here, so the high word stays 0
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLen);
  let at = 8 + headerLen;
  for (const p of prepared) {
    out.set(p.bytes, at);
    at += p.bytes.length;
  }
  return out;
}

// ---------------------------------------------------------------------------
// strict JSON for the header
//
// JSON.parse cannot be used: it keeps the last of duplicate keys silently
// (the README forbids duplicates; two readers keeping different copies is the
// classic aliasing attack), and it reads 1e2, 2.0 and -0 as integers where
// the reference's serde_json (usize fields) rejects them. This parser follows
// RFC 8259's grammar, keeps object members in order, reports duplicates, and
// returns numbers as their source text so integers are checked exactly.

type Json = null | boolean | string | JsonNum | Json[] | JsonObj;
class JsonNum {
  constructor(readonly text: string) {}
}
class JsonObj {
  constructor(readonly entries: Array<[string, Json]>) {}
}

/** Deep enough for any header (root > tensor > shape is depth 3). Bounds recursion on hostile input. */
const MAX_JSON_DEPTH = 32;

class HeaderParser {
  private i = 0;
  constructor(private readonly s: string) {}

  private error(why: string): never {
    throw new SwarmError('SAFETENSORS_BAD_HEADER', `header is not valid JSON: ${why} at character ${this.i}`, { at: this.i });
  }

  parseDocument(): Json {
    this.ws();
    const v = this.value(0);
    this.ws();
    if (this.i !== this.s.length) this.error('trailing characters');
    return v;
  }

  private ws(): void {
    const s = this.s;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) this.i++;
      else break;
    }
  }

  private value(depth: number): Json {
    if (depth > MAX_JSON_DEPTH) this.error('nesting too deep');
    const c = this.s[this.i];
    if (c === '{') return this.object(depth);
    if (c === '[') return this.array(depth);
    if (c === '"') return this.string();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
    for (const [word, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (this.s.startsWith(word, this.i)) {
        this.i += word.length;
        return v;
      }
    }
    return this.error(c === undefined ? 'unexpected end' : `unexpected ${JSON.stringify(c)}`);
  }

  private object(depth: number): JsonObj {
    this.i++; // {
    const entries: Array<[string, Json]> = [];
    const keys = new Set<string>();
    this.ws();
    if (this.s[this.i] === '}') {
      this.i++;
      return new JsonObj(entries);
    }
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '"') this.error('expected a member name');
      const key = this.string();
      if (keys.has(key)) {
        if (depth === 0) throw new SwarmError('SAFETENSORS_DUPLICATE_NAME', `tensor "${key}" appears twice in the header`, { name: key });
        throw new SwarmError('SAFETENSORS_BAD_HEADER', `duplicate key "${key}" in the header`, { key });
      }
      keys.add(key);
      this.ws();
      if (this.s[this.i] !== ':') this.error("expected ':'");
      this.i++;
      this.ws();
      entries.push([key, this.value(depth + 1)]);
      this.ws();
      const c = this.s[this.i++];
      if (c === '}') return new JsonObj(entries);
      if (c !== ',') this.error("expected ',' or '}'");
    }
  }

  private array(depth: number): Json[] {
    this.i++; // [
    const out: Json[] = [];
    this.ws();
    if (this.s[this.i] === ']') {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      out.push(this.value(depth + 1));
      this.ws();
      const c = this.s[this.i++];
      if (c === ']') return out;
      if (c !== ',') this.error("expected ',' or ']'");
    }
  }

  private string(): string {
    const s = this.s;
    this.i++; // opening quote
    let out = '';
    let run = this.i;
    for (;;) {
      if (this.i >= s.length) this.error('unterminated string');
      const c = s.charCodeAt(this.i);
      if (c === 0x22) {
        out += s.slice(run, this.i);
        this.i++;
        break;
      }
      if (c < 0x20) this.error('control character in string');
      if (c !== 0x5c) {
        this.i++;
        continue;
      }
      out += s.slice(run, this.i);
      const e = s[this.i + 1];
      this.i += 2;
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          const hex = s.slice(this.i, this.i + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.error('bad \\u escape');
          out += String.fromCharCode(parseInt(hex, 16));
          this.i += 4;
          break;
        }
        default:
          this.i -= 1;
          this.error('bad escape');
      }
      run = this.i;
    }
    // \u escapes could spell a lone surrogate; serde_json rejects those, and a
    // name with no UTF-8 form could not be written back. Reject them too.
    for (let k = 0; k < out.length; k++) {
      const u = out.charCodeAt(k);
      if (u >= 0xd800 && u <= 0xdbff) {
        const v = out.charCodeAt(k + 1);
        if (v >= 0xdc00 && v <= 0xdfff) k++;
        else this.error('lone surrogate in string');
      } else if (u >= 0xdc00 && u <= 0xdfff) this.error('lone surrogate in string');
    }
    return out;
  }

  private number(): JsonNum {
    const m = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
    m.lastIndex = this.i;
    const r = m.exec(this.s);
    if (r === null) this.error('bad number');
    this.i += r[0].length;
    return new JsonNum(r[0]);
  }
}

/** A JSON number that is a plain non-negative integer literal within 2^53, or -1. */
function jsonIndex(v: Json): number {
  if (!(v instanceof JsonNum) || !/^(0|[1-9][0-9]*)$/.test(v.text)) return -1;
  const n = Number(v.text);
  return Number.isSafeInteger(n) ? n : -1;
}

function show(v: Json): string {
  if (v instanceof JsonNum) return v.text;
  if (v instanceof JsonObj) return 'an object';
  if (Array.isArray(v)) return 'an array';
  return JSON.stringify(v);
}

// ---------------------------------------------------------------------------
// decode

interface Entry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

function parseEntry(name: string, v: Json): Entry {
  check(v instanceof JsonObj, 'SAFETENSORS_BAD_HEADER', `tensor "${name}" must map to an object`, { name });
  let dtypeJ: Json | undefined;
  let shapeJ: Json | undefined;
  let offsetsJ: Json | undefined;
  for (const [k, x] of v.entries) {
    if (k === 'dtype') dtypeJ = x;
    else if (k === 'shape') shapeJ = x;
    else if (k === 'data_offsets') offsetsJ = x;
    // The reference's TensorInfo has exactly these fields; an unknown one is a
    // different format (or a smuggling place), not something to skip.
    else throw new SwarmError('SAFETENSORS_BAD_HEADER', `tensor "${name}": unknown field "${k}"`, { name, field: k });
  }
  if (dtypeJ === undefined || shapeJ === undefined || offsetsJ === undefined) {
    throw new SwarmError('SAFETENSORS_BAD_HEADER', `tensor "${name}" needs dtype, shape and data_offsets`, { name });
  }
  if (!isSafetensorsDtype(dtypeJ)) {
    throw new SwarmError('SAFETENSORS_BAD_DTYPE', `tensor "${name}": unknown dtype ${show(dtypeJ)}`, { name, dtype: show(dtypeJ) });
  }
  check(Array.isArray(shapeJ), 'SAFETENSORS_BAD_SHAPE', `tensor "${name}": shape must be an array`, { name });
  const shape: number[] = [];
  for (const d of shapeJ) {
    const n = jsonIndex(d);
    if (n < 0) {
      throw new SwarmError('SAFETENSORS_BAD_SHAPE', `tensor "${name}": dimension ${show(d)} is not a non-negative integer`, {
        name, dim: show(d),
      });
    }
    shape.push(n);
  }
  if (!Array.isArray(offsetsJ) || offsetsJ.length !== 2) {
    throw new SwarmError('SAFETENSORS_BAD_OFFSETS', `tensor "${name}": data_offsets must be [begin, end]`, { name });
  }
  const begin = jsonIndex(offsetsJ[0]!);
  const end = jsonIndex(offsetsJ[1]!);
  if (begin < 0 || end < 0) {
    throw new SwarmError('SAFETENSORS_BAD_OFFSETS', `tensor "${name}": offsets must be non-negative integers`, {
      name, offsets: offsetsJ.map(show),
    });
  }
  if (end < begin) throw new SwarmError('SAFETENSORS_BAD_OFFSETS', `tensor "${name}": end ${end} is before begin ${begin}`, { name, begin, end });
  const nbytes = byteLength(name, dtypeJ, shape, elementCount(shape));
  if (end - begin !== nbytes) {
    throw new SwarmError('SAFETENSORS_SHAPE_MISMATCH', `tensor "${name}": ${dtypeJ} ${JSON.stringify(shape)} needs ${nbytes} bytes, offsets span ${end - begin}`, {
      name, dtype: dtypeJ, shape, begin, end, want: nbytes,
    });
  }
  return { name, dtype: dtypeJ, shape, begin, end };
}

/** A plain object with the given own properties; safe for keys like "__proto__". */
function recordOf(entries: ReadonlyArray<readonly [string, string]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of entries) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  return out;
}

function parseMetadata(v: Json): Record<string, string> {
  check(v instanceof JsonObj, 'SAFETENSORS_BAD_METADATA', '__metadata__ must be an object');
  for (const [k, x] of v.entries) {
    if (typeof x !== 'string') {
      throw new SwarmError('SAFETENSORS_BAD_METADATA', `__metadata__ "${k}" must be a string, got ${show(x)}`, { key: k });
    }
  }
  return recordOf(v.entries as Array<[string, string]>);
}

/** The tensor's values from its little-endian bytes (a fresh array, aligned, not aliasing the file). */
function decodeData(dtype: SafetensorsDtype, raw: Uint8Array): TensorData {
  switch (dtype) {
    case 'F16':
    case 'BF16': {
      const n = raw.length >>> 1;
      const out = new Float32Array(n);
      const bits = new Uint32Array(out.buffer);
      if (dtype === 'F16') {
        const table = f16ToF32Table();
        for (let i = 0; i < n; i++) bits[i] = table[raw[2 * i]! | (raw[2 * i + 1]! << 8)]!;
      } else {
        for (let i = 0; i < n; i++) bits[i] = ((raw[2 * i]! << 16) | (raw[2 * i + 1]! << 24)) >>> 0;
      }
      return out;
    }
    case 'BOOL':
    case 'U8':
    case 'F8_E5M2':
    case 'F8_E4M3':
    case 'F8_E8M0':
    case 'F4':
    case 'F6_E2M3':
    case 'F6_E3M2':
    case 'C64':
      return raw.slice();
    default: {
      const copy = raw.slice(); // own buffer at offset 0, so aligned for any element size
      const size = DTYPE_BITS[dtype] / 8;
      if (!HOST_LE) swapInPlace(copy, size);
      const buf = copy.buffer;
      switch (dtype) {
        case 'I8': return new Int8Array(buf);
        case 'I16': return new Int16Array(buf);
        case 'U16': return new Uint16Array(buf);
        case 'I32': return new Int32Array(buf);
        case 'U32': return new Uint32Array(buf);
        case 'F32': return new Float32Array(buf);
        case 'F64': return new Float64Array(buf);
        case 'I64': return new BigInt64Array(buf);
        case 'U64': return new BigUint64Array(buf);
      }
      throw new SwarmError('SAFETENSORS_BAD_DTYPE', `no decoder for ${dtype}`);
    }
  }
}

function expectEntries(expect: SafetensorsExpectMap): Array<[string, SafetensorsExpectation]> {
  if (expect instanceof Map) return [...(expect as ReadonlyMap<string, SafetensorsExpectation>).entries()];
  if (expect === null || typeof expect !== 'object') throw new SwarmError('SAFETENSORS_BAD_INPUT', 'expect must be a Map or an object');
  return Object.keys(expect).map((k) => [k, (expect as Record<string, SafetensorsExpectation>)[k]!]);
}

/**
 * Checks tensors (name -> {dtype, shape}) against an expectation map:
 * SAFETENSORS_MISSING_TENSOR, _DTYPE_MISMATCH, _SHAPE_MISMATCH, and
 * _UNEXPECTED_TENSOR for a tensor the map does not name unless allowExtra.
 * Exported so writers can check before they write.
 */
export function checkExpectations(
  found: ReadonlyMap<string, { dtype: SafetensorsDtype; shape: readonly number[] }>,
  expect: SafetensorsExpectMap,
  allowExtra = false,
): void {
  const entries = expectEntries(expect);
  const named = new Set<string>();
  for (const [name, want] of entries) {
    named.add(name);
    const got = found.get(name);
    if (got === undefined) throw new SwarmError('SAFETENSORS_MISSING_TENSOR', `tensor "${name}" is missing`, { name });
    if (want.dtype !== undefined) {
      const allowed: readonly SafetensorsDtype[] = typeof want.dtype === 'string' ? [want.dtype] : want.dtype;
      if (!allowed.includes(got.dtype)) {
        throw new SwarmError('SAFETENSORS_DTYPE_MISMATCH', `tensor "${name}" is ${got.dtype}, expected ${allowed.join(' or ')}`, {
          name, expected: [...allowed], actual: got.dtype,
        });
      }
    }
    const same = want.shape.length === got.shape.length && want.shape.every((d, i) => d === got.shape[i]);
    if (!same) {
      throw new SwarmError('SAFETENSORS_SHAPE_MISMATCH', `tensor "${name}" has shape ${JSON.stringify(got.shape)}, expected ${JSON.stringify(want.shape)}`, {
        name, expected: [...want.shape], actual: [...got.shape],
      });
    }
  }
  if (!allowExtra) {
    for (const name of found.keys()) {
      check(named.has(name), 'SAFETENSORS_UNEXPECTED_TENSOR', `tensor "${name}" is not expected`, { name });
    }
  }
}

/**
 * Decodes and validates a safetensors file (checks and error codes in the
 * module comment). Tensor data is copied out, so the result does not alias
 * `bytes`.
 */
export function decodeSafetensors(bytes: Uint8Array, opts: DecodeSafetensorsOptions = {}): DecodedSafetensors {
  check(bytes instanceof Uint8Array, 'SAFETENSORS_BAD_INPUT', 'safetensors input must be a Uint8Array');
  const maxHeader = opts.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  if (!Number.isSafeInteger(maxHeader) || maxHeader < 0) throw new SwarmError('SAFETENSORS_BAD_INPUT', 'maxHeaderBytes must be a non-negative integer');

  if (bytes.length < 8) throw new SwarmError('SAFETENSORS_TRUNCATED', `file of ${bytes.length} bytes has no 8-byte header length`, { length: bytes.length });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = view.getUint32(0, true);
  const hi = view.getUint32(4, true);
  const n = hi * 2 ** 32 + lo; // exact below 2^53; anything larger fails the next check anyway
  if (hi >= 2 ** 21 || n > maxHeader) {
    throw new SwarmError('SAFETENSORS_HEADER_TOO_LARGE', `header length ${hi === 0 ? n : `${hi}*2^32+${lo}`} exceeds ${maxHeader}`, { maxHeaderBytes: maxHeader });
  }
  if (8 + n > bytes.length) {
    throw new SwarmError('SAFETENSORS_TRUNCATED', `header of ${n} bytes runs past the end of a ${bytes.length}-byte file`, { headerLen: n, length: bytes.length });
  }
  if (n === 0 || bytes[8] !== 0x7b) throw new SwarmError('SAFETENSORS_BAD_HEADER', "header must begin with '{'");

  let text: string;
  try {
    text = utf8Decode(bytes.subarray(8, 8 + n));
  } catch {
    throw new SwarmError('SAFETENSORS_BAD_HEADER', 'header is not valid UTF-8');
  }
  const root = new HeaderParser(text).parseDocument();
  check(root instanceof JsonObj, 'SAFETENSORS_BAD_HEADER', 'header must be a JSON object');

  let metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, v] of root.entries) {
    if (name === METADATA_KEY) metadata = parseMetadata(v);
    else entries.push(parseEntry(name, v));
  }

  // The reference sorts by offsets, then requires each tensor to begin where
  // the previous ended (Metadata::validate): no gaps, no overlaps, no aliasing.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const e of entries) {
    if (e.begin !== cursor) {
      throw new SwarmError('SAFETENSORS_BAD_OFFSETS', `tensor "${e.name}" begins at ${e.begin}, expected ${cursor} (${e.begin > cursor ? 'gap' : 'overlap'})`, {
        name: e.name, begin: e.begin, expected: cursor,
      });
    }
    cursor = e.end;
  }
  const dataStart = 8 + n;
  const available = bytes.length - dataStart;
  if (cursor > available) {
    throw new SwarmError('SAFETENSORS_TRUNCATED', `tensor data needs ${cursor} bytes, the file has ${available}`, { needed: cursor, available });
  }
  if (cursor < available) {
    throw new SwarmError('SAFETENSORS_BAD_OFFSETS', `${available - cursor} bytes after the last tensor are not indexed by the header`, {
      indexed: cursor, available,
    });
  }

  if (opts.expect !== undefined) {
    checkExpectations(new Map(entries.map((e) => [e.name, e])), opts.expect, opts.allowExtra ?? false);
  }

  const tensors = new Map<string, DecodedTensor>();
  for (const e of entries) {
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: decodeData(e.dtype, bytes.subarray(dataStart + e.begin, dataStart + e.end)) });
  }
  return { tensors, metadata };
}
