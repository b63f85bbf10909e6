/**
 * safetensors encode/decode: the reference implementation's own byte
 * vectors, a file written by hand from the format description, byte-exact
 * round trips (property-based, including NaN payloads, -0 and subnormals),
 * and the half-precision conversions against naive references.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  SAFETENSORS_DTYPES,
  bf16BitsToF32Bits,
  decodeSafetensors,
  dtypeBits,
  encodeSafetensors,
  f16BitsToF32Bits,
  f32BitsToBf16Bits,
  f32BitsToF16Bits,
} from '../../../src/model/format/safetensors.ts';
import type { SafetensorsDtype, SafetensorsTensor, TensorData } from '../../../src/model/format/safetensors.ts';

const enc = new TextEncoder();

function bitsOf(a: Float32Array): number[] {
  return Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
}

function f32FromBits(bits: number[]): Float32Array {
  return new Float32Array(Uint32Array.from(bits).buffer);
}

describe('reference vectors (huggingface/safetensors, safetensors/src/tensor.rs tests)', () => {
  // test_serialization: one F32 tensor "attn.0" [1,2,3] = 0..5; header of exactly 64 bytes.
  const attn0 = [
    64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100,
    116, 121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34,
    58, 91, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115,
    101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 0, 0, 0, 0, 0, 0, 128, 63,
    0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64,
  ];
  // test_serialization_forced_alignement: "attn0" [1,1,2,3], header padded with 7 spaces to 72.
  const attnAligned = [
    72, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 48, 34, 58, 123, 34, 100, 116,
    121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34, 58,
    91, 49, 44, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102,
    115, 101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 32, 32, 32, 32, 32,
    32, 32, 0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0,
    160, 64,
  ];
  // test_empty: no tensors; then no tensors with metadata {"framework": "pt"}.
  const empty = [8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32];
  const emptyMeta = [
    40, 0, 0, 0, 0, 0, 0, 0, 123, 34, 95, 95, 109, 101, 116, 97, 100, 97, 116, 97, 95,
    95, 34, 58, 123, 34, 102, 114, 97, 109, 101, 119, 111, 114, 107, 34, 58, 34, 112,
    116, 34, 125, 125, 32, 32, 32, 32, 32,
  ];
  const data = Float32Array.of(0, 1, 2, 3, 4, 5);

  it('encodes byte for byte like the reference', () => {
    expect(Array.from(encodeSafetensors([{ name: 'attn.0', shape: [1, 2, 3], data }]))).toEqual(attn0);
    expect(Array.from(encodeSafetensors([{ name: 'attn0', dtype: 'F32', shape: [1, 1, 2, 3], data }]))).toEqual(attnAligned);
    expect(Array.from(encodeSafetensors([]))).toEqual(empty);
    expect(Array.from(encodeSafetensors([], { framework: 'pt' }))).toEqual(emptyMeta);
  });

  it('decodes the reference bytes', () => {
    const d = decodeSafetensors(Uint8Array.from(attn0));
    expect([...d.tensors.keys()]).toEqual(['attn.0']);
    const t = d.tensors.get('attn.0')!;
    expect(t.dtype).toBe('F32');
    expect(t.shape).toEqual([1, 2, 3]);
    expect(Array.from(t.data as Float32Array)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(d.metadata).toEqual({});
    expect(decodeSafetensors(Uint8Array.from(emptyMeta)).metadata).toEqual({ framework: 'pt' });
    expect(decodeSafetensors(Uint8Array.from(empty)).tensors.size).toBe(0);
  });
});

describe('a file written by hand from the format description', () => {
  // F16 bit patterns and what they mean (IEEE 754 binary16).
  const f16 = [0x3c00, 0xc000, 0x7bff, 0x0001, 0x8000, 0x7c00]; // 1, -2, 65504, 2^-24, -0, +inf
  const f16Values = [1, -2, 65504, 2 ** -24, -0, Infinity];
  // bfloat16: the top half of a binary32.
  const bf16 = [0x3f80, 0xc049, 0x0001]; // 1, -3.140625, 2^-133 (a subnormal)
  const bf16Values = [1, -3.140625, 2 ** -133];
  const i32 = [1, -2, 2147483647, -2147483648];

  /** Header with keys out of name order, fields out of the reference's order, whitespace, and data not in name order. */
  function handFile(): Uint8Array {
    // Data layout chosen by hand: F16 (12 bytes) at 0, I32 (16) at 12, BF16 (6) at 28, scalar F32 (4) at 34, empty at 38.
    const header =
      '{ "z.half": {"dtype": "F16", "shape": [2, 3], "data_offsets": [0, 12]},\n' +
      '  "__metadata__": {"format": "pt", "note": "written by hand"},\n' +
      '  "b.int": {"shape": [2, 2], "data_offsets": [12, 28], "dtype": "I32"},\n' +
      '  "a.brain": {"data_offsets": [28, 34], "dtype": "BF16", "shape": [3]},\n' +
      '  "scalar": {"dtype": "F32", "shape": [], "data_offsets": [34, 38]},\n' +
      '  "empty": {"dtype": "F32", "shape": [0, 5], "data_offsets": [38, 38]} }';
    const h = enc.encode(header);
    const buf = new Uint8Array(8 + h.length + 38); // header length deliberately not a multiple of 8
    const v = new DataView(buf.buffer);
    v.setUint32(0, h.length, true);
    v.setUint32(4, 0, true);
    buf.set(h, 8);
    const d = 8 + h.length;
    f16.forEach((x, i) => v.setUint16(d + 2 * i, x, true));
    i32.forEach((x, i) => v.setInt32(d + 12 + 4 * i, x, true));
    bf16.forEach((x, i) => v.setUint16(d + 28 + 2 * i, x, true));
    v.setFloat32(d + 34, 0.5, true);
    return buf;
  }

  it('decodes every tensor and the metadata', () => {
    const d = decodeSafetensors(handFile());
    expect(d.metadata).toEqual({ format: 'pt', note: 'written by hand' });
    expect([...d.tensors.keys()]).toEqual(['z.half', 'b.int', 'a.brain', 'scalar', 'empty']); // file data order

    const half = d.tensors.get('z.half')!;
    expect(half.dtype).toBe('F16');
    expect(half.shape).toEqual([2, 3]);
    expect(half.data).toBeInstanceOf(Float32Array);
    expect(Array.from(half.data as Float32Array)).toEqual(f16Values);
    expect(Object.is((half.data as Float32Array)[4], -0)).toBe(true);

    const int = d.tensors.get('b.int')!;
    expect(int.data).toBeInstanceOf(Int32Array);
    expect(Array.from(int.data as Int32Array)).toEqual(i32);

    const brain = d.tensors.get('a.brain')!;
    expect(brain.data).toBeInstanceOf(Float32Array);
    expect(Array.from(brain.data as Float32Array)).toEqual(bf16Values);

    expect(d.tensors.get('scalar')!).toEqual({ dtype: 'F32', shape: [], data: Float32Array.of(0.5) });
    expect(d.tensors.get('empty')!).toEqual({ dtype: 'F32', shape: [0, 5], data: new Float32Array(0) });
  });

  it('re-encodes canonically: sorted, compact, aligned, and decodes to the same tensors', () => {
    const d = decodeSafetensors(handFile());
    const tensors: SafetensorsTensor[] = [...d.tensors].map(([name, t]) => ({ name, ...t }));
    const out = encodeSafetensors(tensors, d.metadata);
    const n = Number(new DataView(out.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const header = new TextDecoder().decode(out.subarray(8, 8 + n));
    expect(header.trimEnd()).toBe(
      '{"__metadata__":{"format":"pt","note":"written by hand"},' +
        '"a.brain":{"dtype":"BF16","shape":[3],"data_offsets":[0,6]},' +
        '"b.int":{"dtype":"I32","shape":[2,2],"data_offsets":[6,22]},' +
        '"empty":{"dtype":"F32","shape":[0,5],"data_offsets":[22,22]},' +
        '"scalar":{"dtype":"F32","shape":[],"data_offsets":[22,26]},' +
        '"z.half":{"dtype":"F16","shape":[2,3],"data_offsets":[26,38]}}',
    );
    // The raw bytes of each tensor are unchanged by the trip through Float32Array.
    const hand = handFile();
    const handData = hand.subarray(hand.length - 38);
    const outData = out.subarray(8 + n);
    expect(Array.from(outData.subarray(26, 38))).toEqual(Array.from(handData.subarray(0, 12))); // F16
    expect(Array.from(outData.subarray(0, 6))).toEqual(Array.from(handData.subarray(28, 34))); // BF16
    expect(decodeSafetensors(out)).toEqual(d);
  });
});

