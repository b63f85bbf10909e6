/**
 * `swarm run create|list|show|stop` (issue 7): a trainer creates a DiLoCo
 * run on a tracker, signed by its identity ($SWARM_HOME/identity.key; the
 * tracker must list its key id with --trainer). `create` prepares θ_0, the
 * data shard of every (round, slot) and the evaluation windows locally,
 * uploads them as blobs, then creates the run.
 */
import { hostname, totalmem } from 'node:os';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { systemClock } from '../core/clock.ts';
import { isSwarmError } from '../core/errors.ts';
import { TrackerClient } from '../provider/client.ts';
import { createRefBackend } from '../tensor/backend/ref.ts';
import { Engine } from '../tensor/tensor.ts';
import { DILOCO_INNER } from '../train/adamw.ts';
import { planDilocoRun } from '../train/diloco/plan.ts';
import type { RunView } from '../tracker/runs/diloco.ts';
import { parseChoice, parsePositiveInt, parsePositiveNumber } from './flags.ts';
import { fmtBytes } from './progress.ts';
import { ddpRunBytes } from '../train/diloco/comms.ts';
import { paramCount } from '../model/llama.ts';
import { loadOrCreateIdentity, swarmHome } from './identity.ts';
import { UP_DEFAULTS, aggregateOf, parseAggregate, presetDefaults } from './up.ts';

interface CreateFlags {
  tracker: string;
  preset: string;
  data?: string;
  slots?: number;
  innerSteps?: number;
  rounds?: number;
  replication: number;
  aggregate: 'mean' | 'trimmed-mean' | 'centered-clip';
  id?: string;
  seed: number;
  lr?: number;
  outerLr: number;
  downlink: 'int8' | 'f32';
  leaseMs: number;
  json?: boolean;
}

async function client(tracker: string): Promise<TrackerClient> {
  const id = await loadOrCreateIdentity(swarmHome());
  return new TrackerClient({ baseUrl: tracker, key: id.keyPair, clock: systemClock });
}

/**
 * Registers this key with the tracker unless it already is, as `swarm
 * provide` does (issue 24: a trainer's first `run create` failed with
 * TRACKER_UNKNOWN_PROVIDER, since the tracker takes blobs only from
 * registered keys). A key that is registered already (the same identity
 * also provides) keeps its name on the leaderboard.
 */
async function ensureRegistered(c: TrackerClient): Promise<void> {
  try {
    await c.providerStatus();
    return;
  } catch (e) {
    if (!isSwarmError(e) || e.code !== 'TRACKER_UNKNOWN_PROVIDER') throw e;
  }
  await c.register(`trainer-${hostname().slice(0, 48) || 'local'}`, { threads: 1, memoryBytes: totalmem() });
}

/**
 * A run for people (`swarm run show`): its settings, eval losses, and per
 * round the bytes providers moved — down and up over every verified copy, and
 * for one replica per slot (DiLoCo's own traffic; per provider, the K slots'
 * providers share it) — beside what synchronous data parallelism's ring
 * all-reduce would have moved for the round's tokens (comms.ts; issue 7:
 * "both shown").
 */
/** Why the current round waits (issue 24), when the tracker says so. */
function waitingLines(v: RunView): string[] {
  const w = v.waiting;
  if (w === undefined || w.reasons.length === 0) return [];
  const head = `  round ${w.round} ${w.stalled ? 'is STALLED' : 'waits'}${w.stalled ? ` (it closes at its deadline, ${new Date(w.deadline).toISOString()}, with the slots that are valid)` : ''}:`;
  return [head, ...w.reasons.map((r) => `    ${r}`)];
}

