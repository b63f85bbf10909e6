/**
 * The `ref` twins of the fused kernels (backend.ts FusedKernels): plain
 * loops that perform, element by element, exactly the binary32 roundings the
 * composed primitives perform on `ref` (composite.ts, with the backward
 * passes of ops.ts as autograd runs them), in the same order. They are the
 * definition a fused kernel in any backend must reproduce; the native C
 * kernels (native/c/fused_body.h) mirror them line for line, and
 * test/tensor/fused.test.ts holds the twins to the composed graph and every
 * backend to the twins.
 *
 * Reading the autograd order: gradients() walks the graph in reverse
 * topological order (autograd.ts); when a tensor feeds several nodes, each
 * node's contribution is added to its running gradient when that node is
 * reached (the first one is taken as it is, not added to zero). The order of
 * those contributions is written out for each kernel below.
 */
import type { FusedKernels } from './backend/backend.ts';
import { expf, fmax, logf, rsqrtf } from './math.ts';

const f = Math.fround;

/**
 * RMSNorm, composite.ts rmsNorm: mean(x*x) = sum(x*x) / d (sum from +0 in
 * order), r = rsqrt(mean + eps), y = (x * r) * w.
 */
function rmsNorm(x: Float32Array, w: Float32Array, rows: number, d: number, eps: number): { y: Float32Array; r: Float32Array } {
  const y = new Float32Array(rows * d);
  const r = new Float32Array(rows);
  const n = f(d);
  for (let i = 0; i < rows; i++) {
    const o = i * d;
    let s = 0;
    for (let j = 0; j < d; j++) s = f(s + f(x[o + j]! * x[o + j]!));
    const ri = rsqrtf(f(f(s / n) + eps));
    r[i] = ri;
    for (let j = 0; j < d; j++) y[o + j] = f(f(x[o + j]! * ri) * w[j]!);
  }
  return { y, r };
}

/**
 * RMSNorm backward. With X1 = x * r and y = X1 * w, autograd reaches (in
 * reverse) y = mul(X1, w): dX1 = g*w, dw += sum over rows of g*X1; then
 * X1 = mul(x, r): x gets dX1*r (first contribution), dr = sum_j dX1*x; then
 * r = rsqrt(A): dA = dr * (((r*r)*r) * -0.5); A = M + eps passes it on;
 * M = S / d: q = dA / d; S = sum(P) broadcasts q; P = mul(x, x): x gets
 * q*x twice (parent 0, then parent 1). So dx = ((acc + dX1*r) + q*x) + q*x.
 */
function rmsNormBackward(g: Float32Array, x: Float32Array, w: Float32Array, r: Float32Array, rows: number, d: number, acc: Float32Array | null): { dx: Float32Array; dw: Float32Array } {
  const dx = new Float32Array(rows * d);
  const dw = new Float32Array(d);
  const n = f(d);
  for (let i = 0; i < rows; i++) {
    const o = i * d;
    const ri = r[i]!;
    let dr = 0;
    for (let j = 0; j < d; j++) dr = f(dr + f(f(g[o + j]! * w[j]!) * x[o + j]!));
    const dA = f(dr * f(f(f(ri * ri) * ri) * -0.5));
    const q = f(dA / n);
    for (let j = 0; j < d; j++) {
      const c1 = f(f(g[o + j]! * w[j]!) * ri);
      const cp = f(q * x[o + j]!);
      let a = acc === null ? c1 : f(acc[o + j]! + c1);
      a = f(a + cp);
      dx[o + j] = f(a + cp);
    }
  }
  // dw: mul's gradient summed to w's shape: rows summed in order from +0.
  for (let i = 0; i < rows; i++) {
    const o = i * d;
    const ri = r[i]!;
    for (let j = 0; j < d; j++) dw[j] = f(dw[j]! + f(g[o + j]! * f(x[o + j]! * ri)));
  }
  return { dx, dw };
}

/**
 * Attention probabilities, llama.ts's softmax(add(mul(x, scale), mask)):
 * u = x*scale + mask; m = max u (IEEE maximum from -Inf); e = exp(u - m);
 * s = sum e (from +0); y = e / s.
 */
