/* Tests of WebSocket masking: the RFC vectors and a differential check of
 * the word-wide path against a byte loop at every length, offset and
 * alignment; then each block width (forced through the level hook of the
 * private copy in ws_mask_impl.c) against a byte loop at every length
 * 0..300 and longer runs, every key offset, misaligned source and
 * destination, in place and copying, in pieces, with canaries around the
 * destination and the source ending flush against an unreadable page. */
#include "../tap.h"

#include <gust/ws.h>

#include <stdlib.h>
#include <string.h>

/* The copy of the masking code in ws_mask_impl.c, with its level hook
 * (levels: 0 words, 1 16-byte vectors, 2 AVX2, 3 AVX-512F). */
void tst_ws_mask(uint8_t *data, size_t len, const uint8_t *key,
                 uint64_t offset);
void tst_ws_mask_copy(uint8_t *dst, const uint8_t *src, size_t len,
                      const uint8_t *key, uint64_t offset);
int tst_ws_mask_set_level(int level);

static const char *const level_names[] = {"words", "vec16", "avx2", "avx512"};

static void ref_copy(uint8_t *d, const uint8_t *s, size_t n, const uint8_t *k,
                     uint64_t off) {
  size_t i;
  for (i = 0; i < n; i++)
    d[i] = (uint8_t)(s[i] ^ k[(off + i) & 3]);
}

enum { CANARY = 64, MAX_ALIGN = 64 };

/* Lengths beyond 0..300: around the multiples of every block width and
 * of four blocks, and runs long enough for many aligned loop rounds. */
static const size_t long_lens[] = {301,  383,  384,  385,  511,  512,
                                   513,  767,  768,  769,  1023, 1024,
                                   1025, 4095, 4096, 4097, 65539};

/* Checks one width at one length: every key offset, every destination
 * misalignment 0..63 (every head size of every width) with the source
 * at the same and at a skewed misalignment, copying (canaries around the
 * destination) and in place. The source and the in-place buffer end
 * exactly at the end of their allocation so that sanitizers and valgrind
 * see any read or write past the end. Returns the number of mismatches. */
static int check_len(size_t n, const uint8_t *pattern, int all_aligns) {
  static const uint8_t key[4] = {0x9c, 0x21, 0x5e, 0xf7};
  uint8_t *want = malloc(n + 1),
          *dbuf = malloc(CANARY + MAX_ALIGN + n + CANARY);
  int bad = 0;
  unsigned d, v;
  if (want == NULL || dbuf == NULL)
    bail_out("out of memory");
  for (d = 0; d < MAX_ALIGN; d += all_aligns ? 1 : 7) {
    for (v = 0; v < 2; v++) {
      size_t s = v == 0 ? d : (d * 37 + n * 11 + 5) % MAX_ALIGN;
      uint8_t *sbuf = malloc(s + n + 1), *ibuf = malloc(d + n + 1);
      uint64_t off;
      if (sbuf == NULL || ibuf == NULL)
        bail_out("out of memory");
      /* + 1 above only so that malloc(0) cannot return NULL; the
       * pointers below still end exactly at the last used byte. */
      memcpy(sbuf + s, pattern, n);
      for (off = 0; off < 4; off++) {
        /* High offset bits must not matter. */
        uint64_t big = off + ((uint64_t)(d + 1) << 33);
        uint8_t *dst = dbuf + CANARY + d;
        size_t j;
        ref_copy(want, pattern, n, key, off);
        memset(dbuf, 0xa5, CANARY + MAX_ALIGN + n + CANARY);
        tst_ws_mask_copy(dst, sbuf + s, n, key, big);
        if (memcmp(dst, want, n) != 0)
          bad++;
        for (j = 0; j < CANARY + d; j++)
          if (dbuf[j] != 0xa5)
            bad++;
        for (j = 0; j < CANARY; j++)
          if (dst[n + j] != 0xa5)
            bad++;
        if (memcmp(sbuf + s, pattern, n) != 0)
          bad++; /* the source is left alone */
        if (v == 0) {
          memcpy(ibuf + d, pattern, n);
          tst_ws_mask(ibuf + d, n, key, big);
          if (memcmp(ibuf + d, want, n) != 0)
            bad++;
        }
      }
      free(sbuf);
      free(ibuf);
    }
  }
  free(want);
  free(dbuf);
  return bad;
}

