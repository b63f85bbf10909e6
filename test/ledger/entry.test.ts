import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { base64Encode, hexEncode, utf8Decode, utf8Encode } from '../../src/core/encoding.ts';
import { isSwarmError } from '../../src/core/errors.ts';
import { sha256Hex } from '../../src/core/sha256.ts';
import { approveCouncilDecision } from '../../src/ledger/council.ts';
import {
  ENTRY_KINDS,
  MAX_ENTRY_BYTES,
  createEntry,
  decodeEntry,
  encodeEntry,
  entryId,
  entryLeafHash,
  entrySigningBytes,
  isEntrySignatureValid,
  parseEntry,
  parseUnsignedEntry,
  registeredPublicKey,
  verifyEntrySignature,
} from '../../src/ledger/entry.ts';
import type { EntryDraft, EntryKind, LedgerEntry } from '../../src/ledger/entry.ts';
import { signBytes } from '../../src/ledger/keys.ts';
import { leafHash } from '../../src/ledger/merkle.ts';
import { codeOf, flipBit, testKey } from './helpers.ts';

const tracker = testKey(1);
const alice = testKey(2);
const bob = testKey(3);
const council = [testKey(10), testKey(11), testKey(12)];
const H = (s: string): string => sha256Hex(s);

/** One valid draft per kind, and who signs it. */
function samples(): { draft: EntryDraft; signer: typeof tracker }[] {
  const proposal = { decision: 'd-1', action: 'ban' as const, subject: bob.keyId, params: { note: 'spam', days: 30 }, threshold: 2 };
  const added = { decision: 'd-2', action: 'member-add' as const, subject: alice.keyId, threshold: 2, expires: 1_000 };
  return [
    { signer: alice, draft: { kind: 'provider-registered', time: 1, body: { publicKey: base64Encode(alice.publicKeyRaw), name: 'alice' } } },
    {
      signer: tracker,
      draft: { kind: 'unit-issued', time: 2, seq: 1, body: { run: 'run-1', unit: 'r0/s3', round: 0, slot: 3, spec: H('spec'), provider: alice.keyId, deadline: 60_002 } },
    },
    { signer: alice, draft: { kind: 'result-submitted', time: 3, body: { run: 'run-1', unit: 'r0/s3', result: H('delta') } } },
    {
      signer: tracker,
      draft: { kind: 'verdict', time: 4, body: { run: 'run-1', unit: 'r0/s3', provider: alice.keyId, result: H('delta'), outcome: 'valid' } },
    },
    {
      signer: tracker,
      draft: {
        kind: 'verdict',
        time: 5,
        body: { run: 'run-1', unit: 'r0/s3', provider: bob.keyId, result: H('bad'), outcome: 'invalid', reason: 'RESULT_HASH_MISMATCH: 2 of 3 replicas disagree' },
      },
    },
    {
      signer: tracker,
      draft: { kind: 'credit-granted', time: 6, body: { run: 'run-1', unit: 'r0/s3', provider: alice.keyId, result: H('delta'), amount: 10 } },
    },
    {
      signer: tracker,
      draft: {
        kind: 'checkpoint-published',
        time: 7,
        body: { run: 'run-1', round: 1, checkpoint: H('theta1'), parents: [H('theta0'), H('opt0')], aggregated: [{ unit: 'r0/s3', result: H('delta') }] },
      },
    },
    {
      signer: tracker,
      draft: {
        kind: 'council-decision',
        time: 8,
        body: { ...proposal, approvals: [approveCouncilDecision(proposal, council[0]!), approveCouncilDecision(proposal, council[2]!)] },
      },
    },
    // governance (issue 20)
    { signer: tracker, draft: { kind: 'council-formed', time: 9, body: { members: council.map((k) => k.keyId), threshold: 2 } } },
    { signer: tracker, draft: { kind: 'council-proposal', time: 10, body: { ...added, proposer: council[0]!.keyId } } },
    {
      // a vote is signed by the member itself, who carries its key
      signer: council[1]!,
      draft: { kind: 'council-vote', time: 11, body: { decision: 'd-2', vote: 'approve', publicKey: base64Encode(council[1]!.publicKeyRaw), approval: approveCouncilDecision(added, council[1]!).sig } },
    },
    { signer: tracker, draft: { kind: 'credit-adjusted', time: 12, body: { provider: alice.keyId, change: 'revoke', amount: 3, decision: 'd-1', reason: 'a dispute found the result wrong' } } },
    // the contributor licence: a version made current by a decision, and a provider's own signature of it
    { signer: tracker, draft: { kind: 'cla-published', time: 13, body: { version: 'cla-v2', sha256: H('CLA v2'), decision: 'd-3' } } },
    { signer: alice, draft: { kind: 'cla-signed', time: 14, body: { version: 'cla-v2', sha256: H('CLA v2'), publicKey: base64Encode(alice.publicKeyRaw) } } },
  ];
}

