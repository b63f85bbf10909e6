import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CANONICAL_MAX_DEPTH, canonicalBytes, canonicalize } from '../../src/core/canonical-json.ts';
import { findLoneSurrogate, hexEncode } from '../../src/core/encoding.ts';
import { isSwarmError, type SwarmError } from '../../src/core/errors.ts';

function thrown(fn: () => unknown): SwarmError {
  try {
    fn();
  } catch (e) {
    if (isSwarmError(e)) return e;
    throw e;
  }
  throw new Error('expected a SwarmError, nothing was thrown');
}

/** The double whose IEEE 754 bits are `hex` (big-endian, as RFC 8785 Appendix B prints them). */
function fromBits(hex: string): number {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setBigUint64(0, BigInt(`0x${hex}`));
  return dv.getFloat64(0);
}

/** Deep copy with object keys inserted in sorted order: JSON.stringify of it is JCS for I-JSON data. */
function sortedCopy(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortedCopy);
  if (v !== null && typeof v === 'object') {
    // Null prototype, so a "__proto__" member is copied as data, not as the prototype.
    const out = Object.create(null) as Record<string, unknown>;
    for (const k of Object.keys(v).sort()) out[k] = sortedCopy((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

describe('RFC 8785 examples', () => {
  it('§3.2.2: the sample input canonicalizes to the published output', () => {
    // Input as parsed from the RFC's JSON text (numbers as their doubles).
    const text =
      '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],' +
      ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",' +
      ' "literals": [null, true, false]}';
    const expected =
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' +
      '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}';
    expect(canonicalize(JSON.parse(text))).toBe(expected);
  });

  it('§3.2.3: members are sorted by UTF-16 code units (not code points)', () => {
    const input = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    const out = canonicalize(input);
    expect(out).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","ö":"Latin Small Letter O With Diaeresis",' +
        '"€":"Euro Sign","😀":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
    // By code point U+1F600 would sort after U+FB33; by code unit 0xD83D sorts first.
    expect(out.indexOf('😀')).toBeLessThan(out.indexOf('\ufb33'));
  });

  it('§3.2.4: canonicalBytes is the UTF-8 encoding', () => {
    // The §3.2.4 example: "€$\u000f\nA'B\"\\\\\"/" as bytes.
    const s = '€$\u000f\nA\'B"\\\\"/';
    expect(hexEncode(canonicalBytes(s))).toBe(
      ['22', 'e282ac', '24', '5c7530303066', '5c6e', '41', '27', '42', '5c22', '5c5c', '5c5c', '5c22', '2f', '22'].join(''),
    );
    expect(hexEncode(canonicalBytes({ a: 'é' }))).toBe('7b2261223a22c3a9227d');
  });

  // RFC 8785 Appendix B: IEEE 754 bit patterns and their canonical text.
  const NUMBERS: [string, string][] = [
    ['0000000000000000', '0'],
    ['8000000000000000', '0'], // minus zero
    ['0000000000000001', '5e-324'], // min positive subnormal
    ['8000000000000001', '-5e-324'],
    ['7fefffffffffffff', '1.7976931348623157e+308'], // max finite
    ['ffefffffffffffff', '-1.7976931348623157e+308'],
    ['4340000000000000', '9007199254740992'], // 2^53
    ['c340000000000000', '-9007199254740992'],
    ['4430000000000000', '295147905179352830000'], // 2^68, below 1e21: no exponent
    ['44b52d02c7e14af5', '9.999999999999997e+22'],
    ['44b52d02c7e14af6', '1e+23'],
    ['44b52d02c7e14af7', '1.0000000000000001e+23'],
    ['444b1ae4d6e2ef4e', '999999999999999700000'],
    ['444b1ae4d6e2ef4f', '999999999999999900000'],
    ['444b1ae4d6e2ef50', '1e+21'],
    ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
    ['3eb0c6f7a0b5ed8d', '0.000001'],
    ['41b3de4355555553', '333333333.3333332'],
    ['41b3de4355555554', '333333333.33333325'],
    ['41b3de4355555555', '333333333.3333333'],
    ['41b3de4355555556', '333333333.3333334'],
    ['41b3de4355555557', '333333333.33333343'],
    ['becbf647612f3696', '-0.0000033333333333333333'],
    ['43143ff3c1cb0959', '1424953923781206.2'],
  ];

  it('Appendix B: number serialization', () => {
    for (const [bits, text] of NUMBERS) {
      const n = fromBits(bits);
      expect(canonicalize(n), bits).toBe(text);
      expect(canonicalize([n]), bits).toBe(`[${text}]`);
      // Round trip: the text parses back to the same double (except -0 -> 0).
      expect(Object.is(JSON.parse(text), n === 0 ? 0 : n), bits).toBe(true);
    }
  });

  it('Appendix B: NaN and Infinity are errors', () => {
    for (const bits of ['7fffffffffffffff', '7ff0000000000000', 'fff0000000000000']) {
      expect(thrown(() => canonicalize(fromBits(bits))).code).toBe('CANON_INVALID_NUMBER');
    }
    expect(thrown(() => canonicalize({ a: [1, Number.NaN] })).details).toEqual({ path: '$["a"][1]', value: 'NaN' });
  });
});

describe('strings (§3.2.2.2)', () => {
  it('uses the two-character escapes and lower-case \\u00xx for other controls', () => {
    expect(canonicalize('\b\t\n\f\r"\\')).toBe('"\\b\\t\\n\\f\\r\\"\\\\"');
    expect(canonicalize('\u0000\u0001\u000b\u000e\u001f')).toBe('"\\u0000\\u0001\\u000b\\u000e\\u001f"');
  });

  it('writes "/", DEL, U+2028/2029 and non-ASCII literally', () => {
    expect(canonicalize('/\u007f\u2028\u2029é😀')).toBe('"/\u007f\u2028\u2029é😀"');
  });

  it('agrees with JSON.stringify for every well-formed string, and rejects lone surrogates', () => {
    const unit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
    // what canonicalize does with s: the text it returns, or the code it throws
    const outcome = (s: string): { text: string } | { code: string } => {
      try {
        return { text: canonicalize(s) };
      } catch (e) {
        return { code: isSwarmError(e) ? e.code : String(e) };
      }
    };
    const seen = { wellFormed: 0, lone: 0 }; // both kinds must come up, or half the property went unchecked
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 20 }), (s) => {
        const lone = findLoneSurrogate(s) >= 0;
        seen[lone ? 'lone' : 'wellFormed']++;
        expect(outcome(s)).toEqual(lone ? { code: 'CANON_INVALID_STRING' } : { text: JSON.stringify(s) });
      }),
      { numRuns: 500 },
    );
    expect(Math.min(seen.wellFormed, seen.lone)).toBeGreaterThan(0);
  });

  it('rejects lone surrogates in values and in member names (I-JSON, RFC 7493 §2.1)', () => {
    for (const s of ['\ud800', 'a\udfff', '\udc00\ud800', 'x\ud83d']) {
      expect(thrown(() => canonicalize(s)).code).toBe('CANON_INVALID_STRING');
      expect(thrown(() => canonicalize({ [s]: 1 })).code).toBe('CANON_INVALID_STRING');
    }
    expect(canonicalize('\ud83d\ude00')).toBe('"😀"');
  });
});

