/* Static files: Tornado's StaticFileHandler (GET and HEAD, conditional and
 * range requests, files streamed in pieces), confined to its root after
 * following symbolic links, and the cache of content versions behind
 * static_url.
 *
 * Departures from Tornado 6.2, all on purpose:
 *  - paths are checked with realpath(), so a symbolic link leading out of
 *    the root is refused (Tornado's abspath() follows none);
 *  - the ETag is "<hex mtime seconds>-<hex size>" from stat(), not the
 *    content hash, so that HEAD, 304 and 416 never read the file;
 *  - a range whose end comes before its start is unsatisfiable (416), as
 *    Tornado >= 6.3, and range numbers are ASCII digits only;
 *  - the redirect of a directory URL to its '/' form keeps the query;
 *  - versions are SHA-256 (Tornado: MD5), hashed from the file piece by
 *    piece. */
#include "config.h"

#include <gust/crypto.h>
#include <gust/httputil.h>
#include <gust/web.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/base_int.h"
#include "web/web_int.h"

#define PIECE      ((size_t)64 * 1024) /* bytes per flush */
#define READ_CHUNK ((size_t)16 * 1024) /* bytes per read (on the stack) */
/* Tornado's CACHE_MAX_AGE: ten years, for versioned URLs. */
#define CACHE_MAX_AGE 315360000
/* Entries of the version cache; past it the cache starts over. */
#define VCACHE_MAX_ENTRIES 4096

/* ------------------------------------------------------------------ */
/* Path resolution                                                      */
/* ------------------------------------------------------------------ */

/* 1 if `rel` climbs above its starting directory when read lexically (as
 * os.path.abspath would): Tornado's 403 for "../x" even when x does not
 * exist. The realpath() check below is the one that counts. */
static int climbs_out(const char *rel, size_t len) {
  size_t i = 0, depth = 0;
  while (i < len) {
    size_t j = i, n;
    while (j < len && rel[j] != '/')
      j++;
    n = j - i;
    if (n == 2 && rel[i] == '.' && rel[i + 1] == '.') {
      if (depth == 0)
        return 1;
      depth--;
    } else if (n != 0 && !(n == 1 && rel[i] == '.')) {
      depth++;
    }
    i = j + 1;
  }
  return 0;
}

/* 1 if the resolved `path` is `root` itself or inside it. */
static int is_inside(const char *root, size_t rlen, const char *path) {
  if (rlen == 1 && root[0] == '/')
    return 1;
  return strncmp(path, root, rlen) == 0 &&
         (path[rlen] == '\0' || path[rlen] == '/');
}

static int resolve(const char *root, const char *rel, size_t len,
                   char out[PATH_MAX]) {
  char rroot[PATH_MAX], joined[PATH_MAX];
  size_t rlen;
  if (root == NULL || (rel == NULL && len != 0))
    return GUST_EINVAL;
  if (len != 0 && memchr(rel, '\0', len) != NULL)
    return GUST_EACCES;
  if (climbs_out(rel, len))
    return GUST_EACCES;
  if (realpath(root, rroot) == NULL)
    return errno == ENOMEM ? GUST_ENOMEM : GUST_ENOTFOUND;
  rlen = strlen(rroot);
  if (rlen + 1 + len >= PATH_MAX)
    return GUST_ENOTFOUND;
  memcpy(joined, rroot, rlen);
  joined[rlen] = '/';
  if (len != 0)
    memcpy(joined + rlen + 1, rel, len);
  joined[rlen + 1 + len] = '\0';
  if (realpath(joined, out) == NULL) {
    switch (errno) {
    case ENOMEM:
      return GUST_ENOMEM;
    case EACCES:
    case ELOOP:
      return GUST_EACCES;
    default:
      return GUST_ENOTFOUND;
    }
  }
  return is_inside(rroot, rlen, out) ? 0 : GUST_EACCES;
}

int gust__web_static_resolve(const char *root, const char *rel, size_t len,
                             gust_buf *out) {
  char path[PATH_MAX];
  int rc;
  if (out == NULL)
    return GUST_EINVAL;
  gust_buf_clear(out);
  if ((rc = resolve(root, rel, len, path)) != 0)
    return rc;
  rc = gust_buf_append_str(out, path);
  return rc == 0 ? 0 : GUST_ENOMEM;
}