const signed = samples().map(({ draft, signer }) => ({ entry: createEntry(draft, signer), signer }));

/** A deep copy as plain JSON, for mutation. */
function json(e: LedgerEntry): Record<string, any> {
  return JSON.parse(JSON.stringify(e));
}

/** details.path of the LEDGER_BAD_ENTRY thrown by f. */
function badPath(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (isSwarmError(e, 'LEDGER_BAD_ENTRY')) return e.details?.path as string;
    throw e;
  }
  return undefined;
}

describe('golden entries (cross-checked by test/ledger/entry-reference.py: Python json + cryptography Ed25519)', () => {
  it('result-submitted', () => {
    const e = createEntry(
      { kind: 'result-submitted', seq: 7, time: 1700000000000, body: { run: 'run-1', unit: 'r3/s2', result: sha256Hex('delta') } },
      testKey(1),
    );
    const leaf =
      '{"actor":"34750f98bd59fcfc946da45aaabe933be154a4b5094e1c4abf42866505f3c97e","body":{"result":"4f4a9410ffcdf895c4adb880659e9b5c0dd1f23a30790684340b3eaacb045398","run":"run-1","unit":"r3/s2"},"kind":"result-submitted","seq":7,"sig":"DrtOWFsG1+merqu58qqzOyiNz+qDR4vA9KgLOJgwV3rVlwOL+xe7rpDXbxjkdgY/UTtoCkI8thvDSQMfp2rFCg==","time":1700000000000,"v":1}';
    expect(testKey(1).keyId).toBe('34750f98bd59fcfc946da45aaabe933be154a4b5094e1c4abf42866505f3c97e');
    expect(utf8Decode(encodeEntry(e))).toBe(leaf);
    expect(hexEncode(entryLeafHash(e))).toBe('de7d3fdf78170b3215d41563c8db734509812ee7a54402ed96bb91081f83df24');
    expect(decodeEntry(utf8Encode(leaf))).toEqual(e);
    verifyEntrySignature(decodeEntry(utf8Encode(leaf)), testKey(1).publicKeyRaw);
  });

  it('provider-registered', () => {
    const k = testKey(2);
    const e = createEntry({ kind: 'provider-registered', time: 1700000000001, body: { publicKey: base64Encode(k.publicKeyRaw), name: 'alice' } }, k);
    expect(utf8Decode(encodeEntry(e))).toBe(
      '{"actor":"6a3803d5f059902a1c6dafbc9ba4729212f7caac08634cc3ae76b27529f03827","body":{"name":"alice","publicKey":"gTl3Dqh9F19Wo1Rmw0x+zMuNipG07jeiXfYPW4/Js5Q="},"kind":"provider-registered","sig":"aY54uA0v3sfeI9PR+Br1quVyEbxgu050jnhNtS3zn8Al/XIMRyJNoiwvdrRj52XkTa0l5uyGwv4WGWzhX92HDA==","time":1700000000001,"v":1}',
    );
    expect(hexEncode(entryLeafHash(e))).toBe('b9a1bcc0f6fa99fb6f637731c1de0672cb553e3be67e6c6258cd8f8ed6ee0ce8');
  });
});

