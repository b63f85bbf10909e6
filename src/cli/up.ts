/**
 * `swarm up`, the main job (`npm start`; DESIGN.md "Processes", issue 7):
 * an embedded tracker, N local providers as separate processes (default one
 * per core), a DiLoCo run on the default synthetic corpus with live progress,
 * then the trained model served through the OpenAI-compatible API, all on
 * one HTTP server: /api and /ledger/v1 (the tracker), /v1 (the gateway).
 * Other machines can join while it trains: `swarm provide --tracker URL`.
 *
 * Everything providers return is quorum-verified (local providers are new
 * identities, so every unit is computed twice and compared by hash); every
 * round's checkpoint is a ledger entry that `swarm audit --replay` recomputes.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { Supervisor } from './supervisor.ts';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { parseClaDocument } from '../protocol/cla.ts';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import { Hono } from 'hono';
import { systemClock } from '../core/clock.ts';
import { SwarmError } from '../core/errors.ts';
import { sleep } from '../core/sleep.ts';
import { createGatewayApp } from '../gateway/app.ts';
import { ServedModels } from '../gateway/model.ts';
import type { ServedModel } from '../gateway/model.ts';
import { modelConstants, paramCount } from '../model/llama.ts';
import { writeCheckpointDir } from '../model/format/checkpoint-dir.ts';
import { toHfLlamaConfig } from '../model/format/hf-config.ts';
import { toHfTensors } from '../model/format/weights.ts';
import { hfTokenizerConfig } from '../model/tokenizer/index.ts';
import { createRefBackend } from '../tensor/backend/ref.ts';
import { Engine } from '../tensor/tensor.ts';
import { DILOCO_INNER } from '../train/adamw.ts';
import { ddpRunBytes } from '../train/diloco/comms.ts';
import { planDilocoRun } from '../train/diloco/plan.ts';
import { fmtBytes } from './progress.ts';
import { decodeGlobalState } from '../train/diloco/checkpoint.ts';
import type { RoundAggregate } from '../train/diloco/checkpoint.ts';
import { splitFlat, wrapFlatParams } from '../train/unit.ts';
import { decodeParamsBlob } from '../train/work/params-blob.ts';
import type { RunView } from '../tracker/runs/diloco.ts';
import { getBlob, putBlob } from '../tracker/storage/blobs.ts';
import { createBackend, defaultThreads, kernelsText, nativeFallbackLine } from './engine.ts';
import { parsePort, parsePositiveInt } from './flags.ts';
import { loadOrCreateIdentity, swarmHome } from './identity.ts';
import { startTracker } from './tracker.ts';
import type { RunningTracker } from './tracker.ts';

const BIN = fileURLToPath(new URL('../../bin/swarm.mjs', import.meta.url));
/** The repository's contributor licence agreement: the version `swarm up`'s tracker requires (issue 20). */
const CLA_FILE = fileURLToPath(new URL('../../CLA.md', import.meta.url));

/** Per-preset defaults that finish within ~5 minutes on 2 cores with every unit replicated twice. */
export const UP_DEFAULTS: Record<string, { slots: number; innerSteps: number; rounds: number; batch: number; seqLen: number; lr: number }> = {
  nano: { slots: 2, innerSteps: 50, rounds: 6, batch: 16, seqLen: 64, lr: 3e-3 },
  micro: { slots: 2, innerSteps: 50, rounds: 4, batch: 16, seqLen: 64, lr: 4e-3 },
  small: { slots: 2, innerSteps: 10, rounds: 3, batch: 8, seqLen: 128, lr: 1e-3 },
};

export interface UpFlags {
  preset: string;
  providers: number;
  rounds?: number;
  slots?: number;
  innerSteps?: number;
  data?: string;
  db?: string;
  port: number;
  host: string;
  seed: number;
  replication: number;
  aggregate: 'mean' | 'trimmed-mean' | 'centered-clip';
  out?: string;
  json?: boolean;
  exitAfterTraining?: boolean;
}

export interface UpReport {
  /** the local providers' kernels, e.g. "native avx512" or "wasm" (metadata: every engine gives the same bits) */
  kernels: string;
  rounds: number;
  evalLoss: number | null;
  entropyFloor: number | null;
  unitsVerified: number;
  unitsRejected: number;
  bytesMoved: number;
  ddpBytesEquivalent: number;
  checkpointSha256: string;
  wallSeconds: number;
  url: string;
  run: string;
}

