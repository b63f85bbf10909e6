/**
 * The work-unit lifecycle as a pure state machine (DESIGN.md, "Verification,
 * in layers", layer 2). Every function takes a plain, JSON-serialisable
 * WorkUnitState and returns a new one; nothing here reads the clock, the
 * database or the network. The storage layer persists the objects as they are.
 *
 * Names and semantics follow BOINC:
 *  - D. P. Anderson, "BOINC: A System for Public-Resource Computing and
 *    Storage", 5th IEEE/ACM Workshop on Grid Computing, 2004, §3 (redundant
 *    computing: a workunit has results, "min_quorum", "target_nresults",
 *    "max_error_results", "max_total_results", "delay_bound").
 *  - BOINC wiki "JobReplication" (the transitioner: create results until
 *    unsent + in-progress + success >= target_nresults; error the job out when
 *    errors > max_error_results or when new results would exceed
 *    max_total_results; a no-reply past the deadline counts as an error and
 *    triggers a new result) and "ValidationSimple" (once min_quorum successful
 *    results agree, one of them is canonical; results that agree are VALID,
 *    the others INVALID; without agreement the results are INCONCLUSIVE and
 *    the validator raises target_nresults so another instance is sent).
 *  - BOINC's scheduler option "one_result_per_user_per_wu": never two results
 *    of one workunit to the same identity (here: the provider key).
 *
 * Our mapping: a BOINC "result" (instance) is a Replica; BOINC's
 * server_state/outcome pair is collapsed into Replica.state
 * (in-progress | returned | error | timed-out, where timed-out is BOINC's
 * outcome NO_REPLY) and validate_state is Replica.validateState. BOINC's
 * delay_bound is leaseMs, and a heartbeat (our addition; BOINC has trickle
 * messages) extends the lease by leaseMs from the heartbeat's time.
 *
 * Settling: every mutator ends with the transitioner + validator pass
 * (`settle`), so a stored state is always consistent: the canonical hash is
 * set as soon as a quorum exists, and the unit is errored out as soon as the
 * error or total limits are passed. validate() runs the same pass and reports.
 *
 * Canonical-hash tie rule (deterministic, documented): among hashes held by
 * at least minQuorum returned replicas, pick the one held by the most
 * replicas; on a tie, the one that reached minQuorum first in submission
 * order (the order of `seq`, as BOINC's validator would have seen them one by
 * one); the canonical replica is the earliest-submitted replica holding it.
 *
 * Late results (BOINC's handle_results accepts a result that arrives after
 * its deadline, "timed out, but accept", if the job still exists): a submit
 * for a timed-out replica, or for an in-progress one past its deadline, is
 * accepted and marked `late`. If the unit is still open it counts towards the
 * quorum (and stops counting as an error); if the unit already has a canonical
 * result it is compared with it (valid or invalid, as BOINC's validator does
 * for results arriving after the canonical one); if the unit has errored out
 * it is recorded as TOO_LATE (no validation, no credit).
 *
 * Reissue to a timed-out holder (our addition, issue 24): "never two
 * replicas to one identity" deadlocks a small swarm: with two providers and
 * a quorum of 2, once both leases of a unit ran out (a provider or the
 * tracker was killed mid-unit) nobody may take it. So when the caller finds
 * no eligible provider that has NOT held the unit (`reissueTimedOut`), a
 * provider whose replica of it timed out may get it again: that same
 * replica is re-leased (state in-progress, a new deadline), its `timeouts`
 * counting the leases that ran out. Only a timeout qualifies: a provider
 * whose replica erred or returned a result (valid, rejected or inconclusive)
 * never gets the unit again, so one identity still never contributes two
 * results to one quorum. Each expired lease still counts as an error and as
 * an issued result towards max_error_results / max_total_results, as the
 * new result BOINC would create for it does, so a provider that keeps dying
 * mid-unit errors the unit out instead of holding it forever.
 */
import { SwarmError } from '../../core/errors.ts';

export interface WorkUnitParams {
  /** successful, agreeing results needed for a canonical result (BOINC min_quorum) */
  minQuorum: number;
  /** replicas to keep alive or returned (BOINC target_nresults) */
  targetResults: number;
  /** the unit errors out when errors exceed this (BOINC max_error_results) */
  maxErrorResults: number;
  /** the unit errors out rather than issue more than this many replicas (BOINC max_total_results) */
  maxTotalResults: number;
  /** lease length: deadline = issuedAt + leaseMs (BOINC delay_bound) */
  leaseMs: number;
}

