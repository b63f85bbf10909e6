/** `swarm generate`: continue a prompt with a checkpoint directory, streaming tokens to stdout. */
import type { Command } from 'commander';
import { SwarmError } from '../core/errors.ts';
import { generate } from '../model/generate.ts';
import { modelConstants } from '../model/llama.ts';
import { Engine } from '../tensor/tensor.ts';
import { wrapFlatParams } from '../train/unit.ts';
import { createBackend, defaultThreads } from './engine.ts';
import { parsePositiveInt } from './flags.ts';
import { loadCheckpoint } from './train.ts';

interface GenerateFlags {
  model: string;
  prompt: string;
  maxTokens: number;
  seed: number;
  temperature: number;
  topP: number;
  threads?: number;
  json?: boolean;
}

function parseUnit(name: string, lo: number, hi: number, loOpen: boolean) {
  return (v: string): number => {
    const x = Number(v);
    if (v.trim() === '' || !Number.isFinite(x) || x > hi || (loOpen ? x <= lo : x < lo)) {
      throw new SwarmError('CLI_BAD_FLAG', `${name} must be in ${loOpen ? '(' : '['}${lo}, ${hi}], got "${v}"`);
    }
    return x;
  };
}

async function generateAction(o: GenerateFlags): Promise<void> {
  const ck = await loadCheckpoint(o.model);
  const backend = await createBackend('auto', o.threads ?? defaultThreads());
  try {
    const e = new Engine(backend);
    const c = { ...ck.config, maxSeqLen: ck.config.maxSeqLen };
    const { params: p } = wrapFlatParams(e, c, ck.params);
    const k = modelConstants(e, c);
    const prompt = ck.tokenizer.encode(o.prompt, { bos: true });
    if (prompt.length >= c.maxSeqLen) {
      throw new SwarmError('MODEL_CONTEXT_FULL', `the prompt is ${prompt.length} tokens; the model's context is ${c.maxSeqLen}`);
    }
    const t0 = performance.now();
    const ids: number[] = [];
    const decoder = new TextDecoder('utf-8');
    if (!o.json) process.stdout.write(o.prompt);
    generate(c, p, k, prompt, {
      maxTokens: o.maxTokens,
      seed: o.seed,
      temperature: o.temperature,
      topP: o.topP,
      stopTokens: [ck.tokenizer.specialTokens.eos],
      onToken: (id) => {
        ids.push(id);
        // stream bytes; the decoder holds back incomplete UTF-8 sequences
        if (!o.json) process.stdout.write(decoder.decode(ck.tokenizer.tokenBytes(id), { stream: true }));
      },
    });
    const seconds = (performance.now() - t0) / 1000;
    if (o.json) {
      process.stdout.write(`${JSON.stringify({ prompt: o.prompt, completion: ck.tokenizer.decode(ids), tokens: ids, promptTokens: prompt.length, seconds })}\n`);
    } else {
      process.stdout.write(`${decoder.decode()}\n`);
      process.stderr.write(`(${ids.length} tokens in ${seconds.toFixed(2)}s)\n`);
    }
  } finally {
    backend.close();
  }
}

export function registerGenerate(program: Command): void {
  program
    .command('generate')
    .description('continue a prompt with a trained model: greedy by default, sampled with --seed when --temperature > 0')
    .requiredOption('--model <dir>', 'checkpoint directory (model.safetensors, config.json, tokenizer.json)')
    .requiredOption('--prompt <text>', 'text to continue')
    .option('--max-tokens <n>', 'tokens to generate at most', parsePositiveInt('--max-tokens', 1_000_000), 64)
    .option('--seed <n>', 'sampling seed, used when --temperature > 0', parsePositiveInt('--seed', 2 ** 32 - 1), 1)
    .option('--temperature <x>', 'sampling temperature: 0 is greedy, higher is more random', parseUnit('--temperature', 0, 10, false), 0)
    .option('--top-p <x>', 'nucleus sampling: sample only from the most likely tokens whose probabilities add up to this (1 = all tokens)', parseUnit('--top-p', 0, 1, true), 1)
    .option('--threads <n>', 'matmul threads (default: all cores)', parsePositiveInt('--threads', 256))
    .option('--json', 'print one JSON line instead of streaming text')
    .action(generateAction);
}