export function summary(v: RunView): string {
  const p = v.progress;
  const evals = Object.entries(p.evalLoss).sort((a, b) => Number(a[0]) - Number(b[0])).map(([r, l]) => `θ${r} ${l.toFixed(3)}`).join(', ');
  const ddpRound = ddpRunBytes({ workers: v.spec.slots, paramCount: paramCount(v.spec.config), steps: v.spec.innerSteps }).total;
  const one = p.history.reduce((a, r) => a + (r.bytesOneReplica ?? 0), 0);
  const ddp = ddpRound * p.history.length;
  return [
    `run ${v.id}: ${p.status}, round ${p.round}/${v.spec.rounds} (${v.spec.label})`,
    `  ${v.spec.slots} slots × ${v.spec.innerSteps} inner steps, replication ${v.spec.replication}, aggregate ${v.spec.aggregate.kind}, θ down ${v.spec.downlink ?? 'f32'}`,
    `  eval loss: ${evals || '—'}${v.spec.entropyFloor === null ? '' : ` (entropy floor ${v.spec.entropyFloor.toFixed(3)})`}`,
    `  checkpoint: ${p.state}`,
    ...p.history.map((r) => {
      const own = r.bytesOneReplica === undefined ? '' : `; one replica per slot ${fmtBytes(r.bytesOneReplica)}, ${fmtBytes(r.bytesOneReplica / Math.max(1, r.slots.length))} a provider`;
      return `  round ${r.round}: slots [${r.slots.join(',')}]${r.dropped.length ? ` dropped [${r.dropped.join(',')}]` : ''}, train ${r.trainLoss?.toFixed(3) ?? '—'}, ` +
        `moved ${fmtBytes(r.bytesDown)} down, ${fmtBytes(r.bytesUp)} up${own}; data parallelism ${fmtBytes(ddpRound)}`;
    }),
    ...waitingLines(v),
    ...(p.history.length === 0 || one === 0 ? [] : [`  traffic: ${fmtBytes(one)} (one replica per slot) against ${fmtBytes(ddp)} for data parallelism: ${(ddp / one).toFixed(1)}× less`]),
  ].join('\n');
}

