/**
 * Entry point of the canonical WASM kernels (compiled by
 * scripts/build-wasm.mjs into build/kernels.wasm and embedded as
 * src/tensor/wasm/kernels.generated.ts). All kernels work on raw byte
 * offsets into the imported shared memory; ../backend.ts owns the layout.
 * No allocation, no data segments, no imports besides env.memory.
 */
export { unary } from './unary';
export { binary } from './binary';
export { reduce } from './reduce';
export { scatterAdd } from './scatter';
export { packB, matmulRows, matmulScratchBytes, MR, NR, KC, MC } from './matmul';

/** First byte the host may use (past the stack/static area, which is empty). */
export function heapBase(): usize {
  return (__heap_base + 63) & ~<usize>63;
}
