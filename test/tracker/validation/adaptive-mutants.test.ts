/**
 * Adaptive replication at its boundaries (issue 26, mutation testing): each
 * case pins one comparison of adaptive.ts so that changing it (< to <=, a
 * dropped clause, the window slice) fails a test.
 */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_ADAPTIVE_POLICY, consecutiveValid, newProviderRecord, recordVerdict, replicationFor, spotCheckDraw,
} from '../../../src/tracker/validation/adaptive.ts';
import type { AdaptivePolicy, ProviderRecord, Verdict } from '../../../src/tracker/validation/adaptive.ts';
import { Prng } from '../../../src/core/prng.ts';

/** No spot checks: a clean record is always 'trusted', so the other rules decide alone. */
const P: AdaptivePolicy = { minConsecutiveValid: 5, window: 10, spotCheckFraction: 0, replicatedQuorum: 3 };
const valid = (n: number): Verdict[] => Array<Verdict>(n).fill('valid');
const rec = (recent: Verdict[], total: number): ProviderRecord => ({ provider: 'p', recent, total });

describe('replicationFor at the edges of its rules', () => {
  it('trusts exactly at minConsecutiveValid results and not one result earlier', () => {
    expect(replicationFor(rec(valid(4), 4), 'u', 1, P)).toEqual({ replicate: true, reason: 'new-identity', minQuorum: 3, targetResults: 3 });
    const d = replicationFor(rec(valid(5), 5), 'u', 1, P);
    expect(d).toEqual({ replicate: false, reason: 'trusted', draw: spotCheckDraw(1, 'u'), minQuorum: 1, targetResults: 1 });
  });

  it('a history kept under an earlier, shorter policy is not trusted until the streak reaches minConsecutiveValid', () => {
    // total says "old provider", but only 4 verdicts survive (an earlier policy kept 4): the streak rule decides
    expect(replicationFor(rec(valid(4), 100), 'u', 1, P)).toEqual({ replicate: true, reason: 'unclean-record', minQuorum: 3, targetResults: 3 });
    expect(replicationFor(rec(valid(5), 100), 'u', 1, P).reason).toBe('trusted');
  });

  it('looks only at the last `window` verdicts for an invalid one', () => {
    // a record kept under an earlier, longer window: the invalid result is 11th from the end, outside P's window of 10
    expect(replicationFor(rec(['invalid', ...valid(10)], 50), 'u', 1, P).reason).toBe('trusted');
    // 10th from the end: inside the window, although the streak after it (9) is long enough
    expect(replicationFor(rec(['invalid', ...valid(9)], 50), 'u', 1, P)).toEqual({ replicate: true, reason: 'unclean-record', minQuorum: 3, targetResults: 3 });
  });

  it('spot-checks when the draw is below the fraction, never when it is equal', () => {
    const draw = spotCheckDraw('seed', 'unit-1');
    const clean = rec(valid(10), 10);
    expect(replicationFor(clean, 'unit-1', 'seed', { ...P, spotCheckFraction: draw })).toEqual({ replicate: false, reason: 'trusted', draw, minQuorum: 1, targetResults: 1 });
    const above = draw + 2 ** -40;
    expect(replicationFor(clean, 'unit-1', 'seed', { ...P, spotCheckFraction: above })).toEqual({ replicate: true, reason: 'spot-check', draw, minQuorum: 3, targetResults: 3 });
    expect(replicationFor(clean, 'unit-1', 'seed', { ...P, spotCheckFraction: 1 }).reason).toBe('spot-check');
  });

  it('the draw is the documented stream: fromSeed(seed).fork(\'adaptive-replication\').fork(unitId)', () => {
    expect(spotCheckDraw(7, 'u1')).toBe(Prng.fromSeed(7).fork('adaptive-replication').fork('u1').nextFloat());
  });

  it('only trusted and spot-checked decisions carry a draw', () => {
    expect(replicationFor(rec(valid(4), 4), 'u', 1, P)).toStrictEqual({ replicate: true, reason: 'new-identity', minQuorum: 3, targetResults: 3 });
    expect(replicationFor(rec(['invalid', ...valid(9)], 50), 'u', 1, P)).toStrictEqual({ replicate: true, reason: 'unclean-record', minQuorum: 3, targetResults: 3 });
  });

  it('the draw is a pure function of (seed, unit id) in [0, 1)', () => {
    const a = spotCheckDraw(7, 'u1');
    expect(a).toBe(spotCheckDraw(7, 'u1'));
    expect(a).not.toBe(spotCheckDraw(7, 'u2'));
    expect(a).not.toBe(spotCheckDraw(8, 'u1'));
    expect(a).toBeGreaterThanOrEqual(0);
    expect(a).toBeLessThan(1);
  });
});

