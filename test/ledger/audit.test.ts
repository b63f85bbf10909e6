/** The pure audit (src/ledger/audit.ts) and the verdict's `quorum` member (src/ledger/entry.ts). */
import { describe, expect, it } from 'vitest';
import { canonicalBytes } from '../../src/core/canonical-json.ts';
import { auditLog } from '../../src/ledger/audit.ts';
import type { AuditReport } from '../../src/ledger/audit.ts';
import { createEntry, decodeEntry, encodeEntry, parseEntry } from '../../src/ledger/entry.ts';
import type { LedgerEntry } from '../../src/ledger/entry.ts';
import { leafHash, rootHash } from '../../src/ledger/merkle.ts';
import { signTreeHead } from '../../src/ledger/tree-head.ts';
import { flipBit } from './helpers.ts';
import { H1, H2, H3, RUN, alice, bob, carol, checkpoint, credit, entry, invalid, issue, mallory, realisticLog, register, result, tracker, valid } from './log-fixture.ts';

function audit(leaves: Uint8Array[], head = signTreeHead({ treeSize: leaves.length, timestamp: 5, rootHash: rootHash(leaves.map(leafHash)) }, tracker)): AuditReport {
  return auditLog({ leafInputs: leaves, head, trackerKey: tracker.publicKeyRaw });
}

const encode = (entries: LedgerEntry[]): Uint8Array[] => entries.map((e) => encodeEntry(e));

