/**
 * The ledger's shape checks (validate.ts) at their edges (issue 26, mutation
 * testing): what an object may and must hold, plain and null-prototype
 * objects, members holding undefined, and the array and string limits at
 * exactly their size.
 */
import { describe, expect, it } from 'vitest';
import { Validator } from '../../src/ledger/validate.ts';

const V = new Validator('TEST_BAD');

/** 'ok', or the code and path of the refusal (anything else that is thrown: its name) */
function check(f: () => unknown): string {
  try {
    f();
    return 'ok';
  } catch (e) {
    const err = e as { name?: string; code?: string; details?: { path?: string } };
    return err.code === undefined ? `uncoded ${String(err.name)}` : `${err.code} at ${String(err.details?.path)}`;
  }
}

describe('Validator.object', () => {
  it('refuses what is not an object with its code, null included', () => {
    for (const v of [null, undefined, 5, 'x', true, [], [1]]) {
      expect(check(() => V.object(v, '$', [])), String(v)).toBe('TEST_BAD at $');
    }
  });

  it('accepts plain and null-prototype objects, refuses other prototypes', () => {
    const bare = Object.create(null) as Record<string, unknown>;
    bare.a = 1;
    expect(V.object(bare, '$', ['a'])).toBe(bare);
    expect(V.object({ a: 1 }, '$', ['a'])).toEqual({ a: 1 });
    expect(check(() => V.object(new Map(), '$', []))).toBe('TEST_BAD at $');
    expect(check(() => V.object(new Date(0), '$', []))).toBe('TEST_BAD at $');
    class Head { treeSize = 1; }
    expect(check(() => V.object(new Head(), '$', ['treeSize']))).toBe('TEST_BAD at $');
  });

  it('no member is optional unless named (the default list is empty)', () => {
    expect(check(() => V.object({ a: 1, 'Stryker was here': 2 }, '$', ['a']))).toBe('TEST_BAD at $["Stryker was here"]');
    expect(check(() => V.object({ a: 1, b: 2 }, '$', ['a']))).toBe('TEST_BAD at $["b"]');
    expect(check(() => V.object({ a: 1, b: 2 }, '$', ['a'], ['b']))).toBe('ok');
  });

  it('a member holding undefined is absent: neither unknown nor present', () => {
    expect(check(() => V.object({ a: 1, extra: undefined }, '$', ['a']))).toBe('ok');
    expect(check(() => V.object({ a: undefined }, '$', ['a']))).toBe('TEST_BAD at $["a"]');
  });

  it('names the first missing required member', () => {
    expect(check(() => V.object({}, '$', ['a', 'b']))).toBe('TEST_BAD at $["a"]');
    expect(check(() => V.object({ a: 1 }, '$', ['a', 'b']))).toBe('TEST_BAD at $["b"]');
  });
});

describe('Validator limits at exactly their size', () => {
  it('array: maxItems items pass, one more is refused', () => {
    expect(V.array([1, 2, 3], '$', 3)).toEqual([1, 2, 3]);
    expect(check(() => V.array([1, 2, 3, 4], '$', 3))).toBe('TEST_BAD at $');
    expect(V.array([], '$', 0)).toEqual([]);
  });

  it('string: 1..maxLength code units; the empty string is refused', () => {
    expect(V.string('abc', '$', 3)).toBe('abc');
    expect(check(() => V.string('abcd', '$', 3))).toBe('TEST_BAD at $');
    expect(check(() => V.string('', '$', 3))).toBe('TEST_BAD at $');
    expect(V.string('a', '$', 1)).toBe('a');
  });

  it('string: a lone surrogate is refused wherever it is, first unit included', () => {
    for (const s of ['\ud800', '\ud800ab', 'a\udc00b', 'ab\ud800']) {
      expect(check(() => V.string(s, '$', 10)), JSON.stringify(s)).toBe('TEST_BAD at $');
    }
    expect(V.string('\ud83d\ude00', '$', 10)).toBe('\ud83d\ude00'); // a pair is fine
  });
});
