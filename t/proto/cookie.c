/* Tests of Cookie header parsing (Tornado's parse_cookie plus
 * SimpleCookie's name rules) and Set-Cookie formatting, with vectors
 * produced by Python's http.cookies. */
#include <gust/cookie.h>

#include <string.h>

#include "../tap.h"

static gust_cookies *parse(const char *header) {
  gust_cookies *c = NULL;
  uint8_t *g;
  size_t n = strlen(header);
  if (gust_cookies_new(&c, NULL) != 0)
    bail_out("gust_cookies_new failed");
  /* The header sits right before an unreadable page: over-reads crash. */
  g = tap_guard_copy(header, n);
  if (g == NULL)
    bail_out("tap_guard_copy failed");
  if (gust_cookies_parse(c, (const char *)g, n) != 0)
    bail_out("gust_cookies_parse failed");
  tap_guard_free(g, n);
  return c;
}

static void is_cookie(const gust_cookies *c, const char *name, const void *want,
                      size_t want_len, const char *what) {
  gust_slice v = {NULL, 0};
  int rc = gust_cookies_get(c, name, &v);
  if (!ok(rc == 0, "parse: %s: cookie %s present", what, name))
    return;
  cmp_mem(v.ptr, v.len, want, want_len, "parse: %s: value of %s", what, name);
}

static void test_parse(void) {
  gust_cookies *c;
  gust_slice n, v;

  c = parse("a=\"x\\\"y\\\\z\\073w\\054v\\001\";  b = 2 ; c; =d; "
            "e=\"\\q\\n\\400\"");
  is_cookie(c, "a", "x\"y\\z;w,v\x01", 10, "quoted");
  is_cookie(c, "b", "2", 1, "blanks trimmed");
  is_cookie(c, "e", "qn400", 5, "backslash escapes");
  is_int(gust_cookies_get(c, "", &v), GUST_ENOTFOUND,
         "parse: empty names dropped");
  is_int(gust_cookies_count(c), 3, "parse: three cookies kept");
  is_int(gust_cookies_at(c, 0, &n, &v), 0, "parse: first by index");
  cmp_mem(n.ptr, n.len, "a", 1, "parse: first is a");
  is_int(gust_cookies_at(c, 3, &n, &v), GUST_ERANGE, "parse: index range");
  gust_cookies_free(c);

  c = parse("a=1; a=2; \"x\"");
  is_cookie(c, "a", "2", 1, "duplicate");
  is_int(gust_cookies_count(c), 1, "parse: duplicates collapse");
  gust_cookies_free(c);

  c = parse("Path=/; expires=x; SameSite=Lax; ok=1; bad name=2; b@d=3; "
            "x=\"unterminated; y=\"");
  is_int(gust_cookies_get(c, "Path", &v), GUST_ENOTFOUND,
         "parse: attribute names dropped (Path)");
  is_int(gust_cookies_get(c, "SameSite", &v), GUST_ENOTFOUND,
         "parse: attribute names dropped (SameSite)");
  is_int(gust_cookies_get(c, "bad name", &v), GUST_ENOTFOUND,
         "parse: name with a blank dropped");
  is_int(gust_cookies_get(c, "b@d", &v), GUST_ENOTFOUND,
         "parse: name with an illegal byte dropped");
  is_cookie(c, "ok", "1", 1, "legal among illegal");
  is_cookie(c, "x", "\"unterminated", 13, "unterminated quote kept");
  is_cookie(c, "y", "\"", 1, "lone quote kept");
  gust_cookies_free(c);

  c = parse("user=\"2|1:0|10:1300000000|3:key|8:dmFsdWU=|3d4e\"");
  is_cookie(c, "user", "2|1:0|10:1300000000|3:key|8:dmFsdWU=|3d4e", 41,
            "signed value unquoted");
  gust_cookies_free(c);

  c = parse("");
  is_int(gust_cookies_count(c), 0, "parse: empty header");
  is_int(gust_cookies_parse(c, NULL, 0), 0, "parse: NULL empty header");
  is_int(gust_cookies_parse(c, NULL, 3), GUST_EINVAL,
         "parse: NULL with a length refused");
  gust_cookies_free(c);
  c = parse(";;; ;");
  is_int(gust_cookies_count(c), 0, "parse: only separators");
  gust_cookies_free(c);
  c = parse("a=\"\\\n\"; b=\"\\\"");
  is_cookie(c, "a", "\\\n", 2, "backslash before newline kept");
  is_cookie(c, "b", "\\", 1, "trailing backslash kept");
  gust_cookies_free(c);
  c = parse("\ta=1\xa0; b=\x85v");
  is_cookie(c, "a", "1", 1, "Python strip() of NBSP and tab");
  is_cookie(c, "b", "v", 1, "Python strip() of NEL");
  gust_cookies_free(c);
}

static void test_quote(void) {
  gust_buf out;
  gust_buf_init(&out, NULL);
  gust_cookie_quote((const uint8_t *)"abc!#$%&'*+-.^_`|~:", 19, &out);
  is_str((const char *)out.ptr, "abc!#$%&'*+-.^_`|~:", "quote: legal is bare");
  gust_buf_clear(&out);
  gust_cookie_quote((const uint8_t *)"", 0, &out);
  is_str((const char *)out.ptr, "\"\"", "quote: empty is quoted");
  gust_buf_clear(&out);
  gust_cookie_quote((const uint8_t *)"x\"y\\z;w,v\x01\x7f\xe9:=/", 15, &out);
  is_str((const char *)out.ptr, "\"x\\\"y\\\\z\\073w\\054v\\001\\177\\351:=/\"",
         "quote: Python's escapes");
  gust_buf_clear(&out);
  {
    const char *q = "\"x\\\"y\\\\z\\073w\\054v\\001\\177\\351:=/\"";
    gust_cookie_unquote((const uint8_t *)q, strlen(q), &out);
  }
  cmp_mem(out.ptr, out.len, "x\"y\\z;w,v\x01\x7f\xe9:=/", 15,
          "quote: unquote round trip");
  gust_buf_free(&out);
}

