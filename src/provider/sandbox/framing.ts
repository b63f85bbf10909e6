/**
 * The byte protocol between a provider and a unit process it runs under
 * bubblewrap (./bwrap-sandbox.ts): the request on the child's stdin, framed
 * answers on its stdout. Pure functions over bytes, used on both sides.
 *
 * Request (stdin, then EOF):
 *   "SWRQ"  u32le H  H bytes of UTF-8 JSON {v:1, spec, threads, backend,
 *   memoryMb, blobs: [[sha256hex, length], ...]}  then the blobs' bytes in
 *   that order, nothing after.
 * Answer (stdout): frames [u8 type][u32le length][payload]:
 *   1 PROGRESS  8 bytes, f64le fraction in [0, 1]
 *   2 ERROR     UTF-8 JSON {code, message, details?}
 *   3 RESULT    u32le M, M bytes of UTF-8 JSON {resultHash, metrics}, then the result bytes
 * ERROR or RESULT is the last frame; nothing may follow it.
 *
 * The child's output is untrusted input to the provider (it ran on hostile
 * bytes): every frame is bounded, every field checked, the result's hash
 * recomputed; any violation is PROVIDER_BAD_OUTPUT. A malformed request is
 * PROVIDER_BAD_REQUEST in the child.
 */
import { concatArrays } from '../../core/concat.ts';
import { utf8Decode, utf8Encode } from '../../core/encoding.ts';
import { SwarmError } from '../../core/errors.ts';
import type { ErrorDetails } from '../../core/errors.ts';
import { sha256Hex } from '../../core/sha256.ts';
import type { UnitOutcome } from '../../train/work/run-unit.ts';
import { SANDBOX_BACKENDS } from './sandbox.ts';
import type { SandboxBackend, WireError } from './sandbox.ts';

const REQUEST_MAGIC = [0x53, 0x57, 0x52, 0x51]; // "SWRQ"
const MAX_REQUEST_HEADER = 1 << 20;
const MAX_BLOBS = 64;
/** Largest JSON in an ERROR frame or a RESULT's header. */
const MAX_JSON_FRAME = 64 * 1024;
const MAX_METRICS = 64;

export const FRAME_PROGRESS = 1;
export const FRAME_ERROR = 2;
export const FRAME_RESULT = 3;

export interface UnitRequest {
  spec: unknown;
  threads: number;
  backend: SandboxBackend;
  memoryMb: number;
  blobs: Map<string, Uint8Array>;
}

function badRequest(message: string): never {
  throw new SwarmError('PROVIDER_BAD_REQUEST', `bad unit request: ${message}`);
}

function badOutput(message: string, details?: ErrorDetails): never {
  throw new SwarmError('PROVIDER_BAD_OUTPUT', `the sandboxed unit answered badly: ${message}`, details);
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}

function readU32(b: Uint8Array, at: number): number {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(at, true);
}

// ---- request ---------------------------------------------------------------

/** The request as a list of byte chunks (the blobs are not copied). */
export function encodeRequest(r: UnitRequest): Uint8Array[] {
  const entries = [...r.blobs];
  const header = utf8Encode(JSON.stringify({
    v: 1, spec: r.spec, threads: r.threads, backend: r.backend, memoryMb: r.memoryMb, blobs: entries.map(([h, b]) => [h, b.length]),
  }));
  return [Uint8Array.from(REQUEST_MAGIC), u32(header.length), header, ...entries.map(([, b]) => b)];
}

