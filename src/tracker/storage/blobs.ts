/**
 * Content-addressed blob store (issue 5): parameters, optimizer states and
 * deltas are stored under the SHA-256 of their bytes (FIPS 180-4), so a blob
 * is its own integrity check and re-uploading the same bytes is a no-op.
 *
 * Bytes live in blob_data.bytes (bytea, TOAST storage EXTERNAL, see
 * migrations.ts) so a byte range is read with substring() without loading the
 * whole value: what HTTP Range requests (RFC 9110 §14) and streamed downloads
 * (successive ranges) need. One bytea holds at most 1 GB (PostgreSQL limit);
 * the caller's maxBytes must stay below it.
 *
 * Errors (all SwarmError): STORAGE_INVALID_HASH (not 64 lower-case hex),
 * STORAGE_TOO_LARGE, STORAGE_HASH_MISMATCH, STORAGE_NOT_FOUND,
 * STORAGE_RANGE_NOT_SATISFIABLE (details.size for a 416's Content-Range).
 */
import { SwarmError } from '../../core/errors.ts';
import { sha256Hex } from '../../core/sha256.ts';
import type { Queryable } from './db.ts';

/** Default upload limit: 256 MiB. */
export const DEFAULT_MAX_BLOB_BYTES = 256 * 1024 * 1024;
/** Hard ceiling: PostgreSQL's 1 GB field limit, less headroom. */
export const MAX_BLOB_BYTES_CEILING = 1000 * 1000 * 1000;

const HASH_RE = /^[0-9a-f]{64}$/;

export function isBlobHash(s: unknown): s is string {
  return typeof s === 'string' && HASH_RE.test(s);
}

function checkHash(s: unknown): asserts s is string {
  if (!isBlobHash(s)) throw new SwarmError('STORAGE_INVALID_HASH', 'a blob hash is 64 lower-case hex characters (SHA-256)');
}

export interface PutBlobOptions {
  /** Largest accepted blob in bytes (default DEFAULT_MAX_BLOB_BYTES). */
  maxBytes?: number;
  /** created_at in ms, from the injected Clock (default 0). */
  now?: number;
}

export interface PutBlobResult {
  sha256: string;
  size: number;
  /** False when the blob was already stored (idempotent re-upload). */
  created: boolean;
}

/**
 * The checks of an upload, before any storage: bytes, size (checked before
 * hashing, so an oversize upload costs no hashing), and the claimed address.
 * Returns the SHA-256 hex of the bytes.
 */
export function checkBlobBytes(bytes: Uint8Array, expectedSha256?: string, maxBytesOption?: number): string {
  if (!(bytes instanceof Uint8Array)) throw new SwarmError('STORAGE_INVALID_ARGUMENT', 'blob bytes must be a Uint8Array');
  if (expectedSha256 !== undefined) checkHash(expectedSha256);
  const maxBytes = Math.min(maxBytesOption ?? DEFAULT_MAX_BLOB_BYTES, MAX_BLOB_BYTES_CEILING);
  if (bytes.length > maxBytes) {
    throw new SwarmError('STORAGE_TOO_LARGE', `blob exceeds the ${maxBytes}-byte limit`, { size: bytes.length, maxBytes });
  }
  const sha = sha256Hex(bytes);
  if (expectedSha256 !== undefined && sha !== expectedSha256) {
    throw new SwarmError('STORAGE_HASH_MISMATCH', 'blob bytes do not match their claimed SHA-256', { expected: expectedSha256, actual: sha });
  }
  return sha;
}

/**
 * Stores `bytes` under their SHA-256. If `expectedSha256` is given (the
 * address the uploader claims), the bytes must hash to it. Size is checked
 * before hashing so an oversize upload costs no hashing.
 */
