/**
 * The auditor's check of a whole log (issue 6, "Audit"): pure, so anyone
 * holding the leaves and a signed head reaches the same verdict. The CLI
 * (src/cli/audit.ts) downloads the leaves and adds the proofs the tracker
 * serves; this module decides whether the history itself holds.
 *
 * Checks, in order:
 *  1. the tree head: the tracker's signature (tree-head.ts), the number of
 *     leaves against its tree_size, and the root recomputed from the leaves
 *     (RFC 6962 §2.1) against its root;
 *  2. every entry, by leaf index, stopping at the first bad one:
 *     - it decodes: the leaf input is exactly one entry's canonical encoding
 *       (entry.ts decodeEntry), which a changed byte almost always breaks;
 *     - its signature, by the key that must have made it:
 *         provider-registered   the key it registers (self-signed)
 *         result-submitted      a provider key registered EARLIER in the log
 *         every other kind      the tracker key
 *     - the bookkeeping, against earlier entries only (a log is read in order;
 *       an entry cannot be justified by what came after it):
 *         unit-issued           to a provider registered earlier
 *         verdict               backed by an earlier result-submitted from that
 *                               provider with that hash; a VALID verdict also by
 *                               at least `quorum` (absent: 1) result-submitted
 *                               entries with that hash for that run/unit from
 *                               distinct providers
 *         credit-granted        backed by an earlier valid verdict for the same
 *                               run/unit/provider/result, and at most one credit
 *                               per such verdict
 *         checkpoint-published  every aggregated {unit, result} backed by an
 *                               earlier valid verdict of that run/unit/result
 *         council entries       council-book.ts (issue 20): the genesis
 *                               council once; proposals by members at the
 *                               council's threshold; votes self-signed (like a
 *                               registration) by current members before the
 *                               expiry, once each; an enacted decision has
 *                               enough approvals of earlier votes by members
 *                               who still are; every credit-adjusted entry is
 *                               backed by an enacted decision
 *         CLA entries           cla-book.ts (issue 20): a cla-signed entry is
 *                               self-signed (like a registration) and names the
 *                               current cla-published version and hash; a
 *                               cla-published names an enacted cla decision
 *                               with that version and hash, or is the first
 *
 * Not checked here: what a checkpoint's bytes are (that is `swarm audit
 * --replay`), and whether a quorum was large enough for the run's policy
 * (the policy is not in the log).
 */
import type { KeyObject } from 'node:crypto';
import { base64Decode, bytesEqual } from '../core/encoding.ts';
import { isSwarmError } from '../core/errors.ts';
import { decodeEntry, ENTRY_KINDS, entrySigningBytes, registeredPublicKey } from './entry.ts';
import type { EntryKind, LedgerEntry } from './entry.ts';
import { keyIdOf, publicKeyFromRaw, verifyBytes } from './keys.ts';
import type { PublicKeyInput } from './keys.ts';
import { CouncilBook, COUNCIL_AUDIT_REASONS } from './council-book.ts';
import { ClaBook, CLA_AUDIT_REASONS } from './cla-book.ts';
import { leafHash, rootHash } from './merkle.ts';
import { isTreeHeadSignatureValid } from './tree-head.ts';
import type { SignedTreeHead } from './tree-head.ts';

/** Why an entry fails the audit. */
export const AUDIT_REASONS = [
  'undecodable',
  'bad-signature',
  'unknown-signer',
  'not-tracker',
  'unknown-provider',
  'verdict-without-result',
  'verdict-without-quorum',
  'credit-without-verdict',
  'duplicate-credit',
  'checkpoint-without-verdict',
  ...COUNCIL_AUDIT_REASONS,
  ...CLA_AUDIT_REASONS,
] as const;
export type AuditReason = (typeof AUDIT_REASONS)[number];

/** Why the head fails the audit. */
export const HEAD_PROBLEMS = ['head-signature', 'size-mismatch', 'root-mismatch'] as const;
export type HeadProblem = (typeof HEAD_PROBLEMS)[number];

export interface AuditInput {
  /** The leaf inputs 0..n-1 as served (get-entries), in order. */
  leafInputs: readonly Uint8Array[];
  /** The tracker's signed head the leaves are meant to form. */
  head: SignedTreeHead;
  trackerKey: PublicKeyInput;
}

export interface AuditFinding {
  /** leaf index */
  index: number;
  /** the entry's kind, null when it does not decode */
  kind: EntryKind | null;
  reason: AuditReason;
  message: string;
}

export interface AuditReport {
  /** true only when the head and every entry hold */
  ok: boolean;
  treeSize: number;
  entries: number;
  headSignatureValid: boolean;
  sizeMatches: boolean;
  rootMatches: boolean;
  /** MTH of the leaves given */
  computedRoot: Uint8Array;
  /** problems of the head, in the order above */
  headProblems: { problem: HeadProblem; message: string }[];
  /** the first entry that fails, by leaf index */
  firstBad: AuditFinding | undefined;
  /** entries checked (and passed) before the first bad one, by kind */
  counts: Record<EntryKind, number>;
}

