/**
 * Wire schemas (zod) for the first tracker endpoints, protocol version 1.
 * DESIGN.md, "Identity and security": every input is parsed by a schema with
 * size limits before it is used. So every string has a maximum length, every
 * array and record a maximum count, every number a finite range, and objects
 * are strict (unknown members are refused, not silently dropped: a client
 * that sends a field we ignore would believe it had an effect).
 *
 * Record keys must start with a letter and must not name an Object.prototype
 * member, which keeps "__proto__", "constructor", "toString" ... out of
 * parsed objects (prototype pollution, and lookups that hit inherited members).
 *
 * The limits on the raw JSON text (MAX_JSON_BODY_BYTES) are for the HTTP
 * layer to apply before JSON.parse; these schemas bound the parsed value.
 *
 * parseWire turns the first zod issue into SwarmError PROTOCOL_INVALID with
 * its path ("capabilities.threads", "inputs[3]") and message, which the
 * tracker's error mapper reports as a 400.
 */
import { z } from 'zod';
import { SwarmError } from '../core/errors.ts';
import { checkProtocolVersion } from './version.ts';

/** Largest JSON request or response body of these endpoints (bytes, checked before parsing). */
export const MAX_JSON_BODY_BYTES = 64 * 1024;
export const MAX_NAME_LENGTH = 64;
export const MAX_UNIT_ID_LENGTH = 128;
export const MAX_THREADS = 1024;
/** 16 TiB: far above any machine today, low enough to stay a safe integer with room. */
export const MAX_MEMORY_BYTES = 2 ** 44;
export const MAX_INPUTS = 64;
export const MAX_METRICS = 64;
/** |value| bound for hyper-parameters and metrics. */
export const MAX_ABS_NUMBER = 1e12;
/** Largest result blob a provider may announce (4 GiB). */
export const MAX_RESULT_BYTES = 2 ** 32;
export const MAX_ERROR_MESSAGE_LENGTH = 1024;
/** Nesting depth of free-form JSON objects (unit specs, entries). */
export const MAX_JSON_DEPTH = 8;
export const MAX_UNITS_PER_REQUEST = 256;

// ---- shared pieces ---------------------------------------------------------

/** Lower-case hex SHA-256 (content address of a blob). */
export const Sha256HexSchema = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex characters');

/** keyIdOf a public key (same shape as a SHA-256 hex). */
export const KeyIdSchema = Sha256HexSchema;

/** Raw 32-byte Ed25519 public key as unpadded base64url: 43 characters, last one carries 4 zero bits. */
export const PublicKeySchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/, 'must be a 32-byte Ed25519 public key in unpadded base64url');

/**
 * A display name: 1..64 characters, no control characters, no leading or
 * trailing white space (two names that look alike should be alike).
 */
export const NameSchema = z
  .string()
  .min(1)
  .max(MAX_NAME_LENGTH)
  .regex(/^[^\p{Cc}\p{Zl}\p{Zp}]*$/u, 'must not contain control characters')
  .refine((s) => s.trim() === s, 'must not start or end with white space');

export const UnitIdSchema = z
  .string()
  .min(1)
  .max(MAX_UNIT_ID_LENGTH)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'must be letters, digits, ".", "_", ":" or "-"');

export const UnitKindSchema = z.enum(['train', 'eval']);

/** Run ids follow the ledger's id rule (src/ledger/entry.ts): short ASCII tokens. */
export const RunIdSchema = z
  .string()
  .min(1)
  .max(MAX_UNIT_ID_LENGTH)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'must be letters, digits, ".", "_", ":" or "-"');

/**
 * A JSON object whose content another layer validates (a unit spec, a
 * signed ledger entry). Bounded here by depth and key names only; the whole
 * body is already bounded by MAX_JSON_BODY_BYTES.
 */
