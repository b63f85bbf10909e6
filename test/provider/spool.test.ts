/**
 * The provider's result spool (issue 24): the file format and its
 * corruption checks, and the loop's rule — a finished result is spooled
 * before upload, kept while the tracker is unreachable, reported by the next
 * process on the same state directory, dropped with a log line when the
 * tracker no longer knows its unit, and acknowledged again (not refused)
 * when its first acknowledgement was lost.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SwarmError } from '../../src/core/errors.ts';
import { Prng } from '../../src/core/prng.ts';
import { sha256Hex } from '../../src/core/sha256.ts';
import { MemoryBlobCache } from '../../src/provider/blob-cache.ts';
import { DiskResultSpool } from '../../src/provider/disk-spool.ts';
import { ProviderLoop } from '../../src/provider/loop.ts';
import { decodeSpoolFile, encodeSpoolFile } from '../../src/provider/spool.ts';
import type { SpooledResult } from '../../src/provider/spool.ts';
import { createRefBackend } from '../../src/tensor/backend/ref.ts';
import { Engine } from '../../src/tensor/tensor.ts';
import { runUnit } from '../../src/train/work/run-unit.ts';
import { codeOf } from '../helpers/errors.ts';
import { keyOf, nanoEvalUnit, startHarness } from '../tracker/harness.ts';
import { refRunner } from '../helpers/runner.ts';

const tmp = mkdtempSync(join(tmpdir(), 'swarm-spool-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const sample: SpooledResult = { unitId: 'run.r2.s1', runId: 'run', result: Uint8Array.from([1, 2, 3, 250]), metrics: { loss: 4.5 }, spooledAt: 1_700_000_000_000 };

describe('spool file format', () => {
  it('round-trips, and every kind of damage is PROVIDER_SPOOL_CORRUPT', () => {
    const bytes = encodeSpoolFile(sample);
    expect(decodeSpoolFile(bytes)).toEqual(sample);
    const flipped = bytes.slice();
    flipped[flipped.length - 1] ^= 1;
    const text = (s: string): Uint8Array => new TextEncoder().encode(s);
    const header = (h: Record<string, unknown>): Uint8Array => text(`SWSPOOL1\n${JSON.stringify(h)}\n`);
    const good = { v: 1, unitId: 'u', runId: 'r', metrics: {}, spooledAt: 0, resultBytes: 0, resultSha256: sha256Hex(new Uint8Array(0)) };
    expect(decodeSpoolFile(header(good)).unitId).toBe('u');
    for (const bad of [
      new Uint8Array(0), // empty (a crash before the first byte)
      bytes.subarray(0, bytes.length - 1), // truncated
      flipped, // a flipped bit in the result
      text('SWSPOOL2\n{}\n'), // another format
      text('SWSPOOL1\n{"v":1'), // no header line
      text('SWSPOOL1\nnot json\n'),
      header({ ...good, v: 2 }),
      header({ ...good, unitId: '' }),
      header({ ...good, resultBytes: -1 }),
      header({ ...good, metrics: { loss: 'x' } }),
      header({ ...good, resultSha256: 'f'.repeat(64) }),
    ]) {
      expect(codeOf(() => decodeSpoolFile(bad))).toBe('PROVIDER_SPOOL_CORRUPT');
    }
    expect(codeOf(() => encodeSpoolFile({ ...sample, unitId: '' }))).toBe('PROVIDER_SPOOL_BAD_ENTRY');
  });

  it('on disk: put, list, remove; corrupt and truncated files are reported and deleted, good ones kept', async () => {
    const dir = join(tmp, 'disk');
    const reported: Array<{ file: string; code: string }> = [];
    const spool = new DiskResultSpool(dir, (file, e) => reported.push({ file, code: e.code }));
    expect(await spool.list()).toEqual([]); // no directory yet
    await spool.put(sample);
    await spool.put({ ...sample, unitId: 'other', spooledAt: sample.spooledAt - 1 });
    expect((await spool.list()).map((r) => r.unitId)).toEqual(['other', 'run.r2.s1']); // oldest first
    writeFileSync(join(dir, `${'a'.repeat(64)}.spool`), encodeSpoolFile(sample).subarray(0, 20)); // truncated
    writeFileSync(join(dir, `${'b'.repeat(64)}.spool`), encodeSpoolFile(sample)); // intact, but under another unit's name
    mkdirSync(join(dir, `${'c'.repeat(64)}.spool`)); // not a file
    writeFileSync(join(dir, `${'d'.repeat(64)}.spool.999999.tmp`), 'half a write'); // a crash mid-write
    const listed = await spool.list();
    expect(listed.map((r) => r.unitId)).toEqual(['other', 'run.r2.s1']);
    expect(reported).toHaveLength(3);
    expect(reported.every((r) => r.code === 'PROVIDER_SPOOL_CORRUPT')).toBe(true);
    expect(readdirSync(dir).sort()).toHaveLength(2); // the bad files and the stale temporary are gone
    await spool.remove('other');
    await spool.remove('never-there');
    expect((await spool.list()).map((r) => r.unitId)).toEqual(['run.r2.s1']);
  });
});

describe('the provider loop and its spool', () => {
  const engine = new Engine(createRefBackend());

  it('a result finished while the tracker is unreachable stays spooled; the next process on the same state directory reports it; stale and repeated entries are handled', async () => {
    const h = await startHarness({ suite: 'provider_spool' });
    try {
      const ev = nanoEvalUnit(5);
      const trainer = h.client(h.trainerKey);
      for (const b of ev.blobs) await trainer.putBlob(b);
      await trainer.createUnits({ run: 'run1', units: [{ id: 'u1', kind: 'eval', spec: ev.spec }] });
      const dir = join(tmp, 'provider-home', 'spool');
      const logs: string[] = [];
      const corrupt: string[] = [];
      const make = (client: ReturnType<typeof h.client>, o: { maxUnits?: number; onSleep?: () => void } = {}) => {
        const loop: ProviderLoop = new ProviderLoop({
          client, runner: refRunner, cache: new MemoryBlobCache(), spool: new DiskResultSpool(dir, (f, e) => corrupt.push(e.code)), onLog: (l) => logs.push(l),
          clock: h.clock, rng: Prng.fromSeed(1), name: 'p', threads: 1, memoryBytes: 1,
          sleep: async () => o.onSleep?.(), ...(o.maxUnits === undefined ? {} : { maxUnits: o.maxUnits }),
        });
        return loop;
      };
      // 1. the upload fails (the tracker was killed): the loop backs off with the result spooled; its owner stops it
      const down = h.client(keyOf(60));
      const schedule = down.schedule.bind(down);
      down.schedule = async (req) => {
        if ((req.results ?? []).length > 0) throw new SwarmError('TRACKER_UNREACHABLE', 'connection refused');
        return schedule(req);
      };
      const first = make(down, { onSleep: () => first.stop() });
      const s1 = await first.run();
      expect(s1).toMatchObject({ computed: 1, completed: 0, dropped: 0 });
      expect(readdirSync(dir).filter((n) => n.endsWith('.spool'))).toHaveLength(1);
      expect((await h.service.unitStatus('u1')).replicas[0]!.state).toBe('in-progress');
      // a spooled result for a unit the tracker no longer knows, and a corrupt file, beside it
      const spool = new DiskResultSpool(dir);
      await spool.put({ unitId: 'gone', runId: 'run1', result: Uint8Array.from([9]), metrics: {}, spooledAt: h.clock.now() + 1 });
      writeFileSync(join(dir, `${'e'.repeat(64)}.spool`), 'SWSPOOL1\n{"v":1,');
      // 2. a new process on the same state directory reports it at its first contact
      const second = make(h.client(keyOf(60)), { maxUnits: 1 });
      const s2 = await second.run();
      expect(s2).toMatchObject({ computed: 0, completed: 1, dropped: 1 });
      const expected = runUnit(engine, ev.spec, (x) => ev.blobs.find((b) => sha256Hex(b) === x)).resultHash;
      const replica = (await h.service.unitStatus('u1')).replicas[0]!;
      expect(replica).toMatchObject({ state: 'returned', resultHash: expected });
      expect(logs.some((l) => l.includes('gone') && l.includes('TRACKER_NOT_FOUND'))).toBe(true);
      expect(corrupt).toEqual(['PROVIDER_SPOOL_CORRUPT']);
      expect(await spool.list()).toEqual([]);
      // 3. the tracker committed but its answer was lost: the same result again is acknowledged, not refused
      const [bytes] = await Promise.all([h.db.query<{ bytes: Uint8Array }>('SELECT bytes FROM blob_data WHERE sha256 = $1', [expected])]);
      await spool.put({ unitId: 'u1', runId: 'run1', result: new Uint8Array(bytes[0]!.bytes), metrics: {}, spooledAt: h.clock.now() });
      const third = make(h.client(keyOf(60)), { maxUnits: 1 });
      expect(await third.run()).toMatchObject({ completed: 1, dropped: 0 });
      expect(await spool.list()).toEqual([]);
    } finally {
      await h.close();
    }
  }, 120_000);
});
