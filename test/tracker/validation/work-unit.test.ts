import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isSwarmError } from '../../../src/core/errors.ts';
import {
  assign, canAssign, createWorkUnit, expire, fail, heartbeat, raiseReplication, replicasToIssue, submit, validate,
} from '../../../src/tracker/validation/work-unit.ts';
import type { WorkUnitParams, WorkUnitState } from '../../../src/tracker/validation/work-unit.ts';
import { codeOf as code } from '../../helpers/errors.ts';

const H1 = 'a'.repeat(64);
const H2 = 'b'.repeat(64);
const H3 = 'c'.repeat(64);
const P: WorkUnitParams = { minQuorum: 2, targetResults: 2, maxErrorResults: 3, maxTotalResults: 6, leaseMs: 1000 };

function issue(s: WorkUnitState, provider: string, now = 0): [WorkUnitState, string] {
  const r = assign(s, provider, now);
  return [r.state, r.replica.id];
}


describe('work-unit lifecycle', () => {
  it('honest quorum of 2: both replicas valid, canonical set', () => {
    let s = createWorkUnit('wu1', P);
    expect(replicasToIssue(s, 0)).toBe(2);
    let a: string, b: string;
    [s, a] = issue(s, 'alice');
    [s, b] = issue(s, 'bob');
    expect(replicasToIssue(s, 0)).toBe(0);
    expect(canAssign(s, 'carol')).toBe(false);
    s = submit(s, a, H1, 10);
    expect(validate(s).outcome.status).toBe('open');
    s = submit(s, b, H1, 20);
    const { outcome } = validate(s);
    expect(outcome).toMatchObject({ status: 'valid', canonicalHash: H1, canonicalReplicaId: a, valid: [a, b], invalid: [], needed: 0 });
    expect(a).toBe('wu1_0');
  });

  it('one cheater: mismatch → inconclusive → reissue → third agrees → cheater invalid', () => {
    let s = createWorkUnit('wu', P);
    let a: string, c: string, h: string;
    [s, a] = issue(s, 'alice');
    [s, c] = issue(s, 'cheater');
    s = submit(s, a, H1, 1);
    s = submit(s, c, H2, 2);
    let v = validate(s).outcome;
    expect(v.status).toBe('open');
    expect(v.inconclusive).toEqual([a, c]);
    expect(v.needed).toBe(1);
    expect(s.targetResults).toBe(3);
    [s, h] = issue(s, 'honest');
    s = submit(s, h, H1, 3);
    v = validate(s).outcome;
    expect(v).toMatchObject({ status: 'valid', canonicalHash: H1, valid: [a, h], invalid: [c] });
  });

  it('errors exceeding maxErrorResults error the unit out', () => {
    let s = createWorkUnit('wu', { ...P, maxErrorResults: 1 });
    let a: string, b: string, c: string;
    [s, a] = issue(s, 'p1');
    [s, b] = issue(s, 'p2');
    s = fail(s, a, 'crash');
    expect(s.status).toBe('open');
    expect(replicasToIssue(s, 0)).toBe(1);
    [s, c] = issue(s, 'p3');
    s = fail(s, c, 'oom');
    expect(s).toMatchObject({ status: 'error', errorReason: 'too-many-errors' });
    expect(replicasToIssue(s, 0)).toBe(0);
    // the still-running replica's result arrives too late to matter: TOO_LATE, never valid
    s = submit(s, b, H1, 5);
    expect(s.replicas.find((r) => r.id === b)!.validateState).toBe('too-late');
    expect(validate(s).outcome.valid).toEqual([]);
  });

  it('lease expiry → timed-out (an error) → reissue to another provider; same provider refused', () => {
    let s = createWorkUnit('wu', P);
    let a: string, b: string;
    [s, a] = issue(s, 'alice', 0);
    [s, b] = issue(s, 'bob', 0);
    s = heartbeat(s, a, 900); // alice's lease now ends at 1900
    expect(replicasToIssue(s, 1000)).toBe(0);
    expect(replicasToIssue(s, 1001)).toBe(1); // bob's deadline was 1000
    s = expire(s, 1001);
    expect(s.replicas.find((r) => r.id === b)!.state).toBe('timed-out');
    expect(code(() => heartbeat(s, b, 1001))).toBe('WU_REPLICA_NOT_IN_PROGRESS');
    expect(canAssign(s, 'bob')).toBe(false);
    expect(code(() => assign(s, 'bob', 1001))).toBe('WU_PROVIDER_ALREADY_ASSIGNED');
    expect(code(() => assign(s, 'alice', 1001))).toBe('WU_PROVIDER_ALREADY_ASSIGNED');
    let c: string;
    [s, c] = issue(s, 'carol', 1001);
    s = submit(s, a, H1, 1500);
    s = submit(s, c, H1, 1600);
    expect(validate(s).outcome).toMatchObject({ status: 'valid', valid: [a, c] });
  });

  it('heartbeat after the deadline is refused even before expire() runs', () => {
    let s = createWorkUnit('wu', P);
    let a: string;
    [s, a] = issue(s, 'alice', 0);
    expect(code(() => heartbeat(s, a, 1001))).toBe('WU_LEASE_EXPIRED');
  });

  it('late result while open is accepted and counts towards the quorum (BOINC "timed out, but accept")', () => {
    let s = createWorkUnit('wu', P);
    let a: string, b: string, c: string;
    [s, a] = issue(s, 'alice', 0);
    [s, b] = issue(s, 'bob', 0);
    s = expire(s, 2000);
    [s, c] = issue(s, 'carol', 2000);
    expect(s.replicas.length).toBe(3);
    s = submit(s, b, H1, 2100); // bob was timed out
    expect(s.replicas.find((r) => r.id === b)).toMatchObject({ state: 'returned', late: true });
    s = submit(s, c, H1, 2200);
    expect(validate(s).outcome).toMatchObject({ status: 'valid', valid: [b, c] });
    // alice, later still, is compared with the canonical result
    s = submit(s, a, H2, 2300);
    expect(validate(s).outcome).toMatchObject({ valid: [b, c], invalid: [a] });
  });

  it('maxTotalResults exhaustion errors the unit out', () => {
    let s = createWorkUnit('wu', { minQuorum: 2, targetResults: 2, maxErrorResults: 10, maxTotalResults: 3, leaseMs: 1000 });
    let a: string, b: string, c: string;
    [s, a] = issue(s, 'p1');
    [s, b] = issue(s, 'p2');
    s = submit(s, a, H1, 1);
    s = submit(s, b, H2, 1);
    [s, c] = issue(s, 'p3');
    s = submit(s, c, H3, 2); // three different answers: target 4 > maxTotalResults 3
    expect(s).toMatchObject({ status: 'error', errorReason: 'too-many-total-results' });
    expect(validate(s).outcome).toMatchObject({ valid: [], invalid: [], needed: 0 });
  });

  it('tie rule: equal-sized groups → the one that reached quorum first', () => {
    let s = createWorkUnit('wu', { minQuorum: 1, targetResults: 2, maxErrorResults: 0, maxTotalResults: 2, leaseMs: 10 });
    let a: string, b: string;
    [s, a] = issue(s, 'p1');
    [s, b] = issue(s, 'p2');
    s = submit(s, b, H2, 1);
    expect(s.canonicalReplicaId).toBe(b);
    s = submit(s, a, H1, 2);
    expect(validate(s).outcome).toMatchObject({ canonicalHash: H2, valid: [b], invalid: [a] });
  });

  it('adaptive escalation raises quorum on an open unit', () => {
    let s = createWorkUnit('wu', { minQuorum: 1, targetResults: 1, maxErrorResults: 2, maxTotalResults: 4, leaseMs: 10 });
    s = raiseReplication(s, 2, 2);
    expect(replicasToIssue(s, 0)).toBe(2);
    expect(s.minQuorum).toBe(2);
  });

  it('rejects bad input with coded errors', () => {
    expect(code(() => createWorkUnit('wu', { ...P, targetResults: 1 }))).toBe('WU_INVALID_PARAMS');
    expect(code(() => createWorkUnit('wu', { ...P, maxTotalResults: 1 }))).toBe('WU_INVALID_PARAMS');
    expect(code(() => createWorkUnit('', P))).toBe('WU_INVALID_ARGUMENT');
    const s = createWorkUnit('wu', P);
    expect(code(() => submit(s, 'nope', H1, 0))).toBe('WU_UNKNOWN_REPLICA');
    const t = assign(s, 'p', 0);
    expect(code(() => submit(t.state, t.replica.id, '', 0))).toBe('WU_INVALID_ARGUMENT');
    expect(code(() => expire(t.state, -1))).toBe('WU_INVALID_TIME');
    const u = submit(t.state, t.replica.id, H1, 1);
    expect(code(() => submit(u, t.replica.id, H1, 2))).toBe('WU_REPLICA_NOT_IN_PROGRESS');
    expect(code(() => fail(u, t.replica.id, 'x'))).toBe('WU_REPLICA_NOT_IN_PROGRESS');
  });

  it('does not mutate its input', () => {
    const s = createWorkUnit('wu', P);
    const before = JSON.stringify(s);
    const t = assign(s, 'p', 0);
    submit(t.state, t.replica.id, H1, 1);
    expect(JSON.stringify(s)).toBe(before);
  });
});

