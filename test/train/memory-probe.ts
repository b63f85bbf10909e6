/**
 * Child process of test/train/memory.test.ts: runs one train unit (spec
 * from argv as JSON options) on the wasm backend in this process and prints
 * {baselineKiB, peakKiB} from /proc/self/status (VmRSS before the unit,
 * VmHWM after): the unit's real peak, typed arrays and wasm memory included.
 */
import { readFileSync } from 'node:fs';
import { Engine } from '../../src/tensor/tensor.ts';
import { createWasmBackend } from '../../src/tensor/wasm/backend.ts';
import { runUnit } from '../../src/train/work/run-unit.ts';
import { createRefBackend } from '../../src/tensor/backend/ref.ts';
import { DILOCO_INNER } from '../../src/train/adamw.ts';
import { planDilocoRun } from '../../src/train/diloco/plan.ts';
import { sha256Hex } from '../../src/core/sha256.ts';

const o = JSON.parse(process.argv[2]!) as { preset: string; batch: number; seqLen: number; steps: number };
const plan = planDilocoRun(new Engine(createRefBackend()), {
  preset: o.preset, seed: 1, slots: 1, innerSteps: o.steps, rounds: 1, batch: o.batch, seqLen: o.seqLen,
  adamw: DILOCO_INNER, outer: { lr: 0.7, momentum: 0.9 }, aggregate: { kind: 'mean' },
  replication: 1, quorumFraction: 1, roundDeadlineMs: 60_000, leaseMs: 60_000, evalWindows: 0,
});
const s = plan.spec as { config: unknown; init: string; shards: string[][] };
const spec = { kind: 'train', v: 1, config: s.config, params: s.init, opt: null, data: s.shards[0]![0]!, steps: o.steps, batch: o.batch, seqLen: o.seqLen, adamw: DILOCO_INNER };
const blobs = new Map(plan.blobs.map((b) => [sha256Hex(b), b]));
const engine = new Engine(await createWasmBackend({ threads: 1 }));
const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'))![1]);
(globalThis as { gc?: () => void }).gc?.();
const baselineKiB = kib('VmRSS');
runUnit(engine, spec, (h) => blobs.get(h));
process.stdout.write(`${JSON.stringify({ baselineKiB, peakKiB: kib('VmHWM'), spec })}\n`);
