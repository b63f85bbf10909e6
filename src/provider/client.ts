/**
 * The provider's side of the tracker protocol: every request signed
 * (protocol/signing.ts), every response parsed by its wire schema, every
 * error answer turned back into the coded SwarmError the tracker sent.
 * Providers sit behind NAT and only ever dial the tracker (DESIGN.md,
 * Processes); the tracker never calls them.
 *
 * A 429 (the tracker's rate limits, issue 25) is waited out here, as its
 * Retry-After says, up to maxRateLimitRetries times (each try signed anew:
 * fresh timestamp and nonce); past that it surfaces as a transient error and
 * the provider loop's back-off takes over.
 */
import type { Clock } from '../core/clock.ts';
import { base64Encode, base64UrlEncode, utf8Encode } from '../core/encoding.ts';
import { SwarmError, isSwarmError } from '../core/errors.ts';
import { sha256Hex } from '../core/sha256.ts';
import type { Ed25519KeyPair } from '../protocol/entries.ts';
import { providerRegisteredEntry, resultSubmittedEntry } from '../protocol/entries.ts';
import {
  ErrorBodySchema,
  HeartbeatResponseSchema,
  MAX_INLINE_RESULT_BYTES,
  RegisterProviderResponseSchema,
  ResultResponseSchema,
  SchedulerResponseSchema,
  WorkResponseSchema,
  parseWire,
} from '../protocol/schemas.ts';
import type { BatchedResult, CreateUnitsRequest, FailureReport, RegisterProviderResponse, ResultResponse, SchedulerResponse, UnitKind, WorkAssignment } from '../protocol/schemas.ts';
import { signRequest } from '../protocol/signing.ts';
import { solvePow } from '../protocol/pow.ts';
import { TrackerInfoSchema } from '../protocol/schemas.ts';
import type { ClientInfo, TrackerInfo } from '../protocol/schemas.ts';
import type { ProviderStatus } from '../protocol/views.ts';

export interface TrackerClientOptions {
  /** e.g. http://127.0.0.1:7070 (no trailing path) */
  baseUrl: string;
  key: Ed25519KeyPair;
  clock: Clock;
  /** 16 random bytes per request (tests may inject) */
  nonce?: () => Uint8Array;
  fetch?: typeof fetch;
  /** per-request timeout (default 60 s) */
  timeoutMs?: number;
  /** 429s waited out per request before the error surfaces (default 2) */
  maxRateLimitRetries?: number;
  /** the longest Retry-After waited out here (default 60 s; a longer one surfaces at once) */
  maxRetryAfterMs?: number;
  /** how to wait (tests may inject) */
  sleep?: (ms: number) => Promise<void>;
  /**
   * What software this is (schemas.ts ClientInfoSchema), sent with
   * register() and shown beside the provider (issue 18); absent: the
   * tracker shows it as unknown.
   */
  clientInfo?: ClientInfo;
}

export interface ProviderCapabilities {
  threads: number;
  memoryBytes: number;
}

export interface ResultToSubmit {
  unitId: string;
  runId: string;
  result: Uint8Array;
  metrics: Record<string, number>;
}

/**
 * A success answer's JSON body. Anything else (an HTML page from a proxy, a
 * truncated body) is TRACKER_BAD_RESPONSE — not transient: retrying the same
 * address will not make it a tracker.
 */
async function readJson(res: Response, path: string): Promise<unknown> {
  const text = await res.text();
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new SwarmError('TRACKER_BAD_RESPONSE', `the answer to ${path} is not JSON (${JSON.stringify(text.slice(0, 40))}…): is this address a swarm tracker?`, { path, status: res.status });
  }
}

/** Parses a tracker URL; TRACKER_BAD_URL for anything but http(s)://host[:port]. */
export function normaliseTrackerUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new SwarmError('TRACKER_BAD_URL', `not a URL: ${url}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new SwarmError('TRACKER_BAD_URL', 'the tracker URL must start with http:// or https://');
  return `${u.protocol}//${u.host}`;
}

export class TrackerClient {
  readonly baseUrl: string;
  readonly key: Ed25519KeyPair;
  private readonly clock: Clock;
  private readonly nonce: () => Uint8Array;
  private readonly fetchFn: typeof fetch;
  private readonly timeoutMs: number;
  private readonly maxRateLimitRetries: number;
  private readonly maxRetryAfterMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly clientInfo: TrackerClientOptions['clientInfo'];

