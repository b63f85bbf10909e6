/**
 * work-unit.ts discardProvider (issue 20): a banned provider's unjudged
 * replicas are thrown away without counting against the unit.
 */
import { describe, expect, it } from 'vitest';
import { assign, createWorkUnit, discardProvider, submit } from '../../../src/tracker/validation/work-unit.ts';
import type { WorkUnitState } from '../../../src/tracker/validation/work-unit.ts';

const params = { minQuorum: 2, targetResults: 2, maxErrorResults: 0, maxTotalResults: 3, leaseMs: 1000 };

function lease(s: WorkUnitState, p: string, now = 0): WorkUnitState {
  return assign(s, p, now).state;
}

describe('discardProvider', () => {
  it('discards an in-progress and a returned replica without erroring the unit out, and asks for replacements', () => {
    let s = lease(lease(createWorkUnit('u', params), 'bad'), 'good');
    s = submit(s, 'u_0', 'x', 10);
    const d = discardProvider(s, 'bad', 'banned');
    expect(d.status).toBe('open'); // maxErrorResults 0: a counted error would have errored it out
    expect(d.replicas[0]).toMatchObject({ provider: 'bad', state: 'error', discarded: true, errorReason: 'banned' });
    // total results: 3 allowed, 2 issued, the discarded one not counted, so two more may still be issued
    let t = lease(d, 'c', 20);
    t = submit(t, 'u_1', 'y', 30);
    t = submit(t, 'u_2', 'y', 31);
    expect(t.status).toBe('valid');
    expect(t.canonicalHash).toBe('y');
  });

  it('a result of the banned provider no longer counts towards a quorum', () => {
    let s = lease(lease(createWorkUnit('u', { ...params, maxErrorResults: 2 }), 'bad'), 'good');
    s = submit(s, 'u_0', 'z', 10);
    const d = discardProvider(s, 'bad', 'banned');
    const after = submit(d, 'u_1', 'z', 20);
    expect(after.status).toBe('open'); // one agreeing result left, quorum 2
  });

  it('leaves other providers, closed units and errored replicas alone', () => {
    const s = lease(lease(createWorkUnit('u', params), 'bad'), 'good');
    const d = discardProvider(s, 'bad', 'banned');
    expect(d.replicas[1]).toEqual(s.replicas[1]);
    let v = submit(submit(s, 'u_0', 'h', 1), 'u_1', 'h', 2);
    expect(v.status).toBe('valid');
    expect(discardProvider(v, 'bad', 'banned')).toBe(v);
    v = discardProvider(discardProvider(s, 'bad', 'first'), 'bad', 'second');
    expect(v.replicas[0]!.errorReason).toBe('first');
  });
});
