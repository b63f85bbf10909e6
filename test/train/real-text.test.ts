/**
 * Learning on real text: a file the test makes from the project's own prose
 * (README and source comments: real English, not generated), loaded through
 * loadTextCorpus. After a short run the validation loss of a nano model must
 * fall well below the unigram entropy of the training bytes.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Prng } from '../../src/core/prng.ts';
import { initParams, paramList } from '../../src/model/llama.ts';
import { Engine } from '../../src/tensor/tensor.ts';
import { createNativeBackend, nativeStatus } from '../../src/tensor/native/backend.ts';
import { createWasmBackend } from '../../src/tensor/wasm/backend.ts';
import { DILOCO_INNER } from '../../src/train/adamw.ts';
import { trainLocal } from '../../src/train/local-trainer.ts';
import { setupRun } from '../../src/train/run-setup.ts';
import { concatFlat, initFlatAdam } from '../../src/train/unit.ts';

const dir = mkdtempSync(join(tmpdir(), 'swarm-text-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Paragraphs of English from the README and the block comments of src/. */
function projectProse(): string {
  const root = join(import.meta.dirname, '../..');
  const parts = [readFileSync(join(root, 'README.md'), 'utf8')];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) {
        for (const m of readFileSync(p, 'utf8').matchAll(/\/\*\*([\s\S]*?)\*\//g)) {
          const text = m[1]!.split('\n').map((l) => l.replace(/^\s*\* ?/, '')).join(' ').replace(/\s+/g, ' ').trim();
          if (text.length > 80) parts.push(text);
        }
      }
    }
  };
  walk(join(root, 'src'));
  return parts.join('\n\n');
}

describe('real text', () => {
  it('nano on a test-made text file: validation loss falls well below the unigram entropy', async () => {
    const file = join(dir, 'prose.txt');
    writeFileSync(file, projectProse());
    const setup = setupRun({ preset: 'nano', data: file, seed: 1, batchSize: 16, seqLen: 64, evalWindows: 48 });
    expect(setup.corpus.kind).toBe('text');
    expect(setup.tokenizer.kind).toBe('byte');
    // unigram entropy (nats per token) of the training tokens, with the eval's tokenization
    const counts = new Map<number, number>();
    let total = 0;
    for (const doc of setup.corpus.kind === 'text' ? setup.corpus.train : []) {
      for (const t of setup.tokenizer.encode(doc)) {
        counts.set(t, (counts.get(t) ?? 0) + 1);
        total++;
      }
    }
    let unigram = 0;
    for (const n of counts.values()) unigram -= (n / total) * Math.log(n / total);
    expect(total).toBeGreaterThan(20_000);

    // the fastest engine built here: every backend gives the same bits (test/tensor/backends-vs-ref.test.ts),
    // so the loss below does not depend on which one runs
    const backend = nativeStatus().available ? createNativeBackend({ threads: 2 }) : await createWasmBackend({ threads: 2 });
    try {
      const e = new Engine(backend);
      // untied head: at this size a tied head learns byte bigrams markedly slower (3.26 vs 2.88 nats after 150 steps)
      const c = { ...setup.config, tiedEmbeddings: false };
      const params = concatFlat(paramList(initParams(e, c, Prng.fromSeed(1))));
      const steps = 150;
      const r = trainLocal(
        e,
        {
          config: c,
          data: setup.data,
          steps,
          adamw: { ...DILOCO_INNER, lr: 3e-3 },
          schedule: { maxLr: 3e-3, minLr: 3e-4, warmupSteps: 15, totalSteps: steps },
          evalEvery: steps,
          evalBatches: Infinity,
          shard: 0,
          now: () => 0,
        },
        { params, opt: initFlatAdam(params.length) },
      );
      // English bytes carry ~3 nats of unigram entropy; the model must buy a good part of a nat from context
      expect(unigram).toBeGreaterThan(2.5);
      // A model of bytes without context cannot beat the unigram. The text is the project's own prose, so it
      // drifts with every commit: measured unigram 3.38 / eval 2.88 in session 1, 3.37 / 3.04 once the swarm's
      // code comments (θ, Δ, RFC citations) joined it. A quarter of a nat below the unigram is still context
      // the model learned, with room for the drift.
      expect(r.evalLoss).toBeLessThan(unigram - 0.25);
    } finally {
      backend.close();
    }
  });
});
