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
 * The load generator shares the machine (and, here, the process) with the
 * tracker and the database, so the figures are a lower bound for a tracker
 * on its own machine.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../core/clock.ts';
import { utf8Encode } from '../core/encoding.ts';
import { keyPairFromSeed } from '../ledger/keys.ts';
import { preset } from '../model/config.ts';
import { TrackerClient } from '../provider/client.ts';
import { sha256Hex } from '../core/sha256.ts';
import { paramCount } from '../train/unit.ts';
import { encodeParamsBlob } from '../train/work/params-blob.ts';
import { encodeShardBlob } from '../train/work/shard-blob.ts';
import { startTracker } from './tracker.ts';

export interface BenchTrackerOptions {
  /** postgres://… ; absent: a fresh PGlite in a temp directory */
  db?: string;
  providers: number;
  units: number;
  onProgress?: (done: number, total: number) => void;
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
      const clients = Array.from({ length: o.providers }, (_, i) => {
        const seed = new Uint8Array(32);
        new DataView(seed.buffer).setUint32(0, i + 1);
        return new TrackerClient({ baseUrl: tracker.url, key: keyPairFromSeed(seed), clock: systemClock });
      });
      for (const [i, c] of clients.entries()) await c.register(`bench-${i}`, { threads: 1, memoryBytes: 1 });
      const latencies: number[] = [];
      let assignments = 0;
      let submissions = 0;
      const total = o.units * 2;
      const timed = async <T>(f: () => Promise<T>): Promise<T> => {
        const t = performance.now();
        const v = await f();
        latencies.push(performance.now() - t);
        return v;
      };
      const start = performance.now();
      await Promise.all(clients.map(async (c) => {
        for (;;) {
          const w = await timed(() => c.work());
          if (w.unit === null) return;
          assignments++;
          const result = utf8Encode(`result of ${w.unit.unitId}`);
          await timed(() => c.submit({ unitId: w.unit!.unitId, runId: w.unit!.runId, result, metrics: {} }));
          submissions++;
          o.onProgress?.(submissions, total);
        }
      }));
      const wall = (performance.now() - start) / 1000;
      latencies.sort((a, b) => a - b);
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
        wallSeconds: wall,
      };
    } finally {
      await tracker.close();
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
