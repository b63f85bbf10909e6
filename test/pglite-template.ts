/**
 * A PGlite database for a test, from the migrated template that
 * test/global-setup.ts dumped (or a fresh one when it is not there, e.g. a
 * file run outside vitest's global setup).
 */
import { readFileSync } from 'node:fs';
import { openPglite } from '../src/tracker/storage/db.ts';
import type { Db } from '../src/tracker/storage/db.ts';

export const TEMPLATE_ENV = 'SWARM_TEST_PGLITE_TEMPLATE';
/** When the template's migrations were applied: the harness's T0. */
export const T0 = 1_700_000_000_000;

export async function templatePglite(): Promise<Db> {
  const file = process.env[TEMPLATE_ENV];
  if (file === undefined) return openPglite();
  return openPglite(undefined, { template: new Blob([readFileSync(file)]) });
}
