/**
 * `swarm bench tracker [--db URL] [--providers N] [--units N] --json`: drives
 * a tracker over loopback HTTP with many simulated providers and prints
 *   {"db":"pglite"|"postgres","assignPerSecond":X,"submitPerSecond":Y,"p99Ms":Z, ...}
 * (issue 5). The tracker is the real one (service, HTTP app, signatures,
 * ledger entries, head signing); the providers are real signed clients that
 * skip the compute: each returns a result derived from the unit id, so every
 * pair of replicas agrees and every unit validates. Every unit is issued
 * twice (new identities are always replicated), so one unit costs two
 * assignments, two blob uploads and two submissions.
 *
 * The simulated providers run on their own worker threads
 * (bench-tracker-load.ts; --load-threads, default 1) so the tracker's event
 * loop only serves, as it would with its providers elsewhere; they still
 * share this machine's cores with the tracker and the database, so the
 * figures are a lower bound for a tracker on its own machine.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../core/clock.ts';
import { keyPairFromSeed } from '../ledger/keys.ts';
import { preset } from '../model/config.ts';
import { Worker } from 'node:worker_threads';
import { TrackerClient } from '../provider/client.ts';
import { sha256Hex } from '../core/sha256.ts';
import { paramCount } from '../model/llama.ts';
import { encodeParamsBlob } from '../train/work/params-blob.ts';
import { encodeShardBlob } from '../train/work/shard-blob.ts';
import { seedOf } from './bench-tracker-load.ts';
import type { LoadThreadData, LoadThreadResult } from './bench-tracker-load.ts';
import { startTracker } from './tracker.ts';

export interface BenchTrackerOptions {
  /** postgres://… ; absent: a fresh PGlite in a temp directory */
  db?: string;
  providers: number;
  units: number;
  /** worker threads the simulated providers are spread over (default 1) */
  loadThreads?: number;
  /** submissions so far (in steps of 50) of the expected total (two per unit) */
  onProgress?: (done: number, total: number) => void;
}

const LOAD_ENTRY = new URL('./bench-tracker-load.mjs', import.meta.url);

interface LoadThread {
  worker: Worker;
  ready: Promise<void>;
  done: Promise<LoadThreadResult>;
}

function startLoadThread(data: LoadThreadData, onProgress: (n: number) => void): LoadThread {
  // The entry registers tsx itself; the parent's flags (vitest's, tsx's) are not for it.
  const worker = new Worker(LOAD_ENTRY, { workerData: data, execArgv: [] });
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => { onReady = resolve; });
  const done = new Promise<LoadThreadResult>((resolve, reject) => {
    worker.on('message', (m: unknown) => {
      if (m === 'ready') return onReady();
      if (typeof m === 'object' && m !== null && 'progress' in m) return onProgress((m as { progress: number }).progress);
      const r = m as ({ ok: true } & LoadThreadResult) | { ok: false; error: string };
      if (r.ok) resolve(r);
      else reject(new Error(`bench load thread failed: ${r.error}`));
    });
    worker.on('error', reject);
    worker.on('exit', (code) => reject(new Error(`bench load thread exited with code ${code}`)));
  });
  done.catch(() => undefined);
  return { worker, ready, done };
}

export interface BenchTrackerResult {
  db: 'pglite' | 'postgres';
  assignPerSecond: number;
  submitPerSecond: number;
  p99Ms: number;
  p50Ms: number;
  operationsPerSecond: number;
  assignments: number;
  submissions: number;
  units: number;
  providers: number;
  loadThreads: number;
  wallSeconds: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}

export async function benchTracker(o: BenchTrackerOptions): Promise<BenchTrackerResult> {
  const home = mkdtempSync(join(tmpdir(), 'swarm-bench-tracker-'));
  const trainerKey = keyPairFromSeed(new Uint8Array(32).fill(250));
  try {
    if (o.db !== undefined) {
      // A clean slate: the bench's units and providers must not meet an old run's.
      const { openPostgres } = await import('../tracker/storage/db.ts');
      const db = await openPostgres(o.db);
      await db.query('DROP SCHEMA IF EXISTS public CASCADE');
      await db.query('CREATE SCHEMA public');
      await db.close();
    }
    const tracker = await startTracker({
      port: 0,
      host: '127.0.0.1',
      home,
      db: o.db ?? join(home, 'db'),
      trainers: [trainerKey.keyId],
      leaseMs: 600_000,
    });
    try {
      const trainer = new TrackerClient({ baseUrl: tracker.url, key: trainerKey, clock: systemClock });
      const config = preset('nano');
      const params = encodeParamsBlob(config, new Float32Array(paramCount(config)));
      const data = encodeShardBlob(new Int32Array(4 * 17), 16);
      await trainer.putBlob(params);
      await trainer.putBlob(data);
      const spec = { kind: 'eval', v: 1, config, params: sha256Hex(params), data: sha256Hex(data), seqLen: 16, windows: 4, batch: 2 };
      for (let at = 0; at < o.units; at += 64) {
        const ids = Array.from({ length: Math.min(64, o.units - at) }, (_, i) => `b${at + i}`);
        await trainer.createUnits({ run: 'bench', units: ids.map((id) => ({ id, kind: 'eval' as const, spec })) });
      }
      for (let i = 0; i < o.providers; i++) {
        const c = new TrackerClient({ baseUrl: tracker.url, key: keyPairFromSeed(seedOf(i)), clock: systemClock });
        await c.register(`bench-${i}`, { threads: 1, memoryBytes: 1 });
      }
      const nThreads = Math.max(1, Math.min(o.loadThreads ?? 1, o.providers));
      let done = 0;
      const progress = (n: number): void => {
        done += n;
        o.onProgress?.(done, o.units * 2);
      };
      const threads = Array.from({ length: nThreads }, (_, t) =>
        startLoadThread({ url: tracker.url, providers: Array.from({ length: o.providers }, (_, i) => i).filter((i) => i % nThreads === t) }, progress));
      let results: LoadThreadResult[];
      let wall: number;
      try {
        await Promise.race([Promise.all(threads.map((t) => t.ready)), Promise.all(threads.map((t) => t.done))]);
        const start = performance.now();
        for (const t of threads) t.worker.postMessage('go');
        results = await Promise.all(threads.map((t) => t.done));
        wall = (performance.now() - start) / 1000;
      } finally {
        await Promise.all(threads.map((t) => t.worker.terminate()));
      }
      const latencies = results.flatMap((r) => r.latencies).sort((a, b) => a - b);
      const assignments = results.reduce((a, r) => a + r.assignments, 0);
      const submissions = results.reduce((a, r) => a + r.submissions, 0);
      return {
        db: tracker.db.driver,
        assignPerSecond: assignments / wall,
        submitPerSecond: submissions / wall,
        p99Ms: percentile(latencies, 0.99),
        p50Ms: percentile(latencies, 0.5),
        operationsPerSecond: (assignments + submissions) / wall,
        assignments,
        submissions,
        units: o.units,
        providers: o.providers,
        loadThreads: nThreads,
        wallSeconds: wall,
      };
    } finally {
      await tracker.close();
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