/* ------------------------------------------------------------------ */
/* The version cache                                                    */
/* ------------------------------------------------------------------ */

typedef struct vc_entry {
  struct vc_entry *next;
  uint64_t hash;
  /* What the version was computed from: recomputed when any differs. */
  uint64_t dev, ino, size;
  int64_t mtime_s;
  long mtime_ns;
  char hex[33];
  char path[]; /* NUL-terminated */
} vc_entry;

struct gust__web_vcache {
  const gust_mem *mem;
  vc_entry **buckets;
  size_t nbuckets; /* a power of two, or 0 before the first entry */
  size_t count;
};

static uint64_t hash_str(const char *s) {
  uint64_t h = 14695981039346656037u; /* FNV-1a */
  for (; *s != '\0'; s++) {
    h ^= (uint8_t)*s;
    h *= 1099511628211u;
  }
  return h;
}

int gust__web_vcache_new(gust__web_vcache **out, const gust_mem *mem) {
  gust__web_vcache *c;
  if (out == NULL)
    return GUST_EINVAL;
  mem = gust__mem(mem);
  *out = NULL;
  c = gust__calloc(mem, 1, sizeof(*c));
  if (c == NULL)
    return GUST_ENOMEM;
  c->mem = mem;
  *out = c;
  return 0;
}

static void vcache_clear(gust__web_vcache *c) {
  size_t i;
  for (i = 0; i < c->nbuckets; i++) {
    vc_entry *e = c->buckets[i], *next;
    for (; e != NULL; e = next) {
      next = e->next;
      gust__free(c->mem, e);
    }
    c->buckets[i] = NULL;
  }
  c->count = 0;
}

void gust__web_vcache_free(gust__web_vcache *c) {
  if (c == NULL)
    return;
  vcache_clear(c);
  gust__free(c->mem, c->buckets);
  gust__free(c->mem, c);
}

static int vcache_grow(gust__web_vcache *c) {
  size_t n = c->nbuckets != 0 ? c->nbuckets * 2 : 64, i;
  vc_entry **b = gust__calloc(c->mem, n, sizeof(*b));
  if (b == NULL)
    return GUST_ENOMEM;
  for (i = 0; i < c->nbuckets; i++) {
    vc_entry *e = c->buckets[i], *next;
    for (; e != NULL; e = next) {
      next = e->next;
      e->next = b[e->hash & (n - 1)];
      b[e->hash & (n - 1)] = e;
    }
  }
  gust__free(c->mem, c->buckets);
  c->buckets = b;
  c->nbuckets = n;
  return 0;
}

static int same_file(const vc_entry *e, const struct stat *st) {
  return e->dev == (uint64_t)st->st_dev && e->ino == (uint64_t)st->st_ino &&
         e->size == (uint64_t)st->st_size &&
         e->mtime_s == (int64_t)st->st_mtim.tv_sec &&
         e->mtime_ns == st->st_mtim.tv_nsec;
}

static void entry_set_stat(vc_entry *e, const struct stat *st) {
  e->dev = (uint64_t)st->st_dev;
  e->ino = (uint64_t)st->st_ino;
  e->size = (uint64_t)st->st_size;
  e->mtime_s = (int64_t)st->st_mtim.tv_sec;
  e->mtime_ns = st->st_mtim.tv_nsec;
}

/* Hashes the regular file `fd` piece by piece and writes the first 32 hex
 * digits of its SHA-256 into hex. */
