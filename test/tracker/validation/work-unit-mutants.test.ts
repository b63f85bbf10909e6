/**
 * The work-unit state machine at its edges (issue 26, mutation testing):
 * argument limits, the canonical-result tie rules on stored states, the
 * validator's marks in every status, the reissue-to-a-timed-out-holder rule,
 * late flags, replication raises and the validation outcome's shape.
 */
import { describe, expect, it } from 'vitest';
import {
  assign, canAssign, cancel, createWorkUnit, expire, failReplica, heartbeat, raiseReplication, submit, validate,
} from '../../../src/tracker/validation/work-unit.ts';
import type { Replica, WorkUnitParams, WorkUnitState } from '../../../src/tracker/validation/work-unit.ts';

const P: WorkUnitParams = { minQuorum: 2, targetResults: 2, maxErrorResults: 3, maxTotalResults: 6, leaseMs: 100 };
const code = (c: string) => expect.objectContaining({ code: c });
const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

/** A stored state with returned replicas (hash, seq) as given. */
function stored(status: WorkUnitState['status'], results: Array<[string, number]>, extra: Partial<WorkUnitState> = {}): WorkUnitState {
  const s = createWorkUnit('wu', { ...P, targetResults: results.length || 2, maxTotalResults: 8 });
  const replicas: Replica[] = results.map(([hash, seq], i) => ({
    id: `wu_${i}`, provider: `p${i}`, issuedAt: 0, deadline: 100, state: 'returned', validateState: 'init', resultHash: hash, returnedAt: seq, seq,
  }));
  return { ...s, status, replicas, nextSeq: results.length, ...extra };
}

/** Assign to each provider and submit the given hashes in order. */
function run(params: WorkUnitParams, hashes: string[]): WorkUnitState {
  let s = createWorkUnit('wu', params);
  hashes.forEach((h, i) => {
    const r = assign(s, `p${i}`, i);
    s = submit(r.state, r.replica.id, h, i);
  });
  return s;
}

describe('arguments', () => {
  it('unit ids and provider names: 1 to 256 characters', () => {
    expect(() => createWorkUnit('', P)).toThrow(code('WU_INVALID_ARGUMENT'));
    expect(() => createWorkUnit('x'.repeat(257), P)).toThrow(code('WU_INVALID_ARGUMENT'));
    expect(createWorkUnit('x'.repeat(256), P).id).toHaveLength(256);
    const s = createWorkUnit('wu', P);
    expect(() => assign(s, 'p'.repeat(257), 0)).toThrow(code('WU_INVALID_ARGUMENT'));
    expect(assign(s, 'p'.repeat(256), 0).replica.provider).toHaveLength(256);
  });

  it('parameters: integers at or above their minimum', () => {
    for (const over of [{ minQuorum: 0 }, { minQuorum: 1.5 }, { targetResults: 0 }, { maxErrorResults: -1 }, { maxErrorResults: 0.5 }, { maxTotalResults: 0 }, { leaseMs: 0 }, { leaseMs: Number.NaN }]) {
      expect(() => createWorkUnit('wu', { ...P, ...over }), JSON.stringify(over)).toThrow(code('WU_INVALID_PARAMS'));
    }
    expect(createWorkUnit('wu', { minQuorum: 1, targetResults: 1, maxErrorResults: 0, maxTotalResults: 1, leaseMs: 1 }).status).toBe('open');
  });

  it('result hashes: 1 to 256 characters; times: non-negative safe integers', () => {
    const { state, replica } = assign(createWorkUnit('wu', P), 'p', 0);
    expect(() => submit(state, replica.id, '', 1)).toThrow(code('WU_INVALID_ARGUMENT'));
    expect(() => submit(state, replica.id, 'h'.repeat(257), 1)).toThrow(code('WU_INVALID_ARGUMENT'));
    expect(submit(state, replica.id, 'h'.repeat(256), 1).replicas[0]!.resultHash).toHaveLength(256);
    expect(() => submit(state, replica.id, 123 as unknown as string, 1)).toThrow(code('WU_INVALID_ARGUMENT'));
    expect(() => submit(state, replica.id, A, -1)).toThrow(code('WU_INVALID_TIME'));
    expect(() => heartbeat(state, replica.id, 1.5)).toThrow(code('WU_INVALID_TIME'));
    expect(() => expire(state, Number.NaN)).toThrow(code('WU_INVALID_TIME'));
  });
});

