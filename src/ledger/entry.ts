/**
 * Ledger entries: typed, versioned records of who did what, as canonical
 * JSON (RFC 8785) signed with the actor's Ed25519 key.
 *
 *   { v: 1, kind, seq?, time, actor, body, sig }
 *
 *  - v      format version; a new shape gets a new number, never a silent change
 *  - kind   one of ENTRY_KINDS; fixes the shape of `body`
 *  - seq    optional sequence number chosen by the writer (e.g. the leaf index
 *           the tracker expects); signed like everything else
 *  - time   milliseconds since the Unix epoch, supplied by the caller (the
 *           ledger never reads a clock)
 *  - actor  key id (keys.ts) of the signer
 *  - body   the kind's payload, below
 *  - sig    base64 (RFC 4648 §4) Ed25519 signature over
 *           "swarm-ledger-entry-v1\n" ‖ canonicalBytes(entry without sig)
 *
 * The leaf input of the Merkle log (RFC 6962 §2.1) is the canonical bytes of
 * the whole signed entry (`encodeEntry`), so the log commits to the signature
 * too, and anyone holding the leaf can re-check who signed it.
 *
 * Conventions in bodies: hashes and key ids are 64 lower-case hex
 * characters (a SHA-256 digest; keys.ts for ids), ids of runs and units are
 * short ASCII tokens, times and counters are safe integers.
 *
 * Parsing is strict (validate.ts): unknown members, floats, unsafe integers,
 * malformed strings, oversize entries are LEDGER_BAD_ENTRY with
 * details.path; `decodeEntry` also rejects bytes that are not the entry's
 * canonical form (duplicate keys, whitespace, "1.0"), because the log hashes
 * bytes and one entry must have one leaf. Signature failures are
 * LEDGER_BAD_SIGNATURE.
 */
import { canonicalBytes } from '../core/canonical-json.ts';
import type { JsonValue } from '../core/canonical-json.ts';
import { base64Encode, hexEncode, utf8Decode } from '../core/encoding.ts';
import { SwarmError, isSwarmError } from '../core/errors.ts';
import { sha256 } from '../core/sha256.ts';
import { domainSeparated, keyIdOf, publicKeyFromRaw, signBytes, verifyBytes, ED25519_PUBLIC_KEY_BYTES, ED25519_SIGNATURE_BYTES } from './keys.ts';
import type { Ed25519KeyPair, PublicKeyInput } from './keys.ts';
import { ENTRY_KINDS } from './entry-kinds.ts';
import type { EntryKind } from './entry-kinds.ts';
import { leafHash } from './merkle.ts';
import { Validator, element, member } from './validate.ts';
import type { Path } from './validate.ts';

export const ENTRY_VERSION = 1;
/** Domain prefix of entry signatures (keys.ts domainSeparated). */
export const ENTRY_SIGNING_DOMAIN = 'swarm-ledger-entry-v1\n';
/** Largest canonical encoding of one entry, in bytes (a bound for hostile input). */
export const MAX_ENTRY_BYTES = 64 * 1024;

export { ENTRY_KINDS };
export type { EntryKind };

/**
 * What a council decision can do (issue 20; council-actions.ts gives each
 * action's subject and params and checks them).
 */
export const COUNCIL_ACTIONS = [
  'release',
  'ban',
  'unban',
  'dispute',
  'credit-adjust',
  'run-parameters',
  'member-add',
  'member-remove',
  'threshold',
  'cla',
] as const;
export type CouncilAction = (typeof COUNCIL_ACTIONS)[number];

export const COUNCIL_VOTES = ['approve', 'reject'] as const;
export type CouncilVote = (typeof COUNCIL_VOTES)[number];

export const CREDIT_CHANGES = ['grant', 'revoke'] as const;
export type CreditChange = (typeof CREDIT_CHANGES)[number];

export const VERDICT_OUTCOMES = ['valid', 'invalid'] as const;
export type VerdictOutcome = (typeof VERDICT_OUTCOMES)[number];

/** Limits on bodies (with MAX_ENTRY_BYTES over the whole entry). */
export const ENTRY_LIMITS = {
  idLength: 128,
  nameLength: 64,
  reasonLength: 256,
  subjectLength: 256,
  parents: 16,
  aggregated: 1024,
  approvals: 64,
  members: 64,
} as const;

