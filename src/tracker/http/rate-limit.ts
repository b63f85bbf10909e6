/**
 * Rate limits on the tracker's signed routes (issue 25, "Rate limits and
 * quotas"; DESIGN.md "Cheap to refuse"): token buckets (core/rate-limit.ts)
 * per source address (IPv6 by its /64) and per identity, checked in admit()
 * before the body is read — the source before anything else, the identity
 * as soon as the signature headers name it (before the key is looked up).
 * A refusal is `429 TRACKER_RATE_LIMITED` with `Retry-After` in seconds
 * (RFC 6585 §4; errors.ts adds the header), and changes nothing stored.
 *
 * Three classes of route, each with its own buckets:
 *   registration  POST /api/providers
 *   work          the provider's JSON routes: /api/scheduler, /api/work,
 *                 /api/heartbeat, /api/results, /api/failures
 *   upload        PUT /api/blobs/:sha
 * Trainers' routes (/api/units, /api/runs) are not limited: trainers are
 * named when the tracker starts.
 *
 * Defaults, sized for a home server (PGlite serves on the order of a
 * thousand scheduler requests a second on one core, `swarm bench tracker`):
 *   registration  per source 20 at once, then 1 a minute; per identity 5, then 1 a minute
 *   work          per source 1000 at once, then 200/s; per identity 300, then 100/s (a benchmark provider doing ~40 exchanges/s stays under it)
 *   upload        per source 200 at once, then 50/s;   per identity 100, then 20/s
 * An honest provider registers once per start and asks for work a few
 * times a second at most (one batched scheduler request per unit or per
 * few units; a provider with nothing to do waits NO_WORK_RETRY_MS), so it
 * stays far below these.
 *
 * Loopback is exempt from the per-source limits by default: `swarm up` and
 * a machine's own providers all come from 127.0.0.1, and a local attacker
 * is inside already. A tracker behind a reverse proxy on the same host sees
 * every client as loopback: run it with `--trust-proxy` (the source is then
 * the last address of X-Forwarded-For, the one the proxy appended) or the
 * per-source limits do nothing there (docs/SECURITY.md). The per-identity
 * limits apply to everyone.
 */
import type { Context } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Clock } from '../../core/clock.ts';
import { SwarmError } from '../../core/errors.ts';
import { DEFAULT_MAX_KEYS, TokenBuckets, isLoopback, sourceKey } from '../../core/rate-limit.ts';
import type { BucketLimit } from '../../core/rate-limit.ts';

export type RouteClass = 'registration' | 'work' | 'upload';

export interface RouteLimits {
  /** per source address (IPv6: per /64); null: none */
  perSource: BucketLimit | null;
  /** per signing key; null: none */
  perIdentity: BucketLimit | null;
}

export interface TrackerRateLimits {
  registration: RouteLimits;
  work: RouteLimits;
  upload: RouteLimits;
  /** loopback sources skip the per-source limits (default true; see the file comment) */
  exemptLoopback: boolean;
  /** buckets kept per class and kind (memory bound; core/rate-limit.ts) */
  maxKeys: number;
}

const perMinute = (n: number): number => n / 60;

export const DEFAULT_TRACKER_RATE_LIMITS: TrackerRateLimits = {
  registration: { perSource: { burst: 20, perSecond: perMinute(1) }, perIdentity: { burst: 5, perSecond: perMinute(1) } },
  work: { perSource: { burst: 1000, perSecond: 200 }, perIdentity: { burst: 300, perSecond: 100 } },
  upload: { perSource: { burst: 200, perSecond: 50 }, perIdentity: { burst: 100, perSecond: 20 } },
  exemptLoopback: true,
  maxKeys: DEFAULT_MAX_KEYS,
};

/** No limits at all (tests on a ManualClock that never advances, tools). */
export const NO_RATE_LIMITS: TrackerRateLimits = {
  registration: { perSource: null, perIdentity: null },
  work: { perSource: null, perIdentity: null },
  upload: { perSource: null, perIdentity: null },
  exemptLoopback: true,
  maxKeys: 1,
};

/** Where a request comes from: an address, or null when it cannot be told (then no per-source limit applies). */
export type SourceOf = (c: Context) => string | null;

/** The socket's peer address (@hono/node-server); null without a socket (app.request() in tests). */
export const socketSource: SourceOf = (c) => {
  try {
    return getConnInfo(c).remote.address ?? null;
  } catch {
    return null;
  }
};

/**
 * Behind a reverse proxy: the last X-Forwarded-For address (the one the
 * proxy appended; earlier ones are whatever the client claimed), else the
 * socket's.
 */
export const forwardedSource: SourceOf = (c) => {
  const xff = c.req.header('x-forwarded-for');
  const last = xff?.split(',').pop()?.trim();
  return last !== undefined && last !== '' ? last : socketSource(c);
};

export function rateLimited(what: 'source' | 'identity', route: RouteClass, retryAfterMs: number): SwarmError {
  const s = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new SwarmError('TRACKER_RATE_LIMITED', `too many ${route} requests from this ${what === 'source' ? 'address' : 'key'}; retry in ${s} s`, { retryAfterMs, limit: what, route });
}

export class TrackerRateLimiter {
  private readonly source = new Map<RouteClass, TokenBuckets>();
  private readonly identity = new Map<RouteClass, TokenBuckets>();

  constructor(
    readonly limits: TrackerRateLimits,
    clock: Clock,
  ) {
    for (const route of ['registration', 'work', 'upload'] as const) {
      const l = limits[route];
      if (l.perSource !== null) this.source.set(route, new TokenBuckets(l.perSource, clock, limits.maxKeys));
      if (l.perIdentity !== null) this.identity.set(route, new TokenBuckets(l.perIdentity, clock, limits.maxKeys));
    }
  }

  /** Spends a token of the source's bucket for `route`, or throws TRACKER_RATE_LIMITED. */
  checkSource(route: RouteClass, address: string | null): void {
    const b = this.source.get(route);
    if (b === undefined || address === null || (this.limits.exemptLoopback && isLoopback(address))) return;
    const r = b.take(sourceKey(address));
    if (!r.ok) throw rateLimited('source', route, r.retryAfterMs);
  }

  /** Spends a token of the key's bucket for `route`, or throws TRACKER_RATE_LIMITED. */
  checkIdentity(route: RouteClass, keyId: string): void {
    const r = this.identity.get(route)?.take(keyId);
    if (r !== undefined && !r.ok) throw rateLimited('identity', route, r.retryAfterMs);
  }
}

/** Defaults with `patch` laid over them, class by class. */
export function trackerRateLimits(patch: Partial<TrackerRateLimits> = {}): TrackerRateLimits {
  return { ...DEFAULT_TRACKER_RATE_LIMITS, ...patch };
}
