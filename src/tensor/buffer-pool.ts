/**
 * A free list of Float32Arrays keyed by length: buffers the engine knows no
 * tensor uses any more (autograd's consumed gradients, see autograd.ts) wait
 * here until an op needs an output of the same length, instead of a fresh
 * allocation that is zero-filled, may fault its pages in, and adds to the
 * garbage collector's work. Reuse cannot change a bit: a kernel writes every
 * element of its output. Bounded (`maxBytes`) so a step's gradients are not
 * all kept alive at once; past the bound a buffer is left to the collector.
 */
export interface BufferPoolStats {
  /** outputs allocated fresh / served from the pool */
  fresh: number;
  freshBytes: number;
  reused: number;
  reusedBytes: number;
}

export class BufferPool {
  private readonly free = new Map<number, Float32Array[]>();
  private held = 0;
  readonly stats: BufferPoolStats = { fresh: 0, freshBytes: 0, reused: 0, reusedBytes: 0 };

  constructor(private readonly maxBytes = 512 * 2 ** 20) {}

  /**
   * The pool of a backend whose ops may use at most `maxElements` (the
   * sandbox's memory limit): it keeps no more dead buffers than one op may
   * use, and at most the default 512 MiB.
   */
  static forMaxElements(maxElements: number | undefined): BufferPool {
    return maxElements === undefined ? new BufferPool() : new BufferPool(Math.min(512 * 2 ** 20, maxElements * 4));
  }

  /** An array of `length` elements, reused or new; its contents are arbitrary. */
  take(length: number): Float32Array {
    const list = this.free.get(length);
    const a = list?.pop();
    if (a !== undefined) {
      this.held -= a.byteLength;
      this.stats.reused++;
      this.stats.reusedBytes += a.byteLength;
      return a;
    }
    this.stats.fresh++;
    this.stats.freshBytes += length * 4;
    return new Float32Array(length);
  }

  /** Hand back an array nothing reads or writes any more. Small and shared-buffer views are not kept. */
  give(a: Float32Array): void {
    if (a.length < 1024 || a.byteOffset !== 0 || a.byteLength !== a.buffer.byteLength) return;
    if (this.held + a.byteLength > this.maxBytes) return;
    const list = this.free.get(a.length);
    if (list === undefined) this.free.set(a.length, [a]);
    else if (!list.includes(a)) list.push(a);
    else return;
    this.held += a.byteLength;
  }

  /** Drop every held buffer (to the garbage collector). */
  clear(): void {
    this.free.clear();
    this.held = 0;
  }
}
