/**
 * Ledger appends without a global lock in the request path: a queue and a
 * sequencer, the shape Trillian gives its log (transparency-dev: entries are
 * "queued" by the front end and "integrated" into the tree, with dense
 * indices, by a single sequencer per log).
 *
 * Why: numbering leaves inside the caller's transaction (the first design:
 * max(seq)+1 under pg_advisory_xact_lock) made every state change that writes
 * the ledger hold that lock from its append to its COMMIT, and the whole
 * tracker serialised on it (issue 5's benchmark: the lock, two extra round
 * trips per request, and the queueing behind it).
 *
 * Now a state change writes its entries as ONE queue row (the entries of the
 * transaction in order, as arrays) in the same transaction, so the entries
 * and the state still commit together or not at all (issue 6). The
 * sequencer then moves every committed queue row into ledger_entries with
 * one statement (sequenceLedger: dense max+1 … numbers, the primary key and
 * a retry guard them against a concurrent sequencer). Queue rows are taken
 * in id order (bigserial: the order their transactions inserted them); rows
 * of transactions that commit during a pass are not in its snapshot and wait
 * for the next pass.
 *
 * A leaf already in the log (same bytes, so the same leaf hash) is not
 * appended twice: the log holds distinct entries (leaf_hash is UNIQUE), and a
 * duplicate must not wedge the queue behind it.
 *
 * Causality: the tracker answers a request only after the sequencer has
 * covered that request's commit (LedgerSequencer.flush), so an entry a
 * client caused by a later request (its result after its assignment) always
 * gets a larger index. Entries left queued by a crash are sequenced at the
 * next start and by the tracker's 1 s timer.
 */
import { SwarmError } from '../../core/errors.ts';
import { leafHash } from '../../ledger/merkle.ts';
import type { Statement } from './combine.ts';
import type { Db } from './db.ts';
import type { Migration } from './migration.ts';

/** Advisory-lock key serialising ledger sequencer passes ("SWLEDG"). */
export const LEDGER_LOCK_KEY = 0x5357_4c45_4447n;

/** Migration 6: the ledger queue (one row per state change that writes entries), and the indexes of the work request's queries. */
export const LEDGER_QUEUE_MIGRATION: Migration = {
  version: 6,
  name: 'ledger queue',
  statements: [
    `CREATE TABLE ledger_queue (
       id          bigserial PRIMARY KEY,
       leaf_inputs bytea[] NOT NULL,
       leaf_hashes bytea[] NOT NULL CHECK (cardinality(leaf_hashes) = cardinality(leaf_inputs)),
       created_at  bigint NOT NULL
     )`,
    // The work request asks "does an open unit wait for an input this
    // provider holds?" on every call; few units ever do, so index just those.
    `CREATE INDEX units_held_idx ON units (id) WHERE state = 'open' AND cardinality(missing_inputs) > 0`,
    // The two candidate scans of a work request (service.ts leaseWork), each
    // read in order until the first unlocked match.
    `CREATE INDEX units_needy_idx ON units (created_at, id) WHERE state = 'open' AND needs_replica`,
    `CREATE INDEX units_lease_idx ON units (next_deadline, id) WHERE state = 'open' AND NOT needs_replica`,
  ],
};

/** The statement that queues `leafInputs`, in order, as one row (to run, or to combine, inside a transaction). */
export function queueLedgerStatement(leafInputs: readonly Uint8Array[], now: number): Statement {
  if (!Number.isSafeInteger(now) || now < 0) throw new SwarmError('STORAGE_INVALID_ARGUMENT', 'now must be a non-negative safe integer', { now });
  for (const input of leafInputs) {
    if (!(input instanceof Uint8Array)) throw new SwarmError('STORAGE_INVALID_ARGUMENT', 'leaf input must be a Uint8Array');
  }
  return {
    sql: 'INSERT INTO ledger_queue (leaf_inputs, leaf_hashes, created_at) VALUES ($1::bytea[], $2::bytea[], $3)',
    params: [[...leafInputs], leafInputs.map((l) => leafHash(l)), now],
  };
}

/**
 * Moves every committed queue row into the log; returns how many leaves were
 * appended. ONE autocommit statement (one round trip): it takes the advisory
 * lock, deletes the queue rows, drops leaves already logged (or repeated in
 * the batch), numbers the rest max+1 … in (row id, position) order and
 * inserts them.
 *
 * The statement's snapshot is taken before it waits for the lock, so when
 * another sequencer (another tracker process) committed while it waited,
 * max(seq) is stale and the insert hits the primary key (or leaf_hash)
 * constraint: the statement fails whole, nothing changes, and the
 * pass is retried on a fresh snapshot. Constraints, not the lock, are what
 * keep the log dense and unique; the lock only keeps sequencers from doing
 * the work twice.
 */
export async function sequenceLedger(db: Db, attempts = 8): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      const rows = await db.query<{ n: string }>(
        `WITH l AS (SELECT pg_advisory_xact_lock($1::bigint)),
              q AS (DELETE FROM ledger_queue WHERE EXISTS (SELECT 1 FROM l) RETURNING id, leaf_inputs, leaf_hashes, created_at),
              x AS (SELECT q.id, t.ord, t.li, t.lh, q.created_at
                      FROM q, unnest(q.leaf_inputs, q.leaf_hashes) WITH ORDINALITY AS t(li, lh, ord)),
              firsts AS (SELECT DISTINCT ON (x.lh) x.* FROM x
                          WHERE NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.leaf_hash = x.lh)
                          ORDER BY x.lh, x.id, x.ord),
              base AS (SELECT COALESCE(max(seq) + 1, 0) AS m FROM ledger_entries),
              ins AS (INSERT INTO ledger_entries (seq, leaf_input, leaf_hash, created_at)
                      SELECT base.m + row_number() OVER (ORDER BY f.id, f.ord) - 1, f.li, f.lh, f.created_at
                        FROM firsts f, base
                      RETURNING seq)
         SELECT count(*) AS n FROM ins`,
        [LEDGER_LOCK_KEY.toString()],
      );
      return Number(rows[0]!.n);
    } catch (e) {
      if (attempt >= attempts || !(e instanceof SwarmError) || e.code !== 'STORAGE_CONFLICT') throw e;
    }
  }
}

/**
 * Runs sequenceLedger one pass at a time per process and lets callers wait
 * until their commit is covered: flush() called while a pass runs schedules
 * one more pass (that pass's snapshot is taken after the caller's commit)
 * and resolves after it. Concurrent requests share passes, so under load one
 * pass sequences many requests' entries (group commit).
 */
export class LedgerSequencer {
  private running: Promise<void> | null = null;
  private again = false;
  /** The last pass's error, kept for diagnostics; the entries stay queued and a later pass retries. */
  lastError: unknown = undefined;

  constructor(
    private readonly db: Db,
    private readonly onSequenced?: (count: number) => void,
  ) {}

  /** Resolves once every queue row committed before the call is in the log (or a pass failed: see lastError). */
  flush(): Promise<void> {
    if (this.running !== null) {
      this.again = true;
      return this.running;
    }
    this.running = this.passes();
    return this.running;
  }

  private async passes(): Promise<void> {
    try {
      do {
        this.again = false;
        try {
          const n = await sequenceLedger(this.db);
          this.lastError = undefined;
          if (n > 0) this.onSequenced?.(n);
        } catch (e) {
          // The state changes are committed; their entries wait in the queue
          // for the next pass (the timer's), so the caller's answer stands.
          this.lastError = e;
          return;
        }
      } while (this.again);
    } finally {
      this.running = null;
    }
  }
}