static int hash_fd(const gust_mem *mem, int fd, uint64_t size, char hex[33]) {
  static const char digits[] = "0123456789abcdef";
  uint8_t buf[16384], digest[GUST_DIGEST_MAX];
  gust_hash_ctx *ctx;
  uint64_t have = 0;
  size_t i;
  int rc;
  GUST__UNUSED(mem);
  rc = gust_hash_new(&ctx, GUST_SHA256);
  if (rc < 0)
    return rc == GUST_ENOMEM ? GUST_ENOMEM : GUST_EIO;
  while (have < size) {
    size_t want = size - have < sizeof buf ? (size_t)(size - have) : sizeof buf;
    ssize_t n = pread(fd, buf, want, (off_t)have);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break; /* an error, or the file shrank: hash what is there */
    if (gust_hash_update(ctx, buf, (size_t)n) < 0) {
      gust_hash_free(ctx);
      return GUST_EIO;
    }
    have += (uint64_t)n;
  }
  if (gust_hash_final(ctx, digest) < 0)
    return GUST_EIO;
  for (i = 0; i < 16; i++) {
    hex[2 * i] = digits[digest[i] >> 4];
    hex[2 * i + 1] = digits[digest[i] & 15];
  }
  hex[32] = '\0';
  return 0;
}

int gust__web_vcache_get(gust__web_vcache *c, const char *abspath,
                         char hex[33]) {
  vc_entry *e = NULL, **pp;
  struct stat st;
  uint64_t h;
  size_t plen;
  int fd, rc;
  if (c == NULL || abspath == NULL || hex == NULL)
    return GUST_EINVAL;
  hex[0] = '\0';
  if (stat(abspath, &st) != 0)
    return errno == ENOENT || errno == ENOTDIR ? GUST_ENOTFOUND : GUST_EIO;
  if (!S_ISREG(st.st_mode))
    return GUST_ENOTFOUND;
  h = hash_str(abspath);
  if (c->nbuckets != 0)
    for (e = c->buckets[h & (c->nbuckets - 1)]; e != NULL; e = e->next)
      if (e->hash == h && strcmp(e->path, abspath) == 0)
        break;
  if (e != NULL && same_file(e, &st)) {
    memcpy(hex, e->hex, 33);
    return 0;
  }
  /* O_NONBLOCK: a FIFO swapped in after the stat must not block us. */
  fd = open(abspath, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0)
    return errno == ENOENT || errno == ENOTDIR ? GUST_ENOTFOUND : GUST_EIO;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return GUST_ENOTFOUND;
  }
  rc = hash_fd(c->mem, fd, (uint64_t)st.st_size, hex);
  close(fd);
  if (rc != 0)
    return rc;
  if (e == NULL) {
    if (c->count >= VCACHE_MAX_ENTRIES)
      vcache_clear(c);
    if (c->count >= c->nbuckets / 2 && (rc = vcache_grow(c)) != 0)
      return 0; /* the version is known; it just is not kept */
    plen = strlen(abspath);
    e = gust__malloc(c->mem, sizeof(*e) + plen + 1);
    if (e == NULL)
      return 0;
    memcpy(e->path, abspath, plen + 1);
    e->hash = h;
    pp = &c->buckets[h & (c->nbuckets - 1)];
    e->next = *pp;
    *pp = e;
    c->count++;
  }
  entry_set_stat(e, &st);
  memcpy(e->hex, hex, 33);
  return 0;
}

/* ------------------------------------------------------------------ */
/* The handler                                                          */
/* ------------------------------------------------------------------ */

typedef struct static_state {
  int fd;
  int fd_open;
  uint64_t pos, end; /* the bytes still to send: [pos, end) */
  gust_future *done; /* resolved once the body is written (our ref) */
} static_state;

/* One single-range request, as Tornado's _parse_request_range gives it:
 * `end` exclusive; a suffix range has a negative start. */
typedef struct byte_range {
  int has_start, has_end;
  int64_t start, end;
} byte_range;

/* Allocations made for a request (the redirect URL, a joined
 * If-None-Match). */
static const gust_mem *handler_mem(gust_web_handler *h) { return h->mem; }

static void close_fd(static_state *s) {
  if (s->fd_open) {
    close(s->fd);
    s->fd_open = 0;
  }
}

static int is_space(uint8_t c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
         c == '\v';
}

/* Python's str.strip(). */
static gust_slice strip(gust_slice s) {
  while (s.len > 0 && is_space(s.ptr[0])) {
    s.ptr++;
    s.len--;
  }
  while (s.len > 0 && is_space(s.ptr[s.len - 1]))
    s.len--;
  return s;
}

/* Range numbers saturate here, far above any file size. */
#define RANGE_NUM_MAX ((int64_t)1 << 59)