export async function putBlob(
  db: Queryable,
  bytes: Uint8Array,
  expectedSha256?: string,
  options: PutBlobOptions = {},
): Promise<PutBlobResult> {
  const sha = checkBlobBytes(bytes, expectedSha256, options.maxBytes);
  const now = options.now ?? 0;
  // One statement (combine.ts: a round trip costs more than the inserts):
  // ON CONFLICT DO NOTHING lets two concurrent uploads of one blob both
  // succeed; only the winner's row feeds the blob_data insert (same bytes by
  // construction). A single statement is atomic, so a blob row never exists
  // without its bytes.
  const rows = await db.query<{ created: string }>(
    `WITH b AS (INSERT INTO blobs (sha256, size, created_at) VALUES ($1, $2, $3) ON CONFLICT (sha256) DO NOTHING RETURNING sha256),
          d AS (INSERT INTO blob_data (sha256, bytes) SELECT sha256, $4 FROM b)
     SELECT count(*) AS created FROM b`,
    [sha, bytes.length, now, bytes],
  );
  return { sha256: sha, size: bytes.length, created: Number(rows[0]!.created) === 1 };
}

export interface BlobInfo {
  sha256: string;
  size: number;
  createdAt: number;
}

/** Metadata of a stored blob (for HEAD / Content-Length); STORAGE_NOT_FOUND if absent. */
export async function blobInfo(db: Queryable, sha: string): Promise<BlobInfo> {
  checkHash(sha);
  const rows = await db.query<{ size: string; created_at: string }>('SELECT size, created_at FROM blobs WHERE sha256 = $1', [sha]);
  if (rows.length === 0) throw new SwarmError('STORAGE_NOT_FOUND', 'no blob with this hash', { sha256: sha });
  return { sha256: sha, size: Number(rows[0]!.size), createdAt: Number(rows[0]!.created_at) };
}

/** Half-open byte range [start, end). `end` past the blob is clamped (as RFC 9110 §14.1.2 does for last-pos). */
export interface ByteRange {
  start: number;
  end?: number;
}

export interface BlobSlice {
  bytes: Uint8Array;
  /** Total size of the blob (for Content-Range: bytes start-(end-1)/size). */
  size: number;
  start: number;
  /** Exclusive end of the returned bytes. */
  end: number;
}

/**
 * Reads a blob, or the byte range [start, end) of it. STORAGE_NOT_FOUND if
 * absent; STORAGE_RANGE_NOT_SATISFIABLE if start >= size (for a non-empty
 * range) or the range is malformed.
 */
export async function getBlob(db: Queryable, sha: string, range?: ByteRange): Promise<BlobSlice> {
  checkHash(sha);
  if (range !== undefined) {
    const badStart = !Number.isSafeInteger(range.start) || range.start < 0;
    const badEnd = range.end !== undefined && (!Number.isSafeInteger(range.end) || range.end < range.start);
    if (badStart || badEnd) {
      throw new SwarmError('STORAGE_RANGE_NOT_SATISFIABLE', 'malformed byte range', { start: range.start, end: range.end });
    }
  }
  return db.transaction(async (tx) => {
    const info = await blobInfo(tx, sha);
    const size = info.size;
    const start = range?.start ?? 0;
    const end = Math.min(range?.end ?? size, size);
    if (range !== undefined && (start >= size || start >= end)) {
      throw new SwarmError('STORAGE_RANGE_NOT_SATISFIABLE', 'the byte range lies outside the blob', { start, end: range.end, size });
    }
    // substring() is 1-based (PostgreSQL docs §9.5 "Binary String Functions").
    const rows = await tx.query<{ bytes: Uint8Array }>(
      'SELECT substring(bytes FROM $2::int FOR $3::int) AS bytes FROM blob_data WHERE sha256 = $1',
      [sha, start + 1, end - start],
    );
    if (rows.length === 0) throw new SwarmError('STORAGE_NOT_FOUND', 'no blob with this hash', { sha256: sha });
    return { bytes: rows[0]!.bytes, size, start, end };
  });
}
