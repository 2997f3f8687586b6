/* Cookie header parsing and Set-Cookie formatting, following the rules of
 * Tornado's parse_cookie and Python's SimpleCookie byte for byte. */
#include "config.h"

#include <gust/cookie.h>
#include <gust/httputil.h>

#include <stdio.h>
#include <string.h>

#include "base/base_int.h"

#define MAX_COOKIES 4096

typedef struct cookie_entry {
  uint8_t *name; /* name, NUL, value, NUL in one block */
  size_t name_len;
  size_t value_len;
} cookie_entry;

struct gust_cookies {
  const gust_mem *mem;
  cookie_entry *items;
  size_t count;
  size_t cap;
};

/* Python's SimpleCookie legal key characters. */
static int legal_char(uint8_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || (c != 0 && strchr("!#$%&'*+-.^_`|~:", c));
}

static const char *const reserved_names[] = {"expires",  "path",    "comment",
                                             "domain",   "max-age", "secure",
                                             "httponly", "version", "samesite"};

static int is_reserved(const uint8_t *s, size_t n) {
  size_t i;
  for (i = 0; i < GUST__ARRAY_SIZE(reserved_names); i++)
    if (gust_slice_caseeq((gust_slice){s, n},
                          gust_slice_cstr(reserved_names[i])))
      return 1;
  return 0;
}

static int legal_key(const uint8_t *s, size_t n) {
  size_t i;
  if (n == 0)
    return 0;
  for (i = 0; i < n; i++)
    if (!legal_char(s[i]))
      return 0;
  return 1;
}

int gust_cookies_new(gust_cookies **out, const gust_mem *mem) {
  gust_cookies *c;
  if (out == NULL)
    return GUST_EINVAL;
  mem = gust__mem(mem);
  c = gust__calloc(mem, 1, sizeof(*c));
  if (c == NULL)
    return GUST_ENOMEM;
  c->mem = mem;
  *out = c;
  return 0;
}

void gust_cookies_free(gust_cookies *cookies) {
  size_t i;
  if (cookies == NULL)
    return;
  for (i = 0; i < cookies->count; i++)
    gust__free(cookies->mem, cookies->items[i].name);
  gust__free(cookies->mem, cookies->items);
  gust__free(cookies->mem, cookies);
}

/* Python str.strip() on a latin-1 decoded header: ASCII whitespace, the
 * information separators 0x1C-0x1F, NEL (0x85) and NBSP (0xA0). */
static int py_space(uint8_t c) {
  return c == ' ' || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f) ||
         c == 0x85 || c == 0xa0;
}

static gust_slice py_strip(const uint8_t *s, size_t n) {
  gust_slice r;
  while (n > 0 && py_space(s[0])) {
    s++;
    n--;
  }
  while (n > 0 && py_space(s[n - 1]))
    n--;
  r.ptr = s;
  r.len = n;
  return r;
}

int gust_cookie_unquote(const uint8_t *s, size_t n, gust_buf *out) {
  size_t start, i, run;
  int rc = 0;
  if (out == NULL || (s == NULL && n != 0))
    return GUST_EINVAL;
  if (n == 0)
    return 0;
  if (n < 2 || s[0] != '"' || s[n - 1] != '"')
    return gust_buf_append(out, s, n);
  start = out->len;
  s++;
  n -= 2;
  run = 0;
  for (i = 0; i < n && rc == 0;) {
    uint8_t c;
    if (s[i] != '\\') {
      i++;
      continue;
    }
    if (i + 3 < n && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' &&
        s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
      c = (uint8_t)((s[i + 1] - '0') << 6 | (s[i + 2] - '0') << 3 |
                    (s[i + 3] - '0'));
      rc = gust_buf_append(out, s + run, i - run);
      if (rc == 0)
        rc = gust_buf_append_byte(out, c);
      i += 4;
      run = i;
    } else if (i + 1 < n && s[i + 1] != '\n') {
      rc = gust_buf_append(out, s + run, i - run);
      if (rc == 0)
        rc = gust_buf_append_byte(out, s[i + 1]);
      i += 2;
      run = i;
    } else {
      i++;
    }
  }
  if (rc == 0)
    rc = gust_buf_append(out, s + run, n - run);
  if (rc != 0)
    gust_buf_truncate(out, start);
  return rc;
}

