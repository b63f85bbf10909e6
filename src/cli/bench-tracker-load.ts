/**
 * One load thread of `swarm bench tracker`: simulated providers (real signed
 * TrackerClients over loopback HTTP) that skip the compute, on a thread of
 * their own so the tracker's event loop serves requests and nothing else —
 * as it would with its providers on other machines.
 *
 * Protocol with the parent (bench-tracker.ts): workerData names the tracker
 * and the provider seeds; the thread posts 'ready', waits for 'go', drives
 * every provider until the queue is empty, and posts its counts and
 * latencies (and { progress: 50 } every 50 submissions on the way).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { systemClock } from '../core/clock.ts';
import { utf8Encode } from '../core/encoding.ts';
import { keyPairFromSeed } from '../ledger/keys.ts';
import { TrackerClient } from '../provider/client.ts';

export interface LoadThreadData {
  url: string;
  /** provider numbers i; provider i's key comes from seedOf(i) */
  providers: number[];
}

export interface LoadThreadResult {
  assignments: number;
  submissions: number;
  latencies: number[];
}

/** The key seed of simulated provider i (also used by the parent to register it). */
export function seedOf(i: number): Uint8Array {
  const seed = new Uint8Array(32);
  new DataView(seed.buffer).setUint32(0, i + 1);
  return seed;
}

/** Each provider asks for work, returns a result derived from the unit id (replicas agree), until no work is left. */
export async function driveProviders(url: string, providers: readonly number[], onSubmitted?: (n: number) => void): Promise<LoadThreadResult> {
  const latencies: number[] = [];
  let assignments = 0;
  let submissions = 0;
  const timed = async <T>(f: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    const v = await f();
    latencies.push(performance.now() - t);
    return v;
  };
  await Promise.all(providers.map(async (i) => {
    const c = new TrackerClient({ baseUrl: url, key: keyPairFromSeed(seedOf(i)), clock: systemClock });
    for (;;) {
      const w = await timed(() => c.work());
      if (w.unit === null) return;
      assignments++;
      const result = utf8Encode(`result of ${w.unit.unitId}`);
      await timed(() => c.submit({ unitId: w.unit!.unitId, runId: w.unit!.runId, result, metrics: {} }));
      submissions++;
      onSubmitted?.(submissions);
    }
  }));
  return { assignments, submissions, latencies };
}

if (parentPort !== null && workerData !== null && typeof workerData === 'object' && 'url' in workerData) {
  const port = parentPort;
  const data = workerData as LoadThreadData;
  port.once('message', () => {
    // progress for the parent's status line, every 50 submissions
    driveProviders(data.url, data.providers, (n) => { if (n % 50 === 0) port.postMessage({ progress: 50 }); }).then(
      (r) => port.postMessage({ ok: true, ...r }),
      (e: unknown) => port.postMessage({ ok: false, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) }),
    );
  });
  port.postMessage('ready');
}