/* Tornado's _int_or_none: 0 with *has = 0 for an empty field, 0 with a
 * value, -1 when not a number. */
static int int_or_none(gust_slice s, int *has, int64_t *v) {
  size_t i;
  s = strip(s);
  *has = 0;
  *v = 0;
  if (s.len == 0)
    return 0;
  for (i = 0; i < s.len; i++) {
    if (s.ptr[i] < '0' || s.ptr[i] > '9')
      return -1;
    if (*v < RANGE_NUM_MAX) /* *10 + 9 stays far below INT64_MAX */
      *v = *v * 10 + (s.ptr[i] - '0');
  }
  *has = 1;
  return 0;
}

/* Parses a Range value; 1 for a single byte range, 0 for anything to be
 * ignored (another unit, several ranges, garbage). */
static int parse_range(gust_slice v, byte_range *r) {
  static const gust_slice bytes = {(const uint8_t *)"bytes", 5};
  gust_slice unit = v, value = {NULL, 0}, a, b;
  const uint8_t *eq = v.len != 0 ? memchr(v.ptr, '=', v.len) : NULL;
  const uint8_t *dash;
  if (eq != NULL) {
    unit.len = (size_t)(eq - v.ptr);
    value.ptr = eq + 1;
    value.len = v.len - unit.len - 1;
  }
  if (!gust_slice_eq(strip(unit), bytes))
    return 0;
  value = strip(value);
  a = value;
  b.ptr = NULL;
  b.len = 0;
  dash = value.len != 0 ? memchr(value.ptr, '-', value.len) : NULL;
  if (dash != NULL) {
    a.len = (size_t)(dash - value.ptr);
    b.ptr = dash + 1;
    b.len = value.len - a.len - 1;
  }
  if (int_or_none(a, &r->has_start, &r->start) != 0 ||
      int_or_none(b, &r->has_end, &r->end) != 0)
    return 0;
  if (r->has_end) {
    if (!r->has_start) {
      if (r->end != 0) {
        r->has_start = 1;
        r->start = -r->end;
        r->has_end = 0;
      }
    } else {
      r->end++;
    }
  }
  return 1;
}

static int set_u64_header(gust_web_handler *h, const char *name, uint64_t v) {
  char num[21];
  num[gust__u64_dec(num, v)] = '\0';
  return gust_web_set_header(h, name, num);
}

/* Tornado's should_return_304: If-None-Match decides when present, else
 * If-Modified-Since (whole seconds). 1 = not modified. */
static int not_modified(gust_web_handler *h, const char *etag, time_t mtime) {
  const gust_headers *hd = gust_http_request_headers(gust_web_request(h));
  gust_slice v;
  int64_t ims;
  size_t n = gust_headers_count_name(hd, "If-None-Match");
  if (n == 1 && gust_headers_get(hd, "If-None-Match", &v) == 0) {
    if (v.len != 0)
      return gust_etag_match((const char *)v.ptr, v.len, etag, strlen(etag));
  } else if (n > 1) {
    gust_buf joined;
    int match;
    gust_buf_init(&joined, handler_mem(h));
    if (gust_headers_get_joined(hd, "If-None-Match", &joined) != 0) {
      gust_buf_free(&joined);
      return GUST_ENOMEM;
    }
    match = gust_etag_match((const char *)joined.ptr, joined.len, etag,
                            strlen(etag));
    gust_buf_free(&joined);
    return match;
  }
  /* Several If-Modified-Since values join into something that is no
   * date, as in Tornado. */
  if (gust_headers_count_name(hd, "If-Modified-Since") == 1 &&
      gust_headers_get(hd, "If-Modified-Since", &v) == 0 &&
      gust_httpdate_parse((const char *)v.ptr, v.len, &ims) == 0 &&
      ims >= (int64_t)mtime)
    return 1;
  return 0;
}

