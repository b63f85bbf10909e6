/**
 * The council's history read back from the log (issue 20): who is a member
 * at each point, which proposals are open, which votes count, and which
 * decisions were enacted with what effect. Pure; the auditor (audit.ts)
 * feeds it the council entries in log order and reports the first one it
 * refuses, and the same rules are what the tracker applies when it writes
 * them (src/tracker/council.ts).
 *
 * The rules (DESIGN.md "Governance"; the tests in test/ledger/council-audit.test.ts):
 *  - council-formed: once, before any other council entry.
 *  - council-proposal: by a current member; its threshold is the council's
 *    threshold when it is opened (a later threshold decision applies only to
 *    proposals opened after it); parameters valid for its action
 *    (council-actions.ts); a decision id is used once.
 *  - council-vote: signed by the member itself (checked by the caller, as a
 *    registration is), a current member, on an open proposal, no later than
 *    its expiry, once per member and proposal; an approval's council.ts
 *    signature must verify over the proposal.
 *  - council-decision: enacts an open proposal, no later than its expiry,
 *    restating it exactly; every approval it lists is the approval of a vote
 *    logged before it by a member who is STILL a member (a removed member's
 *    vote stops counting), and there are at least the proposal's threshold.
 *    Its effect must make sense in the state it meets (add a non-member,
 *    remove a member without leaving fewer members than the threshold, ban
 *    an unbanned identity, release under an unused name...).
 *  - credit-adjusted: backed by an enacted credit-adjust decision for that
 *    provider, change and amount, used once; or by an enacted dispute whose
 *    findings (the tracker's re-execution, in the proposal members signed)
 *    show the accepted hash of that unit wrong: then it revokes exactly
 *    what a provider was credited for the wrong hash, or grants a provider
 *    that submitted the recomputed hash what the unit's credit was, once
 *    per provider and unit (whatever number of disputes name the unit).
 */
import type { KeyObject } from 'node:crypto';
import { canonicalBytes } from '../core/canonical-json.ts';
import { isSwarmError } from '../core/errors.ts';
import { checkCouncilApprovals, councilDecisionBytes } from './council.ts';
import { parseCouncilAction } from './council-actions.ts';
import type { DisputeFinding, ParsedCouncilAction } from './council-actions.ts';
import { ENTRY_LIMITS } from './entry.ts';
import type { CouncilProposal, CouncilProposalBody, CouncilVote, KeyId, LedgerEntry } from './entry.ts';
import { base64Decode, bytesEqual } from '../core/encoding.ts';
import { verifyBytes } from './keys.ts';

/** Why a council entry fails the audit. */
export const COUNCIL_AUDIT_REASONS = [
  'council-not-formed',
  'council-formed-twice',
  'not-a-member',
  'wrong-threshold',
  'bad-council-params',
  'duplicate-proposal',
  'unknown-proposal',
  'proposal-closed',
  'after-expiry',
  'duplicate-vote',
  'bad-approval',
  'decision-mismatch',
  'decision-without-quorum',
  'effect-not-applicable',
  'adjustment-without-decision',
] as const;
export type CouncilAuditReason = (typeof COUNCIL_AUDIT_REASONS)[number];

export type CouncilCheck = { reason: CouncilAuditReason; message: string } | undefined;

interface ProposalState {
  proposal: CouncilProposal;
  body: CouncilProposalBody;
  action: ParsedCouncilAction;
  votes: Map<KeyId, CouncilVote>;
  /** member -> its approval signature (base64) */
  approvals: Map<KeyId, string>;
  enacted: boolean;
}

/** The part of a proposal body its members sign (council.ts): without the proposer. */
export function proposalOfBody(body: CouncilProposalBody): CouncilProposal {
  const { proposer: _proposer, ...proposal } = body;
  return proposal;
}

