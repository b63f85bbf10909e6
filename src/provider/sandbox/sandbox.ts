/**
 * The sandbox a provider runs a work unit in (DESIGN.md, "Identity and
 * security": kernels run inside a worker thread with memory limits and a
 * deadline; on Linux the worker can run under bubblewrap). Two
 * implementations share this interface: ./worker-sandbox.ts (a
 * worker_threads Worker with a heap cap) and ./bwrap-sandbox.ts (a separate
 * node process under bwrap: no network, read-only filesystem, private /tmp).
 * What both do around a unit (deadline, cancel, settle once, kill) is
 * ./guarded-run.ts; this file holds the interface, the option checks and the
 * error shapes they share.
 *
 * A unit is data (a spec naming content-addressed blobs); what runs is the
 * provider's own runUnit (src/train/work). The sandbox is defence in depth
 * against a bug in our kernels or parsers that hostile bytes could reach.
 *
 * Errors, each a SwarmError with a stable code:
 *   PROVIDER_DEADLINE        the unit ran past deadlineMs (wall clock, start-up included); it was killed
 *   PROVIDER_CANCELLED       the caller's AbortSignal fired (Ctrl-C); it was killed
 *   PROVIDER_OUT_OF_MEMORY   the heap cap or the kernels' memory cap was hit
 *   PROVIDER_SANDBOX_FAILED  the worker or process died without an answer (details say how)
 *   PROVIDER_BAD_OUTPUT      the sandboxed side answered with malformed, truncated or inconsistent data
 *   PROVIDER_BAD_OPTION      bad run options
 *   PROVIDER_BWRAP_UNAVAILABLE  --sandbox bwrap on a machine without a usable bwrap
 *   WORK_* / TRAIN_* / ...   the unit's own error, passed through with its code and message
 */
import { SwarmError } from '../../core/errors.ts';
import type { ErrorDetails } from '../../core/errors.ts';
import { unitInputs } from '../../train/work/kinds.ts';
import type { UnitSpec } from '../../train/work/kinds.ts';
import type { UnitOutcome } from '../../train/work/run-unit.ts';

export type SandboxKind = 'worker' | 'bwrap' | 'web-worker';
/** auto: native when its build loads and passes its self-test inside the sandbox, else wasm (same bits). */
export const SANDBOX_BACKENDS = ['auto', 'native', 'wasm', 'ref'] as const;
export type SandboxBackend = (typeof SANDBOX_BACKENDS)[number];

export interface SandboxRunOptions {
  /** threads the unit's kernels may use (the backend's matmul pool), ≥ 1 */
  threads: number;
  /** wall-clock limit in milliseconds, start-up included */
  deadlineMs: number;
  /** abort to cancel the unit (Ctrl-C); the run rejects with PROVIDER_CANCELLED */
  signal?: AbortSignal;
  /** fraction done, from the unit's own steps */
  onProgress?: (fraction: number) => void;
}

export interface Sandbox {
  readonly kind: SandboxKind;
  /**
   * Runs `spec` on the blobs it names (others in the map are ignored).
   * Resolves with the result, its SHA-256 and metrics, or rejects with a
   * coded error (see the module comment).
   */
  run(spec: UnitSpec, blobs: ReadonlyMap<string, Uint8Array>, options: SandboxRunOptions): Promise<UnitOutcome>;
}

/** Limits every sandbox applies. */
export interface SandboxLimits {
  /** V8 heap cap and the kernels' working-memory cap, MiB (default 2048) */
  memoryMb?: number;
  /** tensor backend inside the sandbox (default auto) */
  backend?: SandboxBackend;
}

export const DEFAULT_MEMORY_MB = 2048;

/** The kernels' working-set cap (f32 elements) for a sandbox memory limit of `memoryMb`. */
export function maxElementsFor(memoryMb: number): number {
  return Math.floor((memoryMb * 2 ** 20) / 4);
}
/** setTimeout's largest delay (2^31 − 1 ms, about 24.8 days). */
export const MAX_DEADLINE_MS = 2 ** 31 - 1;
export const MAX_SANDBOX_THREADS = 256;

function badOption(message: string): never {
  throw new SwarmError('PROVIDER_BAD_OPTION', message);
}