describe('auditLog', () => {
  it('passes a realistic, well-kept log and counts its entries by kind', () => {
    const r = audit(encode(realisticLog()));
    expect(r.ok).toBe(true);
    expect(r.firstBad).toBeUndefined();
    expect(r.headProblems).toEqual([]);
    expect(r.entries).toBe(23);
    expect(r.counts).toEqual({
      'provider-registered': 3,
      'unit-issued': 5,
      'result-submitted': 5,
      verdict: 5,
      'credit-granted': 4,
      'checkpoint-published': 1,
      'council-decision': 0,
      'council-formed': 0,
      'council-proposal': 0,
      'council-vote': 0,
      'credit-adjusted': 0,
      'cla-published': 0,
      'cla-signed': 0,
    });
  });

  it('passes the empty log against a head of size 0', () => {
    const r = audit([]);
    expect(r.ok).toBe(true);
    expect(r.treeSize).toBe(0);
  });

  it('names an entry with one changed byte (undecodable or badly signed), and the root no longer matches', () => {
    const log = realisticLog();
    const good = encode(log);
    const head = signTreeHead({ treeSize: good.length, timestamp: 5, rootHash: rootHash(good.map(leafHash)) }, tracker);
    // A byte of JSON syntax: the entry no longer decodes.
    const syntax = good.slice();
    syntax[7] = good[7]!.slice();
    syntax[7][0] = '['.charCodeAt(0);
    let r = audit(syntax, head);
    expect(r.ok).toBe(false);
    expect(r.firstBad).toMatchObject({ index: 7, kind: null, reason: 'undecodable' });
    expect(r.rootMatches).toBe(false);
    expect(r.headProblems.map((p) => p.problem)).toEqual(['root-mismatch']);
    // A hex digit of the result hash: still canonical JSON, but the signature breaks.
    const digit = good.slice();
    const text = new TextDecoder().decode(good[9]!);
    const at = text.indexOf(H1) + 3;
    digit[9] = good[9]!.slice();
    digit[9][at] = digit[9][at] === 0x61 ? 0x62 : 0x61;
    r = audit(digit, head);
    expect(r.firstBad).toMatchObject({ index: 9, kind: 'credit-granted', reason: 'bad-signature' });
    // Any bit of any byte of entry 12 is caught at entry 12 (or earlier never).
    for (let byte = 0; byte < good[12]!.length; byte += 17) {
      const t = good.slice();
      t[12] = flipBit(good[12]!, byte, byte % 8);
      const rr = audit(t, head);
      expect(rr.ok).toBe(false);
      expect(rr.firstBad?.index).toBe(12);
    }
  });

  it('checks who signed what', () => {
    const log = realisticLog();
    // a result signed by a key no earlier entry registered
    let r = audit(encode([...log, result('u1', mallory, H1)]));
    expect(r.firstBad).toMatchObject({ index: 23, kind: 'result-submitted', reason: 'unknown-signer' });
    // a registration after the result does not count
    r = audit(encode([...log.slice(0, 3), result('u1', mallory, H1), register(mallory)]));
    expect(r.firstBad).toMatchObject({ index: 3, reason: 'unknown-signer' });
    // a tracker kind signed by a provider
    r = audit(encode([...log, entry('credit-granted', { run: RUN, unit: 'u1', provider: alice.keyId, result: H1, amount: 5 }, alice)]));
    expect(r.firstBad).toMatchObject({ index: 23, kind: 'credit-granted', reason: 'not-tracker' });
    // the tracker's actor with somebody else's signature
    const forged = { ...(log[3] as LedgerEntry), sig: (log[4] as LedgerEntry).sig } as LedgerEntry;
    r = audit(encode([...log.slice(0, 3), forged]));
    expect(r.firstBad).toMatchObject({ index: 3, kind: 'unit-issued', reason: 'bad-signature' });
    // a registration whose signature is not by the registered key
    const reg = register(carol);
    const badReg = { ...reg, sig: (register(alice) as LedgerEntry).sig } as LedgerEntry;
    r = audit(encode([badReg]));
    expect(r.firstBad).toMatchObject({ index: 0, kind: 'provider-registered', reason: 'bad-signature' });
    // a unit issued to an unregistered provider
    r = audit(encode([...log, issue('u3', mallory)]));
    expect(r.firstBad).toMatchObject({ index: 23, kind: 'unit-issued', reason: 'unknown-provider' });
  });

  it('names a credit without a valid verdict, and a second credit for one result', () => {
    const base = realisticLog().slice(0, 7); // registrations, issues, two results of u1
    let r = audit(encode([...base, credit('u1', alice, H1)]));
    expect(r.firstBad).toMatchObject({ index: 7, kind: 'credit-granted', reason: 'credit-without-verdict' });
    // an invalid verdict does not back credit
    r = audit(encode([...realisticLog(), credit('u2', carol, H3)]));
    expect(r.firstBad).toMatchObject({ index: 23, reason: 'credit-without-verdict' });
    // the verdict must be for the same result hash
    r = audit(encode([...base, valid('u1', alice, H1, 2), credit('u1', alice, H2)]));
    expect(r.firstBad).toMatchObject({ index: 8, reason: 'credit-without-verdict' });
    // the verdict must come first
    r = audit(encode([...base, credit('u1', alice, H1), valid('u1', alice, H1, 2)]));
    expect(r.firstBad).toMatchObject({ index: 7, reason: 'credit-without-verdict' });
    r = audit(encode([...realisticLog(), credit('u1', alice, H1)]));
    expect(r.firstBad).toMatchObject({ index: 23, reason: 'duplicate-credit' });
  });

  it('names verdicts without the result they judge, and valid verdicts without their quorum', () => {
    const regs = realisticLog().slice(0, 5);
    let r = audit(encode([...regs, valid('u1', alice, H1)]));
    expect(r.firstBad).toMatchObject({ index: 5, kind: 'verdict', reason: 'verdict-without-result' });
    r = audit(encode([...regs, result('u1', bob, H1), invalid('u1', alice, H1)]));
    expect(r.firstBad).toMatchObject({ index: 6, reason: 'verdict-without-result' });
    // quorum 2 with one matching result
    r = audit(encode([...regs, result('u1', alice, H1), result('u1', bob, H2), valid('u1', alice, H1, 2)]));
    expect(r.firstBad).toMatchObject({ index: 7, kind: 'verdict', reason: 'verdict-without-quorum' });
    expect(r.firstBad?.message).toContain('needs 2');
    // the same provider twice is one vote
    r = audit(encode([...regs, result('u1', alice, H1), result('u1', alice, H1), valid('u1', alice, H1, 2)]));
    expect(r.firstBad).toMatchObject({ index: 7, reason: 'verdict-without-quorum' });
    // results of another unit do not count
    r = audit(encode([...regs, result('u1', alice, H1), result('u2', bob, H1), valid('u1', alice, H1, 2)]));
    expect(r.firstBad).toMatchObject({ index: 7, reason: 'verdict-without-quorum' });
    // a quorum of 2 that holds, and a verdict without `quorum` (read as 1)
    expect(audit(encode([...regs, result('u1', alice, H1), result('u1', bob, H1), valid('u1', alice, H1, 2)])).ok).toBe(true);
    expect(audit(encode([...regs, result('u1', alice, H1), valid('u1', alice, H1)])).ok).toBe(true);
    // an invalid verdict needs no quorum
    expect(audit(encode([...regs, result('u1', carol, H3), invalid('u1', carol, H3)])).ok).toBe(true);
  });

  it('names a checkpoint that aggregates a result no valid verdict backs', () => {
    const log = realisticLog().slice(0, 11); // u1 fully judged
    expect(audit(encode([...log, checkpoint([{ unit: 'u1', result: H1 }])])).ok).toBe(true);
    let r = audit(encode([...log, checkpoint([{ unit: 'u1', result: H1 }, { unit: 'u2', result: H2 }])]));
    expect(r.firstBad).toMatchObject({ index: 11, kind: 'checkpoint-published', reason: 'checkpoint-without-verdict' });
    r = audit(encode([...log, checkpoint([{ unit: 'u1', result: H3 }])]));
    expect(r.firstBad).toMatchObject({ index: 11, reason: 'checkpoint-without-verdict' });
  });

  it('reports head problems: signature, size, root', () => {
    const leaves = encode(realisticLog());
    const root = rootHash(leaves.map(leafHash));
    let r = audit(leaves, signTreeHead({ treeSize: leaves.length, timestamp: 5, rootHash: root }, mallory));
    expect(r.headSignatureValid).toBe(false);
    expect(r.headProblems.map((p) => p.problem)).toEqual(['head-signature']);
    expect(r.ok).toBe(false);
    r = audit(leaves.slice(0, 20), signTreeHead({ treeSize: leaves.length, timestamp: 5, rootHash: root }, tracker));
    expect(r.headProblems.map((p) => p.problem)).toEqual(['size-mismatch']);
    expect(r.firstBad).toBeUndefined();
    // reordering two entries keeps every entry valid here but changes the root
    const swapped = leaves.slice();
    [swapped[3], swapped[4]] = [swapped[4]!, swapped[3]!];
    r = audit(swapped, signTreeHead({ treeSize: leaves.length, timestamp: 5, rootHash: root }, tracker));
    expect(r.headProblems.map((p) => p.problem)).toEqual(['root-mismatch']);
    expect(r.ok).toBe(false);
  });

  it('reports the FIRST bad entry when several are bad', () => {
    const log = realisticLog();
    const r = audit(encode([...log.slice(0, 7), credit('u1', alice, H1), result('u1', mallory, H1)]));
    expect(r.firstBad?.index).toBe(7);
    expect(r.counts['result-submitted']).toBe(2);
  });
});

