/**
 * What every part of the tracker shares (issue 16): the database, the clock,
 * the tracker's key and policy, and the ledger queue every change writes its
 * entries to. The scheduler, the judge, the credit standings, the sweeper,
 * the unit queue and the blob uploads (the parts BOINC's server splits into
 * scheduler, validator, transitioner, file deleter...) each take this one
 * object instead of a 600-line class holding them all.
 *
 * Ledger entries: a change queues its entries in its own transaction
 * (storage/ledger-queue.ts), so after a crash the state and the log agree
 * (issue 6); the one sequencer numbers them into the log after COMMIT, before
 * the caller is answered (committed()).
 */
import type { Clock } from '../core/clock.ts';
import { SwarmError } from '../core/errors.ts';
import { DEFAULT_MAX_SKEW_MS } from '../protocol/signing.ts';
import type { Seed } from '../core/prng.ts';
import { createEntry, encodeEntry } from '../ledger/entry.ts';
import type { CouncilAction, EntryBodies, EntryKind, LedgerEntry } from '../ledger/entry.ts';
import type { Ed25519KeyPair } from '../ledger/keys.ts';
import type { UnitKind } from '../protocol/schemas.ts';
import type { Statement } from './storage/combine.ts';
import type { Db, Queryable } from './storage/db.ts';
import { LedgerSequencer, queueLedgerStatement } from './storage/ledger-queue.ts';
import { inspectUnitSpec } from './unit-inspector.ts';
import type { UnitReexecutor } from './reexecute.ts';
import type { UnitInspection, UnitInspector } from './unit-inspector.ts';
import { DEFAULT_ADAPTIVE_POLICY } from './validation/adaptive.ts';
import type { AdaptivePolicy } from './validation/adaptive.ts';

export interface TrackerServiceOptions {
  db: Db;
  clock: Clock;
  /** the tracker's identity: signs its ledger entries */
  key: Ed25519KeyPair;
  /** default: src/train/work's parser (unit-inspector.ts) */
  inspectUnit?: UnitInspector;
  /** secret seed of the spot-check draws (adaptive.ts) */
  spotCheckSeed: Seed;
  adaptive?: AdaptivePolicy;
  /** default lease (BOINC delay_bound) */
  leaseMs?: number;
  /** BOINC max_error_results / max_total_results defaults */
  maxErrorResults?: number;
  maxTotalResults?: number;
  /** key ids allowed to create runs and units (the tracker's own key always is) */
  trainers?: readonly string[];
  /** called after the sequencer appended `count` entries to the log */
  onLedgerAppend?: (count: number) => void;
  /** recomputes a unit's result for a council dispute (reexecute.ts; default: the ref engine) */
  reexecute?: UnitReexecutor;
  /** called after a council decision was enacted and its effect applied (after commit; issue 20) */
  onCouncilDecision?: (d: { decision: string; action: CouncilAction; subject: string; params: Record<string, unknown> }) => void;
  /** called after a unit reaches a canonical result (after commit) */
  onUnitValid?: (unit: { id: string; runId: string; round: number; slot: number; canonicalHash: string }) => void;
}

export const DEFAULT_LEASE_MS = 120_000;

/**
 * A ledger entry a client signs for the tracker to log (a council vote, a
 * CLA signature) carries its own time; it must lie within the signed
 * request's window of the tracker's clock (protocol/signing.ts), or it is
 * refused with `code`, saying `what` it was.
 */
export function refuseOffClockEntry(time: number, now: number, code: string, what: string): void {
  if (Math.abs(time - now) > DEFAULT_MAX_SKEW_MS) {
    throw new SwarmError(code, `${what}'s time is more than ${DEFAULT_MAX_SKEW_MS / 1000} s from the tracker's clock; check this machine's clock`, { time, now });
  }
}

export class TrackerContext {
  readonly db: Db;
  readonly clock: Clock;
  readonly key: Ed25519KeyPair;
  readonly options: TrackerServiceOptions;
  readonly policy: AdaptivePolicy;
  readonly leaseMs: number;
  /** trainers' key ids: they create work and never take it */
  readonly trainers: ReadonlySet<string>;
  readonly inspect: UnitInspector;
  private readonly sequencer: LedgerSequencer;
  private readonly inspections = new Map<string, UnitInspection>();

  constructor(options: TrackerServiceOptions) {
    this.options = options;
    this.db = options.db;
    this.clock = options.clock;
    this.key = options.key;
    this.policy = options.adaptive ?? DEFAULT_ADAPTIVE_POLICY;
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.trainers = new Set([options.key.keyId, ...(options.trainers ?? [])]);
    this.inspect = options.inspectUnit ?? inspectUnitSpec;
    this.sequencer = new LedgerSequencer(this.db, (n) => this.options.onLedgerAppend?.(n));
  }

  now(): number {
    return this.clock.now();
  }

  /** Signs a ledger entry with the tracker key (for the tracker's own components). */
  sign<K extends EntryKind>(kind: K, body: EntryBodies[K], time: number): LedgerEntry<K> {
    return createEntry({ kind, time, body }, this.key);
  }

  /** Queues entries, in order, inside the open transaction `tx`; returns how many. Call committed(n) after COMMIT. */
  async append(tx: Queryable, entries: readonly LedgerEntry[], now: number): Promise<number> {
    if (entries.length === 0) return 0;
    const st = this.ledgerStatement(entries, now);
    await tx.query(st.sql, st.params);
    return entries.length;
  }

  /** The statement queueing `entries` (to combine with the writes they record). */
  ledgerStatement(entries: readonly LedgerEntry[], now: number): Statement {
    return queueLedgerStatement(entries.map(encodeEntry), now);
  }

  /** After a COMMIT that queued `appended` entries: resolves once they are in the log. */
  async committed(appended: number): Promise<void> {
    if (appended > 0) await this.sequencer.flush();
  }

  /** Sequences whatever is queued (entries a crash left behind; the tracker's timer calls this). */
  flushLedger(): Promise<void> {
    return this.sequencer.flush();
  }

  /** inspect() of a stored spec, memoised by its hash (specs are immutable once stored). */
  inspectCached(kind: UnitKind, spec: Record<string, unknown>, hash: string): UnitInspection {
    const key = `${kind}:${hash}`;
    let info = this.inspections.get(key);
    if (info === undefined) {
      info = this.inspect(kind, spec);
      if (this.inspections.size >= 4096) this.inspections.clear();
      this.inspections.set(key, info);
    }
    return info;
  }

  isTrainer(keyId: string): boolean {
    return this.trainers.has(keyId);
  }
}