function attnSoftmax(x: Float32Array, scale: number, mask: Float32Array, rows: number, n: number, maskRows: number): { y: Float32Array; m: Float32Array; s: Float32Array } {
  const y = new Float32Array(rows * n);
  const m = new Float32Array(rows);
  const s = new Float32Array(rows);
  for (let i = 0; i < rows; i++) {
    const o = i * n, mo = (i % maskRows) * n;
    let mx = -Infinity;
    for (let j = 0; j < n; j++) mx = fmax(mx, f(f(x[o + j]! * scale) + mask[mo + j]!));
    let sum = 0;
    for (let j = 0; j < n; j++) {
      const e = expf(f(f(f(x[o + j]! * scale) + mask[mo + j]!) - mx));
      y[o + j] = e;
      sum = f(sum + e);
    }
    for (let j = 0; j < n; j++) y[o + j] = f(y[o + j]! / sum);
    m[i] = mx;
    s[i] = sum;
  }
  return { y, m, s };
}

/**
 * Its backward. Reverse order: y = div(e, s) gives e the first contribution
 * q = g / s and s the gradient sum_j -((q*e) / s) (from +0); s = sum(e)
 * then adds that to every e: q + gs; e = exp(z): times e; z = u - m and
 * u = t + mask pass it on (m and the mask are constants); t = x * scale:
 * times scale.
 */
function attnSoftmaxBackward(g: Float32Array, x: Float32Array, scale: number, mask: Float32Array, m: Float32Array, s: Float32Array, rows: number, n: number, maskRows: number): Float32Array {
  const dx = new Float32Array(rows * n);
  const e = new Float32Array(n);
  for (let i = 0; i < rows; i++) {
    const o = i * n, mo = (i % maskRows) * n;
    const si = s[i]!, mi = m[i]!;
    let gs = 0;
    for (let j = 0; j < n; j++) {
      e[j] = expf(f(f(f(x[o + j]! * scale) + mask[mo + j]!) - mi));
      const q = f(g[o + j]! / si);
      gs = f(gs + -f(f(q * e[j]!) / si));
    }
    for (let j = 0; j < n; j++) dx[o + j] = f(f(f(f(g[o + j]! / si) + gs) * e[j]!) * scale);
  }
  return dx;
}

/** silu(gate) * up with silu(x) = x / (1 + exp(-x)) (composite.ts silu). */
function swiglu(gate: Float32Array, up: Float32Array): Float32Array {
  const out = new Float32Array(gate.length);
  for (let i = 0; i < gate.length; i++) {
    const x = gate[i]!;
    out[i] = f(f(x / f(1 + expf(-x))) * up[i]!);
  }
  return out;
}

/**
 * Its backward. Reverse order: out = mul(s, up): ds = g*up, dup = g*s;
 * s = div(x, d): x gets q = ds / d first, d gets -((q*x) / d); d = 1 + e
 * passes it to e; e = exp(n): times e; n = neg(x): x gets -(that), added
 * second: dgate = q + -(dd * e).
 */
function swigluBackward(g: Float32Array, gate: Float32Array, up: Float32Array): { dGate: Float32Array; dUp: Float32Array } {
  const dGate = new Float32Array(gate.length);
  const dUp = new Float32Array(gate.length);
  for (let i = 0; i < gate.length; i++) {
    const x = gate[i]!;
    const e = expf(-x);
    const d = f(1 + e);
    const s = f(x / d);
    const ds = f(g[i]! * up[i]!);
    dUp[i] = f(g[i]! * s);
    const q = f(ds / d);
    const dd = -f(f(q * x) / d);
    dGate[i] = f(q + -f(dd * e));
  }
  return { dGate, dUp };
}

/**
 * Mean cross-entropy, composite.ts crossEntropy: sh = x - max x; lse =
 * log(sum exp(sh)) (from +0); the picked log-probabilities sh[t] - lse summed
 * over rows in order from +0; loss = -(sum / rows).
 */
function crossEntropy(logits: Float32Array, targets: Int32Array, rows: number, v: number): { loss: number; m: Float32Array; se: Float32Array } {
  const m = new Float32Array(rows);
  const se = new Float32Array(rows);
  let total = 0;
  for (let i = 0; i < rows; i++) {
    const o = i * v;
    let mx = -Infinity;
    for (let j = 0; j < v; j++) mx = fmax(mx, logits[o + j]!);
    let sum = 0;
    for (let j = 0; j < v; j++) sum = f(sum + expf(f(logits[o + j]! - mx)));
    m[i] = mx;
    se[i] = sum;
    total = f(total + f(f(logits[o + targets[i]!]! - mx) - logf(sum)));
  }
  return { loss: -f(total / f(rows)), m, se };
}

