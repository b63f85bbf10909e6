/**
 * Replaying a checkpoint (issue 7, "Provenance"): from the previous global
 * state blob, the canonical result blobs the checkpoint-published entry
 * names (in slot order) and the run's outer options, recompute the new
 * global state blob and its SHA-256. Model provenance is then checkable:
 * anyone holding the ledger and the blobs gets θ_{r+1} bit for bit.
 */
import { SwarmError } from '../../core/errors.ts';
import { sha256Hex } from '../../core/sha256.ts';
import type { ModelConfig } from '../../model/config.ts';
import { decodeTrainOutput } from '../work/train-result.ts';
import { decodeGlobalState, encodeGlobalState, outerRound } from './checkpoint.ts';
import type { OuterRoundOptions } from './checkpoint.ts';

export interface ReplayInput {
  config: ModelConfig;
  options: OuterRoundOptions;
  /** the parent global state blob (θ_r, b_r) */
  parent: Uint8Array;
  /** the aggregated units' result blobs, in the entry's order (slot order) */
  results: Uint8Array[];
}

/** The replayed global state blob and its SHA-256. */
export function replayCheckpoint(i: ReplayInput): { blob: Uint8Array; sha256: string } {
  if (i.results.length === 0) throw new SwarmError('DILOCO_NO_DELTAS', 'a checkpoint aggregates at least one unit');
  const state = decodeGlobalState(i.parent);
  const deltas = i.results.map((r) => decodeTrainOutput(r, i.config).delta);
  const blob = encodeGlobalState(outerRound(state, deltas, i.options).state);
  return { blob, sha256: sha256Hex(blob) };
}
