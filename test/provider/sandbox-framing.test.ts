/**
 * The bwrap sandbox's byte protocol: requests round-trip, and the answer
 * stream (untrusted output of the unit process) is parsed in any chunking,
 * with PROVIDER_BAD_OUTPUT for every malformed, truncated or inconsistent
 * form.
 */
import { describe, expect, it } from 'vitest';
import { utf8Encode } from '../../src/core/encoding.ts';
import { sha256Hex } from '../../src/core/sha256.ts';
import { AnswerReader, decodeRequest, encodeRequest, errorFrame, progressFrame, resultFrame } from '../../src/provider/sandbox/framing.ts';
import type { Answer } from '../../src/provider/sandbox/framing.ts';
import { codeOf } from '../helpers/errors.ts';

const concat = (parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

const result = utf8Encode('result bytes');
const outcome = { result, resultHash: sha256Hex(result), metrics: { loss: 5.5, tokens: 64 } };

/** Raw frame with a given type and payload. */
function raw(type: number, payload: Uint8Array, declared = payload.length): Uint8Array {
  const out = new Uint8Array(5 + payload.length);
  out[0] = type;
  new DataView(out.buffer).setUint32(1, declared, true);
  out.set(payload, 5);
  return out;
}

function resultPayload(meta: unknown, body: Uint8Array): Uint8Array {
  const m = utf8Encode(JSON.stringify(meta));
  const len = new Uint8Array(4);
  new DataView(len.buffer).setUint32(0, m.length, true);
  return concat([len, m, body]);
}

function readAll(bytes: Uint8Array, chunk = bytes.length, max = 1 << 20): Answer[] {
  const r = new AnswerReader(max);
  const out: Answer[] = [];
  for (let i = 0; i < bytes.length; i += chunk) out.push(...r.push(bytes.subarray(i, i + chunk)));
  r.end();
  return out;
}

describe('request', () => {
  const blobs = new Map([[sha256Hex('a'), utf8Encode('a')], [sha256Hex('bc'), utf8Encode('bc')]]);
  const req = { spec: { kind: 'eval' }, threads: 2, backend: 'wasm' as const, memoryMb: 512, blobs };

  it('round-trips', () => {
    const back = decodeRequest(concat(encodeRequest(req)));
    expect(back).toEqual(req);
  });

  it('rejects a wrong magic, trailing bytes, a short blob, a repeated blob, bad fields', () => {
    const b = concat(encodeRequest(req));
    const magic = b.slice();
    magic[0] = 0;
    expect(codeOf(() => decodeRequest(magic))).toBe('PROVIDER_BAD_REQUEST');
    expect(codeOf(() => decodeRequest(concat([b, new Uint8Array(1)])))).toBe('PROVIDER_BAD_REQUEST');
    expect(codeOf(() => decodeRequest(b.subarray(0, b.length - 1)))).toBe('PROVIDER_BAD_REQUEST');
    const twice = concat(encodeRequest({ ...req, blobs: new Map([[sha256Hex('a'), utf8Encode('a')]]) }));
    const text = new TextDecoder().decode(twice).replace(/\[\["([0-9a-f]+)",1\]\]/, '[["$1",1],["$1",0]]');
    const fixedLen = utf8Encode(text);
    new DataView(fixedLen.buffer).setUint32(4, new DataView(fixedLen.buffer).getUint32(4, true) + (fixedLen.length - twice.length), true);
    expect(codeOf(() => decodeRequest(fixedLen))).toBe('PROVIDER_BAD_REQUEST');
    expect(codeOf(() => decodeRequest(concat(encodeRequest({ ...req, threads: 0 }))))).toBe('PROVIDER_BAD_REQUEST');
    expect(codeOf(() => decodeRequest(concat(encodeRequest({ ...req, backend: 'gpu' as never }))))).toBe('PROVIDER_BAD_REQUEST');
  });
});

describe('answer stream', () => {
  const good = concat([progressFrame(0.5), progressFrame(1), resultFrame(outcome)]);

  it('parses progress and the result in any chunking', () => {
    for (const chunk of [good.length, 7, 1]) {
      const a = readAll(good, chunk);
      expect(a).toEqual([{ type: 'progress', fraction: 0.5 }, { type: 'progress', fraction: 1 }, { type: 'result', outcome }]);
    }
    expect(readAll(errorFrame({ code: 'WORK_BLOB_MISSING', message: 'gone', details: { blob: 'x' } }))).toEqual([
      { type: 'error', error: { code: 'WORK_BLOB_MISSING', message: 'gone', details: { blob: 'x' } } },
    ]);
  });

  const bad: Array<[string, Uint8Array, number?]> = [
    ['truncated frame', good.subarray(0, good.length - 3)],
    ['truncated header', good.subarray(0, 3)],
    ['unknown frame type', raw(9, new Uint8Array(8))],
    ['progress of 4 bytes', raw(1, new Uint8Array(4))],
    ['progress above 1', progressFrame(1.5)],
    ['progress NaN', progressFrame(NaN)],
    ['bytes after the result', concat([resultFrame(outcome), progressFrame(1)])],
    ['a second final frame', concat([errorFrame({ code: 'X', message: 'a' }), errorFrame({ code: 'X', message: 'b' })])],
    ['frame over the size limit', raw(3, new Uint8Array(0), 2 ** 31)],
    ['result not matching its hash', raw(3, resultPayload({ resultHash: sha256Hex('other'), metrics: {} }, result))],
    ['result header not JSON', raw(3, concat([Uint8Array.of(2, 0, 0, 0), utf8Encode('{x')]))],
    ['result header with extra member', raw(3, resultPayload({ resultHash: outcome.resultHash, metrics: {}, more: 1 }, result))],
    ['result metric not a number', raw(3, resultPayload({ resultHash: outcome.resultHash, metrics: { loss: 'low' } }, result))],
    ['result metric named __proto__', raw(3, resultPayload({ resultHash: outcome.resultHash, metrics: JSON.parse('{"__proto__":1}') }, result))],
    ['error with a lower-case code', raw(2, utf8Encode(JSON.stringify({ code: 'oops', message: 'x' })))],
    ['error without a message', raw(2, utf8Encode(JSON.stringify({ code: 'OOPS' })))],
    ['error with extra members', raw(2, utf8Encode(JSON.stringify({ code: 'OOPS', message: 'x', stack: 'y' })))],
  ];
  for (const [why, bytes] of bad) {
    it(`${why} → PROVIDER_BAD_OUTPUT`, () => {
      expect(codeOf(() => readAll(bytes, 5))).toBe('PROVIDER_BAD_OUTPUT');
    });
  }
});