/** What the auditor knows of credit so far, for dispute corrections (audit.ts keeps it). */
export interface CreditView {
  /** the provider's credit on a unit and the result it was for */
  credited(run: string, unit: string, provider: KeyId): { result: string; amount: number } | undefined;
  /** whether the provider submitted `result` for the unit */
  submitted(run: string, unit: string, provider: KeyId, result: string): boolean;
  /** what a valid replica of the unit was credited (every valid replica gets the same) */
  unitCredit(run: string, unit: string): number | undefined;
}

export class CouncilBook {
  formed = false;
  readonly members = new Set<KeyId>();
  threshold = 0;
  /** members' public keys, learned from their self-signed votes */
  readonly keys = new Map<KeyId, KeyObject>();
  readonly proposals = new Map<string, ProposalState>();
  /** banned key id -> the decision that banned it */
  readonly banned = new Map<KeyId, string>();
  /** release name -> checkpoint and decision */
  readonly releases = new Map<string, { checkpoint: string; decision: string }>();
  /** enacted `cla` decisions: decision id -> the CLA version it makes current and its text's hash (cla-book.ts checks cla-published entries against it) */
  readonly claDecisions = new Map<string, { version: string; sha256: string }>();
  /** enacted credit-adjust decisions not yet carried out by a credit-adjusted entry */
  private readonly adjustments = new Map<string, { provider: KeyId; change: string; amount: number }>();
  /** enacted disputes: run, and the units whose accepted hash the re-execution contradicted */
  private readonly disputes = new Map<string, { run: string; wrong: Map<string, DisputeFinding> }>();
  /** dispute corrections made: run, unit, provider */
  private readonly corrected = new Set<string>();

  form(e: LedgerEntry<'council-formed'>): CouncilCheck {
    if (this.formed) return { reason: 'council-formed-twice', message: 'the council was formed before; membership changes only by decision' };
    if (this.proposals.size > 0) return { reason: 'council-formed-twice', message: 'council entries came before the council was formed' };
    this.formed = true;
    for (const m of e.body.members) this.members.add(m);
    this.threshold = e.body.threshold;
    return undefined;
  }

  propose(e: LedgerEntry<'council-proposal'>): CouncilCheck {
    const b = e.body;
    if (!this.formed) return { reason: 'council-not-formed', message: 'a proposal before the council was formed' };
    if (!this.members.has(b.proposer)) return { reason: 'not-a-member', message: `proposer ${b.proposer} is not a member of the council` };
    if (b.threshold !== this.threshold) return { reason: 'wrong-threshold', message: `proposal ${b.decision} needs ${b.threshold} approvals; the council's threshold is ${this.threshold}` };
    if (this.proposals.has(b.decision)) return { reason: 'duplicate-proposal', message: `decision id ${b.decision} was used before` };
    if (b.expires <= e.time) return { reason: 'after-expiry', message: `proposal ${b.decision} expires before it opens` };
    let action: ParsedCouncilAction;
    try {
      action = parseCouncilAction(b.action, b.subject, b.params);
    } catch (err) {
      if (!isSwarmError(err)) throw err;
      return { reason: 'bad-council-params', message: `proposal ${b.decision}: ${err.message}` };
    }
    if (action.action === 'dispute' && action.params.findings === undefined) {
      return { reason: 'bad-council-params', message: `dispute ${b.decision} carries no findings (the tracker's re-execution of its units)` };
    }
    this.proposals.set(b.decision, { proposal: proposalOfBody(b), body: b, action, votes: new Map(), approvals: new Map(), enacted: false });
    return undefined;
  }

