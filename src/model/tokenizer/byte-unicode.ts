/**
 * GPT-2's reversible byte <-> Unicode table (Radford et al. 2019, "Language
 * Models are Unsupervised Multitask Learners", §2.2; `bytes_to_unicode` in
 * openai/gpt-2 encoder.py), which Hugging Face `tokenizers` uses for every
 * ByteLevel vocabulary (pre_tokenizers/byte_level.rs).
 *
 * Why it exists: a byte-level vocabulary holds tokens that are arbitrary byte
 * strings (half a UTF-8 character, control bytes), but tokenizer.json stores
 * tokens as JSON strings. Each byte is therefore shown as one printable
 * character: the printable Latin-1 bytes 33-126 ('!'..'~'), 161-172 ('¡'..'¬')
 * and 174-255 ('®'..'ÿ') stand for themselves, and the other 68 bytes (0-32,
 * 127-160, 173) get U+0100 + n in byte order (so space, 0x20, is 'Ġ' U+0120
 * and newline, 0x0A, is 'Ċ' U+010A). A token's string is the concatenation of
 * its bytes' characters, and every character is one UTF-16 code unit.
 */

/** BYTE_TO_CHAR[b] is the one-character string standing for byte b. */
export const BYTE_TO_CHAR: readonly string[] = buildByteToChar();

/** UTF-16 code unit -> byte, or -1 for characters outside the table. */
const CHAR_TO_BYTE: Int16Array = buildCharToByte();

function isPrintable(b: number): boolean {
  return (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
}

function buildByteToChar(): string[] {
  const out: string[] = new Array<string>(256);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    out[b] = String.fromCharCode(isPrintable(b) ? b : 256 + n++);
  }
  return out;
}

function buildCharToByte(): Int16Array {
  // The highest code unit used is 256 + 67 = 323 (U+0143).
  const t = new Int16Array(324).fill(-1);
  for (let b = 0; b < 256; b++) t[BYTE_TO_CHAR[b]!.charCodeAt(0)] = b;
  return t;
}

/** The byte-level string of a byte sequence (the token's key in tokenizer.json). */
export function bytesToTokenString(bytes: ArrayLike<number>): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += BYTE_TO_CHAR[bytes[i]!]!;
  return s;
}

/**
 * Bytes of a byte-level token string, or null if some character is not in
 * the table (such a string cannot come from a ByteLevel vocabulary).
 */
export function tokenStringToBytes(s: string): Uint8Array | null {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const b = c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c]! : -1;
    if (b < 0) return null;
    out[i] = b;
  }
  return out;
}
