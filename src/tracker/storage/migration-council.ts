/**
 * Migration 10 (issue 20, the Steering Council): the council's current
 * state, its proposals and votes, banned identities and released models.
 * The ledger is the record (council-formed, council-proposal, council-vote,
 * council-decision, credit-adjusted entries; ledger/council-book.ts replays
 * them); these tables are what the tracker reads to answer requests, written
 * in the same transaction as the entries.
 */
import type { Migration } from './migration.ts';

export const COUNCIL_MIGRATION: Migration = {
  version: 10,
  name: 'council, proposals, votes, bans and releases',
  statements: [
    // one row: the threshold in force and the genesis the tracker was started with
    `CREATE TABLE council (
       id         integer PRIMARY KEY CHECK (id = 1),
       threshold  integer NOT NULL,
       genesis    jsonb NOT NULL,
       proposals  integer NOT NULL DEFAULT 0,
       formed_at  bigint NOT NULL
     )`,
    `CREATE TABLE council_members (
       key_id    text PRIMARY KEY,
       added_at  bigint NOT NULL,
       decision  text
     )`,
    // status: open | enacted | rejected (expired is open past expires_at)
    `CREATE TABLE council_proposals (
       id          text PRIMARY KEY,
       n           integer NOT NULL,
       action      text NOT NULL,
       subject     text NOT NULL,
       body        jsonb NOT NULL,
       proposer    text NOT NULL,
       opened_at   bigint NOT NULL,
       expires_at  bigint NOT NULL,
       status      text NOT NULL,
       decided_at  bigint,
       -- leaf hashes (RFC 6962 §2.1) of the proposal's entry and of its
       -- enacted decision's: ledger_entries.leaf_hash is unique, so a page can
       -- link each to its leaf index
       proposal_leaf bytea NOT NULL,
       decision_leaf bytea
     )`,
    `CREATE INDEX council_proposals_n_idx ON council_proposals (n)`,
    `CREATE TABLE council_votes (
       decision    text NOT NULL REFERENCES council_proposals(id),
       member      text NOT NULL,
       public_key  bytea NOT NULL,
       vote        text NOT NULL,
       approval    text,
       at          bigint NOT NULL,
       PRIMARY KEY (decision, member)
     )`,
    `ALTER TABLE providers ADD COLUMN banned_by text`,
    `CREATE TABLE releases (
       name         text PRIMARY KEY,
       checkpoint   text NOT NULL,
       run_id       text,
       decision     text NOT NULL,
       released_at  bigint NOT NULL
     )`,
  ],
};