describe('structure', () => {
  it('writes literals, arrays and objects without whitespace', () => {
    expect(canonicalize(null)).toBe('null');
    expect(canonicalize(true)).toBe('true');
    expect(canonicalize(false)).toBe('false');
    expect(canonicalize([])).toBe('[]');
    expect(canonicalize({})).toBe('{}');
    expect(canonicalize({ b: [1, { d: 2, c: null }], a: 'x' })).toBe('{"a":"x","b":[1,{"c":null,"d":2}]}');
  });

  it('sorts nested keys, numeric-looking keys as strings', () => {
    expect(canonicalize({ 10: 'a', 9: 'b', 1: 'c', A: 1, a: 2, _: 3 })).toBe('{"1":"c","10":"a","9":"b","A":1,"_":3,"a":2}');
  });

  it('accepts null-prototype objects and a "__proto__" member from JSON.parse', () => {
    const o = Object.create(null) as Record<string, unknown>;
    o.b = 1;
    o.a = 2;
    expect(canonicalize(o)).toBe('{"a":2,"b":1}');
    expect(canonicalize(JSON.parse('{"__proto__":{"x":1},"a":0}'))).toBe('{"__proto__":{"x":1},"a":0}');
  });

  it('writes a shared (non-cyclic) sub-value at each place it occurs', () => {
    const shared = { x: 1 };
    expect(canonicalize({ a: shared, b: [shared, shared] })).toBe('{"a":{"x":1},"b":[{"x":1},{"x":1}]}');
  });
});

describe('undefined (documented choice: omitted as an object member, rejected elsewhere)', () => {
  it('omits object members whose value is undefined, like JSON.stringify', () => {
    const v = { a: 1, b: undefined, c: { d: undefined } };
    expect(canonicalize(v)).toBe('{"a":1,"c":{}}');
    expect(canonicalize(v)).toBe(canonicalize({ a: 1, c: {} }));
    expect(canonicalize(v)).toBe(canonicalize(JSON.parse(JSON.stringify(v))));
    expect(canonicalize({ a: undefined })).toBe('{}');
  });

  it('rejects undefined at the top level, as an array element, and array holes', () => {
    expect(thrown(() => canonicalize(undefined)).code).toBe('CANON_INVALID_VALUE');
    expect(thrown(() => canonicalize([1, undefined])).details).toEqual({ path: '$[1]' });
    expect(thrown(() => canonicalize([1, , 3])).code).toBe('CANON_INVALID_VALUE');
    expect(thrown(() => canonicalize(new Array(2))).code).toBe('CANON_INVALID_VALUE');
  });
});

