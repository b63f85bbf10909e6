/**
 * Schema migrations: one ordered list of PostgreSQL statements that serves
 * both PGlite and PostgreSQL.
 *
 * `migrate(db)` applies the missing ones in ONE transaction that first takes
 * a transaction-level advisory lock, `pg_advisory_xact_lock(key)` (PostgreSQL
 * docs §9.27.10 "Advisory Lock Functions" and §13.3.5 "Advisory Locks"): when
 * several tracker processes start at once on one PostgreSQL, the second waits
 * until the first commits and then finds every version already recorded in
 * schema_migrations, so nothing runs twice and no two CREATE TABLEs race
 * (concurrent CREATE TABLE IF NOT EXISTS can still fail on the catalog's
 * unique index without the lock). The lock is released at COMMIT/ROLLBACK by
 * the server, even if the process dies. A failing migration rolls back whole.
 *
 * Rules for new migrations: append only, never edit a released one, one
 * statement per array element (PGlite's parameterised query runs one).
 * Migrations after the first two live beside what they serve
 * (migration-work-queue.ts, ledger-queue.ts); the type is ./migration.ts, on
 * its own so that no file here imports another in a circle.
 *
 * Times are integer milliseconds since the epoch from the injected Clock
 * (src/core/clock.ts), not now(), so tests and replays control them.
 */
import { SwarmError } from '../../core/errors.ts';
import type { Db } from './db.ts';
import type { Migration } from './migration.ts';
import { LEDGER_QUEUE_MIGRATION } from './ledger-queue.ts';
import { HELD_INPUTS_MIGRATION, PARAMS_PATCH_MIGRATION, REPLICA_WORDS_MIGRATION, RUN_PROGRESS_MIGRATION, WORK_QUEUE_MIGRATION } from './migration-work-queue.ts';
import { PENDING_REGISTRATION_MIGRATION } from './migration-registration.ts';
import { COUNCIL_MIGRATION } from './migration-council.ts';
import { CLA_MIGRATION } from './migration-cla.ts';
import { CLIENT_KIND_MIGRATION } from './migration-client.ts';

