/**
 * The tracker's HTTP API (issue 5), a Hono app: handlers are Request →
 * Response, tests call app.request(), one error mapper (errors.ts) writes
 * every failure as {error:{code,message}}.
 *
 * Order of checks on a signed endpoint (cheap and stateless first, so that
 * junk neither costs much nor changes anything stored):
 *   body read with a byte cap (413) → signature headers, time window,
 *   signature, nonce (protocol/signing.ts; 401/409) → content type (415) →
 *   JSON (400) → schema (400) → the service, which runs one transaction.
 * A request rejected at any step changes no stored data.
 *
 * Endpoints (protocol v1):
 *   GET  /api/info                          tracker key and protocol
 *   POST /api/providers           signed    register (ledger: provider-registered)
 *   GET  /api/providers/:id                 credit, RAC, reputation
 *   POST /api/work                signed    lease a replica, or {unit:null, retryAfterMs}
 *   POST /api/heartbeat           signed    extend a lease
 *   POST /api/results             signed    submit a result hash (blob uploaded first)
 *   POST /api/failures            signed    give a unit back / report an error
 *   POST /api/units               signed    trainers create units
 *   GET  /api/units/:id                     unit state and replicas
 *   PUT  /api/blobs/:sha256       signed    upload a blob; the bytes must hash to :sha256
 *   GET  /api/blobs/:sha256                 download; HTTP Range (RFC 9110 §14)
 *   HEAD /api/blobs/:sha256                 size
 *   GET  /api/leaderboard                   providers and teams by credit
 * and, when the tracker runs DiLoCo runs (options.runs, runs/diloco.ts):
 *   POST /api/runs                signed    trainers create a run {id, spec}
 *   GET  /api/runs                          every run and its progress
 *   GET  /api/runs/:id                      one run: spec and progress
 *   POST /api/runs/:id/stop       signed    the run's owner stops it
 * and whatever options.mount adds (the ledger's /ledger/v1).
 */
import { Hono } from 'hono';
import type { Context } from 'hono';
import type { Clock } from '../../core/clock.ts';
import { base64UrlEncode } from '../../core/encoding.ts';
import { SwarmError } from '../../core/errors.ts';
import { readCappedBody } from '../../core/read-capped.ts';
import { verifyRequest } from '../../protocol/signing.ts';
import type { VerifiedRequest } from '../../protocol/signing.ts';
import type { NonceStore } from '../../protocol/nonce-store.ts';
import {
  CreateUnitsRequestSchema,
  FailureReportSchema,
  HeartbeatRequestSchema,
  MAX_JSON_BODY_BYTES,
  RegisterProviderRequestSchema,
  ResultSubmissionSchema,
  WorkRequestSchema,
  parseWire,
} from '../../protocol/schemas.ts';
import { PROTOCOL_VERSION } from '../../protocol/version.ts';
import type { TrackerService } from '../service.ts';
import { NO_WORK_RETRY_MS } from '../service.ts';
import { DEFAULT_MAX_BLOB_BYTES, blobInfo, getBlob, isBlobHash } from '../storage/blobs.ts';
import type { DilocoRuns } from '../runs/diloco.ts';
import { trackerErrorResponse } from './errors.ts';

/** A run spec lists every shard's hash: allow more than the other bodies. */
export const MAX_RUN_BODY_BYTES = 4 * 1024 * 1024;

export interface TrackerAppOptions {
  service: TrackerService;
  clock: Clock;
  nonces: NonceStore;
  /** largest blob accepted by PUT /api/blobs (default 256 MiB) */
  maxBlobBytes?: number;
  /** request time window (default 60 s) */
  maxSkewMs?: number;
  /** DiLoCo runs (issue 7): /api/runs */
  runs?: DilocoRuns;
  /** extra routes mounted beside /api (the ledger's /ledger/v1) */
  mount?: Array<{ path: string; app: Hono }>;
}

