/**
 * HTTP client of a tracker's /ledger/v1 (src/tracker/ledger/routes.ts), for
 * `swarm witness` and `swarm audit`. Every answer is parsed by the wire
 * schemas (src/tracker/ledger/wire.ts) with size limits before it is used:
 * the tracker is the party being checked, so its answers are untrusted input.
 *
 * Errors: LEDGER_CLIENT_UNREACHABLE (network, timeout), LEDGER_CLIENT_HTTP
 * (a non-2xx answer; details.status and details.code from the tracker's error
 * body), LEDGER_BAD_RESPONSE (not JSON, too large, or not the documented shape).
 */
import { base64Encode, bytesEqual } from '../core/encoding.ts';
import { SwarmError } from '../core/errors.ts';
import { cosignTreeHead } from '../ledger/tree-head.ts';
import type { Cosignature, SignedTreeHead, TreeHead } from '../ledger/tree-head.ts';
import { keyIdOf } from '../ledger/keys.ts';
import type { Ed25519KeyPair } from '../ledger/keys.ts';
import {
  AuditPathJsonSchema,
  ConsistencyJsonSchema,
  CosignResponseJsonSchema,
  EntriesJsonSchema,
  KeyJsonSchema,
  MAX_ENTRIES_PER_REQUEST,
  SthJsonSchema,
  parseLedgerJson,
  sthFromJson,
} from '../tracker/ledger/wire.ts';
import type { z } from 'zod';

/** Largest answer read (get-entries pages are at most ~4 MiB of leaves, base64 adds a third). */
export const MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

export type FetchLike = (url: string, init?: RequestInit) => Promise<Response>;

export interface LedgerClientOptions {
  fetch?: FetchLike;
  /** Per-request timeout (default 30 s). */
  timeoutMs?: number;
}

export interface TrackerKey {
  keyId: string;
  publicKey: Uint8Array;
}

export interface FetchedSth {
  head: SignedTreeHead;
  keyId: string;
  cosignatures: { keyId: string; publicKey: Uint8Array; signature: Uint8Array }[];
}

export class LedgerClient {
  readonly base: string;
  private readonly fetchFn: FetchLike;
  private readonly timeoutMs: number;

