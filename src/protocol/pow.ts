/**
 * Registration proof of work (issue 25, "Sybil resistance"), hashcash-style
 * (A. Back, "Hashcash — A Denial of Service Counter-Measure", 2002): to
 * register, a key must find a nonce such that
 *
 *     SHA-256("swarm-registration-pow/v1\n" tracker "\n" key "\n" window "\n" nonce)
 *
 * starts with `difficulty` zero bits. The challenge binds
 *   - the tracker's key id: a solution is good at one tracker only;
 *   - the registering key id: it cannot be handed to another identity;
 *   - a time window (POW_WINDOW_MS, ten minutes): the tracker accepts the
 *     current window and the one before, so a solution cannot be computed
 *     in advance and stockpiled, nor used again after twenty minutes.
 * Expected work is 2^difficulty hashes; checking costs one. The difficulty
 * is the tracker's (`registrationDifficulty` in GET /api/info); 0 turns the
 * check off.
 *
 * Measured (Node 20, one shared core of an AMD EPYC, test/protocol/pow.test.ts
 * prints it): ~1.7–2.7 µs a hash, so the default 15 bits (32,768 hashes
 * expected) take ~70 ms on average (16 bits ~0.18 s, 18 bits ~0.7 s; the
 * time is geometric, so one key in a hundred takes about 4.6 times the
 * mean). That is nothing for a provider that registers once, and caps one
 * core at about a thousand identities a minute; the rate limits
 * (tracker/http/rate-limit.ts) bound the rest.
 *
 * Pure: no I/O, no clock (the caller passes the time).
 */
import { SwarmError } from '../core/errors.ts';
import { sha256 } from '../core/sha256.ts';

export const POW_WINDOW_MS = 10 * 60_000;
/** Default registration difficulty in leading zero bits (see the header for its cost). */
export const DEFAULT_REGISTRATION_DIFFICULTY = 15;
/** Above this a registration would take hours; the tracker refuses to start with more. */
export const MAX_REGISTRATION_DIFFICULTY = 32;

export interface PowSolution {
  /** floor(time / POW_WINDOW_MS) when it was solved */
  window: number;
  /** the nonce found: lower-case hex, at most 32 characters */
  nonce: string;
}

export interface PowChallenge {
  trackerKeyId: string;
  keyId: string;
  window: number;
}

export function powWindow(timeMs: number): number {
  return Math.floor(timeMs / POW_WINDOW_MS);
}

function challengePrefix(c: PowChallenge): string {
  return `swarm-registration-pow/v1\n${c.trackerKeyId}\n${c.keyId}\n${c.window}\n`;
}

/** Leading zero bits of a digest. */
export function leadingZeroBits(d: Uint8Array): number {
  let n = 0;
  for (const byte of d) {
    if (byte === 0) {
      n += 8;
      continue;
    }
    return n + Math.clz32(byte) - 24;
  }
  return n;
}

export function checkDifficulty(difficulty: number): void {
  if (!Number.isInteger(difficulty) || difficulty < 0 || difficulty > MAX_REGISTRATION_DIFFICULTY) {
    throw new SwarmError('PROTOCOL_BAD_OPTIONS', `the registration difficulty must be an integer from 0 to ${MAX_REGISTRATION_DIFFICULTY}`, { difficulty });
  }
}

/** Leading zero bits the solution reaches for this challenge (0 for a malformed nonce). */
export function powBits(c: PowChallenge, nonce: string): number {
  if (!/^[0-9a-f]{1,32}$/.test(nonce)) return 0;
  return leadingZeroBits(sha256(challengePrefix(c) + nonce));
}

/**
 * Finds a nonce for `keyId` at `trackerKeyId` in the window of `timeMs`:
 * counts up from 0 (the expected 2^difficulty tries; no randomness needed,
 * since the challenge already differs per key and window).
 */
export function solvePow(o: { trackerKeyId: string; keyId: string; timeMs: number; difficulty: number }): PowSolution {
  checkDifficulty(o.difficulty);
  const c: PowChallenge = { trackerKeyId: o.trackerKeyId, keyId: o.keyId, window: powWindow(o.timeMs) };
  const prefix = challengePrefix(c);
  for (let i = 0; ; i++) {
    const nonce = i.toString(16);
    if (leadingZeroBits(sha256(prefix + nonce)) >= o.difficulty) return { window: c.window, nonce };
  }
}

/**
 * Throws unless `solution` proves `difficulty` bits of work for `keyId` at
 * `trackerKeyId`, in the window of `nowMs` or the one before:
 * PROTOCOL_POW_REQUIRED when there is none, PROTOCOL_BAD_POW when it is
 * stale, from the future, or short of the difficulty (a solution for
 * another key or tracker is short: its hash is another's).
 */
export function verifyPow(o: { trackerKeyId: string; keyId: string; nowMs: number; difficulty: number; solution: PowSolution | undefined }): void {
  if (o.difficulty === 0) return;
  const s = o.solution;
  if (s === undefined) {
    throw new SwarmError('PROTOCOL_POW_REQUIRED', `registration needs a proof of work of ${o.difficulty} bits (see registrationDifficulty in GET /api/info)`, { difficulty: o.difficulty });
  }
  const now = powWindow(o.nowMs);
  if (s.window !== now && s.window !== now - 1) {
    throw new SwarmError('PROTOCOL_BAD_POW', 'the proof of work is for another time window; solve it again', { window: s.window, current: now });
  }
  const bits = powBits({ trackerKeyId: o.trackerKeyId, keyId: o.keyId, window: s.window }, s.nonce);
  if (bits < o.difficulty) {
    throw new SwarmError('PROTOCOL_BAD_POW', `the proof of work has ${bits} of the ${o.difficulty} bits needed for this key and tracker`, { bits, difficulty: o.difficulty });
  }
}
