/* Tests of gust_url_split() and gust_url_resolve(): RFC 3986 component
 * splitting, what it refuses, and every resolution example of RFC 3986
 * section 5.4. Inputs sit right before an unreadable page. */
#include <gust/httputil.h>

#include <string.h>

#include "../tap.h"

#define RFC_BASE "http://a/b/c/d;p?q"

static void put(gust_buf *d, const char *name, gust_slice v) {
  gust_buf_printf(d, "%s[%.*s] ", name, (int)v.len, (const char *)v.ptr);
}

/* "scheme[http] user[u] host[h] port[80] path[/p] query[q] frag[f]" with
 * only the components present; "BAD" when the flags and fields disagree. */
static void describe(gust_buf *d, const gust_url *u) {
  gust_buf_clear(d);
  if (u->flags & GUST_URL_HAS_SCHEME)
    put(d, "scheme", u->scheme);
  if (u->flags & GUST_URL_HAS_USERINFO)
    put(d, "user", u->userinfo);
  if (u->flags & GUST_URL_HAS_AUTHORITY)
    put(d, "host", u->host);
  if (u->flags & GUST_URL_HAS_PORT)
    gust_buf_printf(d, "port[%d] ", u->port);
  put(d, "path", u->path);
  if (u->flags & GUST_URL_HAS_QUERY)
    put(d, "query", u->query);
  if (u->flags & GUST_URL_HAS_FRAGMENT)
    put(d, "frag", u->fragment);
  if ((!(u->flags & GUST_URL_HAS_SCHEME) && u->scheme.ptr != NULL) ||
      (!(u->flags & GUST_URL_HAS_USERINFO) && u->userinfo.ptr != NULL) ||
      (!(u->flags & GUST_URL_HAS_AUTHORITY) && u->host.ptr != NULL) ||
      (!(u->flags & GUST_URL_HAS_PORT) && u->port != -1) ||
      (!(u->flags & GUST_URL_HAS_QUERY) && u->query.ptr != NULL) ||
      (!(u->flags & GUST_URL_HAS_FRAGMENT) && u->fragment.ptr != NULL) ||
      ((u->flags & (GUST_URL_HAS_USERINFO | GUST_URL_HAS_PORT)) &&
       !(u->flags & GUST_URL_HAS_AUTHORITY)))
    gust_buf_append_str(d, "BAD ");
  if (d->len > 0)
    gust_buf_truncate(d, d->len - 1);
}

static int split_guarded(gust_url *u, const char *s, size_t n, uint8_t **copy) {
  *copy = tap_guard_copy(s, n);
  if (*copy == NULL)
    bail_out("tap_guard_copy failed");
  return gust_url_split(u, (const char *)*copy, n);
}

static void split_ok(const char *s, const char *want) {
  gust_url u;
  gust_buf d;
  uint8_t *copy;
  size_t n = strlen(s);
  int rc = split_guarded(&u, s, n, &copy);
  gust_buf_init(&d, NULL);
  if (is_int(rc, 0, "split: \"%s\" accepted", s)) {
    describe(&d, &u);
    is_str((const char *)d.ptr, want, "split: \"%s\" components", s);
  }
  gust_buf_free(&d);
  tap_guard_free(copy, n);
}

static void split_bad(const char *s, size_t n, const char *why) {
  gust_url u;
  uint8_t *copy;
  int rc = split_guarded(&u, s, n, &copy);
  is_int(rc, GUST_ESYNTAX, "split: %s rejected", why);
  tap_guard_free(copy, n);
}

