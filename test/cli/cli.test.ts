/** The `swarm` binary end to end, as a separate process: help, bad flags, determinism of its outputs. */
import { spawn, spawnSync } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nativeStatus } from '../../src/tensor/native/backend.ts';

const BIN = join(import.meta.dirname, '../../bin/swarm.mjs');
const tmp = mkdtempSync(join(tmpdir(), 'swarm-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function swarm(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 240_000, env: { ...process.env, CI: 'true' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/**
 * One HTTP exchange on a fresh connection (no keep-alive: the server closes
 * idle sockets after 5 s, and a pooled one reused at that moment fails).
 */
function request(url: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = httpRequest(url, { method: data === undefined ? 'GET' : 'POST', agent: false, headers: data === undefined ? {} : { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (b: Buffer) => (text += b.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as unknown }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

function lastJson(out: string): Record<string, unknown> {
  const lines = out.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
}

describe('swarm CLI', () => {
  it('--help explains every command', () => {
    const r = swarm('--help');
    expect(r.code).toBe(0);
    for (const c of ['up', 'demo', 'bench', 'train', 'generate', 'serve', 'chat']) expect(r.out).toContain(c);
    const t = swarm('train', '--help');
    expect(t.code).toBe(0);
    expect(t.out).toContain('--preset');
    expect(t.out).toContain('--resume');
  });

  it('rejects bad flags and unknown commands with a message and a non-zero exit', () => {
    const r = swarm('train', '--local', '--steps', 'many');
    expect(r.code).not.toBe(0);
    expect(r.err).toContain('--steps must be a positive integer');
    const u = swarm('frobnicate');
    expect(u.code).not.toBe(0);
    expect(u.err).toContain('unknown command');
    const p = swarm('train', '--local', '--preset', 'huge', '--steps', '1');
    expect(p.code).toBe(1);
    expect(p.err).toContain('MODEL_UNKNOWN_PRESET');
    const g = swarm('generate', '--model', join(tmp, 'missing'), '--prompt', 'x');
    expect(g.code).toBe(1);
    expect(g.err).toContain('CHECKPOINT_NOT_FOUND');
    const one = swarm('up', '--providers', '1', '--exit-after-training');
    expect(one.code).toBe(1);
    expect(one.err).toContain('cannot form a quorum of 2');
    const tr = swarm('tracker', '--port', '70000');
    expect(tr.code).not.toBe(0);
    expect(tr.err).toContain('--port must be an integer from 0 to 65535');
    const pv = swarm('provide', '--tracker', 'ftp://x', '--units', '1');
    expect(pv.code).toBe(1);
    expect(pv.err).toContain('TRACKER_BAD_URL');
  });

  it('demo --json: the ref, wasm and (where built) native backends train the same bits', () => {
    const r = swarm('demo', '--json', '--steps', '15');
    expect(r.code).toBe(0);
    const j = lastJson(r.out);
    expect(j.bitIdentical).toBe(true);
    expect(j.refSha256).toBe(j.wasmSha256);
    expect(j.nativeSha256).toBe(nativeStatus().available ? j.refSha256 : null);
    expect(j.finalLoss as number).toBeLessThan(j.initialLoss as number);
  });

  it('train --local twice gives the same checkpoint hash; resume continues; generate reads it', () => {
    const a = swarm('train', '--local', '--preset', 'nano', '--steps', '4', '--eval-windows', '8', '--out', join(tmp, 'a'), '--json');
    const b = swarm('train', '--local', '--preset', 'nano', '--steps', '4', '--eval-windows', '8', '--out', join(tmp, 'b'), '--json', '--threads', '1');
    expect(a.code).toBe(0);
    const ja = lastJson(a.out), jb = lastJson(b.out);
    for (const k of ['steps', 'tokens', 'trainLoss', 'evalLoss', 'entropyFloor', 'tokensPerSecond', 'checkpoint', 'checkpointSha256']) expect(ja).toHaveProperty(k);
    expect(ja.checkpointSha256).toBe(jb.checkpointSha256);
    expect(ja.steps).toBe(4);
    // stopping after 2 of 4 steps and resuming gives the bits of 4 straight steps
    const c1 = swarm('train', '--local', '--preset', 'nano', '--steps', '4', '--stop-after', '2', '--eval-windows', '8', '--out', join(tmp, 'c'), '--json');
    expect(c1.code).toBe(0);
    expect(lastJson(c1.out).steps).toBe(2);
    const c2 = swarm('train', '--local', '--resume', join(tmp, 'c'), '--eval-windows', '8', '--out', join(tmp, 'c2'), '--json');
    expect(c2.code).toBe(0);
    expect(lastJson(c2.out).steps).toBe(4);
    expect(lastJson(c2.out).checkpointSha256).toBe(ja.checkpointSha256);
    const g = swarm('generate', '--model', join(tmp, 'a'), '--prompt', 'The', '--max-tokens', '5', '--json');
    expect(g.code).toBe(0);
    const jg = lastJson(g.out);
    expect((jg.tokens as number[]).length).toBeLessThanOrEqual(5);
    const g2 = swarm('generate', '--model', join(tmp, 'a'), '--prompt', 'The', '--max-tokens', '5', '--json');
    expect(lastJson(g2.out).tokens).toEqual(jg.tokens);
    // a truncated checkpoint is refused with a coded error, for generate and for --resume, and nothing is written
    const bad = join(tmp, 'bad');
    cpSync(join(tmp, 'a'), bad, { recursive: true });
    const st = join(bad, 'model.safetensors');
    writeFileSync(st, readFileSync(st).subarray(0, 1000));
    const gb = swarm('generate', '--model', bad, '--prompt', 'x');
    expect(gb.code).toBe(1);
    expect(gb.err).toContain('SAFETENSORS_TRUNCATED');
    const rb = swarm('train', '--local', '--resume', bad, '--steps', '6', '--out', join(tmp, 'never'));
    expect(rb.code).toBe(1);
    expect(rb.err).toContain('SAFETENSORS_TRUNCATED');
    expect(existsSync(join(tmp, 'never'))).toBe(false);
    const nd = swarm('train', '--local', '--preset', 'nano', '--data', join(tmp, 'no-such-file.txt'), '--steps', '1');
    expect(nd.code).toBe(1);
    expect(nd.err).toContain('DATA_NOT_FOUND');
  });

  it('up: tracker, provider processes, a verified DiLoCo run, the report and checkpoint; then the council (this identity) releases it and the gateway serves it by name', async () => {
    const out = join(tmp, 'up');
    const home = join(tmp, 'up-home');
    const env = { ...process.env, CI: 'true', SWARM_HOME: home };
    const child = spawn(process.execPath, [BIN, 'up', '--preset', 'nano', '--rounds', '2', '--inner-steps', '3', '--port', '0', '--json', '--out', out], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    try {
      // the report is printed when training ends; the gateway serves right after
      const models = async (url: string): Promise<{ status: number; data: Array<{ id: string; preview?: boolean; release?: { checkpoint: string; decision: string } }> }> => {
        const r = await request(`${url}/v1/models`);
        return { status: r.status, data: r.status === 200 ? (r.json as { data: [] }).data : [] };
      };
      for (let t = Date.now(); !stdout.includes('\n'); ) {
        if (Date.now() - t > 230_000 || child.exitCode !== null) throw new Error(`up printed no report:\n${stderr}`);
        await new Promise((r) => setTimeout(r, 250));
      }
      const j = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
      for (let t = Date.now(); (await models(String(j.url))).status !== 200; ) {
        if (Date.now() - t > 30_000) throw new Error(`up does not serve:\n${stderr}`);
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(j).toMatchObject({ rounds: 2, unitsRejected: 0 });
      expect(j.unitsVerified as number).toBeGreaterThanOrEqual(2 * 2 * 2); // 2 rounds × 2 slots, each by 2 new identities
      expect(j.evalLoss as number).toBeLessThan(5.5); // from ln(256) ≈ 5.55 at initialisation
      expect(j.checkpointSha256).toMatch(/^[0-9a-f]{64}$/);
      expect(j.ddpBytesEquivalent as number).toBeGreaterThan(j.bytesMoved as number);
      expect(existsSync(join(out, 'model.safetensors'))).toBe(true);
      // the council is this machine's identity (`swarm council members` below)
      const me = JSON.parse(spawnSync(process.execPath, [BIN, 'whoami', '--json'], { encoding: 'utf8', env }).stdout) as { keyId: string };
      const url = String(j.url);
      const council = (...args: string[]) => spawnSync(process.execPath, [BIN, 'council', ...args, '--tracker', url, '--json'], { encoding: 'utf8', env });
      expect((await models(url)).data).toEqual([expect.objectContaining({ id: 'swarm-nano', preview: true })]);
      const p = council('propose', 'release', '--checkpoint', String(j.checkpointSha256), '--name', 'sovereign-nano-v1');
      expect(p.status, p.stderr).toBe(0);
      const proposal = JSON.parse(p.stdout) as { id: string; status: string };
      expect(proposal.status).toBe('open');
      const v = council('vote', proposal.id, '--approve');
      expect(v.status, v.stderr).toBe(0);
      expect(JSON.parse(v.stdout)).toMatchObject({ status: 'enacted', approvals: 1 });
      // a bad flag is a coded error, not a stack
      const bad = council('propose', 'ban');
      expect(bad.status).toBe(1);
      expect(bad.stderr).toContain('CLI_BAD_FLAG');
      // served as soon as the release's θ is loaded
      let after = await models(url);
      for (let t = Date.now(); after.data.length < 2 && Date.now() - t < 20_000; after = await models(url)) await new Promise((r) => setTimeout(r, 100));
      expect(after.data.map((m) => m.id)).toEqual(['swarm-nano', 'sovereign-nano-v1']);
      expect(after.data[1]!.release).toMatchObject({ checkpoint: j.checkpointSha256, decision: proposal.id });
      const done = await request(`${url}/v1/completions`, { model: 'sovereign-nano-v1', prompt: 'The', max_tokens: 4, seed: 1 });
      expect(done.status).toBe(200);
      expect((done.json as { model: string }).model).toBe('sovereign-nano-v1');
      const members = JSON.parse(council('members').stdout) as { members: string[]; threshold: number; releases: Array<{ name: string }> };
      expect(members).toMatchObject({ members: [me.keyId], threshold: 1, releases: [{ name: 'sovereign-nano-v1' }] });
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  }, 300_000); // the spawned run: a loaded machine takes over a minute to train

  it('bench matmul --json prints one object per line with the documented fields', () => {
    const r = swarm('bench', 'matmul', '--json', '--sizes', '64', '--threads', '1', '--min-seconds', '0.05', '--no-numpy');
    expect(r.code).toBe(0);
    const rows = r.out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const native = nativeStatus();
    const matmuls = rows.filter((x) => x.op === 'matmul');
    // one native row per ISA path this CPU has (none, with a line on stderr, without a native build)
    expect(matmuls.map((x) => `${String(x.backend)}${x.isa === undefined ? '' : ` ${String(x.isa)}`}`).sort())
      .toEqual(['ref', 'wasm', ...native.isas.map((i) => `native ${i}`)].sort());
    for (const row of matmuls) {
      expect(row).toMatchObject({ op: 'matmul', threads: 1, m: 64, k: 64, n: 64 });
      expect(row.gflops as number).toBeGreaterThan(0);
    }
    expect(rows.filter((x) => x.op === 'matmul-ratio').map((x) => x.isa).sort()).toEqual([...native.isas].sort());
  });
});
