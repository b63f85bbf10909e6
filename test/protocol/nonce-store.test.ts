import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { MemoryNonceStore } from '../../src/protocol/nonce-store.ts';

describe('MemoryNonceStore', () => {
  it('remembers a nonce until its expiry (inclusive), then forgets it', () => {
    const clock = new ManualClock(1000);
    const s = new MemoryNonceStore({ clock });
    expect(s.remember('a', 2000)).toBe('fresh');
    expect(s.remember('a', 2000)).toBe('replay');
    clock.set(2000);
    expect(s.remember('a', 2000)).toBe('replay');
    expect(s.size).toBe(1);
    clock.set(2001);
    expect(s.size).toBe(0);
    expect(s.remember('a', 3000)).toBe('fresh');
  });

  it('expires in expiry order even when inserted out of order', () => {
    const clock = new ManualClock(0);
    const s = new MemoryNonceStore({ clock });
    const expiries = [50, 10, 40, 20, 30, 10, 60];
    expiries.forEach((at, i) => expect(s.remember(`n${i}`, at)).toBe('fresh'));
    for (const t of [11, 21, 31, 41, 51, 61]) {
      clock.set(t);
      expect(s.size).toBe(expiries.filter((at) => at >= t).length);
    }
  });

  it('at the cap answers busy and never evicts a live nonce', () => {
    const clock = new ManualClock(0);
    const s = new MemoryNonceStore({ clock, maxEntries: 3 });
    expect(s.remember('a', 100)).toBe('fresh');
    expect(s.remember('b', 200)).toBe('fresh');
    expect(s.remember('c', 300)).toBe('fresh');
    expect(s.remember('d', 300)).toBe('busy');
    // The live ones are still remembered (no replay reopened by the flood).
    expect(s.remember('a', 100)).toBe('replay');
    expect(s.remember('c', 300)).toBe('replay');
    // Room comes back as soon as the oldest expires.
    clock.set(101);
    expect(s.remember('d', 300)).toBe('fresh');
    expect(s.remember('e', 300)).toBe('busy');
    expect(s.size).toBe(3);
  });

  it('nothing to remember for an already expired entry', () => {
    const clock = new ManualClock(500);
    const s = new MemoryNonceStore({ clock, maxEntries: 1 });
    expect(s.remember('old', 100)).toBe('fresh');
    expect(s.size).toBe(0);
  });

  it('a large flood stays bounded', () => {
    const clock = new ManualClock(0);
    const s = new MemoryNonceStore({ clock, maxEntries: 1000 });
    let busy = 0;
    for (let i = 0; i < 5000; i++) {
      if (s.remember(`n${i}`, 60_000 + (i % 97)) === 'busy') busy++;
      if (i % 10 === 0) clock.advance(1);
    }
    expect(s.size).toBe(1000);
    expect(busy).toBe(4000);
  });

  it('rejects a bad cap', () => {
    expect(() => new MemoryNonceStore({ clock: new ManualClock(0), maxEntries: 0 })).toThrow(
      expect.objectContaining({ code: 'PROTOCOL_BAD_ARGUMENT' }),
    );
  });
});
