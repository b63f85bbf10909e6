/**
 * Migration 12 (issue 18, the browser provider): what software each
 * provider runs, as it said at its latest registration — client_kind
 * 'node' or 'browser', client_engine e.g. "Chromium 150" (wire shape and
 * limits: protocol/schemas.ts ClientInfoSchema). NULL: unknown, a client
 * older than the field (every row older than this migration). Shown by
 * the standings; nothing schedules or judges by it.
 */
import type { Migration } from './migration.ts';

export const CLIENT_KIND_MIGRATION: Migration = {
  version: 12,
  name: 'provider client kind and engine',
  statements: [
    // both or neither: a kind without its engine (or the reverse) is not a state the wire can make
    `ALTER TABLE providers
       ADD COLUMN client_kind text CHECK (client_kind IN ('node', 'browser')),
       ADD COLUMN client_engine text CHECK (length(client_engine) BETWEEN 1 AND 64),
       ADD CONSTRAINT providers_client_both CHECK ((client_kind IS NULL) = (client_engine IS NULL))`,
  ],
};