describe('entries of every kind', () => {
  it('cover all kinds', () => {
    expect(new Set(signed.map((s) => s.entry.kind))).toEqual(new Set(ENTRY_KINDS));
  });

  it('round-trip through JSON, canonical bytes and parse; signatures verify', () => {
    for (const { entry, signer } of signed) {
      expect(entry.v).toBe(1);
      expect(entry.actor).toBe(signer.keyId);
      expect(parseEntry(JSON.parse(JSON.stringify(entry)))).toEqual(entry);
      const bytes = encodeEntry(entry);
      expect(decodeEntry(bytes)).toEqual(entry);
      expect(entryLeafHash(entry)).toEqual(leafHash(bytes));
      expect(entryId(entry)).toBe(sha256Hex(bytes));
      verifyEntrySignature(entry, signer.publicKeyRaw);
      verifyEntrySignature(entry, signer.publicKey);
      expect(isEntrySignatureValid(entry, signer.publicKey)).toBe(true);
    }
  });

  it('the signature covers the domain-separated canonical entry without sig', () => {
    const { entry } = signed[2]!;
    const { sig: _sig, ...unsigned } = entry;
    const bytes = entrySigningBytes(entry);
    expect(utf8Decode(bytes)).toBe('swarm-ledger-entry-v1\n' + JSON.stringify(sortDeep(unsigned)));
    expect(entrySigningBytes(parseUnsignedEntry(unsigned))).toEqual(bytes);
  });

  it('a provider-registered entry carries its own verifying key', () => {
    const e = signed[0]!.entry;
    if (e.kind !== 'provider-registered') throw new Error('sample order');
    const key = registeredPublicKey(e);
    expect(key).toEqual(alice.publicKeyRaw);
    verifyEntrySignature(e, key);
    // Registering someone else's key is malformed: actor must be the key's id.
    const forged = json(e);
    forged.body.publicKey = base64Encode(bob.publicKeyRaw);
    expect(badPath(() => parseEntry(forged))).toBe('$["actor"]');
    expect(badPath(() => createEntry({ kind: 'provider-registered', time: 1, body: { publicKey: base64Encode(bob.publicKeyRaw) } }, alice))).toBe('$["actor"]');
  });

  it('a cla-signed entry carries its signer\'s key too, and cannot sign for another', () => {
    const e = signed.find((x) => x.entry.kind === 'cla-signed')!.entry;
    if (e.kind !== 'cla-signed') throw new Error('sample');
    expect(registeredPublicKey(e)).toEqual(alice.publicKeyRaw);
    verifyEntrySignature(e, registeredPublicKey(e));
    expect(badPath(() => createEntry({ kind: 'cla-signed', time: 1, body: { version: 'cla-v1', sha256: H('x'), publicKey: base64Encode(bob.publicKeyRaw) } }, alice))).toBe('$["actor"]');
    // a tracker-signed kind has no carried key
    const published = signed.find((x) => x.entry.kind === 'cla-published')!.entry;
    expect(badPath(() => registeredPublicKey(published as never))).toBe('$["kind"]');
  });
});

