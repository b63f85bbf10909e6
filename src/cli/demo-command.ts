/**
 * `swarm demo`: the determinism demo. The same small training on the ref, the
 * wasm and (when built) the native backends, compared by hash: the property
 * that lets a quorum of volunteers verify each other's results.
 */
import type { Command } from 'commander';
import { SwarmError } from '../core/errors.ts';
import { demoData, trainDemo } from './demo.ts';
import type { DemoRun } from './demo.ts';
import { nativeStatus } from '../tensor/native/backend.ts';
import { createBackend, defaultThreads } from './engine.ts';
import { parsePositiveInt, parsePositiveNumber } from './flags.ts';
import { createProgress } from './progress.ts';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('train a small network on a seeded toy task with the ref, wasm and (when built) native backends, and check that the trained weights are bit-identical')
    .option('--steps <n>', 'training steps', parsePositiveInt('--steps', 100_000), 300)
    .option('--seed <n>', 'seed of every random choice', parsePositiveInt('--seed', 2 ** 32 - 1), 1)
    .option('--hidden <n>', 'hidden units of the network', parsePositiveInt('--hidden', 4096), 32)
    .option('--lr <x>', 'SGD learning rate', parsePositiveNumber('--lr'), 1)
    .option('--threads <n>', 'threads for the wasm and native backends (default: all cores)', parsePositiveInt('--threads', 256))
    .option('--json', 'print one JSON line with the result instead of progress')
    .action(async (o: { steps: number; seed: number; hidden: number; lr: number; threads?: number; json?: boolean }) => {
      const threads = o.threads ?? defaultThreads();
      const data = demoData(o.seed);
      const runs: DemoRun[] = [];
      if (!o.json) {
        process.stderr.write(
          `Sovereign Swarm: determinism demo.\n` +
            `Training a 2-${o.hidden}-3 tanh network on ${data.y.length} seeded spiral points, ${o.steps} steps, seed ${o.seed}.\n`,
        );
      }
      const native = nativeStatus();
      if (!native.available && !o.json) process.stderr.write(`(native skipped: ${native.reason})\n`);
      const names = native.available ? (['ref', 'wasm', 'native'] as const) : (['ref', 'wasm'] as const);
      for (const name of names) {
        const backend = await createBackend(name, threads);
        try {
          const p = createProgress({ total: o.steps, label: `${name.padEnd(6)}`, quiet: o.json === true });
          const run = trainDemo(backend, o, data, (step, loss) => p.update(step + 1, `loss ${loss.toFixed(4)}`));
          p.finish(`loss ${run.losses.at(-1)!.toFixed(4)} accuracy ${(run.accuracy * 100).toFixed(1)}%`);
          runs.push(run);
        } finally {
          backend.close();
        }
      }
      const [ref, wasm, nat] = runs as [DemoRun, DemoRun, DemoRun | undefined];
      const same = runs.every((r) => r.paramsSha256 === ref.paramsSha256);
      const report = {
        steps: o.steps,
        seed: o.seed,
        threads,
        initialLoss: ref.losses[0],
        finalLoss: ref.losses.at(-1),
        accuracy: ref.accuracy,
        refSha256: ref.paramsSha256,
        wasmSha256: wasm.paramsSha256,
        /** null when the native build is unavailable (see nativeReason) */
        nativeSha256: nat?.paramsSha256 ?? null,
        nativeReason: native.available ? null : native.reason,
        bitIdentical: same,
        refSeconds: ref.seconds,
        wasmSeconds: wasm.seconds,
        nativeSeconds: nat?.seconds ?? null,
      };
      if (o.json) process.stdout.write(`${JSON.stringify(report)}\n`);
      else {
        process.stdout.write(
          `ref    weights sha256 ${ref.paramsSha256}\nwasm   weights sha256 ${wasm.paramsSha256}\n` +
            (nat === undefined ? '' : `native weights sha256 ${nat.paramsSha256}\n`) +
            (same ? `bit-identical: yes — ${runs.length === 3 ? 'three' : 'two'} backends, same bits.\n` : 'bit-identical: NO\n'),
        );
      }
      if (!same) throw new SwarmError('DETERMINISM_BROKEN', `the ${names.join(', ')} backends trained different bits`);
    });
}
