/** Checkpoint directories on disk: write, read back, determinism, and every coded failure. */
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SwarmError } from '../../../src/core/errors.ts';
import { sha256Hex } from '../../../src/core/sha256.ts';
import { readCheckpointDir, writeCheckpointDir } from '../../../src/model/format/checkpoint-dir.ts';
import type { CheckpointWriteInput } from '../../../src/model/format/checkpoint-dir.ts';
import type { ModelConfigFields } from '../../../src/model/format/hf-config.ts';
import { toHfLlamaConfig } from '../../../src/model/format/hf-config.ts';
import { llamaTensorSpecs } from '../../../src/model/format/llama-names.ts';
import type { SafetensorsDtype, SafetensorsTensor } from '../../../src/model/format/safetensors.ts';
import { encodeSafetensors } from '../../../src/model/format/safetensors.ts';

const cfg: ModelConfigFields = {
  vocabSize: 40, dim: 16, hiddenDim: 24, nLayers: 2, nHeads: 4, nKvHeads: 2,
  maxSeqLen: 32, normEps: 1e-5, ropeTheta: 10000, tiedEmbeddings: true, initStd: 0.02,
  bosTokenId: 1, eosTokenId: 2,
};

/** Deterministic weights for `cfg`: value k of tensor t is (t * 1000 + k) / 4096. */
function weights(c: ModelConfigFields = cfg, dtype: SafetensorsDtype = 'F32'): SafetensorsTensor[] {
  return llamaTensorSpecs(c).map((s, t) => {
    const n = s.shape.reduce((a, b) => a * b, 1);
    return { name: s.name, dtype, shape: s.shape, data: Float32Array.from({ length: n }, (_, k) => (t * 1000 + k) / 4096) };
  });
}

let root: string;
let counter = 0;
const fresh = (): string => join(root, `ckpt-${counter++}`);

async function failure(p: Promise<unknown>): Promise<SwarmError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof SwarmError) return e;
    throw e;
  }
  throw new Error('expected a SwarmError');
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'swarm-ckpt-test-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('writeCheckpointDir / readCheckpointDir', () => {
  const tokenizer = { version: '1.0', model: { type: 'BPE', vocab: { a: 0, b: 1 } } };

  it('writes the HF layout and reads it back', async () => {
    const dir = fresh();
    const input: CheckpointWriteInput = {
      config: toHfLlamaConfig(cfg),
      tensors: weights(),
      metadata: { format: 'pt' },
      tokenizerJson: tokenizer,
      extraFiles: { 'generation_config.json': '{"do_sample":false}\n', 'notes.bin': Uint8Array.of(1, 2, 3) },
    };
    const res = await writeCheckpointDir(dir, input);
    expect(res.files).toEqual(['config.json', 'generation_config.json', 'model.safetensors', 'notes.bin', 'tokenizer.json']);
    expect((await readdir(dir)).sort()).toEqual(res.files); // no temporary files left behind

    const st = await readFile(join(dir, 'model.safetensors'));
    expect(res.safetensorsSha256).toBe(sha256Hex(new Uint8Array(st)));
    expect(Buffer.compare(st, encodeSafetensors(input.tensors, input.metadata))).toBe(0);

    // config.json as HF writes it: keys sorted, 2-space indent, trailing newline.
    const configText = await readFile(join(dir, 'config.json'), 'utf8');
    expect(configText.endsWith('}\n')).toBe(true);
    const keys = Object.keys(JSON.parse(configText));
    expect(keys).toEqual([...keys].sort());
    expect(configText).toContain('\n  "hidden_size": 16,\n');

    const ck = await readCheckpointDir(dir);
    expect(ck.config).toEqual(cfg);
    expect(ck.hfConfig).toEqual(toHfLlamaConfig(cfg));
    expect(ck.metadata).toEqual({ format: 'pt' });
    expect(ck.tokenizerJson).toEqual(tokenizer);
    expect(ck.safetensorsSha256).toBe(res.safetensorsSha256);
    expect(ck.tensors.size).toBe(input.tensors.length);
    for (const t of input.tensors) {
      const got = ck.tensors.get(t.name)!;
      expect(got.shape).toEqual(t.shape);
      expect(Buffer.compare(Buffer.from((got.data as Float32Array).buffer), Buffer.from((t.data as Float32Array).buffer))).toBe(0);
    }
    expect(await readFile(join(dir, 'notes.bin'))).toEqual(Buffer.from([1, 2, 3]));
  });

  it('is deterministic: the same checkpoint gives the same hash, in any tensor order, and overwrites in place', async () => {
    const a = await writeCheckpointDir(fresh(), { config: toHfLlamaConfig(cfg), tensors: weights() });
    const dir = fresh();
    const b = await writeCheckpointDir(dir, { config: toHfLlamaConfig(cfg), tensors: weights().reverse() });
    expect(b.safetensorsSha256).toBe(a.safetensorsSha256);
    const c = await writeCheckpointDir(dir, { config: toHfLlamaConfig(cfg), tensors: weights() });
    expect(c.safetensorsSha256).toBe(a.safetensorsSha256);
    expect(c.files).toEqual(['config.json', 'model.safetensors']);
  });

  it('reads a Hugging Face style BF16 checkpoint with an untied head into Float32Array', async () => {
    const untied = { ...cfg, tiedEmbeddings: false };
    const dir = fresh();
    await writeCheckpointDir(dir, { config: { ...toHfLlamaConfig(untied), torch_dtype: 'bfloat16' }, tensors: weights(untied, 'BF16') });
    const ck = await readCheckpointDir(dir);
    const head = ck.tensors.get('lm_head.weight')!;
    expect(head.dtype).toBe('BF16');
    expect(head.data).toBeInstanceOf(Float32Array);
    // (20 * 1000 + 5) / 4096 = 4.8840... rounds to the nearest bfloat16 (8 significant bits): 4.875.
    expect((head.data as Float32Array)[5]).toBe(4.875);
    expect((head.data as Float32Array)[0]).toBe(4.875); // 4.8828125 is a tie between 4.875 and 4.90625: to even

  });

  it('takes tokenizer.json as text and an explicit expect map', async () => {
    const dir = fresh();
    await writeCheckpointDir(dir, { config: toHfLlamaConfig(cfg), tensors: weights(), tokenizerJson: '{"version":"1.0"}' });
    expect(await readFile(join(dir, 'tokenizer.json'), 'utf8')).toBe('{"version":"1.0"}');
    const ck = await readCheckpointDir(dir, { expect: { 'model.norm.weight': { shape: [16], dtype: 'F32' } }, allowExtra: true });
    expect(ck.tokenizerJson).toEqual({ version: '1.0' });
  });
});