  constructor(o: TrackerClientOptions) {
    this.baseUrl = normaliseTrackerUrl(o.baseUrl);
    this.key = o.key;
    this.clock = o.clock;
    // WebCrypto's CSPRNG: the same global in Node (>= 19) and in browsers and workers.
    this.nonce = o.nonce ?? (() => globalThis.crypto.getRandomValues(new Uint8Array(16)));
    // A wrapper, not the bare global: browsers throw "Illegal invocation" when fetch is called as a method of another object.
    this.fetchFn = o.fetch ?? ((input, init) => fetch(input, init));
    this.timeoutMs = o.timeoutMs ?? 60_000;
    this.maxRateLimitRetries = o.maxRateLimitRetries ?? 2;
    this.maxRetryAfterMs = o.maxRetryAfterMs ?? 60_000;
    this.sleep = o.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.clientInfo = o.clientInfo;
  }

  /** One HTTP exchange (429s waited out, see the header); throws the tracker's coded error, or TRACKER_UNREACHABLE. */
  async send(method: string, path: string, body?: Uint8Array, o: { signed?: boolean; contentType?: string; headers?: Record<string, string> } = {}): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.sendOnce(method, path, body, o);
      } catch (e) {
        const wait = isSwarmError(e) ? e.details?.retryAfterMs : undefined;
        if (typeof wait !== 'number' || attempt >= this.maxRateLimitRetries || wait > this.maxRetryAfterMs) throw e;
        await this.sleep(wait);
      }
    }
  }

  private async sendOnce(method: string, path: string, body: Uint8Array | undefined, o: { signed?: boolean; contentType?: string; headers?: Record<string, string> }): Promise<Response> {
    const bytes = body ?? new Uint8Array(0);
    const headers: Record<string, string> = { ...(o.headers ?? {}) };
    if (o.signed !== false) Object.assign(headers, signRequest({ method, path, body: bytes, key: this.key, clock: this.clock, nonce: this.nonce }));
    if (body !== undefined) headers['content-type'] = o.contentType ?? 'application/json';
    let res: Response;
    try {
      res = await this.fetchFn(this.baseUrl + path, {
        method,
        headers,
        // (the DOM's BodyInit wants an ArrayBuffer-backed view; ours always is)
        ...(body === undefined ? {} : { body: bytes as Uint8Array<ArrayBuffer> }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      throw new SwarmError('TRACKER_UNREACHABLE', `cannot reach the tracker at ${this.baseUrl}: ${e instanceof Error ? e.message : String(e)}`, {}, { cause: e });
    }
    if (res.status >= 400) {
      let code = `HTTP_${res.status}`;
      let message = res.statusText;
      try {
        const parsed = parseWire(ErrorBodySchema, await res.json());
        code = parsed.error.code;
        message = parsed.error.message;
      } catch {
        // not our error body (a proxy?); keep the HTTP status
      }
      // RFC 9110 §10.2.3: Retry-After in seconds (an HTTP-date form is not sent by the tracker; ignored)
      const after = res.status === 429 ? /^\d{1,6}$/.exec(res.headers.get('retry-after') ?? '') : null;
      throw new SwarmError(code, message, { status: res.status, ...(after === null ? {} : { retryAfterMs: Number(after[0]) * 1000 }) });
    }
    return res;
  }

  async json<T>(method: string, path: string, value: unknown): Promise<T> {
    const res = await this.send(method, path, utf8Encode(JSON.stringify(value)));
    return (await readJson(res, path)) as T;
  }

  /** GET /api/info: the tracker's key and what registration costs. */
  async info(): Promise<TrackerInfo> {
    return parseWire(TrackerInfoSchema, await this.getJson('/api/info'));
  }

  /** Registers this key; first solves the tracker's proof of work (protocol/pow.ts), if it asks for one. */
  async register(name: string, capabilities: ProviderCapabilities, team?: string): Promise<RegisterProviderResponse> {
    const info = await this.info();
    const now = this.clock.now();
    const pow = info.registrationDifficulty === 0
      ? undefined
      : solvePow({ trackerKeyId: info.trackerKeyId, keyId: this.key.keyId, timeMs: now, difficulty: info.registrationDifficulty });
    const entry = providerRegisteredEntry(this.key, now, name);
    const body = {
      publicKey: base64UrlEncode(this.key.publicKeyRaw), name, ...(team === undefined ? {} : { team }), capabilities, entry,
      ...(pow === undefined ? {} : { pow }), ...(this.clientInfo === undefined ? {} : { client: this.clientInfo }),
    };
    return parseWire(RegisterProviderResponseSchema, await this.json('POST', '/api/providers', body));
  }

  async work(kinds?: readonly UnitKind[]): Promise<({ unit: WorkAssignment } | { unit: null; retryAfterMs: number }) & { wanted?: string[] }> {
    return parseWire(WorkResponseSchema, await this.json('POST', '/api/work', kinds === undefined ? {} : { kinds }));
  }

  async heartbeat(unitId: string, progress?: number): Promise<number> {
    const r = parseWire(HeartbeatResponseSchema, await this.json('POST', '/api/heartbeat', progress === undefined ? { unitId } : { unitId, progress }));
    return r.leaseDeadlineMs;
  }

  /** Uploads a blob under its SHA-256 (idempotent). */
  async putBlob(bytes: Uint8Array): Promise<string> {
    const sha = sha256Hex(bytes);
    await this.send('PUT', `/api/blobs/${sha}`, bytes, { contentType: 'application/octet-stream' });
    return sha;
  }

  /** Downloads a blob and checks it hashes to its address (never trust the network). */
  async getBlob(sha: string): Promise<Uint8Array> {
    const res = await this.send('GET', `/api/blobs/${sha}`, undefined, { signed: false });
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (sha256Hex(bytes) !== sha) throw new SwarmError('PROVIDER_BAD_BLOB', 'a downloaded blob does not hash to its address', { sha256: sha });
    return bytes;
  }

  /** Uploads the result blob, then submits its hash with the signed result-submitted entry. */
  async submit(r: ResultToSubmit): Promise<ResultResponse & { resultHash: string }> {
    const resultHash = await this.putBlob(r.result);
    const entry = resultSubmittedEntry(this.key, this.clock.now(), { run: r.runId, unit: r.unitId, result: resultHash });
    const res = parseWire(ResultResponseSchema, await this.json('POST', '/api/results', {
      unitId: r.unitId, resultHash, resultBytes: r.result.length, metrics: r.metrics, entry,
    }));
    return { ...res, resultHash };
  }

  /**
   * A finished result as the scheduler request carries it: its signed
   * result-submitted entry, and its bytes inline when they are small
   * (MAX_INLINE_RESULT_BYTES), else uploaded first as a blob.
   */
  async prepareResult(r: ResultToSubmit): Promise<BatchedResult> {
    const inline = r.result.length <= MAX_INLINE_RESULT_BYTES;
    const resultHash = inline ? sha256Hex(r.result) : await this.putBlob(r.result);
    const entry = resultSubmittedEntry(this.key, this.clock.now(), { run: r.runId, unit: r.unitId, result: resultHash });
    return { unitId: r.unitId, resultHash, resultBytes: r.result.length, metrics: r.metrics, entry, ...(inline ? { data: base64Encode(r.result) } : {}) };
  }

  /**
   * POST /api/scheduler (issue 16): reports results and failures and asks
   * for up to `want` units in one signed exchange. Each result and failure
   * comes back acknowledged or refused by name.
   */
  async schedule(req: { results?: readonly BatchedResult[]; failures?: readonly FailureReport[]; want: number; kinds?: readonly UnitKind[] }): Promise<SchedulerResponse> {
    const body = {
      ...(req.results === undefined || req.results.length === 0 ? {} : { results: req.results }),
      ...(req.failures === undefined || req.failures.length === 0 ? {} : { failures: req.failures }),
      want: req.want,
      ...(req.kinds === undefined ? {} : { kinds: req.kinds }),
    };
    return parseWire(SchedulerResponseSchema, await this.json('POST', '/api/scheduler', body));
  }

  async fail(unitId: string, code: string, message: string): Promise<void> {
    await this.json('POST', '/api/failures', { unitId, code: /^[A-Z][A-Z0-9_]{0,63}$/.test(code) ? code : 'PROVIDER_ERROR', message: message.slice(0, 1024) });
  }

  async createUnits(req: CreateUnitsRequest): Promise<{ created: string[] }> {
    return this.json('POST', '/api/units', req);
  }

  async getJson<T>(path: string): Promise<T> {
    const res = await this.send('GET', path, undefined, { signed: false });
    return (await readJson(res, path)) as T;
  }

  async providerStatus(id = this.key.keyId): Promise<ProviderStatus> {
    return this.getJson(`/api/providers/${id}`);
  }
}

/** Whether an error is worth retrying (network trouble, 5xx, rate limits) rather than a bug or a rejection. */
export function isTransient(e: unknown): boolean {
  if (!isSwarmError(e)) return false;
  if (e.code === 'TRACKER_UNREACHABLE' || e.code === 'STORAGE_UNAVAILABLE' || e.code === 'PROTOCOL_BUSY' || e.code === 'TRACKER_INTERNAL' || e.code === 'STORAGE_CONFLICT') return true;
  const status = typeof e.details?.status === 'number' ? e.details.status : 0;
  return status >= 500 || status === 429;
}
