/**
 * The tracker's one error mapper (DESIGN.md, "How the code should look":
 * hono — "one error mapper turns coded errors into HTTP responses"; issue 5).
 * Every failure leaves as
 *     {"error": {"code": "SCREAMING_SNAKE", "message": "..."}}
 * (protocol/schemas.ts ErrorBodySchema) with a status chosen from the code's
 * family. Anything that is not a SwarmError, and every 5xx, is reported with
 * a generic message: no input can make the server print its internals (SQL,
 * stack, driver messages stay in the process).
 */
import { SwarmError, isSwarmError } from '../../core/errors.ts';

/** Exact codes whose status differs from their family's. */
const EXACT: Record<string, number> = {
  PROTOCOL_UNSIGNED: 401,
  PROTOCOL_BAD_HEADER: 400,
  PROTOCOL_STALE: 401,
  PROTOCOL_BAD_SIGNATURE: 401,
  PROTOCOL_REPLAY: 409,
  PROTOCOL_BUSY: 503,
  PROTOCOL_UNSUPPORTED_VERSION: 400,
  PROTOCOL_INVALID: 400,
  // registration's proof of work (protocol/pow.ts, issue 25)
  PROTOCOL_POW_REQUIRED: 400,
  PROTOCOL_BAD_POW: 400,
  // RFC 6585 §4, with Retry-After (rate-limit.ts, issue 25)
  TRACKER_RATE_LIMITED: 429,
  TRACKER_BAD_JSON: 400,
  TRACKER_BAD_REQUEST: 400,
  TRACKER_UNSUPPORTED_MEDIA: 415,
  TRACKER_BODY_TOO_LARGE: 413,
  // RFC 9110 §15.5.9: the body did not arrive within the route's deadline (http/body.ts)
  TRACKER_BODY_TIMEOUT: 408,
  TRACKER_NOT_FOUND: 404,
  TRACKER_METHOD: 405,
  TRACKER_FORBIDDEN: 403,
  TRACKER_UNKNOWN_PROVIDER: 403,
  TRACKER_CONFLICT: 409,
  TRACKER_RANGE: 416,
  TRACKER_HASH_MISMATCH: 422,
  TRACKER_UNAVAILABLE: 503,
  BLOB_NOT_FOUND: 404,
  BLOB_HASH_MISMATCH: 422,
  BLOB_TOO_LARGE: 413,
  BLOB_BAD_RANGE: 416,
  BLOB_BAD_HASH: 400,
  LEDGER_NOT_FOUND: 404,
  LEDGER_BAD_REQUEST: 400,
  LEDGER_BAD_PROOF: 400,
  LEDGER_INCONSISTENT: 409,
  LEDGER_BAD_SIGNATURE: 400,
  LEDGER_BAD_TREE_HEAD: 400,
  LEDGER_BAD_ENTRY: 400,
  LEDGER_COSIGNATURES_FULL: 409,
  LEDGER_STORE_CORRUPT: 500,
  LEDGER_INTERNAL: 500,
  STORAGE_CONFLICT: 409,
  STORAGE_NOT_FOUND: 404,
  STORAGE_INVALID_HASH: 400,
  STORAGE_TOO_LARGE: 413,
  STORAGE_HASH_MISMATCH: 422,
  STORAGE_RANGE_NOT_SATISFIABLE: 416,
  STORAGE_INVALID_ARGUMENT: 400,
  TRACKER_RESULT_NOT_UPLOADED: 409,
  TRACKER_MISSING_INPUT: 409,
  TRACKER_BAD_URL: 400,
  WORK_BAD_SPEC: 400,
  WORK_UNKNOWN_KIND: 400,
  STORAGE_UNAVAILABLE: 503,
  WU_UNKNOWN_REPLICA: 404,
  WU_REPLICA_NOT_IN_PROGRESS: 409,
  WU_LEASE_EXPIRED: 409,
  WU_CLOSED: 409,
  // the council (issue 20; src/tracker/council.ts)
  TRACKER_BANNED: 403,
  COUNCIL_NOT_FORMED: 409,
  COUNCIL_NOT_A_MEMBER: 403,
  COUNCIL_BAD_PROPOSAL: 400,
  COUNCIL_BAD_VOTE: 400,
  COUNCIL_BAD_APPROVAL: 400,
  COUNCIL_NOT_APPLICABLE: 409,
  COUNCIL_UNKNOWN_PROPOSAL: 404,
  COUNCIL_UNKNOWN_IDENTITY: 404,
  COUNCIL_UNKNOWN_UNIT: 404,
  COUNCIL_UNKNOWN_RUN: 404,
  COUNCIL_UNKNOWN_CHECKPOINT: 404,
  COUNCIL_UNKNOWN_RELEASE: 404,
  COUNCIL_PROPOSAL_CLOSED: 409,
  COUNCIL_PROPOSAL_EXPIRED: 409,
  COUNCIL_DUPLICATE_VOTE: 409,
  COUNCIL_GENESIS_MISMATCH: 409,
  COUNCIL_BAD_GENESIS: 400,
  // the contributor licence agreement (issue 20; src/tracker/cla.ts)
  TRACKER_CLA_REQUIRED: 403,
  CLA_BAD_ENTRY: 400,
  CLA_BAD_DOCUMENT: 400,
  CLA_WRONG_VERSION: 409,
  CLA_NOT_REQUIRED: 409,
  CLA_MISMATCH: 409,
};

