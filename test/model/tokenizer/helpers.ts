/**
 * Test corpora, made from a seeded PRNG (no downloads): English-like text
 * with a Zipf-ish word distribution, capitals, digits, punctuation, newlines,
 * and a sprinkling of non-ASCII words so that multi-byte UTF-8 is exercised.
 */
import { Prng } from '../../../src/core/prng.ts';
import { SwarmError } from '../../../src/core/errors.ts';

const WORDS = (
  'the of and to in a is that for it as was with be by on not he I this are or his from at which but have an ' +
  'they you were her she there been one all we their has would when if so no will more can out up what said about ' +
  'other into than its time only could new them man some these then two first may any like now my such make over ' +
  'our even most me state after also made many did must before back see through way where get much go well your ' +
  'know should down work year because come people just say each those take day good how long very little world ' +
  'training model volunteer compute swarm token gradient weight learning network verify ledger result provider ' +
  'tracker deterministic replica quorum checkpoint sovereign language transformer attention layer embedding'
).split(' ');

const EXTRA = ['naïve', 'café', 'Zürich', 'über', 'straße', '日本語', 'данные', 'λόγος', 'emoji😀', 'مرحبا', 'हिन्दी'];
const PUNCT = ['.', '.', '.', ',', ',', ',', ';', ':', '!', '?', ' -', '...'];

/** Deterministic English-like text of about `chars` UTF-16 code units. */
export function englishLike(seed: string, chars: number): string {
  const rng = Prng.fromSeed(seed);
  const parts: string[] = [];
  let n = 0;
  let sentenceStart = true;
  while (n < chars) {
    let w: string;
    const r = rng.nextInt(1000);
    if (r < 8) w = EXTRA[rng.nextInt(EXTRA.length)]!;
    else if (r < 20) w = String(rng.nextInt(r < 14 ? 100 : 100000));
    else {
      // Zipf-ish: squaring a uniform favours small indices.
      const u = rng.nextFloat();
      w = WORDS[Math.floor(u * u * WORDS.length)]!;
    }
    if (sentenceStart) w = w.charAt(0).toUpperCase() + w.slice(1);
    sentenceStart = false;
    let piece = (parts.length === 0 ? '' : ' ') + w;
    const p = rng.nextInt(100);
    if (p < 12) {
      const mark = PUNCT[rng.nextInt(PUNCT.length)]!;
      piece += mark;
      if (mark === '.' || mark === '!' || mark === '?') {
        sentenceStart = true;
        if (rng.nextInt(6) === 0) piece += '\n\n';
        else if (rng.nextInt(6) === 0) piece += '\n';
      }
    } else if (p < 14) {
      piece = ` (${w})`;
    } else if (p < 15) {
      piece = ` "${w}"`;
    } else if (p < 16) {
      piece += "'s";
    }
    parts.push(piece);
    n += piece.length;
  }
  return parts.join('').replace(/\n /g, '\n');
}

/** Documents of englishLike text. */
export function documents(seed: string, count: number, chars: number): string[] {
  return Array.from({ length: count }, (_, i) => englishLike(`${seed}/${i}`, chars));
}

/** The code of the SwarmError `fn` throws (fails the test if it throws something else or nothing). */
export function errorOf(fn: () => unknown): { code: string; reason: unknown; details: Record<string, unknown> | undefined } {
  try {
    fn();
  } catch (e) {
    if (e instanceof SwarmError) return { code: e.code, reason: e.details?.['reason'], details: e.details };
    throw e;
  }
  throw new Error('expected a SwarmError, nothing was thrown');
}
