/**
 * Writes ledger leaves the way the tracker does (context.ts append /
 * committed): the leaves are queued in the caller's transaction with
 * queueLedgerStatement, and after COMMIT a LedgerSequencer numbers them into
 * ledger_entries (storage/ledger-queue.ts). Tests that need a log to read
 * write it through here, so they exercise the real write path.
 */
import { leafHash } from '../../../src/ledger/merkle.ts';
import type { Db, Queryable } from '../../../src/tracker/storage/db.ts';
import { LedgerSequencer, queueLedgerStatement } from '../../../src/tracker/storage/ledger-queue.ts';

export interface AppendedLeaf {
  /** RFC 6962 leaf index (ledger_entries.seq). */
  index: number;
  /** SHA-256(0x00 ‖ leafInput), as stored. */
  leafHash: Uint8Array;
}

/** Queues `leaves`, in order, inside the open transaction `tx` (they reach the log after COMMIT and a sequencer pass). */
export async function queueLeaves(tx: Queryable, leaves: readonly Uint8Array[], now: number): Promise<void> {
  const st = queueLedgerStatement(leaves, now);
  await tx.query(st.sql, st.params);
}

/**
 * Appends `leaves` as one state change: one transaction queues them, then
 * `sequencer` (one per "tracker process"; a fresh one by default) flushes. Returns each leaf's index and
 * stored leaf hash, read back from the log; throws the sequencer's error if
 * its pass failed.
 */
export async function appendLeaves(
  db: Db, leaves: readonly Uint8Array[], now: number,
  o: { sequencer?: LedgerSequencer } = {},
): Promise<AppendedLeaf[]> {
  await db.transaction((tx) => queueLeaves(tx, leaves, now));
  const sequencer = o.sequencer ?? new LedgerSequencer(db);
  await sequencer.flush();
  if (sequencer.lastError !== undefined) throw sequencer.lastError;
  if (leaves.length === 0) return [];
  const hashes = leaves.map((l) => leafHash(l));
  const rows = await db.query<{ seq: string; leaf_hash: Uint8Array }>('SELECT seq, leaf_hash FROM ledger_entries WHERE leaf_hash = ANY($1::bytea[])', [hashes]);
  const byHash = new Map(rows.map((r) => [Buffer.from(r.leaf_hash).toString('hex'), r]));
  return hashes.map((h) => {
    const row = byHash.get(Buffer.from(h).toString('hex'));
    if (row === undefined) throw new Error('a leaf appended through the queue is not in the log after the flush');
    return { index: Number(row.seq), leafHash: new Uint8Array(row.leaf_hash) };
  });
}

/** Number of committed ledger entries (the current tree size). */
export async function ledgerSize(db: Queryable): Promise<number> {
  const rows = await db.query<{ n: string }>('SELECT count(*) AS n FROM ledger_entries');
  return Number(rows[0]!.n);
}
