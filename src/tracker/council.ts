/**
 * The council daemon (issue 20; DESIGN.md "Governance"): the genesis
 * council, proposals, members' votes, and the enactment of a decision with
 * its effect, each in one transaction with the ledger entries that record
 * it, so the tables below and the log never disagree.
 *
 * The rules are the auditor's (ledger/council-book.ts), applied as the
 * entries are written:
 *  - the genesis council is given at start (`swarm tracker --council KEY
 *    ... --council-threshold M`) and logged once (council-formed); starting
 *    again with another genesis is refused (COUNCIL_GENESIS_MISMATCH):
 *    membership and threshold change only by decision;
 *  - a member opens a proposal (council-proposal, tracker-signed, naming the
 *    proposer); it needs the threshold in force when it was opened;
 *  - a member votes with an entry it signs itself (council-vote); an
 *    approval carries its council.ts signature of the proposal;
 *  - when approvals by CURRENT members reach the threshold before expiry,
 *    the tracker checks the effect still applies, writes the council-decision
 *    entry (the proposal and those approvals, checked again by
 *    verifyCouncilDecision) and applies the effect in the same transaction;
 *    when rejections leave too few members to reach it, the proposal is
 *    rejected. Past its expiry a proposal reads as expired.
 *
 * Effects carried out here: release (a named model version), ban / unban
 * (providers.banned_by; the scheduler refuses a banned key with
 * TRACKER_BANNED, and its unjudged replicas are discarded and reissued:
 * work-unit.ts discardProvider), credit-adjust (a credit-adjusted entry and
 * the provider's credit), member-add / member-remove / threshold, and
 * dispute: when it is proposed the tracker re-executes each named unit on
 * the canonical engine (reexecute.ts) and adds what it found to the
 * proposal (`findings`: the accepted hash and the recomputed one), so the
 * members approve the evidence itself; when it is enacted, for every unit
 * whose accepted hash was wrong, each provider credited for the wrong hash
 * loses that credit (a credit-adjusted revoke entry, a valid result moved
 * to the invalid count, a strike on its adaptive-replication record) and
 * each provider that submitted the recomputed hash but was judged invalid
 * gets the unit's credit (a grant). The unit's history is not rewritten: its
 * aggregation into a checkpoint stands, and the log says it was disputed.
 * A cla decision makes a new contributor licence version current (cla.ts).
 * A run-parameters decision changes a training run's replication (the
 * min_quorum of its units) from the next round on: units already issued
 * keep theirs, so no verdict changes meaning after the fact.
 *
 * Council rows are locked before unit and provider rows (the scheduler
 * never touches the former), so the lock order stays acyclic.
 */
import { base64Decode } from '../core/encoding.ts';
import { SwarmError } from '../core/errors.ts';
import { effectProblem, proposalOfBody as proposalOf } from '../ledger/council-book.ts';
import { parseCouncilAction } from '../ledger/council-actions.ts';
import type { DisputeFinding, ParsedCouncilAction } from '../ledger/council-actions.ts';
import { councilDecisionBytes, verifyCouncilDecision } from '../ledger/council.ts';
import { entryLeafHash, parseEntry, verifyEntrySignature } from '../ledger/entry.ts';
import type { CouncilDecisionBody, CouncilProposal, CouncilProposalBody, CouncilVote, KeyId, LedgerEntry } from '../ledger/entry.ts';
import { publicKeyFromRaw, verifyBytes } from '../ledger/keys.ts';
import type { PublicKeyInput } from '../ledger/keys.ts';
import { DEFAULT_PROPOSAL_LIFETIME_MS } from '../protocol/council.ts';
import type { CouncilView, ProposalStatus, ProposalView, ProposeRequest, ReleaseView } from '../protocol/council.ts';
import { refuseOffClockEntry } from './context.ts';
import type { TrackerContext } from './context.ts';
import { claDecisionEffect } from './cla.ts';
import type { Statement } from './storage/combine.ts';
import type { Queryable } from './storage/db.ts';
import { UNIT_COLUMNS, unitStatements, write } from './unit-rows.ts';
import type { UnitRow } from './unit-rows.ts';
import { discardProvider } from './validation/work-unit.ts';
import { recordVerdict } from './validation/adaptive.ts';
import type { ProviderRecord } from './validation/adaptive.ts';
import { canonicalReexecutor } from './reexecute.ts';
import type { UnitReexecutor } from './reexecute.ts';
import { getBlob } from './storage/blobs.ts';

