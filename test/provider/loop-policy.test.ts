/**
 * The owner's live controls of the provider loop (issue 17, the provider's
 * own page): pause / resume, hours of the local day read from the injected
 * Clock, and setPolicy (threads, max CPU, idle-only, hours) while it runs.
 * A fake tracker client records every scheduler request, so "takes no unit"
 * is checked as "asks for none" (want 0), and spooled results are still
 * reported while paused.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { Prng } from '../../src/core/prng.ts';
import { sha256Hex } from '../../src/core/sha256.ts';
import { MemoryBlobCache } from '../../src/provider/blob-cache.ts';
import type { TrackerClient } from '../../src/provider/client.ts';
import { ProviderLoop } from '../../src/provider/loop.ts';
import type { ProviderLoopOptions, ProviderState, UnitRunner } from '../../src/provider/loop.ts';
import { checkHours, formatHours, inHours, msUntilHours, parseHours } from '../../src/provider/policy.ts';
import type { FailureReport } from '../../src/protocol/schemas.ts';
import { codeOf } from '../helpers/errors.ts';
import { makeFixture } from '../train/work/fixtures.ts';

const fx = makeFixture();
const spec = fx.evalSpec();

interface Call {
  want: number;
  results: string[];
  failures: FailureReport[];
  at: number;
}

/** A tracker with `available` eval units; it hands out at most `perRequest` per request. */
function fakeTracker(clock: ManualClock, o: { available?: number; perRequest?: number } = {}) {
  const calls: Call[] = [];
  let issued = 0;
  const available = o.available ?? 1_000;
  const client = {
    register: async () => undefined,
    prepareResult: async (r: { unitId: string }) => ({ unitId: r.unitId, resultHash: 'ab'.repeat(32), resultBytes: 1, metrics: {}, entry: {} }),
    schedule: async (req: { results?: Array<{ unitId: string }>; failures?: FailureReport[]; want: number }) => {
      calls.push({ want: req.want, results: (req.results ?? []).map((r) => r.unitId), failures: [...(req.failures ?? [])], at: clock.now() });
      const n = Math.max(0, Math.min(req.want, o.perRequest ?? Infinity, available - issued));
      const units = Array.from({ length: n }, () => ({ unitId: `u${++issued}`, runId: 'r', kind: 'eval' as const, spec, inputs: [spec.params, spec.data], leaseDeadlineMs: clock.now() + 60_000 }));
      return {
        results: (req.results ?? []).map((r) => ({ unitId: r.unitId, ok: true, unitStatus: 'open' })),
        failures: (req.failures ?? []).map((f) => ({ unitId: f.unitId, ok: true })),
        units,
        ...(n < req.want ? { retryAfterMs: 1_000 } : {}),
      };
    },
    providerStatus: async () => ({ credit: 12, reputation: 0.5, valid: 0, invalid: 0, rac: 0 }),
    getBlob: async (sha: string) => fx.blobs.get(sha)!,
    putBlob: async () => '',
    fail: async () => undefined,
    heartbeat: async () => undefined,
  } as unknown as TrackerClient;
  return { client, calls };
}

/** A runner that counts runs, records the threads it was given, and may take clock time. */
function countingRunner(clock: ManualClock, o: { ms?: number; during?: (n: number) => void | Promise<void> } = {}) {
  const threads: number[] = [];
  let runs = 0;
  const runner: UnitRunner = {
    run: async (_spec, _blobs, opt) => {
      runs++;
      threads.push(opt.threads);
      await o.during?.(runs);
      if (o.ms !== undefined) clock.advance(o.ms);
      return { result: Uint8Array.from([runs]), resultHash: '', metrics: {} };
    },
  };
  return { runner, threads, runs: () => runs };
}

