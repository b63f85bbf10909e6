/**
 * Credit at its edges (issue 26, mutation testing): argument checks, the
 * award rule on hand-made unit states (a stored state is JSON and may be
 * damaged: nothing but a valid replica with the canonical hash is paid),
 * RAC over gaps other than one day, counts, priors and team order.
 */
import { describe, expect, it } from 'vitest';
import {
  CREDIT_HALF_LIFE_MS, DAY_MS, applyAward, creditAwards, newAccount, racAt, reputation, teamTotals, updateRac,
} from '../../../src/tracker/validation/credit.ts';
import type { Account } from '../../../src/tracker/validation/credit.ts';
import { createWorkUnit } from '../../../src/tracker/validation/work-unit.ts';
import type { Replica, WorkUnitState } from '../../../src/tracker/validation/work-unit.ts';

const C = 'c'.repeat(64);
const X = 'd'.repeat(64);
const code = (c: string) => expect.objectContaining({ code: c });

function unit(status: WorkUnitState['status'], replicas: Array<Partial<Replica> & Pick<Replica, 'id' | 'provider' | 'state' | 'validateState'>>): WorkUnitState {
  const s = createWorkUnit('wu', { minQuorum: 2, targetResults: 2, maxErrorResults: 3, maxTotalResults: 8, leaseMs: 100 });
  return { ...s, status, canonicalHash: C, replicas: replicas.map((r, i) => ({ issuedAt: 0, deadline: 100, seq: i, ...r }) as Replica) };
}

describe('creditAwards', () => {
  it('pays only returned replicas that are valid AND carry the canonical hash, and strikes only invalid ones', () => {
    const s = unit('valid', [
      { id: 'r0', provider: 'ok', state: 'returned', validateState: 'valid', resultHash: C },
      { id: 'r1', provider: 'bad', state: 'returned', validateState: 'invalid', resultHash: X },
      { id: 'r2', provider: 'marked-valid-other-hash', state: 'returned', validateState: 'valid', resultHash: X },
      { id: 'r3', provider: 'inconclusive-canonical', state: 'returned', validateState: 'inconclusive', resultHash: C },
      { id: 'r4', provider: 'too-late', state: 'returned', validateState: 'too-late', resultHash: C },
      { id: 'r5', provider: 'not-returned', state: 'timed-out', validateState: 'valid', resultHash: C },
      { id: 'r6', provider: 'erred', state: 'error', validateState: 'invalid' },
    ]);
    expect(creditAwards(s, 7)).toEqual([
      { replicaId: 'r0', provider: 'ok', verdict: 'valid', credit: 7 },
      { replicaId: 'r1', provider: 'bad', verdict: 'invalid', credit: 0 },
    ]);
  });

  it('pays nothing on a unit that is not valid, whatever its replicas say', () => {
    for (const status of ['open', 'error'] as const) {
      const s = unit(status, [
        { id: 'r0', provider: 'a', state: 'returned', validateState: 'valid', resultHash: C },
        { id: 'r1', provider: 'b', state: 'returned', validateState: 'invalid', resultHash: X },
      ]);
      expect(creditAwards(s, 7), status).toEqual([]);
    }
  });

  it('refuses a FLOP count that is negative, not finite or not a number; 0 is allowed', () => {
    const s = unit('valid', []);
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY, '5' as unknown as number]) expect(() => creditAwards(s, bad), String(bad)).toThrow(code('CREDIT_INVALID_AMOUNT'));
    expect(creditAwards(s, 0)).toEqual([]);
  });
});

