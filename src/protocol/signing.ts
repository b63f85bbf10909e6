/**
 * Request signatures. The idea follows RFC 9421 (HTTP Message Signatures):
 * sign a list of named request components, not the raw message, so proxies
 * may reorder headers without breaking anything, and the signature covers
 * exactly what the server acts on. Our component list is fixed rather than
 * negotiated (one list per protocol version, simpler to audit):
 *
 *   protocol version, method, path (with query), SHA-256 of the body,
 *   timestamp (ms), nonce, public key of the signer
 *
 * These are serialized as RFC 8785 canonical JSON and prefixed with a
 * domain string (ledger/keys.ts domainSeparated), so a request signature can
 * never be mistaken for a ledger entry or tree-head signature made with the
 * same key. Signing the key itself binds the signature to the identity the
 * server will credit (RFC 9421 §7.3.1 warns about key substitution when
 * `keyid` is not covered). The body enters as its hash (RFC 9530-style
 * content digest) so the signed object stays small for any body size.
 *
 * Signatures are pure Ed25519 (RFC 8032 §5.1), 64 bytes, base64url.
 *
 * Replay: the timestamp must lie within maxSkewMs of the verifier's clock
 * (either side, for clock drift), and the (key, nonce) pair must be new in a
 * NonceStore that remembers it until the timestamp leaves the window
 * (nonce-store.ts). Order of checks in verifyRequest: presence, syntax,
 * version, time window, signature, and only then the nonce store, so that
 * unsigned or forged requests can neither fill the store nor burn an honest
 * client's nonce. The nonce is scoped by key id for the same reason.
 * verifyRequest is checkRequestHead (everything that needs no body) then
 * verifyRequestBody (signature over the body hash, then the nonce), so a
 * server can refuse on the headers before reading a byte of the body; its
 * refuseLiveNonce turns a replay away early by a read-only look.
 *
 * Errors (SwarmError codes):
 *  - PROTOCOL_UNSIGNED        a signature header is missing
 *  - PROTOCOL_BAD_HEADER      a header is present but malformed (or repeated)
 *  - PROTOCOL_UNSUPPORTED_VERSION  version header names a version we do not speak
 *  - PROTOCOL_STALE           timestamp outside now ± maxSkewMs
 *  - PROTOCOL_BAD_SIGNATURE   signature does not verify for these components
 *  - PROTOCOL_REPLAY          (key, nonce) already seen within the window
 *  - PROTOCOL_BUSY            the nonce store is full (retry later)
 *  - PROTOCOL_BAD_ARGUMENT    the caller passed bad arguments (local bug, not wire input)
 */
import type { Clock } from '../core/clock.ts';
import { canonicalBytes } from '../core/canonical-json.ts';
import { base64UrlDecode, base64UrlEncode } from '../core/encoding.ts';
import { SwarmError } from '../core/errors.ts';
import { sha256Hex } from '../core/sha256.ts';
import {
  ED25519_PUBLIC_KEY_BYTES,
  ED25519_SIGNATURE_BYTES,
  domainSeparated,
  keyIdOf,
  publicKeyFromRaw,
  signBytes,
  verifyBytes,
  type Ed25519KeyPair,
} from '../ledger/keys.ts';
import type { NonceStore } from './nonce-store.ts';
import { PROTOCOL_VERSION, PROTOCOL_VERSION_HEADER, checkProtocolVersion } from './version.ts';

export const HEADER_KEY = 'x-swarm-key';
export const HEADER_TIMESTAMP = 'x-swarm-timestamp';
export const HEADER_NONCE = 'x-swarm-nonce';
export const HEADER_SIGNATURE = 'x-swarm-signature';
export const HEADER_VERSION = PROTOCOL_VERSION_HEADER;

/** Headers every signed request carries (lower case, as fetch Headers report them). */
export const SIGNATURE_HEADERS = [HEADER_VERSION, HEADER_KEY, HEADER_TIMESTAMP, HEADER_NONCE, HEADER_SIGNATURE] as const;

/** Domain prefix of the signed bytes; the trailing "\n" ends it unambiguously. */
export const REQUEST_SIGNING_DOMAIN = 'sovereign-swarm/request/v1\n';

/** Nonce size bounds in bytes: 16 (128 bits, no birthday collisions in practice) to 64. */
export const NONCE_MIN_BYTES = 16;
export const NONCE_MAX_BYTES = 64;

export const DEFAULT_MAX_SKEW_MS = 60_000;
/** Upper bound for maxSkewMs: a wider window means more nonces to remember and longer replay exposure. */
export const MAX_MAX_SKEW_MS = 3_600_000;

/** Longest request target accepted (path plus query), in characters. */
export const MAX_PATH_LENGTH = 2048;

