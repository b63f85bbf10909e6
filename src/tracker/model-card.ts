/**
 * The model card of a release (issue 20; DESIGN.md "Release"): what a named
 * model version is, generated from the ledger and the run that made it, so
 * every number on it can be checked against a signed entry.
 *
 *  - the checkpoint, and the run round that closed with it (runs.progress
 *    history), its eval loss (the eval unit of θ_round) and the corpus's
 *    entropy floor (the run spec's, when the corpus is synthetic);
 *  - the run's spec: model shape and parameter count, DiLoCo's K and H,
 *    replication, the data: the shard blobs of the rounds that made the
 *    checkpoint (one digest for them all, the hashes themselves when few)
 *    and the evaluation windows. The spec names no tokenizer: the tracker
 *    only ever sees token ids (diloco-spec.ts), so the card says null;
 *  - contributors: the run's credit-granted entries sequenced BEFORE the
 *    checkpoint-published entry, i.e. the verified work the checkpoint was
 *    built on as the log recorded it when it was published, per provider:
 *    valid replicas (one credit-granted entry each), credit, share;
 *  - the council's decision: proposer, threshold, the approvals (member
 *    keys and their signatures, read from the decision entry itself), and
 *    the leaf indices of the proposal, the decision and the checkpoint's
 *    entry, for links to the log.
 *
 * Read-only and bounded: the ledger is read by primary key (seq) only. The
 * log has no index by run or checkpoint, so the range that can hold the
 * run's entries is found by binary search over created_at (stats.ts
 * firstSeqSince: the sequencer numbers entries in commit order), started
 * SLACK_MS early for clock differences between tracker processes; within
 * it, rows are filtered on the canonical JSON's bytes (RFC 8785: fixed key
 * order, no whitespace) before any is parsed.
 */
import { utf8Encode } from '../core/encoding.ts';
import { SwarmError } from '../core/errors.ts';
import { sha256Hex } from '../core/sha256.ts';
import { decodeEntry } from '../ledger/entry.ts';
import type { CouncilProposalBody } from '../ledger/entry.ts';
import { PRESETS } from '../model/config.ts';
import type { ModelConfig } from '../model/config.ts';
import { paramCount } from '../model/llama.ts';
import type { ModelCard, ModelCardApproval, ModelCardContributor } from '../protocol/views.ts';
import type { DilocoRunSpec, RunProgress } from './runs/diloco-spec.ts';
import type { ReleaseRow } from './council.ts';
import { firstSeqSince } from './stats.ts';
import { ledgerSize } from './ledger/store.ts';
import type { Queryable } from './storage/db.ts';

export type { ModelCard } from '../protocol/views.ts';

/** How far before a time the range search starts (clock differences between tracker processes). */
const SLACK_MS = 60_000;
/** The checkpoint's entry is looked for this many entries past where its round closed, at most. */
const CHECKPOINT_SCAN = 100_000;
/** Shard hashes listed one by one up to this many (a digest always). */
const MAX_LISTED_SHARDS = 16;


interface ProposalRow {
  id: string;
  body: CouncilProposalBody;
  proposer: string;
  opened_at: string;
  decided_at: string | null;
  proposal_leaf: Uint8Array;
  decision_leaf: Uint8Array | null;
}

