/**
 * `swarm provide --tracker URL`: lend this machine's cycles to a swarm
 * (issue 5). Registers this identity ($SWARM_HOME/identity.key), then pulls
 * work units, runs them in the sandbox, and uploads the results, obeying
 * --threads, --max-cpu and --idle-only. Ctrl-C once finishes the unit in
 * hand and exits; twice gives it back to the tracker at once.
 */
import { availableParallelism, hostname, totalmem } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import { systemClock } from '../core/clock.ts';
import { Prng } from '../core/prng.ts';
import { DiskBlobCache } from '../provider/blob-cache.ts';
import { DiskResultSpool } from '../provider/disk-spool.ts';
import { TrackerClient, normaliseTrackerUrl } from '../provider/client.ts';
import { idleProbe } from '../provider/idle.ts';
import { ProviderLoop } from '../provider/loop.ts';
import type { ProviderLoopOptions, ProviderStatusLine, UnitRunner } from '../provider/loop.ts';
import { createBwrapSandbox } from '../provider/sandbox/bwrap-sandbox.ts';
import type { Sandbox } from '../provider/sandbox/sandbox.ts';
import { createWorkerSandbox } from '../provider/sandbox/worker-sandbox.ts';
import { BACKEND_HELP, BACKEND_NAMES, kernelsText, nativeFallbackLine, requireNativeIfAsked } from './engine.ts';
import type { BackendName } from './engine.ts';
import { parseChoice, parsePositiveInt } from './flags.ts';
import { loadOrCreateIdentity, swarmHome } from './identity.ts';

export interface ProvideOptions {
  tracker: string;
  threads: number;
  maxCpu: number;
  idleOnly: boolean;
  name: string;
  team?: string;
  sandbox: 'worker' | 'bwrap';
  units?: number;
  json?: boolean;
  home?: string;
  /** tensor engine in the sandbox (default auto: native if built, else wasm) */
  backend?: BackendName;
  /** tests: a cheating provider's result transform */
  tamper?: ProviderLoopOptions['tamper'];
  onStatus?: (s: ProviderStatusLine) => void;
  /** stop signal source (default: SIGINT/SIGTERM) */
  installSignals?: boolean;
}

export function sandboxRunner(sandbox: Sandbox): UnitRunner {
  return { run: (spec, blobs, o) => sandbox.run(spec, blobs, o) };
}

function statusText(s: ProviderStatusLine): string {
  const unit = s.unitId === null ? '' : ` ${s.kind} ${s.unitId} ${(s.progress * 100).toFixed(0)}%`;
  const credit = s.credit === null ? '' : ` credit ${s.credit.toExponential(2)} FLOP`;
  const rep = s.reputation === null ? '' : ` reputation ${s.reputation.toFixed(2)}`;
  return `swarm provide: ${s.state}${unit} | done ${s.completed} failed ${s.failed}${credit}${rep}${s.message ? ` | ${s.message}` : ''}`;
}