/** RFC 9110 §5.6.2 token, upper case only (methods are case-sensitive; ours are all upper case). */
const METHOD_RE = /^[A-Z]{1,16}$/;
/** origin-form request target (RFC 9112 §3.2.1): starts with "/", visible ASCII only. */
const PATH_RE = /^\/[\x21-\x7e]*$/;
/** Milliseconds since the epoch as plain decimal: no sign, no leading zeros, at most 16 digits. */
const TIMESTAMP_RE = /^(0|[1-9][0-9]{0,15})$/;

/** A source of fresh random bytes for nonces (crypto.randomBytes at the edge, a seeded PRNG in tests). */
export type NonceSource = () => Uint8Array;

export type SignatureHeaders = Record<(typeof SIGNATURE_HEADERS)[number], string>;

/** The components a request signature covers (RFC 9421 §2 "covered components"). */
export interface SignedComponents {
  version: number;
  method: string;
  path: string;
  /** Lower-case hex SHA-256 of the body bytes (of the empty string when there is no body). */
  bodySha256: string;
  timestamp: number;
  /** base64url of the nonce bytes. */
  nonce: string;
  /** base64url of the raw 32-byte Ed25519 public key. */
  key: string;
}

/** The exact bytes signed: domain ‖ canonical JSON of the components. */
export function requestSigningBytes(c: SignedComponents): Uint8Array {
  return domainSeparated(
    REQUEST_SIGNING_DOMAIN,
    canonicalBytes({
      v: c.version,
      method: c.method,
      path: c.path,
      bodySha256: c.bodySha256,
      timestamp: c.timestamp,
      nonce: c.nonce,
      key: c.key,
    }),
  );
}

function badArgument(message: string, details?: Record<string, unknown>): SwarmError {
  return new SwarmError('PROTOCOL_BAD_ARGUMENT', message, details);
}

function checkMethodAndPath(method: unknown, path: unknown, code: string): void {
  if (typeof method !== 'string' || !METHOD_RE.test(method)) {
    throw new SwarmError(code, 'method must be an upper-case HTTP token', { method: String(method).slice(0, 32) });
  }
  if (typeof path !== 'string' || path.length > MAX_PATH_LENGTH || !PATH_RE.test(path)) {
    throw new SwarmError(code, `path must start with "/" and be at most ${MAX_PATH_LENGTH} visible ASCII characters`, {
      length: typeof path === 'string' ? path.length : null,
    });
  }
}

export interface SignRequestInput {
  method: string;
  /** Path with query exactly as sent, e.g. "/api/work?kind=train" (percent-encoded, not normalized). */
  path: string;
  body: Uint8Array;
  key: Ed25519KeyPair;
  clock: Clock;
  nonce: NonceSource;
}

/** Signature headers for a request; send them with exactly these method, path and body bytes. */
export function signRequest(input: SignRequestInput): SignatureHeaders {
  checkMethodAndPath(input.method, input.path, 'PROTOCOL_BAD_ARGUMENT');
  if (!(input.body instanceof Uint8Array)) throw badArgument('body must be a Uint8Array');
  const nonceBytes = input.nonce();
  if (!(nonceBytes instanceof Uint8Array) || nonceBytes.length < NONCE_MIN_BYTES || nonceBytes.length > NONCE_MAX_BYTES) {
    throw badArgument(`nonce source must return ${NONCE_MIN_BYTES} to ${NONCE_MAX_BYTES} bytes`);
  }
  const timestamp = input.clock.now();
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw badArgument('clock returned an invalid time', { timestamp });
  const components: SignedComponents = {
    version: PROTOCOL_VERSION,
    method: input.method,
    path: input.path,
    bodySha256: sha256Hex(input.body),
    timestamp,
    nonce: base64UrlEncode(nonceBytes),
    key: base64UrlEncode(input.key.publicKeyRaw),
  };
  const signature = signBytes(requestSigningBytes(components), input.key);
  return {
    [HEADER_VERSION]: String(PROTOCOL_VERSION),
    [HEADER_KEY]: components.key,
    [HEADER_TIMESTAMP]: String(timestamp),
    [HEADER_NONCE]: components.nonce,
    [HEADER_SIGNATURE]: base64UrlEncode(signature),
  };
}

/** Request headers as fetch's Headers or a plain record (Node's IncomingHttpHeaders fits). */
export type HeadersInput =
  | { get(name: string): string | null }
  | Readonly<Record<string, string | readonly string[] | undefined>>;

/**
 * One header value, looked up case-insensitively; undefined when absent.
 * A repeated header (array value, or a fetch Headers value joined with ", ")
 * is rejected: a signature header has exactly one value, and ", " never
 * occurs in a valid one.
 */