export function decodeRequest(bytes: Uint8Array): UnitRequest {
  if (bytes.length < 8 || REQUEST_MAGIC.some((m, i) => bytes[i] !== m)) badRequest('missing the SWRQ magic');
  const hl = readU32(bytes, 4);
  if (hl > MAX_REQUEST_HEADER || 8 + hl > bytes.length) badRequest(`header of ${hl} bytes does not fit`);
  let h: { v?: unknown; spec?: unknown; threads?: unknown; backend?: unknown; memoryMb?: unknown; blobs?: unknown };
  try {
    h = JSON.parse(utf8Decode(bytes.subarray(8, 8 + hl))) as typeof h;
  } catch {
    return badRequest('header is not UTF-8 JSON');
  }
  if (typeof h !== 'object' || h === null || h.v !== 1) badRequest('header must be an object with v = 1');
  const { threads, backend, memoryMb, blobs } = h;
  if (typeof threads !== 'number' || !Number.isSafeInteger(threads) || threads < 1 || threads > 256) badRequest('bad threads');
  if (typeof backend !== 'string' || !(SANDBOX_BACKENDS as readonly string[]).includes(backend)) badRequest('bad backend');
  if (typeof memoryMb !== 'number' || !Number.isSafeInteger(memoryMb) || memoryMb < 1) badRequest('bad memoryMb');
  if (!Array.isArray(blobs) || blobs.length > MAX_BLOBS) badRequest('bad blob list');
  const out = new Map<string, Uint8Array>();
  let at = 8 + hl;
  for (const e of blobs as unknown[]) {
    if (!Array.isArray(e) || e.length !== 2 || typeof e[0] !== 'string' || !/^[0-9a-f]{64}$/.test(e[0]) || !Number.isSafeInteger(e[1]) || e[1] < 0) {
      badRequest('bad blob entry');
    }
    const [hash, len] = e as [string, number];
    if (out.has(hash)) badRequest(`blob ${hash} twice`);
    if (at + len > bytes.length) badRequest('blob bytes end early');
    out.set(hash, bytes.subarray(at, at + len));
    at += len;
  }
  if (at !== bytes.length) badRequest(`${bytes.length - at} bytes after the last blob`);
  return { spec: h.spec, threads, backend: backend as SandboxBackend, memoryMb, blobs: out };
}

// ---- answer frames ---------------------------------------------------------

function frame(type: number, payload: readonly Uint8Array[]): Uint8Array {
  const head = new Uint8Array(5);
  head[0] = type;
  new DataView(head.buffer).setUint32(1, payload.reduce((s, p) => s + p.length, 0), true);
  return concatArrays(Uint8Array, [head, ...payload]);
}

export function progressFrame(fraction: number): Uint8Array {
  const p = new Uint8Array(8);
  new DataView(p.buffer).setFloat64(0, fraction, true);
  return frame(FRAME_PROGRESS, [p]);
}

export function errorFrame(e: WireError): Uint8Array {
  let json = utf8Encode(JSON.stringify(e));
  if (json.length > MAX_JSON_FRAME) json = utf8Encode(JSON.stringify({ code: e.code, message: e.message.slice(0, 1000) }));
  return frame(FRAME_ERROR, [json]);
}

export function resultFrame(o: UnitOutcome): Uint8Array {
  const meta = utf8Encode(JSON.stringify({ resultHash: o.resultHash, metrics: o.metrics }));
  return frame(FRAME_RESULT, [u32(meta.length), meta, o.result]);
}

export type Answer =
  | { type: 'progress'; fraction: number }
  | { type: 'error'; error: WireError }
  | { type: 'result'; outcome: UnitOutcome };

function parseJson(b: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(utf8Decode(b));
  } catch {
    return badOutput(`${what} is not UTF-8 JSON`);
  }
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

function parseError(payload: Uint8Array): WireError {
  if (payload.length > MAX_JSON_FRAME) badOutput('error frame too large');
  const e = parseJson(payload, 'error frame');
  if (!isObject(e) || typeof e.code !== 'string' || !/^[A-Z][A-Z0-9_]{0,63}$/.test(e.code) || typeof e.message !== 'string' || e.message.length > 4096) {
    badOutput('error frame is not {code, message}');
  }
  const keys = Object.keys(e);
  if (keys.some((k) => k !== 'code' && k !== 'message' && k !== 'details') || (e.details !== undefined && !isObject(e.details))) {
    badOutput('error frame has unexpected members');
  }
  return e.details === undefined ? { code: e.code, message: e.message } : { code: e.code, message: e.message, details: e.details as ErrorDetails };
}

