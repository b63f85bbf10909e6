/**
 * What the join page and its provider workers say to each other (issue 18).
 * One provider worker per thread the owner lends (./loop-worker.ts); each
 * runs the same ProviderLoop as `swarm provide`, and each unit runs in a
 * worker of its own (provider/browser/unit-worker.ts).
 */
import type { ProviderStatusLine } from '../../provider/status.ts';

export interface StartMessage {
  type: 'start';
  /** which of the page's workers this is (0 registers first and signs the CLA) */
  index: number;
  trackerUrl: string;
  /** the identity's 32-byte Ed25519 seed (IndexedDB, ./identity.ts) */
  seed: Uint8Array;
  name: string;
  team?: string;
  /** the browser engine, e.g. "Chromium 150": recorded by the tracker with the client kind */
  engine: string;
  /** budget of one unit, MiB (web-worker-sandbox.ts refuses a unit that would exceed it) */
  memoryMb: number;
  /** URL of the unit worker's script */
  unitWorkerUrl: string;
  /** sign the tracker's CLA after registering (the page's checkbox) */
  acceptCla: boolean;
  maxCpu: number;
  paused: boolean;
  /** seeds the loop's back-off jitter */
  rngSeed: number;
  /**
   * Flip one byte of every result before it is reported. ONLY for the test
   * that plays a cheating browser (test/web/join.test.ts): the page never
   * sets it; a cheater could patch the bundle anyway, which is why results
   * are compared by a quorum.
   */
  tamperForTest?: boolean;
}

export type PageToWorker =
  | StartMessage
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'max-cpu'; maxCpu: number }
  | { type: 'stop' };

export type WorkerToPage =
  | { type: 'registered'; index: number; providerId: string }
  | { type: 'status'; index: number; status: ProviderStatusLine }
  | { type: 'log'; index: number; line: string }
  /** the loop ended for good: a refusal (banned, CLA) or an error it cannot retry */
  | { type: 'ended'; index: number; code: string; message: string };