function headerValue(headers: HeadersInput, name: string): string | undefined {
  let value: unknown;
  if (typeof (headers as { get?: unknown }).get === 'function') {
    value = (headers as { get(n: string): string | null }).get(name) ?? undefined;
  } else {
    const rec = headers as Readonly<Record<string, unknown>>;
    for (const k of Object.keys(rec)) {
      if (k.toLowerCase() === name && rec[k] !== undefined) {
        if (value !== undefined) value = [value, rec[k]]; // same name twice, different case
        else value = rec[k];
      }
    }
  }
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw badHeader(name, 'repeated header');
  if (value.includes(',')) throw badHeader(name, 'repeated header');
  return value;
}

function badHeader(name: string, why: string): SwarmError {
  return new SwarmError('PROTOCOL_BAD_HEADER', `malformed ${name} header: ${why}`, { header: name });
}

function decodeB64u(name: string, value: string, min: number, max: number): Uint8Array {
  // Bound the text before decoding: 4 characters per 3 bytes.
  if (value.length > Math.ceil((max * 4) / 3)) throw badHeader(name, 'too long');
  let bytes: Uint8Array;
  try {
    bytes = base64UrlDecode(value);
  } catch {
    throw badHeader(name, 'not unpadded base64url');
  }
  if (bytes.length < min || bytes.length > max) {
    throw badHeader(name, min === max ? `must be ${min} bytes` : `must be ${min} to ${max} bytes`);
  }
  return bytes;
}

export interface VerifyRequestInput {
  method: string;
  path: string;
  body: Uint8Array;
  headers: HeadersInput;
}

export interface VerifyOptions {
  clock: Clock;
  nonces: NonceStore;
  /** Accepted |now - timestamp| in ms (default 60 s, at most 1 h). */
  maxSkewMs?: number;
}

export interface VerifiedRequest {
  /** keyIdOf the signer's public key (64 lower-case hex). */
  keyId: string;
  /** The signer's raw 32-byte public key. */
  publicKey: Uint8Array;
  timestamp: number;
}

/**
 * What a request's signature headers say, checked without its body: steps
 * 1–3 of verifyRequest (presence, syntax, version, time window). A server
 * that must not read the body of a request it is going to refuse (issue 25,
 * DESIGN.md "Cheap to refuse") calls checkRequestHead as soon as the headers
 * arrive, then reads the body and calls verifyRequestBody with its hash.
 */
export interface RequestHead {
  /** keyIdOf the claimed key (not yet proven: the signature is checked with the body). */
  keyId: string;
  publicKey: Uint8Array;
  timestamp: number;
  /** The NonceStore id of this request: scoped by key id, so one key cannot burn another's nonces. */
  nonceId: string;
  /** When the nonce may be forgotten: the timestamp leaves the window (nonce-store.ts). */
  nonceExpiresAtMs: number;
  version: number;
  method: string;
  path: string;
  /** The header values as sent (signed as text). */
  nonce: string;
  key: string;
  signature: Uint8Array;
}

export interface RequestHeadInput {
  method: string;
  path: string;
  headers: HeadersInput;
}

function checkedMaxSkew(options: { maxSkewMs?: number }): number {
  const maxSkewMs = options.maxSkewMs ?? DEFAULT_MAX_SKEW_MS;
  if (!Number.isSafeInteger(maxSkewMs) || maxSkewMs < 0 || maxSkewMs > MAX_MAX_SKEW_MS) {
    throw badArgument(`maxSkewMs must be an integer from 0 to ${MAX_MAX_SKEW_MS}`, { maxSkewMs });
  }
  return maxSkewMs;
}

/**
 * Steps 1–3 of verifyRequest: everything that needs neither the body nor
 * any stored state. Throws the same coded errors in the same order.
 */