describe('read errors', () => {
  let good: string;
  beforeAll(async () => {
    good = fresh();
    await writeCheckpointDir(good, { config: toHfLlamaConfig(cfg), tensors: weights() });
  });

  /** A copy of the good checkpoint with some files replaced (null = removed). */
  async function variant(files: Record<string, string | Uint8Array | null>): Promise<string> {
    const dir = fresh();
    await mkdir(dir);
    for (const f of await readdir(good)) await writeFile(join(dir, f), await readFile(join(good, f)));
    for (const [f, v] of Object.entries(files)) {
      if (v === null) await rm(join(dir, f));
      else await writeFile(join(dir, f), v);
    }
    return dir;
  }

  it('a missing directory, or a file where the directory should be, is CHECKPOINT_NOT_FOUND', async () => {
    expect((await failure(readCheckpointDir(join(root, 'nope')))).code).toBe('CHECKPOINT_NOT_FOUND');
    expect((await failure(readCheckpointDir(join(good, 'model.safetensors')))).code).toBe('CHECKPOINT_NOT_FOUND');
    expect((await failure(readCheckpointDir(join(good, 'model.safetensors', 'x')))).code).toBe('CHECKPOINT_NOT_FOUND');
  });

  it('a missing model.safetensors or config.json is CHECKPOINT_NOT_FOUND naming the file', async () => {
    const e1 = await failure(readCheckpointDir(await variant({ 'model.safetensors': null })));
    expect([e1.code, e1.details?.file]).toEqual(['CHECKPOINT_NOT_FOUND', 'model.safetensors']);
    const e2 = await failure(readCheckpointDir(await variant({ 'config.json': null })));
    expect([e2.code, e2.details?.file]).toEqual(['CHECKPOINT_NOT_FOUND', 'config.json']);
  });

  it('a sharded checkpoint is CHECKPOINT_SHARDED_UNSUPPORTED', async () => {
    const dir = await variant({ 'model.safetensors': null, 'model.safetensors.index.json': '{"weight_map":{}}' });
    expect((await failure(readCheckpointDir(dir))).code).toBe('CHECKPOINT_SHARDED_UNSUPPORTED');
  });

  it('a broken or invalid config.json is MODEL_BAD_CONFIG', async () => {
    expect((await failure(readCheckpointDir(await variant({ 'config.json': '{"vocab_size": 40,' })))).code).toBe('MODEL_BAD_CONFIG');
    expect((await failure(readCheckpointDir(await variant({ 'config.json': Uint8Array.of(0x7b, 0xff, 0x7d) })))).code).toBe('MODEL_BAD_CONFIG');
    const bad = JSON.stringify({ ...toHfLlamaConfig(cfg), num_key_value_heads: 3 });
    expect((await failure(readCheckpointDir(await variant({ 'config.json': bad })))).code).toBe('MODEL_BAD_CONFIG');
  });

  it('weights that do not match the config, or are damaged, keep their SAFETENSORS_ codes', async () => {
    const other = { ...cfg, hiddenDim: 32 };
    const mismatch = await variant({ 'model.safetensors': encodeSafetensors(weights(other)) });
    expect((await failure(readCheckpointDir(mismatch))).code).toBe('SAFETENSORS_SHAPE_MISMATCH');
    const missing = await variant({ 'model.safetensors': encodeSafetensors(weights().slice(1)) });
    expect((await failure(readCheckpointDir(missing))).code).toBe('SAFETENSORS_MISSING_TENSOR');
    const extra = await variant({ 'model.safetensors': encodeSafetensors([...weights(), { name: 'x', shape: [1], data: new Float32Array(1) }]) });
    expect((await failure(readCheckpointDir(extra))).code).toBe('SAFETENSORS_UNEXPECTED_TENSOR');
    expect((await readCheckpointDir(extra, { allowExtra: true })).tensors.has('x')).toBe(true);
    const full = await readFile(join(good, 'model.safetensors'));
    const truncated = await variant({ 'model.safetensors': full.subarray(0, full.length - 1) });
    expect((await failure(readCheckpointDir(truncated))).code).toBe('SAFETENSORS_TRUNCATED');
  });

  it('an unparsable tokenizer.json is CHECKPOINT_BAD_JSON', async () => {
    expect((await failure(readCheckpointDir(await variant({ 'tokenizer.json': '{"model":' })))).code).toBe('CHECKPOINT_BAD_JSON');
  });
});

