/**
 * `swarm tracker [--port N] [--host ADDR] [--db URL|DIR] [--trainer KEYID…]
 * [--registration-difficulty BITS] [--trust-proxy] [--no-rate-limits]
 * [--council KEYID… --council-threshold M] [--cla FILE]`:
 * the coordinator (DESIGN.md, Processes). Storage is embedded PGlite under
 * $SWARM_HOME/tracker/db by default, PostgreSQL with --db postgres://…
 * (several trackers may share one). The tracker's own identity lives apart
 * from a provider's on the same machine ($SWARM_HOME/tracker/identity.key).
 *
 * startTracker() is also what `swarm up` embeds.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { Clock } from '../core/clock.ts';
import { systemClock } from '../core/clock.ts';
import { SwarmError } from '../core/errors.ts';
import { sha256Parts } from '../core/sha256.ts';
import { utf8Encode } from '../core/encoding.ts';
import { privateKeySeed } from '../ledger/keys.ts';
import type { Ed25519KeyPair } from '../ledger/keys.ts';
import { MemoryNonceStore } from '../protocol/nonce-store.ts';
import { parseClaDocument } from '../protocol/cla.ts';
import type { ClaDocument } from '../protocol/cla.ts';
import { createTrackerApp } from '../tracker/http/app.ts';
import { forwardedSource } from '../tracker/http/rate-limit.ts';
import type { TrackerRateLimits } from '../tracker/http/rate-limit.ts';
import { DEFAULT_REGISTRATION_DIFFICULTY, MAX_REGISTRATION_DIFFICULTY } from '../protocol/pow.ts';
import { createLedgerRoutes, createLedgerSigner } from '../tracker/ledger/routes.ts';
import { DilocoRuns } from '../tracker/runs/diloco.ts';
import type { RoundWait } from '../tracker/runs/diloco.ts';
import { TrackerService } from '../tracker/service.ts';
import type { TrackerServiceOptions } from '../tracker/service.ts';
import { openDb } from '../tracker/storage/db.ts';
import type { Db } from '../tracker/storage/db.ts';
import { migrate } from '../tracker/storage/migrations.ts';
import { loadOrCreateIdentity, swarmHome } from './identity.ts';
import { parsePort, parsePositiveInt } from './flags.ts';
import { listen } from './serve.ts';
import { createDashboardApp } from './dashboard.ts';
import { createBackend, defaultThreads } from './engine.ts';
import { canonicalReexecutor } from '../tracker/reexecute.ts';
import type { UnitReexecutor } from '../tracker/reexecute.ts';
import { Engine } from '../tensor/tensor.ts';
import type { Hono } from 'hono';

export interface StartTrackerOptions {
  /** postgres://… or a PGlite data directory; default $SWARM_HOME/tracker/db */
  db?: string;
  port: number;
  host: string;
  home?: string;
  trainers?: readonly string[];
  leaseMs?: number;
  clock?: Clock;
  /** extra routes (the gateway, a run's API) */
  mount?: Array<{ path: string; app: Hono }>;
  service?: Partial<TrackerServiceOptions>;
  /** a run could not advance (logged by the caller) */
  onRunError?: (runId: string, e: unknown) => void;
  /** a run's round is stalled (RoundWait.stalled): told once per run and round (issue 24: never silently) */
  onRunStall?: (runId: string, w: RoundWait) => void;
  /** the dashboard's built files (default build/web of this checkout; src/cli/dashboard.ts) */
  webDir?: string;
  /** rate limits (tracker/http/rate-limit.ts; default its DEFAULT_TRACKER_RATE_LIMITS); 'off': none */
  rateLimits?: Partial<TrackerRateLimits> | 'off';
  /** behind a reverse proxy: the source address is X-Forwarded-For's last (rate-limit.ts forwardedSource) */
  trustProxy?: boolean;
  /** registration proof of work in leading zero bits (protocol/pow.ts; default 16, 0: none) */
  registrationDifficulty?: number;
  /** the genesis Steering Council (issue 20): member key ids and the approvals a decision needs */
  council?: { members: readonly string[]; threshold: number };
  /** the contributor licence agreement identities must sign before their work counts (issue 20; default: none) */
  cla?: ClaDocument;
}

