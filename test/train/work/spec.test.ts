/** Unit specs: strict parsing with bounds, the spec hash, inputs and FLOPs. */
import { beforeAll, describe, expect, it } from 'vitest';
import { canonicalBytes } from '../../../src/core/canonical-json.ts';
import { sha256Hex } from '../../../src/core/sha256.ts';
import { paramCount } from '../../../src/model/llama.ts';
import { UNIT_KINDS, parseUnitSpec, specHash, unitFlops, unitInputs } from '../../../src/train/work/kinds.ts';
import type { UnitSpec } from '../../../src/train/work/kinds.ts';
import { codeOf } from '../../helpers/errors.ts';
import { makeFixture } from './fixtures.ts';
import type { Fixture } from './fixtures.ts';

let fx: Fixture;
beforeAll(() => {
  fx = makeFixture();
});

const H = (c: string) => c.repeat(64);

describe('unit specs', () => {
  it('parse as given, and the registry knows train and eval', () => {
    expect(Object.keys(UNIT_KINDS).sort()).toEqual(['eval', 'train']);
    const t = fx.trainSpec();
    expect(parseUnitSpec(JSON.parse(JSON.stringify(t)))).toEqual(t);
    const e = fx.evalSpec();
    expect(parseUnitSpec(e)).toEqual(e);
    expect(parseUnitSpec(fx.trainSpec({ opt: H('a') }))).toMatchObject({ opt: H('a') });
  });

  it('an unknown kind → WORK_UNKNOWN_KIND; a missing one → WORK_BAD_SPEC', () => {
    expect(codeOf(() => parseUnitSpec({ ...fx.evalSpec(), kind: 'infer' }))).toBe('WORK_UNKNOWN_KIND');
    expect(codeOf(() => parseUnitSpec({ ...fx.evalSpec(), kind: 'toString' }))).toBe('WORK_UNKNOWN_KIND');
    const { kind: _k, ...noKind } = fx.evalSpec();
    expect(codeOf(() => parseUnitSpec(noKind))).toBe('WORK_BAD_SPEC');
    expect(codeOf(() => parseUnitSpec(null))).toBe('WORK_BAD_SPEC');
    expect(codeOf(() => parseUnitSpec([fx.evalSpec()]))).toBe('WORK_BAD_SPEC');
  });

  it('bad members → WORK_BAD_SPEC, naming the path', () => {
    const bad: Array<[string, unknown]> = [
      ['extra member', { ...fx.trainSpec(), shard: 3 }],
      ['__proto__ member', JSON.parse(JSON.stringify(fx.trainSpec()).replace('{', '{"__proto__":{"x":1},'))],
      ['version 2', { ...fx.trainSpec(), v: 2 }],
      ['upper-case hash', fx.trainSpec({ params: H('A') })],
      ['short hash', fx.trainSpec({ data: 'ab' })],
      ['zero steps', fx.trainSpec({ steps: 0 })],
      ['fractional batch', fx.trainSpec({ batch: 1.5 })],
      ['steps over the bound', fx.trainSpec({ steps: 100_001 })],
      ['seqLen over the config context', fx.trainSpec({ seqLen: 17 })],
      ['shard over the token bound', fx.trainSpec({ steps: 100_000, batch: 4096 })],
      ['lr 0', fx.trainSpec({ adamw: { ...fx.trainSpec().adamw, lr: 0 } })],
      ['beta2 1', fx.trainSpec({ adamw: { ...fx.trainSpec().adamw, beta2: 1 } })],
      ['adamw member missing', { ...fx.trainSpec(), adamw: { lr: 1e-3 } }],
      ['config not divisible', fx.trainSpec({ config: { ...fx.config, nHeads: 5 } })],
      ['config member unknown', fx.trainSpec({ config: { ...fx.config, bias: true } as never })],
      ['config too large', fx.trainSpec({ config: { ...fx.config, vocabSize: 1 << 20, dim: 4096, nHeads: 32, nKvHeads: 8 } })],
      ['eval windows 0', fx.evalSpec({ windows: 0 })],
      ['eval with opt', { ...fx.evalSpec(), opt: null }],
      ['NaN', fx.trainSpec({ batch: NaN })],
    ];
    for (const [why, spec] of bad) expect(codeOf(() => parseUnitSpec(spec)), why).toBe('WORK_BAD_SPEC');
    expect(codeOf(() => parseUnitSpec(fx.trainSpec({ seqLen: 17 })))).toBe('WORK_BAD_SPEC');
    let caught: unknown;
    try {
      parseUnitSpec(fx.trainSpec({ adamw: { ...fx.trainSpec().adamw, beta2: 1 } }));
    } catch (e) {
      caught = e;
    }
    expect((caught as { details?: { path?: string } } | undefined)?.details?.path).toBe('adamw.beta2');
  });

  it('specHash is SHA-256 of RFC 8785 canonical JSON, whatever the member order', () => {
    const t = fx.trainSpec();
    const reversed = Object.fromEntries(Object.entries(t).reverse()) as UnitSpec;
    expect(specHash(reversed)).toBe(specHash(t));
    expect(specHash(t)).toBe(sha256Hex(canonicalBytes(t)));
    expect(specHash(fx.trainSpec({ steps: 1 }))).not.toBe(specHash(t));
  });

  it('inputs: params, opt (when given) and data, without repeats', () => {
    const t = fx.trainSpec();
    expect(unitInputs(t)).toEqual([t.params, t.data]);
    expect(unitInputs(fx.trainSpec({ opt: H('b') }))).toEqual([t.params, H('b'), t.data]);
    expect(unitInputs(fx.trainSpec({ opt: t.params }))).toEqual([t.params, t.data]);
    const e = fx.evalSpec();
    expect(unitInputs(e)).toEqual([e.params, e.data]);
  });

  it('FLOPs: train 6·N·tokens, eval 2·N·tokens (Kaplan et al. 2020 §2.1)', () => {
    const n = paramCount(fx.config);
    expect(unitFlops(fx.trainSpec())).toBe(6 * n * 2 * 2 * 16);
    expect(unitFlops(fx.trainSpec({ steps: 10 }))).toBe(6 * n * 10 * 2 * 16);
    expect(unitFlops(fx.evalSpec({ windows: 7 }))).toBe(2 * n * 7 * 16);
  });
});
