/**
 * The tracker's HTTP API (issue 5), a Hono app: handlers are Request →
 * Response, tests call app.request(), one error mapper (errors.ts) writes
 * every failure as {error:{code,message}}.
 *
 * Order of checks on a signed endpoint (cheap and stateless first, so that
 * junk neither costs much nor changes anything stored), issue 25 "Refuse
 * before reading":
 *   BEFORE a byte of the body is read: the source address's rate limit
 *   (rate-limit.ts; 429 + Retry-After) → signature headers' presence and form,
 *   version, time window (protocol/signing.ts checkRequestHead; 401/400) →
 *   the signing key's rate limit (429) →
 *   declared Content-Length against the route's limit (413) → the key is
 *   allowed on the route: a registered provider or trainer, or a trainer
 *   (403) → the nonce is not live (409, a read-only look: refuseLiveNonce
 *   says why nothing is recorded yet);
 *   THEN the body, streamed under the route's limit (413) and deadline (408)
 *   (body.ts) → signature over its hash, and the nonce recorded
 *   (verifyRequestBody; 401/409) → content type (415) → JSON (400) → schema
 *   (400) → for a registration, its proof of work (protocol/pow.ts; 400
 *   PROTOCOL_POW_REQUIRED / PROTOCOL_BAD_POW) → the service, which runs one
 *   transaction.
 * A request rejected at any step changes no stored data; one rejected before
 * its body was read to the end is answered with `Connection: close` (body.ts).
 *
 * Body limits per route: MAX_JSON_BODY_BYTES (64 KiB) for the JSON routes,
 * MAX_SCHEDULER_BODY_BYTES for a scheduler batch (every result inlined),
 * MAX_RUN_BODY_BYTES for a run spec, nothing for a stop, and maxBlobBytes for
 * PUT /api/blobs. A blob upload names only its hash, not the unit or lease it
 * belongs to (a result is uploaded before it is submitted, a kept optimizer
 * state when the tracker asks for it), so the tracker does not know the
 * expected size of an upload: the limit is the documented per-route maximum,
 * maxBlobBytes. The upload is hashed while it streams; the bytes are kept in
 * memory up to that limit (a blob is one bytea, written by one statement,
 * storage/blobs.ts), which only a request that passed every header check
 * gets to do.
 *
 * Endpoints (protocol v1):
 *   GET  /api/info                          tracker key, protocol, registrationDifficulty
 *   POST /api/providers           signed    register (ledger: provider-registered)
 *   GET  /api/providers/:id                 credit, RAC, reputation
 *   POST /api/scheduler           signed    the batched scheduler request (issue 16): report
 *                                           results (small ones inline) and failures, lease up
 *                                           to `want` units, in one exchange; what providers use
 *   POST /api/work                signed    lease a replica, or {unit:null, retryAfterMs}
 *                                           (one-unit endpoints: kept for older clients and tools)
 *   POST /api/heartbeat           signed    extend a lease
 *   POST /api/results             signed    submit a result hash (blob uploaded first)
 *   POST /api/failures            signed    give a unit back / report an error
 *   POST /api/units               signed    trainers create units
 *   GET  /api/units/:id                     unit state and replicas
 *   PUT  /api/blobs/:sha256       signed    upload a blob; the bytes must hash to :sha256
 *   GET  /api/blobs/:sha256                 download; HTTP Range (RFC 9110 §14)
 *   HEAD /api/blobs/:sha256                 size
 *   GET  /api/leaderboard                   providers and teams by credit
 *   GET  /api/council                       members and threshold (issue 20, council.ts)
 *   GET  /api/council/proposals             proposals, newest first (?status=open|enacted|rejected|expired)
 *   POST /api/council/proposals   signed    a member opens a proposal (protocol/council.ts)
 *   GET  /api/council/proposals/:id         one proposal, its votes and what a member signs
 *   POST /api/council/proposals/:id/votes signed  a member's signed council-vote entry
 *   GET  /api/releases                      models the council released
 *   GET  /api/releases/:name                one release
 *   GET  /api/cla                           the contributor licence's current version (cla-routes.ts)
 *   POST /api/cla/signatures      signed    an identity's own cla-signed entry
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
import { createHash } from 'node:crypto';
import { concatArrays } from '../../core/concat.ts';
import { sha256Hex } from '../../core/sha256.ts';
import { checkRequestHead, refuseLiveNonce, verifyRequestBody } from '../../protocol/signing.ts';
import type { RequestHead, VerifiedRequest } from '../../protocol/signing.ts';
import type { NonceStore } from '../../protocol/nonce-store.ts';
import {
  CreateUnitsRequestSchema,
  FailureReportSchema,
  HeartbeatRequestSchema,
  MAX_JSON_BODY_BYTES,
  MAX_SCHEDULER_BODY_BYTES,
  RegisterProviderRequestSchema,
  ResultSubmissionSchema,
  SchedulerRequestSchema,
  WorkRequestSchema,
  parseWire,
} from '../../protocol/schemas.ts';
import { PROTOCOL_VERSION } from '../../protocol/version.ts';
import { PROPOSAL_STATUSES, ProposeRequestSchema, VoteRequestSchema } from '../../protocol/council.ts';
import type { ProposalStatus } from '../../protocol/council.ts';
import { DEFAULT_REGISTRATION_DIFFICULTY, checkDifficulty, verifyPow } from '../../protocol/pow.ts';
import type { TrackerService } from '../service.ts';
import { NO_WORK_RETRY_MS } from '../service.ts';
import { DEFAULT_MAX_BLOB_BYTES, blobInfo, getBlob, isBlobHash } from '../storage/blobs.ts';
import type { DilocoRuns } from '../runs/diloco.ts';
import { DEFAULT_BODY_DEADLINE, bodyFullyRead, refuseDeclaredOversize, streamBody } from './body.ts';
import type { BodyDeadline } from './body.ts';
import { trackerErrorResponse } from './errors.ts';
import { NO_RATE_LIMITS, TrackerRateLimiter, socketSource, trackerRateLimits } from './rate-limit.ts';
import type { RouteClass, SourceOf, TrackerRateLimits } from './rate-limit.ts';
import { registerDashboardApi } from './dashboard-api.ts';
import { registerClaRoutes } from './cla-routes.ts';
import { notAMember } from '../council.ts';

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
  /** how long a request body may take (body.ts; default DEFAULT_BODY_DEADLINE) */
  bodyDeadline?: Partial<BodyDeadline>;
  /** DiLoCo runs (issue 7): /api/runs */
  runs?: DilocoRuns;
  /** extra routes mounted beside /api (the ledger's /ledger/v1) */
  mount?: Array<{ path: string; app: Hono }>;
  /** rate limits (rate-limit.ts; default DEFAULT_TRACKER_RATE_LIMITS, classes given here replace theirs); 'off': none */
  rateLimits?: Partial<TrackerRateLimits> | 'off';
  /** the source address of a request (default: the socket's peer; rate-limit.ts forwardedSource behind a proxy) */
  sourceOf?: SourceOf;
  /** leading zero bits of the registration's proof of work (protocol/pow.ts; default 16, 0: none) */
  registrationDifficulty?: number;
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

