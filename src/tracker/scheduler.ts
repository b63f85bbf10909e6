/**
 * The scheduler (BOINC's scheduler, the one hot request): hands out leases
 * and takes results. Every operation is one database transaction that
 *   1. locks what it changes (the unit row, then provider rows in key order,
 *      so two transactions never wait on each other in a cycle),
 *   2. computes the new unit state with the PURE state machine
 *      (validation/work-unit.ts, which is authoritative; the SQL columns
 *      needs_replica / next_deadline only index it for the assignment query),
 *   3. writes the state and queues the ledger entries recording the change
 *      in the same transaction (context.ts), so after a crash the state and
 *      the log agree.
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
import { base64Decode } from '../core/encoding.ts';
import { SwarmError, isSwarmError } from '../core/errors.ts';
import { parseEntry, verifyEntrySignature } from '../ledger/entry.ts';
import type { LedgerEntry } from '../ledger/entry.ts';
import { MAX_ERROR_MESSAGE_LENGTH, MAX_INLINE_RESULT_BYTES } from '../protocol/schemas.ts';
import type { BatchOutcome, BatchedResult, FailureReport, ParamsPatch, ResultSubmission, SchedulerRequest, SchedulerResponse, UnitKind, WorkAssignment } from '../protocol/schemas.ts';
import { checkBlobBytes } from './storage/blobs.ts';
import { claRequiredMessage, missingClaSql } from './cla.ts';
import type { TrackerContext } from './context.ts';
import { applyAwards, judgeUnit } from './judge.ts';
import type { Statement } from './storage/combine.ts';
import type { Queryable } from './storage/db.ts';
import { lockUnit, replicaOf, unitStatements, write } from './unit-rows.ts';
import type { UnitRow } from './unit-rows.ts';
import { replicationFor } from './validation/adaptive.ts';
import type { ProviderRecord } from './validation/adaptive.ts';
import type { CreditAward } from './validation/credit.ts';
import type { WorkUnitState } from './validation/work-unit.ts';
import { assign, canAssign, expire, failReplica, heartbeat as wuHeartbeat, raiseReplication, submit as wuSubmit } from './validation/work-unit.ts';

/** Hint to a provider that found no work. */
export const NO_WORK_RETRY_MS = 2_000;
const CANDIDATE_TRIES = 16;
/** The codes storage/db.ts gives a failed statement: not a refusal of one result (see schedule). */
const DRIVER_FAILURES = new Set(['STORAGE_CONFLICT', 'STORAGE_UNAVAILABLE', 'STORAGE_ERROR']);

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
/**
 * The Sybil rule (DESIGN.md, "Identity and security"; issue 25): a quorum
 * never consists only of identities younger than the trust threshold while
 * an established provider is available. Fresh keys are free, and a wrong
 * result passes only when every replica of a unit agrees on it, so two
 * colluding fresh keys must not be able to fill a unit between them while
 * someone with a record could take its last replica.
 * For a candidate unit u and the requesting provider $1, true when: $1 is
 * younger than the threshold ($7 verdicts, adaptive.ts minConsecutiveValid:
 * the same age that earns unreplicated work), u has active replicas of other
 * providers and all of them are young too, and an established provider that
 * may take u (freshProviderSql: online within u's lease, never held u) is
 * online. The scheduler then skips u for $1 if $1's replica would complete
 * the quorum (completesQuorum). CASE keeps the subqueries off the path of
 * established providers.
 */
const ACTIVE_REPLICA_SQL = `r.unit_id = u.id AND r.provider <> $1 AND r.state IN ('in-progress', 'reported', 'valid')`;
const SYBIL_GUARD_SQL = `CASE WHEN (SELECT (pr.record->>'total')::int FROM providers pr WHERE pr.key_id = $1) < $7::int
               THEN EXISTS (SELECT 1 FROM replicas r WHERE ${ACTIVE_REPLICA_SQL})
                AND NOT EXISTS (SELECT 1 FROM replicas r JOIN providers q ON q.key_id = r.provider
                                 WHERE ${ACTIVE_REPLICA_SQL} AND (q.record->>'total')::int >= $7::int)
                AND EXISTS (SELECT 1 FROM providers p WHERE ${freshProviderSql('$2', '$5')} AND (p.record->>'total')::int >= $7::int)
               ELSE false END`;