/** Arbitrary 64-bit advisory-lock key for forming the council ("SWCNCL"). */
const COUNCIL_LOCK_KEY = 0x5357_434e_434cn;

/** The refusal of a key that is not a member (here and before a request's body is read: http/app.ts). */
export function notAMember(keyId: KeyId): SwarmError {
  return new SwarmError('COUNCIL_NOT_A_MEMBER', `key ${keyId} is not a member of this tracker's council`, { keyId });
}

interface ProposalRow {
  id: string;
  body: CouncilProposalBody;
  proposer: string;
  opened_at: string;
  expires_at: string;
  status: 'open' | 'enacted' | 'rejected';
  decided_at: string | null;
}

interface VoteRow {
  member: string;
  public_key: Uint8Array;
  vote: CouncilVote;
  approval: string | null;
  at: string;
}

export class Council {
  /** made on the first dispute, unless the tracker was given one (TrackerServiceOptions.reexecute) */
  private reexecutor: UnitReexecutor | undefined;

  constructor(private readonly ctx: TrackerContext) {}

  /**
   * Forms the genesis council if the database has none (logging
   * council-formed); with one already formed, the same genesis is accepted
   * and another refused. Returns whether it was formed now.
   */
  async form(members: readonly KeyId[], threshold: number): Promise<{ formed: boolean }> {
    if (members.length === 0 || new Set(members).size !== members.length || members.some((m) => !/^[0-9a-f]{64}$/.test(m))) {
      throw new SwarmError('COUNCIL_BAD_GENESIS', 'the council is one or more distinct key ids (64 lower-case hex characters each)');
    }
    if (!Number.isSafeInteger(threshold) || threshold < 1 || threshold > members.length) {
      throw new SwarmError('COUNCIL_BAD_GENESIS', `the council threshold must be from 1 to the ${members.length} members`, { threshold });
    }
    const now = this.ctx.now();
    const genesis = { members: [...members].sort(), threshold };
    const appended = await this.ctx.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [COUNCIL_LOCK_KEY.toString()]);
      const rows = await tx.query<{ genesis: { members: string[]; threshold: number } }>('SELECT genesis FROM council WHERE id = 1');
      if (rows.length > 0) {
        const g = rows[0]!.genesis;
        if (JSON.stringify(g) !== JSON.stringify(genesis)) {
          throw new SwarmError('COUNCIL_GENESIS_MISMATCH', `this tracker's council was formed with ${g.members.length} member(s) and threshold ${g.threshold}; membership and threshold change only by a council decision (swarm council propose member-add|member-remove|threshold), so start it with the same --council flags or none`, { genesis: g });
        }
        return -1;
      }
      await tx.query('INSERT INTO council (id, threshold, genesis, formed_at) VALUES (1, $1, $2, $3)', [threshold, JSON.stringify(genesis), now]);
      for (const m of members) await tx.query('INSERT INTO council_members (key_id, added_at) VALUES ($1, $2)', [m, now]);
      return this.ctx.append(tx, [this.ctx.sign('council-formed', { members: [...members], threshold }, now)], now);
    });
    if (appended < 0) return { formed: false };
    await this.ctx.committed(appended);
    return { formed: true };
  }

  async view(q: Queryable = this.ctx.db): Promise<CouncilView> {
    const c = await q.query<{ threshold: number }>('SELECT threshold FROM council WHERE id = 1');
    if (c.length === 0) return { formed: false, members: [], threshold: 0 };
    const m = await q.query<{ key_id: string }>('SELECT key_id FROM council_members ORDER BY key_id');
    return { formed: true, members: m.map((r) => r.key_id), threshold: Number(c[0]!.threshold) };
  }

  async isMember(keyId: string, q: Queryable = this.ctx.db): Promise<boolean> {
    return (await q.query('SELECT 1 FROM council_members WHERE key_id = $1', [keyId])).length > 0;
  }

  /** Opens a proposal by `proposer` (a current member); logs council-proposal. */
  async propose(proposer: KeyId, req: ProposeRequest): Promise<ProposalView> {
    const parsed = parseCouncilAction(req.action, req.subject, req.params as CouncilProposal['params']);
    // a dispute's evidence: re-executing its units takes time, so before the transaction
    if (parsed.action === 'dispute') {
      await this.requireMember(this.ctx.db, proposer);
      parsed.params.findings = await this.reexecute(parsed.subject, parsed.params.units);
    }
    const now = this.ctx.now();
    const { id, appended } = await this.ctx.db.transaction(async (tx) => {
      const council = await this.lockCouncil(tx);
      await this.requireMember(tx, proposer);
      await this.requireSubject(tx, parsed);
      const problem = effectProblem(parsed, await this.effectState(tx, council.threshold, parsed));
      if (problem !== undefined) throw new SwarmError('COUNCIL_NOT_APPLICABLE', problem, { action: parsed.action, subject: parsed.subject });
      const n = council.proposals + 1;
      const decision = `proposal-${n}`;
      const body: CouncilProposalBody = {
        decision,
        action: parsed.action,
        subject: parsed.subject,
        ...(Object.keys(parsed.params).length === 0 ? {} : { params: parsed.params as unknown as CouncilProposal['params'] }),
        threshold: council.threshold,
        expires: now + (req.expiresInMs ?? DEFAULT_PROPOSAL_LIFETIME_MS),
        proposer,
      };
      const entry = this.ctx.sign('council-proposal', body, now);
      await tx.query('UPDATE council SET proposals = $1 WHERE id = 1', [n]);
      await tx.query(
        `INSERT INTO council_proposals (id, n, action, subject, body, proposer, opened_at, expires_at, status, proposal_leaf)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'open', $9)`,
        [decision, n, body.action, body.subject, JSON.stringify(entry.body), proposer, now, body.expires, entryLeafHash(entry)],
      );
      return { id: decision, appended: await this.ctx.append(tx, [entry], now) };
    });
    await this.ctx.committed(appended);
    return this.show(id);
  }

  /**
   * A member's vote: `raw` is its signed council-vote entry and `signer`
   * the request's verified signer, which must be the entry's actor. Logs
   * the vote and, when it completes the threshold, the decision and its
   * effect (see the header).
   */
  async vote(decisionId: string, signer: { keyId: KeyId; publicKey: Uint8Array }, raw: unknown): Promise<ProposalView> {
    const entry = parseEntry(raw);
    if (entry.kind !== 'council-vote' || entry.actor !== signer.keyId) {
      throw new SwarmError('COUNCIL_BAD_VOTE', 'send a council-vote entry signed by the key that signs the request');
    }
    if (entry.body.decision !== decisionId) throw new SwarmError('COUNCIL_BAD_VOTE', `the entry votes on ${entry.body.decision}, not on ${decisionId}`);
    verifyEntrySignature(entry, signer.publicKey);
    const now = this.ctx.now();
    refuseOffClockEntry(entry.time, now, 'COUNCIL_BAD_VOTE', 'the vote');
    const done = await this.ctx.db.transaction(async (tx) => {
      const council = await this.lockCouncil(tx);
      await this.requireMember(tx, signer.keyId);
      const p = await this.lockProposal(tx, decisionId);
      const status = statusOf(p, now);
      if (status === 'expired' || entry.time > Number(p.expires_at)) throw new SwarmError('COUNCIL_PROPOSAL_EXPIRED', `${decisionId} expired; open a new proposal`, { expires: Number(p.expires_at) });
      if (status !== 'open') throw new SwarmError('COUNCIL_PROPOSAL_CLOSED', `${decisionId} is ${status} already`, { status });
      const earlier = await tx.query('SELECT 1 FROM council_votes WHERE decision = $1 AND member = $2', [decisionId, signer.keyId]);
      if (earlier.length > 0) throw new SwarmError('COUNCIL_DUPLICATE_VOTE', `${signer.keyId} voted on ${decisionId} before; a member votes once`);
      const proposal = proposalOf(p.body);
      const approval = entry.body.approval;
      if (approval !== undefined && !verifyBytes(councilDecisionBytes(proposal), base64Decode(approval), signer.publicKey)) {
        throw new SwarmError('COUNCIL_BAD_APPROVAL', `the approval does not sign ${decisionId} as the tracker serves it (GET /api/council/proposals/${decisionId})`);
      }
      await tx.query(
        'INSERT INTO council_votes (decision, member, public_key, vote, approval, at) VALUES ($1, $2, $3, $4, $5, $6)',
        [decisionId, signer.keyId, signer.publicKey, entry.body.vote, approval ?? null, now],
      );
      const entries: LedgerEntry[] = [entry];
      const statements: Statement[] = [];
      const tally = await this.tally(tx, decisionId);
      if (tally.approvals.length >= p.body.threshold) {
        const parsed = parseCouncilAction(p.body.action, p.body.subject, p.body.params);
        const problem = effectProblem(parsed, await this.effectState(tx, council.threshold, parsed));
        if (problem !== undefined) {
          throw new SwarmError('COUNCIL_NOT_APPLICABLE', `this vote would enact ${decisionId}, but ${problem}; the proposal stays open until it expires`, { decision: decisionId });
        }
        const decision: CouncilDecisionBody = { ...proposal, approvals: tally.approvals.map((v) => ({ key: v.member, sig: v.approval! })) };
        const keys = new Map<KeyId, PublicKeyInput>(tally.approvals.map((v) => [v.member, publicKeyFromRaw(v.public_key)]));
        verifyCouncilDecision(decision, keys);
        const enacted = this.ctx.sign('council-decision', decision, now);
        entries.push(enacted);
        const effect = await this.applyEffect(tx, decisionId, parsed, now);
        entries.push(...effect.entries);
        statements.push(...effect.statements, {
          sql: `UPDATE council_proposals SET status = 'enacted', decided_at = $2, decision_leaf = $3 WHERE id = $1`,
          params: [decisionId, now, entryLeafHash(enacted)],
        });
      } else if (tally.members - tally.rejections < p.body.threshold) {
        statements.push({ sql: `UPDATE council_proposals SET status = 'rejected', decided_at = $2 WHERE id = $1`, params: [decisionId, now] });
      }
      if (statements.length > 0) await write(tx, statements);
      return { appended: await this.ctx.append(tx, entries, now), enacted: entries.some((e) => e.kind === 'council-decision') };
    });
    await this.ctx.committed(done.appended);
    const view = await this.show(decisionId);
    if (done.enacted) this.ctx.options.onCouncilDecision?.({ decision: view.id, action: view.action, subject: view.subject, params: view.params });
    return view;
  }

  async show(id: string): Promise<ProposalView> {
    const rows = await this.ctx.db.query<ProposalRow & Record<string, unknown>>(
      'SELECT id, body, proposer, opened_at, expires_at, status, decided_at FROM council_proposals WHERE id = $1',
      [id],
    );
    if (rows.length === 0) throw new SwarmError('COUNCIL_UNKNOWN_PROPOSAL', `no proposal ${id}`, { decision: id });
    const votes = await this.ctx.db.query<VoteRow & Record<string, unknown>>('SELECT member, public_key, vote, approval, at FROM council_votes WHERE decision = $1 ORDER BY at, member', [id]);
    return viewOf(rows[0]!, votes, this.ctx.now());
  }

  /** Proposals, newest first; `status` filters (expired = open past its expiry). */
  async list(status?: ProposalStatus, limit = 100): Promise<ProposalView[]> {
    const rows = await this.ctx.db.query<ProposalRow & Record<string, unknown>>(
      'SELECT id, body, proposer, opened_at, expires_at, status, decided_at FROM council_proposals ORDER BY n DESC LIMIT $1',
      [status === undefined ? limit : 10_000],
    );
    const votes = rows.length === 0 ? [] : await this.ctx.db.query<VoteRow & { decision: string } & Record<string, unknown>>(
      'SELECT decision, member, public_key, vote, approval, at FROM council_votes WHERE decision = ANY($1::text[]) ORDER BY at, member',
      [rows.map((r) => r.id)],
    );
    const now = this.ctx.now();
    const views = rows.map((r) => viewOf(r, votes.filter((v) => v.decision === r.id), now));
    return (status === undefined ? views : views.filter((v) => v.status === status)).slice(0, limit);
  }

  async releases(): Promise<ReleaseView[]> {
    const rows = await this.ctx.db.query<ReleaseRow & Record<string, unknown>>('SELECT name, checkpoint, run_id, decision, released_at FROM releases ORDER BY released_at DESC, name');
    return rows.map(releaseView);
  }

  async release(name: string): Promise<ReleaseView> {
    const rows = await this.ctx.db.query<ReleaseRow & Record<string, unknown>>('SELECT name, checkpoint, run_id, decision, released_at FROM releases WHERE name = $1', [name]);
    if (rows.length === 0) throw new SwarmError('COUNCIL_UNKNOWN_RELEASE', `no released model named ${name}`, { name });
    return releaseView(rows[0]!);
  }

  // ---- inside a transaction ---------------------------------------------------

  private async lockCouncil(tx: Queryable): Promise<{ threshold: number; proposals: number }> {
    const rows = await tx.query<{ threshold: number; proposals: number }>('SELECT threshold, proposals FROM council WHERE id = 1 FOR UPDATE');
    if (rows.length === 0) throw new SwarmError('COUNCIL_NOT_FORMED', 'this tracker has no council; start it with --council KEYID (as `swarm whoami` prints it)');
    return { threshold: Number(rows[0]!.threshold), proposals: Number(rows[0]!.proposals) };
  }

  private async requireMember(q: Queryable, keyId: KeyId): Promise<void> {
    if (!(await this.isMember(keyId, q))) throw notAMember(keyId);
  }

  /** The runs that published `checkpoint` (a round's global state in their history), oldest first. */
  private async runsPublishing(q: Queryable, checkpoint: string): Promise<string[]> {
    const rows = await q.query<{ id: string }>(
      `SELECT id FROM runs WHERE progress IS NOT NULL
          AND progress->'history' @> jsonb_build_array(jsonb_build_object('checkpoint', $1::text))
        ORDER BY created_at, id`,
      [checkpoint],
    );
    return rows.map((r) => r.id);
  }

  private async lockProposal(tx: Queryable, id: string): Promise<ProposalRow> {
    const rows = await tx.query<ProposalRow & Record<string, unknown>>(
      'SELECT id, body, proposer, opened_at, expires_at, status, decided_at FROM council_proposals WHERE id = $1 FOR UPDATE',
      [id],
    );
    if (rows.length === 0) throw new SwarmError('COUNCIL_UNKNOWN_PROPOSAL', `no proposal ${id}`, { decision: id });
    return rows[0]!;
  }

  /** Votes that count now: by current members only (a removed member's vote stops counting). */
  private async tally(tx: Queryable, id: string): Promise<{ approvals: VoteRow[]; rejections: number; members: number }> {
    const votes = await tx.query<VoteRow & Record<string, unknown>>(
      `SELECT v.member, v.public_key, v.vote, v.approval, v.at FROM council_votes v
         JOIN council_members m ON m.key_id = v.member
        WHERE v.decision = $1 ORDER BY v.member`,
      [id],
    );
    const members = Number((await tx.query<{ n: string }>('SELECT count(*) AS n FROM council_members'))[0]!.n);
    return { approvals: votes.filter((v) => v.vote === 'approve'), rejections: votes.filter((v) => v.vote === 'reject').length, members };
  }

  /** Refuses a decision about an identity or checkpoint this tracker does not know (before anything is appended). */
  private async requireSubject(tx: Queryable, a: ParsedCouncilAction): Promise<void> {
    if (a.action === 'ban' || a.action === 'unban' || a.action === 'credit-adjust') {
      const rows = await tx.query('SELECT 1 FROM providers WHERE key_id = $1', [a.subject]);
      if (rows.length === 0) throw new SwarmError('COUNCIL_UNKNOWN_IDENTITY', `no provider ${a.subject} is registered with this tracker`, { keyId: a.subject });
    }
    if (a.action === 'run-parameters') {
      const runs = await tx.query<{ state: string }>('SELECT state FROM runs WHERE id = $1 AND progress IS NOT NULL', [a.subject]);
      if (runs.length === 0) throw new SwarmError('COUNCIL_UNKNOWN_RUN', `no DiLoCo run ${a.subject} on this tracker`, { run: a.subject });
      if (runs[0]!.state !== 'training') throw new SwarmError('COUNCIL_NOT_APPLICABLE', `run ${a.subject} is ${runs[0]!.state}: its parameters no longer matter`, { run: a.subject });
    }
    if (a.action === 'release') {
      const runs = await this.runsPublishing(tx, a.params.checkpoint);
      if (runs.length === 0) throw new SwarmError('COUNCIL_UNKNOWN_CHECKPOINT', `no run of this tracker published checkpoint ${a.params.checkpoint}`, { checkpoint: a.params.checkpoint });
      if (a.params.run !== undefined && !runs.includes(a.params.run)) {
        throw new SwarmError('COUNCIL_UNKNOWN_CHECKPOINT', `run ${a.params.run} did not publish checkpoint ${a.params.checkpoint}`, { checkpoint: a.params.checkpoint, run: a.params.run });
      }
    }
  }

  private async effectState(tx: Queryable, threshold: number, a: ParsedCouncilAction): Promise<Parameters<typeof effectProblem>[1]> {
    const members = new Set((await tx.query<{ key_id: string }>('SELECT key_id FROM council_members')).map((r) => r.key_id));
    const banned = await tx.query('SELECT 1 FROM providers WHERE key_id = $1 AND banned_by IS NOT NULL', [a.subject]);
    const released = await tx.query('SELECT 1 FROM releases WHERE name = $1', [a.subject]);
    return { members, threshold, subjectBanned: banned.length > 0, nameReleased: released.length > 0 };
  }

  /** The effect of an enacted decision: writes, and the entries logged after the decision's. */
  private async applyEffect(tx: Queryable, decision: string, a: ParsedCouncilAction, now: number): Promise<{ statements: Statement[]; entries: LedgerEntry[] }> {
    switch (a.action) {
      case 'member-add':
        return { statements: [{ sql: 'INSERT INTO council_members (key_id, added_at, decision) VALUES ($1, $2, $3)', params: [a.subject, now, decision] }], entries: [] };
      case 'member-remove':
        return { statements: [{ sql: 'DELETE FROM council_members WHERE key_id = $1', params: [a.subject] }], entries: [] };
      case 'threshold':
        return { statements: [{ sql: 'UPDATE council SET threshold = $1 WHERE id = 1', params: [a.params.threshold] }], entries: [] };
      case 'release': {
        const run = a.params.run ?? (await this.runsPublishing(tx, a.params.checkpoint))[0] ?? null;
        return {
          statements: [{ sql: 'INSERT INTO releases (name, checkpoint, run_id, decision, released_at) VALUES ($1, $2, $3, $4, $5)', params: [a.subject, a.params.checkpoint, run, decision, now] }],
          entries: [],
        };
      }
      case 'unban':
        return { statements: [{ sql: 'UPDATE providers SET banned_by = NULL WHERE key_id = $1', params: [a.subject] }], entries: [] };
      case 'cla':
        // a new contributor licence version becomes current (cla.ts); earlier signatures no longer suffice
        return claDecisionEffect(this.ctx, tx, decision, a.subject, a.params.sha256, now);
      case 'ban':
        return this.ban(tx, decision, a.subject, now);
      case 'dispute':
        return this.settleDispute(tx, decision, a.subject, a.params.findings ?? [], now);
      case 'credit-adjust': {
        const sign = a.params.change === 'grant' ? 1 : -1;
        return {
          statements: [{ sql: 'UPDATE providers SET credit = credit + $2 WHERE key_id = $1', params: [a.subject, sign * a.params.amount] }],
          entries: [this.ctx.sign('credit-adjusted', { provider: a.subject, change: a.params.change, amount: a.params.amount, decision, reason: a.params.reason }, now)],
        };
      }
      case 'run-parameters':
        // the next round's units read the run's spec when the round closes (runs/diloco.ts roundUnits)
        return { statements: [{ sql: `UPDATE runs SET spec = jsonb_set(spec, '{replication}', to_jsonb($2::int)) WHERE id = $1`, params: [a.subject, a.params.replication] }], entries: [] };
    }
  }

  /**
   * The tracker's own re-execution of each disputed unit (see the header):
   * the unit must belong to the run and have a canonical (accepted) result.
   */
  private async reexecute(run: string, units: readonly string[]): Promise<DisputeFinding[]> {
    const rows = await this.ctx.db.query<{ id: string; run_id: string | null; spec: Record<string, unknown>; state: string; canonical_hash: string | null }>(
      'SELECT id, run_id, spec, state, canonical_hash FROM units WHERE id = ANY($1::text[])',
      [[...units]],
    );
    const run1 = this.ctx.options.reexecute ?? (this.reexecutor ??= canonicalReexecutor());
    const findings: DisputeFinding[] = [];
    for (const unit of units) {
      const row = rows.find((r) => r.id === unit);
      if (row === undefined || row.run_id !== run) throw new SwarmError('COUNCIL_UNKNOWN_UNIT', `run ${run} has no unit ${unit}`, { run, unit });
      if (row.state !== 'valid' || row.canonical_hash === null) {
        throw new SwarmError('COUNCIL_NOT_APPLICABLE', `unit ${unit} has no accepted result to dispute (it is ${row.state})`, { unit });
      }
      const recomputed = await run1(row.spec, async (sha) => (await getBlob(this.ctx.db, sha)).bytes);
      findings.push({ unit, accepted: row.canonical_hash, recomputed });
    }
    return findings;
  }

  /** An enacted dispute's corrections (see the header); provider rows are updated one statement each, in key order. */
  private async settleDispute(tx: Queryable, decision: string, run: string, findings: readonly DisputeFinding[], now: number): Promise<{ statements: Statement[]; entries: LedgerEntry[] }> {
    const entries: LedgerEntry[] = [];
    const statements: Statement[] = [];
    const reason = `dispute ${decision}: the tracker's re-execution differs from the accepted result`;
    for (const f of findings) {
      if (f.accepted === f.recomputed) continue; // the verdict was right
      const rows = await tx.query<{ id: string; provider: string; result_hash: string; verdict: string; flops: number }>(
        `SELECT r.id, r.provider, r.result_hash, r.verdict, u.flops FROM replicas r JOIN units u ON u.id = r.unit_id
          WHERE r.unit_id = $1 AND r.result_hash IS NOT NULL ORDER BY r.provider, r.id`,
        [f.unit],
      );
      for (const r of rows) {
        const amount = Math.max(1, Math.round(Number(r.flops)));
        const wronglyValid = r.verdict === 'valid' && r.result_hash === f.accepted;
        const wronglyInvalid = r.verdict === 'invalid' && r.result_hash === f.recomputed;
        if (!wronglyValid && !wronglyInvalid) continue;
        const p = (await tx.query<{ record: ProviderRecord }>('SELECT record FROM providers WHERE key_id = $1 FOR UPDATE', [r.provider]))[0]!;
        if (wronglyValid) {
          await tx.query(
            'UPDATE providers SET credit = credit - $2, valid_count = valid_count - 1, invalid_count = invalid_count + 1, record = $3 WHERE key_id = $1',
            [r.provider, amount, JSON.stringify(recordVerdict(p.record, 'invalid', this.ctx.policy))],
          );
        } else {
          await tx.query('UPDATE providers SET credit = credit + $2, valid_count = valid_count + 1, invalid_count = invalid_count - 1 WHERE key_id = $1', [r.provider, amount]);
        }
        statements.push({ sql: 'UPDATE replicas SET state = $2, verdict = $2 WHERE id = $1', params: [r.id, wronglyValid ? 'invalid' : 'valid'] });
        entries.push(this.ctx.sign('credit-adjusted', {
          provider: r.provider, change: wronglyValid ? 'revoke' : 'grant', amount, decision, reason, run, unit: f.unit,
        }, now));
      }
    }
    return { statements, entries };
  }

  /**
   * A ban: the provider's row is marked (every scheduler request of it is
   * refused from now on), and its replicas of open units that are not yet
   * judged are discarded, so the units are issued to others; a discarded
   * result gets an invalid verdict entry saying why.
   */
  private async ban(tx: Queryable, decision: string, provider: KeyId, now: number): Promise<{ statements: Statement[]; entries: LedgerEntry[] }> {
    const units = await tx.query<UnitRow & Record<string, unknown>>(
      `SELECT ${UNIT_COLUMNS} FROM units u
        WHERE u.state = 'open'
          AND EXISTS (SELECT 1 FROM replicas r WHERE r.unit_id = u.id AND r.provider = $1 AND r.state IN ('in-progress', 'reported', 'timed-out'))
        ORDER BY u.id FOR UPDATE OF u`,
      [provider],
    );
    const statements: Statement[] = [{ sql: 'UPDATE providers SET banned_by = $2 WHERE key_id = $1', params: [provider, decision] }];
    const entries: LedgerEntry[] = [];
    const reason = `discarded: council decision ${decision} banned the provider`;
    for (const row of units) {
      const after = discardProvider(row.wu, provider, reason);
      statements.push(...unitStatements(row, after, now));
      for (const r of row.wu.replicas) {
        if (r.provider !== provider || r.state !== 'returned' || r.resultHash === undefined) continue;
        entries.push(this.ctx.sign('verdict', { run: row.run_id, unit: row.id, provider, result: r.resultHash, outcome: 'invalid', reason }, now));
      }
    }
    return { statements, entries };
  }
}

