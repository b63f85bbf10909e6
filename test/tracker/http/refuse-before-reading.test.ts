/**
 * Issue 25, "Refuse before reading", against a real tracker listening on
 * 127.0.0.1 (the service, PGlite and the Hono app of test/tracker/harness.ts,
 * served by @hono/node-server as `swarm tracker` serves it, src/cli/serve.ts):
 * requests that the headers already condemn (unsigned, unknown key, stale,
 * replayed) are refused having read only a small prefix of their body, so
 * floods of large bodies cost neither time nor memory; bodies past the
 * route's limit are cut while streaming (413), trickled ones by the deadline
 * (408); and nothing stored changes on any refusal.
 *
 * Bytes are counted on both ends: what the client managed to hand to its
 * socket before the answer (this includes the kernel's socket buffers on
 * loopback, a few MiB), and what the server's socket read (bytesRead).
 */
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/core/clock.ts';
import { sha256Hex } from '../../../src/core/sha256.ts';
import type { Ed25519KeyPair } from '../../../src/ledger/keys.ts';
import { MemoryNonceStore } from '../../../src/protocol/nonce-store.ts';
import { signRequest } from '../../../src/protocol/signing.ts';
import type { SignatureHeaders } from '../../../src/protocol/signing.ts';
import { createTrackerApp } from '../../../src/tracker/http/app.ts';
import type { TrackerAppOptions } from '../../../src/tracker/http/app.ts';
import { keyOf, startHarness } from '../harness.ts';
import type { Harness } from '../harness.ts';

const MiB = 1024 * 1024;
/** The attack: a 200 MB body. */
const BIG = 200 * 1000 * 1000;
/** At most this much of a refused body may reach the server's socket (one stream chunk plus socket buffers). */
const MAX_SERVER_READ = 1 * MiB;
/** At most this much may leave the client (the server's read plus both kernels' socket buffers). */
const MAX_CLIENT_SENT = 32 * MiB;
/** A refusal on the headers answers within this (reading 200 MB took 1.9 s in the report). */
const MAX_REFUSAL_MS = 5_000;
/** Resident memory growth allowed for 20 concurrent refused 200 MB uploads (buffered, they would take 4 GB). */
const MAX_RSS_GROWTH = 64 * MiB;

interface Served {
  port: number;
  /** bytesRead of every closed server-side socket, in order of closing */
  closedReads: number[];
  close(): Promise<void>;
}

function serveOn(app: Hono): Promise<Served> {
  return new Promise((ok) => {
    const closedReads: number[] = [];
    const sockets = new Set<Socket>();
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => {
      ok({
        port: info.port,
        closedReads,
        close: () =>
          new Promise((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
    server.on('connection', (s: Socket) => {
      sockets.add(s);
      s.on('close', () => {
        sockets.delete(s);
        closedReads.push(s.bytesRead);
      });
    });
  });
}

interface UploadResult {
  status: number;
  code: string;
  /** bytes of body the client handed to its socket before the answer came */
  sent: number;
  ms: number;
}

const CHUNK = new Uint8Array(64 * 1024).fill(0x61);

/**
 * PUT `total` bytes (CHUNK repeated, or `bytes`) as a stream, chunked unless
 * `contentLength` is given, stopping at the first answer. `trickleMs` sends
 * one byte at a time with that pause.
 */
function upload(port: number, path: string, headers: Record<string, string>, o: { total?: number; bytes?: Uint8Array; contentLength?: number; trickleMs?: number }): Promise<UploadResult> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let sent = 0;
    let done = false;
    let wake: () => void = () => undefined;
    const finish = (status: number, code: string): void => {
      if (done) return;
      done = true;
      wake();
      req.destroy();
      resolve({ status, code, sent, ms: performance.now() - t0 });
    };
    const h: Record<string, string> = { 'content-type': 'application/octet-stream', ...headers };
    if (o.contentLength !== undefined) h['content-length'] = String(o.contentLength);
    const req = request({ host: '127.0.0.1', port, path, method: 'PUT', agent: false, headers: h });
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (b: Buffer) => parts.push(b));
      res.on('end', () => {
        let code = '';
        try {
          code = (JSON.parse(Buffer.concat(parts).toString('utf8')) as { error?: { code?: string } }).error?.code ?? '';
        } catch {
          code = 'UNPARSEABLE';
        }
        finish(res.statusCode ?? 0, code);
      });
      res.on('error', () => finish(res.statusCode ?? 0, 'RESPONSE_CUT'));
    });
    // EPIPE / ECONNRESET once the server closed: the answer, if any, is already on its way.
    req.on('error', () => setTimeout(() => finish(0, 'NO_ANSWER'), 2_000));
    void (async () => {
      const total = o.bytes?.length ?? o.total ?? 0;
      while (!done && sent < total) {
        const piece = o.trickleMs !== undefined
          ? (o.bytes ?? CHUNK).subarray(sent % CHUNK.length, (sent % CHUNK.length) + 1)
          : o.bytes !== undefined ? o.bytes.subarray(sent, sent + CHUNK.length) : CHUNK.subarray(0, Math.min(CHUNK.length, total - sent));
        const more = req.write(piece);
        sent += piece.length;
        if (o.trickleMs !== undefined) await new Promise((r) => setTimeout(r, o.trickleMs));
        else if (!more) await new Promise<void>((r) => ((wake = r), req.once('drain', r)));
      }
      if (!done) req.end();
    })();
  });
}

