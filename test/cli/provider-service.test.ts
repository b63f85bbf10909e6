/**
 * `swarm provide --install` / `--uninstall` (src/cli/provider-service.ts):
 * the systemd user unit is written under $XDG_CONFIG_HOME/systemd/user (a
 * temporary directory here; systemctl is never run), with ExecStart = this
 * node, this checkout's bin/swarm.mjs and the flags given minus --install,
 * quoted as systemd reads them; --uninstall removes it and its enable link;
 * other systems are told it is Linux-only.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { SWARM_BIN, UNIT_NAME, execWord, installService, unitText, userUnitDir } from '../../src/cli/provider-service.ts';
import { codeOf } from '../helpers/errors.ts';

const tmp = mkdtempSync(join(tmpdir(), 'swarm-unit-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('the systemd user unit', () => {
  it('quotes ExecStart words as systemd reads them', () => {
    expect(execWord('/usr/bin/node')).toBe('/usr/bin/node');
    expect(execWord('--hours')).toBe('--hours');
    expect(execWord('my box')).toBe('"my box"');
    expect(execWord('say "hi"')).toBe('"say \\"hi\\""');
    expect(execWord('50%')).toBe('50%%');
    expect(execWord('$HOME')).toBe('"$$HOME"');
    expect(execWord('a\\b c')).toBe('"a\\\\b c"');
  });

  it('lives in $XDG_CONFIG_HOME/systemd/user, else ~/.config/systemd/user', () => {
    expect(userUnitDir({ XDG_CONFIG_HOME: '/x/cfg', HOME: '/home/u' })).toBe('/x/cfg/systemd/user');
    expect(userUnitDir({ HOME: '/home/u' })).toBe('/home/u/.config/systemd/user');
    // a relative XDG_CONFIG_HOME is invalid by the spec and ignored
    expect(userUnitDir({ XDG_CONFIG_HOME: 'rel', HOME: '/home/u' })).toBe('/home/u/.config/systemd/user');
  });

  it('is Linux-only, and says so', () => {
    for (const platform of ['darwin', 'win32'] as const) {
      expect(codeOf(() => installService(['--tracker', 'http://t'], { platform, env: { XDG_CONFIG_HOME: join(tmp, 'never') } }))).toBe('PROVIDER_INSTALL_LINUX_ONLY');
    }
    expect(existsSync(join(tmp, 'never'))).toBe(false);
    const text = unitText(['--tracker', 'http://t:7070', '--name', 'my box'], { node: '/opt/node 20/bin/node', bin: '/src/bin/swarm.mjs', env: { SWARM_HOME: '/var/lib/swarm' } });
    expect(text).toContain('ExecStart="/opt/node 20/bin/node" /src/bin/swarm.mjs provide --tracker http://t:7070 --name "my box"\n');
    expect(text).toContain('Environment=SWARM_HOME=/var/lib/swarm\n');
    expect(text).toContain('WantedBy=default.target');
  });
});

describe('swarm provide --install / --uninstall', () => {
  let out = '';
  let err = '';
  const saved = { XDG_CONFIG_HOME: process.env.XDG_CONFIG_HOME, SWARM_HOME: process.env.SWARM_HOME };
  beforeEach(() => {
    out = '';
    err = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
      out += String(s);
      return true;
    });
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
      err += String(s);
      return true;
    });
    rmSync(join(tmp, 'config'), { recursive: true, force: true });
    process.env.XDG_CONFIG_HOME = join(tmp, 'config');
    delete process.env.SWARM_HOME;
  });
  afterEach(() => {
    vi.restoreAllMocks();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
  const swarm = (...args: string[]): Promise<number> => main(['node', 'swarm', ...args]);
  const unit = (): string => join(tmp, 'config', 'systemd', 'user', UNIT_NAME);

  it.runIf(process.platform === 'linux')('writes the unit with the flags given now, and tells how to enable it; --uninstall removes it', async () => {
    const code = await swarm('provide', '--tracker', 'http://127.0.0.1:7070', '--install', '--threads', '2', '--max-cpu', '50', '--hours', '22-7', '--name', 'my box', '--ui-port', '7072');
    expect(err).toBe('');
    expect(code).toBe(0);
    const text = readFileSync(unit(), 'utf8');
    const exec = text.split('\n').find((l) => l.startsWith('ExecStart='))!;
    expect(exec).toBe(`ExecStart=${execWord(process.execPath)} ${execWord(SWARM_BIN)} provide --tracker http://127.0.0.1:7070 --threads 2 --max-cpu 50 --hours 22-7 --name "my box" --ui-port 7072`);
    expect(SWARM_BIN.startsWith('/')).toBe(true);
    expect(existsSync(SWARM_BIN)).toBe(true);
    expect(exec).not.toContain('--install');
    expect(text).toContain('KillSignal=SIGINT');
    expect(out).toContain(`wrote ${unit()}`);
    expect(out).toContain('systemctl --user enable --now swarm-provider');

    // enabled by hand (what systemctl --user enable does), then uninstalled
    const wants = join(tmp, 'config', 'systemd', 'user', 'default.target.wants');
    mkdirSync(wants, { recursive: true });
    symlinkSync(unit(), join(wants, UNIT_NAME));
    out = '';
    expect(await swarm('provide', '--uninstall')).toBe(0);
    expect(existsSync(unit())).toBe(false);
    expect(existsSync(join(wants, UNIT_NAME))).toBe(false);
    expect(out).toContain(`removed ${unit()}`);
    out = '';
    expect(await swarm('provide', '--uninstall')).toBe(0);
    expect(out).toContain('nothing to remove');
  });

  it('refuses to install without a tracker, or with a bad one, and writes nothing', async () => {
    expect(await swarm('provide', '--install')).not.toBe(0);
    expect(err).toContain("required option '--tracker <url>' not specified");
    err = '';
    expect(await swarm('provide', '--install', '--tracker', 'ftp://x')).toBe(1);
    expect(err).toContain('TRACKER_BAD_URL');
    err = '';
    expect(await swarm('provide', '--install', '--tracker', 'http://t', '--hours', '5-5')).not.toBe(0);
    expect(err).toContain('--hours');
    expect(existsSync(unit())).toBe(false);
  });
});
