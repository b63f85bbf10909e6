/**
 * JSON shapes of /ledger/v1, Certificate Transparency's API (RFC 6962 §4)
 * adapted to this log: snake_case members, binary fields as standard base64
 * (RFC 4648 §4), sizes and indices as JSON numbers (safe integers).
 *
 *   get-sth             {tree_size, timestamp, sha256_root_hash, tree_head_signature, key_id, cosignatures:[{key_id, public_key, signature}]}
 *   get-sth-consistency {consistency: [node, …]}
 *   get-proof-by-hash   {leaf_index, audit_path: [node, …]}
 *   get-entries         {entries: [{leaf_index, leaf_input}, …]}   (leaf_input = the exact bytes whose leaf hash is in the tree)
 *   key                 {key_id, public_key, algorithm: "ed25519"}
 *   cosign (POST body)  {tree_size, timestamp, sha256_root_hash, public_key, signature}
 *   cosign (response)   {tree_size, key_id, stored}
 *
 * tree_head_signature and every cosignature sign src/ledger/tree-head.ts's
 * bytes of {tree_size, timestamp, root}, not RFC 6962's binary struct.
 *
 * The schemas serve both sides: the routes parse the cosign body with them,
 * the CLI clients (witness, audit) parse every response with them, so a
 * hostile tracker's answer is bounded and typed before it is used. Response
 * objects are not strict (a newer tracker may add members); the request is.
 */
import { z } from 'zod';
import { base64Decode, base64Encode } from '../../core/encoding.ts';
import { SwarmError } from '../../core/errors.ts';
import { ED25519_PUBLIC_KEY_BYTES, ED25519_SIGNATURE_BYTES } from '../../ledger/keys.ts';
import { MAX_ENTRY_BYTES } from '../../ledger/entry.ts';
import { HASH_BYTES } from '../../ledger/merkle.ts';
import type { SignedTreeHead } from '../../ledger/tree-head.ts';
import { formatIssuePath } from '../../protocol/schemas.ts';
import type { StoredCosignature } from './cosignatures.ts';

/** Most entries one get-entries answers (CT logs cap it the same way; clients page). */
export const MAX_ENTRIES_PER_REQUEST = 1000;
/** Most leaf-input bytes one get-entries answers (at least one entry is always sent). */
export const MAX_ENTRIES_BYTES_PER_REQUEST = 4 * 1024 * 1024;
/** Longest proof accepted: a tree of 2^63 leaves needs fewer nodes. */
export const MAX_PROOF_NODES = 64;
/** Most cosignatures listed with a head. */
export const MAX_COSIGNATURES_LISTED = 64;
/** Largest cosign request body, bytes. */
export const MAX_COSIGN_BODY_BYTES = 4096;

const uint = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const keyId = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex characters');

function decodesTo(s: string, bytes: number | undefined): boolean {
  try {
    const b = base64Decode(s);
    return bytes === undefined || b.length === bytes;
  } catch {
    return false;
  }
}

/** Canonical base64 of exactly `bytes` bytes (any length up to maxBytes when undefined), decoded. */
function b64(bytes: number | undefined, maxBytes = bytes ?? 0): z.ZodType<Uint8Array> {
  const maxChars = 4 * Math.ceil(maxBytes / 3);
  return z
    .string()
    .max(maxChars, `longer than ${maxChars} base64 characters`)
    .refine((s) => decodesTo(s, bytes), bytes === undefined ? 'must be canonical base64' : `must be canonical base64 of ${bytes} bytes`)
    .transform((s) => base64Decode(s)) as unknown as z.ZodType<Uint8Array>;
}

const hash = b64(HASH_BYTES);
const proof = z.array(hash).max(MAX_PROOF_NODES);

export const CosignatureJsonSchema = z.object({
  key_id: keyId,
  public_key: b64(ED25519_PUBLIC_KEY_BYTES),
  signature: b64(ED25519_SIGNATURE_BYTES),
});

export const SthJsonSchema = z.object({
  tree_size: uint,
  timestamp: uint,
  sha256_root_hash: hash,
  tree_head_signature: b64(ED25519_SIGNATURE_BYTES),
  key_id: keyId,
  cosignatures: z.array(CosignatureJsonSchema).max(MAX_COSIGNATURES_LISTED),
});

export const ConsistencyJsonSchema = z.object({ consistency: proof });

export const AuditPathJsonSchema = z.object({ leaf_index: uint, audit_path: proof });

export const EntriesJsonSchema = z.object({
  entries: z.array(z.object({ leaf_index: uint, leaf_input: b64(undefined, MAX_ENTRY_BYTES) })).max(MAX_ENTRIES_PER_REQUEST),
});

export const KeyJsonSchema = z.object({
  key_id: keyId,
  public_key: b64(ED25519_PUBLIC_KEY_BYTES),
  algorithm: z.literal('ed25519'),
});

export const CosignRequestJsonSchema = z.strictObject({
  tree_size: uint,
  timestamp: uint,
  sha256_root_hash: hash,
  public_key: b64(ED25519_PUBLIC_KEY_BYTES),
  signature: b64(ED25519_SIGNATURE_BYTES),
});

export const CosignResponseJsonSchema = z.object({ tree_size: uint, key_id: keyId, stored: z.boolean() });

/** `value` parsed by `schema`, or SwarmError `code` naming the first issue's path. */
export function parseLedgerJson<S extends z.ZodType>(schema: S, value: unknown, code: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const first = result.error.issues[0];
  const path = first === undefined ? '' : formatIssuePath(first.path);
  const message = first === undefined ? 'invalid' : first.message;
  throw new SwarmError(code, path === '' ? message : `${path}: ${message}`, { path });
}

// ---------------------------------------------------------------------------
// Encoders (server side)

export function sthJson(head: SignedTreeHead & { keyId: string }, cosignatures: readonly StoredCosignature[]) {
  return {
    tree_size: head.treeSize,
    timestamp: head.timestamp,
    sha256_root_hash: base64Encode(head.rootHash),
    tree_head_signature: base64Encode(head.signature),
    key_id: head.keyId,
    cosignatures: cosignatures.map((c) => ({ key_id: c.keyId, public_key: base64Encode(c.publicKey), signature: base64Encode(c.signature) })),
  };
}

export function proofJson(nodes: readonly Uint8Array[]): string[] {
  return nodes.map((n) => base64Encode(n));
}

/** The head of a parsed get-sth answer, as src/ledger/tree-head.ts takes it. */
export function sthFromJson(j: z.output<typeof SthJsonSchema>): SignedTreeHead {
  return { treeSize: j.tree_size, timestamp: j.timestamp, rootHash: j.sha256_root_hash, signature: j.tree_head_signature };
}