/** 64 lower-case hex characters: a SHA-256 digest. */
export type HashHex = string;
/** 64 lower-case hex characters: keys.ts keyIdOf. */
export type KeyId = string;

/** A provider announces its key; it signs this entry itself (actor = keyIdOf(publicKey)). */
export interface ProviderRegisteredBody {
  /** base64 of the raw 32-byte Ed25519 public key */
  publicKey: string;
  /** display name for the leaderboard */
  name?: string;
}

/** The tracker hands one replica of a work unit to a provider. */
export interface UnitIssuedBody {
  run: string;
  unit: string;
  round: number;
  slot: number;
  /** content address of the unit's inputs (the pure function's arguments) */
  spec: HashHex;
  provider: KeyId;
  /** lease end, ms since the epoch */
  deadline: number;
}

/** A provider reports the hash of its result (SHA-256 of the result's canonical encoding). */
export interface ResultSubmittedBody {
  run: string;
  unit: string;
  result: HashHex;
}

/** The tracker's judgement of one submitted result; `reason` is present exactly when invalid. */
export interface VerdictBody {
  run: string;
  unit: string;
  provider: KeyId;
  result: HashHex;
  outcome: VerdictOutcome;
  reason?: string;
  /**
   * How many agreeing results (same hash, distinct providers) the tracker
   * required before judging; >= 1. The auditor (audit.ts) checks that a
   * valid verdict is backed by at least this many earlier result-submitted
   * entries. Absent in entries written before it existed: read as 1.
   */
  quorum?: number;
}

/** Credit for a validated result; the auditor checks a valid verdict backs it. */
export interface CreditGrantedBody {
  run: string;
  unit: string;
  provider: KeyId;
  result: HashHex;
  /** positive integer credit units (non-financial) */
  amount: number;
}

/** One aggregated unit result of a checkpoint. */
export interface AggregatedUnit {
  unit: string;
  result: HashHex;
}

/** A new global checkpoint θ_{r+1}: what it was made from, so it can be replayed. */
export interface CheckpointPublishedBody {
  run: string;
  round: number;
  /** content address of the checkpoint blob */
  checkpoint: HashHex;
  /** checkpoints it was computed from (θ_r, optimizer state, ...); distinct */
  parents: HashHex[];
  /** the unit results aggregated into it; distinct units */
  aggregated: AggregatedUnit[];
}

/** One council member's signature on a decision (council.ts). */
export interface CouncilApproval {
  key: KeyId;
  /** base64 Ed25519 signature over council.ts councilDecisionBytes */
  sig: string;
}

/**
 * An M-of-N council decision; `approvals.length >= threshold` (membership is
 * checked by council.ts). As an entry it is the ENACTED record of a proposal:
 * the proposal's fields and the approvals its members' votes carried.
 */
export interface CouncilDecisionBody {
  decision: string;
  action: CouncilAction;
  subject: string;
  params?: { [key: string]: JsonValue };
  /** approvals needed: the council's threshold when the proposal was opened */
  threshold: number;
  /** last moment (ms since the epoch) a vote or the enactment may happen; absent in decisions made outside a tracker's proposal flow */
  expires?: number;
  approvals: CouncilApproval[];
}

/** The genesis council (issue 20): who may vote, and how many approvals a decision needs; tracker-signed, once, before any other council entry. */
export interface CouncilFormedBody {
  /** member key ids, distinct */
  members: KeyId[];
  /** 1 <= threshold <= members.length */
  threshold: number;
}

/** A proposal opened by a member (the request's signer); tracker-signed. `expires` is required here. */
export interface CouncilProposalBody extends CouncilProposal {
  expires: number;
  /** the member that proposed it */
  proposer: KeyId;
}

/**
 * A member's vote, signed by the member itself (actor = keyIdOf(publicKey),
 * as a registration is). An approval also carries the member's council.ts
 * signature over the proposal, which the enacted decision then lists.
 */
export interface CouncilVoteBody {
  decision: string;
  vote: CouncilVote;
  /** base64 of the member's raw 32-byte Ed25519 public key (the entry's signer) */
  publicKey: string;
  /** present exactly when vote is approve: council.ts approveCouncilDecision's sig */
  approval?: string;
}

/** Credit granted or revoked by an enacted decision (credit-adjust or dispute); tracker-signed. */
export interface CreditAdjustedBody {
  provider: KeyId;
  change: CreditChange;
  /** positive integer credit units */
  amount: number;
  /** the enacted decision that made the change */
  decision: string;
  reason?: string;
  /** the unit a dispute re-judged (both or neither) */
  run?: string;
  unit?: string;
}

