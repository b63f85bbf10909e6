/**
 * What each council action names and carries (issue 20): the rule for a
 * proposal's `subject` and `params`, checked the same way by the tracker
 * before it opens a proposal and by the auditor when it reads one back, so a
 * decision whose parameters are out of their schema can neither be opened
 * nor pass `swarm audit`.
 *
 *   action          subject                 params
 *   release         model name (a-z0-9.-)   { checkpoint: sha256 hex, run?: run id }
 *   ban             provider key id         { reason: text }
 *   unban           provider key id         { reason?: text }
 *   dispute         run id                  { units: unit id[] (1..64), reason: text,
 *                                             findings?: [{ unit, accepted, recomputed }] }
 *                   (findings: the tracker's re-execution of each unit, added when it opens
 *                   the proposal, so members approve the evidence itself)
 *   credit-adjust   provider key id         { change: grant|revoke, amount: 1.., reason: text }
 *   run-parameters  run id                  { replication?: 1..8 } (at least one)
 *   member-add      member key id           {}
 *   member-remove   member key id           {}
 *   threshold       "council"               { threshold: 1..64 }
 *   cla             CLA version (id)        { sha256: hex of the text }
 *
 * What depends on state (a known checkpoint, a registered identity, a
 * member to remove, a threshold no larger than the council) is the caller's
 * check; this file checks form only. Errors: COUNCIL_BAD_PROPOSAL with
 * details.path (validate.ts).
 */
import type { JsonValue } from '../core/canonical-json.ts';
import { CREDIT_CHANGES, ENTRY_LIMITS } from './entry.ts';
import type { CouncilAction, CreditChange } from './entry.ts';
import { Validator, element, member } from './validate.ts';
import type { Path } from './validate.ts';

const V: Validator = new Validator('COUNCIL_BAD_PROPOSAL');

/** A released model's name: what `/v1/models` lists and clients send as `model`. */
export const RELEASE_NAME_RE = /^[a-z0-9][a-z0-9.-]{0,63}$/;
const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._:/-]*$/;
const TEXT_RE = /^[^\u0000-\u001f\u007f]*$/;
/** Largest replication a decision may set: a DiLoCo run spec's own bound (tracker/runs/diloco-spec.ts). */
export const MAX_DECIDED_REPLICATION = 8;
/** Units one dispute may name. */
export const MAX_DISPUTED_UNITS = 64;

export interface ReleaseParams { checkpoint: string; run?: string }
export interface BanParams { reason: string }
export interface UnbanParams { reason?: string }
/** A disputed unit: the canonical hash its quorum accepted, and the tracker's re-execution's. */
export interface DisputeFinding { unit: string; accepted: string; recomputed: string }
export interface DisputeParams { units: string[]; reason: string; findings?: DisputeFinding[] }
export interface CreditAdjustParams { change: CreditChange; amount: number; reason: string }
export interface RunParameters { replication?: number }
export interface ThresholdParams { threshold: number }
export interface ClaParams { sha256: string }

/** An action's parameters, as parseCouncilAction returns them. */
export interface CouncilActionParams {
  release: ReleaseParams;
  ban: BanParams;
  unban: UnbanParams;
  dispute: DisputeParams;
  'credit-adjust': CreditAdjustParams;
  'run-parameters': RunParameters;
  'member-add': Record<string, never>;
  'member-remove': Record<string, never>;
  threshold: ThresholdParams;
  cla: ClaParams;
}

export type ParsedCouncilAction = { [A in CouncilAction]: { action: A; subject: string; params: CouncilActionParams[A] } }[CouncilAction];

const reason = (value: unknown, path: Path): string => V.string(value, path, ENTRY_LIMITS.reasonLength, TEXT_RE);
const runId = (value: unknown, path: Path): string => V.string(value, path, ENTRY_LIMITS.idLength, ID_RE);

type Rule<A extends CouncilAction> = (subject: unknown, params: Record<string, unknown>, path: Path) => { subject: string; params: CouncilActionParams[A] };