function makeLoop(clock: ManualClock, client: TrackerClient, runner: UnitRunner, over: Partial<ProviderLoopOptions> = {}): { loop: ProviderLoop; states: ProviderState[] } {
  const states: ProviderState[] = [];
  const loop = new ProviderLoop({
    client, runner, cache: new MemoryBlobCache(), clock, rng: Prng.fromSeed(3), name: 'p', threads: 2, memoryBytes: 1,
    sleep: async () => undefined,
    onStatus: (s) => {
      if (states[states.length - 1] !== s.state) states.push(s.state);
    },
    ...over,
  });
  return { loop, states };
}

describe('policy.ts: hours of the day', () => {
  it('parses FROM-TO, wraps past midnight, and refuses what is not a window', () => {
    expect(parseHours('22-7')).toEqual({ from: 22, to: 7 });
    expect(parseHours('9-17')).toEqual({ from: 9, to: 17 });
    expect(parseHours(' 08:00-12:00 ')).toEqual({ from: 8, to: 12 });
    expect(parseHours('0-24')).toBeNull();
    expect(parseHours('any')).toBeNull();
    for (const bad of ['7', '25-3', '5-5', '0-0', '3-25', '22-7x', '-1-3', '22 to 7', '1.5-3']) {
      expect(codeOf(() => parseHours(bad)), bad).toBe('PROVIDER_BAD_POLICY');
    }
    expect(codeOf(() => checkHours({ from: 23, to: 24 }))).toBeUndefined();
    expect(codeOf(() => checkHours({ from: 0, to: 24 }))).toBeUndefined();
    expect(formatHours({ from: 22, to: 7 })).toBe('22:00–07:00');
    expect(formatHours(null)).toBe('any time');
  });

  it('knows which local hours are inside, and how long until the window opens', () => {
    const night = { from: 22, to: 7 };
    expect([22, 23, 0, 3, 6].map((h) => inHours(night, h))).toEqual([true, true, true, true, true]);
    expect([7, 12, 21].map((h) => inHours(night, h))).toEqual([false, false, false]);
    const office = { from: 9, to: 17 };
    expect([8, 9, 16, 17].map((h) => inHours(office, h))).toEqual([false, true, true, false]);
    const late = { from: 20, to: 24 };
    expect([19, 20, 23, 0].map((h) => inHours(late, h))).toEqual([false, true, true, false]);
    expect(inHours(null, 4)).toBe(true);
    // local times: the machine's own time zone, as the loop reads them
    const noon = new Date(2024, 0, 10, 12, 30).getTime();
    expect(msUntilHours(night, noon)).toBe(new Date(2024, 0, 10, 22, 0).getTime() - noon);
    expect(msUntilHours(night, new Date(2024, 0, 10, 23, 0).getTime())).toBe(0);
    const evening = new Date(2024, 0, 10, 18, 0).getTime();
    expect(msUntilHours(office, evening)).toBe(new Date(2024, 0, 11, 9, 0).getTime() - evening);
    expect(msUntilHours(null, noon)).toBe(0);
  });
});