export function registerRun(program: Command): void {
  const run = program.command('run').description('create and follow DiLoCo training runs on a tracker');
  run
    .command('create')
    .description('prepare θ_0 and the data shards, upload them as blobs, and create a run (your key, as `swarm whoami` prints it, must be a --trainer of the tracker)')
    .requiredOption('--tracker <url>', 'tracker base URL, e.g. http://127.0.0.1:7070')
    .option('--preset <name>', 'model size: nano (~0.1M), micro (~2M), small (~20M)', 'micro')
    .option('--data <path>', 'train on real text: a .txt file, a folder of .txt/.md, or .jsonl with a "text" field (default: the synthetic corpus)')
    .option('--slots <n>', `units per round K (default by preset: ${presetDefaults('slots')})`, parsePositiveInt('--slots', 64))
    .option('--inner-steps <n>', `AdamW steps per unit H (default by preset: ${presetDefaults('innerSteps')})`, parsePositiveInt('--inner-steps', 100_000))
    .option('--rounds <n>', `outer steps R (default by preset: ${presetDefaults('rounds')})`, parsePositiveInt('--rounds', 10_000))
    .option('--replication <n>', 'minimum quorum of every unit (a new identity\'s results are always checked by a second provider)', parsePositiveInt('--replication', 8), 1)
    .option('--aggregate <kind>', 'how each round\'s deltas are combined: mean, trimmed-mean or centered-clip', parseAggregate, 'mean')
    .option('--lr <x>', `inner AdamW peak learning rate (default by preset: ${presetDefaults('lr')})`, parsePositiveNumber('--lr'))
    .option('--outer-lr <x>', 'outer Nesterov learning rate (momentum 0.9)', parsePositiveNumber('--outer-lr'), 0.7)
    .option('--downlink <kind>', 'how θ goes down each round: int8 (an update with error feedback, applied by providers holding the previous θ) or f32 (θ whole)', parseChoice('--downlink', ['int8', 'f32'] as const), 'int8')
    .option('--lease-ms <ms>', 'lease of a unit: a replica neither finished nor heartbeating by then goes to another provider', parsePositiveInt('--lease-ms', 86_400_000), 120_000)
    .option('--id <id>', 'run id (default: <preset>-<milliseconds since 1970>)')
    .option('--seed <n>', 'seed of the initial weights and the data shards', parsePositiveInt('--seed', 2 ** 32 - 1), 1)
    .option('--json', 'print the created run as JSON')
    .action(async (o: CreateFlags) => {
      const d = UP_DEFAULTS[o.preset];
      if (d === undefined) throw new InvalidArgumentError(`unknown preset ${o.preset}`);
      const c = await client(o.tracker);
      await ensureRegistered(c);
      const plan = planDilocoRun(new Engine(createRefBackend()), {
        preset: o.preset, seed: o.seed, slots: o.slots ?? d.slots, innerSteps: o.innerSteps ?? d.innerSteps, rounds: o.rounds ?? d.rounds,
        batch: d.batch, seqLen: d.seqLen, ...(o.data === undefined ? {} : { data: o.data }),
        adamw: { ...DILOCO_INNER, lr: o.lr ?? d.lr }, outer: { lr: o.outerLr, momentum: 0.9 }, aggregate: aggregateOf(o.aggregate),
        replication: o.replication, quorumFraction: 0.5, roundDeadlineMs: 30 * 60_000, leaseMs: o.leaseMs, evalWindows: 64, downlink: o.downlink,
      });
      for (const [i, b] of plan.blobs.entries()) {
        await c.putBlob(b);
        if (!o.json && process.stderr.isTTY) process.stderr.write(`\rswarm run create: uploaded ${i + 1}/${plan.blobs.length} blobs`);
      }
      if (!o.json && process.stderr.isTTY) process.stderr.write('\n');
      const id = o.id ?? `${o.preset}-${systemClock.now()}`;
      const view = await c.json<RunView>('POST', '/api/runs', { id, spec: plan.spec });
      process.stdout.write(o.json ? `${JSON.stringify(view)}\n` : `${summary(view)}\n`);
    });
  run
    .command('list')
    .description('list the runs on a tracker')
    .requiredOption('--tracker <url>', 'tracker base URL, e.g. http://127.0.0.1:7070')
    .option('--json', 'print JSON instead of text')
    .action(async (o: { tracker: string; json?: boolean }) => {
      const c = await client(o.tracker);
      const r = await c.getJson<{ runs: Array<{ id: string; status: string; round: number; rounds: number; label: string }> }>('/api/runs');
      if (o.json) process.stdout.write(`${JSON.stringify(r)}\n`);
      else process.stdout.write(r.runs.length === 0 ? 'no runs\n' : `${r.runs.map((x) => `${x.id}\t${x.status}\tround ${x.round}/${x.rounds}\t${x.label}`).join('\n')}\n`);
    });
  run
    .command('show <id>')
    .description('show a run: its settings, progress, eval losses, bytes moved per round and latest checkpoint')
    .requiredOption('--tracker <url>', 'tracker base URL, e.g. http://127.0.0.1:7070')
    .option('--json', 'print JSON instead of text')
    .action(async (id: string, o: { tracker: string; json?: boolean }) => {
      const c = await client(o.tracker);
      const v = await c.getJson<RunView>(`/api/runs/${encodeURIComponent(id)}`);
      process.stdout.write(o.json ? `${JSON.stringify(v)}\n` : `${summary(v)}\n`);
    });
  run
    .command('stop <id>')
    .description('stop a run you own: its open units are cancelled and its last checkpoint stays')
    .requiredOption('--tracker <url>', 'tracker base URL, e.g. http://127.0.0.1:7070')
    .option('--json', 'print JSON instead of text')
    .action(async (id: string, o: { tracker: string; json?: boolean }) => {
      const c = await client(o.tracker);
      const res = await c.send('POST', `/api/runs/${encodeURIComponent(id)}/stop`, new Uint8Array(0));
      const v = (await res.json()) as RunView;
      process.stdout.write(o.json ? `${JSON.stringify(v)}\n` : `${summary(v)}\n`);
    });
}