/**
 * Its backward from dL/dloss = gLoss. Reverse order: neg, then div by rows:
 * q = -gLoss / rows; the picked values' gradient is scattered into a zero
 * table: dlp = (j == t ? 0 + q : +0); lp = sub(sh, lse): sh gets dlp first,
 * lse gets sum_j -dlp (from +0); lse = log(se): dse = dlse / se; se = sum(e)
 * broadcasts it; e = exp(sh): times e, added second: dx = dlp + dse*e (sh =
 * x - m passes it on; m is a constant).
 */
function crossEntropyBackward(gLoss: number, logits: Float32Array, targets: Int32Array, m: Float32Array, se: Float32Array, rows: number, v: number): Float32Array {
  const dx = new Float32Array(rows * v);
  const q = f(-gLoss / f(rows));
  const picked = f(0 + q);
  for (let i = 0; i < rows; i++) {
    const o = i * v, t = targets[i]!;
    let dlse = 0;
    for (let j = 0; j < v; j++) dlse = f(dlse + -(j === t ? picked : 0));
    const dse = f(dlse / se[i]!);
    for (let j = 0; j < v; j++) dx[o + j] = f((j === t ? picked : 0) + f(dse * expf(f(logits[o + j]! - m[i]!))));
  }
  return dx;
}

/**
 * Rotary embedding, composite.ts rope: y = x*cos + rotate_half(x)*sin with
 * rotate_half([x1, x2]) = [-x2, x1], over rows of d (h = d/2); table row =
 * row % tRows.
 */
function rope(x: Float32Array, cos: Float32Array, sin: Float32Array, rows: number, d: number, tRows: number): Float32Array {
  const y = new Float32Array(rows * d);
  const h = d / 2;
  for (let i = 0; i < rows; i++) {
    const o = i * d, t = (i % tRows) * d;
    for (let j = 0; j < d; j++) {
      const rot = j < h ? -x[o + j + h]! : x[o + j - h]!;
      y[o + j] = f(f(x[o + j]! * cos[t + j]!) + f(rot * sin[t + j]!));
    }
  }
  return y;
}

/**
 * Its backward. Reverse order: y = add(A, Bm) passes g on; Bm = mul(rot,
 * sin): rot gets g*sin; rot = concat([neg(x2), x1]) splits it; x1 = slice
 * (first half) is reached first and gives x its half padded with zeros
 * (concat([gx1, 0])); then neg(x2) and x2 = slice (second half): x gets
 * concat([0, -(g*sin)[first half]]); last A = mul(x, cos): x gets g*cos.
 * Each is added to x's running gradient in that order, zeros included (a
 * -0 + 0 is +0).
 */
function ropeBackward(g: Float32Array, cos: Float32Array, sin: Float32Array, rows: number, d: number, tRows: number, acc: Float32Array | null): Float32Array {
  const dx = new Float32Array(rows * d);
  const h = d / 2;
  for (let i = 0; i < rows; i++) {
    const o = i * d, t = (i % tRows) * d;
    for (let j = 0; j < d; j++) {
      const fromX1 = j < h ? f(g[o + j + h]! * sin[t + j + h]!) : 0;
      const fromX2 = j < h ? 0 : -f(g[o + j - h]! * sin[t + j - h]!);
      let a = acc === null ? fromX1 : f(acc[o + j]! + fromX1);
      a = f(a + fromX2);
      dx[o + j] = f(a + f(g[o + j]! * cos[t + j]!));
    }
  }
  return dx;
}

/** The twins as a FusedKernels (tests plug it into `ref` to check the twins against the composed graph). */
export const FUSED_TWIN: FusedKernels = {
  rmsNorm,
  rmsNormBackward,
  attnSoftmax,
  attnSoftmaxBackward,
  swiglu,
  swigluBackward,
  crossEntropy,
  crossEntropyBackward,
  rope,
  ropeBackward,
};
