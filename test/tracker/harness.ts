/**
 * A tracker in one process for tests: PGlite in memory (or PostgreSQL when
 * asked), migrations, a ManualClock, the real service and HTTP app, and
 * clients whose fetch goes straight to app.fetch (no sockets).
 */
import { ManualClock } from '../../src/core/clock.ts';
import { keyPairFromSeed } from '../../src/ledger/keys.ts';
import type { Ed25519KeyPair } from '../../src/ledger/keys.ts';
import { preset } from '../../src/model/config.ts';
import { MemoryNonceStore } from '../../src/protocol/nonce-store.ts';
import { TrackerClient } from '../../src/provider/client.ts';
import { createTrackerApp } from '../../src/tracker/http/app.ts';
import type { TrackerAppOptions } from '../../src/tracker/http/app.ts';
import { DilocoRuns } from '../../src/tracker/runs/diloco.ts';
import { TrackerService } from '../../src/tracker/service.ts';
import type { TrackerServiceOptions } from '../../src/tracker/service.ts';
import { migrate } from '../../src/tracker/storage/migrations.ts';
import { openPostgres } from '../../src/tracker/storage/db.ts';
import { T0, templatePglite } from '../pglite-template.ts';
import { freshDatabase } from './ledger/backends.ts';
import type { Db } from '../../src/tracker/storage/db.ts';
import { paramCount } from '../../src/model/llama.ts';
import { encodeParamsBlob } from '../../src/train/work/params-blob.ts';
import { encodeShardBlob } from '../../src/train/work/shard-blob.ts';
import { Prng } from '../../src/core/prng.ts';
import { sha256Hex } from '../../src/core/sha256.ts';
import type { Hono } from 'hono';

export { T0 };

/**
 * The harness's registration difficulty: low, so tests stay fast, but not 0,
 * so every registration in the tests still solves and sends a proof of work.
 */
export const HARNESS_POW_BITS = 6;

export function keyOf(n: number): Ed25519KeyPair {
  return keyPairFromSeed(new Uint8Array(32).fill(n));
}

export interface Harness {
  db: Db;
  clock: ManualClock;
  service: TrackerService;
  runs: DilocoRuns;
  app: Hono;
  trackerKey: Ed25519KeyPair;
  trainerKey: Ed25519KeyPair;
  client(key: Ed25519KeyPair): TrackerClient;
  close(): Promise<void>;
}

/** PGlite in memory, or a fresh PostgreSQL database of its own per suite (no races with other files). */
export async function freshDb(kind: 'pglite' | 'postgres', suite: string): Promise<Db> {
  if (kind === 'pglite') return templatePglite();
  return openPostgres(await freshDatabase(`swarm_test_${suite}`));
}

/**
 * `app` overrides the HTTP app's options; by default rate limits are off
 * (the ManualClock stands still, so no bucket would ever refill: the rate
 * limit tests turn them on) and the difficulty is HARNESS_POW_BITS.
 */
export async function startHarness(o: {
  db?: 'pglite' | 'postgres';
  suite: string;
  service?: Partial<TrackerServiceOptions>;
  app?: Partial<Omit<TrackerAppOptions, 'service' | 'clock' | 'nonces'>>;
}): Promise<Harness> {
  const db = await freshDb(o.db ?? 'pglite', o.suite);
  await migrate(db, { now: T0 });
  const clock = new ManualClock(T0);
  const trackerKey = keyOf(200);
  const trainerKey = keyOf(201);
  let runs: DilocoRuns | undefined;
  const service = new TrackerService({
    db, clock, key: trackerKey, spotCheckSeed: 7, trainers: [trainerKey.keyId], leaseMs: 60_000,
    onUnitValid: (u) => {
      void runs?.advance(u.runId).catch(() => undefined);
    },
    ...o.service,
  });
  runs = new DilocoRuns(service);
  const app = createTrackerApp({ service, clock, runs, nonces: new MemoryNonceStore({ clock }), rateLimits: 'off', registrationDifficulty: HARNESS_POW_BITS, ...o.app });
  let nonce = 0;
  const client = (key: Ed25519KeyPair): TrackerClient =>
    new TrackerClient({
      baseUrl: 'http://tracker.test',
      key,
      clock,
      nonce: () => {
        const b = new Uint8Array(16);
        new DataView(b.buffer).setUint32(0, ++nonce);
        return b;
      },
      fetch: ((url: string | URL | Request, init?: RequestInit) => app.fetch(new Request(url, init))) as typeof fetch,
    });
  return { db, clock, service, runs, app, trackerKey, trainerKey, client, close: () => db.close() };
}

/** A small real eval unit on the nano preset: its blobs and spec. */
export function nanoEvalUnit(seed = 1): { blobs: Uint8Array[]; spec: Record<string, unknown> } {
  const config = preset('nano');
  const rng = Prng.fromSeed(seed);
  const params = new Float32Array(paramCount(config));
  for (let i = 0; i < params.length; i++) params[i] = (rng.nextFloat() - 0.5) * 0.04;
  const seqLen = 16;
  const windows = 4;
  const tokens = new Int32Array(windows * (seqLen + 1));
  for (let i = 0; i < tokens.length; i++) tokens[i] = rng.nextInt(config.vocabSize);
  const p = encodeParamsBlob(config, params);
  const d = encodeShardBlob(tokens, seqLen);
  return { blobs: [p, d], spec: { kind: 'eval', v: 1, config, params: sha256Hex(p), data: sha256Hex(d), seqLen, windows, batch: 2 } };
}
