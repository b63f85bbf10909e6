/**
 * A council run-parameters decision (issue 20): the replication of a
 * training run changes from its next round on — round 0's units keep the
 * quorum they were issued with, round 1's are issued with the new one — and
 * decisions about an unknown or finished run are refused before anything is
 * logged. A real two-round nano run with in-process providers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Prng } from '../../src/core/prng.ts';
import { propose, vote } from '../../src/cli/council.ts';
import { MemoryBlobCache } from '../../src/provider/blob-cache.ts';
import { ProviderLoop } from '../../src/provider/loop.ts';
import { createRefBackend } from '../../src/tensor/backend/ref.ts';
import { Engine } from '../../src/tensor/tensor.ts';
import { DILOCO_INNER } from '../../src/train/adamw.ts';
import { planDilocoRun } from '../../src/train/diloco/plan.ts';
import { codeOfAsync } from '../helpers/errors.ts';
import { keyOf, startHarness } from './harness.ts';
import type { Harness } from './harness.ts';
import { refRunner } from '../helpers/runner.ts';

const engine = new Engine(createRefBackend());
const RUN = 'params-run';
const MEMBER = keyOf(78);


describe('run-parameters decisions', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ suite: 'council_params' });
    await h.service.council.form([MEMBER.keyId], 1);
    const plan = planDilocoRun(engine, {
      preset: 'nano', seed: 6, slots: 2, innerSteps: 1, rounds: 2, batch: 2, seqLen: 16,
      adamw: { ...DILOCO_INNER, lr: 3e-3 }, outer: { lr: 0.7, momentum: 0.9 }, aggregate: { kind: 'mean' },
      replication: 1, quorumFraction: 1, roundDeadlineMs: 3_600_000, leaseMs: 60_000, evalWindows: 2,
    });
    const trainer = h.client(h.trainerKey);
    for (const b of plan.blobs) await trainer.putBlob(b);
    await trainer.json('POST', '/api/runs', { id: RUN, spec: plan.spec });
  }, 60_000);
  afterAll(async () => h.close());

  it('the new replication applies to the units of the next round, not to those issued', async () => {
    const member = h.client(MEMBER);
    const p = await propose(member, { action: 'run-parameters', subject: RUN, params: { replication: 2 } });
    expect((await vote(member, p.id, 'approve', h.clock)).status).toBe('enacted');
    // three providers (a quorum of 2 among new identities needs two per unit), until round 1 is issued
    const loops = [0, 1, 2].map((i) => new ProviderLoop({
      client: h.client(keyOf(80 + i)), runner: refRunner, cache: new MemoryBlobCache(), clock: h.clock, rng: Prng.fromSeed(i),
      sleep: () => new Promise((r) => setTimeout(r, 5)), name: `params-p${i}`, threads: 1, memoryBytes: 1,
    }));
    const running = loops.map((l) => l.run());
    for (let t = Date.now(); (await h.runs.get(RUN)).progress.round < 1; ) {
      if (Date.now() - t > 60_000) throw new Error('round 0 did not close');
      await h.runs.advance(RUN);
      await new Promise((r) => setTimeout(r, 20));
    }
    for (const l of loops) l.stop();
    await Promise.all(running);
    const units = await h.db.query<{ round: number; kind: string; wu: { params: { minQuorum: number } } }>('SELECT round, kind, wu FROM units WHERE run_id = $1 AND kind = $2 ORDER BY round, id', [RUN, 'train']);
    expect(units.map((u) => [u.round, u.wu.params.minQuorum])).toEqual([[0, 1], [0, 1], [1, 2], [1, 2]]);
  }, 120_000);

  it('an unknown run, a replication out of bounds, or a finished run is refused before anything is logged', async () => {
    const member = h.client(MEMBER);
    const size = Number((await h.db.query<{ n: string }>('SELECT count(*) AS n FROM ledger_entries'))[0]!.n);
    expect(await codeOfAsync(propose(member, { action: 'run-parameters', subject: 'no-such-run', params: { replication: 2 } }))).toBe('COUNCIL_UNKNOWN_RUN');
    expect(await codeOfAsync(propose(member, { action: 'run-parameters', subject: RUN, params: { replication: 0 } }))).toBe('COUNCIL_BAD_PROPOSAL');
    expect(await codeOfAsync(propose(member, { action: 'run-parameters', subject: RUN, params: {} }))).toBe('COUNCIL_BAD_PROPOSAL');
    await h.db.query(`UPDATE runs SET state = 'finished' WHERE id = $1`, [RUN]);
    expect(await codeOfAsync(propose(member, { action: 'run-parameters', subject: RUN, params: { replication: 2 } }))).toBe('COUNCIL_NOT_APPLICABLE');
    expect(Number((await h.db.query<{ n: string }>('SELECT count(*) AS n FROM ledger_entries'))[0]!.n)).toBe(size);
  });
});