describe('the canonical result of a stored state', () => {
  it('of two groups that both reached the quorum, the one that reached it first wins when equal in size', () => {
    // B reaches 2 at seq 2, A at seq 3 (submission order, not replica order)
    const s = expire(stored('open', [[A, 0], [B, 1], [B, 2], [A, 3]]), 0);
    expect(s.status).toBe('valid');
    expect(s.canonicalHash).toBe(B);
    expect(s.canonicalReplicaId).toBe('wu_1');
    // replica order is not submission order: A reaches 2 at seq 2, B at seq 3
    const t = expire(stored('open', [[A, 0], [B, 3], [B, 1], [A, 2]]), 0);
    expect(t.canonicalHash).toBe(A);
    expect(t.canonicalReplicaId).toBe('wu_0');
  });

  it('a larger group wins over one that reached the quorum earlier', () => {
    const s = expire(stored('open', [[B, 0], [B, 1], [A, 2], [A, 3], [A, 4]]), 0);
    expect(s.canonicalHash).toBe(A);
    expect(s.replicas.map((r) => r.validateState)).toEqual(['invalid', 'invalid', 'valid', 'valid', 'valid']);
    // the larger group seen first, the smaller one reaching the quorum earlier
    expect(expire(stored('open', [[A, 0], [B, 1], [B, 2], [A, 3], [A, 4]]), 0).canonicalHash).toBe(A);
  });

  it('the moment a group reached the quorum is its minQuorum-th result, not its last', () => {
    // A reaches 2 at seq 1, B at seq 3; both end with 3 results (B's third at seq 4, A's at seq 5)
    const s = expire(stored('open', [[A, 0], [A, 1], [B, 2], [B, 3], [B, 4], [A, 5]]), 0);
    expect(s.canonicalHash).toBe(A);
  });

  it('a valid unit keeps its canonical result when later results outnumber it', () => {
    const s = expire(stored('valid', [[A, 0], [A, 1], [B, 2], [B, 3], [B, 4]], { canonicalHash: A, canonicalReplicaId: 'wu_0' }), 0);
    expect(s.canonicalHash).toBe(A);
    expect(s.replicas.map((r) => r.validateState)).toEqual(['valid', 'valid', 'invalid', 'invalid', 'invalid']);
  });
});

