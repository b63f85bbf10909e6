/**
 * The tracker's database handle: one small interface over two drivers so one
 * SQL dialect (PostgreSQL) serves both the embedded PGlite (default, data
 * under $SWARM_HOME) and a real PostgreSQL server (`--db postgres://...`,
 * shared by several tracker processes). DESIGN.md "Processes".
 *
 * Contract:
 * - `query(sql, params)` runs ONE statement with $1..$n parameters and returns
 *   its rows. Values come back as the drivers parse them, normalised so both
 *   adapters agree: bytea → plain Uint8Array (pg gives a Buffer), int8 →
 *   string (pg's default; PGlite is configured to match), jsonb → parsed JSON.
 * - `transaction(fn)` runs `fn` inside BEGIN … COMMIT (ROLLBACK if it throws)
 *   at PostgreSQL's default isolation, READ COMMITTED, where each statement
 *   sees every row committed before it began (PostgreSQL docs §13.2.1). The
 *   work assignment (tracker/scheduler.ts) relies on that. Inside,
 *   `transaction` again nests with a SAVEPOINT.
 * - Every driver failure becomes a SwarmError: STORAGE_CONFLICT (unique
 *   violation, serialization failure, deadlock: the caller may retry),
 *   STORAGE_UNAVAILABLE (cannot reach / closed database), STORAGE_ERROR
 *   (anything else). The message is generic and safe to show in an HTTP body;
 *   the SQL text, SQLSTATE and driver message go to `details` only, which the
 *   HTTP error mapper must not echo for 5xx.
 * - A SwarmError thrown by `fn` passes through unchanged.
 */
import { SwarmError, isSwarmError } from '../../core/errors.ts';

export type Row = Record<string, unknown>;

/** What a statement can run on: the database or an open transaction. */
export interface Queryable {
  query<T extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Runs `fn` atomically; nested calls use a SAVEPOINT. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
}

export interface Db extends Queryable {
  readonly driver: 'pglite' | 'postgres';
  close(): Promise<void>;
  /** PGlite only: the data directory as a tarball (PGlite dumpDataDir), which openPglite's `template` loads */
  dumpDataDir?(): Promise<Blob>;
}

// ---------------------------------------------------------------------------
// Error mapping (SQLSTATE codes: PostgreSQL docs, Appendix A "Error Codes").

const CONFLICT_STATES = new Set(['23505', '40001', '40P01']); // unique_violation, serialization_failure, deadlock_detected
const MAX_SQL_IN_DETAILS = 500;

function isUnavailable(e: { code?: unknown; message?: unknown }): boolean {
  const code = typeof e.code === 'string' ? e.code : '';
  // Class 08 connection exception, 57P01..57P03 shutdown / cannot connect now, 53300 too_many_connections.
  if (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300') return true;
  if (['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH'].includes(code)) return true;
  const msg = typeof e.message === 'string' ? e.message : '';
  return /closed|terminat|Connection terminated|Cannot use a pool after calling end/i.test(msg);
}

/** Turns a driver error into a coded SwarmError (SwarmErrors pass through). */
export function mapDbError(e: unknown, sql?: string): SwarmError {
  if (isSwarmError(e)) return e;
  const err = (typeof e === 'object' && e !== null ? e : { message: String(e) }) as {
    code?: unknown; message?: unknown; constraint?: unknown; table?: unknown;
  };
  const details: Record<string, unknown> = {};
  if (typeof err.code === 'string') details.sqlstate = err.code;
  if (typeof err.constraint === 'string') details.constraint = err.constraint;
  if (typeof err.table === 'string') details.table = err.table;
  if (typeof err.message === 'string') details.driverMessage = err.message;
  if (sql !== undefined) details.sql = sql.length > MAX_SQL_IN_DETAILS ? `${sql.slice(0, MAX_SQL_IN_DETAILS)}…` : sql;
  const opts = { cause: e };
  if (typeof err.code === 'string' && CONFLICT_STATES.has(err.code)) {
    details.retryable = err.code !== '23505';
    return new SwarmError('STORAGE_CONFLICT', 'the change conflicts with stored data', details, opts);
  }
  if (isUnavailable(err)) return new SwarmError('STORAGE_UNAVAILABLE', 'the database is unavailable', details, opts);
  return new SwarmError('STORAGE_ERROR', 'a database operation failed', details, opts);
}

function normaliseRow(row: Row): Row {
  for (const k of Object.keys(row)) {
    const v = row[k];
    // pg returns bytea as a Buffer; hand out plain Uint8Arrays from both drivers.
    if (v instanceof Uint8Array && v.constructor !== Uint8Array) row[k] = new Uint8Array(v);
  }
  return row;
}

type RawQuery = (sql: string, params: readonly unknown[]) => Promise<Row[]>;

/** A Queryable over an open transaction; nested transactions are savepoints. */
function txQueryable(raw: RawQuery): Queryable {
  let depth = 0;
  const q: Queryable = {
    async query<T extends Row = Row>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
      try {
        return (await raw(sql, params)).map(normaliseRow) as T[];
      } catch (e) {
        throw mapDbError(e, sql);
      }
    },
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      const name = `sp_${++depth}`;
      await q.query(`SAVEPOINT ${name}`);
      try {
        const out = await fn(q);
        await q.query(`RELEASE SAVEPOINT ${name}`);
        return out;
      } catch (e) {
        await q.query(`ROLLBACK TO SAVEPOINT ${name}`);
        throw mapDbError(e);
      } finally {
        depth--;
      }
    },
  };
  return q;
}

