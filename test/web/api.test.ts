/**
 * The JSON API behind the dashboard (src/tracker/http/dashboard-api.ts,
 * stats.ts, explore.ts) through app.request(), the static app that serves
 * the pages (src/cli/dashboard.ts), and the client router's pure parts:
 * coded answers for bad and unknown input (also under random input), one
 * shared cached computation for the live feed, paging of the ledger, the
 * SPA fallback that leaves the tracker's own 404s alone, and the "not built"
 * text.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { base64Decode, utf8Decode } from '../../src/core/encoding.ts';
import { createDashboardApp, NOT_BUILT_TEXT } from '../../src/cli/dashboard.ts';
import { ENTRY_KINDS } from '../../src/ledger/entry.ts';
import { MemoryNonceStore } from '../../src/protocol/nonce-store.ts';
import { createTrackerApp } from '../../src/tracker/http/app.ts';
import { HISTORY_MS, BUCKET_MS, SwarmStats } from '../../src/tracker/stats.ts';
import type { SwarmSnapshot } from '../../src/tracker/stats.ts';
import type { Db } from '../../src/tracker/storage/db.ts';
import { matchRoute } from '../../src/web/routes.ts';
import { isPagePath } from '../../src/web/paths.ts';
import * as webTypes from '../../src/web/types.ts';
import { keyOf, startHarness } from '../tracker/harness.ts';
import type { Harness } from '../tracker/harness.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

async function get(h: Harness, path: string): Promise<{ status: number; body: unknown }> {
  const res = await h.app.request(`http://tracker.test${path}`);
  return { status: res.status, body: await res.json() };
}

describe('the dashboard API', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ suite: 'web_api' });
    await h.client(keyOf(10)).register('<script>alert(1)</script>', { threads: 1, memoryBytes: 1 }, '<b>t</b>');
    await h.client(keyOf(11)).register('two', { threads: 1, memoryBytes: 1 });
    // a registration enters the ledger with the identity's first work request (tracker/registry.ts, issue 25)
    for (const k of [10, 11]) await h.client(keyOf(k)).work();
    await h.service.flushLedger();
  });
  afterAll(async () => h?.close());

  it('GET /api/swarm: providers, rates, a full series, runs and the ledger', async () => {
    const { status, body } = await get(h, '/api/swarm');
    expect(status).toBe(200);
    const s = body as SwarmSnapshot;
    expect(s.providers).toEqual({ online: 2, registered: 2 });
    expect(s.ledger.size).toBe(2);
    expect(s.ledger.head).toBeNull(); // the harness signs no heads
    expect(s.series).toHaveLength(HISTORY_MS / BUCKET_MS);
    expect(s.lastMinute).toMatchObject({ windowMs: 60_000, issued: 0, verified: 0, rejected: 0, verifiedFlopsPerSecond: 0 });
    expect(s.runs).toEqual([]);
  });

  it('is one shared computation: concurrent and repeated reads within a second share one snapshot', async () => {
    let queries = 0;
    const counting: Db = {
      driver: h.db.driver,
      close: () => h.db.close(),
      transaction: (f) => h.db.transaction(f),
      query: (sql, params) => {
        queries++;
        return h.db.query(sql, params);
      },
    };
    const stats = new SwarmStats({ db: counting, clock: h.clock });
    const [a, b, c] = await Promise.all([stats.snapshot(), stats.snapshot(), stats.snapshot()]);
    expect(b).toBe(a);
    expect(c).toBe(a);
    const once = queries;
    h.clock.advance(500);
    expect(await stats.snapshot()).toBe(a);
    expect(queries).toBe(once);
    h.clock.advance(600);
    const d = await stats.snapshot();
    expect(d).not.toBe(a);
    expect(queries).toBeGreaterThan(once);
  });

  it('GET /api/ledger/entries: newest first, canonical bytes, filters and paging', async () => {
    const all = (await get(h, '/api/ledger/entries')).body as { entries: Array<{ index: number; leafInput: string; canonical: string }>; next: number | null };
    expect(all.entries.map((e) => e.index)).toEqual([1, 0]);
    expect(all.next).toBeNull();
    for (const e of all.entries) expect(utf8Decode(base64Decode(e.leafInput))).toBe(e.canonical);
    const page1 = (await get(h, '/api/ledger/entries?limit=1')).body as { entries: Array<{ index: number }>; next: number };
    expect(page1.entries.map((e) => e.index)).toEqual([1]);
    expect(page1.next).toBe(1);
    const page2 = (await get(h, `/api/ledger/entries?limit=1&before=${page1.next}`)).body as { entries: Array<{ index: number }>; next: number | null };
    expect(page2.entries.map((e) => e.index)).toEqual([0]);
    expect(page2.next).toBeNull();
    const mine = (await get(h, `/api/ledger/entries?identity=${keyOf(11).keyId}`)).body as { entries: Array<{ canonical: string }> };
    expect(mine.entries).toHaveLength(1);
    expect(JSON.parse(mine.entries[0]!.canonical)).toMatchObject({ kind: 'provider-registered', actor: keyOf(11).keyId });
    expect(((await get(h, '/api/ledger/entries?kind=verdict')).body as { entries: unknown[] }).entries).toEqual([]);
    expect((await get(h, '/api/ledger/entries/0')).status).toBe(200);
  });

  it('answers bad and unknown input with coded 4xx errors', async () => {
    const cases: Array<[string, number, string]> = [
      ['/api/runs/no-such-run/units', 404, 'TRACKER_NOT_FOUND'],
      ['/api/runs/x/units?round=-1', 400, 'TRACKER_BAD_REQUEST'],
      [`/api/providers/${'0'.repeat(64)}/replicas`, 404, 'TRACKER_NOT_FOUND'],
      ['/api/providers/XYZ/replicas', 400, 'TRACKER_BAD_REQUEST'],
      [`/api/providers/${keyOf(10).keyId}/replicas?limit=0`, 400, 'TRACKER_BAD_REQUEST'],
      ['/api/ledger/entries?kind=bogus', 400, 'TRACKER_BAD_REQUEST'],
      ['/api/ledger/entries?identity=abc', 400, 'TRACKER_BAD_REQUEST'],
      ['/api/ledger/entries?limit=1000', 400, 'TRACKER_BAD_REQUEST'],
      ['/api/ledger/entries?before=01', 400, 'TRACKER_BAD_REQUEST'],
      ['/api/ledger/entries/999', 404, 'LEDGER_NOT_FOUND'],
      ['/api/ledger/entries/-1', 400, 'TRACKER_BAD_REQUEST'],
    ];
    for (const [path, status, code] of cases) {
      const r = await get(h, path);
      expect([path, r.status, (r.body as { error: { code: string } }).error.code]).toEqual([path, status, code]);
    }
    const replicas = (await get(h, `/api/providers/${keyOf(10).keyId}/replicas`)).body;
    expect(replicas).toEqual({ provider: keyOf(10).keyId, replicas: [] });
  });

  it('never fails with a 5xx on random query strings and path segments', async () => {
    const text = fc.string({ maxLength: 40 }).map(encodeURIComponent);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('/api/ledger/entries?kind=', '/api/ledger/entries?identity=', '/api/ledger/entries?before=', '/api/ledger/entries?limit=', '/api/ledger/entries/', '/api/runs/r/units?round=', '/api/runs/', '/api/providers/'), text, async (prefix, value) => {
          const path = prefix.endsWith('/') ? `${prefix}${value}${prefix === '/api/runs/' ? '/units' : prefix === '/api/providers/' ? '/replicas' : ''}` : `${prefix}${value}`;
          const res = await h.app.request(`http://tracker.test${path}`);
          expect(res.status, path).toBeLessThan(500);
          // a refusal is a coded error; an answer is JSON too
          const body = (await res.json()) as { error?: { code?: unknown } };
          expect(res.status < 400 || /^[A-Z_]+$/.test(String(body.error?.code)), path).toBe(true);
        }),
      { numRuns: 150 },
    );
  });
});

describe('the static dashboard app (src/cli/dashboard.ts)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'swarm-web-static-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>t</title>');
    writeFileSync(join(dir, 'assets', 'main.js'), 'console.log(1)');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('answers the page paths with index.html under a same-origin CSP, and assets with their type', async () => {
    const app = createDashboardApp({ dir });
    for (const path of ['/', '/runs/a', '/leaderboard', '/providers/x', '/ledger', '/ledger/entry/3', '/chat']) {
      const res = await app.request(path);
      expect([path, res.status, res.headers.get('content-type')]).toEqual([path, 200, 'text/html; charset=utf-8']);
      expect(res.headers.get('content-security-policy')).toMatch(/default-src 'self'; script-src 'self'/);
    }
    const js = await app.request('/assets/main.js');
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await app.request('/assets/nope.js')).status).toBe(404);
    expect((await app.request('/assets/..%2Findex.html')).status).toBe(404);
    // another page path: the app, with 404 (it shows its not-found view)
    const other = await app.request('/no/such/page');
    expect(other.status).toBe(404);
    expect(await other.text()).toContain('<!doctype html>');
  });

  it('mounted in the tracker, leaves the tracker its own JSON 404s', async () => {
    const h = await startHarness({ suite: 'web_static' });
    try {
      const app = createTrackerApp({ service: h.service, clock: h.clock, runs: h.runs, nonces: new MemoryNonceStore({ clock: h.clock }), mount: [{ path: '/', app: createDashboardApp({ dir }) }] });
      const api = await app.request('http://t/api/nope');
      expect(api.status).toBe(404);
      expect(await api.json()).toMatchObject({ error: { code: 'TRACKER_NOT_FOUND' } });
      expect((await app.request('http://t/api/info')).status).toBe(200);
      expect((await app.request('http://t/runs/x')).headers.get('content-type')).toBe('text/html; charset=utf-8');
    } finally {
      await h.close();
    }
  });

  it('says how to build it when build/web is missing', async () => {
    const res = await createDashboardApp({ dir: join(dir, 'missing') }).request('/');
    expect(res.status).toBe(503);
    expect(await res.text()).toBe(NOT_BUILT_TEXT);
    expect(NOT_BUILT_TEXT).toMatch(/npm run build:web/);
  });
});

describe('the client side', () => {
  it('routes every page path, and anything else to not-found', () => {
    expect(matchRoute('/')).toEqual({ page: 'swarm' });
    expect(matchRoute('/runs/up-micro-1')).toEqual({ page: 'run', id: 'up-micro-1' });
    expect(matchRoute('/runs/a%20b')).toEqual({ page: 'run', id: 'a b' });
    expect(matchRoute('/leaderboard')).toEqual({ page: 'leaderboard' });
    expect(matchRoute('/providers/abc')).toEqual({ page: 'provider', id: 'abc' });
    expect(matchRoute('/ledger')).toEqual({ page: 'ledger' });
    expect(matchRoute('/ledger/entry/12')).toEqual({ page: 'entry', index: 12 });
    expect(matchRoute('/chat')).toEqual({ page: 'chat' });
    expect(matchRoute('/releases')).toEqual({ page: 'releases' });
    expect(matchRoute('/releases/sovereign-nano-v1')).toEqual({ page: 'release', name: 'sovereign-nano-v1' });
    for (const p of ['/ledger/entry/012', '/ledger/entry/x', '/runs/%E0%A4%A', '/runs/a/b', '/releases/a/card', '/nope']) expect(matchRoute(p)).toEqual({ page: 'not-found', path: p });
    expect([isPagePath('/runs/x'), isPagePath('/api/swarm'), isPagePath('/ledger/v1/get-sth'), isPagePath('/v1/models'), isPagePath('/assets/main.js'), isPagePath('/ledger')]).toEqual([true, false, false, false, false, true]);
  });

  it('uses the ledger entry kinds of src/ledger itself, not a copy', () => {
    expect(webTypes.ENTRY_KINDS).toBe(ENTRY_KINDS);
  });

  it('imports no node: module anywhere in src/web (it runs in a browser)', () => {
    const files: string[] = [];
    const walk = (d: string): void => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(d, e.name));
        else if (e.name.endsWith('.ts')) files.push(join(d, e.name));
      }
    };
    walk(join(ROOT, 'src', 'web'));
    expect(files.length).toBeGreaterThan(5);
    const offenders = files.filter((f) => /from\s+['"]node:|require\(\s*['"]node:/.test(readFileSync(f, 'utf8')));
    expect(offenders).toEqual([]);
  });
});
