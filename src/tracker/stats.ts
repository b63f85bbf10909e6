/**
 * The swarm's live statistics (issue 17, the dashboard's Swarm page and
 * GET /api/swarm): providers online, units issued / verified / rejected per
 * minute, sustained FLOP/s of verified work, each run's current round, the
 * ledger's size and latest signed tree head.
 *
 * One shared computation, not a query per viewer: snapshot() answers from a
 * cache younger than maxAgeMs, and concurrent callers while it refreshes
 * share the one refresh in flight. So a hundred open dashboards polling
 * every two seconds cost the database what one does.
 *
 * Rates come from the ledger, which already records every event with its
 * commit time (ledger_entries.created_at): a `unit-issued` entry per leased
 * replica, a `verdict` per judged result. The entries are read once each,
 * incrementally by sequence number (the primary key), and counted into
 * BUCKET_MS buckets kept for HISTORY_MS; nothing rescans the log. On the
 * first refresh the start of the window is found by a binary search over
 * seq (created_at grows with seq: the sequencer numbers entries in commit
 * order), a few primary-key lookups instead of a scan of a long log.
 *
 * Read-only: every statement here is a SELECT.
 */
import type { Clock } from '../core/clock.ts';
import { base64Encode } from '../core/encoding.ts';
import type { RunSummary, SwarmBucket, SwarmSnapshot } from '../protocol/views.ts';
import type { Db, Queryable } from './storage/db.ts';
import { ledgerSize } from './ledger/store.ts';

/** Width of one counting bucket. */
export const BUCKET_MS = 10_000;
/** How far back the series reaches. */
export const HISTORY_MS = 30 * 60_000;
/** The window of the "per minute" rates. */
export const RATE_WINDOW_MS = 60_000;
/** A provider counts as online when it asked for work this recently (or holds a live lease). */
export const ONLINE_MS = 15_000;
/** Entries read per query while catching up, and per refresh at most (the rest waits for the next one). */
const PAGE = 1000;
const MAX_PAGES_PER_REFRESH = 20;

export type { RunSummary, SwarmBucket, SwarmSnapshot } from '../protocol/views.ts';

export interface SwarmStatsOptions {
  db: Db;
  clock: Clock;
  /** how old a cached snapshot may be (default 1000 ms) */
  maxAgeMs?: number;
}

interface LedgerRow extends Record<string, unknown> {
  seq: string;
  created_at: string;
  kind: string | null;
  outcome: string | null;
  unit: string | null;
}

