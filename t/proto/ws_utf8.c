/* Tests of the incremental UTF-8 validator: boundary and invalid
 * sequences with their fail-fast positions, fed whole, at every split
 * point and one byte at a time, plus a differential check against a
 * straightforward decoder. */
#include "../tap.h"

#include <gust/ws.h>

#include <stdlib.h>
#include <string.h>

/* The copy of the validator in ws_utf8_impl.c, with its level hook
 * (levels: 0 scalar DFA, 1 SSSE3, 2 AVX2). */
int tst_utf8_feed(gust_utf8 *v, const uint8_t *data, size_t len,
                  size_t *bad_off);
int tst_utf8_complete(const gust_utf8 *v);
int tst_utf8_set_level(int level);

/* Expected outcome: -1 = valid and complete, -2 = valid prefix but
 * incomplete, otherwise the offset where validation must fail. */
struct ucase {
  const char *name;
  const char *bytes;
  size_t len;
  long want;
};

#define C(name, s, want)                                                       \
  { name, s, sizeof(s) - 1, want }

static const struct ucase cases[] = {
    C("empty", "", -1),
    C("ascii", "Hello, world", -1),
    C("nul byte", "a\0b", -1),
    C("U+0080", "\xc2\x80", -1),
    C("U+07FF", "\xdf\xbf", -1),
    C("U+0800", "\xe0\xa0\x80", -1),
    C("U+D7FF", "\xed\x9f\xbf", -1),
    C("U+E000", "\xee\x80\x80", -1),
    C("U+FFFD", "\xef\xbf\xbd", -1),
    C("U+FFFE non-character", "\xef\xbf\xbe", -1),
    C("U+FFFF non-character", "\xef\xbf\xbf", -1),
    C("U+FDD0 non-character", "\xef\xb7\x90", -1),
    C("U+10000", "\xf0\x90\x80\x80", -1),
    C("U+10FFFF", "\xf4\x8f\xbf\xbf", -1),
    C("kosme", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5", -1),
    C("cut 2-byte", "\xc2", -2),
    C("cut 3-byte", "\xe1\x80", -2),
    C("cut 4-byte", "\xf0\x90\x80", -2),
    C("lone continuation", "\x80", 0),
    C("continuation after ascii", "ab\xbf", 2),
    C("C0 lead", "\xc0\x80", 0),
    C("C1 lead", "\xc1\xbf", 0),
    C("F5 lead", "\xf5\x80\x80\x80", 0),
    C("FF byte", "a\xff", 1),
    C("FE byte", "\xfe", 0),
    C("overlong 3-byte E0 80", "\xe0\x80\xaf", 1),
    C("overlong 3-byte E0 9F", "\xe0\x9f\xbf", 1),
    C("overlong 4-byte F0 80", "\xf0\x80\x80\xaf", 1),
    C("overlong 4-byte F0 8F", "\xf0\x8f\xbf\xbf", 1),
    C("surrogate U+D800", "\xed\xa0\x80", 1),
    C("surrogate U+DFFF", "\xed\xbf\xbf", 1),
    C("above U+10FFFF", "\xf4\x90\x80\x80", 1),
    C("lead then ascii", "\xc2\x41", 1),
    C("3-byte lead then ascii", "\xe1\x80\x41", 2),
    C("4-byte lead then lead", "\xf1\x80\x80\xc2", 3),
    C("autobahn 6.4.1 prefix",
      "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"
      "\xf4\x90\x80\x80",
      12),
    C("autobahn 6.4.3 prefix",
      "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"
      "\xf4\x90",
      12),
    C("valid after long ascii", "0123456789abcdef0123456789abcdef\xe2\x82\xac",
      -1),
    C("bad after long ascii", "0123456789abcdef0123456789abcdef0123\xc0", 36),
};

static long outcome(const gust_utf8 *v, int rc, size_t bad, size_t base) {
  if (rc < 0)
    return (long)(base + bad);
  return gust_utf8_complete(v) ? -1 : -2;
}

static long run_split(const uint8_t *p, size_t n, size_t step) {
  gust_utf8 v = {0};
  size_t off = 0, bad = 0;
  int rc = 0;
  while (off < n || (n == 0 && off == 0)) {
    size_t k = n - off < step ? n - off : step;
    rc = gust_utf8_feed(&v, p + off, k, &bad);
    if (rc < 0)
      return outcome(&v, rc, bad, off);
    off += k;
    if (n == 0)
      break;
  }
  return outcome(&v, rc, bad, 0);
}

static long run_cut(const uint8_t *p, size_t n, size_t cut) {
  gust_utf8 v = {0};
  size_t bad = 0;
  int rc = gust_utf8_feed(&v, p, cut, &bad);
  if (rc < 0)
    return (long)bad;
  rc = gust_utf8_feed(&v, p + cut, n - cut, &bad);
  return outcome(&v, rc, bad, cut);
}

/* A plain decoder used as the oracle. */
static long oracle(const uint8_t *p, size_t n) {
  size_t i = 0;
  while (i < n) {
    uint8_t b = p[i];
    unsigned need, j;
    uint32_t cp, min;
    if (b < 0x80) {
      i++;
      continue;
    }
    if (b >= 0xc2 && b <= 0xdf)
      need = 1, cp = b & 0x1f, min = 0x80;
    else if (b >= 0xe0 && b <= 0xef)
      need = 2, cp = b & 0x0f, min = 0x800;
    else if (b >= 0xf0 && b <= 0xf4)
      need = 3, cp = b & 0x07, min = 0x10000;
    else
      return (long)i;
    for (j = 1; j <= need; j++) {
      if (i + j >= n)
        return -2;
      if ((p[i + j] & 0xc0) != 0x80)
        return (long)(i + j);
      cp = (cp << 6) | (p[i + j] & 0x3f);
      /* fail as soon as the prefix cannot lead to a valid code point */
      {
        unsigned rest = need - j;
        uint32_t lo = cp << (6 * rest), hi = lo | ((1u << (6 * rest)) - 1);
        if (hi < min || lo > 0x10ffff || (lo >= 0xd800 && hi <= 0xdfff))
          return (long)(i + j);
      }
    }
    i += need + 1;
  }
  return -1;
}

/* Outcome of the private copy on p[0..n) fed in pieces of `step`. */
static long copy_split(const uint8_t *p, size_t n, size_t step) {
  gust_utf8 v = {0};
  size_t off = 0, bad = 0;
  int rc = 0;
  do {
    size_t k = n - off < step ? n - off : step;
    rc = tst_utf8_feed(&v, p + off, k, &bad);
    if (rc < 0)
      return (long)(off + bad);
    off += k;
  } while (off < n);
  return tst_utf8_complete(&v) ? -1 : -2;
}

static unsigned rnd_state = 2463534242u;

static unsigned rnd(void) {
  rnd_state ^= rnd_state << 13;
  rnd_state ^= rnd_state >> 17;
  rnd_state ^= rnd_state << 5;
  return rnd_state;
}

/* Appends one code point of a random width (1..4 bytes) at p. */
static size_t put_char(uint8_t *p) {
  static const uint32_t bases[] = {0x20,   0x430,  0x4e00,   0x1f600, 0xd7ff,
                                   0xe000, 0xffff, 0x10ffff, 0x7ff,   0x800};
  uint32_t cp = bases[rnd() % 10];
  if (cp < 0x80)
    cp += rnd() % 0x5f;
  if (cp < 0x80)
    return p[0] = (uint8_t)cp, 1;
  if (cp < 0x800)
    return p[0] = (uint8_t)(0xc0 | (cp >> 6)),
           p[1] = (uint8_t)(0x80 | (cp & 0x3f)), 2;
  if (cp < 0x10000)
    return p[0] = (uint8_t)(0xe0 | (cp >> 12)),
           p[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f)),
           p[2] = (uint8_t)(0x80 | (cp & 0x3f)), 3;
  return p[0] = (uint8_t)(0xf0 | (cp >> 18)),
         p[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f)),
         p[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f)),
         p[3] = (uint8_t)(0x80 | (cp & 0x3f)), 4;
}

