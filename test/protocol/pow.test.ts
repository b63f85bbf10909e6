/**
 * Registration proof of work (src/protocol/pow.ts, issue 25): a solution
 * verifies for its key, tracker and window (and the one after), and not for
 * another key, another tracker, an old or future window, or fewer bits.
 * Also the solve time at the default difficulty on this machine.
 */
import { describe, expect, it } from 'vitest';
import { isSwarmError } from '../../src/core/errors.ts';
import { DEFAULT_REGISTRATION_DIFFICULTY, POW_WINDOW_MS, leadingZeroBits, powBits, solvePow, verifyPow } from '../../src/protocol/pow.ts';

const TRACKER = 'a'.repeat(64);
const KEY = 'b'.repeat(64);
const OTHER = 'c'.repeat(64);
const T = 1_700_000_000_000;

function codeOf(f: () => void): string | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    return isSwarmError(e) ? e.code : 'NOT_CODED';
  }
}

describe('registration proof of work', () => {
  it('counts leading zero bits', () => {
    expect(leadingZeroBits(new Uint8Array([0x80]))).toBe(0);
    expect(leadingZeroBits(new Uint8Array([0x01, 0xff]))).toBe(7);
    expect(leadingZeroBits(new Uint8Array([0, 0, 0x10]))).toBe(19);
    expect(leadingZeroBits(new Uint8Array(4))).toBe(32);
  });

  it('a solution verifies for its key, tracker and window, and in the window after', () => {
    const s = solvePow({ trackerKeyId: TRACKER, keyId: KEY, timeMs: T, difficulty: 12 });
    expect(powBits({ trackerKeyId: TRACKER, keyId: KEY, window: s.window }, s.nonce)).toBeGreaterThanOrEqual(12);
    expect(codeOf(() => verifyPow({ trackerKeyId: TRACKER, keyId: KEY, nowMs: T, difficulty: 12, solution: s }))).toBeUndefined();
    expect(codeOf(() => verifyPow({ trackerKeyId: TRACKER, keyId: KEY, nowMs: T + POW_WINDOW_MS, difficulty: 12, solution: s }))).toBeUndefined();
  });

  it('refuses another key, another tracker, a stale or future window, too few bits, a malformed nonce, and none at all', () => {
    const s = solvePow({ trackerKeyId: TRACKER, keyId: KEY, timeMs: T, difficulty: 12 });
    const check = (o: Partial<Parameters<typeof verifyPow>[0]>): string | undefined =>
      codeOf(() => verifyPow({ trackerKeyId: TRACKER, keyId: KEY, nowMs: T, difficulty: 12, solution: s, ...o }));
    // another key or tracker: the same nonce hashes to another digest (2^-12 odds that it passes anyway: the nonces are fixed)
    expect(check({ keyId: OTHER })).toBe('PROTOCOL_BAD_POW');
    expect(check({ trackerKeyId: OTHER })).toBe('PROTOCOL_BAD_POW');
    expect(check({ nowMs: T + 2 * POW_WINDOW_MS })).toBe('PROTOCOL_BAD_POW');
    expect(check({ nowMs: T - POW_WINDOW_MS })).toBe('PROTOCOL_BAD_POW');
    expect(check({ difficulty: powBits({ trackerKeyId: TRACKER, keyId: KEY, window: s.window }, s.nonce) + 1 })).toBe('PROTOCOL_BAD_POW');
    expect(check({ solution: { window: s.window, nonce: 'XYZ' } })).toBe('PROTOCOL_BAD_POW');
    expect(check({ solution: undefined })).toBe('PROTOCOL_POW_REQUIRED');
    expect(check({ solution: undefined, difficulty: 0 })).toBeUndefined(); // 0 turns it off
  });

  it(`solves the default difficulty (${DEFAULT_REGISTRATION_DIFFICULTY} bits) in well under a second on average`, () => {
    const n = 8;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) solvePow({ trackerKeyId: TRACKER, keyId: i.toString(16).padStart(64, '0'), timeMs: T, difficulty: DEFAULT_REGISTRATION_DIFFICULTY });
    const meanMs = (performance.now() - t0) / n;
    console.log(`pow: ${DEFAULT_REGISTRATION_DIFFICULTY} bits, mean ${meanMs.toFixed(0)} ms over ${n} keys`);
    expect(meanMs).toBeLessThan(1000);
  });
});