/** What council members sign: a decision without its approvals (council.ts). */
export type CouncilProposal = Omit<CouncilDecisionBody, 'approvals'>;

/**
 * A contributor licence version made current (issue 20; CLA.md): its id and
 * the SHA-256 of its text's bytes; tracker-signed. The first one a tracker
 * logs (given at its start) names no decision; every later one names the
 * enacted `cla` council decision that made it current.
 */
export interface ClaPublishedBody {
  version: string;
  sha256: HashHex;
  decision?: string;
}

/**
 * An identity's signature of a CLA version, signed by the identity itself
 * (actor = keyIdOf(publicKey), as a registration is): it names the version
 * and the hash of the text it agrees to.
 */
export interface ClaSignedBody {
  version: string;
  sha256: HashHex;
  /** base64 of the signer's raw 32-byte Ed25519 public key */
  publicKey: string;
}

export interface EntryBodies {
  'provider-registered': ProviderRegisteredBody;
  'unit-issued': UnitIssuedBody;
  'result-submitted': ResultSubmittedBody;
  verdict: VerdictBody;
  'credit-granted': CreditGrantedBody;
  'checkpoint-published': CheckpointPublishedBody;
  'council-decision': CouncilDecisionBody;
  'council-formed': CouncilFormedBody;
  'council-proposal': CouncilProposalBody;
  'council-vote': CouncilVoteBody;
  'credit-adjusted': CreditAdjustedBody;
  'cla-published': ClaPublishedBody;
  'cla-signed': ClaSignedBody;
}

/** An entry before signing; a union over kinds, so `kind` narrows `body`. */
export type UnsignedEntry<K extends EntryKind = EntryKind> = K extends EntryKind
  ? { v: 1; kind: K; seq?: number; time: number; actor: KeyId; body: EntryBodies[K] }
  : never;

/** A signed ledger entry. */
export type LedgerEntry<K extends EntryKind = EntryKind> = K extends EntryKind ? UnsignedEntry<K> & { sig: string } : never;

/** What a caller supplies to createEntry; v and actor come from the format and the key. */
export interface EntryDraft<K extends EntryKind = EntryKind> {
  kind: K;
  time: number;
  body: EntryBodies[K];
  seq?: number;
}

// ---------------------------------------------------------------------------
// Parsing

const V: Validator = new Validator('LEDGER_BAD_ENTRY');

/** Ids of runs, units, decisions: ASCII letters, digits and . _ : / -, starting with a letter or digit. */
const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._:/-]*$/;
/** Free text without control characters. */
const TEXT_RE = /^[^\u0000-\u001f\u007f]*$/;

function id(value: unknown, path: Path): string {
  return V.string(value, path, ENTRY_LIMITS.idLength, ID_RE);
}

function text(value: unknown, path: Path, max: number): string {
  return V.string(value, path, max, TEXT_RE);
}

function distinct(values: readonly string[], path: Path): void {
  const seen = new Set<string>();
  values.forEach((x, i) => {
    if (seen.has(x)) V.fail(element(path, i), 'duplicate');
    seen.add(x);
  });
}

/** Copy of a JSON object value, checked to be canonical-JSON data. */
function jsonObject(value: unknown, path: Path): { [key: string]: JsonValue } {
  if (typeof value !== 'object' || value === null) V.fail(path, 'expected an object');
  V.object(value, path, [], Object.keys(value));
  try {
    canonicalBytes(value);
  } catch (e) {
    const inner = isSwarmError(e) && typeof e.details?.path === 'string' ? e.details.path.slice(1) : '';
    V.fail(path + inner, `not JSON data (${isSwarmError(e) ? e.code : 'error'})`);
  }
  return JSON.parse(JSON.stringify(value)) as { [key: string]: JsonValue };
}

function parseProposal(value: unknown, path: Path): CouncilProposal {
  const o = V.object(value, path, ['decision', 'action', 'subject', 'threshold'], ['params', 'expires']);
  const proposal: CouncilProposal = {
    decision: id(o.decision, member(path, 'decision')),
    action: V.literal(o.action, member(path, 'action'), COUNCIL_ACTIONS),
    subject: text(o.subject, member(path, 'subject'), ENTRY_LIMITS.subjectLength),
    threshold: V.uint(o.threshold, member(path, 'threshold'), 1),
  };
  if (o.params !== undefined) proposal.params = jsonObject(o.params, member(path, 'params'));
  if (o.expires !== undefined) proposal.expires = V.uint(o.expires, member(path, 'expires'));
  return proposal;
}

