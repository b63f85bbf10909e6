import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CREDIT_HALF_LIFE_MS, DAY_MS, applyAward, creditAwards, newAccount, racAt, reputation, teamTotals, updateRac,
} from '../../../src/tracker/validation/credit.ts';
import type { Account } from '../../../src/tracker/validation/credit.ts';
import { assign, canAssign, createWorkUnit, submit } from '../../../src/tracker/validation/work-unit.ts';
import type { WorkUnitState } from '../../../src/tracker/validation/work-unit.ts';

const H1 = 'a'.repeat(64);
const H2 = 'b'.repeat(64);

function cheaterUnit(): WorkUnitState {
  let s = createWorkUnit('wu', { minQuorum: 2, targetResults: 2, maxErrorResults: 2, maxTotalResults: 5, leaseMs: 100 });
  const ids: string[] = [];
  for (const p of ['alice', 'mallory']) { const r = assign(s, p, 0); s = r.state; ids.push(r.replica.id); }
  s = submit(s, ids[0]!, H1, 1);
  s = submit(s, ids[1]!, H2, 2);
  const r = assign(s, 'bob', 3);
  return submit(r.state, r.replica.id, H1, 4);
}

describe('credit', () => {
  it('valid replicas earn the unit FLOPs; the cheater earns nothing', () => {
    const awards = creditAwards(cheaterUnit(), 1e12);
    expect(awards).toEqual([
      { replicaId: 'wu_0', provider: 'alice', verdict: 'valid', credit: 1e12 },
      { replicaId: 'wu_1', provider: 'mallory', verdict: 'invalid', credit: 0 },
      { replicaId: 'wu_2', provider: 'bob', verdict: 'valid', credit: 1e12 },
    ]);
    let m = newAccount('mallory');
    const before = reputation(m);
    m = applyAward(m, awards[1]!, 10);
    expect(m.totalCredit).toBe(0);
    expect(m.rac).toBe(0);
    expect(reputation(m)).toBeLessThan(before);
  });

  it('no credit before validation', () => {
    let s = createWorkUnit('wu', { minQuorum: 2, targetResults: 2, maxErrorResults: 2, maxTotalResults: 5, leaseMs: 100 });
    const r = assign(s, 'alice', 0);
    s = submit(r.state, r.replica.id, H1, 1);
    expect(creditAwards(s, 100)).toEqual([]);
  });

  it('property: credit never goes to a replica that is not valid with the canonical hash', () => {
    let paid = 0; // awards with credit seen across the runs: the property must not hold only vacuously
    fc.assert(
      fc.property(fc.array(fc.nat(2), { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 3 }), (hashes, q) => {
        let s = createWorkUnit('u', { minQuorum: q, targetResults: q, maxErrorResults: 0, maxTotalResults: 6, leaseMs: 10 });
        hashes.forEach((h, i) => {
          // a decided unit (valid or error) issues no more replicas; the others are issued and returned
          if (!canAssign(s, `p${i}`, i)) return;
          const r = assign(s, `p${i}`, i);
          s = submit(r.state, r.replica.id, `h${h}`, i);
        });
        for (const a of creditAwards(s, 5)) {
          const rep = s.replicas.find((r) => r.id === a.replicaId);
          expect(rep?.provider).toBe(a.provider);
          // credit exactly when the replica is valid with the canonical hash; no credit means verdict invalid
          expect(a.credit > 0, a.replicaId).toBe(rep?.validateState === 'valid' && rep.resultHash === s.canonicalHash);
          expect(a.verdict).toBe(a.credit > 0 ? 'valid' : 'invalid');
          if (a.credit > 0) paid++;
        }
      }),
    );
    expect(paid).toBeGreaterThan(0);
  });

  it('an invalid award with credit is refused', () => {
    expect(() => applyAward(newAccount('m'), { replicaId: 'x', provider: 'm', verdict: 'invalid', credit: 5 }, 0)).toThrow(/no credit/);
    expect(() => applyAward(newAccount('m'), { replicaId: 'x', provider: 'z', verdict: 'valid', credit: 5 }, 0)).toThrow(/another/);
  });
});

describe('recent average credit (BOINC update_average, half-life 7 days)', () => {
  it('first grant is the Δt→0 limit, then halves every week', () => {
    const W = 1000;
    const t0 = 1_700_000_000_000;
    let a: Account = applyAward(newAccount('p'), { replicaId: 'r', provider: 'p', verdict: 'valid', credit: W }, t0);
    const first = (Math.LN2 * W * DAY_MS) / CREDIT_HALF_LIFE_MS; // = W ln2 / 7
    expect(a.rac).toBeCloseTo(first, 12);
    for (let k = 1; k <= 4; k++) expect(racAt(a, t0 + k * CREDIT_HALF_LIFE_MS)).toBeCloseTo(first * 2 ** -k, 12);
    a = { ...a };
    expect(racAt(a, t0 - 5)).toBeCloseTo(first, 12); // no growth backwards
  });

  it('daily grants of W: avg_n = W(1 − w^n) + avg_0 w^n, converging to W per day', () => {
    const W = 86.4;
    const w = Math.exp((-DAY_MS * Math.LN2) / CREDIT_HALF_LIFE_MS); // = 2^(-1/7)
    expect(w).toBeCloseTo(2 ** (-1 / 7), 15);
    let r = updateRac(0, null, W, 0);
    const avg0 = r.rac;
    for (let n = 1; n <= 60; n++) {
      r = updateRac(r.rac, r.racTime, W, n * DAY_MS);
      expect(r.rac).toBeCloseTo(W * (1 - w ** n) + avg0 * w ** n, 9);
    }
    expect(Math.abs(r.rac - W) / W).toBeLessThan(0.01);
  });

  it('reputation is the Beta(1,1) posterior mean and drops on every rejection', () => {
    expect(reputation({ valid: 0, invalid: 0 })).toBe(0.5);
    expect(reputation({ valid: 8, invalid: 0 })).toBe(0.9);
    expect(reputation({ valid: 8, invalid: 2 })).toBe(0.75);
    expect(reputation({ valid: 0, invalid: 3 }, { alpha: 1, beta: 1, invalidWeight: 2 })).toBe(1 / 8);
    fc.assert(
      fc.property(fc.nat(1000), fc.nat(1000), (v, i) => {
        expect(reputation({ valid: v, invalid: i + 1 })).toBeLessThan(reputation({ valid: v, invalid: i }));
        expect(reputation({ valid: v + 1, invalid: i })).toBeGreaterThan(reputation({ valid: v, invalid: i }));
      }),
    );
  });

  it('teams aggregate total credit and decayed RAC', () => {
    const grant = (p: string, team: string | undefined, c: number, t: number): Account =>
      applyAward(newAccount(p, team), { replicaId: p, provider: p, verdict: 'valid', credit: c }, t);
    const accounts = [grant('a', 'red', 100, 0), grant('b', 'red', 50, 0), grant('c', 'blue', 300, 0), grant('d', undefined, 999, 0)];
    const t = teamTotals(accounts, CREDIT_HALF_LIFE_MS);
    expect(t.map((x) => [x.team, x.members, x.totalCredit])).toEqual([['blue', 1, 300], ['red', 2, 150]]);
    expect(t[1]!.rac).toBeCloseTo((150 * Math.LN2) / 7 / 2, 12);
  });
});
