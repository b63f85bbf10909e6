/**
 * The tracker's view of a unit spec: parsed strictly by its kind
 * (src/train/work), named by the SHA-256 of its canonical JSON, priced in
 * FLOPs. The wire kind and the spec's own `kind` must agree.
 */
import { SwarmError } from '../core/errors.ts';
import type { UnitKind } from '../protocol/schemas.ts';
import { parseUnitSpec, specHash, unitFlops, unitInputs } from '../train/work/kinds.ts';
import type { UnitInspection } from './service.ts';

export function inspectUnitSpec(kind: UnitKind, spec: Record<string, unknown>): UnitInspection {
  const parsed = parseUnitSpec(spec);
  if (parsed.kind !== kind) throw new SwarmError('TRACKER_BAD_REQUEST', `the unit's kind "${kind}" differs from its spec's "${parsed.kind}"`);
  return { specHash: specHash(parsed), inputs: unitInputs(parsed), flops: unitFlops(parsed) };
}
