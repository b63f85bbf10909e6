/**
 * Work assignment and ledger appends that are safe with several tracker
 * processes on one PostgreSQL, in their direct forms. The running tracker
 * uses neither: the service assigns with its own query over the state
 * machine's columns (service.ts) and appends through the ledger queue
 * (ledger-queue.ts, which shares LEDGER_LOCK_KEY). assignReplica and
 * appendLedgerEntry are called by the storage tests and the ledger
 * benchmark only.
 *
 * assignReplica: inside one transaction,
 *   1. pick the oldest open unit that still needs a replica and that this
 *      provider has not had, with `SELECT … FOR UPDATE OF u SKIP LOCKED
 *      LIMIT 1` (PostgreSQL docs, SELECT, "The Locking Clause": with SKIP
 *      LOCKED "any selected rows that cannot be immediately locked are
 *      skipped", the documented way to let many consumers take distinct rows
 *      of a queue-like table without waiting on one another);
 *   2. re-count that unit's replicas in a NEW statement. Under READ COMMITTED
 *      each statement sees all rows committed before it starts (docs §13.2.1),
 *      and every writer of a unit's replicas held that unit's row lock until
 *      it committed, so the recount is exact — unlike step 1's subqueries,
 *      which ran on a snapshot that may predate a competitor's commit (the
 *      re-check PostgreSQL does after waiting for a lock only happens when the
 *      locked row itself was updated);
 *   3. insert the replica with its lease deadline, ON CONFLICT (unit_id,
 *      provider) DO NOTHING; the UNIQUE constraint is the last guard of
 *      "never two replicas of one unit to one identity".
 *   If 2 or 3 rejects the unit, it is excluded and the loop tries the next.
 *
 * A unit "needs a replica" while its live replicas (in progress with an
 * unexpired lease, reported, or valid) are fewer than params.targetResults
 * (default 1) and its replicas of any state are fewer than
 * params.maxTotalResults (default unlimited): BOINC's names, issue 5. An
 * expired lease stops counting at once, so the unit is reissued (to another
 * identity) even before a sweeper marks the replica timed out.
 */
import { SwarmError } from '../../core/errors.ts';
import { sha256Hex } from '../../core/sha256.ts';
import { leafHash } from '../../ledger/merkle.ts';
import type { Queryable } from './db.ts';

/** Replica states; a live replica counts toward targetResults. */
export const REPLICA_STATES = ['in_progress', 'reported', 'valid', 'invalid', 'error', 'timed_out'] as const;
export type ReplicaState = (typeof REPLICA_STATES)[number];

export interface Replica {
  id: string;
  unitId: string;
  provider: string;
  issuedAt: number;
  deadline: number;
  state: ReplicaState;
}

export interface AssignOptions {
  /** Current time in ms (from the injected Clock). */
  now: number;
  /** Lease length in ms; the deadline is now + leaseMs. */
  leaseMs: number;
  /** Units tried before giving up in one call (each rejected one is skipped). */
  maxAttempts?: number;
}

/** Deterministic replica id: (unit, provider) is unique, so is its hash. */
export function replicaId(unitId: string, provider: string): string {
  return `r_${sha256Hex(`${unitId}\n${provider}`).slice(0, 32)}`;
}

/**
 * "Unit u still needs a replica from provider $P at time $N": open, never
 * given to this provider, fewer live replicas (reported, valid, or in progress
 * with an unexpired lease) than targetResults, fewer replicas in all than
 * maxTotalResults. One fragment for both the pick and the re-check, so the two
 * can never disagree on the rule.
 */
function needsReplica(provider: string, now: string): string {
  return `u.state = 'open'
   AND NOT EXISTS (SELECT 1 FROM replicas r WHERE r.unit_id = u.id AND r.provider = ${provider})
   AND (SELECT count(*) FROM replicas r
         WHERE r.unit_id = u.id
           AND (r.state IN ('reported', 'valid') OR (r.state = 'in_progress' AND r.deadline > ${now})))
       < COALESCE((u.params->>'targetResults')::int, 1)
   AND (SELECT count(*) FROM replicas r WHERE r.unit_id = u.id)
       < COALESCE((u.params->>'maxTotalResults')::int, 2147483647)`;
}

// $1 provider, $2 now, $3 excluded unit ids.
const PICK_SQL = `
SELECT u.id
  FROM units u
 WHERE ${needsReplica('$1', '$2')}
   AND NOT (u.id = ANY($3::text[]))
 ORDER BY u.created_at, u.id
 LIMIT 1
 FOR UPDATE OF u SKIP LOCKED`;

// $1 unit, $2 provider, $3 now: the same rule, on a fresh snapshot.
const RECHECK_SQL = `
SELECT (${needsReplica('$2', '$3')}) AS ok
  FROM units u WHERE u.id = $1`;

