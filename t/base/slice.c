/* Tests of slices (gust_slice_*) and iovec-shaped vectors (gust_vec_*). */
#include <gust/base.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../tap.h"

/* A slice over a copy of `s` that ends right before an unreadable page, so
 * a function reading past the slice crashes the test. */
static gust_slice guarded(const char *s) {
  gust_slice r;
  r.len = strlen(s);
  r.ptr = tap_guard_copy(s, r.len);
  if (r.ptr == NULL)
    bail_out("tap_guard_copy failed");
  return r;
}

static void unguard(gust_slice s) { tap_guard_free((uint8_t *)s.ptr, s.len); }

static gust_slice mk(const void *p, size_t n) {
  gust_slice s;
  s.ptr = p;
  s.len = n;
  return s;
}

struct u64_case {
  const char *in;
  uint64_t max;
  int rc;
  uint64_t want;
};

int main(void) {
  if (tap_group("slice: gust_slice_cstr")) {
    const char *s = "hello";
    gust_slice a = gust_slice_cstr(s), n = gust_slice_cstr(NULL);
    gust_slice e = gust_slice_cstr("");
    ok(a.ptr == (const uint8_t *)s, "cstr: borrows the string (same pointer)");
    is_int(a.len, 5, "cstr: length excludes the NUL");
    is_int(n.len, 0, "cstr: NULL gives the empty slice");
    ok(gust_slice_eq(n, e), "cstr: NULL and \"\" give equal slices");
    is_int(e.len, 0, "cstr: \"\" gives length 0");
    is_int(gust_slice_cstr("a\0b").len, 1, "cstr: stops at the first NUL");
  }

  if (tap_group("slice: gust_slice_eq")) {
    gust_slice g = guarded("Content-Length");
    ok(gust_slice_eq(g, gust_slice_cstr("Content-Length")),
       "eq: same bytes at different addresses are equal");
    ok(!gust_slice_eq(g, gust_slice_cstr("content-length")),
       "eq: case matters");
    ok(!gust_slice_eq(g, gust_slice_cstr("Content-Lengt")),
       "eq: a prefix is not equal");
    ok(!gust_slice_eq(g, gust_slice_cstr("Content-Lengths")),
       "eq: a longer string is not equal");
    ok(!gust_slice_eq(g, gust_slice_cstr("Content-Lengtx")),
       "eq: last byte differs");
    ok(!gust_slice_eq(g, gust_slice_cstr("xontent-Length")),
       "eq: first byte differs");
    ok(gust_slice_eq(mk(NULL, 0), mk(NULL, 0)), "eq: two NULL empties equal");
    ok(gust_slice_eq(mk(NULL, 0), gust_slice_cstr("")),
       "eq: a NULL empty slice equals \"\"");
    ok(gust_slice_eq(mk("a\0b", 3), mk("a\0b", 3)),
       "eq: compares past embedded NULs");
    ok(!gust_slice_eq(mk("a\0b", 3), mk("a\0c", 3)),
       "eq: a difference after an embedded NUL counts");
    unguard(g);
  }

  if (tap_group("slice: gust_slice_caseeq")) {
    gust_slice g = guarded("Content-Length");
    uint8_t x = 0xc0, y = 0xe0;
    int c, bad = 0;
    ok(gust_slice_caseeq(g, gust_slice_cstr("content-length")),
       "caseeq: lower case matches");
    ok(gust_slice_caseeq(g, gust_slice_cstr("CONTENT-LENGTH")),
       "caseeq: upper case matches");
    ok(gust_slice_caseeq(g, gust_slice_cstr("cOnTeNt-LeNgTh")),
       "caseeq: mixed case matches");
    ok(!gust_slice_caseeq(g, gust_slice_cstr("content-lengt")),
       "caseeq: different lengths never match");
    ok(!gust_slice_caseeq(g, gust_slice_cstr("content_length")),
       "caseeq: '-' and '_' differ");
    ok(gust_slice_caseeq(mk(NULL, 0), gust_slice_cstr("")),
       "caseeq: empty slices match");
    ok(!gust_slice_caseeq(gust_slice_cstr("@"), gust_slice_cstr("`")),
       "caseeq: '@' and '`' (32 apart, not letters) differ");
    ok(!gust_slice_caseeq(gust_slice_cstr("["), gust_slice_cstr("{")),
       "caseeq: '[' and '{' differ");
    ok(!gust_slice_caseeq(gust_slice_cstr("^"), gust_slice_cstr("~")),
       "caseeq: '^' and '~' differ");
    ok(!gust_slice_caseeq(mk(&x, 1), mk(&y, 1)),
       "caseeq: non-ASCII bytes 0xC0/0xE0 are not folded");
    /* Every byte pair: equal ignoring case exactly when the bytes are equal
     * or are the two cases of one ASCII letter. */
    for (c = 0; c < 256; c++) {
      int d;
      for (d = 0; d < 256; d++) {
        uint8_t a = (uint8_t)c, b = (uint8_t)d;
        int la = (c >= 'A' && c <= 'Z') ? c + 32 : c;
        int lb = (d >= 'A' && d <= 'Z') ? d + 32 : d;
        if (gust_slice_caseeq(mk(&a, 1), mk(&b, 1)) != (la == lb))
          bad++;
      }
    }
    is_int(bad, 0, "caseeq: all 65536 byte pairs fold only ASCII letters");
    unguard(g);
  }

  if (tap_group("slice: gust_slice_trim")) {
    const char *s = "  \tvalue with  inner space\t ";
    gust_slice t = gust_slice_trim(gust_slice_cstr(s));
    gust_slice g;
    cmp_mem(t.ptr, t.len, "value with  inner space", 23,
            "trim: strips leading and trailing spaces and tabs");
    ok(t.ptr == (const uint8_t *)s + 3, "trim: returns a view into the input");
    t = gust_slice_trim(gust_slice_cstr(" \t \t "));
    is_int(t.len, 0, "trim: all-whitespace gives an empty slice");
    t = gust_slice_trim(gust_slice_cstr(""));
    is_int(t.len, 0, "trim: empty stays empty");
    t = gust_slice_trim(mk(NULL, 0));
    is_int(t.len, 0, "trim: a NULL empty slice stays empty");
    t = gust_slice_trim(gust_slice_cstr("x"));
    cmp_mem(t.ptr, t.len, "x", 1, "trim: nothing to strip");
    t = gust_slice_trim(gust_slice_cstr("\r\n a \r\n"));
    cmp_mem(t.ptr, t.len, "\r\n a \r\n", 7, "trim: CR and LF are not OWS");
    t = gust_slice_trim(gust_slice_cstr("\va\f"));
    cmp_mem(t.ptr, t.len, "\va\f", 3, "trim: VT and FF are not OWS");
    t = gust_slice_trim(gust_slice_cstr("\t\ta"));
    cmp_mem(t.ptr, t.len, "a", 1, "trim: leading tabs only");
    t = gust_slice_trim(gust_slice_cstr("a  "));
    cmp_mem(t.ptr, t.len, "a", 1, "trim: trailing spaces only");
    t = gust_slice_trim(mk(" a b ", 3));
    cmp_mem(t.ptr, t.len, "a", 1, "trim: looks only inside the slice");
    g = guarded("   ");
    t = gust_slice_trim(g);
    is_int(t.len, 0, "trim: all-space at a page end reads nothing beyond");
    unguard(g);
  }

  if (tap_group("slice: gust_slice_to_u64")) {
    static const struct u64_case cases[] = {
        {"0", UINT64_MAX, 0, 0},
        {"7", UINT64_MAX, 0, 7},
        {"123", UINT64_MAX, 0, 123},
        {"007", UINT64_MAX, 0, 7},
        {"", UINT64_MAX, GUST_ESYNTAX, 0},
        {"-1", UINT64_MAX, GUST_ESYNTAX, 0},
        {"+1", UINT64_MAX, GUST_ESYNTAX, 0},
        {"-0", UINT64_MAX, GUST_ESYNTAX, 0},
        {" 1", UINT64_MAX, GUST_ESYNTAX, 0},
        {"1 ", UINT64_MAX, GUST_ESYNTAX, 0},
        {"\t1", UINT64_MAX, GUST_ESYNTAX, 0},
        {"1\t", UINT64_MAX, GUST_ESYNTAX, 0},
        {"1 2", UINT64_MAX, GUST_ESYNTAX, 0},
        {"12a", UINT64_MAX, GUST_ESYNTAX, 0},
        {"a12", UINT64_MAX, GUST_ESYNTAX, 0},
        {"1.5", UINT64_MAX, GUST_ESYNTAX, 0},
        {"0x10", UINT64_MAX, GUST_ESYNTAX, 0},
        {"1e3", UINT64_MAX, GUST_ESYNTAX, 0},
        {"/", UINT64_MAX, GUST_ESYNTAX, 0}, /* '0' - 1 */
        {":", UINT64_MAX, GUST_ESYNTAX, 0}, /* '9' + 1 */
        {"1000", 1000, 0, 1000},
        {"1001", 1000, GUST_EOVERFLOW, 0},
        {"999", 1000, 0, 999},
        {"10000", 1000, GUST_EOVERFLOW, 0},
        {"5", 5, 0, 5},
        {"7", 5, GUST_EOVERFLOW, 0},
        {"6", 5, GUST_EOVERFLOW, 0},
        {"0", 0, 0, 0},
        {"000", 0, 0, 0},
        {"1", 0, GUST_EOVERFLOW, 0},
        {"10", 9, GUST_EOVERFLOW, 0},
        {"10", 10, 0, 10},
        {"0000000000000000000000000000001", 1, 0, 1},
        {"18446744073709551615", UINT64_MAX, 0, UINT64_MAX},
        {"018446744073709551615", UINT64_MAX, 0, UINT64_MAX},
        {"18446744073709551616", UINT64_MAX, GUST_EOVERFLOW, 0},
        {"18446744073709551620", UINT64_MAX, GUST_EOVERFLOW, 0},
        {"99999999999999999999", UINT64_MAX, GUST_EOVERFLOW, 0},
        {"184467440737095516150", UINT64_MAX, GUST_EOVERFLOW, 0},
        {"99999999999999999999x", UINT64_MAX, GUST_ESYNTAX, 0},
        {"99999999999999999999 ", UINT64_MAX, GUST_ESYNTAX, 0},
        {"18446744073709551615", UINT64_MAX - 1, GUST_EOVERFLOW, 0},
        {"18446744073709551614", UINT64_MAX - 1, 0, UINT64_MAX - 1},
        {"9223372036854775807", INT64_MAX, 0, INT64_MAX},
        {"9223372036854775808", INT64_MAX, GUST_EOVERFLOW, 0},
        {"4294967296", UINT32_MAX, GUST_EOVERFLOW, 0},
        {"4294967295", UINT32_MAX, 0, UINT32_MAX},
        {"8x", 5, GUST_ESYNTAX, 0},
    };
    size_t i;
    int bad = 0;
    uint64_t max, v, out;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
      const struct u64_case *c = &cases[i];
      gust_slice g = guarded(c->in);
      int rc;
      out = 0xdeadbeef;
      rc = gust_slice_to_u64(g, c->max, &out);
      is_int(rc, c->rc, "to_u64: \"%s\" (max %" PRIu64 ") gives %s", c->in,
             c->max, gust_errname(c->rc));
      if (c->rc == 0)
        ok(out == c->want, "to_u64: \"%s\" (max %" PRIu64 ") = %" PRIu64, c->in,
           c->max, c->want);
      unguard(g);
    }
    ok(gust_slice_to_u64(mk("12345", 2), UINT64_MAX, &out) == 0 && out == 12,
       "to_u64: parses only the slice, not the digits after it");
    {
      uint8_t hi = 0xb1; /* would be a digit if the subtraction were signed */
      is_int(gust_slice_to_u64(mk(&hi, 1), UINT64_MAX, &out), GUST_ESYNTAX,
             "to_u64: byte 0xB1 is not a digit");
    }
    /* Exhaustive over small limits: ok exactly when value <= max. */
    for (max = 0; max <= 120; max++) {
      for (v = 0; v <= 1200; v++) {
        char text[8];
        int rc;
        snprintf(text, sizeof(text), "%" PRIu64, v);
        out = UINT64_MAX;
        rc = gust_slice_to_u64(gust_slice_cstr(text), max, &out);
        if (v <= max ? (rc != 0 || out != v) : rc != GUST_EOVERFLOW)
          bad++;
      }
    }
    is_int(bad, 0, "to_u64: every value 0..1200 against every max 0..120");
    /* Each power-of-ten boundary up to UINT64_MAX. */
    bad = 0;
    for (v = 1; v <= UINT64_MAX / 10; v *= 10) {
      char text[32];
      snprintf(text, sizeof(text), "%" PRIu64, v * 10 - 1);
      if (gust_slice_to_u64(gust_slice_cstr(text), v * 10 - 1, &out) != 0 ||
          out != v * 10 - 1 ||
          gust_slice_to_u64(gust_slice_cstr(text), v * 10 - 2, &out) !=
              GUST_EOVERFLOW)
        bad++;
    }
    is_int(bad, 0, "to_u64: 9, 99, ... 10^19-1 at and above their limit");
  }

  if (tap_group("vec: gust_vec_total")) {
    char a[5], b[3], c[4];
    gust_vec v[4] = {{a, 5}, {b, 3}, {c, 4}, {NULL, 0}};
    gust_vec big[3] = {{a, SIZE_MAX}, {b, 1}, {c, 0}};
    gust_vec half[2] = {{a, SIZE_MAX / 2 + 1}, {b, SIZE_MAX / 2 + 1}};
    gust_vec exact[2] = {{a, SIZE_MAX - 1}, {b, 1}};
    gust_vec fits[2] = {{a, SIZE_MAX / 2}, {b, SIZE_MAX / 2}};
    is_int(gust_vec_total(v, 0), 0, "vec_total: no vectors gives 0");
    is_int(gust_vec_total(NULL, 0), 0, "vec_total: NULL with n=0 gives 0");
    is_int(gust_vec_total(v, 1), 5, "vec_total: one vector");
    is_int(gust_vec_total(v, 4), 12, "vec_total: sums, zero-length included");
    ok(gust_vec_total(big, 3) == SIZE_MAX,
       "vec_total: SIZE_MAX + 1 overflows to SIZE_MAX");
    ok(gust_vec_total(half, 2) == SIZE_MAX,
       "vec_total: two halves that wrap to 0 give SIZE_MAX");
    ok(gust_vec_total(exact, 2) == SIZE_MAX,
       "vec_total: a total of exactly SIZE_MAX is SIZE_MAX");
    ok(gust_vec_total(fits, 2) == SIZE_MAX - 1,
       "vec_total: a total just below SIZE_MAX is exact");
  }

  if (tap_group("vec: gust_vec_advance")) {
    char a[5] = "AAAAA", b[3] = "BBB", c[4] = "CCCC";
    gust_vec v[4], *p;
    size_t n, left;

#define RESET()                                                                \
  do {                                                                         \
    v[0].base = a;                                                             \
    v[0].len = 5;                                                              \
    v[1].base = b;                                                             \
    v[1].len = 3;                                                              \
    v[2].base = c;                                                             \
    v[2].len = 4;                                                              \
    v[3].base = NULL;                                                          \
    v[3].len = 0;                                                              \
    p = v;                                                                     \
    n = 3;                                                                     \
  } while (0)

    RESET();
    left = gust_vec_advance(&p, &n, 0);
    ok(left == 0 && p == v && n == 3 && v[0].base == a && v[0].len == 5,
       "vec_advance: 0 bytes changes nothing");

    RESET();
    left = gust_vec_advance(&p, &n, 2);
    is_int(left, 0, "vec_advance: partial first entry leaves nothing over");
    ok(p == v && n == 3, "vec_advance: partial first entry is kept");
    ok(v[0].base == a + 2 && v[0].len == 3,
       "vec_advance: partial first entry trimmed in place");
    ok(v[1].base == b && v[1].len == 3, "vec_advance: next entry untouched");

    RESET();
    left = gust_vec_advance(&p, &n, 5);
    ok(left == 0 && p == v + 1 && n == 2,
       "vec_advance: exactly one whole entry is dropped");
    ok(v[1].base == b && v[1].len == 3,
       "vec_advance: the entry after a whole one is untouched");

    RESET();
    left = gust_vec_advance(&p, &n, 8);
    ok(left == 0 && p == v + 2 && n == 1 && v[2].base == c && v[2].len == 4,
       "vec_advance: exactly two whole entries are dropped");

    RESET();
    left = gust_vec_advance(&p, &n, 9);
    ok(left == 0 && p == v + 2 && n == 1,
       "vec_advance: across several entries");
    ok(v[2].base == c + 1 && v[2].len == 3,
       "vec_advance: the entry reached part-way is trimmed");

    RESET();
    left = gust_vec_advance(&p, &n, 12);
    ok(left == 0 && p == v + 3 && n == 0,
       "vec_advance: exactly everything leaves no entry");

    RESET();
    left = gust_vec_advance(&p, &n, 20);
    is_int(left, 8, "vec_advance: more than available returns the leftover");
    ok(p == v + 3 && n == 0, "vec_advance: and leaves no entry");

    p = v;
    n = 0;
    left = gust_vec_advance(&p, &n, 3);
    ok(left == 3 && p == v && n == 0,
       "vec_advance: no vectors returns all bytes unchanged");

    /* Zero-length entries: once the bytes reach them they count as
     * written and are dropped. */
    v[0].base = a;
    v[0].len = 5;
    v[1].base = NULL;
    v[1].len = 0;
    v[2].base = NULL;
    v[2].len = 0;
    v[3].base = c;
    v[3].len = 4;
    p = v;
    n = 4;
    left = gust_vec_advance(&p, &n, 5);
    ok(left == 0 && p == v + 3 && n == 1 && v[3].base == c && v[3].len == 4,
       "vec_advance: zero-length entries after a written one are dropped");
    left = gust_vec_advance(&p, &n, 1);
    ok(left == 0 && p == v + 3 && n == 1 && v[3].base == c + 1 && v[3].len == 3,
       "vec_advance: then trims the next data entry");

    v[0].base = a;
    v[0].len = 5;
    v[1].base = NULL;
    v[1].len = 0;
    p = v;
    n = 2;
    left = gust_vec_advance(&p, &n, 6);
    ok(left == 1 && n == 0 && p == v + 2,
       "vec_advance: a trailing zero-length entry is dropped, leftover 1");
#undef RESET
  }

  if (tap_group("vec: partial writev simulation")) {
    /* Seven vectors of uneven sizes drained in chunks of 37 bytes must
     * produce exactly the concatenated bytes. */
    static const size_t sizes[7] = {1, 0, 100, 37, 36, 250, 2};
    uint8_t data[426], out[426];
    gust_vec v[7], *p = v;
    size_t n = 7, i, off = 0, got = 0, rounds = 0;
    for (i = 0; i < sizeof(data); i++)
      data[i] = (uint8_t)(i * 7 + 3);
    for (i = 0; i < 7; i++) {
      v[i].base = data + off;
      v[i].len = sizes[i];
      off += sizes[i];
    }
    is_int(off, sizeof(data), "writev: sizes add up to the buffer");
    is_int(gust_vec_total(v, 7), sizeof(data), "writev: total of all vectors");
    while (n > 0 && rounds++ < 100) {
      size_t want = 37, k;
      /* "write" up to 37 bytes from the front of the vectors */
      for (k = 0; k < n && want > 0; k++) {
        size_t take = p[k].len < want ? p[k].len : want;
        memcpy(out + got, p[k].base, take);
        got += take;
        want -= take;
      }
      if (gust_vec_advance(&p, &n, 37 - want) != 0)
        break;
    }
    is_int(got, sizeof(data), "writev: every byte written once");
    cmp_mem(out, got, data, sizeof(data), "writev: bytes in order");
    is_int(n, 0, "writev: vectors fully drained");
  }

  return done_testing();
}
