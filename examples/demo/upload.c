/* File uploads of the demo: the request body is streamed to a temporary
 * file in the upload directory (GUST_WEB_STREAM_BODY), hashed with SHA-256
 * on the way, and renamed to a sanitised name once complete; a client that
 * leaves mid-upload leaves nothing behind. */
#include "demo.h"

#include <gust/crypto.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NAME_MAX_LEN 100

static demo *demo_of(gust_web_handler *h) { return gust_web_class_data(h); }

typedef struct upload_state {
  int fd;    /* the temporary file, -1 when none */
  char *tmp; /* its path while it exists */
  char name[NAME_MAX_LEN + 1];
  gust_hash_ctx *hash;
  uint64_t received;
  int active; /* listed in demo.active_uploads */
} upload_state;

/* Keeps letters, digits, '.', '-' and '_' of the last path component;
 * anything else becomes '_'; no leading dot (no hidden or partial files). */
static void sanitize(const char *in, char *out) {
  const char *base = in, *p;
  size_t n = 0;
  for (p = in; *p; p++)
    if (*p == '/' || *p == '\\')
      base = p + 1;
  while (*base == '.')
    base++;
  for (p = base; *p && n < NAME_MAX_LEN; p++) {
    unsigned char c = (unsigned char)*p;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_')
      out[n++] = (char)c;
    else if (c < 0x80 || (c & 0xC0) == 0xC0) /* one '_' per character */
      out[n++] = '_';
  }
  out[n] = '\0';
  if (n == 0)
    strcpy(out, "upload");
}

/* Removes the temporary file and forgets the upload (idempotent). */
static void cleanup(gust_web_handler *h) {
  upload_state *st = gust_web_state(h);
  demo *d = demo_of(h);
  if (st->fd >= 0) {
    close(st->fd);
    st->fd = -1;
  }
  if (st->tmp != NULL) {
    unlink(st->tmp);
    free(st->tmp);
    st->tmp = NULL;
  }
  gust_hash_free(st->hash);
  st->hash = NULL;
  if (st->active) {
    st->active = 0;
    demo_ptr_remove((void **)d->active_uploads, &d->n_active, h);
  }
}

static int upload_initialize(gust_web_handler *h) {
  upload_state *st = gust_web_state(h);
  st->fd = -1;
  return 0;
}

static int upload_prepare(gust_web_handler *h, gust_future **wait) {
  demo *d = demo_of(h);
  upload_state *st = gust_web_state(h);
  gust_http_request *req = gust_web_request(h);
  gust_slice cl;
  uint64_t length;
  const char *name;
  gust_buf path;
  int rc;
  (void)wait;
  if (strcmp(gust_http_request_method(req), "POST") != 0)
    return 0; /* GET: the page */
  if ((rc = gust_web_authenticated(h)) < 0)
    return rc;
  if (d->shutting_down)
    return gust_web_http_error(h, 503, "shutting down");
  if (gust_headers_get(gust_http_request_headers(req), "Content-Length", &cl) ==
          0 &&
      gust_slice_to_u64(cl, UINT64_MAX, &length) == 0 && length > d->max_upload)
    return gust_web_http_error(h, 413, "upload of %" PRIu64 " bytes", length);
  gust_http_request_set_max_body_size(req, d->max_upload);
  if ((rc = gust_web_get_argument_from(h, GUST_WEB_ARGS_QUERY, "name", "upload",
                                       1, &name)) < 0)
    return rc;
  sanitize(name, st->name);
  gust_buf_init(&path, NULL);
  if (gust_buf_printf(&path, "%s/.partial-XXXXXX", d->upload_dir) < 0)
    return GUST_ENOMEM;
  st->fd = mkstemp((char *)path.ptr);
  if (st->fd < 0) {
    rc = gust_web_http_error(h, 500, "cannot create %s: %s",
                             (const char *)path.ptr, strerror(errno));
    gust_buf_free(&path);
    return rc;
  }
  st->tmp = demo_strdup((const char *)path.ptr);
  if (st->tmp == NULL)
    unlink((const char *)path.ptr); /* cleanup() could not find it */
  gust_buf_free(&path);
  if (st->tmp == NULL)
    return GUST_ENOMEM;
  if ((rc = gust_hash_new(&st->hash, GUST_SHA256)) < 0)
    return rc;
  rc = demo_ptr_push((void ***)&d->active_uploads, &d->n_active, &d->cap_active,
                     h);
  if (rc < 0)
    return rc;
  st->active = 1;
  return 0;
}

/* Each piece goes straight to the file: the body is never in memory
 * whole. (A local disk write is short; a server that writes to slow
 * storage would hand this to an executor and wait on its future.) */
