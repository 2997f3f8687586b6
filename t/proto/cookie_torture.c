/* Allocation-failure torture of cookies, signed values and XSRF tokens:
 * a server signs a session value, writes its Set-Cookie line and an XSRF
 * form field, then reads them back from a Cookie header and checks them
 * (torture.h says what each run checks). */
#include "torture.h"

#include <gust/cookie.h>

#include <string.h>

static const int64_t now = 1300000000;

static int round_trip(const gust_mem *mem, void *ud) {
  static const uint8_t token[GUST_XSRF_TOKEN_SIZE] = "0123456789abcdef";
  static const uint8_t mask[4] = {1, 2, 3, 4};
  gust_secrets *keys = NULL;
  gust_cookies *jar = NULL;
  gust_buf sv, line, xsrf, form, header, value, raw, unq;
  gust_cookie_attrs attrs;
  gust_slice got;
  int rc, version = 0;
  (void)ud;
  gust_buf_init(&sv, mem);
  gust_buf_init(&line, mem);
  gust_buf_init(&xsrf, mem);
  gust_buf_init(&form, mem);
  gust_buf_init(&header, mem);
  gust_buf_init(&value, mem);
  gust_buf_init(&raw, mem);
  gust_buf_init(&unq, mem);
  memset(&attrs, 0, sizeof(attrs));
  attrs.path = "/";
  attrs.httponly = 1;
  attrs.samesite = "Lax";
  attrs.has_expires = 1;
  attrs.expires = now + 86400;
  if ((rc = gust_secrets_new_versioned(&keys, mem, 1)) != 0 ||
      (rc = gust_secrets_add(keys, 0, (const uint8_t *)"old key", 7)) != 0 ||
      (rc = gust_secrets_add(keys, 1, (const uint8_t *)"current key", 11)) != 0)
    goto done;
  if ((rc = gust_signed_value_create(keys, "session",
                                     (const uint8_t *)"user=42; admin", 14, now,
                                     2, &sv)) != 0 ||
      (rc = gust_cookie_format("session", sv.ptr, sv.len, &attrs, &line)) !=
          0 ||
      (rc = gust_xsrf_token_encode(token, sizeof(token), now, 2, mask,
                                   &xsrf)) != 0 ||
      (rc = gust_xsrf_form_html((const char *)xsrf.ptr, xsrf.len, &form)) != 0)
    goto done;
  /* the browser sends both back, among other cookies */
  if ((rc = gust_buf_append_str(&header,
                                "theme=\"dark\\073blue\"; session=")) != 0 ||
      (rc = gust_buf_append(&header, sv.ptr, sv.len)) != 0 ||
      (rc = gust_buf_append_str(&header, "; _xsrf=")) != 0 ||
      (rc = gust_buf_append(&header, xsrf.ptr, xsrf.len)) != 0 ||
      (rc = gust_buf_append_str(&header, "; lang=en")) != 0)
    goto done;
  if ((rc = gust_cookies_new(&jar, mem)) != 0 ||
      (rc = gust_cookies_parse(jar, (const char *)header.ptr, header.len)) != 0)
    goto done;
  if (gust_cookies_count(jar) != 4) {
    rc = GUST_EINTERNAL;
    goto done;
  }
  if ((rc = gust_cookies_get(jar, "session", &got)) != 0 ||
      (rc = gust_signed_value_decode(keys, "session", (const char *)got.ptr,
                                     got.len, now + 60, 31, 2, &value)) != 0)
    goto done;
  if ((rc = gust_cookies_get(jar, "theme", &got)) != 0 ||
      (rc = gust_cookie_unquote(got.ptr, got.len, &unq)) != 0)
    goto done;
  if ((rc = gust_cookies_get(jar, "_xsrf", &got)) != 0 ||
      (rc = gust_xsrf_token_decode((const char *)got.ptr, got.len, &raw,
                                   &version, NULL)) != 0 ||
      (rc = gust_xsrf_check(mem, (const char *)got.ptr, got.len, raw.ptr,
                            raw.len)) != 0)
    goto done;
  rc = value.len == 14 && memcmp(value.ptr, "user=42; admin", 14) == 0 &&
               unq.len == 9 && memcmp(unq.ptr, "dark;blue", 9) == 0 &&
               version == 2 && raw.len == sizeof(token) &&
               memcmp(raw.ptr, token, sizeof(token)) == 0 && line.len > sv.len
           ? 0
           : GUST_EINTERNAL;
done:
  gust_cookies_free(jar);
  gust_secrets_free(keys);
  gust_buf_free(&sv);
  gust_buf_free(&line);
  gust_buf_free(&xsrf);
  gust_buf_free(&form);
  gust_buf_free(&header);
  gust_buf_free(&value);
  gust_buf_free(&raw);
  gust_buf_free(&unq);
  return rc;
}

int main(void) {
  if (tap_group("secure cookie"))
    torture("cookie, signed value and xsrf", round_trip, NULL);
  return done_testing();
}
