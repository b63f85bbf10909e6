#!/usr/bin/env node
/**
 * Bundles the dashboard (src/web/, Preact + htm + uPlot) with esbuild into
 * build/web/: index.html and assets/main.{js,css}. The tracker serves these
 * files itself (src/cli/dashboard.ts): no CDN, no remote fonts, so the pages
 * work on a machine with no internet and load nothing from elsewhere.
 * The provider's own page (src/web/provider/, served by `swarm provide` on
 * 127.0.0.1, src/cli/provider-ui.ts) goes to build/web/provider/ the same way,
 * and the "Join from this tab" page (src/web/join/, served by the tracker at
 * /join) to build/web/join/ with its two workers: the provider loop
 * (loop-worker.js) and the unit runner (unit-worker.js, from
 * src/provider/browser/).
 *
 * Browser twins: wherever a file `X.browser.ts` sits beside `X.ts`, the
 * bundle takes the twin (./browser-twins.mjs, as bundlers honour package.json's "browser" field):
 * SHA-256 and Ed25519 from @noble instead of node:crypto, the wasm backend
 * without worker_threads. test/core/browser-twins.test.ts holds each twin to
 * its original's exports and bytes; src/web/tsconfig.json type-checks with
 * the same rule (moduleSuffixes).
 *
 *   node scripts/build-web.mjs          (npm install, npm run build:web)
 *   node scripts/build-web.mjs --out D  another output folder (tests)
 *
 * platform 'browser' makes esbuild refuse any node: import reachable from
 * src/web (DESIGN.md: web code never imports node: modules), so a layer slip
 * breaks the build instead of shipping a bundle that fails in the browser.
 * Quiet on success (one line only when run by hand with --verbose).
 */
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { browserTwins } from './browser-twins.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const outIdx = args.indexOf('--out');
const out = outIdx >= 0 ? resolve(args[outIdx + 1]) : join(ROOT, 'build', 'web');
const verbose = args.includes('--verbose');

const started = performance.now();
rmSync(out, { recursive: true, force: true });
const WEB = join(ROOT, 'src', 'web');
const APPS = [
  { src: WEB, dest: out, entries: { main: join(WEB, 'main.ts') } },
  { src: join(WEB, 'provider'), dest: join(out, 'provider'), entries: { main: join(WEB, 'provider', 'main.ts') } },
  {
    src: join(WEB, 'join'),
    dest: join(out, 'join'),
    entries: {
      main: join(WEB, 'join', 'main.ts'),
      'loop-worker': join(WEB, 'join', 'loop-worker.ts'),
      'unit-worker': join(ROOT, 'src', 'provider', 'browser', 'unit-worker.ts'),
    },
  },
];
try {
  await Promise.all(APPS.map((app) => {
    mkdirSync(join(app.dest, 'assets'), { recursive: true });
    return build({
      entryPoints: app.entries,
      plugins: [browserTwins],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: ['es2022'],
      outdir: join(app.dest, 'assets'),
      minify: true,
      sourcemap: false,
      legalComments: 'none',
      logLevel: 'warning',
      // No fetch of anything at build time either: every import resolves in node_modules.
      loader: { '.ts': 'ts' },
    });
  }));
} catch (e) {
  process.stderr.write(`build-web: esbuild failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}
for (const app of APPS) copyFileSync(join(app.src, 'index.html'), join(app.dest, 'index.html'));
if (verbose) process.stdout.write(`build-web: ${out} in ${(performance.now() - started).toFixed(0)} ms\n`);
