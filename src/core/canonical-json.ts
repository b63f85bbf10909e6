/**
 * JSON Canonicalization Scheme (JCS, RFC 8785).
 *
 * Ledger entries and result encodings are signed and hashed, so one value must
 * have exactly one byte form on every machine. JCS gives that: I-JSON data
 * only (RFC 7493), no whitespace, object members sorted by the UTF-16 code
 * units of their names (§3.2.3), numbers printed as ECMAScript's
 * Number.prototype.toString prints them (§3.2.2.3), strings with only the
 * mandatory escapes (§3.2.2.2), and the result encoded as UTF-8 (§3.2.4).
 *
 * Accepted values: null, booleans, finite numbers, well-formed strings,
 * arrays, and plain objects (prototype Object.prototype or null).
 * Everything else is a coded SwarmError, never silently coerced:
 *  - CANON_INVALID_NUMBER    NaN, ±Infinity (not representable in JSON, §3.2.2.3)
 *  - CANON_INVALID_VALUE     undefined (except as an object member, below),
 *                            functions, symbols, bigint
 *  - CANON_NOT_PLAIN_OBJECT  Map, Set, Date, RegExp, typed arrays, class instances, boxed primitives
 *  - CANON_INVALID_STRING    lone surrogates in a string or a member name
 *                            (I-JSON, RFC 7493 §2.1, which JCS requires)
 *  - CANON_INVALID_KEY       symbol-keyed members (they would be invisible data)
 *  - CANON_CYCLE             a value that contains itself
 *  - CANON_TOO_DEEP          nesting beyond CANONICAL_MAX_DEPTH (a bound for hostile input)
 * Error details carry `path`, a JSONPath-like pointer to the bad value.
 *
 * Choice on undefined members: an object member whose value is `undefined` is
 * omitted, as JSON.stringify omits it (and as the member is absent after any
 * JSON round trip). Optional TypeScript fields are often present-but-undefined
 * after a spread, and `{a: 1, b: undefined}` must hash like `{a: 1}` because
 * that is what the receiver of the JSON text sees. The guarantee is therefore
 * canonicalize(x) === canonicalize(JSON.parse(JSON.stringify(x))) for every
 * accepted x. `undefined` anywhere else (top level, array element, array hole)
 * has no JSON meaning (JSON.stringify would write `null` or nothing) and is
 * rejected.
 */
import { utf8Encode } from './encoding.ts';
import { SwarmError } from './errors.ts';

/** Types that canonicalize accepts (undefined only as an object member). */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [k: string]: JsonValue | undefined };

/** Deepest nesting of arrays/objects accepted; guards the recursion. */
export const CANONICAL_MAX_DEPTH = 1000;

/** Canonical JSON text of `value` (RFC 8785). */
export function canonicalize(value: unknown): string {
  if (value === undefined) {
    throw new SwarmError('CANON_INVALID_VALUE', 'undefined has no JSON form', { path: '$' });
  }
  const out: string[] = [];
  write(value, '$', 0, new Set<object>(), out);
  return out.join('');
}

/** UTF-8 bytes of the canonical JSON text (§3.2.4): the bytes to hash or sign. */
export function canonicalBytes(value: unknown): Uint8Array {
  return utf8Encode(canonicalize(value));
}

function write(value: unknown, path: string, depth: number, ancestors: Set<object>, out: string[]): void {
  switch (typeof value) {
    case 'string':
      out.push(serializeString(value, path));
      return;
    case 'number':
      out.push(serializeNumber(value, path));
      return;
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'object':
      if (value === null) {
        out.push('null');
        return;
      }
      break;
    default:
      // undefined, function, symbol, bigint. (BigInt: I-JSON §2.2 limits
      // numbers to binary64; big integers belong in strings.)
      throw new SwarmError('CANON_INVALID_VALUE', `${typeof value} has no JSON form`, { path, type: typeof value });
  }

  const obj = value as object;
  if (depth >= CANONICAL_MAX_DEPTH) throw new SwarmError('CANON_TOO_DEEP', `nesting deeper than ${CANONICAL_MAX_DEPTH}`, { path });
  // Only the current path is tracked, so a shared (DAG) sub-value is fine and
  // is written twice; only a value inside itself is a cycle.
  if (ancestors.has(obj)) throw new SwarmError('CANON_CYCLE', 'value contains itself', { path });
  ancestors.add(obj);
  if (Array.isArray(obj)) writeArray(obj, path, depth, ancestors, out);
  else writeObject(obj, path, depth, ancestors, out);
  ancestors.delete(obj);
}

