/**
 * `swarm council propose|vote|list|show|members` (issue 20): a council
 * member governs a tracker with its own identity ($SWARM_HOME/identity.key;
 * `swarm whoami` prints the key id the tracker names with --council).
 * Proposals and votes are signed requests; a vote is a council-vote ledger
 * entry the member signs itself (protocol/entries.ts councilVoteEntry), so
 * the log proves who voted for what. Every command takes --json.
 *
 *   swarm council propose release --checkpoint SHA --name NAME [--run ID]
 *   swarm council propose ban --target KEYID --reason TEXT
 *   swarm council propose unban --target KEYID [--reason TEXT]
 *   swarm council propose credit-adjust --target KEYID --grant N|--revoke N --reason TEXT
 *   swarm council propose dispute --run ID --unit UNIT [--unit UNIT ...] --reason TEXT
 *   swarm council propose run-parameters --run ID --replication N
 *   swarm council propose member-add|member-remove --target KEYID
 *   swarm council propose threshold --threshold M
 *   swarm council propose cla --cla-file FILE | --sha256 HEX --cla-version ID
 *   swarm council vote ID --approve|--reject
 *   swarm council list [--status open|enacted|rejected|expired]
 *   swarm council show ID
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { systemClock } from '../core/clock.ts';
import { SwarmError } from '../core/errors.ts';
import type { JsonValue } from '../core/canonical-json.ts';
import { COUNCIL_ACTIONS } from '../ledger/entry.ts';
import type { CouncilAction, CouncilVote } from '../ledger/entry.ts';
import { PROPOSAL_STATUSES } from '../protocol/council.ts';
import type { CouncilView, ProposalStatus, ProposalView, ProposeRequest, ReleaseView } from '../protocol/council.ts';
import { councilVoteEntry } from '../protocol/entries.ts';
import { isClaVersion, parseClaDocument } from '../protocol/cla.ts';
import { TrackerClient, normaliseTrackerUrl } from '../provider/client.ts';
import { parseChoice, parsePositiveInt } from './flags.ts';
import { loadOrCreateIdentity, swarmHome } from './identity.ts';

async function client(tracker: string): Promise<TrackerClient> {
  const id = await loadOrCreateIdentity(swarmHome());
  return new TrackerClient({ baseUrl: normaliseTrackerUrl(tracker), key: id.keyPair, clock: systemClock });
}

/** POST /api/council/proposals. */
export async function propose(c: TrackerClient, req: ProposeRequest): Promise<ProposalView> {
  return c.json<ProposalView>('POST', '/api/council/proposals', req);
}

/** Fetches the proposal as the tracker serves it, signs a vote on exactly that, and sends it. */
export async function vote(c: TrackerClient, id: string, choice: CouncilVote, clock = systemClock): Promise<ProposalView> {
  const p = await c.getJson<ProposalView>(`/api/council/proposals/${encodeURIComponent(id)}`);
  const entry = councilVoteEntry(c.key, clock.now(), p.proposal, choice);
  return c.json<ProposalView>('POST', `/api/council/proposals/${encodeURIComponent(id)}/votes`, { entry });
}

interface ProposeFlags {
  tracker: string;
  target?: string;
  reason?: string;
  checkpoint?: string;
  name?: string;
  run?: string;
  grant?: number;
  revoke?: number;
  threshold?: number;
  claFile?: string;
  sha256?: string;
  claVersion?: string;
  unit?: string[];
  replication?: number;
  expiresHours?: number;
  json?: boolean;
}

