/**
 * Canonical binary32 transcendentals, a line-for-line port of ../../math.ts.
 *
 * Why a port and not the host's Math: see ../../math.ts. Here every f32
 * operation rounds to binary32 natively (WebAssembly core spec §4.3.3: f32
 * add/sub/mul/div/sqrt are IEEE 754 correctly rounded, round-to-nearest-even,
 * with subnormals, never fused), so the TS version's `Math.fround` after each
 * operation is the identity here. Double-rounding arguments from the TS side
 * (Figueroa 1995) make its binary64-then-fround results equal to these direct
 * binary32 results. The order of operations must stay exactly as in math.ts;
 * test/tensor/backends-vs-ref.test.ts compares the two bit for bit.
 *
 * No lookup tables: a table would become an active data segment, and with a
 * shared memory every worker's instantiation would rewrite it (threads
 * proposal: segments are re-applied per instance). Powers of two are built
 * from their bit patterns instead, which is exact.
 */

// Same constants as math.ts (each literal rounds to the same binary32 value).
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;
const LOG2E: f32 = 1.44269504088896341;
const EXP_MAX: f32 = 88.72283172607421875;
const EXP_MIN: f32 = -103.97208404541015625;

const E2: f32 = <f32>(1.0 / 2.0);
const E3: f32 = <f32>(1.0 / 6.0);
const E4: f32 = <f32>(1.0 / 24.0);
const E5: f32 = <f32>(1.0 / 120.0);
const E6: f32 = <f32>(1.0 / 720.0);
const E7: f32 = <f32>(1.0 / 5040.0);

const SQRT2: f32 = <f32>1.41421356237309505;
const L1: f32 = <f32>(2.0 / 3.0);
const L2: f32 = <f32>(2.0 / 5.0);
const L3: f32 = <f32>(2.0 / 7.0);
const L4: f32 = <f32>(2.0 / 9.0);
const L5: f32 = <f32>(2.0 / 11.0);

const T3: f32 = <f32>(-1.0 / 3.0);
const T5: f32 = <f32>(2.0 / 15.0);
const T7: f32 = <f32>(-17.0 / 315.0);
const T9: f32 = <f32>(62.0 / 2835.0);
const T11: f32 = <f32>(-1382.0 / 155925.0);

/** 2^k exactly, for integer k in [-126, 127] (a normal binary32). */
// @ts-ignore: decorator
@inline
function pow2n(k: i32): f32 {
  return reinterpret<f32>((k + 127) << 23);
}

const TWO_M100: f32 = 7.888609052210118e-31; // 2^-100, exact
const TWO_M126: f32 = 1.1754943508222875e-38; // 2^-126, smallest normal
const TWO_23: f32 = 8388608.0; // 2^23
const TWO_M12: f32 = 0.000244140625; // 2^-12

/** e^x in binary32 (mirrors expf in math.ts). */
export function expf(x: f32): f32 {
  if (x != x) return NaN;
  if (x > EXP_MAX) return Infinity;
  if (x < EXP_MIN) return 0;
  const kf: f32 = floor<f32>(x * LOG2E + <f32>0.5);
  let r: f32 = x - kf * LN2_HI;
  r = r - kf * LN2_LO;
  let p: f32 = E7;
  p = p * r + E6;
  p = p * r + E5;
  p = p * r + E4;
  p = p * r + E3;
  p = p * r + E2;
  p = p * r + <f32>1;
  p = p * r + <f32>1;
  const k = <i32>kf;
  if (k > 127) return (p * pow2n(k - 1)) * <f32>2;
  if (k < -126) return (p * pow2n(k + 100)) * TWO_M100;
  return p * pow2n(k);
}

/** Natural logarithm in binary32 (mirrors logf in math.ts). */
export function logf(x: f32): f32 {
  if (x != x || x < 0) return NaN;
  if (x == 0) return -Infinity;
  if (x == Infinity) return Infinity;
  let e: i32 = 0;
  if (x < TWO_M126) { x = x * TWO_23; e = -23; }
  const bits = reinterpret<i32>(x);
  e += ((bits >> 23) & 0xff) - 127;
  let m = reinterpret<f32>((bits & 0x007fffff) | 0x3f800000);
  if (m > SQRT2) { m = m * <f32>0.5; e += 1; }
  const fm: f32 = m - <f32>1;
  const s: f32 = fm / (m + <f32>1);
  const z: f32 = s * s;
  let q: f32 = L5;
  q = q * z + L4;
  q = q * z + L3;
  q = q * z + L2;
  q = q * z + L1;
  q = q * z;
  const lm: f32 = <f32>2 * s + s * q;
  const ef = <f32>e; // |e| <= 150: exact
  return (ef * LN2_LO + lm) + ef * LN2_HI;
}

/** Hyperbolic tangent in binary32 (mirrors tanhf in math.ts). */
export function tanhf(x: f32): f32 {
  if (x != x) return NaN;
  const a = abs<f32>(x);
  if (a < TWO_M12) return x;
  let t: f32;
  // math.ts compares the binary32 `a` with the binary64 literal 0.3; do the
  // same comparison in f64 so the branch is taken on exactly the same inputs.
  if (<f64>a < 0.3) {
    const z: f32 = a * a;
    let p: f32 = T11;
    p = p * z + T9;
    p = p * z + T7;
    p = p * z + T5;
    p = p * z + T3;
    t = a + (a * z) * p;
  } else if (a > <f32>9) {
    t = 1;
  } else {
    const e = expf(<f32>-2 * a);
    t = (<f32>1 - e) / (<f32>1 + e);
  }
  return x < 0 ? -t : t;
}

/** Correctly rounded square root (f32.sqrt). */
// @ts-ignore: decorator
@inline
export function sqrtf(x: f32): f32 {
  return sqrt<f32>(x);
}

/** 1/sqrt(x) as two correctly rounded operations, never an estimate. */
// @ts-ignore: decorator
@inline
export function rsqrtf(x: f32): f32 {
  return <f32>1 / sqrt<f32>(x);
}
