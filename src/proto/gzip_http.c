/* HTTP integration of the gzip codec, shared by server and client: body
 * decoding driven by gust_h1 DATA events (Tornado's decompress_request and
 * decompress_response) and response compression (GZipContentEncoding). */
#include "base/base_int.h"

#include <gust/gzip.h>

#include <stdio.h>
#include <string.h>

#define DEFAULT_CHUNK 65536
/* Room asked of the output buffer for each compression step. */
#define OUT_STEP 16384

struct gust_zip_body {
  const gust_mem *mem;
  gust_zip *z;
  uint8_t *buf;
  size_t chunk;
  const uint8_t *in;
  size_t in_len;
  int more; /* the last pull filled the buffer: output may be pending */
  int err;
  const char *msg;
};

static int name_is(gust_slice v, const char *lower) {
  size_t i, n = strlen(lower);
  if (v.len != n)
    return 0;
  for (i = 0; i < n; i++)
    if (gust__lower(v.ptr[i]) != (uint8_t)lower[i])
      return 0;
  return 1;
}

int gust_zip_body_start(gust_zip_body **out, const gust_mem *mem,
                        gust_headers *headers, unsigned flags,
                        size_t chunk_size, uint64_t max_size) {
  gust_zip_body *b;
  gust_slice ce;
  gust_zip_format format;
  char *saved;
  int rc;
  if (out == NULL)
    return GUST_EINVAL;
  *out = NULL;
  if (headers == NULL || (flags & ~(unsigned)GUST_ZIP_BODY_DEFLATE) != 0)
    return GUST_EINVAL;
  /* A repeated field reads as the joined list (Tornado's headers.get()),
   * which is never a single coding name. */
  if (gust_headers_count_name(headers, "Content-Encoding") != 1)
    return 0;
  gust_headers_get(headers, "Content-Encoding", &ce);
  if (name_is(ce, "gzip")) {
    format = GUST_ZIP_GZIP;
  } else if (flags & GUST_ZIP_BODY_DEFLATE) {
    rc = gust_zip_coding((const char *)ce.ptr, ce.len);
    if (rc < 0)
      return 0;
    format = (gust_zip_format)rc;
  } else {
    return 0;
  }
  mem = gust__mem(mem);
  if (chunk_size == 0)
    chunk_size = DEFAULT_CHUNK;
  b = gust__calloc(mem, 1, sizeof(*b));
  if (b == NULL)
    return GUST_ENOMEM;
  b->mem = mem;
  b->chunk = chunk_size;
  b->msg = "";
  b->buf = gust__malloc(mem, chunk_size);
  if (b->buf == NULL ||
      gust_zip_decoder_new(&b->z, mem, format, max_size, 0) < 0) {
    gust_zip_body_free(b);
    return GUST_ENOMEM;
  }
  /* The value lives in the map's arena, which the add may move. */
  saved = gust__strndup(mem, (const char *)ce.ptr, ce.len);
  if (saved == NULL) {
    gust_zip_body_free(b);
    return GUST_ENOMEM;
  }
  rc = gust_headers_add(headers, "X-Consumed-Content-Encoding", 27, saved,
                        ce.len);
  gust__free(mem, saved);
  if (rc < 0) {
    gust_zip_body_free(b);
    return rc;
  }
  gust_headers_remove(headers, "Content-Encoding");
  *out = b;
  return 1;
}

static int body_fail(gust_zip_body *b, int code) {
  b->err = code;
  switch (code) {
  case GUST_EZIP_TOOBIG:
    b->msg = "decompressed body too large";
    break;
  case GUST_EZIP_TRUNCATED:
    b->msg = "truncated compressed body";
    break;
  case GUST_EZIP_TRAILING:
    b->msg = "data after the end of the compressed body";
    break;
  case GUST_EZIP_DATA:
    b->msg = "invalid compressed body";
    break;
  default:
    b->msg = gust_strerror(code);
    break;
  }
  return code;
}

int gust_zip_body_feed(gust_zip_body *b, const void *data, size_t len) {
  if (b == NULL || (data == NULL && len != 0))
    return GUST_EINVAL;
  if (b->err)
    return b->err;
  if (b->in_len != 0)
    return GUST_ESTATE;
  b->in = data;
  b->in_len = len;
  return 0;
}

