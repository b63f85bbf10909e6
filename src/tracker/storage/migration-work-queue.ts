/**
 * The migrations of the work queue: 3 (below), 4 (run progress), 5 (held
 * inputs) and 7 (params patches), each with its own comment. migrations.ts
 * orders them with 1–2 (the initial schema) and 6 (ledger-queue.ts, beside
 * the queue it creates).
 *
 * Migration 3: the work queue driven by the pure state machine
 * (validation/work-unit.ts is authoritative; these columns are its indexes).
 *
 *  - units.wu holds the unit's WorkUnitState as JSON, read and written under
 *    the unit's row lock, so every transition is the pure function's output.
 *  - units.needs_replica / units.next_deadline are what the assignment query
 *    filters on (kept equal to the state machine's shortfall and earliest
 *    in-progress deadline at every write): a unit is a candidate when it
 *    needs a replica now, or when a lease may have expired since the write.
 *  - providers.record is the adaptive-replication record (recent verdicts).
 *  - replicas gain the result's size and metrics as reported.
 *  - runs gain an owner (the trainer key that created them).
 */
import type { Migration } from './migration.ts';

export const WORK_QUEUE_MIGRATION: Migration = {
  version: 3,
  name: 'work queue on the unit state machine',
  statements: [
    `ALTER TABLE units ADD COLUMN wu jsonb`,
    `ALTER TABLE units ADD COLUMN spec_hash text`,
    `ALTER TABLE units ADD COLUMN flops double precision NOT NULL DEFAULT 0`,
    `ALTER TABLE units ADD COLUMN needs_replica boolean NOT NULL DEFAULT true`,
    `ALTER TABLE units ADD COLUMN next_deadline bigint`,
    `ALTER TABLE units ADD COLUMN round integer NOT NULL DEFAULT 0`,
    `ALTER TABLE units ADD COLUMN slot integer NOT NULL DEFAULT 0`,
    `ALTER TABLE units ADD COLUMN updated_at bigint NOT NULL DEFAULT 0`,
    `CREATE INDEX units_candidates_idx ON units (created_at, id) WHERE state = 'open'`,
    `CREATE INDEX units_run_idx ON units (run_id, round, slot)`,
    `ALTER TABLE replicas ADD COLUMN result_bytes bigint`,
    `ALTER TABLE replicas ADD COLUMN metrics jsonb`,
    `ALTER TABLE replicas ADD COLUMN verdict text`,
    `CREATE INDEX replicas_provider_idx ON replicas (provider, state)`,
    `ALTER TABLE providers ADD COLUMN record jsonb NOT NULL DEFAULT '{"recent":[],"total":0}'`,
    `ALTER TABLE providers ADD COLUMN threads integer NOT NULL DEFAULT 1`,
    `ALTER TABLE providers ADD COLUMN memory_bytes bigint NOT NULL DEFAULT 0`,
    `ALTER TABLE providers ADD COLUMN last_seen bigint NOT NULL DEFAULT 0`,
    `ALTER TABLE runs ADD COLUMN owner text`,
  ],
};

/** Migration 4: DiLoCo runs keep their progress (round, θ_r, slot states, history) beside their spec. */
export const RUN_PROGRESS_MIGRATION: Migration = {
  version: 4,
  name: 'run progress',
  statements: [
    `ALTER TABLE runs ADD COLUMN progress jsonb`,
    `ALTER TABLE runs ADD COLUMN updated_at bigint NOT NULL DEFAULT 0`,
  ],
};

/**
 * Migration 5: inputs a provider keeps instead of the tracker (a DiLoCo
 * slot's AdamW state). A unit whose missing_inputs are not yet stored may
 * only go to a provider in held_by, until a holder uploads them.
 */
export const HELD_INPUTS_MIGRATION: Migration = {
  version: 5,
  name: 'inputs held by providers',
  statements: [
    `ALTER TABLE units ADD COLUMN missing_inputs text[] NOT NULL DEFAULT '{}'`,
    `ALTER TABLE units ADD COLUMN held_by text[] NOT NULL DEFAULT '{}'`,
    `CREATE INDEX units_missing_idx ON units USING gin (missing_inputs) WHERE state = 'open'`,
  ],
};

/**
 * Migration 7: a unit's params patch (issue 7's int8 downlink,
 * src/train/diloco/downlink.ts): JSON {target, base, update} naming the
 * params blob the unit reads, the params blob of the round before, and the
 * update blob between them. The work assignment passes it on, so a provider
 * that holds the base downloads the update instead of the target. NULL for
 * every other unit.
 */
export const PARAMS_PATCH_MIGRATION: Migration = {
  version: 7,
  name: 'params patches',
  statements: [`ALTER TABLE units ADD COLUMN patch text`],
};

/**
 * One word per replica state (issue 16): the replicas table said
 * 'in_progress' and 'timed_out' where the state machine (work-unit.ts
 * ReplicaState) says 'in-progress' and 'timed-out'; rows now use the state
 * machine's words (replicaRowState).
 */
export const REPLICA_WORDS_MIGRATION: Migration = {
  version: 8,
  name: 'one replica state vocabulary',
  statements: [`UPDATE replicas SET state = replace(state, '_', '-') WHERE state IN ('in_progress', 'timed_out')`],
};