export type ReplicaState = 'in-progress' | 'returned' | 'error' | 'timed-out';
/** BOINC validate_state: INIT, VALID, INVALID, INCONCLUSIVE, TOO_LATE. */
export type ValidateState = 'init' | 'valid' | 'invalid' | 'inconclusive' | 'too-late';
/**
 * A replica as one word, the replicas table's `state` column (queries filter
 * on it): its ReplicaState, except that a returned replica says how it was
 * judged so far. The same words as ReplicaState, so SQL and code never
 * spell one state two ways (issue 16; migration 8 renamed the old
 * 'in_progress' and 'timed_out' rows).
 */
export type ReplicaRowState = 'in-progress' | 'reported' | 'valid' | 'invalid' | 'error' | 'timed-out';

export function replicaRowState(r: Pick<Replica, 'state' | 'validateState'>): ReplicaRowState {
  if (r.state !== 'returned') return r.state;
  return r.validateState === 'valid' ? 'valid' : r.validateState === 'invalid' ? 'invalid' : 'reported';
}
export type UnitStatus = 'open' | 'valid' | 'error';
/** BOINC WU error_mask bits we use. */
export type UnitErrorReason = 'too-many-errors' | 'too-many-total-results' | 'cancelled';

export interface Replica {
  /** `${unitId}_${n}`, n counting from 0 (BOINC names results wuname_N) */
  id: string;
  provider: string;
  issuedAt: number;
  deadline: number;
  state: ReplicaState;
  validateState: ValidateState;
  resultHash?: string;
  returnedAt?: number;
  /** submission order within the unit (tie rule) */
  seq?: number;
  /** returned after its deadline */
  late?: boolean;
  /** why a replica is in state error */
  errorReason?: string;
  /** earlier leases of this replica that ran out before it was reissued to the same provider (header) */
  timeouts?: number;
  /** thrown away because the council banned its provider (discardProvider): counts as neither error nor issued result */
  discarded?: boolean;
}

export interface WorkUnitState {
  v: 1;
  id: string;
  params: WorkUnitParams;
  /** current target_nresults: starts at params.targetResults, raised by the validator on disagreement */
  targetResults: number;
  /** current min_quorum: starts at params.minQuorum, may be raised by adaptive replication */
  minQuorum: number;
  status: UnitStatus;
  replicas: Replica[];
  canonicalHash?: string;
  canonicalReplicaId?: string;
  errorReason?: UnitErrorReason;
  nextSeq: number;
}

export interface ValidationOutcome {
  status: UnitStatus;
  canonicalHash?: string;
  canonicalReplicaId?: string;
  errorReason?: UnitErrorReason;
  /** replica ids, in replica order */
  valid: string[];
  invalid: string[];
  inconclusive: string[];
  /** replicas to issue now (0 unless open) */
  needed: number;
}

const MAX_ID = 256;
const MAX_HASH = 256;

function raise(code: string, message: string, details?: Record<string, unknown>): never {
  throw new SwarmError(code, message, details);
}

function checkTime(ms: number, what: string): void {
  if (!Number.isSafeInteger(ms) || ms < 0) raise('WU_INVALID_TIME', `${what} must be a non-negative safe integer (ms)`, { value: String(ms) });
}

function checkName(s: unknown, what: string): void {
  if (typeof s !== 'string' || s.length === 0 || s.length > MAX_ID) raise('WU_INVALID_ARGUMENT', `${what} must be a non-empty string of at most ${MAX_ID} characters`);
}

function checkParams(p: WorkUnitParams): void {
  const int = (n: number, min: number, what: string): void => {
    if (!Number.isSafeInteger(n) || n < min) raise('WU_INVALID_PARAMS', `${what} must be an integer >= ${min}`, { [what]: String(n) });
  };
  int(p.minQuorum, 1, 'minQuorum');
  int(p.targetResults, 1, 'targetResults');
  int(p.maxErrorResults, 0, 'maxErrorResults');
  int(p.maxTotalResults, 1, 'maxTotalResults');
  int(p.leaseMs, 1, 'leaseMs');
  if (p.targetResults < p.minQuorum) raise('WU_INVALID_PARAMS', 'targetResults must be >= minQuorum');
  if (p.maxTotalResults < p.targetResults) raise('WU_INVALID_PARAMS', 'maxTotalResults must be >= targetResults');
}

