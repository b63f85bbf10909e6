import { describe, expect, it } from 'vitest';
import { base64UrlEncode } from '../../src/core/encoding.ts';
import { keyPairFromSeed } from '../../src/ledger/keys.ts';
import {
  ErrorBodySchema,
  HeartbeatRequestSchema,
  RegisterProviderRequestSchema,
  ResultSubmissionSchema,
  WorkAssignmentSchema,
  WorkRequestSchema,
  WorkResponseSchema,
  parseWire,
} from '../../src/protocol/schemas.ts';

const H = 'ab'.repeat(32);
const pk = base64UrlEncode(keyPairFromSeed(new Uint8Array(32).fill(3)).publicKeyRaw);

function invalid(schema: Parameters<typeof parseWire>[0], value: unknown): { code: string; message: string; path: string } {
  try {
    parseWire(schema, value);
  } catch (e) {
    const err = e as { code: string; message: string; details: { path: string } };
    return { code: err.code, message: err.message, path: err.details.path };
  }
  throw new Error('expected rejection');
}

/** `base` with `patch` applied at the top level (undefined deletes). */
function withField<T extends object>(base: T, patch: Record<string, unknown>): unknown {
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return out;
}

describe('provider registration', () => {
  const ok = { publicKey: pk, name: 'alice-laptop', team: 'Team Rocket', capabilities: { threads: 8, memoryBytes: 16 * 2 ** 30 }, entry: { kind: 'provider-registered' } };

  it('accepts a valid body (team optional)', () => {
    expect(parseWire(RegisterProviderRequestSchema, ok)).toEqual(ok);
    expect(parseWire(RegisterProviderRequestSchema, withField(ok, { team: undefined }))).toBeDefined();
    expect(parseWire(RegisterProviderRequestSchema, withField(ok, { name: 'x'.repeat(64) }))).toBeDefined();
  });

  it.each([
    ['publicKey', { publicKey: pk.slice(1) }],
    ['publicKey', { publicKey: pk.slice(0, 42) + 'B' }], // non-zero pad bits
    ['publicKey', { publicKey: undefined }],
    ['name', { name: '' }],
    ['name', { name: 'x'.repeat(65) }],
    ['name', { name: 'evil\nname' }],
    ['name', { name: ' padded' }],
    ['team', { team: 'y'.repeat(65) }],
    ['capabilities.threads', { capabilities: { threads: 0, memoryBytes: 1 } }],
    ['capabilities.threads', { capabilities: { threads: 1.5, memoryBytes: 1 } }],
    ['capabilities.threads', { capabilities: { threads: 1025, memoryBytes: 1 } }],
    ['capabilities.memoryBytes', { capabilities: { threads: 1, memoryBytes: 2 ** 45 } }],
    ['capabilities.memoryBytes', { capabilities: { threads: 1, memoryBytes: '1' } }],
    ['capabilities', { capabilities: { threads: 1, memoryBytes: 1, gpu: true } }],
  ])('rejects a bad %s', (path, patch) => {
    const r = invalid(RegisterProviderRequestSchema, withField(ok, patch));
    expect(r.code).toBe('PROTOCOL_INVALID');
    expect(r.path).toBe(path);
    expect(r.message.startsWith(`${path}: `)).toBe(true);
  });

  it('rejects an unknown top-level field at the root path, naming the field', () => {
    const r = invalid(RegisterProviderRequestSchema, withField(ok, { extra: 1 }));
    expect(r).toMatchObject({ code: 'PROTOCOL_INVALID', path: '' });
    expect(r.message).toBe('Unrecognized key: "extra"'); // zod's message, no "path: " in front
  });

  it('rejects non-objects', () => {
    for (const v of [null, 1, 'x', [], undefined]) expect(invalid(RegisterProviderRequestSchema, v).code).toBe('PROTOCOL_INVALID');
  });
});

