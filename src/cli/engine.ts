/**
 * Builds a tensor Engine for the CLI from user flags.
 *
 * Backends (all give the same bits; see src/tensor/backend/backend.ts):
 *   auto    native when its build loaded and passed its self-test, else wasm
 *           (one line on stderr says why and how to enable native);
 *   native  the C kernels (src/tensor/native), refused with the reason when
 *           unavailable;
 *   wasm    the WebAssembly kernels browsers run;
 *   ref     the naive definition (slow; for checking).
 */
import { availableParallelism } from 'node:os';
import { SwarmError } from '../core/errors.ts';
import type { Backend } from '../tensor/backend/backend.ts';
import { createRefBackend } from '../tensor/backend/ref.ts';
import { chooseIsa, createNativeBackend, nativeStatus } from '../tensor/native/backend.ts';
import { Engine } from '../tensor/tensor.ts';
import { createWasmBackend } from '../tensor/wasm/backend.ts';

export const BACKEND_NAMES = ['auto', 'native', 'wasm', 'ref'] as const;
/** --backend's help text, the same in every command. */
export const BACKEND_HELP = 'tensor engine: auto (native if built, else wasm), native (C, fastest), wasm (what browsers run) or ref (the naive definition); all give the same bits';
export type BackendName = (typeof BACKEND_NAMES)[number];

export function defaultThreads(): number {
  return availableParallelism();
}

let fallbackSaid = false;

/** The one line printed when `auto` falls back to wasm (once per process). */
export function nativeFallbackLine(): string | undefined {
  const s = nativeStatus();
  if (s.available) return undefined;
  return `swarm: using the wasm engine (same bits, slower): ${s.reason}. To enable the fast native engine, install a C compiler (Debian: apt-get install gcc) and run npm run build:native.`;
}

/** What a --backend choice runs here, e.g. "native avx512" or "wasm" (for start-up lines and reports). */
export function kernelsText(name: BackendName): string {
  const resolved = resolveBackendName(name);
  return resolved === 'native' ? `native ${chooseIsa(nativeStatus())}` : resolved;
}

/** Refuses an explicit `--backend native` where the native build is unusable, saying why and what to do instead. */
export function requireNativeIfAsked(name: BackendName): void {
  const s = nativeStatus();
  if (name === 'native' && !s.available) {
    throw new SwarmError('CLI_NATIVE_UNAVAILABLE', `--backend native: ${s.reason}. Use --backend wasm (same bits) or auto, or install a C compiler and run npm run build:native.`);
  }
}

/** What `auto` resolves to on this machine. */
export function resolveBackendName(name: BackendName): Exclude<BackendName, 'auto'> {
  if (name !== 'auto') return name;
  return nativeStatus().available ? 'native' : 'wasm';
}

export async function createBackend(name: BackendName, threads: number): Promise<Backend> {
  const resolved = resolveBackendName(name);
  if (name === 'auto' && resolved === 'wasm' && !fallbackSaid) {
    fallbackSaid = true;
    process.stderr.write(`${nativeFallbackLine()}\n`);
  }
  if (resolved === 'ref') return createRefBackend();
  if (resolved === 'wasm') return createWasmBackend({ threads });
  if (resolved === 'native') {
    requireNativeIfAsked(name);
    return createNativeBackend({ threads });
  }
  throw new SwarmError('CLI_BAD_FLAG', `unknown backend ${String(name)} (expected ${BACKEND_NAMES.join(', ')})`);
}

export async function createEngine(name: BackendName, threads: number): Promise<Engine> {
  return new Engine(await createBackend(name, threads));
}

/** "native avx512, 2 threads" — for progress lines and --json output. */
export function describeBackend(b: Backend): string {
  return `${b.name}${b.isa !== undefined ? ` ${b.isa}` : ''}, ${b.threads} thread${b.threads === 1 ? '' : 's'}`;
}
