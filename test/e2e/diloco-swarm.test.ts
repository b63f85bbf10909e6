/**
 * DiLoCo swarm training end to end, with separate processes (issue 7):
 *  - Byzantine: 3 honest providers and 1 that corrupts every result it
 *    returns (train units: random noise in one run, a sign flip in another;
 *    eval units: a flipped bit). Every corrupted result is uploaded and
 *    rejected by the quorum, the cheater earns no credit, and the run ends at
 *    exactly the checkpoint an independent computation of the same rounds
 *    gives (so its eval loss is the clean run's, not merely within 1 %);
 *    `swarm audit --replay` recomputes every checkpoint bit for bit. Racing
 *    real processes, the cheater gets only a unit or two of round 0 (a
 *    slot's next unit goes to the providers that kept its AdamW state);
 *    test/tracker/diloco-byzantine.test.ts drives every corruption (scaled
 *    rows and stale replays too) through every round deterministically.
 *  - Churn: a provider killed with kill -9 and a new one joining mid-run, and
 *    the tracker killed with kill -9 mid-run and restarted on its database:
 *    the run completes, again at the reference checkpoint.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.ts';
import { keyPairFromSeed } from '../../src/ledger/keys.ts';
import { TrackerClient } from '../../src/provider/client.ts';
import { createRefBackend } from '../../src/tensor/backend/ref.ts';
import { Engine } from '../../src/tensor/tensor.ts';
import { DILOCO_INNER } from '../../src/train/adamw.ts';
import { planDilocoRun } from '../../src/train/diloco/plan.ts';
import type { RunView } from '../../src/tracker/runs/diloco.ts';
import { referenceCheckpoint } from './diloco-reference.ts';
import { BIN, cleanup, ROOT, spawnNode, spawnSwarm, tempHome, until } from './processes.ts';
import type { Proc } from './processes.ts';

const trainer = keyPairFromSeed(new Uint8Array(32).fill(91));

function plan(seed: number, rounds: number) {
  return planDilocoRun(new Engine(createRefBackend()), {
    preset: 'nano', seed, slots: 2, innerSteps: 4, rounds, batch: 4, seqLen: 32,
    adamw: { ...DILOCO_INNER, lr: 3e-3 }, outer: { lr: 0.7, momentum: 0.9 }, aggregate: { kind: 'mean' },
    replication: 1, quorumFraction: 1, roundDeadlineMs: 3_600_000, leaseMs: 5_000, evalWindows: 8,
  });
}

async function startTracker(home: string, port = 0): Promise<{ proc: Proc; url: string }> {
  const proc = spawnSwarm(['tracker', '--port', String(port), '--json', '--db', `${home}/db`, '--trainer', trainer.keyId], home);
  const line = await proc.waitFor(/"url"/, 120_000);
  return { proc, url: (JSON.parse(line) as { url: string }).url };
}

const provider = (url: string, name: string): Proc => spawnSwarm(['provide', '--tracker', url, '--threads', '1', '--json', '--name', name], tempHome(name));

async function createRun(url: string, id: string, p: ReturnType<typeof plan>): Promise<TrackerClient> {
  const t = new TrackerClient({ baseUrl: url, key: trainer, clock: systemClock });
  for (const b of p.blobs) await t.putBlob(b);
  await t.json('POST', '/api/runs', { id, spec: p.spec });
  return t;
}

async function finished(t: TrackerClient, id: string, timeoutMs: number): Promise<RunView> {
  return until(async () => {
    const v = await t.getJson<RunView>(`/api/runs/${id}`);
    return v.progress.status === 'finished' && v.progress.evalLoss[String(v.spec.rounds)] !== undefined ? v : undefined;
  }, timeoutMs, `run ${id} to finish`, 500);
}

afterAll(cleanup);

describe('DiLoCo over the swarm, separate processes', () => {
  it.each(['noise', 'sign-flip'])('1 of 4 providers returns corrupted deltas (%s): all rejected, no credit, the clean checkpoint, audit --replay reproduces it', async (mode) => {
    const home = tempHome('tracker');
    const { url } = await startTracker(home);
    // two rounds: the cheater's corrupted results come in round 0 (see above), and round 1 shows the run
    // carrying on from a checkpoint that excluded them
    const rounds = 2;
    const p = plan(5, rounds);
    const t = await createRun(url, 'byz', p);
    // The cheater starts alone until it has corrupted a train result, so the race never leaves it none
    const cheat = spawnNode([`${ROOT}/test/e2e/cheater.mjs`, url, mode], { SWARM_HOME: tempHome('cheater') });
    await cheat.waitFor(/^\{"tampered"/, 120_000);
    const procs = [provider(url, 'h1'), provider(url, 'h2'), provider(url, 'h3'), cheat];
    const view = await finished(t, 'byz', 360_000);
    expect(view.progress.history.every((r) => r.dropped.length === 0)).toBe(true);
    expect(view.progress.state).toBe(referenceCheckpoint(p.spec, p.blobs));
    const lb = await t.getJson<{ providers: Array<{ name: string; credit: number; invalid: number; valid: number }> }>('/api/leaderboard');
    // the leaderboard lists only identities with verified work (issue 25): the cheater is read by its id
    expect(lb.providers.find((x) => x.name.startsWith('cheater'))).toBeUndefined();
    const cheaterId = (JSON.parse(procs[3]!.out.find((l) => l.includes('"provider"'))!) as { provider: string }).provider;
    const cheater = await t.getJson<{ credit: number; invalid: number; valid: number }>(`/api/providers/${cheaterId}`);
    expect(cheater.invalid, 'the cheater took part').toBeGreaterThan(0);
    expect(cheater.credit).toBe(0);
    expect(cheater.valid).toBe(0);
    expect(lb.providers.filter((x) => x.name.startsWith('h')).every((x) => x.invalid === 0)).toBe(true);
    // every train result the cheater corrupted was uploaded and judged invalid (a tampering that failed
    // to encode would have been given back instead, proving nothing)
    const tampered = procs[3]!.out.filter((l) => l.startsWith('{"tampered"')).map((l) => JSON.parse(l) as { tampered: string; unit: string });
    expect(tampered.length).toBeGreaterThan(0);
    for (const x of tampered) {
      const u = await t.getJson<{ status: string; replicas: Array<{ provider: string; state: string; validateState: string }> }>(`/api/units/${x.unit}`);
      expect(u.status, x.unit).toBe('valid');
      expect(u.replicas.filter((r) => r.provider === cheaterId).map((r) => `${r.state}/${r.validateState}`), `${x.tampered} ${x.unit}`).toEqual(['returned/invalid']);
    }
    expect(procs[3]!.out.some((l) => l.includes('WORK_BLOB')), 'the cheater\'s tampering encoded').toBe(false);
    // every checkpoint replays from the ledger and the blobs
    const audit = spawnSync(process.execPath, [BIN, 'audit', '--tracker', url, '--replay', '--json'], { encoding: 'utf8', timeout: 120_000 });
    expect(audit.status, audit.stderr).toBe(0);
    const report = JSON.parse(audit.stdout) as { ok: boolean; replay: { checked: number; failed: number; final: Record<string, string> } };
    expect(report.ok).toBe(true);
    expect(report.replay.checked).toBe(rounds);
    expect(report.replay.final.byz).toBe(view.progress.state);
    for (const x of procs) x.child.kill('SIGINT');
    await Promise.all(procs.map((x) => x.exited));
  }, 480_000);

  it('churn: kill -9 of a provider, a newcomer, kill -9 of the tracker mid-run; the run completes at the reference checkpoint', async () => {
    const home = tempHome('tracker-churn');
    let tr = await startTracker(home);
    const port = Number(new URL(tr.url).port);
    // three rounds: a provider dies after round 0, the tracker after round 1, and round 2 runs on the restarted one
    const rounds = 3;
    const p = plan(6, rounds);
    let t = await createRun(tr.url, 'churn', p);
    const a = provider(tr.url, 'a');
    const b = provider(tr.url, 'b');
    // after the first round closes, kill a provider hard and bring in a newcomer
    await until(async () => (await t.getJson<RunView>('/api/runs/churn')).progress.history.length >= 1 || undefined, 240_000, 'round 0 to close');
    a.kill9();
    const c = provider(tr.url, 'c');
    // then kill the tracker hard and restart it on the same port and database
    await until(async () => (await t.getJson<RunView>('/api/runs/churn')).progress.history.length >= 2 || undefined, 240_000, 'round 1 to close');
    const before = await t.getJson<RunView>('/api/runs/churn');
    expect(before.progress.history.length, 'the tracker is killed mid-run').toBeLessThan(rounds);
    tr.proc.kill9();
    await tr.proc.exited;
    tr = await startTracker(home, port);
    t = new TrackerClient({ baseUrl: tr.url, key: trainer, clock: systemClock });
    const resumed = await t.getJson<RunView>('/api/runs/churn');
    expect(resumed.progress.history.length).toBeGreaterThanOrEqual(before.progress.history.length);
    expect(resumed.progress.history.slice(0, before.progress.history.length)).toEqual(before.progress.history);
    const view = await finished(t, 'churn', 360_000);
    expect(view.progress.history).toHaveLength(rounds);
    expect(view.progress.state).toBe(referenceCheckpoint(p.spec, p.blobs));
    for (const x of [b, c]) x.child.kill('SIGINT');
    await Promise.all([b, c].map((x) => x.exited));
  }, 600_000);
});
