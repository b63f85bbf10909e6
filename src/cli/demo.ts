/**
 * The interim `swarm up`: until the tracker, providers and DiLoCo runs land,
 * this shows the property everything rests on. It trains a small network on
 * a seeded toy task twice, with the `ref` and the `wasm` backends, and shows
 * that the trained parameters are the same bits (same SHA-256), which is what
 * lets a quorum of volunteers compare result hashes.
 */
import { Prng } from '../core/prng.ts';
import { sha256Hex } from '../core/sha256.ts';
import type { Backend } from '../tensor/backend/backend.ts';
import { gradients } from '../tensor/autograd.ts';
import { crossEntropy } from '../tensor/composite.ts';
import { randn } from '../tensor/init.ts';
import { sincos64 } from '../tensor/math.ts';
import { add, matmul, mul, sub, tanh } from '../tensor/ops.ts';
import { Engine } from '../tensor/tensor.ts';
import type { Tensor } from '../tensor/tensor.ts';

export interface DemoOptions {
  steps: number;
  seed: number;
  hidden: number;
  lr: number;
}

export interface DemoRun {
  backend: string;
  losses: number[];
  accuracy: number;
  paramsSha256: string;
  seconds: number;
}

/** Three interleaved spiral arms in 2-D (a classic non-linear toy task). */
function spiral(rng: Prng, perClass: number, classes: number): { x: Float32Array; y: Int32Array } {
  const n = perClass * classes;
  const x = new Float32Array(n * 2);
  const y = new Int32Array(n);
  for (let c = 0; c < classes; c++) {
    for (let i = 0; i < perClass; i++) {
      const r = i / perClass;
      // angle grows with radius; jitter from the seeded stream
      const t = (c * 2 * Math.PI) / classes + r * 4 + (rng.nextFloat() - 0.5) * 0.3;
      const k = c * perClass + i;
      // the canonical sin/cos, so the data set (and the printed hash) is the same on every machine
      const sc = sincos64(t);
      x[2 * k] = r * sc.cos;
      x[2 * k + 1] = r * sc.sin;
      y[k] = c;
    }
  }
  return { x, y };
}

export function trainDemo(backend: Backend, opts: DemoOptions, data: { x: Float32Array; y: Int32Array }, onStep?: (step: number, loss: number) => void): DemoRun {
  const e = new Engine(backend);
  const rng = Prng.fromSeed(opts.seed).fork('init');
  const n = data.y.length;
  const classes = 3;
  const X = e.tensor(data.x, [n, 2]);
  const W1 = randn(e, [2, opts.hidden], rng, { std: 1, requiresGrad: true });
  const b1 = e.zeros([opts.hidden], { requiresGrad: true });
  const W2 = randn(e, [opts.hidden, classes], rng, { std: 0.3, requiresGrad: true });
  const b2 = e.zeros([classes], { requiresGrad: true });
  let params: Tensor[] = [W1, b1, W2, b2];
  const forward = (p: Tensor[]) => add(matmul(tanh(add(matmul(X, p[0]!), p[1]!)), p[2]!), p[3]!);
  const lr = e.scalar(opts.lr);
  const losses: number[] = [];
  const t0 = performance.now();
  for (let step = 0; step < opts.steps; step++) {
    const loss = crossEntropy(forward(params), data.y);
    const grads = gradients(loss, params);
    losses.push(loss.item());
    onStep?.(step, loss.item());
    params = e.noGrad(() => params.map((p, i) => sub(p, mul(grads[i]!, lr)))).map((p) => e.tensor(p.data, p.shape, { requiresGrad: true }));
  }
  const logits = e.noGrad(() => forward(params));
  let correct = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (logits.data[i * classes + c]! > logits.data[i * classes + best]!) best = c;
    if (best === data.y[i]) correct++;
  }
  const bytes = new Uint8Array(params.reduce((s, p) => s + p.size * 4, 0));
  let at = 0;
  for (const p of params) {
    bytes.set(new Uint8Array(p.data.buffer, p.data.byteOffset, p.size * 4), at);
    at += p.size * 4;
  }
  return {
    backend: backend.name,
    losses,
    accuracy: correct / n,
    paramsSha256: sha256Hex(bytes),
    seconds: (performance.now() - t0) / 1000,
  };
}

export function demoData(seed: number): { x: Float32Array; y: Int32Array } {
  return spiral(Prng.fromSeed(seed).fork('data'), 100, 3);
}
