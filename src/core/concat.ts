/**
 * Concatenation of typed arrays into one new array, the one copy loop the
 * byte framing, the token streams and the flat parameter vectors share.
 * Takes an array of parts, not spread arguments: a stream read in 64 KiB
 * chunks can have more parts than a call may have arguments.
 */

/** The typed arrays this codebase concatenates. */
export type NumericArray = Uint8Array | Int32Array | Float32Array;

/** `parts` back to back in a new array of the type `make` builds. */
export function concatArrays<T extends NumericArray>(make: new (length: number) => T, parts: readonly ArrayLike<number>[]): T {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new make(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
