/**
 * Adaptive replication (DESIGN.md, "Verification, in layers", layer 2).
 *
 * BOINC's adaptive replication (BOINC wiki "AdaptiveReplication"; D. P.
 * Anderson, "BOINC: A Platform for Volunteer Computing", J. Grid Computing
 * 18, 2020, §6.2) sends a job unreplicated to a host whose recent results are
 * reliable (a run of consecutive valid results), and replicates the job when
 * the host is new or has recently returned an invalid result; trusted hosts
 * are still replicated at random so that a host cannot turn bad unseen.
 *
 * Our rule (a simplification with a fixed spot-check rate, per issue 5):
 *  - new identity (fewer than `minConsecutiveValid` recorded results):
 *    always replicated (Sybil defence: a fresh key earns no trust);
 *  - record not clean (an invalid result among the last `window` results, or
 *    fewer than `minConsecutiveValid` valid results at the end): replicated.
 *    For a record built under this policy the first clause implies the
 *    second; the streak rule decides for a stored record kept under an
 *    earlier policy (a shorter window, or a smaller minimum);
 *  - otherwise trusted: replicated only when the spot-check draw
 *    u < spotCheckFraction, where
 *        u = Prng.fromSeed(seed).fork('adaptive-replication').fork(unitId).nextFloat()
 *    a pure function of (seed, unit id), so anyone holding the seed can audit
 *    every decision, and the provider cannot learn which of its units are
 *    checked without the seed.
 *
 * A replicated decision asks for { minQuorum: replicatedQuorum,
 * targetResults: replicatedQuorum }; an unreplicated one for { 1, 1 }
 * (apply with work-unit.ts raiseReplication / createWorkUnit).
 */
import { SwarmError } from '../../core/errors.ts';
import { Prng } from '../../core/prng.ts';
import type { Seed } from '../../core/prng.ts';

export type Verdict = 'valid' | 'invalid';

export interface AdaptivePolicy {
  /** consecutive valid results needed for trust (BOINC uses a similar streak count) */
  minConsecutiveValid: number;
  /** how many recent verdicts are kept and must be free of invalid ones (>= minConsecutiveValid) */
  window: number;
  /** probability that a trusted provider's unit is replicated anyway */
  spotCheckFraction: number;
  /** quorum for replicated units */
  replicatedQuorum: number;
}

export const DEFAULT_ADAPTIVE_POLICY: Readonly<AdaptivePolicy> = Object.freeze({
  minConsecutiveValid: 10,
  window: 20,
  spotCheckFraction: 0.1,
  replicatedQuorum: 2,
});

/** A provider's recent verdicts, oldest first, at most `window` long (plain JSON). */
export interface ProviderRecord {
  provider: string;
  recent: Verdict[];
  /** all-time count of verdicts seen (distinguishes a new identity from a pruned history) */
  total: number;
}

export type ReplicationReason = 'new-identity' | 'unclean-record' | 'spot-check' | 'trusted';

export interface ReplicationDecision {
  replicate: boolean;
  reason: ReplicationReason;
  /** the spot-check draw in [0, 1); present only for trusted providers */
  draw?: number;
  minQuorum: number;
  targetResults: number;
}

function checkPolicy(p: AdaptivePolicy): void {
  const ok =
    Number.isSafeInteger(p.minConsecutiveValid) && p.minConsecutiveValid >= 1 &&
    Number.isSafeInteger(p.window) && p.window >= p.minConsecutiveValid &&
    typeof p.spotCheckFraction === 'number' && p.spotCheckFraction >= 0 && p.spotCheckFraction <= 1 &&
    Number.isSafeInteger(p.replicatedQuorum) && p.replicatedQuorum >= 2;
  if (!ok) throw new SwarmError('ADAPTIVE_INVALID_POLICY', 'invalid adaptive replication policy');
}

export function newProviderRecord(provider: string): ProviderRecord {
  return { provider, recent: [], total: 0 };
}

/** Appends a verdict, keeping the last `window` ones. */
export function recordVerdict(record: ProviderRecord, verdict: Verdict, policy: AdaptivePolicy = DEFAULT_ADAPTIVE_POLICY): ProviderRecord {
  checkPolicy(policy);
  if (verdict !== 'valid' && verdict !== 'invalid') throw new SwarmError('ADAPTIVE_INVALID_VERDICT', 'verdict must be valid or invalid');
  const recent = [...record.recent, verdict];
  return { provider: record.provider, recent: recent.slice(Math.max(0, recent.length - policy.window)), total: record.total + 1 };
}

/** Valid verdicts at the end of the record. */
export function consecutiveValid(record: ProviderRecord): number {
  let n = 0;
  for (let i = record.recent.length - 1; i >= 0 && record.recent[i] === 'valid'; i--) n++;
  return n;
}

/** The spot-check draw for a unit: pure in (seed, unitId). */
export function spotCheckDraw(seed: Seed, unitId: string): number {
  return Prng.fromSeed(seed).fork('adaptive-replication').fork(unitId).nextFloat();
}

/** Whether a unit sent to the provider with `record` must be replicated, and why. */
export function replicationFor(
  record: ProviderRecord,
  unitId: string,
  seed: Seed,
  policy: AdaptivePolicy = DEFAULT_ADAPTIVE_POLICY,
): ReplicationDecision {
  checkPolicy(policy);
  const replicated = (reason: ReplicationReason, draw?: number): ReplicationDecision => {
    const d: ReplicationDecision = { replicate: true, reason, minQuorum: policy.replicatedQuorum, targetResults: policy.replicatedQuorum };
    if (draw !== undefined) d.draw = draw;
    return d;
  };
  if (record.total < policy.minConsecutiveValid) return replicated('new-identity');
  const window = record.recent.slice(Math.max(0, record.recent.length - policy.window));
  if (window.includes('invalid') || consecutiveValid(record) < policy.minConsecutiveValid) return replicated('unclean-record');
  const draw = spotCheckDraw(seed, unitId);
  if (draw < policy.spotCheckFraction) return replicated('spot-check', draw);
  return { replicate: false, reason: 'trusted', draw, minQuorum: 1, targetResults: 1 };
}
