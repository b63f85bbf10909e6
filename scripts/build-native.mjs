#!/usr/bin/env node
/**
 * Builds the native canonical engine (src/tensor/native/c/*.c) into
 * build/native/swarm_native.node, a Node-API addon, with the system C
 * compiler ($CC, else cc). Node-API's headers come from the node-api-headers
 * npm package, so nothing is downloaded (node-gyp's header download cannot
 * work offline), and Node-API is ABI-stable, so one build serves every Node
 * version >= 20.
 *
 * Flags that keep the canonical arithmetic (src/tensor/backend/backend.ts):
 *  -O3 -ffp-contract=off   optimise, but never fuse a multiply and an add;
 *  no -ffast-math family   no reassociation, no reciprocal estimates, IEEE
 *                          subnormals and NaN/Inf semantics kept;
 *  -fno-math-errno         lets sqrtf be the correctly rounded sqrtss
 *                          instruction (errno is not a result bit).
 * The AVX2 tile is compiled with -mavx2 (FMA not enabled), the AVX-512 tile
 * with -mavx512f (which enables FMA in GCC, so only -ffp-contract=off stands
 * between it and vfmadd). After linking, the script disassembles the addon
 * and refuses it if any fused multiply-add instruction appears.
 *
 *   node scripts/build-native.mjs            build if sources are newer; exit 1 on failure
 *   node scripts/build-native.mjs --force    rebuild
 *   node scripts/build-native.mjs --optional (npm install) never fail: print
 *       one line saying the wasm engine (same bits, slower) will be used
 *
 * Writes build/native/build-info.json beside the addon: its SHA-256 (the
 * loader checks it before loading), compiler, flags and the FMA check.
 *
 * For tests and experiments: SWARM_NATIVE_OUT (another output folder),
 * SWARM_NATIVE_CFLAGS (extra compiler flags, space-separated) and
 * --no-fma-check (keep an addon even if it fuses; the loader's self-test
 * must then refuse it). `npm install` never sets them.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { arch } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = join(root, 'src/tensor/native/c');
const outDir = process.env.SWARM_NATIVE_OUT ?? join(root, 'build/native');
const extraFlags = (process.env.SWARM_NATIVE_CFLAGS ?? '').split(' ').filter((f) => f !== '');
const fmaCheckOn = !process.argv.includes('--no-fma-check');
const out = join(outDir, 'swarm_native.node');
const self = fileURLToPath(import.meta.url);
const force = process.argv.includes('--force');
const optional = process.argv.includes('--optional');
const quiet = process.argv.includes('--quiet');

const COMMON = ['-std=c11', '-O3', '-ffp-contract=off', '-fno-math-errno', '-fPIC', '-fvisibility=hidden', '-pthread', '-Wall', '-Wextra'];
const x86 = arch() === 'x64' || arch() === 'ia32';
/** Extra flags per source file (only on x86; elsewhere those files compile to nothing). */
// The lane-wise kernels (simd_*.c) are written as selects over values always
// computed; -fno-trapping-math lets the compiler turn those into vector
// blends (it may then compute a discarded branch that would raise an IEEE
// exception flag; no value changes, and flags are not part of any result).
const SIMD = ['-fno-trapping-math'];
const PER_FILE = x86
  ? { 'matmul_avx2.c': ['-mavx2'], 'matmul_avx512.c': ['-mavx512f'], 'simd_portable.c': SIMD, 'simd_avx2.c': ['-mavx2', ...SIMD], 'simd_avx512.c': ['-mavx512f', ...SIMD] }
  : { 'simd_portable.c': SIMD };
/** Mnemonics of every x86 fused multiply-add family (FMA3, FMA4, AVX-512). */
const FUSED = /\bv?f(n?m(add|sub)|madd|msub)[0-9a-z]*\b/i;

function sources() {
  return readdirSync(srcDir).filter((f) => f.endsWith('.c')).sort();
}

function upToDate() {
  if (!existsSync(out)) return false;
  const built = statSync(out).mtimeMs;
  let newest = statSync(self).mtimeMs;
  for (const f of readdirSync(srcDir)) newest = Math.max(newest, statSync(join(srcDir, f)).mtimeMs);
  return built > newest;
}

function run(cmd, args) {
  // maxBuffer: the addon's disassembly (the FMA check) is several MiB, over Node's 1 MiB default.
  return execFileSync(cmd, args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 << 20 });
}

/** Throws with the compiler's own message when something fails. */
function build() {
  const cc = process.env.CC || 'cc';
  const require = createRequire(import.meta.url);
  const headers = join(dirname(require.resolve('node-api-headers/package.json')), 'include');
  mkdirSync(outDir, { recursive: true });
  const objects = [];
  for (const f of sources()) {
    const obj = join(outDir, f.replace(/\.c$/, '.o'));
    run(cc, [...COMMON, ...(PER_FILE[f] ?? []), ...extraFlags, '-I', headers, '-c', join(srcDir, f), '-o', obj]);
    objects.push(obj);
  }
  const tmp = `${out}.tmp`;
  run(cc, ['-shared', '-pthread', '-o', tmp, ...objects, '-lm', '-ldl']);
  let fmaCheck = 'skipped: objdump not found';
  try {
    const asm = run('objdump', ['-d', '--no-show-raw-insn', tmp]);
    const line = asm.split('\n').find((l) => FUSED.test(l.split('\t').slice(1).join(' ')));
    if (line !== undefined && fmaCheckOn) {
      rmSync(tmp, { force: true });
      throw new Error(`the compiled addon contains a fused multiply-add (${line.trim()}); the canonical arithmetic forbids it`);
    }
    fmaCheck = line === undefined ? 'passed: no fused multiply-add instruction' : `SKIPPED (--no-fma-check) and failed: ${line.trim()}`;
  } catch (e) {
    if (!(e instanceof Error) || !('code' in e) || e.code !== 'ENOENT') throw e;
  }
  renameSync(tmp, out);
  for (const o of objects) rmSync(o, { force: true });
  let compiler = cc;
  try { compiler = run(cc, ['--version']).split('\n')[0] ?? cc; } catch { /* the name is enough */ }
  // The loader refuses an addon whose bytes do not hash to this record: a
  // truncated or half-copied shared object can crash the process inside
  // dlopen, before any JavaScript check could run.
  const sha256 = createHash('sha256').update(readFileSync(out)).digest('hex');
  writeFileSync(join(outDir, 'build-info.json'), `${JSON.stringify({ sha256, compiler, flags: [...COMMON, ...extraFlags], perFile: PER_FILE, fmaCheck }, null, 2)}\n`);
  return fmaCheck;
}

if (!force && upToDate()) {
  if (!quiet) console.log('native engine: up to date (build/native/swarm_native.node)');
} else {
  try {
    const fma = build();
    console.log(`native engine: built ${out} (FMA check ${fma})`);
  } catch (e) {
    const why = (e instanceof Error ? (e.stderr?.toString().trim() || e.message) : String(e)).split('\n').slice(0, 6).join('\n  ');
    if (!optional) {
      console.error(`native engine: build failed:\n  ${why}`);
      process.exit(1);
    }
    console.log(`native engine: not built, so swarm will use the wasm engine (same bits, slower). To enable it, install a C compiler (e.g. apt-get install gcc) and run npm run build:native. Reason: ${why.split('\n')[0]}`);
  }
}