describe('validator marks', () => {
  it('only returned replicas get a verdict; in-progress and failed ones stay init', () => {
    let s = createWorkUnit('wu', { ...P, targetResults: 4 });
    const ids: string[] = [];
    for (const p of ['p0', 'p1', 'p2', 'p3']) { const r = assign(s, p, 0); s = r.state; ids.push(r.replica.id); }
    s = failReplica(s, ids[3]!, 'boom');
    s = submit(s, ids[0]!, A, 1);
    s = submit(s, ids[1]!, A, 2);
    expect(s.status).toBe('valid');
    expect(s.replicas.map((r) => [r.state, r.validateState])).toEqual([['returned', 'valid'], ['returned', 'valid'], ['in-progress', 'init'], ['error', 'init']]);
    const { outcome } = validate(s);
    expect(outcome).toStrictEqual({ status: 'valid', valid: [ids[0], ids[1]], invalid: [], inconclusive: [], needed: 0, canonicalHash: A, canonicalReplicaId: ids[0] });
    // the late result is compared with the canonical one
    s = submit(s, ids[2]!, B, 3);
    expect(validate(s).outcome.invalid).toEqual([ids[2]]);
  });

  it('an open unit reports no canonical result and no error reason', () => {
    const { outcome } = validate(createWorkUnit('wu', P));
    expect(outcome).toStrictEqual({ status: 'open', valid: [], invalid: [], inconclusive: [], needed: 2 });
  });

  it('a unit that errors out marks its returned results too late and reports why', () => {
    let s = createWorkUnit('wu', { minQuorum: 2, targetResults: 2, maxErrorResults: 0, maxTotalResults: 4, leaseMs: 100 });
    const a = assign(s, 'p0', 0); s = a.state;
    const b = assign(s, 'p1', 0); s = b.state;
    s = submit(s, a.replica.id, A, 1);
    s = failReplica(s, b.replica.id, 'crash');
    expect(s.status).toBe('error');
    expect(s.replicas[0]!.validateState).toBe('too-late');
    expect(validate(s).outcome).toStrictEqual({ status: 'error', valid: [], invalid: [], inconclusive: [], needed: 0, errorReason: 'too-many-errors' });
  });

  it('a result arriving after the unit was cancelled is too late and changes no target', () => {
    let s = createWorkUnit('wu', { minQuorum: 2, targetResults: 2, maxErrorResults: 3, maxTotalResults: 6, leaseMs: 100 });
    const r0 = assign(s, 'p0', 0); s = r0.state;
    const r1 = assign(s, 'p1', 0); s = r1.state;
    s = submit(s, r0.replica.id, A, 1);
    s = submit(s, r1.replica.id, B, 2); // disagreement: target 3
    const r2 = assign(s, 'p2', 3); s = r2.state;
    s = cancel(s);
    s = submit(s, r2.replica.id, 'c'.repeat(64), 4);
    expect([s.status, s.errorReason, s.targetResults]).toEqual(['error', 'cancelled', 3]);
    expect(s.replicas.map((r) => r.validateState)).toEqual(['too-late', 'too-late', 'too-late']);
  });

  it('disagreement raises the target by what the largest group lacks', () => {
    // quorum 3: A, A, B -> largest group 2, one more agreeing result needed beyond the 3 returned
    const s = run({ minQuorum: 3, targetResults: 3, maxErrorResults: 3, maxTotalResults: 8, leaseMs: 100 }, [A, A, B]);
    expect(s.targetResults).toBe(4);
    expect(s.replicas.map((r) => r.validateState)).toEqual(['inconclusive', 'inconclusive', 'inconclusive']);
    // A, B, C -> largest 1: two more
    expect(run({ minQuorum: 3, targetResults: 3, maxErrorResults: 3, maxTotalResults: 8, leaseMs: 100 }, [A, B, 'c'.repeat(64)]).targetResults).toBe(5);
  });

  it('results that are no longer enough for the raised quorum go back to init', () => {
    const s = run(P, [A, B]);
    expect(s.replicas.map((r) => r.validateState)).toEqual(['inconclusive', 'inconclusive']);
    const t = raiseReplication(s, 3, 3);
    expect(t.minQuorum).toBe(3);
    expect(t.replicas.map((r) => r.validateState)).toEqual(['init', 'init']);
  });
});

