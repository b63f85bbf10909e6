/**
 * The model card of a release (issue 20): a real two-round DiLoCo run on the
 * nano preset (two in-process providers, the ref kernels), a one-member
 * council releases its first checkpoint, and every number of the card is
 * checked against the log: contributors are exactly the run's credit-granted
 * entries before the checkpoint's entry (round 2's work is not on it), the
 * shares sum to 1, and the three leaf indices decode to the proposal, the
 * decision and the checkpoint-published entry of this release.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Prng } from '../../src/core/prng.ts';
import { sha256Hex } from '../../src/core/sha256.ts';
import { utf8Encode } from '../../src/core/encoding.ts';
import { decodeEntry } from '../../src/ledger/entry.ts';
import type { LedgerEntry } from '../../src/ledger/entry.ts';
import { paramCount } from '../../src/model/llama.ts';
import type { ModelCard } from '../../src/protocol/views.ts';
import { MemoryBlobCache } from '../../src/provider/blob-cache.ts';
import { ProviderLoop } from '../../src/provider/loop.ts';
import { createRefBackend } from '../../src/tensor/backend/ref.ts';
import { Engine } from '../../src/tensor/tensor.ts';
import { DILOCO_INNER } from '../../src/train/adamw.ts';
import { planDilocoRun } from '../../src/train/diloco/plan.ts';
import type { RunView } from '../../src/tracker/runs/diloco.ts';
import { propose, vote } from '../../src/cli/council.ts';
import { keyOf, startHarness } from './harness.ts';
import type { Harness } from './harness.ts';
import { refRunner } from '../helpers/runner.ts';

const engine = new Engine(createRefBackend());
const RUN = 'card-run';
const NAME = 'sovereign-nano-v1';
const MEMBER = keyOf(77);

async function train(h: Harness): Promise<RunView> {
  const plan = planDilocoRun(engine, {
    preset: 'nano', seed: 5, slots: 2, innerSteps: 1, rounds: 2, batch: 2, seqLen: 16,
    adamw: { ...DILOCO_INNER, lr: 3e-3 }, outer: { lr: 0.7, momentum: 0.9 }, aggregate: { kind: 'mean' },
    replication: 1, quorumFraction: 1, roundDeadlineMs: 3_600_000, leaseMs: 60_000, evalWindows: 2,
  });
  const trainer = h.client(h.trainerKey);
  for (const b of plan.blobs) await trainer.putBlob(b);
  await trainer.json('POST', '/api/runs', { id: RUN, spec: plan.spec });
  const loops = [0, 1].map((i) => new ProviderLoop({
    client: h.client(keyOf(60 + i)), runner: refRunner, cache: new MemoryBlobCache(), clock: h.clock, rng: Prng.fromSeed(i),
    sleep: () => new Promise((r) => setTimeout(r, 5)), name: `card-p${i}`, threads: 1, memoryBytes: 1,
  }));
  const running = loops.map((l) => l.run());
  let view: RunView;
  for (;;) {
    await h.runs.advance(RUN);
    view = await h.runs.get(RUN);
    if (view.progress.status !== 'training' && view.progress.evalLoss['2'] !== undefined) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  for (const l of loops) l.stop();
  await Promise.all(running);
  return view;
}

async function log(h: Harness): Promise<LedgerEntry[]> {
  const rows = await h.db.query<{ leaf_input: Uint8Array }>('SELECT leaf_input FROM ledger_entries ORDER BY seq');
  return rows.map((r) => decodeEntry(new Uint8Array(r.leaf_input)));
}

describe('the model card of a release', () => {
  let h: Harness;
  let run: RunView;
  let card: ModelCard;

  beforeAll(async () => {
    h = await startHarness({ suite: 'model_card' });
    run = await train(h);
    await h.service.council.form([MEMBER.keyId], 1);
    const member = h.client(MEMBER);
    const p = await propose(member, { action: 'release', subject: NAME, params: { checkpoint: run.progress.history[0]!.checkpoint } });
    const enacted = await vote(member, p.id, 'approve', h.clock);
    if (enacted.status !== 'enacted') throw new Error(`the release was not enacted: ${enacted.status}`);
    const res = await h.app.request(`/api/releases/${NAME}/card`);
    if (res.status !== 200) throw new Error(`GET /api/releases/${NAME}/card answered ${res.status}: ${await res.text()}`);
    card = (await res.json()) as ModelCard;
  }, 120_000);
  afterAll(async () => h?.close());

  it('names the checkpoint, its run and round, the model, the data and the eval loss against the floor', () => {
    const first = run.progress.history[0]!;
    expect(run.progress.history).toHaveLength(2);
    expect(card).toMatchObject({ name: NAME, checkpoint: first.checkpoint, blob: `/api/blobs/${first.checkpoint}` });
    expect(card.run).toMatchObject({ id: RUN, round: 1, roundsPlanned: 2, slots: [0, 1], dropped: [], label: run.spec.label, closedAt: first.closedAt });
    expect(card.model).toMatchObject({ preset: 'nano', dim: run.spec.config.dim, nLayers: run.spec.config.nLayers, params: paramCount(run.spec.config) });
    expect(card.training).toMatchObject({ slots: 2, innerSteps: 1, replication: 1, init: run.spec.init, aggregate: 'mean' });
    // only round 1's shards made θ_1
    expect(card.data).toEqual({
      shardCount: 2, shards: [run.spec.shards[0]], shardsDigest: sha256Hex(utf8Encode(JSON.stringify([run.spec.shards[0]]))),
      eval: run.spec.eval!.data, tokenizer: null,
    });
    expect(card.eval).toEqual({ loss: run.progress.evalLoss['1'], trainLoss: first.trainLoss, entropyFloor: run.spec.entropyFloor });
    expect(card.eval!.loss).toEqual(expect.any(Number));
  });

  it('its contributors are the run\'s credit-granted entries before the checkpoint\'s entry, with shares summing to 1', async () => {
    const entries = await log(h);
    const cp = card.ledger.checkpointIndex!;
    const expected = new Map<string, { n: number; credit: number }>();
    entries.slice(0, cp).forEach((e) => {
      if (e.kind !== 'credit-granted' || e.body.run !== RUN) return;
      const x = expected.get(e.body.provider) ?? { n: 0, credit: 0 };
      expected.set(e.body.provider, { n: x.n + 1, credit: x.credit + e.body.amount });
    });
    expect(expected.size).toBe(2);
    const got = new Map(card.contributors.map((c) => [c.provider, { n: c.validReplicas, credit: c.credit }]));
    expect(got).toEqual(expected);
    expect(card.contributors.map((c) => c.name).sort()).toEqual(['card-p0', 'card-p1']);
    expect(card.contributors.reduce((a, c) => a + c.share, 0)).toBeCloseTo(1, 12);
    for (const c of card.contributors) expect(c.share).toBeCloseTo(c.credit / card.work!.credit, 12);
    const total = [...expected.values()].reduce((a, x) => a + x.credit, 0);
    expect(card.work).toMatchObject({ credit: total, validReplicas: [...expected.values()].reduce((a, x) => a + x.n, 0), toIndex: cp });
    // every unit the checkpoint aggregates has its credit on the card; round 2's work (granted later) has not
    const checkpoint = entries[cp]!;
    const before = new Set(entries.slice(0, cp).flatMap((e) => (e.kind === 'credit-granted' ? [e.body.unit] : [])));
    expect(checkpoint.kind === 'checkpoint-published' && checkpoint.body.aggregated.every((a) => before.has(a.unit))).toBe(true);
    const later = entries.slice(cp).filter((e) => e.kind === 'credit-granted' && e.body.run === RUN);
    expect(later.length).toBeGreaterThan(0);
  });

  it('its ledger indices decode to the proposal, the decision and the checkpoint entry of this release, and the approvals are the decision\'s', async () => {
    const entries = await log(h);
    const { proposalIndex, decisionIndex, checkpointIndex } = card.ledger;
    const proposal = entries[proposalIndex!]!;
    const decision = entries[decisionIndex!]!;
    const checkpoint = entries[checkpointIndex!]!;
    expect(proposal.kind === 'council-proposal' && [proposal.body.decision, proposal.body.action, proposal.body.subject, proposal.body.params?.checkpoint])
      .toEqual([card.council.decision, 'release', NAME, card.checkpoint]);
    expect(decision.kind === 'council-decision' && [decision.body.decision, decision.body.action, decision.body.subject, decision.body.approvals])
      .toEqual([card.council.decision, 'release', NAME, card.council.approvals]);
    expect(checkpoint.kind === 'checkpoint-published' && [checkpoint.body.run, checkpoint.body.round, checkpoint.body.checkpoint]).toEqual([RUN, 1, card.checkpoint]);
    expect(card.council).toMatchObject({ proposer: MEMBER.keyId, threshold: 1, approvals: [{ key: MEMBER.keyId, sig: expect.any(String) }] });
    expect(card.council.enactedAt).toBe(card.releasedAt);
    expect(proposalIndex!).toBeGreaterThan(checkpointIndex!);
    expect(decisionIndex!).toBeGreaterThan(proposalIndex!);
  });

  it('an unknown name is a 404 with COUNCIL_UNKNOWN_RELEASE', async () => {
    const res = await h.app.request('/api/releases/no-such-model/card');
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('COUNCIL_UNKNOWN_RELEASE');
  });
});