export interface RunningTracker {
  url: string;
  port: number;
  db: Db;
  service: TrackerService;
  runs: DilocoRuns;
  key: Ed25519KeyPair;
  close(): Promise<void>;
}

/** A DB url in a form safe to print (no password). */
export function redactDbUrl(url: string): string {
  return url.replace(/(postgres(?:ql)?:\/\/[^:/@]*):[^@]*@/i, '$1:***@');
}

export async function startTracker(o: StartTrackerOptions): Promise<RunningTracker> {
  const home = o.home ?? swarmHome();
  const clock = o.clock ?? systemClock;
  const identity = await loadOrCreateIdentity(join(home, 'tracker'));
  const key = identity.keyPair;
  const target = o.db ?? join(home, 'tracker', 'db');
  const db = await openDb(/^postgres(ql)?:\/\//i.test(target) ? target : resolve(target));
  try {
    await migrate(db, { now: clock.now() });
  } catch (e) {
    await db.close();
    throw e;
  }
  const signer = createLedgerSigner({ db, trackerKey: key, clock });
  let pending = 0;
  // The spot-check seed must be secret from providers: derive it from the tracker's private key.
  const spotCheckSeed = sha256Parts([utf8Encode('swarm-spot-check-seed\n'), privateKeySeed(key.privateKey)]).slice(0, 16);
  // A council dispute re-executes units on this machine's fastest engine (same bits as ref), made when first needed.
  let reexecutor: Promise<UnitReexecutor> | undefined;
  const service = new TrackerService({
    db,
    clock,
    key,
    spotCheckSeed,
    reexecute: async (spec, getBlob) => (await (reexecutor ??= createBackend('auto', defaultThreads()).then((b) => canonicalReexecutor(new Engine(b)))))(spec, getBlob),
    ...(o.trainers === undefined ? {} : { trainers: o.trainers }),
    ...(o.leaseMs === undefined ? {} : { leaseMs: o.leaseMs }),
    // Heads are signed in batches (issue 6): once batchSize entries are
    // uncovered, and by the 1 s timer below otherwise; a tick per commit
    // would cost two queries per request.
    onLedgerAppend: (n) => {
      pending += n;
      if (pending >= signer.batchSize) {
        pending = 0;
        signer.afterAppend().catch(() => undefined);
      }
    },
    // a unit of a run validated: see at once whether its round can close
    onUnitValid: (u) => {
      if (runs !== undefined) advance(u.runId);
    },
    ...o.service,
  });
  const ledger = createLedgerRoutes({ db, trackerKey: key, clock, signer });
  const runs = new DilocoRuns(service);
  const app = createTrackerApp({
    service, clock, runs, nonces: new MemoryNonceStore({ clock }),
    ...(o.rateLimits === undefined ? {} : { rateLimits: o.rateLimits }),
    ...(o.trustProxy === true ? { sourceOf: forwardedSource } : {}),
    ...(o.registrationDifficulty === undefined ? {} : { registrationDifficulty: o.registrationDifficulty }),
    mount: [{ path: '/ledger/v1', app: ledger }, ...(o.mount ?? []), { path: '/', app: createDashboardApp(o.webDir === undefined ? {} : { dir: o.webDir }) }] });
  // Leases that ran out are marked timed out in the background; heads are signed at least every maxDelay.
  // One advance at a time per run in this process (the row lock orders processes).
  const advancing = new Map<string, Promise<unknown>>();
  function advance(runId: string): void {
    const prev = advancing.get(runId) ?? Promise.resolve();
    const next = prev.then(() => runs.advance(runId)).catch((e: unknown) => o.onRunError?.(runId, e));
    advancing.set(runId, next);
  }
  // Entries a crash left in the ledger queue are sequenced before serving.
  await service.flushLedger();
  // The genesis council is logged once; a different one for this database is refused (council.ts).
  if (o.council !== undefined) {
    try {
      await service.council.form(o.council.members, o.council.threshold);
    } catch (e) {
      await db.close();
      throw e;
    }
  }
  // The CLA the tracker starts with is logged once; later versions only by council decision (cla.ts).
  if (o.cla !== undefined) {
    try {
      await service.cla.start(o.cla);
    } catch (e) {
      await db.close();
      throw e;
    }
  }
  // Stalls are looked for every few seconds and told once per run and round.
  const told = new Set<string>();
  let ticks = 0;
  const lookForStalls = async (): Promise<void> => {
    for (const r of await runs.list()) {
      if (r.status !== 'training' || told.has(`${r.id}\n${r.round}`)) continue;
      const w = (await runs.get(r.id)).waiting;
      if (w === undefined || !w.stalled) continue;
      told.add(`${r.id}\n${w.round}`);
      o.onRunStall?.(r.id, w);
    }
  };
  const timer = setInterval(() => {
    service.flushLedger().catch(() => undefined);
    service.sweep().catch(() => undefined);
    runs.advanceAll().catch((e: unknown) => o.onRunError?.('*', e));
    signer.tick().catch(() => undefined);
    if (o.onRunStall !== undefined && ++ticks % 5 === 0) lookForStalls().catch(() => undefined);
  }, 1_000);
  timer.unref();
  let server;
  try {
    server = await listen(app, { port: o.port, host: o.host });
  } catch (e) {
    clearInterval(timer);
    await db.close();
    throw new SwarmError('TRACKER_LISTEN', `cannot listen on ${o.host}:${o.port}: ${(e as Error).message}`);
  }
  return {
    url: server.url,
    port: server.port,
    db,
    service,
    runs,
    key,
    async close() {
      clearInterval(timer);
      await server.close();
      await service.flushLedger().catch(() => undefined);
      await signer.tick().catch(() => undefined);
      await db.close();
    },
  };
}

/** --cla FILE: the document, read and parsed when the flag is (a bad file fails before anything starts). */
function readClaFile(path: string): ClaDocument {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new SwarmError('CLI_BAD_FLAG', `--cla: cannot read ${path}: ${(e as Error).message}`, { flag: '--cla' });
  }
  return parseClaDocument(bytes);
}

