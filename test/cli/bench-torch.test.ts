/**
 * scripts/bench-torch.py, the PyTorch yardstick of `swarm bench train --torch`
 * (issue 15): it must train a model of exactly our parameter count, print the
 * row the bench parses, and refuse bad arguments loudly.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { preset } from '../../src/model/config.ts';
import { paramCount } from '../../src/model/llama.ts';
import { TORCH_SCRIPT, torchPython } from '../../src/cli/torch-reference.ts';

const withTorch = torchPython();
// Bad arguments are rejected before torch is imported, so any python3 will do for those.
const anyPython = withTorch ?? (spawnSync('python3', ['-c', ''], { stdio: 'ignore' }).status === 0 ? 'python3' : null);

const run = (py: string, args: string[]) => spawnSync(py, [TORCH_SCRIPT, ...args], { encoding: 'utf8', timeout: 60_000 });

describe('scripts/bench-torch.py', () => {
  it.skipIf(withTorch === null)('trains nano with our parameter count and prints one JSON row [needs python3 with torch: apt-get install python3-torch]', () => {
    const r = run(withTorch!, ['--preset', 'nano', '--batch', '2', '--seq-len', '16', '--steps', '1', '--warmup', '0', '--threads', '1', '--json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const row = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(row).toMatchObject({ op: 'train', backend: 'torch', preset: 'nano', batch: 2, seqLen: 16, threads: 1, steps: 1 });
    expect(row.params).toBe(paramCount(preset('nano')));
    expect(typeof row.torchVersion).toBe('string');
    expect(row.tokensPerSecond).toBeGreaterThan(0);
    expect(['openblas', 'mkl', 'blis', 'netlib', 'unknown']).toContain(row.blas);
    expect(row.ompWaitPolicy).toBe(process.env.OMP_WAIT_POLICY?.toLowerCase() ?? 'default');
  }, 20_000);

  it.skipIf(withTorch === null)('counts the untied LM head of small like our model does [needs python3 with torch]', () => {
    // small is the one preset with untied embeddings; one step at 1×1 keeps it quick
    const r = run(withTorch!, ['--preset', 'small', '--batch', '1', '--seq-len', '1', '--steps', '1', '--warmup', '0', '--json']);
    expect(r.status).toBe(0);
    expect((JSON.parse(r.stdout) as { params: number }).params).toBe(paramCount(preset('small')));
  }, 20_000);

  it.skipIf(anyPython === null)('exits non-zero with a message on bad arguments [needs python3]', () => {
    for (const [args, why] of [
      [['--preset', 'huge'], /invalid choice: 'huge'/],
      [['--steps', '0'], /--steps must be between 1 and 10000, got 0/],
      [['--threads', 'two'], /--threads must be an integer, got 'two'/],
      [['--warmup', '-1'], /--warmup must be between 0 and 10000, got -1/],
      [['--batch', '-3'], /--batch must be between 1 and 4096, got -3/],
      [['--bogus'], /unrecognized arguments: --bogus/],
    ] as Array<[string[], RegExp]>) {
      const r = run(anyPython!, args);
      expect(r.status, args.join(' ')).not.toBe(0);
      expect(r.stderr, args.join(' ')).toMatch(why);
      expect(r.stdout).toBe('');
    }
  }, 20_000);
});
