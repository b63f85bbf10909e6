/**
 * /ledger/v1: the tracker's transparency-log API, shaped like Certificate
 * Transparency's (RFC 6962 §4; the JSON shapes are in wire.ts). The tracker's
 * app mounts it with `app.route('/ledger/v1', createLedgerRoutes(deps))`.
 *
 *   GET  get-sth                          latest signed head + its cosignatures (heads.ts: current())
 *   GET  get-sth-consistency?first=&second=   RFC 6962 §2.1.2 proof, 0 <= first <= second <= size
 *   GET  get-proof-by-hash?hash=&tree_size=   RFC 6962 §2.1.1 audit path of the leaf with that leaf hash
 *   GET  get-entries?start=&end=           leaves start..end INCLUSIVE (RFC 6962 §4.6), at most
 *                                         MAX_ENTRIES_PER_REQUEST and ~4 MiB; end past the log is
 *                                         clamped, so a client pages until it has what it asked for
 *   GET  key                              the tracker's Ed25519 public key
 *   POST cosign                           a witness's cosignature of a head (cosignatures.ts)
 *   anything else                         404 TRACKER_NOT_FOUND; another method on an endpoint: 405 TRACKER_METHOD
 *
 * Every answer first catches the store up to the database's committed size
 * (store.ts), so several tracker processes on one PostgreSQL answer alike.
 * "size" above is that committed size. Bad input never reaches a handler's
 * logic unchecked: a missing, non-decimal or out-of-range parameter is
 * LEDGER_BAD_REQUEST (400), an unknown leaf LEDGER_NOT_FOUND (404); the
 * tracker's one error mapper (http/errors.ts) writes the response.
 *
 * Query parameters: sizes and indices are decimal safe integers without sign
 * or leading zeros; `hash` is standard base64 of 32 bytes, where a '+' that
 * arrived as a space (an unescaped '+' in a query string) is read back as '+'.
 */
import { Hono } from 'hono';
import type { Context } from 'hono';
import type { Clock } from '../../core/clock.ts';
import { base64Decode, base64Encode } from '../../core/encoding.ts';
import { SwarmError } from '../../core/errors.ts';
import type { Ed25519KeyPair } from '../../ledger/keys.ts';
import { HASH_BYTES } from '../../ledger/merkle.ts';
import { concatArrays } from '../../core/concat.ts';
import { bodyFullyRead, DEFAULT_BODY_DEADLINE, streamBody } from '../http/body.ts';
import { trackerErrorResponse } from '../http/errors.ts';
import type { Db } from '../storage/db.ts';
import { addCosignature, listCosignatures } from './cosignatures.ts';
import { TreeHeadSigner } from './heads.ts';
import { LedgerStore } from './store.ts';
import {
  CosignRequestJsonSchema,
  MAX_COSIGN_BODY_BYTES,
  MAX_ENTRIES_BYTES_PER_REQUEST,
  MAX_ENTRIES_PER_REQUEST,
  parseLedgerJson,
  proofJson,
  sthJson,
} from './wire.ts';

export interface LedgerRoutesDeps {
  db: Db;
  trackerKey: Ed25519KeyPair;
  clock: Clock;
  /** The head signer the tracker also drives after appends; made from the other deps when absent. */
  signer?: TreeHeadSigner;
  /** For a signer made here: heads.ts batchSize / maxDelayMs. */
  batchSize?: number;
  maxDelayMs?: number;
  /** Cap of get-entries (default and maximum MAX_ENTRIES_PER_REQUEST). */
  maxEntriesPerRequest?: number;
}

/** The store + signer pair a tracker process keeps for its ledger. */
export function createLedgerSigner(deps: Omit<LedgerRoutesDeps, 'signer' | 'maxEntriesPerRequest'>): TreeHeadSigner {
  return new TreeHeadSigner({
    db: deps.db,
    store: new LedgerStore(deps.db),
    trackerKey: deps.trackerKey,
    clock: deps.clock,
    ...(deps.batchSize === undefined ? {} : { batchSize: deps.batchSize }),
    ...(deps.maxDelayMs === undefined ? {} : { maxDelayMs: deps.maxDelayMs }),
  });
}

function badRequest(message: string, details?: Record<string, unknown>): SwarmError {
  return new SwarmError('LEDGER_BAD_REQUEST', message, details);
}

const DECIMAL_RE = /^(0|[1-9][0-9]{0,15})$/;

/** A required decimal safe-integer query parameter. */
function uintParam(c: Context, name: string): number {
  const v = c.req.query(name);
  if (v === undefined) throw badRequest(`missing query parameter ${name}`, { param: name });
  if (!DECIMAL_RE.test(v) || !Number.isSafeInteger(Number(v))) {
    throw badRequest(`${name} must be a non-negative decimal integer`, { param: name });
  }
  return Number(v);
}

/** The required `hash` parameter: standard base64 of a 32-byte leaf hash. */
function hashParam(c: Context, name: string): Uint8Array {
  const v = c.req.query(name);
  if (v === undefined) throw badRequest(`missing query parameter ${name}`, { param: name });
  let bytes: Uint8Array;
  try {
    bytes = base64Decode(v.replaceAll(' ', '+'));
  } catch {
    throw badRequest(`${name} must be standard base64`, { param: name });
  }
  if (bytes.length !== HASH_BYTES) throw badRequest(`${name} must be ${HASH_BYTES} bytes`, { param: name });
  return bytes;
}

