/**
 * `swarm train --local`: train a model on this machine with the canonical
 * engine, show progress, write a Hugging Face-style checkpoint directory.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { SwarmError } from '../core/errors.ts';
import { sha256Hex } from '../core/sha256.ts';
import type { ModelConfig } from '../model/config.ts';
import { preset } from '../model/config.ts';
import { initParams, paramCount, paramList } from '../model/llama.ts';
import { readCheckpointDir, writeCheckpointDir } from '../model/format/checkpoint-dir.ts';
import { toHfLlamaConfig } from '../model/format/hf-config.ts';
import { decodeSafetensors, encodeSafetensors } from '../model/format/safetensors.ts';
import { fromHfTensors, toHfTensors } from '../model/format/weights.ts';
import { hfTokenizerConfig, loadHfTokenizer } from '../model/tokenizer/index.ts';
import type { Tokenizer } from '../model/tokenizer/index.ts';
import { Prng } from '../core/prng.ts';
import { Engine } from '../tensor/tensor.ts';
import { DILOCO_INNER } from '../train/adamw.ts';
import { trainLocal } from '../train/local-trainer.ts';
import { setupRun } from '../train/run-setup.ts';
import { concatFlat, initFlatAdam, splitFlat } from '../train/unit.ts';
import type { FlatAdamState } from '../train/unit.ts';
import { BACKEND_HELP, BACKEND_NAMES, createBackend, defaultThreads, describeBackend } from './engine.ts';
import type { BackendName } from './engine.ts';
import { parseChoiceList, parsePositiveInt, parsePositiveNumber } from './flags.ts';
import { createProgress } from './progress.ts';

const DEFAULT_STEPS = 250;
const OPTIMIZER_FILE = 'optimizer.safetensors';
const TRAINER_STATE_FILE = 'trainer_state.json';

export interface TrainFlags {
  local?: boolean;
  preset: string;
  steps?: number;
  data?: string;
  out: string;
  resume?: string;
  json?: boolean;
  batchSize?: number;
  seqLen?: number;
  lr?: number;
  warmup: number;
  seed: number;
  threads?: number;
  backend: BackendName[];
  evalEvery: number;
  evalWindows?: number;
  stopAfter?: number;
}

/**
 * Defaults per preset. The optimizer is DiLoCo's inner AdamW; the tiny models
 * tolerate (and need, to learn in minutes on a CPU) a higher peak rate. micro's
 * 16 x 64 batches reach 0.12 nats of the synthetic floor in 250 steps (230-270 s
 * on 2 cores); see the model issue's note.
 */
const PRESET_TRAIN: Record<string, { lr: number; batchSize: number; seqLen: number }> = {
  nano: { lr: 3e-3, batchSize: 16, seqLen: 64 },
  micro: { lr: 4e-3, batchSize: 16, seqLen: 64 },
  small: { lr: 1e-3, batchSize: 8, seqLen: 128 },
};

export interface TrainerState {
  v: 1;
  preset: string;
  step: number;
  seed: number;
  data: string | null;
  batchSize: number;
  seqLen: number;
  lr: number;
  warmup: number;
  totalSteps: number;
  tokenizerSha256: string;
}

async function writeCheckpoint(dir: string, c: ModelConfig, tok: Tokenizer, params: Float32Array, opt: FlatAdamState, state: TrainerState) {
  const hfConfig = { ...toHfLlamaConfig({ ...c, bosTokenId: tok.specialTokens.bos, eosTokenId: tok.specialTokens.eos }) };
  const optBytes = encodeSafetensors(
    [
      { name: 'adam.m', dtype: 'F32', shape: [opt.m.length], data: opt.m },
      { name: 'adam.v', dtype: 'F32', shape: [opt.v.length], data: opt.v },
    ],
    { step: String(opt.step) },
  );
  return writeCheckpointDir(dir, {
    config: hfConfig,
    tensors: toHfTensors(c, splitFlat(c, params)),
    metadata: { format: 'pt' },
    tokenizerJson: tok.toHfJson(),
    extraFiles: {
      'tokenizer_config.json': `${JSON.stringify(hfTokenizerConfig(tok), null, 2)}\n`,
      [OPTIMIZER_FILE]: optBytes,
      [TRAINER_STATE_FILE]: `${JSON.stringify(state, null, 2)}\n`,
    },
  });
}

/** Load a checkpoint directory written by `swarm train` for resuming or generation. */
export async function loadCheckpoint(dir: string): Promise<{ config: ModelConfig; tokenizer: Tokenizer; params: Float32Array; sha256: string }> {
  const ck = await readCheckpointDir(dir);
  if (ck.tokenizerJson === undefined) throw new SwarmError('CHECKPOINT_NOT_FOUND', `${dir} has no tokenizer.json`);
  const tokenizer = loadHfTokenizer(ck.tokenizerJson);
  const config: ModelConfig = { ...ck.config };
  const params = concatFlat(fromHfTensors(config, ck.tensors));
  return { config, tokenizer, params, sha256: ck.safetensorsSha256 };
}

