/**
 * Runs once before the test files (vitest globalSetup). A new PGlite runs
 * initdb inside WebAssembly, seconds per database on a loaded machine, and
 * most tracker tests start one (test/tracker/harness.ts): so one migrated
 * database is made here, dumped (PGlite dumpDataDir) to a file, and each
 * harness database starts from that file instead (measured: 9.5 s for a
 * new one against 1.6–2.1 s from the dump, on 2 loaded cores). The schema
 * is the same migrations' (the harness still runs migrate(), which finds
 * them applied); tests of the migrations themselves open fresh databases.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPglite } from '../src/tracker/storage/db.ts';
import { migrate } from '../src/tracker/storage/migrations.ts';
import { T0, TEMPLATE_ENV } from './pglite-template.ts';

export default async function setup(): Promise<() => void> {
  const dir = mkdtempSync(join(tmpdir(), 'swarm-pglite-template-'));
  const db = await openPglite();
  await migrate(db, { now: T0 });
  const dump = await db.dumpDataDir!();
  await db.close();
  const file = join(dir, 'template.tar');
  writeFileSync(file, new Uint8Array(await dump.arrayBuffer()));
  process.env[TEMPLATE_ENV] = file;
  return () => rmSync(dir, { recursive: true, force: true });
}
