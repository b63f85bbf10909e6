/**
 * The JSON the pages read, as the tracker's API documents it (src/tracker/
 * http/app.ts, dashboard-api.ts, ledger/wire.ts). Declared here because web
 * may not import the tracker (DESIGN.md, Layout); only the members the pages
 * use are listed, and every value is treated as untrusted text when shown.
 * The read API's views live in src/protocol/views.ts (shared with the tracker).
 */
export type { Leaderboard, ModelCard, ModelCardContributor, ProviderStatus, ReleaseView, ReplicaView, RunSummary, RunUnits, SthJson, SwarmBucket, SwarmSnapshot } from '../protocol/views.ts';

/** The ledger's own list (src/ledger/entry-kinds.ts has no imports, so the browser build reads it). */
export { ENTRY_KINDS } from '../ledger/entry-kinds.ts';

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