const SEP = '\n'; // entry ids never contain it (entry.ts ID_RE), so joined keys are unambiguous
const k3 = (a: string, b: string, c: string): string => a + SEP + b + SEP + c;
const k4 = (a: string, b: string, c: string, d: string): string => a + SEP + b + SEP + c + SEP + d;

class Bookkeeping {
  /** key id -> public key of providers registered so far */
  readonly providers = new Map<string, KeyObject>();
  /** run/unit/provider/result of every result submitted so far */
  readonly results = new Set<string>();
  /** run/unit/result -> distinct providers that submitted it */
  readonly agreeing = new Map<string, Set<string>>();
  /** run/unit/provider/result of valid verdicts */
  readonly validVerdicts = new Set<string>();
  /** run/unit/result of valid verdicts */
  readonly validResults = new Set<string>();
  /** run/unit/provider/result already credited */
  readonly credited = new Set<string>();
  /** run/unit/provider -> the result credited and the amount (a dispute's corrections are checked against it) */
  readonly creditOf = new Map<string, { result: string; amount: number }>();
  /** run/unit -> the amount a valid replica of it was credited */
  readonly unitCredit = new Map<string, number>();
  /** the council: members, proposals, votes, decisions (council-book.ts) */
  readonly council = new CouncilBook();
  /** the contributor licence: the current version (cla-book.ts) */
  readonly cla = new ClaBook();
}

type Check = { reason: AuditReason; message: string } | undefined;

function signatureHolds(entry: LedgerEntry, key: KeyObject): boolean {
  try {
    return verifyBytes(entrySigningBytes(entry), base64Decode(entry.sig), key);
  } catch (e) {
    if (isSwarmError(e)) return false;
    throw e;
  }
}

/** Checks one decoded entry against what came before it, then records it. */
function checkEntry(e: LedgerEntry, book: Bookkeeping, tracker: { id: string; key: KeyObject }): Check {
  // Signer.
  if (e.kind === 'provider-registered') {
    const key = publicKeyFromRaw(registeredPublicKey(e));
    if (!signatureHolds(e, key)) return { reason: 'bad-signature', message: 'the registration is not signed by the key it registers' };
    book.providers.set(keyIdOf(key), key);
    return undefined;
  }
  if (e.kind === 'council-vote') {
    // self-signed, like a registration: the body carries the member's key
    const key = publicKeyFromRaw(registeredPublicKey(e));
    if (!signatureHolds(e, key)) return { reason: 'bad-signature', message: 'the vote is not signed by the key it carries' };
    return book.council.vote(e, key);
  }
  if (e.kind === 'cla-signed') {
    // self-signed, like a registration: the body carries the signer's key
    if (!signatureHolds(e, publicKeyFromRaw(registeredPublicKey(e)))) return { reason: 'bad-signature', message: 'the CLA signature is not signed by the key it carries' };
    return book.cla.sign(e);
  }
  if (e.kind === 'result-submitted') {
    const key = book.providers.get(e.actor);
    if (key === undefined) return { reason: 'unknown-signer', message: `signed by ${e.actor}, which no earlier entry registered` };
    if (!signatureHolds(e, key)) return { reason: 'bad-signature', message: `the signature does not verify with provider ${e.actor}'s key` };
    const b = e.body;
    book.results.add(k4(b.run, b.unit, e.actor, b.result));
    const at = k3(b.run, b.unit, b.result);
    const set = book.agreeing.get(at) ?? new Set<string>();
    set.add(e.actor);
    book.agreeing.set(at, set);
    return undefined;
  }
  if (e.actor !== tracker.id) return { reason: 'not-tracker', message: `a ${e.kind} entry must be signed by the tracker, not ${e.actor}` };
  if (!signatureHolds(e, tracker.key)) return { reason: 'bad-signature', message: "the signature does not verify with the tracker's key" };

  // Bookkeeping.
  switch (e.kind) {
    case 'unit-issued':
      if (!book.providers.has(e.body.provider)) {
        return { reason: 'unknown-provider', message: `unit ${e.body.unit} issued to ${e.body.provider}, which no earlier entry registered` };
      }
      return undefined;
    case 'verdict': {
      const b = e.body;
      if (!book.results.has(k4(b.run, b.unit, b.provider, b.result))) {
        return { reason: 'verdict-without-result', message: `no earlier result ${b.result} from ${b.provider} for ${b.run}/${b.unit}` };
      }
      if (b.outcome === 'valid') {
        const quorum = b.quorum ?? 1;
        const agreeing = book.agreeing.get(k3(b.run, b.unit, b.result))?.size ?? 0;
        if (agreeing < quorum) {
          return {
            reason: 'verdict-without-quorum',
            message: `valid verdict for ${b.run}/${b.unit} needs ${quorum} agreeing results, the log has ${agreeing} earlier`,
          };
        }
        book.validVerdicts.add(k4(b.run, b.unit, b.provider, b.result));
        book.validResults.add(k3(b.run, b.unit, b.result));
      }
      return undefined;
    }
    case 'credit-granted': {
      const b = e.body;
      const key = k4(b.run, b.unit, b.provider, b.result);
      if (!book.validVerdicts.has(key)) {
        return { reason: 'credit-without-verdict', message: `no earlier valid verdict for ${b.provider}'s result ${b.result} on ${b.run}/${b.unit}` };
      }
      if (book.credited.has(key)) {
        return { reason: 'duplicate-credit', message: `${b.provider}'s result on ${b.run}/${b.unit} was credited before` };
      }
      book.credited.add(key);
      book.creditOf.set(k3(b.run, b.unit, b.provider), { result: b.result, amount: b.amount });
      book.unitCredit.set(b.run + SEP + b.unit, b.amount);
      return undefined;
    }
    case 'checkpoint-published': {
      const b = e.body;
      for (const a of b.aggregated) {
        if (!book.validResults.has(k3(b.run, a.unit, a.result))) {
          return {
            reason: 'checkpoint-without-verdict',
            message: `checkpoint ${b.checkpoint} aggregates ${b.run}/${a.unit} result ${a.result}, which no earlier valid verdict backs`,
          };
        }
      }
      return undefined;
    }
    case 'cla-published':
      return book.cla.publish(e, book.council);
    case 'council-formed':
      return book.council.form(e);
    case 'council-proposal':
      return book.council.propose(e);
    case 'council-decision':
      return book.council.enact(e);
    case 'credit-adjusted':
      return book.council.adjustCredit(e, {
        credited: (run, unit, provider) => book.creditOf.get(k3(run, unit, provider)),
        submitted: (run, unit, provider, result) => book.results.has(k4(run, unit, provider, result)),
        unitCredit: (run, unit) => book.unitCredit.get(run + SEP + unit),
      });
    default:
      return undefined;
  }
}