/** A releases row (migration 10). */
export interface ReleaseRow {
  name: string;
  checkpoint: string;
  run_id: string | null;
  decision: string;
  released_at: string;
}

export function releaseView(r: ReleaseRow): ReleaseView {
  return { name: r.name, checkpoint: r.checkpoint, run: r.run_id, decision: r.decision, releasedAt: Number(r.released_at) };
}

function statusOf(p: Pick<ProposalRow, 'status' | 'expires_at'>, now: number): ProposalStatus {
  return p.status === 'open' && now > Number(p.expires_at) ? 'expired' : p.status;
}

function viewOf(p: ProposalRow, votes: readonly VoteRow[], now: number): ProposalView {
  const body = p.body;
  return {
    id: p.id,
    action: body.action,
    subject: body.subject,
    params: body.params ?? {},
    threshold: body.threshold,
    proposer: p.proposer,
    openedAt: Number(p.opened_at),
    expires: Number(p.expires_at),
    status: statusOf(p, now),
    decidedAt: p.decided_at === null ? null : Number(p.decided_at),
    approvals: votes.filter((v) => v.vote === 'approve').length,
    rejections: votes.filter((v) => v.vote === 'reject').length,
    votes: votes.map((v) => ({ member: v.member, vote: v.vote, at: Number(v.at) })),
    proposal: proposalOf(body),
  };
}