static void test_split(void) {
  split_ok("http://user:pw@example.com:8080/p/a;x?q=1&r#frag",
           "scheme[http] user[user:pw] host[example.com] port[8080] "
           "path[/p/a;x] query[q=1&r] frag[frag]");
  split_ok("HTTP://Example.COM/A%2fB",
           "scheme[HTTP] host[Example.COM] path[/A%2fB]");
  split_ok("http://a@b@c/", "scheme[http] user[a@b] host[c] path[/]");
  split_ok("http://@h/", "scheme[http] user[] host[h] path[/]");
  split_ok("http://[::1]:443/x", "scheme[http] host[::1] port[443] path[/x]");
  split_ok("http://[2001:DB8::7]", "scheme[http] host[2001:DB8::7] path[]");
  split_ok("http://[0000:0000:0000:0000:0000:ffff:255.255.255.255]/",
           "scheme[http] host[0000:0000:0000:0000:0000:ffff:255.255.255.255] "
           "path[/]");
  split_ok("http://h:/", "scheme[http] host[h] path[/]");
  split_ok("http://[::1]:", "scheme[http] host[::1] path[]");
  split_ok("http://h:0", "scheme[http] host[h] port[0] path[]");
  split_ok("http://h:65535", "scheme[http] host[h] port[65535] path[]");
  split_ok("http://h:000080/", "scheme[http] host[h] port[80] path[/]");
  split_ok("http://192.0.2.1:1/", "scheme[http] host[192.0.2.1] port[1] "
                                  "path[/]");
  split_ok("file:///etc/hosts", "scheme[file] host[] path[/etc/hosts]");
  split_ok("http://", "scheme[http] host[] path[]");
  split_ok("http:", "scheme[http] path[]");
  split_ok("mailto:a@b.example", "scheme[mailto] path[a@b.example]");
  split_ok("urn:isbn:0451450523", "scheme[urn] path[isbn:0451450523]");
  split_ok("a+b-c.9:x", "scheme[a+b-c.9] path[x]");
  split_ok("http://h?q", "scheme[http] host[h] path[] query[q]");
  split_ok("http://h#f", "scheme[http] host[h] path[] frag[f]");
  split_ok("http://h/?#", "scheme[http] host[h] path[/] query[] frag[]");
  split_ok("http://h/p?a?b/c#d?e#f",
           "scheme[http] host[h] path[/p] query[a?b/c] frag[d?e#f]");
  split_ok("http://h/{a}|b^c\\d`e\"<>",
           "scheme[http] host[h] path[/{a}|b^c\\d`e\"<>]");
  split_ok("http://h!$&'()*+,;=-._~%41/",
           "scheme[http] host[h!$&'()*+,;=-._~%41] path[/]");
  /* Relative references. */
  split_ok("//host/x", "host[host] path[/x]");
  split_ok("//u@[::1]:8/", "user[u] host[::1] port[8] path[/]");
  split_ok("/p?q#f", "path[/p] query[q] frag[f]");
  split_ok("p", "path[p]");
  split_ok("", "path[]");
  split_ok("?q", "path[] query[q]");
  split_ok("#f", "path[] frag[f]");
  split_ok("../c", "path[../c]");
  split_ok("./a:b", "path[./a:b]");
  split_ok("a/b:c", "path[a/b:c]");
  split_ok("?a:b", "path[] query[a:b]");
  split_ok("#a:b", "path[] frag[a:b]");
  split_ok("///x", "host[] path[/x]");
}

