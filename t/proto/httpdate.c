/* Tests of HTTP-date formatting and parsing (RFC 9110 section 5.6.7). */
#include <gust/httputil.h>

#include <string.h>

#include "../tap.h"

static void parse_is(const char *s, int64_t want) {
  int64_t t = -1;
  is_int(gust_httpdate_parse(s, strlen(s), &t), 0, "parse: '%s' accepted", s);
  is_int(t, want, "parse: '%s' value", s);
}

static void parse_bad(const char *s) {
  int64_t t = 0;
  is_int(gust_httpdate_parse(s, strlen(s), &t), GUST_EHTTPDATE,
         "parse: '%s' refused", s);
}

int main(void) {
  char buf[GUST_HTTPDATE_SIZE];
  int64_t t;
  is_int(gust_httpdate_format(1300000000, buf), 0, "format: ok");
  is_str(buf, "Sun, 13 Mar 2011 07:06:40 GMT", "format: Tornado's vector");
  gust_httpdate_format(0, buf);
  is_str(buf, "Thu, 01 Jan 1970 00:00:00 GMT", "format: epoch");
  gust_httpdate_format(951782400, buf);
  is_str(buf, "Tue, 29 Feb 2000 00:00:00 GMT", "format: leap day");
  gust_httpdate_format(784111777, buf);
  is_str(buf, "Sun, 06 Nov 1994 08:49:37 GMT", "format: RFC example");
  gust_httpdate_format(-1, buf);
  is_str(buf, "Wed, 31 Dec 1969 23:59:59 GMT", "format: before the epoch");
  gust_httpdate_format(253402300799LL, buf);
  is_str(buf, "Fri, 31 Dec 9999 23:59:59 GMT", "format: last second");
  is_int(gust_httpdate_format(253402300800LL, buf), GUST_ERANGE,
         "format: year 10000 refused");

  parse_is("Sun, 06 Nov 1994 08:49:37 GMT", 784111777);
  parse_is("Sunday, 06-Nov-94 08:49:37 GMT", 784111777);
  parse_is("Sun Nov  6 08:49:37 1994", 784111777);
  parse_is("Sun Nov 16 08:49:37 1994", 784111777 + 10 * 86400);
  parse_is("  Sun, 06 Nov 1994 08:49:37 GMT\t", 784111777);
  parse_is("Thursday, 01-Jan-70 00:00:00 GMT", 0);
  parse_is("Saturday, 01-Jan-00 00:00:00 GMT", 946684800);
  parse_is("Tue, 29 Feb 2000 00:00:00 GMT", 951782400);
  parse_bad("Sun, 06 Nov 1994 08:49:37 UTC");
  parse_bad("Sun, 6 Nov 1994 08:49:37 GMT");
  parse_bad("Sun, 06 Nov 94 08:49:37 GMT");
  parse_bad("Sunday, 06-Nov-1994 08:49:37 GMT");
  parse_bad("Sun Nov 6 08:49:37 1994");
  parse_bad("Sun, 31 Nov 1994 08:49:37 GMT");
  parse_bad("Mon, 29 Feb 2100 00:00:00 GMT");
  parse_bad("Sun, 06 Nov 1994 24:00:00 GMT");
  parse_bad("Sun, 06 Nov 1994 08:49:37 GMT x");
  parse_bad("Sun, 06 Foo 1994 08:49:37 GMT");
  parse_bad("");
  is_int(gust_httpdate_parse(NULL, 0, &t), GUST_EHTTPDATE,
         "parse: NULL empty refused");
  /* Round trip over a range of times. */
  {
    int64_t x, bad = 0;
    for (x = -86400LL * 800; x < 86400LL * 365 * 300;
         x += 86400LL * 37 + 4321) {
      int64_t back = -1;
      gust_httpdate_format(x, buf);
      if (gust_httpdate_parse(buf, strlen(buf), &back) != 0 || back != x)
        bad++;
    }
    is_int(bad, 0, "round trip: format then parse gives the time back");
  }
  return done_testing();
}
