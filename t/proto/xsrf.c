/* Tests of XSRF tokens: v1/v2 encoding, decoding of either form, non-hex
 * tokens, the three check failures and the hidden form field. */
#include <gust/cookie.h>

#include <string.h>

#include "../tap.h"

static const uint8_t TOKEN[16] = {0, 1, 2,  3,  4,  5,  6,  7,
                                  8, 9, 10, 11, 12, 13, 14, 15};
static const uint8_t MASK[4] = {1, 2, 3, 4};
#define V2_TEXT "2|01020304|0103010705070503090b090f0d0f0d0b|1300000000"
#define V1_TEXT "000102030405060708090a0b0c0d0e0f"

static int check(const char *submitted, const uint8_t *expected,
                 size_t expected_len) {
  return gust_xsrf_check(NULL, submitted,
                         submitted != NULL ? strlen(submitted) : 0, expected,
                         expected_len);
}

static void test_encode(void) {
  gust_buf out, out2;
  gust_buf_init(&out, NULL);
  gust_buf_init(&out2, NULL);
  is_int(gust_xsrf_token_encode(TOKEN, 16, 1300000000, 2, MASK, &out), 0,
         "encode: v2 with a given mask");
  is_str((const char *)out.ptr, V2_TEXT, "encode: v2 vector");
  is_int(out.len, 54, "encode: v2 with a 16-byte token is 54 bytes");
  gust_buf_clear(&out);
  is_int(gust_xsrf_token_encode(TOKEN, 16, 1300000000, 1, NULL, &out), 0,
         "encode: v1");
  is_str((const char *)out.ptr, V1_TEXT, "encode: v1 vector");
  gust_buf_clear(&out);
  gust_xsrf_token_encode(TOKEN, 16, 1300000000, 0, NULL, &out);
  gust_xsrf_token_encode(TOKEN, 16, 1300000000, 0, NULL, &out2);
  ok(out.len == 54 && strncmp((const char *)out.ptr, "2|", 2) == 0,
     "encode: default version is 2");
  ok(out.len != out2.len || memcmp(out.ptr, out2.ptr, out.len) != 0,
     "encode: two v2 encodings with fresh masks differ");
  is_int(gust_xsrf_token_encode(TOKEN, 16, 1, 3, NULL, &out), GUST_EINVAL,
         "encode: version 3 refused");
  gust_buf_free(&out);
  gust_buf_free(&out2);
}

static void test_decode(void) {
  static const struct {
    const char *text;
    const char *what;
  } bad[] = {
      {"3|", "unknown version 3"},
      {"1|abcd", "explicit version 1 prefix"},
      {"2|01020304|0103", "v2 with three parts"},
      {"2|01020304|0103|1|2", "v2 with five parts"},
      {"2|010203|0103|1", "v2 mask of 3 bytes"},
      {"2|0102030405|0103|1", "v2 mask of 5 bytes"},
      {"2|0102030g|0103|1", "v2 non-hex mask"},
      {"2|01020304|010|1", "v2 odd-length token"},
      {"2|01020304|01zz|1", "v2 non-hex token"},
      {"2|01020304|0103|", "v2 empty timestamp"},
      {"2|01020304|0103|12a", "v2 non-digit timestamp"},
  };
  gust_buf tok;
  int version = 0;
  int64_t ts = 0;
  size_t i;
  gust_buf_init(&tok, NULL);
  is_int(gust_xsrf_token_decode(V2_TEXT, strlen(V2_TEXT), &tok, &version, &ts),
         0, "decode: v2");
  cmp_mem(tok.ptr, tok.len, TOKEN, 16, "decode: v2 unmasked token");
  is_int(version, 2, "decode: v2 version");
  is_int(ts, 1300000000, "decode: v2 timestamp");
  gust_buf_clear(&tok);
  is_int(gust_xsrf_token_decode(V1_TEXT, strlen(V1_TEXT), &tok, &version, &ts),
         0, "decode: v1");
  cmp_mem(tok.ptr, tok.len, TOKEN, 16, "decode: v1 token");
  is_int(version, 1, "decode: v1 version");
  gust_buf_clear(&tok);
  is_int(gust_xsrf_token_decode("xoxo", 4, &tok, NULL, NULL), 0,
         "decode: non-hex v1 accepted");
  cmp_mem(tok.ptr, tok.len, "xoxo", 4, "decode: non-hex v1 is the raw bytes");
  gust_buf_clear(&tok);
  is_int(gust_xsrf_token_decode("deadbeef", 8, &tok, NULL, NULL), 0,
         "decode: short hex token");
  cmp_mem(tok.ptr, tok.len, "\xde\xad\xbe\xef", 4,
          "decode: short hex token bytes");
  gust_buf_clear(&tok);
  is_int(gust_xsrf_token_decode("2|01020304|0103|99999999999", 27, &tok, NULL,
                                &ts),
         0, "decode: the timestamp is never checked");
  for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    gust_buf_clear(&tok);
    is_int(gust_xsrf_token_decode(bad[i].text, strlen(bad[i].text), &tok, NULL,
                                  NULL),
           GUST_EXSRF_FORMAT, "decode: %s refused", bad[i].what);
    is_int(tok.len, 0, "decode: %s leaves the output empty", bad[i].what);
  }
  gust_buf_free(&tok);
}