static void test_split_bad(void) {
  /* Schemes. */
  split_bad("1http://x", 9, "scheme starting with a digit");
  split_bad(":x", 2, "empty scheme");
  split_bad("h_t:x", 5, "'_' in scheme");
  split_bad("-a:b", 4, "scheme starting with '-'");
  /* Ports. */
  split_bad("http://h:65536/", 15, "port 65536");
  split_bad("http://h:99999999999999999999/", 30, "port overflowing");
  split_bad("http://h:8a/", 12, "port with a letter");
  split_bad("http://h:-1/", 12, "negative port");
  split_bad("http://h:+1/", 12, "port with a sign");
  split_bad("http://h:1:2/", 13, "two ports");
  /* IP literals. */
  split_bad("http://[::1/", 12, "unclosed IP literal");
  split_bad("http://[]/", 10, "empty IP literal");
  split_bad("http://[zz::1]/", 15, "IP literal that is not IPv6");
  split_bad("http://[1.2.3.4]/", 17, "IPv4 in brackets");
  split_bad("http://[v1.x]/", 14, "IPvFuture");
  split_bad("http://[fe80::1%25eth0]/", 24, "IPv6 zone ID");
  split_bad("http://[0000:0000:0000:0000:0000:ffff:255.255.255.2550]/", 56,
            "IP literal of 46 bytes");
  split_bad("http://[::1\0]/", 14, "NUL inside an IP literal");
  split_bad("http://[::1 ]/", 14, "space inside an IP literal");
  split_bad("http://[::1]x/", 14, "byte after an IP literal");
  split_bad("http://[::1]]/", 14, "']' after an IP literal");
  split_bad("http://a[::1]/", 14, "'[' inside a host");
  split_bad("http://a]/", 10, "']' in a host");
  split_bad("http://[::1]@h/", 15, "brackets in userinfo");
  /* Authority characters. */
  split_bad("http://a\\b@c/", 13, "'\\' in userinfo");
  split_bad("http://good\\@evil/", 18, "'\\' before '@' in userinfo");
  split_bad("http://h\\x/", 11, "'\\' in host");
  split_bad("http://h{x}/", 12, "'{' in host");
  split_bad("http://h\"/", 10, "'\"' in host");
  /* Brackets outside the authority. */
  split_bad("/a[b]", 5, "'[' in path");
  split_bad("/a]", 3, "']' in path");
  split_bad("/?a[]=1", 7, "'[' in query");
  split_bad("#a[b]", 5, "'[' in fragment");
  /* Bytes outside VCHAR and bad escapes. */
  split_bad("http://h/a b", 12, "space in path");
  split_bad("http://h /", 10, "space in host");
  split_bad("http ://h/", 10, "space in scheme");
  split_bad("/a\tb", 4, "tab");
  split_bad("/a\r\nb", 5, "CR LF");
  split_bad("/a\0b", 4, "NUL");
  split_bad("/a\x7f", 3, "DEL");
  split_bad("/a\x80", 3, "byte 0x80");
  split_bad("http://h\xc3\xa9/", 11, "UTF-8 in host");
  /* Found by fuzz/urlsplit: strchr() matched NUL as a host character. */
  split_bad("http://a\0/", 10, "NUL in host");
  split_bad("http://a\0@h/", 12, "NUL in userinfo");
  split_bad("?q=\xff", 4, "byte 0xff in query");
  split_bad("/%", 2, "lone '%'");
  split_bad("/%4", 3, "truncated escape");
  split_bad("/%4g", 4, "escape with a non-hex digit");
  split_bad("/%zz", 4, "escape with letters");
  split_bad("http://h%2/", 11, "truncated escape in host");
  split_bad("http://u%@h/", 12, "bad escape in userinfo");
  split_bad("#%", 2, "lone '%' in fragment");
}

static void test_split_args(void) {
  gust_url u;
  is_int(gust_url_split(NULL, "a", 1), GUST_EINVAL, "split: NULL url");
  is_int(gust_url_split(&u, NULL, 1), GUST_EINVAL, "split: NULL input");
  is_int(gust_url_split(&u, NULL, 0), 0, "split: NULL empty input");
  ok(u.flags == 0 && u.path.len == 0 && u.port == -1,
     "split: NULL empty input is an empty relative reference");
}

static void resolve_is(const char *base, const char *ref, const char *want) {
  gust_buf out;
  size_t bn = strlen(base), rn = strlen(ref);
  uint8_t *b = tap_guard_copy(base, bn), *r = tap_guard_copy(ref, rn);
  int rc;
  if (b == NULL || r == NULL)
    bail_out("tap_guard_copy failed");
  gust_buf_init(&out, NULL);
  rc = gust_url_resolve((const char *)b, bn, (const char *)r, rn, &out);
  if (is_int(rc, 0, "resolve: \"%s\" against \"%s\" succeeds", ref, base))
    cmp_mem(out.ptr, out.len, want, strlen(want),
            "resolve: \"%s\" against \"%s\" is \"%s\"", ref, base, want);
  gust_buf_free(&out);
  tap_guard_free(b, bn);
  tap_guard_free(r, rn);
}

