import { describe, expect, it } from 'vitest';
import { base64Encode } from '../../src/core/encoding.ts';
import * as ledger from '../../src/ledger/index.ts';

describe('ledger index', () => {
  it('re-exports the ledger API', () => {
    const names = [
      'HASH_BYTES', 'leafHash', 'nodeHash', 'emptyRootHash', 'splitPoint', 'subtreeHash', 'rootHash',
      'inclusionProofRanges', 'consistencyProofRanges', 'inclusionProofLength', 'consistencyProofLength',
      'inclusionProofWith', 'consistencyProofWith', 'inclusionProof', 'consistencyProof',
      'rootFromInclusionProof', 'verifyInclusion', 'verifyConsistency',
      'MerkleLog',
      'keyPairFromSeed', 'keyPairFromPrivateKey', 'privateKeySeed', 'rawPublicKey', 'publicKeyFromRaw', 'publicKeyBytes',
      'keyIdOf', 'isKeyId', 'domainSeparated', 'signBytes', 'verifyBytes',
      'ENTRY_KINDS', 'parseEntry', 'parseUnsignedEntry', 'parseCouncilProposal', 'encodeEntry', 'decodeEntry',
      'entryLeafHash', 'entryId', 'entrySigningBytes', 'createEntry', 'verifyEntrySignature', 'isEntrySignatureValid',
      'registeredPublicKey',
      'councilDecisionBytes', 'approveCouncilDecision', 'checkCouncilApprovals', 'verifyCouncilDecision',
      'parseTreeHead', 'treeHeadSigningBytes', 'signTreeHead', 'isTreeHeadSignatureValid', 'verifyTreeHead',
      'cosignTreeHead', 'isCosignatureValid', 'checkCosignatures', 'verifyCosignatures', 'witnessCosign', 'sameTree',
    ];
    for (const n of names) expect(ledger, n).toHaveProperty(n);
  });

  it('composes: entry -> log -> signed head -> witness -> auditor', () => {
    const tracker = ledger.keyPairFromSeed(new Uint8Array(32).fill(1));
    const provider = ledger.keyPairFromSeed(new Uint8Array(32).fill(2));
    const witness = ledger.keyPairFromSeed(new Uint8Array(32).fill(3));
    const log = new ledger.MerkleLog();
    const reg = ledger.createEntry({ kind: 'provider-registered', time: 1, body: { publicKey: base64Encode(provider.publicKeyRaw) } }, provider);
    log.append(ledger.encodeEntry(reg));
    const head1 = ledger.signTreeHead({ treeSize: log.size, timestamp: 10, rootHash: log.rootHash() }, tracker);
    const res = ledger.createEntry({ kind: 'result-submitted', time: 2, body: { run: 'r', unit: 'u', result: 'ab'.repeat(32) } }, provider);
    log.append(ledger.encodeEntry(res));
    const head2 = ledger.signTreeHead({ treeSize: log.size, timestamp: 20, rootHash: log.rootHash() }, tracker);
    const cosig = ledger.witnessCosign({ trusted: head1, next: head2, proof: log.consistencyProof(1, 2), trackerKey: tracker.publicKey, witness });
    expect(ledger.verifyCosignatures(head2, [cosig], new Map([[witness.keyId, witness.publicKeyRaw]]), 1)).toEqual([witness.keyId]);
    // The auditor: every leaf is a well-signed entry whose signer registered itself.
    const keys = new Map<string, Uint8Array>();
    for (let i = 0; i < log.size; i++) {
      const e = ledger.decodeEntry(log.leafInput(i));
      if (e.kind === 'provider-registered') keys.set(e.actor, ledger.registeredPublicKey(e));
      ledger.verifyEntrySignature(e, keys.get(e.actor)!);
      expect(ledger.verifyInclusion(ledger.entryLeafHash(e), i, head2.treeSize, log.inclusionProof(i, head2.treeSize), head2.rootHash)).toBe(true);
    }
  });
});
