/**
 * `swarm audit --replay` (issue 7, "Provenance"): recompute every published
 * checkpoint from the ledger and the blobs. For each checkpoint-published
 * entry, download its parent global state and the result blobs it names
 * (each checked against its SHA-256), take the outer step with the run's
 * options, and compare the SHA-256 of the recomputed state with the one the
 * entry commits to. The run's options (model config, outer optimizer,
 * aggregator) come from the tracker's run record; they are part of what a
 * replay trusts, and what it would expose if they changed.
 */
import { SwarmError } from '../core/errors.ts';
import { sha256Hex } from '../core/sha256.ts';
import { decodeEntry } from '../ledger/entry.ts';
import type { LedgerEntry } from '../ledger/entry.ts';
import { replayCheckpoint } from '../train/diloco/replay.ts';
import { runRoundOptions } from '../tracker/runs/diloco-spec.ts';
import type { RoundAggregate } from '../train/diloco/checkpoint.ts';
import type { OuterOptions } from '../train/diloco/outer.ts';
import type { ModelConfig } from '../model/config.ts';
import type { FetchLike } from './ledger-client.ts';

export interface ReplayReport {
  checked: number;
  failed: number;
  /** first checkpoint that did not replay: ledger index and why */
  firstBad: { index: number; run: string; round: number; message: string } | null;
  /** the last checkpoint replayed, per run */
  final: Record<string, string>;
}

interface RunSpecView {
  spec: { config: ModelConfig; outer: OuterOptions; aggregate: RoundAggregate; downlink?: 'f32' | 'int8' };
}

async function fetchOk(fetchFn: FetchLike, url: string): Promise<Response> {
  let res: Response;
  try {
    res = await fetchFn(url);
  } catch (e) {
    throw new SwarmError('TRACKER_UNREACHABLE', `cannot reach ${url}: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!res.ok) throw new SwarmError('REPLAY_FETCH_FAILED', `${url} answered ${res.status}`);
  return res;
}

export async function replayCheckpoints(tracker: string, leaves: readonly Uint8Array[], fetchFn: FetchLike = fetch): Promise<ReplayReport> {
  const base = tracker.replace(/\/+$/, '');
  const specs = new Map<string, RunSpecView>();
  const blob = async (sha: string): Promise<Uint8Array> => {
    const bytes = new Uint8Array(await (await fetchOk(fetchFn, `${base}/api/blobs/${sha}`)).arrayBuffer());
    if (sha256Hex(bytes) !== sha) throw new SwarmError('REPLAY_BAD_BLOB', `blob ${sha} does not hash to its address`);
    return bytes;
  };
  const report: ReplayReport = { checked: 0, failed: 0, firstBad: null, final: {} };
  for (const [index, leaf] of leaves.entries()) {
    let entry: LedgerEntry;
    try {
      entry = decodeEntry(leaf);
    } catch {
      continue; // the structural audit reports undecodable entries
    }
    if (entry.kind !== 'checkpoint-published') continue;
    const b = entry.body;
    report.checked++;
    try {
      let spec = specs.get(b.run);
      if (spec === undefined) {
        spec = (await (await fetchOk(fetchFn, `${base}/api/runs/${encodeURIComponent(b.run)}`)).json()) as RunSpecView;
        specs.set(b.run, spec);
      }
      if (b.parents.length !== 1) throw new SwarmError('REPLAY_MISMATCH', 'a DiLoCo checkpoint has exactly one parent state');
      const parent = await blob(b.parents[0]!);
      const results = [];
      for (const a of b.aggregated) results.push(await blob(a.result));
      const r = replayCheckpoint({ config: spec.spec.config, options: runRoundOptions(spec.spec), parent, results });
      if (r.sha256 !== b.checkpoint) throw new SwarmError('REPLAY_MISMATCH', `replayed state ${r.sha256.slice(0, 16)}… differs from the published ${b.checkpoint.slice(0, 16)}…`);
      report.final[b.run] = b.checkpoint;
    } catch (e) {
      report.failed++;
      if (report.firstBad === null) report.firstBad = { index, run: b.run, round: b.round, message: e instanceof Error ? e.message : String(e) };
    }
  }
  return report;
}
