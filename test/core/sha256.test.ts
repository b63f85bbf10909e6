import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hexEncode, utf8Encode } from '../../src/core/encoding.ts';
import { SHA256_BYTES, sha256, sha256Hex, sha256Parts } from '../../src/core/sha256.ts';

// FIPS 180-4 examples (NIST CSRC "SHA256.pdf" example values) and the
// one-million-'a' vector from FIPS 180-2 Appendix B.3.
const VECTORS: [string, string][] = [
  ['abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
  ['', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
  // the 448-bit (56-byte) two-block message
  ['abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq', '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1'],
  // the 896-bit message
  [
    'abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu',
    'cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1',
  ],
];

describe('sha256', () => {
  it('matches the FIPS 180-4 example vectors', () => {
    for (const [msg, hex] of VECTORS) {
      expect(sha256Hex(msg)).toBe(hex);
      expect(hexEncode(sha256(utf8Encode(msg)))).toBe(hex);
    }
  });

  it('matches the one-million-"a" vector', () => {
    expect(sha256Hex('a'.repeat(1_000_000))).toBe('cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0');
  });

  it('returns a fresh 32-byte Uint8Array', () => {
    const d = sha256('abc');
    expect(d).toBeInstanceOf(Uint8Array);
    expect(d.length).toBe(SHA256_BYTES);
    expect(Buffer.isBuffer(d)).toBe(false);
    d[0] = 0;
    expect(sha256Hex('abc').startsWith('ba')).toBe(true);
  });

  it('hashes strings as UTF-8', () => {
    expect(sha256Hex('€')).toBe(sha256Hex(Uint8Array.of(0xe2, 0x82, 0xac)));
    expect(sha256Hex('€')).toBe(hexEncode(sha256(Uint8Array.of(0xe2, 0x82, 0xac))));
  });

  it('rejects strings with lone surrogates and non-byte inputs', () => {
    expect(() => sha256('\ud800')).toThrow(expect.objectContaining({ code: 'ENCODING_INVALID_UTF16' }));
    expect(() => sha256([1, 2, 3] as unknown as Uint8Array)).toThrow(expect.objectContaining({ code: 'HASH_INVALID_INPUT' }));
  });

  it('sha256Parts hashes the concatenation (RFC 6962 leaf hash shape)', () => {
    const entry = utf8Encode('{"a":1}');
    const joined = new Uint8Array([0x00, ...entry]);
    expect(sha256Parts([Uint8Array.of(0x00), entry])).toEqual(sha256(joined));
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 5 }), (parts) => {
        const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
        let o = 0;
        for (const p of parts) {
          all.set(p, o);
          o += p.length;
        }
        expect(sha256Parts(parts)).toEqual(sha256(all));
      }),
    );
  });
});
