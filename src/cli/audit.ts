/**
 * `swarm audit --tracker URL [--json] [--proofs N|all]`
 *
 * Downloads a tracker's whole ledger and checks that it holds (issue 6, "Audit"):
 *  1. GET key and get-sth; the log is read up to that head's tree_size via
 *     get-entries, page by page;
 *  2. the pure audit (src/ledger/audit.ts): head signature, size, root
 *     recomputed from the entries, every entry's signature and bookkeeping;
 *  3. inclusion proofs served by the tracker (get-proof-by-hash, RFC 9162
 *     §2.1.3) for the first and last entries and a sample of the others
 *     (--proofs N, default 64, drawn with a PRNG seeded by the head's root so a
 *     rerun checks the same ones; --proofs all for every entry): each must
 *     name the entry's own index and lead to the head's root;
 *  4. consistency proofs (RFC 9162 §2.1.4): from the first half of the
 *     downloaded log (its root computed here) to the head, and from the head
 *     to the tracker's newest head, fetched again at the end (a smaller newest
 *     head is a rollback).
 * Exit 0 only when everything holds; otherwise 1, naming the first bad entry
 * (index, kind, reason) or what else failed. --json prints one report object.
 */
import type { Command } from 'commander';
import { CommanderError, InvalidArgumentError } from 'commander';
import { base64Encode } from '../core/encoding.ts';
import { isSwarmError } from '../core/errors.ts';
import { Prng } from '../core/prng.ts';
import { auditLog } from '../ledger/audit.ts';
import type { AuditFinding } from '../ledger/audit.ts';
import { decodeEntry } from '../ledger/entry.ts';
import type { EntryKind } from '../ledger/entry.ts';
import { leafHash, rootHash, verifyConsistency, verifyInclusion } from '../ledger/merkle.ts';
import { isTreeHeadSignatureValid } from '../ledger/tree-head.ts';
import { replayCheckpoints } from './replay.ts';
import type { ReplayReport } from './replay.ts';
import { LedgerClient } from './ledger-client.ts';
import type { FetchLike } from './ledger-client.ts';
import { processIo } from './witness.ts';
import type { Io } from './witness.ts';

export const DEFAULT_PROOF_SAMPLE = 64;

export interface AuditFlags {
  tracker: string;
  json?: boolean;
  /** inclusion proofs to check besides the first and last entry; 'all' for every entry */
  proofs?: number | 'all';
  /** recompute every checkpoint from the ledger and the blobs */
  replay?: boolean;
}

export interface AuditDeps {
  io?: Io;
  fetch?: FetchLike;
}

/** A finding of the CLI's own checks (proofs), in the pure audit's shape. */
export type CliFinding = Omit<AuditFinding, 'reason'> & { reason: AuditFinding['reason'] | 'no-inclusion-proof' | 'bad-inclusion-proof' };

export interface AuditCliReport {
  ok: boolean;
  tracker: string;
  treeSize: number;
  rootHash: string;
  headSignatureValid: boolean;
  rootMatches: boolean;
  headProblems: { problem: string; message: string }[];
  firstBad: CliFinding | null;
  inclusionProofs: { checked: number; failed: number };
  consistency: { from: number; to: number; ok: boolean; message?: string }[];
  counts: Record<string, number>;
  /** present with --replay */
  replay?: ReplayReport;
}

function kindOf(leaf: Uint8Array): EntryKind | null {
  try {
    return decodeEntry(leaf).kind;
  } catch {
    return null;
  }
}

/** Indices whose inclusion proofs are checked: all, or first + last + a seeded sample. */
export function proofIndices(size: number, proofs: number | 'all', seed: Uint8Array): number[] {
  if (size === 0) return [];
  if (proofs === 'all' || proofs + 2 >= size) return Array.from({ length: size }, (_, i) => i);
  const chosen = new Set<number>([0, size - 1]);
  const prng = Prng.fromSeed(seed);
  while (chosen.size < proofs + 2) chosen.add(prng.nextInt(size));
  return [...chosen].sort((a, b) => a - b);
}

