/**
 * `swarm serve --model DIR [--port N]`: loads a checkpoint directory and
 * serves it with the OpenAI-compatible gateway (src/gateway). The CLI does the
 * loading because the gateway may import only model, tensor and core
 * (DESIGN.md, Layout); the gateway gets a ready ServedModel.
 */
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { basename, join, resolve } from 'node:path';
import { serve } from '@hono/node-server';
import type { Command } from 'commander';
import type { Hono } from 'hono';
import { systemClock } from '../core/clock.ts';
import { createGatewayApp } from '../gateway/app.ts';
import { benchServe } from '../gateway/bench.ts';
import type { ServedModel } from '../gateway/model.ts';
import { modelConstants } from '../model/llama.ts';
import type { Backend } from '../tensor/backend/backend.ts';
import { Engine } from '../tensor/tensor.ts';
import { wrapFlatParams } from '../train/unit.ts';
import type { BackendName } from './engine.ts';
import { BACKEND_HELP, BACKEND_NAMES, createBackend, defaultThreads } from './engine.ts';
import { parseChoice, parsePositiveInt } from './flags.ts';
import { loadCheckpoint } from './train.ts';

export interface Listening {
  url: string;
  port: number;
  close: () => Promise<void>;
}

/** Serves a Hono app over HTTP on host:port (port 0 = any free port). */
export function listen(app: Hono, opts: { port: number; host: string }): Promise<Listening> {
  return new Promise((ok, fail) => {
    const server = serve({ fetch: app.fetch, port: opts.port, hostname: opts.host }, (info: AddressInfo) => {
      const host = info.family === 'IPv6' ? `[${info.address}]` : info.address;
      ok({
        url: `http://${host}:${info.port}`,
        port: info.port,
        close: () =>
          new Promise((done) => {
            // streams in flight are cut; their generations stop on the abort
            (server as { closeAllConnections?: () => void }).closeAllConnections?.();
            server.close(() => done());
          }),
      });
    });
    server.once('error', fail);
  });
}

/**
 * Loads a checkpoint into a ServedModel on `engine`. The chat template is
 * read from tokenizer_config.json's `chat_template` when the directory has
 * one (where Hugging Face stores it); otherwise the gateway's default applies.
 */
export async function loadServedModel(dir: string, engine: Engine, id?: string): Promise<ServedModel> {
  const ck = await loadCheckpoint(dir);
  const c = ck.config;
  const { params } = wrapFlatParams(engine, c, ck.params);
  let chatTemplate: string | undefined;
  try {
    const tc = JSON.parse(await readFile(join(dir, 'tokenizer_config.json'), 'utf8')) as { chat_template?: unknown };
    if (typeof tc.chat_template === 'string') chatTemplate = tc.chat_template;
  } catch {
    // no tokenizer_config.json, or not JSON: the default template
  }
  return {
    id: id ?? basename(resolve(dir)),
    config: c,
    params,
    constants: modelConstants(engine, c),
    tokenizer: ck.tokenizer,
    ...(chatTemplate === undefined ? {} : { chatTemplate }),
    created: Math.floor(systemClock.now() / 1000),
  };
}

export interface ServeFlags {
  model: string;
  name?: string;
  port: number;
  host: string;
  backend: BackendName;
  threads?: number;
  maxQueue: number;
}

export async function serveAction(o: ServeFlags): Promise<void> {
  const backend: Backend = await createBackend(o.backend, o.threads ?? defaultThreads());
  const model = await loadServedModel(o.model, new Engine(backend), o.name);
  const app = createGatewayApp([model], {
    queue: { concurrency: 1, maxWaiting: o.maxQueue },
    onEvent: (e) => process.stderr.write(`${e.endpoint} ${e.model} ${e.outcome} prompt=${e.promptTokens} completion=${e.completionTokens} ${e.ms}ms\n`),
  });
  const server = await listen(app, { port: o.port, host: o.host });
  process.stderr.write(`serving ${model.id} (context ${model.config.maxSeqLen} tokens) at ${server.url}/v1\n`);
  // run until SIGINT/SIGTERM, then close cleanly
  await new Promise<void>((done) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      done();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await server.close();
  backend.close();
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve a checkpoint with the OpenAI-compatible API (/v1/models, /v1/chat/completions, /v1/completions)')
    .requiredOption('--model <dir>', 'checkpoint directory (model.safetensors, config.json, tokenizer.json)')
    .option('--name <id>', 'model id clients send (default: the directory name)')
    .option('--port <n>', 'TCP port (0 = any free port)', (v: string) => (v === '0' ? 0 : parsePositiveInt('--port', 65535)(v)), 8080)
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--backend <name>', BACKEND_HELP, parseChoice('--backend', BACKEND_NAMES), 'auto')
    .option('--threads <n>', 'matmul threads (default: all cores)', parsePositiveInt('--threads', 256))
    .option('--max-queue <n>', 'requests allowed to wait for the model; further ones get HTTP 429', parsePositiveInt('--max-queue', 1 << 16), 16)
    .action(serveAction);
}

/**
 * Adds `bench serve` to the `bench` command: KV-cache decode vs. prefill vs.
 * recomputing the sequence, as one JSON line per preset with --json.
 */
export function registerBenchServe(bench: Command): void {
  bench
    .command('serve')
    .description('serving speed: KV-cache decode, prefill, and no-cache recompute tokens/s at the end of the context')
    .option('--presets <list>', 'comma-separated model presets (nano, micro, small)', 'small')
    .option('--backend <name>', BACKEND_HELP, parseChoice('--backend', BACKEND_NAMES), 'auto')
    .option('--threads <n>', 'matmul threads (default: all cores)', parsePositiveInt('--threads', 256))
    .option('--json', 'print one JSON object per line')
    .action(async (o: { presets: string; backend: BackendName; threads?: number; json?: boolean }) => {
      const backend = await createBackend(o.backend, o.threads ?? defaultThreads());
      try {
        for (const name of o.presets.split(',').map((s) => s.trim())) {
          const r = benchServe(new Engine(backend), name);
          process.stdout.write(
            o.json
              ? `${JSON.stringify(r)}\n`
              : `${r.preset}: decode ${r.decodeTokensPerSecond.toFixed(1)} tok/s, prefill ${r.prefillTokensPerSecond.toFixed(1)} tok/s, no cache ${r.noCacheTokensPerSecond.toFixed(2)} tok/s (${r.speedup.toFixed(1)}x at ${r.contextTokens} tokens)\n`,
          );
        }
      } finally {
        backend.close();
      }
    });
}