describe('signature checks (LEDGER_BAD_SIGNATURE)', () => {
  it('the wrong key is an actor mismatch', () => {
    const { entry } = signed[1]!;
    expect(codeOf(() => verifyEntrySignature(entry, bob.publicKeyRaw))).toBe('LEDGER_BAD_SIGNATURE');
    expect(isEntrySignatureValid(entry, bob.publicKeyRaw)).toBe(false);
  });

  it('any change to a signed field breaks the signature', () => {
    const edits: ((e: Record<string, any>) => void)[] = [
      (e) => (e.time += 1),
      (e) => (e.seq = (e.seq ?? 0) + 1),
      (e) => delete e.seq,
      (e) => (e.body.run = 'run-2'),
      (e) => (e.body.unit = e.body.unit + 'x'),
      // only kinds that carry a result (a result on unit-issued would be malformed, not mis-signed)
      (e) => {
        if ('result' in e.body) e.body.result = H('other');
      },
    ];
    // every edit that changes the entry (deleting seq changes only the unit-issued entry, which has one)
    const cases = signed.slice(1, 6).flatMap(({ entry, signer }) =>
      edits.map((edit) => {
        const e = json(entry);
        edit(e);
        return { entry, signer, e };
      }),
    ).filter(({ entry, e }) => JSON.stringify(e) !== JSON.stringify(entry));
    expect(cases).toHaveLength(5 * edits.length - 4 - 1); // 4 entries without seq, 1 without result
    for (const { entry, signer, e } of cases) {
      // still well-formed (parseEntry would throw LEDGER_BAD_ENTRY), and the signature no longer matches
      expect(codeOf(() => verifyEntrySignature(parseEntry(e), signer.publicKeyRaw)), `${entry.kind}: ${JSON.stringify(e)}`).toBe('LEDGER_BAD_SIGNATURE');
    }
  });

  it('a flipped bit in the signature, or a signature without the domain, fails', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: signed.length - 1 }), fc.nat(63), fc.nat(7), (k, byte, bit) => {
        const { entry, signer } = signed[k]!;
        const sig = Buffer.from(entry.sig, 'base64');
        const bad = { ...entry, sig: base64Encode(flipBit(new Uint8Array(sig), byte, bit)) };
        expect(isEntrySignatureValid(bad, signer.publicKeyRaw)).toBe(false);
      }),
    );
    const { entry, signer } = signed[2]!;
    const { sig: _sig, ...unsigned } = entry;
    const noDomain = base64Encode(signBytes(utf8Encode(JSON.stringify(sortDeep(unsigned))), signer));
    expect(isEntrySignatureValid({ ...entry, sig: noDomain }, signer.publicKeyRaw)).toBe(false);
  });

  it('an entry moved to another actor fails', () => {
    const { entry } = signed[2]!;
    const moved = { ...entry, actor: bob.keyId };
    expect(codeOf(() => verifyEntrySignature(moved, bob.publicKeyRaw))).toBe('LEDGER_BAD_SIGNATURE');
  });
});