const RULES: { [A in CouncilAction]: Rule<A> } = {
  release: (subject, p, path) => {
    const o = V.object(p, path, ['checkpoint'], ['run']);
    const params: ReleaseParams = { checkpoint: V.hex64(o.checkpoint, member(path, 'checkpoint')) };
    if (o.run !== undefined) params.run = runId(o.run, member(path, 'run'));
    return { subject: V.string(subject, '$.subject', 64, RELEASE_NAME_RE), params };
  },
  ban: (subject, p, path) => {
    const o = V.object(p, path, ['reason']);
    return { subject: V.hex64(subject, '$.subject'), params: { reason: reason(o.reason, member(path, 'reason')) } };
  },
  unban: (subject, p, path) => {
    const o = V.object(p, path, [], ['reason']);
    return { subject: V.hex64(subject, '$.subject'), params: o.reason === undefined ? {} : { reason: reason(o.reason, member(path, 'reason')) } };
  },
  dispute: (subject, p, path) => {
    const o = V.object(p, path, ['units', 'reason'], ['findings']);
    const uPath = member(path, 'units');
    const units = V.array(o.units, uPath, MAX_DISPUTED_UNITS).map((u, i) => runId(u, element(uPath, i)));
    if (units.length === 0) V.fail(uPath, 'name at least one unit');
    if (new Set(units).size !== units.length) V.fail(uPath, 'duplicate unit');
    const params: DisputeParams = { units, reason: reason(o.reason, member(path, 'reason')) };
    if (o.findings !== undefined) {
      const fPath = member(path, 'findings');
      params.findings = V.array(o.findings, fPath, MAX_DISPUTED_UNITS).map((f, i) => {
        const at = element(fPath, i);
        const fo = V.object(f, at, ['unit', 'accepted', 'recomputed']);
        const unit = runId(fo.unit, member(at, 'unit'));
        if (unit !== units[i]) V.fail(member(at, 'unit'), 'findings follow the units, one each, in order');
        return { unit, accepted: V.hex64(fo.accepted, member(at, 'accepted')), recomputed: V.hex64(fo.recomputed, member(at, 'recomputed')) };
      });
      if (params.findings.length !== units.length) V.fail(fPath, 'one finding per unit');
    }
    return { subject: runId(subject, '$.subject'), params };
  },
  'credit-adjust': (subject, p, path) => {
    const o = V.object(p, path, ['change', 'amount', 'reason']);
    return {
      subject: V.hex64(subject, '$.subject'),
      params: {
        change: V.literal(o.change, member(path, 'change'), CREDIT_CHANGES),
        amount: V.uint(o.amount, member(path, 'amount'), 1),
        reason: reason(o.reason, member(path, 'reason')),
      },
    };
  },
  'run-parameters': (subject, p, path) => {
    const o = V.object(p, path, [], ['replication']);
    if (o.replication === undefined) V.fail(path, 'name at least one parameter (replication)');
    const params: RunParameters = {};
    if (o.replication !== undefined) {
      params.replication = V.uint(o.replication, member(path, 'replication'), 1);
      if (params.replication > MAX_DECIDED_REPLICATION) V.fail(member(path, 'replication'), `at most ${MAX_DECIDED_REPLICATION}`);
    }
    return { subject: runId(subject, '$.subject'), params };
  },
  'member-add': (subject, p, path) => {
    V.object(p, path, []);
    return { subject: V.hex64(subject, '$.subject'), params: {} };
  },
  'member-remove': (subject, p, path) => {
    V.object(p, path, []);
    return { subject: V.hex64(subject, '$.subject'), params: {} };
  },
  threshold: (subject, p, path) => {
    const o = V.object(p, path, ['threshold']);
    if (subject !== 'council') V.fail('$.subject', 'a threshold decision names "council"');
    const threshold = V.uint(o.threshold, member(path, 'threshold'), 1);
    if (threshold > ENTRY_LIMITS.members) V.fail(member(path, 'threshold'), `at most ${ENTRY_LIMITS.members}`);
    return { subject: 'council', params: { threshold } };
  },
  cla: (subject, p, path) => {
    const o = V.object(p, path, ['sha256']);
    return { subject: runId(subject, '$.subject'), params: { sha256: V.hex64(o.sha256, member(path, 'sha256')) } };
  },
};

/**
 * Checks a proposal's action, subject and params (params absent reads as
 * {}); returns them normalised. COUNCIL_BAD_PROPOSAL with details.path.
 */
export function parseCouncilAction(action: CouncilAction, subject: unknown, params: { [key: string]: JsonValue } | undefined): ParsedCouncilAction {
  const rule = RULES[action] as Rule<CouncilAction> | undefined;
  if (rule === undefined) V.fail('$.action', `unknown action (expected one of ${Object.keys(RULES).join(', ')})`);
  const parsed = rule(subject, params ?? {}, '$.params');
  return { action, ...parsed } as ParsedCouncilAction;
}