/** The aggregator options behind --aggregate (shared by `swarm up` and `swarm run create`). */
export function aggregateOf(kind: UpFlags['aggregate']): RoundAggregate {
  if (kind === 'trimmed-mean') return { kind, trim: 0.25 };
  if (kind === 'centered-clip') return { kind, tau: 1, iterations: 3, center: 'momentum' };
  return { kind: 'mean' };
}

function spawnProvider(url: string, i: number, home: string): ChildProcess {
  // --accept-cla: the person running `swarm up` runs the tracker too, and accepts its CLA for its own local providers (said on screen)
  const child = spawn(process.execPath, [BIN, 'provide', '--tracker', url, '--threads', '1', '--json', '--no-ui', '--accept-cla', '--name', `local-${i}`], {
    env: { ...process.env, SWARM_HOME: home },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr?.resume();
  return child;
}

interface Stats {
  verified: number;
  rejected: number;
  flops: number;
  online: number;
}

async function runStats(t: RunningTracker, run: string, now: number): Promise<Stats> {
  const rows = await t.db.query<{ verdict: string | null; n: string; flops: number | null }>(
    `SELECT r.verdict, count(*) AS n, sum(u.flops) AS flops FROM replicas r JOIN units u ON u.id = r.unit_id WHERE u.run_id = $1 GROUP BY r.verdict`,
    [run],
  );
  // online: asked for work lately, or holding a live lease (busy providers only heartbeat)
  const online = await t.db.query<{ n: string }>(
    `SELECT count(*) AS n FROM providers p WHERE p.last_seen > $1
        OR EXISTS (SELECT 1 FROM replicas r WHERE r.provider = p.key_id AND r.state = 'in-progress' AND r.deadline > $2)`,
    [now - 15_000, now],
  );
  let verified = 0, rejected = 0, flops = 0;
  for (const r of rows) {
    if (r.verdict === 'valid') {
      verified += Number(r.n);
      flops += r.flops ?? 0;
    } else if (r.verdict === 'invalid') rejected += Number(r.n);
  }
  return { verified, rejected, flops, online: Number(online[0]!.n) };
}

function progressLine(v: RunView, s: Stats, elapsed: number): string {
  const p = v.progress;
  const done = p.history.length;
  const lastEval = [...Object.entries(p.evalLoss)].sort((a, b) => Number(b[0]) - Number(a[0]))[0];
  const floor = v.spec.entropyFloor;
  const evalText = lastEval === undefined ? 'eval —' : `eval ${lastEval[1].toFixed(3)} (θ${lastEval[0]})${floor === null ? '' : ` floor ${floor.toFixed(3)} gap ${(lastEval[1] - floor).toFixed(3)}`}`;
  const train = p.history.length === 0 ? 'train —' : `train ${(p.history[p.history.length - 1]!.trainLoss ?? NaN).toFixed(3)}`;
  const bytes = p.history.reduce((a, r) => a + r.bytesDown + r.bytesUp, 0);
  const eta = done === 0 ? '?' : `${Math.max(0, (elapsed / done) * (v.spec.rounds - done)).toFixed(0)}s`;
  return `round ${Math.min(p.round + 1, v.spec.rounds)}/${v.spec.rounds} | ${train} | ${evalText} | providers ${s.online} | units ✓${s.verified} ✗${s.rejected} | ${(s.flops / Math.max(elapsed, 1e-9) / 1e9).toFixed(2)} GFLOP/s | moved ${fmtBytes(bytes)} | eta ${eta}`;
}

export async function upAction(o: UpFlags): Promise<UpReport> {
  const started = performance.now();
  const d = UP_DEFAULTS[o.preset];
  if (d === undefined) throw new SwarmError('CLI_BAD_FLAG', `unknown preset "${o.preset}" (expected ${Object.keys(UP_DEFAULTS).join(', ')})`);
  // New identities are always checked by two (adaptive replication), and local providers are new.
  const quorum = Math.max(2, o.replication);
  if (o.providers < quorum) {
    throw new SwarmError('CLI_BAD_FLAG', `--providers ${o.providers} cannot form a quorum of ${quorum}: new identities are always verified by at least two`);
  }
  const log = (s: string): void => {
    if (!o.json) process.stderr.write(`${s}\n`);
  };
  const home = swarmHome();
  const work = mkdtempSync(join(tmpdir(), 'swarm-up-'));
  // The gateway joins the tracker's server once a model exists.
  let gateway: Hono | null = null;
  const gatewayMount = new Hono();
  gatewayMount.all('*', (c) => (gateway === null
    ? c.json({ error: { message: 'the swarm is still training; the model is served when the run finishes', type: 'server_error', param: null, code: 'model_not_ready' } }, 503)
    : gateway.fetch(c.req.raw)));
  // The Steering Council of this swarm (issue 20): one member, this machine's identity (`swarm whoami`).
  const me = await loadOrCreateIdentity(home);
  const cla = parseClaDocument(readFileSync(CLA_FILE));
  // Models the council releases join the gateway's catalog (served once training is done).
  const served = new ServedModels();
  let serveRelease: (name: string) => Promise<void> = async () => undefined;
  const tracker = await startTracker({
    port: o.port,
    host: o.host,
    home,
    db: o.db ?? join(work, 'db'),
    mount: [{ path: '/v1', app: gatewayMount }],
    council: { members: [me.keyPair.keyId], threshold: 1 },
    cla,
    service: {
      onCouncilDecision: (d) => {
        if (d.action === 'release') serveRelease(d.subject).catch((e: unknown) => log(`swarm up: cannot serve release ${d.subject}: ${e instanceof Error ? e.message : String(e)}`));
      },
    },
    onRunError: (run, e) => log(`swarm up: run ${run}: ${e instanceof Error ? e.message : String(e)}`),
  });
  // local providers are supervised: one that dies is started again on its state directory (issue 24)
  const providers = new Supervisor({
    spawn: (i) => spawnProvider(tracker.url, i, join(work, `provider-${i}`)),
    onRestart: (i, how, delayMs) => log(`swarm up: local provider ${i} ${how}; starting it again in ${(delayMs / 1000).toFixed(0)} s`),
  });
  const cleanup = async (): Promise<void> => {
    providers.stop('SIGKILL');
    await tracker.close().catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  };
  let interrupted = false;
  const onSignal = (): void => {
    interrupted = true;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    log(`swarm up: tracker at ${tracker.url} (db ${tracker.db.driver}); others can join: npm run -s swarm -- provide --tracker ${tracker.url}`);
    log(`swarm up: dashboard at ${tracker.url}/ (the swarm live, the run's loss curve, leaderboard, ledger explorer, chat); lend a browser tab at ${tracker.url}/join`);
    log(`swarm up: council: one member, your identity ${me.keyPair.keyId.slice(0, 16)}… (threshold 1); release a checkpoint with ` +
      `npm run -s swarm -- council propose release --checkpoint SHA256 --name NAME --tracker ${tracker.url}, then council vote ID --approve`);
    log(`swarm up: contributor licence ${cla.version} (CLA.md, sha256 ${cla.sha256.slice(0, 16)}…): you run this tracker, so its local providers accept it for you (--accept-cla); others join with provide --accept-cla`);
    const fallback = nativeFallbackLine();
    if (fallback !== undefined) log(fallback);
    const kernelText = kernelsText('auto');
    log(`swarm up: kernels: ${kernelText} (every engine gives the same bits)`);
    const engine = new Engine(createRefBackend());
    const innerSteps = o.innerSteps ?? d.innerSteps;
    const plan = planDilocoRun(engine, {
      preset: o.preset,
      seed: o.seed,
      slots: o.slots ?? d.slots,
      innerSteps,
      rounds: o.rounds ?? d.rounds,
      batch: d.batch,
      seqLen: d.seqLen,
      ...(o.data === undefined ? {} : { data: o.data }),
      adamw: { ...DILOCO_INNER, lr: d.lr },
      // warm-up then cosine to a tenth, by each slot's own optimizer step across rounds
      schedule: { maxLr: d.lr, minLr: d.lr / 10, warmupSteps: 20, totalSteps: innerSteps * (o.rounds ?? d.rounds) },
      // A short run from scratch: plain averaging of the deltas (outer lr 1, no momentum) beat DiLoCo's
      // 0.7/0.9 in our nano study (ratio to the single worker 1.13 vs 1.32 after 6 rounds); the paper's
      // values start from a pretrained model (arXiv 2311.08105 §3), where Nesterov helped here too.
      outer: { lr: 1, momentum: 0 },
      aggregate: aggregateOf(o.aggregate),
      replication: o.replication,
      quorumFraction: 0.5,
      roundDeadlineMs: 30 * 60_000,
      leaseMs: 120_000,
      evalWindows: 64,
    });
    const now = systemClock.now();
    for (const b of plan.blobs) await putBlob(tracker.db, b, undefined, { now });
    const runId = `up-${o.preset}-${now}`;
    await tracker.runs.create(tracker.key.keyId, runId, plan.spec);
    log(`swarm up: run ${runId}: ${plan.spec.label}; ${paramCount(plan.setup.config).toLocaleString('en-US')} parameters, ` +
      `${plan.spec.slots} slots × ${innerSteps} inner steps × ${plan.spec.rounds} rounds, ${o.providers} local providers`);
    providers.start(o.providers);
    const tty = process.stderr.isTTY === true;
    let view: RunView;
    let lastPrinted = 0;
    for (;;) {
      view = await tracker.runs.get(runId);
      const elapsed = (performance.now() - started) / 1000;
      const s = await runStats(tracker, runId, systemClock.now());
      const finalEval = view.progress.evalLoss[String(view.spec.rounds)];
      const line = progressLine(view, s, elapsed);
      if (!o.json && (tty || performance.now() - lastPrinted > 10_000)) {
        process.stderr.write(tty ? `\r\x1b[2K${line}` : `${line}\n`);
        lastPrinted = performance.now();
      }
      if (view.progress.status === 'failed' || view.progress.status === 'stopped') throw new SwarmError('UP_RUN_FAILED', `the run ${view.progress.status}: ${view.progress.message ?? ''}`);
      if (view.progress.status === 'finished' && (finalEval !== undefined || view.spec.eval === null)) break;
      if (interrupted) throw new SwarmError('UP_INTERRUPTED', 'interrupted');
      await sleep(500);
    }
    if (tty && !o.json) process.stderr.write('\n');
    providers.stop('SIGTERM');
    const stats = await runStats(tracker, runId, systemClock.now());
    const config = view.spec.config;
    const theta = decodeParamsBlob((await getBlob(tracker.db, view.progress.params)).bytes, config);
    const roundsDone = view.progress.history.length;
    const report: UpReport = {
      kernels: kernelText,
      rounds: roundsDone,
      evalLoss: view.progress.evalLoss[String(roundsDone)] ?? null,
      entropyFloor: view.spec.entropyFloor,
      unitsVerified: stats.verified,
      unitsRejected: stats.rejected,
      bytesMoved: view.progress.history.reduce((a, r) => a + r.bytesDown + r.bytesUp, 0),
      ddpBytesEquivalent: ddpRunBytes({ workers: view.spec.slots, paramCount: theta.length, steps: view.spec.innerSteps * roundsDone }).total,
      checkpointSha256: view.progress.state,
      wallSeconds: (performance.now() - started) / 1000,
      url: tracker.url,
      run: runId,
    };
    const out = o.out ?? join('.swarm', 'up', o.preset);
    const tok = plan.setup.tokenizer;
    await writeCheckpointDir(out, {
      config: toHfLlamaConfig({ ...config, bosTokenId: tok.specialTokens.bos, eosTokenId: tok.specialTokens.eos }),
      tensors: toHfTensors(config, splitFlat(config, theta)),
      metadata: { format: 'pt', swarm_checkpoint: view.progress.state, swarm_run: runId },
      tokenizerJson: tok.toHfJson(),
      extraFiles: { 'tokenizer_config.json': `${JSON.stringify(hfTokenizerConfig(tok), null, 2)}\n` },
    });
    if (o.json) process.stdout.write(`${JSON.stringify(report)}\n`);
    else {
      log(`swarm up: trained ${roundsDone} rounds in ${report.wallSeconds.toFixed(0)}s: eval loss ${report.evalLoss?.toFixed(3) ?? '—'}` +
        `${report.entropyFloor === null ? '' : ` (entropy floor ${report.entropyFloor.toFixed(3)})`}; ${report.unitsVerified} results verified, ${report.unitsRejected} rejected; ` +
        `moved ${fmtBytes(report.bytesMoved)} (synchronous data parallelism: ${fmtBytes(report.ddpBytesEquivalent)}); checkpoint ${report.checkpointSha256.slice(0, 16)}… in ${out}`);
    }
    if (o.exitAfterTraining || interrupted) return report;
    const backend = await createBackend('auto', defaultThreads());
    const serveEngine = new Engine(backend);
    // the run's latest checkpoint, served as a preview: a named version comes only from a council release
    const model: ServedModel = {
      id: `swarm-${o.preset}`,
      config,
      params: wrapFlatParams(serveEngine, config, theta).params,
      constants: modelConstants(serveEngine, config),
      tokenizer: tok,
      created: Math.floor(systemClock.now() / 1000),
      preview: true,
    };
    served.add(model);
    // A released checkpoint of this run is served under its release name, from the state's θ.
    serveRelease = async (name) => {
      const release = await tracker.service.council.release(name);
      if (release.run !== runId) throw new SwarmError('UP_RELEASE_OTHER_RUN', `it is a checkpoint of run ${release.run ?? '?'}, not of ${runId}`);
      const state = decodeGlobalState((await getBlob(tracker.db, release.checkpoint)).bytes, paramCount(config));
      served.add({
        id: name, config, params: wrapFlatParams(serveEngine, config, state.theta).params, constants: modelConstants(serveEngine, config),
        tokenizer: tok, created: Math.floor(release.releasedAt / 1000),
        release: { checkpoint: release.checkpoint, decision: release.decision, card: `/api/releases/${name}/card` },
      });
      log(`swarm up: the council released ${name} (${release.decision}); serving it at ${tracker.url}/v1 as "${name}"`);
    };
    for (const r of await tracker.service.council.releases()) {
      if (r.run === runId) await serveRelease(r.name);
    }
    const app = createGatewayApp(served, { queue: { concurrency: 1, maxWaiting: 16 } });
    // The gateway's routes live under /v1 in its own app: strip nothing, forward whole requests.
    gateway = new Hono().route('/', app);
    log(`swarm up: serving ${model.id} at ${tracker.url}/v1 (OpenAI-compatible). try:\n` +
      `  curl -s ${tracker.url}/v1/completions -H 'content-type: application/json' -d '{"model":"${model.id}","prompt":"The farmer","max_tokens":40}'\n` +
      `  npm run -s swarm -- chat --url ${tracker.url}      (Ctrl-C stops)`);
    await new Promise<void>((done) => {
      if (interrupted) return done();
      process.once('SIGINT', () => done());
      process.once('SIGTERM', () => done());
    });
    return report;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await cleanup();
  }
}

export function parseAggregate(v: string): UpFlags['aggregate'] {
  if (v !== 'mean' && v !== 'trimmed-mean' && v !== 'centered-clip') throw new InvalidArgumentError('--aggregate must be mean, trimmed-mean or centered-clip');
  return v;
}

/** A preset default for help texts: "nano 6, micro 3, small 3". */
export function presetDefaults(key: 'slots' | 'innerSteps' | 'rounds' | 'lr'): string {
  return Object.entries(UP_DEFAULTS).map(([name, d]) => `${name} ${d[key]}`).join(', ');
}

export function registerUp(program: Command): void {
  program
    .command('up')
    .summary('the main job: train a model with local providers through an embedded tracker, then serve it')
    .description(
      'The main job: start an embedded tracker and local provider processes (one per core, at least 2), ' +
        'train a model with DiLoCo on the synthetic corpus (or --data) with live progress, then serve the ' +
        'trained model with the OpenAI-compatible API on the same port until Ctrl-C. Every result is verified ' +
        'by a quorum of providers, and every checkpoint is a signed ledger entry that `swarm audit --replay` recomputes.',
    )
    .option('--preset <name>', 'model size: nano (~0.1M), micro (~2M), small (~20M)', 'micro')
    .addOption(new Option('--providers <n>', 'local provider processes (a quorum needs at least 2)')
      .argParser(parsePositiveInt('--providers', 256)).default(Math.max(2, availableParallelism()), 'one per core, at least 2'))
    .option('--rounds <n>', `DiLoCo rounds, i.e. outer steps R (default by preset: ${presetDefaults('rounds')})`, parsePositiveInt('--rounds', 10_000))
    .option('--slots <n>', `training units per round K (default by preset: ${presetDefaults('slots')})`, parsePositiveInt('--slots', 64))
    .option('--inner-steps <n>', `AdamW steps per unit H (default by preset: ${presetDefaults('innerSteps')})`, parsePositiveInt('--inner-steps', 100_000))
    .option('--replication <n>', 'minimum quorum of every unit (a new identity\'s results are always checked by a second provider)', parsePositiveInt('--replication', 8), 1)
    .option('--aggregate <kind>', 'how each round\'s deltas are combined: mean, trimmed-mean or centered-clip', parseAggregate, 'mean')
    .option('--data <path>', 'train on real text: a .txt file, a folder of .txt/.md, or .jsonl with a "text" field (default: the synthetic corpus)')
    .option('--db <url|dir>', 'tracker database: postgres://… or a PGlite directory (default: a fresh PGlite in a temporary directory, removed on exit)')
    .option('--port <n>', 'port of the tracker and the OpenAI-compatible API', parsePort, 8080)
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--seed <n>', 'seed of every random choice', parsePositiveInt('--seed', 2 ** 32 - 1), 1)
    .option('--out <dir>', 'where the trained checkpoint is written (default: .swarm/up/<preset>)')
    .option('--exit-after-training', 'stop after writing the checkpoint instead of serving the model')
    .option('--json', 'print the final report as one JSON line')
    .action(async (o: UpFlags) => {
      await upAction(o);
    });
}