/** First seq whose created_at >= t (created_at grows with seq), in O(log size) primary-key lookups. */
export async function firstSeqSince(db: Queryable, t: number, size: number): Promise<number> {
  let lo = 0;
  let hi = size;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const rows = await db.query<{ created_at: string }>('SELECT created_at FROM ledger_entries WHERE seq = $1', [mid]);
    const at = rows.length === 0 ? Number.POSITIVE_INFINITY : Number(rows[0]!.created_at);
    if (at >= t) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

export class SwarmStats {
  private readonly db: Db;
  private readonly clock: Clock;
  private readonly maxAgeMs: number;
  private readonly buckets = new Map<number, SwarmBucket>();
  /** next ledger seq to read; undefined before the first refresh */
  private cursor: number | undefined;
  private cached: SwarmSnapshot | undefined;
  private inFlight: Promise<SwarmSnapshot> | undefined;

  constructor(o: SwarmStatsOptions) {
    this.db = o.db;
    this.clock = o.clock;
    this.maxAgeMs = o.maxAgeMs ?? 1000;
  }

  /** The latest snapshot, at most maxAgeMs old; one refresh at a time however many ask. */
  snapshot(): Promise<SwarmSnapshot> {
    const now = this.clock.now();
    if (this.cached !== undefined && now - this.cached.at < this.maxAgeMs) return Promise.resolve(this.cached);
    this.inFlight ??= this.refresh(now).then(
      (s) => {
        this.cached = s;
        this.inFlight = undefined;
        return s;
      },
      (e: unknown) => {
        this.inFlight = undefined;
        throw e;
      },
    );
    return this.inFlight;
  }

  private bucket(t: number): SwarmBucket {
    const start = t - (t % BUCKET_MS);
    let b = this.buckets.get(start);
    if (b === undefined) {
      b = { t: start, issued: 0, verified: 0, rejected: 0, flops: 0, online: null };
      this.buckets.set(start, b);
    }
    return b;
  }

  /** Counts the ledger entries appended since the last refresh into their buckets. */
  private async readLedger(now: number, size: number): Promise<void> {
    // The first refresh reads the log's last HISTORY_MS, so the rates are whole at once.
    this.cursor ??= await firstSeqSince(this.db, now - HISTORY_MS, size);
    for (let page = 0; page < MAX_PAGES_PER_REFRESH && this.cursor < size; page++) {
      // The entry is canonical JSON (src/ledger/entry.ts), so PostgreSQL can read its kind.
      const rows: LedgerRow[] = await this.db.query<LedgerRow>(
        `SELECT seq, created_at, e->>'kind' AS kind, e->'body'->>'outcome' AS outcome, e->'body'->>'unit' AS unit
           FROM (SELECT seq, created_at, convert_from(leaf_input, 'UTF8')::jsonb AS e
                   FROM ledger_entries WHERE seq >= $1 ORDER BY seq LIMIT $2) x ORDER BY seq`,
        [this.cursor, PAGE],
      );
      if (rows.length === 0) break;
      const valid = rows.filter((r) => r.kind === 'verdict' && r.outcome === 'valid' && r.unit !== null);
      const flops = new Map<string, number>();
      if (valid.length > 0) {
        const units = [...new Set(valid.map((r) => r.unit!))];
        for (const u of await this.db.query<{ id: string; flops: number }>('SELECT id, flops FROM units WHERE id = ANY($1::text[])', [units])) {
          flops.set(u.id, Number(u.flops));
        }
      }
      for (const r of rows) {
        const b = this.bucket(Number(r.created_at));
        if (r.kind === 'unit-issued') b.issued++;
        else if (r.kind === 'verdict' && r.outcome === 'valid') {
          b.verified++;
          b.flops += flops.get(r.unit ?? '') ?? 0;
        } else if (r.kind === 'verdict') b.rejected++;
      }
      this.cursor = Number(rows[rows.length - 1]!.seq) + 1;
    }
    for (const t of this.buckets.keys()) if (t < now - HISTORY_MS) this.buckets.delete(t);
  }

  private async refresh(now: number): Promise<SwarmSnapshot> {
    const size = await ledgerSize(this.db);
    await this.readLedger(now, size);

    // online: asked for work lately, or holding a live lease (busy providers only heartbeat)
    const [online] = await this.db.query<{ n: string }>(
      `SELECT count(*) AS n FROM providers p WHERE p.last_seen > $1
          OR EXISTS (SELECT 1 FROM replicas r WHERE r.provider = p.key_id AND r.state = 'in-progress' AND r.deadline > $2)`,
      [now - ONLINE_MS, now],
    );
    const [registered] = await this.db.query<{ n: string }>('SELECT count(*) AS n FROM providers');
    const onlineNow = Number(online!.n);
    const cur = this.bucket(now);
    cur.online = Math.max(cur.online ?? 0, onlineNow);

    const windowStart = now - RATE_WINDOW_MS;
    const windowMs = RATE_WINDOW_MS;
    const last = { issued: 0, verified: 0, rejected: 0, flops: 0 };
    for (const b of this.buckets.values()) {
      // A bucket counts in proportion to its overlap with the window (the
      // current one is only filled up to now, and counts whole).
      const end = Math.min(b.t + BUCKET_MS, now);
      const overlap = end - Math.max(b.t, windowStart);
      if (overlap <= 0) continue;
      const share = Math.min(1, overlap / Math.max(end - b.t, 1));
      last.issued += b.issued * share;
      last.verified += b.verified * share;
      last.rejected += b.rejected * share;
      last.flops += b.flops * share;
    }

    const series: SwarmBucket[] = [];
    const first = now - HISTORY_MS - ((now - HISTORY_MS) % BUCKET_MS) + BUCKET_MS;
    for (let t = first; t <= now; t += BUCKET_MS) {
      series.push({ ...(this.buckets.get(t) ?? { t, issued: 0, verified: 0, rejected: 0, flops: 0, online: null }) });
    }

    return {
      at: now,
      providers: { online: onlineNow, registered: Number(registered!.n) },
      lastMinute: {
        windowMs,
        issued: Math.round(last.issued),
        verified: Math.round(last.verified),
        rejected: Math.round(last.rejected),
        verifiedFlopsPerSecond: last.flops / (windowMs / 1000),
      },
      series,
      bucketMs: BUCKET_MS,
      runs: await this.runs(),
      ledger: { size, head: await this.head() },
    };
  }

  private async runs(): Promise<RunSummary[]> {
    const rows = await this.db.query<{
      id: string; label: string | null; rounds: number | null; floor: number | null;
      status: string | null; round: number | null; done: number | null; eval_loss: Record<string, number> | null;
    }>(
      `SELECT id, spec->>'label' AS label, (spec->>'rounds')::int AS rounds, (spec->>'entropyFloor')::float8 AS floor,
              progress->>'status' AS status, (progress->>'round')::int AS round,
              jsonb_array_length(COALESCE(progress->'history', '[]'::jsonb)) AS done, progress->'evalLoss' AS eval_loss
         FROM runs WHERE spec->>'kind' = 'diloco' ORDER BY created_at DESC, id LIMIT 50`,
    );
    return rows.map((r) => {
      const evals = Object.entries(r.eval_loss ?? {}).map(([k, v]) => [Number(k), v] as const).sort((a, b) => b[0] - a[0]);
      return {
        id: r.id,
        label: r.label ?? '',
        status: r.status ?? 'training',
        round: r.round ?? 0,
        rounds: r.rounds ?? 0,
        roundsDone: Number(r.done ?? 0),
        evalLoss: evals[0]?.[1] ?? null,
        evalRound: evals[0]?.[0] ?? null,
        entropyFloor: r.floor ?? null,
      };
    });
  }

  private async head(): Promise<SwarmSnapshot['ledger']['head']> {
    const rows = await this.db.query<{ tree_size: string; timestamp: string; root_hash: Uint8Array; signature: Uint8Array; key_id: string }>(
      'SELECT tree_size, timestamp, root_hash, signature, key_id FROM ledger_heads ORDER BY tree_size DESC LIMIT 1',
    );
    const h = rows[0];
    if (h === undefined) return null;
    return {
      tree_size: Number(h.tree_size),
      timestamp: Number(h.timestamp),
      sha256_root_hash: base64Encode(h.root_hash),
      tree_head_signature: base64Encode(h.signature),
      key_id: h.key_id,
    };
  }
}