static void check_level(int level, const uint8_t *pattern) {
  static const uint8_t key[4] = {0x01, 0x80, 0x7f, 0xff};
  const char *name = level_names[level];
  int bad = 0, bad_long = 0, bad_pieces = 0, bad_guard = 0;
  size_t n, k, cut;

  for (n = 0; n <= 300; n++)
    bad += check_len(n, pattern, 1);
  is_int(bad, 0,
         "%s: lengths 0-300, key offsets 0-3, destination misaligned by "
         "0-63, source at the same and a skewed misalignment, copying and "
         "in place, canaries intact",
         name);
  for (k = 0; k < sizeof long_lens / sizeof long_lens[0]; k++)
    bad_long += check_len(long_lens[k], pattern, long_lens[k] < 2000);
  is_int(bad_long, 0, "%s: longer runs up to 65539 bytes", name);

  /* A frame unmasked as it arrives: three pieces at many cuts, each
   * piece at the payload offset where it starts. */
  {
    enum { LEN = 300 };
    uint8_t whole[LEN], parts[LEN];
    uint64_t start;
    for (start = 0; start < 4; start++) {
      ref_copy(whole, pattern, LEN, key, start);
      for (cut = 0; cut <= LEN; cut += 3) {
        size_t cut2 = cut + (LEN - cut) / 3 + (cut & 7);
        if (cut2 > LEN)
          cut2 = LEN;
        memcpy(parts, pattern, LEN);
        tst_ws_mask(parts, cut, key, start);
        tst_ws_mask(parts + cut, cut2 - cut, key, start + cut);
        tst_ws_mask(parts + cut2, LEN - cut2, key, start + cut2);
        if (memcmp(parts, whole, LEN) != 0)
          bad_pieces++;
      }
    }
  }
  is_int(bad_pieces, 0, "%s: a 300-byte payload in three pieces", name);

  /* Source and destination ending flush against an unreadable page: a
   * read or write past the end crashes the test. */
  for (n = 0; n <= 300; n++) {
    uint8_t want[300];
    uint8_t *src = tap_guard_copy(pattern, n),
            *dst = tap_guard_copy(pattern, n);
    if (src == NULL || dst == NULL)
      bail_out("cannot map guard pages");
    ref_copy(want, pattern, n, key, n);
    tst_ws_mask_copy(dst, src, n, key, n);
    if (memcmp(dst, want, n) != 0)
      bad_guard++;
    tst_ws_mask(src, n, key, n);
    if (memcmp(src, want, n) != 0)
      bad_guard++;
    tap_guard_free(src, n);
    tap_guard_free(dst, n);
  }
  is_int(bad_guard, 0, "%s: runs ending at an unreadable page", name);
}

static void ref_mask(uint8_t *d, size_t n, const uint8_t *k, uint64_t off) {
  size_t i;
  for (i = 0; i < n; i++)
    d[i] ^= k[(off + i) & 3];
}

static void vector(const char *name, const uint8_t *key, const uint8_t *in,
                   size_t n, const uint8_t *want) {
  uint8_t buf[32];
  memcpy(buf, in, n);
  gust_ws_mask(buf, n, key, 0);
  cmp_mem(buf, n, want, n, "vector: %s", name);
}

