/** Shared assertions on coded errors (SwarmError and other errors carrying a string `code`). */
import { expect } from 'vitest';
import { isSwarmError } from '../../src/core/errors.ts';

function codeIn(e: unknown): string {
  if (typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string') return (e as { code: string }).code;
  throw e; // an uncoded error is a bug in the code under test: let the test fail with it
}

/** The code `f` throws, or undefined when it returns. */
export function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return codeIn(e);
  }
  return undefined;
}

/** The code `p` rejects with, or 'OK' when it resolves. */
export async function codeOfAsync(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return codeIn(e);
  }
  return 'OK';
}

/** `fn` throws a SwarmError with exactly `code`. */
export function expectCode(fn: () => unknown, code: string): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(isSwarmError(err, code), `expected ${code}, got ${String(err)}`).toBe(true);
}
