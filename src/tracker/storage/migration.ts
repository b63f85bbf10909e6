/**
 * What a schema migration is: a version, a name and its statements. On its
 * own so that the files holding migrations (ledger-queue.ts,
 * migration-work-queue.ts) and the list that orders them (migrations.ts)
 * all import it, and none of them imports another in a circle.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  /** one PostgreSQL statement each (PGlite's parameterised query runs one) */
  readonly statements: readonly string[];
}
