/**
 * Issue 24 end to end, with real processes: the README's multi-machine flow
 * (the commands of its "Several machines" block, run as written: only the
 * host and port, the key id, and flags the test reads output through are
 * filled in, plus a short --lease-ms so a crash costs seconds), then crashes:
 *
 *  1. one provider in a quorum-2 run cannot progress: `swarm run show` and
 *     the tracker's log say why (once);
 *  2. kill -9 of the tracker while both providers hold leases; it stays down
 *     until a provider has finished a unit and failed to upload it (its
 *     result waits in its spool), and past every lease; that provider is
 *     killed -9 too, then both restart on their databases / state
 *     directories: the spooled result is reported, the units whose both
 *     replicas timed out go back to the two providers (the reissue rule),
 *     and the round closes within about a lease plus the work left;
 *  3. kill -9 of a provider mid-unit, restarted at once on its state
 *     directory: the run goes on.
 * The run finishes, every result a provider computed reached the tracker
 * (computed = reported, none dropped), and `swarm audit` passes.
 * On PostgreSQL too when SWARM_TEST_PG_URL is set.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.ts';
import { keyPairFromSeed } from '../../src/ledger/keys.ts';
import { TrackerClient } from '../../src/provider/client.ts';
import type { RunView } from '../../src/tracker/runs/diloco.ts';
import { freshDatabase, PG_URL } from '../tracker/ledger/backends.ts';
import { BIN, ROOT, cleanup, spawnSwarm, tempHome, until } from './processes.ts';
import type { Proc } from './processes.ts';

const LEASE_MS = 6_000;
/** AdamW steps per unit: about a second of nano compute here (see the run create below). */
const INNER_STEPS = 300;

/** The `swarm …` lines of the README's "Several machines" block, by sub-command ("run create", "provide", …). */
function readmeCommands(): Record<string, string[]> {
  const text = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const at = text.indexOf('### Several machines');
  expect(at).toBeGreaterThan(0);
  const block = /```sh\n([\s\S]*?)```/.exec(text.slice(at))![1]!;
  const out: Record<string, string[]> = {};
  for (const line of block.split('\n')) {
    const words = line.replace(/#.*$/, '').trim().split(/\s+/);
    if (words[0] !== 'swarm') continue;
    out[words[1] === 'run' ? `run ${words[2]!}` : words[1]!] = words.slice(1);
  }
  return out;
}

async function freePort(): Promise<number> {
  return new Promise((ok) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
  });
}

interface Status { state: string; computed: number; completed: number; dropped: number }
/** The provider's JSON status lines. */
const statuses = (p: Proc): Status[] => p.out.flatMap((l) => {
  try {
    const j = JSON.parse(l) as Partial<Status> & { final?: boolean };
    return typeof j.state === 'string' && j.final !== true ? [j as Status] : [];
  } catch {
    return [];
  }
});
const last = (p: Proc): Status | undefined => statuses(p).at(-1);

afterAll(cleanup);

const backends: Array<'pglite' | 'postgres'> = PG_URL === undefined ? ['pglite'] : ['pglite', 'postgres'];