static void test_format(void) {
  gust_buf out;
  gust_cookie_attrs a;
  gust_buf_init(&out, NULL);
  memset(&a, 0, sizeof(a));
  a.path = "/";
  is_int(gust_cookie_format("user",
                            (const uint8_t *)"2|1:0|10:1300000000|3:key|8:"
                                             "dmFsdWU=|3d4e",
                            41, &a, &out),
         0, "format: signed value");
  is_str((const char *)out.ptr,
         "user=\"2|1:0|10:1300000000|3:key|8:dmFsdWU=|3d4e\"; Path=/",
         "format: quoted like Python");
  gust_buf_clear(&out);
  a.domain = "example.com";
  a.has_expires = 1;
  a.expires = 1300000000;
  a.has_max_age = 1;
  a.max_age = 10;
  a.httponly = 1;
  a.secure = 1;
  a.samesite = "Lax";
  is_int(gust_cookie_format("a", (const uint8_t *)"b", 1, &a, &out), 0,
         "format: every attribute");
  is_str((const char *)out.ptr,
         "a=b; Domain=example.com; expires=Sun, 13 Mar 2011 07:06:40 GMT; "
         "HttpOnly; Max-Age=10; Path=/; SameSite=Lax; Secure",
         "format: Python's order and spelling");
  gust_buf_clear(&out);
  is_int(gust_cookie_format("a", (const uint8_t *)"", 0, NULL, &out), 0,
         "format: empty value");
  is_str((const char *)out.ptr, "a=\"\"", "format: empty value quoted");
  gust_buf_clear(&out);
  a.httponly = 0;
  a.secure = 0;
  a.has_max_age = 0;
  a.has_expires = 0;
  a.domain = NULL;
  a.samesite = NULL;
  gust_cookie_format("a", (const uint8_t *)"1", 1, &a, &out);
  is_str((const char *)out.ptr, "a=1; Path=/",
         "format: false booleans are absent");
  gust_buf_clear(&out);
  gust_buf_append_str(&out, "keep");
  is_int(gust_cookie_format("a b", (const uint8_t *)"1", 1, NULL, &out),
         GUST_ECOOKIE_INVALID, "format: blank in name refused");
  is_int(gust_cookie_format("a", (const uint8_t *)"x y", 3, NULL, &out),
         GUST_ECOOKIE_INVALID, "format: blank in value refused");
  is_int(gust_cookie_format("a", (const uint8_t *)"x\ny", 3, NULL, &out),
         GUST_ECOOKIE_INVALID, "format: newline in value refused");
  is_int(gust_cookie_format("a", (const uint8_t *)"x\0y", 3, NULL, &out),
         GUST_ECOOKIE_INVALID, "format: NUL in value refused");
  is_int(gust_cookie_format("", (const uint8_t *)"1", 1, NULL, &out),
         GUST_ECOOKIE_INVALID, "format: empty name refused");
  is_int(gust_cookie_format("Max-Age", (const uint8_t *)"1", 1, NULL, &out),
         GUST_ECOOKIE_INVALID, "format: attribute name refused");
  is_int(gust_cookie_format("a@b", (const uint8_t *)"1", 1, NULL, &out),
         GUST_ECOOKIE_INVALID, "format: illegal name byte refused");
  a.path = "/; Secure";
  is_int(gust_cookie_format("a", (const uint8_t *)"1", 1, &a, &out),
         GUST_ECOOKIE_INVALID, "format: ';' in an attribute refused");
  is_str((const char *)out.ptr, "keep", "format: output untouched on error");
  gust_buf_free(&out);
}

static void test_failmem(void) {
  gust_failmem fm;
  gust_cookies *c;
  unsigned long i;
  int rc, bad = 0, saw_ok = 0;
  const char *h = "a=1; b=\"2\\0733\"; c=3; d=4; e=5; f=6; g=7; h=8; i=9; "
                  "j=10; a=11";
  for (i = 1; i < 60 && !saw_ok; i++) {
    gust_failmem_init(&fm, NULL);
    fm.fail_at = i;
    c = NULL;
    rc = gust_cookies_new(&c, &fm.mem);
    if (rc == 0)
      rc = gust_cookies_parse(c, h, strlen(h));
    if (rc == 0) {
      gust_slice v;
      saw_ok = 1;
      if (gust_cookies_count(c) != 10 || gust_cookies_get(c, "a", &v) != 0 ||
          v.len != 2)
        bad++;
    } else if (rc != GUST_ENOMEM) {
      bad++;
    }
    gust_cookies_free(c);
    if (fm.live_blocks != 0)
      bad++;
  }
  ok(saw_ok, "failmem: parsing succeeds once allocations suffice");
  is_int(bad, 0, "failmem: every failure is GUST_ENOMEM, nothing leaks");
}

int main(void) {
  if (tap_group("parse"))
    test_parse();
  if (tap_group("quote"))
    test_quote();
  if (tap_group("format"))
    test_format();
  if (tap_group("failmem"))
    test_failmem();
  return done_testing();
}