/* RFC 3986 section 5.4.1. */
static void test_rfc_normal(void) {
  static const char *const cases[][2] = {
      {"g:h", "g:h"},
      {"g", "http://a/b/c/g"},
      {"./g", "http://a/b/c/g"},
      {"g/", "http://a/b/c/g/"},
      {"/g", "http://a/g"},
      {"//g", "http://g"},
      {"?y", "http://a/b/c/d;p?y"},
      {"g?y", "http://a/b/c/g?y"},
      {"#s", "http://a/b/c/d;p?q#s"},
      {"g#s", "http://a/b/c/g#s"},
      {"g?y#s", "http://a/b/c/g?y#s"},
      {";x", "http://a/b/c/;x"},
      {"g;x", "http://a/b/c/g;x"},
      {"g;x?y#s", "http://a/b/c/g;x?y#s"},
      {"", "http://a/b/c/d;p?q"},
      {".", "http://a/b/c/"},
      {"./", "http://a/b/c/"},
      {"..", "http://a/b/"},
      {"../", "http://a/b/"},
      {"../g", "http://a/b/g"},
      {"../..", "http://a/"},
      {"../../", "http://a/"},
      {"../../g", "http://a/g"},
  };
  size_t i;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
    resolve_is(RFC_BASE, cases[i][0], cases[i][1]);
}

/* RFC 3986 section 5.4.2 ("http:g" as a strict parser reads it). */
static void test_rfc_abnormal(void) {
  static const char *const cases[][2] = {
      {"../../../g", "http://a/g"},
      {"../../../../g", "http://a/g"},
      {"/./g", "http://a/g"},
      {"/../g", "http://a/g"},
      {"g.", "http://a/b/c/g."},
      {".g", "http://a/b/c/.g"},
      {"g..", "http://a/b/c/g.."},
      {"..g", "http://a/b/c/..g"},
      {"./../g", "http://a/b/g"},
      {"./g/.", "http://a/b/c/g/"},
      {"g/./h", "http://a/b/c/g/h"},
      {"g/../h", "http://a/b/c/h"},
      {"g;x=1/./y", "http://a/b/c/g;x=1/y"},
      {"g;x=1/../y", "http://a/b/c/y"},
      {"g?y/./x", "http://a/b/c/g?y/./x"},
      {"g?y/../x", "http://a/b/c/g?y/../x"},
      {"g#s/./x", "http://a/b/c/g#s/./x"},
      {"g#s/../x", "http://a/b/c/g#s/../x"},
      {"http:g", "http:g"},
  };
  size_t i;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
    resolve_is(RFC_BASE, cases[i][0], cases[i][1]);
}

static void test_resolve(void) {
  resolve_is("http://[::1]:8080/a/b?q#f", "c", "http://[::1]:8080/a/c");
  resolve_is("http://[::1]:8080/a/b", "//[2001:db8::1]/x",
             "http://[2001:db8::1]/x");
  resolve_is("http://u:p@h:/a/b", "../c", "http://u:p@h:/c");
  resolve_is("http://h/a/b#f", "", "http://h/a/b");
  resolve_is("http://h/a/b#f", "#g", "http://h/a/b#g");
  resolve_is("http://h/a/b?q#f", "?", "http://h/a/b?");
  resolve_is("http://h/a/b?q", "#", "http://h/a/b?q#");
  resolve_is("http://h", "g", "http://h/g");
  resolve_is("http://h", "", "http://h");
  resolve_is("http://h", "?x", "http://h?x");
  resolve_is("HTTP://H/A/b", "C/./D", "HTTP://H/A/C/D");
  resolve_is("http://h/a/b", "https://OTHER/x/../y", "https://OTHER/y");
  resolve_is("http://h/a/b", "//o", "http://o");
  resolve_is("http://h/a/./b/../c", "", "http://h/a/./b/../c");
  resolve_is("http://h/a/b", "/%2e%2e/x", "http://h/%2e%2e/x");
  resolve_is("http://h/a/b/", "..", "http://h/a/");
  resolve_is("http://h/a/b/", "./..//x", "http://h/a//x");
  resolve_is("http://h/a", "../../../..", "http://h/");
  resolve_is("foo:a/b", "c", "foo:a/c");
  resolve_is("foo:a", "b", "foo:b");
  resolve_is("mailto:x@y", "#f", "mailto:x@y#f");
  /* A path that would read as an authority gets "/." in front. */
  resolve_is("foo:/a/b", "..//g", "foo:/.//g");
  resolve_is("foo:/a/b", "foo:/.//g", "foo:/.//g");
  resolve_is("http://h/a", "foo:/..//g", "foo:/.//g");
}

