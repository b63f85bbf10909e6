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