int main(void) {
  if (tap_group("vectors")) {
    vector("abcd empty", (const uint8_t *)"abcd", (const uint8_t *)"", 0,
           (const uint8_t *)"");
    vector("abcd b", (const uint8_t *)"abcd", (const uint8_t *)"b", 1,
           (const uint8_t *)"\x03");
    vector("abcd 54321", (const uint8_t *)"abcd", (const uint8_t *)"54321", 5,
           (const uint8_t *)"TVPVP");
    vector("ZXCV 98765432", (const uint8_t *)"ZXCV",
           (const uint8_t *)"98765432", 8, (const uint8_t *)"c`t`olpd");
    vector("00010203", (const uint8_t *)"\x00\x01\x02\x03",
           (const uint8_t *)"\xff\xfb\xfd\xfc\xfe\xfa", 6,
           (const uint8_t *)"\xff\xfa\xff\xff\xfe\xfb");
    vector("fffbfdfc", (const uint8_t *)"\xff\xfb\xfd\xfc",
           (const uint8_t *)"\x00\x01\x02\x03\x04\x05", 6,
           (const uint8_t *)"\xff\xfa\xff\xff\xfb\xfe");
    vector("RFC 5.7 Hello", (const uint8_t *)"\x37\xfa\x21\x3d",
           (const uint8_t *)"Hello", 5,
           (const uint8_t *)"\x7f\x9f\x4d\x51\x58");
  }
  if (tap_group("differential")) {
    static uint8_t src[1200], a[1216], b[1216];
    static const size_t extra[] = {300, 383,  384,  511,  512, 513,
                                   700, 1023, 1024, 1100, 1199};
    const uint8_t key[4] = {0x12, 0x9a, 0xfe, 0x01};
    size_t i, n, align, k;
    uint64_t off;
    int bad = 0, bad_copy = 0;
    for (i = 0; i < sizeof src; i++)
      src[i] = (uint8_t)(i * 131 + 7);
    for (k = 0; k < 261 + sizeof extra / sizeof extra[0]; k++) {
      n = k < 261 ? k : extra[k - 261];
      for (align = 0; align < 8; align++)
        for (off = 0; off < 8; off++) {
          memcpy(a + align, src, n);
          memcpy(b, src, n);
          gust_ws_mask(a + align, n, key, off + ((uint64_t)1 << 40));
          ref_mask(b, n, key, off);
          if (memcmp(a + align, b, n) != 0)
            bad++;
          memset(a, 0, sizeof a);
          gust_ws_mask_copy(a + align, src, n, key, off);
          if (memcmp(a + align, b, n) != 0)
            bad_copy++;
        }
    }
    is_int(bad, 0,
           "differential: in place, lengths 0-260 and up to 1199 (every "
           "vector path), 8 alignments, 8 offsets");
    is_int(bad_copy, 0, "differential: copying form agrees");
  }
  if (tap_group("pieces")) {
    uint8_t whole[100], parts[100];
    const uint8_t key[4] = {1, 2, 3, 4};
    size_t i, cut;
    int bad = 0;
    for (i = 0; i < 100; i++)
      whole[i] = (uint8_t)i;
    gust_ws_mask(whole, 100, key, 0);
    for (cut = 0; cut <= 100; cut++) {
      for (i = 0; i < 100; i++)
        parts[i] = (uint8_t)i;
      gust_ws_mask(parts, cut, key, 0);
      gust_ws_mask(parts + cut, 100 - cut, key, cut);
      if (memcmp(parts, whole, 100) != 0)
        bad++;
    }
    is_int(bad, 0, "pieces: unmasking in two pieces at every cut matches");
  }
  if (tap_group("widths")) {
    static uint8_t pattern[65539];
    size_t i;
    int level, best;
    for (i = 0; i < sizeof pattern; i++)
      pattern[i] = (uint8_t)(i * 167 + (i >> 8) + 3);
    best = tst_ws_mask_set_level(-1);
    ok(best >= 0 && best <= 3, "widths: the best level is known (%d)", best);
    for (level = 0; level < 4; level++) {
      if (tst_ws_mask_set_level(level) != level) {
        skip(4, "%s: not available on this CPU or build", level_names[level]);
        continue;
      }
      check_level(level, pattern);
    }
    is_int(tst_ws_mask_set_level(4), GUST_EINVAL,
           "widths: an unknown level is refused");
    tst_ws_mask_set_level(-1);
  }
  return done_testing();
}
