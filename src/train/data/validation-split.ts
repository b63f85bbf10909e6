/**
 * Train / validation split by content hash.
 *
 * A document is held out when SHA-256(domain ‖ UTF-8 text), read as a
 * big-endian u32 and reduced mod 10 000, falls below valPercent · 100. The
 * decision depends on the document alone, so adding, removing or reordering
 * other documents never moves a document between splits (the property
 * hash-based splits are used for in practice; e.g. TensorFlow Datasets'
 * deterministic splits), and exact duplicates always land on the same side,
 * which keeps verbatim copies of validation text out of training. The bias of
 * reducing 2^32 values mod 10^4 is below 3·10^-6.
 */
import { SwarmError } from '../../core/errors.ts';
import { sha256Parts } from '../../core/sha256.ts';

const DOMAIN = 'sovereign-swarm/data/split/v1\0';

/** Bucket in [0, 10 000) of a document (basis points). */
export function splitBucket(text: string): number {
  const h = sha256Parts([DOMAIN, text]);
  const u32 = ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0;
  return u32 % 10_000;
}

export function checkValPercent(valPercent: number): void {
  if (typeof valPercent !== 'number' || !(valPercent >= 0 && valPercent <= 100)) {
    throw new SwarmError('DATA_INVALID_OPTION', 'valPercent must be a number in [0, 100]', { valPercent: String(valPercent) });
  }
}

/** True when `text` belongs to the validation split for `valPercent` (0–100, resolution 0.01). */
export function isValidationDocument(text: string, valPercent: number): boolean {
  checkValPercent(valPercent);
  return splitBucket(text) < Math.round(valPercent * 100);
}