// ---------------------------------------------------------------------------
// round trips

const SPECIAL_F32 = [
  0x00000000, 0x80000000, // ±0
  0x00000001, 0x807fffff, 0x00400000, // subnormals
  0x7f800000, 0xff800000, // ±inf
  0x7fc00000, 0xffc00001, // quiet NaNs with payloads
  0x7f800001, 0x7fa5a5a5, 0xff800002, // signalling NaNs (a double conversion would quiet them)
  0x7f7fffff, 0x00800000, // max, min normal
];
const SPECIAL_16 = [0x0000, 0x8000, 0x0001, 0x83ff, 0x7c00, 0xfc00, 0x7c01, 0x7e00, 0xfd55, 0x7bff, 0x7f81, 0xff80, 0x0080];

/** Raw bytes for a tensor, biased towards special float patterns. */
function rawBytes(dtype: SafetensorsDtype, numel: number): fc.Arbitrary<Uint8Array> {
  const nbytes = (numel * dtypeBits(dtype)) / 8;
  if (dtype === 'F32') {
    const word = fc.oneof(fc.constantFrom(...SPECIAL_F32), fc.integer({ min: 0, max: 0xffffffff }));
    return fc.array(word, { minLength: numel, maxLength: numel }).map((w) => new Uint8Array(Uint32Array.from(w).buffer));
  }
  if (dtype === 'F16' || dtype === 'BF16') {
    const half = fc.oneof(fc.constantFrom(...SPECIAL_16), fc.integer({ min: 0, max: 0xffff }));
    return fc.array(half, { minLength: numel, maxLength: numel }).map((w) => new Uint8Array(Uint16Array.from(w).buffer));
  }
  return fc.uint8Array({ minLength: nbytes, maxLength: nbytes });
}