async function readJsonBody(c: Context): Promise<unknown> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    throw new SwarmError('TRACKER_UNSUPPORTED_MEDIA', 'the body must be application/json');
  }
  // Streamed under the limit and a deadline (issue 25): a chunked body with
  // no Content-Length is cut at the limit instead of being read whole.
  const chunks: Uint8Array[] = [];
  await streamBody(c.req.raw, { maxBytes: MAX_COSIGN_BODY_BYTES, deadline: DEFAULT_BODY_DEADLINE, onChunk: (b) => chunks.push(b) });
  const bytes = concatArrays(Uint8Array, chunks);
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw badRequest('the body is not UTF-8 JSON');
  }
}

/** The /ledger/v1 routes (see the header). */
export function createLedgerRoutes(deps: LedgerRoutesDeps): Hono {
  const signer = deps.signer ?? createLedgerSigner(deps);
  const store = signer.store;
  const { db, trackerKey, clock } = deps;
  const maxEntries = Math.min(deps.maxEntriesPerRequest ?? MAX_ENTRIES_PER_REQUEST, MAX_ENTRIES_PER_REQUEST);
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
    throw new SwarmError('LEDGER_BAD_ARGUMENT', 'maxEntriesPerRequest must be a positive integer', { maxEntriesPerRequest: maxEntries });
  }

  const app = new Hono();
  // A refusal before the body was read to its end also closes the connection (../http/body.ts says why).
  const closeIfUnread = (c: Context): Record<string, string> => (bodyFullyRead(c.req.raw) ? {} : { connection: 'close' });
  app.onError((err, c) => trackerErrorResponse(err, closeIfUnread(c)));
  app.notFound((c) => trackerErrorResponse(new SwarmError('TRACKER_NOT_FOUND', 'no such ledger endpoint'), closeIfUnread(c)));

  app.get('/get-sth', async (c) => {
    const head = await signer.current();
    return c.json(sthJson(head, await listCosignatures(db, head.treeSize)));
  });

  app.get('/get-sth-consistency', async (c) => {
    const first = uintParam(c, 'first');
    const second = uintParam(c, 'second');
    if (first > second) throw badRequest('first must not exceed second', { first, second });
    const size = await store.sync();
    if (second > size) throw badRequest(`second exceeds the log size ${size}`, { second, size });
    return c.json({ consistency: proofJson(store.tree.consistencyProof(first, second)) });
  });

  app.get('/get-proof-by-hash', async (c) => {
    const hash = hashParam(c, 'hash');
    const treeSize = uintParam(c, 'tree_size');
    if (treeSize < 1) throw badRequest('tree_size must be at least 1', { tree_size: treeSize });
    const size = await store.sync();
    if (treeSize > size) throw badRequest(`tree_size exceeds the log size ${size}`, { tree_size: treeSize, size });
    const index = await store.indexOfLeafHash(hash);
    if (index === undefined || index >= treeSize) {
      throw new SwarmError('LEDGER_NOT_FOUND', `no leaf with that hash in the tree of size ${treeSize}`, { tree_size: treeSize });
    }
    return c.json({ leaf_index: index, audit_path: proofJson(store.tree.inclusionProof(index, treeSize)) });
  });

  app.get('/get-entries', async (c) => {
    const start = uintParam(c, 'start');
    const end = uintParam(c, 'end');
    if (start > end) throw badRequest('start must not exceed end', { start, end });
    const size = await store.sync();
    if (start >= size) throw badRequest(`start is past the end of the log (size ${size})`, { start, size });
    const last = Math.min(end, size - 1, start + maxEntries - 1);
    const leaves = await store.leaves(start, last + 1, MAX_ENTRIES_BYTES_PER_REQUEST);
    return c.json({ entries: leaves.map((l) => ({ leaf_index: l.index, leaf_input: base64Encode(l.leafInput) })) });
  });

  app.get('/key', (c) =>
    c.json({ key_id: trackerKey.keyId, public_key: base64Encode(trackerKey.publicKeyRaw), algorithm: 'ed25519' as const }),
  );

  app.post('/cosign', async (c) => {
    const body = parseLedgerJson(CosignRequestJsonSchema, await readJsonBody(c), 'LEDGER_BAD_REQUEST');
    const { keyId, stored } = await addCosignature(
      db,
      {
        head: { treeSize: body.tree_size, timestamp: body.timestamp, rootHash: body.sha256_root_hash },
        publicKey: body.public_key,
        signature: body.signature,
      },
      clock.now(),
    );
    return c.json({ tree_size: body.tree_size, key_id: keyId, stored });
  });

  // Coded answers for the rest of /ledger/v1, whatever app it is mounted in:
  // a known endpoint with another method, and unknown paths.
  for (const path of ['/get-sth', '/get-sth-consistency', '/get-proof-by-hash', '/get-entries', '/key', '/cosign']) {
    app.all(path, (c) => {
      throw new SwarmError('TRACKER_METHOD', `${c.req.method} is not allowed on ${path}`);
    });
  }
  app.all('*', () => {
    throw new SwarmError('TRACKER_NOT_FOUND', 'no such ledger endpoint');
  });
  return app;
}
