/** Deterministic batches: same inputs ⇒ same Int32Array, for synthetic and real text; evaluation windows; bad arguments. */
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../../../src/core/sha256.ts';
import { makeBatchSource } from '../../../src/train/data/batch-source.ts';
import { entropyFloor } from '../../../src/train/data/entropy-floor.ts';
import { createSyntheticCorpus } from '../../../src/train/data/synthetic-corpus.ts';
import { makeTextCorpus } from '../../../src/train/data/text-corpus.ts';
import { tokenizeStream } from '../../../src/train/data/tokenizer-like.ts';
import { byteTokenizer, symbolTokenizer } from './helpers.ts';
import { codeOf as code } from '../../helpers/errors.ts';

/** Canonical bytes of an Int32Array (little-endian), for hashing independent of the host's byte order. */
function le(a: Int32Array): Uint8Array {
  const out = new Uint8Array(a.length * 4);
  const dv = new DataView(out.buffer);
  a.forEach((x, i) => dv.setInt32(i * 4, x, true));
  return out;
}


const synthetic = createSyntheticCorpus({ validationDocuments: 32 });
const text = makeTextCorpus(
  'numbers',
  Array.from({ length: 400 }, (_, i) => `Paragraph ${i}: ${'lorem ipsum '.repeat(1 + (i % 7))}end.`),
  { valPercent: 10 },
);

describe('training batches', () => {
  for (const [name, corpus] of [['synthetic', synthetic], ['text', text]] as const) {
    it(`${name}: a pure function of (corpus, tokenizer, seed, shard, step)`, () => {
      const opts = { seqLen: 32, batchSize: 6, seed: 'run-1' };
      const a = makeBatchSource(corpus, byteTokenizer, opts);
      const b = makeBatchSource(corpus, byteTokenizer, { ...opts });
      const x = a.batch(4, 11);
      expect(x).toBeInstanceOf(Int32Array);
      expect(x.length).toBe(6 * 33);
      a.batch(0, 0); // calls in between change nothing
      expect(b.batch(4, 11)).toEqual(x);
      expect(a.batch(4, 11)).toEqual(x);
      expect(a.batch(5, 11)).not.toEqual(x);
      expect(a.batch(4, 12)).not.toEqual(x);
      expect(makeBatchSource(corpus, byteTokenizer, { ...opts, seed: 'run-2' }).batch(4, 11)).not.toEqual(x);
      // Rows are distinct windows.
      const rows = new Set(Array.from({ length: 6 }, (_, r) => x.subarray(r * 33, (r + 1) * 33).join(',')));
      expect(rows.size).toBe(6);
    });
  }

  it('synthetic batches are pinned by a golden hash', () => {
    const src = makeBatchSource(createSyntheticCorpus(), byteTokenizer, { seqLen: 64, batchSize: 4, seed: 1 });
    expect(sha256Hex(le(src.batch(3, 7)))).toBe('87b6441f9f8adf33e2bdb293701f9c29e8091bc723bd90dcbb1f7ef542e27537');
    expect(src.trainTokens()).toBeNull();
  });

  it('synthetic rows are windows of the source’s text, starting anywhere in a document', () => {
    const src = makeBatchSource(synthetic, byteTokenizer, { seqLen: 48, batchSize: 16, seed: 9 });
    const dec = new TextDecoder();
    let startsAtDocStart = 0;
    for (let step = 0; step < 8; step++) {
      const x = src.batch(0, step);
      for (let r = 0; r < 16; r++) {
        const row = dec.decode(new Uint8Array(x.subarray(r * 49, (r + 1) * 49)));
        expect(row).toMatch(/^[A-Za-z .,?\n]*$/);
        if (/^[A-Z]/.test(row)) startsAtDocStart++;
      }
    }
    expect(startsAtDocStart).toBeLessThan(64); // offsets are spread, not always at a document start
    // With a word-level tokenizer the same machinery works on symbol ids.
    const words = makeBatchSource(synthetic, symbolTokenizer(synthetic.source), { seqLen: 16, batchSize: 2, seed: 9 });
    expect(Math.max(...words.batch(1, 1))).toBeLessThan(synthetic.source.symbols.length);
  });

  it('text rows are windows of the tokenized train split, from its first to its last window', () => {
    const src = makeBatchSource(text, byteTokenizer, { seqLen: 20, batchSize: 8, seed: 3 });
    const stream = tokenizeStream(byteTokenizer, text.train, { separator: '\n\n' });
    expect(src.trainTokens()).toBe(stream.length);
    const hay = stream.join(',') + ',';
    for (let step = 0; step < 300; step++) {
      const x = src.batch(1, step);
      for (let r = 0; r < 8; r++) {
        const row = x.subarray(r * 21, (r + 1) * 21);
        expect(hay.includes(row.join(',') + ',')).toBe(true);
      }
    }
    // Uniform starts reach every offset, the first and the last possible window included.
    const small = makeTextCorpus('s', Array.from({ length: 10 }, (_, i) => `document ${i} has its own words ${i * i}`), { valPercent: 0 });
    const smallStream = tokenizeStream(byteTokenizer, small.train, { separator: '\n\n' });
    const starts = new Set<string>();
    const smallSrc = makeBatchSource(small, byteTokenizer, { seqLen: 20, batchSize: 8, seed: 3 });
    for (let step = 0; step < 400; step++) {
      const x = smallSrc.batch(2, step);
      for (let r = 0; r < 8; r++) starts.add(x.subarray(r * 21, (r + 1) * 21).join(','));
    }
    const all = new Set(Array.from({ length: smallStream.length - 20 }, (_, o) => smallStream.subarray(o, o + 21).join(',')));
    expect(starts).toEqual(all);
  });

  it('eosId is appended after every document', () => {
    const tiny = makeTextCorpus('t', ['ab', 'cd', 'ef', 'gh'], { valPercent: 0 });
    const src = makeBatchSource(tiny, byteTokenizer, { seqLen: 3, batchSize: 50, seed: 1, eosId: 999 });
    expect(src.trainTokens()).toBe(4 * (2 + 2 + 1));
    expect(src.batch(0, 0)).toContain(999);
  });
});

