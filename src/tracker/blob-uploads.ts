/**
 * Blob uploads (PUT /api/blobs/:sha): content-addressed bytes from a trainer
 * or a registered provider (no anonymous storage). Storing the bytes also
 * frees the units that waited for them as a held input (a kept AdamW state,
 * issue 7): they may now go to any provider.
 */
import { SwarmError } from '../core/errors.ts';
import type { TrackerContext } from './context.ts';
import { checkBlobBytes } from './storage/blobs.ts';

export interface StoredUpload {
  sha256: string;
  size: number;
  created: boolean;
}

/**
 * In one statement: the uploader's right to store, the blob row and its
 * bytes (ON CONFLICT: a second upload of the same bytes is a no-op), and the
 * units released. The bytes are checked first (checkBlobBytes).
 */
export async function storeUpload(ctx: TrackerContext, keyId: string, bytes: Uint8Array, expectedSha256: string, maxBytes: number): Promise<StoredUpload> {
  const sha = checkBlobBytes(bytes, expectedSha256, maxBytes);
  const rows = await ctx.db.query<{ allowed: boolean; created: string }>(
    `WITH ok AS (SELECT ($5::boolean OR EXISTS (SELECT 1 FROM providers WHERE key_id = $6)) AS v),
          b AS (INSERT INTO blobs (sha256, size, created_at) SELECT $1, $2, $3 WHERE (SELECT v FROM ok)
                ON CONFLICT (sha256) DO NOTHING RETURNING sha256),
          d AS (INSERT INTO blob_data (sha256, bytes) SELECT sha256, $4 FROM b),
          m AS (UPDATE units SET missing_inputs = array_remove(missing_inputs, $1)
                 WHERE EXISTS (SELECT 1 FROM b) AND state = 'open' AND missing_inputs @> ARRAY[$1]::text[])
     SELECT (SELECT v FROM ok) AS allowed, (SELECT count(*) FROM b) AS created`,
    [sha, bytes.length, ctx.now(), bytes, ctx.isTrainer(keyId), keyId],
  );
  if (rows[0]!.allowed !== true) throw new SwarmError('TRACKER_UNKNOWN_PROVIDER', 'this key is not a registered provider; register first (POST /api/providers)');
  return { sha256: sha, size: bytes.length, created: Number(rows[0]!.created) === 1 };
}