/* Sends the directory URL's '/' form (permanent, as Tornado). */
static int redirect_slash(gust_web_handler *h) {
  gust_http_request *req = gust_web_request(h);
  const char *query = gust_http_request_query(req);
  gust_buf url;
  int rc;
  gust_buf_init(&url, handler_mem(h));
  rc = gust_buf_append_str(&url, gust_http_request_path(req));
  if (rc == 0)
    rc = gust_buf_append_byte(&url, '/');
  if (rc == 0 && query != NULL && query[0] != '\0')
    rc = gust_buf_printf(&url, "?%s", query);
  if (rc == 0)
    rc = gust_web_redirect(h, (const char *)url.ptr, 301);
  else
    rc = GUST_ENOMEM;
  gust_buf_free(&url);
  return rc;
}

static int pump(gust_web_handler *h);

static void on_flushed(gust_future *f, void *user_data) {
  gust_web_handler *h = user_data;
  static_state *s = gust_web_state(h);
  int err = gust_future_error(f), rc;
  if (s->done == NULL || gust_future_done(s->done)) {
    close_fd(s); /* the handler stopped waiting (cancelled) */
  } else {
    /* The client went away: stop quietly, as Tornado catches
     * StreamClosedError around each flush. */
    rc = err == GUST_ECLOSED ? 0 : err != 0 ? err : pump(h);
    if (rc <= 0)
      close_fd(s);
    if (rc == 0)
      gust_future_set_result(s->done, NULL, NULL);
    else if (rc < 0)
      gust_future_set_error(s->done, rc, NULL);
  }
  gust_web_handler_unref(h);
}

/* Writes the next piece of the file and flushes it. Returns 1 when a
 * flush is pending (on_flushed goes on), 0 when the rest of the body is
 * buffered (the handler's finish sends it), or a negative code. */
static int pump(gust_web_handler *h) {
  static_state *s = gust_web_state(h);
  uint8_t buf[READ_CHUNK];
  size_t piece = 0;
  gust_future *f = NULL;
  int rc;
  while (s->pos < s->end && piece < PIECE) {
    size_t want = PIECE - piece;
    ssize_t n;
    if (want > READ_CHUNK)
      want = READ_CHUNK;
    if ((uint64_t)want > s->end - s->pos)
      want = (size_t)(s->end - s->pos);
    n = pread(s->fd, buf, want, (off_t)s->pos);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return GUST_EIO; /* unreadable, or it shrank below Content-Length */
    if ((rc = gust_web_write(h, buf, (size_t)n)) != 0)
      return rc;
    s->pos += (uint64_t)n;
    piece += (size_t)n;
  }
  if (s->pos == s->end) {
    close_fd(s);
    return 0;
  }
  if ((rc = gust_web_flush(h, &f)) != 0)
    return rc == GUST_ECLOSED ? 0 : rc;
  /* The pending callback holds its own reference to the future. */
  rc = gust_future_add_done_callback(f, on_flushed, h);
  gust_future_unref(f);
  if (rc != 0)
    return rc;
  gust_web_handler_ref(h); /* for on_flushed */
  return 1;
}

static int has_version_arg(gust_web_handler *h) {
  const gust_http_args *args;
  if (gust_http_request_query_arguments(gust_web_request(h), &args) != 0)
    return GUST_ENOMEM;
  return gust_http_args_count(args, "v") > 0;
}

static int set_headers(gust_web_handler *h, const struct stat *st,
                       const char *abspath, const char *etag) {
  char date[GUST_HTTPDATE_SIZE];
  int rc, v;
  if ((rc = gust_web_set_header(h, "Accept-Ranges", "bytes")) != 0 ||
      (rc = gust_web_set_header(h, "Etag", etag)) != 0)
    return rc;
  if (gust_httpdate_format((int64_t)st->st_mtime, date) == 0 &&
      (rc = gust_web_set_header(h, "Last-Modified", date)) != 0)
    return rc;
  if ((rc = gust_web_set_header(h, "Content-Type",
                                gust_web_mime_type(abspath))) != 0)
    return rc;
  if ((v = has_version_arg(h)) < 0)
    return v;
  if (v) {
    if (gust_httpdate_format((int64_t)time(NULL) + CACHE_MAX_AGE, date) == 0 &&
        (rc = gust_web_set_header(h, "Expires", date)) != 0)
      return rc;
    if ((rc = gust_web_set_header(h, "Cache-Control", "max-age=315360000")) !=
        0)
      return rc;
  }
  return 0;
}

