/* Tests of the default ETag and If-None-Match matching (Tornado >= 4.2). */
#include <gust/httputil.h>

#include <string.h>

#include "../tap.h"

static int m(const char *inm, const char *etag) {
  return gust_etag_match(inm, strlen(inm), etag, strlen(etag));
}

int main(void) {
  gust_buf out;
  gust_buf_init(&out, NULL);
  is_int(gust_etag_compute((const uint8_t *)"hello world", 11, &out), 0,
         "compute: ok");
  is_str((const char *)out.ptr, "\"2aae6c35c94fcfb415dbe95f408b9ce91ee846ed\"",
         "compute: quoted lowercase SHA-1");
  gust_buf_free(&out);

  ok(m("\"abc\"", "\"abc\""), "match: strong equal");
  ok(!m("\"abd\"", "\"abc\""), "match: strong different");
  ok(m("W/\"abc\"", "\"abc\""), "match: weak header, strong etag");
  ok(m("\"abc\"", "W/\"abc\""), "match: strong header, weak etag");
  ok(m("\"x\", W/\"abc\"", "\"abc\""), "match: second of a list");
  ok(m("\"x\",W/\"abc\"", "\"abc\""), "match: list without blanks");
  ok(m("*", "\"abc\""), "match: star alone");
  ok(m("* , \"x\"", "\"abc\""), "match: star first");
  ok(!m("\"x\", *", "\"abc\""), "match: star later does not match");
  ok(!m("abc", "\"abc\""), "match: unquoted token ignored");
  ok(!m("\"abc", "\"abc\""), "match: unterminated quote ignored");
  ok(m("\"abc*", "\"abc\""), "match: a star after an unterminated quote "
                             "is the first token");
  ok(!m("", "\"abc\""), "match: empty header");
  ok(!m("*", ""), "match: no etag never matches");
  ok(!m("\"abc\"", "\"ABC\""), "match: case-sensitive");
  ok(m("W/x\"abc\"", "\"abc\""), "match: junk before a quote skipped");
  return done_testing();
}
