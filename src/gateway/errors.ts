/**
 * The gateway's one error mapper (DESIGN.md: "one error mapper turns coded
 * errors into HTTP responses"). Every failure leaves as OpenAI's error body
 *   {"error": {"message", "type", "param", "code"}}
 * (OpenAI API reference, "Error codes"; the official SDKs read exactly these
 * four fields into APIError). Handlers throw SwarmError with a GATEWAY_* code;
 * anything else is an internal error and is reported as a 500 without its
 * stack, so no input can make the server print its internals or crash.
 */
import { SwarmError, isSwarmError } from '../core/errors.ts';

export interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

interface Mapping {
  status: number;
  type: string;
  code: string | null;
}

/**
 * Our codes → HTTP status, OpenAI error type and OpenAI error code. The
 * OpenAI codes are the ones its API returns for the same situations
 * (model_not_found, context_length_exceeded, rate_limit_exceeded).
 */
const MAPPINGS: Record<string, Mapping> = {
  GATEWAY_BAD_JSON: { status: 400, type: 'invalid_request_error', code: 'invalid_json' },
  GATEWAY_INVALID_PARAM: { status: 400, type: 'invalid_request_error', code: 'invalid_value' },
  GATEWAY_CONTEXT_LENGTH: { status: 400, type: 'invalid_request_error', code: 'context_length_exceeded' },
  GATEWAY_TEMPLATE: { status: 400, type: 'invalid_request_error', code: 'invalid_chat_template' },
  GATEWAY_UNSUPPORTED_MEDIA: { status: 415, type: 'invalid_request_error', code: 'unsupported_media_type' },
  GATEWAY_UNKNOWN_MODEL: { status: 404, type: 'invalid_request_error', code: 'model_not_found' },
  GATEWAY_NOT_FOUND: { status: 404, type: 'invalid_request_error', code: 'not_found' },
  GATEWAY_METHOD: { status: 405, type: 'invalid_request_error', code: 'method_not_allowed' },
  GATEWAY_BODY_TOO_LARGE: { status: 413, type: 'invalid_request_error', code: 'request_too_large' },
  GATEWAY_QUEUE_FULL: { status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded' },
  // a source address past its share (app.ts, issue 25); answered with Retry-After
  GATEWAY_RATE_LIMITED: { status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded' },
  GATEWAY_ABORTED: { status: 499, type: 'invalid_request_error', code: 'client_closed_request' },
  // the model layer's own codes that a request can trigger
  MODEL_CONTEXT_FULL: { status: 400, type: 'invalid_request_error', code: 'context_length_exceeded' },
  TOKENIZER_INVALID_TEXT: { status: 400, type: 'invalid_request_error', code: 'invalid_value' },
};

const INTERNAL: Mapping = { status: 500, type: 'server_error', code: 'internal_error' };

/** Throws a 400 naming the offending parameter (OpenAI sets `param` to its name). */
export function invalidParam(param: string | null, message: string): SwarmError {
  return new SwarmError('GATEWAY_INVALID_PARAM', message, param === null ? undefined : { param });
}

/** Status and OpenAI body for any thrown value. */
export function errorBody(err: unknown): { status: number; body: OpenAiErrorBody } {
  if (isSwarmError(err)) {
    const m = MAPPINGS[err.code] ?? INTERNAL;
    const param = typeof err.details?.param === 'string' ? err.details.param : null;
    const message = m === INTERNAL ? 'The server had an error while processing your request.' : err.message;
    return { status: m.status, body: { error: { message, type: m.type, param, code: m.code } } };
  }
  return {
    status: INTERNAL.status,
    body: { error: { message: 'The server had an error while processing your request.', type: INTERNAL.type, param: null, code: INTERNAL.code } },
  };
}

/** The HTTP response for any thrown value. */
export function errorResponse(err: unknown, headers: Record<string, string> = {}): Response {
  const { status, body } = errorBody(err);
  // RFC 9110 §10.2.3: how long a rate-limited caller should wait, in seconds
  const ms = isSwarmError(err) && status === 429 ? err.details?.retryAfterMs : undefined;
  const retry: Record<string, string> = typeof ms === 'number' && Number.isFinite(ms) ? { 'retry-after': String(Math.max(1, Math.ceil(ms / 1000))) } : {};
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...retry, ...headers } });
}
