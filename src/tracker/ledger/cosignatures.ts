/**
 * Witness cosignatures of the tracker's signed tree heads (the witnessing
 * model of transparency-dev / C2SP tlog-cosignature; src/ledger/tree-head.ts).
 * A witness is its Ed25519 key: it sends the raw public key with its
 * signature, and its identity is keyIdOf(that key). A cosignature is stored
 * only when it verifies over the very head the tracker signed at that size,
 * so a stored cosignature always means "this witness checked this head".
 *
 * Anyone may cosign (a witness needs no account), so the number stored per
 * head is capped; resubmitting a stored cosignature is a no-op.
 */
import { SwarmError } from '../../core/errors.ts';
import { bytesEqual } from '../../core/encoding.ts';
import { keyIdOf, publicKeyFromRaw } from '../../ledger/keys.ts';
import { isCosignatureValid } from '../../ledger/tree-head.ts';
import type { TreeHead } from '../../ledger/tree-head.ts';
import type { Queryable } from '../storage/db.ts';
import { headAt } from './heads.ts';

/** Most cosignatures kept for one head. */
export const MAX_COSIGNATURES_PER_HEAD = 64;

export interface StoredCosignature {
  /** keyIdOf(publicKey) */
  keyId: string;
  /** raw 32-byte Ed25519 public key of the witness */
  publicKey: Uint8Array;
  signature: Uint8Array;
}

export interface CosignRequest {
  head: TreeHead;
  publicKey: Uint8Array;
  signature: Uint8Array;
}

/**
 * Verifies and stores one cosignature. Throws LEDGER_NOT_FOUND when the
 * tracker signed no such head (no head at that size, or a different timestamp
 * or root), LEDGER_BAD_KEY for a public key that is not an Ed25519 key,
 * LEDGER_BAD_SIGNATURE when the signature does not verify, and
 * LEDGER_COSIGNATURES_FULL when the head has its maximum of other witnesses.
 * Returns the witness's key id and whether this call stored it (false: it was stored already).
 */
export async function addCosignature(db: Queryable, req: CosignRequest, now: number): Promise<{ keyId: string; stored: boolean }> {
  const key = publicKeyFromRaw(req.publicKey);
  const keyId = keyIdOf(key);
  const head = await headAt(db, req.head.treeSize);
  if (head === undefined || head.timestamp !== req.head.timestamp || !bytesEqual(head.rootHash, req.head.rootHash)) {
    throw new SwarmError('LEDGER_NOT_FOUND', 'the tracker signed no such tree head', { treeSize: req.head.treeSize });
  }
  const signed: TreeHead = { treeSize: head.treeSize, timestamp: head.timestamp, rootHash: head.rootHash };
  if (!isCosignatureValid(signed, { witness: keyId, signature: req.signature }, key)) {
    throw new SwarmError('LEDGER_BAD_SIGNATURE', 'the cosignature does not verify for this head and key', { keyId });
  }
  return db.transaction(async (tx) => {
    const existing = await tx.query<{ key_id: string }>('SELECT key_id FROM ledger_cosignatures WHERE tree_size = $1', [head.treeSize]);
    if (existing.some((r) => r.key_id === keyId)) return { keyId, stored: false };
    if (existing.length >= MAX_COSIGNATURES_PER_HEAD) {
      throw new SwarmError('LEDGER_COSIGNATURES_FULL', `this head already has ${MAX_COSIGNATURES_PER_HEAD} cosignatures`, { treeSize: head.treeSize });
    }
    const rows = await tx.query(
      `INSERT INTO ledger_cosignatures (tree_size, key_id, public_key, signature, created_at)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tree_size, key_id) DO NOTHING RETURNING key_id`,
      [head.treeSize, keyId, req.publicKey, req.signature, now],
    );
    return { keyId, stored: rows.length === 1 };
  });
}

/** Cosignatures of the head of size `treeSize`, oldest first. */
export async function listCosignatures(db: Queryable, treeSize: number): Promise<StoredCosignature[]> {
  const rows = await db.query<{ key_id: string; public_key: Uint8Array; signature: Uint8Array }>(
    'SELECT key_id, public_key, signature FROM ledger_cosignatures WHERE tree_size = $1 ORDER BY created_at, key_id',
    [treeSize],
  );
  return rows.map((r) => ({ keyId: r.key_id, publicKey: r.public_key, signature: r.signature }));
}