async function loadOptimizer(dir: string, n: number): Promise<{ opt: FlatAdamState; state: TrainerState }> {
  let bytes: Uint8Array, stateText: string;
  try {
    bytes = new Uint8Array(await readFile(join(dir, OPTIMIZER_FILE)));
    stateText = await readFile(join(dir, TRAINER_STATE_FILE), 'utf8');
  } catch {
    throw new SwarmError('CHECKPOINT_NOT_FOUND', `${dir} lacks ${OPTIMIZER_FILE} or ${TRAINER_STATE_FILE}; it cannot be resumed`);
  }
  const dec = decodeSafetensors(bytes, { expect: { 'adam.m': { shape: [n], dtype: 'F32' }, 'adam.v': { shape: [n], dtype: 'F32' } } });
  const step = Number(dec.metadata.step);
  let state: TrainerState;
  try {
    state = JSON.parse(stateText) as TrainerState;
  } catch {
    throw new SwarmError('CHECKPOINT_BAD_JSON', `${TRAINER_STATE_FILE} is not valid JSON`);
  }
  if (!Number.isSafeInteger(step) || step < 0 || state.v !== 1 || state.step !== step) {
    throw new SwarmError('CHECKPOINT_BAD_STATE', `optimizer step ${dec.metadata.step} and trainer state disagree`);
  }
  return { opt: { step, m: dec.tensors.get('adam.m')!.data as Float32Array, v: dec.tensors.get('adam.v')!.data as Float32Array }, state };
}

