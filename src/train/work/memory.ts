/**
 * How much memory a unit needs, estimated from its spec before it runs, so a
 * provider with a hard budget (a browser tab: a wasm32 memory and whatever
 * the tab may take before the browser kills it) refuses a unit it cannot
 * hold instead of crashing half-way (issue 18).
 *
 * An upper estimate from the tensor shapes, in f32 bytes; it counts what the
 * autograd tape keeps alive at the peak (end of the forward pass, start of
 * the backward), per layer per token:
 *   - attention: the normed input, q, k, v, the scores, the softmax and its
 *     masked copy (3 · H · T per token), the attention output and o-proj:
 *     ≈ 6 · D + 2 · kvDim + 3 · H · T;
 *   - feed-forward (SwiGLU): the normed input, gate, up, silu(gate), their
 *     product and the down-projection: ≈ 2 · D + 4 · F;
 *   - the residual stream: D.
 * On top, the logits, their softmax and its gradient (3 · V per token), and
 * for training the parameter-sized buffers: θ, its gradient, AdamW's m and v,
 * the θ_in kept for Δ = θ_in − θ_out, and Δ itself (6 · P). The backward pass
 * holds the activations' gradients next to the activations, so training
 * counts activations twice. An eval unit keeps only one layer's activations
 * at a time (no tape) and θ.
 *
 * The tensors alone undercount what a process needs: temporaries live until
 * the garbage collector runs, and the engine, its compiled code and the wasm
 * memory cost a fixed amount. Calibrated against the peak resident memory
 * (VmHWM − VmRSS before the unit) of one train unit on the wasm backend in
 * Node 20, AMD EPYC, 2 inner steps: micro 2×32 144 MiB, micro 4×64 188 MiB,
 * micro 8×128 384 MiB, nano 8×128 121 MiB — against tensor counts of about
 * 55, 88, 259 and 23 MiB. Hence the estimate is RUNTIME_BYTES + 1.5 × the
 * tensor count, which bounds all four from above by 1.1–1.3×.
 * test/train/memory.test.ts re-measures one shape and holds the estimate to
 * [measured, 4 × measured].
 */
import { headDim } from '../../model/config.ts';
import { paramCount } from '../../model/llama.ts';
import type { UnitSpec } from './kinds.ts';

const F32 = 4;
/** The engine, its code and the wasm memory's floor (see the header's measurements). */
export const RUNTIME_BYTES = 112 * 2 ** 20;
/** Garbage not yet collected, on top of the tensors the tape keeps (see the header). */
const GC_SLACK = 1.5;

/** Estimated peak memory of running `spec`, bytes (see the header). */
export function unitMemoryBytes(spec: UnitSpec): number {
  return RUNTIME_BYTES + Math.ceil(GC_SLACK * tensorBytes(spec));
}

/** f32 bytes of the tensors alive at the peak (the header's count). */
function tensorBytes(spec: UnitSpec): number {
  const c = spec.config;
  const P = paramCount(c);
  const T = spec.seqLen;
  const tokens = spec.batch * T;
  const kvDim = c.nKvHeads * headDim(c);
  const perLayerPerToken = 6 * c.dim + 2 * kvDim + 3 * c.nHeads * T + 2 * c.dim + 4 * c.hiddenDim + c.dim;
  const logitsPerToken = 3 * c.vocabSize;
  if (spec.kind === 'train') {
    const activations = tokens * (c.nLayers * perLayerPerToken + logitsPerToken);
    return F32 * (6 * P + 2 * activations);
  }
  return F32 * (P + tokens * (perLayerPerToken + logitsPerToken));
}
