/**
 * The sweeper (BOINC's transitioner, for deadlines): marks expired leases
 * timed out (BOINC NO_REPLY) on units whose earliest deadline has passed,
 * so error limits apply and the queue index is exact. Assignment already
 * treats an expired lease as free; this only keeps the stored state tidy.
 * The tracker's timer runs it every second.
 */
import type { TrackerContext } from './context.ts';
import { UNIT_COLUMNS, writeUnit } from './unit-rows.ts';
import type { UnitRow } from './unit-rows.ts';
import { expire } from './validation/work-unit.ts';

/** Sweeps at most `limit` units (the earliest deadlines first); returns how many it updated. */
export async function sweepExpiredLeases(ctx: TrackerContext, limit = 100): Promise<number> {
  const now = ctx.now();
  return ctx.db.transaction(async (tx) => {
    // SKIP LOCKED: a unit a scheduler request holds is that request's to update.
    const rows = await tx.query<UnitRow & Record<string, unknown>>(
      `SELECT ${UNIT_COLUMNS} FROM units
        WHERE state = 'open' AND next_deadline < $1 ORDER BY next_deadline LIMIT $2 FOR UPDATE SKIP LOCKED`,
      [now, limit],
    );
    for (const row of rows) await writeUnit(tx, row, expire(row.wu, now), now);
    return rows.length;
  });
}