export async function provide(o: ProvideOptions): Promise<ProviderStatusLine> {
  normaliseTrackerUrl(o.tracker); // a bad URL fails before anything is created on disk
  const home = o.home ?? swarmHome();
  const identity = await loadOrCreateIdentity(home);
  const backend = o.backend ?? 'auto';
  requireNativeIfAsked(backend);
  const sandbox = o.sandbox === 'bwrap' ? createBwrapSandbox({ backend }) : createWorkerSandbox({ backend });
  const client = new TrackerClient({ baseUrl: o.tracker, key: identity.keyPair, clock: systemClock });
  const tty = process.stderr.isTTY === true && o.json !== true;
  let lastLine = '';
  const onStatus = o.onStatus ?? ((s: ProviderStatusLine) => {
    if (o.json) {
      process.stdout.write(`${JSON.stringify({ ...s, provider: identity.keyPair.keyId })}\n`);
      return;
    }
    const line = statusText(s);
    if (line === lastLine) return;
    lastLine = line;
    process.stderr.write(tty ? `\r\x1b[2K${line}` : `${line}\n`);
  });
  // log lines go to stderr in every mode (stdout carries --json status lines)
  const log = (line: string): void => {
    process.stderr.write(`${tty ? '\n' : ''}swarm provide: ${line}\n`);
  };
  const fallback = backend === 'auto' ? nativeFallbackLine() : undefined;
  if (fallback !== undefined) log(fallback.replace(/^swarm: /, ''));
  log(`kernels: ${kernelsText(backend)}, ${o.threads} thread${o.threads === 1 ? '' : 's'}`);
  const loop = new ProviderLoop({
    client,
    runner: sandboxRunner(sandbox),
    cache: new DiskBlobCache(join(home, 'blobs')),
    // finished results wait here until the tracker acknowledges them (issue 24)
    spool: new DiskResultSpool(join(home, 'spool'), (file, e) => log(`discarded ${file}: ${e.code}: ${e.message}`)),
    onLog: log,
    clock: systemClock,
    rng: Prng.fromSeed(randomBytes(16)),
    name: o.name,
    ...(o.team === undefined ? {} : { team: o.team }),
    threads: o.threads,
    memoryBytes: totalmem(),
    maxCpu: o.maxCpu,
    ...(o.idleOnly ? { isIdle: idleProbe() } : {}),
    ...(o.units === undefined ? {} : { maxUnits: o.units }),
    ...(o.tamper === undefined ? {} : { tamper: o.tamper }),
    onStatus,
  });
  let presses = 0;
  const onSignal = (): void => {
    presses++;
    if (presses === 1 && !o.json) process.stderr.write('\nswarm provide: finishing the current unit (Ctrl-C again to give it back now)\n');
    loop.stop({ now: presses > 1 });
  };
  if (o.installSignals !== false) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  try {
    const final = await loop.run();
    if (tty) process.stderr.write('\n');
    return final;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function parsePercent(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n <= 0 || n > 100) throw new InvalidArgumentError(`--max-cpu must be a percentage in (0, 100], got "${v}"`);
  return n;
}

export function registerProvide(program: Command): void {
  program
    .command('provide')
    .summary('lend this machine to a swarm: run a tracker\'s work units in a sandbox')
    .description(
      'Lend this machine to a swarm: pull work units from a tracker, run them in a sandbox and upload the results. ' +
        'Only the built-in kernels ever run: units are data, never code. Ctrl-C finishes the unit in hand and exits; ' +
        'a second Ctrl-C gives it back to the tracker at once.',
    )
    .requiredOption('--tracker <url>', 'tracker base URL, e.g. http://127.0.0.1:7070')
    .addOption(new Option('--threads <n>', 'threads for the kernels').argParser(parsePositiveInt('--threads', 256)).default(Math.max(1, availableParallelism()), 'all cores'))
    .option('--max-cpu <pct>', 'use at most this percentage of CPU time, as a duty cycle', parsePercent, 100)
    .addOption(new Option('--idle-only', 'pause while other programs keep the machine busy').default(false, 'off'))
    .addOption(new Option('--name <name>', 'name shown on the leaderboard').default(hostname().slice(0, 64) || 'provider', 'this machine\'s host name'))
    .option('--team <team>', 'team shown on the leaderboard (default: none)')
    .option('--sandbox <kind>', 'worker (a worker thread with a heap cap) or bwrap (bubblewrap: no network, read-only filesystem)', (v) => {
      if (v !== 'worker' && v !== 'bwrap') throw new InvalidArgumentError('--sandbox must be worker or bwrap');
      return v;
    }, 'worker')
    .option('--backend <name>', BACKEND_HELP, parseChoice('--backend', BACKEND_NAMES), 'auto')
    .option('--units <n>', 'stop after this many units (default: keep going until Ctrl-C)', parsePositiveInt('--units'))
    .option('--json', 'print the status as one JSON object per line on stdout')
    .action(async (o: ProvideOptions) => {
      const final = await provide(o);
      if (o.json) process.stdout.write(`${JSON.stringify({ final: true, ...final })}\n`);
    });
}
