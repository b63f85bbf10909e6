/** Builds a tensor Engine for the CLI from user flags. */
import { availableParallelism } from 'node:os';
import { SwarmError } from '../core/errors.ts';
import type { Backend } from '../tensor/backend/backend.ts';
import { createRefBackend } from '../tensor/backend/ref.ts';
import { Engine } from '../tensor/tensor.ts';
import { createWasmBackend } from '../tensor/wasm/backend.ts';

export type BackendName = 'ref' | 'wasm';

export function defaultThreads(): number {
  return availableParallelism();
}

export async function createBackend(name: BackendName, threads: number): Promise<Backend> {
  if (name === 'ref') return createRefBackend();
  if (name === 'wasm') return createWasmBackend({ threads });
  throw new SwarmError('CLI_BAD_FLAG', `unknown backend ${String(name)} (expected ref or wasm)`);
}

export async function createEngine(name: BackendName, threads: number): Promise<Engine> {
  return new Engine(await createBackend(name, threads));
}
