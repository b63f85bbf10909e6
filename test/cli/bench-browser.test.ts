/**
 * `swarm bench browser` (issue 18): one unit in headless Chromium against
 * the Node provider's wasm worker. Checked: the JSON report's shape, that
 * both sides computed the same result hash on every run, and that the ratio
 * is the ratio of the medians — never a speed threshold (speeds are
 * reported, not asserted).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { benchBrowser } from '../../src/cli/bench-browser.ts';
import { CHROMIUM } from '../web/chromium.ts';
import { codeOfAsync } from '../helpers/errors.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe.skipIf(!existsSync(CHROMIUM))(`swarm bench browser (skipped when ${CHROMIUM} is missing: apt-get install chromium)`, () => {
  it('reports both medians, their ratio, and equal result hashes for a nano unit', async () => {
    const web = mkdtempSync(join(tmpdir(), 'swarm-bench-web-'));
    try {
      execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-web.mjs'), '--out', web], { stdio: 'inherit' });
      const r = await benchBrowser({ preset: 'nano', steps: 2, batch: 2, seqLen: 16, repeats: 2, webDir: web });
      expect(r.sameHash).toBe(true);
      expect(r.resultHash).toMatch(/^[0-9a-f]{64}$/);
      expect(r.node.runsMs).toHaveLength(2);
      expect(r.browser.runsMs).toHaveLength(2);
      expect(r.ratio).toBeCloseTo(r.browser.medianMs / r.node.medianMs, 10);
      expect(r.browser.engine).toMatch(/Chrom/);
      expect(r.cpu.length).toBeGreaterThan(0);
    } finally {
      rmSync(web, { recursive: true, force: true });
    }
  }, 120_000);

  it('says what is missing: no Chromium at the path, or no built join page', async () => {
    expect(await codeOfAsync(benchBrowser({ preset: 'nano', steps: 1, batch: 1, seqLen: 8, repeats: 1, chromium: '/nonexistent/chromium' }))).toBe('BENCH_BROWSER_UNAVAILABLE');
    expect(await codeOfAsync(benchBrowser({ preset: 'nano', steps: 1, batch: 1, seqLen: 8, repeats: 1, webDir: '/nonexistent' }))).toBe('BENCH_BROWSER_UNAVAILABLE');
  });
});