const BYTE_DTYPES = SAFETENSORS_DTYPES.filter((d) => dtypeBits(d) % 8 === 0);

const tensorArb: fc.Arbitrary<SafetensorsTensor> = fc
  .record({
    name: fc.string({ unit: 'binary', maxLength: 10 }).filter((s) => s !== '__metadata__'),
    dtype: fc.constantFrom(...BYTE_DTYPES),
    shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }),
  })
  .chain((t) => rawBytes(t.dtype, t.shape.reduce((a, b) => a * b, 1)).map((data) => ({ ...t, data })));

const fileArb = fc.record({
  tensors: fc.uniqueArray(tensorArb, { selector: (t) => t.name, maxLength: 6 }),
  metadata: fc.dictionary(fc.string({ unit: 'binary', maxLength: 6 }), fc.string({ unit: 'binary', maxLength: 6 }), { maxKeys: 3 }),
});

function rawOf(data: TensorData): number[] {
  return Array.from(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

describe('round trips', () => {
  it('encode -> decode -> encode gives identical bytes (random names, shapes, dtypes, bit patterns)', () => {
    fc.assert(
      fc.property(fileArb, ({ tensors, metadata }) => {
        const a = encodeSafetensors(tensors, metadata);
        const d = decodeSafetensors(a);
        expect(d.tensors.size).toBe(tensors.length);
        expect(d.metadata).toEqual(metadata);
        const again = [...d.tensors].map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape, data: t.data }));
        const b = encodeSafetensors(again, d.metadata);
        expect(Array.from(b)).toEqual(Array.from(a));
        // Order of the input does not matter: the encoding is canonical.
        expect(Array.from(encodeSafetensors([...tensors].reverse(), metadata))).toEqual(Array.from(a));
      }),
      { numRuns: 300, seed: 0x5afe },
    );
  });

  it('decode(encode(x)) keeps every F32 bit, including NaN payloads, -0 and subnormals', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constantFrom(...SPECIAL_F32), fc.integer({ min: 0, max: 0xffffffff })), { maxLength: 64 }), (bits) => {
        const data = f32FromBits(bits);
        const out = decodeSafetensors(encodeSafetensors([{ name: 'w', shape: [bits.length], data }]));
        expect(bitsOf(out.tensors.get('w')!.data as Float32Array)).toEqual(bits);
      }),
      { numRuns: 200, seed: 7 },
    );
  });

  it('every F16 and BF16 bit pattern survives decode to Float32Array and re-encode', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    for (const dtype of ['F16', 'BF16'] as const) {
      const file = encodeSafetensors([{ name: 'h', dtype, shape: [65536], data: all }]);
      const t = decodeSafetensors(file).tensors.get('h')!;
      expect(t.data).toBeInstanceOf(Float32Array);
      const again = encodeSafetensors([{ name: 'h', dtype, shape: [65536], data: t.data }]);
      expect(Buffer.compare(again, file)).toBe(0);
    }
  });

  it('decodes each dtype to its array type', () => {
    const want: Record<string, string> = {
      F32: 'Float32Array', F16: 'Float32Array', BF16: 'Float32Array', F64: 'Float64Array',
      I8: 'Int8Array', U8: 'Uint8Array', BOOL: 'Uint8Array', I16: 'Int16Array', U16: 'Uint16Array',
      I32: 'Int32Array', U32: 'Uint32Array', I64: 'BigInt64Array', U64: 'BigUint64Array',
      F8_E4M3: 'Uint8Array', F8_E5M2: 'Uint8Array', F8_E8M0: 'Uint8Array', C64: 'Uint8Array',
      F4: 'Uint8Array', F6_E2M3: 'Uint8Array', F6_E3M2: 'Uint8Array',
    };
    for (const dtype of SAFETENSORS_DTYPES) {
      const n = 8; // 8 elements fill whole bytes for every dtype (F4: 4 bytes, F6: 6 bytes)
      const raw = new Uint8Array((n * dtypeBits(dtype)) / 8).map((_, i) => i + 1);
      const t = decodeSafetensors(encodeSafetensors([{ name: 'x', dtype, shape: [2, 4], data: raw }])).tensors.get('x')!;
      expect(t.data.constructor.name, dtype).toBe(want[dtype]);
      expect(rawOf(t.data).length, dtype).toBe(dtype === 'F16' || dtype === 'BF16' ? raw.length * 2 : raw.length);
    }
    const big = decodeSafetensors(encodeSafetensors([{ name: 'b', dtype: 'I64', shape: [2], data: BigInt64Array.of(-1n, 2n ** 62n) }]));
    expect(Array.from(big.tensors.get('b')!.data as BigInt64Array)).toEqual([-1n, 2n ** 62n]);
  });

  it('tensor data does not alias the input bytes', () => {
    const file = encodeSafetensors([{ name: 'w', shape: [2], data: Float32Array.of(1, 2) }]);
    const t = decodeSafetensors(file).tensors.get('w')!;
    file.fill(0);
    expect(Array.from(t.data as Float32Array)).toEqual([1, 2]);
  });
});

