/**
 * The gateway's sampler (model/generate.ts sampleToken, gateway/generation.ts
 * choiceRng) pinned exactly (issue 26, mutation testing): a scripted
 * uniform draw stands in for the Prng, so each case knows which token the
 * nucleus rule must return.
 */
import { describe, expect, it } from 'vitest';
import { Prng } from '../../src/core/prng.ts';
import { choiceRng } from '../../src/gateway/generation.ts';
import { sampleToken } from '../../src/model/generate.ts';

/** A Prng whose next uniform draw is `u`. */
const draw = (u: number): Prng => ({ nextFloat: () => u }) as unknown as Prng;
const pick = (logits: number[], temperature: number, topP: number, u: number): number =>
  sampleToken(Float32Array.from(logits), { temperature, topP }, draw(u));

describe('sampleToken', () => {
  it('is greedy (lowest id among ties) at temperature 0 or without a stream', () => {
    expect(sampleToken(Float32Array.of(1, 3, 3, 2), { temperature: 0, topP: 1 }, draw(0.99))).toBe(1);
    expect(sampleToken(Float32Array.of(1, 3, 3, 2), { temperature: 1, topP: 1 }, null)).toBe(1);
    expect(sampleToken(Float32Array.of(5, 1, 2), { temperature: 0, topP: 1 }, null)).toBe(0);
    expect(sampleToken(Float32Array.of(1, 2, 7), { temperature: 0, topP: 1 }, null)).toBe(2);
  });

  it('walks the tokens from most to least likely, ties by id, and picks where the draw falls', () => {
    // equal logits: probabilities 1/3 each, order 0, 1, 2
    expect(pick([0, 0, 0], 1, 1, 0)).toBe(0);
    expect(pick([0, 0, 0], 1, 1, 0.34)).toBe(1);
    expect(pick([0, 0, 0], 1, 1, 0.99)).toBe(2);
    // a draw landing exactly on the boundary between the first and second token belongs to the second
    expect(pick([0, 0], 1, 1, 0.5)).toBe(1);
    // the most likely token comes first whatever its id
    expect(pick([-3, 2, -3], 1, 1, 0)).toBe(1);
  });

  it('divides the logits by the temperature', () => {
    // logits 0 and -2: at T = 2 the second has probability 1/(1+e) ≈ 0.269; at T = 0.5 only e^-4/(1+e^-4) ≈ 0.018
    expect(pick([0, -2], 2, 1, 0.8)).toBe(1);
    expect(pick([0, -2], 2, 1, 0.7)).toBe(0);
    expect(pick([0, -2], 0.5, 1, 0.8)).toBe(0);
    expect(pick([0, -2], 0.5, 1, 0.99)).toBe(1);
    expect(pick([0, -2], 1, 1, 0.85)).toBe(0); // T = 1: 0.119
    expect(pick([0, -2], 1, 1, 0.9)).toBe(1);
  });

  it('subtracts the largest logit first, so large logits do not overflow', () => {
    expect(pick([100, 99], 1, 1, 0.5)).toBe(0); // p = 0.731 / 0.269
    expect(pick([100, 99], 1, 1, 0.8)).toBe(1);
    expect(pick([99, 100], 1, 1, 0.5)).toBe(1);
    expect(pick([-100, -99], 1, 1, 0.8)).toBe(0);
    // the largest logit first, then a far smaller one: subtracting anything but the maximum would overflow expf
    expect(pick([200, 199, 0], 1, 1, 0.99)).toBe(1);
  });

  it('keeps the smallest set of most likely tokens whose mass reaches top_p', () => {
    // a tiny nucleus is the greedy token, whatever the draw
    for (const u of [0, 0.5, 0.999]) expect(pick([0, 1, 0.5], 1, 1e-6, u)).toBe(1);
    // two equal tokens and top_p exactly 1/2: the first alone reaches it
    expect(pick([0, 0], 1, 0.5, 0.9)).toBe(0);
    // just above 1/2 both are kept
    expect(pick([0, 0], 1, 0.5 + 1e-9, 0.9)).toBe(1);
    // three equal tokens, top_p 0.5: two kept, the draw is scaled to their mass
    expect(pick([0, 0, 0], 1, 0.5, 0.6)).toBe(1);
    expect(pick([0, 0, 0], 1, 0.5, 0.4)).toBe(0);
    expect(pick([0, 0, 0], 1, 0.5, 0.99)).toBe(1);
    // a tie at the nucleus edge keeps the lower id
    expect(pick([0, 0, 0], 1, 1e-6, 0.99)).toBe(0);
  });

  it('with a real seeded stream, the same seed gives the same tokens', () => {
    const logits = Float32Array.from({ length: 50 }, (_, i) => Math.sin(i) * 3);
    const run = (seed: number) => {
      const rng = Prng.fromSeed(seed);
      return Array.from({ length: 40 }, () => sampleToken(logits, { temperature: 1, topP: 0.9 }, rng));
    };
    expect(run(3)).toEqual(run(3));
    expect(run(3)).not.toEqual(run(4));
  });
});

describe('choiceRng', () => {
  const take = (p: Prng) => [p.nextFloat(), p.nextFloat(), p.nextFloat()];

  it('choice 0 is the `swarm generate --seed` stream; later choices fork from it', () => {
    expect(take(choiceRng(42, 0))).toEqual(take(Prng.fromSeed(42).fork('sample')));
    expect(take(choiceRng(42, 1))).toEqual(take(Prng.fromSeed(42).fork('sample').fork(1)));
    expect(take(choiceRng(42, 2))).toEqual(take(Prng.fromSeed(42).fork('sample').fork(2)));
    expect(take(choiceRng(42, 1))).not.toEqual(take(choiceRng(42, 0)));
  });

  it('u32 seeds seed the stream as numbers; other integers by their decimal text', () => {
    expect(take(choiceRng(0, 0))).toEqual(take(Prng.fromSeed(0).fork('sample')));
    expect(take(choiceRng(2 ** 32 - 1, 0))).toEqual(take(Prng.fromSeed(2 ** 32 - 1).fork('sample')));
    expect(take(choiceRng(2 ** 32, 0))).toEqual(take(Prng.fromSeed('4294967296').fork('sample')));
    expect(take(choiceRng(-1, 0))).toEqual(take(Prng.fromSeed('-1').fork('sample')));
    expect(take(choiceRng(1.5, 0))).toEqual(take(Prng.fromSeed('1.5').fork('sample')));
    expect(take(choiceRng(0, 0))).not.toEqual(take(Prng.fromSeed('0').fork('sample')));
  });
});
