/* Slices (borrowed byte views) and iovec-shaped vectors. */
#include "config.h"

#include <gust/base.h>

#include <string.h>

#include "base_int.h"

gust_slice gust_slice_cstr(const char *s) {
  gust_slice r;
  r.ptr = (const uint8_t *)(s != NULL ? s : "");
  r.len = s != NULL ? strlen(s) : 0;
  return r;
}

int gust_slice_eq(gust_slice a, gust_slice b) {
  return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

int gust_slice_caseeq(gust_slice a, gust_slice b) {
  size_t i;
  if (a.len != b.len)
    return 0;
  for (i = 0; i < a.len; i++)
    if (gust__lower(a.ptr[i]) != gust__lower(b.ptr[i]))
      return 0;
  return 1;
}

gust_slice gust_slice_trim(gust_slice s) {
  while (s.len > 0 && (s.ptr[0] == ' ' || s.ptr[0] == '\t')) {
    s.ptr++;
    s.len--;
  }
  while (s.len > 0 && (s.ptr[s.len - 1] == ' ' || s.ptr[s.len - 1] == '\t'))
    s.len--;
  return s;
}

int gust_slice_to_u64(gust_slice s, uint64_t max, uint64_t *out) {
  uint64_t v = 0;
  size_t i;
  if (s.len == 0)
    return GUST_ESYNTAX;
  for (i = 0; i < s.len; i++) {
    unsigned d = (unsigned)s.ptr[i] - '0';
    if (d > 9)
      return GUST_ESYNTAX;
    if (d > max || v > (max - d) / 10)
      goto overflow;
    v = v * 10 + d;
  }
  *out = v;
  return 0;
overflow:
  /* Keep scanning so that "99999x" is a syntax error, not an overflow. */
  for (; i < s.len; i++)
    if ((unsigned)s.ptr[i] - '0' > 9)
      return GUST_ESYNTAX;
  return GUST_EOVERFLOW;
}

size_t gust_vec_total(const gust_vec *vec, size_t n) {
  size_t total = 0, i;
  for (i = 0; i < n; i++) {
    if (vec[i].len > SIZE_MAX - total)
      return SIZE_MAX;
    total += vec[i].len;
  }
  return total;
}

size_t gust_vec_advance(gust_vec **vec, size_t *n, size_t bytes) {
  gust_vec *v = *vec;
  size_t left = *n;
  while (left > 0 && bytes >= v->len) {
    bytes -= v->len;
    v++;
    left--;
  }
  if (left > 0 && bytes > 0) {
    v->base = (uint8_t *)v->base + bytes;
    v->len -= bytes;
    bytes = 0;
  }
  *vec = v;
  *n = left;
  return bytes;
}
