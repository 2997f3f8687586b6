/* Fuzz target for the header multimap: the input is a script of add, set,
 * remove, lookup and copy operations; after each one the map is checked
 * against invariants (count, validity of every stored field, lookups agree
 * with iteration). */
#include <gust/headers.h>

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Crashes on purpose: a broken invariant must be a finding. */
static void check(int cond) {
  if (!cond)
    abort();
}

static void check_map(const gust_headers *h) {
  size_t iter = 0, n = 0;
  gust_slice name, value;
  while (gust_headers_next(h, &iter, &name, &value)) {
    char cname[256];
    gust_slice first;
    check(gust_header_name_valid((const char *)name.ptr, name.len));
    check(gust_header_value_valid((const char *)value.ptr, value.len));
    check(name.len < sizeof(cname));
    memcpy(cname, name.ptr, name.len);
    cname[name.len] = '\0';
    check(gust_headers_get(h, cname, &first) == 0);
    check(gust_headers_count_name(h, cname) >= 1);
    n++;
  }
  check(n == gust_headers_count(h));
}

/* Takes a length-prefixed field from the input. */
static size_t take(const uint8_t **p, const uint8_t *end, const uint8_t **out) {
  size_t n;
  if (*p >= end)
    return 0;
  n = **p % 32;
  (*p)++;
  if (n > (size_t)(end - *p))
    n = (size_t)(end - *p);
  *out = *p;
  *p += n;
  return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  gust_headers h, copy;
  gust_failmem fm;
  const uint8_t *p = data, *end = data + size;
  gust_failmem_init(&fm, NULL);
  if (size > 0)
    fm.fail_at = data[0] % 64; /* sometimes fail an allocation */
  gust_headers_init(&h, &fm.mem);
  gust_headers_init(&copy, &fm.mem);
  while (p < end) {
    uint8_t op = *p++;
    const uint8_t *name = NULL, *value = NULL;
    size_t nlen = take(&p, end, &name), vlen = take(&p, end, &value);
    char cname[40];
    size_t before = gust_headers_count(&h);
    int rc;
    memcpy(cname, name != NULL ? (const char *)name : "", nlen);
    cname[nlen] = '\0';
    switch (op % 6) {
    case 0:
      rc = gust_headers_add(&h, (const char *)name, nlen, (const char *)value,
                            vlen);
      check(rc == 0 ? gust_headers_count(&h) == before + 1
                    : gust_headers_count(&h) == before);
      break;
    case 1:
      rc = gust_headers_set(&h, (const char *)name, nlen, (const char *)value,
                            vlen);
      if (rc == 0 && strlen(cname) == nlen)
        check(gust_headers_count_name(&h, cname) == 1);
      break;
    case 2:
      if (strlen(cname) == nlen) {
        size_t had = gust_headers_count_name(&h, cname);
        check(gust_headers_remove(&h, cname) == had);
        check(gust_headers_count_name(&h, cname) == 0);
      }
      break;
    case 3:
      if (strlen(cname) == nlen && vlen > 0) {
        char tok[40];
        memcpy(tok, value, vlen);
        tok[vlen] = '\0';
        (void)gust_headers_has_token(&h, cname, tok);
      }
      break;
    case 4:
      gust_headers_clear(&copy);
      if (gust_headers_copy(&copy, &h) == 0)
        check(gust_headers_count(&copy) == gust_headers_count(&h));
      break;
    default: {
      gust_buf out;
      gust_buf_init(&out, &fm.mem);
      if (strlen(cname) == nlen)
        (void)gust_headers_get_joined(&h, cname, &out);
      gust_buf_free(&out);
      break;
    }
    }
    check_map(&h);
  }
  gust_headers_free(&h);
  gust_headers_free(&copy);
  check(fm.live_blocks == 0);
  return 0;
}
