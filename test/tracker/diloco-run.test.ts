/**
 * A DiLoCo run through the tracker, with in-process providers running the
 * real train and eval kernels (issue 7): rounds close when every slot is
 * quorum-verified, checkpoints are ledger entries naming their units, every
 * checkpoint replays bit for bit from the blobs, and the final checkpoint
 * does not depend on how many providers did the work.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Prng } from '../../src/core/prng.ts';
import { sha256Hex } from '../../src/core/sha256.ts';
import { decodeEntry } from '../../src/ledger/entry.ts';
import { MemoryBlobCache } from '../../src/provider/blob-cache.ts';
import { ProviderLoop } from '../../src/provider/loop.ts';
import type { UnitRunner } from '../../src/provider/loop.ts';
import { createRefBackend } from '../../src/tensor/backend/ref.ts';
import { Engine } from '../../src/tensor/tensor.ts';
import { DILOCO_INNER } from '../../src/train/adamw.ts';
import { planDilocoRun } from '../../src/train/diloco/plan.ts';
import { replayCheckpoint } from '../../src/train/diloco/replay.ts';
import { runUnit } from '../../src/train/work/run-unit.ts';
import { getBlob } from '../../src/tracker/storage/blobs.ts';
import type { RunView } from '../../src/tracker/runs/diloco.ts';
import { runRoundOptions } from '../../src/tracker/runs/diloco-spec.ts';
import { keyOf, startHarness } from './harness.ts';
import type { Harness } from './harness.ts';

const engine = new Engine(createRefBackend());
const runner: UnitRunner = {
  async run(spec, blobs) {
    return runUnit(engine, spec, (h) => blobs.get(h));
  },
};

function plan(seed = 3) {
  return planDilocoRun(engine, {
    preset: 'nano', seed, slots: 2, innerSteps: 2, rounds: 2, batch: 2, seqLen: 16,
    adamw: { ...DILOCO_INNER, lr: 3e-3 }, outer: { lr: 0.7, momentum: 0.9 }, aggregate: { kind: 'mean' },
    replication: 1, quorumFraction: 1, roundDeadlineMs: 3_600_000, leaseMs: 60_000, evalWindows: 4,
  });
}

async function trainWith(h: Harness, providers: number, runId: string): Promise<RunView & { patched: number }> {
  const p = plan();
  const trainer = h.client(h.trainerKey);
  for (const b of p.blobs) await trainer.putBlob(b);
  await trainer.json('POST', '/api/runs', { id: runId, spec: p.spec });
  const loops = Array.from({ length: providers }, (_, i) => new ProviderLoop({
    client: h.client(keyOf(10 + i)),
    runner,
    cache: new MemoryBlobCache(),
    clock: h.clock,
    rng: Prng.fromSeed(i),
    sleep: () => new Promise((r) => setTimeout(r, 5)),
    name: `p${i}`,
    threads: 1,
    memoryBytes: 1,
  }));
  const running = loops.map((l) => l.run());
  let view: RunView;
  for (;;) {
    await h.runs.advance(runId);
    view = await h.runs.get(runId);
    if (view.progress.status !== 'training' && view.progress.evalLoss['2'] !== undefined) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  for (const l of loops) l.stop();
  await Promise.all(running);
  return { ...view, patched: loops.reduce((a, l) => a + l.patched, 0) };
}

describe('a DiLoCo run through the tracker', () => {
  let h: Harness | undefined;
  afterEach(async () => h?.close());

  it('trains round by round, publishes replayable checkpoints, and the result does not depend on the number of providers', async () => {
    h = await startHarness({ suite: 'diloco_a' });
    const two = await trainWith(h, 2, 'run-a');
    expect(two.progress.status).toBe('finished');
    expect(two.progress.history.map((r) => r.round)).toEqual([0, 1]);
    expect(two.progress.history.every((r) => r.dropped.length === 0 && r.slots.length === 2)).toBe(true);
    expect(Object.keys(two.progress.evalLoss).sort()).toEqual(['0', '1', '2']);
    expect(two.progress.evalLoss['2']!).toBeLessThan(two.progress.evalLoss['0']!);
    // int8 downlink (the plan's default): round 1's units name the update from θ_0, and providers that
    // held θ_0 rebuilt θ_1 from it instead of downloading it
    expect(two.spec.downlink).toBe('int8');
    const unitRow = await h.db.query<{ patch: string | null; params: string }>(`SELECT patch, spec->>'params' AS params FROM units WHERE id = 'run-a.r1.s0'`);
    const patch = JSON.parse(unitRow[0]!.patch!) as { target: string; base: string; update: string };
    expect(patch.base).toBe(two.spec.init);
    expect(patch.target).toBe(unitRow[0]!.params);
    expect(two.patched).toBeGreaterThan(0);

    // every checkpoint entry replays from the blobs it names
    const rows = await h.db.query<{ leaf_input: Uint8Array }>('SELECT leaf_input FROM ledger_entries ORDER BY seq');
    const checkpoints = rows.map((r) => decodeEntry(r.leaf_input)).filter((e) => e.kind === 'checkpoint-published');
    expect(checkpoints).toHaveLength(2);
    for (const e of checkpoints) {
      if (e.kind !== 'checkpoint-published') continue;
      const parent = (await getBlob(h.db, e.body.parents[0]!)).bytes;
      const results = await Promise.all(e.body.aggregated.map(async (a) => (await getBlob(h!.db, a.result)).bytes));
      const r = replayCheckpoint({ config: two.spec.config, options: runRoundOptions(two.spec), parent, results });
      expect(r.sha256).toBe(e.body.checkpoint);
      expect(sha256Hex((await getBlob(h.db, e.body.checkpoint)).bytes)).toBe(e.body.checkpoint);
    }
    const final = two.progress.state;
    await h.close();

    h = await startHarness({ suite: 'diloco_b' });
    const three = await trainWith(h, 3, 'run-a');
    expect(three.progress.state).toBe(final);
  }, 240_000);
});
