/*
 * Independent reference for src/core/prng.ts, written from the algorithm in
 * Blackman & Vigna, "Scrambled linear pseudorandom number generators" (2018),
 * xoshiro128** (§4, scrambler "**" with S=5, R=7, T=9; linear engine
 * xoshiro128 with A=9, B=11).
 *
 * It prints the vectors that test/core/prng.test.ts hard-codes, and it checks
 * the published jump / long-jump polynomials without trusting them: it builds
 * the 128x128 GF(2) matrix M of one engine step, squares it 64 (96) times to
 * get M^(2^64) (M^(2^96)), and compares M^(2^k) * state with what jump()
 * produces.  Regenerate with:
 *   gcc -O2 -std=c11 -Wall -o /tmp/xo test/vectors/xoshiro128ss-ref.c && /tmp/xo
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef unsigned __int128 u128;

static uint32_t rotl(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

static uint32_t next(uint32_t s[4]) {
  uint32_t result = rotl(s[1] * 5u, 7) * 9u;
  uint32_t t = s[1] << 9;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 11);
  return result;
}

static void poly_jump(uint32_t s[4], const uint32_t J[4]) {
  uint32_t a[4] = {0, 0, 0, 0};
  for (int w = 0; w < 4; w++)
    for (int b = 0; b < 32; b++) {
      if (J[w] & (1u << b))
        for (int i = 0; i < 4; i++) a[i] ^= s[i];
      next(s);
    }
  memcpy(s, a, sizeof a);
}

/* state <-> 128-bit vector: bit 32*i+j is bit j of s[i] */
static u128 pack(const uint32_t s[4]) {
  return (u128)s[0] | ((u128)s[1] << 32) | ((u128)s[2] << 64) | ((u128)s[3] << 96);
}
static void unpack(u128 v, uint32_t s[4]) {
  for (int i = 0; i < 4; i++) s[i] = (uint32_t)(v >> (32 * i));
}

/* matrices stored by column: col[j] = M * e_j */
static u128 apply(const u128 col[128], u128 v) {
  u128 r = 0;
  for (int j = 0; j < 128; j++)
    if ((v >> j) & 1) r ^= col[j];
  return r;
}
static void square(u128 col[128]) {
  u128 out[128];
  for (int j = 0; j < 128; j++) out[j] = apply(col, col[j]);
  memcpy(col, out, sizeof out);
}

static void print_state(const char *name, const uint32_t s[4]) {
  printf("%s: [0x%08x, 0x%08x, 0x%08x, 0x%08x]\n", name, s[0], s[1], s[2], s[3]);
}

static void print_outputs(const char *name, uint32_t s[4], int n) {
  printf("%s:", name);
  for (int i = 0; i < n; i++) printf("%s0x%08x", i ? ", " : " [", next(s));
  printf("]\n");
}

static int check_jump(const char *name, const uint32_t J[4], int log2dist, const uint32_t start[4]) {
  u128 col[128];
  for (int j = 0; j < 128; j++) {
    uint32_t e[4];
    unpack((u128)1 << j, e);
    next(e);
    col[j] = pack(e);
  }
  for (int k = 0; k < log2dist; k++) square(col);
  uint32_t viaMatrix[4], viaPoly[4];
  unpack(apply(col, pack(start)), viaMatrix);
  memcpy(viaPoly, start, sizeof viaPoly);
  poly_jump(viaPoly, J);
  int ok = memcmp(viaMatrix, viaPoly, sizeof viaPoly) == 0;
  printf("%s polynomial == M^(2^%d): %s\n", name, log2dist, ok ? "yes" : "NO");
  return ok;
}

int main(void) {
  static const uint32_t JUMP[4] = {0x8764000b, 0xf542d2d3, 0x6fa035c3, 0x77f2db5b};
  static const uint32_t LONG_JUMP[4] = {0xb523952e, 0x0b6f099f, 0xccf5a0ef, 0x1c580662};
  const uint32_t start[4] = {1, 2, 3, 4};
  uint32_t s[4];

  memcpy(s, start, sizeof s);
  print_outputs("outputs from [1,2,3,4]", s, 16);
  print_state("state after 16 outputs", s);

  memcpy(s, start, sizeof s);
  poly_jump(s, JUMP);
  print_state("jump([1,2,3,4])", s);
  print_outputs("outputs after jump", s, 8);

  memcpy(s, start, sizeof s);
  poly_jump(s, LONG_JUMP);
  print_state("longJump([1,2,3,4])", s);
  print_outputs("outputs after longJump", s, 8);

  const uint32_t other[4] = {0x9e3779b9, 0x243f6a88, 0xb7e15162, 0x00000001};
  memcpy(s, other, sizeof s);
  print_outputs("outputs from [0x9e3779b9,0x243f6a88,0xb7e15162,1]", s, 8);
  memcpy(s, other, sizeof s);
  poly_jump(s, JUMP);
  print_state("jump([0x9e3779b9,0x243f6a88,0xb7e15162,1])", s);

  int ok = check_jump("JUMP", JUMP, 64, start) & check_jump("LONG_JUMP", LONG_JUMP, 96, start) &
           check_jump("JUMP (other state)", JUMP, 64, other);
  return ok ? 0 : 1;
}
