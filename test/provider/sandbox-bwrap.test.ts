/**
 * The bubblewrap sandbox: the same bytes as a direct runUnit, the unit's
 * coded errors through the process boundary, deadline and cancel killing the
 * whole sandbox, and isolation proved with the argv the sandbox uses: no
 * network (a server reachable from outside is unreachable inside), no writes
 * outside the private /tmp, hidden paths unreadable, no view of host
 * processes. Skipped, with the reason, where bwrap is absent or cannot
 * create namespaces (CI installs the Debian package `bubblewrap`).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { homedir, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, bwrapArgv, bwrapAvailable, bwrapUsable, createBwrapSandbox } from '../../src/provider/sandbox/bwrap-sandbox.ts';
import { createRefBackend } from '../../src/tensor/backend/ref.ts';
import { Engine } from '../../src/tensor/tensor.ts';
import { runUnit } from '../../src/train/work/run-unit.ts';
import { codeOf, codeOfAsync } from '../helpers/errors.ts';
import { makeFixture } from '../train/work/fixtures.ts';
import type { Fixture } from '../train/work/fixtures.ts';

const usable = await bwrapUsable();
if (!usable.ok) console.warn(`[skip] bwrap sandbox tests: ${usable.reason}`);

/** Runs `argv[0]` with the rest, collecting exit code and output. */
function run(argv: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    p.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** An IPv4 address of this host that is not loopback, if it has one. */
const EXTERNAL_IPV4 = Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal)?.address;

/**
 * Runs `f` while a TCP server listens on every interface; `f` gets a node -e
 * script that connects to it at a host and prints "connected" (exit 0) or the
 * error code (exit 3).
 */
async function withTcpServer(f: (connect: (host: string) => string) => Promise<void>): Promise<void> {
  const server = createServer((s) => s.end()).listen(0, '0.0.0.0');
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address() as AddressInfo;
  const connect = (host: string) =>
    `const s=require('net').connect(${port},${JSON.stringify(host)});` +
    `s.on('connect',()=>{console.log('connected');process.exit(0)});` +
    `s.on('error',(e)=>{console.log(e.code);process.exit(3)});setTimeout(()=>{console.log('timeout');process.exit(4)},3000)`;
  try {
    await f(connect);
  } finally {
    server.close();
  }
}

const sandboxed = (script: string, hide?: string[]) => ['/usr/bin/bwrap', ...bwrapArgv([process.execPath, '-e', script], hide ? { hide } : {})];

/** Host pids of live processes descending from this one whose command line mentions `marker`. */
function descendantsWith(marker: string): number[] {
  const parentOf = new Map<number, number>();
  const cmd = new Map<number, string>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      parentOf.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
      cmd.set(Number(d), readFileSync(`/proc/${d}/cmdline`, 'utf8'));
    } catch {
      // gone meanwhile
    }
  }
  const mine = (pid: number): boolean => {
    for (let p = parentOf.get(pid), i = 0; p !== undefined && p > 1 && i < 64; p = parentOf.get(p), i++) if (p === process.pid) return true;
    return false;
  };
  return [...cmd].filter(([pid, c]) => c.includes(marker) && mine(pid)).map(([pid]) => pid);
}

const settle = () => new Promise((r) => setTimeout(r, 500));

describe('bwrap availability', () => {
  it('is detected by path; a missing binary → PROVIDER_BWRAP_UNAVAILABLE', async () => {
    expect(bwrapAvailable('/nonexistent/bwrap')).toBe(false);
    expect(codeOf(() => createBwrapSandbox({ bwrapPath: '/nonexistent/bwrap' }))).toBe('PROVIDER_BWRAP_UNAVAILABLE');
    expect(await bwrapUsable('/nonexistent/bwrap')).toMatchObject({ ok: false });
  });
});

