/**
 * Seeded parameter initialisation. Normal samples use Marsaglia's polar
 * method (Marsaglia & Bray 1964), which needs only log and sqrt (no trig),
 * evaluated with the canonical binary32 math so the same seed gives the same
 * bits everywhere.
 */
import { SwarmError } from '../core/errors.ts';
import { logf, sqrtf } from './math.ts';
import type { Shape } from './shape.ts';
import { checkShape, sizeOf } from './shape.ts';
import type { Engine, Tensor } from './tensor.ts';

/** The part of a PRNG the initialisers need: uniform binary32 values in [0, 1). */
export interface UniformSource {
  nextFloat(): number;
}

const f = Math.fround;

/** Fill `out` with N(0, std^2) samples. */
export function fillNormal(out: Float32Array, rng: UniformSource, std = 1): void {
  let i = 0;
  while (i < out.length) {
    let u = 0, v = 0, s = 0;
    do {
      u = f(f(2 * rng.nextFloat()) - 1);
      v = f(f(2 * rng.nextFloat()) - 1);
      s = f(f(u * u) + f(v * v));
    } while (s >= 1 || s === 0);
    const scale = sqrtf(f(f(-2 * logf(s)) / s));
    out[i++] = f(f(u * scale) * std);
    if (i < out.length) out[i++] = f(f(v * scale) * std);
  }
}

export function randn(engine: Engine, shape: Shape, rng: UniformSource, opts: { std?: number; requiresGrad?: boolean } = {}): Tensor {
  checkShape(shape);
  const size = sizeOf(shape);
  engine.checkSize(size, 'randn');
  const data = new Float32Array(size);
  fillNormal(data, rng, opts.std ?? 1);
  return engine.tensor(data, shape, { requiresGrad: opts.requiresGrad ?? false });
}

/** Uniform samples in [lo, hi). */
export function randUniform(engine: Engine, shape: Shape, rng: UniformSource, lo: number, hi: number): Tensor {
  checkShape(shape);
  if (!(hi > lo)) throw new SwarmError('TENSOR_BAD_ARGUMENT', `uniform range [${lo}, ${hi}) is empty`);
  const size = sizeOf(shape);
  engine.checkSize(size, 'randUniform');
  const data = new Float32Array(size);
  const w = f(hi - lo);
  for (let i = 0; i < size; i++) data[i] = f(f(rng.nextFloat() * w) + lo);
  return engine.tensor(data, shape);
}
