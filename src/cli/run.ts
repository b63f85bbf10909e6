/**
 * `swarm run create|list|show|stop` (issue 7): a trainer creates a DiLoCo
 * run on a tracker, signed by its identity ($SWARM_HOME/identity.key; the
 * tracker must list its key id with --trainer). `create` prepares θ_0, the
 * data shard of every (round, slot) and the evaluation windows locally,
 * uploads them as blobs, then creates the run.
 */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { systemClock } from '../core/clock.ts';
import { TrackerClient } from '../provider/client.ts';
import { createRefBackend } from '../tensor/backend/ref.ts';
import { Engine } from '../tensor/tensor.ts';
import { DILOCO_INNER } from '../train/adamw.ts';
import { planDilocoRun } from '../train/diloco/plan.ts';
import type { RunView } from '../tracker/runs/diloco.ts';
import { parseChoice, parsePositiveInt, parsePositiveNumber } from './flags.ts';
import { fmtBytes } from './progress.ts';
import { ddpRunBytes } from '../train/diloco/comms.ts';
import { paramCount } from '../train/unit.ts';
import { loadOrCreateIdentity, swarmHome } from './identity.ts';
import { UP_DEFAULTS, aggregateOf, parseAggregate } from './up.ts';

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
  json?: boolean;
}

async function client(tracker: string): Promise<TrackerClient> {
  const id = await loadOrCreateIdentity(swarmHome());
  return new TrackerClient({ baseUrl: tracker, key: id.keyPair, clock: systemClock });
}

/**
 * A run for people (`swarm run show`): its settings, eval losses, and per
 * round the bytes providers moved — down and up over every verified copy, and
 * for one replica per slot (DiLoCo's own traffic; per provider, the K slots'
 * providers share it) — beside what synchronous data parallelism's ring
 * all-reduce would have moved for the round's tokens (comms.ts; issue 7:
 * "both shown").
 */
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
    ...(p.history.length === 0 || one === 0 ? [] : [`  traffic: ${fmtBytes(one)} (one replica per slot) against ${fmtBytes(ddp)} for data parallelism: ${(ddp / one).toFixed(1)}× less`]),
  ].join('\n');
}

export function registerRun(program: Command): void {
  const run = program.command('run').description('create and follow DiLoCo training runs on a tracker');
  run
    .command('create')
    .description('prepare θ_0 and the data shards, upload them, and create a run (your key must be a --trainer of the tracker)')
    .requiredOption('--tracker <url>', 'the tracker')
    .option('--preset <name>', 'nano, micro or small', 'micro')
    .option('--data <path>', 'real text instead of the synthetic corpus')
    .option('--slots <n>', 'units per round (K)', parsePositiveInt('--slots', 64))
    .option('--inner-steps <n>', 'AdamW steps per unit (H)', parsePositiveInt('--inner-steps', 100_000))
    .option('--rounds <n>', 'outer steps (R)', parsePositiveInt('--rounds', 10_000))
    .option('--replication <n>', 'minimum quorum per unit', parsePositiveInt('--replication', 8), 1)
    .option('--aggregate <kind>', 'mean, trimmed-mean or centered-clip', parseAggregate, 'mean')
    .option('--lr <x>', 'inner AdamW learning rate', parsePositiveNumber('--lr'))
    .option('--outer-lr <x>', 'outer Nesterov learning rate', parsePositiveNumber('--outer-lr'), 0.7)
    .option('--downlink <kind>', 'θ down each round as an int8 update with error feedback (providers holding the previous θ apply it) or whole (f32)', parseChoice('--downlink', ['int8', 'f32'] as const), 'int8')
    .option('--id <id>', 'run id (default: <preset>-<time>)')
    .option('--seed <n>', 'seed', parsePositiveInt('--seed', 2 ** 32 - 1), 1)
    .option('--json', 'print the created run as JSON')
    .action(async (o: CreateFlags) => {
      const d = UP_DEFAULTS[o.preset];
      if (d === undefined) throw new InvalidArgumentError(`unknown preset ${o.preset}`);
      const c = await client(o.tracker);
      const plan = planDilocoRun(new Engine(createRefBackend()), {
        preset: o.preset, seed: o.seed, slots: o.slots ?? d.slots, innerSteps: o.innerSteps ?? d.innerSteps, rounds: o.rounds ?? d.rounds,
        batch: d.batch, seqLen: d.seqLen, ...(o.data === undefined ? {} : { data: o.data }),
        adamw: { ...DILOCO_INNER, lr: o.lr ?? d.lr }, outer: { lr: o.outerLr, momentum: 0.9 }, aggregate: aggregateOf(o.aggregate),
        replication: o.replication, quorumFraction: 0.5, roundDeadlineMs: 30 * 60_000, leaseMs: 120_000, evalWindows: 64, downlink: o.downlink,
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
    .description('runs on a tracker')
    .requiredOption('--tracker <url>', 'the tracker')
    .option('--json', 'JSON output')
    .action(async (o: { tracker: string; json?: boolean }) => {
      const c = await client(o.tracker);
      const r = await c.getJson<{ runs: Array<{ id: string; status: string; round: number; rounds: number; label: string }> }>('/api/runs');
      if (o.json) process.stdout.write(`${JSON.stringify(r)}\n`);
      else process.stdout.write(r.runs.length === 0 ? 'no runs\n' : `${r.runs.map((x) => `${x.id}\t${x.status}\tround ${x.round}/${x.rounds}\t${x.label}`).join('\n')}\n`);
    });
  run
    .command('show <id>')
    .description('a run: progress, eval losses, checkpoints')
    .requiredOption('--tracker <url>', 'the tracker')
    .option('--json', 'JSON output')
    .action(async (id: string, o: { tracker: string; json?: boolean }) => {
      const c = await client(o.tracker);
      const v = await c.getJson<RunView>(`/api/runs/${encodeURIComponent(id)}`);
      process.stdout.write(o.json ? `${JSON.stringify(v)}\n` : `${summary(v)}\n`);
    });
  run
    .command('stop <id>')
    .description('stop a run you own: open units are cancelled, the last checkpoint stays')
    .requiredOption('--tracker <url>', 'the tracker')
    .option('--json', 'JSON output')
    .action(async (id: string, o: { tracker: string; json?: boolean }) => {
      const c = await client(o.tracker);
      const res = await c.send('POST', `/api/runs/${encodeURIComponent(id)}/stop`, new Uint8Array(0));
      const v = (await res.json()) as RunView;
      process.stdout.write(o.json ? `${JSON.stringify(v)}\n` : `${summary(v)}\n`);
    });
}