describe.each(backends)('crash and restart on %s (issue 24)', (backend) => {
  it('README flow; a stall is reported; kill -9 of the tracker mid-upload and mid-lease, and of a provider mid-unit: the run finishes, no result lost, the audit passes', async () => {
    const cmd = readmeCommands();
    const t0 = Date.now();
    const phase = (what: string): void => console.log(`[crash-restart ${backend}] ${((Date.now() - t0) / 1000).toFixed(1)} s: ${what}`);
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const fill = (words: string[]): string[] => words.map((w) => w.replace('TRACKER:7070', `127.0.0.1:${port}`));
    const sync = (words: string[], home: string) => {
      const r = spawnSync(process.execPath, [BIN, ...words], { encoding: 'utf8', timeout: 180_000, env: { ...process.env, CI: 'true', SWARM_HOME: home } });
      return { code: r.status, out: r.stdout, err: r.stderr };
    };

    // the trainer's machine: its key id
    const trainerHome = tempHome('trainer');
    const who = sync([...cmd.whoami!, '--json'], trainerHome);
    expect(who.code).toBe(0);
    const keyId = (JSON.parse(who.out) as { keyId: string }).keyId;
    // the tracker's machine
    const trackerDir = tempHome('tracker');
    const db = backend === 'postgres' ? await freshDatabase('swarm_e2e_crash_restart') : null;
    const trackerArgs = [...cmd.tracker!.map((w) => (w === 'KEYID' ? keyId : db !== null && w === './tracker-db' ? db : w)), '--port', String(port), '--json'];
    const startTracker = async (): Promise<Proc> => {
      const p = spawnSwarm(trackerArgs, trackerDir, trackerDir);
      await p.waitFor(/"url"/, 120_000);
      return p;
    };
    let tracker = await startTracker();
    phase('tracker up');
    // --inner-steps overrides the README's 2: with the native engine's fused
    // kernels a 2-step nano unit is a few milliseconds of compute, too short
    // to catch both providers mid-unit (the crash below needs that).
    const create = sync([...fill(cmd['run create']!), '--lease-ms', String(LEASE_MS), '--inner-steps', String(INNER_STEPS)], trainerHome);
    expect(create.code, create.err).toBe(0);
    const runId = cmd['run create']![cmd['run create']!.indexOf('--id') + 1]!;
    const rounds = Number(cmd['run create']![cmd['run create']!.indexOf('--rounds') + 1]);
    const t = new TrackerClient({ baseUrl: url, key: keyPairFromSeed(new Uint8Array(32).fill(5)), clock: systemClock });
    const view = () => t.getJson<RunView>(`/api/runs/${runId}`);

    // 1. one provider: a quorum of two cannot form, and both sides say why
    const homes = [tempHome('p0'), tempHome('p1')];
    const procs: Proc[] = [];
    const provider = (i: number): Proc => {
      const p = spawnSwarm([...fill(cmd.provide!), '--json', '--threads', '1', '--name', `p${i}`], homes[i]!);
      procs.push(p);
      return p;
    };
    phase('run created');
    const p = [provider(0)];
    await until(async () => tracker.err.join('').includes(`run ${runId} round 0 is stalled`), 120_000, 'the tracker to log the stall');
    const show = sync(fill(cmd['run show']!), trainerHome);
    expect(show.code).toBe(0);
    expect(show.out).toContain('round 0 is STALLED');
    expect(show.out).toContain('waiting for a provider that has not held it; 0 eligible online');
    phase('stall reported');
    p.push(provider(1));

    // 2. round 1, both providers busy: kill -9 the tracker
    await until(async () => (await view()).progress.round >= 1 && p.every((x) => last(x)?.state === 'running'), 180_000, 'round 1 with both providers running');
    const crashRound = (await view()).progress.round;
    phase(`round ${crashRound}: tracker killed`);
    tracker.kill9();
    await tracker.exited;
    const down = Date.now();
    // a provider finishes its unit and cannot upload it: the result waits in its spool
    const spooled = await until(async () => p.findIndex((x) => {
      const s = last(x);
      return s !== undefined && s.state === 'backing-off' && s.computed > s.completed + s.dropped;
    }) + 1 || undefined, 120_000, 'a provider with a finished result it cannot upload') - 1;
    phase(`provider ${spooled} holds a spooled result; killed`);
    p[spooled]!.kill9(); // and that provider dies too: its next process must report it
    await p[spooled]!.exited;
    await new Promise((r) => setTimeout(r, Math.max(0, LEASE_MS + 1_000 - (Date.now() - down)))); // every lease runs out
    tracker = await startTracker();
    const restarted = Date.now();
    phase('tracker restarted');
    p[spooled] = provider(spooled);
    // Recovery: every unit of the round has its providers again (none waits for one) within about a lease
    // plus a provider's restart; without the reissue rule the units both providers held would wait for
    // the round deadline (30 minutes). Closing the round then takes the work that is left.
    await until(async () => {
      const v = await view();
      return v.progress.round > crashRound || v.waiting?.reasons.length === 0;
    }, LEASE_MS + 60_000, 'every unit of the crashed round to have its providers again');
    const recovered = Date.now() - restarted;
    await until(async () => (await view()).progress.round > crashRound, 240_000, 'the crashed round to close');
    console.log(`[crash-restart ${backend}] after the tracker restarted: every unit leased again in ${recovered} ms, ` +
      `round ${crashRound} closed in ${Date.now() - restarted} ms (lease ${LEASE_MS} ms)`);

    // 3. kill -9 a provider mid-unit (the last round's, or the final eval) and start it again at once: its
    // replica's lease runs out, and as the other provider has held the unit, it comes back to the restarted one
    const victim = await until(async () => p.findIndex((x) => last(x)?.state === 'running') + 1 || undefined, 120_000, 'a provider mid-unit') - 1;
    phase(`provider ${victim} killed mid-unit`);
    p[victim]!.kill9();
    await p[victim]!.exited;
    p[victim] = provider(victim);
    const done = await until(async () => {
      const v = await view();
      return v.progress.status === 'finished' && v.progress.evalLoss[String(rounds)] !== undefined ? v : undefined;
    }, 300_000, 'the run to finish');
    phase('run finished');
    expect(done.progress.history).toHaveLength(rounds);
    expect(done.progress.history.every((h) => h.dropped.length === 0)).toBe(true);

    // no computed result is lost: every result a provider process finished reached the tracker
    const unitIds = Array.from({ length: rounds + 1 }, (_, r) => [
      ...(r < rounds ? [0, 1].map((k) => `${runId}.r${r}.s${k}`) : []), `${runId}.r${r}.eval`]).flat();
    const reported = async (): Promise<number> => {
      let n = 0;
      for (const id of unitIds) n += (await t.getJson<{ replicas: Array<{ state: string }> }>(`/api/units/${id}`)).replicas.filter((r) => r.state === 'returned').length;
      return n;
    };
    const computed = (): number => procs.reduce((a, x) => a + Math.max(0, ...statuses(x).map((s) => s.computed)), 0);
    await until(async () => (await reported()) === computed(), 30_000, `computed ${computed()} results to equal those reported`).catch(() => undefined);
    expect(await reported()).toBe(computed());
    expect(procs.every((x) => statuses(x).every((s) => s.dropped === 0))).toBe(true);

    // the ledger holds up
    const audit = sync([...fill(cmd.audit!), '--json'], trainerHome);
    expect(audit.code, audit.err).toBe(0);
    expect((JSON.parse(audit.out.trim().split('\n').at(-1)!) as { ok: boolean }).ok).toBe(true);
    for (const x of p) x.child.kill('SIGINT');
    await Promise.all(p.map((x) => x.exited));
    tracker.child.kill('SIGTERM');
    await tracker.exited;
  }, 720_000);
});
