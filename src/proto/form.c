/* Iteration over query strings and application/x-www-form-urlencoded
 * bodies with the rules of Python's parse_qsl(keep_blank_values=True). */
#include "config.h"

#include <gust/httputil.h>

#include <string.h>

#include "base/base_int.h"

void gust_form_iter_init(gust_form_iter *it, const uint8_t *data, size_t len) {
  if (it == NULL)
    return;
  it->data = data;
  it->len = data != NULL ? len : 0;
  it->pos = 0;
}

int gust_form_next(gust_form_iter *it, gust_buf *name, gust_buf *value) {
  if (it == NULL || name == NULL || value == NULL)
    return GUST_EINVAL;
  while (it->pos < it->len) {
    const uint8_t *s = it->data + it->pos;
    size_t rest = it->len - it->pos;
    const uint8_t *amp = memchr(s, '&', rest);
    size_t n = amp != NULL ? (size_t)(amp - s) : rest;
    const uint8_t *eq;
    int rc;
    it->pos += n + (amp != NULL);
    if (n == 0)
      continue;
    eq = memchr(s, '=', n);
    gust_buf_clear(name);
    gust_buf_clear(value);
    rc = gust_url_unescape(s, eq != NULL ? (size_t)(eq - s) : n, 1, name);
    if (rc == 0 && eq != NULL)
      rc = gust_url_unescape(eq + 1, (size_t)(s + n - eq - 1), 1, value);
    return rc == 0 ? 1 : rc;
  }
  return 0;
}
