/**
 * The bubblewrap sandbox (`--sandbox bwrap`, Linux): the unit runs in a
 * separate `node` process under bwrap (github.com/containers/bubblewrap):
 *   --unshare-all         new user, ipc, pid, net, uts and cgroup namespaces:
 *                         no network (its own loopback only), no view of the
 *                         host's processes
 *   --ro-bind / /         the whole filesystem, read-only
 *   --tmpfs /tmp          a private, empty /tmp (the only writable place)
 *   --tmpfs $HOME, then --remount-ro   the user's home hidden and unwritable
 *                         (it holds ~/.swarm's keys); the project and node
 *                         are bound back read-only when they live under it
 *   --dev /dev --proc /proc   minimal devices, a proc for the new pid namespace
 *   --cap-drop ALL        no capabilities, even when the provider runs as root
 *   --die-with-parent     the unit dies with bwrap, which dies with us
 *   --new-session         no controlling terminal (no TIOCSTI injection)
 *   --clearenv            no inherited environment (tokens, proxies)
 * The spec and blobs go in on stdin and framed answers come out on stdout
 * (./framing.ts); the output is parsed as hostile input. The node process
 * gets --max-old-space-size as its heap cap and the kernels' wasm memory the
 * same cap. Deadline and cancel kill bwrap (SIGKILL), which takes the pid
 * namespace with it.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SwarmError } from '../../core/errors.ts';
import type { UnitSpec } from '../../train/work/kinds.ts';
import type { UnitOutcome } from '../../train/work/run-unit.ts';
import { AnswerReader, encodeRequest } from './framing.ts';
import { guardedRun } from './guarded-run.ts';
import { checkLimits, fromWireError } from './sandbox.ts';
import type { Sandbox, SandboxLimits, SandboxRunOptions } from './sandbox.ts';

export const BWRAP_PATH = '/usr/bin/bwrap';
const ENTRY = fileURLToPath(new URL('./bwrap-entry.mjs', import.meta.url));
/** The repository (or installed package) root: src/provider/sandbox/../../.. */
export const PROJECT_ROOT = resolve(dirname(ENTRY), '..', '..', '..');
/** The largest answer frame accepted from the unit process (a train result of the largest model fits). */
const MAX_FRAME_BYTES = 2 ** 32 - 1;
const STDERR_TAIL = 8192;

