/** Tracker storage: database adapters, migrations, the ledger queue, blobs. */
export { openPglite, openPostgres, openDb, mapDbError } from './db.ts';
export type { Db, Queryable, Row, PostgresOptions } from './db.ts';
export { migrate, MIGRATIONS, MIGRATION_LOCK_KEY } from './migrations.ts';
export type { MigrateResult } from './migrations.ts';
export type { Migration } from './migration.ts';
export { queueLedgerStatement, sequenceLedger, LedgerSequencer, LEDGER_LOCK_KEY } from './ledger-queue.ts';
export { putBlob, getBlob, blobInfo, isBlobHash, DEFAULT_MAX_BLOB_BYTES, MAX_BLOB_BYTES_CEILING } from './blobs.ts';
export type { PutBlobOptions, PutBlobResult, BlobInfo, ByteRange, BlobSlice } from './blobs.ts';