/** The writes recording `provider`'s failure report on the unit in `row` (locked by the caller): its replica ends in error. */
function failureStatements(row: UnitRow, provider: string, report: FailureReport, now: number): Statement[] {
  const r = replicaOf(row.wu, provider);
  return unitStatements(row, failReplica(expire(row.wu, now), r.id, `${report.code}: ${report.message}`.slice(0, 200)), now);
}

/** Whether a replica for `provider` would complete `wu`'s quorum: its other live replicas (leased, or returned and not invalid) plus one reach the target. */
function completesQuorum(wu: WorkUnitState, provider: string, now: number): boolean {
  const others = wu.replicas.filter((r) => r.provider !== provider
    && ((r.state === 'in-progress' && r.deadline >= now) || (r.state === 'returned' && r.validateState !== 'invalid'))).length;
  return others + 1 >= wu.targetResults;
}

/** "No eligible provider that has not held unit u is online" (the reissue rule, work-unit.ts header): $2 now, $5 the trainers' key ids. */
const NO_FRESH_PROVIDER_SQL = `NOT EXISTS (SELECT 1 FROM providers p WHERE ${freshProviderSql('$2', '$5')})`;

export class Scheduler {
  constructor(private readonly ctx: TrackerContext) {}

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
    const now = this.ctx.now();
    const rows = await this.ctx.db.query<{ sha: string }>(
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
    return (await this.leaseWork(provider, kinds, 1)).units[0] ?? null;
  }

  /**
   * POST /api/work: a lease (or null) and the held inputs the tracker wants
   * uploaded (wantedFrom), asked only when an open unit waits for an input
   * this provider holds — which the lease's first statement tells, so the
   * common case costs no extra round trip.
   */
  async work(provider: string, kinds?: readonly UnitKind[]): Promise<{ unit: WorkAssignment | null; wanted: string[] }> {
    const { units, maybeWanted } = await this.leaseWork(provider, kinds, 1);
    return { unit: units[0] ?? null, wanted: maybeWanted ? await this.wantedFrom(provider) : [] };
  }

  private async leaseWork(provider: string, kinds: readonly UnitKind[] | undefined, count: number): Promise<Leases> {
    const now = this.ctx.now();
    const leases = await this.ctx.db.transaction(async (tx) => {
      const l = await this.leaseIn(tx, provider, kinds, count, now);
      await write(tx, [...l.statements, ...(l.entries.length > 0 ? [this.ctx.ledgerStatement(l.entries, now)] : [])]);
      return l;
    });
    await this.ctx.committed(leases.entries.length);
    return leases;
  }

