/**
 * The ledger queue and its sequencer (src/tracker/storage/ledger-queue.ts) on
 * PGlite and, with SWARM_TEST_PG_URL, PostgreSQL; and the statement combiner
 * (combine.ts) it is written with.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SwarmError } from '../../../src/core/errors.ts';
import { leafHash } from '../../../src/ledger/merkle.ts';
import { combine } from '../../../src/tracker/storage/combine.ts';
import { openPostgres } from '../../../src/tracker/storage/db.ts';
import type { Db, Queryable } from '../../../src/tracker/storage/db.ts';
import { LedgerSequencer, queueLedgerStatement, sequenceLedger } from '../../../src/tracker/storage/ledger-queue.ts';
import { appendLeaves } from '../ledger/append.ts';
import { BACKENDS, PG_URL, freshDatabase, resetSchema, warnIfNoPostgres } from '../ledger/backends.ts';

warnIfNoPostgres('ledger queue tests');

const leaf = (...b: number[]): Uint8Array => new Uint8Array(b);

async function queue(db: Queryable, leaves: Uint8Array[], now = 5): Promise<void> {
  const st = queueLedgerStatement(leaves, now);
  await db.query(st.sql, st.params);
}

async function log(db: Queryable): Promise<Array<{ seq: number; input: number[] }>> {
  const rows = await db.query<{ seq: string; leaf_input: Uint8Array; leaf_hash: Uint8Array }>('SELECT seq, leaf_input, leaf_hash FROM ledger_entries ORDER BY seq');
  for (const r of rows) expect(Buffer.from(r.leaf_hash).equals(Buffer.from(leafHash(new Uint8Array(r.leaf_input))))).toBe(true);
  return rows.map((r) => ({ seq: Number(r.seq), input: [...new Uint8Array(r.leaf_input)] }));
}

describe('combine', () => {
  it('renumbers each part after the parts before it and keeps the parameter order', () => {
    const st = combine(
      [
        { sql: 'UPDATE a SET x = $2 WHERE id = $1', params: ['a1', 1] },
        { sql: 'INSERT INTO b VALUES ($1, $1::text, $3, $2)', params: ['b1', 'b2', 'b3'] },
      ],
      { sql: 'SELECT $1::int AS n', params: [7] },
    );
    expect(st.sql).toContain('w0 AS (UPDATE a SET x = $2 WHERE id = $1)');
    expect(st.sql).toContain('w1 AS (INSERT INTO b VALUES ($3, $3::text, $5, $4))');
    expect(st.sql.endsWith('SELECT $6::int AS n')).toBe(true);
    expect(st.params).toEqual(['a1', 1, 'b1', 'b2', 'b3', 7]);
    expect(combine([]).sql).toBe('SELECT 1 AS done');
  });
});

describe('queueLedgerStatement', () => {
  it('refuses a bad time or a leaf that is not bytes (coded)', () => {
    expect(() => queueLedgerStatement([leaf(1)], -1)).toThrow(SwarmError);
    expect(() => queueLedgerStatement(['x' as unknown as Uint8Array], 1)).toThrow(/Uint8Array/);
  });
});

for (const backend of BACKENDS) {
  describe.skipIf(backend.skip).sequential(`ledger queue on ${backend.name}`, () => {
    let db: Db;
    beforeAll(async () => {
      db = await backend.open('ledger_queue');
    });
    afterAll(async () => db?.close());
    beforeEach(async () => resetSchema(db));

    it('sequences queued rows densely, in row order then position, after the entries already in the log', async () => {
      await appendLeaves(db, [leaf(0)], 1);
      await db.transaction((tx) => queue(tx, [leaf(1), leaf(2), leaf(3)]));
      await db.transaction((tx) => queue(tx, [leaf(4)]));
      expect(await log(db)).toHaveLength(1); // queued, not yet in the log
      expect(await sequenceLedger(db)).toBe(4);
      expect(await log(db)).toEqual([0, 1, 2, 3, 4].map((i) => ({ seq: i, input: [i] })));
      expect(await sequenceLedger(db)).toBe(0);
      expect(await db.query('SELECT id FROM ledger_queue')).toHaveLength(0);
    });

    it('a rolled-back transaction queues nothing; a leaf already logged or repeated is appended once', async () => {
      await db.transaction(async (tx) => {
        await queue(tx, [leaf(9)]);
        throw new Error('roll back');
      }).catch(() => undefined);
      await appendLeaves(db, [leaf(1)], 1);
      await db.transaction((tx) => queue(tx, [leaf(1), leaf(2), leaf(2), leaf(3)]));
      await db.transaction((tx) => queue(tx, [leaf(3), leaf(4)]));
      expect(await sequenceLedger(db)).toBe(3);
      expect((await log(db)).map((e) => e.input[0])).toEqual([1, 2, 3, 4]);
    });

    it('LedgerSequencer: concurrent flushes share passes and each resolves after its own commit is logged', async () => {
      const counts: number[] = [];
      const seq = new LedgerSequencer(db, (n) => counts.push(n));
      const writers = Array.from({ length: 12 }, (_, i) => (async () => {
        await db.transaction((tx) => queue(tx, [leaf(i, 0), leaf(i, 1)]));
        await seq.flush();
        // my entries are in the log when my flush resolves
        const mine = await db.query('SELECT seq FROM ledger_entries WHERE leaf_input = $1 OR leaf_input = $2', [leaf(i, 0), leaf(i, 1)]);
        expect(mine).toHaveLength(2);
      })());
      await Promise.all(writers);
      const entries = await log(db);
      expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 24 }, (_, i) => i));
      // the two leaves of one transaction stay adjacent and in order
      for (let i = 0; i < 24; i += 2) expect([entries[i]!.input[0], entries[i + 1]!.input[0], entries[i]!.input[1], entries[i + 1]!.input[1]]).toEqual([entries[i]!.input[0], entries[i]!.input[0], 0, 1]);
      expect(counts.reduce((a, b) => a + b, 0)).toBe(24);
      expect(counts.length).toBeLessThanOrEqual(12);
      expect(seq.lastError).toBeUndefined();
    });

    it('a failing pass keeps the entries queued and the next pass appends them', async () => {
      await db.transaction((tx) => queue(tx, [leaf(1)]));
      const broken: Db = { ...db, query: async () => { throw new SwarmError('STORAGE_UNAVAILABLE', 'down'); } };
      const seq = new LedgerSequencer(broken);
      await seq.flush(); // resolves: the state it covers is committed
      expect((seq.lastError as SwarmError).code).toBe('STORAGE_UNAVAILABLE');
      expect(await db.query('SELECT id FROM ledger_queue')).toHaveLength(1);
      await new LedgerSequencer(db).flush();
      expect((await log(db)).map((e) => e.input)).toEqual([[1]]);
    });
  });
}

describe.skipIf(PG_URL === undefined)('ledger queue with several tracker processes on PostgreSQL', () => {
  it('sequencers in three pools, and bare sequencer passes racing them, keep the log dense, unique and complete', async () => {
    const url = await freshDatabase('swarm_test_ledger_queue_pools');
    const setup = await openPostgres(url, { max: 1 });
    await resetSchema(setup);
    await setup.close();
    const pools = await Promise.all(Array.from({ length: 3 }, () => openPostgres(url, { max: 4 })));
    try {
      const sequencers = pools.map((p) => new LedgerSequencer(p));
      await Promise.all(Array.from({ length: 60 }, async (_, i) => {
        const p = pools[i % 3]!;
        if (i % 5 === 0) {
          // a pass outside any LedgerSequencer (another process's timer, say): its stale max(seq) must be retried, not wedge
          await p.transaction((tx) => queue(tx, [leaf(i, 255)], i));
          await sequenceLedger(p);
        } else {
          await p.transaction((tx) => queue(tx, [leaf(i, 0), leaf(i, 1)], i));
          await sequencers[i % 3]!.flush();
        }
      }));
      for (const s of sequencers) await s.flush();
      const rows = await pools[0]!.query<{ seq: string; leaf_input: Uint8Array }>('SELECT seq, leaf_input FROM ledger_entries ORDER BY seq');
      expect(rows.map((r) => Number(r.seq))).toEqual(Array.from({ length: 12 + 48 * 2 }, (_, i) => i));
      const inputs = new Set(rows.map((r) => Buffer.from(r.leaf_input).toString('hex')));
      expect(inputs.size).toBe(rows.length);
      for (const s of sequencers) expect(s.lastError).toBeUndefined();
    } finally {
      await Promise.all(pools.map((p) => p.close()));
    }
  });
});
