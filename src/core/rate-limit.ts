/**
 * Token buckets by key (issue 25, "Rate limits and quotas"): each key (a
 * source address, an identity) holds up to `burst` tokens and earns
 * `perSecond` more each second; a request spends one, and a request that
 * finds the bucket empty is told how long until the next token (HTTP's
 * 429 + Retry-After, RFC 6585 §4, RFC 9110 §10.2.3). Time comes from the
 * injected Clock, so tests drive it by hand.
 *
 * Memory is bounded: at most `maxKeys` buckets. A bucket that has refilled
 * completely is the same as no bucket at all, so when the table is full the
 * full buckets go first; failing that, the least recently used one (Map
 * iteration order, a touched key is moved to the end). Evicting a partly
 * spent bucket forgives its debt, so an attacker who cycles through more
 * than maxKeys sources gets at most one extra burst per eviction: the
 * bound is on memory, not on what a botnet can do (docs/SECURITY.md).
 *
 * Shared by the tracker and the gateway (both count per source), so it
 * lives in core; it does no I/O.
 */
import type { Clock } from './clock.ts';
import { SwarmError } from './errors.ts';

export interface BucketLimit {
  /** tokens a quiet key has: requests allowed back to back */
  burst: number;
  /** tokens earned per second once spent */
  perSecond: number;
}

export type TakeResult = { ok: true } | { ok: false; retryAfterMs: number };

interface Bucket {
  tokens: number;
  at: number;
}

export const DEFAULT_MAX_KEYS = 100_000;

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    readonly limit: BucketLimit,
    private readonly clock: Clock,
    private readonly maxKeys = DEFAULT_MAX_KEYS,
  ) {
    if (!(limit.burst >= 1) || !(limit.perSecond > 0) || !Number.isFinite(limit.burst) || !Number.isFinite(limit.perSecond)) {
      throw new SwarmError('RATE_LIMIT_BAD_OPTIONS', 'a rate limit needs burst >= 1 and a finite perSecond > 0', { ...limit });
    }
    if (!(maxKeys >= 1)) throw new SwarmError('RATE_LIMIT_BAD_OPTIONS', 'maxKeys must be >= 1');
  }

  /** Buckets held now (for tests of the memory bound). */
  get size(): number {
    return this.buckets.size;
  }

  /** Spends one token of `key`'s bucket, or says when one will be there. */
  take(key: string): TakeResult {
    const now = this.clock.now();
    const b = this.buckets.get(key);
    let tokens = this.limit.burst;
    if (b !== undefined) {
      tokens = Math.min(this.limit.burst, b.tokens + ((now - b.at) / 1000) * this.limit.perSecond);
      this.buckets.delete(key); // re-inserted below: the Map's order is least recently used first
    }
    if (tokens < 1) {
      this.buckets.set(key, { tokens, at: now });
      return { ok: false, retryAfterMs: Math.ceil(((1 - tokens) / this.limit.perSecond) * 1000) };
    }
    if (b === undefined && this.buckets.size >= this.maxKeys) this.evict(now);
    this.buckets.set(key, { tokens: tokens - 1, at: now });
    return { ok: true };
  }

  /** Drops the buckets that have refilled; if none has, the least recently used one. */
  private evict(now: number): void {
    for (const [k, b] of this.buckets) {
      if (b.tokens + ((now - b.at) / 1000) * this.limit.perSecond >= this.limit.burst) this.buckets.delete(k);
    }
    if (this.buckets.size >= this.maxKeys) {
      const oldest = this.buckets.keys().next();
      if (oldest.done !== true) this.buckets.delete(oldest.value);
    }
  }
}

/**
 * The key a source address is limited under: an IPv4 address as it is (an
 * IPv4-mapped IPv6 address, ::ffff:a.b.c.d, as its IPv4 form), an IPv6
 * address by its /64 (RFC 4291 §2.5.4: a site or a home gets at least a /64,
 * RFC 6177, so one host can change its low 64 bits at will). Anything else
 * (a name, a unix socket) is kept whole.
 */
export function sourceKey(address: string): string {
  const a = address.trim().toLowerCase().replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(a);
  if (mapped !== null) return mapped[1]!;
  if (!a.includes(':')) return a;
  const groups = expandIpv6(a);
  if (groups === null) return a;
  return `${groups.slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address (without leading zeros), or null when it is not one. */
function expandIpv6(a: string): string[] | null {
  let text = a;
  // an embedded IPv4 tail (::1.2.3.4) is two groups
  const v4 = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4 !== null) {
    const [x, y, z, w] = v4.slice(1).map(Number) as [number, number, number, number];
    text = text.slice(0, v4.index) + `${((x << 8) | y).toString(16)}:${((z << 8) | w).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] === '' ? [] : halves[0]!.split(':');
  const tail = halves.length === 2 && halves[1] !== '' ? halves[1]!.split(':') : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  if (!groups.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return null;
  return groups.map((g) => parseInt(g, 16).toString(16));
}

/** Whether an address is the host itself (127.0.0.0/8, ::1, ::ffff:127.x.y.z). */
export function isLoopback(address: string): boolean {
  const a = address.trim().toLowerCase().replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(sourceKey(a))) return true;
  return expandIpv6(a)?.join(':') === '0:0:0:0:0:0:0:1';
}
