/**
 * `swarm bench ledger`: the tracker's in-memory Merkle log at scale (issue 6:
 * 20,000 appends/s batched in memory, proofs under 5 ms at 1,000,000 entries).
 *
 *  - appends: leaf inputs the size and shape of real entries (a signed
 *    result-submitted entry, encoded, with its unit id rewritten per leaf so
 *    every leaf differs) are hashed (RFC 6962 leaf hash) and appended to the
 *    tracker's HashTree in batches, the way LedgerStore catches up from the
 *    database page by page. Database writes are not part of it: they are
 *    bounded by the database, and happen off the request path anyway (state
 *    changes queue their entries, the sequencer numbers them after COMMIT:
 *    tracker/storage/ledger-queue.ts).
 *  - proofs: the mean time to build an inclusion proof of a random leaf, and
 *    a consistency proof from a random earlier size, in the full tree; each
 *    proof is also verified (untimed) with src/ledger/merkle.ts, so a fast
 *    wrong answer cannot pass.
 * Leaf and size choices come from a seeded PRNG: reruns measure the same work.
 */
import { performance } from 'node:perf_hooks';
import { utf8Encode } from '../core/encoding.ts';
import { SwarmError } from '../core/errors.ts';
import { Prng } from '../core/prng.ts';
import { createEntry, encodeEntry } from '../ledger/entry.ts';
import { keyPairFromSeed } from '../ledger/keys.ts';
import { leafHash, verifyConsistency, verifyInclusion } from '../ledger/merkle.ts';
import { HashTree } from '../ledger/hash-tree.ts';

export interface LedgerBenchOptions {
  /** leaves appended (default 1,000,000) */
  entries?: number;
  /** proofs of each kind timed (default 1000) */
  proofs?: number;
  /** leaves hashed and appended per batch (default 10,000) */
  batch?: number;
}

export interface LedgerBenchResult {
  appendsPerSecond: number;
  inclusionProofMs: number;
  consistencyProofMs: number;
  treeSize: number;
}

const UNIT_DIGITS = 10;

/** A real encoded entry whose unit id ends in UNIT_DIGITS zeros, and where those digits are. */
function templateLeaf(): { bytes: Uint8Array; digitsAt: number } {
  const provider = keyPairFromSeed(new Uint8Array(32).fill(7));
  const unit = `r12/s3/u${'0'.repeat(UNIT_DIGITS)}`;
  const entry = createEntry(
    { kind: 'result-submitted', time: 1_764_000_000_000, body: { run: 'bench-run', unit, result: 'ab'.repeat(32) } },
    provider,
  );
  const bytes = encodeEntry(entry);
  const needle = utf8Encode(unit);
  for (let i = 0; i + needle.length <= bytes.length; i++) {
    if (needle.every((b, j) => bytes[i + j] === b)) return { bytes, digitsAt: i + needle.length - UNIT_DIGITS };
  }
  throw new SwarmError('BENCH_INTERNAL', 'unit id not found in the template entry');
}

function writeDigits(buf: Uint8Array, at: number, n: number): void {
  for (let k = UNIT_DIGITS - 1; k >= 0; k--) {
    buf[at + k] = 48 + (n % 10);
    n = Math.floor(n / 10);
  }
}

export function benchLedger(options: LedgerBenchOptions = {}): LedgerBenchResult {
  const entries = options.entries ?? 1_000_000;
  const proofs = options.proofs ?? 1000;
  const batch = options.batch ?? 10_000;
  for (const [name, v] of [['entries', entries], ['proofs', proofs], ['batch', batch]] as const) {
    if (!Number.isSafeInteger(v) || v < 1) throw new SwarmError('BENCH_BAD_ARGUMENT', `${name} must be a positive integer`, { [name]: v });
  }
  if (entries < 2) throw new SwarmError('BENCH_BAD_ARGUMENT', 'entries must be at least 2', { entries });
  const { bytes, digitsAt } = templateLeaf();
  const leaf = bytes.slice();
  const tree = new HashTree();

  const t0 = performance.now();
  const hashes: Uint8Array[] = new Array<Uint8Array>(batch);
  for (let start = 0; start < entries; start += batch) {
    const n = Math.min(batch, entries - start);
    for (let i = 0; i < n; i++) {
      writeDigits(leaf, digitsAt, start + i);
      hashes[i] = leafHash(leaf);
    }
    for (let i = 0; i < n; i++) tree.append(hashes[i]!);
  }
  const appendSeconds = (performance.now() - t0) / 1000;

  const prng = Prng.fromSeed('bench-ledger');
  const root = tree.rootHash();
  let inclusionMs = 0;
  for (let p = 0; p < proofs; p++) {
    const index = prng.nextInt(entries);
    const t = performance.now();
    const path = tree.inclusionProof(index, entries);
    inclusionMs += performance.now() - t;
    if (!verifyInclusion(tree.leafHash(index), index, entries, path, root)) {
      throw new SwarmError('BENCH_WRONG_PROOF', 'an inclusion proof did not verify', { index });
    }
  }
  let consistencyMs = 0;
  for (let p = 0; p < proofs; p++) {
    const first = 1 + prng.nextInt(entries - 1);
    const t = performance.now();
    const proof = tree.consistencyProof(first, entries);
    consistencyMs += performance.now() - t;
    if (!verifyConsistency(first, entries, tree.rootHash(first), root, proof)) {
      throw new SwarmError('BENCH_WRONG_PROOF', 'a consistency proof did not verify', { first });
    }
  }
  return {
    appendsPerSecond: Math.round(entries / appendSeconds),
    inclusionProofMs: inclusionMs / proofs,
    consistencyProofMs: consistencyMs / proofs,
    treeSize: tree.size,
  };
}
