/**
 * A checkpoint directory in the Hugging Face layout, so `from_pretrained`
 * (transformers) and llama.cpp's convert script can open what the swarm
 * trains, and we can open small HF Llama checkpoints:
 *   model.safetensors   the weights, under the HF Llama names (llama-names.ts)
 *   config.json         LlamaConfig fields (hf-config.ts)
 *   tokenizer.json      the tokenizer, when given
 *   ...                 any extra files the caller names
 *
 * Writes are atomic per file: each file is written to a temporary name in
 * the same directory, fsynced, then renamed over its final name (rename(2)
 * is atomic within a filesystem), and the directory is fsynced so the new
 * names survive a crash. A reader therefore sees each file either whole and
 * old or whole and new, never half-written.
 *
 * Reads validate everything before returning: config.json through
 * fromHfLlamaConfig, the weights through decodeSafetensors with, by default,
 * the exact tensor set and shapes that config implies. Errors:
 *   CHECKPOINT_NOT_FOUND           the directory, config.json or model.safetensors is missing
 *   CHECKPOINT_SHARDED_UNSUPPORTED only model.safetensors.index.json shards are present
 *   CHECKPOINT_READ_FAILED         any other I/O error (permissions, a file too large to read)
 *   CHECKPOINT_BAD_JSON            tokenizer.json is not JSON
 *   CHECKPOINT_BAD_FILE_NAME       an extra file name that is not a plain file name, or a reserved one
 *   CHECKPOINT_WRITE_FAILED        an I/O error while writing
 *   MODEL_BAD_CONFIG               config.json missing fields, invalid, or not JSON
 *   SAFETENSORS_*                  from decodeSafetensors / encodeSafetensors, unchanged
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { utf8Decode, utf8Encode } from '../../core/encoding.ts';
import { SwarmError } from '../../core/errors.ts';
import { sha256Hex } from '../../core/sha256.ts';
import type { ModelConfigFields } from './hf-config.ts';
import { fromHfLlamaConfig } from './hf-config.ts';
import { llamaExpectMap } from './llama-names.ts';
import type { DecodedTensor, SafetensorsDtype, SafetensorsExpectMap, SafetensorsTensor } from './safetensors.ts';
import { checkExpectations, decodeSafetensors, encodeSafetensors } from './safetensors.ts';

export const SAFETENSORS_FILE = 'model.safetensors';
export const CONFIG_FILE = 'config.json';
export const TOKENIZER_FILE = 'tokenizer.json';
/** HF's index of a sharded checkpoint (model-0000N-of-0000M.safetensors); not read here. */
export const SHARD_INDEX_FILE = 'model.safetensors.index.json';

export interface CheckpointWriteInput {
  /** the config.json object, e.g. toHfLlamaConfig(cfg); validated before anything is written */
  config: object;
  /** the weights, under HF Llama names; dtype defaults to F32 */
  tensors: readonly SafetensorsTensor[];
  /** safetensors __metadata__ (HF writes {"format": "pt"}) */
  metadata?: Readonly<Record<string, string>>;
  /** tokenizer.json: an object (written as JSON) or JSON text (written as is, after a parse check) */
  tokenizerJson?: unknown;
  /** more files: plain names (no directories) to bytes or text */
  extraFiles?: Readonly<Record<string, Uint8Array | string>>;
  /** accept tensors the config does not name (default false) */
  allowExtra?: boolean;
}

export interface CheckpointWriteResult {
  /** SHA-256 (hex) of model.safetensors: the content address of the weights */
  safetensorsSha256: string;
  /** the file names written, sorted */
  files: string[];
}

export interface CheckpointReadOptions {
  /** the tensors required; default: exactly those the config implies (llamaExpectMap), any float dtype */
  expect?: SafetensorsExpectMap;
  /** accept tensors `expect` does not name (default false) */
  allowExtra?: boolean;
  /** passed to decodeSafetensors */
  maxHeaderBytes?: number;
}

