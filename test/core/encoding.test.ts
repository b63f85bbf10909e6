import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  base64Decode,
  base64Encode,
  base64UrlDecode,
  base64UrlEncode,
  bytesEqual,
  concatBytes,
  findLoneSurrogate,
  hexDecode,
  hexEncode,
  utf8Decode,
  utf8Encode,
} from '../../src/core/encoding.ts';
import { isSwarmError } from '../../src/core/errors.ts';
import { expectCode } from '../helpers/errors.ts';

const bytes = (...b: number[]) => Uint8Array.from(b);
const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));


describe('hex', () => {
  it('encodes lower-case, two digits per byte', () => {
    expect(hexEncode(bytes())).toBe('');
    expect(hexEncode(bytes(0, 1, 0x0f, 0x10, 0xab, 0xff))).toBe('00010f10abff');
  });

  it('decodes either case', () => {
    expect(hexDecode('00010f10abff')).toEqual(bytes(0, 1, 0x0f, 0x10, 0xab, 0xff));
    expect(hexDecode('ABcDeF')).toEqual(bytes(0xab, 0xcd, 0xef));
    expect(hexDecode('')).toEqual(bytes());
  });

  it('rejects odd length, foreign characters, prefixes and whitespace', () => {
    for (const bad of ['0', 'abc', '0g', 'zz', '0x00', ' 00', '00 ', '0\n', 'é0', '١٢']) {
      expectCode(() => hexDecode(bad), 'ENCODING_INVALID_HEX');
    }
    expectCode(() => hexDecode(42 as unknown as string), 'ENCODING_INVALID_HEX');
  });

  it('round-trips and agrees with Buffer', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        const h = hexEncode(b);
        expect(h).toBe(Buffer.from(b).toString('hex'));
        expect(hexDecode(h)).toEqual(b);
        expect(hexDecode(h.toUpperCase())).toEqual(b);
      }),
    );
  });
});

describe('base64 (RFC 4648 §4)', () => {
  // RFC 4648 §10 test vectors.
  const vectors: [string, string][] = [
    ['', ''],
    ['f', 'Zg=='],
    ['fo', 'Zm8='],
    ['foo', 'Zm9v'],
    ['foob', 'Zm9vYg=='],
    ['fooba', 'Zm9vYmE='],
    ['foobar', 'Zm9vYmFy'],
  ];

  it('matches the RFC 4648 §10 vectors', () => {
    for (const [plain, enc] of vectors) {
      expect(base64Encode(ascii(plain))).toBe(enc);
      expect(base64Decode(enc)).toEqual(ascii(plain));
    }
  });

  it('uses + and / (not the URL alphabet)', () => {
    expect(base64Encode(bytes(0xfb, 0xff, 0xbf))).toBe('+/+/');
    expectCode(() => base64Decode('-_-_'), 'ENCODING_INVALID_BASE64');
  });

  it('rejects missing, misplaced or excess padding and bad lengths', () => {
    for (const bad of ['Zg', 'Zg=', 'Zm8', 'Z===', 'Zg===', '====', '=', 'Zm=v', 'Z=g=', 'Zm9vY', 'Zm9v=']) {
      expectCode(() => base64Decode(bad), 'ENCODING_INVALID_BASE64');
    }
  });

  it('rejects whitespace and foreign characters', () => {
    for (const bad of ['Zm9v\n', ' Zm9v', 'Zm 9v', 'Zm9*', 'Zm9é', 'Zm9\u0000']) {
      expectCode(() => base64Decode(bad), 'ENCODING_INVALID_BASE64');
    }
  });

  it('rejects non-zero pad bits (RFC 4648 §3.5), so each byte string has one spelling', () => {
    expect(base64Decode('Zg==')).toEqual(ascii('f'));
    expectCode(() => base64Decode('Zh=='), 'ENCODING_INVALID_BASE64'); // Buffer would accept it as "f"
    expectCode(() => base64Decode('Zm9='), 'ENCODING_INVALID_BASE64');
    expect(Buffer.from('Zh==', 'base64')).toEqual(Buffer.from('f'));
  });

  it('round-trips and agrees with Buffer', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        const e = base64Encode(b);
        expect(e).toBe(Buffer.from(b).toString('base64'));
        expect(base64Decode(e)).toEqual(b);
      }),
    );
  });
});