describe('assignment', () => {
  it('a closed unit takes no replica (WU_CLOSED) and a full one none either (WU_NO_REPLICA_NEEDED)', () => {
    const done = run(P, [A, A]);
    expect(() => assign(done, 'p9', 5)).toThrow(code('WU_CLOSED'));
    expect(canAssign(done, 'p9', 5)).toBe(false);
    let s = createWorkUnit('wu', P);
    s = assign(s, 'p0', 0).state;
    s = assign(s, 'p1', 0).state;
    expect(() => assign(s, 'p2', 1)).toThrow(code('WU_NO_REPLICA_NEEDED'));
    expect(canAssign(s, 'p2', 1)).toBe(false);
    expect(() => assign(s, 'p0', 1)).toThrow(code('WU_PROVIDER_ALREADY_ASSIGNED'));
  });

  it('a timed-out holder gets the same replica back only when asked to reissue, and each lost lease counts', () => {
    let s = createWorkUnit('wu', { minQuorum: 2, targetResults: 2, maxErrorResults: 3, maxTotalResults: 6, leaseMs: 100 });
    const a = assign(s, 'p0', 0); s = a.state;
    s = assign(s, 'p1', 0).state;
    // both leases run out at 101
    expect(canAssign(s, 'p0', 101)).toBe(false);
    expect(canAssign(s, 'p0', 101, { reissueTimedOut: false })).toBe(false);
    expect(() => assign(s, 'p0', 101)).toThrow(code('WU_PROVIDER_ALREADY_ASSIGNED'));
    expect(canAssign(s, 'p0', 101, { reissueTimedOut: true })).toBe(true);
    expect(canAssign(s, 'p9', 101)).toBe(true); // a provider that never held it needs no reissue
    expect(assign(s, 'p9', 101, { reissueTimedOut: true }).replica).toMatchObject({ id: 'wu_2', provider: 'p9', issuedAt: 101 });
    const again = assign(s, 'p0', 101, { reissueTimedOut: true });
    expect(again.replica).toMatchObject({ id: a.replica.id, provider: 'p0', state: 'in-progress', issuedAt: 101, deadline: 201, timeouts: 1, validateState: 'init' });
    expect(again.state.replicas).toHaveLength(2);
    // a provider whose replica returned a result never gets the unit again
    let t = createWorkUnit('wu', { ...P, targetResults: 3, minQuorum: 3 });
    const r0 = assign(t, 'p0', 0); t = submit(r0.state, r0.replica.id, A, 1);
    expect(canAssign(t, 'p0', 500, { reissueTimedOut: true })).toBe(false);
  });

  it('expired leases that were reissued count as errors: too many errors the unit out', () => {
    let s = createWorkUnit('wu', { minQuorum: 1, targetResults: 1, maxErrorResults: 1, maxTotalResults: 6, leaseMs: 10 });
    s = assign(s, 'p0', 0).state;
    s = assign(s, 'p0', 11, { reissueTimedOut: true }).state; // first lease lost: 1 error
    expect(s.status).toBe('open');
    s = expire(s, 30); // second lease lost: 2 errors > 1
    expect(s.status).toBe('error');
    expect(s.errorReason).toBe('too-many-errors');
  });

  it('reissued leases count towards max_total_results', () => {
    let s = createWorkUnit('wu', { minQuorum: 1, targetResults: 1, maxErrorResults: 9, maxTotalResults: 2, leaseMs: 10 });
    s = assign(s, 'p0', 0).state;
    s = assign(s, 'p0', 11, { reissueTimedOut: true }).state; // 1 replica + 1 lost lease = 2 issued
    expect(s.status).toBe('open');
    s = expire(s, 30); // a third would exceed 2
    expect(s.status).toBe('error');
    expect(s.errorReason).toBe('too-many-total-results');
  });
});

describe('leases and results', () => {
  it('a heartbeat exactly at the deadline still extends the lease; one after it is refused', () => {
    const { state, replica } = assign(createWorkUnit('wu', P), 'p', 0);
    expect(heartbeat(state, replica.id, 100).replicas[0]!.deadline).toBe(200);
    expect(() => heartbeat(state, replica.id, 101)).toThrow(code('WU_LEASE_EXPIRED'));
  });

  it('a result at the deadline is on time; after it, late (timed out or not yet swept)', () => {
    const { state, replica } = assign(createWorkUnit('wu', P), 'p', 0);
    expect(submit(state, replica.id, A, 100).replicas[0]!.late).toBe(false);
    expect(submit(state, replica.id, A, 101).replicas[0]!.late).toBe(true);
    expect(submit(expire(state, 101), replica.id, A, 50).replicas[0]!.late).toBe(true);
  });

  it('a failure reason is kept to 256 characters', () => {
    const { state, replica } = assign(createWorkUnit('wu', P), 'p', 0);
    expect(failReplica(state, replica.id, 'x'.repeat(300)).replicas[0]!.errorReason).toBe('x'.repeat(256));
  });
});

describe('raiseReplication and cancel', () => {
  it('refuses a target above max_total_results, accepts it equal', () => {
    const s = createWorkUnit('wu', P);
    expect(() => raiseReplication(s, 2, 7)).toThrow(code('WU_INVALID_PARAMS'));
    expect(() => raiseReplication(s, 2.5, 3)).toThrow(code('WU_INVALID_PARAMS'));
    expect(() => raiseReplication(s, 2, Number.POSITIVE_INFINITY)).toThrow(code('WU_INVALID_PARAMS'));
    expect(raiseReplication(s, 2, 6).targetResults).toBe(6);
  });

  it('leaves a closed unit as it is', () => {
    const done = run(P, [A, A]);
    expect(raiseReplication(done, 3, 4)).toEqual(done);
    expect(cancel(done)).toBe(done);
    const c = cancel(createWorkUnit('wu', P));
    expect([c.status, c.errorReason]).toEqual(['error', 'cancelled']);
  });
});
