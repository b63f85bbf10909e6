/**
 * Protocol versions. Every signed request carries its version in the
 * `x-swarm-protocol` header, and the version is also bound into the signed
 * bytes (see signing.ts), so a request signed under one version can never be
 * re-interpreted under another. Wire schemas are grouped per version
 * (schemas.ts: wireSchemas(version)); a new version adds a new group and an
 * entry here, and old peers get a coded refusal instead of a misparse
 * (js-libp2p / hypercore: "encodings as data with versions").
 *
 * Errors: PROTOCOL_UNSUPPORTED_VERSION for a well-formed version this build
 * does not speak; PROTOCOL_BAD_HEADER for text that is not a version number.
 */
import { SwarmError } from '../core/errors.ts';

/** The version this build speaks (and signs with). */
export const PROTOCOL_VERSION = 1;

/** Every version this build accepts, oldest first. */
export const SUPPORTED_PROTOCOL_VERSIONS: readonly number[] = Object.freeze([1]);

/** Header name carrying the version of a request. */
export const PROTOCOL_VERSION_HEADER = 'x-swarm-protocol';

/** True when `v` is a version this build speaks. */
export function isSupportedProtocolVersion(v: unknown): v is number {
  return typeof v === 'number' && SUPPORTED_PROTOCOL_VERSIONS.includes(v);
}

/**
 * The version number in `value` (a number, or header text of plain decimal
 * digits without sign, leading zeros or spaces), or a coded error.
 */
export function checkProtocolVersion(value: unknown): number {
  let v: number;
  if (typeof value === 'number') {
    v = value;
  } else if (typeof value === 'string' && /^[1-9][0-9]{0,5}$/.test(value)) {
    v = Number(value);
  } else {
    throw new SwarmError('PROTOCOL_BAD_HEADER', 'protocol version must be a positive decimal integer', {
      header: PROTOCOL_VERSION_HEADER,
    });
  }
  if (!isSupportedProtocolVersion(v)) {
    throw new SwarmError('PROTOCOL_UNSUPPORTED_VERSION', `protocol version ${String(v)} is not supported`, {
      version: Number.isFinite(v) ? v : String(v),
      supported: [...SUPPORTED_PROTOCOL_VERSIONS],
    });
  }
  return v;
}
