/**
 * The run wrapper both sandboxes share: one settlement, one kill, on every
 * way a run can end (answer, deadline, cancel, a failing start), with a fake
 * "sandbox" so each path is driven by hand.
 */
import { describe, expect, it } from 'vitest';
import { guardedRun } from '../../src/provider/sandbox/guarded-run.ts';
import type { RunControl } from '../../src/provider/sandbox/guarded-run.ts';
import { codeOfAsync } from '../helpers/errors.ts';
import { makeFixture } from '../train/work/fixtures.ts';

const fx = makeFixture();
const outcome = { result: new Uint8Array(1), resultHash: 'h', metrics: {} };

/** A fake start: records its control and counts kills. */
function fake(): { start: (unit: unknown, c: RunControl) => () => void; control: () => RunControl; kills: () => number } {
  let control: RunControl | undefined;
  let kills = 0;
  return {
    start: (_unit, c) => {
      control = c;
      return () => {
        kills++;
      };
    },
    control: () => control!,
    kills: () => kills,
  };
}

describe('guardedRun', () => {
  it('resolves with the first answer, kills once, and reports settled to late answers', async () => {
    const f = fake();
    const run = guardedRun(fx.trainSpec(), fx.blobs, { threads: 1, deadlineMs: 60_000 }, f.start);
    expect(f.control().settled).toBe(false);
    f.control().finish(null, outcome);
    f.control().finish(new Error('late'));
    await expect(run).resolves.toBe(outcome);
    expect(f.control().settled).toBe(true);
    expect(f.kills()).toBe(1);
  });

  it('rejects with PROVIDER_DEADLINE when the deadline passes, and kills', async () => {
    const f = fake();
    expect(await codeOfAsync(guardedRun(fx.trainSpec(), fx.blobs, { threads: 1, deadlineMs: 20 }, f.start))).toBe('PROVIDER_DEADLINE');
    expect(f.kills()).toBe(1);
  });

  it('rejects with PROVIDER_CANCELLED when the signal aborts, or had aborted (then nothing starts)', async () => {
    const f = fake();
    const stop = new AbortController();
    const run = guardedRun(fx.trainSpec(), fx.blobs, { threads: 1, deadlineMs: 60_000, signal: stop.signal }, f.start);
    stop.abort();
    expect(await codeOfAsync(run)).toBe('PROVIDER_CANCELLED');
    expect(f.kills()).toBe(1);
    const g = fake();
    expect(await codeOfAsync(guardedRun(fx.trainSpec(), fx.blobs, { threads: 1, deadlineMs: 60_000, signal: stop.signal }, g.start))).toBe('PROVIDER_CANCELLED');
    expect(g.kills()).toBe(0);
  });

  it('checks options and blobs before starting anything', async () => {
    const f = fake();
    expect(await codeOfAsync(guardedRun(fx.trainSpec(), fx.blobs, { threads: 0, deadlineMs: 60_000 }, f.start))).toBe('PROVIDER_BAD_OPTION');
    const missing = new Map(fx.blobs);
    missing.delete(fx.trainSpec().data);
    expect(await codeOfAsync(guardedRun(fx.trainSpec(), missing, { threads: 1, deadlineMs: 60_000 }, f.start))).toBe('WORK_BLOB_MISSING');
    expect(f.kills()).toBe(0);
  });

  it('a start that throws rejects the run with its error', async () => {
    const run = guardedRun(fx.trainSpec(), fx.blobs, { threads: 1, deadlineMs: 60_000 }, () => {
      throw new Error('spawn failed');
    });
    await expect(run).rejects.toThrow('spawn failed');
  });

  it('a run settled during start is killed as soon as start returns', async () => {
    let kills = 0;
    const run = guardedRun(fx.trainSpec(), fx.blobs, { threads: 1, deadlineMs: 60_000 }, (_unit, c) => {
      c.finish(null, outcome);
      return () => {
        kills++;
      };
    });
    await expect(run).resolves.toBe(outcome);
    expect(kills).toBe(1);
  });
});