/** The request a `propose` command line means; CLI_BAD_FLAG naming the missing flag. */
export function proposalFromFlags(action: CouncilAction, o: ProposeFlags): ProposeRequest {
  const need = (value: string | number | undefined, flag: string): string | number => {
    if (value === undefined) throw new SwarmError('CLI_BAD_FLAG', `a ${action} proposal needs ${flag}`, { flag });
    return value;
  };
  let subject: string;
  let params: Record<string, JsonValue> = {};
  switch (action) {
    case 'release':
      subject = String(need(o.name, '--name NAME'));
      params = { checkpoint: String(need(o.checkpoint, '--checkpoint SHA256')), ...(o.run === undefined ? {} : { run: o.run }) };
      break;
    case 'ban':
      subject = String(need(o.target, '--target KEYID'));
      params = { reason: String(need(o.reason, '--reason TEXT')) };
      break;
    case 'unban':
      subject = String(need(o.target, '--target KEYID'));
      params = o.reason === undefined ? {} : { reason: o.reason };
      break;
    case 'credit-adjust': {
      subject = String(need(o.target, '--target KEYID'));
      if ((o.grant === undefined) === (o.revoke === undefined)) throw new SwarmError('CLI_BAD_FLAG', 'a credit-adjust proposal needs exactly one of --grant N and --revoke N', { flag: '--grant' });
      params = { change: o.grant === undefined ? 'revoke' : 'grant', amount: (o.grant ?? o.revoke)!, reason: String(need(o.reason, '--reason TEXT')) };
      break;
    }
    case 'dispute':
      subject = String(need(o.run, '--run ID'));
      if (o.unit === undefined || o.unit.length === 0) throw new SwarmError('CLI_BAD_FLAG', 'a dispute proposal needs --unit UNIT (repeat for several)', { flag: '--unit' });
      params = { units: o.unit, reason: String(need(o.reason, '--reason TEXT')) };
      break;
    case 'run-parameters':
      subject = String(need(o.run, '--run ID'));
      params = { replication: Number(need(o.replication, '--replication N')) };
      break;
    case 'member-add':
    case 'member-remove':
      subject = String(need(o.target, '--target KEYID'));
      break;
    case 'threshold':
      subject = 'council';
      params = { threshold: Number(need(o.threshold, '--threshold M')) };
      break;
    case 'cla': {
      // a new contributor licence version: its id and the SHA-256 of its text's bytes (CLA.md states its version)
      if ((o.claFile === undefined) === (o.sha256 === undefined)) {
        throw new SwarmError('CLI_BAD_FLAG', 'a cla proposal needs --cla-file FILE (the text; its "Version:" line names the version) or --sha256 HEX with --cla-version ID', { flag: '--cla-file' });
      }
      if (o.claFile !== undefined) {
        const doc = parseClaDocument(readFileSync(o.claFile));
        if (o.claVersion !== undefined && o.claVersion !== doc.version) {
          throw new SwarmError('CLI_BAD_FLAG', `--cla-version ${o.claVersion} differs from the version ${doc.version} that ${o.claFile} states`, { flag: '--cla-version' });
        }
        subject = doc.version;
        params = { sha256: doc.sha256 };
      } else {
        subject = String(need(o.claVersion, '--cla-version ID'));
        if (!isClaVersion(subject)) throw new SwarmError('CLI_BAD_FLAG', '--cla-version takes an id such as cla-v2 (letters, digits and . _ : / -)', { flag: '--cla-version' });
        params = { sha256: o.sha256! };
      }
      break;
    }
  }
  return {
    action,
    subject,
    ...(Object.keys(params).length === 0 ? {} : { params }),
    ...(o.expiresHours === undefined ? {} : { expiresInMs: o.expiresHours * 3_600_000 }),
  };
}

/** One proposal for people. */
export function proposalLines(p: ProposalView): string[] {
  const params = Object.keys(p.params).length === 0 ? '' : ` ${JSON.stringify(p.params)}`;
  return [
    `${p.id}  ${p.action} ${p.subject}${params}`,
    `  status ${p.status}${p.decidedAt === null ? '' : ` at ${new Date(p.decidedAt).toISOString()}`}; approvals ${p.approvals} of ${p.threshold} needed, rejections ${p.rejections}`,
    `  proposed by ${p.proposer.slice(0, 16)}… at ${new Date(p.openedAt).toISOString()}; expires ${new Date(p.expires).toISOString()}`,
    ...p.votes.map((v) => `  ${v.vote === 'approve' ? 'approved' : 'rejected'} by ${v.member.slice(0, 16)}… at ${new Date(v.at).toISOString()}`),
  ];
}

const out = (json: boolean | undefined, value: unknown, lines: () => string[]): void => {
  process.stdout.write(json === true ? `${JSON.stringify(value)}\n` : `${lines().join('\n')}\n`);
};