/* Tornado's validate_absolute_path: resolves the request's file into
 * `abspath` and stats it into *st. Returns 0, 1 when the request was
 * redirected, or a negative code (HTTP errors raised). */
static int find_file(gust_web_handler *h, char abspath[PATH_MAX],
                     struct stat *st) {
  const gust_web_static_opts *o = gust_web_class_data(h);
  gust_slice rel = {(const uint8_t *)"", 0};
  int rc;
  if (o == NULL || o->root == NULL)
    return GUST_EINVAL;
  if (gust_web_path_arg(h, 0, &rel) != 0 || rel.ptr == NULL) {
    rel.ptr = (const uint8_t *)"";
    rel.len = 0;
  }
  rc = resolve(o->root, (const char *)rel.ptr, rel.len, abspath);
  if (rc == GUST_EACCES)
    return gust_web_http_error(h, 403, "%.*s is not in root static directory",
                               (int)rel.len, (const char *)rel.ptr);
  if (rc == GUST_ENOTFOUND)
    return gust_web_http_error(h, 404, NULL);
  if (rc != 0)
    return rc;
  if (stat(abspath, st) != 0)
    return gust_web_http_error(h, 404, NULL);
  if (S_ISDIR(st->st_mode) && o->default_filename != NULL) {
    const char *path = gust_http_request_path(gust_web_request(h));
    size_t plen = strlen(path), dlen = strlen(o->default_filename);
    char rel2[PATH_MAX];
    if (plen == 0 || path[plen - 1] != '/') {
      if (path[0] == '/' && path[1] == '/')
        return gust_web_http_error(
            h, 403, "cannot redirect path with two initial slashes");
      return (rc = redirect_slash(h)) != 0 ? rc : 1;
    }
    if (rel.len + 1 + dlen >= sizeof(rel2))
      return gust_web_http_error(h, 404, NULL);
    memcpy(rel2, rel.ptr, rel.len);
    rel2[rel.len] = '/';
    memcpy(rel2 + rel.len + 1, o->default_filename, dlen + 1);
    rc = resolve(o->root, rel2, rel.len + 1 + dlen, abspath);
    if (rc == GUST_EACCES)
      return gust_web_http_error(h, 403, "%.*s is not in root static directory",
                                 (int)rel.len, (const char *)rel.ptr);
    if (rc == GUST_ENOTFOUND || (rc == 0 && stat(abspath, st) != 0))
      return gust_web_http_error(h, 404, NULL);
    if (rc != 0)
      return rc;
  }
  if (!S_ISREG(st->st_mode))
    return gust_web_http_error(h, 403, "%.*s is not a file", (int)rel.len,
                               (const char *)rel.ptr);
  return 0;
}

/* Opens the file for GET (no read yet) and re-reads its metadata from the
 * descriptor, so that what is sent and what the headers say agree. */
static int open_file(gust_web_handler *h, const char *abspath,
                     struct stat *st) {
  static_state *s = gust_web_state(h);
  gust_slice rel = {(const uint8_t *)"", 0};
  /* O_NOFOLLOW: realpath() left no link in the path; one swapped in since
   * is refused. O_NONBLOCK: a FIFO swapped in must not block the loop. */
  int fd =
      open(abspath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
  /* Logs name the file as the URL does, never by its place on disk. */
  if (gust_web_path_arg(h, 0, &rel) != 0 || rel.ptr == NULL) {
    rel.ptr = (const uint8_t *)"";
    rel.len = 0;
  }
  if (fd < 0) {
    switch (errno) {
    case ENOENT:
    case ENOTDIR:
      return gust_web_http_error(h, 404, NULL);
    case EACCES:
    case ELOOP:
    case EPERM:
      return gust_web_http_error(h, 403, "%.*s is not readable", (int)rel.len,
                                 (const char *)rel.ptr);
    case EMFILE:
    case ENFILE:
      return GUST_EMFILE;
    case ENOMEM:
      return GUST_ENOMEM;
    default:
      return GUST_EIO;
    }
  }
  if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
    close(fd);
    return gust_web_http_error(h, 403, "%.*s is not a file", (int)rel.len,
                               (const char *)rel.ptr);
  }
  s->fd = fd;
  s->fd_open = 1;
  return 0;
}

