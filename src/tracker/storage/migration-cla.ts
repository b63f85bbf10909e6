/**
 * Migration 11 (issue 20, the contributor licence agreement): every CLA
 * version this tracker made current, in order (the current one is the
 * highest n), and each identity's signature per version. The ledger is the
 * record (cla-published, cla-signed; ledger/cla-book.ts replays them); these
 * tables are what the tracker reads, written in the same transaction as the
 * entries. The scheduler asks "has this key signed the current version?"
 * inside the queries that already read the provider's row (scheduler.ts).
 */
import type { Migration } from './migration.ts';

export const CLA_MIGRATION: Migration = {
  version: 11,
  name: 'contributor licence versions and signatures',
  statements: [
    // text: the document's bytes when the tracker was given them (--cla FILE); a
    // version made current by a council decision carries only its hash
    `CREATE TABLE cla_versions (
       version       text PRIMARY KEY,
       n             integer NOT NULL UNIQUE,
       sha256        text NOT NULL,
       text          bytea,
       decision      text,
       published_at  bigint NOT NULL
     )`,
    `CREATE TABLE cla_signatures (
       key_id      text NOT NULL,
       version     text NOT NULL REFERENCES cla_versions(version),
       public_key  bytea NOT NULL,
       signed_at   bigint NOT NULL,
       PRIMARY KEY (key_id, version)
     )`,
  ],
};
