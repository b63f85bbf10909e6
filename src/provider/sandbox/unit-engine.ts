/**
 * The tensor engine inside a sandbox. Every backend reproduces the canonical
 * arithmetic, so the choice changes speed, never the result's bits. The wasm
 * kernels' memory is capped by the sandbox's memory limit (their
 * WebAssembly.Memory lives outside the V8 heap, which resourceLimits and
 * --max-old-space-size cap).
 */
import { createRefBackend } from '../../tensor/backend/ref.ts';
import { Engine } from '../../tensor/tensor.ts';
import { createWasmBackend } from '../../tensor/wasm/backend.ts';
import type { SandboxBackend } from './sandbox.ts';

export async function createUnitEngine(backend: SandboxBackend, threads: number, memoryMb: number): Promise<Engine> {
  if (backend === 'ref') return new Engine(createRefBackend());
  return new Engine(await createWasmBackend({ threads, maxElements: Math.floor((memoryMb * 2 ** 20) / 4) }));
}
