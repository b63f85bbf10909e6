/**
 * Serves the dashboard's static files (build/web/, made by
 * scripts/build-web.mjs) from the tracker's own server: `swarm tracker` and
 * `swarm up` mount this app at `/` behind the tracker's /api and /ledger/v1
 * routes. Here in cli because the tracker layer must not know src/web
 * (DESIGN.md, Layout): the tracker serves JSON, the cli wires the pages in.
 *
 * The pages are one single-page app, so every page path (`/`, `/runs/:id`,
 * `/leaderboard`, `/providers/:id`, `/ledger`, `/ledger/entry/:i`, `/chat`)
 * answers the same index.html, and the app routes on the client; any other
 * path outside the tracker's own answers index.html with 404 (the app shows
 * its not-found view). Assets are
 * read once at start and kept in memory (a few hundred KiB): no file system
 * access on the request path, and no path from a request ever reaches the
 * file system. A Content-Security-Policy allows only this origin, so even a
 * markup slip could not load or run anything from elsewhere.
 *
 * Without a build (a checkout where `npm install` did not run the
 * postinstall) the page paths answer a plain text that says how to build it.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';
import { isPagePath } from '../web/paths.ts';

/** build/web of this checkout. */
export const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../build/web/', import.meta.url));

/** The client-side routes that answer index.html. */
export const PAGE_PATHS = ['/', '/runs/:id', '/leaderboard', '/providers/:id', '/ledger', '/ledger/entry/:index', '/chat', '/releases', '/releases/:name'] as const;

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  // uPlot and Preact set element.style (CSSOM), which 'self' allows; no inline <style> or style="" is served.
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');

/** The headers every page and asset of ours carries (the provider's local page too, provider-ui.ts). */
export const SECURITY_HEADERS = {
  'content-security-policy': CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/**
 * The join page (/join) and its workers run the engine: WebAssembly needs
 * 'wasm-unsafe-eval' under a CSP (CSP Level 3 §6.1.2 does not cover wasm
 * compilation by 'self'), and its shared memory needs the page to be
 * cross-origin isolated (HTML §7.1.3: COOP same-origin + COEP require-corp),
 * which everything here satisfies as it is all same-origin.
 */
export const JOIN_HEADERS = {
  ...SECURITY_HEADERS,
  'content-security-policy': CSP.replace("script-src 'self'", "script-src 'self' 'wasm-unsafe-eval'"),
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
};

export const NOT_BUILT_TEXT = 'The dashboard is not built. Run `npm run build:web` (npm install does it too), then reload this page.\n';

/** Reads a built page (index.html and assets/) once; undefined when the build is missing. */
export function loadBuild(dir: string): { index: Uint8Array; assets: Map<string, { bytes: Uint8Array; type: string }> } | undefined {
  const indexPath = join(dir, 'index.html');
  if (!existsSync(indexPath)) return undefined;
  const assets = new Map<string, { bytes: Uint8Array; type: string }>();
  const assetDir = join(dir, 'assets');
  if (existsSync(assetDir)) {
    for (const name of readdirSync(assetDir)) {
      const type = TYPES[extname(name)];
      if (type !== undefined) assets.set(name, { bytes: new Uint8Array(readFileSync(join(assetDir, name))), type });
    }
  }
  return { index: new Uint8Array(readFileSync(indexPath)), assets };
}

type Build = ReturnType<typeof loadBuild>;

/** A built app's index.html with `headers`, or the not-built text when there is no build. */
function pageResponse(build: Build, headers: Record<string, string>, status = 200): Response {
  return build === undefined
    ? new Response(NOT_BUILT_TEXT, { status: 503, headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' } })
    : new Response(build.index, { status, headers: { 'content-type': TYPES['.html']!, 'cache-control': 'no-cache', ...headers } });
}

/** GET `${prefix}/assets/:name` of a built app, with `headers`. */
function serveAssets(app: Hono, prefix: string, build: Build, headers: Record<string, string>): void {
  app.get(`${prefix}/assets/:name`, (c) => {
    const a = build?.assets.get(c.req.param('name'));
    if (a === undefined) return c.text('no such asset\n', 404);
    // Names are fixed (main.js, main.css), so a reload must revalidate: no-cache.
    return new Response(a.bytes, { headers: { 'content-type': a.type, 'cache-control': 'no-cache', ...headers } });
  });
}

/** The dashboard's static app, for createTrackerApp's `mount` at '/'. */
export function createDashboardApp(o: { dir?: string } = {}): Hono {
  const dir = o.dir ?? DEFAULT_WEB_DIR;
  const build = loadBuild(dir);
  const app = new Hono();
  const page = (status = 200): Response => pageResponse(build, SECURITY_HEADERS, status);
  for (const path of PAGE_PATHS) app.get(path, () => page());
  // The join page (issue 18): its own app and headers (JOIN_HEADERS).
  const joinBuild = loadBuild(join(dir, 'join'));
  app.get('/join', () => pageResponse(joinBuild, JOIN_HEADERS));
  serveAssets(app, '/join', joinBuild, JOIN_HEADERS);
  serveAssets(app, '', build, SECURITY_HEADERS);
  // Any other page path: the app with status 404, which shows its not-found view. The
  // tracker's own paths (/api, /ledger/v1, /v1) keep their JSON 404 (c.notFound: the tracker's mapper).
  app.get('*', (c) => (isPagePath(new URL(c.req.url).pathname) ? page(404) : c.notFound()));
  return app;
}
