/**
 * The tracker's real crediting path (TrackerService's judge, which applies
 * credit.ts's creditAwards/applyAward) with exact amounts (issue 26): every
 * credit-granted entry carries the unit's FLOPs, and each provider's stored
 * credit, RAC, RAC time and counts are what BOINC's update_average gives
 * over exactly its granted results, at the times they were granted. Units
 * with a cheater and results spread over hours, so RAC decay is exercised.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { utf8Encode } from '../../src/core/encoding.ts';
import { decodeEntry } from '../../src/ledger/entry.ts';
import type { LedgerEntry } from '../../src/ledger/entry.ts';
import type { TrackerClient } from '../../src/provider/client.ts';
import { CREDIT_HALF_LIFE_MS, updateRac } from '../../src/tracker/validation/credit.ts';
import { keyOf, nanoEvalUnit, startHarness } from './harness.ts';
import type { Harness } from './harness.ts';

describe('judge: credit through the tracker service', () => {
  let h: Harness;
  let entries: LedgerEntry[];
  let providers: TrackerClient[];
  let flops: Map<string, number>;

  beforeAll(async () => {
    h = await startHarness({ suite: 'judge_credit' });
    const trainer = h.client(h.trainerKey);
    const u = nanoEvalUnit();
    for (const b of u.blobs) await trainer.putBlob(b);
    providers = [];
    for (let i = 1; i <= 3; i++) {
      const c = h.client(keyOf(i));
      await c.register(`p${i}`, { threads: 2, memoryBytes: 2 ** 30 });
      providers.push(c);
    }
    const [a, b, c] = providers as [TrackerClient, TrackerClient, TrackerClient];
    // four units; c cheats on the first three; results arrive hours apart
    for (let n = 0; n < 4; n++) {
      const id = `u${n}`;
      await trainer.createUnits({ run: 'run1', units: [{ id, kind: 'eval', spec: u.spec }] });
      for (const p of n % 2 === 0 ? [a, c, b] : [c, b, a]) {
        if ((await p.work()).unit?.unitId !== id) continue;
        h.clock.advance(1000 + n * 3_600_000);
        await p.submit({ unitId: id, runId: 'run1', result: utf8Encode(p === c && n !== 3 ? 'cheat' : 'honest'), metrics: {} });
      }
      // a disagreement asks for one more replica
      for (const p of [a, b, c]) {
        if ((await p.work()).unit?.unitId !== id) continue;
        h.clock.advance(5000);
        await p.submit({ unitId: id, runId: 'run1', result: utf8Encode('honest'), metrics: {} });
      }
    }
    const rows = await h.db.query<{ leaf_input: Uint8Array }>('SELECT leaf_input FROM ledger_entries ORDER BY seq');
    entries = rows.map((r) => decodeEntry(r.leaf_input));
    const units = await h.db.query<{ id: string; flops: number }>('SELECT id, flops FROM units');
    flops = new Map(units.map((x) => [x.id, Number(x.flops)]));
  }, 300_000);

  afterAll(async () => h.close());

  it('every valid verdict is followed by its credit-granted entry for the unit\'s FLOPs; an invalid one by none', () => {
    const verdicts = entries.filter((e) => e.kind === 'verdict');
    expect(verdicts.map((e) => (e.body as { outcome: string }).outcome).sort()).toEqual([...Array(3).fill('invalid'), ...Array(8).fill('valid')]);
    // what follows each verdict: its credit-granted body, or null
    const got = entries.flatMap((e, i) => {
      if (e.kind !== 'verdict') return [];
      const next = entries[i + 1];
      return [{ verdict: e.body, credit: next?.kind === 'credit-granted' ? next.body : null }];
    });
    const want = got.map(({ verdict }) => {
      const v = verdict as { unit: string; provider: string; result: string; outcome: string };
      const credit = v.outcome === 'valid' ? { run: 'run1', unit: v.unit, provider: v.provider, result: v.result, amount: Math.max(1, Math.round(flops.get(v.unit)!)) } : null;
      return { verdict, credit };
    });
    expect(got).toHaveLength(11);
    expect(got).toEqual(want);
  });

  it('stored credit, RAC and counts are update_average over exactly the granted results', async () => {
    const rows = await h.db.query<{ key_id: string; credit: number; rac: number; rac_time: string; valid_count: string; invalid_count: string }>(
      'SELECT key_id, credit, rac, rac_time, valid_count, invalid_count FROM providers',
    );
    expect(rows).toHaveLength(3);
    for (const row of rows) {
      const grants = entries.filter((e) => e.kind === 'credit-granted' && (e.body as { provider: string }).provider === row.key_id);
      const strikes = entries.filter((e) => e.kind === 'verdict' && (e.body as { provider: string; outcome: string }).provider === row.key_id && (e.body as { outcome: string }).outcome === 'invalid');
      let want = { rac: 0, racTime: null as number | null, credit: 0 };
      for (const g of grants) {
        const amount = (g.body as { amount: number }).amount;
        const r = updateRac(want.rac, want.racTime, amount, g.time, CREDIT_HALF_LIFE_MS);
        want = { rac: r.rac, racTime: r.racTime, credit: want.credit + amount };
      }
      expect({ credit: row.credit, rac: row.rac, racTime: Number(row.rac_time), valid: Number(row.valid_count), invalid: Number(row.invalid_count) }, row.key_id).toEqual({
        credit: want.credit, rac: want.rac, racTime: want.racTime ?? 0, valid: grants.length, invalid: strikes.length,
      });
    }
    const cheater = rows.find((r) => r.key_id === providers[2]!.key.keyId)!;
    expect(Number(cheater.invalid_count)).toBe(3);
    expect(Number(cheater.valid_count)).toBe(1);
  });
});
