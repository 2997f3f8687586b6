/* ETags: Tornado's default ETag and If-None-Match matching (>= 4.2). */
#include "config.h"

#include <gust/crypto.h>
#include <gust/httputil.h>

#include <string.h>

#include "base/base_int.h"

int gust_etag_compute(const uint8_t *body, size_t len, gust_buf *out) {
  static const char hex[] = "0123456789abcdef";
  uint8_t digest[GUST_DIGEST_MAX];
  char text[2 * 20 + 2];
  gust_slice part;
  size_t i;
  int rc;
  if (out == NULL || (body == NULL && len != 0))
    return GUST_EINVAL;
  part.ptr = body;
  part.len = len;
  rc = gust_hash(GUST_SHA1, &part, 1, digest);
  if (rc != 0)
    return rc;
  text[0] = '"';
  for (i = 0; i < 20; i++) {
    text[1 + 2 * i] = hex[digest[i] >> 4];
    text[2 + 2 * i] = hex[digest[i] & 15];
  }
  text[41] = '"';
  return gust_buf_append(out, text, sizeof(text));
}

/* Strips a leading W/ (the weak-comparison rule). */
static gust_slice weak(const char *s, size_t n) {
  gust_slice r;
  if (n >= 2 && s[0] == 'W' && s[1] == '/') {
    s += 2;
    n -= 2;
  }
  r.ptr = (const uint8_t *)s;
  r.len = n;
  return r;
}

int gust_etag_match(const char *inm, size_t inm_len, const char *etag,
                    size_t etag_len) {
  /* Tornado: re.findall(r'\*|(?:W/)?"[^"]*"', header); the first token
   * may be '*', otherwise any token equal to the ETag under weak
   * comparison matches. */
  size_t i = 0;
  int first = 1;
  gust_slice want;
  if (inm == NULL || etag == NULL || etag_len == 0)
    return 0;
  want = weak(etag, etag_len);
  while (i < inm_len) {
    size_t start = i, j;
    if (inm[i] == '*') {
      if (first || gust_slice_eq(gust_slice_cstr("*"), want))
        return 1;
      first = 0;
      i++;
      continue;
    }
    if (inm[i] == 'W' && i + 2 < inm_len && inm[i + 1] == '/' &&
        inm[i + 2] == '"')
      j = i + 2;
    else if (inm[i] == '"')
      j = i;
    else {
      i++;
      continue;
    }
    {
      const char *close = memchr(inm + j + 1, '"', inm_len - j - 1);
      if (close == NULL) {
        /* An unterminated quote is no token; the regex moves on. */
        i++;
        continue;
      }
      i = (size_t)(close - inm) + 1;
    }
    first = 0;
    if (gust_slice_eq(weak(inm + start, i - start), want))
      return 1;
  }
  return 0;
}
