/**
 * Canonical scalar transcendentals in binary32.
 *
 * Why our own: the bits of Math.exp / Math.log are implementation-defined
 * (ECMA-262 §21.3.2 only asks for an "implementation-approximated" value),
 * so two browsers or two Node versions may disagree in the last bit, and a
 * quorum comparing result hashes would see honest volunteers disagree.
 * These functions use only IEEE-754 binary32 +, -, *, / and sqrt (each
 * correctly rounded; doing the op in binary64 and rounding with Math.fround
 * gives the same bits, Figueroa 1995 "When is double rounding innocuous?",
 * since 53 >= 2*24+2), exact scalings by powers of two, and floor. They are
 * mirrored line for line in the WASM kernels (wasm/assembly/math.ts); the two
 * must stay identical, and tests compare them bit for bit.
 *
 * Algorithms follow the classic Cody & Waite argument reduction (Cody & Waite,
 * "Software Manual for the Elementary Functions", 1980) with plain Taylor /
 * atanh series; accuracy is a few ulp (tests bound it), determinism is exact.
 */
const f = Math.fround;

// ln 2 split so that k * LN2_HI is exact for |k| < 2^9 (LN2_HI has 9 significant bits).
export const LN2_HI = f(0.693359375);
export const LN2_LO = f(-2.12194440e-4);
export const LOG2E = f(1.44269504088896341);
export const EXP_MAX = f(88.72283172607421875); // largest x with exp(x) finite in binary32
export const EXP_MIN = f(-103.97208404541015625); // below this exp(x) rounds to 0

/** POW2[k + 150] = 2^k as an exact binary32 value, k in [-150, 127]. */
const POW2 = (() => {
  const t = new Float64Array(278);
  let v = 1;
  for (let k = 0; k <= 127; k++) { t[k + 150] = v; v *= 2; }
  v = 1;
  for (let k = 0; k >= -150; k--) { t[k + 150] = v; v /= 2; }
  return t;
})();

/** 2^k for integer k in [-150, 127], exact. */
export function pow2(k: number): number {
  return POW2[k + 150]!;
}

// Taylor coefficients of e^r (1/n!), rounded to binary32.
const E2 = f(1 / 2), E3 = f(1 / 6), E4 = f(1 / 24), E5 = f(1 / 120), E6 = f(1 / 720), E7 = f(1 / 5040);

/** e^x in binary32. */
export function expf(x: number): number {
  x = f(x);
  if (x !== x) return NaN;
  if (x > EXP_MAX) return Infinity;
  if (x < EXP_MIN) return 0;
  // k = round(x / ln2); r = x - k ln2 in [-0.35, 0.35] (Cody-Waite, two-part ln2).
  const k = Math.floor(f(f(x * LOG2E) + 0.5));
  let r = f(x - f(k * LN2_HI));
  r = f(r - f(k * LN2_LO));
  // Horner: 1 + r(1 + r(1/2 + r(1/6 + ... + r/5040))); truncation < 6e-9 relative.
  let p = E7;
  p = f(f(p * r) + E6);
  p = f(f(p * r) + E5);
  p = f(f(p * r) + E4);
  p = f(f(p * r) + E3);
  p = f(f(p * r) + E2);
  p = f(f(p * r) + 1);
  p = f(f(p * r) + 1);
  // Scale by 2^k in steps that round at most once.
  if (k > 127) return f(f(p * pow2(k - 1)) * 2);
  if (k < -126) return f(f(p * pow2(k + 100)) * pow2(-100));
  return f(p * pow2(k));
}

const SQRT2 = f(1.41421356237309505);
const L1 = f(2 / 3), L2 = f(2 / 5), L3 = f(2 / 7), L4 = f(2 / 9), L5 = f(2 / 11);
const scratchF = new Float32Array(1);
const scratchI = new Int32Array(scratchF.buffer);

/** Natural logarithm in binary32. */
export function logf(x: number): number {
  x = f(x);
  if (x !== x || x < 0) return NaN;
  if (x === 0) return -Infinity;
  if (x === Infinity) return Infinity;
  let e = 0;
  if (x < pow2(-126)) { x = f(x * pow2(23)); e = -23; } // subnormal: normalise exactly
  scratchF[0] = x;
  const bits = scratchI[0]!;
  e += ((bits >> 23) & 0xff) - 127;
  scratchI[0] = (bits & 0x007fffff) | 0x3f800000; // mantissa in [1, 2)
  let m = scratchF[0]!;
  if (m > SQRT2) { m = f(m * 0.5); e += 1; } // m in [0.7071, 1.4142]
  // log(m) = 2 atanh(s), s = (m-1)/(m+1), |s| <= 0.1716; series to s^11.
  const fm = f(m - 1); // exact (Sterbenz)
  const s = f(fm / f(m + 1));
  const z = f(s * s);
  let q = L5;
  q = f(f(q * z) + L4);
  q = f(f(q * z) + L3);
  q = f(f(q * z) + L2);
  q = f(f(q * z) + L1);
  q = f(q * z); // R = z (2/3 + z (2/5 + ...))
  const lm = f(f(2 * s) + f(s * q));
  // log x = e ln2 + log m, adding the small part first.
  return f(f(f(e * LN2_LO) + lm) + f(e * LN2_HI));
}

