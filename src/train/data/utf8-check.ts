/**
 * Where a byte string stops being well-formed UTF-8: the offset of the first
 * ill-formed sequence, or -1. Follows the table of well-formed byte sequences
 * in The Unicode Standard, ch. 3, Table 3-7 (no overlongs, no surrogates, no
 * code points above U+10FFFF, no truncated sequences), the same set that
 * WHATWG's fatal TextDecoder accepts. TextDecoder only says "invalid"; the
 * offset lets the loader say where.
 */
export function firstInvalidUtf8(b: Uint8Array): number {
  const n = b.length;
  const cont = (i: number, lo = 0x80, hi = 0xbf): boolean => i < n && b[i]! >= lo && b[i]! <= hi;
  let i = 0;
  while (i < n) {
    const c = b[i]!;
    if (c < 0x80) {
      i += 1;
    } else if (c >= 0xc2 && c <= 0xdf) {
      if (!cont(i + 1)) return i;
      i += 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      const lo = c === 0xe0 ? 0xa0 : 0x80; // no overlongs
      const hi = c === 0xed ? 0x9f : 0xbf; // no surrogates
      if (!cont(i + 1, lo, hi) || !cont(i + 2)) return i;
      i += 3;
    } else if (c >= 0xf0 && c <= 0xf4) {
      const lo = c === 0xf0 ? 0x90 : 0x80; // no overlongs
      const hi = c === 0xf4 ? 0x8f : 0xbf; // nothing above U+10FFFF
      if (!cont(i + 1, lo, hi) || !cont(i + 2) || !cont(i + 3)) return i;
      i += 4;
    } else {
      return i; // 80..C1 and F5..FF never start a sequence
    }
  }
  return -1;
}
