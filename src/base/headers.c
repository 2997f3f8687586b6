/* The header multimap: entries are offsets into one string arena, so a map
 * of any size costs two allocations and lookups are a linear scan (header
 * counts are capped far below the point where hashing would pay). */
#include "config.h"

#include <gust/headers.h>

#include <string.h>

#include "base_int.h"

/* RFC 9110 tchar: "!#$%&'*+-.^_`|~" DIGIT ALPHA. Shared with the
 * HTTP/1.1 parser through base_int.h. */
const uint8_t gust__tchar[256] = {
    ['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1,
    ['*'] = 1, ['+'] = 1, ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1,
    ['`'] = 1, ['|'] = 1, ['~'] = 1, ['0'] = 1, ['1'] = 1, ['2'] = 1,
    ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1,
    ['9'] = 1, ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1,
    ['F'] = 1, ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1,
    ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1,
    ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1,
    ['X'] = 1, ['Y'] = 1, ['Z'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1,
    ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1,
    ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1,
    ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1,
    ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
};

int gust_header_name_valid(const char *name, size_t len) {
  size_t i;
  if (len == 0)
    return 0;
  for (i = 0; i < len; i++)
    if (!gust__tchar[(uint8_t)name[i]])
      return 0;
  return 1;
}

int gust_header_value_valid(const char *value, size_t len) {
  size_t i;
  for (i = 0; i < len; i++) {
    uint8_t c = (uint8_t)value[i];
    if ((c < 0x20 && c != '\t') || c == 0x7f)
      return 0;
  }
  return 1;
}

void gust_headers_init(gust_headers *h, const gust_mem *mem) {
  h->entries = NULL;
  h->count = h->cap = h->dead = 0;
  gust_buf_init(&h->arena, mem);
}

void gust_headers_free(gust_headers *h) {
  gust__free(h->arena.mem, h->entries);
  h->entries = NULL;
  h->count = h->cap = h->dead = 0;
  gust_buf_free(&h->arena);
}

void gust_headers_clear(gust_headers *h) {
  h->count = 0;
  h->dead = 0;
  gust_buf_clear(&h->arena);
}

size_t gust_headers_count(const gust_headers *h) { return h->count; }

static gust_slice entry_name(const gust_headers *h,
                             const gust_header_entry_ *e) {
  gust_slice s;
  s.ptr = h->arena.ptr + e->name_off;
  s.len = e->name_len;
  return s;
}

static gust_slice entry_value(const gust_headers *h,
                              const gust_header_entry_ *e) {
  gust_slice s;
  s.ptr = h->arena.ptr + e->value_off;
  s.len = e->value_len;
  return s;
}

static int name_matches(const gust_headers *h, const gust_header_entry_ *e,
                        const char *name, size_t len) {
  const uint8_t *p = h->arena.ptr + e->name_off;
  size_t i;
  if (e->name_len != len)
    return 0;
  for (i = 0; i < len; i++)
    if (gust__lower(p[i]) != gust__lower((uint8_t)name[i]))
      return 0;
  return 1;
}

/* Drops the arena bytes of removed entries once they are most of it. */
static void maybe_compact(gust_headers *h) {
  gust_buf fresh;
  size_t i;
  if (h->dead < 1024 || h->dead < h->arena.len / 2)
    return;
  gust_buf_init(&fresh, h->arena.mem);
  if (gust_buf_reserve(&fresh, h->arena.len - h->dead) != 0)
    return; /* keep the larger arena; nothing is lost */
  for (i = 0; i < h->count; i++) {
    gust_header_entry_ *e = &h->entries[i];
    uint32_t off = (uint32_t)fresh.len;
    gust_buf_append(&fresh, h->arena.ptr + e->name_off, (size_t)e->name_len);
    gust_buf_append(&fresh, h->arena.ptr + e->value_off, (size_t)e->value_len);
    e->name_off = off;
    e->value_off = off + e->name_len;
  }
  gust_buf_free(&h->arena);
  h->arena = fresh;
  h->dead = 0;
}

/* Stores name and value in the arena and fills *e; the map is unchanged
 * on failure. */
static int store(gust_headers *h, gust_header_entry_ *e, const char *name,
                 size_t name_len, const char *value, size_t value_len) {
  size_t start = h->arena.len;
  uint64_t total;
  int rc;
  if (!gust_header_name_valid(name, name_len) ||
      !gust_header_value_valid(value, value_len))
    return GUST_EINVAL;
  /* In 64 bits so that neither length can wrap the check (both were just
   * scanned, so their sum fits). */
  total = (uint64_t)name_len + value_len;
  if (total > UINT32_MAX || start > UINT32_MAX - total)
    return GUST_EOVERFLOW;
  rc = gust_buf_reserve(&h->arena, name_len + value_len);
  if (rc != 0)
    return rc;
  memcpy(h->arena.ptr + start, name, name_len);
  if (value_len != 0)
    memcpy(h->arena.ptr + start + name_len, value, value_len);
  gust_buf_commit(&h->arena, name_len + value_len);
  e->name_off = (uint32_t)start;
  e->name_len = (uint32_t)name_len;
  e->value_off = (uint32_t)(start + name_len);
  e->value_len = (uint32_t)value_len;
  return 0;
}

static int grow_entries(gust_headers *h) {
  size_t ncap;
  gust_header_entry_ *n;
  if (h->count < h->cap)
    return 0;
  ncap = h->cap != 0 ? h->cap * 2 : 16;
  if (ncap > SIZE_MAX / sizeof(*n))
    return GUST_EOVERFLOW;
  n = gust__realloc(h->arena.mem, h->entries, ncap * sizeof(*n));
  if (n == NULL)
    return GUST_ENOMEM;
  h->entries = n;
  h->cap = ncap;
  return 0;
}

int gust_headers_reserve(gust_headers *h, size_t fields, size_t bytes) {
  size_t ncap;
  gust_header_entry_ *n;
  if (fields > SIZE_MAX / sizeof(*n) - h->count)
    return GUST_EOVERFLOW;
  if (h->count + fields > h->cap) {
    ncap = h->count + fields;
    n = gust__realloc(h->arena.mem, h->entries, ncap * sizeof(*n));
    if (n == NULL)
      return GUST_ENOMEM;
    h->entries = n;
    h->cap = ncap;
  }
  return bytes != 0 ? gust_buf_reserve(&h->arena, bytes) : 0;
}

int gust_headers_add(gust_headers *h, const char *name, size_t name_len,
                     const char *value, size_t value_len) {
  gust_header_entry_ e;
  size_t mark = h->arena.len;
  int rc = grow_entries(h);
  if (rc != 0)
    return rc;
  rc = store(h, &e, name, name_len, value, value_len);
  if (rc != 0) {
    gust_buf_truncate(&h->arena, mark);
    return rc;
  }
  h->entries[h->count++] = e;
  return 0;
}

int gust_headers_add_str(gust_headers *h, const char *name, const char *value) {
  return gust_headers_add(h, name, strlen(name), value, strlen(value));
}

int gust_headers_set(gust_headers *h, const char *name, size_t name_len,
                     const char *value, size_t value_len) {
  gust_header_entry_ e;
  size_t i, j, first = SIZE_MAX;
  int rc;
  for (i = 0; i < h->count; i++)
    if (name_matches(h, &h->entries[i], name, name_len)) {
      first = i;
      break;
    }
  if (first == SIZE_MAX)
    return gust_headers_add(h, name, name_len, value, value_len);
  rc = store(h, &e, name, name_len, value, value_len);
  if (rc != 0)
    return rc;
  h->dead += h->entries[first].name_len + h->entries[first].value_len;
  h->entries[first] = e;
  for (i = j = first + 1; i < h->count; i++) {
    if (name_matches(h, &h->entries[i], name, name_len)) {
      h->dead += h->entries[i].name_len + h->entries[i].value_len;
      continue;
    }
    h->entries[j++] = h->entries[i];
  }
  h->count = j;
  maybe_compact(h);
  return 0;
}

int gust_headers_set_str(gust_headers *h, const char *name, const char *value) {
  return gust_headers_set(h, name, strlen(name), value, strlen(value));
}

int gust_headers_get_next(const gust_headers *h, const char *name,
                          size_t *cursor, gust_slice *value) {
  size_t len = strlen(name), i;
  for (i = *cursor; i < h->count; i++)
    if (name_matches(h, &h->entries[i], name, len)) {
      if (value != NULL)
        *value = entry_value(h, &h->entries[i]);
      *cursor = i + 1;
      return 0;
    }
  *cursor = h->count;
  return GUST_ENOTFOUND;
}

int gust_headers_get(const gust_headers *h, const char *name,
                     gust_slice *value) {
  size_t cursor = 0;
  return gust_headers_get_next(h, name, &cursor, value);
}

size_t gust_headers_count_name(const gust_headers *h, const char *name) {
  size_t len = strlen(name), i, n = 0;
  for (i = 0; i < h->count; i++)
    n += (size_t)name_matches(h, &h->entries[i], name, len);
  return n;
}

int gust_headers_get_joined(const gust_headers *h, const char *name,
                            gust_buf *out) {
  size_t cursor = 0, mark = out->len;
  gust_slice v;
  int rc, first = 1;
  while (gust_headers_get_next(h, name, &cursor, &v) == 0) {
    if (!first && (rc = gust_buf_append_byte(out, ',')) != 0)
      goto fail;
    if ((rc = gust_buf_append(out, v.ptr, v.len)) != 0)
      goto fail;
    first = 0;
  }
  return first ? GUST_ENOTFOUND : 0;
fail:
  gust_buf_truncate(out, mark);
  return rc;
}

int gust_headers_has_token(const gust_headers *h, const char *name,
                           const char *token) {
  gust_slice want = gust_slice_cstr(token), v;
  size_t cursor = 0;
  if (want.len == 0)
    return 0; /* empty list elements are not members (RFC 9110 5.6.1) */
  while (gust_headers_get_next(h, name, &cursor, &v) == 0) {
    const uint8_t *p = v.ptr, *end = v.ptr + v.len;
    for (;;) {
      const uint8_t *comma = memchr(p, ',', (size_t)(end - p));
      gust_slice el;
      el.ptr = p;
      el.len = (size_t)((comma != NULL ? comma : end) - p);
      if (gust_slice_caseeq(gust_slice_trim(el), want))
        return 1;
      if (comma == NULL)
        break;
      p = comma + 1;
    }
  }
  return 0;
}

size_t gust_headers_remove(gust_headers *h, const char *name) {
  size_t len = strlen(name), i, j, removed = 0;
  for (i = j = 0; i < h->count; i++) {
    if (name_matches(h, &h->entries[i], name, len)) {
      h->dead += h->entries[i].name_len + h->entries[i].value_len;
      removed++;
      continue;
    }
    h->entries[j++] = h->entries[i];
  }
  h->count = j;
  if (removed != 0)
    maybe_compact(h);
  return removed;
}

int gust_headers_next(const gust_headers *h, size_t *iter, gust_slice *name,
                      gust_slice *value) {
  const gust_header_entry_ *e;
  if (*iter >= h->count)
    return 0;
  e = &h->entries[(*iter)++];
  if (name != NULL)
    *name = entry_name(h, e);
  if (value != NULL)
    *value = entry_value(h, e);
  return 1;
}

int gust_headers_copy(gust_headers *dst, const gust_headers *src) {
  size_t live, i;
  int rc;
  if (dst == src)
    return GUST_EINVAL;
  if (src->count == 0)
    return 0;
  /* The fields of `src` were checked when they were added: they are
   * copied as they are, in one reservation. */
  for (i = 0, live = 0; i < src->count; i++)
    live += (size_t)src->entries[i].name_len + src->entries[i].value_len;
  if (dst->arena.len > UINT32_MAX || live > UINT32_MAX - dst->arena.len)
    return GUST_EOVERFLOW;
  rc = gust_headers_reserve(dst, src->count, live);
  if (rc != 0)
    return rc;
  for (i = 0; i < src->count; i++) {
    const gust_header_entry_ *e = &src->entries[i];
    size_t start = dst->arena.len, n = (size_t)e->name_len + e->value_len;
    memcpy(dst->arena.ptr + start, src->arena.ptr + e->name_off, e->name_len);
    if (e->value_len != 0)
      memcpy(dst->arena.ptr + start + e->name_len,
             src->arena.ptr + e->value_off, e->value_len);
    gust_buf_commit(&dst->arena, n);
    dst->entries[dst->count].name_off = (uint32_t)start;
    dst->entries[dst->count].name_len = e->name_len;
    dst->entries[dst->count].value_off = (uint32_t)(start + e->name_len);
    dst->entries[dst->count].value_len = e->value_len;
    dst->count++;
  }
  return 0;
}