describe('provider loop: pause and resume', () => {
  it('started paused: registers, asks for no unit, then works after resume()', async () => {
    const clock = new ManualClock(1_000);
    const t = fakeTracker(clock);
    const r = countingRunner(clock);
    let pausedSleeps = 0;
    const { loop, states } = makeLoop(clock, t.client, r.runner, {
      paused: true,
      maxUnits: 2,
      sleep: async () => {
        if (loop.paused && ++pausedSleeps === 5) loop.resume();
      },
    });
    expect(loop.paused).toBe(true);
    const final = await loop.run();
    expect(pausedSleeps).toBe(5);
    expect(states[0]).toBe('paused');
    // nothing asked for before resume() (a paused loop keeps in touch with want 0, to hand over
    // blobs it holds); afterwards the two units ran
    const firstWant = t.calls.findIndex((c) => c.want > 0);
    expect(firstWant).toBeGreaterThanOrEqual(0);
    expect(t.calls.slice(0, firstWant).map((c) => c.want)).toEqual(t.calls.slice(0, firstWant).map(() => 0));
    expect(r.runs()).toBe(2);
    expect(final).toMatchObject({ completed: 2, computed: 2, state: 'stopped' });
  });

  it('pausing mid-unit: the unit in hand finishes and is reported, leased units not started are given back, nothing more is asked for', async () => {
    const clock = new ManualClock(1_000);
    const t = fakeTracker(clock, { perRequest: 3 });
    let loop: ProviderLoop | undefined;
    const r = countingRunner(clock, {
      during: (n) => {
        if (n === 2) loop!.pause(); // pressed on the page while unit 2 runs
      },
    });
    let pausedSleeps = 0;
    const made = makeLoop(clock, t.client, r.runner, {
      maxBatch: 8, // the owner allows batches (--batch): units are leased several at a time
      sleep: async () => {
        if (loop!.paused && ++pausedSleeps === 3) loop!.stop();
      },
    });
    loop = made.loop;
    const final = await loop.run();
    expect(r.runs()).toBe(2);
    // u1 alone (want 1), then a batch u2..u4 (units here are quick), paused during u2
    expect(t.calls[0]).toMatchObject({ want: 1, results: [] });
    expect(t.calls[1]).toMatchObject({ results: ['u1'] });
    expect(t.calls[1]!.want).toBeGreaterThan(1);
    const after = t.calls.slice(2);
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((c) => c.want === 0)).toBe(true);
    expect(after[0]!.results).toEqual(['u2']);
    expect(after[0]!.failures.map((f) => [f.unitId, f.code])).toEqual([['u3', 'PROVIDER_PAUSED'], ['u4', 'PROVIDER_PAUSED']]);
    expect(made.states).toContain('paused');
    expect(final).toMatchObject({ completed: 2, computed: 2, failed: 0, credit: 12 });
  });

  it('pause() and resume() wake a loop that waits, and repeat calls are harmless', async () => {
    const clock = new ManualClock(1_000);
    const t = fakeTracker(clock, { available: 0 });
    const r = countingRunner(clock);
    const signals: AbortSignal[] = [];
    const { loop, states } = makeLoop(clock, t.client, r.runner, {
      // a sleep that only an abort ends: a missing wake-up hangs the test
      sleep: (_ms, signal) => new Promise((done) => {
        signals.push(signal!);
        if (signal!.aborted) done();
        signal!.addEventListener('abort', () => done(), { once: true });
      }),
    });
    const running = loop.run();
    await expect.poll(() => states).toContain('idle');
    loop.pause();
    loop.pause();
    await expect.poll(() => states[states.length - 1]).toBe('paused');
    loop.resume();
    loop.resume();
    await expect.poll(() => states[states.length - 1]).toBe('idle');
    loop.stop();
    await running;
    expect(signals.length).toBeGreaterThanOrEqual(3);
  });
});

