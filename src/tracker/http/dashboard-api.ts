/**
 * The JSON API behind the dashboard (issue 17): the pages read these routes
 * and the existing ones (/api/info, /api/leaderboard, /api/providers/:id,
 * /api/runs, /api/runs/:id, /api/blobs/:sha, /ledger/v1/...), exactly as a
 * script would; nothing is computed only for a page.
 *
 *   GET /api/swarm                              live statistics (stats.ts), one shared
 *                                               computation cached for ~1 s, however many poll
 *   GET /api/runs/:id/units[?round=R]           a run's units, replicas and verdicts (newest rounds)
 *   GET /api/providers/:id/replicas[?limit=N]   a provider's newest replicas (its history)
 *   GET /api/ledger/entries[?kind=&identity=&before=&limit=]
 *                                               ledger entries newest first, canonical JSON and leaf bytes
 *   GET /api/ledger/entries/:index              one entry
 *   GET /api/releases/:name/card                a released model's card, generated from the ledger
 *                                               (model-card.ts; COUNCIL_UNKNOWN_RELEASE for an unknown name)
 *
 * Read-only; bad parameters are TRACKER_BAD_REQUEST, unknown things
 * TRACKER_NOT_FOUND / LEDGER_NOT_FOUND, written by the app's one error
 * mapper (errors.ts).
 */
import type { Context, Hono } from 'hono';
import type { Clock } from '../../core/clock.ts';
import { SwarmError } from '../../core/errors.ts';
import { ENTRY_KINDS } from '../../ledger/entry.ts';
import { ledgerEntries, ledgerEntry, providerReplicas, runUnits } from '../explore.ts';
import { modelCard } from '../model-card.ts';
import { SwarmStats } from '../stats.ts';
import type { Db } from '../storage/db.ts';

export interface DashboardApiDeps {
  db: Db;
  clock: Clock;
}

const HEX64 = /^[0-9a-f]{64}$/;

/** An optional decimal query parameter in [min, max]; TRACKER_BAD_REQUEST otherwise. */
function intParam(c: Context, name: string, min: number, max: number): number | undefined {
  const v = c.req.query(name);
  if (v === undefined || v === '') return undefined;
  if (!/^(0|[1-9][0-9]{0,15})$/.test(v) || Number(v) < min || Number(v) > max) {
    throw new SwarmError('TRACKER_BAD_REQUEST', `${name} must be an integer from ${min} to ${max}`, { param: name });
  }
  return Number(v);
}

/** Registers the dashboard's routes on the tracker's app (before its mounts). */
export function registerDashboardApi(app: Hono, deps: DashboardApiDeps): void {
  const stats = new SwarmStats({ db: deps.db, clock: deps.clock });

  app.get('/api/swarm', async (c) => c.json(await stats.snapshot()));

  app.get('/api/runs/:id/units', async (c) => {
    const round = intParam(c, 'round', 0, 1_000_000);
    return c.json(await runUnits(deps.db, c.req.param('id'), round));
  });

  app.get('/api/providers/:id/replicas', async (c) => {
    const id = c.req.param('id');
    if (!HEX64.test(id)) throw new SwarmError('TRACKER_BAD_REQUEST', 'a provider id is 64 lower-case hex characters');
    const known = await deps.db.query('SELECT 1 FROM providers WHERE key_id = $1', [id]);
    if (known.length === 0) throw new SwarmError('TRACKER_NOT_FOUND', 'no such provider', { provider: id });
    return c.json({ provider: id, replicas: await providerReplicas(deps.db, id, intParam(c, 'limit', 1, 200) ?? 50) });
  });

  app.get('/api/ledger/entries', async (c) => {
    const kind = c.req.query('kind') || undefined;
    if (kind !== undefined && !(ENTRY_KINDS as readonly string[]).includes(kind)) {
      throw new SwarmError('TRACKER_BAD_REQUEST', `kind must be one of ${ENTRY_KINDS.join(', ')}`, { param: 'kind' });
    }
    const identity = c.req.query('identity') || undefined;
    if (identity !== undefined && !HEX64.test(identity)) throw new SwarmError('TRACKER_BAD_REQUEST', 'identity is a key id: 64 lower-case hex characters', { param: 'identity' });
    const before = intParam(c, 'before', 0, Number.MAX_SAFE_INTEGER);
    const limit = intParam(c, 'limit', 1, 200) ?? 50;
    return c.json(await ledgerEntries(deps.db, { limit, ...(kind === undefined ? {} : { kind }), ...(identity === undefined ? {} : { identity }), ...(before === undefined ? {} : { before }) }));
  });

  app.get('/api/ledger/entries/:index', async (c) => {
    const v = c.req.param('index');
    if (!/^(0|[1-9][0-9]{0,15})$/.test(v) || !Number.isSafeInteger(Number(v))) throw new SwarmError('TRACKER_BAD_REQUEST', 'an entry index is a non-negative decimal integer');
    return c.json(await ledgerEntry(deps.db, Number(v)));
  });

  app.get('/api/releases/:name/card', async (c) => c.json(await modelCard(deps.db, c.req.param('name'))));
}