describe('write errors (nothing is written)', () => {
  const base = (): CheckpointWriteInput => ({ config: toHfLlamaConfig(cfg), tensors: weights() });

  async function writesNothing(input: CheckpointWriteInput): Promise<string> {
    const dir = fresh();
    const e = await failure(writeCheckpointDir(dir, input));
    await expect(readdir(dir)).rejects.toMatchObject({ code: 'ENOENT' });
    return e.code;
  }

  it('rejects bad inputs before touching the disk', async () => {
    expect(await writesNothing({ ...base(), config: { ...toHfLlamaConfig(cfg), hidden_size: 15 } })).toBe('MODEL_BAD_CONFIG');
    expect(await writesNothing({ ...base(), tensors: weights().slice(1) })).toBe('SAFETENSORS_MISSING_TENSOR');
    expect(await writesNothing({ ...base(), tensors: weights({ ...cfg, hiddenDim: 32 }) })).toBe('SAFETENSORS_SHAPE_MISMATCH');
    expect(await writesNothing({ ...base(), tensors: [...weights(), weights()[0]!] })).toBe('SAFETENSORS_DUPLICATE_NAME');
    expect(await writesNothing({ ...base(), tokenizerJson: '{' })).toBe('CHECKPOINT_BAD_JSON');
    for (const name of ['../evil', 'a/b', '.hidden', '', 'config.json', 'model.safetensors']) {
      expect(await writesNothing({ ...base(), extraFiles: { [name]: 'x' } }), name).toBe('CHECKPOINT_BAD_FILE_NAME');
    }
  });

  it('an I/O failure is CHECKPOINT_WRITE_FAILED', async () => {
    const blocker = join(root, `blocker-${counter++}`);
    await writeFile(blocker, 'not a directory');
    expect((await failure(writeCheckpointDir(join(blocker, 'ckpt'), base()))).code).toBe('CHECKPOINT_WRITE_FAILED');
  });
});
