/** The tracker's ledger: the database-backed Merkle log, batched signed heads, witness cosignatures, and /ledger/v1. */
export { HashTree } from '../../ledger/hash-tree.ts';
export { LedgerStore } from './store.ts';
export type { LedgerStoreOptions, StoredLeaf } from './store.ts';
export { TreeHeadSigner, latestHead, headAt, HEADS_LOCK_KEY, DEFAULT_BATCH_SIZE, DEFAULT_MAX_DELAY_MS } from './heads.ts';
export type { StoredHead, HeadSignerOptions } from './heads.ts';
export { addCosignature, listCosignatures, MAX_COSIGNATURES_PER_HEAD } from './cosignatures.ts';
export type { StoredCosignature, CosignRequest } from './cosignatures.ts';
export { createLedgerRoutes, createLedgerSigner } from './routes.ts';
export type { LedgerRoutesDeps } from './routes.ts';
export {
  MAX_ENTRIES_PER_REQUEST,
  MAX_ENTRIES_BYTES_PER_REQUEST,
  MAX_PROOF_NODES,
  MAX_COSIGN_BODY_BYTES,
  SthJsonSchema,
  ConsistencyJsonSchema,
  AuditPathJsonSchema,
  EntriesJsonSchema,
  KeyJsonSchema,
  CosignRequestJsonSchema,
  CosignResponseJsonSchema,
  CosignatureJsonSchema,
  parseLedgerJson,
  sthJson,
  sthFromJson,
  proofJson,
} from './wire.ts';