static cookie_entry *find(const gust_cookies *c, const uint8_t *name,
                          size_t n) {
  size_t i;
  for (i = 0; i < c->count; i++)
    if (c->items[i].name_len == n && memcmp(c->items[i].name, name, n) == 0)
      return &c->items[i];
  return NULL;
}

static int store(gust_cookies *c, gust_slice name, const gust_buf *value) {
  cookie_entry *e = find(c, name.ptr, name.len);
  uint8_t *block;
  size_t vlen = value->len;
  if (e == NULL && c->count >= MAX_COOKIES)
    return GUST_ELIMIT;
  if (name.len > SIZE_MAX - 2 - vlen)
    return GUST_EOVERFLOW;
  block = gust__malloc(c->mem, name.len + vlen + 2);
  if (block == NULL)
    return GUST_ENOMEM;
  memcpy(block, name.ptr, name.len);
  block[name.len] = 0;
  if (vlen != 0)
    memcpy(block + name.len + 1, value->ptr, vlen);
  block[name.len + 1 + vlen] = 0;
  if (e == NULL) {
    if (c->count == c->cap) {
      size_t ncap = c->cap ? c->cap * 2 : 8;
      cookie_entry *items =
          gust__realloc(c->mem, c->items, ncap * sizeof(*items));
      if (items == NULL) {
        gust__free(c->mem, block);
        return GUST_ENOMEM;
      }
      c->items = items;
      c->cap = ncap;
    }
    e = &c->items[c->count++];
  } else {
    gust__free(c->mem, e->name);
  }
  e->name = block;
  e->name_len = name.len;
  e->value_len = vlen;
  return 0;
}

int gust_cookies_parse(gust_cookies *cookies, const char *header, size_t len) {
  const uint8_t *s = (const uint8_t *)header, *end;
  gust_buf value;
  int rc = 0;
  if (cookies == NULL || (header == NULL && len != 0))
    return GUST_EINVAL;
  if (len == 0)
    return 0;
  end = s + len;
  gust_buf_init(&value, cookies->mem);
  while (s <= end && rc == 0) {
    const uint8_t *semi = s < end ? memchr(s, ';', (size_t)(end - s)) : NULL;
    const uint8_t *piece_end = semi != NULL ? semi : end;
    const uint8_t *eq = memchr(s, '=', (size_t)(piece_end - s));
    gust_slice name, val;
    if (eq != NULL) {
      name = py_strip(s, (size_t)(eq - s));
      val = py_strip(eq + 1, (size_t)(piece_end - eq - 1));
    } else {
      name = py_strip(s, 0);
      val = py_strip(s, (size_t)(piece_end - s));
    }
    /* Tornado keeps empty-name pairs in its own dict, but SimpleCookie
     * refuses illegal and reserved names, so they never reach handlers. */
    if ((name.len != 0 || val.len != 0) && legal_key(name.ptr, name.len) &&
        !is_reserved(name.ptr, name.len)) {
      gust_buf_clear(&value);
      rc = gust_cookie_unquote(val.ptr, val.len, &value);
      if (rc == 0)
        rc = store(cookies, name, &value);
    }
    if (semi == NULL)
      break;
    s = semi + 1;
  }
  gust_buf_free(&value);
  return rc;
}

size_t gust_cookies_count(const gust_cookies *cookies) {
  return cookies != NULL ? cookies->count : 0;
}

int gust_cookies_at(const gust_cookies *cookies, size_t index, gust_slice *name,
                    gust_slice *value) {
  const cookie_entry *e;
  if (cookies == NULL || index >= cookies->count)
    return GUST_ERANGE;
  e = &cookies->items[index];
  if (name != NULL) {
    name->ptr = e->name;
    name->len = e->name_len;
  }
  if (value != NULL) {
    value->ptr = e->name + e->name_len + 1;
    value->len = e->value_len;
  }
  return 0;
}

int gust_cookies_get(const gust_cookies *cookies, const char *name,
                     gust_slice *value) {
  const cookie_entry *e;
  if (cookies == NULL || name == NULL)
    return GUST_ENOTFOUND;
  e = find(cookies, (const uint8_t *)name, strlen(name));
  if (e == NULL)
    return GUST_ENOTFOUND;
  if (value != NULL) {
    value->ptr = e->name + e->name_len + 1;
    value->len = e->value_len;
  }
  return 0;
}