export const JsonObject = z
  .custom<Record<string, unknown>>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), 'must be a JSON object')
  // abort: the __proto__ walk below recurses, so it must only see a value
  // whose depth is bounded (a 20 kB body of nested brackets overflowed the stack)
  .refine((v) => jsonDepth(v) <= MAX_JSON_DEPTH, { message: `must nest at most ${MAX_JSON_DEPTH} levels`, abort: true })
  .refine((v) => !hasProtoKey(v), 'must not have a "__proto__" member');

function jsonDepth(v: unknown, d = 0): number {
  if (d > MAX_JSON_DEPTH) return d;
  if (Array.isArray(v)) return v.reduce((m: number, x) => Math.max(m, jsonDepth(x, d + 1)), d + 1);
  if (typeof v === 'object' && v !== null) return Object.values(v).reduce((m: number, x) => Math.max(m, jsonDepth(x, d + 1)), d + 1);
  return d;
}

function hasProtoKey(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return false;
  if (!Array.isArray(v) && Object.hasOwn(v, '__proto__')) return true;
  return Object.values(v).some(hasProtoKey);
}

/** Milliseconds since the epoch. */
export const TimeMsSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

const BoundedNumber = z.number().finite().min(-MAX_ABS_NUMBER).max(MAX_ABS_NUMBER);
const RecordKey = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_.-]{0,63}$/, 'must be a name of 1..64 letters, digits, "_", "." or "-" starting with a letter')
  .refine((k) => !(k in Object.prototype), 'must not be the name of an Object.prototype member');

/**
 * A record of bounded numbers with at most `max` entries. The count and a
 * "__proto__" member (JSON.parse makes it an own property, and zod's record
 * would silently drop it) are checked before zod walks the entries.
 */
function boundedRecord(max: number) {
  const isObj = (v: unknown): v is object => typeof v === 'object' && v !== null && !Array.isArray(v);
  return z
    .custom<unknown>((v) => !isObj(v) || Object.keys(v).length <= max, `must have at most ${max} entries`)
    .refine((v) => !isObj(v) || !Object.hasOwn(v, '__proto__'), 'must not have a "__proto__" member')
    .pipe(z.record(RecordKey, BoundedNumber));
}

/** Longest `client.engine` a provider may announce (issue 18). */
export const MAX_CLIENT_ENGINE_LENGTH = 64;

/**
 * What software a provider runs (issue 18), shown beside it in
 * /api/providers/:id and /api/leaderboard: `node` (the CLI) or `browser`
 * (the join page), and its engine, e.g. "node 20.20.2" or "Chromium 150".
 * Metadata only, said by the provider itself: nothing is trusted or
 * scheduled by it (quorum rules are the same for every kind). The engine
 * is printable ASCII — the alphabet of RFC 8941 §3.3.3 strings, which is
 * what User-Agent Client Hints brands are — so a name shown on the
 * dashboard carries no control, bidi or invisible characters.
 */
export const ClientInfoSchema = z.strictObject({
  kind: z.enum(['node', 'browser']),
  engine: z
    .string()
    .min(1)
    .max(MAX_CLIENT_ENGINE_LENGTH)
    .regex(/^[\x20-\x7e]*$/, 'must be printable ASCII (no control characters)')
    .refine((s) => s.trim() === s, 'must not start or end with white space'),
});
export type ClientInfo = z.infer<typeof ClientInfoSchema>;

// ---- endpoints (version 1) -------------------------------------------------

/** POST /api/providers — a provider announces itself (its key must equal the x-swarm-key signer). */
export const RegisterProviderRequestSchema = z.strictObject({
  publicKey: PublicKeySchema,
  name: NameSchema,
  team: NameSchema.optional(),
  capabilities: z.strictObject({
    threads: z.number().int().min(1).max(MAX_THREADS),
    memoryBytes: z.number().int().min(1).max(MAX_MEMORY_BYTES),
  }),
  /**
   * The provider-registered ledger entry, signed by the provider itself
   * (src/ledger/entry.ts; parsed strictly by the tracker).
   */
  entry: JsonObject,
  /** the registration's proof of work (protocol/pow.ts); required when the tracker's difficulty is above 0 */
  pow: z.strictObject({
    window: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    nonce: z.string().regex(/^[0-9a-f]{1,32}$/, 'lower-case hex, at most 32 characters'),
  }).optional(),
  /**
   * The provider's client kind and engine (issue 18). Optional, so version 1
   * still holds (like `pow`): a client older than the field sends none, and
   * the tracker stores it as unknown (null).
   */
  client: ClientInfoSchema.optional(),
});