  /**
   * Up to `count` leases for `provider` inside `tx`: the assignments, and the
   * writes and unit-issued entries for the caller to store (nothing is
   * written here, so a batch stores everything in one statement).
   */
  private async leaseIn(tx: Queryable, provider: string, kinds: readonly UnitKind[] | undefined, count: number, now: number): Promise<Leases & { statements: Statement[]; entries: LedgerEntry[] }> {
    const out: Leases & { statements: Statement[]; entries: LedgerEntry[] } = { units: [], maybeWanted: false, statements: [], entries: [] };
    // $1 provider, $2 now, $3 kinds, $4 excluded unit ids, $5 trainers, $6
    // how many. Two kinds of candidate, each an ordered scan of its own
    // partial index that stops at the first unlocked matches
    // (units_needy_idx, units_lease_idx): units short of replicas, oldest
    // first; failing those, units with a lease that may have run out (the
    // 1 s sweep soon turns those into the first kind anyway). One OR-ed query
    // made the planner read and sort every open unit on every request. (The
    // first scan does not need `now`; it names $2 so that it prepares on its
    // own: PostgreSQL refuses a parameter it cannot type, 42P18.)
    // A unit this provider held already is a candidate only under the
    // reissue rule (work-unit.ts header, issue 24): its replica timed out
    // and no eligible provider that has not held the unit is online (seen
    // within the unit's lease; trainers' keys never take work; a unit
    // waiting for a kept input is eligible only to its holders).
    // `reissue` tells the state machine which case the row is.
    const candidate = (needy: boolean): string => `SELECT u.id, u.run_id, u.kind, u.spec, u.wu, u.spec_hash, u.flops, u.round, u.slot, u.patch,
                EXISTS (SELECT 1 FROM replicas r WHERE r.unit_id = u.id AND r.provider = $1) AS reissue,
                ${SYBIL_GUARD_SQL} AS sybil_guard
           FROM units u
          WHERE u.state = 'open'
            AND ${needy ? 'u.needs_replica AND $2::bigint IS NOT NULL' : 'NOT u.needs_replica AND u.next_deadline < $2'}
            AND ($3::text[] IS NULL OR u.kind = ANY($3::text[]))
            AND NOT EXISTS (SELECT 1 FROM replicas r WHERE r.unit_id = u.id AND r.provider = $1
                               AND NOT ((r.state = 'timed-out' OR (r.state = 'in-progress' AND r.deadline < $2::bigint))
                                        AND ${NO_FRESH_PROVIDER_SQL}))
            AND NOT (u.id = ANY($4::text[]))
            AND (cardinality(u.missing_inputs) = 0 OR $1 = ANY(u.held_by))
          ORDER BY ${needy ? 'u.created_at, u.id' : 'u.next_deadline, u.id'}
          LIMIT $6::int
          FOR UPDATE OF u SKIP LOCKED`;
    const excluded: string[] = [];
    const params = (): unknown[] => [provider, now, kinds === undefined ? null : [...kinds], excluded, [...this.ctx.trainers], count - out.units.length, this.ctx.policy.minConsecutiveValid];
    // First round trip: the provider's record, its last_seen, the first
    // candidates locked, and whether any open unit waits for an input it
    // holds (units_held_idx keeps that cheap). last_seen is liveness with a
    // lease's tolerance: when another transaction holds the provider's row
    // (a submission judging this provider's replica locks it) the update is
    // skipped rather than waited for, and the next request records it. A
    // request for no units (want 0: a paused provider keeping in touch, or
    // one only reporting) is not liveness: "online" means available for work
    // (freshProviderSql), and a paused established provider must not hold
    // back quorums of newcomers (the Sybil rule) for as long as it stays paused.
    const first = await tx.query<Partial<UnitRow> & { p_record: ProviderRecord; p_banned_by: string | null; p_cla_missing: string | null; maybe_wanted: boolean } & Record<string, unknown>>(
      `WITH p AS (SELECT record, banned_by, (${missingClaSql('$1')}) AS cla_missing FROM providers WHERE key_id = $1),
            s AS (UPDATE providers SET last_seen = $2
                   WHERE key_id = (SELECT key_id FROM providers WHERE key_id = $1 FOR UPDATE SKIP LOCKED) AND $6::int > 0),
            c AS (${candidate(true)})
       SELECT p.record AS p_record, p.banned_by AS p_banned_by, p.cla_missing AS p_cla_missing, c.*,
              EXISTS (SELECT 1 FROM units w WHERE w.state = 'open' AND cardinality(w.missing_inputs) > 0 AND $1 = ANY(w.held_by)) AS maybe_wanted
         FROM p LEFT JOIN c ON true`,
      params(),
    );
    if (first.length === 0) throw new SwarmError('TRACKER_UNKNOWN_PROVIDER', 'this key is not a registered provider; register first (POST /api/providers)');
    refuseBanned(first[0]!.p_banned_by);
    refuseUnsignedCla(first[0]!.p_cla_missing);
    const record = first[0]!.p_record;
    out.maybeWanted = first[0]!.maybe_wanted === true;
    if (count === 0) return out;
    let needy = true;
    let rows: UnitRow[] = first.filter((r) => r.id != null) as unknown as UnitRow[];
    for (let attempt = 0; attempt < CANDIDATE_TRIES && out.units.length < count; attempt++) {
      if (attempt > 0) rows = await tx.query<UnitRow & Record<string, unknown>>(candidate(needy), params());
      if (rows.length === 0 && needy) {
        needy = false;
        rows = await tx.query<UnitRow & Record<string, unknown>>(candidate(false), params());
      }
      if (rows.length === 0) break;
      for (const row of rows) {
        excluded.push(row.id);
        let wu = expire(row.wu, now);
        if (wu.status === 'open') {
          const decision = replicationFor(record, row.id, this.ctx.options.spotCheckSeed, this.ctx.policy);
          if (decision.replicate && wu.minQuorum < decision.minQuorum && wu.params.maxTotalResults >= decision.targetResults) {
            wu = raiseReplication(wu, decision.minQuorum, decision.targetResults);
          }
        }
        if ((row as { sybil_guard?: boolean }).sybil_guard === true && completesQuorum(wu, provider, now)) {
          // Sybil rule (issue 25): this fresh identity would complete a quorum of fresh
          // identities only, while an established provider that may take the unit is online.
          continue;
        }
        const again = { reissueTimedOut: (row as { reissue?: boolean }).reissue === true };
        if (!canAssign(wu, provider, now, again)) {
          // Expiry or a raised quorum changed the state: store it, try the next unit.
          if (JSON.stringify(wu) !== JSON.stringify(row.wu)) out.statements.push(...unitStatements(row, wu, now));
          continue;
        }
        const { state, replica } = assign(wu, provider, now, again);
        out.entries.push(this.ctx.sign('unit-issued', {
          run: row.run_id, unit: row.id, round: row.round, slot: row.slot, spec: row.spec_hash, provider, deadline: replica.deadline,
        }, now));
        out.statements.push(...unitStatements(row, state, now));
        const info = this.ctx.inspectCached(row.kind as UnitKind, row.spec, row.spec_hash);
        out.units.push({
          unitId: row.id,
          runId: row.run_id,
          kind: row.kind as UnitKind,
          spec: row.spec,
          inputs: info.inputs,
          leaseDeadlineMs: replica.deadline,
          ...(row.patch == null ? {} : { patch: JSON.parse(row.patch) as ParamsPatch }),
        } satisfies WorkAssignment);
      }
    }
    return out;
  }