int gust_cookie_quote(const uint8_t *value, size_t len, gust_buf *out) {
  size_t start, i;
  int rc;
  if (out == NULL || (value == NULL && len != 0))
    return GUST_EINVAL;
  if (legal_key(value, len))
    return gust_buf_append(out, value, len);
  start = out->len;
  rc = gust_buf_append_byte(out, '"');
  for (i = 0; i < len && rc == 0; i++) {
    uint8_t c = value[i];
    if (c == '"' || c == '\\') {
      char e[2] = {'\\', (char)c};
      rc = gust_buf_append(out, e, 2);
    } else if (c < 0x20 || c >= 0x7f || c == ',' || c == ';') {
      char e[5];
      snprintf(e, sizeof(e), "\\%03o", (unsigned)c);
      rc = gust_buf_append(out, e, 4);
    } else {
      rc = gust_buf_append_byte(out, c);
    }
  }
  if (rc == 0)
    rc = gust_buf_append_byte(out, '"');
  if (rc != 0)
    gust_buf_truncate(out, start);
  return rc;
}

/* Attribute values are written raw (as Python does); refuse what would
 * break the header or inject another attribute. */
static int attr_ok(const char *v) {
  const uint8_t *p;
  for (p = (const uint8_t *)v; *p != 0; p++)
    if (*p < 0x20 || *p == 0x7f || *p == ';')
      return 0;
  return 1;
}

int gust_cookie_format(const char *name, const uint8_t *value, size_t len,
                       const gust_cookie_attrs *attrs, gust_buf *out) {
  size_t nlen, i, start;
  int rc;
  if (name == NULL || out == NULL || (value == NULL && len != 0))
    return GUST_EINVAL;
  nlen = strlen(name);
  for (i = 0; i < nlen; i++)
    if ((uint8_t)name[i] <= 0x20)
      return GUST_ECOOKIE_INVALID;
  for (i = 0; i < len; i++)
    if (value[i] <= 0x20)
      return GUST_ECOOKIE_INVALID;
  if (!legal_key((const uint8_t *)name, nlen) ||
      is_reserved((const uint8_t *)name, nlen))
    return GUST_ECOOKIE_INVALID;
  if (attrs != NULL && ((attrs->domain != NULL && !attr_ok(attrs->domain)) ||
                        (attrs->path != NULL && !attr_ok(attrs->path)) ||
                        (attrs->samesite != NULL && !attr_ok(attrs->samesite))))
    return GUST_ECOOKIE_INVALID;
  start = out->len;
  rc = gust_buf_append(out, name, nlen);
  if (rc == 0)
    rc = gust_buf_append_byte(out, '=');
  if (rc == 0)
    rc = gust_cookie_quote(value, len, out);
  /* Python writes the attributes sorted by their lowercase key: comment,
   * domain, expires, httponly, max-age, path, samesite, secure; empty
   * strings are skipped. */
  if (rc == 0 && attrs != NULL) {
    if (rc == 0 && attrs->domain != NULL && attrs->domain[0] != 0)
      rc = gust_buf_printf(out, "; Domain=%s", attrs->domain);
    if (rc == 0 && attrs->has_expires) {
      char date[GUST_HTTPDATE_SIZE];
      rc = gust_httpdate_format(attrs->expires, date);
      if (rc == 0)
        rc = gust_buf_printf(out, "; expires=%s", date);
    }
    if (rc == 0 && attrs->httponly)
      rc = gust_buf_append_str(out, "; HttpOnly");
    if (rc == 0 && attrs->has_max_age)
      rc = gust_buf_printf(out, "; Max-Age=%lld", (long long)attrs->max_age);
    if (rc == 0 && attrs->path != NULL && attrs->path[0] != 0)
      rc = gust_buf_printf(out, "; Path=%s", attrs->path);
    if (rc == 0 && attrs->samesite != NULL && attrs->samesite[0] != 0)
      rc = gust_buf_printf(out, "; SameSite=%s", attrs->samesite);
    if (rc == 0 && attrs->secure)
      rc = gust_buf_append_str(out, "; Secure");
  }
  if (rc != 0)
    gust_buf_truncate(out, start);
  return rc;
}
