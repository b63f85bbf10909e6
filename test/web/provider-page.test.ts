/**
 * The provider's own page in a real browser (issue 17): Debian's Chromium
 * through playwright-core, against the page `swarm provide` serves
 * (startProviderUi, on a real port of 127.0.0.1) for a real provider loop
 * working for an in-process tracker (test/tracker/harness.ts). The test
 * opens the address with its token, sees the unit in hand and its
 * progress, presses Pause (the state changes; the unit in hand finishes;
 * no unit is leased while paused), edits max CPU and the hours (in force in
 * the loop at once), resumes (units are leased again), and opens the page
 * without the token (it says where the address is). Screenshots at desktop
 * and 375 px go to test-artifacts/screenshots/provider-page-*.png.
 *
 * Without /usr/bin/chromium the suite skips with that message.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProviderUi } from '../../src/cli/provider-ui.ts';
import type { RunningProviderUi } from '../../src/cli/provider-ui.ts';
import { Prng } from '../../src/core/prng.ts';
import { sleep } from '../../src/core/sleep.ts';
import { MemoryBlobCache } from '../../src/provider/blob-cache.ts';
import { ProviderLoop } from '../../src/provider/loop.ts';
import type { UnitRunner } from '../../src/provider/loop.ts';
import { createRefBackend } from '../../src/tensor/backend/ref.ts';
import { Engine } from '../../src/tensor/tensor.ts';
import { runUnit } from '../../src/train/work/run-unit.ts';
import { keyOf, nanoEvalUnit, startHarness } from '../tracker/harness.ts';
import type { Harness } from '../tracker/harness.ts';
import { CHROMIUM, CHROMIUM_ARGS } from './chromium.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SHOTS = join(ROOT, 'test-artifacts', 'screenshots');
const engine = new Engine(createRefBackend());

describe.skipIf(!existsSync(CHROMIUM))(`the provider page in Chromium (skipped when ${CHROMIUM} is missing: apt-get install chromium)`, () => {
  let h: Harness;
  let loop: ProviderLoop;
  let running: Promise<unknown>;
  let ui: RunningProviderUi;
  let browser: Browser;
  let dir: string;
  const key = keyOf(88);
  const errors: string[] = [];
  /** the first unit waits here (at 42 %) until the test lets it finish */
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => {
    release = r;
  });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'swarm-provider-page-'));
    // the page as it is in src/web now, not whatever build/web holds
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-web.mjs'), '--out', join(dir, 'web')], { stdio: 'inherit' });
    h = await startHarness({ suite: 'provider_page' });
    const ev = nanoEvalUnit(4);
    const trainer = h.client(h.trainerKey);
    for (const b of ev.blobs) await trainer.putBlob(b);
    await trainer.createUnits({ run: 'page-run', units: Array.from({ length: 40 }, (_, i) => ({ id: `page.u${i}`, kind: 'eval' as const, spec: ev.spec })) });
    let n = 0;
    const runner: UnitRunner = {
      run: async (spec, blobs, o) => {
        h.clock.advance(2_500); // a unit "takes" 2.5 s: one is asked for at a time
        if (++n === 1) {
          o.onProgress?.(0.42);
          await gate;
        } else {
          await sleep(30);
        }
        return runUnit(engine, spec, (x) => blobs.get(x));
      },
    };
    loop = new ProviderLoop({
      client: h.client(key), runner, cache: new MemoryBlobCache(), clock: h.clock, rng: Prng.fromSeed(2),
      name: 'kitchen-pc', team: 'home lab', threads: 4, memoryBytes: 1,
      sleep: (ms, signal) => sleep(Math.min(ms, 25), signal),
    });
    running = loop.run();
    ui = await startProviderUi({
      control: loop,
      info: { name: 'kitchen-pc', team: 'home lab', id: key.keyId, tracker: 'http://127.0.0.1:7070', idleProbe: true },
      port: 0,
      dir: join(dir, 'web', 'provider'),
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    mkdirSync(SHOTS, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    release();
    loop?.stop({ now: true });
    await running?.catch(() => undefined);
    await browser?.close();
    await ui?.close();
    await h?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  async function open(url: string, width = 1280): Promise<Page> {
    const page = await browser.newPage({ viewport: { width, height: 900 } });
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    return page;
  }

  const leased = async (): Promise<number> => Number((await h.db.query<{ n: number | string }>('SELECT count(*) AS n FROM replicas WHERE provider = $1', [key.keyId]))[0]!.n);
  const noSideways = async (page: Page, what: string): Promise<void> => {
    const overflow = await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    expect(overflow, `${what} scrolls sideways`).toBeLessThanOrEqual(0);
  };

  it('shows the unit in hand; Pause changes the state and stops leasing; the policy is edited live; Resume works again', async () => {
    const page = await open(ui.url);
    const state = page.locator('[data-stat="state"]');
    await expect.poll(() => state.innerText()).toBe('Running a unit');
    expect((await page.locator('[data-stat="progress"]').innerText()).trim()).toBe('42 %');
    expect(await page.locator('h1').innerText()).toBe('Provider kitchen-pc');
    await page.screenshot({ path: join(SHOTS, 'provider-page-running-desktop.png'), fullPage: true });

    // Pause: the page says so at once; the unit in hand may finish
    await page.getByRole('button', { name: 'Pause' }).click();
    await expect.poll(() => state.getAttribute('data-paused')).toBe('true');
    expect(await state.innerText()).toBe('Paused: finishing the unit in hand');
    expect(loop.paused).toBe(true);
    release();
    await expect.poll(() => state.innerText(), { timeout: 10_000 }).toBe('Paused');
    const atPause = await leased();
    await expect.poll(async () => (await page.locator('[data-stat="completed"]').innerText()).trim()).toBe('1');
    await page.waitForTimeout(300); // the loop goes round every 25 ms
    expect(await leased()).toBe(atPause);

    // max CPU and the hours, edited on the page, are in force in the loop
    await page.getByLabel('Max CPU (%)').fill('50');
    await page.getByLabel('Only during these hours').check();
    await page.getByLabel('From').selectOption('22');
    await page.getByLabel('Until').selectOption('7');
    await page.getByRole('button', { name: 'Save policy' }).click();
    await expect.poll(() => page.getByRole('status').innerText()).toContain('Saved');
    expect(await page.locator('[data-stat="max-cpu"]').innerText()).toBe('50 %');
    expect(await page.locator('[data-stat="policy"]').innerText()).toContain('22:00–07:00');
    expect(loop.policy).toEqual({ threads: 4, maxCpu: 50, idleOnly: false, hours: { from: 22, to: 7 } });
    await page.screenshot({ path: join(SHOTS, 'provider-page-desktop.png'), fullPage: true });
    await noSideways(page, 'the page at 1280 px');

    // a phone: the same page at 375 px, nothing wider than the screen
    const phone = await open(ui.url, 375);
    await expect.poll(() => phone.locator('[data-stat="state"]').innerText()).toBe('Paused');
    await phone.screenshot({ path: join(SHOTS, 'provider-page-mobile.png'), fullPage: true });
    await noSideways(phone, 'the page at 375 px');
    await phone.close();

    // any time again, then Resume: units are leased again
    await page.getByLabel('Only during these hours').uncheck();
    await page.getByRole('button', { name: 'Save policy' }).click();
    await expect.poll(() => loop.policy.hours).toBeNull();
    await page.getByRole('button', { name: 'Resume' }).click();
    await expect.poll(() => state.getAttribute('data-paused')).toBe('false');
    await expect.poll(leased, { timeout: 10_000 }).toBeGreaterThan(atPause);
    await page.close();
  }, 40_000);

  it('without the token the page explains where the address is, and the API refused it', async () => {
    const page = await open(ui.url.replace(/\?token=.*$/, ''));
    await page.locator('.note').waitFor();
    expect(await page.locator('.note').innerText()).toContain('/?token=');
    const wrong = await open(ui.url.replace(/token=.*$/, 'token=nope'), 375);
    await wrong.locator('.note').waitFor();
    await wrong.screenshot({ path: join(SHOTS, 'provider-page-no-token-mobile.png'), fullPage: true });
    await page.close();
    await wrong.close();
    // the 403 of the wrong token is the expected answer, not a page error
    errors.splice(0, errors.length, ...errors.filter((e) => !/status of 403/.test(e)));
    expect(errors).toEqual([]);
  });
});