static int upload_data(gust_web_handler *h, gust_slice chunk,
                       gust_future **wait) {
  upload_state *st = gust_web_state(h);
  size_t off = 0;
  int rc;
  (void)wait;
  if (st->fd < 0)
    return 0;
  while (off < chunk.len) {
    ssize_t n = write(st->fd, chunk.ptr + off, chunk.len - off);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return gust_web_http_error(h, 507, "writing %s: %s", st->tmp,
                                 strerror(errno));
    }
    off += (size_t)n;
  }
  if ((rc = gust_hash_update(st->hash, chunk.ptr, chunk.len)) < 0)
    return rc;
  st->received += chunk.len;
  return 0;
}

static int record(demo *d, const char *name, uint64_t size, const char *sha) {
  demo_upload_entry *e;
  size_t i;
  for (i = 0; i < d->n_uploads; i++) {
    if (strcmp(d->uploads[i].name, name) == 0) {
      d->uploads[i].size = size;
      memcpy(d->uploads[i].sha256, sha, 65);
      return 0;
    }
  }
  if (d->n_uploads == d->cap_uploads) {
    size_t ncap = d->cap_uploads ? d->cap_uploads * 2 : 8;
    e = realloc(d->uploads, ncap * sizeof(*e));
    if (e == NULL)
      return GUST_ENOMEM;
    d->uploads = e;
    d->cap_uploads = ncap;
  }
  e = &d->uploads[d->n_uploads];
  if ((e->name = demo_strdup(name)) == NULL)
    return GUST_ENOMEM;
  e->size = size;
  memcpy(e->sha256, sha, 65);
  d->n_uploads++;
  return 0;
}

static int entry_json(const char *name, uint64_t size, const char *sha,
                      gust_buf *out) {
  int rc;
  if ((rc = gust_buf_append_str(out, "{\"name\":")) < 0 ||
      (rc = gust_json_quote(name, strlen(name), out)) < 0)
    return rc;
  return gust_buf_printf(out, ",\"size\":%" PRIu64 ",\"sha256\":\"%s\"}", size,
                         sha);
}

static int upload_post(gust_web_handler *h, gust_future **wait) {
  demo *d = demo_of(h);
  upload_state *st = gust_web_state(h);
  uint8_t digest[32];
  char sha[65], final[NAME_MAX_LEN + 16];
  gust_buf path, json;
  int i, rc;
  (void)wait;
  if (st->tmp == NULL)
    return gust_web_http_error(h, 400, "no upload in progress");
  rc = gust_hash_final(st->hash, digest);
  st->hash = NULL;
  if (rc < 0)
    return rc;
  for (i = 0; i < 32; i++)
    snprintf(sha + 2 * i, 3, "%02x", digest[i]);
  if (close(st->fd) != 0) {
    st->fd = -1;
    return gust_web_http_error(h, 507, "closing %s: %s", st->tmp,
                               strerror(errno));
  }
  st->fd = -1;
  /* link() never replaces a file: "name", then "name-1", "name-2"... */
  gust_buf_init(&path, NULL);
  for (i = 0; i < 1000; i++) {
    const char *dot = strrchr(st->name, '.');
    size_t stem = dot != NULL && dot != st->name ? (size_t)(dot - st->name)
                                                 : strlen(st->name);
    if (i == 0)
      snprintf(final, sizeof(final), "%s", st->name);
    else
      snprintf(final, sizeof(final), "%.*s-%d%s", (int)stem, st->name, i,
               st->name + stem);
    gust_buf_clear(&path);
    if ((rc = gust_buf_printf(&path, "%s/%s", d->upload_dir, final)) < 0)
      break;
    if (link(st->tmp, (const char *)path.ptr) == 0)
      break;
    if (errno != EEXIST) {
      rc = gust_web_http_error(h, 500, "cannot store %s: %s",
                               (const char *)path.ptr, strerror(errno));
      break;
    }
  }
  gust_buf_free(&path);
  if (rc == 0 && i == 1000)
    rc = gust_web_http_error(h, 409, "too many files named %s", st->name);
  if (rc < 0)
    return rc;
  cleanup(h); /* removes the temporary name only */
  if ((rc = record(d, final, st->received, sha)) < 0)
    return rc;
  gust_buf_init(&json, NULL);
  rc = entry_json(final, st->received, sha, &json);
  if (rc == 0)
    rc = gust_web_write_json(h, (const char *)json.ptr, json.len);
  gust_buf_free(&json);
  gust_log(GUST_LOG_APPLICATION, GUST_LOG_INFO,
           "upload: stored %s (%" PRIu64 " bytes)", final, st->received);
  return rc;
}

static void upload_lost(gust_web_handler *h) { cleanup(h); }

