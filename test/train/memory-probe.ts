/**
 * Child process of test/train/memory.test.ts: runs one train unit (spec
 * from argv as JSON options) on the wasm backend in this process and prints
 * {baselineKiB, peakKiB} from /proc/self/status (VmRSS before the unit,
 * VmHWM after): the unit's real peak, typed arrays and wasm memory included.
 */
import { readFileSync } from 'node:fs';
import { benchUnit } from '../../src/cli/bench-browser.ts';
import { Engine } from '../../src/tensor/tensor.ts';
import { createWasmBackend } from '../../src/tensor/wasm/backend.ts';
import { runUnit } from '../../src/train/work/run-unit.ts';

const o = JSON.parse(process.argv[2]!) as { preset: string; batch: number; seqLen: number; steps: number };
const { spec, blobs } = benchUnit(o);
const engine = new Engine(await createWasmBackend({ threads: 1 }));
const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'))![1]);
(globalThis as { gc?: () => void }).gc?.();
const baselineKiB = kib('VmRSS');
runUnit(engine, spec, (h) => blobs.get(h));
process.stdout.write(`${JSON.stringify({ baselineKiB, peakKiB: kib('VmHWM'), spec })}\n`);
