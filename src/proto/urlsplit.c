/* URI references split into their RFC 3986 components, and references
 * resolved against a base URL (section 5.2), e.g. a redirect's Location. */
#include "config.h"

#include <gust/httputil.h>

#include <string.h>

#include <arpa/inet.h>

#include "base/base_int.h"

/* The longest IPv6 text form: 6 groups and a dotted quad. */
#define IPV6_MAX 45

static int is_alpha(uint8_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(uint8_t c) { return c >= '0' && c <= '9'; }

static int is_hex(uint8_t c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* unreserved / sub-delims: what a reg-name may hold besides escapes. */
static int is_host_char(uint8_t c) {
  /* c != 0: strchr() finds the terminating NUL. */
  return is_alpha(c) || is_digit(c) ||
         (c != 0 && strchr("-._~!$&'()*+,;=", c) != NULL);
}

static gust_slice slice(const uint8_t *p, size_t n) {
  gust_slice v;
  v.ptr = p;
  v.len = n;
  return v;
}

/* Returns 0 when every byte of the component is VCHAR, no '[' or ']', and
 * every '%' starts a two-hex-digit escape. */
static int check_chars(const uint8_t *p, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    uint8_t c = p[i];
    if (c < 0x21 || c >= 0x7f || c == '[' || c == ']')
      return GUST_ESYNTAX;
    if (c == '%') {
      if (n - i < 3 || !is_hex(p[i + 1]) || !is_hex(p[i + 2]))
        return GUST_ESYNTAX;
      i += 2;
    }
  }
  return 0;
}

/* The same for userinfo (at_ok: ':' and '@' too) and reg-name, which take
 * only unreserved, sub-delims and escapes. */
static int check_auth_chars(const uint8_t *p, size_t n, int at_ok) {
  size_t i;
  for (i = 0; i < n; i++) {
    uint8_t c = p[i];
    if (c == '%') {
      if (n - i < 3 || !is_hex(p[i + 1]) || !is_hex(p[i + 2]))
        return GUST_ESYNTAX;
      i += 2;
    } else if (!is_host_char(c) && !(at_ok && (c == ':' || c == '@'))) {
      return GUST_ESYNTAX;
    }
  }
  return 0;
}

static int check_ipv6(const uint8_t *p, size_t n) {
  char text[IPV6_MAX + 1];
  unsigned char addr[16];
  size_t i;
  if (n == 0 || n > IPV6_MAX)
    return GUST_ESYNTAX;
  /* Only what IPv6 text uses: this refuses IPvFuture ("v1.x"), which
   * nothing could connect to, and zone IDs, and keeps a NUL from ending
   * the text inet_pton() reads early. */
  for (i = 0; i < n; i++)
    if (!is_hex(p[i]) && p[i] != ':' && p[i] != '.')
      return GUST_ESYNTAX;
  memcpy(text, p, n);
  text[n] = '\0';
  return inet_pton(AF_INET6, text, addr) == 1 ? 0 : GUST_ESYNTAX;
}

/* Splits the authority `a` (n bytes, after "//") into u's userinfo, host
 * and port. */
static int split_authority(gust_url *u, const uint8_t *a, size_t n) {
  size_t at = n, i, host_end;
  const uint8_t *hp;
  size_t hn, port_at;
  long port = 0;
  int rc;
  for (i = n; i > 0; i--) {
    if (a[i - 1] == '@') {
      at = i - 1;
      break;
    }
  }
  if (at < n) {
    rc = check_auth_chars(a, at, 1);
    if (rc != 0)
      return rc;
    u->flags |= GUST_URL_HAS_USERINFO;
    u->userinfo = slice(a, at);
    hp = a + at + 1;
    hn = n - at - 1;
  } else {
    hp = a;
    hn = n;
  }
  if (hn > 0 && hp[0] == '[') {
    const uint8_t *close = memchr(hp, ']', hn);
    if (close == NULL)
      return GUST_ESYNTAX;
    host_end = (size_t)(close - hp);
    rc = check_ipv6(hp + 1, host_end - 1);
    if (rc != 0)
      return rc;
    u->host = slice(hp + 1, host_end - 1);
    port_at = host_end + 1;
    if (port_at < hn && hp[port_at] != ':')
      return GUST_ESYNTAX;
  } else {
    const uint8_t *colon = memchr(hp, ':', hn);
    host_end = colon != NULL ? (size_t)(colon - hp) : hn;
    rc = check_auth_chars(hp, host_end, 0);
    if (rc != 0)
      return rc;
    u->host = slice(hp, host_end);
    port_at = host_end;
  }
  /* port_at is at the ':' or the end; an empty port counts as absent. */
  if (port_at + 1 >= hn)
    return 0;
  for (i = port_at + 1; i < hn; i++) {
    if (!is_digit(hp[i]))
      return GUST_ESYNTAX;
    port = port * 10 + (hp[i] - '0');
    if (port > 65535)
      return GUST_ESYNTAX;
  }
  u->flags |= GUST_URL_HAS_PORT;
  u->port = (int)port;
  return 0;
}

/* gust_url_split() that also gives the authority as it was written, which
 * resolution copies unchanged. */
static int split(gust_url *u, gust_slice *authority, const uint8_t *s,
                 size_t len) {
  size_t i = 0, pos = 0, end;
  int rc;
  if (s == NULL)
    s = (const uint8_t *)""; /* no arithmetic on NULL, even + 0 */
  memset(u, 0, sizeof(*u));
  u->port = -1;
  *authority = slice(NULL, 0);
  /* A ':' before any '/', '?' or '#' ends a scheme (Appendix B); a
   * relative path cannot have one in its first segment. */
  while (i < len && s[i] != ':' && s[i] != '/' && s[i] != '?' && s[i] != '#')
    i++;
  if (i < len && s[i] == ':') {
    size_t k;
    if (i == 0 || !is_alpha(s[0]))
      return GUST_ESYNTAX;
    for (k = 1; k < i; k++) {
      uint8_t c = s[k];
      if (!is_alpha(c) && !is_digit(c) && c != '+' && c != '-' && c != '.')
        return GUST_ESYNTAX;
    }
    u->flags |= GUST_URL_HAS_SCHEME;
    u->scheme = slice(s, i);
    pos = i + 1;
  }
  if (len - pos >= 2 && s[pos] == '/' && s[pos + 1] == '/') {
    pos += 2;
    end = pos;
    while (end < len && s[end] != '/' && s[end] != '?' && s[end] != '#')
      end++;
    u->flags |= GUST_URL_HAS_AUTHORITY;
    *authority = slice(s + pos, end - pos);
    rc = split_authority(u, s + pos, end - pos);
    if (rc != 0)
      return rc;
    pos = end;
  }
  rc = check_chars(s + pos, len - pos);
  if (rc != 0)
    return rc;
  end = pos;
  while (end < len && s[end] != '?' && s[end] != '#')
    end++;
  u->path = slice(s + pos, end - pos);
  pos = end;
  if (pos < len && s[pos] == '?') {
    pos++;
    while (end < len && s[end] != '#')
      end++;
    u->flags |= GUST_URL_HAS_QUERY;
    u->query = slice(s + pos, end - pos);
    pos = end;
  }
  if (pos < len) {
    u->flags |= GUST_URL_HAS_FRAGMENT;
    u->fragment = slice(s + pos + 1, len - pos - 1);
  }
  return 0;
}

int gust_url_split(gust_url *u, const char *s, size_t len) {
  gust_slice authority;
  if (u == NULL || (s == NULL && len != 0))
    return GUST_EINVAL;
  return split(u, &authority, (const uint8_t *)s, len);
}

/* RFC 3986 section 5.2.4 on p[0..n) in place (the output never outruns
 * the input); returns the new length. */
static size_t remove_dot_segments(uint8_t *p, size_t n) {
  size_t r = 0, w = 0;
  while (r < n) {
    size_t left = n - r;
    const uint8_t *in = p + r;
    if (left >= 3 && memcmp(in, "../", 3) == 0) {
      r += 3; /* A */
    } else if (left >= 2 && memcmp(in, "./", 2) == 0) {
      r += 2; /* A */
    } else if (left >= 3 && memcmp(in, "/./", 3) == 0) {
      r += 2; /* B: the input now starts at the second '/' */
    } else if (left == 2 && memcmp(in, "/.", 2) == 0) {
      p[r + 1] = '/'; /* B: "/." becomes "/" */
      r += 1;
    } else if ((left >= 4 && memcmp(in, "/../", 4) == 0) ||
               (left == 3 && memcmp(in, "/..", 3) == 0)) {
      /* C: replaced by "/", and the last output segment goes. */
      if (left == 3)
        p[r + 2] = '/';
      r += left == 3 ? 2 : 3;
      while (w > 0 && p[w - 1] != '/')
        w--;
      if (w > 0)
        w--;
    } else if ((left == 1 && in[0] == '.') ||
               (left == 2 && memcmp(in, "..", 2) == 0)) {
      r = n; /* D */
    } else {
      /* E: the first segment, with its leading '/' if any. */
      p[w++] = p[r++];
      while (r < n && p[r] != '/')
        p[w++] = p[r++];
    }
  }
  return w;
}

static uint8_t *put(uint8_t *w, gust_slice v) {
  if (v.len != 0)
    memcpy(w, v.ptr, v.len);
  return w + v.len;
}

/* 1 when [p, p + n) overlaps the memory that `out` holds. */
static int inside(const gust_buf *out, const char *p, size_t n) {
  uintptr_t lo, hi, a = (uintptr_t)p;
  if (out->cap == 0 || n == 0)
    return 0;
  lo = (uintptr_t)(out->ptr - out->off);
  hi = lo + out->cap;
  return a < hi && a + n > lo;
}

int gust_url_resolve(const char *base, size_t blen, const char *ref,
                     size_t rlen, gust_buf *out) {
  gust_url b, r;
  gust_slice bauth, rauth, scheme, auth, dir, path, query, frag = {NULL, 0};
  unsigned has_auth, has_query, has_frag = 0;
  int slash = 0, dots = 1, rc;
  size_t need, n;
  uint8_t *t0, *w, *p0;
  if (out == NULL || (base == NULL && blen != 0) ||
      (ref == NULL && rlen != 0) || inside(out, base, blen) ||
      inside(out, ref, rlen))
    return GUST_EINVAL;
  rc = split(&b, &bauth, (const uint8_t *)base, blen);
  if (rc == 0 && !(b.flags & GUST_URL_HAS_SCHEME))
    rc = GUST_ESYNTAX;
  if (rc == 0)
    rc = split(&r, &rauth, (const uint8_t *)ref, rlen);
  if (rc != 0)
    return rc;

  /* Section 5.2.2, strict: the target is dir + ("/" if slash) + path. */
  scheme = b.scheme;
  auth = bauth;
  has_auth = b.flags & GUST_URL_HAS_AUTHORITY;
  dir = slice(NULL, 0);
  path = r.path;
  query = r.query;
  has_query = r.flags & GUST_URL_HAS_QUERY;
  if (r.flags & GUST_URL_HAS_SCHEME) {
    scheme = r.scheme;
    auth = rauth;
    has_auth = r.flags & GUST_URL_HAS_AUTHORITY;
  } else if (r.flags & GUST_URL_HAS_AUTHORITY) {
    auth = rauth;
    has_auth = GUST_URL_HAS_AUTHORITY;
  } else if (r.path.len == 0) {
    path = b.path;
    dots = 0;
    if (!has_query) {
      query = b.query;
      has_query = b.flags & GUST_URL_HAS_QUERY;
    }
  } else if (r.path.ptr[0] != '/') {
    /* Section 5.2.3: merge with the base path's directory. */
    if (has_auth && b.path.len == 0) {
      slash = 1;
    } else {
      n = b.path.len;
      while (n > 0 && b.path.ptr[n - 1] != '/')
        n--;
      dir = slice(b.path.ptr, n);
    }
  }
  if (r.flags & GUST_URL_HAS_FRAGMENT) {
    frag = r.fragment;
    has_frag = 1;
  }

  /* Section 5.3, plus 2 bytes for a "/." in front of the path. */
  need = scheme.len + 1 + (has_auth ? 2 + auth.len : 0) + 2 + dir.len +
         (size_t)slash + path.len + (has_query ? 1 + query.len : 0) +
         (has_frag ? 1 + frag.len : 0);
  rc = gust_buf_reserve(out, need);
  if (rc != 0)
    return rc;
  w = t0 = gust_buf_tail(out);
  w = put(w, scheme);
  *w++ = ':';
  if (has_auth) {
    *w++ = '/';
    *w++ = '/';
    w = put(w, auth);
  }
  p0 = w;
  w = put(w, dir);
  if (slash)
    *w++ = '/';
  w = put(w, path);
  if (dots)
    w = p0 + remove_dot_segments(p0, (size_t)(w - p0));
  /* Without an authority, a path starting "//" would read as one when the
   * result is parsed again; "/." in front keeps its meaning (as WHATWG's
   * URL serializer does). */
  if (!has_auth && w - p0 >= 2 && p0[0] == '/' && p0[1] == '/') {
    memmove(p0 + 2, p0, (size_t)(w - p0));
    p0[0] = '/';
    p0[1] = '.';
    w += 2;
  }
  if (has_query) {
    *w++ = '?';
    w = put(w, query);
  }
  if (has_frag) {
    *w++ = '#';
    w = put(w, frag);
  }
  return gust_buf_commit(out, (size_t)(w - t0));
}