/** A fresh unit with no replicas. */
export function createWorkUnit(id: string, params: WorkUnitParams): WorkUnitState {
  checkName(id, 'unit id');
  checkParams(params);
  return {
    v: 1,
    id,
    params: { ...params },
    targetResults: params.targetResults,
    minQuorum: params.minQuorum,
    status: 'open',
    replicas: [],
    nextSeq: 0,
  };
}

function copy(state: WorkUnitState): WorkUnitState {
  return { ...state, params: { ...state.params }, replicas: state.replicas.map((r) => ({ ...r })) };
}

function findReplica(state: WorkUnitState, replicaId: string): Replica {
  const r = state.replicas.find((x) => x.id === replicaId);
  if (r === undefined) raise('WU_UNKNOWN_REPLICA', 'no such replica in this unit', { unit: state.id, replica: replicaId });
  return r;
}

function counts(state: WorkUnitState): { inProgress: number; success: number; errors: number; total: number } {
  let inProgress = 0;
  let success = 0;
  let errors = 0;
  let reissued = 0;
  for (const r of state.replicas) {
    if (r.discarded === true) continue; // the unit is not to blame for a banned provider (discardProvider)
    if (r.state === 'in-progress') inProgress++;
    else if (r.state === 'returned') success++;
    else errors++;
    reissued += r.timeouts ?? 0;
  }
  // a reissued lease that ran out was an issued result and an error (NO_REPLY), as BOINC would count it
  const kept = state.replicas.filter((r) => r.discarded !== true).length;
  return { inProgress, success, errors: errors + reissued, total: kept + reissued };
}

/** Replicas still needed to reach the current target (transitioner rule), ignoring limits. */
function shortfall(state: WorkUnitState): number {
  if (state.status !== 'open') return 0;
  const c = counts(state);
  return Math.max(0, state.targetResults - c.inProgress - c.success);
}

/** Returned replicas in submission order. */
function returnedInOrder(state: WorkUnitState): Replica[] {
  return state.replicas.filter((r) => r.state === 'returned' && r.resultHash !== undefined).sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
}

/** Canonical hash by the documented tie rule, or undefined when no quorum. */
function findCanonical(state: WorkUnitState): { hash: string; replicaId: string } | undefined {
  const groups = new Map<string, { n: number; quorumAt: number; first: string }>();
  for (const r of returnedInOrder(state)) {
    const h = r.resultHash!;
    const g = groups.get(h) ?? { n: 0, quorumAt: Infinity, first: r.id };
    g.n++;
    if (g.n === state.minQuorum) g.quorumAt = r.seq ?? 0;
    groups.set(h, g);
  }
  let best: { hash: string; n: number; quorumAt: number; first: string } | undefined;
  for (const [hash, g] of groups) {
    if (g.n < state.minQuorum) continue;
    if (best === undefined || g.n > best.n || (g.n === best.n && g.quorumAt < best.quorumAt)) best = { hash, ...g };
  }
  return best === undefined ? undefined : { hash: best.hash, replicaId: best.first };
}

/**
 * The transitioner + validator pass, in place on a copy: quorum check, then
 * marking, then error checks. Idempotent.
 */
function settle(s: WorkUnitState): WorkUnitState {
  if (s.status === 'open') {
    const canon = findCanonical(s);
    if (canon !== undefined) {
      s.status = 'valid';
      s.canonicalHash = canon.hash;
      s.canonicalReplicaId = canon.replicaId;
    }
  }
  if (s.status === 'valid') {
    // ValidationSimple: agreeing results VALID, the others INVALID; later arrivals are compared with the canonical one.
    for (const r of s.replicas) {
      if (r.state === 'returned') r.validateState = r.resultHash === s.canonicalHash ? 'valid' : 'invalid';
    }
    return s;
  }
  if (s.status === 'error') {
    for (const r of s.replicas) if (r.state === 'returned' && r.validateState !== 'too-late') r.validateState = 'too-late';
    return s;
  }
  // Still open: no quorum. With at least min_quorum successes and no agreement the results are
  // INCONCLUSIVE and the target is raised so the largest agreeing group can still reach the quorum
  // (BOINC raises target_nresults by one for min_quorum 2; this is the general form).
  const returned = returnedInOrder(s);
  if (returned.length >= s.minQuorum) {
    const sizes = new Map<string, number>();
    for (const r of returned) sizes.set(r.resultHash!, (sizes.get(r.resultHash!) ?? 0) + 1);
    const largest = Math.max(...sizes.values());
    s.targetResults = Math.max(s.targetResults, returned.length + (s.minQuorum - largest));
    for (const r of returned) r.validateState = 'inconclusive';
  } else {
    for (const r of returned) r.validateState = 'init';
  }
  const c = counts(s);
  if (c.errors > s.params.maxErrorResults) {
    s.status = 'error';
    s.errorReason = 'too-many-errors';
  } else {
    const need = shortfall(s);
    if (need > 0 && c.total + need > s.params.maxTotalResults) {
      s.status = 'error';
      s.errorReason = 'too-many-total-results';
    }
  }
  if (s.status === 'error') for (const r of returned) r.validateState = 'too-late';
  return s;
}

