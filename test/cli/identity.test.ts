import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { keyPairFromSeed } from '../../src/ledger/keys.ts';
import { IDENTITY_FILE, loadOrCreateIdentity, swarmHome } from '../../src/cli/identity.ts';
import { codeOfAsync as codeOf } from '../helpers/errors.ts';

const POSIX = process.platform !== 'win32';
let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'swarm-identity-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const seed = (b: number) => () => new Uint8Array(32).fill(b);


describe('swarmHome', () => {
  it('prefers $SWARM_HOME, else ~/.swarm', () => {
    expect(swarmHome({ SWARM_HOME: '/srv/swarm' }, '/home/a')).toBe('/srv/swarm');
    expect(swarmHome({ SWARM_HOME: '' }, '/home/a')).toBe(join('/home/a', '.swarm'));
    expect(swarmHome({}, '/home/a')).toBe(join('/home/a', '.swarm'));
  });
});

describe('loadOrCreateIdentity', () => {
  it('creates a key on first use, then loads the same key', async () => {
    const home = join(root, 'nested', '.swarm');
    const first = await loadOrCreateIdentity(home, { randomSeed: seed(7) });
    expect(first.created).toBe(true);
    expect(first.keyPair.keyId).toBe(keyPairFromSeed(new Uint8Array(32).fill(7)).keyId);
    expect(readFileSync(first.path, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    const again = await loadOrCreateIdentity(home, { randomSeed: seed(8) });
    expect(again.created).toBe(false);
    expect(again.keyPair.keyId).toBe(first.keyPair.keyId);
    expect(readdirSync(home)).toEqual([IDENTITY_FILE]); // no temporary files left behind
  });

  // Windows has no POSIX mode bits to check
  it.skipIf(!POSIX)('creates the home directory 0700 and the key file 0600', async () => {
    const home = join(root, 'nested', '.swarm');
    const { path } = await loadOrCreateIdentity(home, { randomSeed: seed(7) });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(home).mode & 0o777).toBe(0o700);
  });

  it('two concurrent creates end with one key (in-process)', async () => {
    const home = join(root, 'race');
    const results = await Promise.all([1, 2, 3, 4, 5, 6].map((b) => loadOrCreateIdentity(home, { randomSeed: seed(b) })));
    const ids = new Set(results.map((r) => r.keyPair.keyId));
    expect(ids.size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect((await loadOrCreateIdentity(home)).keyPair.keyId).toBe([...ids][0]);
    expect(readdirSync(home)).toEqual([IDENTITY_FILE]);
  });

  it('two concurrent creates in separate processes end with one key', async () => {
    const home = join(root, 'procs');
    const script = `import { loadOrCreateIdentity } from ${JSON.stringify(new URL('../../src/cli/identity.ts', import.meta.url).href)};
const id = await loadOrCreateIdentity(process.argv[1]); console.log(id.keyPair.keyId);`;
    const run = () =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, home], { cwd: process.cwd() });
    const outs = await Promise.all([run(), run(), run()]);
    const ids = new Set(outs.map((o) => o.stdout.trim()));
    expect(ids.size).toBe(1);
    expect([...ids][0]).toMatch(/^[0-9a-f]{64}$/);
  });

  it.skipIf(!POSIX)('refuses a key file readable by group or others', async () => {
    const home = join(root, 'h');
    const { path } = await loadOrCreateIdentity(home, { randomSeed: seed(1) });
    for (const mode of [0o640, 0o604, 0o660, 0o644]) {
      chmodSync(path, mode);
      expect(await codeOf(loadOrCreateIdentity(home)), mode.toString(8)).toBe('IDENTITY_INSECURE_PERMISSIONS');
    }
    chmodSync(path, 0o400); // read-only for the owner is fine
    expect(await codeOf(loadOrCreateIdentity(home))).toBe('OK');
  });

  it.skipIf(!POSIX)('refuses a home directory writable by group or others', async () => {
    const home = join(root, 'open');
    mkdirSync(home);
    chmodSync(home, 0o777);
    expect(await codeOf(loadOrCreateIdentity(home, { randomSeed: seed(1) }))).toBe('IDENTITY_INSECURE_PERMISSIONS');
  });

  it.skipIf(!POSIX)('refuses a symlinked key file and a directory in its place', async () => {
    const home = join(root, 'links');
    mkdirSync(home, { mode: 0o700 });
    const target = join(root, 'elsewhere.key');
    writeFileSync(target, 'x', { mode: 0o600 });
    symlinkSync(target, join(home, IDENTITY_FILE));
    expect(await codeOf(loadOrCreateIdentity(home))).toBe('IDENTITY_NOT_A_FILE');
    rmSync(join(home, IDENTITY_FILE));
    mkdirSync(join(home, IDENTITY_FILE), { mode: 0o700 });
    expect(await codeOf(loadOrCreateIdentity(home))).toBe('IDENTITY_NOT_A_FILE');
  });

  it('refuses corrupt content and never overwrites it', async () => {
    const home = join(root, 'bad');
    mkdirSync(home, { mode: 0o700 });
    const path = join(home, IDENTITY_FILE);
    const rsaLike = '-----BEGIN PRIVATE KEY-----\nMIIBVQIBADANBgkqhkiG9w0BAQEFAASCAT8wggE7AgEAAkEA\n-----END PRIVATE KEY-----\n';
    for (const content of ['', 'hello', rsaLike, Buffer.from([0xff, 0xfe, 0x00]), 'A'.repeat(5000)]) {
      writeFileSync(path, content, { mode: 0o600 });
      chmodSync(path, 0o600);
      expect(await codeOf(loadOrCreateIdentity(home, { randomSeed: seed(1) }))).toBe('IDENTITY_CORRUPT');
      expect(readFileSync(path)).toEqual(Buffer.from(content as string));
    }
  });
});
