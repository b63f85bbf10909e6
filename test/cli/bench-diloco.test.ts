/**
 * `swarm bench diloco` compares best against best (issue 23, "Honest DiLoCo
 * figures"): the single worker's lr and DiLoCo's outer lr are each swept, the
 * ratio is taken between the two bests, and the best DiLoCo run through the
 * tracker ends at exactly the checkpoint of its in-process simulation.
 */
import { describe, expect, it } from 'vitest';
import { benchDiloco, bestAtEdge, bestOf, logSweep } from '../../src/cli/bench-diloco.ts';

describe('bench diloco sweeps', () => {
  it('logSweep spaces n lrs by the ratio around the centre, from half to twice it by default', () => {
    expect(logSweep(4e-3)).toEqual([2e-3, 2.83e-3, 4e-3, 5.66e-3, 8e-3]);
    expect(logSweep(1, 4, 2)).toEqual([0.354, 0.707, 1.41, 2.83]);
  });

  it('bestOf picks the lowest loss, bestAtEdge says when it is an end of the sweep', () => {
    const sweep = [{ lr: 1, loss: 3 }, { lr: 2, loss: 2.5 }, { lr: 4, loss: 2.7 }];
    expect(bestOf(sweep)).toEqual({ lr: 2, loss: 2.5 });
    expect(bestAtEdge(sweep)).toBe(false);
    expect(bestAtEdge([...sweep, { lr: 8, loss: 2 }])).toBe(true);
    expect(bestAtEdge([{ lr: 0.5, loss: 1 }, ...sweep])).toBe(true);
    expect(() => bestOf([])).toThrow(/empty sweep/);
  });

  it('reports both sweeps, the ratio of the bests, and a tracker run bit-equal to its simulation', async () => {
    const r = await benchDiloco({
      preset: 'nano', slots: 2, innerSteps: 2, rounds: 2, batch: 2, seqLen: 32, lr: 4e-3,
      baselineLrs: [2e-3, 8e-3], outerLrs: [0.5, 1], warmup: 0, minLrRatio: 0.1, momentum: 0.9,
      pretrainSteps: 0, providers: 2, seed: 3, evalWindows: 16, keepOpt: true,
    });
    expect(r.baselineSweep.map((p) => p.lr)).toEqual([2e-3, 8e-3]);
    expect(r.outerSweep.map((p) => p.lr)).toEqual([0.5, 1]);
    // the two lrs of each sweep train differently
    expect(r.baselineSweep[0]!.loss).not.toBe(r.baselineSweep[1]!.loss);
    expect(r.outerSweep[0]!.loss).not.toBe(r.outerSweep[1]!.loss);
    expect(r.singleEvalLoss).toBe(Math.min(...r.baselineSweep.map((p) => p.loss)));
    expect(r.singleLr).toBe(bestOf(r.baselineSweep).lr);
    expect(r.outerLr).toBe(bestOf(r.outerSweep).lr);
    expect(r.trackerMatchesSimulation).toBe(true);
    expect(r.dilocoEvalLoss).toBe(bestOf(r.outerSweep).loss);
    expect(r.lossRatio).toBe(r.dilocoEvalLoss / r.singleEvalLoss);
    // DiLoCo's own bytes exclude the verification copies
    expect(r.dilocoBytesOneReplica).toBeGreaterThan(0);
    expect(r.dilocoBytesOneReplica).toBeLessThan(r.dilocoBytes);
    expect(r.commRatio).toBeCloseTo(r.ddpBytes / r.dilocoBytesOneReplica, 9);
  }, 180_000);
});