static void test_check(void) {
  gust_buf a, b;
  uint8_t other[16];
  gust_buf_init(&a, NULL);
  gust_buf_init(&b, NULL);
  memcpy(other, TOKEN, 16);
  other[15] ^= 1;
  is_int(check(V2_TEXT, TOKEN, 16), 0, "check: v2 argument, same token");
  is_int(check(V1_TEXT, TOKEN, 16), 0, "check: v1 argument, same token");
  is_int(check(NULL, TOKEN, 16), GUST_EXSRF_MISSING, "check: missing");
  is_int(check("", TOKEN, 16), GUST_EXSRF_MISSING, "check: empty is missing");
  is_int(gust_xsrf_token_decode(NULL, 0, &a, NULL, NULL), 0,
         "decode: NULL empty is an empty v1 token");
  is_int(a.len, 0, "decode: NULL empty gives no bytes");
  is_int(check("3|", TOKEN, 16), GUST_EXSRF_FORMAT, "check: _xsrf=3| format");
  is_int(check("2|01020304||5", TOKEN, 16), GUST_EXSRF_FORMAT,
         "check: empty unmasked token is invalid format");
  is_int(check(V2_TEXT, other, 16), GUST_EXSRF_MISMATCH,
         "check: other user's token mismatches");
  is_int(check(V2_TEXT, NULL, 0), GUST_EXSRF_MISMATCH,
         "check: no cookie mismatches");
  is_int(check("xoxo", (const uint8_t *)"xoxo", 4), 0,
         "check: non-hex token in cookie and argument");
  is_int(check("deadbeef", (const uint8_t *)"\xde\xad\xbe\xef", 4), 0,
         "check: short token");
  /* Interchangeability: a fresh v2 per request, v1 anywhere. */
  gust_xsrf_token_encode(TOKEN, 16, 1300000000, 2, NULL, &a);
  gust_xsrf_token_encode(TOKEN, 16, 1300000001, 2, NULL, &b);
  is_int(check((const char *)a.ptr, TOKEN, 16), 0,
         "check: refreshed v2 string 1 valid");
  is_int(check((const char *)b.ptr, TOKEN, 16), 0,
         "check: refreshed v2 string 2 valid");
  is_str(gust_strerror(GUST_EXSRF_MISMATCH),
         "XSRF cookie does not match POST argument",
         "check: Tornado's message text");
  is_str(gust_strerror(GUST_EXSRF_MISSING),
         "'_xsrf' argument missing from POST", "check: missing message text");
  is_str(gust_strerror(GUST_EXSRF_FORMAT),
         "'_xsrf' argument has invalid format", "check: format message text");
  gust_buf_free(&a);
  gust_buf_free(&b);
}

static void test_versions_both_ways(void) {
  /* A v1 cookie with a v2 argument and the reverse (Tornado's
   * test_versioning). */
  gust_buf cookie, arg, raw;
  int cv, av;
  gust_buf_init(&cookie, NULL);
  gust_buf_init(&arg, NULL);
  gust_buf_init(&raw, NULL);
  for (cv = 1; cv <= 2; cv++)
    for (av = 1; av <= 2; av++) {
      gust_buf_clear(&cookie);
      gust_buf_clear(&arg);
      gust_buf_clear(&raw);
      gust_xsrf_token_encode(TOKEN, 16, 1300000000, cv, NULL, &cookie);
      gust_xsrf_token_encode(TOKEN, 16, 1300000000, av, NULL, &arg);
      gust_xsrf_token_decode((const char *)cookie.ptr, cookie.len, &raw, NULL,
                             NULL);
      is_int(gust_xsrf_check(NULL, (const char *)arg.ptr, arg.len, raw.ptr,
                             raw.len),
             0, "versions: v%d cookie with v%d argument", cv, av);
    }
  gust_buf_free(&cookie);
  gust_buf_free(&arg);
  gust_buf_free(&raw);
}

static void test_form_html(void) {
  gust_buf out;
  uint8_t t[GUST_XSRF_TOKEN_SIZE], zero[GUST_XSRF_TOKEN_SIZE] = {0};
  gust_buf_init(&out, NULL);
  is_int(gust_xsrf_form_html(V2_TEXT, strlen(V2_TEXT), &out), 0,
         "form html: built");
  is_str((const char *)out.ptr,
         "<input type=\"hidden\" name=\"_xsrf\" value=\"" V2_TEXT "\"/>",
         "form html: bytes");
  gust_buf_clear(&out);
  gust_xsrf_form_html("a\"<&'", 5, &out);
  is_str((const char *)out.ptr,
         "<input type=\"hidden\" name=\"_xsrf\" "
         "value=\"a&quot;&lt;&amp;&#39;\"/>",
         "form html: value escaped");
  gust_buf_free(&out);
  is_int(gust_xsrf_token_generate(t), 0, "generate: ok");
  ok(memcmp(t, zero, sizeof(t)) != 0, "generate: not all zero");
}

static void test_failmem(void) {
  gust_failmem fm;
  int rc;
  gust_failmem_init(&fm, NULL);
  fm.fail_at = 1;
  rc = gust_xsrf_check(&fm.mem, V2_TEXT, strlen(V2_TEXT), TOKEN, 16);
  is_int(rc, GUST_ENOMEM, "failmem: check reports out of memory");
  gust_failmem_reset(&fm, 2);
  rc = gust_xsrf_check(&fm.mem, V2_TEXT, strlen(V2_TEXT), TOKEN, 16);
  ok(rc == 0 || rc == GUST_ENOMEM, "failmem: second allocation failure");
  gust_failmem_reset(&fm, 0);
  rc = gust_xsrf_check(&fm.mem, V2_TEXT, strlen(V2_TEXT), TOKEN, 16);
  is_int(rc, 0, "failmem: succeeds without failures");
  is_int(fm.live_blocks, 0, "failmem: nothing leaked");
}

int main(void) {
  if (tap_group("encode"))
    test_encode();
  if (tap_group("decode"))
    test_decode();
  if (tap_group("check"))
    test_check();
  if (tap_group("versions"))
    test_versions_both_ways();
  if (tap_group("form_html"))
    test_form_html();
  if (tap_group("failmem"))
    test_failmem();
  return done_testing();
}
