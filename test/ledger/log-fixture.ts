/**
 * A realistic ledger for audit tests: three providers register themselves,
 * the tracker issues two units with replication, providers submit results,
 * the tracker judges them with a quorum of 2, grants credit and publishes a
 * checkpoint aggregating both units. Every entry is properly signed (by the
 * provider for registrations and results, by the tracker otherwise).
 */
import { createEntry } from '../../src/ledger/entry.ts';
import type { EntryBodies, EntryKind, LedgerEntry } from '../../src/ledger/entry.ts';
import type { Ed25519KeyPair } from '../../src/ledger/keys.ts';
import { base64Encode } from '../../src/core/encoding.ts';
import { sha256Hex } from '../../src/core/sha256.ts';
import { testKey } from './helpers.ts';
import { auditLog } from '../../src/ledger/audit.ts';
import type { AuditReport } from '../../src/ledger/audit.ts';
import { encodeEntry } from '../../src/ledger/entry.ts';
import { leafHash, rootHash } from '../../src/ledger/merkle.ts';
import { signTreeHead } from '../../src/ledger/tree-head.ts';

export const tracker = testKey(1);
export const alice = testKey(2);
export const bob = testKey(3);
export const carol = testKey(4);
export const mallory = testKey(9);

export const RUN = 'run-1';
export const H1 = sha256Hex('delta u1');
export const H2 = sha256Hex('delta u2');
export const H3 = sha256Hex('a wrong delta');
export const SPEC = sha256Hex('spec');
export const CHECKPOINT = sha256Hex('theta 1');
export const PARENT = sha256Hex('theta 0');

let clock = 1_764_000_000_000;

/** A signed entry of `kind` by `signer` (time increases by 1 ms per call). */
export function entry<K extends EntryKind>(kind: K, body: EntryBodies[K], signer: Ed25519KeyPair): LedgerEntry {
  return createEntry({ kind, time: clock++, body }, signer) as LedgerEntry;
}

export const register = (p: Ed25519KeyPair): LedgerEntry =>
  entry('provider-registered', { publicKey: base64Encode(p.publicKeyRaw), name: `p-${p.keyId.slice(0, 6)}` }, p);
export const issue = (unit: string, p: Ed25519KeyPair): LedgerEntry =>
  entry('unit-issued', { run: RUN, unit, round: 0, slot: unit === 'u1' ? 0 : 1, spec: SPEC, provider: p.keyId, deadline: 1_764_000_600_000 }, tracker);
export const result = (unit: string, p: Ed25519KeyPair, hash: string): LedgerEntry => entry('result-submitted', { run: RUN, unit, result: hash }, p);
export const valid = (unit: string, p: Ed25519KeyPair, hash: string, quorum?: number): LedgerEntry =>
  entry('verdict', { run: RUN, unit, provider: p.keyId, result: hash, outcome: 'valid', ...(quorum === undefined ? {} : { quorum }) }, tracker);
export const invalid = (unit: string, p: Ed25519KeyPair, hash: string): LedgerEntry =>
  entry('verdict', { run: RUN, unit, provider: p.keyId, result: hash, outcome: 'invalid', reason: 'outvoted by the quorum', quorum: 2 }, tracker);
export const credit = (unit: string, p: Ed25519KeyPair, hash: string): LedgerEntry =>
  entry('credit-granted', { run: RUN, unit, provider: p.keyId, result: hash, amount: 1000 }, tracker);
export const checkpoint = (units: { unit: string; result: string }[]): LedgerEntry =>
  entry('checkpoint-published', { run: RUN, round: 0, checkpoint: CHECKPOINT, parents: [PARENT], aggregated: units }, tracker);

/** The 23-entry history described in the header, in log order. */
export function realisticLog(): LedgerEntry[] {
  return [
    register(alice), // 0
    register(bob), // 1
    register(carol), // 2
    issue('u1', alice), // 3
    issue('u1', bob), // 4
    result('u1', alice, H1), // 5
    result('u1', bob, H1), // 6
    valid('u1', alice, H1, 2), // 7
    valid('u1', bob, H1, 2), // 8
    credit('u1', alice, H1), // 9
    credit('u1', bob, H1), // 10
    issue('u2', alice), // 11
    issue('u2', carol), // 12
    result('u2', alice, H2), // 13
    result('u2', carol, H3), // 14
    issue('u2', bob), // 15
    result('u2', bob, H2), // 16
    valid('u2', alice, H2, 2), // 17
    valid('u2', bob, H2, 2), // 18
    invalid('u2', carol, H3), // 19
    credit('u2', alice, H2), // 20
    credit('u2', bob, H2), // 21
    checkpoint([
      { unit: 'u1', result: H1 },
      { unit: 'u2', result: H2 },
    ]), // 22
  ];
}

/** auditLog of `entries` as leaves under a head the fixture's tracker signs over exactly them. */
export function auditEntries(entries: readonly LedgerEntry[]): AuditReport {
  const leaves = entries.map(encodeEntry);
  const head = signTreeHead({ treeSize: leaves.length, timestamp: 99, rootHash: rootHash(leaves.map(leafHash)) }, tracker);
  return auditLog({ leafInputs: leaves, head, trackerKey: tracker.publicKeyRaw });
}

/** The audit's first bad entry of `entries`: its leaf index and reason, or undefined. */
export function firstBadOf(entries: readonly LedgerEntry[]): { index: number; reason: string } | undefined {
  const r = auditEntries(entries).firstBad;
  return r === undefined ? undefined : { index: r.index, reason: r.reason };
}
