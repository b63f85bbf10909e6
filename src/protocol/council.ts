/**
 * Wire shapes of the council's endpoints (issue 20): what `swarm council`
 * sends and what the tracker answers. The action's own parameters are
 * checked by ledger/council-actions.ts (the same rule the auditor applies);
 * here only the envelope.
 *
 *   GET  /api/council                               CouncilView
 *   GET  /api/council/proposals[?status=]           { proposals: ProposalView[] }
 *   POST /api/council/proposals        signed       ProposeRequest → ProposalView
 *   GET  /api/council/proposals/:id                 ProposalView
 *   POST /api/council/proposals/:id/votes  signed   VoteRequest → ProposalView
 *   GET  /api/releases                              { releases: ReleaseView[] }
 *   GET  /api/releases/:name                        ReleaseView
 *   GET  /api/releases/:name/card                   ModelCard (views.ts; tracker/model-card.ts, http/dashboard-api.ts)
 */
import { z } from 'zod';
import { COUNCIL_ACTIONS } from '../ledger/entry.ts';
import type { CouncilAction, CouncilProposal, CouncilVote } from '../ledger/entry.ts';
import { JsonObject } from './schemas.ts';

/** How long a proposal stays open unless the proposer says otherwise (a week), and the longest it may. */
export const DEFAULT_PROPOSAL_LIFETIME_MS = 7 * 24 * 3_600_000;
export const MAX_PROPOSAL_LIFETIME_MS = 90 * 24 * 3_600_000;
/** The shortest lifetime (a vote needs time to arrive). */
export const MIN_PROPOSAL_LIFETIME_MS = 60_000;

/** POST /api/council/proposals */
export const ProposeRequestSchema = z.strictObject({
  action: z.enum(COUNCIL_ACTIONS),
  subject: z.string().min(1).max(256),
  params: JsonObject.optional(),
  expiresInMs: z.number().int().min(MIN_PROPOSAL_LIFETIME_MS).max(MAX_PROPOSAL_LIFETIME_MS).optional(),
});
export type ProposeRequest = z.output<typeof ProposeRequestSchema>;

/** POST /api/council/proposals/:id/votes: the member's signed council-vote entry. */
export const VoteRequestSchema = z.strictObject({ entry: JsonObject });
export type VoteRequest = z.output<typeof VoteRequestSchema>;

export const PROPOSAL_STATUSES = ['open', 'enacted', 'rejected', 'expired'] as const;
export type ProposalStatus = (typeof PROPOSAL_STATUSES)[number];

export interface CouncilView {
  formed: boolean;
  members: string[];
  threshold: number;
}

export interface ProposalView {
  id: string;
  action: CouncilAction;
  subject: string;
  params: Record<string, unknown>;
  /** approvals it needs: the council's threshold when it was opened */
  threshold: number;
  proposer: string;
  openedAt: number;
  expires: number;
  status: ProposalStatus;
  decidedAt: number | null;
  approvals: number;
  rejections: number;
  votes: { member: string; vote: CouncilVote; at: number }[];
  /** what a member signs to approve it (ledger/council.ts approveCouncilDecision) */
  proposal: CouncilProposal;
}

/** A released model (views.ts, where the dashboard reads it too) */
export type { ReleaseView } from './views.ts';
