/**
 * The registration's `client` field (issue 18; schemas.ts ClientInfoSchema):
 * optional, strict, kind 'node' or 'browser', engine 1..64 printable ASCII
 * characters without white space at either end. Each refusal names its path.
 */
import { describe, expect, it } from 'vitest';
import { base64UrlEncode } from '../../src/core/encoding.ts';
import { keyPairFromSeed } from '../../src/ledger/keys.ts';
import { MAX_CLIENT_ENGINE_LENGTH, RegisterProviderRequestSchema, parseWire } from '../../src/protocol/schemas.ts';
import { SwarmError } from '../../src/core/errors.ts';

const pk = base64UrlEncode(keyPairFromSeed(new Uint8Array(32).fill(3)).publicKeyRaw);
const base = { publicKey: pk, name: 'tab', capabilities: { threads: 1, memoryBytes: 1 }, entry: { kind: 'provider-registered' } };

/** The characters from `from` to `to`, inclusive. */
const ascii = (from: number, to: number): string => String.fromCharCode(...Array.from({ length: to - from + 1 }, (_, i) => from + i));

function refusal(client: unknown): { code: string; path: unknown } {
  try {
    parseWire(RegisterProviderRequestSchema, { ...base, client });
  } catch (e) {
    if (!(e instanceof SwarmError)) throw e;
    return { code: e.code, path: e.details?.path };
  }
  throw new Error('expected a refusal');
}

describe('registration client info', () => {
  it('is optional: a body without it parses, with no client', () => {
    expect(parseWire(RegisterProviderRequestSchema, base).client).toBeUndefined();
  });

  it.each([
    { kind: 'node', engine: 'node 20.20.2' },
    { kind: 'browser', engine: 'Chromium 150' },
    { kind: 'browser', engine: 'x' },
    { kind: 'browser', engine: 'x'.repeat(MAX_CLIENT_ENGINE_LENGTH) },
    // every printable ASCII character but the space (which 'node 20.20.2' has), '!' .. '`' and '?' .. '~'
    { kind: 'browser', engine: ascii(0x21, 0x60) },
    { kind: 'browser', engine: ascii(0x3f, 0x7e) },
  ])('accepts %o as it is', (client) => {
    expect(parseWire(RegisterProviderRequestSchema, { ...base, client }).client).toEqual(client);
  });

  it('bounds the engine at 64 characters', () => {
    expect(MAX_CLIENT_ENGINE_LENGTH).toBe(64);
  });

  it.each([
    ['client.kind', { kind: 'python', engine: 'CPython' }],
    ['client.kind', { kind: 'Browser', engine: 'Chromium' }],
    ['client.kind', { engine: 'Chromium' }],
    ['client.engine', { kind: 'node' }],
    ['client.engine', { kind: 'node', engine: '' }],
    ['client.engine', { kind: 'node', engine: 'x'.repeat(MAX_CLIENT_ENGINE_LENGTH + 1) }],
    ['client.engine', { kind: 'node', engine: 20 }],
    ['client.engine', { kind: 'node', engine: 'node\t20' }],
    ['client.engine', { kind: 'node', engine: 'node 20\r\n' }],
    ['client.engine', { kind: 'node', engine: 'node \u007f20' }],
    ['client.engine', { kind: 'browser', engine: 'Chromium \u200b150' }],
    ['client.engine', { kind: 'browser', engine: 'Chromé' }],
    ['client.engine', { kind: 'browser', engine: 'Chromium 150 ' }],
    ['client.engine', { kind: 'browser', engine: ' Chromium 150' }],
    ['client', { kind: 'browser', engine: 'Chromium', version: 150 }],
    ['client', null],
    ['client', ['browser', 'Chromium']],
  ])('refuses a bad %s (%o) with PROTOCOL_INVALID', (path, client) => {
    expect(refusal(client)).toEqual({ code: 'PROTOCOL_INVALID', path });
  });
});