/** RFC 9110 §14.2 single range "bytes=a-b" / "bytes=a-" / "bytes=-n". Multiple ranges are not served. */
export function parseRange(header: string, size: number): { start: number; end: number } | null {
  const m = /^bytes=(\d{0,15})-(\d{0,15})$/.exec(header.trim());
  if (m === null) throw new SwarmError('TRACKER_RANGE', 'only one byte range "bytes=start-end" is supported', { range: header.slice(0, 64) });
  const [a, b] = [m[1]!, m[2]!];
  if (a === '' && b === '') throw new SwarmError('TRACKER_RANGE', 'empty byte range');
  if (a === '') {
    const n = Number(b); // suffix: last n bytes
    if (n === 0) throw new SwarmError('TRACKER_RANGE', 'empty suffix range');
    return { start: Math.max(0, size - n), end: size };
  }
  const start = Number(a);
  const end = b === '' ? size : Math.min(Number(b) + 1, size);
  if (b !== '' && Number(b) < start) throw new SwarmError('TRACKER_RANGE', 'range end before its start');
  if (start >= size) throw new SwarmError('TRACKER_RANGE', 'range starts past the end of the blob', { size });
  return { start, end };
}

function readBody(req: Request, maxBytes: number): Promise<Uint8Array> {
  return readCappedBody(req, maxBytes, () => new SwarmError('TRACKER_BODY_TOO_LARGE', `the request body is larger than ${maxBytes} bytes`, { maxBytes }));
}

function parseJson(c: Context, bytes: Uint8Array): unknown {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type)) throw new SwarmError('TRACKER_UNSUPPORTED_MEDIA', 'send the body as application/json');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new SwarmError('TRACKER_BAD_JSON', 'the request body is not UTF-8');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new SwarmError('TRACKER_BAD_JSON', 'the request body is not valid JSON');
  }
}

/** Path with query exactly as requested: what the client signed. */
function signedPath(req: Request): string {
  const u = new URL(req.url);
  return u.pathname + u.search;
}

