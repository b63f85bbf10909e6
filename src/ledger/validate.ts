/**
 * Hand-written shape checks for ledger data (the ledger layer imports only
 * core, so no schema library). Each check throws a SwarmError with the
 * checker's code and `details.path`, a JSONPath-like pointer written the way
 * core/canonical-json.ts writes its paths ($["body"]["run"], $["parents"][0]),
 * and returns the value typed.
 *
 * Strictness is the point: what is signed and hashed must have one meaning,
 * so unknown members are rejected (a signer could not have meant them, and
 * a verifier would ignore them), numbers must be safe integers (no floats,
 * no precision loss), and strings must be well-formed UTF-16 (so they have
 * a UTF-8 form to hash, RFC 8785 §3.2.2.2 / RFC 7493 §2.1).
 */
import { base64Decode, base64Encode, findLoneSurrogate } from '../core/encoding.ts';
import { SwarmError } from '../core/errors.ts';

export type Path = string;

/** Path of member `key` under `path`. */
export function member(path: Path, key: string): Path {
  return `${path}[${JSON.stringify(key)}]`;
}

/** Path of element `i` under `path`. */
export function element(path: Path, i: number): Path {
  return `${path}[${i}]`;
}

const HEX64_RE = /^[0-9a-f]{64}$/;

export class Validator {
  constructor(readonly code: string) {}

  fail(path: Path, message: string): never {
    throw new SwarmError(this.code, `${path}: ${message}`, { path });
  }

  /**
   * A plain object (JSON object) with exactly the `required` members plus
   * any of `optional`. A member holding `undefined` counts as absent (as
   * after a JSON round trip, and as canonical JSON omits it).
   */
  object(value: unknown, path: Path, required: readonly string[], optional: readonly string[] = []): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.fail(path, 'expected an object');
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) this.fail(path, 'expected a plain object');
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (record[key] === undefined) continue;
      if (!required.includes(key) && !optional.includes(key)) this.fail(member(path, key), 'unknown member');
    }
    for (const key of required) {
      if (record[key] === undefined) this.fail(member(path, key), 'missing member');
    }
    return record;
  }

  array(value: unknown, path: Path, maxItems: number): readonly unknown[] {
    if (!Array.isArray(value)) this.fail(path, 'expected an array');
    if (value.length > maxItems) this.fail(path, `more than ${maxItems} items`);
    return value;
  }

  /** A string of 1..maxLength UTF-16 code units, well formed, optionally matching `pattern`. */
  string(value: unknown, path: Path, maxLength: number, pattern?: RegExp): string {
    if (typeof value !== 'string') this.fail(path, 'expected a string');
    if (value.length === 0) this.fail(path, 'empty string');
    if (value.length > maxLength) this.fail(path, `longer than ${maxLength} characters`);
    if (findLoneSurrogate(value) >= 0) this.fail(path, 'string contains a lone surrogate');
    if (pattern !== undefined && !pattern.test(value)) this.fail(path, `does not match ${pattern.source}`);
    return value;
  }

  /** One of the given string literals. */
  literal<T extends string>(value: unknown, path: Path, allowed: readonly T[]): T {
    if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
      this.fail(path, `expected one of ${allowed.join(', ')}`);
    }
    return value as T;
  }

  /** A safe integer in [min, Number.MAX_SAFE_INTEGER]. */
  uint(value: unknown, path: Path, min = 0): number {
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) this.fail(path, 'expected a safe integer');
    if (value < min) this.fail(path, `must be >= ${min}`);
    return value;
  }

  /** 64 lower-case hex characters: a SHA-256 digest or a key id. */
  hex64(value: unknown, path: Path): string {
    if (typeof value !== 'string' || !HEX64_RE.test(value)) this.fail(path, 'expected 64 lower-case hex characters');
    return value;
  }

  /** Canonical standard base64 (RFC 4648 §4) of exactly `bytes` bytes; returns the bytes. */
  base64(value: unknown, path: Path, bytes: number): Uint8Array {
    if (typeof value !== 'string') this.fail(path, 'expected a base64 string');
    let decoded: Uint8Array;
    try {
      decoded = base64Decode(value);
    } catch {
      this.fail(path, 'invalid base64');
    }
    if (decoded.length !== bytes) this.fail(path, `expected ${bytes} bytes`);
    // base64Decode is strict already; the round trip makes the guarantee local.
    if (base64Encode(decoded) !== value) this.fail(path, 'non-canonical base64');
    return decoded;
  }

  /** A Uint8Array of exactly `bytes` bytes. */
  bytes(value: unknown, path: Path, bytes: number): Uint8Array {
    if (!(value instanceof Uint8Array) || value.length !== bytes) this.fail(path, `expected ${bytes} bytes`);
    return value;
  }
}
