/**
 * Issue 16: several tracker processes over one PostgreSQL share the work.
 * Two `swarm tracker` processes on one database (and one tracker identity,
 * the same home), two providers talking to each; one tracker is killed -9
 * mid-queue and restarted. Checked: every unit validates with the right
 * hash, units validated before the crash keep their verdicts, no unit holds
 * more results than its quorum (nothing leased beyond replication), every
 * computed result was acknowledged, and `swarm audit` of the one ledger
 * passes through either tracker. PostgreSQL only (PGlite is one process's
 * database): runs where SWARM_TEST_PG_URL is set, as .ci/run sets it.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.ts';
import { sha256Hex } from '../../src/core/sha256.ts';
import { keyPairFromSeed } from '../../src/ledger/keys.ts';
import { preset } from '../../src/model/config.ts';
import { paramCount } from '../../src/model/llama.ts';
import { Prng } from '../../src/core/prng.ts';
import { TrackerClient } from '../../src/provider/client.ts';
import { createRefBackend } from '../../src/tensor/backend/ref.ts';
import { Engine } from '../../src/tensor/tensor.ts';
import { encodeParamsBlob } from '../../src/train/work/params-blob.ts';
import { encodeShardBlob } from '../../src/train/work/shard-blob.ts';
import { runUnit } from '../../src/train/work/run-unit.ts';
import { freshDatabase, PG_URL } from '../tracker/ledger/backends.ts';
import { BIN, cleanup, spawnSwarm, tempHome, until } from './processes.ts';
import type { Proc } from './processes.ts';

const trainer = keyPairFromSeed(new Uint8Array(32).fill(78));
const UNITS = 24;

interface UnitView {
  status: string;
  canonicalHash: string | null;
  minQuorum: number;
  replicas: Array<{ provider: string; state: string; validateState: string }>;
}

/** `n` small eval units on one nano model, deterministic. */
function evalUnits(n: number): { blobs: Uint8Array[]; units: Array<{ id: string; kind: 'eval'; spec: Record<string, unknown> }> } {
  const config = preset('nano');
  const rng = Prng.fromSeed(16);
  const params = new Float32Array(paramCount(config));
  for (let i = 0; i < params.length; i++) params[i] = (rng.nextFloat() - 0.5) * 0.04;
  const p = encodeParamsBlob(config, params);
  const blobs = [p];
  const units = Array.from({ length: n }, (_, u) => {
    const tokens = new Int32Array(4 * 17);
    for (let i = 0; i < tokens.length; i++) tokens[i] = rng.nextInt(config.vocabSize);
    const d = encodeShardBlob(tokens, 16);
    blobs.push(d);
    return { id: `twin-${String(u).padStart(2, '0')}`, kind: 'eval' as const, spec: { kind: 'eval', v: 1, config, params: sha256Hex(p), data: sha256Hex(d), seqLen: 16, windows: 4, batch: 2 } };
  });
  return { blobs, units };
}

async function startTracker(home: string, db: string, port = 0): Promise<{ proc: Proc; url: string }> {
  const proc = spawnSwarm(['tracker', '--port', String(port), '--json', '--db', db, '--trainer', trainer.keyId], home);
  const line = await proc.waitFor(/"url"/, 120_000);
  return { proc, url: (JSON.parse(line) as { url: string }).url };
}

interface Status { computed: number; completed: number; dropped: number }
const lastStatus = (p: Proc): Status => {
  let s: Status = { computed: 0, completed: 0, dropped: 0 };
  for (const l of p.out) {
    try {
      const j = JSON.parse(l) as Partial<Status> & { state?: string };
      if (typeof j.state === 'string' && typeof j.computed === 'number') s = j as Status;
    } catch {
      // not a status line
    }
  }
  return s;
};

afterAll(cleanup);

