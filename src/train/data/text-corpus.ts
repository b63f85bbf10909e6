/**
 * A corpus of real text held in memory: documents in a fixed order, split into
 * train and validation by content hash (validation-split.ts), and a content
 * hash that names the corpus for a run's provenance record.
 */
import { hexEncode, utf8Encode } from '../../core/encoding.ts';
import { SwarmError } from '../../core/errors.ts';
import { sha256Parts } from '../../core/sha256.ts';
import { checkValPercent, isValidationDocument } from './validation-split.ts';

export const DEFAULT_VAL_PERCENT = 10;
/** Put between documents before tokenizing: a paragraph break. */
export const TEXT_SEPARATOR = '\n\n';

export interface TextCorpus {
  readonly kind: 'text';
  /** where it came from (a path, or a caller-chosen label) */
  readonly name: string;
  /** every document, in load order */
  readonly documents: readonly string[];
  /** documents of each split, in load order */
  readonly train: readonly string[];
  readonly validation: readonly string[];
  readonly valPercent: number;
  /** appended to every document before encoding */
  readonly separator: string;
  /**
   * SHA-256 (hex) of the document list: each document as u32 big-endian byte
   * length then its UTF-8 bytes, under a domain tag. Same documents in the
   * same order ⇔ same hash.
   */
  readonly contentHash: string;
  /** total UTF-8 bytes of the documents */
  readonly bytes: number;
}

const HASH_DOMAIN = 'sovereign-swarm/data/text-corpus/v1\0';

export interface TextCorpusOptions {
  /** percentage of documents held out for validation (default 10) */
  valPercent?: number;
  separator?: string;
}

/** A TextCorpus over `documents` (empty ones dropped; DATA_EMPTY when none remain). */
export function makeTextCorpus(name: string, documents: readonly string[], options: TextCorpusOptions = {}): TextCorpus {
  const valPercent = options.valPercent ?? DEFAULT_VAL_PERCENT;
  checkValPercent(valPercent);
  const docs = documents.filter((d) => d.length > 0);
  if (docs.length === 0) throw new SwarmError('DATA_EMPTY', 'the corpus has no non-empty documents', { name });
  const parts: Uint8Array[] = [utf8Encode(HASH_DOMAIN)];
  let bytes = 0;
  const train: string[] = [];
  const validation: string[] = [];
  for (const d of docs) {
    const b = utf8Encode(d);
    bytes += b.length;
    parts.push(Uint8Array.of(b.length >>> 24, (b.length >>> 16) & 0xff, (b.length >>> 8) & 0xff, b.length & 0xff), b);
    (isValidationDocument(d, valPercent) ? validation : train).push(d);
  }
  const contentHash = hexEncode(sha256Parts(parts));
  return { kind: 'text', name, documents: docs, train, validation, valPercent, separator: options.separator ?? TEXT_SEPARATOR, contentHash, bytes };
}

/**
 * Paragraphs of `text`: split at blank lines (lines empty or only spaces and
 * tabs), each paragraph trimmed of surrounding whitespace, empty ones dropped.
 */
export function splitParagraphs(text: string): string[] {
  return text
    .split(/\n[ \t]*(?:\n[ \t]*)+/)
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
}