/**
 * Who may use a signed route, checked before its body is read: 'anyone'
 * (registration itself), 'known' (a registered provider or a trainer: the
 * service refuses anyone else on these routes), 'trainer'.
 */
type Access = 'anyone' | 'known' | 'trainer' | 'member';

interface SignedRoute {
  maxBytes: number;
  access: Access;
  /** which rate limits apply (rate-limit.ts); none for trainers' routes */
  limit?: RouteClass;
}

/** The same refusals the service and the run manager give, made before the body is read. */
function notAllowed(access: Access, keyId: string): SwarmError {
  if (access === 'member') return notAMember(keyId);
  if (access === 'trainer') {
    return new SwarmError('TRACKER_FORBIDDEN', `only trainers may do this: key ${keyId} is not one; start the tracker with --trainer ${keyId} (\`swarm whoami\` prints your key id)`, { keyId });
  }
  return new SwarmError('TRACKER_UNKNOWN_PROVIDER', 'this key is not a registered provider; register first (POST /api/providers)');
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
  const deadline: BodyDeadline = { ...DEFAULT_BODY_DEADLINE, ...o.bodyDeadline };
  const JSON_ROUTE: SignedRoute = { maxBytes: MAX_JSON_BODY_BYTES, access: 'known', limit: 'work' };
  const limiter = new TrackerRateLimiter(o.rateLimits === 'off' ? NO_RATE_LIMITS : trackerRateLimits(o.rateLimits), o.clock);
  const sourceOf = o.sourceOf ?? socketSource;
  const difficulty = o.registrationDifficulty ?? DEFAULT_REGISTRATION_DIFFICULTY;
  checkDifficulty(difficulty);
  const TRAINER_ROUTE: SignedRoute = { maxBytes: MAX_JSON_BODY_BYTES, access: 'trainer' };

  /**
   * Everything that can be judged without the body, in order of cost (see
   * the file comment); resolves to the head whose signature the body must
   * then complete. Nothing is recorded: the nonce is only looked at.
   */
  async function admit(c: Context, route: SignedRoute): Promise<RequestHead> {
    if (route.limit !== undefined) limiter.checkSource(route.limit, sourceOf(c));
    const head = checkRequestHead(
      { method: c.req.method, path: signedPath(c.req.raw), headers: c.req.raw.headers },
      { clock: o.clock, ...(o.maxSkewMs === undefined ? {} : { maxSkewMs: o.maxSkewMs }) },
    );
    // trainers are named at start and upload a run's shards in bursts: only strangers' keys are limited
    if (route.limit !== undefined && !svc.isTrainer(head.keyId)) limiter.checkIdentity(route.limit, head.keyId);
    refuseDeclaredOversize(c.req.raw, route.maxBytes);
    if (route.access === 'trainer' && !svc.isTrainer(head.keyId)) throw notAllowed('trainer', head.keyId);
    if (route.access === 'known' && !(await svc.isKnownKey(head.keyId))) throw notAllowed('known', head.keyId);
    if (route.access === 'member' && !(await svc.council.isMember(head.keyId))) throw notAllowed('member', head.keyId);
    await refuseLiveNonce(head, o.nonces);
    return head;
  }

  /** Admits the request, streams the body (capped, with a deadline), and verifies the signature over it. */
  async function signed(c: Context, route: SignedRoute): Promise<{ who: VerifiedRequest; body: Uint8Array }> {
    const head = await admit(c, route);
    const chunks: Uint8Array[] = [];
    await streamBody(c.req.raw, { maxBytes: route.maxBytes, deadline, onChunk: (b) => chunks.push(b) });
    const body = concatArrays(Uint8Array, chunks);
    const who = await verifyRequestBody(head, sha256Hex(body), { nonces: o.nonces });
    return { who, body };
  }

  async function signedJson(c: Context, route: SignedRoute = JSON_ROUTE): Promise<{ who: VerifiedRequest; json: unknown }> {
    const { who, body } = await signed(c, route);
    return { who, json: parseJson(c, body) };
  }

  /** A refusal before the body was read to its end also closes the connection (body.ts says why). */
  const closeIfUnread = (c: Context): Record<string, string> => (bodyFullyRead(c.req.raw) ? {} : { connection: 'close' });
  app.onError((err, c) => trackerErrorResponse(err, closeIfUnread(c)));
  app.notFound((c) => trackerErrorResponse(new SwarmError('TRACKER_NOT_FOUND', `no route for ${c.req.method} ${new URL(c.req.url).pathname}`), closeIfUnread(c)));

  app.get('/api/info', (c) =>
    c.json({ protocol: PROTOCOL_VERSION, trackerKey: base64UrlEncode(svc.key.publicKeyRaw), trackerKeyId: svc.key.keyId, registrationDifficulty: difficulty }),
  );

  app.post('/api/providers', async (c) => {
    const { who, json } = await signedJson(c, { maxBytes: MAX_JSON_BODY_BYTES, access: 'anyone', limit: 'registration' });
    const req = parseWire(RegisterProviderRequestSchema, json);
    if (req.publicKey !== base64UrlEncode(who.publicKey)) throw new SwarmError('TRACKER_FORBIDDEN', 'publicKey must be the key that signs the request');
    // Before anything is stored: the work this key did for this tracker, in this window (issue 25).
    verifyPow({ trackerKeyId: svc.key.keyId, keyId: who.keyId, nowMs: o.clock.now(), difficulty, solution: req.pow });
    return c.json(await svc.registerProvider(who, req));
  });

  app.get('/api/providers/:id', async (c) => {
    const id = c.req.param('id');
    if (!isBlobHash(id)) throw new SwarmError('TRACKER_BAD_REQUEST', 'a provider id is 64 lower-case hex characters');
    return c.json(await svc.providerStatus(id));
  });

  app.post('/api/scheduler', async (c) => {
    const { who, json } = await signedJson(c, { maxBytes: MAX_SCHEDULER_BODY_BYTES, access: 'known', limit: 'work' });
    const req = parseWire(SchedulerRequestSchema, json);
    return c.json(await svc.schedule(who.keyId, req));
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
    const { who, json } = await signedJson(c, TRAINER_ROUTE);
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
    const head = await admit(c, { maxBytes: maxBlob, access: 'known', limit: 'upload' });
    // Hashed while it streams: the signature covers the body's hash, and the
    // address must be that hash too (storeUpload checks it again, so a
    // mismatch stores nothing either way).
    const hash = createHash('sha256');
    const chunks: Uint8Array[] = [];
    await streamBody(c.req.raw, { maxBytes: maxBlob, deadline, onChunk: (b) => (hash.update(b), chunks.push(b)) });
    const digest = hash.digest('hex');
    const who = await verifyRequestBody(head, digest, { nonces: o.nonces });
    if (digest !== sha) throw new SwarmError('STORAGE_HASH_MISMATCH', 'blob bytes do not match their claimed SHA-256', { expected: sha, actual: digest });
    const body = concatArrays(Uint8Array, chunks);
    chunks.length = 0;
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

  // ---- the council (issue 20) -------------------------------------------------
  const MEMBER_ROUTE: SignedRoute = { maxBytes: MAX_JSON_BODY_BYTES, access: 'member', limit: 'work' };
  app.get('/api/council', async (c) => c.json(await svc.council.view()));
  app.get('/api/council/proposals', async (c) => {
    const status = c.req.query('status');
    if (status !== undefined && !(PROPOSAL_STATUSES as readonly string[]).includes(status)) {
      throw new SwarmError('TRACKER_BAD_REQUEST', `status must be one of ${PROPOSAL_STATUSES.join(', ')}`, { param: 'status' });
    }
    return c.json({ proposals: await svc.council.list(status as ProposalStatus | undefined) });
  });
  app.post('/api/council/proposals', async (c) => {
    const { who, json } = await signedJson(c, MEMBER_ROUTE);
    return c.json(await svc.council.propose(who.keyId, parseWire(ProposeRequestSchema, json)), 201);
  });
  app.get('/api/council/proposals/:id', async (c) => c.json(await svc.council.show(c.req.param('id'))));
  app.post('/api/council/proposals/:id/votes', async (c) => {
    const { who, json } = await signedJson(c, MEMBER_ROUTE);
    return c.json(await svc.council.vote(c.req.param('id'), who, parseWire(VoteRequestSchema, json).entry));
  });
  app.get('/api/releases', async (c) => c.json({ releases: await svc.council.releases() }));
  app.get('/api/releases/:name', async (c) => c.json(await svc.council.release(c.req.param('name'))));
  registerClaRoutes(app, { cla: svc.cla, signedJson: (c) => signedJson(c) });

  const runs = o.runs;
  if (runs !== undefined) {
    app.post('/api/runs', async (c) => {
      const { who, json } = await signedJson(c, { maxBytes: MAX_RUN_BODY_BYTES, access: 'trainer' });
      if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new SwarmError('TRACKER_BAD_REQUEST', 'send {"id": ..., "spec": {...}}');
      const { id, spec, ...rest } = json as { id?: unknown; spec?: unknown };
      if (Object.keys(rest).length > 0) throw new SwarmError('PROTOCOL_INVALID', `unknown member ${Object.keys(rest)[0]}`);
      if (typeof id !== 'string') throw new SwarmError('PROTOCOL_INVALID', 'id: must be a string');
      return c.json(await runs.create(who.keyId, id, spec), 201);
    });
    app.get('/api/runs', async (c) => c.json({ runs: await runs.list() }));
    app.get('/api/runs/:id', async (c) => c.json(await runs.get(c.req.param('id'))));
    app.post('/api/runs/:id/stop', async (c) => {
      // A stop carries no body: a limit of 0 bytes (the signature covers the empty body's hash).
      const { who } = await signed(c, { maxBytes: 0, access: 'trainer' });
      return c.json(await runs.stop(who.keyId, c.req.param('id')));
    });
  }

  registerDashboardApi(app, { db: svc.db, clock: o.clock });
  for (const m of o.mount ?? []) app.route(m.path, m.app);
  return app;
}
