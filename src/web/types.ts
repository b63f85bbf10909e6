/**
 * The JSON the pages read, as the tracker's API documents it (src/tracker/
 * http/app.ts, dashboard-api.ts, ledger/wire.ts). Declared here because web
 * may not import the tracker (DESIGN.md, Layout); only the members the pages
 * use are listed, and every value is treated as untrusted text when shown.
 */

/** src/ledger/entry.ts ENTRY_KINDS (test/web/routes.test.ts keeps the two equal). */
export const ENTRY_KINDS = [
  'provider-registered',
  'unit-issued',
  'result-submitted',
  'verdict',
  'credit-granted',
  'checkpoint-published',
  'council-decision',
] as const;

export interface SwarmBucket {
  t: number;
  issued: number;
  verified: number;
  rejected: number;
  flops: number;
  online: number | null;
}

export interface RunSummary {
  id: string;
  label: string;
  status: string;
  round: number;
  rounds: number;
  roundsDone: number;
  evalLoss: number | null;
  evalRound: number | null;
  entropyFloor: number | null;
}

export interface SthJson {
  tree_size: number;
  timestamp: number;
  sha256_root_hash: string;
  tree_head_signature: string;
  key_id: string;
}

/** GET /api/swarm */
export interface SwarmSnapshot {
  at: number;
  providers: { online: number; registered: number };
  lastMinute: { windowMs: number; issued: number; verified: number; rejected: number; verifiedFlopsPerSecond: number };
  series: SwarmBucket[];
  bucketMs: number;
  runs: RunSummary[];
  ledger: { size: number; head: SthJson | null };
}

export interface RoundRecord {
  round: number;
  checkpoint: string;
  slots: number[];
  dropped: number[];
  trainLoss: number | null;
  bytesDown: number;
  bytesUp: number;
  bytesOneReplica?: number;
  closedAt: number;
}

/** GET /api/runs/:id */
export interface RunView {
  id: string;
  owner: string | null;
  spec: { label: string; rounds: number; slots: number; innerSteps: number; replication: number; entropyFloor: number | null; config: { dim?: number; layers?: number } };
  progress: { status: string; round: number; state: string; params: string; history: RoundRecord[]; evalLoss: Record<string, number>; message?: string };
  waiting?: { round: number; stalled: boolean; reasons: string[]; deadline: number };
}

export interface ReplicaView {
  provider: string;
  providerName: string | null;
  state: string;
  verdict: string | null;
  resultHash: string | null;
  issuedAt: number;
}

/** GET /api/runs/:id/units */
export interface RunUnits {
  run: string;
  rounds: number[];
  units: Array<{ id: string; kind: string; round: number; slot: number; status: string; canonicalHash: string | null; flops: number; replicas: ReplicaView[] }>;
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
}

/** GET /api/leaderboard */
export interface Leaderboard {
  providers: ProviderStatus[];
  teams: Array<{ team: string; members: number; credit: number; rac: number }>;
}

/** GET /api/providers/:id/replicas */
export interface ProviderReplicas {
  provider: string;
  replicas: Array<{ unit: string; run: string | null; kind: string; round: number; slot: number; state: string; verdict: string | null; issuedAt: number }>;
}

export interface LedgerEntryView {
  index: number;
  createdAt: number;
  leafInput: string;
  canonical: string;
}

/** GET /api/ledger/entries */
export interface LedgerPage {
  entries: LedgerEntryView[];
  next: number | null;
}

/** GET /api/info */
export interface TrackerInfo {
  protocol: number | string;
  trackerKey: string;
  trackerKeyId: string;
}