/* Fills n bytes of valid text (the last code point may be cut). */
static void fill_text(uint8_t *p, size_t n) {
  uint8_t tmp[4];
  size_t i = 0;
  while (i < n) {
    size_t k = put_char(tmp), j;
    for (j = 0; j < k && i < n; j++)
      p[i++] = tmp[j];
  }
}

/* Compares the selected level of the copy with the oracle on p[0..n),
 * whole and split at a random point. */
static int agree(const uint8_t *p, size_t n) {
  long want = oracle(p, n);
  size_t step = 1 + rnd() % (n + 1);
  return copy_split(p, n, n ? n : 1) == want && copy_split(p, n, step) == want;
}

static void level_checks(const char *name) {
  static uint8_t mem[512];
  size_t n, align, pos;
  int bad = 0, bad_text = 0, bad_pairs = 0, bad_seq = 0, bad_cut = 0;
  unsigned b1, b2, b3, b4;
  static const uint8_t tails[] = {0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f,
                                  0xa0, 0xbf, 0xc0, 0xc2, 0xe0, 0xf0, 0xff};

  /* every length 0..200 at every alignment 0..63: random bytes from
   * interesting values, and valid text with one byte replaced */
  for (n = 0; n <= 200; n++)
    for (align = 0; align < 64; align++) {
      uint8_t *p = mem + align;
      size_t j;
      for (j = 0; j < n; j++)
        p[j] = rnd() % 4 == 0 ? tails[rnd() % sizeof tails]
                              : (uint8_t)(rnd() & 0xff);
      if (!agree(p, n))
        bad++;
      fill_text(p, n);
      if (!agree(p, n))
        bad_text++;
      if (n > 0) {
        p[rnd() % n] = (uint8_t)(rnd() & 0xff);
        if (!agree(p, n))
          bad_text++;
      }
    }
  is_int(bad, 0, "levels: %s: random bytes, lengths 0-200, 64 alignments",
         name);
  is_int(bad_text, 0,
         "levels: %s: multilingual text, intact and with one byte "
         "replaced",
         name);

  /* every byte pair, at positions around the 16/32/64-byte group edges,
   * inside valid multibyte text */
  for (b1 = 0; b1 < 256; b1++)
    for (b2 = 0; b2 < 256; b2++) {
      static const size_t at[] = {0, 15, 31, 62, 63, 64, 95, 126};
      uint8_t *p = mem + 3;
      size_t k = at[(b1 + b2) % 8];
      fill_text(p, 160);
      p[k] = (uint8_t)b1;
      p[k + 1] = (uint8_t)b2;
      if (!agree(p, 160))
        bad_pairs++;
    }
  is_int(bad_pairs, 0, "levels: %s: every byte pair inside text", name);

  /* every 3- and 4-byte sequence from a lead C0..FF, with the later bytes
   * drawn from the boundary values, ending right at group edges */
  for (b1 = 0xc0; b1 < 256; b1++)
    for (b2 = 0; b2 < 256; b2++)
      for (b3 = 0; b3 < sizeof tails; b3++)
        for (b4 = 0; b4 < 3; b4++) {
          uint8_t *p = mem + (b2 & 7);
          size_t end = 64 + b4 * 32 - b3 % 4;
          memset(p, 'a', 200);
          p[5] = 0xd0, p[6] = 0xb0; /* something non-ASCII in the group */
          p[end - 3] = (uint8_t)b1;
          p[end - 2] = (uint8_t)b2;
          p[end - 1] = tails[b3];
          p[end] = b4 == 0 ? 0x80 : tails[(b3 + b4) % sizeof tails];
          if (!agree(p, 200) || !agree(p, end + b4))
            bad_seq++;
        }
  is_int(bad_seq, 0,
         "levels: %s: 3- and 4-byte sequences (surrogates, overlongs, "
         "above U+10FFFF) across group edges",
         name);

  /* valid text cut at every length up to 300: incomplete ends, including
   * right at block edges, and streamed in 64-byte pieces */
  for (pos = 0; pos < 40; pos++) {
    uint8_t *p = mem + pos;
    fill_text(p, 300);
    for (n = 0; n <= 300; n++)
      if (!agree(p, n) || copy_split(p, n, 64) != oracle(p, n) ||
          copy_split(p, n, 17) != oracle(p, n))
        bad_cut++;
  }
  is_int(bad_cut, 0, "levels: %s: truncations at every length", name);
}

