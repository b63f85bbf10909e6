/**
 * Canonical JSON at its edges (issue 26, mutation testing): the \u00xx
 * escape at 0x10, surrogate pairs at the ends of their ranges, and key order
 * over many keys.
 */
import { describe, expect, it } from 'vitest';
import { canonicalize } from '../../src/core/canonical-json.ts';

const code = (c: string) => expect.objectContaining({ code: c });

describe('canonicalize strings', () => {
  it('escapes control characters with two lower-case hex digits, 0x0f and 0x10 included', () => {
    expect(canonicalize('\u000f')).toBe('"\\u000f"');
    expect(canonicalize('\u0010')).toBe('"\\u0010"');
    expect(canonicalize('\u001f')).toBe('"\\u001f"');
  });

  it('accepts a pair whose high half is U+DBFF and refuses two low halves in a row', () => {
    expect(canonicalize('\udbff\udfff')).toBe('"\udbff\udfff"');
    expect(canonicalize('\ud800\udc00')).toBe('"\ud800\udc00"');
    expect(() => canonicalize('\udc00\udc00')).toThrow(code('CANON_INVALID_STRING'));
    expect(() => canonicalize('\udfff\udc00')).toThrow(code('CANON_INVALID_STRING'));
    expect(() => canonicalize('a\ud800')).toThrow(code('CANON_INVALID_STRING'));
  });
});

describe('canonicalize objects', () => {
  it('orders many keys by UTF-16 code units, whatever the insertion order', () => {
    const keys = Array.from({ length: 200 }, (_, i) => `k${String((i * 73) % 200).padStart(3, '0')}`);
    const obj = Object.fromEntries(keys.map((k) => [k, 1]));
    const sorted = [...keys].sort();
    expect(canonicalize(obj)).toBe(`{${sorted.map((k) => `"${k}":1`).join(',')}}`);
  });
});
