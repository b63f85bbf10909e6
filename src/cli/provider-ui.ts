/**
 * The provider's own page (issue 17; DESIGN.md, People: a Provider gets "a
 * local status page"), like Folding@home's web control: `swarm provide`
 * serves it on 127.0.0.1 (default port 7071, `--ui-port N`, `--no-ui`).
 * The page (src/web/provider/, bundled into build/web/provider/) reads and
 * drives a tiny JSON API on the same server:
 *
 *   GET  /api/status    state, unit in hand and its progress, results
 *                       computed / acknowledged, credit, reputation, paused,
 *                       the policy in force
 *   POST /api/pause     take no new units (the unit in hand may finish)
 *   POST /api/resume    take units again
 *   PUT  /api/policy    {threads?, maxCpu?, idleOnly?, hours?} — hours is
 *                       {from, to}, "22-7", or null (any time)
 *
 * Who may drive it: the server listens on 127.0.0.1 only, and every API
 * request must carry the per-start random token (header x-swarm-token) that
 * is in the page address printed at start (`/?token=…`). Another local
 * user's web page (any origin, even another port of 127.0.0.1) does not
 * know it and cannot read it, and a custom header is never sent cross-origin
 * without a CORS preflight this server does not answer: such requests get
 * 403 PROVIDER_UI_FORBIDDEN. A request from a foreign Origin, or for a host
 * name other than loopback (DNS rebinding), is refused the same way. Bodies
 * are JSON of at most 4 KiB, parsed by zod: a bad policy is 400
 * PROVIDER_BAD_POLICY and nothing changes.
 *
 * The static files are read once at start (no file system access on the
 * request path) and served with the dashboard's strict CSP.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { join } from 'node:path';
import { Hono } from 'hono';
import type { Context } from 'hono';
import { z } from 'zod';
import { SwarmError, isSwarmError } from '../core/errors.ts';
import { readCappedBody } from '../core/read-capped.ts';
import type { ProviderStatusLine } from '../provider/loop.ts';
import { MAX_THREADS, parseHours } from '../provider/policy.ts';
import type { HoursWindow, ProviderPolicy } from '../provider/policy.ts';
import { DEFAULT_WEB_DIR, SECURITY_HEADERS, loadBuild } from './dashboard.ts';
import { listen } from './serve.ts';

export const DEFAULT_UI_PORT = 7071;
export const TOKEN_HEADER = 'x-swarm-token';
const MAX_BODY = 4096;

/** What the page controls: a ProviderLoop has all of these. */
export interface ProviderControl {
  readonly status: ProviderStatusLine;
  readonly paused: boolean;
  readonly policy: ProviderPolicy;
  pause(): void;
  resume(): void;
  setPolicy(patch: Partial<ProviderPolicy>): ProviderPolicy;
}

export interface ProviderUiInfo {
  name: string;
  team?: string;
  /** this provider's key id */
  id: string;
  tracker: string;
  /** whether idle-only can be turned on (the machine has an idle probe) */
  idleProbe: boolean;
}

/** GET /api/status (and the answer to pause, resume and a policy change). */
export interface ProviderUiStatus {
  provider: ProviderUiInfo;
  paused: boolean;
  policy: ProviderPolicy;
  status: ProviderStatusLine;
}

const HoursSchema = z
  .strictObject({ from: z.number().int().min(0).max(23), to: z.number().int().min(0).max(24) })
  .refine((h) => h.from !== h.to, 'hours: from and to must differ');

/** PUT /api/policy: any subset of the policy. */
export const PolicyPatchSchema = z.strictObject({
  threads: z.number().int().min(1).max(MAX_THREADS).optional(),
  maxCpu: z.number().gt(0).max(100).optional(),
  idleOnly: z.boolean().optional(),
  hours: z.union([HoursSchema, z.string().max(16), z.null()]).optional(),
});

const STATUS: Record<string, number> = {
  PROVIDER_UI_FORBIDDEN: 403,
  PROVIDER_BAD_POLICY: 400,
  PROVIDER_UI_BAD_JSON: 400,
  PROVIDER_UI_BODY_TOO_LARGE: 413,
  PROVIDER_UI_UNSUPPORTED_MEDIA: 415,
  PROVIDER_UI_NOT_FOUND: 404,
};
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

export const UI_NOT_BUILT_TEXT = 'The provider page is not built. Run `npm run build:web` (npm install does it too), then reload this page.\n';

/** A fresh random token for one start (32 bytes, base64url). */
export function newUiToken(): string {
  return randomBytes(32).toString('base64url');
}

function sameToken(given: string | undefined, token: string): boolean {
  if (given === undefined) return false;
  // equal-length digests, compared in constant time
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}

function errorResponse(c: Context, e: unknown): Response {
  const code = isSwarmError(e) ? e.code : 'PROVIDER_UI_INTERNAL';
  const status = STATUS[code] ?? (isSwarmError(e) && code.startsWith('PROVIDER_') ? 400 : 500);
  const message = status === 500 ? 'internal error' : (e as Error).message;
  return c.json({ error: { code, message } }, status as 400);
}