/** GET /api/info: the tracker's key, protocol, and what registration costs (issue 25). */
export const TrackerInfoSchema = z.object({
  protocol: z.number().int(),
  trackerKey: z.string(),
  trackerKeyId: z.string().regex(/^[0-9a-f]{64}$/),
  /** leading zero bits the registration's proof of work needs (0: none) */
  registrationDifficulty: z.number().int().min(0).max(64).default(0),
});
export type TrackerInfo = z.infer<typeof TrackerInfoSchema>;

export const RegisterProviderResponseSchema = z.strictObject({
  providerId: KeyIdSchema,
  /** false when this key was already registered (the call only updated name/team/capabilities) */
  created: z.boolean(),
});

/** POST /api/work — ask for one unit; `kinds` narrows what the provider will run. */
export const WorkRequestSchema = z.strictObject({
  kinds: z
    .array(UnitKindSchema)
    .min(1)
    .max(UnitKindSchema.options.length)
    .refine((k) => new Set(k).size === k.length, 'must not repeat a kind')
    .optional(),
});

/**
 * One replica of a unit, leased to a provider until leaseDeadlineMs. `spec`
 * is the unit's data (src/train/work: the kind's spec, validated again by
 * the provider before it runs anything); `inputs` are the blobs it names.
 */
export const ParamsPatchSchema = z.strictObject({ target: Sha256HexSchema, base: Sha256HexSchema, update: Sha256HexSchema });

export const WorkAssignmentSchema = z.strictObject({
  unitId: UnitIdSchema,
  runId: RunIdSchema,
  kind: UnitKindSchema,
  spec: JsonObject,
  /** Content addresses of the input blobs (parameters, optimizer state, data shard). */
  inputs: z.array(Sha256HexSchema).min(1).max(MAX_INPUTS),
  leaseDeadlineMs: TimeMsSchema,
  /**
   * A cheaper way to one of the inputs (issue 7's int8 downlink): `target`
   * (an input, a params blob) is `base` with the int8 update `update`
   * applied (src/train/work/update-blob.ts). A provider holding the base may
   * fetch the update instead and must check the rebuilt blob's hash.
   */
  patch: ParamsPatchSchema.optional(),
});

/** Reply to a work request: a unit, or none with a hint when to ask again. */
/** Blobs the tracker asks this provider to upload (state it keeps that another provider needs). */
const WantedSchema = z.array(Sha256HexSchema).max(16).optional();

export const WorkResponseSchema = z.union([
  z.strictObject({ unit: WorkAssignmentSchema, wanted: WantedSchema }),
  z.strictObject({ unit: z.null(), retryAfterMs: z.number().int().min(0).max(3_600_000), wanted: WantedSchema }),
]);

/** POST /api/heartbeat — still working; extends the lease. */
export const HeartbeatRequestSchema = z.strictObject({
  unitId: UnitIdSchema,
  /** Fraction done, for the status line and the dashboard. */
  progress: z.number().finite().min(0).max(1).optional(),
});

export const HeartbeatResponseSchema = z.strictObject({
  leaseDeadlineMs: TimeMsSchema,
});

/**
 * POST /api/results — the hash of the result blob (uploaded before with
 * PUT /api/blobs/:sha256), its metrics, and the result-submitted ledger
 * entry signed by the provider.
 */
export const ResultSubmissionSchema = z.strictObject({
  unitId: UnitIdSchema,
  resultHash: Sha256HexSchema,
  resultBytes: z.number().int().min(0).max(MAX_RESULT_BYTES),
  metrics: boundedRecord(MAX_METRICS),
  entry: JsonObject,
});