describe('verdict quorum member', () => {
  const body = { run: RUN, unit: 'u1', provider: alice.keyId, result: H1, outcome: 'valid' as const };

  it('round-trips, is signed, and is optional', () => {
    const e = createEntry({ kind: 'verdict', time: 1, body: { ...body, quorum: 3 } }, tracker);
    expect(e.body).toMatchObject({ quorum: 3 });
    expect(decodeEntry(encodeEntry(e))).toEqual(e);
    const without = createEntry({ kind: 'verdict', time: 1, body }, tracker);
    expect('quorum' in without.body).toBe(false);
    expect(canonicalBytes(without)).not.toEqual(canonicalBytes(e));
    expect(createEntry({ kind: 'verdict', time: 1, body: { ...body, outcome: 'invalid', reason: 'x', quorum: 1 } }, tracker).body).toMatchObject({ quorum: 1 });
  });

  it.each([
    ['zero', 0],
    ['negative', -1],
    ['fraction', 1.5],
    ['string', '2'],
    ['unsafe', 2 ** 53],
    ['null', null],
  ])('rejects a %s quorum with LEDGER_BAD_ENTRY at its path', (_name, q) => {
    const e = createEntry({ kind: 'verdict', time: 1, body }, tracker);
    const bad = { ...e, body: { ...e.body, quorum: q } };
    expect(() => parseEntry(bad)).toThrow(expect.objectContaining({ code: 'LEDGER_BAD_ENTRY', details: expect.objectContaining({ path: '$["body"]["quorum"]' }) }));
  });

  it('is covered by the signature (changing it breaks the audit)', () => {
    const log = realisticLog();
    const e = log[7] as LedgerEntry<'verdict'>;
    const changed = { ...e, body: { ...e.body, quorum: 1 } } as LedgerEntry;
    const leaves = encode([...log.slice(0, 7), changed]);
    expect(audit(leaves).firstBad).toMatchObject({ index: 7, reason: 'bad-signature' });
  });
});
