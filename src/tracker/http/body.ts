/**
 * Request bodies on the tracker, read only after the headers were judged
 * (issue 25, "Refuse before reading"; DESIGN.md "Cheap to refuse"):
 *
 *  - a declared Content-Length over the route's limit is refused before a
 *    byte is read (RFC 9110 §8.6, §15.5.14 413 Content Too Large);
 *  - the body is streamed chunk by chunk to the caller (which hashes it and
 *    keeps what it needs), counting bytes, and the read stops at the first
 *    chunk past the limit (a chunked upload has no Content-Length, RFC 9112
 *    §7.1);
 *  - the whole body must arrive within a per-request deadline, so a client
 *    that trickles bytes (slow-loris) holds the request for a bounded time:
 *    graceMs plus the expected size at minBytesPerSecond (408 Request
 *    Timeout, RFC 9110 §15.5.9).
 *
 * A refused request's body is left unread, and the error mapper closes the
 * connection (`Connection: close`, RFC 9112 §9.6) instead of letting the
 * server drain the rest: RFC 9110 §15.5.9 and §15.5.14 allow exactly that for
 * 408 and 413, and for a refusal on the headers it is what keeps the bytes
 * read bounded (Node and @hono/node-server otherwise read and discard the
 * rest of the body to reuse the connection). bodyFullyRead() tells the
 * mapper which requests those are.
 */
import { SwarmError } from '../../core/errors.ts';

/** How long a body may take: graceMs plus its expected size at minBytesPerSecond. */
export interface BodyDeadline {
  graceMs: number;
  minBytesPerSecond: number;
}

/**
 * Defaults sized for providers on home uplinks: 10 s of grace, then at least
 * 256 KiB/s (2 Mbit/s) on average. A 64 KiB JSON body gets ~10.3 s, a
 * 256 MiB blob ~17 min. (Node's own server.requestTimeout, 300 s by default,
 * still applies on top: it cuts any request older than that.)
 */
export const DEFAULT_BODY_DEADLINE: BodyDeadline = { graceMs: 10_000, minBytesPerSecond: 256 * 1024 };

/** Requests whose body was read to its end (a refusal of any other closes the connection). */
const fullyRead = new WeakSet<Request>();

/** True when the request has no body or it was read to the end. */
export function bodyFullyRead(req: Request): boolean {
  return req.body === null || fullyRead.has(req);
}

export function bodyTooLarge(maxBytes: number): SwarmError {
  return new SwarmError('TRACKER_BODY_TOO_LARGE', `the request body is larger than ${maxBytes} bytes`, { maxBytes });
}

/** The declared Content-Length (RFC 9110 §8.6: 1*DIGIT), or null when none was sent. */
export function declaredLength(req: Request): number | null {
  const raw = req.headers.get('content-length');
  if (raw === null) return null;
  if (!/^\d{1,16}$/.test(raw)) throw new SwarmError('TRACKER_BAD_REQUEST', 'malformed Content-Length');
  return Number(raw);
}

/** Refuses a declared Content-Length over maxBytes; nothing is read. */
export function refuseDeclaredOversize(req: Request, maxBytes: number): void {
  const n = declaredLength(req);
  if (n !== null && n > maxBytes) throw bodyTooLarge(maxBytes);
}

/** Milliseconds a body of (at most) `bytes` may take under `d`. */
export function bodyDeadlineMs(d: BodyDeadline, bytes: number): number {
  return d.graceMs + Math.ceil((bytes * 1000) / d.minBytesPerSecond);
}

export interface StreamBodyOptions {
  maxBytes: number;
  deadline: BodyDeadline;
  /** Each chunk in order; called only while the total is within maxBytes. */
  onChunk: (chunk: Uint8Array) => void;
}

/**
 * Streams the body to onChunk, refusing past maxBytes (413) and past the
 * deadline (408, a wall-clock timer: transfer time is not the injected
 * Clock's business). Resolves to the byte count. On a refusal the reader is
 * cancelled and no further chunk is delivered.
 */
export async function streamBody(req: Request, o: StreamBodyOptions): Promise<number> {
  refuseDeclaredOversize(req, o.maxBytes);
  if (req.body === null) return 0;
  const expected = declaredLength(req) ?? o.maxBytes;
  const ms = bodyDeadlineMs(o.deadline, expected);
  const reader = req.body.getReader();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SwarmError('TRACKER_BODY_TIMEOUT', `the request body did not arrive within ${ms} ms`, { deadlineMs: ms })), ms);
  });
  expired.catch(() => undefined); // raced below; never an unhandled rejection
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await Promise.race([reader.read(), expired]);
      if (done) break;
      total += value.byteLength;
      if (total > o.maxBytes) throw bodyTooLarge(o.maxBytes);
      o.onChunk(value);
    }
  } catch (e) {
    await reader.cancel().catch(() => undefined);
    throw e;
  } finally {
    clearTimeout(timer);
  }
  fullyRead.add(req);
  return total;
}