static void test_resolve_errors(void) {
  gust_buf out;
  gust_failmem fm;
  static const char keep[] = "kept";
  char big[200]; /* more than the buffer's first block */
  gust_buf_init(&out, NULL);
  gust_buf_append_str(&out, keep);
  is_int(gust_url_resolve("/a/b", 4, "c", 1, &out), GUST_ESYNTAX,
         "resolve: base without a scheme");
  is_int(gust_url_resolve("//h/a", 5, "c", 1, &out), GUST_ESYNTAX,
         "resolve: base without a scheme but an authority");
  is_int(gust_url_resolve("", 0, "http://h/", 9, &out), GUST_ESYNTAX,
         "resolve: empty base");
  is_int(gust_url_resolve("http://h/a b", 12, "c", 1, &out), GUST_ESYNTAX,
         "resolve: malformed base");
  is_int(gust_url_resolve("http://h/", 9, "c d", 3, &out), GUST_ESYNTAX,
         "resolve: malformed reference");
  is_int(gust_url_resolve("http://h/", 9, "1x:y", 4, &out), GUST_ESYNTAX,
         "resolve: reference with a bad scheme");
  is_int(gust_url_resolve(NULL, 1, "c", 1, &out), GUST_EINVAL,
         "resolve: NULL base");
  is_int(gust_url_resolve("http://h/", 9, NULL, 1, &out), GUST_EINVAL,
         "resolve: NULL reference");
  is_int(gust_url_resolve("http://h/", 9, "c", 1, NULL), GUST_EINVAL,
         "resolve: NULL output");
  is_int(gust_url_resolve((const char *)out.ptr, out.len, "c", 1, &out),
         GUST_EINVAL, "resolve: base inside the output buffer");
  is_int(gust_url_resolve("http://h/", 9, (const char *)out.ptr + 1, 1, &out),
         GUST_EINVAL, "resolve: reference inside the output buffer");
  cmp_mem(out.ptr, out.len, keep, strlen(keep),
          "resolve: output unchanged after the errors");
  is_int(gust_url_resolve("http://h/a", 10, NULL, 0, &out), 0,
         "resolve: NULL empty reference");
  is_str((const char *)out.ptr, "kepthttp://h/a",
         "resolve: the result is appended");
  gust_buf_free(&out);

  gust_failmem_init(&fm, NULL);
  fm.fail_at = 1;
  gust_buf_init(&out, &fm.mem);
  is_int(gust_url_resolve(RFC_BASE, strlen(RFC_BASE), "../g", 4, &out),
         GUST_ENOMEM, "failmem: resolve reports out of memory");
  is_int(out.len, 0, "failmem: output unchanged");
  gust_buf_append_str(&out, keep);
  memset(big, 'x', sizeof(big));
  gust_failmem_reset(&fm, 1);
  is_int(gust_url_resolve(RFC_BASE, strlen(RFC_BASE), big, sizeof(big), &out),
         GUST_ENOMEM, "failmem: resolve reports out of memory when growing");
  cmp_mem(out.ptr, out.len, keep, strlen(keep),
          "failmem: grown output unchanged");
  gust_failmem_reset(&fm, 0);
  is_int(gust_url_resolve(RFC_BASE, strlen(RFC_BASE), "../g", 4, &out), 0,
         "failmem: resolve succeeds once memory is back");
  is_str((const char *)out.ptr, "kepthttp://a/b/g",
         "failmem: then appends the result");
  gust_buf_free(&out);
  is_int(fm.live_blocks, 0, "failmem: nothing leaked");

  gust_buf_init(&out, NULL);
  out.max = 10;
  is_int(gust_url_resolve(RFC_BASE, strlen(RFC_BASE), "../g", 4, &out),
         GUST_EBUFFERFULL, "resolve: buffer limit reported");
  is_int(out.len, 0, "resolve: buffer limit leaves the output unchanged");
  gust_buf_free(&out);
}

int main(void) {
  if (tap_group("split"))
    test_split();
  if (tap_group("split_bad"))
    test_split_bad();
  if (tap_group("split_args"))
    test_split_args();
  if (tap_group("rfc_normal"))
    test_rfc_normal();
  if (tap_group("rfc_abnormal"))
    test_rfc_abnormal();
  if (tap_group("resolve"))
    test_resolve();
  if (tap_group("resolve_errors"))
    test_resolve_errors();
  return done_testing();
}
