/**
 * Hostile and broken safetensors files: each class of bad input gets its
 * coded SwarmError, never a crash, an out-of-bounds read or a wrong tensor.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SwarmError } from '../../../src/core/errors.ts';
import { decodeSafetensors, encodeSafetensors } from '../../../src/model/format/safetensors.ts';
import type { DecodeSafetensorsOptions } from '../../../src/model/format/safetensors.ts';

const enc = new TextEncoder();

/** A file from header text and `data` (or that many zero bytes), with the header length as written. */
function file(header: string | Uint8Array, data: number | Uint8Array = 0, headerLen?: bigint): Uint8Array {
  const h = typeof header === 'string' ? enc.encode(header) : header;
  const d = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + h.length + d.length);
  new DataView(out.buffer).setBigUint64(0, headerLen ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(d, 8 + h.length);
  return out;
}

function code(bytes: Uint8Array, opts?: DecodeSafetensorsOptions): string {
  try {
    decodeSafetensors(bytes, opts);
  } catch (e) {
    if (e instanceof SwarmError) return e.code;
    throw e;
  }
  return 'OK';
}

/** One F32 tensor "t" of `shape` at `offsets`. */
const one = (shape: string, offsets: string, dtype = '"F32"'): string => `{"t":{"dtype":${dtype},"shape":${shape},"data_offsets":${offsets}}}`;

describe('a valid file accepted by the helpers', () => {
  it('decodes', () => {
    expect(code(file(one('[2]', '[0,8]'), 8))).toBe('OK');
  });
});

describe('truncation', () => {
  const valid = encodeSafetensors(
    [
      { name: 'w', shape: [2, 3], data: Float32Array.of(1, 2, 3, 4, 5, 6) },
      { name: 'h', dtype: 'F16', shape: [3], data: Float32Array.of(1, 2, 3) },
      { name: 'e', shape: [0], data: new Float32Array(0) },
    ],
    { format: 'pt' },
  );

  it('every proper prefix of a valid file is SAFETENSORS_TRUNCATED', () => {
    expect(code(valid)).toBe('OK');
    for (let n = 0; n < valid.length; n++) {
      expect(code(valid.subarray(0, n)), `prefix of ${n} bytes`).toBe('SAFETENSORS_TRUNCATED');
    }
  });

  it('header length beyond the file, and data beyond the file', () => {
    expect(code(file('{}', 0, 100n))).toBe('SAFETENSORS_TRUNCATED');
    expect(code(file(one('[2]', '[0,8]'), 4))).toBe('SAFETENSORS_TRUNCATED');
    expect(code(file('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', 4))).toBe(
      'SAFETENSORS_TRUNCATED',
    );
  });

  it('random corruption never crashes: every outcome is a tensor set or a coded error', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (edits) => {
        const b = valid.slice();
        for (const [at, v] of edits) b[at] = v;
        const c = code(b);
        expect(c === 'OK' || c.startsWith('SAFETENSORS_')).toBe(true);
      }),
      { numRuns: 2000, seed: 42 },
    );
  });
});

describe('header length', () => {
  it('over the limit is SAFETENSORS_HEADER_TOO_LARGE (default 100 MB, or maxHeaderBytes)', () => {
    expect(code(file('{}', 0, 100_000_001n))).toBe('SAFETENSORS_HEADER_TOO_LARGE');
    expect(code(file('{}', 0, 2n ** 64n - 1n))).toBe('SAFETENSORS_HEADER_TOO_LARGE');
    expect(code(file('{}', 0, 2n ** 53n))).toBe('SAFETENSORS_HEADER_TOO_LARGE');
    const ok = file(one('[2]', '[0,8]'), 8);
    expect(code(ok, { maxHeaderBytes: 16 })).toBe('SAFETENSORS_HEADER_TOO_LARGE');
    expect(code(ok, { maxHeaderBytes: ok.length })).toBe('OK');
  });
});

