/**
 * A work unit as the database holds it, and the writes that store a new
 * state of it. The pure state machine (validation/work-unit.ts) is
 * authoritative: the `wu` column holds its state, and the columns the
 * assignment query filters on (needs_replica, next_deadline) and the
 * replicas rows only index it. Every part of the tracker that changes a unit
 * (scheduler, sweeper, unit queue) stores it through unitStatements, so the
 * index never drifts from the state.
 *
 * Writes that belong together go to the database as one statement
 * (storage/combine.ts): a round trip costs more here than most statements.
 */
import { SwarmError } from '../core/errors.ts';
import type { ParamsPatch } from '../protocol/schemas.ts';
import { combine } from './storage/combine.ts';
import type { Statement } from './storage/combine.ts';
import type { Queryable } from './storage/db.ts';
import { replicaRowState } from './validation/work-unit.ts';
import type { Replica, WorkUnitState } from './validation/work-unit.ts';

export interface UnitRow {
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

/** The columns of a UnitRow, for SELECTs (prefix `u.` where the query joins). */
export const UNIT_COLUMNS = 'id, run_id, kind, spec, wu, spec_hash, flops, round, slot';

/** A unit's patch as stored (JSON), or null; a patch must name one of the unit's inputs as its target. */
export function patchOf(p: ParamsPatch | undefined, inputs: readonly string[]): string | null {
  if (p === undefined) return null;
  if (!inputs.includes(p.target)) throw new SwarmError('TRACKER_BAD_REQUEST', 'a params patch must target one of the unit\'s inputs', { target: p.target });
  return JSON.stringify({ target: p.target, base: p.base, update: p.update });
}

/** The indexes the assignment query filters on, from the authoritative state. */
export function queueColumns(wu: WorkUnitState): { needs: boolean; nextDeadline: number | null } {
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

/**
 * The writes that store `wu` over `before`: the unit row and every replica
 * row that is new or changed. `result` also records the size and metrics
 * of that replica's result (in the same row write: one statement must not
 * update a row twice, combine.ts).
 */
export function unitStatements(before: UnitRow, wu: WorkUnitState, now: number, result?: { replica: string; bytes: number; metrics: string }): Statement[] {
  const q = queueColumns(wu);
  const out: Statement[] = [{
    sql: `UPDATE units SET wu = $2, state = $3, canonical_hash = $4, needs_replica = $5, next_deadline = $6, updated_at = $7 WHERE id = $1`,
    params: [before.id, JSON.stringify(wu), wu.status, wu.canonicalHash ?? null, q.needs, q.nextDeadline, now],
  }];
  for (const r of wu.replicas) {
    const old = before.wu.replicas.find((x) => x.id === r.id);
    const rowState = replicaRowState(r);
    if (old === undefined) {
      out.push({ sql: `INSERT INTO replicas (id, unit_id, provider, issued_at, deadline, state) VALUES ($1, $2, $3, $4, $5, $6)`, params: [r.id, before.id, r.provider, r.issuedAt, r.deadline, rowState] });
    } else if (result?.replica === r.id) {
      out.push({
        sql: `UPDATE replicas SET state = $2, deadline = $3, result_hash = $4, verdict = $5, result_bytes = $6, metrics = $7 WHERE id = $1`,
        params: [r.id, rowState, r.deadline, r.resultHash ?? null, r.validateState, result.bytes, result.metrics],
      });
    } else if (old.state !== r.state || old.deadline !== r.deadline || old.validateState !== r.validateState) {
      out.push({ sql: `UPDATE replicas SET state = $2, deadline = $3, result_hash = $4, verdict = $5 WHERE id = $1`, params: [r.id, rowState, r.deadline, r.resultHash ?? null, r.validateState] });
    }
  }
  return out;
}

/** Runs `parts` as one statement inside `tx`. */
export async function write(tx: Queryable, parts: readonly Statement[]): Promise<void> {
  const st = combine(parts);
  await tx.query(st.sql, st.params);
}

export async function writeUnit(tx: Queryable, before: UnitRow, wu: WorkUnitState, now: number): Promise<void> {
  await write(tx, unitStatements(before, wu, now));
}

/** The unit row, locked FOR UPDATE inside `tx`; TRACKER_NOT_FOUND when there is none. */
export async function lockUnit(tx: Queryable, id: string): Promise<UnitRow> {
  const rows = await tx.query<UnitRow & Record<string, unknown>>(`SELECT ${UNIT_COLUMNS} FROM units WHERE id = $1 FOR UPDATE`, [id]);
  if (rows.length === 0) throw new SwarmError('TRACKER_NOT_FOUND', 'no such unit', { unit: id });
  return rows[0]!;
}

/** `provider`'s replica of the unit; TRACKER_FORBIDDEN when it holds none. */
export function replicaOf(wu: WorkUnitState, provider: string): Replica {
  const r = wu.replicas.find((x) => x.provider === provider);
  if (r === undefined) throw new SwarmError('TRACKER_FORBIDDEN', 'this provider holds no replica of this unit', { unit: wu.id });
  return r;
}
