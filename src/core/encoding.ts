/**
 * Byte <-> text encodings: hex, base64 (RFC 4648 §4), base64url (RFC 4648 §5)
 * and UTF-8.
 *
 * Why our own instead of Buffer: Buffer's decoders are lenient (they skip
 * invalid characters and stop at the first bad one), so two different strings
 * would decode to the same bytes. Hashes, signatures and ledger fields are
 * compared as text as well as bytes, so every decoder here is strict and
 * accepts exactly one spelling per byte string (RFC 4648 §3.5 "canonical
 * encoding"): wrong length, foreign characters, bad padding or non-zero
 * pad bits are rejected with a coded SwarmError. It also keeps core free of
 * Node-only APIs, so the same code can run in a browser provider.
 */
import { concatArrays } from './concat.ts';
import { SwarmError } from './errors.ts';

const HEX = '0123456789abcdef';

/** Lower-case hex, two characters per byte. */
export function hexEncode(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    out += HEX[b >>> 4]! + HEX[b & 15]!;
  }
  return out;
}

/** Value of one hex digit (either case), or -1. */
function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48; // 0-9
  if (c >= 97 && c <= 102) return c - 87; // a-f
  if (c >= 65 && c <= 70) return c - 55; // A-F
  return -1;
}

/**
 * Decodes hex. Both cases are accepted (hex has no padding bits, so case is
 * the only ambiguity and it is harmless); odd length or any other character
 * (including whitespace and a "0x" prefix) is ENCODING_INVALID_HEX.
 */
export function hexDecode(text: string): Uint8Array {
  if (typeof text !== 'string' || text.length % 2 !== 0) {
    throw new SwarmError('ENCODING_INVALID_HEX', 'hex string must have an even length', {
      length: typeof text === 'string' ? text.length : null,
    });
  }
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = hexDigit(text.charCodeAt(2 * i));
    const lo = hexDigit(text.charCodeAt(2 * i + 1));
    if (hi < 0 || lo < 0) {
      throw new SwarmError('ENCODING_INVALID_HEX', 'invalid hex character', { index: hi < 0 ? 2 * i : 2 * i + 1 });
    }
    out[i] = (hi << 4) | lo;
  }
  return out;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function reverseTable(alphabet: string): Int16Array {
  const t = new Int16Array(128).fill(-1);
  for (let i = 0; i < 64; i++) t[alphabet.charCodeAt(i)] = i;
  return t;
}
const B64_REV = reverseTable(B64);
const B64URL_REV = reverseTable(B64URL);

function encode64(bytes: Uint8Array, alphabet: string, pad: boolean): string {
  let out = '';
  let i = 0;
  for (; i + 3 <= bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += alphabet[n >>> 18]! + alphabet[(n >>> 12) & 63]! + alphabet[(n >>> 6) & 63]! + alphabet[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += alphabet[n >>> 18]! + alphabet[(n >>> 12) & 63]! + (pad ? '==' : '');
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += alphabet[n >>> 18]! + alphabet[(n >>> 12) & 63]! + alphabet[(n >>> 6) & 63]! + (pad ? '=' : '');
  }
  return out;
}

/**
 * Decodes unpadded base64 digits `text` (length % 4 != 1) with reverse table
 * `rev`. Rejects foreign characters and non-zero pad bits (RFC 4648 §3.5).
 */
function decode64(text: string, rev: Int16Array, code: string): Uint8Array {
  if (text.length % 4 === 1) throw new SwarmError(code, 'base64 length is impossible', { length: text.length });
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? rev[c]! : -1;
    if (v < 0) throw new SwarmError(code, 'invalid base64 character', { index: i });
    acc = ((acc << 6) | v) & 0xffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >>> bits) & 0xff;
    }
  }
  // Leftover bits (2 or 4) must be zero, else two texts would decode alike.
  if ((acc & ((1 << bits) - 1)) !== 0) throw new SwarmError(code, 'non-zero base64 pad bits', { length: text.length });
  return out;
}