describe('work request and assignment', () => {
  it('work request: kinds optional, no repeats, no unknown kind', () => {
    expect(parseWire(WorkRequestSchema, {})).toEqual({});
    expect(parseWire(WorkRequestSchema, { kinds: ['eval'] })).toEqual({ kinds: ['eval'] });
    expect(invalid(WorkRequestSchema, { kinds: [] }).path).toBe('kinds');
    expect(invalid(WorkRequestSchema, { kinds: ['eval', 'eval'] }).path).toBe('kinds');
    expect(invalid(WorkRequestSchema, { kinds: ['shell'] }).path).toBe('kinds[0]');
  });

  const unit = { unitId: 'run-1:unit.42', runId: 'run-1', kind: 'train', spec: { kind: 'train', steps: 100, adamw: { lr: 3e-4 } }, inputs: [H], leaseDeadlineMs: 1_700_000_000_000 };

  it('accepts a valid assignment and the two response shapes', () => {
    expect(parseWire(WorkAssignmentSchema, unit)).toEqual(unit);
    expect(parseWire(WorkResponseSchema, { unit })).toEqual({ unit });
    expect(parseWire(WorkResponseSchema, { unit: null, retryAfterMs: 5000 })).toBeDefined();
    expect(invalid(WorkResponseSchema, { unit: null }).code).toBe('PROTOCOL_INVALID');
  });

  it.each([
    ['unitId', { unitId: '' }],
    ['unitId', { unitId: 'u'.repeat(129) }],
    ['unitId', { unitId: '../etc' }],
    ['kind', { kind: 'exec' }],
    ['inputs', { inputs: [] }],
    ['inputs', { inputs: Array(65).fill(H) }],
    ['inputs[0]', { inputs: [H.toUpperCase()] }],
    ['inputs[1]', { inputs: [H, H.slice(2)] }],
    ['runId', { runId: '' }],
    ['runId', { runId: 'a/b' }],
    ['spec', { spec: [1, 2] }],
    ['spec', { spec: null }],
    ['spec', { spec: 'train' }],
    ['spec', { spec: { a: { b: { c: { d: { e: { f: { g: { h: { i: 1 } } } } } } } } } }],
    ['leaseDeadlineMs', { leaseDeadlineMs: -1 }],
    ['leaseDeadlineMs', { leaseDeadlineMs: 1.5 }],
  ])('rejects a bad %s', (path, patch) => {
    const r = invalid(WorkAssignmentSchema, withField(unit, patch));
    expect(r.code).toBe('PROTOCOL_INVALID');
    expect(r.path).toBe(path);
  });

  it('refuses a __proto__ member anywhere in a spec', () => {
    const evil = JSON.parse(`{"unitId":"u","runId":"r","kind":"eval","spec":{"a":{"__proto__":{"polluted":1}}},"inputs":["${H}"],"leaseDeadlineMs":0}`);
    expect(invalid(WorkAssignmentSchema, evil).code).toBe('PROTOCOL_INVALID');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('heartbeat, result submission, error body', () => {
  it('heartbeat', () => {
    expect(parseWire(HeartbeatRequestSchema, { unitId: 'u1', progress: 0.5 })).toEqual({ unitId: 'u1', progress: 0.5 });
    expect(parseWire(HeartbeatRequestSchema, { unitId: 'u1' })).toEqual({ unitId: 'u1' });
    expect(invalid(HeartbeatRequestSchema, { unitId: 'u1', progress: 1.01 }).path).toBe('progress');
    expect(invalid(HeartbeatRequestSchema, { progress: 0 }).path).toBe('unitId');
  });

  const result = { unitId: 'u1', resultHash: H, resultBytes: 1024, metrics: { loss: 2.5, tokens: 4096 }, entry: { kind: 'result-submitted' } };

  it('result submission', () => {
    expect(parseWire(ResultSubmissionSchema, result)).toEqual(result);
    expect(parseWire(ResultSubmissionSchema, withField(result, { metrics: {} }))).toBeDefined();
  });

  it.each([
    ['resultHash', { resultHash: 'zz'.repeat(32) }],
    ['resultHash', { resultHash: H + '00' }],
    ['resultBytes', { resultBytes: -1 }],
    ['resultBytes', { resultBytes: 2 ** 32 + 1 }],
    ['metrics.loss', { metrics: { loss: Number.NEGATIVE_INFINITY } }],
    ['metrics', { metrics: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`m${i}`, i])) }],
    ['metrics', { metrics: [1, 2] }],
    ['entry', { entry: 'signed' }],
  ])('rejects a bad %s', (path, patch) => {
    expect(invalid(ResultSubmissionSchema, withField(result, patch)).path).toBe(path);
  });

  it('error body', () => {
    const e = { error: { code: 'PROTOCOL_REPLAY', message: 'nonce already used' } };
    expect(parseWire(ErrorBodySchema, e)).toEqual(e);
    expect(invalid(ErrorBodySchema, { error: { code: 'lower', message: '' } }).path).toBe('error.code');
    expect(invalid(ErrorBodySchema, { error: { code: 'X', message: 'm'.repeat(1025) } }).path).toBe('error.message');
    expect(invalid(ErrorBodySchema, { error: { code: 'X', message: 'm', stack: 's' } }).path).toBe('error');
  });
});

describe('inferred types', () => {
  it('metrics infer as number records', () => {
    const r = parseWire(ResultSubmissionSchema, { unitId: 'u', resultHash: H, resultBytes: 1, metrics: { a: 1 }, entry: {} });
    const n: number | undefined = r.metrics.a;
    expect(n).toBe(1);
  });
});