  /** Extends the provider's lease on a unit; returns the new deadline. */
  async heartbeat(provider: string, unitId: string): Promise<number> {
    const now = this.ctx.now();
    return this.ctx.db.transaction(async (tx) => {
      const row = await lockUnit(tx, unitId);
      const p = await tx.query<{ banned_by: string | null }>('SELECT banned_by FROM providers WHERE key_id = $1', [provider]);
      refuseBanned(p[0]?.banned_by ?? null);
      const r = replicaOf(row.wu, provider);
      const wu = wuHeartbeat(row.wu, r.id, now);
      // a provider busy with a long unit is alive (wantedFrom's holder liveness)
      await write(tx, [...unitStatements(row, wu, now), { sql: 'UPDATE providers SET last_seen = $2 WHERE key_id = $1', params: [provider, now] }]);
      return wu.replicas.find((x) => x.id === r.id)!.deadline;
    });
  }

  /** The provider gives up on a unit (an error in BOINC's terms); another replica will be issued. */
  async reportFailure(provider: string, report: FailureReport): Promise<void> {
    const now = this.ctx.now();
    await this.ctx.db.transaction(async (tx) => {
      await write(tx, failureStatements(await lockUnit(tx, report.unitId), provider, report, now));
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
    const now = this.ctx.now();
    const taken = await this.ctx.db.transaction(async (tx) => {
      const t = await this.resultIn(tx, provider, sub, now);
      const awards = await applyAwards(this.ctx, tx, t.awards, now);
      await write(tx, [...t.statements, ...awards, ...(t.entries.length > 0 ? [this.ctx.ledgerStatement(t.entries, now)] : [])]);
      return t;
    });
    await this.ctx.committed(taken.entries.length);
    if (taken.becameValid !== null) this.ctx.options.onUnitValid?.(taken.becameValid);
    return { unitStatus: taken.status };
  }

  /**
   * `sub` checked and judged inside `tx` (the unit locked): the unit's
   * writes, the entries (the provider's result-submitted entry, then the
   * verdicts and credit), and the awards for applyAwards. Every refusal is
   * thrown before anything is written, so a batch can refuse one result and
   * keep the others.
   */
  private async resultIn(tx: Queryable, provider: string, sub: ResultSubmission, now: number): Promise<TakenResult> {
    const entry = checkResultEntry(provider, sub);
    // One read: the unit (locked), the submitter's key and the result blob's size.
    const rows = await tx.query<ReportedRow & Record<string, unknown>>(
      `SELECT ${reportedColumns('$3')}
         FROM units u ${REPORTER_JOIN} WHERE u.id = $1 FOR UPDATE OF u`,
      [sub.unitId, provider, sub.resultHash],
    );
    if (rows.length === 0) throw new SwarmError('TRACKER_NOT_FOUND', 'no such unit', { unit: sub.unitId });
    return this.judgeResult(rows[0]!, provider, sub, entry, false, now);
  }

  /**
   * A reported result against its unit's locked row: every check, then the
   * state machine and the judge. Pure apart from signing the tracker's
   * entries: the caller writes what it returns. `inline`: the bytes came
   * with the request, already checked against the size and hash, and are
   * stored by the caller once this accepts them.
   */
  private judgeResult(row: ReportedRow, provider: string, sub: ResultSubmission, entry: LedgerEntry<'result-submitted'>, inline: boolean, now: number): TakenResult {
    if (entry.body.run !== row.run_id) throw new SwarmError('TRACKER_BAD_REQUEST', 'the entry names another run');
    if (row.p_public_key === null) throw new SwarmError('TRACKER_UNKNOWN_PROVIDER', 'this key is not a registered provider; register first (POST /api/providers)');
    refuseBanned(row.p_banned_by);
    refuseUnsignedCla(row.p_cla_missing);
    verifyEntrySignature(entry, row.p_public_key);
    if (!inline) {
      if (row.b_size === null) throw new SwarmError('TRACKER_RESULT_NOT_UPLOADED', 'upload the result blob (PUT /api/blobs/<sha256>) before submitting it');
      if (Number(row.b_size) !== sub.resultBytes) throw new SwarmError('TRACKER_BAD_REQUEST', 'resultBytes differs from the stored blob size', { stored: Number(row.b_size) });
    }
    const r = replicaOf(row.wu, provider);
    // The same result again (its acknowledgement was lost: the tracker died
    // after COMMIT, issue 24): acknowledge it again, change nothing, so the
    // provider can forget its spooled copy.
    if (r.state === 'returned' && r.resultHash === sub.resultHash) return { status: row.wu.status, statements: [], entries: [], awards: [], becameValid: null };
    const before = expire(row.wu, now);
    const wu = wuSubmit(before, r.id, sub.resultHash, now);
    const judged = judgeUnit(this.ctx, row, before, wu, now);
    return {
      status: wu.status,
      statements: unitStatements(row, wu, now, { replica: r.id, bytes: sub.resultBytes, metrics: JSON.stringify(sub.metrics) }),
      entries: [entry, ...judged.entries],
      awards: judged.awards,
      becameValid: before.status !== 'valid' && wu.status === 'valid'
        ? { id: row.id, runId: row.run_id, round: row.round, slot: row.slot, canonicalHash: wu.canonicalHash! }
        : null,
    };
  }

  /**
   * POST /api/scheduler, BOINC's scheduler RPC (issue 16): the finished
   * results and failures a provider reports, then up to `want` new leases,
   * in ONE transaction with one combined write and one ledger queue row, so
   * a batch of n costs about what one result cost before. A result or
   * failure that is refused (a bad signature, an unknown unit, a replica
   * the provider does not hold...) is answered by name with its coded error
   * and changes nothing; the others are recorded. Units are handled in id
   * order so that two batches lock shared units in the same order, and
   * provider rows are locked once, after every unit (judge.ts applyAwards):
   * no lock cycle with another batch or a single-result submission.
   * Results with inline bytes are stored as blobs first (blob-uploads.ts).
   */
  async schedule(provider: string, req: SchedulerRequest): Promise<SchedulerResponse> {
    const now = this.ctx.now();
    // A refusal is thrown before anything of its unit is written; a driver
    // failure (storage/db.ts mapDbError) may have aborted the transaction,
    // so it fails the whole batch and the provider sends it again.
    const refused = (unitId: string, e: unknown): BatchOutcome => {
      if (!isSwarmError(e) || DRIVER_FAILURES.has(e.code)) throw e;
      return { unitId, ok: false, error: { code: e.code, message: e.message.slice(0, MAX_ERROR_MESSAGE_LENGTH) } };
    };
    const results = [...(req.results ?? [])].sort((a, b) => (a.unitId < b.unitId ? -1 : a.unitId > b.unitId ? 1 : 0));
    const failures = [...(req.failures ?? [])].sort((a, b) => (a.unitId < b.unitId ? -1 : a.unitId > b.unitId ? 1 : 0));
    const valid: NonNullable<TakenResult['becameValid']>[] = [];
    const done = await this.ctx.db.transaction(async (tx) => {
      const statements: Statement[] = [];
      const entries: LedgerEntry[] = [];
      const awards: CreditAward[] = [];
      const resultOutcomes: BatchOutcome[] = [];
      const failureOutcomes: BatchOutcome[] = [];
      // One read for every unit the batch reports on, locked in id order
      // (two batches, or a batch and a single submission, lock shared units
      // in the same order), with the submitter's key and each result blob's
      // size. Missing units are refused below by name.
      const reported = [...results.map((r) => [r.unitId, r.resultHash]), ...failures.map((f) => [f.unitId, null])];
      const rows = reported.length === 0 ? [] : await tx.query<ReportedRow & Record<string, unknown>>(
        `SELECT ${reportedColumns('r.hash')}
           FROM unnest($1::text[], $3::text[]) AS r(unit_id, hash) JOIN units u ON u.id = r.unit_id ${REPORTER_JOIN}
          ORDER BY u.id FOR UPDATE OF u`,
        [reported.map((x) => x[0]), provider, reported.map((x) => x[1])],
      );
      const inlined = new Set<string>();
      const rowOf = (unitId: string): ReportedRow => {
        const row = rows.find((x) => x.id === unitId);
        if (row === undefined) throw new SwarmError('TRACKER_NOT_FOUND', 'no such unit', { unit: unitId });
        return row;
      };
      for (const sub of results) {
        try {
          const entry = checkResultEntry(provider, sub);
          const inline = sub.data === undefined ? undefined : inlineBytes(sub);
          const t = this.judgeResult(rowOf(sub.unitId), provider, sub, entry, inline !== undefined, now);
          // stored only once the result is accepted: a refused one leaves nothing behind
          if (inline !== undefined && !inlined.has(sub.resultHash)) {
            inlined.add(sub.resultHash); // one write per row and statement (combine.ts)
            statements.push(...inlineBlobStatements(sub.resultHash, inline, now));
          }
          statements.push(...t.statements);
          entries.push(...t.entries);
          awards.push(...t.awards);
          if (t.becameValid !== null) valid.push(t.becameValid);
          resultOutcomes.push({ unitId: sub.unitId, ok: true, unitStatus: t.status });
        } catch (e) {
          resultOutcomes.push(refused(sub.unitId, e));
        }
      }
      for (const f of failures) {
        try {
          statements.push(...failureStatements(rowOf(f.unitId), provider, f, now));
          failureOutcomes.push({ unitId: f.unitId, ok: true });
        } catch (e) {
          failureOutcomes.push(refused(f.unitId, e));
        }
      }
      statements.push(...(await applyAwards(this.ctx, tx, awards, now)));
      // The reported units are written before leasing, so the lease query sees their new state.
      if (statements.length > 0) await write(tx, statements);
      const leases = await this.leaseIn(tx, provider, req.kinds, req.want, now);
      entries.push(...leases.entries);
      await write(tx, [...leases.statements, ...(entries.length > 0 ? [this.ctx.ledgerStatement(entries, now)] : [])]);
      return { resultOutcomes, failureOutcomes, leases, appended: entries.length };
    });
    await this.ctx.committed(done.appended);
    for (const v of valid) this.ctx.options.onUnitValid?.(v);
    const wanted = done.leases.maybeWanted ? await this.wantedFrom(provider) : [];
    return {
      results: done.resultOutcomes,
      failures: done.failureOutcomes,
      units: done.leases.units,
      ...(done.leases.units.length < req.want ? { retryAfterMs: NO_WORK_RETRY_MS } : {}),
      ...(wanted.length > 0 ? { wanted } : {}),
    };
  }

}

/**
 * A reported unit's row: the unit, the submitter's ($2) key, ban and CLA
 * standing, and the size of the blob the result names (`hash`, an SQL
 * expression). The submitter's row is joined once (REPORTER_JOIN; only the
 * unit rows are locked), not looked up once per column.
 */
type ReportedRow = UnitRow & { p_public_key: Uint8Array | null; p_banned_by: string | null; p_cla_missing: string | null; b_size: string | null };
const REPORTER_JOIN = 'LEFT JOIN providers p ON p.key_id = $2';
const reportedColumns = (hash: string): string => `u.id, u.run_id, u.kind, u.spec, u.wu, u.spec_hash, u.flops, u.round, u.slot,
              p.public_key AS p_public_key, p.banned_by AS p_banned_by,
              (${missingClaSql('$2')}) AS p_cla_missing,
              (SELECT b.size FROM blobs b WHERE b.sha256 = ${hash}) AS b_size`;

/**
 * A provider the council banned (issue 20, council.ts) gets nothing more:
 * no lease, no heartbeat, no result. The code is what `swarm provide` stops on.
 */
function refuseBanned(bannedBy: string | null): void {
  if (bannedBy !== null) {
    throw new SwarmError('TRACKER_BANNED', `this identity was banned by the council's decision ${bannedBy}; see GET /api/council/proposals/${bannedBy}`, { decision: bannedBy });
  }
}

/**
 * A provider without a signature of the tracker's current contributor
 * licence (issue 20, cla.ts) gets no lease and no result counts: the code
 * says how to sign, and `swarm provide` stops on it.
 */
function refuseUnsignedCla(missing: string | null): void {
  if (missing !== null) throw new SwarmError('TRACKER_CLA_REQUIRED', claRequiredMessage(missing), { version: missing });
}

/** The provider's result-submitted entry, parsed: signed by the submitter (checked with its key later), naming this unit and hash. */
function checkResultEntry(provider: string, sub: ResultSubmission): LedgerEntry<'result-submitted'> {
  const entry = parseEntry(sub.entry);
  if (entry.kind !== 'result-submitted' || entry.actor !== provider) throw new SwarmError('TRACKER_BAD_REQUEST', 'entry must be a result-submitted entry signed by the submitting provider');
  if (entry.body.unit !== sub.unitId || entry.body.result !== sub.resultHash) throw new SwarmError('TRACKER_BAD_REQUEST', 'the entry must name this unit and result hash');
  return entry as LedgerEntry<'result-submitted'>;
}

/**
 * An accepted inline result stored as a blob, as parts of the batch's one
 * write (combine.ts: the two inserts are separate parts, each a no-op when
 * the bytes are stored already; the foreign key is checked at the end of the
 * statement). Unlike an upload (blob-uploads.ts) it frees no unit waiting for
 * a held input: those are kept optimizer states, uploaded when wanted, never
 * results.
 */
function inlineBlobStatements(sha: string, bytes: Uint8Array, now: number): Statement[] {
  return [
    { sql: 'INSERT INTO blobs (sha256, size, created_at) VALUES ($1, $2, $3) ON CONFLICT (sha256) DO NOTHING', params: [sha, bytes.length, now] },
    { sql: 'INSERT INTO blob_data (sha256, bytes) VALUES ($1, $2) ON CONFLICT (sha256) DO NOTHING', params: [sha, bytes] },
  ];
}

/** A result's inline bytes, which must be what it announces: its size, and (checkBlobBytes) its hash. */
function inlineBytes(sub: BatchedResult): Uint8Array {
  const bytes = base64Decode(sub.data!);
  if (bytes.length !== sub.resultBytes) throw new SwarmError('TRACKER_BAD_REQUEST', 'the inline result is not resultBytes long', { bytes: bytes.length });
  checkBlobBytes(bytes, sub.resultHash, MAX_INLINE_RESULT_BYTES);
  return bytes;
}

interface Leases {
  units: WorkAssignment[];
  /** whether an open unit waits for an input this provider holds (then wantedFrom is asked) */
  maybeWanted: boolean;
}

interface TakenResult {
  status: 'open' | 'valid' | 'error';
  statements: Statement[];
  entries: LedgerEntry[];
  awards: CreditAward[];
  becameValid: { id: string; runId: string; round: number; slot: number; canonicalHash: string } | null;
}
