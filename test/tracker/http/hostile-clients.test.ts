/**
 * Hostile clients (issue 25), against the real service and HTTP app:
 *  - a registration flood from one source is refused with 429 +
 *    Retry-After after the limit, before its body is read, and appends no
 *    ledger entry at all (a registration enters the log with the identity's
 *    first work request: registry.ts);
 *  - an identity past its work limit is refused; another is not;
 *  - a proof of work below the difficulty, for another key, or missing is
 *    refused with its code and stores nothing;
 *  - the leaderboard lists only identities with verified work;
 *  - with registrations deferred, `swarm audit`'s check of the log
 *    (ledger/audit.ts) still holds.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { base64UrlEncode, utf8Encode } from '../../../src/core/encoding.ts';
import { auditLog } from '../../../src/ledger/audit.ts';
import type { Ed25519KeyPair } from '../../../src/ledger/keys.ts';
import { leafHash, rootHash } from '../../../src/ledger/merkle.ts';
import { signTreeHead } from '../../../src/ledger/tree-head.ts';
import { providerRegisteredEntry } from '../../../src/protocol/entries.ts';
import { powBits, powWindow, solvePow } from '../../../src/protocol/pow.ts';
import type { PowSolution } from '../../../src/protocol/pow.ts';
import { signRequest } from '../../../src/protocol/signing.ts';
import { TrackerClient } from '../../../src/provider/client.ts';
import { DEFAULT_TRACKER_RATE_LIMITS } from '../../../src/tracker/http/rate-limit.ts';
import { HARNESS_POW_BITS, keyOf, nanoEvalUnit, startHarness } from '../harness.ts';
import type { Harness } from '../harness.ts';

const CAPS = { threads: 1, memoryBytes: 1 };
const ATTACKER = '203.0.113.7';

async function count(h: Harness, table: string): Promise<number> {
  return Number((await h.db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`))[0]!.n);
}

async function dump(h: Harness): Promise<string> {
  const rows = await Promise.all(['providers', 'ledger_entries', 'ledger_queue'].map((t) => h.db.query(`SELECT * FROM ${t} ORDER BY 1`).catch(() => [])));
  return JSON.stringify(rows, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v));
}

let nonce = 5_000_000;
const nextNonce = (): Uint8Array => {
  const b = new Uint8Array(16);
  new DataView(b.buffer).setUint32(8, ++nonce);
  return b;
};

/** A registration request made by hand (so the proof of work can be wrong), signed by `key`. */
async function register(h: Harness, key: Ed25519KeyPair, pow: PowSolution | undefined, source = ATTACKER): Promise<{ status: number; code: string; headers: Headers }> {
  const entry = providerRegisteredEntry(key, h.clock.now(), 'n');
  const body = utf8Encode(JSON.stringify({ publicKey: base64UrlEncode(key.publicKeyRaw), name: 'n', capabilities: CAPS, entry, ...(pow === undefined ? {} : { pow }) }));
  const headers = { ...signRequest({ method: 'POST', path: '/api/providers', body, key, clock: h.clock, nonce: nextNonce }), 'content-type': 'application/json', 'x-test-source': source };
  const res = await h.app.request('/api/providers', { method: 'POST', body, headers });
  const j = (await res.json()) as { error?: { code: string } };
  return { status: res.status, code: j.error?.code ?? '', headers: res.headers };
}

const solveFor = (h: Harness, key: Ed25519KeyPair, bits = HARNESS_POW_BITS): PowSolution =>
  solvePow({ trackerKeyId: h.trackerKey.keyId, keyId: key.keyId, timeMs: h.clock.now(), difficulty: bits });

/** A client that surfaces 429s at once (no waiting them out). */
function impatient(h: Harness, key: Ed25519KeyPair): TrackerClient {
  return new TrackerClient({
    baseUrl: 'http://tracker.test', key, clock: h.clock, nonce: nextNonce, maxRateLimitRetries: 0,
    fetch: ((url: string | URL | Request, init?: RequestInit) => h.app.fetch(new Request(url, init))) as typeof fetch,
  });
}