function parseDifficulty(value: string): number {
  if (!/^\d{1,2}$/.test(value) || Number(value) > MAX_REGISTRATION_DIFFICULTY) {
    throw new SwarmError('CLI_BAD_FLAG', `--registration-difficulty takes a number of bits from 0 to ${MAX_REGISTRATION_DIFFICULTY}; refused "${value.slice(0, 80)}"`);
  }
  return Number(value);
}

/** A repeatable key-id flag: 64 lower-case hex characters each. */
function collectKey(flag: string): (value: string, prev: string[]) => string[] {
  return (value, prev) => {
    if (!/^[0-9a-f]{64}$/.test(value)) {
      throw new SwarmError('CLI_BAD_FLAG', `${flag} takes a key id (64 lower-case hex characters, as \`swarm whoami\` prints it); refused "${value.slice(0, 80)}"`, { keyId: value.slice(0, 80) });
    }
    return [...prev, value];
  };
}
const collect = collectKey('--trainer');

export function registerTracker(program: Command): void {
  program
    .command('tracker')
    .summary('run the tracker: the work queue, quorum validation, credit, blobs and the ledger')
    .description(
      'Run the tracker over HTTP: the work-unit queue, quorum validation, credit, content-addressed blobs ' +
        'and the ledger (/ledger/v1). Providers connect with `swarm provide --tracker URL`.',
    )
    .option('--port <n>', 'TCP port (0 = any free port)', parsePort, 7070)
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--db <url|dir>', 'database: postgres://user@host/db, or a PGlite data directory (default: $SWARM_HOME/tracker/db; $SWARM_HOME is ~/.swarm unless set)')
    .option('--trainer <keyId>', 'key id (as `swarm whoami` prints it) allowed to create runs and units; repeat the flag for several', collect, [])
    .option('--council <keyId>', 'a member of the genesis Steering Council (as `swarm whoami` prints it); repeat for each member. Logged once: later changes only by council decision (`swarm council`)', collectKey('--council'), [])
    .option('--council-threshold <m>', 'approvals a council decision needs (default: a majority of the --council members)', parsePositiveInt('--council-threshold', 64))
    .option('--cla <file>', 'a contributor licence agreement (e.g. the repository\'s CLA.md; its "Version:" line names the version) that identities must sign before their work counts (`swarm provide --accept-cla`, `swarm cla sign`). Logged once; a new version only by council decision (default: none required)', readClaFile)
    .option('--lease-ms <ms>', 'how long a provider may hold a replica before it is issued again, in milliseconds, unless a unit sets its own (default: 120000, two minutes)', parsePositiveInt('--lease-ms', 86_400_000))
    .option('--registration-difficulty <bits>', `proof of work a provider solves to register, in leading zero bits of SHA-256 (0 = none; each bit doubles the work; default ${DEFAULT_REGISTRATION_DIFFICULTY}, tens of milliseconds)`, parseDifficulty)
    .option('--trust-proxy', 'behind a reverse proxy: rate-limit by the last X-Forwarded-For address instead of the socket\'s (without it, every client of a proxy on this host counts as loopback, which the per-address limits exempt)')
    .option('--no-rate-limits', 'turn off the per-address and per-key rate limits (docs/SECURITY.md)')
    .option('--json', 'print the address and key as one JSON line when ready')
    .action(async (o: { port: number; host: string; db?: string; trainer: string[]; council: string[]; councilThreshold?: number; cla?: ClaDocument; leaseMs?: number; json?: boolean; registrationDifficulty?: number; trustProxy?: boolean; rateLimits: boolean }) => {
      if (o.councilThreshold !== undefined && o.council.length === 0) throw new SwarmError('CLI_BAD_FLAG', '--council-threshold needs the members: --council KEYID (repeat for each)', { flag: '--council-threshold' });
      const t = await startTracker({
        ...(o.council.length === 0 ? {} : { council: { members: o.council, threshold: o.councilThreshold ?? Math.floor(o.council.length / 2) + 1 } }),
        ...(o.cla === undefined ? {} : { cla: o.cla }),
        port: o.port,
        host: o.host,
        trainers: o.trainer,
        ...(o.db === undefined ? {} : { db: o.db }),
        ...(o.leaseMs === undefined ? {} : { leaseMs: o.leaseMs }),
        ...(o.registrationDifficulty === undefined ? {} : { registrationDifficulty: o.registrationDifficulty }),
        ...(o.trustProxy === true ? { trustProxy: true } : {}),
        ...(o.rateLimits ? {} : { rateLimits: 'off' as const }),
        onRunStall: (runId, w) => process.stderr.write(`swarm tracker: run ${runId} round ${w.round} is stalled: ${w.reasons.join('; ')}\n`),
      });
      const info = { url: t.url, trackerKeyId: t.key.keyId, db: t.db.driver, dbTarget: o.db === undefined ? 'default' : redactDbUrl(o.db) };
      process.stdout.write(o.json ? `${JSON.stringify(info)}\n` : `swarm tracker: listening on ${t.url} (db ${info.db}, key ${t.key.keyId.slice(0, 16)}…)\n`);
      if (o.cla !== undefined && o.json !== true) {
        process.stdout.write(`swarm tracker: contributor licence ${o.cla.version} (sha256 ${o.cla.sha256}) required; providers sign it with swarm provide --accept-cla or swarm cla sign --tracker ${t.url}\n`);
      }
      await new Promise<void>((done) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          t.close().then(done, done);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
