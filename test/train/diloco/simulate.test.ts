/** The in-process DiLoCo driver: deterministic, backend-independent, same tokens as its baseline. */
import { describe, expect, it } from 'vitest';
import { Prng } from '../../../src/core/prng.ts';
import { initParams, paramList } from '../../../src/model/llama.ts';
import { createRefBackend } from '../../../src/tensor/backend/ref.ts';
import { Engine } from '../../../src/tensor/tensor.ts';
import { createWasmBackend } from '../../../src/tensor/wasm/backend.ts';
import { DILOCO_INNER } from '../../../src/train/adamw.ts';
import { DILOCO_OUTER, outerWarmup } from '../../../src/train/diloco/outer.ts';
import { simulateBaseline, simulateDiloco } from '../../../src/train/diloco/simulate.ts';
import type { DilocoSimOptions } from '../../../src/train/diloco/simulate.ts';
import { setupRun } from '../../../src/train/run-setup.ts';
import { concatFlat } from '../../../src/train/unit.ts';
import { expectCode } from '../../helpers/errors.ts';

const setup = setupRun({ preset: 'nano', seed: 5, batchSize: 2, seqLen: 16, evalWindows: 8 });

function options(engine: Engine): DilocoSimOptions {
  const init = concatFlat(paramList(initParams(engine, setup.config, Prng.fromSeed(5).fork('init'))));
  return {
    config: setup.config, data: setup.data, init, slots: 2, innerSteps: 2, rounds: 2,
    inner: { ...DILOCO_INNER, lr: 3e-3 }, innerSchedule: { maxLr: 3e-3, minLr: 3e-4, warmupSteps: 1, totalSteps: 4 },
    outer: DILOCO_OUTER, aggregate: { kind: 'mean' },
  };
}

describe('simulateDiloco', () => {
  it('nano, 2 rounds, K = 2, H = 2: the same final hash twice and on ref and wasm', async () => {
    const e = new Engine(createRefBackend());
    const seen: number[] = [];
    const a = simulateDiloco(e, { ...options(e), onRound: (r) => seen.push(r.round) });
    const b = simulateDiloco(e, options(e));
    expect(a.stateSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(a.stateSha256).toBe(b.stateSha256);
    expect(a.state.round).toBe(2);
    expect(seen).toEqual([1, 2]);
    expect(a.rounds.map((r) => r.evalLoss)).toEqual(b.rounds.map((r) => r.evalLoss));
    expect(a.tokens).toBe(2 * 2 * 2 * 2 * 16); // R·K·H·B·T
    expect(Number.isFinite(a.evalLoss)).toBe(true);
    const wb = await createWasmBackend({ threads: 1 });
    try {
      expect(simulateDiloco(new Engine(wb), options(e)).stateSha256).toBe(a.stateSha256);
    } finally {
      wb.close();
    }
    // another aggregator or outer setting is another state
    expect(simulateDiloco(e, { ...options(e), outer: { lr: 1, momentum: 0 } }).stateSha256).not.toBe(a.stateSha256);
  });

  it('outerAt: the outer settings per round; returning `outer` every round changes nothing', () => {
    const e = new Engine(createRefBackend());
    const o = options(e);
    const plain = simulateDiloco(e, o);
    const asked: number[] = [];
    const same = simulateDiloco(e, { ...o, outerAt: (r) => (asked.push(r), o.outer) });
    expect(asked).toEqual([0, 1]);
    expect(same.stateSha256).toBe(plain.stateSha256);
    // a warm-up on round 0 only: round 1 starts from another θ, so another final state
    const warm = simulateDiloco(e, { ...o, outerAt: (r) => outerWarmup(o.outer, 2, r) });
    expect(warm.stateSha256).not.toBe(plain.stateSha256);
    // the warmed first round equals a one-round run with lr/2
    const one = simulateDiloco(e, { ...o, rounds: 1, outer: { lr: o.outer.lr / 2, momentum: o.outer.momentum } });
    const warm1 = simulateDiloco(e, { ...o, rounds: 1, outerAt: (r) => outerWarmup(o.outer, 2, r) });
    expect(warm1.stateSha256).toBe(one.stateSha256);
  });

  it('the baseline reads the same tokens as one batch of K·B rows, and evaluates per round', () => {
    const e = new Engine(createRefBackend());
    const o = options(e);
    const base = simulateBaseline(e, { ...o, evalEvery: 2 });
    expect(base.tokens).toBe(2 * 2 * 2 * 2 * 16);
    expect(base.rounds.map((r) => r.evalLoss === null)).toEqual([true, false]);
    expect(simulateBaseline(e, { ...o, evalEvery: 2 }).paramsSha256).toBe(base.paramsSha256);
  });

  it('rejects bad options with coded errors', () => {
    const e = new Engine(createRefBackend());
    const o = options(e);
    expectCode(() => simulateDiloco(e, { ...o, slots: 0 }), 'DILOCO_BAD_OPTION');
    expectCode(() => simulateDiloco(e, { ...o, rounds: 1.5 }), 'DILOCO_BAD_OPTION');
    expectCode(() => simulateBaseline(e, { ...o, innerSteps: 0 }), 'DILOCO_BAD_OPTION');
    expectCode(() => simulateDiloco(e, { ...o, init: o.init.subarray(1) }), 'DILOCO_LENGTH_MISMATCH');
  });
});
