import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_ADAPTIVE_POLICY, consecutiveValid, newProviderRecord, recordVerdict, replicationFor, spotCheckDraw,
} from '../../../src/tracker/validation/adaptive.ts';
import type { ProviderRecord, Verdict } from '../../../src/tracker/validation/adaptive.ts';

function withHistory(verdicts: Verdict[]): ProviderRecord {
  return verdicts.reduce((r, v) => recordVerdict(r, v), newProviderRecord('p'));
}
const clean = withHistory(Array<Verdict>(12).fill('valid'));

describe('adaptive replication', () => {
  it('new identities are always replicated', () => {
    const fresh = newProviderRecord('sybil');
    for (let i = 0; i < 200; i++) expect(replicationFor(fresh, `u${i}`, 7)).toMatchObject({ replicate: true, reason: 'new-identity', minQuorum: 2, targetResults: 2 });
    expect(replicationFor(withHistory(Array<Verdict>(9).fill('valid')), 'u', 7).reason).toBe('new-identity');
  });

  it('an invalid result in the window makes the record unclean until it leaves the window', () => {
    let r = recordVerdict(clean, 'invalid');
    expect(replicationFor(r, 'u', 1).reason).toBe('unclean-record');
    for (let i = 0; i < DEFAULT_ADAPTIVE_POLICY.window - 1; i++) r = recordVerdict(r, 'valid');
    expect(replicationFor(r, 'u', 1).reason).toBe('unclean-record');
    r = recordVerdict(r, 'valid'); // the invalid one drops out of the last 20
    expect(r.recent).not.toContain('invalid');
    expect(consecutiveValid(r)).toBe(20);
    expect(['trusted', 'spot-check']).toContain(replicationFor(r, 'u', 1).reason);
  });

  it('trusted providers are spot-checked ≈ 10 % of units, reproducibly', () => {
    const N = 20_000;
    const decide = (): boolean[] => Array.from({ length: N }, (_, i) => replicationFor(clean, `unit-${i}`, 'run-42').replicate);
    const a = decide();
    const frac = a.filter(Boolean).length / N;
    // binomial sd = sqrt(0.1*0.9/N) ≈ 0.0021; 5 sd
    expect(Math.abs(frac - 0.1)).toBeLessThan(0.011);
    expect(decide()).toEqual(a);
    const d = replicationFor(clean, 'unit-3', 'run-42');
    expect(d.draw).toBe(spotCheckDraw('run-42', 'unit-3'));
    expect(d.replicate).toBe(d.draw! < 0.1);
    // one unit of each kind (the first of each in `a`), with the quorum each asks for
    const trusted = a.indexOf(false), checked = a.indexOf(true);
    expect(Math.min(trusted, checked)).toBeGreaterThanOrEqual(0);
    expect(replicationFor(clean, `unit-${trusted}`, 'run-42')).toMatchObject({ replicate: false, minQuorum: 1, targetResults: 1, reason: 'trusted' });
    expect(replicationFor(clean, `unit-${checked}`, 'run-42')).toMatchObject({ replicate: true, minQuorum: 2, targetResults: 2, reason: 'spot-check' });
    // a different seed gives a different choice of units
    const b = Array.from({ length: 200 }, (_, i) => replicationFor(clean, `unit-${i}`, 'run-43').replicate);
    expect(b).not.toEqual(a.slice(0, 200));
  });

  it('the decision depends only on (seed, unit id) for trusted providers, not on the provider', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 20 }), fc.nat(1000), (unit, seed) => {
        const other = { ...clean, provider: 'someone-else' };
        expect(replicationFor(clean, unit, seed)).toEqual(replicationFor(other, unit, seed));
      }),
    );
  });

  it('rejects a bad policy', () => {
    expect(() => replicationFor(clean, 'u', 1, { ...DEFAULT_ADAPTIVE_POLICY, spotCheckFraction: 2 })).toThrow(/policy/);
    expect(() => replicationFor(clean, 'u', 1, { ...DEFAULT_ADAPTIVE_POLICY, window: 5 })).toThrow(/policy/);
  });
});
