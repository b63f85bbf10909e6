#!/usr/bin/env node
/**
 * Bundles the dashboard (src/web/, Preact + htm + uPlot) with esbuild into
 * build/web/: index.html and assets/main.{js,css}. The tracker serves these
 * files itself (src/cli/dashboard.ts): no CDN, no remote fonts, so the pages
 * work on a machine with no internet and load nothing from elsewhere.
 * The provider's own page (src/web/provider/, served by `swarm provide` on
 * 127.0.0.1, src/cli/provider-ui.ts) goes to build/web/provider/ the same way.
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

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const outIdx = args.indexOf('--out');
const out = outIdx >= 0 ? resolve(args[outIdx + 1]) : join(ROOT, 'build', 'web');
const verbose = args.includes('--verbose');

const started = performance.now();
rmSync(out, { recursive: true, force: true });
const APPS = [
  { src: join(ROOT, 'src', 'web'), dest: out },
  { src: join(ROOT, 'src', 'web', 'provider'), dest: join(out, 'provider') },
];
try {
  await Promise.all(APPS.map((app) => {
    mkdirSync(join(app.dest, 'assets'), { recursive: true });
    return build({
      entryPoints: { main: join(app.src, 'main.ts') },
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
