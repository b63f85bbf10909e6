/**
 * The judge (BOINC's validator and, for credit, its assimilator): once the
 * state machine has settled a unit's replicas (validation/work-unit.ts
 * decides the quorum), the judge writes what follows from the verdicts —
 * a verdict entry per replica judged, the credit each valid replica earns
 * (validation/credit.ts's rule: the unit's FLOPs; a strike for an invalid
 * one), and every provider's record for adaptive replication
 * (validation/adaptive.ts) — in the caller's transaction, so a verdict and
 * its credit are stored together or not at all.
 */
import { check } from '../core/errors.ts';
import type { EntryBodies, LedgerEntry } from '../ledger/entry.ts';
import type { TrackerContext } from './context.ts';
import { PROVIDER_COLUMNS } from './standings.ts';
import type { ProviderRow } from './standings.ts';
import type { Statement } from './storage/combine.ts';
import type { Queryable } from './storage/db.ts';
import type { UnitRow } from './unit-rows.ts';
import { recordVerdict } from './validation/adaptive.ts';
import { applyAward, creditAwards, CREDIT_HALF_LIFE_MS } from './validation/credit.ts';
import type { Account, CreditAward } from './validation/credit.ts';
import type { WorkUnitState } from './validation/work-unit.ts';

/**
 * The verdict (and, for a valid replica, credit-granted) entries for
 * replicas whose validate state became valid or invalid between `before`
 * and `after`, and the awards the credit step must apply. Pure: it reads
 * and locks nothing, so a batch of results (the scheduler request) can
 * judge each unit as it goes and touch provider rows once, at the end.
 */
export function judgeUnit(ctx: TrackerContext, row: UnitRow, before: WorkUnitState, after: WorkUnitState, now: number): { entries: LedgerEntry[]; awards: CreditAward[] } {
  // credit.ts decides who earns what (every valid replica the unit's FLOPs, an invalid one a strike): the pure, tested rule is the one that runs
  const awards = new Map(creditAwards(after, Math.max(1, Math.round(row.flops))).map((a) => [a.replicaId, a]));
  const changed = after.replicas.filter((r) => {
    if (!awards.has(r.id)) return false;
    const old = before.replicas.find((x) => x.id === r.id);
    return old === undefined || old.validateState !== r.validateState || old.state !== 'returned';
  });
  const entries: LedgerEntry[] = [];
  const out: CreditAward[] = [];
  for (const r of changed) {
    const award = awards.get(r.id)!;
    const valid = award.verdict === 'valid';
    entries.push(ctx.sign('verdict', {
      run: row.run_id, unit: row.id, provider: r.provider, result: r.resultHash!, outcome: valid ? 'valid' : 'invalid',
      ...(valid ? { quorum: after.minQuorum } : { reason: 'result hash differs from the quorum\'s canonical result' }),
    } as EntryBodies['verdict'], now));
    if (valid) entries.push(ctx.sign('credit-granted', { run: row.run_id, unit: row.id, provider: r.provider, result: r.resultHash!, amount: award.credit }, now));
    out.push(award);
  }
  return { entries, awards: out };
}

/**
 * Applies `awards`, in order, to the providers' rows: credit, RAC, counts
 * and the adaptive-replication record; returns the writes for the caller to
 * combine with its own. The rows are locked in key order by one statement,
 * after every unit row the transaction locks (deadlock-free with other
 * transactions, which lock units before providers too).
 */
export async function applyAwards(ctx: TrackerContext, tx: Queryable, awards: readonly CreditAward[], now: number): Promise<Statement[]> {
  if (awards.length === 0) return [];
  const providers = [...new Set(awards.map((a) => a.provider))].sort();
  const locked = await tx.query<ProviderRow & Record<string, unknown>>(
    `SELECT ${PROVIDER_COLUMNS}
       FROM providers WHERE key_id = ANY($1::text[]) ORDER BY key_id FOR UPDATE`,
    [providers],
  );
  const rows = new Map<string, ProviderRow>(locked.map((p) => [p.key_id, p]));
  for (const p of providers) check(rows.has(p), 'TRACKER_UNKNOWN_PROVIDER', 'a replica names a provider that is not registered', { provider: p });
  for (const award of awards) {
    const p = rows.get(award.provider)!;
    p.record = recordVerdict(p.record, award.verdict, ctx.policy);
    const account: Account = {
      provider: p.key_id, totalCredit: p.credit, rac: p.rac, racTime: Number(p.rac_time) === 0 && p.rac === 0 ? null : Number(p.rac_time),
      valid: Number(p.valid_count), invalid: Number(p.invalid_count),
    };
    const next = applyAward(account, award, now, CREDIT_HALF_LIFE_MS);
    p.credit = next.totalCredit;
    p.valid_count = String(next.valid);
    p.invalid_count = String(next.invalid);
    if (award.verdict === 'valid') {
      p.rac = next.rac;
      p.rac_time = String(next.racTime);
    }
  }
  return [...rows.values()].map((p): Statement => ({
    sql: 'UPDATE providers SET record = $2, rac = $3, rac_time = $4, credit = $5, valid_count = $6, invalid_count = $7 WHERE key_id = $1',
    params: [p.key_id, JSON.stringify(p.record), p.rac, p.rac_time, p.credit, p.valid_count, p.invalid_count],
  }));
}
