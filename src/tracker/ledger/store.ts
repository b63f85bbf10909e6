/**
 * The tracker's view of its ledger, read side only: the rows of
 * ledger_entries mirrored as an in-memory Merkle tree of leaf hashes
 * (src/ledger/hash-tree.ts), so roots and proofs (RFC 6962 §2.1) cost
 * O(log² n) hashes, not a scan, plus the reads the ledger routes serve
 * (leaves by index, the index of a leaf hash). Nothing here writes: state
 * changes queue their entries in their own transaction and the sequencer
 * numbers them into ledger_entries after COMMIT (storage/ledger-queue.ts).
 *
 * Several tracker processes may append to one PostgreSQL, so the mirror is
 * only a cache: `sync()` catches up to the database's committed size before
 * every answer. The sequencer numbers leaves max(seq)+1 … in one statement,
 * and the primary key turns a stale max(seq) into a retried pass, so the
 * committed rows are always the dense prefix 0..max(seq): catching up reads
 * `max(seq)` (one index probe) and then only the new rows' leaf hashes, in
 * pages.
 *
 * If the database holds fewer entries than the mirror (restored from an old
 * backup, rows deleted by hand) the mirror is rebuilt from the database: the
 * tracker serves what its database says, and it is the witnesses' job to
 * notice that history went backwards (cli/witness.ts). A hole in the seq
 * numbers cannot come from the sequencer and is LEDGER_STORE_CORRUPT.
 *
 * Leaf hashes are read from the leaf_hash column (32 bytes a row) rather than
 * recomputed from leaf_input, which keeps a catch-up of a million entries to
 * ~32 MB of reads; an auditor recomputes every leaf hash from leaf_input
 * anyway (src/ledger/audit.ts), so a row whose input no longer matches its
 * hash is caught there.
 */
import { SwarmError } from '../../core/errors.ts';
import type { Queryable } from '../storage/db.ts';
import { HashTree } from '../../ledger/hash-tree.ts';

export interface LedgerStoreOptions {
  /** Rows read per catch-up query (default 10,000). */
  pageSize?: number;
}

export interface StoredLeaf {
  /** RFC 6962 leaf index (ledger_entries.seq). */
  index: number;
  /** The exact bytes whose leaf hash is in the tree (an encoded entry). */
  leafInput: Uint8Array;
}

/** Number of committed ledger entries: max(seq) + 1 (the seqs are dense from 0; one index probe). */
export async function ledgerSize(db: Queryable): Promise<number> {
  const rows = await db.query<{ m: string | null }>('SELECT max(seq) AS m FROM ledger_entries');
  const m = rows[0]?.m;
  return m === null || m === undefined ? 0 : Number(m) + 1;
}

export class LedgerStore {
  readonly tree = new HashTree();
  private readonly pageSize: number;
  private tail: Promise<unknown> = Promise.resolve();
  private queued: Promise<number> | undefined;
  /** How often the mirror was rebuilt because the database shrank (for operators and tests). */
  rebuilds = 0;

  constructor(
    private readonly db: Queryable,
    options: LedgerStoreOptions = {},
  ) {
    const pageSize = options.pageSize ?? 10_000;
    if (!Number.isSafeInteger(pageSize) || pageSize < 1) {
      throw new SwarmError('LEDGER_BAD_ARGUMENT', 'pageSize must be a positive integer', { pageSize });
    }
    this.pageSize = pageSize;
  }

  /** Leaves in the mirror (as of the last sync). */
  get size(): number {
    return this.tree.size;
  }

  /**
   * Catches the mirror up to every entry committed before this call and
   * returns the tree size. Concurrent calls are serialised; a call that
   * arrives while another is waiting to start joins it (that one starts
   * after both calls, so it sees what both need).
   */
  sync(): Promise<number> {
    if (this.queued !== undefined) return this.queued;
    const run: Promise<number> = this.tail.then(() => {
      if (this.queued === run) this.queued = undefined;
      return this.catchUp();
    });
    this.queued = run;
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Number of committed entries (ledgerSize). */
  committedSize(): Promise<number> {
    return ledgerSize(this.db);
  }

  private async catchUp(): Promise<number> {
    const target = await this.committedSize();
    if (target < this.tree.size) {
      this.tree.clear();
      this.rebuilds++;
    }
    while (this.tree.size < target) {
      const from = this.tree.size;
      const to = Math.min(target, from + this.pageSize);
      const rows = await this.db.query<{ seq: string; leaf_hash: Uint8Array }>(
        'SELECT seq, leaf_hash FROM ledger_entries WHERE seq >= $1 AND seq < $2 ORDER BY seq',
        [from, to],
      );
      for (const row of rows) {
        if (Number(row.seq) !== this.tree.size) break;
        this.tree.append(row.leaf_hash);
      }
      if (this.tree.size !== to) {
        throw new SwarmError('LEDGER_STORE_CORRUPT', 'ledger_entries has a hole in its leaf indices', { expected: this.tree.size, target });
      }
    }
    return target;
  }

  /** Leaf index of the entry whose leaf hash is `hash` (UNIQUE in ledger_entries), or undefined. */
  async indexOfLeafHash(hash: Uint8Array): Promise<number | undefined> {
    const rows = await this.db.query<{ seq: string }>('SELECT seq FROM ledger_entries WHERE leaf_hash = $1', [hash]);
    return rows.length === 0 ? undefined : Number(rows[0]!.seq);
  }

  /**
   * Stored leaves with index in [start, end), in order, stopping early (but
   * after at least one leaf) once `maxBytes` of leaf inputs are gathered.
   */
  async leaves(start: number, end: number, maxBytes = Number.MAX_SAFE_INTEGER): Promise<StoredLeaf[]> {
    const rows = await this.db.query<{ seq: string; leaf_input: Uint8Array }>(
      'SELECT seq, leaf_input FROM ledger_entries WHERE seq >= $1 AND seq < $2 ORDER BY seq',
      [start, end],
    );
    const out: StoredLeaf[] = [];
    let bytes = 0;
    for (const row of rows) {
      const index = Number(row.seq);
      if (index !== start + out.length) {
        throw new SwarmError('LEDGER_STORE_CORRUPT', 'ledger_entries has a hole in its leaf indices', { expected: start + out.length });
      }
      bytes += row.leaf_input.length;
      if (out.length > 0 && bytes > maxBytes) break;
      out.push({ index, leafInput: row.leaf_input });
    }
    return out;
  }
}
