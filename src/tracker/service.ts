/**
 * The tracker's work service: providers, the unit queue, results, verdicts,
 * credit, and the ledger entries that record them (issues 5 and 6).
 *
 * Every operation is one database transaction that
 *   1. locks what it changes (the unit row, then provider rows in key order,
 *      so two transactions never wait on each other in a cycle),
 *   2. computes the new unit state with the PURE state machine
 *      (validation/work-unit.ts, which is authoritative; the SQL columns
 *      needs_replica / next_deadline only index it for the assignment query),
 *   3. writes the state and queues the ledger entries recording the change
 *      in the same transaction (storage/ledger-queue.ts), so after a crash
 *      the state and the log agree (issue 6); the sequencer numbers them
 *      into the log after COMMIT, before the caller is answered.
 *
 * Writes that belong together go to the database as one statement
 * (storage/combine.ts): a round trip costs more here than most statements.
 *
 * Assignment is safe with several tracker processes on one PostgreSQL: the
 * candidate is taken with FOR UPDATE SKIP LOCKED (PostgreSQL docs, SELECT,
 * "The Locking Clause"), so concurrent work requests take different units
 * without waiting; under READ COMMITTED a row locked FOR UPDATE is returned
 * in its latest committed version (docs §13.2.1), so the state machine always
 * sees the current state; and UNIQUE (unit_id, provider) is the last guard
 * of "never two replicas of one unit to one identity".
 *
 * Adaptive replication (validation/adaptive.ts): units are created with the
 * trainer's minimum quorum (default 1). When a unit is offered to a provider,
 * the provider's record decides whether the unit must be replicated (new
 * identity, unclean record, or a spot check drawn from a secret seed), and
 * the unit's quorum is raised before the replica is issued.
 */
import type { Clock } from '../core/clock.ts';
import { base64Encode, bytesEqual } from '../core/encoding.ts';
import { SwarmError, check } from '../core/errors.ts';
import type { Seed } from '../core/prng.ts';
import { createEntry, encodeEntry, parseEntry, registeredPublicKey, verifyEntrySignature } from '../ledger/entry.ts';
import type { EntryBodies, EntryKind, LedgerEntry } from '../ledger/entry.ts';
import type { Ed25519KeyPair } from '../ledger/keys.ts';
import type { CreateUnitsRequest, FailureReport, RegisterProviderRequest, ResultSubmission, ParamsPatch, UnitKind, WorkAssignment } from '../protocol/schemas.ts';
import { combine } from './storage/combine.ts';
import type { Statement } from './storage/combine.ts';
import { LedgerSequencer, queueLedgerStatement } from './storage/ledger-queue.ts';
import { inspectUnitSpec } from './unit-inspector.ts';
import type { UnitInspection, UnitInspector } from './unit-inspector.ts';
import { checkBlobBytes } from './storage/blobs.ts';
import type { Db, Queryable } from './storage/db.ts';
import { DEFAULT_ADAPTIVE_POLICY, newProviderRecord, recordVerdict, replicationFor } from './validation/adaptive.ts';
import type { AdaptivePolicy, ProviderRecord } from './validation/adaptive.ts';
import { applyAward, creditAwards, CREDIT_HALF_LIFE_MS, racAt, reputation } from './validation/credit.ts';
import type { Account } from './validation/credit.ts';
import { assign, canAssign, cancel, createWorkUnit, expire, failReplica, heartbeat as wuHeartbeat, raiseReplication, submit as wuSubmit } from './validation/work-unit.ts';
import type { Replica, WorkUnitParams, WorkUnitState } from './validation/work-unit.ts';

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
  /** called after a unit reaches a canonical result (after commit) */
  onUnitValid?: (unit: { id: string; runId: string; round: number; slot: number; canonicalHash: string }) => void;
}

export const DEFAULT_LEASE_MS = 120_000;
/** Hint to a provider that found no work. */
export const NO_WORK_RETRY_MS = 2_000;
const CANDIDATE_TRIES = 16;

/**
 * "No eligible provider that has not held unit u is online" (the reissue
 * rule, work-unit.ts header), inside the candidate query: $2 now, $5 the
 * trainers' key ids. Online: seen (a work request, heartbeat or
 * registration) within the unit's lease, the same liveness wantedFrom uses.
 */
/**
 * SQL condition on a provider `p` and a unit `u`: p may take u as a provider
 * that never held it — seen within u's lease, not a trainer, holding u's
 * kept inputs if it waits for them, no replica of u yet. One text for the
 * scheduler's reissue rule (below) and the run's stall reasons
 * (runs/diloco.ts waiting), so both count the same providers. `now` and
 * `trainers` name the query's parameters.
 */
export function freshProviderSql(now: string, trainers: string): string {
  return `p.last_seen > ${now}::bigint - COALESCE((u.params->>'leaseMs')::bigint, 120000)
               AND NOT (p.key_id = ANY(${trainers}::text[]))
               AND (cardinality(u.missing_inputs) = 0 OR p.key_id = ANY(u.held_by))
               AND NOT EXISTS (SELECT 1 FROM replicas r2 WHERE r2.unit_id = u.id AND r2.provider = p.key_id)`;
}
const NO_FRESH_PROVIDER_SQL = `NOT EXISTS (SELECT 1 FROM providers p WHERE ${freshProviderSql('$2', '$5')})`;
/** createUnits calls inserting at least this many units refresh the planner's statistics. */
const ANALYZE_AFTER_UNITS = 16;

export interface ProviderStatus {
  providerId: string;
  name: string | null;
  team: string | null;
  credit: number;
  rac: number;
  valid: number;
  invalid: number;
  reputation: number;
}