describe.skipIf(!usable.ok)('bwrap sandbox', () => {
  let fx: Fixture;
  let long: Fixture;
  beforeAll(() => {
    fx = makeFixture(2);
    long = makeFixture(400);
  });

  it('gives the resultHash of a direct runUnit, with progress, and leaves the caller its blobs', async () => {
    const direct = runUnit(new Engine(createRefBackend()), fx.trainSpec(), (h) => fx.blobs.get(h));
    const progress: number[] = [];
    const blobs = fx.copyBlobs();
    const out = await createBwrapSandbox().run(fx.trainSpec(), blobs, { threads: 2, deadlineMs: 60_000, onProgress: (p) => progress.push(p) });
    expect(out.resultHash).toBe(direct.resultHash);
    expect(Buffer.from(out.result).equals(Buffer.from(direct.result))).toBe(true);
    expect(out.metrics).toEqual(direct.metrics);
    expect(progress).toEqual([0.5, 1]);
    expect(blobs.get(fx.trainSpec().params)!.byteLength).toBeGreaterThan(0);
  });

  it("passes the unit's coded errors out of the process (a tampered blob → WORK_BLOB_HASH_MISMATCH)", async () => {
    const blobs = fx.copyBlobs();
    blobs.get(fx.trainSpec().params)![100]! ^= 1;
    expect(await codeOfAsync(createBwrapSandbox().run(fx.trainSpec(), blobs, { threads: 1, deadlineMs: 60_000 }))).toBe('WORK_BLOB_HASH_MISMATCH');
  });

  it('deadline → PROVIDER_DEADLINE, and cancel → PROVIDER_CANCELLED, each killing the sandboxed process', async () => {
    const marker = 'bwrap-entry.mjs';
    const t0 = performance.now();
    expect(await codeOfAsync(createBwrapSandbox().run(long.trainSpec(), long.copyBlobs(), { threads: 1, deadlineMs: 1500 }))).toBe('PROVIDER_DEADLINE');
    expect(performance.now() - t0).toBeLessThan(10_000);
    await settle();
    expect(descendantsWith(marker)).toEqual([]);

    const ac = new AbortController();
    let runningAtFirstProgress: number | undefined; // sandboxed processes seen when the first progress came
    const cancelled = createBwrapSandbox().run(long.trainSpec(), long.copyBlobs(), {
      threads: 1, deadlineMs: 60_000, signal: ac.signal,
      onProgress: () => {
        runningAtFirstProgress ??= descendantsWith(marker).length;
        ac.abort();
      },
    });
    expect(await codeOfAsync(cancelled)).toBe('PROVIDER_CANCELLED');
    expect(runningAtFirstProgress).toBeGreaterThan(0); // it really ran inside the sandbox
    await settle();
    expect(descendantsWith(marker)).toEqual([]);
  });

  describe('isolation (the argv the sandbox runs under)', () => {
    let dir: string;
    beforeAll(() => {
      // a host directory outside /tmp that this test may write to (git ignores node_modules/)
      mkdirSync(join(PROJECT_ROOT, 'node_modules', '.cache'), { recursive: true });
      dir = mkdtempSync(join(PROJECT_ROOT, 'node_modules', '.cache', 'sandbox-test-'));
      mkdirSync(join(dir, 'hidden'));
      writeFileSync(join(dir, 'hidden', 'secret'), 'key material');
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('denies the network: a TCP server reachable outside on loopback is unreachable inside', async () => {
      await withTcpServer(async (connect) => {
        const outside = await run([process.execPath, '-e', connect('127.0.0.1')]);
        expect(outside.stdout.trim()).toBe('connected'); // the probe can succeed
        const inside = await run(sandboxed(connect('127.0.0.1')));
        expect(inside.code).toBe(3);
        expect(inside.stdout.trim()).toBe('ECONNREFUSED'); // its own, empty loopback
      });
    });

    // a host with only a loopback interface (some containers) has no external address to try
    it.skipIf(EXTERNAL_IPV4 === undefined)("denies the network: a TCP server reachable at the host's external address is unreachable inside", async () => {
      await withTcpServer(async (connect) => {
        expect((await run([process.execPath, '-e', connect(EXTERNAL_IPV4!)])).stdout.trim()).toBe('connected');
        const far = await run(sandboxed(connect(EXTERNAL_IPV4!)));
        expect(far.code).toBe(3);
        expect(far.stdout.trim()).toBe('ENETUNREACH'); // no interface but loopback
      });
    });

    it('denies writes outside its private /tmp, hides hidden paths, and shows no host process', async () => {
      const name = `swarm-bwrap-probe-${process.pid}-${Date.now()}`;
      const probe = join(dir, 'probe');
      writeFileSync(probe, 'host');
      rmSync(probe); // the host may write there
      const script = `const fs=require('fs');const w=(p)=>{try{fs.writeFileSync(p,'x');return 'ok'}catch(e){return e.code}};
        const r=(p)=>{try{return fs.readFileSync(p,'utf8')}catch(e){return e.code}};
        console.log(JSON.stringify({project:w(${JSON.stringify(probe)}),hidden:w(${JSON.stringify(join(dir, 'hidden', 'w'))}),
          secret:r(${JSON.stringify(join(dir, 'hidden', 'secret'))}),etc:w('/etc/${name}'),tmp:w('/tmp/${name}'),tmpBack:r('/tmp/${name}'),
          home:w(${JSON.stringify(join(homedir(), name))}),pids:fs.readdirSync('/proc').filter((d)=>/^\\d+$/.test(d)).length}))`;
      const res = await run(sandboxed(script, [homedir(), join(dir, 'hidden')]));
      expect(res.code, res.stderr).toBe(0);
      const r = JSON.parse(res.stdout) as Record<string, string | number>;
      expect(r).toMatchObject({ project: 'EROFS', hidden: 'EROFS', secret: 'ENOENT', etc: 'EROFS', tmp: 'ok', tmpBack: 'x', home: 'EROFS' });
      expect(r.pids).toBeLessThanOrEqual(3); // a pid namespace: bwrap's init and node
      expect(existsSync(probe)).toBe(false);
      expect(existsSync(`/tmp/${name}`)).toBe(false); // the sandbox's /tmp was its own
      expect(existsSync(join(homedir(), name))).toBe(false);
    });
  });
});