describe('rejected values', () => {
  it('rejects functions, symbols and bigint with CANON_INVALID_VALUE and a path', () => {
    const cases: [unknown, string][] = [
      [() => 1, '$'],
      [{ f() {} }, '$["f"]'],
      [Symbol('s'), '$'],
      [[Symbol.iterator], '$[0]'],
      [10n, '$'],
      [{ a: { b: [0, 1n] } }, '$["a"]["b"][1]'],
    ];
    for (const [v, path] of cases) {
      const e = thrown(() => canonicalize(v));
      expect(e.code).toBe('CANON_INVALID_VALUE');
      expect(e.details?.path).toBe(path);
    }
  });

  it('rejects non-plain objects with CANON_NOT_PLAIN_OBJECT', () => {
    class Point {
      x = 1;
    }
    class MyArray extends Array<number> {}
    const values: unknown[] = [
      new Map([['a', 1]]),
      new Set([1]),
      new Date(0),
      /re/,
      new Uint8Array(2),
      new Float32Array(1),
      new ArrayBuffer(1),
      new Point(),
      new Number(1),
      new String('s'),
      new Boolean(true),
      new Error('x'),
      Promise.resolve(1),
      MyArray.from([1]),
      { nested: new Map() },
    ];
    for (const v of values) {
      expect(thrown(() => canonicalize(v)).code, String(v)).toBe('CANON_NOT_PLAIN_OBJECT');
    }
    expect(thrown(() => canonicalize(new Point())).details).toEqual({ path: '$', type: 'Point' });
  });

  it('rejects symbol-keyed members', () => {
    expect(thrown(() => canonicalize({ a: 1, [Symbol('k')]: 2 })).code).toBe('CANON_INVALID_KEY');
  });

  it('rejects cycles', () => {
    const a: Record<string, unknown> = { x: 1 };
    a.self = a;
    expect(thrown(() => canonicalize(a))).toMatchObject({ code: 'CANON_CYCLE', details: { path: '$["self"]' } });
    const arr: unknown[] = [1];
    arr.push({ back: arr });
    expect(thrown(() => canonicalize(arr))).toMatchObject({ code: 'CANON_CYCLE', details: { path: '$[1]["back"]' } });
  });

  it('bounds nesting depth with CANON_TOO_DEEP instead of overflowing the stack', () => {
    let ok: unknown = 0;
    for (let i = 0; i < CANONICAL_MAX_DEPTH; i++) ok = [ok];
    expect(canonicalize(ok).length).toBe(2 * CANONICAL_MAX_DEPTH + 1);
    expect(thrown(() => canonicalize([ok])).code).toBe('CANON_TOO_DEEP');
    let deep: unknown = {};
    for (let i = 0; i < 100_000; i++) deep = { a: deep };
    expect(thrown(() => canonicalize(deep)).code).toBe('CANON_TOO_DEEP');
  });
});

describe('properties', () => {
  const json = fc.jsonValue({ stringUnit: 'grapheme', maxDepth: 4 });

  it('is idempotent through JSON.parse: canonicalize(parse(canonicalize(x))) === canonicalize(x)', () => {
    fc.assert(
      fc.property(json, (x) => {
        const c = canonicalize(x);
        expect(canonicalize(JSON.parse(c))).toBe(c);
      }),
      { numRuns: 300 },
    );
  });

  it('agrees with JSON.stringify of a key-sorted copy (JCS = ES serialization + sorting)', () => {
    expect(canonicalize(JSON.parse('[{"__proto__":null,"a":1}]'))).toBe('[{"__proto__":null,"a":1}]');
    fc.assert(
      fc.property(json, (x) => {
        expect(canonicalize(x)).toBe(JSON.stringify(sortedCopy(x)));
      }),
      { numRuns: 300 },
    );
  });

  it('does not depend on the insertion order of keys', () => {
    const value = fc.jsonValue({ stringUnit: 'grapheme', maxDepth: 2 });
    const entries = fc.uniqueArray(fc.tuple(fc.string({ unit: 'grapheme', maxLength: 6 }), value), {
      selector: ([k]) => k,
      maxLength: 8,
    });
    fc.assert(
      fc.property(entries, fc.infiniteStream(fc.nat()), (kv, stream) => {
        const shuffled = [...kv];
        const it = stream[Symbol.iterator]();
        for (let i = shuffled.length - 1; i > 0; i--) {
          const j = it.next().value! % (i + 1);
          [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
        }
        const a = Object.fromEntries(kv);
        const b = Object.fromEntries(shuffled);
        expect(canonicalize(b)).toBe(canonicalize(a));
        expect(canonicalBytes(b)).toEqual(canonicalBytes(a));
      }),
      { numRuns: 300 },
    );
  });

  it('round-trips every finite double through its text', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (n) => {
        const t = canonicalize(n);
        expect(JSON.parse(t)).toBe(n === 0 ? 0 : n);
        expect(t).toBe(JSON.stringify(n));
      }),
      { numRuns: 1000 },
    );
  });
});
