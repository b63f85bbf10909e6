/**
 * The wire schemas' own checks at their limits (issue 26, mutation testing):
 * the nesting depth of free-form JSON objects (objects and arrays, empty
 * ones at the bottom, and a body nested far past the limit), the metrics
 * record's count, type and "__proto__" checks, the scheduler batch's
 * one-report-per-unit rule, and parseWire's report of a failure without
 * issues.
 */
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import {
  MAX_JSON_DEPTH, MAX_METRICS, ResultSubmissionSchema, SchedulerRequestSchema, WorkAssignmentSchema, parseWire,
} from '../../src/protocol/schemas.ts';

const H = 'ab'.repeat(32);

function refusal(schema: Parameters<typeof parseWire>[0], value: unknown): { code: string; message: string; path: string; issues: number } {
  try {
    parseWire(schema, value);
  } catch (e) {
    const err = e as { code: string; message: string; details: { path: string; issues: number } };
    return { code: err.code, message: err.message, path: err.details.path, issues: err.details.issues };
  }
  throw new Error('expected a refusal');
}

/** `leaf` inside `levels` objects ({a: {a: ... leaf}}). */
function objects(levels: number, leaf: unknown): unknown {
  let v = leaf;
  for (let i = 0; i < levels; i++) v = { a: v };
  return v;
}

/** `leaf` inside `levels` arrays ([[... leaf]]). */
function arrays(levels: number, leaf: unknown): unknown {
  let v = leaf;
  for (let i = 0; i < levels; i++) v = [v];
  return v;
}

describe('JSON object depth (a unit spec)', () => {
  const unit = (spec: unknown) => ({ unitId: 'u', runId: 'r', kind: 'eval', spec, inputs: [H], leaseDeadlineMs: 0 });
  /** 'accepted', or the refusal's code and path */
  const verdict = (spec: unknown): string => {
    try {
      parseWire(WorkAssignmentSchema, unit(spec));
      return 'accepted';
    } catch (e) {
      const err = e as { code?: string; details?: { path?: string } }; // a RangeError has neither
      return `${String(err.code)} at ${String(err.details?.path)}`;
    }
  };
  const REFUSED = 'PROTOCOL_INVALID at spec';

  it('MAX_JSON_DEPTH levels of objects pass, one more is refused', () => {
    expect(MAX_JSON_DEPTH).toBe(8);
    expect(verdict(objects(MAX_JSON_DEPTH, 1))).toBe('accepted');
    expect(verdict(objects(MAX_JSON_DEPTH + 1, 1))).toBe(REFUSED);
  });

  it('an empty object at the bottom is a level', () => {
    expect(verdict(objects(MAX_JSON_DEPTH - 1, {}))).toBe('accepted');
    expect(verdict(objects(MAX_JSON_DEPTH, {}))).toBe(REFUSED);
  });

  it('arrays count as levels too', () => {
    expect(verdict({ a: [1, [2, 3], []] })).toBe('accepted');
    expect(verdict({ a: arrays(MAX_JSON_DEPTH - 1, 1) })).toBe('accepted');
    expect(verdict({ a: arrays(MAX_JSON_DEPTH, 1) })).toBe(REFUSED);
    // the deepest branch counts, wherever it is in the array
    expect(verdict({ a: [1, arrays(MAX_JSON_DEPTH - 1, 1), 2] })).toBe(REFUSED);
  });

  it('an empty array at the bottom is a level', () => {
    expect(verdict({ a: arrays(MAX_JSON_DEPTH - 2, []) })).toBe('accepted');
    expect(verdict({ a: arrays(MAX_JSON_DEPTH - 1, []) })).toBe(REFUSED);
  });

  it('a value nested far past the limit is refused by code, not by a stack overflow', () => {
    // JSON.parse builds such a value from a few hundred kB of brackets (the
    // scheduler's body may be megabytes); no check may recurse all the way down
    expect(verdict({ a: arrays(100_000, 1) })).toBe(REFUSED);
    expect(verdict(objects(100_000, 1))).toBe(REFUSED);
  });
});

describe('the metrics record', () => {
  const result = { unitId: 'u1', resultHash: H, resultBytes: 1, metrics: { loss: 1 }, entry: {} };
  const withMetrics = (metrics: unknown) => ({ ...result, metrics });

  it('exactly MAX_METRICS entries pass', () => {
    const metrics = Object.fromEntries(Array.from({ length: MAX_METRICS }, (_, i) => [`m${i}`, i]));
    expect(parseWire(ResultSubmissionSchema, withMetrics(metrics)).metrics).toEqual(metrics);
  });

  it('null, a missing record, numbers, strings and arrays are refused as not a record', () => {
    const { metrics: _, ...noMetrics } = result;
    for (const v of [withMetrics(null), noMetrics, withMetrics(7), withMetrics('x'.repeat(MAX_METRICS + 1)), withMetrics(Array(MAX_METRICS + 1).fill(1))]) {
      const r = refusal(ResultSubmissionSchema, v);
      expect(r).toMatchObject({ code: 'PROTOCOL_INVALID', path: 'metrics', issues: 1 });
      // refused for its type, not counted as if it were an object with too many entries
      expect(r.message).toMatch(/expected record/);
    }
  });

  it('a "__proto__" member (an own property after JSON.parse) is refused, alone or among others', () => {
    for (const text of ['{"__proto__":1}', '{"loss":1,"__proto__":2}']) {
      const metrics: unknown = JSON.parse(text);
      expect(refusal(ResultSubmissionSchema, withMetrics(metrics))).toMatchObject({ code: 'PROTOCOL_INVALID', path: 'metrics' });
    }
  });
});

describe('scheduler batch: one report per unit', () => {
  const res = (unitId: string) => ({ unitId, resultHash: H, resultBytes: 1, metrics: {}, entry: {} });
  const fail = (unitId: string) => ({ unitId, code: 'OOM', message: 'out of memory' });

  it('distinct units among results and failures pass', () => {
    const batch = { results: [res('u1'), res('u2')], failures: [fail('u3')], want: 1 };
    expect(parseWire(SchedulerRequestSchema, batch)).toEqual(batch);
    expect(parseWire(SchedulerRequestSchema, { want: 0 })).toEqual({ want: 0 });
  });

  it('a unit twice among results, or as a result and a failure, is refused', () => {
    for (const batch of [
      { results: [res('u1'), res('u1')], want: 0 },
      { failures: [fail('u1'), fail('u1')], want: 0 },
      { results: [res('u1')], failures: [fail('u1')], want: 0 },
    ]) {
      expect(refusal(SchedulerRequestSchema, batch)).toMatchObject({ code: 'PROTOCOL_INVALID', path: '' });
    }
  });
});

describe('parseWire', () => {
  it('reports a failure without issues as "invalid" at the root', () => {
    // zod itself never fails without an issue; parseWire must still not crash on such a schema
    const schema = { safeParse: () => ({ success: false, error: { issues: [] } }) } as unknown as z.ZodType;
    expect(refusal(schema, {})).toEqual({ code: 'PROTOCOL_INVALID', message: 'invalid', path: '', issues: 0 });
  });
});