export interface Checkpoint {
  /** the validated project-side config */
  config: ModelConfigFields;
  /** config.json as parsed */
  hfConfig: Record<string, unknown>;
  tensors: Map<string, DecodedTensor>;
  metadata: Record<string, string>;
  /** tokenizer.json as parsed, when the file exists */
  tokenizerJson?: unknown;
  /** SHA-256 (hex) of model.safetensors */
  safetensorsSha256: string;
}

const RESERVED = new Set([SAFETENSORS_FILE, CONFIG_FILE, TOKENIZER_FILE, SHARD_INDEX_FILE]);

function errnoOf(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : undefined;
}

/** JSON text with object keys sorted at every depth and 2-space indent, as HF's to_json_string writes config.json. */
function sortedJson(value: unknown): string {
  const sortKeys = (_k: string, v: unknown): unknown =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v;
  return `${JSON.stringify(value, sortKeys, 2)}\n`;
}

function checkFileName(name: string): void {
  const ok = /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) && name.length <= 255;
  if (!ok) throw new SwarmError('CHECKPOINT_BAD_FILE_NAME', `"${name}" is not a plain file name`, { file: name });
  if (RESERVED.has(name)) throw new SwarmError('CHECKPOINT_BAD_FILE_NAME', `"${name}" is written by the checkpoint itself`, { file: name });
}

/** Writes `data` to `path` via a temporary file in the same directory, fsync, rename. */
async function writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  const fh = await open(tmp, 'wx', 0o644);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
  await fh.close();
  try {
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
}

