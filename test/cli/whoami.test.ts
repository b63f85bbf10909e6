/**
 * Issue 24's trainer flow, as a separate process: `swarm whoami` prints the
 * identity's key id and public key (the same key every other command signs
 * with), and `swarm tracker --trainer` names the value it refuses.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { base64UrlDecode } from '../../src/core/encoding.ts';
import { keyIdOf } from '../../src/ledger/keys.ts';
import { loadOrCreateIdentity } from '../../src/cli/identity.ts';

const BIN = join(import.meta.dirname, '../../bin/swarm.mjs');
const tmp = mkdtempSync(join(tmpdir(), 'swarm-whoami-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function swarm(home: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, CI: 'true', SWARM_HOME: home } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('swarm whoami', () => {
  it('prints the key id and public key of this identity (JSON and text), stable across calls', async () => {
    const home = join(tmp, 'a');
    const j = swarm(home, 'whoami', '--json');
    expect(j.code).toBe(0);
    const me = JSON.parse(j.out) as { keyId: string; publicKey: string };
    expect(me.keyId).toMatch(/^[0-9a-f]{64}$/);
    expect(keyIdOf(base64UrlDecode(me.publicKey))).toBe(me.keyId);
    // the key every other command loads from this home
    expect((await loadOrCreateIdentity(home)).keyPair.keyId).toBe(me.keyId);
    const t = swarm(home, 'whoami');
    expect(t.code).toBe(0);
    expect(t.out).toContain(me.keyId);
    expect(t.out).toContain(me.publicKey);
  });

  it('swarm tracker --trainer names the value it refuses', () => {
    const r = swarm(join(tmp, 'b'), 'tracker', '--port', '0', '--trainer', 'not-a-key-id');
    expect(r.code).toBe(1);
    expect(r.err).toContain('CLI_BAD_FLAG');
    expect(r.err).toContain('"not-a-key-id"');
  });
});
