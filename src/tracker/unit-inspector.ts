/**
 * The tracker's view of a unit spec: parsed strictly by its kind
 * (src/train/work), named by the SHA-256 of its canonical JSON, priced in
 * FLOPs. The wire kind and the spec's own `kind` must agree.
 *
 * The service calls it where a spec enters the tracker: once per unit when
 * units are created (an HTTP body or the run manager), and once per stored
 * spec read back from the database for an assignment (memoised by the spec's
 * hash, service.ts inspectCached). Parsed once each time; the typed spec is
 * then named, listed and priced without parsing it again.
 */
import { SwarmError } from '../core/errors.ts';
import type { UnitKind } from '../protocol/schemas.ts';
import { parseUnitSpec, specHash, unitFlops, unitInputs } from '../train/work/kinds.ts';

/** What the tracker needs to know about a unit's spec; src/train/work provides it. */
export interface UnitInspection {
  /** SHA-256 hex of the canonical spec */
  specHash: string;
  /** blobs the unit reads */
  inputs: string[];
  /** FLOPs of one execution: the credit of a valid result */
  flops: number;
}

/** Validates a spec of a kind (throws a coded error) and describes it (a test may inject its own). */
export type UnitInspector = (kind: UnitKind, spec: Record<string, unknown>) => UnitInspection;

/** The default UnitInspector: the spec is parsed once, and the typed value named, listed and priced. */
export function inspectUnitSpec(kind: UnitKind, spec: Record<string, unknown>): UnitInspection {
  const parsed = parseUnitSpec(spec);
  if (parsed.kind !== kind) throw new SwarmError('TRACKER_BAD_REQUEST', `the unit's kind "${kind}" differs from its spec's "${parsed.kind}"`);
  return { specHash: specHash(parsed), inputs: unitInputs(parsed), flops: unitFlops(parsed) };
}