type Op =
  | { k: 'assign'; p: number; dt: number }
  | { k: 'submit'; r: number; h: number; dt: number }
  | { k: 'fail'; r: number }
  | { k: 'heartbeat'; r: number; dt: number }
  | { k: 'expire'; dt: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ k: fc.constant('assign' as const), p: fc.nat(5), dt: fc.nat(400) }),
  fc.record({ k: fc.constant('submit' as const), r: fc.nat(9), h: fc.nat(2), dt: fc.nat(400) }),
  fc.record({ k: fc.constant('fail' as const), r: fc.nat(9) }),
  fc.record({ k: fc.constant('heartbeat' as const), r: fc.nat(9), dt: fc.nat(400) }),
  fc.record({ k: fc.constant('expire' as const), dt: fc.nat(1500) }),
);
const paramsArb: fc.Arbitrary<WorkUnitParams> = fc
  .record({ q: fc.integer({ min: 1, max: 3 }), extra: fc.nat(2), e: fc.nat(3), more: fc.nat(4), lease: fc.integer({ min: 100, max: 1000 }) })
  .map(({ q, extra, e, more, lease }) => ({ minQuorum: q, targetResults: q + extra, maxErrorResults: e, maxTotalResults: q + extra + more, leaseMs: lease }));

function run(params: WorkUnitParams, ops: Op[]): WorkUnitState[] {
  let s = createWorkUnit('u', params);
  let now = 0;
  const trace = [s];
  for (const op of ops) {
    const rid = (i: number): string | undefined => s.replicas[i % Math.max(1, s.replicas.length)]?.id;
    try {
      if (op.k === 'assign') { now += op.dt; s = assign(s, `p${op.p}`, now).state; }
      else if (op.k === 'submit') { now += op.dt; const r = rid(op.r); if (r) s = submit(s, r, ['h0', 'h1', 'h2'][op.h]!, now); }
      else if (op.k === 'fail') { const r = rid(op.r); if (r) s = fail(s, r, 'boom'); }
      else if (op.k === 'heartbeat') { now += op.dt; const r = rid(op.r); if (r) s = heartbeat(s, r, now); }
      else { now += op.dt; s = expire(s, now); }
    } catch (e) {
      if (!isSwarmError(e)) throw e;
    }
    trace.push(s);
  }
  return trace;
}

