/**
 * The unit runner of in-process test providers: the pure unit
 * (src/train/work) on the `ref` backend, in this thread (the Node provider
 * runs it in a sandboxed worker; the bits are the same).
 */
import type { UnitRunner } from '../../src/provider/loop.ts';
import { createRefBackend } from '../../src/tensor/backend/ref.ts';
import { Engine } from '../../src/tensor/tensor.ts';
import { runUnit } from '../../src/train/work/run-unit.ts';

const engine = new Engine(createRefBackend());

export const refRunner: UnitRunner = { run: async (spec, blobs) => runUnit(engine, spec, (h) => blobs.get(h)) };
