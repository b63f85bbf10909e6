/**
 * The JSON the tracker's read API answers (src/tracker/http/app.ts,
 * dashboard-api.ts), as types: written by the tracker (stats.ts,
 * explore.ts, standings.ts) and read by the dashboard (src/web), which may
 * import protocol but not the tracker (DESIGN.md, Layout). Types only, no
 * I/O, no imports: the browser build reads this file as it is.
 */

/** A signed tree head as /ledger/v1/get-sth serves it (RFC 6962 §4.3 field names). */
export interface SthJson {
  tree_size: number;
  timestamp: number;
  sha256_root_hash: string;
  tree_head_signature: string;
  key_id: string;
}

export interface SwarmBucket {
  /** start of the bucket, ms since the epoch */
  t: number;
  issued: number;
  verified: number;
  rejected: number;
  /** FLOPs of the units whose results were verified in the bucket (each valid replica counts its unit's work) */
  flops: number;
  /** most providers seen online in the bucket (sampled at each refresh; null when none was taken) */
  online: number | null;
}

export interface RunSummary {
  id: string;
  label: string;
  status: string;
  /** the round being trained (0-based), as /api/runs/:id progress.round */
  round: number;
  rounds: number;
  roundsDone: number;
  /** eval loss of the newest θ_r that has one, and that r */
  evalLoss: number | null;
  evalRound: number | null;
  entropyFloor: number | null;
}

export interface SwarmSnapshot {
  /** when it was computed (ms since the epoch) */
  at: number;
  providers: { online: number; registered: number };
  /** counts over the last RATE_WINDOW_MS */
  lastMinute: { windowMs: number; issued: number; verified: number; rejected: number; verifiedFlopsPerSecond: number };
  /** BUCKET_MS buckets, oldest first, over HISTORY_MS */
  series: SwarmBucket[];
  bucketMs: number;
  runs: RunSummary[];
  ledger: {
    size: number;
    /** the newest signed tree head (the /ledger/v1/get-sth fields), null before the first */
    head: SthJson | null;
  };
}

export interface ReplicaView {
  provider: string;
  providerName: string | null;
  state: string;
  verdict: string | null;
  resultHash: string | null;
  issuedAt: number;
}

export interface RunUnitView {
  id: string;
  kind: string;
  round: number;
  slot: number;
  status: string;
  canonicalHash: string | null;
  flops: number;
  replicas: ReplicaView[];
}

/** GET /api/runs/:id/units */
export interface RunUnits {
  run: string;
  rounds: number[];
  units: RunUnitView[];
}

/**
 * The software a provider said it runs at its latest registration (issue
 * 18; the wire's ClientInfoSchema in schemas.ts, restated here because this
 * file imports nothing). Self-reported: shown, never trusted.
 */
export interface ClientView {
  kind: 'node' | 'browser';
  /** e.g. "node 20.20.2", "Chromium 150" */
  engine: string;
}

export interface ProviderStatus {
  providerId: string;
  name: string | null;
  team: string | null;
  credit: number;
  rac: number;
  valid: number;
  invalid: number;
  reputation: number;
  /** banned by a council decision (issue 20): its id, else null */
  banned: boolean;
  bannedBy: string | null;
  /** null: unknown (a client that did not say, or a registration older than the field) */
  client: ClientView | null;
}

export interface TeamStanding {
  team: string;
  members: number;
  credit: number;
  rac: number;
}

/** GET /api/leaderboard */
export interface Leaderboard {
  providers: ProviderStatus[];
  teams: TeamStanding[];
}

/** A model the council released (GET /api/releases, /api/releases/:name; issue 20) */
export interface ReleaseView {
  name: string;
  checkpoint: string;
  run: string | null;
  decision: string;
  releasedAt: number;
}

/** One contributor of a released checkpoint: the verified work it did on the run before the checkpoint was published. */
export interface ModelCardContributor {
  provider: string;
  name: string | null;
  /** its valid replicas: one credit-granted entry each */
  validReplicas: number;
  /** credit those entries granted (FLOPs of verified work) */
  credit: number;
  /** credit / the total over all contributors (the shares sum to 1) */
  share: number;
}

/** A council member's signature on the release decision (ledger/council.ts), as the decision entry lists it. */
export interface ModelCardApproval {
  key: string;
  /** base64 Ed25519 signature over the proposal (council.ts councilDecisionBytes) */
  sig: string;
}

/**
 * GET /api/releases/:name/card: a released model's card, generated from the
 * ledger and the run it came from (src/tracker/model-card.ts). `*Index`
 * fields are leaf indices of ledger entries (GET /api/ledger/entries/:index),
 * null when the entry is not (yet) in the log.
 */
export interface ModelCard {
  name: string;
  /** the released checkpoint: the run's global state blob (θ and outer momentum) after `round` */
  checkpoint: string;
  /** where to download it */
  blob: string;
  releasedAt: number;
  run: {
    id: string;
    label: string;
    /** the checkpoint is θ_round: the state after `round` outer rounds (the checkpoint-published entry's round) */
    round: number;
    roundsPlanned: number;
    /** when the round that made it closed */
    closedAt: number;
    /** slots aggregated into it and those dropped */
    slots: number[];
    dropped: number[];
    status: string;
  } | null;
  model: {
    /** the preset whose shape the config has (vocabulary aside), or null */
    preset: string | null;
    vocabSize: number;
    dim: number;
    hiddenDim: number;
    nLayers: number;
    nHeads: number;
    nKvHeads: number;
    maxSeqLen: number;
    tiedEmbeddings: boolean;
    params: number;
  } | null;
  training: {
    /** K slots, H inner steps per round */
    slots: number;
    innerSteps: number;
    batch: number;
    seqLen: number;
    replication: number;
    innerLr: number;
    outer: { lr: number; momentum: number };
    aggregate: string;
    /** θ_0's params blob */
    init: string;
  } | null;
  data: {
    /** shard blobs (rounds × slots) of the rounds that made the checkpoint */
    shardCount: number;
    /** SHA-256 (hex) of the JSON array of those shard hashes, round by round: one hash for them all */
    shardsDigest: string;
    /** the hashes themselves when there are few (at most 16), else null */
    shards: string[][] | null;
    /** the evaluation windows' shard blob, or null */
    eval: string | null;
    /** the run spec names no tokenizer: its shards are token ids already (vocabulary size in `model`) */
    tokenizer: string | null;
  } | null;
  eval: {
    /** eval loss of θ_round (nats per token), null if it was not scored */
    loss: number | null;
    /** mean last inner loss of the round's units */
    trainLoss: number | null;
    /** the corpus's entropy floor, when the run recorded one */
    entropyFloor: number | null;
  } | null;
  contributors: ModelCardContributor[];
  /** total credit of the contributors, and the ledger range it was read from (the run's entries before the checkpoint's) */
  work: { credit: number; validReplicas: number; fromIndex: number; toIndex: number } | null;
  council: {
    decision: string;
    proposer: string;
    threshold: number;
    openedAt: number;
    enactedAt: number | null;
    approvals: ModelCardApproval[];
  };
  ledger: {
    proposalIndex: number | null;
    decisionIndex: number | null;
    checkpointIndex: number | null;
  };
}
