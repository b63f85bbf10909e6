import { describe, expect, it } from 'vitest';
import * as core from '../../src/core/index.ts';

describe('core index', () => {
  it('re-exports the core API', () => {
    const names = [
      'SwarmError', 'isSwarmError', 'check',
      'hexEncode', 'hexDecode', 'base64Encode', 'base64Decode', 'base64UrlEncode', 'base64UrlDecode',
      'utf8Encode', 'utf8Decode', 'findLoneSurrogate', 'bytesEqual', 'concatBytes',
      'sha256', 'sha256Hex', 'sha256Parts', 'SHA256_BYTES',
      'canonicalize', 'canonicalBytes', 'CANONICAL_MAX_DEPTH',
      'Prng', 'seedKey', 'stateFromKey',
      'systemClock', 'createSystemClock', 'ManualClock',
      'concatArrays', 'sleep',
    ];
    for (const n of names) expect(core, n).toHaveProperty(n);
  });

  it('composes: the hash of a canonical encoding is stable', () => {
    const entry = { kind: 'result', unit: [3, 1], hash: core.sha256Hex('delta') };
    const reordered = { hash: entry.hash, unit: [3, 1], kind: 'result' };
    expect(core.sha256Hex(core.canonicalBytes(entry))).toBe(core.sha256Hex(core.canonicalBytes(reordered)));
    expect(() => core.canonicalize({ x: Number.NaN })).toThrow(core.SwarmError);
  });
});
