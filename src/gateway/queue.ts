/**
 * A bounded first-come-first-served queue in front of the model. Generation
 * is CPU-bound on one shared engine, so `concurrency` requests run at once
 * (default 1) and the rest wait in arrival order: FIFO is the fair order for
 * one class of client, and the bound turns overload into an immediate 429
 * instead of unbounded memory and latency (the load-shedding advice of the
 * OpenAI rate-limit docs: clients retry 429 with backoff).
 */
import { SwarmError } from '../core/errors.ts';

export interface QueueOptions {
  /** requests generating at the same time */
  concurrency: number;
  /** requests allowed to wait; one more is refused with GATEWAY_QUEUE_FULL */
  maxWaiting: number;
}

interface Waiter {
  start: (release: () => void) => void;
}

export class RequestQueue {
  private running = 0;
  private readonly waiting: Waiter[] = [];

  constructor(private readonly opts: QueueOptions) {
    if (!(opts.concurrency >= 1) || !(opts.maxWaiting >= 0)) {
      throw new SwarmError('GATEWAY_BAD_OPTIONS', 'queue concurrency must be >= 1 and maxWaiting >= 0');
    }
  }

  get stats(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }

  /**
   * Takes a place in line. Throws GATEWAY_QUEUE_FULL synchronously when the
   * line is full, so a caller can still answer 429 before it starts a stream.
   * The promise resolves with `release` (call it exactly once when done) or
   * rejects with GATEWAY_ABORTED if `signal` fires while waiting.
   */
  enter(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(new SwarmError('GATEWAY_ABORTED', 'the client went away'));
    if (this.running < this.opts.concurrency) {
      this.running++;
      return Promise.resolve(this.releaser());
    }
    if (this.waiting.length >= this.opts.maxWaiting) {
      throw new SwarmError('GATEWAY_QUEUE_FULL', `the server is busy (${this.waiting.length} requests waiting); retry later`);
    }
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        const i = this.waiting.indexOf(w);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(new SwarmError('GATEWAY_ABORTED', 'the client went away'));
      };
      const w: Waiter = {
        start: (release) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(release);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(w);
    });
  }

  private releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.waiting.shift();
      if (next === undefined) this.running--;
      else next.start(this.releaser()); // hand the slot over: running stays the same
    };
  }
}
