/**
 * The browser provider's blob cache (src/web/join/idb-blob-cache.ts) on a
 * real IndexedDB, in Chromium: the module is bundled here with esbuild (and
 * the browser twins, scripts/browser-twins.mjs, as scripts/build-web.mjs does) and run in a blank page
 * of a loopback origin. Checked: a blob comes back as put; bytes that do not
 * hash to their name are not stored; a tampered entry is dropped on read
 * (and reads as missing); least recently used blobs are evicted beyond the
 * cap, the one just put is kept, and one read refreshes recency.
 */
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { browserTwins } from '../../scripts/browser-twins.mjs';
import type { Browser } from 'playwright-core';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, CHROMIUM_ARGS } from './chromium.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** What the page runs, bundled: the cache on the real database, scenarios reported as data. */
const ENTRY = `
import { sha256Hex } from './src/core/sha256.ts';
import { IdbBlobCache } from './src/web/join/idb-blob-cache.ts';
import { STORE_BLOBS, committed, openProviderDb } from './src/web/join/idb.ts';
let now = 0;
const clock = { now: () => now };
const blob = (n, fill) => new Uint8Array(n).fill(fill);
globalThis.scenario = async () => {
  const db = await openProviderDb();
  const cache = new IdbBlobCache(db, clock, 3000);
  const out = {};
  const a = blob(1000, 1), b = blob(1000, 2), c = blob(1000, 3), d = blob(1500, 4);
  const [ha, hb, hc, hd] = [a, b, c, d].map((x) => sha256Hex(x));
  now = 1; await cache.put(ha, a);
  out.roundTrip = Array.from((await cache.get(ha)) ?? []).every((v) => v === 1) && (await cache.get(ha)).length === 1000;
  await cache.put(hb, a); // bytes that are not b's
  out.wrongBytesStored = (await cache.get(hb)) !== null;
  now = 2; await cache.put(hb, b);
  now = 3; await cache.put(hc, c);
  now = 4; await cache.get(ha); // a is now more recent than b
  now = 5; await cache.put(hd, d); // 4500 bytes > 3000: evict the least recent (b, then c)
  out.afterEvict = { a: (await cache.get(ha)) !== null, b: (await cache.get(hb)) !== null, c: (await cache.get(hc)) !== null, d: (await cache.get(hd)) !== null };
  out.size = await cache.size();
  const tx = db.transaction(STORE_BLOBS, 'readwrite');
  const bad = d.slice(); bad[0] ^= 1;
  tx.objectStore(STORE_BLOBS).put(bad, hd);
  await committed(tx);
  out.tamperedRead = (await cache.get(hd)) !== null;
  out.sizeAfterTamper = await cache.size();
  return out;
};
`;

describe.skipIf(!existsSync(CHROMIUM))(`the browser blob cache on IndexedDB in Chromium (skipped when ${CHROMIUM} is missing)`, () => {
  let browser: Browser;
  let server: Server;
  let url = '';

  beforeAll(async () => {
    const out = await build({ stdin: { contents: ENTRY, resolveDir: ROOT, loader: 'js' }, bundle: true, format: 'iife', platform: 'browser', write: false, plugins: [browserTwins], logLevel: 'silent' });
    const js = out.outputFiles[0]!.text;
    server = createServer((req, res) => {
      if (req.url === '/cache.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
      else res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><script src="/cache.js"></script>');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => server?.close(r));
  });

  it('round-trips a blob, refuses wrong bytes, evicts least recently used beyond the cap, drops a tampered entry', async () => {
    const page = await browser.newPage();
    await page.goto(url);
    const r = await page.evaluate('scenario()') as Record<string, unknown>;
    expect(r.roundTrip).toBe(true);
    expect(r.wrongBytesStored, 'bytes that do not hash to the name are not stored').toBe(false);
    expect(r.afterEvict, 'b (least recent) and c evicted; a (read at 4) and d (just put) kept').toEqual({ a: true, b: false, c: false, d: true });
    expect(r.size).toBe(2500);
    expect(r.tamperedRead, 'a tampered entry reads as missing').toBe(false);
    expect(r.sizeAfterTamper, 'and is dropped').toBe(1000);
  });
});