describe('provider loop: hours of the day, from the injected clock', () => {
  it('outside 22-7 it asks for nothing and sleeps until 22:00 local time; inside it works', async () => {
    const noon = new Date(2024, 0, 10, 12, 0).getTime();
    const clock = new ManualClock(noon);
    const t = fakeTracker(clock);
    const r = countingRunner(clock);
    const slept: number[] = [];
    const { loop, states } = makeLoop(clock, t.client, r.runner, {
      hours: { from: 22, to: 7 },
      maxUnits: 1,
      sleep: async (ms) => {
        slept.push(ms);
        clock.advance(Math.round(ms));
      },
    });
    expect(loop.policy.hours).toEqual({ from: 22, to: 7 });
    const final = await loop.run();
    expect(states[0]).toBe('outside-hours');
    expect(Math.max(...slept)).toBeLessThanOrEqual(60_000); // it looks again at least once a minute
    const first = t.calls.find((c) => c.want > 0)!;
    expect(first.at).toBe(new Date(2024, 0, 10, 22, 0).getTime());
    const before = t.calls.filter((c) => c.at < first.at);
    expect(before.map((c) => c.want), 'outside the hours nothing is asked for').toEqual(before.map(() => 0));
    // but it keeps in touch (HELD_CONTACT_MS, 10 s): ten hours outside the window, about 3,600 contacts
    expect(before.length).toBeGreaterThan(3_000);
    expect(before.every((c, i) => i === 0 || c.at - before[i - 1]!.at >= 10_000)).toBe(true);
    expect(final.completed).toBe(1);
  });

  it('paused, it hands over a blob the tracker wants (a kept AdamW state) within HELD_CONTACT_MS', async () => {
    const clock = new ManualClock(1_000);
    const t = fakeTracker(clock);
    const uploaded: number[] = [];
    const cache = new MemoryBlobCache();
    const kept = new Uint8Array([1, 2, 3]);
    await cache.put(sha256Hex(kept), kept);
    const wanting = {
      ...t.client,
      schedule: async (req: { want: number }) => ({ ...(await t.client.schedule(req as never)), wanted: [sha256Hex(kept)] }),
      putBlob: async () => {
        uploaded.push(clock.now());
        return '';
      },
    } as unknown as TrackerClient;
    let sleeps = 0;
    const { loop } = makeLoop(clock, wanting, countingRunner(clock).runner, {
      paused: true,
      cache,
      sleep: async (ms) => {
        clock.advance(ms);
        if (++sleeps === 3) loop.stop();
      },
    });
    await loop.run();
    expect(uploaded.length).toBeGreaterThanOrEqual(2);
    expect(uploaded[1]! - uploaded[0]!).toBeLessThanOrEqual(10_000);
  });

  it('the hours closing while units are leased: the rest are given back', async () => {
    const clock = new ManualClock(new Date(2024, 0, 10, 6, 59, 59).getTime());
    const t = fakeTracker(clock, { perRequest: 3, available: 4 });
    // each unit takes 0.6 s of clock time (so a batch of 3 is asked for); the window (22-7) closes during the batch
    const r = countingRunner(clock, { ms: 600 });
    const { loop } = makeLoop(clock, t.client, r.runner, {
      maxBatch: 8,
      hours: { from: 22, to: 7 },
      sleep: async () => {
        if (new Date(clock.now()).getHours() === 7) loop.stop();
      },
    });
    await loop.run();
    // u1 at 06:59:59.0; u2..u4 leased at 06:59:59.6; u2 finishes at 07:00:00.2; u3, u4 go back
    expect(r.runs()).toBe(2);
    const back = t.calls.flatMap((c) => c.failures).map((f) => [f.unitId, f.code]);
    expect(back).toEqual([['u3', 'PROVIDER_OUTSIDE_HOURS'], ['u4', 'PROVIDER_OUTSIDE_HOURS']]);
  });
});