describe('malformed entries (LEDGER_BAD_ENTRY with a path)', () => {
  const byKind = (k: EntryKind): LedgerEntry => signed.find((s) => s.entry.kind === k)!.entry;
  type Case = [string, EntryKind, (e: Record<string, any>) => unknown, string];
  const cases: Case[] = [
    ['not an object', 'result-submitted', () => undefined, '$'],
    ['version 2', 'result-submitted', (e) => (e.v = 2), '$["v"]'],
    ['version as string', 'result-submitted', (e) => (e.v = '1'), '$["v"]'],
    ['unknown kind', 'result-submitted', (e) => (e.kind = 'result'), '$["kind"]'],
    ['negative time', 'result-submitted', (e) => (e.time = -1), '$["time"]'],
    ['float time', 'result-submitted', (e) => (e.time = 1.5), '$["time"]'],
    ['unsafe time', 'result-submitted', (e) => (e.time = 2 ** 53), '$["time"]'],
    ['string time', 'result-submitted', (e) => (e.time = '3'), '$["time"]'],
    ['negative seq', 'result-submitted', (e) => (e.seq = -1), '$["seq"]'],
    ['null seq', 'result-submitted', (e) => (e.seq = null), '$["seq"]'],
    ['upper-case actor', 'result-submitted', (e) => (e.actor = e.actor.toUpperCase()), '$["actor"]'],
    ['short actor', 'result-submitted', (e) => (e.actor = e.actor.slice(1)), '$["actor"]'],
    ['unknown member', 'result-submitted', (e) => (e.extra = 1), '$["extra"]'],
    ['__proto__ member', 'result-submitted', (e) => Object.defineProperty(e, '__proto__', { value: 1, enumerable: true }), '$["__proto__"]'],
    ['missing body', 'result-submitted', (e) => delete e.body, '$["body"]'],
    ['missing sig', 'result-submitted', (e) => delete e.sig, '$["sig"]'],
    ['short sig', 'result-submitted', (e) => (e.sig = base64Encode(new Uint8Array(63))), '$["sig"]'],
    ['sig not base64', 'result-submitted', (e) => (e.sig = e.sig.replace(/[A-Z]/, '*')), '$["sig"]'],
    ['sig unpadded', 'result-submitted', (e) => (e.sig = e.sig.replace(/=+$/, '')), '$["sig"]'],
    ['sig with pad bits set', 'result-submitted', (e) => (e.sig = e.sig.slice(0, 85) + 'B=='), '$["sig"]'],
    ['body is an array', 'result-submitted', (e) => (e.body = []), '$["body"]'],
    ['unknown body member', 'result-submitted', (e) => (e.body.blob = H('x')), '$["body"]["blob"]'],
    ['empty run', 'result-submitted', (e) => (e.body.run = ''), '$["body"]["run"]'],
    ['run with a space', 'result-submitted', (e) => (e.body.run = 'run 1'), '$["body"]["run"]'],
    ['run too long', 'result-submitted', (e) => (e.body.run = 'r'.repeat(129)), '$["body"]["run"]'],
    ['result hash upper-case', 'result-submitted', (e) => (e.body.result = e.body.result.toUpperCase()), '$["body"]["result"]'],
    ['result hash with 0x', 'result-submitted', (e) => (e.body.result = '0x' + e.body.result.slice(2)), '$["body"]["result"]'],
    ['float round', 'unit-issued', (e) => (e.body.round = 0.5), '$["body"]["round"]'],
    ['missing deadline', 'unit-issued', (e) => delete e.body.deadline, '$["body"]["deadline"]'],
    ['bad provider', 'unit-issued', (e) => (e.body.provider = 'alice'), '$["body"]["provider"]'],
    ['invalid verdict without reason', 'verdict', (e) => (e.body.outcome = 'invalid'), '$["body"]["reason"]'],
    ['valid verdict with reason', 'verdict', (e) => (e.body.reason = 'because'), '$["body"]["reason"]'],
    ['unknown outcome', 'verdict', (e) => (e.body.outcome = 'maybe'), '$["body"]["outcome"]'],
    ['zero credit', 'credit-granted', (e) => (e.body.amount = 0), '$["body"]["amount"]'],
    ['negative credit', 'credit-granted', (e) => (e.body.amount = -5), '$["body"]["amount"]'],
    ['duplicate parent', 'checkpoint-published', (e) => e.body.parents.push(e.body.parents[0]), '$["body"]["parents"][2]'],
    ['too many parents', 'checkpoint-published', (e) => (e.body.parents = Array.from({ length: 17 }, (_, i) => H(String(i)))), '$["body"]["parents"]'],
    ['bad parent', 'checkpoint-published', (e) => (e.body.parents[1] = 'zz'), '$["body"]["parents"][1]'],
    ['duplicate aggregated unit', 'checkpoint-published', (e) => e.body.aggregated.push({ unit: 'r0/s3', result: H('x') }), '$["body"]["aggregated"][1]'],
    ['aggregated item extra member', 'checkpoint-published', (e) => (e.body.aggregated[0].slot = 1), '$["body"]["aggregated"][0]["slot"]'],
    ['parents not an array', 'checkpoint-published', (e) => (e.body.parents = {}), '$["body"]["parents"]'],
    ['threshold 0', 'council-decision', (e) => (e.body.threshold = 0), '$["body"]["threshold"]'],
    ['fewer approvals than threshold', 'council-decision', (e) => (e.body.threshold = 3), '$["body"]["approvals"]'],
    ['duplicate approval', 'council-decision', (e) => (e.body.approvals[1].key = e.body.approvals[0].key), '$["body"]["approvals"][1]'],
    ['unknown action', 'council-decision', (e) => (e.body.action = 'mint'), '$["body"]["action"]'],
    ['params not an object', 'council-decision', (e) => (e.body.params = [1]), '$["body"]["params"]'],
    ['params with NaN', 'council-decision', (e) => (e.body.params = { x: Number.NaN }), '$["body"]["params"]["x"]'],
    ['approval sig short', 'council-decision', (e) => (e.body.approvals[0].sig = base64Encode(new Uint8Array(8))), '$["body"]["approvals"][0]["sig"]'],
    ['key not 32 bytes', 'provider-registered', (e) => (e.body.publicKey = base64Encode(new Uint8Array(31))), '$["body"]["publicKey"]'],
    ['name with lone surrogate', 'provider-registered', (e) => (e.body.name = 'a\ud800'), '$["body"]["name"]'],
    ['name with a newline', 'provider-registered', (e) => (e.body.name = 'a\nb'), '$["body"]["name"]'],
    ['name too long', 'provider-registered', (e) => (e.body.name = 'n'.repeat(65)), '$["body"]["name"]'],
    ['subject with control char', 'council-decision', (e) => (e.body.subject = 'x\u0007'), '$["body"]["subject"]'],
    ['oversize', 'council-decision', (e) => (e.body.params = { blob: 'x'.repeat(MAX_ENTRY_BYTES) }), '$'],
    ['no members', 'council-formed', (e) => (e.body.members = []), '$["body"]["members"]'],
    ['duplicate member', 'council-formed', (e) => (e.body.members[2] = e.body.members[0]), '$["body"]["members"][2]'],
    ['threshold above members', 'council-formed', (e) => (e.body.threshold = 4), '$["body"]["threshold"]'],
    ['proposal without expiry', 'council-proposal', (e) => delete e.body.expires, '$["body"]["expires"]'],
    ['proposal without proposer', 'council-proposal', (e) => delete e.body.proposer, '$["body"]["proposer"]'],
    ['approval without its signature', 'council-vote', (e) => delete e.body.approval, '$["body"]["approval"]'],
    ['rejection with a signature', 'council-vote', (e) => (e.body.vote = 'reject'), '$["body"]["approval"]'],
    ['unknown vote', 'council-vote', (e) => (e.body.vote = 'abstain'), '$["body"]["vote"]'],
    ['vote carrying another key than its signer', 'council-vote', (e) => (e.body.publicKey = base64Encode(bob.publicKeyRaw)), '$["actor"]'],
    ['zero adjustment', 'credit-adjusted', (e) => (e.body.amount = 0), '$["body"]["amount"]'],
    ['unknown change', 'credit-adjusted', (e) => (e.body.change = 'steal'), '$["body"]["change"]'],
    ['adjustment without decision', 'credit-adjusted', (e) => delete e.body.decision, '$["body"]["decision"]'],
    ['CLA version with a space', 'cla-published', (e) => (e.body.version = 'cla v2'), '$["body"]["version"]'],
    ['CLA hash not hex', 'cla-published', (e) => (e.body.sha256 = 'CLA'), '$["body"]["sha256"]'],
    ['CLA decision empty', 'cla-published', (e) => (e.body.decision = ''), '$["body"]["decision"]'],
    ['CLA published with an extra member', 'cla-published', (e) => (e.body.text = 'x'), '$["body"]["text"]'],
    ['CLA signature without a version', 'cla-signed', (e) => delete e.body.version, '$["body"]["version"]'],
    ['CLA signature without its hash', 'cla-signed', (e) => delete e.body.sha256, '$["body"]["sha256"]'],
    ['CLA signature naming a decision', 'cla-signed', (e) => (e.body.decision = 'd-3'), '$["body"]["decision"]'],
    ['CLA signature carrying another key than its signer', 'cla-signed', (e) => (e.body.publicKey = base64Encode(bob.publicKeyRaw)), '$["actor"]'],
  ];

  it.each(cases)('%s', (_name, kind, mutate, path) => {
    const e = json(byKind(kind));
    mutate(e);
    const value = _name === 'not an object' ? [] : e;
    expect(badPath(() => parseEntry(value))).toBe(path);
  });

  it('a present-but-undefined optional member is absent (as after a JSON round trip)', () => {
    const e = { ...signed[2]!.entry, seq: undefined };
    expect(parseEntry(e)).toEqual(signed[2]!.entry);
  });

  it('parseEntry never throws anything but LEDGER_BAD_ENTRY on arbitrary JSON', () => {
    const base = json(signed[1]!.entry);
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom('$', 'body', 'time', 'kind', 'sig', 'body.run', 'body.round'), (value, where) => {
        const e = json(base as LedgerEntry);
        let target: unknown = value;
        if (where !== '$') {
          const [a, b] = where.split('.');
          if (b === undefined) e[a!] = value;
          else e[a!][b] = value;
          target = e;
        }
        const code = codeOf(() => parseEntry(target));
        expect(code === undefined || code === 'LEDGER_BAD_ENTRY').toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

describe('decodeEntry: leaf inputs must be canonical', () => {
  const e = signed[5]!.entry;
  const text = utf8Decode(encodeEntry(e));

  it('rejects other spellings of the same entry', () => {
    const variants = [
      JSON.stringify(e, null, 1), // whitespace
      JSON.stringify({ v: e.v, kind: e.kind, time: e.time, actor: e.actor, body: e.body, sig: e.sig }), // member order
      text.replace('"v":1', '"v":1.0'), // number spelling
      text.replace('{"actor"', '{"v":1,"actor"'), // duplicate key
      text.replace('"kind"', '"\\u006bind"'), // escaped name
      text + '\n',
      '\ufeff' + text,
    ];
    for (const v of variants) {
      expect(JSON.parse(v.replace(/^\ufeff/, ''))).toBeTruthy();
      expect(codeOf(() => decodeEntry(utf8Encode(v))), v.slice(0, 40)).toBe('LEDGER_BAD_ENTRY');
    }
  });

  it('rejects non-JSON, invalid UTF-8 and oversize bytes', () => {
    expect(codeOf(() => decodeEntry(utf8Encode('{')))).toBe('LEDGER_BAD_ENTRY');
    expect(codeOf(() => decodeEntry(Uint8Array.of(0x7b, 0xff, 0x7d)))).toBe('LEDGER_BAD_ENTRY');
    expect(codeOf(() => decodeEntry(new Uint8Array(MAX_ENTRY_BYTES + 1).fill(0x20)))).toBe('LEDGER_BAD_ENTRY');
    expect(codeOf(() => decodeEntry('{}' as unknown as Uint8Array))).toBe('LEDGER_BAD_ENTRY');
  });

  it('any single-byte change to a leaf input is rejected or breaks the signature', () => {
    const bytes = encodeEntry(e);
    const signer = signed[5]!.signer;
    fc.assert(
      fc.property(fc.nat(bytes.length - 1), fc.integer({ min: 1, max: 255 }), (at, delta) => {
        const bad = bytes.slice();
        bad[at] = (bad[at]! + delta) & 0xff;
        // malformed bytes are rejected (LEDGER_BAD_ENTRY); well-formed ones no longer verify
        expect(['LEDGER_BAD_ENTRY', 'LEDGER_BAD_SIGNATURE']).toContain(codeOf(() => verifyEntrySignature(decodeEntry(bad), signer.publicKeyRaw)));
      }),
      { numRuns: 500 },
    );
  });
});

/** JSON value with object members sorted (enough for these ASCII entries). */
function sortDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortDeep);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortDeep((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}
