/**
 * The load generator of `swarm bench tracker`: simulated providers (real
 * signed TrackerClients over loopback HTTP) that skip the compute, in a
 * PROCESS of their own (issue 16: "with the load generator in its own
 * process"), so the tracker's process only serves and the CPU each side
 * spends is measured apart (process.cpuUsage here, in the tracker, and
 * /proc for PostgreSQL).
 *
 * Two protocols, so one bench run compares them:
 *   single  the one-unit endpoints: POST /api/work, then PUT the result blob
 *           and POST /api/results (three signed requests per replica);
 *   batch   the scheduler request (POST /api/scheduler): each request
 *           reports the previous batch's results inline and leases the next
 *           `batch` units (one signed request per batch).
 *
 * Protocol with the parent (bench-tracker.ts, child_process.fork): the
 * parent sends {start: LoadData}; the child answers 'ready', waits for
 * 'go', drives every provider until the queue is empty, and sends its
 * counts, latencies and CPU time (and {progress: n} on the way).
 */
import { systemClock } from '../core/clock.ts';
import { utf8Encode } from '../core/encoding.ts';
import { keyPairFromSeed } from '../ledger/keys.ts';
import type { BatchedResult } from '../protocol/schemas.ts';
import { TrackerClient } from '../provider/client.ts';

export type LoadProtocol = 'single' | 'batch';

export interface LoadData {
  /** the trackers (one database); provider i talks to urls[i % urls.length] */
  urls: string[];
  /** provider numbers i; provider i's key comes from seedOf(i) */
  providers: number[];
  protocol: LoadProtocol;
  /** units per scheduler request (protocol batch) */
  batch: number;
}

export interface LoadResult {
  assignments: number;
  submissions: number;
  /** signed requests sent */
  requests: number;
  /** per request, ms */
  latencies: number[];
  /** this process's CPU time (user + system) while driving, ms */
  cpuMs: number;
}

/** The key seed of simulated provider i (also used by the parent to register it). */
export function seedOf(i: number): Uint8Array {
  const seed = new Uint8Array(32);
  new DataView(seed.buffer).setUint32(0, i + 1);
  return seed;
}

/** A result derived from the unit id: every replica of a unit agrees, so every unit validates. */
const resultOf = (unitId: string): Uint8Array => utf8Encode(`result of ${unitId}`);

/** Each provider works until the tracker has no unit left for it. */
export async function driveProviders(d: LoadData, onSubmitted?: (n: number) => void): Promise<LoadResult> {
  const latencies: number[] = [];
  let assignments = 0;
  let submissions = 0;
  const timed = async <T>(f: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    const v = await f();
    latencies.push(performance.now() - t);
    return v;
  };
  const cpu0 = process.cpuUsage();
  await Promise.all(d.providers.map(async (i) => {
    const c = new TrackerClient({ baseUrl: d.urls[i % d.urls.length]!, key: keyPairFromSeed(seedOf(i)), clock: systemClock });
    if (d.protocol === 'single') {
      for (;;) {
        const w = await timed(() => c.work());
        if (w.unit === null) return;
        assignments++;
        const unit = w.unit;
        // submit() is two signed requests: the blob upload and the result
        await timed(() => c.submit({ unitId: unit.unitId, runId: unit.runId, result: resultOf(unit.unitId), metrics: {} }));
        submissions++;
        onSubmitted?.(1);
      }
    }
    let results: BatchedResult[] = [];
    for (;;) {
      const r = await timed(() => c.schedule({ results, want: d.batch }));
      const acked = r.results.filter((x) => x.ok).length;
      if (acked !== results.length) throw new Error(`the tracker refused ${results.length - acked} bench results: ${JSON.stringify(r.results.find((x) => !x.ok))}`);
      submissions += acked;
      if (acked > 0) onSubmitted?.(acked);
      if (r.units.length === 0) return;
      assignments += r.units.length;
      results = await Promise.all(r.units.map((u) => c.prepareResult({ unitId: u.unitId, runId: u.runId, result: resultOf(u.unitId), metrics: {} })));
    }
  }));
  const cpu = process.cpuUsage(cpu0);
  const requests = latencies.length + (d.protocol === 'single' ? submissions : 0);
  return { assignments, submissions, requests, latencies, cpuMs: (cpu.user + cpu.system) / 1000 };
}

// A forked child (bench-tracker-load.mjs): wait for the parent's data and 'go'.
if (process.send !== undefined && process.env.SWARM_BENCH_LOAD_CHILD === '1') {
  const send = process.send.bind(process);
  let data: LoadData | null = null;
  process.on('message', (m: unknown) => {
    if (typeof m === 'object' && m !== null && 'start' in m) {
      data = (m as { start: LoadData }).start;
      send('ready');
      return;
    }
    if (m !== 'go' || data === null) return;
    let pending = 0;
    driveProviders(data, (n) => {
      pending += n;
      if (pending >= 50) {
        send({ progress: pending });
        pending = 0;
      }
    }).then(
      (r) => send({ ok: true, ...r }, () => process.exit(0)),
      (e: unknown) => send({ ok: false, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) }, () => process.exit(1)),
    );
  });
}