export function checkRequestHead(req: RequestHeadInput, options: Pick<VerifyOptions, 'clock' | 'maxSkewMs'>): RequestHead {
  const maxSkewMs = checkedMaxSkew(options);

  // 1. Presence.
  const values: Partial<Record<(typeof SIGNATURE_HEADERS)[number], string>> = {};
  const missing: string[] = [];
  for (const name of SIGNATURE_HEADERS) {
    const v = headerValue(req.headers, name);
    if (v === undefined) missing.push(name);
    else values[name] = v;
  }
  if (missing.length > 0) {
    throw new SwarmError('PROTOCOL_UNSIGNED', `request is not signed: missing ${missing.join(', ')}`, { missing });
  }
  const h = values as SignatureHeaders;

  // 2. Syntax and version.
  const version = checkProtocolVersion(h[HEADER_VERSION]);
  const publicKey = decodeB64u(HEADER_KEY, h[HEADER_KEY], ED25519_PUBLIC_KEY_BYTES, ED25519_PUBLIC_KEY_BYTES);
  try {
    publicKeyFromRaw(publicKey);
  } catch {
    throw badHeader(HEADER_KEY, 'not an Ed25519 public key');
  }
  if (!TIMESTAMP_RE.test(h[HEADER_TIMESTAMP])) throw badHeader(HEADER_TIMESTAMP, 'must be decimal milliseconds');
  const timestamp = Number(h[HEADER_TIMESTAMP]);
  if (!Number.isSafeInteger(timestamp)) throw badHeader(HEADER_TIMESTAMP, 'out of range');
  decodeB64u(HEADER_NONCE, h[HEADER_NONCE], NONCE_MIN_BYTES, NONCE_MAX_BYTES);
  const signature = decodeB64u(HEADER_SIGNATURE, h[HEADER_SIGNATURE], ED25519_SIGNATURE_BYTES, ED25519_SIGNATURE_BYTES);
  // The method and path come from the HTTP layer, but a bad one is still the client's fault.
  checkMethodAndPath(req.method, req.path, 'PROTOCOL_BAD_HEADER');

  // 3. Time window (cheap, before the signature check).
  const now = options.clock.now();
  if (Math.abs(now - timestamp) > maxSkewMs) {
    throw new SwarmError('PROTOCOL_STALE', `request timestamp is outside ±${maxSkewMs} ms of the server clock`, {
      timestamp,
      now,
      maxSkewMs,
    });
  }
  const keyId = keyIdOf(publicKey);
  return {
    keyId,
    publicKey,
    timestamp,
    nonceId: `${keyId}:${h[HEADER_NONCE]}`,
    nonceExpiresAtMs: timestamp + maxSkewMs,
    version,
    method: req.method,
    path: req.path,
    nonce: h[HEADER_NONCE],
    key: h[HEADER_KEY],
    signature,
  };
}

/**
 * Refuses a request whose nonce is already live, WITHOUT recording it: a
 * read-only look, so that a server can turn a replay away before reading its
 * body. It records nothing because the signature is not checked yet: anyone
 * can send a registered key with a made-up nonce, and recording it here
 * would let them fill the store (PROTOCOL_BUSY for everyone) or burn a nonce
 * they saw on the wire before the honest request arrives. The authoritative,
 * atomic check stays in verifyRequestBody, after the signature; two copies
 * of one request racing past this look are still told apart there. A store
 * without `seen` makes this a no-op (the replay is then refused after the
 * body, as before).
 */
export async function refuseLiveNonce(head: RequestHead, nonces: NonceStore): Promise<void> {
  if (nonces.seen !== undefined && (await nonces.seen(head.nonceId))) {
    throw new SwarmError('PROTOCOL_REPLAY', 'nonce already used within the time window', { keyId: head.keyId });
  }
}

const BODY_SHA256_RE = /^[0-9a-f]{64}$/;

/**
 * Steps 4–5 of verifyRequest for a head from checkRequestHead: the signature
 * over the components with the body's SHA-256 (hex; the caller may hash the
 * body while streaming it), then the nonce is recorded.
 */
export async function verifyRequestBody(head: RequestHead, bodySha256: string, options: Pick<VerifyOptions, 'nonces'>): Promise<VerifiedRequest> {
  if (typeof bodySha256 !== 'string' || !BODY_SHA256_RE.test(bodySha256)) throw badArgument('bodySha256 must be 64 lower-case hex characters');

  // 4. Signature over the components as the server sees them.
  const message = requestSigningBytes({
    version: head.version,
    method: head.method,
    path: head.path,
    bodySha256,
    timestamp: head.timestamp,
    nonce: head.nonce,
    key: head.key,
  });
  if (!verifyBytes(message, head.signature, head.publicKey)) {
    throw new SwarmError('PROTOCOL_BAD_SIGNATURE', 'request signature does not verify');
  }

  // 5. Nonce, remembered until the timestamp leaves the window.
  const verdict = await options.nonces.remember(head.nonceId, head.nonceExpiresAtMs);
  if (verdict === 'replay') {
    throw new SwarmError('PROTOCOL_REPLAY', 'nonce already used within the time window', { keyId: head.keyId });
  }
  if (verdict === 'busy') {
    throw new SwarmError('PROTOCOL_BUSY', 'too many requests in the replay window; retry later', { keyId: head.keyId });
  }
  return { keyId: head.keyId, publicKey: head.publicKey, timestamp: head.timestamp };
}

/**
 * Checks a request's signature headers against its method, path and body;
 * resolves to the signer's identity or rejects with a coded error (see the
 * file comment). Async because a shared NonceStore may be a database.
 */
export async function verifyRequest(req: VerifyRequestInput, options: VerifyOptions): Promise<VerifiedRequest> {
  checkedMaxSkew(options);
  if (!(req.body instanceof Uint8Array)) throw badArgument('body must be a Uint8Array');
  const head = checkRequestHead(req, options);
  return verifyRequestBody(head, sha256Hex(req.body), options);
}
