/**
 * Credit, recent average credit and reputation (DESIGN.md, "Verification,
 * in layers", layer 5; issue 5).
 *
 * Credit: only validated work counts (Anderson 2004, §3: credit is granted
 * to a result when it is validated). A unit's credit is its FLOP count
 * (BOINC's cobblestone is a fixed multiple of FLOPs; we keep raw FLOPs), and
 * every VALID replica of the unit earns it, as every valid BOINC result earns
 * the granted credit. INVALID, INCONCLUSIVE, TOO_LATE and error replicas earn
 * nothing.
 *
 * Recent average credit (RAC): BOINC's update_average() (lib/util.cpp) with
 * CREDIT_HALF_LIFE = 7 days, in credit per day:
 *     w   = exp(-Δt · ln 2 / H)               (Δt = now − last update)
 *     avg = avg · w + (1 − w) · work / Δt_days          when 1 − w > 1e-6
 *     avg = avg · w + ln 2 · work · day / H             otherwise (the Δt → 0 limit)
 * Reading the RAC later decays it without new work: avg · exp(-Δt · ln 2 / H)
 * (BOINC decay_average). Difference from BOINC: its first update divides by
 * the time since the work started; we start every account at avg 0 and use
 * the formula above, so the first grant is the Δt → 0 limit. Time is injected
 * (ms since the epoch, from a Clock), never read here.
 *
 * Reputation: the posterior mean of a Beta(α, β) prior updated by the
 * verdicts, with a rejected result weighing `invalidWeight` observations:
 *     reputation = (valid + α) / (valid + α + invalidWeight · invalid + β)
 * Default α = β = 1 (uniform prior: a new identity starts at 0.5) and
 * invalidWeight = 1 (plain Beta posterior). It falls strictly on every
 * rejected result and rises on every accepted one.
 */
import { SwarmError } from '../../core/errors.ts';
import type { WorkUnitState } from './work-unit.ts';

export const DAY_MS = 86_400_000;
/** BOINC CREDIT_HALF_LIFE: one week. */
export const CREDIT_HALF_LIFE_MS = 7 * DAY_MS;

export interface Account {
  provider: string;
  team?: string;
  /** total credit granted, in FLOPs */
  totalCredit: number;
  /** recent average credit, FLOPs per day, as of racTime */
  rac: number;
  /** ms since the epoch of the last RAC update; null before the first one */
  racTime: number | null;
  valid: number;
  invalid: number;
}

export interface ReputationPrior {
  alpha: number;
  beta: number;
  invalidWeight: number;
}

export const DEFAULT_REPUTATION_PRIOR: Readonly<ReputationPrior> = Object.freeze({ alpha: 1, beta: 1, invalidWeight: 1 });

export interface CreditAward {
  replicaId: string;
  provider: string;
  verdict: 'valid' | 'invalid';
  /** FLOPs granted: the unit's FLOPs when valid, 0 when invalid */
  credit: number;
}

function checkTime(ms: number): void {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new SwarmError('CREDIT_INVALID_TIME', 'time must be a non-negative safe integer (ms)', { value: String(ms) });
}

function checkAmount(x: number, what: string): void {
  if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) throw new SwarmError('CREDIT_INVALID_AMOUNT', `${what} must be a finite number >= 0`, { value: String(x) });
}

export function newAccount(provider: string, team?: string): Account {
  const a: Account = { provider, totalCredit: 0, rac: 0, racTime: null, valid: 0, invalid: 0 };
  if (team !== undefined) a.team = team;
  return a;
}

/**
 * Verdicts of a unit's returned replicas that carry one (valid or invalid),
 * with their credit. Storage records each replica id once; calling again
 * after late results returns the earlier ones too (idempotent per replica).
 */
