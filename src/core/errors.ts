/**
 * Coded errors. Every failure the system reports on purpose is a SwarmError
 * with a stable, machine-readable `code` (SCREAMING_SNAKE, prefixed by area),
 * so HTTP mappers, CLIs and tests can branch on the code instead of parsing
 * messages (pattern from js-libp2p / hypercore: errors with codes).
 */
export type ErrorDetails = Record<string, unknown>;

export class SwarmError extends Error {
  readonly code: string;
  readonly details: ErrorDetails | undefined;

  constructor(code: string, message: string, details?: ErrorDetails, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SwarmError';
    this.code = code;
    this.details = details;
  }

  toJSON(): { code: string; message: string; details?: ErrorDetails } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

/** True when `e` is a SwarmError, optionally with the given code. */
export function isSwarmError(e: unknown, code?: string): e is SwarmError {
  return e instanceof SwarmError && (code === undefined || e.code === code);
}

/** Throws a SwarmError with `code` unless `cond` holds. */
export function check(cond: unknown, code: string, message: string, details?: ErrorDetails): asserts cond {
  if (!cond) throw new SwarmError(code, message, details);
}