/** Standard base64 with '=' padding (RFC 4648 §4), as RFC 6962 §4 JSON fields use. */
export function base64Encode(bytes: Uint8Array): string {
  return encode64(bytes, B64, true);
}

/**
 * Strict standard base64: length a multiple of 4, padding exactly as the
 * encoder writes it, no whitespace, no URL alphabet. ENCODING_INVALID_BASE64.
 */
export function base64Decode(text: string): Uint8Array {
  const code = 'ENCODING_INVALID_BASE64';
  if (typeof text !== 'string' || text.length % 4 !== 0) {
    throw new SwarmError(code, 'base64 length must be a multiple of 4', {
      length: typeof text === 'string' ? text.length : null,
    });
  }
  let end = text.length;
  if (end > 0 && text.charCodeAt(end - 1) === 61) end--; // '='
  if (end > 0 && end === text.length - 1 && text.charCodeAt(end - 1) === 61) end--;
  return decode64(text.slice(0, end), B64_REV, code);
}

/**
 * base64url without padding (RFC 4648 §5; unpadded as RFC 7515 §2 uses it):
 * URL- and filename-safe ids for content-addressed blobs.
 */
export function base64UrlEncode(bytes: Uint8Array): string {
  return encode64(bytes, B64URL, false);
}

/** Strict unpadded base64url: '=' is rejected, like '+', '/' and whitespace. ENCODING_INVALID_BASE64URL. */
export function base64UrlDecode(text: string): Uint8Array {
  const code = 'ENCODING_INVALID_BASE64URL';
  if (typeof text !== 'string') throw new SwarmError(code, 'base64url input must be a string');
  return decode64(text, B64URL_REV, code);
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Index of the first unpaired UTF-16 surrogate in `s`, or -1. */
export function findLoneSurrogate(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (d >= 0xdc00 && d <= 0xdfff) i++;
      else return i;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      return i;
    }
  }
  return -1;
}

/**
 * UTF-8 bytes of `s`. A lone surrogate has no UTF-8 form; TextEncoder would
 * silently write U+FFFD, so two different strings would hash alike. We
 * reject instead (ENCODING_INVALID_UTF16).
 */
export function utf8Encode(s: string): Uint8Array {
  const bad = findLoneSurrogate(s);
  if (bad >= 0) throw new SwarmError('ENCODING_INVALID_UTF16', 'string contains a lone surrogate', { index: bad });
  return utf8Encoder.encode(s);
}

/**
 * Decodes UTF-8 strictly (WHATWG "fatal" mode: overlongs, surrogates and
 * truncated sequences are errors, ENCODING_INVALID_UTF8). A leading BOM is
 * kept as U+FEFF, not stripped, so decode(encode(s)) === s for every s.
 */
export function utf8Decode(bytes: Uint8Array): string {
  try {
    return utf8Decoder.decode(bytes);
  } catch (cause) {
    throw new SwarmError('ENCODING_INVALID_UTF8', 'bytes are not valid UTF-8', undefined, { cause });
  }
}

/** Byte-wise equality (not constant-time; for data, not secrets). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Concatenation of byte strings into one new array (concatArrays for bytes). */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  return concatArrays(Uint8Array, parts);
}

/** What the SHA-256 functions take: bytes, or a string hashed as its UTF-8. */
export type HashInput = Uint8Array | string;

/**
 * The bytes of a hash input (core/sha256.ts and its browser twin): a string
 * as UTF-8 (a lone surrogate is ENCODING_INVALID_UTF16), anything that is
 * neither is HASH_INVALID_INPUT.
 */
export function hashInputBytes(data: HashInput): Uint8Array {
  if (typeof data === 'string') return utf8Encode(data);
  if (data instanceof Uint8Array) return data;
  throw new SwarmError('HASH_INVALID_INPUT', 'sha256 input must be a Uint8Array or a string');
}
