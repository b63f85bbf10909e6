/**
 * `swarm bench tracker [--db URL] [--protocol single|batch|both] [--batch N]
 * [--providers N] [--units N] --json`: drives a tracker over loopback HTTP
 * with simulated providers and prints, per protocol, operations per second
 * (one operation = one unit replica assigned, or its result accepted),
 * request latency (p50, p99) and the CPU time per operation spent by the
 * tracker, the load generator and PostgreSQL (issue 16; issue 5 measured
 * the same split by hand). With `both` (the default) the two protocols run
 * one after the other on fresh databases in the same invocation, and
 * `batchVsSingle` is the ratio of their operations per second: a ratio, not
 * a time, since the machine's speed varies.
 *
 * The tracker is the real one (service, HTTP app, signatures, ledger
 * entries, head signing); the providers are real signed clients that skip
 * the compute: each returns a result derived from the unit id, so every pair
 * of replicas agrees and every unit validates. New identities are always
 * replicated, so a unit costs two assignments and two results.
 *
 * The providers run in a child process (bench-tracker-load.ts), so the
 * tracker's process only serves. They still share this machine's cores with
 * the tracker and the database: the figures are a lower bound for a tracker
 * on its own machine. PGlite runs inside the tracker's process, so on PGlite
 * the database's CPU is part of the tracker's.
 */
import { fork, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { systemClock } from '../core/clock.ts';
import { SwarmError } from '../core/errors.ts';
import { keyPairFromSeed } from '../ledger/keys.ts';
import { preset } from '../model/config.ts';
import { TrackerClient } from '../provider/client.ts';
import { sha256Hex } from '../core/sha256.ts';
import { paramCount } from '../model/llama.ts';
import { encodeParamsBlob } from '../train/work/params-blob.ts';
import { encodeShardBlob } from '../train/work/shard-blob.ts';
import { seedOf } from './bench-tracker-load.ts';
import type { LoadData, LoadProtocol, LoadResult } from './bench-tracker-load.ts';
import { startTracker } from './tracker.ts';

export const BENCH_PROTOCOLS = ['single', 'batch', 'both'] as const;
export type BenchProtocolChoice = (typeof BENCH_PROTOCOLS)[number];

export interface BenchTrackerOptions {
  /** postgres://… ; absent: a fresh PGlite in a temp directory */
  db?: string;
  providers: number;
  units: number;
  /** default both */
  protocol?: BenchProtocolChoice;
  /** units per scheduler request (protocol batch; default 8) */
  batch?: number;
  /** tracker processes on the one database (PostgreSQL only; default 1): the others run as `swarm tracker` children, and the providers are dealt round-robin */
  trackers?: number;
  /** results accepted so far, and the expected total (two per unit), per protocol run */
  onProgress?: (protocol: LoadProtocol, done: number, total: number) => void;
}

export interface BenchTrackerRun {
  protocol: LoadProtocol;
  /** units per request (1 for single) */
  batch: number;
  operationsPerSecond: number;
  assignPerSecond: number;
  submitPerSecond: number;
  assignments: number;
  submissions: number;
  /** signed requests per operation */
  requestsPerOperation: number;
  p50Ms: number;
  p99Ms: number;
  /** tracker processes that served */
  trackers: number;
  /** CPU ms per operation: the tracker processes' (with PGlite inside), the load generator's, PostgreSQL's (null on PGlite) */
  cpuMsPerOperation: { tracker: number; client: number; database: number | null };
  wallSeconds: number;
}

export interface BenchTrackerResult {
  db: 'pglite' | 'postgres';
  providers: number;
  units: number;
  runs: BenchTrackerRun[];
  /** batch operations/s over single operations/s (protocol both) */
  batchVsSingle: number | null;
}

const LOAD_ENTRY = new URL('./bench-tracker-load.mjs', import.meta.url);
const SWARM_BIN = fileURLToPath(new URL('../../bin/swarm.mjs', import.meta.url));

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}

/**
 * A process's name and CPU time (user + system, ms) from /proc/PID/stat
 * (proc(5): comm in parentheses; utime and stime, fields 14 and 15, in
 * clock ticks of USER_HZ = 100 on Linux); null when it cannot be read (not
 * Linux, or the process is gone).
 */
function procStat(pid: number | string): { comm: string; cpuMs: number } | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  const close = stat.lastIndexOf(')');
  const fields = stat.slice(close + 2).split(' ');
  return { comm: stat.slice(stat.indexOf('(') + 1, close), cpuMs: ((Number(fields[11]) + Number(fields[12])) / 100) * 1000 };
}

/** CPU time (ms) of every process named postgres on this machine; null where /proc cannot tell. */
function postgresCpuMs(): number | null {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return null;
  }
  let ms = 0;
  for (const pid of pids) {
    const st = procStat(pid);
    if (st?.comm === 'postgres') ms += st.cpuMs;
  }
  return ms;
}

/** CPU time (ms) of process `pid` (0 where it cannot be read). */
function processCpuMs(pid: number): number {
  return procStat(pid)?.cpuMs ?? 0;
}

/** One more `swarm tracker` on the same database and home (so the same tracker key), as its own process. */
async function startTrackerProcess(home: string, db: string, trainer: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [SWARM_BIN, 'tracker', '--port', '0', '--host', '127.0.0.1', '--json', '--db', db, '--trainer', trainer, '--lease-ms', '600000'], {
    env: { ...process.env, SWARM_HOME: home }, stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      const m = /^(\{.*"url".*\})$/m.exec(buf);
      if (m !== null) resolve({ child, url: (JSON.parse(m[1]!) as { url: string }).url });
    });
    child.on('exit', (code) => reject(new Error(`a bench tracker process exited with code ${code} before it listened`)));
  });
}