const T0_SKEW = 120_000;

describe('refuse before reading (issue 25), over loopback', () => {
  let h: Harness;
  let big: Served; // default limits: maxBlobBytes 256 MiB
  let small: Served; // 1 MiB blobs, a short body deadline
  const provider = keyOf(31);
  const stranger = keyOf(32);

  const sign = (key: Ed25519KeyPair, path: string, body: Uint8Array, clock = h.clock): SignatureHeaders =>
    signRequest({ method: 'PUT', path, body, key, clock, nonce: () => randomBytes(16) });

  /** Every stored row a refusal could touch. */
  async function dump(): Promise<string> {
    const parts: string[] = [];
    for (const t of ['providers', 'blobs', 'units', 'ledger_entries']) parts.push(JSON.stringify(await h.db.query(`SELECT * FROM ${t} ORDER BY 1`)));
    parts.push(JSON.stringify(await h.db.query('SELECT sha256, length(bytes) AS n FROM blob_data ORDER BY 1')));
    return parts.join('\n');
  }

  const appWith = (extra: Partial<TrackerAppOptions>): Hono =>
    createTrackerApp({ service: h.service, clock: h.clock, runs: h.runs, nonces: new MemoryNonceStore({ clock: h.clock }), ...extra });

  beforeAll(async () => {
    h = await startHarness({ suite: 'refuse_before_reading' });
    await h.client(provider).register('p31', { threads: 1, memoryBytes: 1 });
    big = await serveOn(appWith({}));
    small = await serveOn(appWith({ maxBlobBytes: 1 * MiB, bodyDeadline: { graceMs: 500, minBytesPerSecond: 1 * MiB } }));
  }, 60_000);
  afterAll(async () => {
    await big?.close();
    await small?.close();
    await h?.close();
  });

  /** The server-side bytes read by the connection that closes next. */
  async function serverRead(s: Served, before: number): Promise<number> {
    for (let i = 0; i < 200 && s.closedReads.length <= before; i++) await new Promise((r) => setTimeout(r, 10));
    return s.closedReads[before] ?? Number.NaN;
  }

  const sha = 'ab'.repeat(32);
  const blobPath = `/api/blobs/${sha}`;

  it('an unsigned 200 MB upload is refused (401) having read only a small prefix', async () => {
    const before = await dump();
    const n = big.closedReads.length;
    const r = await upload(big.port, blobPath, {}, { total: BIG });
    const read = await serverRead(big, n);
    console.info(`unsigned 200 MB: ${r.status} ${r.code}, client sent ${r.sent} B, server read ${read} B, ${r.ms.toFixed(0)} ms`);
    expect({ status: r.status, code: r.code }).toEqual({ status: 401, code: 'PROTOCOL_UNSIGNED' });
    expect(read).toBeLessThan(MAX_SERVER_READ);
    expect(r.sent).toBeLessThan(MAX_CLIENT_SENT);
    expect(r.ms).toBeLessThan(MAX_REFUSAL_MS);
    expect(await dump()).toBe(before);
  });

  it('20 concurrent unsigned 200 MB uploads leave resident memory within the bound', async () => {
    const before = await dump();
    const rss0 = process.memoryUsage.rss();
    let peak = rss0;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 10);
    const t0 = performance.now();
    const rs = await Promise.all(Array.from({ length: 20 }, () => upload(big.port, blobPath, {}, { total: BIG })));
    const ms = performance.now() - t0;
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage.rss());
    const sent = rs.reduce((a, r) => a + r.sent, 0);
    console.info(`20 × unsigned 200 MB: RSS ${(rss0 / MiB).toFixed(0)} → peak ${(peak / MiB).toFixed(0)} MiB (+${((peak - rss0) / MiB).toFixed(1)}), client sent ${sent} B in all, ${ms.toFixed(0)} ms`);
    expect(rs.map((r) => r.status)).toEqual(Array.from({ length: 20 }, () => 401));
    expect(peak - rss0).toBeLessThan(MAX_RSS_GROWTH);
    expect(sent).toBeLessThan(20 * MAX_CLIENT_SENT);
    expect(await dump()).toBe(before);
  }, 60_000);

  it('an unknown key, a stale timestamp and a replayed nonce are refused before the body is read', async () => {
    const body = new Uint8Array(4096).fill(7);
    const path = `/api/blobs/${sha256Hex(body)}`;
    // the honest upload whose headers are replayed below
    const first = sign(provider, path, body);
    const ok = await upload(big.port, path, first, { bytes: body, contentLength: body.length });
    expect(ok.status).toBe(201);
    const before = await dump();
    const cases: Array<[string, Record<string, string>, number, string]> = [
      ['unknown key', sign(stranger, blobPath, new Uint8Array(0)), 403, 'TRACKER_UNKNOWN_PROVIDER'],
      ['stale', sign(provider, blobPath, new Uint8Array(0), new ManualClock(h.clock.now() - T0_SKEW)), 401, 'PROTOCOL_STALE'],
      ['future', sign(provider, blobPath, new Uint8Array(0), new ManualClock(h.clock.now() + T0_SKEW)), 401, 'PROTOCOL_STALE'],
      ['replayed nonce', first, 409, 'PROTOCOL_REPLAY'],
    ];
    for (const [name, headers, status, code] of cases) {
      const n = big.closedReads.length;
      const r = await upload(big.port, name === 'replayed nonce' ? path : blobPath, headers, { total: BIG });
      const read = await serverRead(big, n);
      console.info(`${name} + 200 MB: ${r.status} ${r.code}, client sent ${r.sent} B, server read ${read} B, ${r.ms.toFixed(0)} ms`);
      expect({ name, status: r.status, code: r.code }).toEqual({ name, status, code });
      expect(read, name).toBeLessThan(MAX_SERVER_READ);
      expect(r.ms, name).toBeLessThan(MAX_REFUSAL_MS);
    }
    // the exact replay, body and all, is refused too
    const again = await upload(big.port, path, first, { bytes: body, contentLength: body.length });
    expect({ status: again.status, code: again.code }).toEqual({ status: 409, code: 'PROTOCOL_REPLAY' });
    expect(await dump()).toBe(before);
  }, 60_000);

  it('an oversize signed upload is refused with 413 and nothing is stored', async () => {
    const body = new Uint8Array(4 * MiB).fill(3);
    const path = `/api/blobs/${sha256Hex(body)}`;
    const before = await dump();
    // declared: refused on the Content-Length, before the body
    let n = small.closedReads.length;
    const declared = await upload(small.port, path, sign(provider, path, body), { bytes: body, contentLength: body.length });
    const declaredRead = await serverRead(small, n);
    // chunked: cut while streaming, at the 1 MiB limit
    n = small.closedReads.length;
    const chunked = await upload(small.port, path, sign(provider, path, body), { bytes: body });
    const chunkedRead = await serverRead(small, n);
    console.info(`oversize 4 MiB over a 1 MiB limit: declared ${declared.status} (server read ${declaredRead} B), chunked ${chunked.status} (server read ${chunkedRead} B)`);
    expect({ status: declared.status, code: declared.code }).toEqual({ status: 413, code: 'TRACKER_BODY_TOO_LARGE' });
    expect({ status: chunked.status, code: chunked.code }).toEqual({ status: 413, code: 'TRACKER_BODY_TOO_LARGE' });
    expect(declaredRead).toBeLessThan(MAX_SERVER_READ);
    expect(chunkedRead).toBeLessThan(1 * MiB + MAX_SERVER_READ);
    expect(await dump()).toBe(before);
  });

  it('a body that does not hash to its address stores nothing (422)', async () => {
    const body = new Uint8Array(1000).fill(5);
    const before = await dump();
    const r = await upload(small.port, blobPath, sign(provider, blobPath, body), { bytes: body, contentLength: body.length });
    expect({ status: r.status, code: r.code }).toEqual({ status: 422, code: 'STORAGE_HASH_MISMATCH' });
    expect(await dump()).toBe(before);
  });

  it('a trickled body is cut by the per-request deadline (408)', async () => {
    const body = new Uint8Array(64).fill(9);
    const path = `/api/blobs/${sha256Hex(body)}`;
    const before = await dump();
    // 64 bytes at one per 100 ms would take 6.4 s; the deadline is 500 ms + 64 B at 1 MiB/s
    const r = await upload(small.port, path, sign(provider, path, body), { bytes: body, contentLength: body.length, trickleMs: 100 });
    console.info(`trickled 64 B: ${r.status} ${r.code} after ${r.ms.toFixed(0)} ms, ${r.sent} B sent`);
    expect({ status: r.status, code: r.code }).toEqual({ status: 408, code: 'TRACKER_BODY_TIMEOUT' });
    expect(r.ms).toBeGreaterThanOrEqual(450);
    expect(r.ms).toBeLessThan(3_000);
    expect(await dump()).toBe(before);
  });

  it('a normal signed upload still works, streamed in chunks or with a length', async () => {
    for (const [i, withLength] of [[1, true], [2, false]] as const) {
      const body = randomBytes(300 * 1024 + i);
      const path = `/api/blobs/${sha256Hex(body)}`;
      const r = await upload(small.port, path, sign(provider, path, body), withLength ? { bytes: body, contentLength: body.length } : { bytes: body });
      expect({ status: r.status, code: r.code }).toEqual({ status: 201, code: '' });
      const got = await h.app.request(path);
      expect(Buffer.from(await got.arrayBuffer()).equals(body)).toBe(true);
    }
  });
});
