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
 * Rough by design (the real peak depends on when the engine frees
 * temporaries); test/train/memory.test.ts measures it against a real unit.
 */
import { headDim } from '../../model/config.ts';
import { paramCount } from '../../model/llama.ts';
import type { UnitSpec } from './kinds.ts';

const F32 = 4;

export function unitMemoryBytes(spec: UnitSpec): number {
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