export function checkLimits(l: SandboxLimits): Required<SandboxLimits> {
  const memoryMb = l.memoryMb ?? DEFAULT_MEMORY_MB;
  const backend = l.backend ?? 'auto';
  if (!Number.isSafeInteger(memoryMb) || memoryMb < 16 || memoryMb > 1 << 20) badOption(`memoryMb must be an integer in [16, ${1 << 20}], got ${memoryMb}`);
  if (!(SANDBOX_BACKENDS as readonly string[]).includes(backend)) badOption(`backend must be one of ${SANDBOX_BACKENDS.join(', ')}, got ${String(backend)}`);
  return { memoryMb, backend };
}

export function checkRunOptions(o: SandboxRunOptions): void {
  if (!Number.isSafeInteger(o.threads) || o.threads < 1 || o.threads > MAX_SANDBOX_THREADS) badOption(`threads must be an integer in [1, ${MAX_SANDBOX_THREADS}], got ${o.threads}`);
  if (!Number.isSafeInteger(o.deadlineMs) || o.deadlineMs < 1 || o.deadlineMs > MAX_DEADLINE_MS) badOption(`deadlineMs must be an integer in [1, ${MAX_DEADLINE_MS}], got ${o.deadlineMs}`);
}

/**
 * The blobs a parsed spec names, each present (WORK_BLOB_MISSING otherwise;
 * the hashes are checked inside, by runUnit, next to the code that uses the
 * bytes). The caller parsed the spec where it arrived (the provider loop);
 * the sandboxed side parses it once more, because for that side the spec is
 * a message from another thread or process.
 */
export function prepareUnit(spec: UnitSpec, blobs: ReadonlyMap<string, Uint8Array>): { spec: UnitSpec; inputs: Map<string, Uint8Array> } {
  const inputs = new Map<string, Uint8Array>();
  for (const h of unitInputs(spec)) {
    const b = blobs.get(h);
    if (!(b instanceof Uint8Array)) throw new SwarmError('WORK_BLOB_MISSING', `input blob ${h} is not available`, { blob: h });
    inputs.set(h, b);
  }
  return { spec, inputs };
}

export function cancelledError(): SwarmError {
  return new SwarmError('PROVIDER_CANCELLED', 'the unit was cancelled');
}

export function deadlineError(deadlineMs: number): SwarmError {
  return new SwarmError('PROVIDER_DEADLINE', `the unit ran past its deadline of ${deadlineMs} ms and was stopped`, { deadlineMs });
}

/** An error as plain data, to cross a thread or process boundary. */
export interface WireError {
  code: string;
  message: string;
  details?: ErrorDetails;
}

const OOM_MESSAGES = [/Array buffer allocation failed/i, /out of memory/i, /Invalid typed array length/i];

/**
 * How an error thrown inside the sandbox travels out: a coded error keeps its
 * code (the kernels' memory cap, TENSOR_TOO_LARGE, is the sandbox's memory
 * limit, so it becomes PROVIDER_OUT_OF_MEMORY); an allocation failure is
 * PROVIDER_OUT_OF_MEMORY; anything else is a bug in our code and becomes
 * PROVIDER_SANDBOX_FAILED with its message.
 */
export function toWireError(e: unknown): WireError {
  if (e instanceof SwarmError) {
    if (e.code === 'TENSOR_TOO_LARGE') return { code: 'PROVIDER_OUT_OF_MEMORY', message: `the unit needs more memory than the sandbox allows: ${e.message}`, details: { reason: e.code } };
    const details = plainDetails(e.details);
    return details === undefined ? { code: e.code, message: e.message } : { code: e.code, message: e.message, details };
  }
  const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  if (e instanceof RangeError && OOM_MESSAGES.some((r) => r.test(e.message))) return { code: 'PROVIDER_OUT_OF_MEMORY', message };
  return { code: 'PROVIDER_SANDBOX_FAILED', message: `the unit failed inside the sandbox: ${message}` };
}

/** Details that survive JSON (others are dropped rather than risk a second failure while reporting the first). */
function plainDetails(d: ErrorDetails | undefined): ErrorDetails | undefined {
  if (d === undefined) return undefined;
  try {
    return JSON.parse(JSON.stringify(d)) as ErrorDetails;
  } catch {
    return undefined;
  }
}

/** Rebuilds the coded error on this side. */
export function fromWireError(w: WireError): SwarmError {
  return new SwarmError(w.code, w.message, w.details);
}
