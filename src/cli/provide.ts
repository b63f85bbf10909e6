/**
 * `swarm provide --tracker URL`: lend this machine's cycles to a swarm
 * (issue 5). Registers this identity ($SWARM_HOME/identity.key), signs the
 * tracker's contributor licence with it when told to (--accept-cla; without
 * it, a tracker that requires one refuses work and this stops saying so), then pulls
 * work units, runs them in the sandbox, and uploads the results, obeying
 * --threads, --max-cpu, --idle-only and --hours. Ctrl-C once finishes the
 * unit in hand and exits; twice gives it back to the tracker at once.
 *
 * It also serves its own page on 127.0.0.1 (provider-ui.ts: status, pause /
 * resume, the policy edited live; `--ui-port N`, `--no-ui`), and
 * `--install` / `--uninstall` write or remove a systemd user unit that
 * starts it at login (provider-service.ts).
 */
import { availableParallelism, hostname, totalmem } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import { isSwarmError } from '../core/errors.ts';
import { systemClock } from '../core/clock.ts';
import { Prng } from '../core/prng.ts';
import { DiskBlobCache } from '../provider/disk-blob-cache.ts';
import { DiskResultSpool } from '../provider/disk-spool.ts';
import { TrackerClient, normaliseTrackerUrl } from '../provider/client.ts';
import { idleProbe } from '../provider/idle.ts';
import { ProviderLoop } from '../provider/loop.ts';
import { acceptCla } from '../provider/cla.ts';
import { formatHours, parseHours } from '../provider/policy.ts';
import type { HoursWindow } from '../provider/policy.ts';
import type { ProviderLoopOptions, ProviderStatusLine, UnitRunner } from '../provider/loop.ts';
import { createBwrapSandbox } from '../provider/sandbox/bwrap-sandbox.ts';
import type { Sandbox } from '../provider/sandbox/sandbox.ts';
import { createWorkerSandbox } from '../provider/sandbox/worker-sandbox.ts';
import { BACKEND_HELP, BACKEND_NAMES, kernelsText, nativeFallbackLine, requireNativeIfAsked } from './engine.ts';
import type { BackendName } from './engine.ts';
import { MAX_BATCH_UNITS } from '../protocol/schemas.ts';
import { parseChoice, parsePositiveInt } from './flags.ts';
import { loadOrCreateIdentity, swarmHome } from './identity.ts';
import { DEFAULT_UI_PORT, startProviderUi } from './provider-ui.ts';
import type { RunningProviderUi } from './provider-ui.ts';
import { installService, uninstallService } from './provider-service.ts';

export interface ProvideOptions {
  tracker: string;
  threads: number;
  maxCpu: number;
  idleOnly: boolean;
  /** work only during these hours of the local day (--hours 22-7); null/undefined: any time */
  hours?: HoursWindow | null;
  /** serve the local page (the CLI's default; off when called as a function unless asked) */
  ui?: boolean;
  /** its port (default 7071, or any free one when that is taken) */
  uiPort?: number;
  /** the page's build (tests; default build/web/provider) */
  uiDir?: string;
  /** called with the page's address (with its token) once it listens */
  onUi?: (url: string) => void;
  /** start paused (tests) */
  paused?: boolean;
  name: string;
  team?: string;
  sandbox: 'worker' | 'bwrap';
  units?: number;
  /** most units per scheduler request (ProviderLoopOptions.maxBatch) */
  batch?: number;
  json?: boolean;
  home?: string;
  /** tensor engine in the sandbox (default auto: native if built, else wasm) */
  backend?: BackendName;
  /** sign the tracker's current contributor licence agreement after registering (--accept-cla) */
  acceptCla?: boolean;
  /** tests: a cheating provider's result transform */
  tamper?: ProviderLoopOptions['tamper'];
  onStatus?: (s: ProviderStatusLine) => void;
  /** stop signal source (default: SIGINT/SIGTERM) */
  installSignals?: boolean;
}

export function sandboxRunner(sandbox: Sandbox): UnitRunner {
  return { run: (spec, blobs, o) => sandbox.run(spec, blobs, o) };
}

