/**
 * Text <-> UTF-8 helpers shared by the tokenizers.
 *
 * Lone surrogates (decision): a JS string may hold an unpaired UTF-16
 * surrogate, which has no UTF-8 form. TextEncoder would silently write U+FFFD,
 * so two different strings would get the same token ids and the round trip
 * decode(encode(s)) === s would break without anyone noticing. Like
 * core/encoding.ts we reject instead, with TOKENIZER_INVALID_TEXT (details:
 * the index of the surrogate). Callers that ingest untrusted text sanitise it
 * first (e.g. String.prototype.toWellFormed) so that the choice is explicit.
 *
 * Decoding is the opposite: token ids can cut a multi-byte character in two
 * (a streaming reply, a truncated sequence, a sampled id that ends in the
 * middle of a character), and that must not throw. We decode leniently with
 * the WHATWG UTF-8 decoder, which replaces each maximal invalid subpart by
 * one U+FFFD (WHATWG Encoding §4.1; the same rule as Rust's
 * String::from_utf8_lossy that Hugging Face tokenizers uses), so the output
 * is the same in every engine.
 */
import { findLoneSurrogate } from '../../core/encoding.ts';
import { SwarmError } from '../../core/errors.ts';

/** Throws TOKENIZER_INVALID_TEXT unless `text` is a string of well-formed UTF-16. */
export function assertWellFormed(text: unknown): asserts text is string {
  if (typeof text !== 'string') {
    throw new SwarmError('TOKENIZER_INVALID_TEXT', 'text to encode must be a string', { type: typeof text });
  }
  const bad = findLoneSurrogate(text);
  if (bad >= 0) {
    throw new SwarmError('TOKENIZER_INVALID_TEXT', 'text contains a lone UTF-16 surrogate, which has no UTF-8 form', {
      index: bad,
    });
  }
}

/**
 * Appends the UTF-8 bytes of `s[start, end)` to `out`. `s` must be well
 * formed (checked once per text by assertWellFormed, not per piece).
 * Hand-written because pieces are short and TextEncoder's per-call cost
 * dominates there.
 */
export function appendUtf8(s: string, out: number[], start = 0, end = s.length): void {
  for (let i = start; i < end; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      out.push(c);
    } else if (c < 0x800) {
      out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    } else if (c >= 0xd800 && c <= 0xdbff) {
      // A high surrogate; well-formedness guarantees the low one follows.
      c = 0x10000 + ((c - 0xd800) << 10) + (s.charCodeAt(++i) - 0xdc00);
      out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    } else {
      out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    }
  }
}

/** UTF-8 bytes of a well-formed string. */
export function utf8Bytes(s: string): Uint8Array {
  const out: number[] = [];
  appendUtf8(s, out);
  return Uint8Array.from(out);
}

// ignoreBOM keeps a leading U+FEFF as text instead of eating it, so that
// decode(encode("\uFEFF...")) round-trips.
const lossyDecoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/** Decodes UTF-8, replacing invalid or truncated sequences by U+FFFD; never throws. */
export function decodeUtf8Lossy(bytes: Uint8Array): string {
  return lossyDecoder.decode(bytes);
}
