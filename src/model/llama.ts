/**
 * A Llama-architecture decoder (Touvron et al. 2023): token embedding,
 * pre-norm blocks of RMSNorm → causal multi-head attention with rotary
 * positions and optional grouped-query heads → residual, RMSNorm → SwiGLU MLP
 * (Shazeer 2020) → residual; final RMSNorm and LM head (optionally tied).
 *
 * Weights are stored [in, out] so a linear layer is x · W with no transpose;
 * checkpoints convert to Hugging Face's [out, in] (format/weights.ts).
 * Shapes in comments: B batch, T time, D dim, H heads, K kv heads,
 * E head dim, F hidden dim, V vocab.
 */
import { SwarmError } from '../core/errors.ts';
import type { Prng } from '../core/prng.ts';
// Fused where the backend has the kernels, composed otherwise: the same bits (tensor/fused.ts).
import { attentionSoftmax, crossEntropy, rmsNorm, rope, swiglu } from '../tensor/fused.ts';
import { randn } from '../tensor/init.ts';
import { add, expand, gather, matmul, permute, reshape, slice, transpose } from '../tensor/ops.ts';
import { ropeTables } from '../tensor/rope.ts';
import type { Engine, Tensor } from '../tensor/tensor.ts';
import type { ModelConfig } from './config.ts';
import { headDim, validateConfig } from './config.ts';

export interface LayerParams {
  attnNorm: Tensor; // [D]
  wq: Tensor; // [D, H*E]
  wk: Tensor; // [D, K*E]
  wv: Tensor; // [D, K*E]
  wo: Tensor; // [H*E, D]
  mlpNorm: Tensor; // [D]
  wGate: Tensor; // [D, F]
  wUp: Tensor; // [D, F]
  wDown: Tensor; // [F, D]
}

export interface LlamaParams {
  embed: Tensor; // [V, D]
  layers: LayerParams[];
  norm: Tensor; // [D]
  lmHead: Tensor | null; // [D, V] when not tied
}

/** Canonical parameter order: the order of the flat parameter blob and of the optimizer state. */
export function paramEntries(p: LlamaParams): Array<[string, Tensor]> {
  const out: Array<[string, Tensor]> = [['embed', p.embed]];
  p.layers.forEach((l, i) => {
    for (const k of ['attnNorm', 'wq', 'wk', 'wv', 'wo', 'mlpNorm', 'wGate', 'wUp', 'wDown'] as const) out.push([`layers.${i}.${k}`, l[k]]);
  });
  out.push(['norm', p.norm]);
  if (p.lmHead) out.push(['lmHead', p.lmHead]);
  return out;
}

export function paramList(p: LlamaParams): Tensor[] {
  return paramEntries(p).map(([, t]) => t);
}

/** Shapes of every parameter in canonical order. */
export function paramShapes(c: ModelConfig): Array<[string, number[]]> {
  const e = headDim(c);
  const out: Array<[string, number[]]> = [['embed', [c.vocabSize, c.dim]]];
  for (let i = 0; i < c.nLayers; i++) {
    out.push(
      [`layers.${i}.attnNorm`, [c.dim]],
      [`layers.${i}.wq`, [c.dim, c.nHeads * e]],
      [`layers.${i}.wk`, [c.dim, c.nKvHeads * e]],
      [`layers.${i}.wv`, [c.dim, c.nKvHeads * e]],
      [`layers.${i}.wo`, [c.nHeads * e, c.dim]],
      [`layers.${i}.mlpNorm`, [c.dim]],
      [`layers.${i}.wGate`, [c.dim, c.hiddenDim]],
      [`layers.${i}.wUp`, [c.dim, c.hiddenDim]],
      [`layers.${i}.wDown`, [c.hiddenDim, c.dim]],
    );
  }
  out.push(['norm', [c.dim]]);
  if (!c.tiedEmbeddings) out.push(['lmHead', [c.dim, c.vocabSize]]);
  return out;
}

/** Number of trainable parameters: the length of the flat vector of paramShapes. */
export function paramCount(c: ModelConfig): number {
  return paramShapes(c).reduce((s, [, sh]) => s + sh.reduce((a, b) => a * b, 1), 0);
}

/** Rebuild a parameter set from tensors in canonical order (e.g. from a flat blob). */
export function paramsFromList(c: ModelConfig, ts: readonly Tensor[]): LlamaParams {
  const shapes = paramShapes(c);
  if (ts.length !== shapes.length) {
    throw new SwarmError('MODEL_BAD_PARAMS', `expected ${shapes.length} parameter tensors, got ${ts.length}`);
  }
  shapes.forEach(([name, s], i) => {
    const t = ts[i]!;
    if (t.shape.length !== s.length || t.shape.some((d, j) => d !== s[j])) {
      throw new SwarmError('MODEL_BAD_PARAMS', `parameter ${name} has shape [${t.shape.join(',')}], expected [${s.join(',')}]`);
    }
  });
  let at = 0;
  const next = () => ts[at++]!;
  const embed = next();
  const layers: LayerParams[] = [];
  for (let i = 0; i < c.nLayers; i++) {
    layers.push({ attnNorm: next(), wq: next(), wk: next(), wv: next(), wo: next(), mlpNorm: next(), wGate: next(), wUp: next(), wDown: next() });
  }
  const norm = next();
  const lmHead = c.tiedEmbeddings ? null : next();
  return { embed, layers, norm, lmHead };
}

