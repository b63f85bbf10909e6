/**
 * Issue 24, "visible stalls": the run API says why a round waits. A
 * quorum-2 run with a single provider cannot progress (the provider holds a
 * replica of every unit and nobody else may take the second): GET
 * /api/runs/:id says so per slot, `swarm run show` prints it, and a second
 * provider coming online turns the stall into a plain wait.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { summary } from '../../src/cli/run.ts';
import { createRefBackend } from '../../src/tensor/backend/ref.ts';
import { Engine } from '../../src/tensor/tensor.ts';
import { DILOCO_INNER } from '../../src/train/adamw.ts';
import { planDilocoRun } from '../../src/train/diloco/plan.ts';
import type { RunView } from '../../src/tracker/runs/diloco.ts';
import { keyOf, startHarness } from './harness.ts';
import type { Harness } from './harness.ts';

const CAPS = { threads: 1, memoryBytes: 2 ** 30 };
let h: Harness | undefined;
afterEach(async () => h?.close());

describe('why a round waits', () => {
  it('one provider in a quorum-2 run: every unit is reported stalled with its reason; a second provider online clears it', async () => {
    h = await startHarness({ suite: 'run_stall' });
    const p = planDilocoRun(new Engine(createRefBackend()), {
      preset: 'nano', seed: 1, slots: 2, innerSteps: 1, rounds: 1, batch: 2, seqLen: 16,
      adamw: { ...DILOCO_INNER, lr: 3e-3 }, outer: { lr: 0.7, momentum: 0.9 }, aggregate: { kind: 'mean' },
      replication: 2, quorumFraction: 1, roundDeadlineMs: 3_600_000, leaseMs: 60_000, evalWindows: 4,
    });
    const trainer = h.client(h.trainerKey);
    for (const b of p.blobs) await trainer.putBlob(b);
    await trainer.json('POST', '/api/runs', { id: 'solo', spec: p.spec });
    const a = h.client(keyOf(1));
    await a.register('a', CAPS);
    const fresh = await trainer.getJson<RunView>('/api/runs/solo');
    expect(fresh.waiting).toMatchObject({ round: 0, stalled: false });
    expect(fresh.waiting!.reasons[0]).toBe('slot 0: needs 2 more results; 1 eligible provider online');
    while ((await a.work()).unit !== null); // a takes one replica of each unit
    const v = await trainer.getJson<RunView>('/api/runs/solo');
    expect(v.waiting!.stalled).toBe(true);
    expect(v.waiting!.reasons).toEqual([
      'slot 0: needs 1 more result; waiting for a provider that has not held it; 0 eligible online (1 provider held it already)',
      'slot 1: needs 1 more result; waiting for a provider that has not held it; 0 eligible online (1 provider held it already)',
      'eval: needs 1 more result; waiting for a provider that has not held it; 0 eligible online (1 provider held it already)',
    ]);
    const text = summary(v);
    expect(text).toContain('round 0 is STALLED');
    expect(text).toContain('slot 1: needs 1 more result; waiting for a provider that has not held it; 0 eligible online');
    const b = h.client(keyOf(2));
    await b.register('b', CAPS);
    const after = await trainer.getJson<RunView>('/api/runs/solo');
    expect(after.waiting!.stalled).toBe(false);
    expect(after.waiting!.reasons[0]).toBe('slot 0: needs 1 more result; 1 eligible provider online');
    // a minute on, b was not seen again and a's leases ran out: a takes slot 0 back (the reissue rule), and the
    // others wait for it to come back too; slot 0 still needs a second provider, so the round stays stalled
    h.clock.advance(61_000);
    expect((await a.work()).unit).not.toBeNull();
    const back = await trainer.getJson<RunView>('/api/runs/solo');
    expect(back.waiting!.stalled).toBe(true);
    expect(back.waiting!.reasons.filter((r) => r.includes('needs 1 more result; waiting for a provider that has not held it; 0 eligible online'))).toHaveLength(1);
    expect(back.waiting!.reasons.filter((r) => r.endsWith('needs 2 more results; no provider that has not held it is online, so it goes back to one whose lease ran out (1 online)'))).toHaveLength(2);
  }, 120_000);
});
