/**
 * The dashboard in a real browser (issue 17): Debian's Chromium through
 * playwright-core, against a real tracker (startTracker, the code behind
 * `swarm tracker` and `swarm up`, on a real port) after a short real DiLoCo
 * run trained by two in-process providers over HTTP, one of them named
 * `<script>alert(1)</script>` with a team of markup. The gateway of
 * test/gateway/tiny-model.ts is mounted at /v1 as `swarm up` mounts its own.
 *
 * Checks: every page renders without console errors and shows the API's
 * numbers (the loss on the page equals /api/runs/:id's); the loss chart has
 * one point per finished round; the ledger's "Verify" turns green for a real
 * entry and red for a tampered proof (intercepted with page.route); names
 * and teams are shown as text, never run; unknown things give a not-found
 * view; chat streams a reply. Screenshots of each page at desktop and 375 px
 * go to test-artifacts/screenshots/ (README "Dashboard").
 *
 * Without /usr/bin/chromium the suite skips with that message; CI installs
 * the package and requires it (test/architecture/extended-suites.test.ts).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { Hono } from 'hono';
import type { Browser, Locator, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.ts';
import { Prng } from '../../src/core/prng.ts';
import { startTracker } from '../../src/cli/tracker.ts';
import type { RunningTracker } from '../../src/cli/tracker.ts';
import { createGatewayApp } from '../../src/gateway/app.ts';
import { keyPairFromSeed } from '../../src/ledger/keys.ts';
import { MemoryBlobCache } from '../../src/provider/blob-cache.ts';
import { TrackerClient } from '../../src/provider/client.ts';
import { ProviderLoop } from '../../src/provider/loop.ts';
import { createRefBackend } from '../../src/tensor/backend/ref.ts';
import { Engine } from '../../src/tensor/tensor.ts';
import { DILOCO_INNER } from '../../src/train/adamw.ts';
import { planDilocoRun } from '../../src/train/diloco/plan.ts';
import { fmtCredit } from '../../src/web/format.ts';
import { tinyModel } from '../gateway/tiny-model.ts';
import { CHROMIUM, CHROMIUM_ARGS } from './chromium.ts';
import { refRunner } from '../helpers/runner.ts';
import { api } from './helpers.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SHOTS = join(ROOT, 'test-artifacts', 'screenshots');
const EVIL_NAME = '<script>alert(1)</script>';
const EVIL_TEAM = '<b>bold</b><img src=x onerror="alert(2)">';
const RUN = 'web-run';
const ROUNDS = 3;

interface RunJson {
  spec: { rounds: number; entropyFloor: number | null };
  progress: { status: string; history: Array<{ round: number; trainLoss: number | null; checkpoint: string }>; evalLoss: Record<string, number> };
}

const engine = new Engine(createRefBackend());


/** A short real run: nano, 2 slots × 2 inner steps × ROUNDS rounds, two providers over HTTP. */
async function train(t: RunningTracker): Promise<void> {
  const plan = planDilocoRun(engine, {
    preset: 'nano', seed: 5, slots: 2, innerSteps: 2, rounds: ROUNDS, batch: 2, seqLen: 16,
    adamw: { ...DILOCO_INNER, lr: 3e-3 }, outer: { lr: 0.7, momentum: 0.9 }, aggregate: { kind: 'mean' },
    replication: 1, quorumFraction: 1, roundDeadlineMs: 3_600_000, leaseMs: 60_000, evalWindows: 4,
  });
  const trainer = new TrackerClient({ baseUrl: t.url, key: keyPairFromSeed(new Uint8Array(32).fill(201)), clock: systemClock });
  for (const b of plan.blobs) await trainer.putBlob(b);
  await trainer.json('POST', '/api/runs', { id: RUN, spec: plan.spec });
  const loops = [
    { name: EVIL_NAME, team: EVIL_TEAM },
    { name: 'honest-2', team: 'plain team' },
  ].map((who, i) => new ProviderLoop({
    client: new TrackerClient({ baseUrl: t.url, key: keyPairFromSeed(new Uint8Array(32).fill(10 + i)), clock: systemClock }),
    runner: refRunner,
    cache: new MemoryBlobCache(),
    clock: systemClock,
    rng: Prng.fromSeed(i),
    sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 50))),
    ...who,
    threads: 1,
    memoryBytes: 1,
  }));
  const running = loops.map((l) => l.run());
  try {
    for (let i = 0; ; i++) {
      const v = await api<RunJson>(t, `/api/runs/${RUN}`);
      if (v.progress.status === 'finished' && v.progress.evalLoss[String(ROUNDS)] !== undefined) break;
      expect(['training', 'finished'], 'the run trains').toContain(v.progress.status);
      expect(i, 'the run finishes within 45 s').toBeLessThan(450);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    for (const l of loops) l.stop();
    await Promise.all(running);
  }
  // every entry under a signed head (the tracker signs at least once a second)
  for (let i = 0; ; i++) {
    const [sth, swarm] = await Promise.all([api<{ tree_size: number }>(t, '/ledger/v1/get-sth'), api<{ ledger: { size: number } }>(t, '/api/swarm')]);
    if (sth.tree_size === swarm.ledger.size) break;
    expect(i, 'a head covers the log within 10 s').toBeLessThan(100);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(!existsSync(CHROMIUM))(`the dashboard in Chromium (skipped when ${CHROMIUM} is missing: apt-get install chromium)`, () => {
  let t: RunningTracker;
  let browser: Browser;
  let home: string;
  const errors: string[] = [];
  const dialogs: string[] = [];

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'swarm-web-'));
    // the pages as they are in src/web now, not whatever build/web holds
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-web.mjs'), '--out', join(home, 'web')], { stdio: 'inherit' });
    const gateway = createGatewayApp([tinyModel('swarm-nano')], { queue: { concurrency: 1, maxWaiting: 4 } });
    const v1 = new Hono();
    v1.all('*', (c) => gateway.fetch(c.req.raw));
    t = await startTracker({
      port: 0, host: '127.0.0.1', home, db: join(home, 'db'), webDir: join(home, 'web'),
      trainers: [keyPairFromSeed(new Uint8Array(32).fill(201)).keyId],
      mount: [{ path: '/v1', app: v1 }],
    });
    await train(t);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    mkdirSync(SHOTS, { recursive: true });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    if (home !== undefined) rmSync(home, { recursive: true, force: true });
  });

  /** A page at `width`, collecting console errors, uncaught exceptions and dialogs (an alert() would be an XSS). */
  async function open(path: string, width = 1280): Promise<Page> {
    const page = await browser.newPage({ viewport: { width, height: 900 } });
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`${path}: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`${path}: ${e.message}`));
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(t.url + path);
    return page;
  }

  /** One page per width, reused for every screenshot (a new page per shot costs more than the shot). */
  const shooters = new Map<number, Page>();
  async function shoot(path: string, name: string, ready: string): Promise<void> {
    for (const [width, tag] of [[1280, 'desktop'], [375, 'mobile']] as const) {
      let page = shooters.get(width);
      if (page === undefined) {
        page = await open(path, width);
        shooters.set(width, page);
      } else {
        await page.goto(t.url + path);
      }
      await page.locator(ready).first().waitFor();
      await page.waitForTimeout(150); // charts draw after layout
      await page.screenshot({ path: join(SHOTS, `${name}-${tag}.png`), fullPage: true });
      // nothing wider than the viewport at 375 px (tables scroll inside their own box)
      const overflow = await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
      expect(overflow, `${name} at ${width}px scrolls sideways`).toBeLessThanOrEqual(0);
    }
  }

  const text = async (page: Page | Locator, selector: string): Promise<string> => (await page.locator(selector).first().innerText()).trim();

  it('Swarm: the live numbers of /api/swarm, each run and the signed head', async () => {
    const page = await open('/');
    await page.locator('[data-stat="ledger-size"]').waitFor();
    const s = await api<{ ledger: { size: number; head: { tree_size: number } }; runs: Array<{ id: string; evalLoss: number; roundsDone: number }> }>(t, '/api/swarm');
    expect(await text(page, '[data-stat="ledger-size"]')).toBe(s.ledger.size.toLocaleString('en-US'));
    expect(await text(page, '[data-k="tree-size"]')).toBe(s.ledger.head.tree_size.toLocaleString('en-US'));
    const run = s.runs.find((r) => r.id === RUN)!;
    expect(await text(page, `[data-run="${RUN}"] [data-k="eval-loss"]`)).toContain(run.evalLoss.toFixed(3));
    expect(await text(page, `[data-run="${RUN}"] [data-k="round"]`)).toBe(`${ROUNDS} / ${ROUNDS} done`);
    expect(Number(await text(page, '[data-stat="verified-per-minute"]'))).toBeGreaterThan(0);
    // a link, followed on the client, opens the run page
    await page.locator(`a[href="/runs/${RUN}"]`).click();
    await page.locator('[data-stat="eval-loss"]').waitFor();
    expect(page.url()).toBe(`${t.url}/runs/${RUN}`);
    await page.close();
    await shoot('/', 'swarm', '[data-stat="ledger-size"]');
  });

  it('Run: the loss equals the API, one chart point per finished round, checkpoints download', async () => {
    const v = await api<RunJson>(t, `/api/runs/${RUN}`);
    const page = await open(`/runs/${RUN}`);
    await page.locator('[data-stat="eval-loss"]').waitFor();
    expect(await text(page, '[data-stat="eval-loss"]')).toBe(v.progress.evalLoss[String(ROUNDS)]!.toFixed(3));
    expect(await text(page, '[data-stat="entropy-floor"]')).toBe(v.spec.entropyFloor === null ? '—' : v.spec.entropyFloor.toFixed(3));
    expect(await text(page, '[data-stat="rounds-done"]')).toBe(`${ROUNDS} / ${ROUNDS}`);
    expect(await page.locator('.chart-box').getAttribute('data-points')).toBe(String(v.progress.history.length));
    expect(v.progress.history).toHaveLength(ROUNDS);
    for (const r of v.progress.history) {
      const row = `tr[data-round="${r.round}"]`;
      expect(await text(page, `${row} [data-k="train-loss"]`)).toBe(r.trainLoss!.toFixed(3));
      expect(await text(page, `${row} [data-k="eval-loss"]`)).toBe(v.progress.evalLoss[String(r.round + 1)]!.toFixed(3));
      const href = await page.locator(`${row} a[download]`).getAttribute('href');
      expect(href).toBe(`/api/blobs/${r.checkpoint}`);
    }
    const blob = await fetch(`${t.url}/api/blobs/${v.progress.history[0]!.checkpoint}`);
    expect(blob.status).toBe(200);
    // the units of the newest round, each with its replicas' verdicts
    const units = await api<{ units: Array<{ id: string; replicas: Array<{ verdict: string | null }> }> }>(t, `/api/runs/${RUN}/units`);
    await page.locator('tr[data-unit]').first().waitFor();
    expect(await page.locator('tr[data-unit]').count()).toBe(units.units.length);
    expect(units.units).toHaveLength(ROUNDS * 3 + 1); // 2 slots + 1 eval per round, and the eval of the last θ
    const valid = units.units.reduce((a, u) => a + u.replicas.filter((x) => x.verdict === 'valid').length, 0);
    expect(await page.locator('tr[data-unit] .replicas .badge-good', { hasText: 'valid' }).count()).toBe(valid);
    await page.close();
    await shoot(`/runs/${RUN}`, 'run', '[data-stat="eval-loss"]');
  });

  it('Leaderboard and provider: the API numbers, markup in names and teams shown as text', async () => {
    const lb = await api<{ providers: Array<{ providerId: string; name: string; credit: number; valid: number }> }>(t, '/api/leaderboard');
    const page = await open('/leaderboard');
    await page.locator('tr[data-provider]').first().waitFor();
    for (const p of lb.providers) {
      expect(await text(page, `tr[data-provider="${p.providerId}"] [data-k="credit"]`)).toBe(fmtCredit(p.credit));
      expect(await text(page, `tr[data-provider="${p.providerId}"] [data-k="valid"]`)).toBe(String(p.valid));
    }
    expect(await page.getByText(EVIL_NAME, { exact: true }).count()).toBeGreaterThan(0);
    expect(await page.getByText(EVIL_TEAM, { exact: true }).count()).toBeGreaterThan(0);
    expect(await page.locator('main script, main b, main img').count()).toBe(0);
    await page.getByRole('link', { name: EVIL_NAME }).click();
    await page.locator('[data-stat="credit"]').waitFor();
    const evil = lb.providers.find((p) => p.name === EVIL_NAME)!;
    expect(page.url()).toBe(`${t.url}/providers/${evil.providerId}`);
    expect(await text(page, 'h1')).toBe(`Provider ${EVIL_NAME}`);
    expect(await text(page, '[data-stat="credit"]')).toBe(fmtCredit(evil.credit));
    await page.locator('main table tbody tr').first().waitFor();
    expect(await page.locator('main script, main b, main img').count()).toBe(0);
    expect(dialogs).toEqual([]);
    await page.close();
    await shoot('/leaderboard', 'leaderboard', 'tr[data-provider]');
    await shoot(`/providers/${evil.providerId}`, 'provider', '[data-stat="credit"]');
  });

  it('Ledger: verify is green for a real entry, red for a tampered proof; filters; consistency', async () => {
    const page = await open('/ledger');
    const first = page.locator('article.entry').first();
    await first.waitFor();
    await first.getByRole('button', { name: /Verify/ }).click();
    await expect.poll(() => first.locator('[data-verify]').getAttribute('data-verify')).toBe('ok');
    expect(await first.locator('.step-bad').count()).toBe(0);

    // the same check against a proof the test tampers with on its way to the page
    await page.route('**/ledger/v1/get-proof-by-hash*', async (route) => {
      const res = await route.fetch();
      const proof = (await res.json()) as { leaf_index: number; audit_path: string[] };
      const p0 = proof.audit_path[0]!;
      proof.audit_path[0] = (p0[0] === 'A' ? 'B' : 'A') + p0.slice(1);
      await route.fulfill({ response: res, json: proof });
    });
    const second = page.locator('article.entry').nth(1);
    await second.getByRole('button', { name: /Verify/ }).click();
    await expect.poll(() => second.locator('[data-verify]').getAttribute('data-verify')).toBe('bad');
    expect(await text(second, '.verify')).toMatch(/another root/);
    await first.screenshot({ path: join(SHOTS, 'ledger-verify-green.png') });
    await second.screenshot({ path: join(SHOTS, 'ledger-verify-red.png') });
    await page.unroute('**/ledger/v1/get-proof-by-hash*');

    await page.getByRole('button', { name: 'Check consistency' }).click();
    await expect.poll(() => page.locator('.panel [data-verify]').getAttribute('data-verify')).toBe('ok');

    // filter by kind, through the labelled form
    await page.getByLabel('Kind').selectOption('verdict');
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect.poll(() => page.url()).toBe(`${t.url}/ledger?kind=verdict`);
    await page.locator('article.entry').first().waitFor();
    const kinds = await page.locator('article.entry .entry-head .badge').allInnerTexts();
    expect(kinds.length).toBeGreaterThan(0);
    expect(new Set(kinds)).toEqual(new Set(['verdict']));
    await page.close();
    await shoot('/ledger', 'ledger', 'article.entry');
  });

  it('Unknown run, provider, entry and page: a clear not-found view', async () => {
    const page = await open('/no/such/page');
    for (const path of ['/no/such/page', `/runs/no-such-run`, `/providers/${'0'.repeat(64)}`, '/providers/not-a-key', '/ledger/entry/999999']) {
      if (path !== '/no/such/page') await page.goto(t.url + path);
      await page.locator('h1', { hasText: 'Not found' }).waitFor();
      expect(await text(page, '.not-found')).toMatch(/There is no (run|provider|ledger entry|page)/);
    }
    await page.close();
    await shoot('/runs/no-such-run', 'not-found', '.not-found');
    // the API's 404s are the expected answers here, not page errors
    errors.splice(0, errors.length, ...errors.filter((e) => !/Failed to load resource: the server responded with a status of (404|403|400)/.test(e)));
  });

  it('Chat: streams a reply from the gateway, with the model named', async () => {
    const page = await open('/chat');
    await page.getByLabel('Message').fill('The farmer');
    await page.getByLabel('Max tokens').fill('12');
    await page.getByRole('button', { name: 'Send' }).click();
    const reply = page.locator('.msg-assistant .msg-text');
    await expect.poll(async () => (await reply.innerText()).length, { timeout: 20_000 }).toBeGreaterThan(0);
    await page.getByRole('button', { name: 'Send' }).waitFor({ state: 'visible' });
    await expect.poll(() => page.getByRole('button', { name: 'Send' }).isEnabled(), { timeout: 20_000 }).toBe(true);
    expect(await text(page, '.msg-assistant .msg-who')).toBe('Model swarm-nano');
    await page.screenshot({ path: join(SHOTS, 'chat-reply-desktop.png'), fullPage: true });
    await page.close();
    await shoot('/chat', 'chat', '.chat-form');
  });

  it('no page logged a console error or opened a dialog', () => {
    expect(errors).toEqual([]);
    expect(dialogs).toEqual([]);
  });
});
