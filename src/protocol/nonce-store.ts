/**
 * Replay protection memory. A signed request is accepted only inside a time
 * window around its timestamp (signing.ts); inside that window its nonce must
 * not have been seen before. So a nonce needs remembering only until its
 * request's timestamp leaves the window (timestamp + maxSkewMs): after that
 * the timestamp check alone rejects a replay. This is the usual
 * timestamp-plus-nonce scheme (RFC 9421 §7.2.2 leaves replay protection to
 * the application and names exactly these two parameters, `created` and
 * `nonce`).
 *
 * The store is an interface because one tracker process is not the whole
 * picture: several trackers on one PostgreSQL must share their nonces (an
 * attacker would otherwise replay to the other process), so a database-backed
 * store will implement the same contract; hence the result may be a Promise.
 *
 * Behaviour at the size cap (MemoryNonceStore): when the store is full of
 * nonces that are all still inside their window it answers 'busy' and the
 * verifier rejects the request with PROTOCOL_BUSY (a retryable 503). It never
 * forgets a live nonce to make room, because forgetting would reopen exactly
 * the replay it exists to stop. Only requests with a valid signature reach
 * the store (the verifier checks the signature first), so filling it needs a
 * registered key; per-key rate limits belong to the tracker.
 */
import type { Clock } from '../core/clock.ts';
import { SwarmError } from '../core/errors.ts';

/** 'fresh': recorded now; 'replay': already recorded and live; 'busy': full, not recorded. */
export type NonceVerdict = 'fresh' | 'replay' | 'busy';

export interface NonceStore {
  /**
   * Atomically: if `id` is live (recorded and now <= its expiry) answer
   * 'replay'; otherwise record it until `expiresAtMs` (inclusive) and answer
   * 'fresh', or answer 'busy' when there is no room.
   */
  remember(id: string, expiresAtMs: number): NonceVerdict | Promise<NonceVerdict>;
  /**
   * Optional read-only look: whether `id` is live now. Never records. Lets a
   * server refuse a replay before reading its body (signing.ts
   * refuseLiveNonce); remember stays the only authoritative check.
   */
  seen?(id: string): boolean | Promise<boolean>;
}

export interface MemoryNonceStoreOptions {
  clock: Clock;
  /** Most live nonces held at once (default 250,000: ~4,000 requests/s over a 60 s window). */
  maxEntries?: number;
}

export const DEFAULT_NONCE_STORE_MAX_ENTRIES = 250_000;

/**
 * In-memory NonceStore for one process. Expired entries are dropped in
 * expiry order from a binary min-heap, so pruning costs O(log n) per entry
 * and a full store costs no scan per request.
 */
export class MemoryNonceStore implements NonceStore {
  private readonly clock: Clock;
  readonly maxEntries: number;
  /** id -> expiry (ms, inclusive). */
  private readonly live = new Map<string, number>();
  /** Min-heap on expiry; may hold stale pairs for ids re-recorded later (skipped on pop). */
  private readonly heap: Array<{ at: number; id: string }> = [];

  constructor(options: MemoryNonceStoreOptions) {
    const max = options.maxEntries ?? DEFAULT_NONCE_STORE_MAX_ENTRIES;
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new SwarmError('PROTOCOL_BAD_ARGUMENT', 'maxEntries must be a positive integer', { maxEntries: max });
    }
    this.clock = options.clock;
    this.maxEntries = max;
  }

  /** Number of live nonces (after dropping the expired ones). */
  get size(): number {
    this.prune(this.clock.now());
    return this.live.size;
  }

  remember(id: string, expiresAtMs: number): NonceVerdict {
    const now = this.clock.now();
    this.prune(now);
    const at = this.live.get(id);
    if (at !== undefined && now <= at) return 'replay';
    if (expiresAtMs < now) return 'fresh'; // already outside any window: nothing to remember
    if (this.live.size >= this.maxEntries) return 'busy';
    this.live.set(id, expiresAtMs);
    this.push({ at: expiresAtMs, id });
    return 'fresh';
  }

  seen(id: string): boolean {
    const now = this.clock.now();
    this.prune(now);
    const at = this.live.get(id);
    return at !== undefined && now <= at;
  }

  private prune(now: number): void {
    const h = this.heap;
    while (h.length > 0 && h[0]!.at < now) {
      const top = this.pop();
      // Delete only if the map still holds this very record (not a later one).
      if (this.live.get(top.id) === top.at) this.live.delete(top.id);
    }
  }

  private push(e: { at: number; id: string }): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p]!.at <= e.at) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = e;
  }

  private pop(): { at: number; id: string } {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const r = l + 1;
        const c = r < h.length && h[r]!.at < h[l]!.at ? r : l;
        if (h[c]!.at >= last.at) break;
        h[i] = h[c]!;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}
