/**
 * Seeded PRNG: xoshiro128** (Blackman & Vigna, "Scrambled linear pseudorandom
 * number generators", ACM TOMS 47(4), 2021; preprint 2018). Linear engine
 * xoshiro128 with A=9, B=11; "**" scrambler with S=5, R=7, T=9. 128 bits of
 * state, period 2^128 - 1, 32-bit outputs.
 *
 * Why this generator: its state update is xor/shift/rotate and its scrambler
 * two 32-bit multiplications, so Math.imul and >>> reproduce it exactly in
 * any JS engine, in WASM and in C. Every random choice in a work unit (data
 * shards, dropout, sampling) must replay bit for bit on another volunteer's
 * machine, so this file uses integer arithmetic only: no Math.random and no
 * Math.log/exp/sin (their last bits are implementation-defined, ECMA-262
 * §21.3.2). Distributions that need transcendentals are built elsewhere on
 * nextFloat() with the project's canonical math.
 *
 * Seeding (our convention, not the paper's): the seed is hashed with SHA-256
 * under a domain tag into a 32-byte `key` (the seed material), and the first
 * 16 bytes of the key, read as four little-endian u32, are the initial state.
 * SHA-256 rather than SplitMix expansion so that strings and byte strings of
 * any length are first-class seeds, and so the derivation of child streams
 * (fork) is collision-resistant:
 *   key       = SHA-256("sovereign-swarm/prng/v1/seed\0"  ‖ 0x01 ‖ u32 BE)       number seed
 *   key       = SHA-256("sovereign-swarm/prng/v1/seed\0"  ‖ 0x02 ‖ bytes)        bytes, or a string as UTF-8
 *   fork key  = SHA-256("sovereign-swarm/prng/v1/fork\0"  ‖ key ‖ 0x01 ‖ u64 BE)  numeric label
 *   fork key  = SHA-256("sovereign-swarm/prng/v1/fork\0"  ‖ key ‖ 0x02 ‖ UTF-8)   string label
 *   split key = SHA-256("sovereign-swarm/prng/v1/split\0" ‖ key ‖ state as 16 LE bytes)
 * The all-zero state is the one fixed point of the engine; a key whose first
 * 16 bytes are zero (probability 2^-128) gets the state [1, 0, 0, 0].
 */
import { hexDecode, hexEncode, utf8Encode } from './encoding.ts';
import { SwarmError, isSwarmError } from './errors.ts';
import { sha256Parts } from './sha256.ts';

export type Seed = number | string | Uint8Array;
export type ForkLabel = string | number;

/** Checkpointable generator state, plain JSON (canonical-JSON safe). */
export interface PrngState {
  v: 1;
  algo: 'xoshiro128**';
  /** seed material, 64 lower-case hex characters */
  key: string;
  /** the four state words, each an integer in [0, 2^32) */
  s: [number, number, number, number];
}

const SEED_DOMAIN = utf8Encode('sovereign-swarm/prng/v1/seed\0');
const FORK_DOMAIN = utf8Encode('sovereign-swarm/prng/v1/fork\0');
const SPLIT_DOMAIN = utf8Encode('sovereign-swarm/prng/v1/split\0');
const TAG_NUMBER = Uint8Array.of(0x01);
const TAG_BYTES = Uint8Array.of(0x02);

/**
 * Jump polynomials published with the reference code (xoshiro128starstar.c):
 * bit i (word i>>5, bit i&31) is the coefficient of x^i of x^(2^64) (resp.
 * x^(2^96)) modulo the engine's characteristic polynomial. Checked
 * independently in test/vectors/xoshiro128ss-ref.c by squaring the
 * transition matrix.
 */
const JUMP = [0x8764000b, 0xf542d2d3, 0x6fa035c3, 0x77f2db5b] as const;
const LONG_JUMP = [0xb523952e, 0x0b6f099f, 0xccf5a0ef, 0x1c580662] as const;

const TWO_POW_32 = 0x100000000;

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

function readU32LE(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}

