/**
 * Loading a Hugging Face tokenizer.json (format "1.0", the `tokenizers`
 * library's serialization) as one of our tokenizers.
 *
 * The file is untrusted input (a run's tokenizer travels between machines),
 * so it is checked by hand, field by field, before anything is built, and
 * every problem is a coded SwarmError with `details.reason` and, where it
 * helps, `details.path`:
 *
 *   TOKENIZER_BAD_FILE    the file is malformed:
 *     json                 not JSON (parseHfTokenizer) or larger than maxBytes
 *     type                 a field has the wrong type or is missing
 *     version              version is not "1.0"
 *     bad-token-string     a vocab key is not in the GPT-2 byte alphabet
 *     duplicate-id         two vocab entries or two added tokens share an id
 *     id-range             an id is not an integer in range, or ids leave gaps
 *     missing-byte         one of the 256 byte tokens is absent
 *     bad-merge            a merge is not "left right" or [left, right]
 *     merge-unknown-token  a merge names a token not in the vocab
 *     merge-unknown-result a merge makes a token not in the vocab
 *     duplicate-merge      the same pair is listed twice
 *     duplicate-token      two added tokens share a content
 *     added-token-id       an added token's id is not the one HF would give it
 *     too-large            more than 2^24 ids
 *   TOKENIZER_UNSUPPORTED  a well-formed file using something we do not
 *                          implement (details.feature): a non-BPE model, a
 *                          normalizer, another pre-tokenizer, dropout,
 *                          byte fallback, unk/prefix/suffix settings,
 *                          added tokens with stripping or single_word
 *   TOKENIZER_MISSING_SPECIAL  no BOS or EOS token could be identified
 *
 * Which added token is BOS / EOS / pad: tokenizer.json does not say (that is
 * in transformers' tokenizer_config.json), so `roles` may name them;
 * otherwise BOS is the first special token of a TemplateProcessing
 * post-processor (what we write), else the first well-known name present,
 * and EOS / pad are found by well-known names (Llama 3, Llama 2, GPT-2).
 *
 * A file whose vocab is exactly the 256 bytes at ids = byte values with no
 * merges loads as a ByteTokenizer; everything else as a BpeTokenizer.
 */
import { SwarmError } from '../../core/errors.ts';
import { BpeTokenizer, MAX_VOCAB } from './bpe.ts';
import { tokenStringToBytes } from './byte-unicode.ts';
import { ByteTokenizer } from './bytes.ts';
import type { AddedToken, SpecialTokens, Tokenizer } from './types.ts';

export interface HfLoadOptions {
  /** contents of the role tokens, e.g. from tokenizer_config.json */
  readonly roles?: { readonly bos?: string; readonly eos?: string; readonly pad?: string | null };
  /** parseHfTokenizer only: largest accepted text, in UTF-16 code units (default 64 Mi) */
  readonly maxBytes?: number;
}

const BOS_NAMES = ['<|begin_of_text|>', '<s>', '<bos>', '<|bos|>', '<|startoftext|>', '<|endoftext|>'];
const EOS_NAMES = ['<|end_of_text|>', '</s>', '<eos>', '<|eos|>', '<|endoftext|>'];
const PAD_NAMES = ['<|pad|>', '<pad>', '[PAD]', '<|padding|>'];

const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

type Obj = Record<string, unknown>;

function fail(reason: string, message: string, details: Record<string, unknown> = {}): never {
  throw new SwarmError('TOKENIZER_BAD_FILE', message, { reason, ...details });
}