export function registerCouncil(program: Command): void {
  const council = program
    .command('council')
    .summary('govern a tracker as a member of its Steering Council: propose, vote, list')
    .description(
      'A tracker\'s council (started with `swarm tracker --council KEYID ... --council-threshold M`) decides releases, bans, credit adjustments and its own membership by M-of-N signed votes, each a ledger entry that `swarm audit` checks.\n' +
        'Your identity is $SWARM_HOME/identity.key (`swarm whoami` prints its key id).',
    );
  const tracker = (c: Command): Command => c.requiredOption('--tracker <url>', 'the tracker, e.g. http://127.0.0.1:7070').option('--json', 'print one JSON object');

  tracker(
    council
      .command('propose')
      .argument('<action>', `what to decide: ${COUNCIL_ACTIONS.join(', ')}`)
      .description('open a proposal; members then vote on it (`swarm council vote ID --approve`)')
      .option('--target <keyId>', 'the identity a ban, unban, credit-adjust or member-add/remove is about')
      .option('--reason <text>', 'why (ban, unban, credit-adjust, dispute)')
      .option('--checkpoint <sha256>', 'release: the checkpoint (a round\'s global state, as `swarm run show` lists it)')
      .option('--name <name>', 'release: the model version\'s name, e.g. sovereign-nano-v1 (lower-case letters, digits, . and -)')
      .option('--run <id>', 'release: the run that published the checkpoint (default: found by the tracker); dispute, run-parameters: the run')
      .option('--unit <id>', 'dispute: a unit whose accepted result to re-execute and re-judge; repeat for several', (v: string, prev: string[] = []) => [...prev, v])
      .option('--grant <n>', 'credit-adjust: credit to add', parsePositiveInt('--grant'))
      .option('--revoke <n>', 'credit-adjust: credit to take back', parsePositiveInt('--revoke'))
      .option('--threshold <m>', 'threshold: approvals a decision will need', parsePositiveInt('--threshold', 64))
      .option('--replication <n>', 'run-parameters: the run\'s replication (min quorum) from its next round', parsePositiveInt('--replication', 8))
      .option('--cla-file <file>', 'cla: the new contributor licence text (e.g. CLA.md); its "Version:" line names the version, its SHA-256 identifies it')
      .option('--sha256 <hex>', 'cla: the SHA-256 of the new text\'s bytes (with --cla-version, instead of --cla-file)')
      .option('--cla-version <id>', 'cla: the new version\'s id, e.g. cla-v2 (with --sha256; with --cla-file it must match the file)')
      .option('--expires-hours <h>', 'how long the proposal stays open (default 168, a week)', parsePositiveInt('--expires-hours', 2160)),
  ).action(async (action: string, o: ProposeFlags) => {
    if (!(COUNCIL_ACTIONS as readonly string[]).includes(action)) throw new SwarmError('CLI_BAD_FLAG', `"${action}" is not an action; one of ${COUNCIL_ACTIONS.join(', ')}`, { action });
    const a = action as CouncilAction;
    const c = await client(o.tracker);
    const p = await propose(c, proposalFromFlags(a, o));
    // the text of a new CLA, stored as a content-addressed blob, is what GET /api/cla serves once the version is current (best effort)
    const stored = a === 'cla' && o.claFile !== undefined ? await c.putBlob(readFileSync(o.claFile)).then(() => true, () => false) : undefined;
    out(o.json, p, () => [
      ...proposalLines(p),
      ...(stored === false ? [`the tracker did not store the text (only registered providers and trainers upload blobs); it will serve the version's hash only`] : []),
      `members vote with: swarm council vote ${p.id} --approve --tracker ${o.tracker}`,
    ]);
  });

  tracker(
    council
      .command('vote')
      .argument('<id>', 'the proposal, e.g. proposal-3')
      .description('approve or reject a proposal; the vote is a ledger entry signed by your identity')
      .option('--approve', 'vote for it')
      .option('--reject', 'vote against it'),
  ).action(async (id: string, o: { tracker: string; approve?: boolean; reject?: boolean; json?: boolean }) => {
    if (o.approve === o.reject) throw new SwarmError('CLI_BAD_FLAG', 'give exactly one of --approve and --reject', { flag: '--approve' });
    const p = await vote(await client(o.tracker), id, o.approve === true ? 'approve' : 'reject');
    out(o.json, p, () => proposalLines(p));
  });

  tracker(
    council
      .command('list')
      .description('the tracker\'s proposals, newest first')
      .option('--status <status>', `only ${PROPOSAL_STATUSES.join(', ')}`, parseChoice('--status', PROPOSAL_STATUSES)),
  ).action(async (o: { tracker: string; status?: ProposalStatus; json?: boolean }) => {
    const c = await client(o.tracker);
    const q = o.status === undefined ? '' : `?status=${o.status}`;
    const { proposals } = await c.getJson<{ proposals: ProposalView[] }>(`/api/council/proposals${q}`);
    out(o.json, { proposals }, () => (proposals.length === 0 ? ['no proposals'] : proposals.flatMap(proposalLines)));
  });

  tracker(council.command('show').argument('<id>', 'the proposal').description('one proposal, its votes and status')).action(
    async (id: string, o: { tracker: string; json?: boolean }) => {
      const p = await (await client(o.tracker)).getJson<ProposalView>(`/api/council/proposals/${encodeURIComponent(id)}`);
      out(o.json, p, () => proposalLines(p));
    },
  );

  tracker(council.command('members').description('the council\'s members, threshold and released models')).action(async (o: { tracker: string; json?: boolean }) => {
    const c = await client(o.tracker);
    const view = await c.getJson<CouncilView>('/api/council');
    const { releases } = await c.getJson<{ releases: ReleaseView[] }>('/api/releases');
    out(o.json, { ...view, releases }, () =>
      !view.formed
        ? ['this tracker has no council (start it with --council KEYID)']
        : [
            `threshold ${view.threshold} of ${view.members.length}`,
            ...view.members.map((m) => `  ${m}`),
            ...(releases.length === 0 ? [] : ['released models:', ...releases.map((r) => `  ${r.name}  checkpoint ${r.checkpoint.slice(0, 16)}…  (${r.decision})`)]),
          ],
    );
  });
}
