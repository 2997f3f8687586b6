/* Fuzz target for gust_url_split() and gust_url_resolve(). The input is
 * split whole; then, cut at its first newline into base and reference (no
 * newline: the whole input against RFC 3986's example base), resolved. A
 * successful split gives slices inside the input that agree with the
 * flags; a successful resolution splits back with a scheme and the
 * reference's fragment, and resolving it again is idempotent; a failed
 * one leaves the output as it was. */
#include <gust/httputil.h>

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char rfc_base[] = "http://a/b/c/d;p?q";

static void check_slice(gust_slice v, unsigned flags, unsigned flag,
                        const uint8_t *s, size_t len) {
  if (!(flags & flag)) {
    if (v.ptr != NULL || v.len != 0)
      abort();
    return;
  }
  if (v.len != 0 && (v.ptr < s || v.ptr + v.len > s + len))
    abort();
}

static int split_checked(gust_url *u, const uint8_t *s, size_t len) {
  int rc = gust_url_split(u, (const char *)s, len);
  size_t i;
  if (rc != 0) {
    if (rc != GUST_ESYNTAX)
      abort();
    return rc;
  }
  check_slice(u->scheme, u->flags, GUST_URL_HAS_SCHEME, s, len);
  check_slice(u->userinfo, u->flags, GUST_URL_HAS_USERINFO, s, len);
  check_slice(u->host, u->flags, GUST_URL_HAS_AUTHORITY, s, len);
  check_slice(u->path, ~0u, ~0u, s, len);
  check_slice(u->query, u->flags, GUST_URL_HAS_QUERY, s, len);
  check_slice(u->fragment, u->flags, GUST_URL_HAS_FRAGMENT, s, len);
  if ((u->flags & GUST_URL_HAS_PORT) ? u->port < 0 || u->port > 65535
                                     : u->port != -1)
    abort();
  if ((u->flags & (GUST_URL_HAS_USERINFO | GUST_URL_HAS_PORT)) &&
      !(u->flags & GUST_URL_HAS_AUTHORITY))
    abort();
  if ((u->flags & GUST_URL_HAS_SCHEME) && u->scheme.len == 0)
    abort();
  /* Every accepted byte is VCHAR. */
  for (i = 0; i < len; i++)
    if (s[i] < 0x21 || s[i] >= 0x7f)
      abort();
  /* With an authority the path is empty or absolute; without one it
   * cannot start with "//". */
  if ((u->flags & GUST_URL_HAS_AUTHORITY)
          ? u->path.len != 0 && u->path.ptr[0] != '/'
          : u->path.len >= 2 && u->path.ptr[0] == '/' && u->path.ptr[1] == '/')
    abort();
  return 0;
}

static int same(const gust_buf *a, const gust_buf *b) {
  return a->len == b->len &&
         (a->len == 0 || memcmp(a->ptr, b->ptr, a->len) == 0);
}

static void resolve(const uint8_t *base, size_t blen, const uint8_t *ref,
                    size_t rlen) {
  gust_buf out, once, twice;
  gust_url t, r;
  int rc;
  gust_buf_init(&out, NULL);
  gust_buf_init(&once, NULL);
  gust_buf_init(&twice, NULL);
  rc =
      gust_url_resolve((const char *)base, blen, (const char *)ref, rlen, &out);
  if (rc != 0) {
    if (rc != GUST_ESYNTAX || out.len != 0)
      abort();
    goto done;
  }
  if (split_checked(&r, ref, rlen) != 0 ||
      split_checked(&t, out.ptr, out.len) != 0 ||
      !(t.flags & GUST_URL_HAS_SCHEME))
    abort();
  if ((t.flags & GUST_URL_HAS_FRAGMENT) != (r.flags & GUST_URL_HAS_FRAGMENT) ||
      t.fragment.len != r.fragment.len ||
      (t.fragment.len != 0 &&
       memcmp(t.fragment.ptr, r.fragment.ptr, t.fragment.len) != 0))
    abort();
  if ((r.flags & GUST_URL_HAS_SCHEME) &&
      (t.scheme.len != r.scheme.len ||
       memcmp(t.scheme.ptr, r.scheme.ptr, t.scheme.len) != 0))
    abort();
  /* The result is absolute, so taken as it is with its dot segments
   * removed (the base's path, kept for an empty reference, may have
   * some); after that, resolving changes nothing. */
  if (gust_url_resolve((const char *)base, blen, (const char *)out.ptr, out.len,
                       &once) != 0 ||
      gust_url_resolve((const char *)base, blen, (const char *)once.ptr,
                       once.len, &twice) != 0 ||
      !same(&once, &twice))
    abort();
  if (r.path.len != 0 && !same(&out, &once))
    abort();
done:
  gust_buf_free(&out);
  gust_buf_free(&once);
  gust_buf_free(&twice);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  gust_url u;
  const uint8_t *nl;
  (void)split_checked(&u, data, size);
  nl = size != 0 ? memchr(data, '\n', size) : NULL;
  if (nl != NULL)
    resolve(data, (size_t)(nl - data), nl + 1, size - (size_t)(nl - data) - 1);
  else
    resolve((const uint8_t *)rfc_base, sizeof(rfc_base) - 1, data, size);
  return 0;
}
