/**
 * The tensor engine inside a sandbox. Every backend reproduces the canonical
 * arithmetic, so the choice changes speed, never the result's bits. The
 * kernels' working memory is capped by the sandbox's memory limit (wasm
 * memory and native buffers live outside the V8 heap, which resourceLimits
 * and --max-old-space-size cap): one op's working set is limited to
 * memoryMb, and larger ones fail with TENSOR_TOO_LARGE.
 *
 * `auto` is resolved here, inside the sandbox, because that is where the
 * native addon is loaded and self-tested (once per worker thread or bwrap
 * process); it falls back to wasm silently, the provider's start-up line has
 * already said which engine this machine runs.
 */
import { createRefBackend } from '../../tensor/backend/ref.ts';
import { createNativeBackend, nativeStatus } from '../../tensor/native/backend.ts';
import { Engine } from '../../tensor/tensor.ts';
import { createWasmBackend } from '../../tensor/wasm/backend.ts';
import { maxElementsFor } from './sandbox.ts';
import type { SandboxBackend } from './sandbox.ts';

export async function createUnitEngine(backend: SandboxBackend, threads: number, memoryMb: number): Promise<Engine> {
  if (backend === 'ref') return new Engine(createRefBackend());
  const maxElements = maxElementsFor(memoryMb);
  if (backend === 'native' || (backend === 'auto' && nativeStatus().available)) {
    return new Engine(createNativeBackend({ threads, maxElements }));
  }
  return new Engine(await createWasmBackend({ threads, maxElements }));
}