/** A base64 raw Ed25519 public key (of a registration or a vote). */
function publicKeyField(value: unknown, path: Path): string {
  const raw = V.base64(value, path, ED25519_PUBLIC_KEY_BYTES);
  try {
    publicKeyFromRaw(raw);
  } catch {
    V.fail(path, 'not an Ed25519 public key');
  }
  return value as string;
}

/**
 * Validates what council members sign (a council-decision body without its
 * approvals; council.ts) and returns a normalized copy. LEDGER_BAD_ENTRY.
 */
export function parseCouncilProposal(value: unknown): CouncilProposal {
  return parseProposal(value, '$');
}

type BodyParser<K extends EntryKind> = (value: unknown, path: Path) => EntryBodies[K];

const BODY_PARSERS: { [K in EntryKind]: BodyParser<K> } = {
  'provider-registered': (value, path) => {
    const o = V.object(value, path, ['publicKey'], ['name']);
    const body: ProviderRegisteredBody = { publicKey: publicKeyField(o.publicKey, member(path, 'publicKey')) };
    if (o.name !== undefined) body.name = text(o.name, member(path, 'name'), ENTRY_LIMITS.nameLength);
    return body;
  },
  'unit-issued': (value, path) => {
    const o = V.object(value, path, ['run', 'unit', 'round', 'slot', 'spec', 'provider', 'deadline']);
    return {
      run: id(o.run, member(path, 'run')),
      unit: id(o.unit, member(path, 'unit')),
      round: V.uint(o.round, member(path, 'round')),
      slot: V.uint(o.slot, member(path, 'slot')),
      spec: V.hex64(o.spec, member(path, 'spec')),
      provider: V.hex64(o.provider, member(path, 'provider')),
      deadline: V.uint(o.deadline, member(path, 'deadline')),
    };
  },
  'result-submitted': (value, path) => {
    const o = V.object(value, path, ['run', 'unit', 'result']);
    return {
      run: id(o.run, member(path, 'run')),
      unit: id(o.unit, member(path, 'unit')),
      result: V.hex64(o.result, member(path, 'result')),
    };
  },
  verdict: (value, path) => {
    const o = V.object(value, path, ['run', 'unit', 'provider', 'result', 'outcome'], ['reason', 'quorum']);
    const body: VerdictBody = {
      run: id(o.run, member(path, 'run')),
      unit: id(o.unit, member(path, 'unit')),
      provider: V.hex64(o.provider, member(path, 'provider')),
      result: V.hex64(o.result, member(path, 'result')),
      outcome: V.literal(o.outcome, member(path, 'outcome'), VERDICT_OUTCOMES),
    };
    // One meaning per entry: an invalid verdict says why, a valid one has nothing to explain.
    if (body.outcome === 'invalid') {
      if (o.reason === undefined) V.fail(member(path, 'reason'), 'an invalid verdict needs a reason');
      body.reason = text(o.reason, member(path, 'reason'), ENTRY_LIMITS.reasonLength);
    } else if (o.reason !== undefined) {
      V.fail(member(path, 'reason'), 'a valid verdict has no reason');
    }
    if (o.quorum !== undefined) body.quorum = V.uint(o.quorum, member(path, 'quorum'), 1);
    return body;
  },
  'credit-granted': (value, path) => {
    const o = V.object(value, path, ['run', 'unit', 'provider', 'result', 'amount']);
    return {
      run: id(o.run, member(path, 'run')),
      unit: id(o.unit, member(path, 'unit')),
      provider: V.hex64(o.provider, member(path, 'provider')),
      result: V.hex64(o.result, member(path, 'result')),
      amount: V.uint(o.amount, member(path, 'amount'), 1),
    };
  },
  'checkpoint-published': (value, path) => {
    const o = V.object(value, path, ['run', 'round', 'checkpoint', 'parents', 'aggregated']);
    const parentsPath = member(path, 'parents');
    const parents = V.array(o.parents, parentsPath, ENTRY_LIMITS.parents).map((p, i) => V.hex64(p, element(parentsPath, i)));
    distinct(parents, parentsPath);
    const aggPath = member(path, 'aggregated');
    const aggregated = V.array(o.aggregated, aggPath, ENTRY_LIMITS.aggregated).map((a, i) => {
      const p = element(aggPath, i);
      const ao = V.object(a, p, ['unit', 'result']);
      return { unit: id(ao.unit, member(p, 'unit')), result: V.hex64(ao.result, member(p, 'result')) };
    });
    distinct(
      aggregated.map((a) => a.unit),
      aggPath,
    );
    return {
      run: id(o.run, member(path, 'run')),
      round: V.uint(o.round, member(path, 'round')),
      checkpoint: V.hex64(o.checkpoint, member(path, 'checkpoint')),
      parents,
      aggregated,
    };
  },
  'council-decision': (value, path) => {
    const o = V.object(value, path, ['decision', 'action', 'subject', 'threshold', 'approvals'], ['params', 'expires']);
    const { approvals: _approvals, ...rest } = o;
    const proposal = parseProposal(rest, path);
    const apPath = member(path, 'approvals');
    const approvals = V.array(o.approvals, apPath, ENTRY_LIMITS.approvals).map((a, i) => {
      const p = element(apPath, i);
      const ao = V.object(a, p, ['key', 'sig']);
      const key = V.hex64(ao.key, member(p, 'key'));
      V.base64(ao.sig, member(p, 'sig'), ED25519_SIGNATURE_BYTES);
      return { key, sig: ao.sig as string };
    });
    distinct(
      approvals.map((a) => a.key),
      apPath,
    );
    if (approvals.length < proposal.threshold) V.fail(apPath, `fewer approvals than the threshold ${proposal.threshold}`);
    return { ...proposal, approvals };
  },
  'council-formed': (value, path) => {
    const o = V.object(value, path, ['members', 'threshold']);
    const mPath = member(path, 'members');
    const members = V.array(o.members, mPath, ENTRY_LIMITS.members).map((k, i) => V.hex64(k, element(mPath, i)));
    if (members.length === 0) V.fail(mPath, 'a council has at least one member');
    distinct(members, mPath);
    const threshold = V.uint(o.threshold, member(path, 'threshold'), 1);
    if (threshold > members.length) V.fail(member(path, 'threshold'), `more than the ${members.length} members`);
    return { members, threshold };
  },
  'council-proposal': (value, path) => {
    const o = V.object(value, path, ['decision', 'action', 'subject', 'threshold', 'expires', 'proposer'], ['params']);
    const { proposer, ...rest } = o;
    const proposal = parseProposal(rest, path);
    return { ...proposal, expires: proposal.expires!, proposer: V.hex64(proposer, member(path, 'proposer')) };
  },
  'council-vote': (value, path) => {
    const o = V.object(value, path, ['decision', 'vote', 'publicKey'], ['approval']);
    const body: CouncilVoteBody = {
      decision: id(o.decision, member(path, 'decision')),
      vote: V.literal(o.vote, member(path, 'vote'), COUNCIL_VOTES),
      publicKey: publicKeyField(o.publicKey, member(path, 'publicKey')),
    };
    // One meaning per entry: an approval carries the member's signature of the proposal, a rejection has none.
    if (body.vote === 'approve') {
      if (o.approval === undefined) V.fail(member(path, 'approval'), 'an approval carries its signature of the proposal');
      V.base64(o.approval, member(path, 'approval'), ED25519_SIGNATURE_BYTES);
      body.approval = o.approval as string;
    } else if (o.approval !== undefined) {
      V.fail(member(path, 'approval'), 'a rejection carries no approval');
    }
    return body;
  },
  'credit-adjusted': (value, path) => {
    const o = V.object(value, path, ['provider', 'change', 'amount', 'decision'], ['reason', 'run', 'unit']);
    const body: CreditAdjustedBody = {
      provider: V.hex64(o.provider, member(path, 'provider')),
      change: V.literal(o.change, member(path, 'change'), CREDIT_CHANGES),
      amount: V.uint(o.amount, member(path, 'amount'), 1),
      decision: id(o.decision, member(path, 'decision')),
    };
    if (o.reason !== undefined) body.reason = text(o.reason, member(path, 'reason'), ENTRY_LIMITS.reasonLength);
    if ((o.run === undefined) !== (o.unit === undefined)) V.fail(member(path, o.run === undefined ? 'run' : 'unit'), 'a run and a unit, or neither');
    if (o.run !== undefined) {
      body.run = id(o.run, member(path, 'run'));
      body.unit = id(o.unit, member(path, 'unit'));
    }
    return body;
  },
  'cla-published': (value, path) => {
    const o = V.object(value, path, ['version', 'sha256'], ['decision']);
    const body: ClaPublishedBody = { version: id(o.version, member(path, 'version')), sha256: V.hex64(o.sha256, member(path, 'sha256')) };
    if (o.decision !== undefined) body.decision = id(o.decision, member(path, 'decision'));
    return body;
  },
  'cla-signed': (value, path) => {
    const o = V.object(value, path, ['version', 'sha256', 'publicKey']);
    return {
      version: id(o.version, member(path, 'version')),
      sha256: V.hex64(o.sha256, member(path, 'sha256')),
      publicKey: publicKeyField(o.publicKey, member(path, 'publicKey')),
    };
  },
};

