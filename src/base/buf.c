/* The growable byte buffer (gust_buf); its invariants are listed in base.h. */
#include "config.h"

#include <gust/base.h>

#include <stdio.h>
#include <string.h>

#include "base_int.h"

#define BUF_MIN_CAP 64

void gust_buf_init(gust_buf *buf, const gust_mem *mem) {
  memset(buf, 0, sizeof(*buf));
  buf->mem = gust__mem(mem);
}

void gust_buf_free(gust_buf *buf) {
  if (buf->cap != 0)
    gust__free(buf->mem, buf->ptr - buf->off);
  buf->ptr = NULL;
  buf->len = buf->off = buf->cap = 0;
}

int gust_buf_reserve(gust_buf *buf, size_t extra) {
  size_t need, newcap;
  uint8_t *base, *p;
  if (extra > SIZE_MAX - 1 - buf->len)
    return GUST_EOVERFLOW;
  if (buf->max != 0 && buf->len + extra > buf->max)
    return GUST_EBUFFERFULL;
  need = buf->len + extra + 1; /* + the trailing NUL */
  if (buf->cap != 0 && buf->off + need <= buf->cap)
    return 0;
  base = buf->cap != 0 ? buf->ptr - buf->off : NULL;
  if (buf->cap != 0 && need <= buf->cap && buf->off >= buf->cap / 2) {
    /* Enough room once the consumed front is reclaimed, and reclaiming it
     * frees at least half the block: slide instead of growing. */
    memmove(base, buf->ptr, buf->len + 1);
    buf->ptr = base;
    buf->off = 0;
    return 0;
  }
  newcap = buf->cap < BUF_MIN_CAP ? BUF_MIN_CAP : buf->cap;
  /* Not worth sliding (most of the block is live): grow, never replace
   * the block with one of the same size. */
  if (buf->cap != 0 && newcap <= SIZE_MAX / 2)
    newcap *= 2;
  while (newcap < need)
    newcap = newcap > SIZE_MAX / 2 ? need : newcap * 2;
  if (buf->off != 0) {
    /* Compact into a fresh block so realloc never copies dead bytes. */
    p = gust__malloc(buf->mem, newcap);
    if (p == NULL)
      return GUST_ENOMEM;
    memcpy(p, buf->ptr, buf->len + 1);
    gust__free(buf->mem, base);
  } else {
    p = gust__realloc(buf->mem, base, newcap);
    if (p == NULL)
      return GUST_ENOMEM;
    if (base == NULL)
      p[0] = 0;
  }
  buf->ptr = p;
  buf->off = 0;
  buf->cap = newcap;
  return 0;
}

int gust_buf_append(gust_buf *buf, const void *data, size_t n) {
  int rc;
  size_t src_off = 0;
  int inside;
  if (n == 0)
    return 0;
  /* The data may alias the live bytes, which reserve() can move. */
  inside = buf->cap != 0 && (const uint8_t *)data >= buf->ptr &&
           (const uint8_t *)data < buf->ptr + buf->len;
  if (inside)
    src_off = (size_t)((const uint8_t *)data - buf->ptr);
  rc = gust_buf_reserve(buf, n);
  if (rc != 0)
    return rc;
  if (inside)
    data = buf->ptr + src_off;
  memmove(buf->ptr + buf->len, data, n);
  buf->len += n;
  buf->ptr[buf->len] = 0;
  return 0;
}

int gust_buf_append_byte(gust_buf *buf, uint8_t byte) {
  int rc = gust_buf_reserve(buf, 1);
  if (rc != 0)
    return rc;
  buf->ptr[buf->len++] = byte;
  buf->ptr[buf->len] = 0;
  return 0;
}

int gust_buf_append_str(gust_buf *buf, const char *s) {
  return gust_buf_append(buf, s, strlen(s));
}

int gust_buf_vprintf(gust_buf *buf, const char *fmt, va_list ap) {
  va_list ap2;
  int n, rc;
  size_t room = buf->cap != 0 ? buf->cap - buf->off - buf->len : 0;
  va_copy(ap2, ap);
  n = vsnprintf(room != 0 ? (char *)buf->ptr + buf->len : NULL, room, fmt, ap2);
  va_end(ap2);
  if (n < 0) {
    if (buf->cap != 0)
      buf->ptr[buf->len] = 0;
    return GUST_EINVAL;
  }
  if ((size_t)n < room) {
    if (buf->max != 0 && buf->len + (size_t)n > buf->max) {
      buf->ptr[buf->len] = 0;
      return GUST_EBUFFERFULL;
    }
    buf->len += (size_t)n;
    return 0;
  }
  if (buf->cap != 0)
    buf->ptr[buf->len] = 0; /* undo the partial write */
  rc = gust_buf_reserve(buf, (size_t)n);
  if (rc != 0)
    return rc;
  n = vsnprintf((char *)buf->ptr + buf->len, (size_t)n + 1, fmt, ap);
  if (n < 0) {
    buf->ptr[buf->len] = 0;
    return GUST_EINVAL;
  }
  buf->len += (size_t)n;
  return 0;
}

int gust_buf_printf(gust_buf *buf, const char *fmt, ...) {
  va_list ap;
  int rc;
  va_start(ap, fmt);
  rc = gust_buf_vprintf(buf, fmt, ap);
  va_end(ap);
  return rc;
}

uint8_t *gust_buf_tail(gust_buf *buf) {
  return buf->cap != 0 ? buf->ptr + buf->len : NULL;
}

int gust_buf_commit(gust_buf *buf, size_t n) {
  if (n == 0)
    return 0;
  if (buf->cap == 0)
    return GUST_EINVAL;
  /* reserve() never grants space past `max`, so such a commit exceeds the
   * reserved space too. */
  if (n > buf->cap - buf->off - buf->len - 1 ||
      (buf->max != 0 && (buf->len > buf->max || n > buf->max - buf->len))) {
    buf->ptr[buf->len] = 0; /* the caller may have written over the NUL */
    return GUST_EINVAL;
  }
  buf->len += n;
  buf->ptr[buf->len] = 0;
  return 0;
}

void gust_buf_consume(gust_buf *buf, size_t n) {
  if (buf->cap == 0)
    return;
  if (n >= buf->len) {
    /* Everything consumed: rewind to the start of the block for free. */
    buf->ptr -= buf->off;
    buf->off = 0;
    buf->len = 0;
    buf->ptr[0] = 0;
    return;
  }
  buf->ptr += n;
  buf->off += n;
  buf->len -= n;
}

void gust_buf_truncate(gust_buf *buf, size_t n) {
  if (n >= buf->len)
    return;
  buf->len = n;
  buf->ptr[n] = 0;
}

void gust_buf_clear(gust_buf *buf) { gust_buf_consume(buf, buf->len); }

uint8_t *gust_buf_detach(gust_buf *buf, size_t *len_out) {
  uint8_t *p;
  size_t len = buf->len;
  if (buf->cap == 0) {
    p = gust__malloc(buf->mem, 1);
    if (p == NULL)
      return NULL;
    p[0] = 0;
  } else {
    p = buf->ptr - buf->off;
    if (buf->off != 0)
      memmove(p, buf->ptr, len + 1);
  }
  buf->ptr = NULL;
  buf->len = buf->off = buf->cap = 0;
  if (len_out != NULL)
    *len_out = len;
  return p;
}

gust_slice gust_buf_slice(const gust_buf *buf) {
  gust_slice s;
  s.ptr = buf->cap != 0 ? buf->ptr : (const uint8_t *)"";
  s.len = buf->len;
  return s;
}