/** fsync a directory so renames in it are durable; not every platform allows it (best effort). */
async function syncDir(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch {
    // Windows cannot open directories; durability of the rename is then the OS's.
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/**
 * Writes a checkpoint directory (created if needed). Everything is
 * validated first (config, tensor names/shapes against the config, file
 * names, tokenizer JSON), so a bad input writes nothing.
 */
export async function writeCheckpointDir(dir: string, input: CheckpointWriteInput): Promise<CheckpointWriteResult> {
  const cfg = fromHfLlamaConfig(input.config);
  const weights = encodeSafetensors(input.tensors, input.metadata);
  const found = new Map<string, { dtype: SafetensorsDtype; shape: readonly number[] }>(
    input.tensors.map((t) => [t.name, { dtype: t.dtype ?? 'F32', shape: t.shape }]),
  );
  checkExpectations(found, llamaExpectMap(cfg), input.allowExtra ?? false);

  const files = new Map<string, Uint8Array>();
  files.set(SAFETENSORS_FILE, weights);
  files.set(CONFIG_FILE, utf8Encode(sortedJson(input.config)));
  if (input.tokenizerJson !== undefined) {
    let text: string;
    if (typeof input.tokenizerJson === 'string') {
      try {
        JSON.parse(input.tokenizerJson);
      } catch (cause) {
        throw new SwarmError('CHECKPOINT_BAD_JSON', 'tokenizerJson text is not JSON', { file: TOKENIZER_FILE }, { cause });
      }
      text = input.tokenizerJson;
    } else {
      const s = JSON.stringify(input.tokenizerJson, null, 2);
      if (s === undefined) throw new SwarmError('CHECKPOINT_BAD_JSON', 'tokenizerJson has no JSON form', { file: TOKENIZER_FILE });
      text = `${s}\n`;
    }
    files.set(TOKENIZER_FILE, utf8Encode(text));
  }
  for (const [name, data] of Object.entries(input.extraFiles ?? {})) {
    checkFileName(name);
    files.set(name, typeof data === 'string' ? utf8Encode(data) : data);
  }

  try {
    await mkdir(dir, { recursive: true });
    for (const [name, data] of files) await writeFileAtomic(join(dir, name), data);
    await syncDir(dir);
  } catch (cause) {
    throw new SwarmError('CHECKPOINT_WRITE_FAILED', `could not write checkpoint to ${dir}: ${String((cause as Error)?.message ?? cause)}`, {
      path: dir, errno: errnoOf(cause) ?? null,
    }, { cause });
  }
  return { safetensorsSha256: sha256Hex(weights), files: [...files.keys()].sort() };
}

/** The bytes of dir/name, or undefined when the file does not exist (if `optional`). */
async function readIn(dir: string, name: string, optional: boolean): Promise<Uint8Array | undefined> {
  const path = join(dir, name);
  try {
    const b = await readFile(path);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (cause) {
    const errno = errnoOf(cause);
    if (errno === 'ENOENT') {
      if (optional) return undefined;
      throw new SwarmError('CHECKPOINT_NOT_FOUND', `checkpoint file ${path} does not exist`, { path, file: name }, { cause });
    }
    throw new SwarmError('CHECKPOINT_READ_FAILED', `could not read ${path}: ${String((cause as Error)?.message ?? cause)}`, {
      path, file: name, errno: errno ?? null,
    }, { cause });
  }
}

function parseJsonFile(bytes: Uint8Array, file: string, code: string): unknown {
  try {
    return JSON.parse(utf8Decode(bytes));
  } catch (cause) {
    throw new SwarmError(code, `${file} is not valid UTF-8 JSON`, { file, field: file, reason: 'not JSON' }, { cause });
  }
}

/** Reads and validates a checkpoint directory (module comment lists the checks and errors). */
export async function readCheckpointDir(dir: string, opts: CheckpointReadOptions = {}): Promise<Checkpoint> {
  try {
    const s = await stat(dir);
    if (!s.isDirectory()) throw new SwarmError('CHECKPOINT_NOT_FOUND', `${dir} is not a directory`, { path: dir });
  } catch (cause) {
    if (cause instanceof SwarmError) throw cause;
    const errno = errnoOf(cause);
    if (errno === 'ENOENT' || errno === 'ENOTDIR') {
      throw new SwarmError('CHECKPOINT_NOT_FOUND', `checkpoint directory ${dir} does not exist`, { path: dir }, { cause });
    }
    throw new SwarmError('CHECKPOINT_READ_FAILED', `could not open ${dir}`, { path: dir, errno: errno ?? null }, { cause });
  }

  const hfConfig = parseJsonFile((await readIn(dir, CONFIG_FILE, false))!, CONFIG_FILE, 'MODEL_BAD_CONFIG');
  const config = fromHfLlamaConfig(hfConfig);

  const weights = await readIn(dir, SAFETENSORS_FILE, true);
  if (weights === undefined) {
    if ((await readIn(dir, SHARD_INDEX_FILE, true)) !== undefined) {
      throw new SwarmError('CHECKPOINT_SHARDED_UNSUPPORTED', `${dir} holds a sharded checkpoint (${SHARD_INDEX_FILE}); only a single ${SAFETENSORS_FILE} is read`, {
        path: dir,
      });
    }
    throw new SwarmError('CHECKPOINT_NOT_FOUND', `checkpoint file ${join(dir, SAFETENSORS_FILE)} does not exist`, {
      path: join(dir, SAFETENSORS_FILE), file: SAFETENSORS_FILE,
    });
  }
  const decoded = decodeSafetensors(weights, {
    expect: opts.expect ?? llamaExpectMap(config),
    allowExtra: opts.allowExtra ?? false,
    ...(opts.maxHeaderBytes !== undefined ? { maxHeaderBytes: opts.maxHeaderBytes } : {}),
  });

  const tok = await readIn(dir, TOKENIZER_FILE, true);
  const out: Checkpoint = {
    config,
    hfConfig: hfConfig as Record<string, unknown>,
    tensors: decoded.tensors,
    metadata: decoded.metadata,
    safetensorsSha256: sha256Hex(weights),
  };
  if (tok !== undefined) out.tokenizerJson = parseJsonFile(tok, TOKENIZER_FILE, 'CHECKPOINT_BAD_JSON');
  return out;
}