export const ResultResponseSchema = z.strictObject({
  /** the unit's status after this result: open (waiting for a quorum), valid or error */
  unitStatus: z.enum(['open', 'valid', 'error']),
});

/** POST /api/failures — the provider could not finish (or gives the unit back). */
export const FailureReportSchema = z.strictObject({
  unitId: UnitIdSchema,
  code: z.string().regex(/^[A-Z][A-Z0-9_]{0,63}$/, 'must be a SCREAMING_SNAKE code'),
  message: z.string().max(MAX_ERROR_MESSAGE_LENGTH),
});

/**
 * POST /api/scheduler — the batched scheduler request (issue 16; BOINC's
 * scheduler RPC reports finished results and asks for work in one
 * exchange): any number of finished results and failures (up to
 * MAX_BATCH_RESULTS), and a request for up to `want` units. One signature
 * covers the whole batch. A result of at most MAX_INLINE_RESULT_BYTES may
 * carry its bytes (`data`, base64) instead of a separate blob upload.
 */
export const MAX_BATCH_RESULTS = 64;
export const MAX_BATCH_UNITS = 32;
export const MAX_INLINE_RESULT_BYTES = 64 * 1024;
/** The batch's body limit: every result inlined at the limit, in base64, with room for the entries. */
export const MAX_SCHEDULER_BODY_BYTES = MAX_BATCH_RESULTS * (Math.ceil(MAX_INLINE_RESULT_BYTES / 3) * 4 + 4096) + MAX_JSON_BODY_BYTES;

export const BatchedResultSchema = z.strictObject({
  ...ResultSubmissionSchema.shape,
  data: z.base64().max(Math.ceil(MAX_INLINE_RESULT_BYTES / 3) * 4).optional(),
});

export const SchedulerRequestSchema = z
  .strictObject({
    results: z.array(BatchedResultSchema).max(MAX_BATCH_RESULTS).optional(),
    failures: z.array(FailureReportSchema).max(MAX_BATCH_RESULTS).optional(),
    want: z.number().int().min(0).max(MAX_BATCH_UNITS),
    kinds: WorkRequestSchema.shape.kinds,
  })
  .refine((r) => {
    const ids = [...(r.results ?? []), ...(r.failures ?? [])].map((x) => x.unitId);
    return new Set(ids).size === ids.length;
  }, 'a unit may appear once among results and failures');

/** What became of one reported result or failure: acknowledged (the provider may forget it) or refused by name. */
export const BatchOutcomeSchema = z.union([
  z.strictObject({ unitId: UnitIdSchema, ok: z.literal(true), unitStatus: z.enum(['open', 'valid', 'error']).optional() }),
  z.strictObject({
    unitId: UnitIdSchema,
    ok: z.literal(false),
    error: z.strictObject({ code: z.string().regex(/^[A-Z][A-Z0-9_]{0,63}$/), message: z.string().max(MAX_ERROR_MESSAGE_LENGTH) }),
  }),
]);

export const SchedulerResponseSchema = z.strictObject({
  results: z.array(BatchOutcomeSchema).max(MAX_BATCH_RESULTS),
  failures: z.array(BatchOutcomeSchema).max(MAX_BATCH_RESULTS),
  units: z.array(WorkAssignmentSchema).max(MAX_BATCH_UNITS),
  /** present when fewer units than wanted were available: when to ask again */
  retryAfterMs: z.number().int().min(0).max(3_600_000).optional(),
  wanted: WantedSchema,
});

/** One unit to create (POST /api/units, trainers only). */
export const NewUnitSchema = z.strictObject({
  id: UnitIdSchema,
  kind: UnitKindSchema,
  spec: JsonObject,
  /** BOINC min_quorum; adaptive replication may raise it, never lower it (default 1) */
  minQuorum: z.number().int().min(1).max(16).optional(),
  /** lease length in ms (default: the tracker's) */
  leaseMs: z.number().int().min(1000).max(86_400_000).optional(),
  round: z.number().int().min(0).max(1_000_000).optional(),
  slot: z.number().int().min(0).max(1_000_000).optional(),
});

