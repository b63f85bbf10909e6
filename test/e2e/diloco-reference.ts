/**
 * An independent oracle for a DiLoCo run: the same rounds computed directly
 * (runUnit per slot, decode, outer step), with no tracker, no network and no
 * quorum. A swarm run whose every corrupted result was rejected must end at
 * exactly this checkpoint.
 */
import { sha256Hex } from '../../src/core/sha256.ts';
import type { ModelConfig } from '../../src/model/config.ts';
import { createRefBackend } from '../../src/tensor/backend/ref.ts';
import { Engine } from '../../src/tensor/tensor.ts';
import { encodeGlobalState, initGlobalState, outerRound } from '../../src/train/diloco/checkpoint.ts';
import type { RoundAggregate } from '../../src/train/diloco/checkpoint.ts';
import { encodeOptBlob } from '../../src/train/work/opt-blob.ts';
import { decodeParamsBlob, encodeParamsBlob } from '../../src/train/work/params-blob.ts';
import { runUnit } from '../../src/train/work/run-unit.ts';
import { decodeTrainResult, deltaRows } from '../../src/train/work/train-result.ts';

interface Spec {
  config: ModelConfig;
  slots: number;
  rounds: number;
  innerSteps: number;
  batch: number;
  seqLen: number;
  adamw: Record<string, number>;
  outer: { lr: number; momentum: number };
  aggregate: RoundAggregate;
  downlink?: 'f32' | 'int8';
  init: string;
  shards: string[][];
}

export function referenceCheckpoint(specIn: Record<string, unknown>, blobs: Uint8Array[]): string {
  const spec = specIn as unknown as Spec;
  const store = new Map(blobs.map((b) => [sha256Hex(b), b]));
  const engine = new Engine(createRefBackend());
  const int8Down = spec.downlink === 'int8';
  let state = initGlobalState(decodeParamsBlob(store.get(spec.init)!, spec.config), { residual: int8Down });
  let params = spec.init;
  const opt: Array<string | null> = Array.from({ length: spec.slots }, () => null);
  for (let r = 0; r < spec.rounds; r++) {
    const deltas: Float32Array[] = [];
    for (let k = 0; k < spec.slots; k++) {
      const unit = { kind: 'train', v: 1, config: spec.config, params, opt: opt[k], data: spec.shards[r]![k]!, steps: spec.innerSteps, batch: spec.batch, seqLen: spec.seqLen, adamw: spec.adamw };
      const out = runUnit(engine, unit, (h) => store.get(h));
      const res = decodeTrainResult(out.result, spec.config);
      deltas.push(res.delta);
      const o = encodeOptBlob(spec.config, res.opt);
      store.set(sha256Hex(o), o);
      opt[k] = sha256Hex(o);
    }
    state = outerRound(state, deltas, { outer: spec.outer, aggregate: spec.aggregate, ...(int8Down ? { downlinkRows: deltaRows(spec.config) } : {}) }).state;
    const p = encodeParamsBlob(spec.config, state.theta);
    store.set(sha256Hex(p), p);
    params = sha256Hex(p);
  }
  return sha256Hex(encodeGlobalState(state));
}
