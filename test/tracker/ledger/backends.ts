/**
 * The databases the ledger suites run on: PGlite in memory always, and
 * PostgreSQL when SWARM_TEST_PG_URL is set. Each PostgreSQL suite gets its
 * own throwaway DATABASE (dropped and re-created), so it never races the
 * storage suite or another file over the `public` schema of the shared one.
 */
import { openPglite, openPostgres } from '../../../src/tracker/storage/db.ts';
import type { Db } from '../../../src/tracker/storage/db.ts';
import { migrate } from '../../../src/tracker/storage/migrations.ts';

export const PG_URL = process.env.SWARM_TEST_PG_URL;

/** A URL for database `name` on the server of SWARM_TEST_PG_URL, created empty. */
export async function freshDatabase(name: string): Promise<string> {
  const admin = await openPostgres(PG_URL!, { max: 1 });
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.close();
  }
  const url = new URL(PG_URL!);
  url.pathname = `/${name}`;
  return url.toString();
}

export interface Backend {
  name: 'pglite' | 'postgres';
  skip: boolean;
  /** Opens the backend's database (the PostgreSQL one is created for `suite`). */
  open(suite: string): Promise<Db>;
}

export const BACKENDS: Backend[] = [
  { name: 'pglite', skip: false, open: () => openPglite() },
  { name: 'postgres', skip: PG_URL === undefined, open: async (suite) => openPostgres(await freshDatabase(`swarm_test_${suite}`)) },
];

export function warnIfNoPostgres(suite: string): void {
  if (PG_URL === undefined) {
    console.warn(`[${suite}] SWARM_TEST_PG_URL is not set: the PostgreSQL variant of this suite is SKIPPED`);
  }
}

/** Empties the database (drops and re-creates `public`) and migrates it. */
export async function resetSchema(db: Db): Promise<void> {
  await db.query('DROP SCHEMA IF EXISTS public CASCADE');
  await db.query('CREATE SCHEMA public');
  await migrate(db, { now: 1 });
}
