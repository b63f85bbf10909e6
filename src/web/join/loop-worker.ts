/**
 * A browser provider worker (issue 18): the same ProviderLoop, TrackerClient
 * and unit runner as `swarm provide`, with the browser's adapters — fetch,
 * the identity rebuilt from the page's seed (ledger/keys.browser.ts), the
 * IndexedDB blob cache, a memory spool (a closed tab loses its unreported
 * results; their leases expire and the tracker issues the units again), and
 * units run in a fresh Web Worker each (provider/browser/web-worker-sandbox.ts).
 * Nothing here touches the page: it talks by messages (./messages.ts), so
 * the page's main thread never computes.
 */
import { SwarmError, isSwarmError } from '../../core/errors.ts';
import { Prng } from '../../core/prng.ts';
import { systemClock } from '../../core/clock.ts';
import { keyPairFromSeed } from '../../ledger/keys.ts';
import { acceptCla } from '../../provider/cla.ts';
import { TrackerClient } from '../../provider/client.ts';
import { ProviderLoop } from '../../provider/loop.ts';
import { createWebWorkerSandbox } from '../../provider/browser/web-worker-sandbox.ts';
import type { WebWorkerLike } from '../../provider/browser/web-worker-sandbox.ts';
import { IdbBlobCache } from './idb-blob-cache.ts';
import { openProviderDb } from './idb.ts';
import type { PageToWorker, StartMessage, WorkerToPage } from './messages.ts';

/** This worker's global scope, as far as used (the DOM lib types `self` as a Window). */
const scope = self as unknown as {
  onmessage: ((ev: MessageEvent<PageToWorker>) => void) | null;
  postMessage(m: WorkerToPage): void;
};

let loop: ProviderLoop | null = null;
const post = (m: WorkerToPage): void => scope.postMessage(m);

scope.onmessage = (ev) => {
  const m = ev.data;
  if (m.type === 'start') {
    if (loop === null) void start(m);
    return;
  }
  if (loop === null) return;
  if (m.type === 'pause') loop.pause();
  else if (m.type === 'resume') loop.resume();
  else if (m.type === 'max-cpu') loop.setPolicy({ maxCpu: m.maxCpu });
  else if (m.type === 'stop') loop.stop({ now: true });
};

async function start(m: StartMessage): Promise<void> {
  const index = m.index;
  try {
    const key = keyPairFromSeed(m.seed);
    const db = await openProviderDb();
    const client = new TrackerClient({ baseUrl: m.trackerUrl, key, clock: systemClock, clientInfo: { kind: 'browser', engine: m.engine } });
    const sandbox = createWebWorkerSandbox({
      memoryMb: m.memoryMb,
      createWorker: () => new Worker(m.unitWorkerUrl, { type: 'module', name: `swarm-unit-${index}` }) as unknown as WebWorkerLike,
    });
    loop = new ProviderLoop({
      client,
      runner: sandbox,
      cache: new IdbBlobCache(db, systemClock),
      clock: systemClock,
      rng: Prng.fromSeed(m.rngSeed),
      name: m.name,
      ...(m.team === undefined ? {} : { team: m.team }),
      threads: 1,
      memoryBytes: m.memoryMb * 2 ** 20,
      maxCpu: m.maxCpu,
      paused: m.paused,
      onStatus: (status) => post({ type: 'status', index, status }),
      onLog: (line) => post({ type: 'log', index, line }),
      afterRegister: async () => {
        if (m.acceptCla) await acceptCla(client, systemClock);
        post({ type: 'registered', index, providerId: key.keyId });
      },
      ...(m.tamperForTest === true ? { tamper: flipOneByte } : {}),
    });
    await loop.run();
    post({ type: 'ended', index, code: 'PROVIDER_STOPPED', message: 'stopped' });
  } catch (e) {
    const err = isSwarmError(e) ? e : new SwarmError('PROVIDER_ERROR', e instanceof Error ? e.message : String(e));
    post({ type: 'ended', index, code: err.code, message: err.message });
  }
}

/** The lowest bit of the last byte: a result that still decodes, with another hash (test/e2e/tamper.ts flip-byte). */
function flipOneByte(result: Uint8Array): Uint8Array {
  const out = result.slice();
  out[out.length - 1] = out[out.length - 1]! ^ 1;
  return out;
}
