/**
 * Signed tree heads of the tracker's ledger (RFC 6962 §3.5; the signed bytes
 * are src/ledger/tree-head.ts's), signed in batches and kept in ledger_heads.
 *
 * Batching rule (issue 6: "tree heads signed in batches, every N entries or
 * T ms"): a new head is due when at least `batchSize` entries are not yet
 * covered by the latest head, or when some are and the latest head is at
 * least `maxDelayMs` old by the injected Clock. After a quiet period the
 * first new entry is therefore signed at the next tick; under load at most
 * one head per `batchSize` entries. Nothing here reads a timer: `tick()` is
 * driven by the tracker after appends (`afterAppend`), by `start()`'s
 * interval, and by `current()` (get-sth), so a test drives it with a
 * ManualClock.
 *
 * What get-sth serves (`current()`): the latest stored head after a tick, so
 * a head never lags the log by more than the batching rule allows at the time
 * it is read; and when no head exists yet, one is signed on demand (at size 0
 * for an empty log), so get-sth always answers.
 *
 * Heads only move forward, also with several tracker processes on one
 * PostgreSQL: signing takes an advisory lock (PostgreSQL docs §9.27.10),
 * re-reads the latest head, and signs only a larger tree, with a timestamp no
 * older than the latest head's (a witness rejects time going backwards,
 * tree-head.ts witnessCosign). One head per tree size (the table's key).
 */
import type { Clock } from '../../core/clock.ts';
import { SwarmError } from '../../core/errors.ts';
import type { Ed25519KeyPair } from '../../ledger/keys.ts';
import { signTreeHead } from '../../ledger/tree-head.ts';
import type { SignedTreeHead } from '../../ledger/tree-head.ts';
import type { Db, Queryable } from '../storage/db.ts';
import type { LedgerStore } from './store.ts';

/** Advisory-lock key serialising head signing ("SWHEAD"). */
export const HEADS_LOCK_KEY = 0x5357_4845_4144n;

export const DEFAULT_BATCH_SIZE = 256;
export const DEFAULT_MAX_DELAY_MS = 1000;

/** A signed head as stored, with the id of the key that signed it. */
export interface StoredHead extends SignedTreeHead {
  keyId: string;
}

export interface HeadSignerOptions {
  db: Db;
  store: LedgerStore;
  trackerKey: Ed25519KeyPair;
  clock: Clock;
  /** Sign once this many entries are uncovered (default 256). */
  batchSize?: number;
  /** Sign uncovered entries once the latest head is this old (ms, default 1000). */
  maxDelayMs?: number;
}

type HeadRow = { tree_size: string; timestamp: string; root_hash: Uint8Array; signature: Uint8Array; key_id: string };

const HEAD_COLUMNS = 'tree_size, timestamp, root_hash, signature, key_id';

function fromRow(r: HeadRow): StoredHead {
  return { treeSize: Number(r.tree_size), timestamp: Number(r.timestamp), rootHash: r.root_hash, signature: r.signature, keyId: r.key_id };
}

/** The stored head with the largest tree size, or undefined. */
export async function latestHead(db: Queryable): Promise<StoredHead | undefined> {
  const rows = await db.query<HeadRow>(`SELECT ${HEAD_COLUMNS} FROM ledger_heads ORDER BY tree_size DESC LIMIT 1`);
  return rows.length === 0 ? undefined : fromRow(rows[0]!);
}

/** The stored head of tree size `treeSize`, or undefined. */
export async function headAt(db: Queryable, treeSize: number): Promise<StoredHead | undefined> {
  const rows = await db.query<HeadRow>(`SELECT ${HEAD_COLUMNS} FROM ledger_heads WHERE tree_size = $1`, [treeSize]);
  return rows.length === 0 ? undefined : fromRow(rows[0]!);
}

function positiveInt(v: number, name: string): number {
  if (!Number.isSafeInteger(v) || v < 1) throw new SwarmError('LEDGER_BAD_ARGUMENT', `${name} must be a positive integer`, { [name]: v });
  return v;
}

export class TreeHeadSigner {
  readonly store: LedgerStore;
  readonly batchSize: number;
  readonly maxDelayMs: number;
  private readonly db: Db;
  private readonly key: Ed25519KeyPair;
  private readonly clock: Clock;
  private timer: ReturnType<typeof setInterval> | undefined;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(o: HeadSignerOptions) {
    this.db = o.db;
    this.store = o.store;
    this.key = o.trackerKey;
    this.clock = o.clock;
    this.batchSize = positiveInt(o.batchSize ?? DEFAULT_BATCH_SIZE, 'batchSize');
    this.maxDelayMs = positiveInt(o.maxDelayMs ?? DEFAULT_MAX_DELAY_MS, 'maxDelayMs');
  }

  /** The latest stored head (no signing). */
  latest(): Promise<StoredHead | undefined> {
    return latestHead(this.db);
  }

  /** Signs a head when one is due (see the header); returns the new head, or undefined when none was due. */
  tick(): Promise<StoredHead | undefined> {
    return this.serial(async () => {
      const size = await this.store.sync();
      const latest = await latestHead(this.db);
      const covered = latest?.treeSize ?? 0;
      const uncovered = size - covered;
      if (uncovered <= 0) return undefined;
      const age = latest === undefined ? Infinity : this.clock.now() - latest.timestamp;
      if (uncovered < this.batchSize && age < this.maxDelayMs) return undefined;
      const head = await this.signAt(size);
      return head.treeSize === size ? head : undefined;
    });
  }

  /** For the tracker to call after its transaction with appends committed: a tick. */
  afterAppend(): Promise<StoredHead | undefined> {
    return this.tick();
  }

  /**
   * Signs a head of every entry committed so far unless one exists already
   * (a head of an empty log when there are none); returns the latest head.
   */
  signNow(): Promise<StoredHead> {
    return this.serial(async () => this.signAt(await this.store.sync()));
  }

  /** What get-sth serves: a tick, then the latest head (signed on demand if there is none yet). */
  async current(): Promise<StoredHead> {
    await this.tick();
    return (await this.latest()) ?? this.signNow();
  }

  /** Ticks every `maxDelayMs` of real time until stop(); the timer does not keep the process alive. */
  start(onError: (e: unknown) => void = () => {}): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => {
      this.tick().catch(onError);
    }, this.maxDelayMs);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Signs (treeSize = size, root from the store) unless a head of at least that size exists; returns the latest head. */
  private async signAt(size: number): Promise<StoredHead> {
    const rootHash = this.store.tree.rootHash(size);
    return this.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [HEADS_LOCK_KEY.toString()]);
      const latest = await latestHead(tx);
      if (latest !== undefined && latest.treeSize >= size) return latest;
      const timestamp = Math.max(this.clock.now(), latest?.timestamp ?? 0);
      const sth = signTreeHead({ treeSize: size, timestamp, rootHash }, this.key);
      await tx.query(`INSERT INTO ledger_heads (${HEAD_COLUMNS}) VALUES ($1, $2, $3, $4, $5)`, [
        sth.treeSize,
        sth.timestamp,
        sth.rootHash,
        sth.signature,
        this.key.keyId,
      ]);
      return { ...sth, keyId: this.key.keyId };
    });
  }

  /** One signing decision at a time in this process (the advisory lock orders processes). */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn);
    this.chain = run.catch(() => undefined);
    return run;
  }
}