function parseBody<K extends EntryKind>(kind: K, value: unknown, path: Path): EntryBodies[K] {
  return (BODY_PARSERS[kind] as BodyParser<K>)(value, path);
}

function parseEnvelope(value: unknown, withSig: boolean): LedgerEntry | UnsignedEntry {
  const o = V.object(value, '$', withSig ? ['v', 'kind', 'time', 'actor', 'body', 'sig'] : ['v', 'kind', 'time', 'actor', 'body'], ['seq']);
  if (o.v !== ENTRY_VERSION) V.fail(member('$', 'v'), `unsupported version (expected ${ENTRY_VERSION})`);
  const kind = V.literal(o.kind, member('$', 'kind'), ENTRY_KINDS);
  const time = V.uint(o.time, member('$', 'time'));
  const actor = V.hex64(o.actor, member('$', 'actor'));
  const body = parseBody(kind, o.body, member('$', 'body'));
  if (kind === 'provider-registered' || kind === 'council-vote' || kind === 'cla-signed') {
    // Self-signed: a registration (or a member's vote, or a CLA signature) is
    // signed by the key it carries, which proves the signer holds that key.
    const carried = keyIdOf(publicKeyRawOf(body as ProviderRegisteredBody | CouncilVoteBody | ClaSignedBody));
    if (actor !== carried) V.fail(member('$', 'actor'), `a ${kind} entry is signed by the key it carries (actor must be its key id)`);
  }
  const entry: Record<string, unknown> = { v: ENTRY_VERSION, kind };
  if (o.seq !== undefined) entry.seq = V.uint(o.seq, member('$', 'seq'));
  entry.time = time;
  entry.actor = actor;
  entry.body = body;
  if (withSig) {
    V.base64(o.sig, member('$', 'sig'), ED25519_SIGNATURE_BYTES);
    entry.sig = o.sig;
  }
  const size = canonicalBytes(entry).length;
  if (size > MAX_ENTRY_BYTES) V.fail('$', `canonical encoding is ${size} bytes, more than ${MAX_ENTRY_BYTES}`);
  return entry as LedgerEntry | UnsignedEntry;
}

