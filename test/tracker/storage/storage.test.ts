/**
 * Tracker storage on both backends: PGlite in memory always, PostgreSQL when
 * SWARM_TEST_PG_URL is set (e.g. postgres://postgres@127.0.0.1:55432/postgres).
 * The PostgreSQL run wipes the `public` schema of that database: point it at a
 * throwaway one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { isSwarmError, SwarmError } from '../../../src/core/errors.ts';
import { sha256Hex } from '../../../src/core/sha256.ts';
import { leafHash } from '../../../src/ledger/merkle.ts';
import {
  getBlob,
  blobInfo,
  LedgerSequencer,
  mapDbError,
  migrate,
  MIGRATIONS,
  openPglite,
  openPostgres,
  putBlob,
} from '../../../src/tracker/storage/index.ts';
import type { Db, Queryable } from '../../../src/tracker/storage/index.ts';
import { codeOfAsync as codeOf } from '../../helpers/errors.ts';
import { appendLeaves, ledgerSize, queueLeaves } from '../ledger/append.ts';

const PG_URL = process.env.SWARM_TEST_PG_URL;


async function freshPostgres(max = 10): Promise<Db> {
  const db = await openPostgres(PG_URL!, { max });
  await db.query('DROP SCHEMA IF EXISTS public CASCADE');
  await db.query('CREATE SCHEMA public');
  return db;
}

async function addRun(db: Queryable, id = 'run1'): Promise<void> {
  await db.query("INSERT INTO runs (id, spec, created_at, state) VALUES ($1, $2, 0, 'active')", [id, { model: 'tiny' }]);
}

async function addUnit(db: Queryable, id: string, params: Record<string, number>, createdAt = 0): Promise<void> {
  await db.query(
    "INSERT INTO units (id, run_id, kind, spec, state, params, created_at) VALUES ($1, 'run1', 'eval', $2, 'open', $3, $4)",
    [id, { shard: id }, params, createdAt],
  );
}

const backends: { name: string; skip: boolean; open: () => Promise<Db> }[] = [
  { name: 'pglite', skip: false, open: () => openPglite() },
  { name: 'postgres', skip: PG_URL === undefined, open: () => freshPostgres() },
];

if (PG_URL === undefined) {
  console.warn('[storage tests] SWARM_TEST_PG_URL is not set: the PostgreSQL variant of the storage suite is SKIPPED');
}

for (const backend of backends) {
  // Serial: the postgres variant shares one database between tests.
  describe.skipIf(backend.skip).sequential(`tracker storage on ${backend.name}`, () => {
    // One handle per backend (a PGlite start costs seconds); each test starts
    // from an empty `public` schema. close() on the shared handle is a no-op.
    let shared: Db;
    beforeAll(async () => {
      shared = await backend.open();
      return () => shared.close();
    });
    const make = async (): Promise<Db> => {
      await shared.query('DROP SCHEMA IF EXISTS public CASCADE');
      await shared.query('CREATE SCHEMA public');
      return { ...shared, close: async () => {} };
    };
    const migrated = async (): Promise<Db> => {
      const db = await make();
      await migrate(db, { now: 1 });
      return db;
    };

    describe('migrations', () => {
      it('apply once, then are a no-op', async () => {
        const db = await make();
        const first = await migrate(db);
        expect(first.applied).toEqual(MIGRATIONS.map((m) => m.version));
        const second = await migrate(db);
        expect(second.applied).toEqual([]);
        expect(second.version).toBe(first.version);
        const rows = await db.query('SELECT version FROM schema_migrations');
        expect(rows.length).toBe(MIGRATIONS.length);
      });

      it('concurrent migrate() calls on one handle apply each version exactly once', async () => {
        const db = await make();
        const results = await Promise.all([migrate(db), migrate(db), migrate(db)]);
        expect(results.map((r) => r.applied.length).sort()).toEqual([0, 0, MIGRATIONS.length]);
      });

      it('a failing migration rolls back whole, and the schema is untouched', async () => {
        const db = await make();
        await migrate(db);
        const bad = [...MIGRATIONS, { version: 999, name: 'bad', statements: ['CREATE TABLE t999 (x int)', 'SELECT no_such_fn()'] }];
        expect(await codeOf(migrate(db, { migrations: bad }))).toBe('STORAGE_ERROR');
        expect((await db.query("SELECT to_regclass('t999') AS t"))[0]!.t).toBeNull();
        expect((await db.query('SELECT max(version) AS v FROM schema_migrations'))[0]!.v).toBe(MIGRATIONS.at(-1)!.version);
      });

      it('refuses a schema newer than this code', async () => {
        const db = await make();
        await migrate(db);
        await db.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES (1000, 'future', 0)");
        expect(await codeOf(migrate(db))).toBe('STORAGE_SCHEMA_TOO_NEW');
      });
    });

    describe('errors', () => {
      it('unique violations map to STORAGE_CONFLICT with SQL only in details', async () => {
        const db = await migrated();
        await addRun(db);
        let err: unknown;
        try {
          await addRun(db);
        } catch (e) {
          err = e;
        }
        expect(isSwarmError(err, 'STORAGE_CONFLICT')).toBe(true);
        const se = err as SwarmError;
        expect(se.message).not.toMatch(/INSERT|runs/);
        expect(se.details?.sqlstate).toBe('23505');
        expect(String(se.details?.sql)).toMatch(/INSERT INTO runs/);
      });

      it('syntax errors map to STORAGE_ERROR; a closed database to STORAGE_UNAVAILABLE', async () => {
        expect(await codeOf(shared.query('SELEC 1'))).toBe('STORAGE_ERROR');
        const db = await backend.open();
        await db.close();
        expect(await codeOf(db.query('SELECT 1'))).toBe('STORAGE_UNAVAILABLE');
      });

      it('SwarmErrors thrown inside a transaction pass through and roll it back', async () => {
        const db = await migrated();
        const p = db.transaction(async (tx) => {
          await addRun(tx);
          throw new SwarmError('SOMETHING_ELSE', 'x');
        });
        expect(await codeOf(p)).toBe('SOMETHING_ELSE');
        expect((await db.query('SELECT count(*) AS n FROM runs'))[0]!.n).toBe('0');
      });

      it('nested transactions are savepoints', async () => {
        const db = await migrated();
        await db.transaction(async (tx) => {
          await addRun(tx, 'a');
          await tx.transaction(async (inner) => {
            await addRun(inner, 'b');
            throw new SwarmError('INNER', 'undo b only');
          }).catch(() => {});
          await addRun(tx, 'c');
        });
        const ids = (await db.query<{ id: string }>('SELECT id FROM runs ORDER BY id')).map((r) => r.id);
        expect(ids).toEqual(['a', 'c']);
      });
    });

    describe('replicas', () => {
      it('the database refuses a second replica of one unit to one provider (UNIQUE (unit_id, provider))', async () => {
        const db = await migrated();
        await addRun(db);
        await addUnit(db, 'u1', { targetResults: 2, minQuorum: 2 });
        const insert = (id: string, provider: string): Promise<unknown> => db.query(
          "INSERT INTO replicas (id, unit_id, provider, issued_at, deadline, state) VALUES ($1, 'u1', $2, 0, 10, 'in-progress')",
          [id, provider],
        );
        await insert('u1_0', 'alice');
        await insert('u1_1', 'bob');
        expect(await codeOf(insert('u1_2', 'alice'))).toBe('STORAGE_CONFLICT');
        expect((await db.query('SELECT count(*) AS n FROM replicas'))[0]!.n).toBe('2');
      });

      it('migration 8 rewrites the old state words (in_progress, timed_out) to the state machine\'s', async () => {
        const db = await make();
        await migrate(db, { migrations: MIGRATIONS.filter((m) => m.version < 8) });
        await addRun(db);
        await addUnit(db, 'u1', { targetResults: 4, minQuorum: 2 });
        const old = ['in_progress', 'timed_out', 'reported', 'valid', 'invalid', 'error'];
        for (const [i, state] of old.entries()) {
          await db.query("INSERT INTO replicas (id, unit_id, provider, issued_at, deadline, state) VALUES ($1, 'u1', $2, 0, 10, $3)", [`u1_${i}`, `p${i}`, state]);
        }
        await migrate(db);
        const rows = await db.query<{ state: string }>('SELECT state FROM replicas ORDER BY id');
        expect(rows.map((r) => r.state)).toEqual(['in-progress', 'timed-out', 'reported', 'valid', 'invalid', 'error']);
      });
    });

    // Appends go the tracker's way (test/tracker/ledger/append.ts): queued
    // in the state change's transaction, numbered by the sequencer after COMMIT.
    describe('ledger', () => {
      it('appends dense RFC 6962 leaves with their leaf hashes', async () => {
        const db = await migrated();
        const enc = new TextEncoder();
        const [e0] = await appendLeaves(db, [enc.encode('a')], 5);
        const [e1, e2] = await appendLeaves(db, [enc.encode('b'), enc.encode('c')], 6);
        expect([e0!.index, e1!.index, e2!.index]).toEqual([0, 1, 2]);
        expect(e1!.leafHash).toEqual(leafHash(enc.encode('b')));
        const rows = await db.query<{ leaf_input: Uint8Array; leaf_hash: Uint8Array; created_at: string }>('SELECT leaf_input, leaf_hash, created_at FROM ledger_entries ORDER BY seq');
        expect(rows.map((r) => new TextDecoder().decode(r.leaf_input))).toEqual(['a', 'b', 'c']);
        for (const r of rows) expect(r.leaf_hash).toEqual(leafHash(r.leaf_input));
        expect(rows.map((r) => Number(r.created_at))).toEqual([5, 6, 6]);
      });

      it('an append in a transaction that rolls back leaves nothing, and no gap', async () => {
        const db = await migrated();
        await addRun(db);
        await addUnit(db, 'u1', { targetResults: 1 });
        const p = db.transaction(async (tx) => {
          await tx.query("UPDATE units SET state = 'valid', canonical_hash = 'h' WHERE id = 'u1'");
          await queueLeaves(tx, [new Uint8Array([1, 2, 3])], 7);
          throw new SwarmError('CRASH', 'simulated failure after the entry was queued');
        });
        expect(await codeOf(p)).toBe('CRASH');
        await new LedgerSequencer(db).flush();
        expect(await ledgerSize(db)).toBe(0);
        expect((await db.query('SELECT count(*) AS n FROM ledger_queue'))[0]!.n).toBe('0');
        expect((await db.query('SELECT state FROM units'))[0]!.state).toBe('open');
        const [next] = await appendLeaves(db, [new Uint8Array([4])], 8);
        expect(next!.index).toBe(0);
      });

      it('concurrent appends (one sequencer, as in one tracker process) get distinct, dense indices', async () => {
        const db = await migrated();
        const sequencer = new LedgerSequencer(db);
        const out = await Promise.all(Array.from({ length: 16 }, (_, i) => appendLeaves(db, [new Uint8Array([i, 0]), new Uint8Array([i, 1])], i, { sequencer })));
        const indices = out.flat().map((e) => e.index).sort((a, b) => a - b);
        expect(indices).toEqual(Array.from({ length: 32 }, (_, i) => i));
        // the leaves of one transaction stay adjacent and in order
        for (const [a, b] of out) expect(b!.index).toBe(a!.index + 1);
      });
    });

    describe('blobs', () => {
      const bytes = new Uint8Array(10_000).map((_, i) => (i * 31 + 7) & 0xff);
      const sha = sha256Hex(bytes);

      it('round trip, idempotent re-upload', async () => {
        const db = await migrated();
        expect(await putBlob(db, bytes, sha, { now: 3 })).toEqual({ sha256: sha, size: bytes.length, created: true });
        expect(await putBlob(db, bytes, sha)).toEqual({ sha256: sha, size: bytes.length, created: false });
        expect(await putBlob(db, bytes)).toMatchObject({ created: false });
        const got = await getBlob(db, sha);
        expect(got.bytes).toEqual(bytes);
        expect(got.bytes.constructor).toBe(Uint8Array);
        expect(got).toMatchObject({ size: bytes.length, start: 0, end: bytes.length });
        expect(await blobInfo(db, sha)).toEqual({ sha256: sha, size: bytes.length, createdAt: 3 });
      });

      it('empty blob', async () => {
        const db = await migrated();
        const r = await putBlob(db, new Uint8Array(0));
        expect((await getBlob(db, r.sha256)).bytes).toEqual(new Uint8Array(0));
      });

      it('rejects a hash mismatch, oversize and malformed hashes, storing nothing', async () => {
        const db = await migrated();
        const other = sha256Hex('other');
        expect(await codeOf(putBlob(db, bytes, other))).toBe('STORAGE_HASH_MISMATCH');
        expect(await codeOf(putBlob(db, bytes, sha, { maxBytes: 9_999 }))).toBe('STORAGE_TOO_LARGE');
        expect(await codeOf(putBlob(db, bytes, sha.toUpperCase()))).toBe('STORAGE_INVALID_HASH');
        expect(await codeOf(getBlob(db, 'abc'))).toBe('STORAGE_INVALID_HASH');
        expect((await db.query('SELECT count(*) AS n FROM blobs'))[0]!.n).toBe('0');
      });

      it('byte ranges', async () => {
        const db = await migrated();
        await putBlob(db, bytes);
        const mid = await getBlob(db, sha, { start: 100, end: 228 });
        expect(mid).toMatchObject({ start: 100, end: 228, size: bytes.length });
        expect(mid.bytes).toEqual(bytes.subarray(100, 228));
        const tail = await getBlob(db, sha, { start: 9_990, end: 1_000_000 });
        expect(tail.end).toBe(10_000);
        expect(tail.bytes).toEqual(bytes.subarray(9_990));
        expect((await getBlob(db, sha, { start: 9_999 })).bytes).toEqual(bytes.subarray(9_999));
        expect(await codeOf(getBlob(db, sha, { start: 10_000 }))).toBe('STORAGE_RANGE_NOT_SATISFIABLE');
        expect(await codeOf(getBlob(db, sha, { start: 5, end: 4 }))).toBe('STORAGE_RANGE_NOT_SATISFIABLE');
        expect(await codeOf(getBlob(db, sha, { start: -1 }))).toBe('STORAGE_RANGE_NOT_SATISFIABLE');
      });

      it('not found', async () => {
        const db = await migrated();
        expect(await codeOf(getBlob(db, sha))).toBe('STORAGE_NOT_FOUND');
        expect(await codeOf(blobInfo(db, sha))).toBe('STORAGE_NOT_FOUND');
      });
    });
  });
}

describe('PGlite on a data directory', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'swarm-pglite-'));
    return () => rmSync(dir, { recursive: true, force: true });
  });

  it('keeps schema and data across reopen; migrate stays idempotent', async () => {
    // One handle at a time: PGlite has no cross-instance locking, so two
    // handles on one directory are unsupported (see openPglite); concurrent
    // starts are covered on one handle above and on PostgreSQL below.
    const a = await openPglite(dir);
    expect((await migrate(a)).applied.length).toBe(MIGRATIONS.length);
    const { sha256 } = await putBlob(a, new Uint8Array([9, 8, 7]));
    await a.close();
    const b = await openPglite(dir);
    expect((await migrate(b)).applied).toEqual([]);
    expect((await getBlob(b, sha256)).bytes).toEqual(new Uint8Array([9, 8, 7]));
    await b.close();
  });
});

describe('mapDbError', () => {
  it('classifies driver errors without putting SQL in the message', () => {
    const e = mapDbError(Object.assign(new Error('duplicate key value'), { code: '23505', constraint: 'k' }), 'INSERT INTO secret_table VALUES (1)');
    expect(e.code).toBe('STORAGE_CONFLICT');
    expect(JSON.stringify({ message: e.message })).not.toMatch(/secret_table/);
    expect(mapDbError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })).code).toBe('STORAGE_UNAVAILABLE');
    expect(mapDbError(Object.assign(new Error('x'), { code: '40001' })).details?.retryable).toBe(true);
    expect(mapDbError(new Error('boom')).code).toBe('STORAGE_ERROR');
  });
});

describe.skipIf(PG_URL === undefined)('PostgreSQL: several tracker processes (pool connections) at once', () => {
  it('migrations from several independent pools race safely', async () => {
    const setup = await freshPostgres();
    await setup.close();
    const pools = await Promise.all(Array.from({ length: 4 }, () => openPostgres(PG_URL!, { max: 2 })));
    try {
      const results = await Promise.all(pools.map((db) => migrate(db)));
      expect(results.map((r) => r.applied.length).sort()).toEqual([0, 0, 0, MIGRATIONS.length]);
    } finally {
      await Promise.all(pools.map((db) => db.close()));
    }
  });

  // (Work assignment from several trackers at once: test/tracker/scheduler.test.ts.)
  it('ledger appends from several pools, each with its own sequencer, stay dense, distinct and complete', async () => {
    const setup = await freshPostgres();
    await migrate(setup);
    await setup.close();
    const pools = await Promise.all(Array.from({ length: 3 }, () => openPostgres(PG_URL!, { max: 4 })));
    try {
      const sequencers = pools.map((db) => new LedgerSequencer(db));
      const out = await Promise.all(
        Array.from({ length: 60 }, (_, i) => appendLeaves(pools[i % 3]!, [new Uint8Array([i & 0xff, i >> 8])], i, { sequencer: sequencers[i % 3]! })),
      );
      expect(out.map(([e]) => e!.index).sort((a, b) => a - b)).toEqual(Array.from({ length: 60 }, (_, i) => i));
      const rows = await pools[0]!.query<{ seq: string; leaf_input: Uint8Array }>('SELECT seq, leaf_input FROM ledger_entries ORDER BY seq');
      expect(rows.map((r) => Number(r.seq))).toEqual(Array.from({ length: 60 }, (_, i) => i));
      expect(new Set(rows.map((r) => r.leaf_input[0]! + 256 * r.leaf_input[1]!)).size).toBe(60);
    } finally {
      await Promise.all(pools.map((db) => db.close()));
    }
  });
});
