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

  it('header text of up to six digits is a version number, whatever follows a digit otherwise is not', () => {
    // well-formed but unknown: the digits are read as a number (not refused as bad text)
    for (const v of ['10', '20', '999999']) {
      expect(() => checkProtocolVersion(v)).toThrow(expect.objectContaining({ code: 'PROTOCOL_UNSUPPORTED_VERSION', details: expect.objectContaining({ version: Number(v) }) }));
    }
    for (const v of ['1x', '1 ', '1-', '2a', '1e3', '1_0']) {
      expect(() => checkProtocolVersion(v)).toThrow(expect.objectContaining({ code: 'PROTOCOL_BAD_HEADER' }));
    }
  });

  it('PROTOCOL_BAD_HEADER for text that is not a version', () => {
    for (const v of ['', '01', '1.0', ' 1', 'v1', '-1', '1234567', null, undefined, {}]) {
      expect(() => checkProtocolVersion(v)).toThrow(expect.objectContaining({ code: 'PROTOCOL_BAD_HEADER' }));
    }
  });
});
