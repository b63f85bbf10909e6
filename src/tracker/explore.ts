/**
 * Read-only browsing queries behind the dashboard's Run, Provider and Ledger
 * pages (issue 17), each also a JSON route a script can call
 * (http/dashboard-api.ts): a run's units with their replicas and verdicts,
 * a provider's recent replicas, and ledger entries newest first with
 * filters. Every statement is a SELECT; sizes are capped so no request reads
 * an unbounded table.
 */
import { base64Encode, utf8Decode } from '../core/encoding.ts';
import { SwarmError } from '../core/errors.ts';
import type { RunUnitView } from '../protocol/views.ts';
import type { Db } from './storage/db.ts';

/** Rounds a run-units answer covers when no round is named (the newest ones). */
export const UNIT_ROUNDS_DEFAULT = 20;
export const MAX_LEDGER_PAGE = 200;
export const MAX_PROVIDER_REPLICAS = 200;

export type { ReplicaView, RunUnitView } from '../protocol/views.ts';

/** A run's units, round by round: `round` alone, or the newest UNIT_ROUNDS_DEFAULT rounds. TRACKER_NOT_FOUND for an unknown run. */
export async function runUnits(db: Db, runId: string, round?: number): Promise<{ run: string; rounds: number[]; units: RunUnitView[] }> {
  const run = await db.query('SELECT id FROM runs WHERE id = $1', [runId]);
  if (run.length === 0) throw new SwarmError('TRACKER_NOT_FOUND', 'no such run', { run: runId });
  const [top] = await db.query<{ r: number | null }>('SELECT max(round) AS r FROM units WHERE run_id = $1', [runId]);
  const maxRound = top?.r ?? null;
  if (maxRound === null) return { run: runId, rounds: [], units: [] };
  const lo = round ?? Math.max(0, maxRound - UNIT_ROUNDS_DEFAULT + 1);
  const hi = round ?? maxRound;
  const rows = await db.query<{
    id: string; kind: string; round: number; slot: number; state: string; canonical_hash: string | null; flops: number;
    provider: string | null; name: string | null; rstate: string | null; verdict: string | null; result_hash: string | null; issued_at: string | null;
  }>(
    `SELECT u.id, u.kind, u.round, u.slot, u.state, u.canonical_hash, u.flops,
            r.provider, p.name, r.state AS rstate, r.verdict, r.result_hash, r.issued_at
       FROM units u
       LEFT JOIN replicas r ON r.unit_id = u.id
       LEFT JOIN providers p ON p.key_id = r.provider
      WHERE u.run_id = $1 AND u.round BETWEEN $2 AND $3
      ORDER BY u.round DESC, u.kind DESC, u.slot, u.id, r.issued_at, r.id`,
    [runId, lo, hi],
  );
  const units: RunUnitView[] = [];
  for (const r of rows) {
    let u = units[units.length - 1];
    if (u === undefined || u.id !== r.id) {
      u = { id: r.id, kind: r.kind, round: r.round, slot: r.slot, status: r.state, canonicalHash: r.canonical_hash, flops: Number(r.flops), replicas: [] };
      units.push(u);
    }
    if (r.provider !== null) {
      u.replicas.push({ provider: r.provider, providerName: r.name, state: r.rstate ?? '', verdict: r.verdict, resultHash: r.result_hash, issuedAt: Number(r.issued_at) });
    }
  }
  const rounds: number[] = [];
  for (let x = hi; x >= lo; x--) rounds.push(x);
  return { run: runId, rounds, units };
}

export interface ProviderReplicaView {
  unit: string;
  run: string | null;
  kind: string;
  round: number;
  slot: number;
  state: string;
  verdict: string | null;
  issuedAt: number;
}

/** A provider's newest replicas (its history of work). The provider must exist (the caller checks). */
export async function providerReplicas(db: Db, providerId: string, limit: number): Promise<ProviderReplicaView[]> {
  const rows = await db.query<{ unit_id: string; run_id: string | null; kind: string; round: number; slot: number; state: string; verdict: string | null; issued_at: string }>(
    `SELECT r.unit_id, u.run_id, u.kind, u.round, u.slot, r.state, r.verdict, r.issued_at
       FROM replicas r JOIN units u ON u.id = r.unit_id
      WHERE r.provider = $1 ORDER BY r.issued_at DESC, r.id LIMIT $2`,
    [providerId, Math.min(limit, MAX_PROVIDER_REPLICAS)],
  );
  return rows.map((r) => ({ unit: r.unit_id, run: r.run_id, kind: r.kind, round: r.round, slot: r.slot, state: r.state, verdict: r.verdict, issuedAt: Number(r.issued_at) }));
}

export interface LedgerEntryView {
  /** the leaf index (RFC 6962) */
  index: number;
  /** when the tracker sequenced it */
  createdAt: number;
  /** the exact leaf bytes (standard base64): what a verifier hashes */
  leafInput: string;
  /** the same bytes as text: the entry's canonical JSON (RFC 8785) */
  canonical: string;
}

export interface LedgerFilter {
  kind?: string;
  /** the acting key, or the provider an entry is about */
  identity?: string;
  /** only entries with an index below this one (paging backwards) */
  before?: number;
  limit: number;
}

function view(r: { seq: string; created_at: string; leaf_input: Uint8Array }): LedgerEntryView {
  return { index: Number(r.seq), createdAt: Number(r.created_at), leafInput: base64Encode(r.leaf_input), canonical: utf8Decode(r.leaf_input) };
}

/** Entries newest first, filtered by kind and identity, MAX_LEDGER_PAGE at most; `next` pages on. */
export async function ledgerEntries(db: Db, f: LedgerFilter): Promise<{ entries: LedgerEntryView[]; next: number | null }> {
  const limit = Math.min(f.limit, MAX_LEDGER_PAGE);
  const rows = await db.query<{ seq: string; created_at: string; leaf_input: Uint8Array }>(
    `SELECT seq, created_at, leaf_input FROM ledger_entries
      WHERE ($1::bigint IS NULL OR seq < $1::bigint)
        AND ($2::text IS NULL OR convert_from(leaf_input, 'UTF8')::jsonb->>'kind' = $2::text)
        AND ($3::text IS NULL OR convert_from(leaf_input, 'UTF8')::jsonb->>'actor' = $3::text
                              OR convert_from(leaf_input, 'UTF8')::jsonb->'body'->>'provider' = $3::text)
      ORDER BY seq DESC LIMIT $4`,
    [f.before ?? null, f.kind ?? null, f.identity ?? null, limit + 1],
  );
  const entries = rows.slice(0, limit).map(view);
  return { entries, next: rows.length > limit ? entries[entries.length - 1]!.index : null };
}

/** One entry by its leaf index; LEDGER_NOT_FOUND past the end of the log. */
export async function ledgerEntry(db: Db, index: number): Promise<LedgerEntryView> {
  const rows = await db.query<{ seq: string; created_at: string; leaf_input: Uint8Array }>('SELECT seq, created_at, leaf_input FROM ledger_entries WHERE seq = $1', [index]);
  if (rows.length === 0) throw new SwarmError('LEDGER_NOT_FOUND', `no ledger entry ${index}`, { index });
  return view(rows[0]!);
}