static int serve(gust_web_handler *h, gust_future **wait, int include_body) {
  static_state *s = gust_web_state(h);
  const gust_headers *hd = gust_http_request_headers(gust_web_request(h));
  char abspath[PATH_MAX], etag[40], crange[80];
  struct stat st;
  byte_range r;
  gust_slice rv;
  int64_t size, start, end;
  size_t n;
  int rc;

  if ((rc = find_file(h, abspath, &st)) != 0)
    return rc > 0 ? 0 : rc;
  if (include_body && (rc = open_file(h, abspath, &st)) != 0)
    return rc;

  size = (int64_t)st.st_size;
  n = 0;
  etag[n++] = '"';
  n += gust__u64_hex(etag + n, (uint64_t)(int64_t)st.st_mtime);
  etag[n++] = '-';
  n += gust__u64_hex(etag + n, (uint64_t)size);
  etag[n++] = '"';
  etag[n] = '\0';
  if ((rc = set_headers(h, &st, abspath, etag)) != 0)
    goto fail;

  if ((rc = not_modified(h, etag, st.st_mtime)) != 0) {
    if (rc < 0)
      goto fail;
    close_fd(s);
    return gust_web_set_status(h, 304, NULL);
  }

  start = 0;
  end = size;
  /* Several Range fields join into several ranges: ignored, as Tornado. */
  if (gust_headers_count_name(hd, "Range") == 1 &&
      gust_headers_get(hd, "Range", &rv) == 0 && parse_range(rv, &r)) {
    if (r.has_start && r.start < 0) {
      r.start += size;
      if (r.start < 0)
        r.start = 0;
    }
    if ((r.has_start && (r.start >= size || (r.has_end && r.start >= r.end))) ||
        (r.has_end && r.end == 0)) {
      close_fd(s);
      snprintf(crange, sizeof(crange), "bytes */%lld", (long long)size);
      if ((rc = gust_web_set_status(h, 416, NULL)) != 0 ||
          (rc = gust_web_set_header(h, "Content-Type", "text/plain")) != 0 ||
          (rc = gust_web_set_header(h, "Content-Range", crange)) != 0)
        return rc;
      return 0;
    }
    if (r.has_end && r.end > size)
      r.end = size;
    start = r.has_start ? r.start : 0;
    end = r.has_end ? r.end : size;
    /* 206 only for less than the whole file (Chrome refuses a 206 to
     * "bytes=0-" for audio). */
    if (end - start != size) {
      snprintf(crange, sizeof(crange), "bytes %lld-%lld/%lld", (long long)start,
               (long long)(end - 1), (long long)size);
      if ((rc = gust_web_set_status(h, 206, NULL)) != 0 ||
          (rc = gust_web_set_header(h, "Content-Range", crange)) != 0)
        goto fail;
    }
  }
  if ((rc = set_u64_header(h, "Content-Length", (uint64_t)(end - start))) != 0)
    goto fail;
  if (!include_body)
    return 0;

  s->pos = (uint64_t)start;
  s->end = (uint64_t)end;
  rc = pump(h);
  if (rc <= 0) {
    close_fd(s);
    return rc;
  }
  rc = gust_future_new(&s->done, gust_web_loop(h), handler_mem(h));
  if (rc != 0)
    return rc; /* on_flushed finds no future and stops */
  *wait = gust_future_ref(s->done);
  return 0;

fail:
  close_fd(s);
  return rc;
}

static int static_get(gust_web_handler *h, gust_future **wait) {
  return serve(h, wait, 1);
}

static int static_head(gust_web_handler *h, gust_future **wait) {
  return serve(h, wait, 0);
}

static void static_release(gust_web_handler *h) {
  static_state *s = gust_web_state(h);
  close_fd(s);
  if (s->done != NULL) {
    gust_future_unref(s->done);
    s->done = NULL;
  }
}

const gust_web_handler_class gust_web_static_handler = {
    .name = "StaticFileHandler",
    .state_size = sizeof(static_state),
    .get = static_get,
    .head = static_head,
    .release = static_release,
};
