/**
 * The provider's result spool (issue 24; DESIGN.md, Processes): a finished
 * result is written here before it is uploaded and removed only once the
 * tracker has acknowledged it, so a crash or restart of either side costs a
 * delay, never the work. This is BOINC's client rule: a result stays in the
 * client's state file until the scheduler's reply acknowledges it, and is
 * reported at the next scheduler contact (BOINC wiki, "ClientSched": results
 * are "reported" and removed from client state only after the server
 * replies). The loop reports every spooled result before it asks for work.
 *
 * On disk (DiskResultSpool, disk-spool.ts): one file per unit, `<sha256(unitId)>.spool`,
 *   "SWSPOOL1\n" ‖ header (one line of JSON) ‖ "\n" ‖ the result bytes,
 * written to a temporary file, fsynced and renamed (atomic: a reader sees the
 * whole file or none). The header carries the result's size and SHA-256, so
 * a truncated or corrupted file is detected on reading; it is then reported
 * (PROVIDER_SPOOL_CORRUPT through onCorrupt) and deleted, never uploaded and
 * never a crash. MemoryResultSpool is the same contract without a disk (the
 * browser, tests).
 */
import { utf8Decode, utf8Encode } from '../core/encoding.ts';
import { SwarmError, check } from '../core/errors.ts';
import { sha256Hex } from '../core/sha256.ts';

export interface SpooledResult {
  unitId: string;
  runId: string;
  result: Uint8Array;
  metrics: Record<string, number>;
  /** when it was finished (ms, the loop's clock) */
  spooledAt: number;
}

export interface ResultSpool {
  /** Stores a finished result durably (replaces one of the same unit). */
  put(r: SpooledResult): Promise<void>;
  /** Every readable spooled result, oldest first; unreadable entries are reported and discarded. */
  list(): Promise<SpooledResult[]>;
  /** Forgets a unit's result (the tracker acknowledged or refused it for good). */
  remove(unitId: string): Promise<void>;
}

export const SPOOL_MAGIC = 'SWSPOOL1\n';
/** A header is a few hundred bytes; anything longer is not ours. */
const MAX_HEADER = 64 * 1024;
/** Results are deltas and eval scores, megabytes at most; refuse to read a file this large. */
export const MAX_SPOOL_FILE_BYTES = 1024 * 1024 * 1024;
const MAX_ID = 256;

export class MemoryResultSpool implements ResultSpool {
  private readonly map = new Map<string, SpooledResult>();

  async put(r: SpooledResult): Promise<void> {
    checkEntry(r);
    this.map.delete(r.unitId);
    this.map.set(r.unitId, { ...r, result: r.result.slice(), metrics: { ...r.metrics } });
  }

  async list(): Promise<SpooledResult[]> {
    return [...this.map.values()].map((r) => ({ ...r, result: r.result.slice() }));
  }

  async remove(unitId: string): Promise<void> {
    this.map.delete(unitId);
  }
}

function checkEntry(r: SpooledResult): void {
  const id = (v: unknown): boolean => typeof v === 'string' && v.length > 0 && v.length <= MAX_ID;
  check(id(r.unitId), 'PROVIDER_SPOOL_BAD_ENTRY', `a spooled result needs a unit id of 1..${MAX_ID} characters`);
  check(id(r.runId), 'PROVIDER_SPOOL_BAD_ENTRY', `a spooled result needs a run id of 1..${MAX_ID} characters`);
  check(r.result instanceof Uint8Array, 'PROVIDER_SPOOL_BAD_ENTRY', 'a spooled result needs its bytes');
}

/** Encodes one spool file (see the header). */
export function encodeSpoolFile(r: SpooledResult): Uint8Array {
  checkEntry(r);
  const header = utf8Encode(`${SPOOL_MAGIC}${JSON.stringify({
    v: 1, unitId: r.unitId, runId: r.runId, metrics: r.metrics, spooledAt: r.spooledAt, resultBytes: r.result.length, resultSha256: sha256Hex(r.result),
  })}\n`);
  const out = new Uint8Array(header.length + r.result.length);
  out.set(header, 0);
  out.set(r.result, header.length);
  return out;
}

/** Decodes one spool file; PROVIDER_SPOOL_CORRUPT (with the reason) for anything but a whole, intact file. */
export function decodeSpoolFile(bytes: Uint8Array): SpooledResult {
  const corrupt = (why: string): never => {
    throw new SwarmError('PROVIDER_SPOOL_CORRUPT', `spooled result is corrupt: ${why}`);
  };
  const magic = utf8Encode(SPOOL_MAGIC);
  if (bytes.length < magic.length || magic.some((b, i) => bytes[i] !== b)) corrupt('not a spool file (bad magic)');
  const end = bytes.indexOf(0x0a, magic.length);
  if (end < 0 || end - magic.length > MAX_HEADER) corrupt('no header line');
  let h: Record<string, unknown>;
  try {
    h = JSON.parse(utf8Decode(bytes.subarray(magic.length, end))) as Record<string, unknown>;
  } catch {
    return corrupt('the header is not JSON');
  }
  if (h === null || typeof h !== 'object' || h.v !== 1) corrupt('unknown header version');
  const str = (k: string): string => {
    const v = h[k];
    if (typeof v !== 'string' || v.length === 0 || v.length > MAX_ID) corrupt(`header field ${k}`);
    return v as string;
  };
  const unitId = str('unitId');
  const runId = str('runId');
  const resultSha256 = str('resultSha256');
  if (!Number.isSafeInteger(h.resultBytes) || (h.resultBytes as number) < 0) corrupt('header field resultBytes');
  if (!Number.isSafeInteger(h.spooledAt) || (h.spooledAt as number) < 0) corrupt('header field spooledAt');
  const m = h.metrics;
  if (m === null || typeof m !== 'object' || Array.isArray(m) || Object.values(m).some((x) => typeof x !== 'number')) corrupt('header field metrics');
  const result = bytes.slice(end + 1);
  if (result.length !== h.resultBytes) corrupt(`truncated: ${result.length} of ${String(h.resultBytes)} result bytes`);
  if (sha256Hex(result) !== resultSha256) corrupt('the result does not hash to its recorded SHA-256');
  return { unitId, runId, result, metrics: m as Record<string, number>, spooledAt: h.spooledAt as number };
}