describe('work-unit properties', () => {
  it('never two replicas to one provider; valid only with a quorum; valid set = canonical matches; JSON round trip; limits', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(paramsArb, fc.array(opArb, { maxLength: 40 }), (params, ops) => {
        for (const s of run(params, ops)) {
          const providers = s.replicas.map((r) => r.provider);
          expect(new Set(providers).size).toBe(providers.length);
          expect(s.replicas.length).toBeLessThanOrEqual(params.maxTotalResults);
          const { state, outcome } = validate(s);
          expect(state).toEqual(s); // settled states are fixed points
          expect(JSON.parse(JSON.stringify(s))).toEqual(s);
          seen.add(s.status);
          // only a valid unit has valid and invalid replicas: those returned with and without the canonical hash
          const isValid = s.status === 'valid';
          const returned = s.replicas.filter((r) => r.state === 'returned');
          const matching = isValid ? returned.filter((r) => r.resultHash === s.canonicalHash).map((r) => r.id) : [];
          const others = isValid ? returned.filter((r) => r.resultHash !== s.canonicalHash).map((r) => r.id) : [];
          expect(matching.length).toBeGreaterThanOrEqual(isValid ? s.minQuorum : 0);
          expect(outcome.valid).toEqual(matching);
          expect(outcome.invalid).toEqual(others);
          expect(s.replicas.filter((r) => r.validateState === 'valid').map((r) => r.id)).toEqual(matching);
          // an open unit is within its error budget (a closed one may have just gone past it)
          const errors = s.replicas.filter((r) => r.state === 'error' || r.state === 'timed-out').length;
          expect(errors).toBeLessThanOrEqual(s.status === 'open' ? params.maxErrorResults : Infinity);
        }
      }),
    );
    expect([...seen].sort()).toEqual(['error', 'open', 'valid']); // every status came up, so no check above went unexercised
  });

  it('is deterministic: the same operations give the same states', () => {
    fc.assert(
      fc.property(paramsArb, fc.array(opArb, { maxLength: 30 }), (params, ops) => {
        expect(run(params, ops)).toEqual(run(params, ops));
      }),
    );
  });
});

