/* Tests of xhtml_escape/xhtml_unescape with Tornado 6.2's vectors (the
 * expected bytes were produced by Tornado itself). */
#include <gust/httputil.h>

#include <string.h>

#include "../tap.h"

static void unescape_is(const char *in, const char *want, size_t want_len) {
  gust_buf out;
  gust_buf_init(&out, NULL);
  is_int(gust_xhtml_unescape((const uint8_t *)in, strlen(in), &out), 0,
         "unescape: %s succeeds", in);
  cmp_mem(out.ptr, out.len, want, want_len, "unescape: %s", in);
  gust_buf_free(&out);
}

#define UNESCAPE(in, want) unescape_is(in, want, sizeof(want) - 1)

static void test_escape(void) {
  gust_buf out;
  gust_buf_init(&out, NULL);
  gust_xhtml_escape((const uint8_t *)"<>&\"'", 5, &out);
  is_str((const char *)out.ptr, "&lt;&gt;&amp;&quot;&#39;",
         "escape: the five characters");
  gust_buf_clear(&out);
  gust_xhtml_escape((const uint8_t *)"&amp;", 5, &out);
  is_str((const char *)out.ptr, "&amp;amp;", "escape: &amp; escaped again");
  gust_buf_clear(&out);
  gust_xhtml_escape((const uint8_t *)"caf\xc3\xa9 plain", 11, &out);
  is_str((const char *)out.ptr, "caf\xc3\xa9 plain",
         "escape: non-ASCII and plain text unchanged");
  gust_buf_clear(&out);
  is_int(gust_xhtml_escape((const uint8_t *)"", 0, &out), 0, "escape: empty");
  is_int(out.len, 0, "escape: empty gives nothing");
  is_int(gust_xhtml_escape(NULL, 0, &out), 0, "escape: NULL empty input");
  is_int(gust_xhtml_unescape(NULL, 0, &out), 0, "unescape: NULL empty input");
  is_int(gust_xhtml_escape(NULL, 1, &out), GUST_EINVAL,
         "escape: NULL with a length refused");
  gust_buf_free(&out);
}

static void test_unescape(void) {
  UNESCAPE("foo&#32;bar", "foo bar");
  UNESCAPE("foo&#x20;bar", "foo bar");
  UNESCAPE("foo&#X20;bar", "foo bar");
  UNESCAPE("foo&#xabc;bar", "foo\xe0\xaa\xbc"
                            "bar");
  UNESCAPE("foo&#xyz;bar", "foo&#xyz;bar");
  UNESCAPE("foo&#;bar", "foo&#;bar");
  UNESCAPE("foo&#x;bar", "foo&#x;bar");
  UNESCAPE("&amp;lt;", "&lt;");
  UNESCAPE("&lt&gt;", "&lt>");
  UNESCAPE("&#1_0;", "\n");
  UNESCAPE("&#x0x41;", "A");
  UNESCAPE("&#x0_41;", "A");
  UNESCAPE("&#1__0;", "&#1__0;");
  UNESCAPE("&#_10;", "&#_10;");
  UNESCAPE("&#10_;", "&#10_;");
  UNESCAPE("&AElig;&aelig;&nbsp;&euro;&bogus;&AMP;",
           "\xc3\x86\xc3\xa6\xc2\xa0\xe2\x82\xac&bogus;&AMP;");
  UNESCAPE("&#1114111;", "\xf4\x8f\xbf\xbf");
  UNESCAPE("&#1114112;", "&#1114112;");
  UNESCAPE("&#99999999999999999999;", "&#99999999999999999999;");
  UNESCAPE("&#xD800;", "&#xD800;");
  UNESCAPE("&#0;", "\0");
  UNESCAPE("&&amp;", "&&");
  UNESCAPE("&quot;&apos;&#39;", "\"&apos;'");
  UNESCAPE("&zwnj;&Alpha;&thetasym;", "\xe2\x80\x8c\xce\x91\xcf\x91");
  UNESCAPE("no refs", "no refs");
  UNESCAPE("trailing &", "trailing &");
  UNESCAPE("&#x41", "&#x41");
}

static void test_failmem(void) {
  gust_failmem fm;
  gust_buf out;
  int rc;
  gust_failmem_init(&fm, NULL);
  fm.fail_at = 1;
  gust_buf_init(&out, &fm.mem);
  rc = gust_xhtml_unescape((const uint8_t *)"a&amp;b", 7, &out);
  is_int(rc, GUST_ENOMEM, "failmem: unescape reports out of memory");
  is_int(out.len, 0, "failmem: unescape output unchanged");
  rc = gust_xhtml_escape((const uint8_t *)"a&b", 3, &out);
  ok(rc == 0 || rc == GUST_ENOMEM, "failmem: escape after a failure");
  gust_buf_free(&out);
  is_int(fm.live_blocks, 0, "failmem: nothing leaked");
}

int main(void) {
  if (tap_group("escape"))
    test_escape();
  if (tap_group("unescape"))
    test_unescape();
  if (tap_group("failmem"))
    test_failmem();
  return done_testing();
}