/** Marks in-progress replicas past their deadline as timed-out (BOINC NO_REPLY, an error), then settles. */
export function expire(state: WorkUnitState, now: number): WorkUnitState {
  checkTime(now, 'now');
  const s = copy(state);
  for (const r of s.replicas) if (r.state === 'in-progress' && now > r.deadline) r.state = 'timed-out';
  return settle(s);
}

/** How many more replicas should be issued now (after timeouts): target minus in-progress and returned. */
export function replicasToIssue(state: WorkUnitState, now: number): number {
  return shortfall(expire(state, now));
}

export interface AssignOptions {
  /**
   * The caller found no eligible provider that has not held this unit: a
   * provider whose replica of it timed out may get it again (see the header).
   */
  reissueTimedOut?: boolean;
}

/** The provider's earlier replica when it may be re-leased to it (the header's reissue rule), else undefined. */
function reissuable(s: WorkUnitState, provider: string, o: AssignOptions): Replica | undefined {
  if (o.reissueTimedOut !== true) return undefined;
  const mine = s.replicas.filter((r) => r.provider === provider);
  return mine.length === 1 && mine[0]!.state === 'timed-out' ? mine[0] : undefined;
}

/** Whether `provider` may receive a replica of this unit (open, needs one, never had one, or the reissue rule). */
export function canAssign(state: WorkUnitState, provider: string, now?: number, o: AssignOptions = {}): boolean {
  const s = now === undefined ? state : expire(state, now);
  if (s.status !== 'open' || shortfall(s) === 0) return false;
  return !s.replicas.some((r) => r.provider === provider) || reissuable(s, provider, o) !== undefined;
}

/** Issues a new replica to `provider` with a lease of params.leaseMs. Returns the new state and replica. */
export function assign(state: WorkUnitState, provider: string, now: number, o: AssignOptions = {}): { state: WorkUnitState; replica: Replica } {
  checkName(provider, 'provider');
  const s = expire(state, now);
  if (s.status !== 'open') raise('WU_CLOSED', 'the unit is no longer open', { unit: s.id, status: s.status });
  const again = reissuable(s, provider, o);
  if (again === undefined && s.replicas.some((r) => r.provider === provider)) raise('WU_PROVIDER_ALREADY_ASSIGNED', 'this provider already had a replica of this unit', { unit: s.id, provider });
  if (shortfall(s) === 0) raise('WU_NO_REPLICA_NEEDED', 'the unit needs no more replicas now', { unit: s.id });
  if (again !== undefined) {
    // the header's reissue rule: the same replica, leased again
    again.timeouts = (again.timeouts ?? 0) + 1;
    again.state = 'in-progress';
    again.issuedAt = now;
    again.deadline = now + s.params.leaseMs;
    again.validateState = 'init';
    delete again.late;
    return { state: settle(s), replica: { ...again } };
  }
  const replica: Replica = {
    id: `${s.id}_${s.replicas.length}`,
    provider,
    issuedAt: now,
    deadline: now + s.params.leaseMs,
    state: 'in-progress',
    validateState: 'init',
  };
  s.replicas.push(replica);
  return { state: settle(s), replica: { ...replica } };
}

/** Extends the lease of an in-progress replica to now + leaseMs (never shortens it). */
export function heartbeat(state: WorkUnitState, replicaId: string, now: number): WorkUnitState {
  checkTime(now, 'now');
  const s = copy(state);
  const r = findReplica(s, replicaId);
  if (r.state !== 'in-progress') raise('WU_REPLICA_NOT_IN_PROGRESS', 'only an in-progress replica can heartbeat', { replica: replicaId, state: r.state });
  if (now > r.deadline) raise('WU_LEASE_EXPIRED', 'the lease has expired', { replica: replicaId, deadline: r.deadline, now });
  r.deadline = Math.max(r.deadline, now + s.params.leaseMs);
  return settle(s);
}

