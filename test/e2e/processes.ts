/**
 * Helpers for end-to-end tests with real processes: spawn `swarm` commands,
 * wait for a line on stdout, kill with SIGKILL, clean up temp homes.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
export const BIN = join(ROOT, 'bin/swarm.mjs');

export interface Proc {
  child: ChildProcess;
  out: string[];
  err: string[];
  /** resolves with the first stdout line matching `re` */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  exited: Promise<number | null>;
  kill9(): void;
}

const live = new Set<ChildProcess>();
const homes: string[] = [];

export function tempHome(label: string): string {
  const d = mkdtempSync(join(tmpdir(), `swarm-e2e-${label}-`));
  homes.push(d);
  return d;
}

export function spawnNode(args: string[], env: Record<string, string>, cwd: string = ROOT): Proc {
  const child = spawn(process.execPath, args, { cwd, env: { ...process.env, CI: 'true', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  const out: string[] = [];
  const err: string[] = [];
  const waiters: Array<{ re: RegExp; ok: (s: string) => void }> = [];
  let buf = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      out.push(line);
      for (const w of [...waiters]) {
        if (w.re.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.ok(line);
        }
      }
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => err.push(d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => {
    live.delete(child);
    r(code);
  }));
  return {
    child,
    out,
    err,
    exited,
    waitFor(re, timeoutMs = 120_000) {
      const hit = out.find((l) => re.test(l));
      if (hit !== undefined) return Promise.resolve(hit);
      return new Promise((ok, fail) => {
        const t = setTimeout(() => fail(new Error(`timed out waiting for ${re} (stderr: ${err.join('').slice(-2000)})`)), timeoutMs);
        waiters.push({ re, ok: (s) => { clearTimeout(t); ok(s); } });
        void exited.then((code) => { clearTimeout(t); fail(new Error(`process exited (${code}) before ${re}; stderr: ${err.join('').slice(-2000)}`)); });
      });
    },
    kill9() {
      child.kill('SIGKILL');
    },
  };
}

export function spawnSwarm(args: string[], home: string, cwd: string = ROOT): Proc {
  return spawnNode([BIN, ...args], { SWARM_HOME: home }, cwd);
}

export async function cleanup(): Promise<void> {
  for (const c of live) c.kill('SIGKILL');
  await new Promise((r) => setTimeout(r, 200));
  for (const h of homes.splice(0)) rmSync(h, { recursive: true, force: true });
}

export async function until<T>(f: () => Promise<T | undefined | null | false>, timeoutMs: number, what: string, everyMs = 250): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined && v !== null && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