describe('accounts', () => {
  it('a new account has no team member unless one is given', () => {
    expect(Object.keys(newAccount('p')).sort()).toEqual(['invalid', 'provider', 'rac', 'racTime', 'totalCredit', 'valid']);
    expect(newAccount('p', 'red')).toStrictEqual({ provider: 'p', team: 'red', totalCredit: 0, rac: 0, racTime: null, valid: 0, invalid: 0 });
  });

  it('a valid award adds its credit and one valid result; an invalid one adds one strike and nothing else', () => {
    const t = 1_700_000_000_000;
    let a = applyAward(newAccount('p'), { replicaId: 'r', provider: 'p', verdict: 'valid', credit: 10 }, t);
    a = applyAward(a, { replicaId: 'r2', provider: 'p', verdict: 'valid', credit: 5 }, t + DAY_MS);
    expect([a.totalCredit, a.valid, a.invalid, a.racTime]).toEqual([15, 2, 0, t + DAY_MS]);
    const b = applyAward(a, { replicaId: 'r3', provider: 'p', verdict: 'invalid', credit: 0 }, t + 2 * DAY_MS);
    expect(b).toEqual({ ...a, invalid: 1 });
  });

  it('refuses an award for another provider and an invalid award that carries credit, with their codes', () => {
    expect(() => applyAward(newAccount('m'), { replicaId: 'x', provider: 'z', verdict: 'valid', credit: 5 }, 0)).toThrow(code('CREDIT_WRONG_ACCOUNT'));
    expect(() => applyAward(newAccount('m'), { replicaId: 'x', provider: 'm', verdict: 'invalid', credit: 5 }, 0)).toThrow(code('CREDIT_INVALID_AMOUNT'));
  });

  it('refuses a negative or non-finite award', () => {
    for (const credit of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => applyAward(newAccount('p'), { replicaId: 'r', provider: 'p', verdict: 'valid', credit }, 0), String(credit)).toThrow(code('CREDIT_INVALID_AMOUNT'));
    }
  });
});

describe('RAC', () => {
  it('a grant after a gap of two days adds (1 − w)·work / 2 per day to the decayed average', () => {
    const first = updateRac(0, null, 100, 0);
    const w = Math.exp((-2 * DAY_MS * Math.LN2) / CREDIT_HALF_LIFE_MS);
    const next = updateRac(first.rac, first.racTime, 100, 2 * DAY_MS);
    expect(next.rac).toBeCloseTo(first.rac * w + ((1 - w) * 100) / 2, 12);
    expect(next.racTime).toBe(2 * DAY_MS);
  });

  it('a grant stamped before the last update does not move the RAC time back', () => {
    const a = updateRac(50, 10 * DAY_MS, 100, 9 * DAY_MS);
    expect(a.racTime).toBe(10 * DAY_MS);
    expect(a.rac).toBeCloseTo(50 + (Math.LN2 * 100 * DAY_MS) / CREDIT_HALF_LIFE_MS, 12); // the Δt → 0 limit
  });

  it('refuses times that are negative or not safe integers, and negative work; time 0 is allowed', () => {
    for (const t of [-1, 1.5, Number.NaN, 2 ** 53]) {
      expect(() => updateRac(0, null, 1, t), String(t)).toThrow(code('CREDIT_INVALID_TIME'));
      expect(() => racAt(newAccount('p'), t), String(t)).toThrow(code('CREDIT_INVALID_TIME'));
    }
    expect(() => updateRac(0, null, -1, 0)).toThrow(code('CREDIT_INVALID_AMOUNT'));
    expect(updateRac(0, null, 1, 0).racTime).toBe(0);
    expect(racAt(newAccount('p'), 0)).toBe(0);
  });
});

describe('reputation and teams', () => {
  it('refuses a prior with a parameter that is not > 0, and accepts small positive ones', () => {
    for (const prior of [{ alpha: 0, beta: 1, invalidWeight: 1 }, { alpha: 1, beta: 0, invalidWeight: 1 }, { alpha: 1, beta: 1, invalidWeight: 0 }, { alpha: Number.NaN, beta: 1, invalidWeight: 1 }]) {
      expect(() => reputation({ valid: 1, invalid: 1 }, prior), JSON.stringify(prior)).toThrow(code('CREDIT_INVALID_PRIOR'));
    }
    expect(reputation({ valid: 0, invalid: 0 }, { alpha: 1e-9, beta: 1e-9, invalidWeight: 1e-9 })).toBeCloseTo(0.5, 12);
  });

  it('teams with equal credit are ordered by name, whatever the input order', () => {
    const acc = (p: string, team: string, credit: number): Account => ({ ...newAccount(p, team), totalCredit: credit });
    const names = (xs: Account[]) => teamTotals(xs, 0).map((t) => t.team);
    expect(names([acc('a', 'zeta', 5), acc('b', 'alpha', 5), acc('c', 'mid', 9)])).toEqual(['mid', 'alpha', 'zeta']);
    expect(names([acc('b', 'alpha', 5), acc('a', 'zeta', 5)])).toEqual(['alpha', 'zeta']);
    expect(names([acc('a', 'same', 1), acc('b', 'same', 2)])).toEqual(['same']);
    // many teams in a scrambled order
    const many = Array.from({ length: 200 }, (_, i) => `team-${String((i * 73) % 200).padStart(3, '0')}`);
    expect(names(many.map((t, i) => acc(`p${i}`, t, 1)))).toEqual([...many].sort());
  });
});