/** Arbitrary 64-bit key naming "the swarm schema" in the advisory-lock space. */
export const MIGRATION_LOCK_KEY = 0x5357_4d49_4752n; // "SWMIGR"

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    statements: [
      `CREATE TABLE providers (
         key_id        text PRIMARY KEY,
         public_key    bytea NOT NULL,
         name          text,
         team          text,
         created_at    bigint NOT NULL,
         valid_count   bigint NOT NULL DEFAULT 0,
         invalid_count bigint NOT NULL DEFAULT 0,
         credit        double precision NOT NULL DEFAULT 0,
         rac           double precision NOT NULL DEFAULT 0,
         rac_time      bigint NOT NULL DEFAULT 0
       )`,
      `CREATE TABLE runs (
         id         text PRIMARY KEY,
         spec       jsonb NOT NULL,
         created_at bigint NOT NULL,
         state      text NOT NULL
       )`,
      // params: BOINC's minQuorum, targetResults, maxErrorResults, maxTotalResults, …
      `CREATE TABLE units (
         id             text PRIMARY KEY,
         run_id         text REFERENCES runs(id),
         kind           text NOT NULL,
         spec           jsonb NOT NULL,
         state          text NOT NULL,
         params         jsonb NOT NULL,
         canonical_hash text,
         created_at     bigint NOT NULL
       )`,
      `CREATE INDEX units_open_idx ON units (created_at, id) WHERE state = 'open'`,
      // UNIQUE (unit_id, provider): never two replicas of one unit to one identity
      // (issue 5), enforced by the database whatever the scheduler does.
      `CREATE TABLE replicas (
         id          text PRIMARY KEY,
         unit_id     text NOT NULL REFERENCES units(id),
         provider    text NOT NULL,
         issued_at   bigint NOT NULL,
         deadline    bigint NOT NULL,
         state       text NOT NULL,
         result_hash text,
         CONSTRAINT replicas_unit_provider_key UNIQUE (unit_id, provider)
       )`,
      `CREATE TABLE blobs (
         sha256     text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
         size       bigint NOT NULL CHECK (size >= 0),
         created_at bigint NOT NULL
       )`,
      `CREATE TABLE blob_data (
         sha256 text PRIMARY KEY REFERENCES blobs(sha256) ON DELETE CASCADE,
         bytes  bytea NOT NULL
       )`,
      // EXTERNAL = out-of-line, uncompressed TOAST: substring() on it reads only
      // the chunks it needs, which is what HTTP Range reads do (PostgreSQL docs
      // §73.2 "TOAST": "Use of EXTERNAL will make substring operations on wide
      // text and bytea columns faster"). Blobs are float tensors: compression
      // would gain little anyway.
      `ALTER TABLE blob_data ALTER COLUMN bytes SET STORAGE EXTERNAL`,
      // seq is the RFC 6962 leaf index: 0, 1, 2, … with no gaps. Not bigserial:
      // a sequence value consumed by a rolled-back transaction leaves a hole,
      // and concurrent appenders could commit out of order. The sequencer
      // numbers queued leaves max+1 … in one statement instead, the primary
      // key guarding it (ledger-queue.ts sequenceLedger).
      `CREATE TABLE ledger_entries (
         seq        bigint PRIMARY KEY CHECK (seq >= 0),
         leaf_input bytea NOT NULL,
         leaf_hash  bytea NOT NULL UNIQUE CHECK (length(leaf_hash) = 32),
         created_at bigint NOT NULL
       )`,
    ],
  },
  {
    version: 2,
    name: 'ledger heads and cosignatures',
    statements: [
      // Signed tree heads (RFC 6962 §3.5), written by src/tracker/ledger/heads.ts.
      // Heads only grow: each one covers more entries than the one before
      // (tree_size is the key), and its timestamp is never older.
      `CREATE TABLE ledger_heads (
         tree_size  bigint PRIMARY KEY CHECK (tree_size >= 0),
         timestamp  bigint NOT NULL CHECK (timestamp >= 0),
         root_hash  bytea NOT NULL CHECK (length(root_hash) = 32),
         signature  bytea NOT NULL CHECK (length(signature) = 64),
         key_id     text NOT NULL CHECK (key_id ~ '^[0-9a-f]{64}$')
       )`,
      // Witness cosignatures of a head; a witness is its key (key_id = SHA-256 of public_key).
      `CREATE TABLE ledger_cosignatures (
         tree_size  bigint NOT NULL REFERENCES ledger_heads(tree_size) ON DELETE CASCADE,
         key_id     text NOT NULL CHECK (key_id ~ '^[0-9a-f]{64}$'),
         public_key bytea NOT NULL CHECK (length(public_key) = 32),
         signature  bytea NOT NULL CHECK (length(signature) = 64),
         created_at bigint NOT NULL,
         PRIMARY KEY (tree_size, key_id)
       )`,
    ],
  },
  WORK_QUEUE_MIGRATION,
  RUN_PROGRESS_MIGRATION,
  HELD_INPUTS_MIGRATION,
  LEDGER_QUEUE_MIGRATION,
  PARAMS_PATCH_MIGRATION,
  REPLICA_WORDS_MIGRATION,
  PENDING_REGISTRATION_MIGRATION,
  COUNCIL_MIGRATION,
  CLA_MIGRATION,
  CLIENT_KIND_MIGRATION,
];

function checkMigrations(list: readonly Migration[]): void {
  let prev = 0;
  for (const m of list) {
    if (!Number.isSafeInteger(m.version) || m.version <= prev) {
      throw new SwarmError('STORAGE_MIGRATION_ORDER', 'migrations must have strictly increasing positive versions', { version: m.version });
    }
    prev = m.version;
  }
}

export interface MigrateResult {
  /** Versions applied by this call (empty when the schema was current). */
  applied: number[];
  /** The schema version after the call. */
  version: number;
}

/**
 * Brings the schema up to date; safe to call on every start, from any number
 * of processes at once. `now` stamps schema_migrations.applied_at.
 */
export async function migrate(db: Db, options: { now?: number; migrations?: readonly Migration[] } = {}): Promise<MigrateResult> {
  const list = options.migrations ?? MIGRATIONS;
  checkMigrations(list);
  const now = options.now ?? 0;
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [MIGRATION_LOCK_KEY.toString()]);
    await tx.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         version    integer PRIMARY KEY,
         name       text NOT NULL,
         applied_at bigint NOT NULL
       )`,
    );
    const rows = await tx.query<{ version: number }>('SELECT version FROM schema_migrations');
    const done = new Set(rows.map((r) => Number(r.version)));
    const known = new Set(list.map((m) => m.version));
    const unknown = [...done].filter((v) => !known.has(v));
    if (unknown.length > 0) {
      // The database was migrated by a newer tracker: refuse rather than run against a schema we do not know.
      throw new SwarmError('STORAGE_SCHEMA_TOO_NEW', 'the database schema is newer than this tracker', { unknownVersions: unknown.sort((a, b) => a - b) });
    }
    const applied: number[] = [];
    for (const m of list) {
      if (done.has(m.version)) continue;
      for (const stmt of m.statements) await tx.query(stmt);
      await tx.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, now]);
      applied.push(m.version);
    }
    return { applied, version: list.length === 0 ? 0 : list[list.length - 1]!.version };
  });
}