describe('evaluation batches', () => {
  it('consecutive windows with stride seqLen: every validation token after the first is a target once', () => {
    const seqLen = 40;
    const src = makeBatchSource(synthetic, byteTokenizer, { seqLen, batchSize: 7, seed: 1 });
    const stream = tokenizeStream(byteTokenizer, synthetic.validation);
    const windows = Math.floor((stream.length - 1) / seqLen);
    expect(src.evalWindows()).toBe(windows);
    expect(src.evalTargets()).toBe(windows * seqLen);
    expect(src.evalBatchCount()).toBe(Math.ceil(windows / 7));
    const batches = [...src.evalBatches()];
    expect(batches).toHaveLength(src.evalBatchCount());
    const targets: number[] = [];
    for (const b of batches) {
      expect(b.length % (seqLen + 1)).toBe(0);
      for (let r = 0; r < b.length / (seqLen + 1); r++) {
        const row = b.subarray(r * (seqLen + 1), (r + 1) * (seqLen + 1));
        expect(row[0]).toBe(stream[targets.length]); // the input at the window start is the previous window's last target
        targets.push(...row.subarray(1));
      }
    }
    expect(targets).toEqual([...stream.subarray(1, windows * seqLen + 1)]);
    expect(batches.at(-1)!.length).toBe((windows - 7 * (batches.length - 1)) * (seqLen + 1));
    // Fixed: another source (other seed, other batch size) scores the same windows.
    const other = makeBatchSource(synthetic, byteTokenizer, { seqLen, batchSize: 3, seed: 'other', evalBatchSize: 7 });
    expect([...other.evalBatches()]).toEqual(batches);
    // The floor counts the same tokens.
    expect(entropyFloor(synthetic.validation, (d) => synthetic.logProb(d), byteTokenizer).tokens).toBe(stream.length);
  });

  it('maxEvalWindows caps the evaluation set', () => {
    const src = makeBatchSource(text, byteTokenizer, { seqLen: 16, batchSize: 4, seed: 1, maxEvalWindows: 10 });
    expect(src.evalWindows()).toBe(10);
    expect([...src.evalBatches()].map((b) => b.length / 17)).toEqual([4, 4, 2]);
    const none = makeBatchSource(makeTextCorpus('t', ['some text'], { valPercent: 0 }), byteTokenizer, { seqLen: 4, batchSize: 2, seed: 1 });
    expect(none.evalBatchCount()).toBe(0);
    expect([...none.evalBatches()]).toEqual([]);
    expect(code(() => none.evalBatch(0))).toBe('DATA_TOO_SMALL');
  });
});

describe('bad arguments', () => {
  it('DATA_INVALID_OPTION for bad sizes, shards and steps', () => {
    const ok = { seqLen: 8, batchSize: 2, seed: 1 };
    for (const bad of [{ seqLen: 0 }, { seqLen: 1.5 }, { batchSize: 0 }, { batchSize: -1 }, { evalBatchSize: 0 }, { maxEvalWindows: -1 }, { seqLen: 1 << 21 }]) {
      expect(code(() => makeBatchSource(text, byteTokenizer, { ...ok, ...bad })), JSON.stringify(bad)).toBe('DATA_INVALID_OPTION');
    }
    const src = makeBatchSource(text, byteTokenizer, ok);
    for (const [shard, step] of [[-1, 0], [0, -1], [0.5, 0], [0, NaN], [2 ** 53, 0]]) {
      expect(code(() => src.batch(shard!, step!))).toBe('DATA_INVALID_OPTION');
    }
    expect(code(() => src.evalBatch(src.evalBatchCount()))).toBe('DATA_INVALID_OPTION');
    expect(code(() => makeBatchSource(text, byteTokenizer, { ...ok, seed: -3 }))).toBe('PRNG_INVALID_SEED');
  });

  it('DATA_TOO_SMALL when the train split is shorter than one row', () => {
    const tiny = makeTextCorpus('t', ['short'], { valPercent: 0 });
    expect(code(() => makeBatchSource(tiny, byteTokenizer, { seqLen: 64, batchSize: 1, seed: 1 }).batch(0, 0))).toBe('DATA_TOO_SMALL');
  });

  it('DATA_BAD_TOKEN when the tokenizer returns ids that do not fit an Int32Array', () => {
    for (const id of [-1, 2 ** 31, 1.5, NaN]) {
      const bad = { encode: () => [1, id, 2] };
      expect(code(() => makeBatchSource(text, bad, { seqLen: 2, batchSize: 1, seed: 1 }).batch(0, 0))).toBe('DATA_BAD_TOKEN');
    }
    expect(code(() => makeBatchSource(synthetic, { encode: () => [] }, { seqLen: 2, batchSize: 1, seed: 1 }).batch(0, 0))).toBe('DATA_BAD_TOKEN');
    expect(code(() => makeBatchSource(text, byteTokenizer, { seqLen: 2, batchSize: 1, seed: 1, eosId: -1 }).batch(0, 0))).toBe('DATA_BAD_TOKEN');
  });
});
