/**
 * The registry of work-unit kinds and the functions every caller (tracker,
 * provider, audit) uses on a spec: parse it strictly, name it (specHash),
 * list its inputs, price it. To add a kind: implement UnitKindDef in its own
 * file and add it here; the wire's kind enum (protocol) follows.
 *
 * A spec is parsed once, where it enters (an HTTP body, a database row, a
 * message into the sandbox), by parseUnitSpec; the UnitSpec it returns is
 * what the other functions take, and they do not parse it again.
 */
import { SwarmError } from '../../core/errors.ts';
import { evalKind } from './eval-kind.ts';
import type { EvalSpec } from './eval-kind.ts';
import type { UnitKindDef } from './kind.ts';
import { canonicalSpecHash, parseWith } from './spec.ts';
import { trainKind } from './train-kind.ts';
import type { TrainSpec } from './train-kind.ts';

/** Every unit spec, by kind. */
export interface UnitSpecs {
  train: TrainSpec;
  eval: EvalSpec;
}
export type UnitKindName = keyof UnitSpecs;
export type UnitSpec = UnitSpecs[UnitKindName];

export const UNIT_KINDS: { readonly [K in UnitKindName]: UnitKindDef<UnitSpecs[K]> } = Object.freeze({
  train: trainKind,
  eval: evalKind,
});

export function isUnitKind(x: unknown): x is UnitKindName {
  return typeof x === 'string' && Object.hasOwn(UNIT_KINDS, x);
}

/** The definition of a parsed spec's kind. */
export function kindOf<S extends UnitSpec>(spec: S): UnitKindDef<S> {
  return UNIT_KINDS[spec.kind] as unknown as UnitKindDef<S>;
}

/**
 * Strictly parses an untrusted spec. WORK_UNKNOWN_KIND when `kind` names no
 * registered kind, WORK_BAD_SPEC for anything else (with the path of the
 * first problem).
 */
export function parseUnitSpec(x: unknown): UnitSpec {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new SwarmError('WORK_BAD_SPEC', 'a unit spec must be a JSON object');
  const kind = (x as { kind?: unknown }).kind;
  if (!Object.hasOwn(x, 'kind') || typeof kind !== 'string') throw new SwarmError('WORK_BAD_SPEC', 'a unit spec needs a string "kind"', { path: 'kind' });
  if (!isUnitKind(kind)) {
    throw new SwarmError('WORK_UNKNOWN_KIND', `unknown work-unit kind "${kind.slice(0, 64)}" (known: ${Object.keys(UNIT_KINDS).join(', ')})`);
  }
  return parseWith<UnitSpec>(UNIT_KINDS[kind].schema, x);
}

/** SHA-256 hex of a parsed spec's RFC 8785 canonical JSON. */
export function specHash(spec: UnitSpec): string {
  return canonicalSpecHash(spec);
}

/** Content addresses of the blobs a parsed spec's unit reads, without repeats. */
export function unitInputs(spec: UnitSpec): string[] {
  return kindOf(spec).inputs(spec);
}

/** FLOPs of the unit (train ≈ 6·N·tokens, eval ≈ 2·N·tokens; Kaplan et al. 2020 §2.1). */
export function unitFlops(spec: UnitSpec): number {
  return kindOf(spec).flops(spec);
}