function parseResult(payload: Uint8Array): UnitOutcome {
  if (payload.length < 4) badOutput('result frame too short');
  const ml = readU32(payload, 0);
  if (ml > MAX_JSON_FRAME || 4 + ml > payload.length) badOutput('result header does not fit');
  const meta = parseJson(payload.subarray(4, 4 + ml), 'result header');
  if (!isObject(meta) || Object.keys(meta).length !== 2 || typeof meta.resultHash !== 'string' || !isObject(meta.metrics)) {
    badOutput('result header is not {resultHash, metrics}');
  }
  const metrics = meta.metrics as Record<string, unknown>;
  const entries = Object.entries(metrics);
  if (entries.length > MAX_METRICS) badOutput('too many metrics');
  for (const [k, v] of entries) {
    if (!/^[A-Za-z][A-Za-z0-9_.-]{0,63}$/.test(k) || typeof v !== 'number' || !Number.isFinite(v)) badOutput(`bad metric ${JSON.stringify(k).slice(0, 80)}`);
  }
  const result = payload.slice(4 + ml);
  const actual = sha256Hex(result);
  if (actual !== meta.resultHash) badOutput('the result does not hash to the announced resultHash', { announced: String(meta.resultHash).slice(0, 80), actual });
  return { result, resultHash: actual, metrics: Object.fromEntries(entries) as Record<string, number> };
}

/**
 * Incremental reader of the answer stream: push() stdout chunks as they
 * arrive, get the complete frames; end() at EOF checks that the stream
 * stopped exactly after its final frame.
 */
export class AnswerReader {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private done = false;

  constructor(private readonly maxFrameBytes: number) {}

  /** Whether the final frame (ERROR or RESULT) has been read. */
  get finished(): boolean {
    return this.done;
  }

  push(chunk: Uint8Array): Answer[] {
    if (chunk.length === 0) return [];
    if (this.done) badOutput('bytes after the final frame');
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const out: Answer[] = [];
    for (;;) {
      if (this.buffered < 5) break;
      const head = this.peek(5);
      const type = head[0]!;
      const len = readU32(head, 1);
      if (type !== FRAME_PROGRESS && type !== FRAME_ERROR && type !== FRAME_RESULT) badOutput(`unknown frame type ${type}`);
      if (type === FRAME_PROGRESS && len !== 8) badOutput('progress frame must hold 8 bytes');
      if (len > this.maxFrameBytes) badOutput(`frame of ${len} bytes exceeds ${this.maxFrameBytes}`, { length: len });
      if (this.buffered < 5 + len) break;
      const all = this.take(5 + len);
      const payload = all.subarray(5);
      if (this.done) badOutput('bytes after the final frame');
      if (type === FRAME_PROGRESS) {
        const f = new DataView(payload.buffer, payload.byteOffset, 8).getFloat64(0, true);
        if (!(f >= 0 && f <= 1)) badOutput(`progress ${f} is outside [0, 1]`);
        out.push({ type: 'progress', fraction: f });
      } else if (type === FRAME_ERROR) {
        out.push({ type: 'error', error: parseError(payload) });
        this.done = true;
      } else {
        out.push({ type: 'result', outcome: parseResult(payload) });
        this.done = true;
      }
    }
    if (this.done && this.buffered > 0) badOutput('bytes after the final frame');
    return out;
  }

  /** At EOF: PROVIDER_BAD_OUTPUT if a frame was cut off. */
  end(): void {
    if (this.buffered > 0) badOutput(`the output ends inside a frame (${this.buffered} bytes left over)`, { leftover: this.buffered });
  }

  private peek(n: number): Uint8Array {
    if (this.chunks[0]!.length >= n) return this.chunks[0]!.subarray(0, n);
    return this.concat().subarray(0, n);
  }

  private take(n: number): Uint8Array {
    const all = this.concat();
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    return out;
  }

  private concat(): Uint8Array {
    if (this.chunks.length === 1) return this.chunks[0]!;
    const all = concatArrays(Uint8Array, this.chunks);
    this.chunks = [all];
    return all;
  }
}