describe('reissue to a timed-out holder (issue 24)', () => {
  it('with reissueTimedOut a provider whose lease ran out gets the same replica again; one that erred or returned never does', () => {
    let s = createWorkUnit('wu', P);
    let a: string, b: string;
    [s, a] = issue(s, 'alice', 0);
    [s, b] = issue(s, 'bob', 0);
    s = expire(s, 1001); // both leases ran out
    const again = { reissueTimedOut: true };
    expect(canAssign(s, 'alice', 1001)).toBe(false); // the default: never twice to one identity
    expect(canAssign(s, 'alice', 1001, again)).toBe(true);
    const r = assign(s, 'alice', 1001, again);
    expect(r.replica).toMatchObject({ id: a, state: 'in-progress', issuedAt: 1001, deadline: 2001, timeouts: 1 });
    expect(r.state.replicas).toHaveLength(2);
    s = r.state;
    expect(code(() => assign(s, 'alice', 1002, again))).toBe('WU_PROVIDER_ALREADY_ASSIGNED'); // in progress now
    s = fail(s, a, 'out of memory');
    expect(canAssign(s, 'alice', 1003, again)).toBe(false); // erred: never again
    s = assign(s, 'bob', 1003, again).state;
    s = submit(s, b, H1, 1100 + 1003);
    expect(canAssign(s, 'bob', 5000, again)).toBe(false); // returned: never again
    // errors: alice's expired lease and her failure, bob's expired lease = 3 (max 3): still open
    expect(s.status).toBe('open');
    s = assign(s, 'carol', 5000).state;
    s = expire(s, 6001); // carol's lease runs out too: 4 errors > 3
    expect(s).toMatchObject({ status: 'error', errorReason: 'too-many-errors' });
  });
});