int main(void) {
  size_t i;

  if (tap_group("table")) {
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
      const struct ucase *c = &cases[i];
      const uint8_t *p = (const uint8_t *)c->bytes;
      uint8_t *g = tap_guard_copy(p, c->len);
      long whole = run_split(g, c->len, c->len ? c->len : 1);
      long bytewise = run_split(g, c->len, 1);
      size_t cut;
      int cuts_ok = 1;
      for (cut = 0; cut <= c->len; cut++)
        if (run_cut(g, c->len, cut) != c->want)
          cuts_ok = 0;
      is_int(whole, c->want, "table: %s (whole, guard page)", c->name);
      is_int(bytewise, c->want, "table: %s (byte by byte)", c->name);
      ok(cuts_ok, "table: %s (every split point)", c->name);
      is_int(gust_utf8_valid(p, c->len), c->want == -1,
             "table: %s (gust_utf8_valid)", c->name);
      tap_guard_free(g, c->len);
    }
  }
  if (tap_group("sticky")) {
    gust_utf8 v = {0};
    size_t bad = 99;
    ok(gust_utf8_feed(&v, (const uint8_t *)"\xff", 1, &bad) == GUST_EWS_UTF8,
       "sticky: rejected");
    ok(gust_utf8_feed(&v, (const uint8_t *)"a", 1, &bad) == GUST_EWS_UTF8 &&
           bad == 0,
       "sticky: later input fails at offset 0");
  }
  if (tap_group("all code points")) {
    uint32_t cp;
    int bad = 0;
    for (cp = 0; cp <= 0x10ffff; cp++) {
      uint8_t b[4];
      size_t n;
      int valid = cp < 0xd800 || cp > 0xdfff;
      if (cp < 0x80)
        b[0] = (uint8_t)cp, n = 1;
      else if (cp < 0x800)
        b[0] = (uint8_t)(0xc0 | (cp >> 6)),
        b[1] = (uint8_t)(0x80 | (cp & 0x3f)), n = 2;
      else if (cp < 0x10000)
        b[0] = (uint8_t)(0xe0 | (cp >> 12)),
        b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f)),
        b[2] = (uint8_t)(0x80 | (cp & 0x3f)), n = 3;
      else
        b[0] = (uint8_t)(0xf0 | (cp >> 18)),
        b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f)),
        b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f)),
        b[3] = (uint8_t)(0x80 | (cp & 0x3f)), n = 4;
      if (gust_utf8_valid(b, n) != valid)
        bad++;
    }
    is_int(bad, 0,
           "all code points: every scalar value valid, surrogates "
           "invalid");
  }
  if (tap_group("differential")) {
    static uint8_t buf[256];
    unsigned seed = 12345;
    int bad = 0, round;
    static const uint8_t pool[] = {'a',  'Z',  0x7f, 0x80, 0x8f, 0x90, 0x9f,
                                   0xa0, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xe1,
                                   0xed, 0xef, 0xf0, 0xf1, 0xf4, 0xf5, 0xff};
    for (round = 0; round < 20000; round++) {
      size_t n = (size_t)(round % 64), j;
      for (j = 0; j < n; j++) {
        seed = seed * 1103515245u + 12345u;
        buf[j] = (seed >> 16) % 3 == 0 ? (uint8_t)'x'
                                       : pool[(seed >> 8) % sizeof pool];
      }
      if (run_split(buf, n, n ? n : 1) != oracle(buf, n) ||
          run_split(buf, n, 1) != oracle(buf, n))
        bad++;
    }
    is_int(bad, 0,
           "differential: 20000 random strings agree with the "
           "reference decoder, whole and byte by byte");
  }
  if (tap_group("levels")) {
    static const char *const names[] = {"scalar", "ssse3", "avx2"};
    int level;
    ok(tst_utf8_set_level(-1) >= 0, "levels: best level selectable");
    for (level = 0; level < 3; level++) {
      if (tst_utf8_set_level(level) != level) {
        ok(level > 0, "levels: %s missing on this CPU (skipped)", names[level]);
        continue;
      }
      level_checks(names[level]);
    }
    tst_utf8_set_level(-1);
  }
  return done_testing();
}