export interface UnitStatusView {
  id: string;
  runId: string;
  kind: string;
  round: number;
  slot: number;
  status: 'open' | 'valid' | 'error';
  canonicalHash: string | null;
  minQuorum: number;
  replicas: Array<Pick<Replica, 'id' | 'provider' | 'state' | 'validateState' | 'resultHash' | 'deadline'>>;
}

interface UnitRow {
  id: string;
  run_id: string;
  kind: string;
  spec: Record<string, unknown>;
  wu: WorkUnitState;
  spec_hash: string;
  flops: number;
  round: number;
  slot: number;
  /** JSON ParamsPatch or null (migration 7) */
  patch?: string | null;
}

/** A unit's patch as stored (JSON), or null; a patch must name one of the unit's inputs as its target. */
function patchOf(p: ParamsPatch | undefined, inputs: readonly string[]): string | null {
  if (p === undefined) return null;
  if (!inputs.includes(p.target)) throw new SwarmError('TRACKER_BAD_REQUEST', 'a params patch must target one of the unit\'s inputs', { target: p.target });
  return JSON.stringify({ target: p.target, base: p.base, update: p.update });
}

interface ProviderRow {
  key_id: string;
  public_key: Uint8Array;
  name: string | null;
  team: string | null;
  valid_count: string;
  invalid_count: string;
  credit: number;
  rac: number;
  rac_time: string;
  record: ProviderRecord;
}

/** The indexes the assignment query filters on, from the authoritative state. */
function queueColumns(wu: WorkUnitState): { needs: boolean; nextDeadline: number | null } {
  let inProgress = 0;
  let returned = 0;
  let next: number | null = null;
  for (const r of wu.replicas) {
    if (r.state === 'in-progress') {
      inProgress++;
      next = next === null ? r.deadline : Math.min(next, r.deadline);
    } else if (r.state === 'returned') returned++;
  }
  return { needs: wu.status === 'open' && wu.targetResults - inProgress - returned > 0, nextDeadline: next };
}

export class TrackerService {
  readonly db: Db;
  readonly clock: Clock;
  readonly key: Ed25519KeyPair;
  private readonly o: TrackerServiceOptions;
  private readonly policy: AdaptivePolicy;
  private readonly leaseMs: number;
  private readonly trainers: Set<string>;
  private readonly inspect: UnitInspector;
  private readonly sequencer: LedgerSequencer;

  constructor(options: TrackerServiceOptions) {
    this.o = options;
    this.db = options.db;
    this.clock = options.clock;
    this.key = options.key;
    this.policy = options.adaptive ?? DEFAULT_ADAPTIVE_POLICY;
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.trainers = new Set([options.key.keyId, ...(options.trainers ?? [])]);
    this.inspect = options.inspectUnit ?? inspectUnitSpec;
    this.sequencer = new LedgerSequencer(this.db, (n) => this.o.onLedgerAppend?.(n));
  }

