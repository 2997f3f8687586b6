/* Fuzz target for the Cookie header parser: parse, then check that every
 * kept name is legal and that quoting each value round-trips. */
#include <gust/cookie.h>

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  gust_cookies *c = NULL;
  gust_buf q, back, line;
  size_t i;
  if (gust_cookies_new(&c, NULL) != 0)
    return 0;
  if (gust_cookies_parse(c, (const char *)data, size) != 0) {
    gust_cookies_free(c);
    return 0;
  }
  gust_buf_init(&q, NULL);
  gust_buf_init(&back, NULL);
  gust_buf_init(&line, NULL);
  for (i = 0; i < gust_cookies_count(c); i++) {
    gust_slice name, value, again;
    char cname[256];
    if (gust_cookies_at(c, i, &name, &value) != 0 || name.len == 0)
      abort();
    if (gust_cookies_get(c, (const char *)name.ptr, &again) != 0 ||
        again.ptr != value.ptr)
      abort();
    gust_buf_clear(&q);
    gust_buf_clear(&back);
    if (gust_cookie_quote(value.ptr, value.len, &q) != 0 ||
        gust_cookie_unquote(q.ptr, q.len, &back) != 0)
      continue;
    if (back.len != value.len ||
        (value.len != 0 && memcmp(back.ptr, value.ptr, value.len) != 0))
      abort();
    /* Formatting a parsed cookie either works or refuses cleanly. */
    if (name.len < sizeof(cname)) {
      int rc;
      memcpy(cname, name.ptr, name.len);
      cname[name.len] = 0;
      gust_buf_clear(&line);
      rc = gust_cookie_format(cname, value.ptr, value.len, NULL, &line);
      if (rc != 0 && rc != GUST_ECOOKIE_INVALID && rc != GUST_ENOMEM)
        abort();
    }
  }
  gust_buf_free(&q);
  gust_buf_free(&back);
  gust_buf_free(&line);
  gust_cookies_free(c);
  return 0;
}