/**
 * Seeded initialisation: N(0, initStd²) for matrices, with the residual
 * output projections (wo, wDown) scaled by 1/sqrt(2·nLayers) as in GPT-2
 * (Radford et al. 2019 §2.3); norm weights start at 1.
 */
export function initParams(engine: Engine, c: ModelConfig, rng: Prng): LlamaParams {
  validateConfig(c);
  const ts = paramShapes(c).map(([name, shape]) => {
    if (shape.length === 1) return engine.full(shape, 1, { requiresGrad: true });
    const residual = name.endsWith('.wo') || name.endsWith('.wDown');
    const std = residual ? c.initStd / Math.sqrt(2 * c.nLayers) : c.initStd;
    return randn(engine, shape, rng.fork(name), { std, requiresGrad: true });
  });
  return paramsFromList(c, ts);
}

/** Constant tensors a forward pass needs: rotary tables and the causal mask. */
export interface ModelConstants {
  cos: Tensor; // [maxSeqLen, E]
  sin: Tensor; // [maxSeqLen, E]
  causal: Tensor; // [maxSeqLen, maxSeqLen], 0 on and below the diagonal, -Inf above
}

export function modelConstants(engine: Engine, c: ModelConfig): ModelConstants {
  const { cos, sin } = ropeTables(engine, c.maxSeqLen, headDim(c), c.ropeTheta);
  const t = c.maxSeqLen;
  const mask = new Float32Array(t * t);
  for (let i = 0; i < t; i++) for (let j = i + 1; j < t; j++) mask[i * t + j] = -Infinity;
  return { cos, sin, causal: engine.tensor(mask, [t, t]) };
}

/** Repeat each of K kv heads H/K times: [B, K, T, E] → [B, H, T, E]. */
export function repeatKv(x: Tensor, nHeads: number): Tensor {
  const [b, k, t, e] = x.shape as [number, number, number, number];
  if (k === nHeads) return x;
  const rep = nHeads / k;
  return reshape(expand(reshape(x, [b, k, 1, t, e]), [b, k, rep, t, e]), [b, nHeads, t, e]);
}

function sliceRows(x: Tensor, n: number): Tensor {
  return x.shape[0] === n ? x : slice(x, 0, 0, n);
}

/** Logits [B, T, V] for tokens [B, T] (T <= maxSeqLen). */
export function forward(c: ModelConfig, p: LlamaParams, k: ModelConstants, tokens: Int32Array, batch: number, seqLen: number): Tensor {
  if (seqLen > c.maxSeqLen || tokens.length !== batch * seqLen) {
    throw new SwarmError('MODEL_BAD_INPUT', `expected ${batch}x${seqLen} tokens with T <= ${c.maxSeqLen}, got ${tokens.length}`);
  }
  const e = p.embed.engine;
  const E = headDim(c);
  const B = batch, T = seqLen, H = c.nHeads, K = c.nKvHeads, D = c.dim;
  const cos = sliceRows(k.cos, T), sin = sliceRows(k.sin, T);
  const mask = T === c.maxSeqLen ? k.causal : slice(slice(k.causal, 0, 0, T), 1, 0, T);
  const scale = e.scalar(1 / Math.sqrt(E));
  let h = gather(p.embed, tokens, [B, T]); // [B, T, D]
  for (const l of p.layers) {
    const x = reshape(rmsNorm(h, l.attnNorm, c.normEps), [B * T, D]);
    const heads = (w: Tensor, n: number) => permute(reshape(matmul(x, w), [B, T, n, E]), [0, 2, 1, 3]); // [B, n, T, E]
    const q = rope(heads(l.wq, H), cos, sin);
    const kk = repeatKv(rope(heads(l.wk, K), cos, sin), H);
    const v = repeatKv(heads(l.wv, K), H);
    const att = attentionSoftmax(matmul(q, transpose(kk, -1, -2)), scale, mask); // softmax(QKᵀ·scale + mask): [B, H, T, T]
    const o = reshape(permute(matmul(att, v), [0, 2, 1, 3]), [B * T, H * E]);
    h = add(h, reshape(matmul(o, l.wo), [B, T, D]));
    const y = reshape(rmsNorm(h, l.mlpNorm, c.normEps), [B * T, D]);
    const mlp = matmul(swiglu(matmul(y, l.wGate), matmul(y, l.wUp)), l.wDown); // (silu(y·Wg) * y·Wu)·Wd: [B*T, D]
    h = add(h, reshape(mlp, [B, T, D]));
  }
  const hn = reshape(rmsNorm(h, p.norm, c.normEps), [B * T, D]);
  const head = p.lmHead ?? transpose(p.embed, 0, 1); // [D, V]
  return reshape(matmul(hn, head), [B, T, c.vocabSize]);
}

/** Mean next-token cross-entropy: inputs [B, T], targets [B, T]. */
export function lossOf(c: ModelConfig, p: LlamaParams, k: ModelConstants, inputs: Int32Array, targets: Int32Array, batch: number, seqLen: number): Tensor {
  const logits = forward(c, p, k, inputs, batch, seqLen);
  return crossEntropy(reshape(logits, [batch * seqLen, c.vocabSize]), targets);
}