describe('bad header text', () => {
  const cases: Array<[string, string | Uint8Array]> = [
    ['empty header', ''],
    ['leading space', ' {}'],
    ['byte-order mark', '\ufeff{}'],
    ['array', '[]'],
    ['string', '"x"'],
    ['invalid UTF-8', Uint8Array.of(0x7b, 0x22, 0xff, 0x22, 0x3a, 0x7b, 0x7d, 0x7d)],
    ['overlong UTF-8', Uint8Array.of(0x7b, 0x22, 0xc0, 0xaf, 0x22, 0x3a, 0x7b, 0x7d, 0x7d)],
    ['missing value', '{"a":}'],
    ['trailing comma', '{"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]},}'],
    ['single quotes', "{'a':1}"],
    ['unterminated', '{"a":{"dtype":"F32"'],
    ['trailing garbage', '{} x'],
    ['two documents', '{}{}'],
    ['comment', '{/* */}'],
    ['NaN literal', '{"t":{"dtype":"F32","shape":[NaN],"data_offsets":[0,0]}}'],
    ['control character', '{"a\u0001":1}'],
    ['bad escape', '{"a\\x":1}'],
    ['lone surrogate escape', '{"\\ud800":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}'],
    ['deep nesting', `{"a":${'['.repeat(100)}${']'.repeat(100)}}`],
    ['tensor not an object', '{"t":[1]}'],
    ['tensor entry null', '{"t":null}'],
    ['missing dtype', '{"t":{"shape":[1],"data_offsets":[0,4]}}'],
    ['missing shape', '{"t":{"dtype":"F32","data_offsets":[0,4]}}'],
    ['missing data_offsets', '{"t":{"dtype":"F32","shape":[1]}}'],
    ['unknown field', '{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"offsets":[0,4]}}'],
    ['duplicate field', '{"t":{"dtype":"F32","dtype":"F16","shape":[1],"data_offsets":[0,4]}}'],
  ];
  for (const [what, header] of cases) {
    it(`${what} is SAFETENSORS_BAD_HEADER`, () => {
      expect(code(file(header, 4))).toBe('SAFETENSORS_BAD_HEADER');
    });
  }
});

describe('names, metadata, dtypes, shapes', () => {
  it('duplicate tensor names are SAFETENSORS_DUPLICATE_NAME (JSON.parse would silently keep one)', () => {
    const h = '{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"t":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}';
    expect(code(file(h, 8))).toBe('SAFETENSORS_DUPLICATE_NAME');
    // The same name spelled with an escape is the same name.
    const h2 = '{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"\\u0074":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}';
    expect(code(file(h2, 8))).toBe('SAFETENSORS_DUPLICATE_NAME');
    expect(code(file('{"__metadata__":{},"__metadata__":{}}'))).toBe('SAFETENSORS_DUPLICATE_NAME');
  });

  it('metadata must be an object of strings: SAFETENSORS_BAD_METADATA', () => {
    expect(code(file('{"__metadata__":{"a":1}}'))).toBe('SAFETENSORS_BAD_METADATA');
    expect(code(file('{"__metadata__":{"a":null}}'))).toBe('SAFETENSORS_BAD_METADATA');
    expect(code(file('{"__metadata__":{"a":{"b":"c"}}}'))).toBe('SAFETENSORS_BAD_METADATA');
    expect(code(file('{"__metadata__":["a"]}'))).toBe('SAFETENSORS_BAD_METADATA');
    expect(code(file('{"__metadata__":"a"}'))).toBe('SAFETENSORS_BAD_METADATA');
    const d = decodeSafetensors(file('{"__metadata__":{"__proto__":"x","k":"v"}}'));
    expect(Object.getPrototypeOf(d.metadata)).toBe(Object.prototype); // "__proto__" is data, not a prototype
    expect(Object.keys(d.metadata)).toEqual(['__proto__', 'k']);
  });

  it('unknown dtypes are SAFETENSORS_BAD_DTYPE', () => {
    for (const dt of ['"F128"', '"f32"', '"FLOAT"', '""', '32', 'null', '["F32"]']) {
      expect(code(file(one('[1]', '[0,4]', dt), 4)), dt).toBe('SAFETENSORS_BAD_DTYPE');
    }
  });

  it('negative, fractional, non-numeric and non-canonical integer dims are SAFETENSORS_BAD_SHAPE', () => {
    for (const shape of ['[-1]', '[1.5]', '[2.0]', '[1e1]', '[-0]', '["2"]', '[null]', '[[2]]', '2', '{}', '[9007199254740993]']) {
      expect(code(file(one(shape, '[0,8]'), 8)), shape).toBe('SAFETENSORS_BAD_SHAPE');
    }
    // Element count times size past 2^53.
    expect(code(file(one('[4294967296,4294967296]', '[0,8]'), 8))).toBe('SAFETENSORS_BAD_SHAPE');
  });

  it('a byte span that disagrees with shape x dtype is SAFETENSORS_SHAPE_MISMATCH', () => {
    expect(code(file(one('[2,2]', '[0,12]'), 12))).toBe('SAFETENSORS_SHAPE_MISMATCH');
    expect(code(file(one('[2]', '[0,4]', '"F16"'), 4))).toBe('OK');
    expect(code(file(one('[2]', '[0,8]', '"F16"'), 8))).toBe('SAFETENSORS_SHAPE_MISMATCH');
    expect(code(file(one('[0]', '[0,4]'), 4))).toBe('SAFETENSORS_SHAPE_MISMATCH');
    expect(code(file(one('[]', '[0,0]'), 0))).toBe('SAFETENSORS_SHAPE_MISMATCH'); // a scalar has one element
    expect(code(file(one('[3]', '[0,2]', '"F4"'), 2))).toBe('SAFETENSORS_SHAPE_MISMATCH'); // 12 bits
    expect(code(file(one('[4]', '[0,2]', '"F4"'), 2))).toBe('OK');
  });
});