/** The card of release `name`; COUNCIL_UNKNOWN_RELEASE when there is none. */
export async function modelCard(db: Queryable, name: string): Promise<ModelCard> {
  const releases = await db.query<ReleaseRow & Record<string, unknown>>('SELECT name, checkpoint, run_id, decision, released_at FROM releases WHERE name = $1', [name]);
  if (releases.length === 0) throw new SwarmError('COUNCIL_UNKNOWN_RELEASE', `no released model named ${name}`, { name });
  const rel = releases[0]!;
  const proposals = await db.query<ProposalRow & Record<string, unknown>>(
    'SELECT id, body, proposer, opened_at, decided_at, proposal_leaf, decision_leaf FROM council_proposals WHERE id = $1',
    [rel.decision],
  );
  const proposal = proposals[0];
  const size = await ledgerSize(db);
  const proposalIndex = proposal === undefined ? null : await leafIndex(db, proposal.proposal_leaf);
  const decisionIndex = proposal?.decision_leaf == null ? null : await leafIndex(db, proposal.decision_leaf);
  const approvals = decisionIndex === null ? [] : await decisionApprovals(db, decisionIndex);

  const runs = rel.run_id === null ? [] : await db.query<{ spec: DilocoRunSpec; progress: RunProgress | null; created_at: string }>(
    'SELECT spec, progress, created_at FROM runs WHERE id = $1',
    [rel.run_id],
  );
  const runRow = runs[0];
  const spec = runRow?.spec;
  const record = runRow?.progress?.history.find((h) => h.checkpoint === rel.checkpoint);

  const card: ModelCard = {
    name: rel.name,
    checkpoint: rel.checkpoint,
    blob: `/api/blobs/${rel.checkpoint}`,
    releasedAt: Number(rel.released_at),
    run: null,
    model: spec === undefined ? null : modelOf(spec.config),
    training: spec === undefined ? null : {
      slots: spec.slots, innerSteps: spec.innerSteps, batch: spec.batch, seqLen: spec.seqLen, replication: spec.replication,
      innerLr: spec.adamw.lr, outer: { lr: spec.outer.lr, momentum: spec.outer.momentum }, aggregate: spec.aggregate.kind, init: spec.init,
    },
    data: null,
    eval: null,
    contributors: [],
    work: null,
    council: {
      decision: rel.decision,
      proposer: proposal?.proposer ?? '',
      threshold: proposal?.body.threshold ?? 0,
      openedAt: proposal === undefined ? 0 : Number(proposal.opened_at),
      enactedAt: proposal?.decided_at == null ? null : Number(proposal.decided_at),
      approvals,
    },
    ledger: { proposalIndex, decisionIndex, checkpointIndex: null },
  };
  if (rel.run_id === null || runRow === undefined || spec === undefined || record === undefined) return card;

  // the checkpoint is θ_{r+1}: the state after round r (0-based) closed, as its checkpoint-published entry numbers it
  const round = record.round + 1;
  card.run = {
    id: rel.run_id, label: spec.label, round, roundsPlanned: spec.rounds, closedAt: record.closedAt,
    slots: record.slots, dropped: record.dropped, status: runRow.progress!.status,
  };
  const shards = spec.shards.slice(0, round);
  const shardCount = shards.reduce((a, r) => a + r.length, 0);
  card.data = {
    shardCount,
    shardsDigest: sha256Hex(utf8Encode(JSON.stringify(shards))),
    shards: shardCount <= MAX_LISTED_SHARDS ? shards : null,
    eval: spec.eval?.data ?? null,
    tokenizer: null,
  };
  card.eval = { loss: runRow.progress!.evalLoss[String(round)] ?? null, trainLoss: record.trainLoss, entropyFloor: spec.entropyFloor };

  const checkpointIndex = await checkpointEntry(db, rel.run_id, rel.checkpoint, record.closedAt, size);
  card.ledger.checkpointIndex = checkpointIndex;
  if (checkpointIndex !== null) {
    const from = await firstSeqSince(db, Number(runRow.created_at) - SLACK_MS, size);
    card.contributors = await contributors(db, rel.run_id, from, checkpointIndex);
    card.work = {
      credit: card.contributors.reduce((a, c) => a + c.credit, 0),
      validReplicas: card.contributors.reduce((a, c) => a + c.validReplicas, 0),
      fromIndex: from,
      toIndex: checkpointIndex,
    };
  }
  return card;
}

/** Leaf index of the entry whose leaf hash is `hash` (UNIQUE), or null before it is sequenced. */
async function leafIndex(db: Queryable, hash: Uint8Array): Promise<number | null> {
  const rows = await db.query<{ seq: string }>('SELECT seq FROM ledger_entries WHERE leaf_hash = $1', [hash]);
  return rows.length === 0 ? null : Number(rows[0]!.seq);
}