export function statusText(s: ProviderStatusLine): string {
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
  // issue 18: the tracker shows which providers are this CLI and which are browsers (`swarm up`'s local providers are this command too)
  const client = new TrackerClient({ baseUrl: o.tracker, key: identity.keyPair, clock: systemClock, clientInfo: { kind: 'node', engine: `node ${process.versions.node}` } });
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
    // the probe is always there, so the page can turn idle-only on and off
    isIdle: idleProbe(),
    idleOnly: o.idleOnly,
    hours: o.hours ?? null,
    ...(o.paused === true ? { paused: true } : {}),
    ...(o.units === undefined ? {} : { maxUnits: o.units }),
    ...(o.batch === undefined ? {} : { maxBatch: o.batch }),
    ...(o.tamper === undefined ? {} : { tamper: o.tamper }),
    ...(o.acceptCla === true ? {
      afterRegister: async () => {
        const signed = await acceptCla(client, systemClock);
        log(signed === null
          ? 'this tracker asks for no contributor licence agreement'
          : `accepted the contributor licence agreement ${signed.view.version} (sha256 ${signed.view.sha256}) with identity ${identity.keyPair.keyId}${signed.signature.created ? '' : ' (signed before)'}`);
      },
    } : {}),
    onStatus,
  });
  let presses = 0;
  const onSignal = (): void => {
    presses++;
    if (presses === 1 && !o.json) process.stderr.write('\nswarm provide: finishing the current unit (Ctrl-C again to give it back now)\n');
    loop.stop({ now: presses > 1 });
  };
  if (o.hours !== undefined && o.hours !== null) log(`working only ${formatHours(o.hours)} local time`);
  let ui: RunningProviderUi | undefined;
  if (o.ui === true) {
    ui = await startProviderUi({
      control: loop,
      info: { name: o.name, ...(o.team === undefined ? {} : { team: o.team }), id: identity.keyPair.keyId, tracker: o.tracker, idleProbe: true },
      port: o.uiPort ?? DEFAULT_UI_PORT,
      fallback: o.uiPort === undefined,
      ...(o.uiDir === undefined ? {} : { dir: o.uiDir }),
    });
    log(`page: ${ui.url}`);
    o.onUi?.(ui.url);
  }
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
    await ui?.close();
  }
}

function parseHoursFlag(v: string): HoursWindow | null {
  try {
    return parseHours(v);
  } catch (e) {
    throw new InvalidArgumentError(isSwarmError(e) ? `--hours: ${e.message}` : String(e));
  }
}

function parseUiPort(v: string): number {
  if (!/^\d+$/.test(v) || Number(v) > 65535) throw new InvalidArgumentError(`--ui-port must be an integer from 0 to 65535, got "${v}"`);
  return Number(v);
}

interface ProvideFlags extends Omit<ProvideOptions, 'tracker'> {
  tracker?: string;
  install?: boolean;
  uninstall?: boolean;
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
    .option('--tracker <url>', 'tracker base URL, e.g. http://127.0.0.1:7070 (required)')
    .addOption(new Option('--threads <n>', 'threads for the kernels').argParser(parsePositiveInt('--threads', 256)).default(Math.max(1, availableParallelism()), 'all cores'))
    .option('--max-cpu <pct>', 'use at most this percentage of CPU time, as a duty cycle', parsePercent, 100)
    .addOption(new Option('--idle-only', 'pause while other programs keep the machine busy').default(false, 'off'))
    .option('--hours <from-to>', 'work only during these hours of the local day, e.g. 22-7 (default: any time)', parseHoursFlag)
    .addOption(new Option('--name <name>', 'name shown on the leaderboard').default(hostname().slice(0, 64) || 'provider', 'this machine\'s host name'))
    .option('--team <team>', 'team shown on the leaderboard (default: none)')
    .option('--sandbox <kind>', 'worker (a worker thread with a heap cap) or bwrap (bubblewrap: no network, read-only filesystem)', (v) => {
      if (v !== 'worker' && v !== 'bwrap') throw new InvalidArgumentError('--sandbox must be worker or bwrap');
      return v;
    }, 'worker')
    .option('--backend <name>', BACKEND_HELP, parseChoice('--backend', BACKEND_NAMES), 'auto')
    .option('--units <n>', 'stop after this many units (default: keep going until Ctrl-C)', parsePositiveInt('--units'))
    .option('--batch <n>', `units one request may lease when units take under 2 s each (quick independent units; default 1: a DiLoCo round's slots should go to different providers)`, parsePositiveInt('--batch', MAX_BATCH_UNITS))
    .option('--json', 'print the status as one JSON object per line on stdout')
    .option('--accept-cla', 'sign the tracker\'s contributor licence agreement with this identity after registering (read it first: `swarm cla show --tracker URL`); a tracker that requires one refuses work without it')
    .option('--ui-port <n>', `port of the local page on 127.0.0.1: status, pause/resume, policy (default: ${DEFAULT_UI_PORT}, or any free port when that one is taken)`, parseUiPort)
    .option('--no-ui', 'do not serve the local page')
    .option('--install', 'write a systemd user unit that starts this provider, with these flags, at login (Linux)')
    .option('--uninstall', 'remove that unit (Linux)')
    .action(async (o: ProvideFlags, cmd: Command) => {
      if (o.uninstall === true) {
        process.stdout.write(`swarm provide: ${uninstallService().message.replace(/\n/g, '\nswarm provide: ')}\n`);
        return;
      }
      if (o.tracker === undefined) cmd.error("error: required option '--tracker <url>' not specified");
      const opts: ProvideOptions = { ...o, tracker: o.tracker! };
      if (o.install === true) {
        normaliseTrackerUrl(opts.tracker);
        const raw = (cmd.parent as unknown as { rawArgs?: string[] } | null)?.rawArgs ?? process.argv;
        const args = raw.slice(raw.indexOf('provide', 2) + 1);
        process.stdout.write(`swarm provide: ${installService(args).message.replace(/\n/g, '\nswarm provide: ')}\n`);
        return;
      }
      const final = await provide(opts);
      if (o.json) process.stdout.write(`${JSON.stringify({ final: true, ...final })}\n`);
    });
}