/** Runs the audit against a tracker; resolves to a report (throws for network/shape errors). */
export async function auditTracker(tracker: string, proofs: number | 'all', fetchFn?: FetchLike, options: { replay?: boolean } = {}): Promise<AuditCliReport> {
  const client = new LedgerClient(tracker, fetchFn === undefined ? {} : { fetch: fetchFn });
  const key = await client.key();
  const { head } = await client.sth();
  const leaves = await client.allEntries(head.treeSize);
  const replay = options.replay === true ? await replayCheckpoints(tracker, leaves, fetchFn) : undefined;
  const pure = auditLog({ leafInputs: leaves, head, trackerKey: key.publicKey });

  // Inclusion proofs served by the tracker, checked against the signed head.
  const findings: CliFinding[] = pure.firstBad === undefined ? [] : [pure.firstBad];
  let checked = 0;
  let failed = 0;
  for (const i of proofIndices(leaves.length, proofs, head.rootHash)) {
    const leaf = leaves[i]!;
    const h = leafHash(leaf);
    checked++;
    let bad: CliFinding | undefined;
    try {
      const p = await client.proofByHash(h, head.treeSize);
      if (p.leafIndex !== i) {
        bad = { index: i, kind: kindOf(leaf), reason: 'bad-inclusion-proof', message: `the tracker places this entry at index ${p.leafIndex}` };
      } else {
        let holds: boolean;
        try {
          holds = verifyInclusion(h, i, head.treeSize, p.auditPath, head.rootHash);
        } catch (e) {
          if (!isSwarmError(e, 'LEDGER_BAD_PROOF')) throw e;
          holds = false;
        }
        if (!holds) bad = { index: i, kind: kindOf(leaf), reason: 'bad-inclusion-proof', message: "the audit path does not lead to the head's root" };
      }
    } catch (e) {
      if (!isSwarmError(e, 'LEDGER_CLIENT_HTTP') || e.details?.status !== 404) throw e;
      bad = { index: i, kind: kindOf(leaf), reason: 'no-inclusion-proof', message: 'the tracker has no entry with this leaf hash' };
    }
    if (bad !== undefined) {
      failed++;
      findings.push(bad);
    }
  }

  // Consistency: half the log -> the head, and the head -> the newest head.
  const consistency: AuditCliReport['consistency'] = [];
  const half = Math.floor(leaves.length / 2);
  if (pure.sizeMatches && half > 0 && half < head.treeSize) {
    const firstRoot = rootHash(leaves.slice(0, half).map((l) => leafHash(l)));
    const proof = await client.consistency(half, head.treeSize);
    let ok: boolean;
    try {
      ok = verifyConsistency(half, head.treeSize, firstRoot, head.rootHash, proof);
    } catch (e) {
      if (!isSwarmError(e, 'LEDGER_BAD_PROOF')) throw e;
      ok = false;
    }
    consistency.push({ from: half, to: head.treeSize, ok, ...(ok ? {} : { message: 'the tracker cannot prove the first half of its log is a prefix of the head' }) });
  }
  const newest = (await client.sth()).head;
  if (!isTreeHeadSignatureValid(newest, key.publicKey)) {
    consistency.push({ from: head.treeSize, to: newest.treeSize, ok: false, message: "the newest head's signature does not verify" });
  } else if (newest.treeSize < head.treeSize) {
    consistency.push({ from: head.treeSize, to: newest.treeSize, ok: false, message: 'rollback: the newest head is smaller than the audited one' });
  } else {
    let ok: boolean;
    try {
      const proof = newest.treeSize === head.treeSize ? [] : await client.consistency(head.treeSize, newest.treeSize);
      ok = verifyConsistency(head.treeSize, newest.treeSize, head.rootHash, newest.rootHash, proof);
    } catch (e) {
      if (!isSwarmError(e, 'LEDGER_BAD_PROOF')) throw e;
      ok = false;
    }
    consistency.push({ from: head.treeSize, to: newest.treeSize, ok, ...(ok ? {} : { message: 'split view: the newest head does not extend the audited head' }) });
  }

  findings.sort((a, b) => a.index - b.index);
  const firstBad = findings[0] ?? null;
  return {
    ok: pure.ok && failed === 0 && consistency.every((c) => c.ok) && (replay === undefined || replay.failed === 0),
    tracker: client.base,
    treeSize: head.treeSize,
    rootHash: base64Encode(head.rootHash),
    headSignatureValid: pure.headSignatureValid,
    rootMatches: pure.rootMatches,
    headProblems: pure.headProblems,
    firstBad,
    inclusionProofs: { checked, failed },
    consistency,
    counts: pure.counts,
    ...(replay === undefined ? {} : { replay }),
  };
}