/** The members' signatures, as the decision entry at `index` carries them. */
async function decisionApprovals(db: Queryable, index: number): Promise<ModelCardApproval[]> {
  const rows = await db.query<{ leaf_input: Uint8Array }>('SELECT leaf_input FROM ledger_entries WHERE seq = $1', [index]);
  if (rows.length === 0) return [];
  const e = decodeEntry(new Uint8Array(rows[0]!.leaf_input));
  return e.kind === 'council-decision' ? e.body.approvals.map((a) => ({ key: a.key, sig: a.sig })) : [];
}

/**
 * Leaf index of the run's checkpoint-published entry naming `checkpoint`:
 * appended when its round closed (`closedAt`), so found from there, within
 * CHECKPOINT_SCAN entries; every candidate is decoded and checked.
 */
async function checkpointEntry(db: Queryable, run: string, checkpoint: string, closedAt: number, size: number): Promise<number | null> {
  const from = await firstSeqSince(db, closedAt - SLACK_MS, size);
  const rows = await db.query<{ seq: string; leaf_input: Uint8Array }>(
    `SELECT seq, leaf_input FROM ledger_entries
      WHERE seq >= $1 AND seq < $2
        AND position(convert_to($3, 'UTF8') in leaf_input) > 0
        AND position(convert_to('"kind":"checkpoint-published"', 'UTF8') in leaf_input) > 0
      ORDER BY seq LIMIT 8`,
    [from, from + CHECKPOINT_SCAN, `"checkpoint":"${checkpoint}"`],
  );
  for (const r of rows) {
    const e = decodeEntry(new Uint8Array(r.leaf_input));
    if (e.kind === 'checkpoint-published' && e.body.checkpoint === checkpoint && e.body.run === run) return Number(r.seq);
  }
  return null;
}

/** Credit-granted entries of `run` in [from, to), per provider, largest credit first. */
async function contributors(db: Queryable, run: string, from: number, to: number): Promise<ModelCardContributor[]> {
  const rows = await db.query<{ provider: string; n: string; credit: string; name: string | null }>(
    `SELECT x.provider, count(*) AS n, sum(x.amount) AS credit, p.name
       FROM (SELECT e->'body'->>'provider' AS provider, (e->'body'->>'amount')::numeric AS amount
               FROM (SELECT convert_from(leaf_input, 'UTF8')::jsonb AS e FROM ledger_entries
                      WHERE seq >= $1 AND seq < $2
                        AND position(convert_to('"kind":"credit-granted"', 'UTF8') in leaf_input) > 0
                        AND position(convert_to($3, 'UTF8') in leaf_input) > 0) y
              WHERE e->>'kind' = 'credit-granted' AND e->'body'->>'run' = $4) x
       LEFT JOIN providers p ON p.key_id = x.provider
      GROUP BY x.provider, p.name
      ORDER BY sum(x.amount) DESC, x.provider`,
    [from, to, `"run":${JSON.stringify(run)}`, run],
  );
  const total = rows.reduce((a, r) => a + Number(r.credit), 0);
  return rows.map((r) => ({
    provider: r.provider,
    name: r.name,
    validReplicas: Number(r.n),
    credit: Number(r.credit),
    share: total === 0 ? 0 : Number(r.credit) / total,
  }));
}

/** The config's shape and size, and the preset it is (the vocabulary is the tokenizer's, so it may differ). */
function modelOf(c: ModelConfig): NonNullable<ModelCard['model']> {
  const same = (p: ModelConfig): boolean => (Object.keys(p) as Array<keyof ModelConfig>).every((k) => k === 'vocabSize' || p[k] === c[k]);
  const preset = Object.entries(PRESETS).find(([, p]) => same(p))?.[0] ?? null;
  return {
    preset, vocabSize: c.vocabSize, dim: c.dim, hiddenDim: c.hiddenDim, nLayers: c.nLayers, nHeads: c.nHeads, nKvHeads: c.nKvHeads,
    maxSeqLen: c.maxSeqLen, tiedEmbeddings: c.tiedEmbeddings, params: paramCount(c),
  };
}
