/**
 * train/work/memory.ts estimates a unit's peak memory from its spec, so a
 * provider with a hard budget (a browser tab) refuses a unit it cannot hold
 * before it starts (issue 18). Checked here: the estimate grows with every
 * dimension it should, and it bounds a real unit's measured peak from above
 * without being absurdly loose (the peak is VmHWM − VmRSS of a child process
 * that runs one micro train unit on the wasm backend; Linux only).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PRESETS } from '../../src/model/config.ts';
import { parseUnitSpec } from '../../src/train/work/kinds.ts';
import type { UnitSpec } from '../../src/train/work/kinds.ts';
import { unitMemoryBytes } from '../../src/train/work/memory.ts';

const base = { kind: 'train', v: 1, params: 'a'.repeat(64), opt: null, data: 'b'.repeat(64), steps: 1, adamw: { lr: 1e-3, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, clip: 1 } };
const train = (preset: 'nano' | 'micro' | 'small', batch: number, seqLen: number): UnitSpec => parseUnitSpec({ ...base, config: PRESETS[preset], batch, seqLen });

describe('unitMemoryBytes', () => {
  it('grows with the batch, the sequence length and the model; an eval unit needs less than a train unit of the same shape', () => {
    expect(unitMemoryBytes(train('micro', 8, 64))).toBeGreaterThan(unitMemoryBytes(train('micro', 4, 64)));
    expect(unitMemoryBytes(train('micro', 4, 128))).toBeGreaterThan(unitMemoryBytes(train('micro', 4, 64)));
    expect(unitMemoryBytes(train('small', 4, 64))).toBeGreaterThan(unitMemoryBytes(train('micro', 4, 64)));
    const evalSpec = parseUnitSpec({ kind: 'eval', v: 1, config: PRESETS.micro, params: 'a'.repeat(64), data: 'b'.repeat(64), seqLen: 64, windows: 8, batch: 4 });
    expect(unitMemoryBytes(evalSpec)).toBeLessThan(unitMemoryBytes(train('micro', 4, 64)));
  });

  it.skipIf(!existsSync('/proc/self/status'))('bounds the measured peak of a real micro train unit from above, within 4× (skipped off Linux: no /proc)', () => {
    const opts = { preset: 'micro', batch: 4, seqLen: 64, steps: 2 };
    const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(import.meta.dirname, 'memory-probe.ts'), JSON.stringify(opts)], { encoding: 'utf8' });
    const m = JSON.parse(out.trim().split('\n').pop()!) as { baselineKiB: number; peakKiB: number; spec: unknown };
    const measured = (m.peakKiB - m.baselineKiB) * 1024;
    const estimate = unitMemoryBytes(parseUnitSpec(m.spec));
    expect(measured).toBeGreaterThan(0);
    expect(estimate, `estimate ${(estimate / 2 ** 20).toFixed(1)} MiB vs measured ${(measured / 2 ** 20).toFixed(1)} MiB`).toBeGreaterThanOrEqual(measured);
    expect(estimate).toBeLessThanOrEqual(4 * measured);
  }, 120_000);
});