describe('offsets', () => {
  const two = (a: string, b: string): string =>
    `{"a":{"dtype":"F32","shape":[2],"data_offsets":${a}},"b":{"dtype":"F32","shape":[2],"data_offsets":${b}}}`;

  it('overlapping, gapped, reversed or misplaced offsets are SAFETENSORS_BAD_OFFSETS', () => {
    expect(code(file(two('[0,8]', '[8,16]'), 16))).toBe('OK');
    expect(code(file(two('[8,16]', '[0,8]'), 16))).toBe('OK'); // header order need not be data order
    expect(code(file(two('[0,8]', '[4,12]'), 16))).toBe('SAFETENSORS_BAD_OFFSETS'); // overlap
    expect(code(file(two('[0,8]', '[0,8]'), 16))).toBe('SAFETENSORS_BAD_OFFSETS'); // aliasing
    expect(code(file(two('[0,8]', '[12,20]'), 20))).toBe('SAFETENSORS_BAD_OFFSETS'); // gap
    expect(code(file(two('[4,12]', '[12,20]'), 20))).toBe('SAFETENSORS_BAD_OFFSETS'); // first not at 0
    expect(code(file(one('[0]', '[8,0]'), 8))).toBe('SAFETENSORS_BAD_OFFSETS'); // end before begin
  });

  it('bytes after the last tensor are SAFETENSORS_BAD_OFFSETS (the buffer must be entirely indexed)', () => {
    expect(code(file(one('[2]', '[0,8]'), 9))).toBe('SAFETENSORS_BAD_OFFSETS');
    expect(code(file('{}', 1))).toBe('SAFETENSORS_BAD_OFFSETS');
  });

  it('malformed offsets are SAFETENSORS_BAD_OFFSETS', () => {
    for (const off of ['[0]', '[0,8,8]', '[]', '[-8,0]', '[0,8.0]', '["0",8]', '{"0":8}', '8', '[0,9007199254740993]']) {
      expect(code(file(one('[2]', off), 8)), off).toBe('SAFETENSORS_BAD_OFFSETS');
    }
  });
});

describe('expect', () => {
  const f = encodeSafetensors([
    { name: 'a', shape: [2, 3], data: new Float32Array(6) },
    { name: 'b', dtype: 'BF16', shape: [4], data: new Float32Array(4) },
  ]);

  it('accepts a matching map (Map or object; dtype one or a list; absent = any)', () => {
    expect(code(f, { expect: { a: { shape: [2, 3], dtype: 'F32' }, b: { shape: [4], dtype: ['F32', 'BF16'] } } })).toBe('OK');
    expect(code(f, { expect: new Map([['a', { shape: [2, 3] }], ['b', { shape: [4] }]]) })).toBe('OK');
  });

  it('reports wrong dtype, wrong shape, missing and unexpected tensors', () => {
    expect(code(f, { expect: { a: { shape: [2, 3], dtype: 'F16' }, b: { shape: [4] } } })).toBe('SAFETENSORS_DTYPE_MISMATCH');
    expect(code(f, { expect: { a: { shape: [3, 2] }, b: { shape: [4] } } })).toBe('SAFETENSORS_SHAPE_MISMATCH');
    expect(code(f, { expect: { a: { shape: [2, 3, 1] }, b: { shape: [4] } } })).toBe('SAFETENSORS_SHAPE_MISMATCH');
    expect(code(f, { expect: { a: { shape: [2, 3] }, b: { shape: [4] }, c: { shape: [1] } } })).toBe('SAFETENSORS_MISSING_TENSOR');
    expect(code(f, { expect: { a: { shape: [2, 3] } } })).toBe('SAFETENSORS_UNEXPECTED_TENSOR');
    expect(code(f, { expect: { a: { shape: [2, 3] } }, allowExtra: true })).toBe('OK');
  });

  it('error details name the tensor and both sides', () => {
    expect(() => decodeSafetensors(f, { expect: { a: { shape: [3, 2] }, b: { shape: [4] } } })).toThrow(
      expect.objectContaining({ code: 'SAFETENSORS_SHAPE_MISMATCH', details: { name: 'a', expected: [3, 2], actual: [2, 3] } }),
    );
  });
});

describe('bad arguments', () => {
  it('non-bytes input and bad options are SAFETENSORS_BAD_INPUT', () => {
    expect(code('abc' as unknown as Uint8Array)).toBe('SAFETENSORS_BAD_INPUT');
    expect(code([1, 2, 3] as unknown as Uint8Array)).toBe('SAFETENSORS_BAD_INPUT');
    expect(code(file('{}'), { maxHeaderBytes: -1 })).toBe('SAFETENSORS_BAD_INPUT');
  });
});
