/**
 * Migration 9 (issue 25, "registrations ... kept out of the permanent
 * ledger"): a provider's signed provider-registered entry waits in its row
 * (providers.registration, the entry's canonical bytes) until the identity
 * first asks for work; only then is it appended to the ledger
 * (registry.ts says why). NULL: already in the log — which is true of every
 * row older than this migration, registered when the entry went straight in.
 */
import type { Migration } from './migration.ts';

export const PENDING_REGISTRATION_MIGRATION: Migration = {
  version: 9,
  name: 'registrations wait for the first work request',
  statements: [`ALTER TABLE providers ADD COLUMN registration bytea`],
};
