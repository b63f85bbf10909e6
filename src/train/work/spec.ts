/**
 * What every unit spec shares: the schema of the model config and of content
 * addresses, strict parsing into coded errors, and the spec's own hash.
 *
 * A spec is plain JSON data (DESIGN.md, "work units are data, not code"): a
 * kind name, a version, and parameters naming content-addressed input blobs
 * by SHA-256. Objects are strict (an unknown member is refused, not ignored:
 * a tracker that sends a field a provider drops would believe it had an
 * effect), numbers are bounded (./limits.ts).
 *
 * specHash = SHA-256 of the spec's RFC 8785 canonical JSON, so the same unit
 * has the same name on every machine whatever the member order on the wire.
 */
import { z } from 'zod';
import { canonicalBytes } from '../../core/canonical-json.ts';
import { SwarmError, isSwarmError } from '../../core/errors.ts';
import { sha256Hex } from '../../core/sha256.ts';
import { validateConfig } from '../../model/config.ts';
import { paramCount } from '../../model/llama.ts';
import { MAX_DIM, MAX_LAYERS, MAX_PARAMS, MAX_SEQ_LEN, MAX_VOCAB } from './limits.ts';

/** A blob's content address: 64 lower-case hex digits of its SHA-256. */
export const BlobHashSchema = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex characters (SHA-256)');

const int = (lo: number, hi: number) => z.number().int().min(lo).max(hi);

/** ModelConfig with bounds; then model/config's own rules and the parameter bound. */
export const ModelConfigSchema = z
  .strictObject({
    vocabSize: int(1, MAX_VOCAB),
    dim: int(1, MAX_DIM),
    hiddenDim: int(1, 4 * MAX_DIM),
    nLayers: int(1, MAX_LAYERS),
    nHeads: int(1, MAX_DIM),
    nKvHeads: int(1, MAX_DIM),
    maxSeqLen: int(1, MAX_SEQ_LEN),
    normEps: z.number().gt(0).max(1),
    ropeTheta: z.number().gt(1).max(1e12),
    tiedEmbeddings: z.boolean(),
    initStd: z.number().gt(0).max(10),
  })
  .superRefine((c, ctx) => {
    try {
      validateConfig(c);
    } catch (e) {
      if (!isSwarmError(e)) throw e;
      ctx.addIssue({ code: 'custom', message: e.message });
      return;
    }
    const n = paramCount(c);
    if (n > MAX_PARAMS) ctx.addIssue({ code: 'custom', message: `${n} parameters; a unit allows at most ${MAX_PARAMS}` });
  });

/** Parses `x` with `schema`; the first issue becomes WORK_BAD_SPEC with its path. */
export function parseWith<T>(schema: z.ZodType<T>, x: unknown): T {
  const r = schema.safeParse(x);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
    throw new SwarmError('WORK_BAD_SPEC', `invalid unit spec${path ? ` at ${path}` : ''}: ${issue.message}`, { path, issues: r.error.issues.length });
  }
  return r.data;
}

/** SHA-256 hex of the canonical JSON of an already-parsed spec. */
export function canonicalSpecHash(spec: object): string {
  return sha256Hex(canonicalBytes(spec));
}
