/**
 * `swarm provide --install` / `--uninstall` (issue 17): a systemd *user*
 * unit, so the provider starts at login as BOINC's and Folding@home's
 * installers arrange — ~/.config/systemd/user/swarm-provider.service
 * ($XDG_CONFIG_HOME/systemd/user when that is set, the XDG base directory
 * rule systemd follows). Its ExecStart is this node binary, this checkout's
 * bin/swarm.mjs and `provide` with the flags given now, minus --install.
 * Nothing here runs systemctl: the owner is told the one command to enable
 * it. Linux only (PROVIDER_INSTALL_LINUX_ONLY elsewhere).
 *
 * The service runs at the lowest CPU priority (Nice=19) and stops with
 * SIGINT, which `swarm provide` takes as Ctrl-C: finish the unit in hand,
 * then exit (results are spooled, so a stop never costs finished work).
 */
import { existsSync, lstatSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SwarmError } from '../core/errors.ts';

export const UNIT_NAME = 'swarm-provider.service';
export const SWARM_BIN = fileURLToPath(new URL('../../bin/swarm.mjs', import.meta.url));

export interface ServiceEnv {
  /** process.platform (tests pass another) */
  platform?: NodeJS.Platform;
  /** process.env (XDG_CONFIG_HOME, HOME, SWARM_HOME) */
  env?: Record<string, string | undefined>;
  /** absolute node binary (default process.execPath) */
  node?: string;
  /** absolute bin/swarm.mjs (default this checkout's) */
  bin?: string;
}

function linuxOnly(e: ServiceEnv, what: string): void {
  const platform = e.platform ?? process.platform;
  if (platform !== 'linux') {
    throw new SwarmError('PROVIDER_INSTALL_LINUX_ONLY', `${what} writes a systemd user unit and works on Linux only (this is ${platform}); start \`swarm provide\` from your login items instead`);
  }
}

/** ~/.config/systemd/user, or $XDG_CONFIG_HOME/systemd/user. */
export function userUnitDir(env: Record<string, string | undefined> = process.env): string {
  const xdg = env.XDG_CONFIG_HOME;
  const config = xdg !== undefined && xdg.startsWith('/') ? xdg : join(env.HOME ?? homedir(), '.config');
  return join(config, 'systemd', 'user');
}

/**
 * One word of ExecStart (systemd.service "Command lines"): plain when it is
 * safe, else double-quoted with C escapes; `%` (a specifier) is doubled and
 * `$` (variable expansion) is doubled in every word.
 */
export function execWord(word: string): string {
  const w = word.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(w)) return w;
  return `"${w.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** The provide flags for the service: those given now, without --install / --uninstall. */
export function serviceArgs(args: readonly string[]): string[] {
  return args.filter((a) => a !== '--install' && a !== '--uninstall');
}

export function unitText(args: readonly string[], e: ServiceEnv = {}): string {
  const env = e.env ?? process.env;
  const exec = [e.node ?? process.execPath, e.bin ?? SWARM_BIN, 'provide', ...serviceArgs(args)].map(execWord).join(' ');
  const home = env.SWARM_HOME;
  return [
    '# Written by `swarm provide --install`; `swarm provide --uninstall` removes it.',
    '[Unit]',
    'Description=Sovereign Swarm provider: lends this machine\'s idle cycles to a swarm',
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${exec}`,
    ...(home === undefined || home === '' ? [] : [`Environment=${execWord(`SWARM_HOME=${home}`)}`]),
    // Ctrl-C once: finish the unit in hand, then exit (spooled results survive any stop)
    'KillSignal=SIGINT',
    'TimeoutStopSec=120',
    'Nice=19',
    'Restart=on-failure',
    'RestartSec=30',
    '',
    '[Install]',
    'WantedBy=default.target',
    '',
  ].join('\n');
}

/** Writes the unit; returns its path and what to tell the owner. */
export function installService(args: readonly string[], e: ServiceEnv = {}): { path: string; text: string; message: string } {
  linuxOnly(e, '--install');
  const dir = userUnitDir(e.env ?? process.env);
  const path = join(dir, UNIT_NAME);
  const text = unitText(args, e);
  mkdirSync(dir, { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o644 });
  renameSync(tmp, path);
  const message = [
    `wrote ${path}`,
    'start it now and at every login with:',
    '  systemctl --user daemon-reload && systemctl --user enable --now swarm-provider',
    'its log, with the address of its page: journalctl --user -u swarm-provider',
    'to keep it running while you are logged out: loginctl enable-linger',
  ].join('\n');
  return { path, text, message };
}

/** Removes the unit (and the enable link `systemctl --user enable` made); returns what to tell the owner. */
export function uninstallService(e: ServiceEnv = {}): { path: string; removed: boolean; message: string } {
  linuxOnly(e, '--uninstall');
  const dir = userUnitDir(e.env ?? process.env);
  const path = join(dir, UNIT_NAME);
  const removed = existsSync(path);
  rmSync(path, { force: true });
  const wants = join(dir, 'default.target.wants', UNIT_NAME);
  try {
    if (lstatSync(wants).isSymbolicLink()) rmSync(wants);
  } catch {
    // not enabled
  }
  const message = removed
    ? [`removed ${path}`, 'stop a running one and forget the unit with:', '  systemctl --user stop swarm-provider; systemctl --user daemon-reload'].join('\n')
    : `no ${UNIT_NAME} in ${dirname(path)}: nothing to remove`;
  return { path, removed, message };
}