describe('encoder input checks', () => {
  const code = (fn: () => unknown): string => {
    try {
      fn();
    } catch (e) {
      return (e as { code?: string }).code ?? 'not a SwarmError';
    }
    return 'no error';
  };
  const f = Float32Array.of(1, 2);
  it('rejects bad names, dtypes, shapes, data and metadata with codes', () => {
    expect(code(() => encodeSafetensors([{ name: '__metadata__', shape: [2], data: f }]))).toBe('SAFETENSORS_BAD_NAME');
    expect(code(() => encodeSafetensors([{ name: 'a\ud800', shape: [2], data: f }]))).toBe('SAFETENSORS_BAD_NAME');
    expect(code(() => encodeSafetensors([{ name: 3 as unknown as string, shape: [2], data: f }]))).toBe('SAFETENSORS_BAD_NAME');
    expect(code(() => encodeSafetensors([{ name: 'a', shape: [2], data: f }, { name: 'a', shape: [2], data: f }]))).toBe('SAFETENSORS_DUPLICATE_NAME');
    expect(code(() => encodeSafetensors([{ name: 'a', dtype: 'F128' as SafetensorsDtype, shape: [2], data: f }]))).toBe('SAFETENSORS_BAD_DTYPE');
    expect(code(() => encodeSafetensors([{ name: 'a', shape: [-2], data: f }]))).toBe('SAFETENSORS_BAD_SHAPE');
    expect(code(() => encodeSafetensors([{ name: 'a', shape: [1.5], data: f }]))).toBe('SAFETENSORS_BAD_SHAPE');
    expect(code(() => encodeSafetensors([{ name: 'a', shape: [3], data: f }]))).toBe('SAFETENSORS_SHAPE_MISMATCH');
    expect(code(() => encodeSafetensors([{ name: 'a', shape: [2], data: new Uint8Array(7) }]))).toBe('SAFETENSORS_SHAPE_MISMATCH');
    expect(code(() => encodeSafetensors([{ name: 'a', dtype: 'F4', shape: [3], data: new Uint8Array(2) }]))).toBe('SAFETENSORS_SHAPE_MISMATCH');
    expect(code(() => encodeSafetensors([{ name: 'a', dtype: 'I32', shape: [2], data: f }]))).toBe('SAFETENSORS_BAD_DATA');
    expect(code(() => encodeSafetensors([{ name: 'a', shape: [2], data: [1, 2] as unknown as Float32Array }]))).toBe('SAFETENSORS_BAD_DATA');
    expect(code(() => encodeSafetensors([], { k: 1 as unknown as string }))).toBe('SAFETENSORS_BAD_METADATA');
  });
});