/** Records a returned result (accepting late ones, see the header) and settles. */
export function submit(state: WorkUnitState, replicaId: string, resultHash: string, now: number): WorkUnitState {
  checkTime(now, 'now');
  if (typeof resultHash !== 'string' || resultHash.length === 0 || resultHash.length > MAX_HASH) {
    raise('WU_INVALID_ARGUMENT', `result hash must be a non-empty string of at most ${MAX_HASH} characters`);
  }
  const s = copy(state);
  const r = findReplica(s, replicaId);
  if (r.state !== 'in-progress' && r.state !== 'timed-out') {
    raise('WU_REPLICA_NOT_IN_PROGRESS', 'this replica cannot take a result', { replica: replicaId, state: r.state });
  }
  r.late = r.state === 'timed-out' || now > r.deadline;
  r.state = 'returned';
  r.resultHash = resultHash;
  r.returnedAt = now;
  r.seq = s.nextSeq++;
  r.validateState = 'init';
  return settle(s);
}

/** Records a client error (BOINC outcome CLIENT_ERROR) for an in-progress replica and settles. */
export function failReplica(state: WorkUnitState, replicaId: string, reason: string): WorkUnitState {
  const s = copy(state);
  const r = findReplica(s, replicaId);
  if (r.state !== 'in-progress') raise('WU_REPLICA_NOT_IN_PROGRESS', 'only an in-progress replica can fail', { replica: replicaId, state: r.state });
  r.state = 'error';
  r.errorReason = String(reason).slice(0, MAX_ID);
  return settle(s);
}

export { failReplica as fail };

/**
 * The council banned `provider` (issue 20): its replicas of this open unit
 * that are not yet judged — in progress, timed out, or returned without a
 * quorum — are thrown away (state error, `discarded`), so the transitioner
 * issues others in their place; a discarded replica counts as neither an
 * error nor an issued result (the unit is not to blame). Replicas already
 * judged, and units no longer open, are left as they are: a ban does not
 * rewrite verdicts (a dispute decision does). Settles.
 */
export function discardProvider(state: WorkUnitState, provider: string, reason: string): WorkUnitState {
  if (state.status !== 'open') return state;
  const s = copy(state);
  for (const r of s.replicas) {
    if (r.provider !== provider || r.state === 'error') continue;
    r.state = 'error';
    r.discarded = true;
    r.errorReason = String(reason).slice(0, MAX_ID);
  }
  return settle(s);
}

/**
 * Raises min_quorum / target_nresults (adaptive replication escalating an
 * unreplicated unit); never lowers them. Settles.
 */
export function raiseReplication(state: WorkUnitState, minQuorum: number, targetResults: number): WorkUnitState {
  const s = copy(state);
  const q = Math.max(s.minQuorum, minQuorum);
  const t = Math.max(s.targetResults, targetResults, q);
  if (!Number.isSafeInteger(q) || !Number.isSafeInteger(t)) raise('WU_INVALID_PARAMS', 'replication must be integers');
  if (t > s.params.maxTotalResults) raise('WU_INVALID_PARAMS', 'targetResults may not exceed maxTotalResults');
  if (s.status !== 'open') return s;
  s.minQuorum = q;
  s.targetResults = t;
  return settle(s);
}

/**
 * Cancels an open unit (its owner no longer needs it: a DiLoCo round closed
 * without it). Like BOINC's cancelled workunit (error_mask WU_ERROR_CANCELLED):
 * status error, reason cancelled; a result arriving later is TOO_LATE.
 * A unit already valid or errored is returned unchanged.
 */
export function cancel(state: WorkUnitState): WorkUnitState {
  if (state.status !== 'open') return state;
  const s = copy(state);
  s.status = 'error';
  s.errorReason = 'cancelled';
  return settle(s);
}

/** Runs the validator pass and reports the outcome (see the header for the rules). */
export function validate(state: WorkUnitState): { state: WorkUnitState; outcome: ValidationOutcome } {
  const s = settle(copy(state));
  const ids = (v: ValidateState): string[] => s.replicas.filter((r) => r.state === 'returned' && r.validateState === v).map((r) => r.id);
  const outcome: ValidationOutcome = {
    status: s.status,
    valid: ids('valid'),
    invalid: ids('invalid'),
    inconclusive: ids('inconclusive'),
    needed: shortfall(s),
  };
  if (s.canonicalHash !== undefined) outcome.canonicalHash = s.canonicalHash;
  if (s.canonicalReplicaId !== undefined) outcome.canonicalReplicaId = s.canonicalReplicaId;
  if (s.errorReason !== undefined) outcome.errorReason = s.errorReason;
  return { state: s, outcome };
}