export const CreateUnitsRequestSchema = z.strictObject({
  run: RunIdSchema,
  units: z.array(NewUnitSchema).min(1).max(MAX_UNITS_PER_REQUEST),
});

/** Every error response: `{error:{code,message}}` (one error mapper writes it). */
export const ErrorBodySchema = z.strictObject({
  error: z.strictObject({
    code: z.string().regex(/^[A-Z][A-Z0-9_]{0,63}$/, 'must be a SCREAMING_SNAKE code'),
    message: z.string().max(MAX_ERROR_MESSAGE_LENGTH),
  }),
});

export type RegisterProviderRequest = z.infer<typeof RegisterProviderRequestSchema>;
export type RegisterProviderResponse = z.infer<typeof RegisterProviderResponseSchema>;
export type WorkRequest = z.infer<typeof WorkRequestSchema>;
export type WorkAssignment = z.infer<typeof WorkAssignmentSchema>;
export type ParamsPatch = z.infer<typeof ParamsPatchSchema>;
export type WorkResponse = z.infer<typeof WorkResponseSchema>;
export type HeartbeatRequest = z.infer<typeof HeartbeatRequestSchema>;
export type HeartbeatResponse = z.infer<typeof HeartbeatResponseSchema>;
export type ResultSubmission = z.infer<typeof ResultSubmissionSchema>;
export type ErrorBody = z.infer<typeof ErrorBodySchema>;
export type ResultResponse = z.infer<typeof ResultResponseSchema>;
export type FailureReport = z.infer<typeof FailureReportSchema>;
export type BatchedResult = z.infer<typeof BatchedResultSchema>;
export type SchedulerRequest = z.infer<typeof SchedulerRequestSchema>;
export type BatchOutcome = z.infer<typeof BatchOutcomeSchema>;
export type SchedulerResponse = z.infer<typeof SchedulerResponseSchema>;
export type NewUnit = z.infer<typeof NewUnitSchema>;
export type CreateUnitsRequest = z.infer<typeof CreateUnitsRequestSchema>;
export type UnitKind = z.infer<typeof UnitKindSchema>;

/** The schemas of protocol version 1. */
export const WIRE_SCHEMAS_V1 = Object.freeze({
  registerProviderRequest: RegisterProviderRequestSchema,
  registerProviderResponse: RegisterProviderResponseSchema,
  workRequest: WorkRequestSchema,
  workResponse: WorkResponseSchema,
  heartbeatRequest: HeartbeatRequestSchema,
  heartbeatResponse: HeartbeatResponseSchema,
  resultSubmission: ResultSubmissionSchema,
  resultResponse: ResultResponseSchema,
  failureReport: FailureReportSchema,
  schedulerRequest: SchedulerRequestSchema,
  schedulerResponse: SchedulerResponseSchema,
  createUnitsRequest: CreateUnitsRequestSchema,
  errorBody: ErrorBodySchema,
});
export type WireSchemas = typeof WIRE_SCHEMAS_V1;

/** The schema set of `version`; PROTOCOL_UNSUPPORTED_VERSION for one this build does not speak. */
export function wireSchemas(version: number): WireSchemas {
  checkProtocolVersion(version);
  return WIRE_SCHEMAS_V1; // the only version so far
}

/** "a.b[2].c" from a zod issue path ("" for the root). */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out;
}

/**
 * `value` parsed by `schema`, or SwarmError PROTOCOL_INVALID naming the path
 * and message of the first issue (details: path, issues = total count).
 */
export function parseWire<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues;
  const first = issues[0];
  const path = first === undefined ? '' : formatIssuePath(first.path);
  const message = first === undefined ? 'invalid' : first.message;
  throw new SwarmError('PROTOCOL_INVALID', path === '' ? message : `${path}: ${message}`, {
    path,
    issues: issues.length,
  });
}
