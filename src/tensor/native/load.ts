/**
 * The one place in the tensor layer that does I/O (an exception the import
 * rules name, test/architecture/import-rules.ts): the native kernels are a
 * file that has to be read and loaded. Everything here is about finding and
 * opening that file; ./backend.ts decides whether to trust what it opened
 * (ABI number, self-test against `ref`) before any kernel runs.
 *
 * Environment: SWARM_NATIVE_PATH points at another build (tests, experiments);
 * SWARM_ISA forces an ISA path (avx512 | avx2 | portable).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The addon's default place: build/native/ at the package root; SWARM_NATIVE_PATH overrides it. */
export function nativeAddonPath(): string {
  return process.env.SWARM_NATIVE_PATH ?? fileURLToPath(new URL('../../../build/native/swarm_native.node', import.meta.url));
}

/** The ISA path SWARM_ISA asks for, if any. */
export function requestedIsa(): string | undefined {
  const v = process.env.SWARM_ISA;
  return v === undefined || v === '' ? undefined : v;
}

export type LoadedFile = { ok: true; exports: unknown } | { ok: false; missing: boolean; reason: string };

/**
 * Loads the addon at `path` after checking that its bytes hash to the
 * SHA-256 its build recorded beside it (build-info.json): a truncated or
 * half-copied shared object can crash the process inside dlopen, before any
 * JavaScript check could run. Never throws.
 */
export function loadAddonFile(path: string): LoadedFile {
  if (!existsSync(path)) return { ok: false, missing: true, reason: `no native build at ${path} (run npm run build:native; it needs a C compiler)` };
  const infoPath = join(dirname(path), 'build-info.json');
  let want: unknown;
  try {
    want = (JSON.parse(readFileSync(infoPath, 'utf8')) as { sha256?: unknown }).sha256;
  } catch (e) {
    return { ok: false, missing: false, reason: `no readable build record at ${infoPath} (${firstLine(e)}); rebuild with npm run build:native` };
  }
  try {
    const got = createHash('sha256').update(readFileSync(path)).digest('hex');
    if (got !== want) return { ok: false, missing: false, reason: 'its bytes do not match the build record (truncated or replaced?); rebuild with npm run build:native' };
    return { ok: true, exports: createRequire(import.meta.url)(path) as unknown };
  } catch (e) {
    return { ok: false, missing: false, reason: firstLine(e) };
  }
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
}