export function createTrackerApp(o: TrackerAppOptions): Hono {
  const app = new Hono();
  const svc = o.service;
  const maxBlob = o.maxBlobBytes ?? DEFAULT_MAX_BLOB_BYTES;

  /** Reads the body (capped) and verifies the request signature over it. */
  async function signed(c: Context, maxBytes = MAX_JSON_BODY_BYTES): Promise<{ who: VerifiedRequest; body: Uint8Array }> {
    const body = await readBody(c.req.raw, maxBytes);
    const who = await verifyRequest(
      { method: c.req.method, path: signedPath(c.req.raw), body, headers: c.req.raw.headers },
      { clock: o.clock, nonces: o.nonces, ...(o.maxSkewMs === undefined ? {} : { maxSkewMs: o.maxSkewMs }) },
    );
    return { who, body };
  }

  async function signedJson(c: Context, maxBytes = MAX_JSON_BODY_BYTES): Promise<{ who: VerifiedRequest; json: unknown }> {
    const { who, body } = await signed(c, maxBytes);
    return { who, json: parseJson(c, body) };
  }

  app.onError((err) => trackerErrorResponse(err));
  app.notFound((c) => trackerErrorResponse(new SwarmError('TRACKER_NOT_FOUND', `no route for ${c.req.method} ${new URL(c.req.url).pathname}`)));

  app.get('/api/info', (c) =>
    c.json({ protocol: PROTOCOL_VERSION, trackerKey: base64UrlEncode(svc.key.publicKeyRaw), trackerKeyId: svc.key.keyId }),
  );

  app.post('/api/providers', async (c) => {
    const { who, json } = await signedJson(c);
    const req = parseWire(RegisterProviderRequestSchema, json);
    if (req.publicKey !== base64UrlEncode(who.publicKey)) throw new SwarmError('TRACKER_FORBIDDEN', 'publicKey must be the key that signs the request');
    return c.json(await svc.registerProvider(who, req));
  });

  app.get('/api/providers/:id', async (c) => {
    const id = c.req.param('id');
    if (!isBlobHash(id)) throw new SwarmError('TRACKER_BAD_REQUEST', 'a provider id is 64 lower-case hex characters');
    return c.json(await svc.providerStatus(id));
  });

  app.post('/api/work', async (c) => {
    const { who, json } = await signedJson(c);
    const req = parseWire(WorkRequestSchema, json);
    const { unit, wanted } = await svc.work(who.keyId, req.kinds);
    const extra = wanted.length > 0 ? { wanted } : {};
    return c.json(unit === null ? { unit: null, retryAfterMs: NO_WORK_RETRY_MS, ...extra } : { unit, ...extra });
  });

  app.post('/api/heartbeat', async (c) => {
    const { who, json } = await signedJson(c);
    const req = parseWire(HeartbeatRequestSchema, json);
    return c.json({ leaseDeadlineMs: await svc.heartbeat(who.keyId, req.unitId) });
  });

  app.post('/api/results', async (c) => {
    const { who, json } = await signedJson(c);
    const req = parseWire(ResultSubmissionSchema, json);
    return c.json(await svc.submitResult(who.keyId, req));
  });

  app.post('/api/failures', async (c) => {
    const { who, json } = await signedJson(c);
    const req = parseWire(FailureReportSchema, json);
    await svc.reportFailure(who.keyId, req);
    return c.json({ ok: true });
  });

  app.post('/api/units', async (c) => {
    const { who, json } = await signedJson(c);
    const req = parseWire(CreateUnitsRequestSchema, json);
    return c.json(await svc.createUnits(who.keyId, req), 201);
  });

  app.get('/api/units/:id', async (c) => c.json(await svc.unitStatus(c.req.param('id'))));

  app.get('/api/leaderboard', async (c) => {
    const raw = c.req.query('limit');
    const limit = raw === undefined ? 100 : Number(raw);
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1000) throw new SwarmError('TRACKER_BAD_REQUEST', 'limit must be an integer from 1 to 1000');
    return c.json(await svc.leaderboard(limit));
  });

  app.put('/api/blobs/:sha', async (c) => {
    const sha = c.req.param('sha');
    if (!isBlobHash(sha)) throw new SwarmError('BLOB_BAD_HASH', 'a blob address is 64 lower-case hex characters (SHA-256)');
    const { who, body } = await signed(c, maxBlob);
    const r = await svc.storeUpload(who.keyId, body, sha, maxBlob);
    return c.json({ sha256: r.sha256, size: r.size, created: r.created }, r.created ? 201 : 200);
  });

  app.on(['GET', 'HEAD'], '/api/blobs/:sha', async (c) => {
    const sha = c.req.param('sha');
    if (!isBlobHash(sha)) throw new SwarmError('BLOB_BAD_HASH', 'a blob address is 64 lower-case hex characters (SHA-256)');
    const info = await blobInfo(svc.db, sha);
    const headers: Record<string, string> = {
      'content-type': 'application/octet-stream',
      'accept-ranges': 'bytes',
      etag: `"${sha}"`,
      // Content-addressed: the bytes under this name never change (RFC 9111 §5.2.2.3).
      'cache-control': 'public, max-age=31536000, immutable',
    };
    const rangeHeader = c.req.header('range');
    if (c.req.method === 'HEAD') {
      return new Response(null, { status: 200, headers: { ...headers, 'content-length': String(info.size) } });
    }
    if (rangeHeader !== undefined && info.size > 0) {
      let range: { start: number; end: number } | null;
      try {
        range = parseRange(rangeHeader, info.size);
      } catch (e) {
        return trackerErrorResponse(e, { 'content-range': `bytes */${info.size}` });
      }
      const slice = await getBlob(svc.db, sha, range ?? undefined);
      return new Response(slice.bytes, {
        status: 206,
        headers: { ...headers, 'content-length': String(slice.end - slice.start), 'content-range': `bytes ${slice.start}-${slice.end - 1}/${slice.size}` },
      });
    }
    const all = await getBlob(svc.db, sha);
    return new Response(all.bytes, { status: 200, headers: { ...headers, 'content-length': String(all.size) } });
  });

  const runs = o.runs;
  if (runs !== undefined) {
    app.post('/api/runs', async (c) => {
      const { who, json } = await signedJson(c, MAX_RUN_BODY_BYTES);
      if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new SwarmError('TRACKER_BAD_REQUEST', 'send {"id": ..., "spec": {...}}');
      const { id, spec, ...rest } = json as { id?: unknown; spec?: unknown };
      if (Object.keys(rest).length > 0) throw new SwarmError('PROTOCOL_INVALID', `unknown member ${Object.keys(rest)[0]}`);
      if (typeof id !== 'string') throw new SwarmError('PROTOCOL_INVALID', 'id: must be a string');
      return c.json(await runs.create(who.keyId, id, spec), 201);
    });
    app.get('/api/runs', async (c) => c.json({ runs: await runs.list() }));
    app.get('/api/runs/:id', async (c) => c.json(await runs.get(c.req.param('id'))));
    app.post('/api/runs/:id/stop', async (c) => {
      const { who } = await signed(c);
      return c.json(await runs.stop(who.keyId, c.req.param('id')));
    });
  }

  for (const m of o.mount ?? []) app.route(m.path, m.app);
  return app;
}
