/**
 * Token buckets by key (src/core/rate-limit.ts, issue 25): the burst, the
 * refill and the Retry-After it computes, the memory bound, and the source
 * key (IPv6 by /64, IPv4-mapped as IPv4).
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { TokenBuckets, isLoopback, sourceKey } from '../../src/core/rate-limit.ts';

describe('TokenBuckets', () => {
  it('allows the burst back to back, then one token per 1/perSecond, and says how long to wait', () => {
    const clock = new ManualClock(0);
    const b = new TokenBuckets({ burst: 3, perSecond: 0.5 }, clock);
    expect([b.take('a'), b.take('a'), b.take('a')]).toEqual([{ ok: true }, { ok: true }, { ok: true }]);
    expect(b.take('a')).toEqual({ ok: false, retryAfterMs: 2000 });
    expect(b.take('b')).toEqual({ ok: true }); // keys are independent
    clock.advance(1500);
    expect(b.take('a')).toEqual({ ok: false, retryAfterMs: 500 });
    clock.advance(500);
    expect(b.take('a')).toEqual({ ok: true });
    expect(b.take('a').ok).toBe(false);
    clock.advance(3_600_000); // refills to the burst, never beyond
    expect([b.take('a'), b.take('a'), b.take('a'), b.take('a')].map((r) => r.ok)).toEqual([true, true, true, false]);
  });

  it('holds at most maxKeys buckets: refilled ones go first, then the least recently used', () => {
    const clock = new ManualClock(0);
    const b = new TokenBuckets({ burst: 2, perSecond: 1 }, clock, 3);
    for (const k of ['a', 'b', 'c']) b.take(k);
    b.take('a'); // a is spent and the most recently used
    b.take('d'); // table full, nothing refilled: b (least recently used) goes
    expect(b.size).toBe(3);
    expect(b.take('a').ok).toBe(false); // a's debt was kept
    for (let i = 0; i < 1000; i++) b.take(`flood-${i}`);
    expect(b.size).toBe(3);
  });

  it('refuses nonsense limits', () => {
    const clock = new ManualClock(0);
    expect(() => new TokenBuckets({ burst: 0, perSecond: 1 }, clock)).toThrow(/burst/);
    expect(() => new TokenBuckets({ burst: 1, perSecond: 0 }, clock)).toThrow(/perSecond/);
    expect(() => new TokenBuckets({ burst: 1, perSecond: Infinity }, clock)).toThrow(/perSecond/);
  });
});

describe('sourceKey', () => {
  it('keeps IPv4, unwraps IPv4-mapped IPv6, and cuts IPv6 to its /64', () => {
    expect(sourceKey('203.0.113.7')).toBe('203.0.113.7');
    expect(sourceKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(sourceKey('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64');
    expect(sourceKey('2001:DB8:1:2:aaaa:bbbb:cccc:dddd')).toBe('2001:db8:1:2::/64');
    expect(sourceKey('[2001:db8:1:2::9]')).toBe('2001:db8:1:2::/64');
    expect(sourceKey('2001:db8:1:3::1')).not.toBe(sourceKey('2001:db8:1:2::1'));
    expect(sourceKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
  });

  it('tells loopback', () => {
    expect(['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1', '[::1]'].map(isLoopback)).toEqual([true, true, true, true, true]);
    expect(['10.0.0.1', '::2', '2001:db8::1', '::'].map(isLoopback)).toEqual([false, false, false, false]);
  });
});
