/**
 * "Join from this tab" in a real browser (issue 18): Debian's Chromium
 * through playwright-core, against a real tracker (startTracker, the code
 * behind `swarm tracker` and `swarm up`, with the repository's CLA) and
 * real short DiLoCo runs (nano) with replication 2. Each browser context is
 * a new browser profile, so a new identity in IndexedDB.
 *
 * Checks:
 *  - a browser provider and a Node provider take the two replicas of every
 *    unit; their result hashes are equal and every unit is verified; the
 *    browser identity is on the leaderboard with credit and client kind
 *    `browser` (engine "Chromium N"), having signed the CLA from the page;
 *  - pause: no new unit is leased while paused; resume works again;
 *  - a browser whose results are tampered (one byte flipped by the worker's
 *    test-only switch) is outvoted: its replicas are invalid, the units are
 *    valid with the honest hash;
 *  - closing the page leaves its lease to expire, and the unit is reissued
 *    to someone else and verified;
 *  - bad input, through a hostile proxy in front of the tracker: garbage
 *    from the tracker, a blob whose bytes do not match its hash, a unit
 *    spec the browser cannot parse — each shows its code on the page, the
 *    latter two are reported to the tracker as failures (replica state
 *    `error`), and the tab never crashes or throws;
 *  - a unit over the tab's memory budget is refused before it starts
 *    (PROVIDER_OVER_BUDGET on the page, a failure at the tracker).
 * Screenshots at desktop and 375 px: test-artifacts/screenshots/join-*.png.
 *
 * Without /usr/bin/chromium the suite skips with that message; CI installs
 * the package and requires it (test/architecture/extended-suites.test.ts).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTracker } from '../../src/cli/tracker.ts';
import type { RunningTracker } from '../../src/cli/tracker.ts';
import { systemClock } from '../../src/core/clock.ts';
import { Prng } from '../../src/core/prng.ts';
import { keyPairFromSeed } from '../../src/ledger/keys.ts';
import { parseClaDocument } from '../../src/protocol/cla.ts';
import type { RunUnits } from '../../src/protocol/views.ts';
import { MemoryBlobCache } from '../../src/provider/blob-cache.ts';
import { acceptCla } from '../../src/provider/cla.ts';
import { TrackerClient } from '../../src/provider/client.ts';
import { ProviderLoop } from '../../src/provider/loop.ts';
import { createRefBackend } from '../../src/tensor/backend/ref.ts';
import { Engine } from '../../src/tensor/tensor.ts';
import { DILOCO_INNER } from '../../src/train/adamw.ts';
import { planDilocoRun } from '../../src/train/diloco/plan.ts';
import type { StartMessage } from '../../src/web/join/messages.ts';
import { refRunner } from '../helpers/runner.ts';
import { CHROMIUM, CHROMIUM_ARGS } from './chromium.ts';
import { api } from './helpers.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SHOTS = join(ROOT, 'test-artifacts', 'screenshots');
const TRAINER = keyPairFromSeed(new Uint8Array(32).fill(201));
const engine = new Engine(createRefBackend());

interface LeaderRow {
  providerId: string;
  name: string;
  credit: number;
  valid: number;
  invalid: number;
  client: { kind: string; engine: string } | null;
}
interface ReplicaRow {
  unit: string;
  run: string | null;
  state: string;
  verdict: string | null;
}

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `f` every 100 ms until it returns true; fails with `what` after `ms`. */
async function until(what: string, ms: number, f: () => Promise<boolean> | boolean): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (await f()) return;
    expect(Date.now(), `${what} (within ${ms} ms)`).toBeLessThan(end);
    await pause(100);
  }
}