/** Whether bwrap is installed where we run it from (Linux only). */
export function bwrapAvailable(path = BWRAP_PATH): boolean {
  if (process.platform !== 'linux') return false;
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * Whether bwrap can create its namespaces here (containers often forbid
 * user namespaces): runs `node -e 0` under the minimal set of namespace
 * flags. Resolves with the reason when it cannot.
 */
export function bwrapUsable(path = BWRAP_PATH): Promise<{ ok: true } | { ok: false; reason: string }> {
  if (!bwrapAvailable(path)) return Promise.resolve({ ok: false, reason: `${path} is not installed (Debian/Ubuntu: apt-get install bubblewrap)` });
  return new Promise((done) => {
    const p = spawn(path, ['--unshare-all', '--ro-bind', '/', '/', '--', process.execPath, '-e', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => { err += d.toString('utf8'); });
    p.on('error', (e) => done({ ok: false, reason: e.message }));
    p.on('close', (code) => done(code === 0 ? { ok: true } : { ok: false, reason: err.trim() || `bwrap exited with code ${code}` }));
  });
}

export interface BwrapArgvOptions {
  /** paths made empty and read-only inside (default: the user's home directory) */
  hide?: readonly string[];
  /** paths bound back read-only when they lie under /tmp or a hidden path (default: the project root and node's install prefix) */
  keep?: readonly string[];
}

function under(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith(sep) ? dir : dir + sep);
}

/** The full bwrap argument list that runs `command` sandboxed (see the module comment). */
export function bwrapArgv(command: readonly string[], o: BwrapArgvOptions = {}): string[] {
  const home = homedir();
  const hide = (o.hide ?? (home && home !== '/' ? [home] : [])).map((p) => resolve(p)).filter((p) => p !== '/' && p !== '/tmp');
  const keep = (o.keep ?? [PROJECT_ROOT, resolve(dirname(process.execPath), '..')]).map((p) => resolve(p));
  const masked = ['/tmp', ...hide];
  const rebinds = keep.filter((k) => masked.some((m) => under(k, m)));
  return [
    '--unshare-all',
    '--unshare-net', // implied by --unshare-all; spelled out because it is the point
    '--die-with-parent',
    '--new-session',
    '--cap-drop', 'ALL',
    '--ro-bind', '/', '/',
    '--dev', '/dev',
    '--proc', '/proc',
    // Later mounts shadow earlier ones, so they go shallowest first: a kept
    // path inside a masked one (node under a hidden home) is bound after the
    // mask, and a hidden path inside a kept one (a checkout under /tmp) is
    // masked after the keep is bound.
    ...[
      { path: '/tmp', args: ['--tmpfs', '/tmp'] },
      ...hide.map((p) => ({ path: p, args: ['--tmpfs', p] })),
      ...rebinds.map((p) => ({ path: p, args: ['--ro-bind', p, p] })),
    ]
      .sort((a, b) => a.path.split(sep).length - b.path.split(sep).length)
      .flatMap((m) => m.args),
    ...hide.flatMap((p) => ['--remount-ro', p]),
    '--clearenv',
    '--setenv', 'PATH', '/usr/local/bin:/usr/bin:/bin',
    '--setenv', 'HOME', '/tmp',
    '--setenv', 'TMPDIR', '/tmp',
    '--chdir', '/tmp',
    '--',
    ...command,
  ];
}

export interface BwrapSandboxOptions extends SandboxLimits {
  /** the bwrap binary (default /usr/bin/bwrap) */
  bwrapPath?: string;
}

export function createBwrapSandbox(options: BwrapSandboxOptions = {}): Sandbox {
  const { memoryMb, backend } = checkLimits(options);
  const bwrapPath = options.bwrapPath ?? BWRAP_PATH;
  if (!bwrapAvailable(bwrapPath)) {
    throw new SwarmError('PROVIDER_BWRAP_UNAVAILABLE', `--sandbox bwrap needs bubblewrap at ${bwrapPath} (Linux; Debian/Ubuntu: apt-get install bubblewrap)`, { path: bwrapPath });
  }
  const argv = bwrapArgv([process.execPath, `--max-old-space-size=${memoryMb}`, ENTRY]);
  return {
    kind: 'bwrap',
    run(spec: UnitSpec, blobs: ReadonlyMap<string, Uint8Array>, o: SandboxRunOptions): Promise<UnitOutcome> {
      return guardedRun(spec, blobs, o, (unit, control) => {
        const { finish } = control;
        // Encoded before the process starts, so a request that cannot be framed starts nothing.
        const chunks = encodeRequest({ spec: unit.spec, threads: o.threads, backend, memoryMb, blobs: unit.inputs });
        const child = spawn(bwrapPath, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
        const reader = new AnswerReader(MAX_FRAME_BYTES);
        let outcome: UnitOutcome | undefined;
        let unitError: Error | undefined;
        let stderr = '';

        child.on('error', (e) => finish(new SwarmError('PROVIDER_SANDBOX_FAILED', `could not start bwrap: ${e.message}`, { path: bwrapPath }, { cause: e })));
        child.stdin.on('error', () => { /* EPIPE when the child dies early: its exit says why */ });
        child.stderr.on('data', (d: Buffer) => {
          stderr = (stderr + d.toString('utf8')).slice(-STDERR_TAIL);
        });
        child.stdout.on('data', (d: Buffer) => {
          if (control.settled) return;
          try {
            for (const a of reader.push(new Uint8Array(d.buffer, d.byteOffset, d.byteLength))) {
              if (a.type === 'progress') o.onProgress?.(a.fraction);
              else if (a.type === 'result') outcome = a.outcome;
              else unitError = fromWireError(a.error);
            }
          } catch (e) {
            finish(e as Error);
          }
        });
        child.on('close', (code, signal) => {
          if (control.settled) return;
          try {
            reader.end();
          } catch (e) {
            return finish(e as Error);
          }
          if (unitError) return finish(unitError);
          if (outcome && code === 0) return finish(null, outcome);
          if (/heap out of memory|Allocation failed/i.test(stderr)) {
            return finish(new SwarmError('PROVIDER_OUT_OF_MEMORY', `the unit exceeded the sandbox's ${memoryMb} MiB heap`, { memoryMb }));
          }
          const why = outcome ? 'sent a result but exited with an error' : 'exited without an answer';
          finish(new SwarmError('PROVIDER_SANDBOX_FAILED', `the bwrap unit process ${why} (code ${code}, signal ${signal}): ${stderr.trim().slice(-1000)}`, {
            exitCode: code, signal, stderr: stderr.slice(-2000),
          }));
        });

        for (const c of chunks) child.stdin.write(c);
        child.stdin.end();
        return () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        };
      });
    },
  };
}