int gust_zip_body_next(gust_zip_body *b, gust_slice *piece) {
  gust_ssize got;
  if (b == NULL || piece == NULL)
    return GUST_EINVAL;
  piece->ptr = NULL;
  piece->len = 0;
  if (b->err)
    return b->err;
  if (b->in_len == 0 && !b->more)
    return 0;
  got = gust_zip_decode(b->z, &b->in, &b->in_len, b->buf, b->chunk);
  if (got < 0)
    return body_fail(b, (int)got);
  b->more = (size_t)got == b->chunk;
  if (got == 0) {
    if (b->in_len != 0) {
      b->msg = "encountered unconsumed gzip data without making progress";
      b->err = GUST_EZIP_DATA;
      return b->err;
    }
    return 0;
  }
  piece->ptr = b->buf;
  piece->len = (size_t)got;
  return 1;
}

int gust_zip_body_finish(gust_zip_body *b) {
  int rc;
  if (b == NULL)
    return GUST_EINVAL;
  if (b->err)
    return b->err;
  if (b->in_len != 0 || b->more)
    return GUST_ESTATE;
  rc = gust_zip_decode_end(b->z);
  return rc < 0 ? body_fail(b, rc) : 0;
}

const char *gust_zip_body_error(const gust_zip_body *b) {
  return b == NULL ? "" : b->msg;
}

uint64_t gust_zip_body_total(const gust_zip_body *b) {
  return b == NULL ? 0 : gust_zip_total_out(b->z);
}

void gust_zip_body_set_max_size(gust_zip_body *b, uint64_t max_size) {
  if (b == NULL || b->err)
    return;
  gust_zip_set_max_output(b->z, max_size);
  if (gust_zip_total_out(b->z) >
      (max_size == 0 ? GUST_ZIP_DEFAULT_MAX_OUTPUT : max_size))
    body_fail(b, GUST_EZIP_TOOBIG);
}

void gust_zip_body_free(gust_zip_body *b) {
  if (b == NULL)
    return;
  gust_zip_free(b->z);
  gust__free(b->mem, b->buf);
  gust__free(b->mem, b);
}

int gust_zip_request_headers(gust_headers *headers) {
  if (headers == NULL)
    return GUST_EINVAL;
  return gust_headers_set_str(headers, "Accept-Encoding", "gzip");
}

/* ---------------------------------------------------------------- */
/* Response compression                                               */

struct gust_zip_resp {
  const gust_mem *mem;
  gust_zip *z;
  int gzipping;
  int state; /* 0 before the first flush, 1 streaming, 2 finished */
};

int gust_zip_resp_new(gust_zip_resp **out, const gust_mem *mem,
                      const char *accept_encoding, size_t len) {
  gust_zip_resp *r;
  size_t i;
  if (out == NULL)
    return GUST_EINVAL;
  *out = NULL;
  if (accept_encoding == NULL && len != 0)
    return GUST_EINVAL;
  mem = gust__mem(mem);
  r = gust__calloc(mem, 1, sizeof(*r));
  if (r == NULL)
    return GUST_ENOMEM;
  r->mem = mem;
  /* Tornado: "gzip" in Accept-Encoding, a plain substring test. */
  for (i = 0; i + 4 <= len && !r->gzipping; i++)
    if (memcmp(accept_encoding + i, "gzip", 4) == 0)
      r->gzipping = 1;
  *out = r;
  return 0;
}

static int compressible(gust_slice ct) {
  static const char *const types[] = {
      "application/javascript", "application/x-javascript",
      "application/xml",        "application/atom+xml",
      "application/json",       "application/xhtml+xml",
      "image/svg+xml"};
  size_t n = 0, i;
  while (n < ct.len && ct.ptr[n] != ';')
    n++;
  if (n >= 5 && memcmp(ct.ptr, "text/", 5) == 0)
    return 1;
  for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
    if (strlen(types[i]) == n && memcmp(ct.ptr, types[i], n) == 0)
      return 1;
  return 0;
}

/* Compresses `len` bytes with `flush` into `out`; on failure `out` is
 * restored to its former length. */
