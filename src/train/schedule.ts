/**
 * Learning-rate schedule: linear warm-up then cosine decay to a floor
 * (Loshchilov & Hutter 2017, SGDR; the warm-up + cosine shape used by GPT-3
 * and Llama). Cosine from the canonical sincos64 so every machine agrees.
 */
import { sincos64 } from '../tensor/math.ts';

export interface Schedule {
  maxLr: number;
  minLr: number;
  warmupSteps: number;
  totalSteps: number;
}

/** Learning rate at step s (0-based). */
export function lrAt(s: Schedule, step: number): number {
  if (step < s.warmupSteps) return (s.maxLr * (step + 1)) / s.warmupSteps;
  if (step >= s.totalSteps) return s.minLr;
  const span = Math.max(1, s.totalSteps - s.warmupSteps);
  const progress = (step - s.warmupSteps) / span;
  const cos = sincos64(Math.PI * progress).cos;
  return s.minLr + 0.5 * (s.maxLr - s.minLr) * (1 + cos);
}