export async function trainAction(o: TrainFlags): Promise<void> {
  if (!o.local) throw new SwarmError('CLI_BAD_FLAG', 'only --local training exists so far (swarm training arrives with `swarm run create`)');
  preset(o.preset); // validates the name early
  const threads = o.threads ?? defaultThreads();
  const backend = await createBackend(o.backend[0] ?? 'auto', threads);
  const engine = new Engine(backend);
  try {
    let resumed: { tokenizer: Tokenizer; params: Float32Array; opt: FlatAdamState; state: TrainerState } | null = null;
    if (o.resume) {
      const ck = await loadCheckpoint(o.resume);
      const { opt, state } = await loadOptimizer(o.resume, ck.params.length);
      resumed = { tokenizer: ck.tokenizer, params: ck.params, opt, state };
    }
    const seed = resumed?.state.seed ?? o.seed;
    const setup = setupRun({
      preset: resumed?.state.preset ?? o.preset,
      ...(o.data ? { data: o.data } : resumed?.state.data ? { data: resumed.state.data } : {}),
      seed,
      batchSize: resumed?.state.batchSize ?? o.batchSize ?? PRESET_TRAIN[o.preset]!.batchSize,
      seqLen: resumed?.state.seqLen ?? o.seqLen ?? PRESET_TRAIN[o.preset]!.seqLen,
      ...(resumed ? { tokenizer: resumed.tokenizer } : {}),
      ...(o.evalWindows ? { evalWindows: o.evalWindows } : {}),
    });
    const c = setup.config;
    const n = paramCount(c);
    const params = resumed?.params ?? concatFlat(paramList(initParams(engine, c, Prng.fromSeed(seed).fork('init'))));
    const opt = resumed?.opt ?? initFlatAdam(n);
    const totalSteps = o.steps ?? resumed?.state.totalSteps ?? DEFAULT_STEPS;
    const lr = resumed?.state.lr ?? o.lr ?? PRESET_TRAIN[o.preset]?.lr ?? DILOCO_INNER.lr;
    const warmup = resumed?.state.warmup ?? Math.min(o.warmup, Math.max(1, Math.floor(totalSteps / 10)));
    const floor = setup.entropyFloor;
    const target = Math.min(totalSteps, o.stopAfter ? opt.step + o.stopAfter : totalSteps);
    if (!o.json) {
      process.stderr.write(
        `training ${o.preset} (${(n / 1e6).toFixed(2)}M parameters, vocab ${c.vocabSize}) on ${setup.corpus.kind === 'synthetic' ? 'the synthetic corpus' : setup.corpus.name}` +
          `, ${target - opt.step} steps of ${setup.data.batchSize}x${setup.data.seqLen} tokens, ${describeBackend(backend)}` +
          (floor !== null ? `\nentropy floor of the validation split: ${floor.toFixed(4)} nats/token\n` : '\n'),
      );
    }
    const progress = createProgress({ total: target, label: 'train', quiet: o.json === true });
    let lastEval = NaN;
    const r = trainLocal(
      engine,
      {
        config: c,
        data: setup.data,
        steps: totalSteps,
        ...(o.stopAfter ? { stopAt: opt.step + o.stopAfter } : {}),
        adamw: { ...DILOCO_INNER, lr },
        schedule: { maxLr: lr, minLr: lr / 10, warmupSteps: warmup, totalSteps },
        evalEvery: o.evalEvery,
        evalBatches: Infinity,
        shard: 0,
        now: () => performance.now(),
      },
      { params, opt },
      {
        step: (s) =>
          progress.update(
            s.step,
            `loss ${s.loss.toFixed(3)}${Number.isNaN(lastEval) ? '' : ` eval ${lastEval.toFixed(3)}`}${floor !== null ? ` floor ${floor.toFixed(3)}` : ''} ${s.tokensPerSecond.toFixed(0)} tok/s`,
          ),
        eval: (_step, l) => {
          lastEval = l;
        },
      },
    );
    progress.finish(`train ${r.trainLoss.toFixed(3)} eval ${r.evalLoss.toFixed(3)}${floor !== null ? ` floor ${floor.toFixed(3)} gap ${(r.evalLoss - floor).toFixed(3)}` : ''}`);
    const state: TrainerState = {
      v: 1,
      preset: resumed?.state.preset ?? o.preset,
      step: r.opt.step,
      seed,
      data: o.data ?? resumed?.state.data ?? null,
      batchSize: setup.data.batchSize,
      seqLen: setup.data.seqLen,
      lr,
      warmup,
      totalSteps,
      tokenizerSha256: sha256Hex(JSON.stringify(setup.tokenizer.toHfJson())),
    };
    const written = await writeCheckpoint(o.out, c, setup.tokenizer, r.params, r.opt, state);
    const report = {
      preset: state.preset,
      steps: r.steps,
      tokens: r.tokens,
      trainLoss: r.trainLoss,
      evalLoss: r.evalLoss,
      entropyFloor: floor,
      tokensPerSecond: r.tokensPerSecond,
      seconds: r.elapsedMs / 1000,
      backend: backend.name,
      isa: backend.isa ?? null,
      threads,
      checkpoint: o.out,
      checkpointSha256: written.safetensorsSha256,
    };
    if (o.json) process.stdout.write(`${JSON.stringify(report)}\n`);
    else process.stdout.write(`checkpoint ${o.out} (model.safetensors sha256 ${written.safetensorsSha256})\n`);
  } finally {
    backend.close();
  }
}

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train a model on this machine, every step with the canonical engine (--local is required: training with a swarm is `swarm run create`)')
    .option('--local', 'train on this machine (required for now)')
    .option('--preset <name>', 'model size: nano (~0.1M), micro (~2M), small (~20M)', 'micro')
    .option('--steps <n>', `total optimizer steps, the schedule's length (default: ${DEFAULT_STEPS}, or the checkpoint's with --resume)`, parsePositiveInt('--steps', 10_000_000))
    .option('--data <path>', 'real text: a .txt file, a folder of .txt/.md, or .jsonl with a "text" field (default: the synthetic corpus)')
    .option('--out <dir>', 'checkpoint directory to write', 'checkpoints/local')
    .option('--resume <dir>', 'continue from a checkpoint directory written by `swarm train`')
    .option('--batch-size <n>', 'sequences per step (default by preset: nano 16, micro 16, small 8)', parsePositiveInt('--batch-size', 65536))
    .option('--seq-len <n>', 'tokens per sequence (default by preset: nano 64, micro 64, small 128)', parsePositiveInt('--seq-len', 65536))
    .option('--lr <x>', 'peak learning rate (default by preset: nano 3e-3, micro 4e-3, small 1e-3)', parsePositiveNumber('--lr'))
    .option('--warmup <n>', 'learning-rate warm-up steps (capped at a tenth of the run)', parsePositiveInt('--warmup', 1_000_000), 30)
    .option('--seed <n>', 'seed of initialisation and data order', parsePositiveInt('--seed', 2 ** 32 - 1), 1)
    .option('--eval-every <n>', 'evaluate on the validation split every n steps', parsePositiveInt('--eval-every', 1_000_000), 100)
    .option('--eval-windows <n>', 'validation windows per evaluation (default: all of them)', parsePositiveInt('--eval-windows', 1_000_000))
    .option('--threads <n>', 'matmul threads (default: all cores)', parsePositiveInt('--threads', 256))
    .option('--backend <name>', BACKEND_HELP, parseChoiceList('--backend', BACKEND_NAMES), ['auto'])
    .option('--stop-after <n>', 'run only n steps of the schedule now, then write the checkpoint (continue later with --resume)', parsePositiveInt('--stop-after', 10_000_000))
    .option('--json', 'print one JSON line with the result')
    .action(trainAction);
}