/** Runs the load generator in its own process until every unit is done. */
function runLoad(data: LoadData, onProgress: (n: number) => void): { ready: Promise<void>; go: () => Promise<LoadResult>; kill: () => void } {
  // The entry registers tsx itself; the parent's flags (vitest's, tsx's) are not for it.
  const child = fork(LOAD_ENTRY, [], { execArgv: [], env: { ...process.env, SWARM_BENCH_LOAD_CHILD: '1' }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => { onReady = resolve; });
  const done = new Promise<LoadResult>((resolve, reject) => {
    child.on('message', (m: unknown) => {
      if (m === 'ready') return onReady();
      if (typeof m === 'object' && m !== null && 'progress' in m) return onProgress((m as { progress: number }).progress);
      const r = m as ({ ok: true } & LoadResult) | { ok: false; error: string };
      if (r.ok) resolve(r);
      else reject(new Error(`bench load process failed: ${r.error}`));
    });
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`bench load process exited with code ${code}`)));
  });
  done.catch(() => undefined);
  child.send({ start: data });
  return {
    ready: Promise.race([ready, done.then(() => undefined)]),
    go: () => {
      child.send('go');
      return done;
    },
    kill: () => child.kill('SIGKILL'),
  };
}

async function benchOne(o: BenchTrackerOptions, protocol: LoadProtocol): Promise<{ db: 'pglite' | 'postgres'; run: BenchTrackerRun }> {
  const home = mkdtempSync(join(tmpdir(), 'swarm-bench-tracker-'));
  const trainerKey = keyPairFromSeed(new Uint8Array(32).fill(250));
  const batch = protocol === 'batch' ? (o.batch ?? 8) : 1;
  try {
    if (o.db !== undefined) {
      // A clean slate: the bench's units and providers must not meet an old run's.
      const { openPostgres } = await import('../tracker/storage/db.ts');
      const db = await openPostgres(o.db);
      await db.query('DROP SCHEMA IF EXISTS public CASCADE');
      await db.query('CREATE SCHEMA public');
      await db.close();
    }
    const tracker = await startTracker({ port: 0, host: '127.0.0.1', home, db: o.db ?? join(home, 'db'), trainers: [trainerKey.keyId], leaseMs: 600_000 });
    const extra: Array<{ child: ChildProcess; url: string }> = [];
    try {
      for (let i = 1; i < (o.trackers ?? 1); i++) extra.push(await startTrackerProcess(home, o.db!, trainerKey.keyId));
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
      let done = 0;
      const urls = [tracker.url, ...extra.map((x) => x.url)];
      const load = runLoad({ urls, providers: Array.from({ length: o.providers }, (_, i) => i), protocol, batch }, (n) => {
        done += n;
        o.onProgress?.(protocol, done, o.units * 2);
      });
      let r: LoadResult;
      let wall: number;
      let trackerCpu: NodeJS.CpuUsage;
      let pgCpu: number | null = null;
      let extraCpu = 0;
      try {
        await load.ready;
        const pg0 = o.db === undefined ? null : postgresCpuMs();
        const extra0 = extra.map((x) => processCpuMs(x.child.pid!));
        const cpu0 = process.cpuUsage();
        const start = performance.now();
        r = await load.go();
        wall = (performance.now() - start) / 1000;
        trackerCpu = process.cpuUsage(cpu0);
        extraCpu = extra.reduce((a, x, i) => a + processCpuMs(x.child.pid!) - extra0[i]!, 0);
        const pg1 = o.db === undefined ? null : postgresCpuMs();
        pgCpu = pg0 === null || pg1 === null ? null : pg1 - pg0;
      } finally {
        load.kill();
      }
      const ops = r.assignments + r.submissions;
      const latencies = [...r.latencies].sort((a, b) => a - b);
      return {
        db: tracker.db.driver,
        run: {
          protocol,
          batch,
          trackers: urls.length,
          operationsPerSecond: ops / wall,
          assignPerSecond: r.assignments / wall,
          submitPerSecond: r.submissions / wall,
          assignments: r.assignments,
          submissions: r.submissions,
          requestsPerOperation: r.requests / ops,
          p50Ms: percentile(latencies, 0.5),
          p99Ms: percentile(latencies, 0.99),
          cpuMsPerOperation: {
            tracker: ((trackerCpu.user + trackerCpu.system) / 1000 + extraCpu) / ops,
            client: r.cpuMs / ops,
            database: pgCpu === null ? null : pgCpu / ops,
          },
          wallSeconds: wall,
        },
      };
    } finally {
      for (const x of extra) x.child.kill('SIGKILL');
      await tracker.close();
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

export async function benchTracker(o: BenchTrackerOptions): Promise<BenchTrackerResult> {
  if ((o.trackers ?? 1) > 1 && o.db === undefined) throw new SwarmError('CLI_BAD_FLAG', '--trackers above 1 needs --db postgres://… (PGlite is one process\'s database)');
  const choice = o.protocol ?? 'both';
  const protocols: LoadProtocol[] = choice === 'both' ? ['single', 'batch'] : [choice];
  const runs: BenchTrackerRun[] = [];
  let db: 'pglite' | 'postgres' = 'pglite';
  for (const p of protocols) {
    const one = await benchOne(o, p);
    db = one.db;
    runs.push(one.run);
  }
  const single = runs.find((r) => r.protocol === 'single');
  const batch = runs.find((r) => r.protocol === 'batch');
  return {
    db,
    providers: o.providers,
    units: o.units,
    runs,
    batchVsSingle: single !== undefined && batch !== undefined ? batch.operationsPerSecond / single.operationsPerSecond : null,
  };
}