describe('recordVerdict and consecutiveValid', () => {
  it('keeps the last `window` verdicts, oldest first, and counts every verdict in total', () => {
    let r = newProviderRecord('p');
    expect(r).toEqual({ provider: 'p', recent: [], total: 0 });
    const seq: Verdict[] = ['invalid', ...valid(9), 'invalid', 'valid'];
    for (const v of seq) r = recordVerdict(r, v, P);
    expect(r).toEqual({ provider: 'p', recent: seq.slice(-10), total: 12 });
    expect(r.recent[0]).toBe('valid'); // the first invalid has left the window, the second has not
    expect(consecutiveValid(r)).toBe(1);
  });

  it('counts only the valid streak at the end', () => {
    expect(consecutiveValid(rec([], 0))).toBe(0);
    expect(consecutiveValid(rec(['valid', 'invalid', 'valid', 'valid'], 4))).toBe(2);
    expect(consecutiveValid(rec(['valid', 'valid', 'invalid'], 3))).toBe(0);
    expect(consecutiveValid(rec(valid(3), 3))).toBe(3);
  });

  it('refuses a verdict that is neither valid nor invalid', () => {
    expect(() => recordVerdict(newProviderRecord('p'), 'maybe' as Verdict)).toThrow(expect.objectContaining({ code: 'ADAPTIVE_INVALID_VERDICT' }));
  });
});

describe('the policy check', () => {
  const bad = (over: Partial<AdaptivePolicy>) => () => replicationFor(rec(valid(10), 10), 'u', 1, { ...P, ...over });
  const code = expect.objectContaining({ code: 'ADAPTIVE_INVALID_POLICY' });

  it('accepts the smallest allowed values', () => {
    expect(bad({ minConsecutiveValid: 1, window: 1 })).not.toThrow();
    expect(bad({ spotCheckFraction: 0 })).not.toThrow();
    expect(bad({ spotCheckFraction: 1 })).not.toThrow();
    expect(bad({ replicatedQuorum: 2 })).not.toThrow();
    expect(bad({ minConsecutiveValid: 10, window: 10 })).not.toThrow();
  });

  it('rejects each value just outside its range, and non-integers', () => {
    for (const over of [
      { minConsecutiveValid: 0, window: 1 },
      { minConsecutiveValid: 1.5 },
      { minConsecutiveValid: 6, window: 5 },
      { window: 10.5 },
      { spotCheckFraction: -1e-9 },
      { spotCheckFraction: 1 + 1e-9 },
      { spotCheckFraction: Number.NaN },
      { spotCheckFraction: '0.1' as unknown as number },
      { replicatedQuorum: 1 },
      { replicatedQuorum: 2.5 },
    ]) {
      expect(bad(over), JSON.stringify(over)).toThrow(code);
      expect(() => recordVerdict(newProviderRecord('p'), 'valid', { ...P, ...over }), JSON.stringify(over)).toThrow(code);
    }
  });

  it('the default policy is the documented one', () => {
    expect(DEFAULT_ADAPTIVE_POLICY).toEqual({ minConsecutiveValid: 10, window: 20, spotCheckFraction: 0.1, replicatedQuorum: 2 });
    expect(Object.isFrozen(DEFAULT_ADAPTIVE_POLICY)).toBe(true);
  });
});