// ---------------------------------------------------------------------------
// half-precision conversions against naive references

/** Every finite binary16 value in ascending order, with its bit pattern (naive reference). */
const F16_SORTED: Array<{ v: number; bits: number }> = (() => {
  const out: Array<{ v: number; bits: number }> = [];
  for (let h = 0; h < 0x7c00; h++) {
    const e = h >> 10;
    const m = h & 0x3ff;
    out.push({ v: e === 0 ? m * 2 ** -24 : (1 + m / 1024) * 2 ** (e - 15), bits: h });
  }
  return out;
})();

/** Nearest binary16 to a finite |x| by the definition: the closest value, ties to the even pattern, inf past the rounding boundary. */
function naiveF16(x: number): number {
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a >= 65520) return sign | 0x7c00; // 65504 + half an ulp (16) rounds to inf (IEEE 754 §7.4)
  let lo = 0;
  let hi = F16_SORTED.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (F16_SORTED[mid]!.v <= a) lo = mid;
    else hi = mid;
  }
  const below = F16_SORTED[lo]!;
  const above = F16_SORTED[hi]!;
  const dBelow = a - below.v;
  const dAbove = above.v - a;
  const pick = dBelow < dAbove ? below : dAbove < dBelow ? above : (below.bits & 1) === 0 ? below : above;
  return sign | (a >= above.v ? above.bits : pick.bits);
}

