/* XSRF tokens as Tornado makes and checks them: v1 (hex) and v2 (masked
 * with 4 fresh bytes per request), decoding of either, constant-time
 * comparison and the hidden form field. */
#include "config.h"

#include <gust/cookie.h>
#include <gust/crypto.h>
#include <gust/httputil.h>

#include <stdio.h>
#include <string.h>

#include "base/base_int.h"
#include "proto/cookie_int.h"

int gust_xsrf_token_generate(uint8_t token[GUST_XSRF_TOKEN_SIZE]) {
  if (token == NULL)
    return GUST_EINVAL;
  return gust_random_bytes(token, GUST_XSRF_TOKEN_SIZE);
}

int gust_xsrf_token_encode(const uint8_t *token, size_t len, int64_t timestamp,
                           int version, const uint8_t *mask, gust_buf *out) {
  uint8_t fresh[4];
  size_t start;
  int rc;
  if (out == NULL || (token == NULL && len != 0) || timestamp < 0)
    return GUST_EINVAL;
  if (version == 1)
    return gust__hex_encode(out, token, len, NULL);
  if (version != 0 && version != 2)
    return GUST_EINVAL;
  if (mask == NULL) {
    rc = gust_random_bytes(fresh, sizeof(fresh));
    if (rc != 0)
      return rc;
    mask = fresh;
  }
  start = out->len;
  rc = gust_buf_append_str(out, "2|");
  if (rc == 0)
    rc = gust__hex_encode(out, mask, 4, NULL);
  if (rc == 0)
    rc = gust_buf_append_byte(out, '|');
  if (rc == 0)
    rc = gust__hex_encode(out, token, len, mask);
  if (rc == 0)
    rc = gust_buf_printf(out, "|%lld", (long long)timestamp);
  if (rc != 0)
    gust_buf_truncate(out, start);
  return rc;
}

static int decode_v2(const uint8_t *s, size_t n, gust_buf *token_out,
                     int64_t *timestamp) {
  const uint8_t *bars[3], *p = s, *end = s + n;
  uint8_t mask[4];
  gust_buf m;
  size_t start = token_out->len;
  int i, rc;
  for (i = 0; i < 3; i++) {
    bars[i] = memchr(p, '|', (size_t)(end - p));
    if (bars[i] == NULL)
      return GUST_EXSRF_FORMAT;
    p = bars[i] + 1;
  }
  if (memchr(p, '|', (size_t)(end - p)) != NULL)
    return GUST_EXSRF_FORMAT;
  /* The mask must unhex to exactly 4 bytes. */
  if (bars[1] - bars[0] - 1 != 8)
    return GUST_EXSRF_FORMAT;
  gust_buf_init(&m, token_out->mem);
  rc = gust__hex_decode(&m, bars[0] + 1, 8, NULL);
  if (rc == 0)
    memcpy(mask, m.ptr, 4);
  gust_buf_free(&m);
  if (rc != 0)
    return rc == GUST_ESYNTAX ? GUST_EXSRF_FORMAT : rc;
  if (gust__parse_digits(bars[2] + 1, (size_t)(end - bars[2] - 1), timestamp) !=
      0)
    return GUST_EXSRF_FORMAT;
  rc = gust__hex_decode(token_out, bars[1] + 1, (size_t)(bars[2] - bars[1] - 1),
                        mask);
  if (rc != 0) {
    gust_buf_truncate(token_out, start);
    return rc == GUST_ESYNTAX ? GUST_EXSRF_FORMAT : rc;
  }
  return 0;
}

int gust_xsrf_token_decode(const char *text, size_t len, gust_buf *token_out,
                           int *version, int64_t *timestamp) {
  const uint8_t *s = (const uint8_t *)text;
  int64_t v, ts = 0;
  size_t plen;
  int rc;
  if (token_out == NULL || (text == NULL && len != 0))
    return GUST_EINVAL;
  if (gust__version_prefix(s, len, &v, &plen)) {
    if (v != 2)
      return GUST_EXSRF_FORMAT;
    rc = decode_v2(s, len, token_out, &ts);
    if (rc != 0)
      return rc;
  } else {
    v = 1;
    rc = gust__hex_decode(token_out, s, len, NULL);
    if (rc == GUST_ESYNTAX)
      rc = gust_buf_append(token_out, s, len);
    if (rc != 0)
      return rc;
  }
  if (version != NULL)
    *version = (int)v;
  if (timestamp != NULL)
    *timestamp = ts;
  return 0;
}

int gust_xsrf_check(const gust_mem *mem, const char *submitted,
                    size_t submitted_len, const uint8_t *expected,
                    size_t expected_len) {
  gust_buf tok;
  int rc;
  if (submitted == NULL || submitted_len == 0)
    return GUST_EXSRF_MISSING;
  gust_buf_init(&tok, gust__mem(mem));
  rc = gust_xsrf_token_decode(submitted, submitted_len, &tok, NULL, NULL);
  if (rc == 0 && tok.len == 0)
    rc = GUST_EXSRF_FORMAT;
  if (rc == 0 &&
      (expected == NULL ||
       !gust_const_time_eq(tok.ptr, tok.len, expected, expected_len)))
    rc = GUST_EXSRF_MISMATCH;
  gust_buf_free(&tok);
  return rc;
}

int gust_xsrf_form_html(const char *token_text, size_t len, gust_buf *out) {
  size_t start;
  int rc;
  if (out == NULL || (token_text == NULL && len != 0))
    return GUST_EINVAL;
  start = out->len;
  rc = gust_buf_append_str(out,
                           "<input type=\"hidden\" name=\"_xsrf\" value=\"");
  if (rc == 0)
    rc = gust_xhtml_escape((const uint8_t *)token_text, len, out);
  if (rc == 0)
    rc = gust_buf_append_str(out, "\"/>");
  if (rc != 0)
    gust_buf_truncate(out, start);
  return rc;
}
