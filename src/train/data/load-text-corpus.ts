/**
 * Loads real text from disk into a TextCorpus. Accepts
 *  - a text file (any extension but .jsonl): documents are its paragraphs
 *    (split at blank lines), or the whole file with split: 'file';
 *  - a .jsonl file: one JSON object per line with a string field "text",
 *    one document per line (blank lines skipped);
 *  - a folder: every .txt / .md file below it (recursive), one document per
 *    file by default. Entries whose name starts with "." and symbolic links
 *    are skipped (no hidden VCS files, no link cycles). Files are read in
 *    order of their '/'-separated relative path, compared by UTF-16 code
 *    units, so the order does not depend on the file system's listing order.
 *
 * For determinism across machines, text is normalised only where operating
 * systems differ: a leading UTF-8 byte-order mark is dropped and CRLF line
 * ends become LF (a Windows checkout with git's autocrlf must give the same
 * corpus hash as a Linux one). Everything else is kept byte for byte.
 *
 * Errors (SwarmError codes): DATA_NOT_FOUND (no such path), DATA_READ_FAILED
 * (other file-system errors), DATA_TOO_LARGE (more than maxBytes in total,
 * checked from file sizes before reading), DATA_BAD_UTF8 (with the file, byte
 * offset and line of the first ill-formed sequence), DATA_BAD_JSONL (with the
 * file and 1-based line number), DATA_EMPTY (no documents).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { basename, join } from 'node:path';
import { findLoneSurrogate, utf8Decode } from '../../core/encoding.ts';
import { SwarmError } from '../../core/errors.ts';
import { makeTextCorpus, splitParagraphs } from './text-corpus.ts';
import type { TextCorpus, TextCorpusOptions } from './text-corpus.ts';
import { firstInvalidUtf8 } from './utf8-check.ts';

/** Default cap on the bytes read: the corpus is held in memory as JS strings (UTF-16) plus tokens. */
export const DEFAULT_MAX_CORPUS_BYTES = 256 * 1024 * 1024;
const FOLDER_EXTENSIONS = ['.txt', '.md'];

export interface LoadTextCorpusOptions extends TextCorpusOptions {
  /** refuse more than this many bytes in total (default 256 MiB) */
  maxBytes?: number;
  /** documents of a .txt/.md file: its paragraphs, or the whole file (default: paragraphs for a single file, file inside a folder) */
  split?: 'paragraphs' | 'file';
}

function fsError(e: unknown, path: string): SwarmError {
  const code = (e as { code?: unknown }).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return new SwarmError('DATA_NOT_FOUND', `no such file or folder: ${path}`, { path }, { cause: e });
  return new SwarmError('DATA_READ_FAILED', `cannot read ${path}: ${String(code ?? e)}`, { path }, { cause: e });
}

function statPath(path: string): Stats {
  try {
    return statSync(path);
  } catch (e) {
    throw fsError(e, path);
  }
}

/** Strict UTF-8 decode with a located error, BOM dropped, CRLF → LF. */
function decodeFile(bytes: Uint8Array, path: string): string {
  const bad = firstInvalidUtf8(bytes);
  if (bad >= 0) {
    let line = 1;
    for (let i = 0; i < bad; i++) if (bytes[i] === 0x0a) line++;
    throw new SwarmError('DATA_BAD_UTF8', `${path} is not valid UTF-8 (byte ${bad}, line ${line})`, { path, offset: bad, line });
  }
  let text = utf8Decode(bytes);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return text.replace(/\r\n/g, '\n');
}

function readFile(path: string): string {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw fsError(e, path);
  }
  return decodeFile(bytes, path);
}

/** Documents of a JSONL text: the "text" field of each non-blank line. */
export function parseJsonl(text: string, path: string): string[] {
  const docs: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const fail = (reason: string): never => {
      throw new SwarmError('DATA_BAD_JSONL', `${path} line ${i + 1}: ${reason}`, { path, line: i + 1, reason });
    };
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      fail(`invalid JSON (${(e as Error).message})`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('expected a JSON object');
    const t = (value as Record<string, unknown>).text;
    if (typeof t !== 'string') fail('expected a string field "text"');
    // A JSON escape can encode half a surrogate pair; such a string has no UTF-8 form to hash or tokenize.
    if (findLoneSurrogate(t as string) >= 0) fail('"text" contains an unpaired surrogate escape');
    if ((t as string).trim() !== '') docs.push(t as string);
  }
  return docs;
}

/** Files under `dir` with a folder extension, as [relative path, absolute path], in path order. */
function listFolder(dir: string): [string, string][] {
  const out: [string, string][] = [];
  const walk = (abs: string, rel: string): void => {
    let entries;
    try {
      entries = readdirSync(abs, { withFileTypes: true });
    } catch (e) {
      throw fsError(e, abs);
    }
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const childAbs = join(abs, e.name);
      const childRel = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) walk(childAbs, childRel);
      else if (e.isFile() && FOLDER_EXTENSIONS.some((x) => e.name.toLowerCase().endsWith(x))) out.push([childRel, childAbs]);
    }
  };
  walk(dir, '');
  return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

export function loadTextCorpus(path: string, options: LoadTextCorpusOptions = {}): TextCorpus {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_CORPUS_BYTES;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) throw new SwarmError('DATA_INVALID_OPTION', 'maxBytes must be a non-negative integer');
  const tooLarge = (size: number): SwarmError =>
    new SwarmError('DATA_TOO_LARGE', `${path} holds more than ${maxBytes} bytes (limit: maxBytes)`, { path, limit: maxBytes, size });

  const st = statPath(path);
  const docs: string[] = [];
  if (st.isDirectory()) {
    const files = listFolder(path);
    if (files.length === 0) throw new SwarmError('DATA_EMPTY', `${path} contains no .txt or .md files`, { path });
    let total = 0;
    for (const [, abs] of files) {
      total += statPath(abs).size;
      if (total > maxBytes) throw tooLarge(total);
    }
    for (const [, abs] of files) {
      const text = readFile(abs);
      if (options.split === 'paragraphs') docs.push(...splitParagraphs(text));
      else if (text.trim() !== '') docs.push(text.trim());
    }
  } else {
    if (!st.isFile()) throw new SwarmError('DATA_READ_FAILED', `${path} is not a regular file or folder`, { path });
    if (st.size > maxBytes) throw tooLarge(st.size);
    const text = readFile(path);
    if (path.toLowerCase().endsWith('.jsonl')) docs.push(...parseJsonl(text, path));
    else if (options.split === 'file') {
      if (text.trim() !== '') docs.push(text.trim());
    } else docs.push(...splitParagraphs(text));
  }
  if (docs.length === 0) throw new SwarmError('DATA_EMPTY', `${path} contains no text`, { path });
  return makeTextCorpus(basename(path), docs, options);
}
