/**
 * An independent binary64 Llama forward pass written with plain loops (no
 * engine ops), used to check the engine's model: forward logits agree and
 * finite differences of this loss match the engine's analytic gradients.
 * Weights use the same [in, out] layout and canonical parameter order.
 */
import type { ModelConfig } from '../../src/model/config.ts';

type P = Map<string, Float64Array>;

function rmsnorm(x: Float64Array, w: Float64Array, eps: number): Float64Array {
  let ms = 0;
  for (const v of x) ms += v * v;
  const inv = 1 / Math.sqrt(ms / x.length + eps);
  return x.map((v, i) => v * inv * w[i]!);
}

/** y[out] = sum_in x[in] W[in, out]. */
function linear(x: Float64Array, w: Float64Array, nOut: number): Float64Array {
  const y = new Float64Array(nOut);
  for (let i = 0; i < x.length; i++) for (let o = 0; o < nOut; o++) y[o] += x[i]! * w[i * nOut + o]!;
  return y;
}

function ropeInPlace(v: Float64Array, off: number, e: number, pos: number, theta: number): void {
  const half = e / 2;
  const x = v.slice(off, off + e);
  for (let i = 0; i < e; i++) {
    const fi = i % half;
    const ang = pos * Math.pow(theta, (-2 * fi) / e);
    const rot = i < half ? -x[i + half]! : x[i - half]!;
    v[off + i] = x[i]! * Math.cos(ang) + rot * Math.sin(ang);
  }
}

/** Mean cross-entropy over [B, T] of next-token targets. */
export function llamaLoss64(c: ModelConfig, p: P, inputs: Int32Array, targets: Int32Array, B: number, T: number): number {
  const D = c.dim, H = c.nHeads, K = c.nKvHeads, E = D / H, F = c.hiddenDim, V = c.vocabSize;
  let total = 0;
  for (let b = 0; b < B; b++) {
    let hs: Float64Array[] = [];
    for (let t = 0; t < T; t++) hs.push(p.get('embed')!.slice(inputs[b * T + t]! * D, (inputs[b * T + t]! + 1) * D));
    for (let l = 0; l < c.nLayers; l++) {
      const g = (n: string) => p.get(`layers.${l}.${n}`)!;
      const xs = hs.map((h) => rmsnorm(h, g('attnNorm'), c.normEps));
      const qs = xs.map((x, t) => { const q = linear(x, g('wq'), H * E); for (let h = 0; h < H; h++) ropeInPlace(q, h * E, E, t, c.ropeTheta); return q; });
      const ks = xs.map((x, t) => { const k = linear(x, g('wk'), K * E); for (let h = 0; h < K; h++) ropeInPlace(k, h * E, E, t, c.ropeTheta); return k; });
      const vs = xs.map((x) => linear(x, g('wv'), K * E));
      const next: Float64Array[] = [];
      for (let t = 0; t < T; t++) {
        const o = new Float64Array(H * E);
        for (let h = 0; h < H; h++) {
          const kh = Math.floor(h / (H / K));
          const s: number[] = [];
          for (let u = 0; u <= t; u++) {
            let dot = 0;
            for (let i = 0; i < E; i++) dot += qs[t]![h * E + i]! * ks[u]![kh * E + i]!;
            s.push(dot / Math.sqrt(E));
          }
          const m = Math.max(...s);
          const ex = s.map((v) => Math.exp(v - m));
          const z = ex.reduce((a, v) => a + v, 0);
          for (let u = 0; u <= t; u++) for (let i = 0; i < E; i++) o[h * E + i] += (ex[u]! / z) * vs[u]![kh * E + i]!;
        }
        const proj = linear(o, g('wo'), D);
        const h1 = hs[t]!.map((v, i) => v + proj[i]!);
        const y = rmsnorm(h1, g('mlpNorm'), c.normEps);
        const gate = linear(y, g('wGate'), F);
        const up = linear(y, g('wUp'), F);
        const act = gate.map((a, i) => (a / (1 + Math.exp(-a))) * up[i]!);
        const down = linear(act, g('wDown'), D);
        next.push(h1.map((v, i) => v + down[i]!));
      }
      hs = next;
    }
    for (let t = 0; t < T; t++) {
      const hn = rmsnorm(hs[t]!, p.get('norm')!, c.normEps);
      let logits: Float64Array;
      if (c.tiedEmbeddings) {
        const emb = p.get('embed')!;
        logits = new Float64Array(V);
        for (let v = 0; v < V; v++) for (let i = 0; i < D; i++) logits[v] += hn[i]! * emb[v * D + i]!;
      } else logits = linear(hn, p.get('lmHead')!, V);
      const m = Math.max(...logits);
      let z = 0;
      for (const v of logits) z += Math.exp(v - m);
      total += -(logits[targets[b * T + t]!]! - m - Math.log(z));
    }
  }
  return total / (B * T);
}
