/** Loading real text: file / folder / .jsonl, document splitting, the hash split, and every bad-input class. */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { isSwarmError } from '../../../src/core/errors.ts';
import type { SwarmError } from '../../../src/core/errors.ts';
import { loadTextCorpus, parseJsonl } from '../../../src/train/data/load-text-corpus.ts';
import { makeTextCorpus, splitParagraphs } from '../../../src/train/data/text-corpus.ts';
import { firstInvalidUtf8 } from '../../../src/train/data/utf8-check.ts';
import { isValidationDocument, splitBucket } from '../../../src/train/data/validation-split.ts';

const root = mkdtempSync(join(tmpdir(), 'swarm-data-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
/** A fresh path under the test's temp dir, with `files` (relative path -> contents) written below it. */
function tree(files: Record<string, string | Uint8Array>): string {
  const dir = join(root, `t${n++}`);
  for (const [rel, content] of Object.entries(files)) {
    const p = join(dir, rel);
    mkdirSync(join(p, '..'), { recursive: true });
    writeFileSync(p, content);
  }
  return dir;
}

function thrown(f: () => unknown): SwarmError {
  try {
    f();
  } catch (e) {
    if (isSwarmError(e)) return e;
    throw e;
  }
  throw new Error('expected a SwarmError');
}

describe('loadTextCorpus: formats', () => {
  it('a text file: one document per paragraph, CRLF and BOM normalised', () => {
    const dir = tree({ 'a.txt': '\uFEFFFirst para\r\nline two.\r\n\r\n  \r\nSecond para.\n\n\n\nThird.\n' });
    const c = loadTextCorpus(join(dir, 'a.txt'), { valPercent: 0 });
    expect(c.documents).toEqual(['First para\nline two.', 'Second para.', 'Third.']);
    expect(c.train).toEqual(c.documents);
    expect(c.validation).toEqual([]);
    expect(c.name).toBe('a.txt');
    expect(c.separator).toBe('\n\n');
    // Same text with LF line ends and no BOM: same corpus, same hash.
    const lf = tree({ 'a.txt': 'First para\nline two.\n\nSecond para.\n\nThird.' });
    expect(loadTextCorpus(join(lf, 'a.txt'), { valPercent: 0 }).contentHash).toBe(c.contentHash);
  });

  it("split: 'file' keeps a text file whole", () => {
    const dir = tree({ 'a.md': '# Title\n\nBody.\n' });
    expect(loadTextCorpus(join(dir, 'a.md'), { split: 'file' }).documents).toEqual(['# Title\n\nBody.']);
  });

  it('a .jsonl file: one document per line from the "text" field, blank lines skipped', () => {
    const dir = tree({ 'd.jsonl': '{"text":"alpha","id":1}\n\n{"text":"beta\\n\\ngamma"}\r\n{"text":"   "}\n' });
    expect(loadTextCorpus(join(dir, 'd.jsonl')).documents).toEqual(['alpha', 'beta\n\ngamma']);
  });

  it('a folder: .txt/.md files recursively, sorted by path, hidden entries and other extensions skipped', () => {
    const dir = tree({
      'b.txt': 'bee',
      'a/z.md': 'zed',
      'a/b/c.txt': 'see\n\nsea',
      'A.TXT': 'upper',
      'notes.json': '{"text":"no"}',
      '.hidden/x.txt': 'hidden',
      '.y.txt': 'hidden too',
      'empty.txt': '  \n',
    });
    symlinkSync(join(dir, 'b.txt'), join(dir, 'link.txt'));
    const c = loadTextCorpus(dir, { valPercent: 0 });
    // Code-unit order of relative paths: "A.TXT" < "a/b/c.txt" < "a/z.md" < "b.txt".
    expect(c.documents).toEqual(['upper', 'see\n\nsea', 'zed', 'bee']);
    expect(loadTextCorpus(dir, { valPercent: 0, split: 'paragraphs' }).documents).toEqual(['upper', 'see', 'sea', 'zed', 'bee']);
  });

  it('the corpus hash names the document list', () => {
    const a = makeTextCorpus('x', ['one', 'two']);
    expect(makeTextCorpus('y', ['one', 'two']).contentHash).toBe(a.contentHash);
    expect(makeTextCorpus('x', ['two', 'one']).contentHash).not.toBe(a.contentHash);
    expect(makeTextCorpus('x', ['on', 'etwo']).contentHash).not.toBe(a.contentHash); // length-prefixed: no concatenation collisions
    expect(a.bytes).toBe(6);
  });
});

describe('loadTextCorpus: bad input', () => {
  it('DATA_NOT_FOUND for a missing path', () => {
    const e = thrown(() => loadTextCorpus(join(root, 'does-not-exist.txt')));
    expect(e.code).toBe('DATA_NOT_FOUND');
    expect(thrown(() => loadTextCorpus(join(tree({ 'f.txt': 'x' }), 'f.txt', 'below-a-file'))).code).toBe('DATA_NOT_FOUND');
  });

  it('DATA_EMPTY for an empty file, a whitespace-only file, an empty folder, a jsonl without text', () => {
    const dir = tree({ 'e.txt': '', 'w.txt': ' \n\n\t\n', 'e.jsonl': '\n{"text":""}\n', 'sub/other.bin': 'x' });
    for (const p of ['e.txt', 'w.txt', 'e.jsonl', 'sub']) expect(thrown(() => loadTextCorpus(join(dir, p))).code, p).toBe('DATA_EMPTY');
    mkdirSync(join(dir, 'nothing'));
    expect(thrown(() => loadTextCorpus(join(dir, 'nothing'))).code).toBe('DATA_EMPTY');
  });

  it('DATA_TOO_LARGE past maxBytes, with the limit in the details', () => {
    const dir = tree({ 'big.txt': 'x'.repeat(1000), 'f/a.txt': 'x'.repeat(600), 'f/b.txt': 'y'.repeat(600) });
    const e = thrown(() => loadTextCorpus(join(dir, 'big.txt'), { maxBytes: 999 }));
    expect(e.code).toBe('DATA_TOO_LARGE');
    expect(e.details).toMatchObject({ limit: 999, size: 1000 });
    expect(loadTextCorpus(join(dir, 'big.txt'), { maxBytes: 1000 }).documents).toHaveLength(1);
    expect(thrown(() => loadTextCorpus(join(dir, 'f'), { maxBytes: 1000 })).code).toBe('DATA_TOO_LARGE');
  });

  it('DATA_BAD_UTF8 with file, byte offset and line', () => {
    const bytes = new Uint8Array([...new TextEncoder().encode('ok\nstill ok é\nbad '), 0xc3, 0x28, 0x0a]);
    const dir = tree({ 'bad.txt': bytes, 'f/bad.md': bytes, 'bad.jsonl': new Uint8Array([0x7b, 0xff, 0x7d]) });
    const e = thrown(() => loadTextCorpus(join(dir, 'bad.txt')));
    expect(e.code).toBe('DATA_BAD_UTF8');
    expect(e.details).toMatchObject({ offset: 19, line: 3 });
    expect(thrown(() => loadTextCorpus(join(dir, 'f'))).code).toBe('DATA_BAD_UTF8');
    expect(thrown(() => loadTextCorpus(join(dir, 'bad.jsonl'))).code).toBe('DATA_BAD_UTF8');
  });

  it('DATA_BAD_JSONL with the 1-based line number', () => {
    const cases: [string, number][] = [
      ['{"text":"a"}\n{"text": nope}\n', 2],
      ['{"text":"a"}\n\n[1,2]\n', 3],
      ['"just a string"\n', 1],
      ['null\n', 1],
      ['{"text":"a"}\n{"body":"b"}\n', 2],
      ['{"text":42}\n', 1],
      ['{"text":"a"}\n{"text":"half \\ud800 pair"}\n', 2],
      ['{"text":"a"}{"text":"b"}\n', 1],
    ];
    for (const [content, line] of cases) {
      const dir = tree({ 'x.jsonl': content });
      const e = thrown(() => loadTextCorpus(join(dir, 'x.jsonl')));
      expect(e.code, content).toBe('DATA_BAD_JSONL');
      expect(e.details?.line, content).toBe(line);
    }
    expect(parseJsonl('{"text":"\\ud83d\\ude00"}', 'ok.jsonl')).toEqual(['😀']); // a proper pair is fine
  });

  it('DATA_INVALID_OPTION for a bad valPercent or maxBytes', () => {
    const dir = tree({ 'a.txt': 'x' });
    for (const valPercent of [-1, 101, NaN]) expect(thrown(() => loadTextCorpus(join(dir, 'a.txt'), { valPercent })).code).toBe('DATA_INVALID_OPTION');
    expect(thrown(() => loadTextCorpus(join(dir, 'a.txt'), { maxBytes: -5 })).code).toBe('DATA_INVALID_OPTION');
  });
});

describe('validation split by content hash', () => {
  const docs = Array.from({ length: 2000 }, (_, i) => `document number ${i}`);

  it('holds out about valPercent of the documents', () => {
    const c = makeTextCorpus('x', docs, { valPercent: 10 });
    expect(c.train.length + c.validation.length).toBe(2000);
    expect(c.validation.length).toBeGreaterThan(150);
    expect(c.validation.length).toBeLessThan(250);
    expect(makeTextCorpus('x', docs, { valPercent: 0 }).validation).toHaveLength(0);
    expect(makeTextCorpus('x', docs, { valPercent: 100 }).train).toHaveLength(0);
  });

  it('a document’s side never depends on the other documents (adding documents reshuffles nothing)', () => {
    const small = makeTextCorpus('x', docs.slice(0, 500), { valPercent: 20 });
    const big = makeTextCorpus('x', [...docs.slice(500), ...docs.slice(0, 500)], { valPercent: 20 });
    const bigVal = new Set(big.validation);
    for (const d of docs.slice(0, 500)) expect(bigVal.has(d)).toBe(small.validation.includes(d));
  });

  it('is monotone in valPercent and pinned', () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 100 }), (text, a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        // in validation at lo ⇒ in validation at hi, i.e. membership (0 or 1) never decreases
        expect(Number(isValidationDocument(text, lo))).toBeLessThanOrEqual(Number(isValidationDocument(text, hi)));
      }),
    );
    // Buckets are part of the data format: a change would silently move documents between splits.
    expect([splitBucket('hello'), splitBucket('world'), splitBucket('')]).toEqual([6692, 1359, 4013]);
    expect(isValidationDocument('world', 13.59)).toBe(false);
    expect(isValidationDocument('world', 13.6)).toBe(true);
  });

  it('splitParagraphs splits at blank lines only', () => {
    expect(splitParagraphs('a\nb\n\nc\n \t \nd\n\n\n')).toEqual(['a\nb', 'c', 'd']);
    expect(splitParagraphs('\n\n')).toEqual([]);
  });
});