describe.skipIf(PG_URL === undefined)('two tracker processes on one PostgreSQL (issue 16)', () => {
  it('share the queue; kill -9 of one mid-queue loses no verified result; one consistent ledger', async () => {
    const db = await freshDatabase('swarm_e2e_two_trackers');
    const home = tempHome('twin-trackers');
    const a0 = await startTracker(home, db);
    const b = await startTracker(home, db);
    const ta = new TrackerClient({ baseUrl: a0.url, key: trainer, clock: systemClock });
    const tb = new TrackerClient({ baseUrl: b.url, key: trainer, clock: systemClock });
    const { blobs, units } = evalUnits(UNITS);
    for (const x of blobs) await ta.putBlob(x);
    await ta.createUnits({ run: 'twin', units });
    const provide = (url: string, name: string): Proc => spawnSwarm(['provide', '--tracker', url, '--threads', '1', '--json', '--name', name], tempHome(name));
    const onA = [provide(a0.url, 'on-a-1'), provide(a0.url, 'on-a-2')];
    const onB = [provide(b.url, 'on-b-1'), provide(b.url, 'on-b-2')];
    const views = async (t: TrackerClient): Promise<UnitView[]> => Promise.all(units.map((u) => t.getJson<UnitView>(`/api/units/${u.id}`)));

    // kill -9 tracker A once a third of the queue is valid; B goes on serving its providers
    const before = await until(async () => {
      const vs = await views(tb);
      return vs.filter((v) => v.status === 'valid').length >= UNITS / 3 ? vs : undefined;
    }, 240_000, 'a third of the units valid');
    // both trackers handed out work
    expect(onA.some((p) => lastStatus(p).computed > 0) && onB.some((p) => lastStatus(p).computed > 0)).toBe(true);
    a0.proc.kill9();
    await a0.proc.exited;
    const a = await startTracker(home, db, Number(new URL(a0.url).port));

    const after = await until(async () => {
      const vs = await views(tb);
      return vs.every((v) => v.status === 'valid') ? vs : undefined;
    }, 300_000, 'every unit valid');
    const byHash = new Map(blobs.map((x) => [sha256Hex(x), x]));
    const engine = new Engine(createRefBackend());
    for (const [i, u] of units.entries()) {
      expect(after[i]!.canonicalHash, u.id).toBe(runUnit(engine, u.spec, (h) => byHash.get(h)).resultHash);
      // never more results than the quorum asked for: no unit leased beyond its replication
      expect(after[i]!.replicas.filter((r) => r.state === 'returned').length, u.id).toBe(after[i]!.minQuorum);
    }
    // what was valid before the crash is valid still, with the same result
    const validBefore = before.flatMap((v, i) => (v.status === 'valid' ? [i] : []));
    expect(validBefore.length).toBeGreaterThanOrEqual(UNITS / 3);
    expect(validBefore.map((i) => after[i]!.canonicalHash)).toEqual(validBefore.map((i) => before[i]!.canonicalHash));
    // either tracker shows the same units (one database)
    expect((await views(new TrackerClient({ baseUrl: a.url, key: trainer, clock: systemClock }))).map((v) => v.canonicalHash)).toEqual(after.map((v) => v.canonicalHash));

    const providers = [...onA, ...onB];
    for (const p of providers) p.child.kill('SIGINT');
    await Promise.all(providers.map((p) => p.exited));
    // every result a provider computed was acknowledged, none dropped
    expect(providers.map((p) => lastStatus(p).dropped)).toEqual(providers.map(() => 0));
    expect(providers.every((p) => lastStatus(p).completed === lastStatus(p).computed)).toBe(true);

    // one ledger, consistent, whichever tracker serves it
    for (const url of [a.url, b.url]) {
      const audit = spawnSync(process.execPath, [BIN, 'audit', '--tracker', url, '--json'], { env: { ...process.env, SWARM_HOME: tempHome('auditor') }, encoding: 'utf8', timeout: 120_000 });
      expect(audit.status, audit.stderr).toBe(0);
      expect((JSON.parse(audit.stdout.trim().split('\n').at(-1)!) as { ok: boolean }).ok).toBe(true);
    }
    for (const t of [a, b]) t.proc.child.kill('SIGTERM');
    await Promise.all([a, b].map((t) => t.proc.exited));
  }, 720_000);
});