function describe(r: AuditCliReport): string {
  const lines: string[] = [];
  lines.push(`${r.ok ? 'AUDIT PASSED' : 'AUDIT FAILED'}: ${r.tracker} tree_size=${r.treeSize} root=${r.rootHash}`);
  if (r.firstBad !== null) {
    const b = r.firstBad;
    lines.push(`  first bad entry: #${b.index} (${b.kind ?? 'undecodable'}): ${b.reason}: ${b.message}`);
  }
  for (const p of r.headProblems) lines.push(`  head: ${p.problem}: ${p.message}`);
  lines.push(`  inclusion proofs: ${r.inclusionProofs.checked} checked, ${r.inclusionProofs.failed} failed`);
  for (const c of r.consistency) lines.push(`  consistency ${c.from} -> ${c.to}: ${c.ok ? 'ok' : `FAILED (${c.message})`}`);
  if (r.replay !== undefined) {
    const rp = r.replay;
    lines.push(`  replay: ${rp.checked} checkpoints recomputed, ${rp.failed} failed`);
    if (rp.firstBad !== null) lines.push(`  first checkpoint that does not replay: #${rp.firstBad.index} (run ${rp.firstBad.run}, round ${rp.firstBad.round}): ${rp.firstBad.message}`);
    for (const [run, sha] of Object.entries(rp.final)) lines.push(`  run ${run}: final checkpoint ${sha} reproduced bit for bit`);
  }
  if (r.firstBad === null) {
    const counts = Object.entries(r.counts).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ');
    lines.push(`  entries: ${counts === '' ? 'none' : counts}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The `swarm audit` command as a function: prints the report, resolves to the exit code. */
export async function runAudit(flags: AuditFlags, deps: AuditDeps = {}): Promise<number> {
  const io = deps.io ?? processIo;
  let report: AuditCliReport;
  try {
    report = await auditTracker(flags.tracker, flags.proofs ?? DEFAULT_PROOF_SAMPLE, deps.fetch, { replay: flags.replay === true });
  } catch (e) {
    if (!isSwarmError(e)) throw e;
    io.err(`swarm audit: error ${e.code}: ${e.message}\n`);
    return 1;
  }
  if (flags.json) io.out(`${JSON.stringify(report)}\n`);
  else (report.ok ? io.out : io.err)(describe(report));
  return report.ok ? 0 : 1;
}

function parseProofs(v: string): number | 'all' {
  if (v === 'all') return 'all';
  if (!/^\d{1,9}$/.test(v)) throw new InvalidArgumentError(`--proofs must be a count or "all", got "${v}"`);
  return Number(v);
}

export function registerAudit(program: Command): void {
  program
    .command('audit')
    .summary("download a tracker's ledger and verify it")
    .description("download a tracker's ledger and verify it: the signatures, the root, inclusion proofs, and that every credit and checkpoint is backed by verified results; the exit code is 1 when a check fails")
    .requiredOption('--tracker <url>', 'tracker base URL, e.g. http://127.0.0.1:7070')
    .option('--proofs <n|all>', `inclusion proofs to check besides the first and last entry, or "all" (default: ${DEFAULT_PROOF_SAMPLE})`, parseProofs)
    .option('--replay', 'also recompute every DiLoCo checkpoint from the ledger and the blobs, bit for bit')
    .option('--json', 'print the report as one JSON object')
    .action(async (o: AuditFlags) => {
      const code = await runAudit(o);
      if (code !== 0) throw new CommanderError(code, 'swarm.audit', 'audit failed');
    });
}