function u32BE(n: number): Uint8Array {
  return Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

/** Big-endian u64 of a non-negative safe integer, with integer ops only. */
function u64BE(n: number): Uint8Array {
  const hi = Math.floor(n / TWO_POW_32); // exact: n < 2^53
  const out = new Uint8Array(8);
  out.set(u32BE(hi), 0);
  out.set(u32BE(n % TWO_POW_32), 4);
  return out;
}

/** Initial state from seed material: first 16 key bytes as LE u32 words. */
export function stateFromKey(key: Uint8Array): [number, number, number, number] {
  const s: [number, number, number, number] = [readU32LE(key, 0), readU32LE(key, 4), readU32LE(key, 8), readU32LE(key, 12)];
  if ((s[0] | s[1] | s[2] | s[3]) === 0) s[0] = 1;
  return s;
}

function stringBytes(s: string, code: string, what: string): Uint8Array {
  try {
    return utf8Encode(s);
  } catch (e) {
    if (isSwarmError(e)) throw new SwarmError(code, `${what} is not well-formed UTF-16`, e.details, { cause: e });
    throw e;
  }
}

/** Seed material (32 bytes) for a seed; see the header for the encoding. */
export function seedKey(seed: Seed): Uint8Array {
  if (typeof seed === 'number') {
    if (!Number.isInteger(seed) || seed < 0 || seed >= TWO_POW_32) {
      throw new SwarmError('PRNG_INVALID_SEED', 'numeric seed must be an integer in [0, 2^32)', { seed: String(seed) });
    }
    return sha256Parts([SEED_DOMAIN, TAG_NUMBER, u32BE(seed)]);
  }
  if (typeof seed === 'string') return sha256Parts([SEED_DOMAIN, TAG_BYTES, stringBytes(seed, 'PRNG_INVALID_SEED', 'seed')]);
  if (seed instanceof Uint8Array) return sha256Parts([SEED_DOMAIN, TAG_BYTES, seed]);
  throw new SwarmError('PRNG_INVALID_SEED', 'seed must be a u32, a string or a Uint8Array');
}

export class Prng {
  // State words kept as int32 (what the bit operators return); exported as u32.
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private readonly key: Uint8Array;

  private constructor(key: Uint8Array, s: readonly number[]) {
    this.key = key;
    this.s0 = s[0]! | 0;
    this.s1 = s[1]! | 0;
    this.s2 = s[2]! | 0;
    this.s3 = s[3]! | 0;
  }

  /** Generator for `seed` (a u32, a string, or bytes). */
  static fromSeed(seed: Seed): Prng {
    const key = seedKey(seed);
    return new Prng(key, stateFromKey(key));
  }

  /** Generator resuming an exported state (PRNG_INVALID_STATE when malformed). */
  static fromState(state: PrngState): Prng {
    const bad = (why: string): never => {
      throw new SwarmError('PRNG_INVALID_STATE', `invalid PRNG state: ${why}`);
    };
    if (typeof state !== 'object' || state === null) bad('not an object');
    if (state.v !== 1) bad('unknown version');
    if (state.algo !== 'xoshiro128**') bad('unknown algorithm');
    if (typeof state.key !== 'string' || !/^[0-9a-f]{64}$/.test(state.key)) bad('key must be 64 lower-case hex characters');
    const s = state.s;
    if (!Array.isArray(s) || s.length !== 4) bad('s must hold four words');
    for (const w of s) if (!Number.isInteger(w) || w < 0 || w >= TWO_POW_32) bad('state words must be u32');
    if ((s[0] | s[1] | s[2] | s[3]) === 0) bad('the all-zero state is a fixed point');
    return new Prng(hexDecode(state.key), s);
  }

  /** Snapshot for checkpoints; fromState(exportState()) continues identically. */
  exportState(): PrngState {
    return { v: 1, algo: 'xoshiro128**', key: hexEncode(this.key), s: this.words() };
  }

  /** Independent copy at the same position. */
  clone(): Prng {
    return new Prng(this.key, this.words());
  }

  private words(): [number, number, number, number] {
    return [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0];
  }

  /** Next 32-bit output, an integer in [0, 2^32). */
  nextU32(): number {
    const s1 = this.s1;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9);
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= s1;
    this.s1 = s1 ^ this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result >>> 0;
  }

  /**
   * Uniform in [0, 1) on the grid k * 2^-24: the top 24 bits of one output
   * (the conversion the authors give for floats: upper bits times 2^-24).
   * Every value is exactly representable in binary32, so Math.fround(x) === x
   * and f32 kernels see the same number as f64 code.
   */
  nextFloat(): number {
    return (this.nextU32() >>> 8) / 0x1000000;
  }

  /**
   * Uniform integer in [0, n) for an integer 1 <= n <= 2^32, without modulo
   * bias: outputs below (2^32 mod n) are rejected, leaving a multiple of n
   * equally likely values (the arc4random_uniform construction). Every
   * operand is an integer below 2^33, so the double arithmetic is exact.
   */
  nextInt(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_POW_32) {
      throw new SwarmError('PRNG_INVALID_BOUND', 'nextInt bound must be an integer in [1, 2^32]', { n: String(n) });
    }
    const threshold = (TWO_POW_32 - n) % n; // = 2^32 mod n
    for (;;) {
      const r = this.nextU32();
      if (r >= threshold) return r % n;
    }
  }

  /** In-place Fisher-Yates shuffle (Durstenfeld's variant, Knuth TAOCP 3.4.2 Algorithm P); returns `items`. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const tmp = items[i]!;
      items[i] = items[j]!;
      items[j] = tmp;
    }
    return items;
  }

  /** Advance by 2^64 outputs: 2^64 non-overlapping streams of 2^64 values. */
  jump(): this {
    return this.polyJump(JUMP);
  }

  /** Advance by 2^96 outputs: 2^32 starting points for sets of jump() streams. */
  longJump(): this {
    return this.polyJump(LONG_JUMP);
  }

  /**
   * Multiplies the state by J(T) where T is one engine step: accumulate the
   * states T^i s for every set coefficient j_i of the jump polynomial. The
   * scrambled outputs produced along the way are discarded.
   */
  private polyJump(poly: readonly number[]): this {
    let a0 = 0;
    let a1 = 0;
    let a2 = 0;
    let a3 = 0;
    for (const word of poly) {
      for (let b = 0; b < 32; b++) {
        if ((word >>> b) & 1) {
          a0 ^= this.s0;
          a1 ^= this.s1;
          a2 ^= this.s2;
          a3 ^= this.s3;
        }
        this.nextU32();
      }
    }
    this.s0 = a0;
    this.s1 = a1;
    this.s2 = a2;
    this.s3 = a3;
    return this;
  }

  /**
   * Splits off a child that continues this stream from the current position,
   * while this generator jumps 2^64 ahead: child and parent never overlap
   * unless one of them draws 2^64 values. The child's seed material is
   * derived from ours and the split position, so its forks differ from ours.
   */
  split(): Prng {
    const words = this.words();
    const pos = new Uint8Array(16);
    for (let i = 0; i < 4; i++) {
      const w = words[i]!;
      pos[4 * i] = w & 0xff;
      pos[4 * i + 1] = (w >>> 8) & 0xff;
      pos[4 * i + 2] = (w >>> 16) & 0xff;
      pos[4 * i + 3] = w >>> 24;
    }
    const child = new Prng(sha256Parts([SPLIT_DOMAIN, this.key, pos]), words);
    this.jump();
    return child;
  }

  /**
   * Child stream named by `label`, derived from the seed material only: it
   * neither reads nor moves this generator's position, so fork('round-3')
   * gives the same stream however much the parent has drawn. Numeric labels
   * must be non-negative safe integers; 7 and "7" are different labels.
   */
  fork(label: ForkLabel): Prng {
    let tagged: Uint8Array[];
    if (typeof label === 'number') {
      if (!Number.isSafeInteger(label) || label < 0) {
        throw new SwarmError('PRNG_INVALID_LABEL', 'numeric fork label must be a non-negative safe integer', { label: String(label) });
      }
      tagged = [TAG_NUMBER, u64BE(label)];
    } else if (typeof label === 'string') {
      tagged = [TAG_BYTES, stringBytes(label, 'PRNG_INVALID_LABEL', 'fork label')];
    } else {
      throw new SwarmError('PRNG_INVALID_LABEL', 'fork label must be a string or a number');
    }
    const key = sha256Parts([FORK_DOMAIN, this.key, ...tagged]);
    return new Prng(key, stateFromKey(key));
  }
}