async function readPatch(req: Request): Promise<Partial<ProviderPolicy>> {
  if (!/^application\/json\b/i.test(req.headers.get('content-type') ?? '')) {
    throw new SwarmError('PROVIDER_UI_UNSUPPORTED_MEDIA', 'the body must be application/json');
  }
  const bytes = await readCappedBody(req, MAX_BODY, () => new SwarmError('PROVIDER_UI_BODY_TOO_LARGE', `the body is larger than ${MAX_BODY} bytes`));
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new SwarmError('PROVIDER_UI_BAD_JSON', 'the body is not JSON');
  }
  const r = PolicyPatchSchema.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new SwarmError('PROVIDER_BAD_POLICY', `${i.path.join('.') || 'policy'}: ${i.message}`);
  }
  const { hours, ...rest } = r.data;
  const patch: Partial<ProviderPolicy> = { ...rest };
  if (hours !== undefined) patch.hours = typeof hours === 'string' ? parseHours(hours) : (hours as HoursWindow | null);
  return patch;
}

/** The page and its API. `dir`: the page's build (default build/web/provider). */
export function createProviderUiApp(o: { control: ProviderControl; info: ProviderUiInfo; token: string; dir?: string }): Hono {
  const build = loadBuild(o.dir ?? join(DEFAULT_WEB_DIR, 'provider'));
  const app = new Hono();
  const snapshot = (): ProviderUiStatus => ({ provider: o.info, paused: o.control.paused, policy: o.control.policy, status: { ...o.control.status } });

  // Loopback names only (a rebound DNS name is refused), and no foreign Origin.
  app.use('*', async (c, next) => {
    const url = new URL(c.req.url);
    const origin = c.req.header('origin');
    if (!LOOPBACK.has(url.hostname) || (origin !== undefined && origin !== url.origin)) {
      return errorResponse(c, new SwarmError('PROVIDER_UI_FORBIDDEN', 'only pages of this provider on 127.0.0.1 may use it'));
    }
    await next();
    return undefined;
  });
  app.use('/api/*', async (c, next) => {
    if (!sameToken(c.req.header(TOKEN_HEADER), o.token)) {
      return errorResponse(c, new SwarmError('PROVIDER_UI_FORBIDDEN', `this API needs the token from the address \`swarm provide\` printed (header ${TOKEN_HEADER})`));
    }
    c.header('cache-control', 'no-store');
    await next();
    return undefined;
  });
  app.onError((e, c) => errorResponse(c, e));

  app.get('/api/status', (c) => c.json(snapshot()));
  app.post('/api/pause', (c) => {
    o.control.pause();
    return c.json(snapshot());
  });
  app.post('/api/resume', (c) => {
    o.control.resume();
    return c.json(snapshot());
  });
  app.put('/api/policy', async (c) => {
    o.control.setPolicy(await readPatch(c.req.raw));
    return c.json(snapshot());
  });
  app.all('/api/*', (c) => errorResponse(c, new SwarmError('PROVIDER_UI_NOT_FOUND', 'no such API path')));

  const page = (): Response =>
    build === undefined
      ? new Response(UI_NOT_BUILT_TEXT, { status: 503, headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' } })
      : new Response(build.index, { headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache', ...SECURITY_HEADERS } });
  app.get('/', () => page());
  app.get('/assets/:name', (c) => {
    const a = build?.assets.get(c.req.param('name'));
    if (a === undefined) return c.text('no such asset\n', 404);
    return new Response(a.bytes, { headers: { 'content-type': a.type, 'cache-control': 'no-cache', ...SECURITY_HEADERS } });
  });
  app.all('*', (c) => c.text('not found\n', 404));
  return app;
}

export interface RunningProviderUi {
  /** the page's address with its token: print this */
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Serves the page on 127.0.0.1:`port`. When the default port is taken
 * (another provider on this machine) and `fallback` is set, any free port is
 * used instead; an explicit port that is taken is PROVIDER_UI_LISTEN.
 */
export async function startProviderUi(o: {
  control: ProviderControl;
  info: ProviderUiInfo;
  port: number;
  fallback?: boolean;
  token?: string;
  dir?: string;
}): Promise<RunningProviderUi> {
  const token = o.token ?? newUiToken();
  const app = createProviderUiApp({ control: o.control, info: o.info, token, ...(o.dir === undefined ? {} : { dir: o.dir }) });
  let server;
  try {
    server = await listen(app, { port: o.port, host: '127.0.0.1' });
  } catch (e) {
    if (o.fallback !== true || (e as NodeJS.ErrnoException).code !== 'EADDRINUSE') {
      throw new SwarmError('PROVIDER_UI_LISTEN', `cannot serve the provider page on 127.0.0.1:${o.port}: ${(e as Error).message} (--ui-port N, or --no-ui)`);
    }
    server = await listen(app, { port: 0, host: '127.0.0.1' });
  }
  return { url: `${server.url}/?token=${token}`, port: server.port, close: server.close };
}