function writeArray(arr: readonly unknown[], path: string, depth: number, ancestors: Set<object>, out: string[]): void {
  if (Object.getPrototypeOf(arr) !== Array.prototype) {
    throw new SwarmError('CANON_NOT_PLAIN_OBJECT', 'array subclasses are not JSON data', { path });
  }
  out.push('[');
  for (let i = 0; i < arr.length; i++) {
    if (i > 0) out.push(',');
    const item = arr[i];
    const itemPath = `${path}[${i}]`;
    if (item === undefined) {
      throw new SwarmError('CANON_INVALID_VALUE', 'undefined array element (or hole) has no JSON form', { path: itemPath });
    }
    write(item, itemPath, depth + 1, ancestors, out);
  }
  out.push(']');
}

function writeObject(obj: object, path: string, depth: number, ancestors: Set<object>, out: string[]): void {
  const proto = Object.getPrototypeOf(obj);
  if (proto !== Object.prototype && proto !== null) {
    const name = (obj as { constructor?: { name?: unknown } }).constructor?.name;
    throw new SwarmError('CANON_NOT_PLAIN_OBJECT', 'only plain objects are JSON data', {
      path,
      type: typeof name === 'string' ? name : 'unknown',
    });
  }
  if (Object.getOwnPropertySymbols(obj).length > 0) {
    throw new SwarmError('CANON_INVALID_KEY', 'symbol-keyed members have no JSON form', { path });
  }
  // §3.2.3: sort by UTF-16 code units. JS `<` on strings compares code units,
  // which is exactly this order (not locale order, not code point order).
  const keys = Object.keys(obj).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const record = obj as Record<string, unknown>;
  out.push('{');
  let first = true;
  for (const key of keys) {
    const member = record[key];
    if (member === undefined) continue; // omitted, see the header comment
    const memberPath = `${path}[${JSON.stringify(key)}]`;
    if (!first) out.push(',');
    first = false;
    out.push(serializeString(key, memberPath), ':');
    write(member, memberPath, depth + 1, ancestors, out);
  }
  out.push('}');
}

/**
 * §3.2.2.3: the ECMAScript Number-to-String algorithm (ECMA-262
 * Number::toString, radix 10): shortest round-tripping digits, exponent
 * form outside [1e-6, 1e21). String(n) is that algorithm, and it already
 * maps -0 to "0" as §3.2.2.3 requires.
 */
function serializeNumber(n: number, path: string): string {
  if (!Number.isFinite(n)) {
    throw new SwarmError('CANON_INVALID_NUMBER', `${n} has no JSON form`, { path, value: String(n) });
  }
  return String(n);
}

/**
 * §3.2.2.2: quote the string; escape '"' and '\\'; write U+0008, U+0009,
 * U+000A, U+000C, U+000D as \b \t \n \f \r; other code units below U+0020 as
 * \u00xx with lower-case hex; everything else (including U+007F and
 * non-ASCII) literally.
 */
function serializeString(s: string, path: string): string {
  let out = '"';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let esc: string | undefined;
    if (c < 0x20 || c === 0x22 || c === 0x5c) {
      esc = SHORT_ESCAPES[c] ?? '\\u00' + (c < 0x10 ? '0' : '') + c.toString(16);
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const isPair = c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
      if (!isPair) {
        throw new SwarmError('CANON_INVALID_STRING', 'lone surrogate (not I-JSON, RFC 7493 §2.1)', { path, index: i });
      }
      i++; // the low half is copied with the run
      continue;
    }
    if (esc !== undefined) {
      out += s.slice(start, i) + esc;
      start = i + 1;
    }
  }
  return out + s.slice(start) + '"';
}

const SHORT_ESCAPES: Record<number, string> = {
  0x08: '\\b',
  0x09: '\\t',
  0x0a: '\\n',
  0x0c: '\\f',
  0x0d: '\\r',
  0x22: '\\"',
  0x5c: '\\\\',
};
