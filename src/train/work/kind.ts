/**
 * What a work-unit kind is: a schema for its spec, the blobs it reads, its
 * cost, and the built-in kernel that computes its result. Providers run only
 * the kinds compiled into them (DESIGN.md: "a provider runs only its own
 * built-in kernels"); a new kind is a new file implementing this interface
 * and one entry in UNIT_KINDS (./kinds.ts).
 */
import type { z } from 'zod';
import type { Engine } from '../../tensor/tensor.ts';

export interface UnitRun {
  /** the result blob (its SHA-256 is what replicas compare) */
  result: Uint8Array;
  /** a few numbers for the status line and the tracker (loss, tokens, ...) */
  metrics: Record<string, number>;
}

export interface UnitKindDef<S extends { kind: string }> {
  readonly kind: S['kind'];
  /** strict schema of the spec; cross-field bounds included */
  readonly schema: z.ZodType<S>;
  /** content addresses of the input blobs, in a fixed order, without repeats */
  inputs(spec: S): string[];
  /** floating-point operations the unit costs (what credit counts) */
  flops(spec: S): number;
  /**
   * Computes the result. `blob` returns inputs whose hashes runUnit has
   * already verified. Pure: same spec and blobs give the same result bytes
   * on every engine, thread count and machine.
   */
  run(engine: Engine, spec: S, blob: (sha: string) => Uint8Array, onProgress: (fraction: number) => void): UnitRun;
}

/** Distinct entries of `xs`, first occurrence first. */
export function distinct(xs: readonly string[]): string[] {
  return [...new Set(xs)];
}