/** Status of a coded error: its exact entry, else 400 for validation-like families, else 500. */
export function statusOf(code: string): number {
  const exact = EXACT[code];
  if (exact !== undefined) return exact;
  // A run spec or unit spec a client sent that does not parse (RUN_BAD_SPEC, WORK_BAD_SPEC, WORK_BLOB_* for
  // blobs it names) is the client's mistake, like every protocol and tracker rejection.
  if (/^(PROTOCOL|TRACKER|LEDGER|WU|BLOB|RUN|WORK)_/.test(code)) return 400;
  return 500;
}

export interface TrackerErrorBody {
  error: { code: string; message: string };
}

/** Status and body for any thrown value (5xx bodies are generic). */
export function trackerErrorBody(err: unknown): { status: number; body: TrackerErrorBody } {
  if (isSwarmError(err)) {
    const status = statusOf(err.code);
    if (status >= 500) {
      const code = err.code === 'STORAGE_UNAVAILABLE' || err.code === 'PROTOCOL_BUSY' || err.code === 'TRACKER_UNAVAILABLE' ? err.code : 'TRACKER_INTERNAL';
      return { status, body: { error: { code, message: 'the tracker could not complete the request; try again later' } } };
    }
    return { status, body: { error: { code: err.code, message: err.message.slice(0, 1024) } } };
  }
  return { status: 500, body: { error: { code: 'TRACKER_INTERNAL', message: 'the tracker could not complete the request; try again later' } } };
}

/** Retry-After in whole seconds (RFC 9110 §10.2.3) for a 429 that says how long to wait (details.retryAfterMs). */
function retryAfter(err: unknown): Record<string, string> {
  if (!isSwarmError(err) || statusOf(err.code) !== 429) return {};
  const ms = err.details?.retryAfterMs;
  return typeof ms === 'number' && Number.isFinite(ms) ? { 'retry-after': String(Math.max(1, Math.ceil(ms / 1000))) } : {};
}

/** The HTTP response for any thrown value. */
export function trackerErrorResponse(err: unknown, headers: Record<string, string> = {}): Response {
  const { status, body } = trackerErrorBody(err);
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...retryAfter(err), ...headers } });
}

/** Shorthand for handlers. */
export function trackerError(code: string, message: string, details?: Record<string, unknown>): SwarmError {
  return new SwarmError(code, message, details);
}