  /** `trackerUrl`: the tracker's base URL (http://host:port); the client adds /ledger/v1/... */
  constructor(trackerUrl: string, options: LedgerClientOptions = {}) {
    let url: URL;
    try {
      url = new URL(trackerUrl);
    } catch {
      throw new SwarmError('CLI_BAD_FLAG', `--tracker must be an http(s) URL, got "${trackerUrl}"`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new SwarmError('CLI_BAD_FLAG', `--tracker must be an http(s) URL, got "${trackerUrl}"`);
    }
    this.base = `${url.origin}${url.pathname.replace(/\/+$/, '')}/ledger/v1`;
    this.fetchFn = options.fetch ?? ((u, i) => fetch(u, i));
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  private async request<S extends z.ZodType>(path: string, schema: S, init: RequestInit = {}): Promise<z.output<S>> {
    const url = `${this.base}/${path}`;
    let res: Response;
    try {
      res = await this.fetchFn(url, { ...init, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (cause) {
      throw new SwarmError('LEDGER_CLIENT_UNREACHABLE', `cannot reach ${url}: ${cause instanceof Error ? cause.message : String(cause)}`, { url }, { cause });
    }
    const declared = Number(res.headers.get('content-length') ?? '0');
    if (declared > MAX_RESPONSE_BYTES) throw new SwarmError('LEDGER_BAD_RESPONSE', `${url}: answer larger than ${MAX_RESPONSE_BYTES} bytes`, { url });
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (bytes.length > MAX_RESPONSE_BYTES) throw new SwarmError('LEDGER_BAD_RESPONSE', `${url}: answer larger than ${MAX_RESPONSE_BYTES} bytes`, { url });
    let body: unknown;
    try {
      body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    } catch {
      body = undefined;
    }
    if (!res.ok) {
      const err = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
      const code = typeof err?.code === 'string' ? err.code.slice(0, 64) : 'UNKNOWN';
      const message = typeof err?.message === 'string' ? err.message.slice(0, 512) : res.statusText;
      throw new SwarmError('LEDGER_CLIENT_HTTP', `${url}: ${res.status} ${code}: ${message}`, { url, status: res.status, code });
    }
    if (body === undefined) throw new SwarmError('LEDGER_BAD_RESPONSE', `${url}: the answer is not JSON`, { url });
    try {
      return parseLedgerJson(schema, body, 'LEDGER_BAD_RESPONSE');
    } catch (e) {
      throw new SwarmError('LEDGER_BAD_RESPONSE', `${url}: ${(e as Error).message}`, { url });
    }
  }

  /** GET key; checks that key_id is the id of public_key. */
  async key(): Promise<TrackerKey> {
    const j = await this.request('key', KeyJsonSchema);
    if (keyIdOf(j.public_key) !== j.key_id) throw new SwarmError('LEDGER_BAD_RESPONSE', 'key: key_id is not the id of public_key');
    return { keyId: j.key_id, publicKey: j.public_key };
  }

  /** GET get-sth (the signature is NOT checked here: callers verify against the key they trust). */
  async sth(): Promise<FetchedSth> {
    const j = await this.request('get-sth', SthJsonSchema);
    return {
      head: sthFromJson(j),
      keyId: j.key_id,
      cosignatures: j.cosignatures.map((c) => ({ keyId: c.key_id, publicKey: c.public_key, signature: c.signature })),
    };
  }

  /** GET get-sth-consistency. */
  async consistency(first: number, second: number): Promise<Uint8Array[]> {
    return (await this.request(`get-sth-consistency?first=${first}&second=${second}`, ConsistencyJsonSchema)).consistency;
  }

  /** GET get-proof-by-hash. */
  async proofByHash(leafHash: Uint8Array, treeSize: number): Promise<{ leafIndex: number; auditPath: Uint8Array[] }> {
    const q = `hash=${encodeURIComponent(base64Encode(leafHash))}&tree_size=${treeSize}`;
    const j = await this.request(`get-proof-by-hash?${q}`, AuditPathJsonSchema);
    return { leafIndex: j.leaf_index, auditPath: j.audit_path };
  }

  /** GET get-entries for [start, end] inclusive; the tracker may answer fewer. Checks the indices run from start. */
  async entries(start: number, end: number): Promise<Uint8Array[]> {
    const j = await this.request(`get-entries?start=${start}&end=${end}`, EntriesJsonSchema);
    j.entries.forEach((e, i) => {
      if (e.leaf_index !== start + i) throw new SwarmError('LEDGER_BAD_RESPONSE', `get-entries: entry ${i} has leaf_index ${e.leaf_index}, expected ${start + i}`);
    });
    if (j.entries.length > end - start + 1) throw new SwarmError('LEDGER_BAD_RESPONSE', 'get-entries: more entries than asked for');
    return j.entries.map((e) => e.leaf_input);
  }

  /** Leaves 0..size-1, paging through get-entries. */
  async allEntries(size: number, onPage?: (have: number) => void): Promise<Uint8Array[]> {
    const out: Uint8Array[] = [];
    while (out.length < size) {
      const page = await this.entries(out.length, Math.min(size - 1, out.length + MAX_ENTRIES_PER_REQUEST - 1));
      if (page.length === 0) throw new SwarmError('LEDGER_BAD_RESPONSE', `get-entries returned nothing at ${out.length} of ${size}`);
      out.push(...page);
      onPage?.(out.length);
    }
    return out;
  }

  /** Cosigns `head` with `witness` and POSTs it; returns the cosignature and whether the tracker stored it anew. */
  async cosign(head: TreeHead, witness: Ed25519KeyPair): Promise<{ cosignature: Cosignature; stored: boolean }> {
    const cosignature = cosignTreeHead(head, witness);
    const body = JSON.stringify({
      tree_size: head.treeSize,
      timestamp: head.timestamp,
      sha256_root_hash: base64Encode(head.rootHash),
      public_key: base64Encode(witness.publicKeyRaw),
      signature: base64Encode(cosignature.signature),
    });
    const j = await this.request('cosign', CosignResponseJsonSchema, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    if (j.key_id !== witness.keyId || j.tree_size !== head.treeSize) throw new SwarmError('LEDGER_BAD_RESPONSE', 'cosign: the answer names another head or witness');
    return { cosignature, stored: j.stored };
  }
}

/** True when `cosigs` holds a cosignature by `keyId` with exactly `signature`. */
export function hasCosignature(cosigs: FetchedSth['cosignatures'], keyId: string, signature: Uint8Array): boolean {
  return cosigs.some((c) => c.keyId === keyId && bytesEqual(c.signature, signature));
}