  /** A member's vote; its self-signature (actor = key in the body) is the caller's check. */
  vote(e: LedgerEntry<'council-vote'>, memberKey: KeyObject): CouncilCheck {
    const b = e.body;
    if (!this.formed) return { reason: 'council-not-formed', message: 'a vote before the council was formed' };
    if (!this.members.has(e.actor)) return { reason: 'not-a-member', message: `${e.actor} votes but is not a member of the council` };
    const p = this.proposals.get(b.decision);
    if (p === undefined) return { reason: 'unknown-proposal', message: `a vote on ${b.decision}, which no earlier proposal opened` };
    if (p.enacted) return { reason: 'proposal-closed', message: `a vote on ${b.decision}, which was enacted before` };
    if (e.time > p.body.expires) return { reason: 'after-expiry', message: `a vote on ${b.decision} after it expired` };
    if (p.votes.has(e.actor)) return { reason: 'duplicate-vote', message: `${e.actor} voted on ${b.decision} before` };
    if (b.vote === 'approve' && !verifyBytes(councilDecisionBytes(p.proposal), base64Decode(b.approval!), memberKey)) {
      return { reason: 'bad-approval', message: `${e.actor}'s approval does not sign proposal ${b.decision}` };
    }
    this.keys.set(e.actor, memberKey);
    p.votes.set(e.actor, b.vote);
    if (b.vote === 'approve') p.approvals.set(e.actor, b.approval!);
    return undefined;
  }

  enact(e: LedgerEntry<'council-decision'>): CouncilCheck {
    const b = e.body;
    if (!this.formed) return { reason: 'council-not-formed', message: 'a decision before the council was formed' };
    const p = this.proposals.get(b.decision);
    if (p === undefined) return { reason: 'unknown-proposal', message: `decision ${b.decision} enacts no earlier proposal` };
    if (p.enacted) return { reason: 'proposal-closed', message: `decision ${b.decision} was enacted before` };
    const { approvals, ...restated } = b;
    if (!bytesEqual(canonicalBytes(restated), canonicalBytes(p.proposal))) {
      return { reason: 'decision-mismatch', message: `decision ${b.decision} does not restate its proposal exactly` };
    }
    if (e.time > p.body.expires) return { reason: 'after-expiry', message: `decision ${b.decision} enacted after its proposal expired` };
    // Current members' keys: a removed member's approval no longer counts.
    const current = new Map<KeyId, KeyObject>();
    for (const m of this.members) {
      const k = this.keys.get(m);
      if (k !== undefined) current.set(m, k);
    }
    for (const a of approvals) {
      if (p.approvals.get(a.key) !== a.sig) return { reason: 'bad-approval', message: `decision ${b.decision} lists an approval by ${a.key} that no earlier vote of it carried` };
    }
    const report = checkCouncilApprovals(b, current);
    if (report.rejected.length > 0) {
      return { reason: 'bad-approval', message: `decision ${b.decision}: approval by ${report.rejected[0]!.key} does not count (${report.rejected[0]!.reason})` };
    }
    if (report.approvers.length < p.body.threshold) {
      return { reason: 'decision-without-quorum', message: `decision ${b.decision} has ${report.approvers.length} approvals by current members, ${p.body.threshold} needed` };
    }
    const problem = this.applicable(p.action);
    if (problem !== undefined) return { reason: 'effect-not-applicable', message: `decision ${b.decision}: ${problem}` };
    this.apply(b.decision, p.action);
    p.enacted = true;
    return undefined;
  }

  adjustCredit(e: LedgerEntry<'credit-adjusted'>, credits: CreditView): CouncilCheck {
    const b = e.body;
    const dispute = this.disputes.get(b.decision);
    if (dispute !== undefined) return this.correct(b, dispute, credits);
    const a = this.adjustments.get(b.decision);
    if (a === undefined || a.provider !== b.provider || a.change !== b.change || a.amount !== b.amount) {
      return { reason: 'adjustment-without-decision', message: `credit ${b.change} of ${b.amount} for ${b.provider}: no enacted decision ${b.decision} made exactly this change (or it was carried out before)` };
    }
    this.adjustments.delete(b.decision);
    return undefined;
  }

