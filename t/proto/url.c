/* Tests of url_escape/url_unescape against Python's quote, quote_plus and
 * unquote_to_bytes (expected bytes produced by Tornado). */
#include <gust/httputil.h>

#include <string.h>

#include "../tap.h"

#define ALL "a b/c~_.-!*'();:@&=+$,?#[]%\xe9"

static void test_escape(void) {
  gust_buf out;
  gust_buf_init(&out, NULL);
  gust_url_escape((const uint8_t *)ALL, strlen(ALL), 1, &out);
  is_str((const char *)out.ptr,
         "a+b%2Fc~_.-%21%2A%27%28%29%3B%3A%40%26%3D%2B%24%2C%3F%23%5B%5D%25%"
         "E9",
         "escape: plus form");
  gust_buf_clear(&out);
  gust_url_escape((const uint8_t *)ALL, strlen(ALL), 0, &out);
  is_str((const char *)out.ptr,
         "a%20b/c~_.-%21%2A%27%28%29%3B%3A%40%26%3D%2B%24%2C%3F%23%5B%5D%25%"
         "E9",
         "escape: percent form keeps '/'");
  gust_buf_clear(&out);
  is_int(gust_url_escape((const uint8_t *)"", 0, 1, &out), 0, "escape: empty");
  is_int(out.len, 0, "escape: empty gives nothing");
  is_int(gust_url_escape(NULL, 0, 1, &out), 0, "escape: NULL empty input");
  is_int(gust_url_unescape(NULL, 0, 1, &out), 0, "unescape: NULL empty input");
  is_int(out.len, 0, "escape: NULL inputs give nothing");
  gust_buf_free(&out);
}

static void test_unescape(void) {
  gust_buf out;
  gust_buf_init(&out, NULL);
  gust_url_unescape((const uint8_t *)"a+b%20c%zz%2", 12, 1, &out);
  is_str((const char *)out.ptr, "a b c%zz%2", "unescape: plus form");
  gust_buf_clear(&out);
  gust_url_unescape((const uint8_t *)"a+b%20c%zz%2", 12, 0, &out);
  is_str((const char *)out.ptr, "a+b c%zz%2", "unescape: percent form");
  gust_buf_clear(&out);
  gust_url_unescape((const uint8_t *)"%E9%e9+%2B", 10, 1, &out);
  cmp_mem(out.ptr, out.len, "\xe9\xe9 +", 4, "unescape: either hex case");
  gust_buf_clear(&out);
  gust_url_unescape((const uint8_t *)"%", 1, 1, &out);
  is_str((const char *)out.ptr, "%", "unescape: lone percent kept");
  gust_buf_clear(&out);
  gust_url_unescape((const uint8_t *)"%4", 2, 1, &out);
  is_str((const char *)out.ptr, "%4", "unescape: truncated escape kept");
  gust_buf_free(&out);
}

static void test_round_trip(void) {
  uint8_t all[256];
  gust_buf esc, back;
  int plus, i;
  for (i = 0; i < 256; i++)
    all[i] = (uint8_t)i;
  for (plus = 0; plus <= 1; plus++) {
    gust_buf_init(&esc, NULL);
    gust_buf_init(&back, NULL);
    gust_url_escape(all, 256, plus, &esc);
    gust_url_unescape(esc.ptr, esc.len, plus, &back);
    cmp_mem(back.ptr, back.len, all, 256, "round trip: every byte (plus=%d)",
            plus);
    gust_buf_free(&esc);
    gust_buf_free(&back);
  }
}

int main(void) {
  if (tap_group("escape"))
    test_escape();
  if (tap_group("unescape"))
    test_unescape();
  if (tap_group("round_trip"))
    test_round_trip();
  return done_testing();
}