/**
 * Validates a signed entry given as a JSON value (e.g. from JSON.parse) and
 * returns a normalized copy. Checks shape only; verifyEntrySignature checks
 * the signature. Throws LEDGER_BAD_ENTRY with details.path.
 */
export function parseEntry(value: unknown): LedgerEntry {
  return parseEnvelope(value, true) as LedgerEntry;
}

/** Like parseEntry for an entry without `sig` (before signing). */
export function parseUnsignedEntry(value: unknown): UnsignedEntry {
  return parseEnvelope(value, false) as UnsignedEntry;
}

/** The leaf input of an entry: the canonical JSON bytes (RFC 8785) of the whole signed entry. */
export function encodeEntry(entry: LedgerEntry): Uint8Array {
  return canonicalBytes(parseEntry(entry));
}

/**
 * Parses a leaf input back into an entry. Rejects (LEDGER_BAD_ENTRY) bytes
 * over MAX_ENTRY_BYTES, invalid UTF-8, invalid JSON, an invalid entry, and
 * bytes that are not exactly the entry's canonical encoding.
 */
export function decodeEntry(bytes: Uint8Array): LedgerEntry {
  if (!(bytes instanceof Uint8Array)) V.fail('$', 'expected bytes');
  if (bytes.length > MAX_ENTRY_BYTES) V.fail('$', `more than ${MAX_ENTRY_BYTES} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(utf8Decode(bytes));
  } catch {
    V.fail('$', 'not UTF-8 JSON text');
  }
  const entry = parseEntry(value);
  const canonical = canonicalBytes(entry);
  if (canonical.length !== bytes.length || !canonical.every((b, i) => b === bytes[i])) {
    V.fail('$', 'not the canonical encoding (RFC 8785) of the entry');
  }
  return entry;
}

/** The leaf hash of an entry in the log (RFC 6962 §2.1): SHA-256(0x00 ‖ encodeEntry(entry)). */
export function entryLeafHash(entry: LedgerEntry): Uint8Array {
  return leafHash(encodeEntry(entry));
}

/** SHA-256 of the leaf input, hex: a handy content id for an entry (not the leaf hash). */
export function entryId(entry: LedgerEntry): string {
  return hexEncode(sha256(encodeEntry(entry)));
}

// ---------------------------------------------------------------------------
// Signing

/** The bytes an entry's signature covers: domain ‖ canonical bytes of the entry without `sig`. */
export function entrySigningBytes(entry: UnsignedEntry | LedgerEntry): Uint8Array {
  const { sig: _sig, ...unsigned } = entry as LedgerEntry;
  return domainSeparated(ENTRY_SIGNING_DOMAIN, canonicalBytes(parseUnsignedEntry(unsigned)));
}

/** Builds, validates and signs an entry; the actor is the signer's key id. */
export function createEntry<K extends EntryKind>(draft: EntryDraft<K>, signer: Ed25519KeyPair): LedgerEntry<K> {
  const unsigned = parseUnsignedEntry({
    v: ENTRY_VERSION,
    kind: draft.kind,
    seq: draft.seq,
    time: draft.time,
    actor: signer.keyId,
    body: draft.body,
  });
  const sig = base64Encode(signBytes(entrySigningBytes(unsigned), signer));
  return parseEntry({ ...unsigned, sig }) as LedgerEntry<K>;
}

/**
 * Checks that `entry` was signed by `publicKey` and that the key is the
 * entry's actor. Throws LEDGER_BAD_SIGNATURE (details.reason 'actor-mismatch'
 * or 'invalid-signature'), or LEDGER_BAD_ENTRY if the entry is malformed.
 */
export function verifyEntrySignature(entry: LedgerEntry, publicKey: PublicKeyInput): void {
  const parsed = parseEntry(entry);
  if (keyIdOf(publicKey) !== parsed.actor) {
    throw new SwarmError('LEDGER_BAD_SIGNATURE', 'the key is not the entry actor', { reason: 'actor-mismatch', actor: parsed.actor });
  }
  const sig = V.base64(parsed.sig, member('$', 'sig'), ED25519_SIGNATURE_BYTES);
  if (!verifyBytes(entrySigningBytes(parsed), sig, publicKey)) {
    throw new SwarmError('LEDGER_BAD_SIGNATURE', 'entry signature does not verify', { reason: 'invalid-signature', actor: parsed.actor });
  }
}

/** True when verifyEntrySignature would not throw LEDGER_BAD_SIGNATURE. */
export function isEntrySignatureValid(entry: LedgerEntry, publicKey: PublicKeyInput): boolean {
  try {
    verifyEntrySignature(entry, publicKey);
    return true;
  } catch (e) {
    if (isSwarmError(e, 'LEDGER_BAD_SIGNATURE')) return false;
    throw e;
  }
}

function publicKeyRawOf(body: ProviderRegisteredBody | CouncilVoteBody | ClaSignedBody): Uint8Array {
  return V.base64(body.publicKey, '$["body"]["publicKey"]', ED25519_PUBLIC_KEY_BYTES);
}

/** Kinds signed by the key their body carries (see parseEnvelope). */
export type SelfSignedKind = 'provider-registered' | 'council-vote' | 'cla-signed';

/** The raw public key a self-signed entry (provider-registered, council-vote, cla-signed) carries: its own signing key. */
export function registeredPublicKey(entry: LedgerEntry<SelfSignedKind>): Uint8Array {
  if (entry.kind !== 'provider-registered' && entry.kind !== 'council-vote' && entry.kind !== 'cla-signed') {
    V.fail(member('$', 'kind'), 'not a self-signed entry (provider-registered, council-vote or cla-signed)');
  }
  return publicKeyRawOf(entry.body);
}