  /** A credit-adjusted entry naming an enacted dispute (see the header). */
  private correct(b: LedgerEntry<'credit-adjusted'>['body'], d: { run: string; wrong: Map<string, DisputeFinding> }, credits: CreditView): CouncilCheck {
    const bad = (why: string): CouncilCheck => ({ reason: 'adjustment-without-decision', message: `credit ${b.change} of ${b.amount} for ${b.provider} under dispute ${b.decision}: ${why}` });
    if (b.run !== d.run || b.unit === undefined) return bad(`it must name a unit of run ${d.run}`);
    const f = d.wrong.get(b.unit);
    if (f === undefined) return bad(`the dispute found no wrong verdict on ${b.unit}`);
    // once per unit and provider, across disputes: a second dispute of the same unit corrects nothing again
    const once = `${d.run}\n${b.unit}\n${b.provider}`;
    if (this.corrected.has(once)) return bad('this provider\'s credit on this unit was corrected before');
    const had = credits.credited(d.run, b.unit, b.provider);
    if (b.change === 'revoke') {
      if (had === undefined || had.result !== f.accepted || had.amount !== b.amount) return bad(`it was not credited ${b.amount} for the wrong hash ${f.accepted}`);
    } else {
      if (had !== undefined || !credits.submitted(d.run, b.unit, b.provider, f.recomputed)) return bad(`it did not submit the recomputed hash ${f.recomputed} uncredited`);
      if (credits.unitCredit(d.run, b.unit) !== b.amount) return bad('the amount is not the unit\'s credit');
    }
    this.corrected.add(once);
    return undefined;
  }

  /** Why an enacted action cannot apply to the current state, or undefined (effectProblem). */
  applicable(a: ParsedCouncilAction): string | undefined {
    return effectProblem(a, {
      members: this.members,
      threshold: this.threshold,
      subjectBanned: this.banned.has(a.subject),
      nameReleased: this.releases.has(a.subject),
    });
  }

  private apply(decision: string, a: ParsedCouncilAction): void {
    switch (a.action) {
      case 'member-add':
        this.members.add(a.subject);
        return;
      case 'member-remove':
        this.members.delete(a.subject);
        return;
      case 'threshold':
        this.threshold = a.params.threshold;
        return;
      case 'ban':
        this.banned.set(a.subject, decision);
        return;
      case 'unban':
        this.banned.delete(a.subject);
        return;
      case 'release':
        this.releases.set(a.subject, { checkpoint: a.params.checkpoint, decision });
        return;
      case 'cla':
        this.claDecisions.set(decision, { version: a.subject, sha256: a.params.sha256 });
        return;
      case 'credit-adjust':
        this.adjustments.set(decision, { provider: a.subject, change: a.params.change, amount: a.params.amount });
        return;
      case 'dispute':
        this.disputes.set(decision, { run: a.subject, wrong: new Map((a.params.findings ?? []).filter((f) => f.accepted !== f.recomputed).map((f) => [f.unit, f])) });
        return;
      default:
        return; // run-parameters: its effect is outside the log's council state
    }
  }
}

/** What an action's effect depends on: the council, and whether its subject is banned / its name released. */
export interface EffectState {
  members: ReadonlySet<KeyId>;
  threshold: number;
  subjectBanned: boolean;
  nameReleased: boolean;
}

/**
 * Why `a` cannot take effect in state `s` (the tracker asks before it opens
 * a proposal and again before it enacts one; the auditor when it reads the
 * decision), or undefined.
 */
export function effectProblem(a: ParsedCouncilAction, s: EffectState): string | undefined {
  switch (a.action) {
    case 'member-add':
      if (s.members.has(a.subject)) return `${a.subject} is a member already`;
      return s.members.size >= ENTRY_LIMITS.members ? `the council has ${ENTRY_LIMITS.members} members` : undefined;
    case 'member-remove':
      if (!s.members.has(a.subject)) return `${a.subject} is not a member`;
      return s.members.size - 1 < s.threshold ? `removing ${a.subject} would leave fewer members than the threshold ${s.threshold}` : undefined;
    case 'threshold':
      return a.params.threshold > s.members.size ? `threshold ${a.params.threshold} is more than the ${s.members.size} members` : undefined;
    case 'ban':
      return s.subjectBanned ? `${a.subject} is banned already` : undefined;
    case 'unban':
      return s.subjectBanned ? undefined : `${a.subject} is not banned`;
    case 'release':
      return s.nameReleased ? `the name ${a.subject} is released already` : undefined;
    default:
      return undefined;
  }
}