describe.skipIf(!existsSync(CHROMIUM))(`the join page in Chromium (skipped when ${CHROMIUM} is missing: apt-get install chromium)`, () => {
  let t: RunningTracker;
  let browser: Browser;
  let home: string;
  const errors: string[] = [];
  const crashes: string[] = [];
  const nodeLoops: Array<{ loop: ProviderLoop; done: Promise<unknown> }> = [];
  let nodeSeed = 40;
  /**
   * The Node provider of the first run, which earns a record there: later
   * tests start it again beside fresh ones, because the Sybil rule (issue 25)
   * keeps a quorum of fresh identities only waiting while an established
   * provider (the first test's browser tab) was online within the lease.
   */
  const VETERAN_SEED = 39;

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'swarm-join-'));
    // the pages and workers as they are in src now, not whatever build/web holds
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-web.mjs'), '--out', join(home, 'web')], { stdio: 'inherit' });
    t = await startTracker({
      port: 0, host: '127.0.0.1', home, db: join(home, 'db'), webDir: join(home, 'web'),
      trainers: [TRAINER.keyId], registrationDifficulty: 8,
      cla: parseClaDocument(readFileSync(join(ROOT, 'CLA.md'))),
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    mkdirSync(SHOTS, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    for (const n of nodeLoops) n.loop.stop({ now: true });
    await Promise.allSettled(nodeLoops.map((n) => n.done));
    await browser?.close();
    await t?.close();
    if (home !== undefined) rmSync(home, { recursive: true, force: true });
  });

  const contexts: BrowserContext[] = [];
  afterEach(async () => {
    await stopNodeProviders();
    for (const c of contexts.splice(0)) await c.close().catch(() => undefined);
  });

  /** A nano DiLoCo run on the tracker, replication 2 (every unit has two replicas that must agree). */
  async function createRun(id: string, o: { rounds: number; innerSteps?: number; leaseMs?: number; preset?: 'nano' | 'micro'; batch?: number; seqLen?: number; keepOpt?: boolean }): Promise<void> {
    const plan = planDilocoRun(engine, {
      preset: o.preset ?? 'nano', seed: 3, slots: 2, innerSteps: o.innerSteps ?? 2, rounds: o.rounds, batch: o.batch ?? 2, seqLen: o.seqLen ?? 16,
      adamw: { ...DILOCO_INNER, lr: 3e-3 }, outer: { lr: 0.7, momentum: 0.9 }, aggregate: { kind: 'mean' },
      replication: 2, quorumFraction: 1, roundDeadlineMs: 3_600_000, leaseMs: o.leaseMs ?? 60_000, evalWindows: 2,
      ...(o.keepOpt === undefined ? {} : { keepOpt: o.keepOpt }),
    });
    const trainer = new TrackerClient({ baseUrl: t.url, key: TRAINER, clock: systemClock });
    for (const b of plan.blobs) await trainer.putBlob(b);
    await trainer.json('POST', '/api/runs', { id, spec: plan.spec });
  }

  /** An in-process Node provider (the ref runner: the bits every backend reproduces) that signs the CLA. */
  function startNodeProvider(name: string, seed = nodeSeed++): { id: string; loop: ProviderLoop } {
    const key = keyPairFromSeed(new Uint8Array(32).fill(seed));
    const client = new TrackerClient({ baseUrl: t.url, key, clock: systemClock, clientInfo: { kind: 'node', engine: `node ${process.versions.node}` } });
    const loop = new ProviderLoop({
      client, runner: refRunner, cache: new MemoryBlobCache(), clock: systemClock, rng: Prng.fromSeed(seed), name, threads: 1, memoryBytes: 1,
      sleep: (ms) => pause(Math.min(ms, 100)),
      afterRegister: async () => void (await acceptCla(client, systemClock)),
    });
    nodeLoops.push({ loop, done: loop.run().catch((e: unknown) => e) });
    return { id: key.keyId, loop };
  }

  async function stopNodeProviders(): Promise<void> {
    const all = nodeLoops.splice(0);
    for (const n of all) n.loop.stop({ now: true });
    await Promise.allSettled(all.map((n) => n.done));
  }

  /** A page in a fresh profile (its own IndexedDB, so its own identity), watched for errors and crashes. */
  async function newPage(base = t.url, path = '/join', width = 1280, o: { keep?: boolean } = {}): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport: { width, height: 900 } });
    if (o.keep !== true) contexts.push(context); // closed after the test
    const page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(`${path}: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`${path}: ${e.message}`));
    page.on('crash', () => crashes.push(path));
    await page.goto(base + path);
    return { context, page };
  }

  /** Ticks consent (and the CLA), sets the memory, presses Join; returns the identity the page shows. */
  async function pressJoin(page: Page, o: { memoryMb?: number } = {}): Promise<string> {
    await page.locator('input[name=consent]').check();
    await page.locator('input[name=cla]').check();
    if (o.memoryMb !== undefined) await page.locator('select[name=memory]').selectOption(String(o.memoryMb));
    await page.locator('select[name=threads]').selectOption('1');
    await page.getByRole('button', { name: 'Join' }).click();
    const id = (await page.getByTestId('provider-id').textContent())!;
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    return id;
  }

  const units = (run: string): Promise<RunUnits> => api<RunUnits>(t, `/api/runs/${run}/units`);
  /** A provider's replicas; none for a key the tracker does not know yet (a tab still registering). */
  const replicasOf = async (id: string): Promise<ReplicaRow[]> => {
    const res = await fetch(`${t.url}/api/providers/${id}/replicas?limit=200`);
    if (res.status === 404) return [];
    expect(res.status).toBe(200);
    return ((await res.json()) as { replicas: ReplicaRow[] }).replicas;
  };
  const runStatus = async (run: string): Promise<string> => (await api<{ progress: { status: string } }>(t, `/api/runs/${run}`)).progress.status;
  const leader = async (id: string): Promise<LeaderRow | undefined> => (await api<{ providers: LeaderRow[] }>(t, '/api/leaderboard')).providers.find((p) => p.providerId === id);

  it('shows what the tab will do, the CLA, and keeps Join disabled until consent and CLA are ticked; screenshots', async () => {
    for (const [width, tag] of [[1280, 'desktop'], [375, 'mobile']] as const) {
      const { context, page } = await newPage(t.url, '/join', width);
      await page.getByRole('heading', { name: 'What this tab will do' }).waitFor();
      expect(await page.evaluate('crossOriginIsolated'), 'the page is cross-origin isolated (shared wasm memory)').toBe(true);
      await expect.poll(() => page.getByTestId('cla-text').textContent()).toContain('Version: cla-v1');
      const joinButton = page.getByRole('button', { name: 'Join' });
      expect(await joinButton.isDisabled()).toBe(true);
      await page.locator('input[name=consent]').check();
      expect(await joinButton.isDisabled(), 'consent alone is not enough while the tracker has a CLA').toBe(true);
      await page.locator('input[name=cla]').check();
      expect(await joinButton.isDisabled()).toBe(false);
      await page.screenshot({ path: join(SHOTS, `join-${tag}.png`), fullPage: true });
      expect(await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'), `no sideways scroll at ${width}px`).toBeLessThanOrEqual(0);
      await context.close();
    }
  });

  let browserId = '';
  let shared: { context: BrowserContext; page: Page };

  it('a browser and a Node provider take the two replicas of every unit: equal hashes, all verified; the browser is on the leaderboard with credit and client kind', async () => {
    await createRun('same-bits', { rounds: 2 });
    shared = await newPage(t.url, '/join', 1280, { keep: true }); // the pause test goes on with this tab
    browserId = await pressJoin(shared.page);
    const node = startNodeProvider('node-1', VETERAN_SEED);
    await until('every unit of the run is verified', 60_000, async () => {
      const u = await units('same-bits');
      return (await runStatus('same-bits')) === 'finished' && u.units.every((x) => x.status === 'valid');
    });
    const u = await units('same-bits');
    expect(u.units.length, 'train and eval units').toBeGreaterThanOrEqual(4);
    for (const unit of u.units) {
      expect(unit.status, unit.id).toBe('valid');
      const byProvider = new Map(unit.replicas.map((r) => [r.provider, r]));
      expect([...byProvider.keys()].sort(), `${unit.id}: one replica each`).toEqual([browserId, node.id].sort());
      const b = byProvider.get(browserId)!;
      const n = byProvider.get(node.id)!;
      expect(b.resultHash, `${unit.id}: the browser's hash equals the Node provider's`).toBe(n.resultHash);
      expect(b.resultHash).toBe(unit.canonicalHash);
      expect([b.verdict, n.verdict]).toEqual(['valid', 'valid']);
    }
    await until('the page shows the credit', 10_000, async () => (await shared.page.locator('[data-stat=credit]').textContent()) !== '—');
    const row = await leader(browserId);
    expect(row?.credit).toBeGreaterThan(0);
    expect(row?.valid).toBe(u.units.length);
    expect(row?.client?.kind).toBe('browser');
    expect(row?.client?.engine).toMatch(/^Chromium \d+$/);
    expect((await api<{ client: { kind: string } | null }>(t, `/api/providers/${browserId}`)).client?.kind).toBe('browser');
    expect((await leader(node.id))?.client?.kind).toBe('node');
    const signed = await api<{ entries: unknown[] }>(t, `/api/ledger/entries?kind=cla-signed&identity=${browserId}`);
    expect(signed.entries, 'the browser signed the CLA from the page: one cla-signed entry').toHaveLength(1);
    await shared.page.screenshot({ path: join(SHOTS, 'join-working-desktop.png'), fullPage: true });
    await stopNodeProviders();
  }, 150_000);

  it('pause: no unit is leased while paused; resume leases again', async () => {
    // keepOpt false: the AdamW states travel through the tracker, so no slot waits for the
    // paused tab to hand over a state it kept (a holder that stops asking for work is
    // waited for up to a lease, as any provider that goes away)
    await createRun('pause', { rounds: 3, keepOpt: false });
    const p1 = startNodeProvider('node-1', VETERAN_SEED);
    const p2 = startNodeProvider('node-p2');
    const mine = async (): Promise<number> => (await replicasOf(browserId)).filter((r) => r.run === 'pause').length;
    const others = async (): Promise<number> => (await Promise.all([p1.id, p2.id].map(replicasOf))).flat().filter((r) => r.run === 'pause' && r.verdict === 'valid').length;
    await until('the browser takes a unit of the new run', 30_000, async () => (await mine()) >= 1);
    await shared.page.getByRole('button', { name: 'Pause' }).click();
    await until('the page says paused', 5_000, async () => /paused/.test((await shared.page.getByTestId('state').textContent()) ?? ''));
    // the unit in hand may finish; after that the worker holds
    await until('the worker holds', 15_000, async () => /paused/.test((await shared.page.getByTestId('worker-0').textContent()) ?? ''));
    const atPause = await mine();
    const othersAtPause = await others();
    await until('the Node providers return four more results meanwhile', 60_000, async () => (await others()) >= othersAtPause + 4);
    expect(await mine(), 'no unit leased while paused').toBe(atPause);
    // resumed beside one Node provider only, so every unit of the next run needs the tab too
    await stopNodeProviders();
    await shared.page.getByRole('button', { name: 'Resume' }).click();
    // and the tab goes to the background: at most HIDDEN_MAX_CPU % of the time, so it rests after a unit
    await shared.page.evaluate(() => {
      const d = (globalThis as unknown as { document: { dispatchEvent(e: unknown): void } }).document;
      Object.defineProperty(d, 'visibilityState', { value: 'hidden', configurable: true });
      d.dispatchEvent(new Event('visibilitychange'));
    });
    await until('the page says it is hidden and throttled', 5_000, async () => /hidden tab: at most 25 %/.test((await shared.page.getByTestId('state').textContent()) ?? ''));
    startNodeProvider('node-1', VETERAN_SEED);
    await createRun('resumed', { rounds: 1 });
    await until('resumed, the browser takes units again', 30_000, async () => (await replicasOf(browserId)).some((r) => r.run === 'resumed'));
    await until('hidden, the worker rests after its unit', 30_000, async () => /resting/.test((await shared.page.getByTestId('worker-0').textContent()) ?? ''));
    await until('the run finishes', 60_000, async () => (await runStatus('resumed')) === 'finished');
    await shared.context.close();
  }, 150_000);

  it('a browser whose results are tampered is outvoted: its replicas are invalid, the units valid with the honest hash', async () => {
    await createRun('tamper', { rounds: 1 });
    const { context, page } = await newPage();
    // The worker bundle's test-only switch (messages.ts tamperForTest), started by hand as the page would.
    const seed = Array.from({ length: 32 }, (_, i) => 100 + i);
    const tamperId = keyPairFromSeed(new Uint8Array(seed)).keyId;
    const start: Omit<StartMessage, 'seed'> & { seed: number[] } = {
      type: 'start', index: 0, trackerUrl: t.url, seed, name: 'cheater-tab', engine: 'Chromium test', memoryMb: 256,
      unitWorkerUrl: `${t.url}/join/assets/unit-worker.js`, acceptCla: true, maxCpu: 100, paused: false, rngSeed: 1, tamperForTest: true,
    };
    await page.evaluate((m) => {
      // (in the page: Worker is the browser's; this file is type-checked with Node's types)
      const g = globalThis as unknown as { Worker: new (url: string, o: object) => { postMessage(m: unknown): void }; keep?: unknown };
      const w = new g.Worker('/join/assets/loop-worker.js', { type: 'module' });
      w.postMessage({ ...m, seed: new Uint8Array(m.seed) });
      g.keep = w;
    }, start);
    await until('the tampering browser takes a unit', 30_000, async () => (await replicasOf(tamperId)).length >= 1);
    startNodeProvider('node-1', VETERAN_SEED);
    startNodeProvider('honest-2');
    await until('the run finishes', 60_000, async () => (await runStatus('tamper')) === 'finished');
    const mine = (await replicasOf(tamperId)).filter((r) => r.run === 'tamper' && r.verdict !== null);
    expect(mine.length, 'the tampering browser returned results that were judged').toBeGreaterThanOrEqual(1);
    expect(mine.map((r) => r.verdict), 'every tampered result is invalid').toEqual(mine.map(() => 'invalid'));
    const u = await units('tamper');
    for (const r of mine) {
      const unit = u.units.find((x) => x.id === r.unit)!;
      expect(unit.status).toBe('valid');
      expect(unit.replicas.filter((x) => x.verdict === 'valid').every((x) => x.provider !== tamperId && x.resultHash === unit.canonicalHash)).toBe(true);
    }
    expect((await leader(tamperId))?.credit ?? 0, 'no credit for tampered results').toBe(0);
    await context.close();
    await stopNodeProviders();
  }, 150_000);

  it('closing the page leaves its lease to expire; the unit is reissued and verified', async () => {
    // longer units (40 inner steps) and a short lease, so the tab is closed mid-unit and the lease runs out quickly
    await createRun('closed', { rounds: 1, innerSteps: 40, leaseMs: 2_000 });
    const { context, page } = await newPage();
    const id = await pressJoin(page);
    let held: ReplicaRow | undefined;
    await until('the tab computes a unit of the run', 30_000, async () => {
      held = (await replicasOf(id)).find((r) => r.run === 'closed' && r.state === 'in-progress');
      return held !== undefined && /computing/.test((await page.getByTestId('worker-0').textContent()) ?? '');
    });
    await context.close();
    startNodeProvider('node-1', VETERAN_SEED);
    startNodeProvider('after-2');
    await until('the run finishes', 90_000, async () => (await runStatus('closed')) === 'finished');
    const after = (await replicasOf(id)).find((r) => r.unit === held!.unit)!;
    expect(after.state, 'the closed tab\'s lease expired').toBe('timed-out');
    const unit = (await units('closed')).units.find((x) => x.id === held!.unit)!;
    expect(unit.status).toBe('valid');
    expect(unit.replicas.filter((r) => r.verdict === 'valid').map((r) => r.provider)).not.toContain(id);
    await stopNodeProviders();
  }, 150_000);

  it('a unit over the tab\'s memory budget is refused before it starts: PROVIDER_OVER_BUDGET on the page, a failure at the tracker', async () => {
    // micro at 8 × 128: about 500 MiB by train/work/memory.ts, over the page's smallest choice (256 MiB)
    await createRun('too-big', { rounds: 1, preset: 'micro', batch: 8, seqLen: 128, innerSteps: 1 });
    const { context, page } = await newPage();
    const id = await pressJoin(page, { memoryMb: 256 });
    await until('the page shows the refusal', 30_000, async () => ((await page.getByTestId('worker-0').textContent()) ?? '').includes('PROVIDER_OVER_BUDGET'));
    await until('the tracker records the failure', 10_000, async () => (await replicasOf(id)).some((r) => r.run === 'too-big' && r.state === 'error'));
    expect(await page.getByTestId('worker-0').textContent()).toMatch(/this train unit needs about \d+ MiB; this tab lends 256 MiB/);
    await context.close();
  }, 150_000);

  describe('bad input through a hostile proxy in front of the tracker', () => {
    let proxy: Server;
    let proxyUrl = '';
    let mode: 'garbage' | 'bad-blob' | 'bad-spec' = 'garbage';

    beforeAll(async () => {
      const app = new Hono();
      app.all('*', async (c) => {
        const url = new URL(c.req.url);
        if (mode === 'garbage' && url.pathname === '/api/info') return c.body('<html>definitely not the tracker</html>', 200, { 'content-type': 'application/json' });
        const init: RequestInit = { method: c.req.method, headers: c.req.raw.headers };
        if (c.req.method !== 'GET' && c.req.method !== 'HEAD') init.body = new Uint8Array(await c.req.arrayBuffer());
        const res = await fetch(t.url + url.pathname + url.search, init);
        const headers = new Headers(res.headers);
        headers.delete('content-length');
        headers.delete('content-encoding');
        let body = new Uint8Array(await res.arrayBuffer());
        if (mode === 'bad-blob' && url.pathname.startsWith('/api/blobs/') && c.req.method === 'GET' && body.length > 0) {
          body = body.slice();
          body[0] = body[0]! ^ 1;
        }
        if (mode === 'bad-spec' && url.pathname === '/api/scheduler' && res.ok) {
          const j = JSON.parse(new TextDecoder().decode(body)) as { units: Array<{ spec: unknown }> };
          for (const u of j.units) u.spec = { kind: 'train', v: 99 };
          body = new TextEncoder().encode(JSON.stringify(j));
        }
        return new Response(body, { status: res.status, headers });
      });
      await new Promise<void>((resolve) => {
        proxy = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
          proxyUrl = `http://127.0.0.1:${info.port}`;
          resolve();
        }) as Server;
      });
    });

    afterAll(async () => {
      await new Promise((r) => proxy?.close(r));
    });

    it('garbage from the tracker: the page shows the error code, nothing crashes', async () => {
      mode = 'garbage';
      const { context, page } = await newPage(proxyUrl);
      await pressJoin(page);
      await until('the page names the problem', 20_000, async () => /[A-Z]+_[A-Z_]+/.test((await page.locator('main').textContent()) ?? ''));
      expect(await page.getByTestId('ended').textContent()).toMatch(/^TRACKER_BAD_RESPONSE: the answer to \/api\/info is not JSON/);
      expect(await page.getByTestId('worker-0').textContent(), 'the thread\'s row says it stopped').toMatch(/^1stopped/);
      await page.screenshot({ path: join(SHOTS, 'join-error-desktop.png'), fullPage: true });
      await context.close();
    });

    it.each([
      ['bad-blob', 'PROVIDER_BAD_BLOB'],
      ['bad-spec', 'WORK_BAD_SPEC'],
    ] as const)('%s: the page shows %s and the tracker gets the failure', async (m, code) => {
      mode = m;
      await createRun(`hostile-${m}`, { rounds: 1 });
      const { context, page } = await newPage(proxyUrl);
      const id = await pressJoin(page);
      await until(`the page shows ${code}`, 30_000, async () => ((await page.getByTestId('worker-0').textContent()) ?? '').includes(code));
      await until('the tracker records the failure', 10_000, async () => (await replicasOf(id)).some((r) => r.run === `hostile-${m}` && r.state === 'error'));
      expect((await replicasOf(id)).filter((r) => r.run === `hostile-${m}` && r.verdict === 'valid'), 'nothing of it counted').toEqual([]);
      await context.close();
    }, 90_000);
  });


  it('no page threw, logged an error or crashed in any of the above', () => {
    expect(errors).toEqual([]);
    expect(crashes).toEqual([]);
  });
});