describe('provider loop: the policy changed live', () => {
  it('threads apply from the next unit, max CPU sets the rest after each unit', async () => {
    const clock = new ManualClock(1_000);
    const t = fakeTracker(clock, { perRequest: 1 });
    let loop: ProviderLoop | undefined;
    const r = countingRunner(clock, {
      ms: 100,
      during: (n) => {
        if (n === 1) loop!.setPolicy({ threads: 5, maxCpu: 25 });
      },
    });
    const rests: number[] = [];
    const made = makeLoop(clock, t.client, r.runner, {
      maxUnits: 3,
      sleep: async (ms) => {
        if (loop!.status.state === 'resting') rests.push(ms);
      },
    });
    loop = made.loop;
    expect(loop.policy).toEqual({ threads: 2, maxCpu: 100, idleOnly: false, hours: null });
    await loop.run();
    expect(r.threads).toEqual([2, 5, 5]); // unit 1 had started with 2
    // 100 ms of compute at 25 %: rest 300 ms after each unit (the last one too)
    expect(rests).toEqual([300, 300, 300]);
    expect(loop.policy).toEqual({ threads: 5, maxCpu: 25, idleOnly: false, hours: null });
  });

  it('a bad policy is refused with PROVIDER_BAD_POLICY and nothing changes', () => {
    const clock = new ManualClock(1_000);
    const { loop } = makeLoop(clock, fakeTracker(clock).client, countingRunner(clock).runner);
    const before = loop.policy;
    for (const bad of [{ maxCpu: 0 }, { maxCpu: 101 }, { maxCpu: Number.NaN }, { threads: 0 }, { threads: 1.5 }, { threads: 257 }, { hours: { from: 5, to: 5 } }, { hours: { from: 24, to: 3 } }, { idleOnly: true }]) {
      expect(codeOf(() => loop.setPolicy(bad)), JSON.stringify(bad)).toBe('PROVIDER_BAD_POLICY');
    }
    expect(loop.policy).toEqual(before);
    expect(loop.setPolicy({ hours: { from: 22, to: 7 } })).toEqual({ ...before, hours: { from: 22, to: 7 } });
    // the policy returned is a copy
    const p = loop.policy;
    p.hours!.from = 3;
    expect(loop.policy.hours).toEqual({ from: 22, to: 7 });
  });

  it('idle-only is a switch over the probe: consulted only while on', async () => {
    const clock = new ManualClock(1_000);
    const t = fakeTracker(clock, { perRequest: 1 });
    let probes = 0;
    let loop: ProviderLoop | undefined;
    const r = countingRunner(clock, {
      during: (n) => {
        if (n === 1) loop!.setPolicy({ idleOnly: true });
      },
    });
    const made = makeLoop(clock, t.client, r.runner, {
      maxUnits: 2,
      idleOnly: false,
      isIdle: async () => {
        probes++;
        return probes > 2; // busy twice, then idle
      },
    });
    loop = made.loop;
    expect(loop.policy.idleOnly).toBe(false);
    await loop.run();
    expect(probes).toBe(3);
    expect(made.states).toContain('waiting-for-idle');
    // without idleOnly, a probe given means idle-only (the loop's behaviour before the page)
    expect(makeLoop(clock, t.client, r.runner, { isIdle: async () => true }).loop.policy.idleOnly).toBe(true);
    expect(codeOf(() => makeLoop(clock, t.client, r.runner, { idleOnly: true }))).toBe('PROVIDER_BAD_POLICY');
  });

  it('setPolicy wakes a resting loop so a new max CPU counts now', async () => {
    const clock = new ManualClock(1_000);
    const t = fakeTracker(clock, { perRequest: 1 });
    const r = countingRunner(clock, { ms: 1_000 });
    const { loop, states } = makeLoop(clock, t.client, r.runner, {
      maxUnits: 2,
      maxCpu: 1, // 99 s of rest per second of work
      sleep: (_ms, signal) => new Promise((done) => {
        if (signal!.aborted) done();
        signal!.addEventListener('abort', () => done(), { once: true });
      }),
    });
    const running = loop.run();
    await expect.poll(() => states[states.length - 1]).toBe('resting');
    loop.setPolicy({ maxCpu: 100 });
    const final = await running;
    expect(final.completed).toBe(2);
    expect(r.runs()).toBe(2);
  });
});

describe('provider loop: batches only when the owner allows them', () => {
  it('asks for one unit at a time by default, however quick the units, and for a batch with maxBatch', async () => {
    for (const [maxBatch, expected] of [[undefined, 1], [4, 4]] as const) {
      const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
      const t = fakeTracker(clock, { available: 6 });
      const r = countingRunner(clock, { ms: 100 }); // 0.1 s units: quick enough to batch
      const { loop } = makeLoop(clock, t.client, r.runner, { maxUnits: 5, ...(maxBatch === undefined ? {} : { maxBatch }) });
      await loop.run();
      // the first request knows no unit time yet; every later one asks for the batch the owner allows
      expect(Math.max(...t.calls.map((c) => c.want)), String(maxBatch)).toBe(expected);
    }
  });
});