function unsupported(feature: string, message: string): never {
  throw new SwarmError('TOKENIZER_UNSUPPORTED', message, { feature });
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function obj(v: unknown, path: string): Obj {
  if (!isObj(v)) fail('type', `${path} must be an object`, { path });
  return v;
}

function str(v: unknown, path: string): string {
  if (typeof v !== 'string') fail('type', `${path} must be a string`, { path });
  return v;
}

function bool(v: unknown, path: string, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') fail('type', `${path} must be a boolean`, { path });
  return v;
}

/** `v` must be null / absent, or else the feature is unsupported. */
function absent(v: unknown, path: string, feature: string): void {
  if (v !== null && v !== undefined) unsupported(feature, `${path} is not supported`);
}

/** Own property (a JSON key such as "__proto__" or "constructor" is data, not an inherited member). */
function own(o: Obj, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(o, key) ? o[key] : undefined;
}

function checkByteLevel(v: unknown, path: string, what: 'pre_tokenizer' | 'decoder'): void {
  if (v === null || v === undefined) {
    if (what === 'decoder') return;
    unsupported(`${what}:none`, `${path} is missing: a byte-level BPE needs the ByteLevel pre-tokenizer`);
  }
  const o = obj(v, path);
  const type = str(own(o, 'type'), `${path}.type`);
  if (type !== 'ByteLevel') unsupported(`${what}:${type}`, `${path}.type ${JSON.stringify(type)} is not supported (only ByteLevel)`);
  const prefix = bool(own(o, 'add_prefix_space'), `${path}.add_prefix_space`, true);
  bool(own(o, 'trim_offsets'), `${path}.trim_offsets`, true);
  const regex = bool(own(o, 'use_regex'), `${path}.use_regex`, true);
  if (what === 'pre_tokenizer') {
    if (prefix) unsupported('add_prefix_space', `${path}.add_prefix_space must be false`);
    if (!regex) unsupported('use_regex', `${path}.use_regex must be true`);
  }
}

/** The BOS content named by a TemplateProcessing post-processor (possibly inside a Sequence), if any. */
function templateBos(pp: unknown): string | undefined {
  if (!isObj(pp)) return undefined;
  if (own(pp, 'type') === 'Sequence' && Array.isArray(own(pp, 'processors'))) {
    for (const p of own(pp, 'processors') as unknown[]) {
      const found = templateBos(p);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (own(pp, 'type') !== 'TemplateProcessing') return undefined;
  const single = own(pp, 'single');
  if (!Array.isArray(single) || single.length === 0 || !isObj(single[0])) return undefined;
  const first = own(single[0], 'SpecialToken');
  if (!isObj(first)) return undefined;
  const id = own(first, 'id');
  return typeof id === 'string' ? id : undefined;
}

function checkId(v: unknown, path: string): number {
  if (typeof v !== 'number') fail('type', `${path} must be a number`, { path });
  if (!Number.isInteger(v) || v < 0 || v >= MAX_VOCAB) fail('id-range', `${path} must be an integer in [0, 2^24)`, { path, id: v });
  return v;
}

/** Parses tokenizer.json text (size-limited) and loads it; see loadHfTokenizer. */
export function parseHfTokenizer(text: string, options: HfLoadOptions = {}): Tokenizer {
  const max = options.maxBytes ?? DEFAULT_MAX_BYTES;
  if (typeof text !== 'string') fail('type', 'tokenizer.json text must be a string');
  if (text.length > max) fail('json', `tokenizer.json is larger than ${max}`, { length: text.length });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new SwarmError('TOKENIZER_BAD_FILE', 'tokenizer.json is not valid JSON', { reason: 'json' }, { cause });
  }
  return loadHfTokenizer(json, options);
}

/** Checks a parsed tokenizer.json and builds the tokenizer it describes. */
export function loadHfTokenizer(json: unknown, options: HfLoadOptions = {}): Tokenizer {
  const root = obj(json, '$');
  if (own(root, 'version') !== '1.0') fail('version', 'version must be "1.0"', { path: '$.version' });
  if (own(root, 'truncation') !== null && own(root, 'truncation') !== undefined) obj(own(root, 'truncation'), '$.truncation');
  if (own(root, 'padding') !== null && own(root, 'padding') !== undefined) obj(own(root, 'padding'), '$.padding');
  absent(own(root, 'normalizer'), '$.normalizer', 'normalizer');
  checkByteLevel(own(root, 'pre_tokenizer'), '$.pre_tokenizer', 'pre_tokenizer');
  checkByteLevel(own(root, 'decoder') ?? null, '$.decoder', 'decoder');
  const pp = own(root, 'post_processor');
  if (pp !== null && pp !== undefined) obj(pp, '$.post_processor');

  // model
  const model = obj(own(root, 'model'), '$.model');
  const type = own(model, 'type');
  if (type !== undefined && type !== 'BPE') unsupported(`model:${String(type)}`, 'only BPE models are supported');
  const dropout = own(model, 'dropout');
  if (dropout !== null && dropout !== undefined && dropout !== 0) unsupported('dropout', 'BPE dropout is not supported');
  absent(own(model, 'unk_token'), '$.model.unk_token', 'unk_token');
  for (const k of ['continuing_subword_prefix', 'end_of_word_suffix']) {
    const v = own(model, k);
    if (v !== null && v !== undefined && v !== '') unsupported(k, `$.model.${k} is not supported`);
  }
  if (bool(own(model, 'byte_fallback'), '$.model.byte_fallback', false)) unsupported('byte_fallback', 'byte_fallback is not supported');
  bool(own(model, 'fuse_unk'), '$.model.fuse_unk', false);
  const ignoreMerges = bool(own(model, 'ignore_merges'), '$.model.ignore_merges', false);

  // vocab: byte-level string -> id; ids must be 0..n-1, each once.
  const vocab = obj(own(model, 'vocab'), '$.model.vocab');
  const keys = Object.keys(vocab);
  if (keys.length > MAX_VOCAB) fail('too-large', 'vocab has more than 2^24 tokens', { size: keys.length });
  const tokens: Uint8Array[] = new Array<Uint8Array>(keys.length);
  const idOfKey = new Map<string, number>();
  for (const key of keys) {
    const path = `$.model.vocab[${JSON.stringify(key)}]`;
    const id = checkId(vocab[key], path);
    if (id >= keys.length) fail('id-range', `${path}: ids must be 0..${keys.length - 1}`, { path, id });
    if (tokens[id] !== undefined) fail('duplicate-id', `${path}: id ${id} is used twice`, { path, id });
    const bytes = tokenStringToBytes(key);
    if (bytes === null || bytes.length === 0) {
      fail('bad-token-string', `${path}: not a byte-level token string`, { path });
    }
    tokens[id] = bytes;
    idOfKey.set(key, id);
  }
  // Now keys.length distinct ids in [0, keys.length): no gaps. The 256 byte
  // tokens and the merges are checked by BpeTokenizer's constructor.

  // merges: "a b" strings (all versions) or [a, b] pairs (tokenizers >= 0.20).
  const rawMerges = own(model, 'merges');
  if (!Array.isArray(rawMerges)) fail('type', '$.model.merges must be an array', { path: '$.model.merges' });
  const merges: [number, number][] = rawMerges.map((m: unknown, i: number) => {
    const path = `$.model.merges[${i}]`;
    let left: string;
    let right: string;
    if (typeof m === 'string') {
      const parts = m.split(' ');
      if (parts.length !== 2 || parts[0] === '' || parts[1] === '') fail('bad-merge', `${path} must be "left right"`, { path });
      [left, right] = parts as [string, string];
    } else if (Array.isArray(m)) {
      if (m.length !== 2 || typeof m[0] !== 'string' || typeof m[1] !== 'string') {
        fail('bad-merge', `${path} must be a pair of strings`, { path });
      }
      [left, right] = m as [string, string];
    } else {
      fail('bad-merge', `${path} must be a string or a pair`, { path });
    }
    const a = idOfKey.get(left);
    const b = idOfKey.get(right);
    if (a === undefined || b === undefined) {
      fail('merge-unknown-token', `${path} names a token that is not in the vocab`, {
        path,
        token: a === undefined ? left : right,
      });
    }
    return [a, b];
  });

  // added tokens
  const rawAdded = own(root, 'added_tokens') ?? [];
  if (!Array.isArray(rawAdded)) fail('type', '$.added_tokens must be an array', { path: '$.added_tokens' });
  const added: AddedToken[] = [];
  const seenContent = new Set<string>();
  let nextNew = keys.length;
  rawAdded.forEach((t: unknown, i: number) => {
    const path = `$.added_tokens[${i}]`;
    const o = obj(t, path);
    const id = checkId(own(o, 'id'), `${path}.id`);
    const content = str(own(o, 'content'), `${path}.content`);
    if (content.length === 0) fail('type', `${path}.content must not be empty`, { path });
    const special = bool(own(o, 'special'), `${path}.special`, false);
    for (const flag of ['single_word', 'lstrip', 'rstrip'] as const) {
      if (bool(own(o, flag), `${path}.${flag}`, false)) unsupported(flag, `${path}.${flag} is not supported`);
    }
    bool(own(o, 'normalized'), `${path}.normalized`, !special);
    if (seenContent.has(content)) fail('duplicate-token', `${path}: content repeats an earlier added token`, { path });
    // HF numbers added tokens that are not vocab keys in file order after the vocab.
    if (!idOfKey.has(content)) {
      if (id !== nextNew) {
        fail('added-token-id', `${path}: id must be ${nextNew} (added tokens follow the vocab in file order)`, {
          path,
          id,
          expected: nextNew,
        });
      }
      nextNew++;
    }
    seenContent.add(content);
    added.push({ id, content, special });
  });

  // roles
  const byContent = new Map(added.map((t) => [t.content, t.id]));
  const roles = options.roles ?? {};
  const find = (role: string, given: string | null | undefined, names: readonly string[], first?: string): number | null => {
    if (given !== undefined && given !== null) {
      const id = byContent.get(given);
      if (id === undefined) {
        throw new SwarmError('TOKENIZER_MISSING_SPECIAL', `${role} token ${JSON.stringify(given)} is not an added token`, { role });
      }
      return id;
    }
    if (first !== undefined && byContent.has(first)) return byContent.get(first)!;
    for (const n of names) if (byContent.has(n)) return byContent.get(n)!;
    return null;
  };
  const bos = find('bos', roles.bos, BOS_NAMES, templateBos(pp));
  const eos = find('eos', roles.eos, EOS_NAMES);
  const pad = roles.pad === null ? null : find('pad', roles.pad, PAD_NAMES);
  if (bos === null || eos === null) {
    throw new SwarmError('TOKENIZER_MISSING_SPECIAL', `no ${bos === null ? 'BOS' : 'EOS'} token found; name it in options.roles`, {
      role: bos === null ? 'bos' : 'eos',
    });
  }
  const roleIds: SpecialTokens = { bos, eos, pad };

  const isPlainBytes =
    merges.length === 0 &&
    tokens.length === 256 &&
    tokens.every((t, id) => t.length === 1 && t[0] === id) &&
    added.every((t) => t.id >= 256);
  if (isPlainBytes) return new ByteTokenizer(added, roleIds);
  return new BpeTokenizer({ tokens, merges, added, special: roleIds, ignoreMerges });
}