describe('half-precision conversions', () => {
  it('f16 -> f32 matches the binary16 definition for all 65536 patterns, and f16 -> f32 -> f16 is the identity', () => {
    const out = new Float32Array(1);
    const bits = new Uint32Array(out.buffer);
    // the patterns that disagree (one expect at the end, not 131072 in the loop)
    const wrongValue: number[] = [];
    const wrongRoundTrip: number[] = [];
    for (let h = 0; h < 65536; h++) {
      bits[0] = f16BitsToF32Bits(h);
      const e = (h >> 10) & 0x1f;
      const m = h & 0x3ff;
      const s = h & 0x8000 ? -1 : 1;
      // exponent 31: infinity or NaN (Object.is treats every NaN as NaN); 0: subnormal; else normal
      const v = e === 31 ? (m === 0 ? s * Infinity : NaN) : s * (e === 0 ? m * 2 ** -24 : (1 + m / 1024) * 2 ** (e - 15));
      if (!Object.is(out[0], v)) wrongValue.push(h);
      if (f32BitsToF16Bits(bits[0]!) !== h) wrongRoundTrip.push(h);
    }
    expect(wrongValue).toEqual([]);
    expect(wrongRoundTrip).toEqual([]);
  });

  it('f32 -> f16 rounds to nearest even, like the naive search over all binary16 values', () => {
    // Known cases (checked against numpy's float16 cast).
    const cases: Array<[number, number]> = [
      [1, 0x3c00], [65504, 0x7bff], [65519.99, 0x7bff], [65520, 0x7c00], [1e6, 0x7c00],
      [2 ** -24, 0x0001], [2 ** -25, 0x0000], [3 * 2 ** -26, 0x0001], [2 ** -14, 0x0400],
      [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02], [-0.1, 0xae66], [1 / 3, 0x3555],
    ];
    const f = new Float32Array(1);
    const b = new Uint32Array(f.buffer);
    for (const [x, want] of cases) {
      f[0] = x;
      expect(f32BitsToF16Bits(b[0]!), String(x)).toBe(want);
    }
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 94, max: 144 }), (r, e) => {
        // Random bits, exponent pulled into and around the binary16 range.
        const x = ((r & 0x807fffff) | (e << 23)) >>> 0;
        b[0] = x;
        expect(f32BitsToF16Bits(x)).toBe(naiveF16(f[0]!));
      }),
      { numRuns: 20000, seed: 16 },
    );
  });

  it('f32 -> bf16 rounds to nearest even (naive: compare the two neighbours in double)', () => {
    const f = new Float32Array(1);
    const b = new Uint32Array(f.buffer);
    const g = new Float32Array(1);
    const gb = new Uint32Array(g.buffer);
    const valueOf = (bf: number): number => {
      gb[0] = bf16BitsToF32Bits(bf);
      return g[0]!;
    };
    // A NaN whose payload lies only in the dropped low bits must stay a NaN, not become inf.
    for (const nan of [0x7f800001, 0xff80ffff, 0x7f808000]) {
      expect(Number.isNaN(valueOf(f32BitsToBf16Bits(nan)))).toBe(true);
      expect((f32BitsToF16Bits(nan) & 0x7fff) > 0x7c00).toBe(true);
    }
    expect(f32BitsToBf16Bits(0x7fc12345)).toBe(0x7fc1); // payload's top bits kept
    // every NaN (exponent all ones, a non-zero fraction, either sign) stays a NaN
    fc.assert(
      fc.property(fc.boolean(), fc.integer({ min: 1, max: 0x7fffff }), (negative, fraction) => {
        const x = ((negative ? 0x80000000 : 0) | 0x7f800000 | fraction) >>> 0;
        expect(Number.isNaN(valueOf(f32BitsToBf16Bits(x))), x.toString(16)).toBe(true);
      }),
      { numRuns: 2000, seed: 1617 },
    );
    const asF32 = (x: number): number => {
      b[0] = x;
      return f[0]!;
    };
    // every other pattern rounds to the nearer bf16, ties to even
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }).filter((x) => !Number.isNaN(asF32(x))), (x) => {
        const v = asF32(x);
        const got = f32BitsToBf16Bits(x);
        const t = x >>> 16;
        const lo = valueOf(t);
        // Past the largest finite value the next value is 2^128 (IEEE 754 rounds to inf from halfway there).
        const hi = (t & 0x7fff) === 0x7f7f ? Math.sign(v) * 2 ** 128 : valueOf(t + 1);
        const dl = Math.abs(v - lo);
        const dh = Math.abs(hi - v);
        const want = dl < dh ? t : dh < dl ? t + 1 : (t & 1) === 0 ? t : t + 1;
        expect(got).toBe(want);
      }),
      { numRuns: 20000, seed: 1616 },
    );
  });
});
