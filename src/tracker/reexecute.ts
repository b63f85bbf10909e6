/**
 * The tracker re-executes a unit itself (issue 20, a council dispute): the
 * pure unit (src/train/work) on the canonical engine, whose bits every
 * backend reproduces (DESIGN.md, verification layer 1), so its result hash
 * is what an honest provider would have reported. The hash is of the bytes
 * a provider uploads (finalize.ts: a train unit that keeps its optimizer
 * state uploads only the head).
 */
import { sha256Hex } from '../core/sha256.ts';
import { createRefBackend } from '../tensor/backend/ref.ts';
import { Engine } from '../tensor/tensor.ts';
import { finalizeOutput } from '../train/work/finalize.ts';
import { parseUnitSpec, unitInputs } from '../train/work/kinds.ts';
import { runUnit } from '../train/work/run-unit.ts';

/** Recomputes a unit's result hash from its spec and its input blobs. */
export type UnitReexecutor = (spec: Record<string, unknown>, getBlob: (sha: string) => Promise<Uint8Array>) => Promise<string>;

/** A re-executor on `engine` (default: the `ref` backend, the definition; the CLI passes its fastest engine, same bits). */
export function canonicalReexecutor(engine: Engine = new Engine(createRefBackend())): UnitReexecutor {
  return async (spec, getBlob) => {
    const parsed = parseUnitSpec(spec);
    const blobs = new Map<string, Uint8Array>();
    for (const sha of unitInputs(parsed)) blobs.set(sha, await getBlob(sha));
    const out = runUnit(engine, parsed, (h) => blobs.get(h));
    return sha256Hex(finalizeOutput(parsed, out.result).upload);
  };
}
