/**
 * A provider's client kind (issue 18), through the tracker's HTTP API:
 * what a registration says (`client: {kind, engine}`) is shown in
 * /api/providers/:id and in each /api/leaderboard row; a re-registration
 * replaces it (none: unknown again); a client that says nothing shows
 * null; a bad `client` is a coded 400 and stores nothing; and a browser's
 * new identity is replicated like any other (adaptive.ts: trust comes from
 * the verdict record alone). PGlite, and PostgreSQL when SWARM_TEST_PG_URL
 * is set.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { utf8Encode } from '../../src/core/encoding.ts';
import type { Ed25519KeyPair } from '../../src/ledger/keys.ts';
import type { ClientView, Leaderboard, ProviderStatus } from '../../src/protocol/views.ts';
import { TrackerClient } from '../../src/provider/client.ts';
import { codeOfAsync } from '../helpers/errors.ts';
import { keyOf, nanoEvalUnit, startHarness } from './harness.ts';
import type { Harness } from './harness.ts';

const backends: Array<'pglite' | 'postgres'> = process.env.SWARM_TEST_PG_URL ? ['pglite', 'postgres'] : ['pglite'];
if (!process.env.SWARM_TEST_PG_URL) console.log('tracker client-kind: PostgreSQL run skipped (set SWARM_TEST_PG_URL to run it)');

const CAPS = { threads: 1, memoryBytes: 1 };
const CHROMIUM: ClientView = { kind: 'browser', engine: 'Chromium 150' };
const NODE: ClientView = { kind: 'node', engine: 'node 20.20.2' };

describe.each(backends)('provider client kind on %s', (backend) => {
  let h: Harness;

  /** A client of the harness's app that announces `clientInfo` (unchecked: the bad cases go out as they are). */
  const clientWith = (key: Ed25519KeyPair, clientInfo?: unknown): TrackerClient =>
    new TrackerClient({
      baseUrl: 'http://tracker.test', key, clock: h.clock,
      ...(clientInfo === undefined ? {} : { clientInfo: clientInfo as ClientView }),
      fetch: ((url: string | URL | Request, init?: RequestInit) => h.app.fetch(new Request(url, init))) as typeof fetch,
    });
  const status = async (key: Ed25519KeyPair): Promise<ProviderStatus> => h.client(h.trainerKey).getJson<ProviderStatus>(`/api/providers/${key.keyId}`);
  const providerCount = async (): Promise<number> => Number((await h.db.query<{ n: string }>('SELECT count(*) AS n FROM providers'))[0]!.n);

  beforeAll(async () => {
    h = await startHarness({ db: backend, suite: 'client_kind' });
  }, 60_000);
  afterAll(async () => h?.close());

  it('a registration\'s client shows in /api/providers/:id; a re-registration replaces it, and one without a client makes it unknown', async () => {
    const key = keyOf(41);
    expect(await clientWith(key, CHROMIUM).register('tab', CAPS)).toEqual({ providerId: key.keyId, created: true });
    expect((await status(key)).client).toEqual(CHROMIUM);
    expect(await clientWith(key, NODE).register('tab', CAPS)).toEqual({ providerId: key.keyId, created: false });
    expect((await status(key)).client).toEqual(NODE);
    expect((await clientWith(key).register('tab', CAPS)).created).toBe(false);
    expect((await status(key)).client).toBeNull();
  });

  it('a client that says nothing (older than the field) shows null', async () => {
    const key = keyOf(42);
    await h.client(key).register('old', CAPS);
    const s = await status(key);
    expect(s.client).toBeNull();
    expect(Object.hasOwn(s, 'client')).toBe(true); // present as null, not left out
  });

  it.each([
    ['an unknown kind', { kind: 'python', engine: 'CPython 3.12' }],
    ['a missing engine', { kind: 'browser' }],
    ['an empty engine', { kind: 'browser', engine: '' }],
    ['an engine over 64 characters', { kind: 'browser', engine: `Chromium ${'9'.repeat(56)}` }],
    ['a newline in the engine', { kind: 'browser', engine: 'Chromium 150\nspoofed row' }],
    ['a NUL in the engine', { kind: 'node', engine: 'node\u000020' }],
    ['a bidi override in the engine', { kind: 'browser', engine: 'Chromium \u202e051' }],
    ['white space around the engine', { kind: 'node', engine: ' node 20' }],
    ['an extra field', { ...CHROMIUM, trusted: true }],
    ['null', null],
    ['a string', 'browser'],
  ].map(([what, bad], i) => [what, bad, 100 + i] as const))('refuses %s with PROTOCOL_INVALID (400) and registers nothing', async (_what, bad, seed) => {
    const key = keyOf(seed); // a key per case: one wrongly registered must not hide another
    const before = await providerCount();
    const e = await clientWith(key, bad).register('bad', CAPS).then(() => undefined, (err: unknown) => err as { code: string; details?: { status?: number } });
    expect(e).toMatchObject({ code: 'PROTOCOL_INVALID', details: { status: 400 } });
    expect(await providerCount()).toBe(before);
    expect(await codeOfAsync(status(key))).toBe('TRACKER_UNKNOWN_PROVIDER');
  });

  it('a bad client on a re-registration changes nothing stored', async () => {
    const key = keyOf(44);
    await clientWith(key, CHROMIUM).register('tab', CAPS, 'team-a');
    const row = async (): Promise<unknown> => (await h.db.query('SELECT name, team, client_kind, client_engine FROM providers WHERE key_id = $1', [key.keyId]))[0];
    const before = await row();
    expect(await codeOfAsync(clientWith(key, { kind: 'browser', engine: 'x'.repeat(65) }).register('renamed', CAPS))).toBe('PROTOCOL_INVALID');
    expect(await row()).toEqual(before);
    expect((await status(key)).client).toEqual(CHROMIUM);
  });

  it('the database refuses a kind without an engine (both or neither) and a kind it does not know', async () => {
    const key = keyOf(47);
    await clientWith(key, CHROMIUM).register('tab', CAPS);
    // 23514: check_violation (PostgreSQL docs, Appendix A)
    await expect(h.db.query('UPDATE providers SET client_engine = NULL WHERE key_id = $1', [key.keyId]))
      .rejects.toMatchObject({ code: 'STORAGE_ERROR', details: { sqlstate: '23514', constraint: 'providers_client_both' } });
    await expect(h.db.query(`UPDATE providers SET client_kind = 'python' WHERE key_id = $1`, [key.keyId]))
      .rejects.toMatchObject({ code: 'STORAGE_ERROR', details: { sqlstate: '23514', constraint: 'providers_client_kind_check' } });
    expect((await status(key)).client).toEqual(CHROMIUM);
  });

  it('browser identities are replicated like any new identity, and each leaderboard row shows its client', async () => {
    const trainer = h.client(h.trainerKey);
    const u = nanoEvalUnit();
    for (const b of u.blobs) await trainer.putBlob(b);
    await trainer.createUnits({ run: 'run1', units: [{ id: 'u1', kind: 'eval', spec: u.spec }] });
    const [a, b] = [keyOf(45), keyOf(46)];
    const ca = clientWith(a, CHROMIUM);
    const cb = clientWith(b, { kind: 'browser', engine: 'Firefox 140' });
    await ca.register('tab-a', CAPS);
    await cb.register('tab-b', CAPS);
    expect((await ca.work()).unit?.unitId).toBe('u1');
    // a fresh browser identity earns no trust: its unit needs a second, agreeing replica
    expect((await trainer.getJson<{ minQuorum: number }>('/api/units/u1')).minQuorum).toBe(2);
    expect((await cb.work()).unit?.unitId).toBe('u1');
    const result = utf8Encode('the same result bytes');
    expect((await ca.submit({ unitId: 'u1', runId: 'run1', result, metrics: { loss: 5 } })).unitStatus).toBe('open');
    expect((await cb.submit({ unitId: 'u1', runId: 'run1', result, metrics: { loss: 5 } })).unitStatus).toBe('valid');
    const board = await trainer.getJson<Leaderboard>('/api/leaderboard');
    const clients = Object.fromEntries(board.providers.map((p) => [p.providerId, p.client]));
    expect(clients).toEqual({ [a.keyId]: CHROMIUM, [b.keyId]: { kind: 'browser', engine: 'Firefox 140' } });
  });
});