  private now(): number {
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
  private ledgerStatement(entries: readonly LedgerEntry[], now: number): Statement {
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

  private readonly inspections = new Map<string, UnitInspection>();

  /** inspect() of a stored spec, memoised by its hash (specs are immutable once stored). */
  private inspectCached(kind: UnitKind, spec: Record<string, unknown>, hash: string): UnitInspection {
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

  /** Trainers' key ids (they create work and never take it). */
  trainerIds(): string[] {
    return [...this.trainers];
  }

  /** Keys seen registered: a provider row is never deleted, so a yes stays true (no is always asked again). */
  private readonly knownProviders = new Set<string>();

  /**
   * Whether `keyId` is a trainer or a registered provider: the HTTP layer's
   * check before it reads a body (issue 25). The service's own checks stay
   * authoritative; this one only lets junk be refused early. Positive
   * answers are cached (one indexed lookup per new key, none afterwards),
   * and the cache is bounded like inspections above.
   */
  async isKnownKey(keyId: string): Promise<boolean> {
    if (this.trainers.has(keyId) || this.knownProviders.has(keyId)) return true;
    const rows = await this.db.query('SELECT 1 FROM providers WHERE key_id = $1', [keyId]);
    if (rows.length === 0) return false;
    if (this.knownProviders.size >= 65_536) this.knownProviders.clear();
    this.knownProviders.add(keyId);
    return true;
  }

  // ---- providers ------------------------------------------------------------

  /**
   * Registers (or updates) a provider. `signer` is the verified request
   * signer; the provider-registered entry must be signed by that same key,
   * name that key, and carry the same name. The first registration appends
   * the entry; later ones update name, team and capabilities only.
   */
  async registerProvider(signer: { keyId: string; publicKey: Uint8Array }, req: RegisterProviderRequest): Promise<{ providerId: string; created: boolean }> {
    const entry = parseEntry(req.entry);
    if (entry.kind !== 'provider-registered') throw new SwarmError('TRACKER_BAD_REQUEST', 'entry must be a provider-registered entry');
    const pk = registeredPublicKey(entry);
    if (!bytesEqual(pk, signer.publicKey) || entry.actor !== signer.keyId) throw new SwarmError('TRACKER_FORBIDDEN', 'the entry must register the key that signs the request');
    if (req.publicKey !== undefined && base64Encode(signer.publicKey) !== base64Encode(pk)) throw new SwarmError('TRACKER_FORBIDDEN', 'publicKey must be the signing key');
    if ((entry.body.name ?? null) !== req.name) throw new SwarmError('TRACKER_BAD_REQUEST', 'the entry must carry the same name as the request');
    verifyEntrySignature(entry, pk);
    const now = this.now();
    let appended = 0;
    const created = await this.db.transaction(async (tx) => {
      const existing = await tx.query('SELECT key_id FROM providers WHERE key_id = $1 FOR UPDATE', [signer.keyId]);
      if (existing.length > 0) {
        await tx.query('UPDATE providers SET name = $2, team = $3, threads = $4, memory_bytes = $5, last_seen = $6 WHERE key_id = $1', [
          signer.keyId, req.name, req.team ?? null, req.capabilities.threads, req.capabilities.memoryBytes, now,
        ]);
        return false;
      }
      await tx.query(
        `INSERT INTO providers (key_id, public_key, name, team, created_at, threads, memory_bytes, last_seen, record)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $5, $8)`,
        [signer.keyId, signer.publicKey, req.name, req.team ?? null, now, req.capabilities.threads, req.capabilities.memoryBytes, JSON.stringify(newProviderRecord(signer.keyId))],
      );
      appended = await this.append(tx, [entry], now);
      return true;
    });
    await this.committed(appended);
    return { providerId: signer.keyId, created };
  }

  private async providerRow(q: Queryable, keyId: string): Promise<ProviderRow> {
    const rows = await q.query<ProviderRow & Record<string, unknown>>(
      'SELECT key_id, public_key, name, team, valid_count, invalid_count, credit, rac, rac_time, record FROM providers WHERE key_id = $1',
      [keyId],
    );
    if (rows.length === 0) throw new SwarmError('TRACKER_UNKNOWN_PROVIDER', 'this key is not a registered provider; register first (POST /api/providers)');
    return rows[0]!;
  }

  async providerStatus(keyId: string): Promise<ProviderStatus> {
    const p = await this.providerRow(this.db, keyId);
    return this.statusOf(p, this.now());
  }

  private statusOf(p: ProviderRow, now: number): ProviderStatus {
    const valid = Number(p.valid_count);
    const invalid = Number(p.invalid_count);
    const racTime = Number(p.rac_time);
    return {
      providerId: p.key_id,
      name: p.name,
      team: p.team,
      credit: p.credit,
      rac: racAt({ provider: p.key_id, totalCredit: p.credit, rac: p.rac, racTime: racTime === 0 && p.rac === 0 ? null : racTime, valid, invalid }, now),
      valid,
      invalid,
      reputation: reputation({ valid, invalid }),
    };
  }

  /** Providers by credit (then key), and team totals; GET /api/leaderboard. */
  async leaderboard(limit = 100): Promise<{ providers: ProviderStatus[]; teams: Array<{ team: string; members: number; credit: number; rac: number }> }> {
    const now = this.now();
    const rows = await this.db.query<ProviderRow & Record<string, unknown>>(
      'SELECT key_id, public_key, name, team, valid_count, invalid_count, credit, rac, rac_time, record FROM providers ORDER BY credit DESC, key_id LIMIT $1',
      [limit],
    );
    const providers = rows.map((r) => this.statusOf(r, now));
    const teamRows = await this.db.query<ProviderRow & Record<string, unknown>>(
      'SELECT key_id, public_key, name, team, valid_count, invalid_count, credit, rac, rac_time, record FROM providers WHERE team IS NOT NULL',
    );
    const teams = new Map<string, { team: string; members: number; credit: number; rac: number }>();
    for (const r of teamRows) {
      const s = this.statusOf(r, now);
      const t = teams.get(r.team!) ?? { team: r.team!, members: 0, credit: 0, rac: 0 };
      t.members++;
      t.credit += s.credit;
      t.rac += s.rac;
      teams.set(r.team!, t);
    }
    return { providers, teams: [...teams.values()].sort((a, b) => b.credit - a.credit || (a.team < b.team ? -1 : 1)) };
  }

  // ---- runs and units -------------------------------------------------------

  /**
   * Creates units in a run (the run is created on first use, owned by its
   * creator). Only trainers may create units; only the owner may add to a run.
   */
  async createUnits(actor: string, req: CreateUnitsRequest): Promise<{ created: string[] }> {
    check(this.isTrainer(actor), 'TRACKER_FORBIDDEN', `only trainers may create work units: key ${actor} is not one; start the tracker with --trainer ${actor}`, { keyId: actor });
    const now = this.now();
    await this.db.transaction(async (tx) => {
      const run = await tx.query<{ owner: string | null }>('SELECT owner FROM runs WHERE id = $1 FOR UPDATE', [req.run]);
      if (run.length === 0) {
        await tx.query(`INSERT INTO runs (id, spec, created_at, state, owner) VALUES ($1, $2, $3, 'active', $4)`, [req.run, JSON.stringify({ kind: 'manual' }), now, actor]);
      } else if (run[0]!.owner !== actor && actor !== this.key.keyId) {
        throw new SwarmError('TRACKER_FORBIDDEN', 'only the owner of a run may add units to it', { run: req.run });
      }
      await this.insertUnits(tx, req.run, req.units, now);
    });
    // Fresh statistics after a bulk insert: with the table's old row count
    // the planner reads and sorts every open unit for each work request
    // instead of walking units_needy_idx to the first match (measured 13–19 ms
    // against 0.1 ms per request at 400 open units). Autovacuum analyzes too,
    // but only after its naptime (PostgreSQL docs §25.1.6, "Updating Planner
    // Statistics", advise ANALYZE after large changes).
    if (req.units.length >= ANALYZE_AFTER_UNITS) await this.db.query('ANALYZE units');
    return { created: req.units.map((u) => u.id) };
  }

  /**
   * Inserts units of `run` inside `tx`: specs inspected, every input blob
   * present, ids new (TRACKER_CONFLICT otherwise). For createUnits and the
   * run manager.
   */
  async insertUnits(
    tx: Queryable, run: string, units: CreateUnitsRequest['units'], now: number,
    heldBy: Record<string, readonly string[]> = {}, patches: Record<string, ParamsPatch> = {},
  ): Promise<void> {
    const ids = new Set<string>();
    const prepared = units.map((u) => {
      if (ids.has(u.id)) throw new SwarmError('TRACKER_BAD_REQUEST', `unit id "${u.id}" given twice`);
      ids.add(u.id);
      const info = this.inspect(u.kind, u.spec);
      const minQuorum = u.minQuorum ?? 1;
      const params: WorkUnitParams = {
        minQuorum,
        targetResults: minQuorum,
        maxErrorResults: this.o.maxErrorResults ?? 4,
        maxTotalResults: Math.max(this.o.maxTotalResults ?? 10, minQuorum + 2),
        leaseMs: u.leaseMs ?? this.leaseMs,
      };
      return { u, info, wu: createWorkUnit(u.id, params) };
    });
    const needed = [...new Set(prepared.flatMap((p) => p.info.inputs))];
    const present = await tx.query<{ sha256: string }>('SELECT sha256 FROM blobs WHERE sha256 = ANY($1::text[])', [needed]);
    const have = new Set(present.map((r) => r.sha256));
    // An input may be absent only when providers that hold it are named (a kept AdamW state).
    const missingOf = (id: string, inputs: readonly string[]): string[] => inputs.filter((h) => !have.has(h));
    const unheld = prepared.flatMap((p) => ((heldBy[p.u.id]?.length ?? 0) > 0 ? [] : missingOf(p.u.id, p.info.inputs)));
    if (unheld.length > 0) throw new SwarmError('TRACKER_MISSING_INPUT', 'upload every input blob before creating the units that read it', { missing: [...new Set(unheld)].slice(0, 8) });
    for (const { u, info, wu } of prepared) {
      const q = queueColumns(wu);
      const missing = missingOf(u.id, info.inputs);
      const ins = await tx.query(
        `INSERT INTO units (id, run_id, kind, spec, state, params, created_at, wu, spec_hash, flops, needs_replica, next_deadline, round, slot, updated_at, missing_inputs, held_by, patch)
         VALUES ($1, $2, $3, $4, 'open', $5, $6, $7, $8, $9, $10, NULL, $11, $12, $6, $13::text[], $14::text[], $15)
         ON CONFLICT (id) DO NOTHING RETURNING id`,
        [u.id, run, u.kind, JSON.stringify(u.spec), JSON.stringify(wu.params), now, JSON.stringify(wu), info.specHash, info.flops, q.needs, u.round ?? 0, u.slot ?? 0,
          missing, missing.length === 0 ? [] : [...(heldBy[u.id] ?? [])], patchOf(patches[u.id], info.inputs)],
      );
      if (ins.length === 0) throw new SwarmError('TRACKER_CONFLICT', `a unit with id "${u.id}" already exists`, { unit: u.id });
    }
  }

  /** Cancels the still-open units among `ids` inside `tx` (a closed DiLoCo round drops its missing slots). */
  async cancelUnits(tx: Queryable, ids: readonly string[], now: number): Promise<number> {
    let n = 0;
    for (const id of ids) {
      const row = await this.lockUnit(tx, id);
      if (row.wu.status !== 'open') continue;
      await this.writeUnit(tx, row, cancel(row.wu), now);
      n++;
    }
    return n;
  }

  async unitStatus(id: string): Promise<UnitStatusView> {
    const rows = await this.db.query<UnitRow & Record<string, unknown>>('SELECT id, run_id, kind, spec, wu, spec_hash, flops, round, slot FROM units WHERE id = $1', [id]);
    if (rows.length === 0) throw new SwarmError('TRACKER_NOT_FOUND', 'no such unit', { unit: id });
    const r = rows[0]!;
    const wu = expire(r.wu, this.now());
    return {
      id: r.id,
      runId: r.run_id,
      kind: r.kind,
      round: r.round,
      slot: r.slot,
      status: wu.status,
      canonicalHash: wu.canonicalHash ?? null,
      minQuorum: wu.minQuorum,
      replicas: wu.replicas.map((x) => ({ id: x.id, provider: x.provider, state: x.state, validateState: x.validateState, ...(x.resultHash === undefined ? {} : { resultHash: x.resultHash }), deadline: x.deadline })),
    };
  }

  /**
   * The writes that store `wu` over `before`: the unit row and every replica
   * row that is new or changed. `result` also records the size and metrics
   * of that replica's result (in the same row write: one statement must not
   * update a row twice, combine.ts).
   */
  private unitStatements(before: UnitRow, wu: WorkUnitState, now: number, result?: { replica: string; bytes: number; metrics: string }): Statement[] {
    const q = queueColumns(wu);
    const out: Statement[] = [{
      sql: `UPDATE units SET wu = $2, state = $3, canonical_hash = $4, needs_replica = $5, next_deadline = $6, updated_at = $7 WHERE id = $1`,
      params: [before.id, JSON.stringify(wu), wu.status, wu.canonicalHash ?? null, q.needs, q.nextDeadline, now],
    }];
    for (const r of wu.replicas) {
      const old = before.wu.replicas.find((x) => x.id === r.id);
      const dbState = r.state === 'in-progress' ? 'in_progress' : r.state === 'returned' ? (r.validateState === 'valid' ? 'valid' : r.validateState === 'invalid' ? 'invalid' : 'reported') : r.state === 'timed-out' ? 'timed_out' : 'error';
      if (old === undefined) {
        out.push({ sql: `INSERT INTO replicas (id, unit_id, provider, issued_at, deadline, state) VALUES ($1, $2, $3, $4, $5, $6)`, params: [r.id, before.id, r.provider, r.issuedAt, r.deadline, dbState] });
      } else if (result?.replica === r.id) {
        out.push({
          sql: `UPDATE replicas SET state = $2, deadline = $3, result_hash = $4, verdict = $5, result_bytes = $6, metrics = $7 WHERE id = $1`,
          params: [r.id, dbState, r.deadline, r.resultHash ?? null, r.validateState, result.bytes, result.metrics],
        });
      } else if (old.state !== r.state || old.deadline !== r.deadline || old.validateState !== r.validateState) {
        out.push({ sql: `UPDATE replicas SET state = $2, deadline = $3, result_hash = $4, verdict = $5 WHERE id = $1`, params: [r.id, dbState, r.deadline, r.resultHash ?? null, r.validateState] });
      }
    }
    return out;
  }

  /** Runs `parts` as one statement inside `tx`. */
  private async write(tx: Queryable, parts: readonly Statement[]): Promise<void> {
    const st = combine(parts);
    await tx.query(st.sql, st.params);
  }

  private async writeUnit(tx: Queryable, before: UnitRow, wu: WorkUnitState, now: number): Promise<void> {
    await this.write(tx, this.unitStatements(before, wu, now));
  }

  private async lockUnit(tx: Queryable, id: string): Promise<UnitRow> {
    const rows = await tx.query<UnitRow & Record<string, unknown>>('SELECT id, run_id, kind, spec, wu, spec_hash, flops, round, slot FROM units WHERE id = $1 FOR UPDATE', [id]);
    if (rows.length === 0) throw new SwarmError('TRACKER_NOT_FOUND', 'no such unit', { unit: id });
    return rows[0]!;
  }

  // ---- the work loop --------------------------------------------------------

  /**
   * Inputs `provider` holds that the tracker lacks, of open units that need
   * a replica which no live holder can still take: this provider has a
   * replica already, and every other holder either has one too or has not
   * been seen for a whole lease of the unit (a working provider heartbeats
   * three times a lease). Only an upload then lets someone else take
   * the unit. Sent with the work response as `wanted`; in steady state (the
   * holders take the replicas) nothing is asked and kept state never moves.
   */
  async wantedFrom(provider: string): Promise<string[]> {
    const now = this.now();
    const rows = await this.db.query<{ sha: string }>(
      `SELECT DISTINCT m AS sha FROM units u, unnest(u.missing_inputs) AS m
        WHERE u.state = 'open' AND cardinality(u.missing_inputs) > 0 AND $1 = ANY(u.held_by)
          AND (u.needs_replica OR u.next_deadline < $2)
          AND EXISTS (SELECT 1 FROM replicas r WHERE r.unit_id = u.id AND r.provider = $1)
          AND NOT EXISTS (
            SELECT 1 FROM unnest(u.held_by) AS h JOIN providers p ON p.key_id = h
             WHERE p.last_seen > $2 - COALESCE((u.params->>'leaseMs')::bigint, 120000)
               AND NOT EXISTS (SELECT 1 FROM replicas r2 WHERE r2.unit_id = u.id AND r2.provider = h))
        LIMIT 8`,
      [provider, now],
    );
    return rows.map((r) => r.sha);
  }

  /** Leases one replica to `provider`, or null when nothing needs it now. */
  async requestWork(provider: string, kinds?: readonly UnitKind[]): Promise<WorkAssignment | null> {
    return (await this.leaseWork(provider, kinds)).unit;
  }

  /**
   * POST /api/work: a lease (or null) and the held inputs the tracker wants
   * uploaded (wantedFrom), asked only when an open unit waits for an input
   * this provider holds — which the lease's first statement tells, so the
   * common case costs no extra round trip.
   */
  async work(provider: string, kinds?: readonly UnitKind[]): Promise<{ unit: WorkAssignment | null; wanted: string[] }> {
    const { unit, maybeWanted } = await this.leaseWork(provider, kinds);
    return { unit, wanted: maybeWanted ? await this.wantedFrom(provider) : [] };
  }

  private async leaseWork(provider: string, kinds?: readonly UnitKind[]): Promise<{ unit: WorkAssignment | null; maybeWanted: boolean }> {
    const now = this.now();
    let appended = 0;
    let maybeWanted = false;
    const out = await this.db.transaction(async (tx) => {
      // $1 provider, $2 now, $3 kinds, $4 excluded unit ids. Two kinds of
      // candidate, each an ordered scan of its own partial index that stops
      // at the first unlocked match (units_needy_idx, units_lease_idx): units
      // short of replicas, oldest first; failing those, units with a lease
      // that may have run out (the 1 s sweep soon turns those into the first
      // kind anyway). One OR-ed query made the planner read and sort every
      // open unit on every request. (The first scan does not need `now`; it
      // names $2 so that it prepares on its own: PostgreSQL refuses a
      // parameter it cannot type, 42P18.)
      // A unit this provider held already is a candidate only under the
      // reissue rule (work-unit.ts header, issue 24): its replica timed out
      // and no eligible provider that has not held the unit is online (seen
      // within the unit's lease; trainers' keys never take work; a unit
      // waiting for a kept input is eligible only to its holders).
      // \`reissue\` tells the state machine which case the row is.
      const candidate = (needy: boolean): string => `SELECT u.id, u.run_id, u.kind, u.spec, u.wu, u.spec_hash, u.flops, u.round, u.slot, u.patch,
                  EXISTS (SELECT 1 FROM replicas r WHERE r.unit_id = u.id AND r.provider = $1) AS reissue
             FROM units u
            WHERE u.state = 'open'
              AND ${needy ? 'u.needs_replica AND $2::bigint IS NOT NULL' : 'NOT u.needs_replica AND u.next_deadline < $2'}
              AND ($3::text[] IS NULL OR u.kind = ANY($3::text[]))
              AND NOT EXISTS (SELECT 1 FROM replicas r WHERE r.unit_id = u.id AND r.provider = $1
                                 AND NOT ((r.state = 'timed_out' OR (r.state = 'in_progress' AND r.deadline < $2::bigint))
                                          AND ${NO_FRESH_PROVIDER_SQL}))
              AND NOT (u.id = ANY($4::text[]))
              AND (cardinality(u.missing_inputs) = 0 OR $1 = ANY(u.held_by))
            ORDER BY ${needy ? 'u.created_at, u.id' : 'u.next_deadline, u.id'}
            LIMIT 1
            FOR UPDATE OF u SKIP LOCKED`;
      const excluded: string[] = [];
      const params = (): unknown[] => [provider, now, kinds === undefined ? null : [...kinds], excluded, [...this.trainers]];
      // First round trip: the provider's record, its last_seen, the first
      // candidate locked, and whether any open unit waits for an input it
      // holds (units_held_idx keeps that cheap). last_seen is liveness with a
      // lease's tolerance: when another transaction holds the provider's row
      // (a submission judging this provider's replica locks it) the update is
      // skipped rather than waited for, and the next request records it.
      const first = await tx.query<Partial<UnitRow> & { p_record: ProviderRecord; maybe_wanted: boolean } & Record<string, unknown>>(
        `WITH p AS (SELECT record FROM providers WHERE key_id = $1),
              s AS (UPDATE providers SET last_seen = $2
                     WHERE key_id = (SELECT key_id FROM providers WHERE key_id = $1 FOR UPDATE SKIP LOCKED)),
              c AS (${candidate(true)})
         SELECT p.record AS p_record, c.*,
                EXISTS (SELECT 1 FROM units w WHERE w.state = 'open' AND cardinality(w.missing_inputs) > 0 AND $1 = ANY(w.held_by)) AS maybe_wanted
           FROM p LEFT JOIN c ON true`,
        params(),
      );
      if (first.length === 0) throw new SwarmError('TRACKER_UNKNOWN_PROVIDER', 'this key is not a registered provider; register first (POST /api/providers)');
      const record = first[0]!.p_record;
      maybeWanted = first[0]!.maybe_wanted === true;
      let needy = true;
      for (let attempt = 0; attempt < CANDIDATE_TRIES; attempt++) {
        let rows = attempt === 0
          ? (first[0]!.id == null ? [] : [first[0] as unknown as UnitRow])
          : await tx.query<UnitRow & Record<string, unknown>>(candidate(needy), params());
        if (rows.length === 0 && needy) {
          needy = false;
          rows = await tx.query<UnitRow & Record<string, unknown>>(candidate(false), params());
        }
        if (rows.length === 0) return null;
        const row = rows[0]!;
        let wu = expire(row.wu, now);
        if (wu.status === 'open') {
          const decision = replicationFor(record, row.id, this.o.spotCheckSeed, this.policy);
          if (decision.replicate && wu.minQuorum < decision.minQuorum && wu.params.maxTotalResults >= decision.targetResults) {
            wu = raiseReplication(wu, decision.minQuorum, decision.targetResults);
          }
        }
        const again = { reissueTimedOut: (row as { reissue?: boolean }).reissue === true };
        if (!canAssign(wu, provider, now, again)) {
          // Expiry or a raised quorum changed the state: store it, try the next unit.
          if (JSON.stringify(wu) !== JSON.stringify(row.wu)) await this.writeUnit(tx, row, wu, now);
          excluded.push(row.id);
          continue;
        }
        const { state, replica } = assign(wu, provider, now, again);
        const issued = this.sign('unit-issued', {
          run: row.run_id, unit: row.id, round: row.round, slot: row.slot, spec: row.spec_hash, provider, deadline: replica.deadline,
        }, now);
        await this.write(tx, [...this.unitStatements(row, state, now), this.ledgerStatement([issued], now)]);
        appended = 1;
        const info = this.inspectCached(row.kind as UnitKind, row.spec, row.spec_hash);
        return {
          unitId: row.id,
          runId: row.run_id,
          kind: row.kind as UnitKind,
          spec: row.spec,
          inputs: info.inputs,
          leaseDeadlineMs: replica.deadline,
          ...(row.patch == null ? {} : { patch: JSON.parse(row.patch) as ParamsPatch }),
        } satisfies WorkAssignment;
      }
      return null;
    });
    await this.committed(appended);
    return { unit: out, maybeWanted };
  }

  private replicaOf(wu: WorkUnitState, provider: string): Replica {
    const r = wu.replicas.find((x) => x.provider === provider);
    if (r === undefined) throw new SwarmError('TRACKER_FORBIDDEN', 'this provider holds no replica of this unit', { unit: wu.id });
    return r;
  }

  /** Extends the provider's lease on a unit; returns the new deadline. */
  async heartbeat(provider: string, unitId: string): Promise<number> {
    const now = this.now();
    return this.db.transaction(async (tx) => {
      const row = await this.lockUnit(tx, unitId);
      const r = this.replicaOf(row.wu, provider);
      const wu = wuHeartbeat(row.wu, r.id, now);
      // a provider busy with a long unit is alive (wantedFrom's holder liveness)
      await this.write(tx, [...this.unitStatements(row, wu, now), { sql: 'UPDATE providers SET last_seen = $2 WHERE key_id = $1', params: [provider, now] }]);
      return wu.replicas.find((x) => x.id === r.id)!.deadline;
    });
  }

  /** The provider gives up on a unit (an error in BOINC's terms); another replica will be issued. */
  async reportFailure(provider: string, report: FailureReport): Promise<void> {
    const now = this.now();
    await this.db.transaction(async (tx) => {
      const row = await this.lockUnit(tx, report.unitId);
      const r = this.replicaOf(row.wu, provider);
      const wu = failReplica(expire(row.wu, now), r.id, `${report.code}: ${report.message}`.slice(0, 200));
      await this.writeUnit(tx, row, wu, now);
    });
  }

  /**
   * Records a result: the blob must already be stored with the announced
   * size, and the provider's signed result-submitted entry must match. The
   * state machine then settles the unit; every replica whose verdict changed
   * gets a verdict entry, every valid one its credit, and every provider its
   * updated record, all in this one transaction.
   */
  async submitResult(provider: string, sub: ResultSubmission): Promise<{ unitStatus: 'open' | 'valid' | 'error' }> {
    const entry = parseEntry(sub.entry);
    if (entry.kind !== 'result-submitted' || entry.actor !== provider) throw new SwarmError('TRACKER_BAD_REQUEST', 'entry must be a result-submitted entry signed by the submitting provider');
    if (entry.body.unit !== sub.unitId || entry.body.result !== sub.resultHash) throw new SwarmError('TRACKER_BAD_REQUEST', 'the entry must name this unit and result hash');
    const now = this.now();
    let appended = 0;
    let becameValid: { id: string; runId: string; round: number; slot: number; canonicalHash: string } | null = null;
    const status = await this.db.transaction(async (tx) => {
      // One read: the unit (locked), the submitter's key and the result blob's size.
      const rows = await tx.query<UnitRow & { p_public_key: Uint8Array | null; b_size: string | null } & Record<string, unknown>>(
        `SELECT u.id, u.run_id, u.kind, u.spec, u.wu, u.spec_hash, u.flops, u.round, u.slot,
                (SELECT p.public_key FROM providers p WHERE p.key_id = $2) AS p_public_key,
                (SELECT b.size FROM blobs b WHERE b.sha256 = $3) AS b_size
           FROM units u WHERE u.id = $1 FOR UPDATE OF u`,
        [sub.unitId, provider, sub.resultHash],
      );
      if (rows.length === 0) throw new SwarmError('TRACKER_NOT_FOUND', 'no such unit', { unit: sub.unitId });
      const row = rows[0]!;
      if (entry.body.run !== row.run_id) throw new SwarmError('TRACKER_BAD_REQUEST', 'the entry names another run');
      if (row.p_public_key === null) throw new SwarmError('TRACKER_UNKNOWN_PROVIDER', 'this key is not a registered provider; register first (POST /api/providers)');
      verifyEntrySignature(entry, row.p_public_key);
      if (row.b_size === null) throw new SwarmError('TRACKER_RESULT_NOT_UPLOADED', 'upload the result blob (PUT /api/blobs/<sha256>) before submitting it');
      if (Number(row.b_size) !== sub.resultBytes) throw new SwarmError('TRACKER_BAD_REQUEST', 'resultBytes differs from the stored blob size', { stored: Number(row.b_size) });
      const r = this.replicaOf(row.wu, provider);
      // The same result again (its acknowledgement was lost: the tracker died
      // after COMMIT, issue 24): acknowledge it again, change nothing, so the
      // provider can forget its spooled copy.
      if (r.state === 'returned' && r.resultHash === sub.resultHash) return row.wu.status;
      const before = expire(row.wu, now);
      const wu = wuSubmit(before, r.id, sub.resultHash, now);
      const judged = await this.judge(tx, row, before, wu, now);
      const entries: LedgerEntry[] = [entry, ...judged.entries];
      await this.write(tx, [
        ...this.unitStatements(row, wu, now, { replica: r.id, bytes: sub.resultBytes, metrics: JSON.stringify(sub.metrics) }),
        ...judged.statements,
        this.ledgerStatement(entries, now),
      ]);
      appended = entries.length;
      if (before.status !== 'valid' && wu.status === 'valid') {
        becameValid = { id: row.id, runId: row.run_id, round: row.round, slot: row.slot, canonicalHash: wu.canonicalHash! };
      }
      return wu.status;
    });
    await this.committed(appended);
    if (becameValid !== null) this.o.onUnitValid?.(becameValid);
    return { unitStatus: status };
  }

  /**
   * Verdicts, credit and records for replicas whose validate state became
   * valid or invalid between `before` and `after`: the entries, and the
   * provider-row writes for the caller to combine with its own. Provider rows
   * are locked in key order by one statement (deadlock-free with other
   * submitters: the lock step sits above the sort).
   */
  private async judge(tx: Queryable, row: UnitRow, before: WorkUnitState, after: WorkUnitState, now: number): Promise<{ entries: LedgerEntry[]; statements: Statement[] }> {
    // credit.ts decides who earns what (every valid replica the unit's FLOPs, an invalid one a strike): the pure, tested rule is the one that runs
    const awards = new Map(creditAwards(after, Math.max(1, Math.round(row.flops))).map((a) => [a.replicaId, a]));
    const changed = after.replicas.filter((r) => {
      if (!awards.has(r.id)) return false;
      const old = before.replicas.find((x) => x.id === r.id);
      return old === undefined || old.validateState !== r.validateState || old.state !== 'returned';
    });
    if (changed.length === 0) return { entries: [], statements: [] };
    const providers = [...new Set(changed.map((r) => r.provider))].sort();
    const locked = await tx.query<ProviderRow & Record<string, unknown>>(
      `SELECT key_id, public_key, name, team, valid_count, invalid_count, credit, rac, rac_time, record
         FROM providers WHERE key_id = ANY($1::text[]) ORDER BY key_id FOR UPDATE`,
      [providers],
    );
    const rows = new Map<string, ProviderRow>(locked.map((p) => [p.key_id, p]));
    for (const p of providers) check(rows.has(p), 'TRACKER_UNKNOWN_PROVIDER', 'a replica names a provider that is not registered', { provider: p });
    const entries: LedgerEntry[] = [];
    for (const r of changed) {
      const award = awards.get(r.id)!;
      const valid = award.verdict === 'valid';
      entries.push(this.sign('verdict', {
        run: row.run_id, unit: row.id, provider: r.provider, result: r.resultHash!, outcome: valid ? 'valid' : 'invalid',
        ...(valid ? { quorum: after.minQuorum } : { reason: 'result hash differs from the quorum\'s canonical result' }),
      } as EntryBodies['verdict'], now));
      const p = rows.get(r.provider)!;
      p.record = recordVerdict(p.record, award.verdict, this.policy);
      const account: Account = {
        provider: p.key_id, totalCredit: p.credit, rac: p.rac, racTime: Number(p.rac_time) === 0 && p.rac === 0 ? null : Number(p.rac_time),
        valid: Number(p.valid_count), invalid: Number(p.invalid_count),
      };
      const next = applyAward(account, award, now, CREDIT_HALF_LIFE_MS);
      p.credit = next.totalCredit;
      p.valid_count = String(next.valid);
      p.invalid_count = String(next.invalid);
      if (valid) {
        p.rac = next.rac;
        p.rac_time = String(next.racTime);
        entries.push(this.sign('credit-granted', { run: row.run_id, unit: row.id, provider: r.provider, result: r.resultHash!, amount: award.credit }, now));
      }
    }
    const statements = [...rows.values()].map((p): Statement => ({
      sql: 'UPDATE providers SET record = $2, rac = $3, rac_time = $4, credit = $5, valid_count = $6, invalid_count = $7 WHERE key_id = $1',
      params: [p.key_id, JSON.stringify(p.record), p.rac, p.rac_time, p.credit, p.valid_count, p.invalid_count],
    }));
    return { entries, statements };
  }

  /**
   * Marks expired leases timed out (BOINC NO_REPLY) on units whose earliest
   * deadline has passed, so error limits apply and the queue index is exact.
   * Assignment already treats an expired lease as free; this only keeps the
   * stored state tidy. Returns the number of units updated.
   */
  async sweep(limit = 100): Promise<number> {
    const now = this.now();
    return this.db.transaction(async (tx) => {
      const rows = await tx.query<UnitRow & Record<string, unknown>>(
        `SELECT id, run_id, kind, spec, wu, spec_hash, flops, round, slot FROM units
          WHERE state = 'open' AND next_deadline < $1 ORDER BY next_deadline LIMIT $2 FOR UPDATE SKIP LOCKED`,
        [now, limit],
      );
      for (const row of rows) await this.writeUnit(tx, row, expire(row.wu, now), now);
      return rows.length;
    });
  }

  /**
   * PUT /api/blobs/:sha in one statement: the uploader must be a trainer or
   * a registered provider (no anonymous storage), the blob row and its bytes
   * are stored (ON CONFLICT: a second upload of the same bytes is a no-op),
   * and units that waited for these bytes as a held input may now go to
   * anyone. The bytes are checked first (checkBlobBytes).
   */
  async storeUpload(keyId: string, bytes: Uint8Array, expectedSha256: string, maxBytes: number): Promise<{ sha256: string; size: number; created: boolean }> {
    const sha = checkBlobBytes(bytes, expectedSha256, maxBytes);
    const rows = await this.db.query<{ allowed: boolean; created: string }>(
      `WITH ok AS (SELECT ($5::boolean OR EXISTS (SELECT 1 FROM providers WHERE key_id = $6)) AS v),
            b AS (INSERT INTO blobs (sha256, size, created_at) SELECT $1, $2, $3 WHERE (SELECT v FROM ok)
                  ON CONFLICT (sha256) DO NOTHING RETURNING sha256),
            d AS (INSERT INTO blob_data (sha256, bytes) SELECT sha256, $4 FROM b),
            m AS (UPDATE units SET missing_inputs = array_remove(missing_inputs, $1)
                   WHERE EXISTS (SELECT 1 FROM b) AND state = 'open' AND missing_inputs @> ARRAY[$1]::text[])
       SELECT (SELECT v FROM ok) AS allowed, (SELECT count(*) FROM b) AS created`,
      [sha, bytes.length, this.now(), bytes, this.isTrainer(keyId), keyId],
    );
    if (rows[0]!.allowed !== true) throw new SwarmError('TRACKER_UNKNOWN_PROVIDER', 'this key is not a registered provider; register first (POST /api/providers)');
    return { sha256: sha, size: bytes.length, created: Number(rows[0]!.created) === 1 };
  }

}