export function creditAwards(state: WorkUnitState, unitFlops: number): CreditAward[] {
  checkAmount(unitFlops, 'unit FLOPs');
  if (state.status !== 'valid') return [];
  const out: CreditAward[] = [];
  for (const r of state.replicas) {
    if (r.state !== 'returned') continue;
    if (r.validateState === 'valid' && r.resultHash === state.canonicalHash) {
      out.push({ replicaId: r.id, provider: r.provider, verdict: 'valid', credit: unitFlops });
    } else if (r.validateState === 'invalid') {
      out.push({ replicaId: r.id, provider: r.provider, verdict: 'invalid', credit: 0 });
    }
  }
  return out;
}

/** RAC as of `now` without new work (BOINC decay_average). */
export function racAt(account: Account, now: number, halfLifeMs = CREDIT_HALF_LIFE_MS): number {
  checkTime(now);
  if (account.racTime === null) return 0;
  const dt = Math.max(0, now - account.racTime);
  return account.rac * Math.exp((-dt * Math.LN2) / halfLifeMs);
}

/** BOINC update_average with `work` credit at `now` (see the header). */
export function updateRac(rac: number, racTime: number | null, work: number, now: number, halfLifeMs = CREDIT_HALF_LIFE_MS): { rac: number; racTime: number } {
  checkTime(now);
  checkAmount(work, 'work');
  const dt = racTime === null ? 0 : Math.max(0, now - racTime);
  const w = Math.exp((-dt * Math.LN2) / halfLifeMs);
  let avg = rac * w;
  if (1 - w > 1e-6) avg += ((1 - w) * work) / (dt / DAY_MS);
  else avg += (Math.LN2 * work * DAY_MS) / halfLifeMs;
  return { rac: avg, racTime: racTime === null ? now : Math.max(racTime, now) };
}

/** Applies one award to its account at `now`: credit and RAC for valid, a strike for invalid. */
export function applyAward(account: Account, award: CreditAward, now: number, halfLifeMs = CREDIT_HALF_LIFE_MS): Account {
  if (award.provider !== account.provider) throw new SwarmError('CREDIT_WRONG_ACCOUNT', 'award belongs to another provider');
  checkAmount(award.credit, 'credit');
  if (award.verdict === 'invalid') {
    if (award.credit !== 0) throw new SwarmError('CREDIT_INVALID_AMOUNT', 'an invalid result earns no credit');
    return { ...account, invalid: account.invalid + 1 };
  }
  const r = updateRac(account.rac, account.racTime, award.credit, now, halfLifeMs);
  return { ...account, totalCredit: account.totalCredit + award.credit, rac: r.rac, racTime: r.racTime, valid: account.valid + 1 };
}

/** Beta posterior mean (see the header). */
export function reputation(account: Pick<Account, 'valid' | 'invalid'>, prior: ReputationPrior = DEFAULT_REPUTATION_PRIOR): number {
  if (!(prior.alpha > 0 && prior.beta > 0 && prior.invalidWeight > 0)) throw new SwarmError('CREDIT_INVALID_PRIOR', 'alpha, beta and invalidWeight must be > 0');
  return (account.valid + prior.alpha) / (account.valid + prior.alpha + prior.invalidWeight * account.invalid + prior.beta);
}

export interface TeamTotal {
  team: string;
  members: number;
  totalCredit: number;
  /** sum of members' RAC decayed to `now` */
  rac: number;
}

/** Team aggregates (accounts without a team are skipped), sorted by total credit, then team name. */
export function teamTotals(accounts: readonly Account[], now: number, halfLifeMs = CREDIT_HALF_LIFE_MS): TeamTotal[] {
  const by = new Map<string, TeamTotal>();
  for (const a of accounts) {
    if (a.team === undefined) continue;
    const t = by.get(a.team) ?? { team: a.team, members: 0, totalCredit: 0, rac: 0 };
    t.members++;
    t.totalCredit += a.totalCredit;
    t.rac += racAt(a, now, halfLifeMs);
    by.set(a.team, t);
  }
  return [...by.values()].sort((x, y) => y.totalCredit - x.totalCredit || (x.team < y.team ? -1 : x.team > y.team ? 1 : 0));
}
