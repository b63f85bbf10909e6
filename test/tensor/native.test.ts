/**
 * The native backend beyond the bit-for-bit property tests of
 * backends-vs-ref.test.ts: thread counts, forced ISA paths, limits, and what
 * happens with a build that must not be trusted (missing, truncated, wrong
 * ABI, fused multiply-add) — refused with a reason, never loaded with wrong bits.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/tensor/backend/backend.ts';
import { createRefBackend } from '../../src/tensor/backend/ref.ts';
import { chooseIsa, createNativeBackend, NATIVE_ABI_VERSION, NATIVE_ISAS, nativeAddonPath, nativeStatus } from '../../src/tensor/native/backend.ts';
import { codeOf } from '../helpers/errors.ts';
import { lcg, randArray } from './helpers.ts';

const ref = createRefBackend();
const status = nativeStatus();
const hasCc = spawnSync('cc', ['--version']).status === 0;

function bitsEqual(x: Float32Array, y: Float32Array): boolean {
  return x.length === y.length && Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(y.buffer, y.byteOffset, y.byteLength));
}

describe('native build on this machine', () => {
  // Wherever a C compiler exists (CI installs one) the build must exist and
  // pass; only a machine without one falls back to wasm and skips this.
  it.skipIf(!hasCc && process.env.CI === undefined)(`loads and passes its self-test (${status.available ? status.isas.join(', ') : status.reason})`, () => {
    expect(status.reason).toBeUndefined();
    expect(status.available).toBe(true);
    expect(status.isas).toContain('portable');
  });
});

describe.skipIf(!status.available)('native backend', () => {
  const made: Backend[] = [];
  const make = (...args: Parameters<typeof createNativeBackend>) => {
    const b = createNativeBackend(...args);
    made.push(b);
    return b;
  };
  afterAll(() => {
    for (const b of made) b.close();
  });

  // Above the parallel threshold, ragged on both edges of every tile size,
  // batched and shared B.
  const shapes: Array<[number, number, number, number, boolean]> = [
    [1, 131, 197, 173, false],
    [3, 45, 128, 250, true],
    [4, 33, 130, 250, false],
    [2, 6, 1400, 301, true],
    [1, 300, 700, 600, false],
  ];

  for (const isa of NATIVE_ISAS) {
    it.skipIf(!status.isas.includes(isa))(`${isa}: 1, 2 and 3 threads give the bits of ref on large matmuls`, () => {
      const one = make({ isa, threads: 1 });
      const two = make({ isa, threads: 2 });
      const three = make({ isa, threads: 3 });
      expect([one.isa, two.threads, three.threads]).toEqual([isa, 2, 3]);
      const rnd = lcg(7);
      for (const [batch, m, k, n, bBatched] of shapes) {
        const a = randArray(batch * m * k, rnd);
        const b = randArray((bBatched ? batch : 1) * k * n, rnd);
        const want = ref.matmul(a, b, batch, m, k, n, bBatched);
        const what = `${isa} b${batch} ${m}x${k}x${n}`;
        expect(bitsEqual(one.matmul(a, b, batch, m, k, n, bBatched), want), `1 thread ${what}`).toBe(true);
        expect(bitsEqual(two.matmul(a, b, batch, m, k, n, bBatched), want), `2 threads ${what}`).toBe(true);
        expect(bitsEqual(three.matmul(a, b, batch, m, k, n, bBatched), want), `3 threads ${what}`).toBe(true);
      }
    });
  }

  it('the addon itself refuses sizes whose product overflows, and arguments of the wrong type, without running a kernel', () => {
    // Called directly (the backend checks first); a wrapped product could otherwise match a short array.
    const addon = createRequire(import.meta.url)(nativeAddonPath()) as Record<string, (...a: unknown[]) => unknown>;
    const x = new Float32Array(4);
    expect(() => addon.matmul!(2, x, x, 2 ** 33, 2 ** 31, 2, 1, 0, 1)).toThrow(RangeError);
    expect(() => addon.reduce!(2, 0, x, 2 ** 62, 2 ** 2, 1)).toThrow(RangeError);
    expect(() => addon.scatterAdd!(x, Int32Array.of(0, 1), 2 ** 62, 2 ** 3)).toThrow(RangeError);
    expect(() => addon.unary!(0, 0, [1, 2])).toThrow(TypeError);
    expect(() => addon.unary!(7, 0, x)).toThrow(RangeError); // no such ISA
    expect(() => addon.binary!(0, x, x, Int32Array.of(1, 4, 2, 1))).toThrow(RangeError); // strides reach past a
  });

  it('worker threads that load it, use its pool and exit neither crash the process nor leak its scratch (a provider runs each unit in a new worker)', () => {
    // In a child process, so that a crash fails this test instead of the run.
    const script = `
      import { Worker } from 'node:worker_threads';
      const code = "const n = require(" + JSON.stringify(process.argv[1]) + "); const N = 1024;" +
        "const isa = n.isaMask() & 4 ? 2 : n.isaMask() & 2 ? 1 : 0;" +
        "n.matmul(isa, new Float32Array(64 * N), new Float32Array(N * N), 1, 64, N, N, 0, 2);";
      const rss = () => process.memoryUsage().rss;
      const run = () => new Promise((res, rej) => { const w = new Worker(code, { eval: true, execArgv: [] }); w.on('exit', res); w.on('error', rej); });
      for (let i = 0; i < 5; i++) await run();
      const before = rss();
      for (let i = 0; i < 30; i++) await run();
      console.log(JSON.stringify({ grownMiB: (rss() - before) / 2 ** 20 }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, nativeAddonPath()], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, `${r.stderr} (signal ${String(r.signal)})`).toBe(0);
    // each worker's packed B is 4 MiB: 30 leaked would be 120 MiB
    expect((JSON.parse(r.stdout) as { grownMiB: number }).grownMiB).toBeLessThan(48);
  }, 150_000);

  it('SWARM_ISA forces a path; unknown or missing paths are coded errors', () => {
    const saved = process.env.SWARM_ISA;
    try {
      process.env.SWARM_ISA = 'portable';
      expect(make().isa).toBe('portable');
      process.env.SWARM_ISA = 'sse9';
      expect(codeOf(() => make())).toBe('NATIVE_BAD_ISA');
    } finally {
      if (saved === undefined) delete process.env.SWARM_ISA;
      else process.env.SWARM_ISA = saved;
    }
    expect(chooseIsa({ available: true, isas: ['avx2', 'portable'], path: '' })).toBe(process.env.SWARM_ISA ?? 'avx2');
    expect(codeOf(() => chooseIsa({ available: true, isas: ['avx2', 'portable'], path: '' }, 'avx512'))).toBe('NATIVE_ISA_UNAVAILABLE');
  });

  it('bad arguments, limits and close() give coded errors, and the backend keeps working after a refusal', () => {
    expect(codeOf(() => make({ threads: 0 }))).toBe('TENSOR_BAD_ARGUMENT');
    expect(codeOf(() => make({ maxElements: 0 }))).toBe('TENSOR_BAD_ARGUMENT');
    const small = make({ maxElements: 1 << 16 });
    const big = new Float32Array(1 << 17);
    expect(codeOf(() => small.unary('exp', big))).toBe('TENSOR_TOO_LARGE');
    expect(codeOf(() => small.binary('add', big, [1], big, [1], [1 << 17]))).toBe('TENSOR_TOO_LARGE');
    expect(codeOf(() => small.reduce('sum', big, 1, 1 << 17, 1))).toBe('TENSOR_TOO_LARGE');
    expect(codeOf(() => small.matmul(big, big, 1, 256, 256, 256, false))).toBe('TENSOR_TOO_LARGE');
    expect(codeOf(() => small.scatterAdd(big, new Int32Array(1 << 10), 1 << 10, 128))).toBe('TENSOR_TOO_LARGE');
    expect(codeOf(() => small.matmul(big, big, 1, 2, 3, 4.5, false))).toBe('TENSOR_BAD_ARGUMENT');
    expect(codeOf(() => small.matmul(new Float32Array(5), big, 1, 2, 3, 4, false))).toBe('TENSOR_SHAPE_MISMATCH');
    expect(codeOf(() => small.binary('add', big, [3], big, [1], [1 << 16]))).toBe('TENSOR_SHAPE_MISMATCH');
    expect(codeOf(() => small.scatterAdd(new Float32Array(2), Int32Array.of(0, 9), 4, 1))).toBe('TENSOR_INDEX_OUT_OF_RANGE');
    const x = Float32Array.from([0.5, -2, 3]);
    expect(bitsEqual(small.unary('exp', x), ref.unary('exp', x))).toBe(true);
    small.close();
    expect(codeOf(() => small.unary('neg', x))).toBe('TENSOR_BACKEND_CLOSED');
  });
});

describe.skipIf(!hasCc)('builds that must not be trusted (needs cc)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'swarm-native-'));
  const saved = process.env.SWARM_NATIVE_PATH;
  afterEach(() => {
    if (saved === undefined) delete process.env.SWARM_NATIVE_PATH;
    else process.env.SWARM_NATIVE_PATH = saved;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function build(name: string, cflags: string, ...args: string[]): { rc: number | null; output: string } {
    const r = spawnSync(process.execPath, ['scripts/build-native.mjs', '--force', ...args], {
      env: { ...process.env, SWARM_NATIVE_OUT: join(dir, name), SWARM_NATIVE_CFLAGS: cflags },
      encoding: 'utf8',
    });
    return { rc: r.status, output: `${r.stdout}${r.stderr}` };
  }

  function statusOf(path: string) {
    process.env.SWARM_NATIVE_PATH = path;
    expect(nativeAddonPath()).toBe(path);
    return nativeStatus();
  }

  it('a missing build is reported with how to build it', () => {
    const s = statusOf(join(dir, 'nothing-here.node'));
    expect(s.available).toBe(false);
    expect(s.reason).toMatch(/no native build at .*npm run build:native/);
  });

  it('a truncated file, or one without a build record, is refused before it is loaded (loading it would crash)', () => {
    const built = nativeAddonPath();
    mkdirSync(join(dir, 'truncated'));
    const truncated = join(dir, 'truncated', 'swarm_native.node');
    writeFileSync(truncated, readFileSync(built).subarray(0, 4096));
    copyFileSync(join(dirname(built), 'build-info.json'), join(dir, 'truncated', 'build-info.json'));
    expect(statusOf(truncated)).toMatchObject({ available: false, reason: expect.stringMatching(/do not match the build record/) });
    const text = join(dir, 'text.node');
    writeFileSync(text, 'not an ELF file\n');
    expect(statusOf(text)).toMatchObject({ available: false, reason: expect.stringMatching(/no readable build record/) });
  });

  it('a file that matches its record but is not a loadable addon gets the loader error', () => {
    mkdirSync(join(dir, 'foreign'));
    const foreign = join(dir, 'foreign', 'swarm_native.node');
    writeFileSync(foreign, 'not an ELF file\n');
    writeFileSync(join(dir, 'foreign', 'build-info.json'), JSON.stringify({ sha256: createHash('sha256').update('not an ELF file\n').digest('hex') }));
    expect(statusOf(foreign)).toMatchObject({ available: false, reason: expect.stringMatching(/not usable: .*(ELF|header|too short)/i) });
  });

  it('a build with another ABI number is refused', () => {
    const r = build('abi', '-DSW_ABI_VERSION=99');
    expect(r.rc, r.output).toBe(0);
    const s = statusOf(join(dir, 'abi', 'swarm_native.node'));
    expect(s.available).toBe(false);
    expect(s.reason).toMatch(new RegExp(`ABI is 99, this code expects ${NATIVE_ABI_VERSION}\\b`));
  });

  it('the build refuses fused multiply-add, and a fused build forced through fails the self-test', () => {
    const refused = build('fma', '-mfma -ffp-contract=fast');
    expect(refused.rc).toBe(1);
    expect(refused.output).toMatch(/contains a fused multiply-add \(.*vfmadd/);
    const forced = build('fma', '-mfma -ffp-contract=fast', '--no-fma-check');
    expect(forced.rc, forced.output).toBe(0);
    const s = statusOf(join(dir, 'fma', 'swarm_native.node'));
    expect(s.available).toBe(false);
    expect(s.reason).toMatch(/self-test against ref failed: /);
  });

  it('the project build has no fused multiply-add instruction (objdump)', () => {
    const built = nativeAddonPath();
    copyFileSync(built, join(dir, 'copy.node'));
    const asm = execFileSync('objdump', ['-d', '--no-show-raw-insn', join(dir, 'copy.node')], { encoding: 'utf8', maxBuffer: 1 << 28 });
    expect(asm).toMatch(/vmulps/); // the check reads real vector code
    expect(asm).not.toMatch(/\bv?f(n?m(add|sub)|madd|msub)[0-9a-z]*\b/i);
  });
});

describe('without a usable native build', () => {
  const dir = mkdtempSync(join(tmpdir(), 'swarm-nonative-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('npm install\'s build step succeeds without a compiler and says in one line what that means', () => {
    const r = spawnSync(process.execPath, ['scripts/build-native.mjs', '--force', '--optional'], {
      env: { ...process.env, CC: join(dir, 'no-such-cc'), SWARM_NATIVE_OUT: join(dir, 'out') },
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^native engine: not built, so swarm will use the wasm engine \(same bits, slower\)\. To enable it, install a C compiler .* npm run build:native\./);
    // without --optional the same failure is an error
    const strict = spawnSync(process.execPath, ['scripts/build-native.mjs', '--force'], {
      env: { ...process.env, CC: join(dir, 'no-such-cc'), SWARM_NATIVE_OUT: join(dir, 'out') },
      encoding: 'utf8',
    });
    expect(strict.status).toBe(1);
    expect(strict.stderr).toMatch(/native engine: build failed/);
  });

  it('swarm falls back to wasm with one line saying why, and computes the same bits', () => {
    const run = (env: Record<string, string>) => spawnSync(process.execPath, ['bin/swarm.mjs', 'demo', '--json', '--steps', '5'], { env: { ...process.env, ...env }, encoding: 'utf8' });
    const r = run({ SWARM_NATIVE_PATH: join(dir, 'missing.node') });
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { bitIdentical: boolean; nativeSha256: string | null; nativeReason: string; wasmSha256: string };
    expect(j).toMatchObject({ bitIdentical: true, nativeSha256: null });
    expect(j.nativeReason).toMatch(/no native build at/);
    const t = spawnSync(process.execPath, ['bin/swarm.mjs', 'train', '--local', '--preset', 'nano', '--steps', '1', '--eval-windows', '2', '--out', join(dir, 'ck'), '--json'], {
      env: { ...process.env, SWARM_NATIVE_PATH: join(dir, 'missing.node') },
      encoding: 'utf8',
    });
    expect(t.status, t.stderr).toBe(0);
    expect(t.stderr.split('\n').filter((l) => l.includes('using the wasm engine'))).toEqual([
      expect.stringMatching(/^swarm: using the wasm engine \(same bits, slower\): no native build at .*npm run build:native\.$/),
    ]);
    expect(JSON.parse(t.stdout.trim().split('\n').at(-1)!)).toMatchObject({ backend: 'wasm', isa: null });
  });
});
