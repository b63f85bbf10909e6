/**
 * `swarm up`, the main job (`npm start`). What exists today runs on this
 * machine: train a model on the default synthetic corpus with live progress
 * (loss against the corpus's entropy floor), write its checkpoint, then serve
 * it through the OpenAI-compatible gateway until Ctrl-C. The embedded tracker,
 * local providers and the DiLoCo swarm run (DESIGN.md, "swarm up") replace the
 * local training step when the swarm-training issue lands; the flags stay.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import { defaultThreads } from './engine.ts';
import { parsePositiveInt } from './flags.ts';
import { serveAction } from './serve.ts';
import { trainAction } from './train.ts';

interface UpFlags {
  preset: string;
  steps?: number;
  data?: string;
  out?: string;
  port: number;
  seed: number;
  threads?: number;
  json?: boolean;
  exitAfterTraining?: boolean;
}

async function upAction(o: UpFlags): Promise<void> {
  const out = o.out ?? join('.swarm', 'up', o.preset);
  const threads = o.threads ?? defaultThreads();
  if (!o.json) process.stderr.write(`swarm up: training ${o.preset} on this machine (${threads} threads), then serving it\n`);
  await trainAction({
    local: true,
    preset: o.preset,
    ...(o.steps ? { steps: o.steps } : {}),
    ...(o.data ? { data: o.data } : {}),
    out,
    warmup: 30,
    seed: o.seed,
    threads,
    backend: ['wasm'],
    evalEvery: 100,
    ...(o.json ? { json: true } : {}),
  });
  if (o.exitAfterTraining) return;
  process.stderr.write(
    `try: curl -s http://127.0.0.1:${o.port}/v1/completions -H 'content-type: application/json' ` +
      `-d '{"model":"swarm-${o.preset}","prompt":"The farmer","max_tokens":40}'\n` +
      `or:  npm run -s swarm -- chat --url http://127.0.0.1:${o.port}      (Ctrl-C stops the server)\n`,
  );
  await serveAction({ model: out, name: `swarm-${o.preset}`, port: o.port, host: '127.0.0.1', backend: 'wasm', threads, maxQueue: 16 });
}

export function registerUp(program: Command): void {
  program
    .command('up')
    .description(
      'the main job: train a model on the default synthetic corpus with live progress\n' +
        '(loss against the entropy floor), then serve it with the OpenAI-compatible API\n' +
        'until Ctrl-C. Swarm training over a tracker and providers replaces the local\n' +
        'training step in a later release.',
    )
    .option('--preset <name>', 'model size: nano (~0.1M), micro (~2M), small (~20M)', 'micro')
    .option('--steps <n>', 'training steps (default 250: micro gets within ~0.12 nats of the floor in about 4-5 minutes on 2 cores)', parsePositiveInt('--steps', 10_000_000))
    .option('--data <path>', 'train on real text instead of the synthetic corpus')
    .option('--out <dir>', 'checkpoint directory (default .swarm/up/<preset>)')
    .option('--port <n>', 'port of the OpenAI-compatible API', (v: string) => (v === '0' ? 0 : parsePositiveInt('--port', 65535)(v)), 8080)
    .option('--seed <n>', 'seed of every random choice', parsePositiveInt('--seed', 2 ** 32 - 1), 1)
    .option('--threads <n>', 'matmul threads (default: all cores)', parsePositiveInt('--threads', 256))
    .option('--exit-after-training', 'stop after writing the checkpoint instead of serving')
    .option('--json', 'print the training report as one JSON line')
    .action(upAction);
}