describe('base64url (RFC 4648 §5, unpadded)', () => {
  it('encodes without padding in the URL alphabet', () => {
    expect(base64UrlEncode(ascii('f'))).toBe('Zg');
    expect(base64UrlEncode(ascii('fo'))).toBe('Zm8');
    expect(base64UrlEncode(ascii('foo'))).toBe('Zm9v');
    expect(base64UrlEncode(bytes(0xfb, 0xff, 0xbf))).toBe('-_-_');
    expect(base64UrlDecode('-_-_')).toEqual(bytes(0xfb, 0xff, 0xbf));
    expect(base64UrlDecode('')).toEqual(bytes());
  });

  it('rejects padding, the standard alphabet, impossible lengths and pad bits', () => {
    for (const bad of ['Zg==', 'Zg=', 'Zm8=', '+/+/', 'Z', 'Zm9vY', 'Zh', 'Zm9', 'Zm 9', 'Zm9v\n']) {
      expectCode(() => base64UrlDecode(bad), 'ENCODING_INVALID_BASE64URL');
    }
    expectCode(() => base64UrlDecode(null as unknown as string), 'ENCODING_INVALID_BASE64URL');
  });

  it('round-trips and agrees with Buffer', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        const e = base64UrlEncode(b);
        expect(e).toBe(Buffer.from(b).toString('base64url'));
        expect(base64UrlDecode(e)).toEqual(b);
      }),
    );
  });
});

describe('base64 strictness', () => {
  it('every string a decoder accepts re-encodes to itself (one spelling per byte string)', () => {
    const unit = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefgh0123456789+/-_=='.split(''));
    const accepted = (fn: () => string, code: string, s: string): void => {
      try {
        expect(fn()).toBe(s);
      } catch (e) {
        if (!isSwarmError(e, code)) throw e;
      }
    };
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 12 }), (s) => {
        accepted(() => base64Encode(base64Decode(s)), 'ENCODING_INVALID_BASE64', s);
        accepted(() => base64UrlEncode(base64UrlDecode(s)), 'ENCODING_INVALID_BASE64URL', s);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('utf8', () => {
  it('encodes and decodes multi-byte characters', () => {
    expect(utf8Encode('€')).toEqual(bytes(0xe2, 0x82, 0xac));
    expect(utf8Encode('😀')).toEqual(bytes(0xf0, 0x9f, 0x98, 0x80));
    expect(utf8Decode(bytes(0x61, 0xc3, 0xb6))).toBe('aö');
  });

  it('keeps a leading BOM instead of stripping it', () => {
    expect(utf8Decode(bytes(0xef, 0xbb, 0xbf, 0x61))).toBe('\ufeffa');
  });

  it('rejects lone surrogates instead of writing U+FFFD', () => {
    for (const s of ['\ud800', 'a\udc00', '\ud83d', 'x\ude00y', '\udbff\udbff']) {
      expectCode(() => utf8Encode(s), 'ENCODING_INVALID_UTF16');
    }
    expect(findLoneSurrogate('ok😀')).toBe(-1);
    expect(findLoneSurrogate('ab\udc00')).toBe(2);
    expect(findLoneSurrogate('\ud83d\ude00\ud83d')).toBe(2);
  });

  it('rejects malformed UTF-8 (overlong, surrogate, truncated, invalid bytes)', () => {
    const bad = [
      bytes(0xc0, 0xaf), // overlong '/'
      bytes(0xed, 0xa0, 0x80), // encoded surrogate U+D800
      bytes(0xe2, 0x82), // truncated
      bytes(0xff),
      bytes(0x80),
      bytes(0xf4, 0x90, 0x80, 0x80), // above U+10FFFF
    ];
    for (const b of bad) expectCode(() => utf8Decode(b), 'ENCODING_INVALID_UTF8');
  });

  it('round-trips every well-formed string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (s) => {
        expect(utf8Decode(utf8Encode(s))).toBe(s);
        expect(utf8Encode(s)).toEqual(new Uint8Array(Buffer.from(s, 'utf8')));
      }),
    );
  });
});

describe('byte helpers', () => {
  it('compares and concatenates', () => {
    expect(bytesEqual(bytes(1, 2), bytes(1, 2))).toBe(true);
    expect(bytesEqual(bytes(1, 2), bytes(1, 3))).toBe(false);
    expect(bytesEqual(bytes(1), bytes(1, 2))).toBe(false);
    expect(concatBytes()).toEqual(bytes());
    expect(concatBytes(bytes(1), bytes(), bytes(2, 3))).toEqual(bytes(1, 2, 3));
  });
});