// ---------------------------------------------------------------------------
// PGlite (embedded PostgreSQL compiled to WASM, one connection per instance).

/**
 * Opens PGlite in memory (no argument) or on a data directory. A PGlite data
 * directory belongs to ONE instance: PGlite is a single-user backend with no
 * cross-process locking, so two handles (or two processes) on one directory
 * are not supported. Several trackers sharing a database need PostgreSQL.
 */
export async function openPglite(dataDir?: string, o: { template?: Blob } = {}): Promise<Db> {
  const { PGlite, types } = await import('@electric-sql/pglite');
  let pg: InstanceType<typeof PGlite>;
  try {
    // int8 as string, like node-postgres, so callers see one representation.
    // `template`: a data directory dumped by PGlite's dumpDataDir, loaded
    // instead of running initdb (tests start from a migrated template).
    pg = await PGlite.create(dataDir, { parsers: { [types.INT8]: (v: string) => v }, ...(o.template === undefined ? {} : { loadDataDir: o.template }) });
  } catch (e) {
    throw new SwarmError('STORAGE_UNAVAILABLE', 'the database is unavailable', { driverMessage: String(e) }, { cause: e });
  }
  const rawOn = (target: { query: (s: string, p?: unknown[]) => Promise<{ rows: unknown[] }> }): RawQuery =>
    async (sql, params) => (await target.query(sql, [...params])).rows as Row[];
  const top = txQueryable(rawOn(pg));
  return {
    driver: 'pglite',
    query: top.query,
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      try {
        // PGlite's transaction() holds its connection mutex until COMMIT/ROLLBACK,
        // so other queries on this handle wait rather than interleave.
        return await pg.transaction(async (tx) => fn(txQueryable(rawOn(tx))));
      } catch (e) {
        throw mapDbError(e);
      }
    },
    async close(): Promise<void> {
      if (!pg.closed) await pg.close();
    },
    async dumpDataDir(): Promise<Blob> {
      return pg.dumpDataDir('none');
    },
  };
}

// ---------------------------------------------------------------------------
// PostgreSQL via a node-postgres pool.

export interface PostgresOptions {
  /** Pool size (node-postgres default 10). */
  max?: number;
  connectionTimeoutMillis?: number;
}

/** Opens a pooled connection to a PostgreSQL server and checks it answers. */
export async function openPostgres(url: string, options: PostgresOptions = {}): Promise<Db> {
  const pgMod = await import('pg');
  const Pool = pgMod.default.Pool;
  const pool = new Pool({
    connectionString: url,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMillis ?? 10_000,
  });
  // An idle client losing its server emits 'error' on the pool; unhandled, it
  // would crash the process. The next query reports STORAGE_UNAVAILABLE instead.
  pool.on('error', () => {});
  const rawOn = (target: { query: (s: string, p?: unknown[]) => Promise<{ rows: unknown[] }> }): RawQuery =>
    async (sql, params) => (await target.query(sql, [...params])).rows as Row[];
  const top = txQueryable(rawOn(pool));
  const db: Db = {
    driver: 'postgres',
    query: top.query,
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      let client;
      try {
        client = await pool.connect();
      } catch (e) {
        throw mapDbError(e);
      }
      let broken = false;
      try {
        await client.query('BEGIN');
        const out = await fn(txQueryable(rawOn(client)));
        await client.query('COMMIT');
        return out;
      } catch (e) {
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true; // connection is unusable: destroy it instead of returning it to the pool
        }
        throw mapDbError(e);
      } finally {
        client.release(broken);
      }
    },
    async close(): Promise<void> {
      await pool.end();
    },
  };
  try {
    await db.query('SELECT 1');
  } catch (e) {
    await pool.end().catch(() => {});
    throw e;
  }
  return db;
}

/** Opens PostgreSQL for a postgres:// or postgresql:// URL, else PGlite on `target` (a data dir; undefined = memory). */
export async function openDb(target?: string): Promise<Db> {
  if (target !== undefined && /^postgres(ql)?:\/\//i.test(target)) return openPostgres(target);
  return openPglite(target);
}
