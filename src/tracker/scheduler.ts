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
import { SwarmError } from '../core/errors.ts';
import { parseEntry, verifyEntrySignature } from '../ledger/entry.ts';
import type { LedgerEntry } from '../ledger/entry.ts';
import type { FailureReport, ParamsPatch, ResultSubmission, UnitKind, WorkAssignment } from '../protocol/schemas.ts';
import type { TrackerContext } from './context.ts';
import { judge } from './judge.ts';
import { lockUnit, replicaOf, unitStatements, write, writeUnit } from './unit-rows.ts';
import type { UnitRow } from './unit-rows.ts';
import { replicationFor } from './validation/adaptive.ts';
import type { ProviderRecord } from './validation/adaptive.ts';
import { assign, canAssign, expire, failReplica, heartbeat as wuHeartbeat, raiseReplication, submit as wuSubmit } from './validation/work-unit.ts';

/** Hint to a provider that found no work. */
export const NO_WORK_RETRY_MS = 2_000;
const CANDIDATE_TRIES = 16;

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
    const now = this.ctx.now();
    let appended = 0;
    let maybeWanted = false;
    const out = await this.ctx.db.transaction(async (tx) => {
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
                                 AND NOT ((r.state = 'timed-out' OR (r.state = 'in-progress' AND r.deadline < $2::bigint))
                                          AND ${NO_FRESH_PROVIDER_SQL}))
              AND NOT (u.id = ANY($4::text[]))
              AND (cardinality(u.missing_inputs) = 0 OR $1 = ANY(u.held_by))
            ORDER BY ${needy ? 'u.created_at, u.id' : 'u.next_deadline, u.id'}
            LIMIT 1
            FOR UPDATE OF u SKIP LOCKED`;
      const excluded: string[] = [];
      const params = (): unknown[] => [provider, now, kinds === undefined ? null : [...kinds], excluded, [...this.ctx.trainers]];
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
          const decision = replicationFor(record, row.id, this.ctx.options.spotCheckSeed, this.ctx.policy);
          if (decision.replicate && wu.minQuorum < decision.minQuorum && wu.params.maxTotalResults >= decision.targetResults) {
            wu = raiseReplication(wu, decision.minQuorum, decision.targetResults);
          }
        }
        const again = { reissueTimedOut: (row as { reissue?: boolean }).reissue === true };
        if (!canAssign(wu, provider, now, again)) {
          // Expiry or a raised quorum changed the state: store it, try the next unit.
          if (JSON.stringify(wu) !== JSON.stringify(row.wu)) await writeUnit(tx, row, wu, now);
          excluded.push(row.id);
          continue;
        }
        const { state, replica } = assign(wu, provider, now, again);
        const issued = this.ctx.sign('unit-issued', {
          run: row.run_id, unit: row.id, round: row.round, slot: row.slot, spec: row.spec_hash, provider, deadline: replica.deadline,
        }, now);
        await write(tx, [...unitStatements(row, state, now), this.ctx.ledgerStatement([issued], now)]);
        appended = 1;
        const info = this.ctx.inspectCached(row.kind as UnitKind, row.spec, row.spec_hash);
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
    await this.ctx.committed(appended);
    return { unit: out, maybeWanted };
  }

  /** Extends the provider's lease on a unit; returns the new deadline. */
  async heartbeat(provider: string, unitId: string): Promise<number> {
    const now = this.ctx.now();
    return this.ctx.db.transaction(async (tx) => {
      const row = await lockUnit(tx, unitId);
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
      const row = await lockUnit(tx, report.unitId);
      const r = replicaOf(row.wu, provider);
      const wu = failReplica(expire(row.wu, now), r.id, `${report.code}: ${report.message}`.slice(0, 200));
      await writeUnit(tx, row, wu, now);
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
    const now = this.ctx.now();
    let appended = 0;
    let becameValid: { id: string; runId: string; round: number; slot: number; canonicalHash: string } | null = null;
    const status = await this.ctx.db.transaction(async (tx) => {
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
      const r = replicaOf(row.wu, provider);
      // The same result again (its acknowledgement was lost: the tracker died
      // after COMMIT, issue 24): acknowledge it again, change nothing, so the
      // provider can forget its spooled copy.
      if (r.state === 'returned' && r.resultHash === sub.resultHash) return row.wu.status;
      const before = expire(row.wu, now);
      const wu = wuSubmit(before, r.id, sub.resultHash, now);
      const judged = await judge(this.ctx, tx, row, before, wu, now);
      const entries: LedgerEntry[] = [entry, ...judged.entries];
      await write(tx, [
        ...unitStatements(row, wu, now, { replica: r.id, bytes: sub.resultBytes, metrics: JSON.stringify(sub.metrics) }),
        ...judged.statements,
        this.ctx.ledgerStatement(entries, now),
      ]);
      appended = entries.length;
      if (before.status !== 'valid' && wu.status === 'valid') {
        becameValid = { id: row.id, runId: row.run_id, round: row.round, slot: row.slot, canonicalHash: wu.canonicalHash! };
      }
      return wu.status;
    });
    await this.ctx.committed(appended);
    if (becameValid !== null) this.ctx.options.onUnitValid?.(becameValid);
    return { unitStatus: status };
  }
}