/** Audits a log of leaves against a signed head (see the header). Never throws for bad data: it reports. */
export function auditLog(input: AuditInput): AuditReport {
  const { leafInputs, head, trackerKey } = input;
  const trackerObj = trackerKey instanceof Uint8Array ? publicKeyFromRaw(trackerKey) : trackerKey;
  const tracker = { id: keyIdOf(trackerObj), key: trackerObj };

  let headSignatureValid: boolean;
  try {
    headSignatureValid = isTreeHeadSignatureValid(head, trackerObj);
  } catch (e) {
    if (!isSwarmError(e)) throw e;
    headSignatureValid = false;
  }
  const computedRoot = rootHash(leafInputs.map((l) => leafHash(l)));
  const sizeMatches = leafInputs.length === head.treeSize;
  const rootMatches = sizeMatches && head.rootHash instanceof Uint8Array && bytesEqual(computedRoot, head.rootHash);
  const headProblems: AuditReport['headProblems'] = [];
  if (!headSignatureValid) headProblems.push({ problem: 'head-signature', message: "the tree head's signature does not verify with the tracker's key" });
  if (!sizeMatches) headProblems.push({ problem: 'size-mismatch', message: `the head has tree_size ${head.treeSize}, the log gave ${leafInputs.length} entries` });
  else if (!rootMatches) headProblems.push({ problem: 'root-mismatch', message: "the root recomputed from the entries differs from the head's root" });

  const counts = Object.fromEntries(ENTRY_KINDS.map((k) => [k, 0])) as Record<EntryKind, number>;
  const book = new Bookkeeping();
  let firstBad: AuditFinding | undefined;
  for (let index = 0; index < leafInputs.length; index++) {
    let entry: LedgerEntry;
    try {
      entry = decodeEntry(leafInputs[index]!);
    } catch (e) {
      if (!isSwarmError(e)) throw e;
      firstBad = { index, kind: null, reason: 'undecodable', message: `not a canonical ledger entry: ${e.message}` };
      break;
    }
    const bad = checkEntry(entry, book, tracker);
    if (bad !== undefined) {
      firstBad = { index, kind: entry.kind, ...bad };
      break;
    }
    counts[entry.kind]++;
  }

  return {
    ok: headProblems.length === 0 && firstBad === undefined,
    treeSize: head.treeSize,
    entries: leafInputs.length,
    headSignatureValid,
    sizeMatches,
    rootMatches,
    computedRoot,
    headProblems,
    firstBad,
    counts,
  };
}