describe('firstInvalidUtf8', () => {
  it('agrees with the fatal TextDecoder on random bytes and encoded strings', () => {
    const dec = new TextDecoder('utf-8', { fatal: true });
    const enc = new TextEncoder();
    const piece = fc.oneof(fc.uint8Array({ maxLength: 3 }), fc.string({ unit: 'binary', maxLength: 3 }).map((x) => enc.encode(x)));
    fc.assert(
      fc.property(fc.array(piece), (parts) => {
        const b = new Uint8Array(parts.flatMap((p) => [...p]));
        let ok = true;
        try {
          dec.decode(b);
        } catch {
          ok = false;
        }
        expect(firstInvalidUtf8(b) < 0).toBe(ok);
      }),
      { numRuns: 3000 },
    );
  });

  it('reports the first ill-formed sequence', () => {
    const u = (...x: number[]) => new Uint8Array(x);
    expect(firstInvalidUtf8(new TextEncoder().encode('aé😀z'))).toBe(-1);
    expect(firstInvalidUtf8(u(0x61, 0xc0, 0x80))).toBe(1); // overlong
    expect(firstInvalidUtf8(u(0xed, 0xa0, 0x80))).toBe(0); // surrogate
    expect(firstInvalidUtf8(u(0xf4, 0x90, 0x80, 0x80))).toBe(0); // above U+10FFFF
    expect(firstInvalidUtf8(u(0x61, 0x62, 0xe2, 0x82))).toBe(2); // truncated
    expect(firstInvalidUtf8(u(0x80))).toBe(0); // lone continuation
  });
});