const T3 = f(-1 / 3), T5 = f(2 / 15), T7 = f(-17 / 315), T9 = f(62 / 2835), T11 = f(-1382 / 155925);

/** Hyperbolic tangent in binary32. */
export function tanhf(x: number): number {
  x = f(x);
  if (x !== x) return NaN;
  const a = Math.abs(x);
  if (a < pow2(-12)) return x; // tanh x = x to binary32 precision; keeps -0
  let t: number;
  if (a < 0.3) {
    // Taylor series in z = a^2 to a^11; truncation < 3e-9 relative.
    const z = f(a * a);
    let p = T11;
    p = f(f(p * z) + T9);
    p = f(f(p * z) + T7);
    p = f(f(p * z) + T5);
    p = f(f(p * z) + T3);
    t = f(a + f(f(a * z) * p));
  } else if (a > 9) {
    t = 1;
  } else {
    // tanh a = (1 - e) / (1 + e), e = exp(-2a) in [1.5e-8, 0.55]; 1-e exact when e >= 0.5.
    const e = expf(f(-2 * a));
    t = f(f(1 - e) / f(1 + e));
  }
  return x < 0 ? -t : t;
}

/** Square root: IEEE-754 correctly rounded, so Math.sqrt then fround is exact. */
export function sqrtf(x: number): number {
  return f(Math.sqrt(f(x)));
}

/** 1/sqrt(x) as two correctly rounded binary32 ops (no hardware estimate). */
export function rsqrtf(x: number): number {
  return f(1 / f(Math.sqrt(f(x))));
}

/**
 * IEEE 754-2019 maximum: NaN if either is NaN, and +0 > -0. This is exactly
 * WebAssembly's f32.max / f32x4.max, so both backends agree on every input.
 */
export function fmax(a: number, b: number): number {
  if (a !== a || b !== b) return NaN;
  if (a === b) return a === 0 && Object.is(a, -0) ? b : a;
  return a > b ? a : b;
}

// ---------------------------------------------------------------------------
// sin / cos in binary64, for constant tables (rotary embeddings). Only
// correctly rounded binary64 +, -, *, / and Math.round are used (ECMAScript
// specifies those exactly; JS never contracts to FMA), so the bits are fixed.
// Reduction by pi/2 in two parts (Cody & Waite; the split of pi/2 into a
// 33-bit head and its tail is the one fdlibm documents), then Taylor series
// on |r| <= pi/4 to degree 15/16 (truncation < 2e-14).
const PIO2_HI = 1.57079632673412561417e0;
const PIO2_LO = 6.07710050650619224932e-11;
const TWO_OVER_PI = 6.36619772367581382433e-1;

function sinPoly(r: number): number {
  const z = r * r;
  // r - r^3/3! + r^5/5! - ... - r^15/15!
  let p = -1 / 1307674368000;
  p = p * z + 1 / 6227020800;
  p = p * z - 1 / 39916800;
  p = p * z + 1 / 362880;
  p = p * z - 1 / 5040;
  p = p * z + 1 / 120;
  p = p * z - 1 / 6;
  return r + r * z * p;
}

function cosPoly(r: number): number {
  const z = r * r;
  // 1 - r^2/2! + r^4/4! - ... + r^16/16!
  let p = 1 / 20922789888000;
  p = p * z - 1 / 87178291200;
  p = p * z + 1 / 479001600;
  p = p * z - 1 / 3628800;
  p = p * z + 1 / 40320;
  p = p * z - 1 / 720;
  p = p * z + 1 / 24;
  p = p * z - 1 / 2;
  return 1 + z * p;
}

/** sin and cos of x (|x| < 2^20 for full accuracy), deterministic binary64. */
export function sincos64(x: number): { sin: number; cos: number } {
  if (!Number.isFinite(x)) return { sin: NaN, cos: NaN };
  const k = Math.round(x * TWO_OVER_PI);
  const r = x - k * PIO2_HI - k * PIO2_LO;
  const s = sinPoly(r);
  const c = cosPoly(r);
  switch (((k % 4) + 4) % 4) {
    case 0: return { sin: s, cos: c };
    case 1: return { sin: c, cos: -s };
    case 2: return { sin: -s, cos: -c };
    default: return { sin: -c, cos: s };
  }
}
