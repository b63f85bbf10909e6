import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, checkProtocolVersion, isSupportedProtocolVersion } from '../../src/protocol/version.ts';
import { wireSchemas } from '../../src/protocol/schemas.ts';

describe('protocol version', () => {
  it('accepts the current version as number or header text', () => {
    expect(checkProtocolVersion(PROTOCOL_VERSION)).toBe(1);
    expect(checkProtocolVersion('1')).toBe(1);
    expect(isSupportedProtocolVersion(1)).toBe(true);
    expect(wireSchemas(1).workRequest).toBeDefined();
  });

  it('PROTOCOL_UNSUPPORTED_VERSION for well-formed unknown versions', () => {
    for (const v of [2, '2', 0, 999999, Number.NaN]) {
      expect(() => checkProtocolVersion(v)).toThrow(expect.objectContaining({ code: 'PROTOCOL_UNSUPPORTED_VERSION' }));
    }
    expect(() => wireSchemas(2)).toThrow(expect.objectContaining({ code: 'PROTOCOL_UNSUPPORTED_VERSION' }));
  });

  it('PROTOCOL_BAD_HEADER for text that is not a version', () => {
    for (const v of ['', '01', '1.0', ' 1', 'v1', '-1', '1234567', null, undefined, {}]) {
      expect(() => checkProtocolVersion(v)).toThrow(expect.objectContaining({ code: 'PROTOCOL_BAD_HEADER' }));
    }
  });
});