static int squeeze(gust_zip *z, const void *chunk, size_t len,
                   gust_zip_flush flush, gust_buf *out) {
  const uint8_t *in = chunk;
  size_t in_len = len, start = out->len;
  gust_ssize got;
  int rc;
  do {
    rc = gust_buf_reserve(out, OUT_STEP);
    if (rc < 0) {
      gust_buf_truncate(out, start);
      return rc;
    }
    got = gust_zip_encode(z, &in, &in_len, gust_buf_tail(out), OUT_STEP, flush);
    if (got < 0) {
      gust_buf_truncate(out, start);
      return (int)got;
    }
    gust_buf_commit(out, (size_t)got);
  } while (in_len > 0 || got == OUT_STEP);
  return 0;
}

static int append_vary(gust_headers *headers, const gust_mem *mem) {
  gust_buf v;
  int rc;
  if (gust_headers_count_name(headers, "Vary") == 0)
    return gust_headers_set_str(headers, "Vary", "Accept-Encoding");
  gust_buf_init(&v, mem);
  rc = gust_headers_get_joined(headers, "Vary", &v);
  if (rc == 0)
    rc = gust_buf_append_str(&v, ", Accept-Encoding");
  if (rc == 0)
    rc = gust_headers_set(headers, "Vary", 4, (const char *)v.ptr, v.len);
  gust_buf_free(&v);
  return rc;
}

int gust_zip_resp_first(gust_zip_resp *r, gust_headers *headers,
                        const void *chunk, size_t len, int finishing,
                        gust_buf *out) {
  gust_slice ct = {NULL, 0};
  size_t start;
  int rc;
  char num[24];
  if (r == NULL || headers == NULL || out == NULL ||
      (chunk == NULL && len != 0))
    return GUST_EINVAL;
  if (r->state != 0)
    return GUST_ESTATE;
  if (r->gzipping) {
    gust_headers_get(headers, "Content-Type", &ct);
    r->gzipping = compressible(ct) &&
                  (!finishing || len >= GUST_ZIP_RESP_MIN_LENGTH) &&
                  gust_headers_count_name(headers, "Content-Encoding") == 0;
  }
  start = out->len;
  if (r->gzipping) {
    rc =
        gust_zip_encoder_new(&r->z, r->mem, GUST_ZIP_GZIP, GUST_ZIP_RESP_LEVEL);
    if (rc == 0)
      rc = squeeze(r->z, chunk, len,
                   finishing ? GUST_ZIP_FINISH : GUST_ZIP_SYNC, out);
  } else {
    rc = gust_buf_append(out, chunk, len);
  }
  if (rc < 0)
    goto failed;
  rc = append_vary(headers, r->mem);
  if (rc == 0 && r->gzipping) {
    rc = gust_headers_set_str(headers, "Content-Encoding", "gzip");
    if (rc == 0 && gust_headers_count_name(headers, "Content-Length") > 0) {
      if (finishing) {
        snprintf(num, sizeof(num), "%zu", out->len - start);
        rc = gust_headers_set_str(headers, "Content-Length", num);
      } else {
        gust_headers_remove(headers, "Content-Length");
      }
    }
  }
  if (rc < 0)
    goto failed;
  r->state = finishing ? 2 : 1;
  return 0;
failed:
  gust_buf_truncate(out, start);
  gust_zip_free(r->z);
  r->z = NULL;
  r->state = 2;
  return rc;
}

int gust_zip_resp_chunk(gust_zip_resp *r, const void *chunk, size_t len,
                        int finishing, gust_buf *out) {
  int rc;
  if (r == NULL || out == NULL || (chunk == NULL && len != 0))
    return GUST_EINVAL;
  if (r->state != 1)
    return GUST_ESTATE;
  if (r->gzipping)
    rc = squeeze(r->z, chunk, len, finishing ? GUST_ZIP_FINISH : GUST_ZIP_SYNC,
                 out);
  else
    rc = gust_buf_append(out, chunk, len);
  if (rc < 0) {
    r->state = 2; /* part of the chunk may be in the stream: give up */
    return rc;
  }
  if (finishing)
    r->state = 2;
  return 0;
}

int gust_zip_resp_active(const gust_zip_resp *r) {
  return r != NULL && r->state != 0 && r->gzipping;
}

void gust_zip_resp_free(gust_zip_resp *r) {
  if (r == NULL)
    return;
  gust_zip_free(r->z);
  gust__free(r->mem, r);
}