describe('hostile clients', () => {
  let h: Harness | undefined;
  afterEach(async () => h?.close());

  it('a registration flood from one source: 429 + Retry-After after the limit, before the body is read, and no ledger entry', async () => {
    const LIMIT = 5;
    h = await startHarness({
      suite: 'hostile',
      app: {
        rateLimits: { registration: { perSource: { burst: LIMIT, perSecond: 1 / 60 }, perIdentity: null } },
        sourceOf: (c) => c.req.header('x-test-source') ?? null,
      },
    });
    const outcomes: string[] = [];
    let lastRefusal: { status: number; code: string; headers: Headers } | undefined;
    for (let i = 0; i < 3 * LIMIT; i++) {
      const key = keyOf(100 + i);
      const r = await register(h, key, solveFor(h, key));
      outcomes.push(r.status === 200 ? 'ok' : `${r.status} ${r.code}`);
      if (r.status !== 200) lastRefusal = r;
    }
    expect(outcomes).toEqual([...Array<string>(LIMIT).fill('ok'), ...Array<string>(2 * LIMIT).fill('429 TRACKER_RATE_LIMITED')]);
    expect(lastRefusal!.headers.get('retry-after')).toBe('60');
    // refused with its body unread: the connection is closed rather than drained (body.ts)
    expect(lastRefusal!.headers.get('connection')).toBe('close');
    expect(await count(h, 'providers')).toBe(LIMIT);
    // the documented bound: registrations append nothing until an identity asks for work
    expect(await count(h, 'ledger_entries')).toBe(0);
    // another source is not affected; the attacker's bucket refills with time
    expect((await register(h, keyOf(150), solveFor(h, keyOf(150)), '198.51.100.9')).status).toBe(200);
    h.clock.advance(60_000);
    expect((await register(h, keyOf(151), solveFor(h, keyOf(151)))).status).toBe(200);
    // an identity's registration enters the log with its first work request, once
    const p = h.client(keyOf(100));
    await p.work();
    await p.work();
    const kinds = (await h.db.query<{ leaf_input: Uint8Array }>('SELECT leaf_input FROM ledger_entries ORDER BY seq')).map((r) => JSON.parse(Buffer.from(r.leaf_input).toString()) as { kind: string; actor: string });
    expect(kinds).toEqual([expect.objectContaining({ kind: 'provider-registered', actor: keyOf(100).keyId })]);
  });

  it('IPv6 sources share a limit per /64', async () => {
    h = await startHarness({
      suite: 'hostile',
      app: { rateLimits: { registration: { perSource: { burst: 2, perSecond: 1 / 60 }, perIdentity: null } }, sourceOf: (c) => c.req.header('x-test-source') ?? null },
    });
    const statuses: number[] = [];
    for (const [i, src] of ['2001:db8:1:2::1', '2001:db8:1:2::ffff', '2001:db8:1:2:abcd::9', '2001:db8:1:3::1'].entries()) {
      statuses.push((await register(h, keyOf(110 + i), solveFor(h, keyOf(110 + i)), src)).status);
    }
    expect(statuses).toEqual([200, 200, 429, 200]);
  });

  it('an identity past its work limit gets 429 (and waits it out when it may); another identity does not', async () => {
    h = await startHarness({
      suite: 'hostile',
      app: { rateLimits: { work: { perSource: null, perIdentity: { burst: 3, perSecond: 1 } } } },
    });
    const a = impatient(h, keyOf(1));
    const b = impatient(h, keyOf(2));
    await a.register('a', CAPS);
    await b.register('b', CAPS);
    for (let i = 0; i < 3; i++) await a.work();
    await expect(a.work()).rejects.toMatchObject({ code: 'TRACKER_RATE_LIMITED', details: { status: 429, retryAfterMs: 1000 } });
    await expect(b.work()).resolves.toMatchObject({ unit: null });
    // a patient client waits Retry-After out (here the clock moves while it "sleeps")
    const waits: number[] = [];
    const patient = new TrackerClient({
      baseUrl: 'http://tracker.test', key: keyOf(1), clock: h.clock, nonce: nextNonce,
      sleep: async (ms) => { waits.push(ms); h!.clock.advance(ms); },
      fetch: ((url: string | URL | Request, init?: RequestInit) => h!.app.fetch(new Request(url, init))) as typeof fetch,
    });
    await expect(patient.work()).resolves.toMatchObject({ unit: null });
    expect(waits).toEqual([1000]);
  });

  it('proof of work: missing, below the difficulty, for another key or stale is refused with its code and stores nothing', async () => {
    h = await startHarness({ suite: 'hostile', app: { registrationDifficulty: 10 } });
    const info = (await (await h.app.request('/api/info')).json()) as { registrationDifficulty: number };
    expect(info.registrationDifficulty).toBe(10);
    const key = keyOf(30);
    const before = await dump(h);
    const window = powWindow(h.clock.now());
    // a nonce that reaches fewer than 10 bits for this key
    let weak = 0;
    while (powBits({ trackerKeyId: h.trackerKey.keyId, keyId: key.keyId, window }, weak.toString(16)) >= 10) weak++;
    const refusals = [
      await register(h, key, undefined),
      await register(h, key, { window, nonce: weak.toString(16) }),
      await register(h, key, solveFor(h, keyOf(31), 10)), // solved for another key
      await register(h, key, solvePow({ trackerKeyId: keyOf(99).keyId, keyId: key.keyId, timeMs: h.clock.now(), difficulty: 10 })), // for another tracker
      await register(h, key, solvePow({ trackerKeyId: h.trackerKey.keyId, keyId: key.keyId, timeMs: h.clock.now() - 30 * 60_000, difficulty: 10 })), // stale
    ];
    expect(refusals.map((r) => `${r.status} ${r.code}`)).toEqual(['400 PROTOCOL_POW_REQUIRED', ...Array<string>(4).fill('400 PROTOCOL_BAD_POW')]);
    expect(await dump(h)).toBe(before);
    expect((await register(h, key, solveFor(h, key, 10))).status).toBe(200);
    expect(await count(h, 'providers')).toBe(1);
  });

  it('the leaderboard lists only identities with verified work, and the log with deferred registrations passes the audit', async () => {
    h = await startHarness({ suite: 'hostile' });
    const trainer = h.client(h.trainerKey);
    const u = nanoEvalUnit();
    for (const b of u.blobs) await trainer.putBlob(b);
    await trainer.createUnits({ run: 'run1', units: [{ id: 'u1', kind: 'eval', spec: u.spec }] });
    const [a, b, idle, cheat] = [1, 2, 3, 4].map((i) => h!.client(keyOf(i))) as [TrackerClient, TrackerClient, TrackerClient, TrackerClient];
    for (const [i, c] of [a, b, idle, cheat].entries()) await c.register(`p${i}`, CAPS, 'team');
    expect((await a.work()).unit?.unitId).toBe('u1');
    expect((await cheat.work()).unit?.unitId).toBe('u1');
    const good = utf8Encode('good');
    await a.submit({ unitId: 'u1', runId: 'run1', result: good, metrics: {} });
    await cheat.submit({ unitId: 'u1', runId: 'run1', result: utf8Encode('bad'), metrics: {} });
    expect((await b.work()).unit?.unitId).toBe('u1');
    expect((await b.submit({ unitId: 'u1', runId: 'run1', result: good, metrics: {} })).unitStatus).toBe('valid');
    const lb = (await (await h.app.request('/api/leaderboard')).json()) as { providers: Array<{ providerId: string }>; teams: Array<{ team: string; members: number }> };
    expect(lb.providers.map((p) => p.providerId).sort()).toEqual([a.key.keyId, b.key.keyId].sort());
    expect(lb.teams).toEqual([expect.objectContaining({ team: 'team', members: 2 })]);
    // the hidden ones' own pages still answer
    expect((await idle.providerStatus()).valid).toBe(0);
    expect((await cheat.providerStatus()).invalid).toBe(1);
    // the log: no registration for `idle`, each other before its first unit-issued, and the audit holds
    const leaves = (await h.db.query<{ leaf_input: Uint8Array }>('SELECT leaf_input FROM ledger_entries ORDER BY seq')).map((r) => new Uint8Array(r.leaf_input));
    const registered = leaves.map((l) => JSON.parse(Buffer.from(l).toString()) as { kind: string; actor: string }).filter((e) => e.kind === 'provider-registered').map((e) => e.actor);
    expect(registered.sort()).toEqual([a.key.keyId, b.key.keyId, cheat.key.keyId].sort());
    const head = signTreeHead({ treeSize: leaves.length, timestamp: h.clock.now(), rootHash: rootHash(leaves.map(leafHash)) }, h.trackerKey);
    const report = auditLog({ leafInputs: leaves, head, trackerKey: h.trackerKey.publicKeyRaw });
    expect(report.firstBad).toBeUndefined();
    expect(report.ok).toBe(true);
  });

  it('the defaults leave room for a machine full of honest providers', () => {
    // swarm up starts one provider per core from loopback (exempt from per-source limits); per identity, a provider registers once
    expect(DEFAULT_TRACKER_RATE_LIMITS.exemptLoopback).toBe(true);
    expect(DEFAULT_TRACKER_RATE_LIMITS.registration.perIdentity!.burst).toBeGreaterThanOrEqual(2);
    expect(DEFAULT_TRACKER_RATE_LIMITS.work.perIdentity!.perSecond).toBeGreaterThanOrEqual(10);
  });
});
