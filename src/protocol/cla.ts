/**
 * Wire shapes of the contributor licence agreement's endpoints (issue 20;
 * CLA.md), and the entry an identity signs to accept a version. The text's
 * SHA-256 (of its bytes) identifies a version together with its id.
 *
 *   GET  /api/cla                          ClaView: the current version (none: required false)
 *   POST /api/cla/signatures    signed     ClaSignRequest → ClaSignature
 */
import { z } from 'zod';
import { base64Encode } from '../core/encoding.ts';
import { SwarmError } from '../core/errors.ts';
import { sha256Hex } from '../core/sha256.ts';
import { createEntry } from '../ledger/entry.ts';
import type { LedgerEntry } from '../ledger/entry.ts';
import type { Ed25519KeyPair } from '../ledger/keys.ts';
import { JsonObject } from './schemas.ts';

/** GET /api/cla. */
export type ClaView =
  | { required: false }
  | {
      required: true;
      /** the version id, e.g. cla-v1 */
      version: string;
      /** SHA-256 (hex) of the text's bytes */
      sha256: string;
      /** the council decision that made it current; null for the version the tracker started with */
      decision: string | null;
      publishedAt: number;
      /** the text (UTF-8), when the tracker has it */
      text?: string;
    };

/** POST /api/cla/signatures: the signer's own cla-signed entry. */
export const ClaSignRequestSchema = z.strictObject({ entry: JsonObject });
export type ClaSignRequest = z.output<typeof ClaSignRequestSchema>;

/** The answer to a signature: `created` false when this key had signed this version before (nothing new is logged). */
export interface ClaSignature {
  keyId: string;
  version: string;
  sha256: string;
  signedAt: number;
  created: boolean;
}

/** cla-signed, signed by the identity itself: it accepts `version` whose text hashes to `sha256`. */
export function claSignedEntry(key: Ed25519KeyPair, time: number, cla: { version: string; sha256: string }): LedgerEntry<'cla-signed'> {
  return createEntry({ kind: 'cla-signed', time, body: { version: cla.version, sha256: cla.sha256, publicKey: base64Encode(key.publicKeyRaw) } }, key);
}

/** The largest CLA text a tracker takes (a licence is a page or two). */
export const MAX_CLA_TEXT_BYTES = 64 * 1024;
/** A version id: the ledger's id form (entry.ts), e.g. cla-v1. */
const CLA_VERSION_RE = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/;
/** The line of the document that states its version: `Version: cla-v1`. */
const VERSION_LINE_RE = /^Version:[ \t]*(\S+)[ \t]*$/m;

/** A CLA document: its version id (stated in the text) and the SHA-256 of its bytes. */
export interface ClaDocument {
  version: string;
  sha256: string;
  text: Uint8Array;
}

/**
 * Reads a CLA document (CLA.md): the bytes as they are (the hash is of the
 * file's bytes, so any edit makes another version) and the version its
 * `Version: <id>` line states. CLA_BAD_DOCUMENT when it is too large, not
 * UTF-8, or states no valid version.
 */
export function parseClaDocument(text: Uint8Array): ClaDocument {
  if (text.length === 0 || text.length > MAX_CLA_TEXT_BYTES) throw new SwarmError('CLA_BAD_DOCUMENT', `a CLA text is 1 to ${MAX_CLA_TEXT_BYTES} bytes; this one is ${text.length}`);
  let s: string;
  try {
    s = new TextDecoder('utf-8', { fatal: true }).decode(text);
  } catch {
    throw new SwarmError('CLA_BAD_DOCUMENT', 'the CLA text is not UTF-8');
  }
  const m = VERSION_LINE_RE.exec(s);
  if (m === null || !CLA_VERSION_RE.test(m[1]!)) {
    throw new SwarmError('CLA_BAD_DOCUMENT', 'the CLA text must state its version on a line of its own, e.g. "Version: cla-v1" (letters, digits and . _ : / -)');
  }
  return { version: m[1]!, sha256: sha256Hex(text), text };
}

/** Whether `version` has the form of a CLA version id. */
export function isClaVersion(version: string): boolean {
  return CLA_VERSION_RE.test(version);
}
