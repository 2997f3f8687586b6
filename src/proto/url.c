/* URL percent-encoding (Python's quote/quote_plus) and decoding
 * (unquote_to_bytes), and the urlencoded form iterator. */
#include "config.h"

#include <gust/httputil.h>

#include <string.h>

#include "base/base_int.h"

static int hex_value(uint8_t c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

static int url_safe(uint8_t c, int plus) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-' ||
         c == '~' || (!plus && c == '/');
}

int gust_url_escape(const uint8_t *s, size_t n, int plus, gust_buf *out) {
  static const char hex[] = "0123456789ABCDEF";
  size_t start, i;
  int rc = 0;
  if (out == NULL || (s == NULL && n != 0))
    return GUST_EINVAL;
  if (n == 0)
    return 0;
  start = out->len;
  for (i = 0; i < n && rc == 0; i++) {
    uint8_t c = s[i];
    if (url_safe(c, plus)) {
      rc = gust_buf_append_byte(out, c);
    } else if (plus && c == ' ') {
      rc = gust_buf_append_byte(out, '+');
    } else {
      char e[3] = {'%', hex[c >> 4], hex[c & 15]};
      rc = gust_buf_append(out, e, 3);
    }
  }
  if (rc != 0)
    gust_buf_truncate(out, start);
  return rc;
}

int gust_url_unescape(const uint8_t *s, size_t n, int plus, gust_buf *out) {
  size_t i;
  int rc;
  uint8_t *w, *w0;
  if (out == NULL || (s == NULL && n != 0))
    return GUST_EINVAL;
  if (n == 0)
    return 0;
  rc = gust_buf_reserve(out, n);
  if (rc != 0)
    return rc;
  w = w0 = gust_buf_tail(out);
  for (i = 0; i < n; i++) {
    int hi, lo;
    if (s[i] == '%' && i + 2 < n && (hi = hex_value(s[i + 1])) >= 0 &&
        (lo = hex_value(s[i + 2])) >= 0) {
      *w++ = (uint8_t)(hi << 4 | lo);
      i += 2;
    } else if (plus && s[i] == '+') {
      *w++ = ' ';
    } else {
      *w++ = s[i];
    }
  }
  return gust_buf_commit(out, (size_t)(w - w0));
}