static int list_json(demo *d, gust_buf *out) {
  size_t i;
  int rc = gust_buf_append_str(out, "{\"files\":[");
  for (i = 0; i < d->n_uploads && rc == 0; i++) {
    if (i > 0)
      rc = gust_buf_append_byte(out, ',');
    if (rc == 0)
      rc = entry_json(d->uploads[i].name, d->uploads[i].size,
                      d->uploads[i].sha256, out);
  }
  if (rc == 0)
    rc = gust_buf_append_str(out, "]}");
  return rc;
}

/* "1 GiB", "512 KiB", "10 bytes". */
static void human_size(uint64_t n, char *out, size_t size) {
  static const char *const units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
  double v = (double)n;
  int i = 0;
  while (v >= 1024 && i < 4) {
    v /= 1024;
    i++;
  }
  if (i == 0)
    snprintf(out, size, "%" PRIu64 " bytes", n);
  else
    snprintf(out, size, "%.3g %s", v, units[i]);
}

static int upload_page(gust_web_handler *h, gust_future **wait) {
  demo *d = demo_of(h);
  static const char *const scripts[] = {"upload.js", NULL};
  char limit[32];
  size_t i;
  int rc;
  (void)wait;
  if ((rc = gust_web_authenticated(h)) < 0 ||
      (rc = demo_page_begin(h, "Upload", "Upload")) < 0)
    return rc;
  human_size(d->max_upload, limit, sizeof(limit));
  gust_web_writef(
      h,
      "<section class=\"card\">\n<h1>Upload a file</h1>\n<p class=\"muted\">"
      "The body is streamed to disk as it arrives and hashed on the way; "
      "at most %s.</p>\n"
      "<form id=\"upload-form\" data-max=\"%" PRIu64 "\">\n"
      "<input type=\"file\" id=\"file\" name=\"file\" required>\n"
      "<button type=\"submit\">Upload</button>\n</form>\n"
      "<div class=\"progress\"><progress id=\"progress\" max=\"100\" "
      "value=\"0\"></progress><span id=\"progress-text\">0%%</span></div>\n"
      "<p id=\"upload-status\" class=\"muted\" role=\"status\"></p>\n"
      "</section>\n<section class=\"card\">\n<h2>Uploaded files</h2>\n"
      "<table class=\"files\"><thead><tr><th>Name</th><th>Size</th>"
      "<th>SHA-256</th></tr></thead>\n<tbody id=\"files\">\n",
      limit, d->max_upload);
  for (i = 0; i < d->n_uploads; i++) {
    demo_upload_entry *e = &d->uploads[i];
    gust_web_write_str(h, "<tr><td class=\"name\">");
    gust_web_write_escaped(h, e->name, strlen(e->name));
    gust_web_writef(h,
                    "</td><td class=\"size\">%" PRIu64 "</td>"
                    "<td class=\"sha\"><code>%s</code></td></tr>\n",
                    e->size, e->sha256);
  }
  gust_web_write_str(h, "</tbody></table>\n</section>\n");
  return demo_page_end(h, scripts);
}

static int list_get(gust_web_handler *h, gust_future **wait) {
  gust_buf json;
  int rc;
  (void)wait;
  if ((rc = gust_web_authenticated(h)) < 0)
    return rc;
  gust_buf_init(&json, NULL);
  rc = list_json(demo_of(h), &json);
  if (rc == 0)
    rc = gust_web_write_json(h, (const char *)json.ptr, json.len);
  gust_buf_free(&json);
  return rc;
}

static const gust_web_handler_class upload_class = {
    .name = "Upload",
    .state_size = sizeof(upload_state),
    .flags = GUST_WEB_STREAM_BODY,
    .initialize = upload_initialize,
    .get_current_user = demo_get_current_user,
    .prepare = upload_prepare,
    .get = upload_page,
    .head = upload_page,
    .post = upload_post,
    .data_received = upload_data,
    .on_connection_close = upload_lost,
    .release = cleanup,
};

static const gust_web_handler_class list_class = {
    .name = "UploadList",
    .get_current_user = demo_get_current_user,
    .get = list_get,
};

int demo_upload_routes(demo *d) {
  int rc;
  if ((rc = gust_web_app_add(d->app, "/upload", &upload_class, d, "upload")) <
          0 ||
      (rc = gust_web_app_add(d->app, "/a/uploads", &list_class, d, NULL)) < 0)
    return rc;
  return 0;
}

void demo_upload_shutdown(demo *d) {
  /* cut the uploads in progress: their temporary files go with them */
  while (d->n_active > 0) {
    gust_web_handler *h = d->active_uploads[0];
    gust_web_handler_ref(h);
    cleanup(h);
    gust_http_request_close(gust_web_request(h));
    gust_web_handler_unref(h);
  }
}

void demo_upload_free(demo *d) {
  size_t i;
  for (i = 0; i < d->n_uploads; i++)
    free(d->uploads[i].name);
  free(d->uploads);
  free(d->active_uploads);
}
