/* Base64, hex and version-prefix codecs used by signed values and XSRF
 * tokens. */
#include "config.h"

#include <gust/base.h>

#include <stdint.h>
#include <string.h>

#include "base/base_int.h"
#include "proto/cookie_int.h"

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int gust__b64_encode(gust_buf *out, const uint8_t *data, size_t n) {
  size_t groups = n / 3 + (n % 3 != 0);
  size_t i;
  uint8_t *w;
  int rc;
  if (groups > SIZE_MAX / 4)
    return GUST_EOVERFLOW;
  rc = gust_buf_reserve(out, groups * 4);
  if (rc != 0)
    return rc;
  w = gust_buf_tail(out);
  for (i = 0; i + 3 <= n; i += 3) {
    uint32_t v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8 |
                 (uint32_t)data[i + 2];
    *w++ = (uint8_t)b64_alphabet[v >> 18];
    *w++ = (uint8_t)b64_alphabet[(v >> 12) & 63];
    *w++ = (uint8_t)b64_alphabet[(v >> 6) & 63];
    *w++ = (uint8_t)b64_alphabet[v & 63];
  }
  if (n - i == 1) {
    uint32_t v = (uint32_t)data[i] << 16;
    *w++ = (uint8_t)b64_alphabet[v >> 18];
    *w++ = (uint8_t)b64_alphabet[(v >> 12) & 63];
    *w++ = '=';
    *w++ = '=';
  } else if (n - i == 2) {
    uint32_t v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8;
    *w++ = (uint8_t)b64_alphabet[v >> 18];
    *w++ = (uint8_t)b64_alphabet[(v >> 12) & 63];
    *w++ = (uint8_t)b64_alphabet[(v >> 6) & 63];
    *w++ = '=';
  }
  return gust_buf_commit(out, groups * 4);
}

static int b64_value(uint8_t c) {
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '+')
    return 62;
  if (c == '/')
    return 63;
  return -1;
}

int gust__b64_decode(gust_buf *out, const uint8_t *s, size_t n) {
  size_t pad = 0, i, outlen;
  uint8_t *w;
  int rc;
  if (n % 4 != 0)
    return GUST_ESYNTAX;
  if (n > 0 && s[n - 1] == '=')
    pad = (n > 1 && s[n - 2] == '=') ? 2 : 1;
  for (i = 0; i < n - pad; i++)
    if (b64_value(s[i]) < 0)
      return GUST_ESYNTAX;
  outlen = n / 4 * 3 - pad;
  rc = gust_buf_reserve(out, outlen);
  if (rc != 0)
    return rc;
  w = gust_buf_tail(out);
  for (i = 0; i < n; i += 4) {
    uint32_t v = 0;
    size_t j, take = 3;
    for (j = 0; j < 4; j++) {
      uint8_t c = s[i + j];
      v <<= 6;
      if (c == '=')
        take--;
      else
        v |= (uint32_t)b64_value(c);
    }
    /* "x===" cannot occur: pad is at most 2, so take >= 1. */
    *w++ = (uint8_t)(v >> 16);
    if (take > 1)
      *w++ = (uint8_t)(v >> 8);
    if (take > 2)
      *w++ = (uint8_t)v;
  }
  return gust_buf_commit(out, outlen);
}

static const char hex_digits[] = "0123456789abcdef";

int gust__hex_encode(gust_buf *out, const uint8_t *data, size_t n,
                     const uint8_t *mask) {
  size_t i;
  uint8_t *w;
  int rc;
  if (n > SIZE_MAX / 2)
    return GUST_EOVERFLOW;
  rc = gust_buf_reserve(out, n * 2);
  if (rc != 0)
    return rc;
  w = gust_buf_tail(out);
  for (i = 0; i < n; i++) {
    uint8_t b = (uint8_t)(data[i] ^ (mask != NULL ? mask[i % 4] : 0));
    *w++ = (uint8_t)hex_digits[b >> 4];
    *w++ = (uint8_t)hex_digits[b & 15];
  }
  return gust_buf_commit(out, n * 2);
}

static int hex_value(uint8_t c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

int gust__hex_decode(gust_buf *out, const uint8_t *s, size_t n,
                     const uint8_t *mask) {
  size_t i;
  uint8_t *w;
  int rc;
  if (n % 2 != 0)
    return GUST_ESYNTAX;
  for (i = 0; i < n; i++)
    if (hex_value(s[i]) < 0)
      return GUST_ESYNTAX;
  rc = gust_buf_reserve(out, n / 2);
  if (rc != 0)
    return rc;
  w = gust_buf_tail(out);
  for (i = 0; i < n / 2; i++) {
    uint8_t b = (uint8_t)(hex_value(s[2 * i]) << 4 | hex_value(s[2 * i + 1]));
    *w++ = (uint8_t)(b ^ (mask != NULL ? mask[i % 4] : 0));
  }
  return gust_buf_commit(out, n / 2);
}

int gust__version_prefix(const uint8_t *s, size_t n, int64_t *version,
                         size_t *prefix_len) {
  size_t i = 0;
  int64_t v = 0;
  const uint8_t *nl;
  if (n == 0 || s[0] < '1' || s[0] > '9')
    return 0;
  while (i < n && s[i] >= '0' && s[i] <= '9') {
    int d = s[i] - '0';
    v = v > (INT64_MAX - d) / 10 ? INT64_MAX : v * 10 + d;
    i++;
  }
  if (i >= n || s[i] != '|')
    return 0;
  /* `.*$` without DOTALL: a newline may only be the very last byte. */
  nl = memchr(s + i + 1, '\n', n - i - 1);
  if (nl != NULL && nl != s + n - 1)
    return 0;
  *version = v;
  *prefix_len = i + 1;
  return 1;
}

int gust__parse_digits(const uint8_t *s, size_t n, int64_t *out) {
  uint64_t v;
  gust_slice sl;
  sl.ptr = s;
  sl.len = n;
  if (gust_slice_to_u64(sl, (uint64_t)INT64_MAX, &v) != 0)
    return GUST_ESYNTAX;
  *out = (int64_t)v;
  return 0;
}
