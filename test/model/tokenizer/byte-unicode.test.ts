/** GPT-2's byte <-> character table (Radford et al. 2019; openai/gpt-2 encoder.py bytes_to_unicode). */
import { describe, expect, it } from 'vitest';
import { BYTE_TO_CHAR, bytesToTokenString, tokenStringToBytes } from '../../../src/model/tokenizer/byte-unicode.ts';

describe('byte-level alphabet', () => {
  it('is a bijection of 256 bytes onto 256 single characters', () => {
    expect(BYTE_TO_CHAR).toHaveLength(256);
    expect(new Set(BYTE_TO_CHAR).size).toBe(256);
    for (const c of BYTE_TO_CHAR) expect(c).toHaveLength(1);
  });

  it('keeps the printable bytes and shifts the others to U+0100 + n in byte order', () => {
    for (let b = 33; b <= 126; b++) expect(BYTE_TO_CHAR[b]).toBe(String.fromCharCode(b));
    for (let b = 161; b <= 172; b++) expect(BYTE_TO_CHAR[b]).toBe(String.fromCharCode(b));
    for (let b = 174; b <= 255; b++) expect(BYTE_TO_CHAR[b]).toBe(String.fromCharCode(b));
    // The well-known spellings: byte 0 -> 'Ā', newline -> 'Ċ', space -> 'Ġ', 0x7f -> 'ġ', 0xad -> 'Ń'.
    expect(BYTE_TO_CHAR[0]).toBe('\u0100');
    expect(BYTE_TO_CHAR[10]).toBe('Ċ');
    expect(BYTE_TO_CHAR[32]).toBe('Ġ');
    expect(BYTE_TO_CHAR[127]).toBe('ġ');
    expect(BYTE_TO_CHAR[173]).toBe('Ń');
  });

  it('round-trips every byte string and rejects foreign characters', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(tokenStringToBytes(bytesToTokenString(all))).toEqual(all);
    expect(bytesToTokenString([0x20, 0x68, 0x69])).toBe('Ġhi');
    expect(tokenStringToBytes(' ')).toBeNull(); // a literal space is never in a byte-level token
    expect(tokenStringToBytes('日')).toBeNull();
    expect(tokenStringToBytes('\u0144')).toBeNull(); // one past the last mapped character
  });
});