function checkTime(v: number, what: string): void {
  if (!Number.isSafeInteger(v) || v < 0) throw new SwarmError('STORAGE_INVALID_ARGUMENT', `${what} must be a non-negative safe integer`, { [what]: v });
}

/**
 * Leases one replica of some unit to `provider`, or returns null when no unit
 * needs one from this provider. Runs in its own transaction on `db`; pass a
 * transaction to make it part of a larger one (it then nests as a savepoint).
 */
export async function assignReplica(db: Queryable, provider: string, options: AssignOptions): Promise<Replica | null> {
  if (typeof provider !== 'string' || provider.length === 0) {
    throw new SwarmError('STORAGE_INVALID_ARGUMENT', 'provider must be a non-empty string');
  }
  checkTime(options.now, 'now');
  checkTime(options.leaseMs, 'leaseMs');
  const deadline = options.now + options.leaseMs;
  checkTime(deadline, 'deadline');
  const maxAttempts = options.maxAttempts ?? 8;
  return db.transaction(async (tx) => {
    const excluded: string[] = [];
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      const picked = await tx.query<{ id: string }>(PICK_SQL, [provider, options.now, excluded]);
      if (picked.length === 0) return null;
      const unitId = picked[0]!.id;
      const re = await tx.query<{ ok: boolean }>(RECHECK_SQL, [unitId, provider, options.now]);
      if (re.length === 1 && re[0]!.ok === true) {
        const id = replicaId(unitId, provider);
        const ins = await tx.query(
          `INSERT INTO replicas (id, unit_id, provider, issued_at, deadline, state)
           VALUES ($1, $2, $3, $4, $5, 'in_progress')
           ON CONFLICT (unit_id, provider) DO NOTHING
           RETURNING id`,
          [id, unitId, provider, options.now, deadline],
        );
        if (ins.length === 1) return { id, unitId, provider, issuedAt: options.now, deadline, state: 'in_progress' };
      }
      excluded.push(unitId);
    }
    return null;
  });
}

// ---------------------------------------------------------------------------
// Ledger

/** Advisory-lock key serialising ledger appends ("SWLEDG"). */
export const LEDGER_LOCK_KEY = 0x5357_4c45_4447n;

export interface AppendedEntry {
  /** RFC 6962 leaf index (0-based, dense). */
  index: number;
  /** SHA-256(0x00 ‖ leafInput), RFC 6962 §2.1. */
  leafHash: Uint8Array;
}

/**
 * Appends one leaf to the ledger INSIDE the caller's transaction `tx`, the
 * same one that makes the state change it records (issue 6): both commit or
 * neither does, so after a crash the log and the state agree.
 *
 * Leaf indices must be dense and in commit order for the Merkle tree
 * (RFC 6962 §2.1: the tree is over the ordered list of entries, and a signed
 * head of size n covers exactly entries 0..n-1). So the append takes
 * `pg_advisory_xact_lock(LEDGER_LOCK_KEY)` (PostgreSQL docs §9.27.10), held
 * until the transaction ends, then uses max(seq)+1: a concurrent appender
 * waits and then sees this entry (READ COMMITTED), and a rollback leaves no
 * hole. The price is that ledger-writing transactions serialise from the
 * append to their commit: append as late in the transaction as possible.
 */
export async function appendLedgerEntry(tx: Queryable, leafInput: Uint8Array, now: number): Promise<AppendedEntry> {
  if (!(leafInput instanceof Uint8Array)) throw new SwarmError('STORAGE_INVALID_ARGUMENT', 'leaf input must be a Uint8Array');
  checkTime(now, 'now');
  const hash = leafHash(leafInput);
  // tx.transaction: a savepoint inside the caller's transaction, or a real
  // transaction if handed the Db itself, so lock and insert are never split.
  const rows = await tx.transaction(async (t) => {
    await t.query('SELECT pg_advisory_xact_lock($1::bigint)', [LEDGER_LOCK_KEY.toString()]);
    return t.query<{ seq: string }>(
    `INSERT INTO ledger_entries (seq, leaf_input, leaf_hash, created_at)
     SELECT COALESCE(max(seq) + 1, 0), $1, $2, $3 FROM ledger_entries
     RETURNING seq`,
    [leafInput, hash, now],
    );
  });
  return { index: Number(rows[0]!.seq), leafHash: hash };
}

/** Number of committed ledger entries (the current tree size). */
export async function ledgerSize(db: Queryable): Promise<number> {
  const rows = await db.query<{ n: string }>('SELECT count(*) AS n FROM ledger_entries');
  return Number(rows[0]!.n);
}
