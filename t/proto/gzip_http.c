/* Tests of the HTTP integration of the gzip codec: request bodies decoded
 * in a server from gust_h1 events (Tornado's decompress_request), response
 * bodies decoded in a client, and response compression as Tornado's
 * GZipContentEncoding does it, sent through the gust_h1 serializer. */
#include "../tap.h"

#include <gust/gzip.h>
#include <gust/http1.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void gz(const uint8_t *data, size_t len, gust_zip_format fmt,
               gust_buf *out) {
  gust_zip *z;
  const uint8_t *in = data;
  size_t in_len = len;
  gust_ssize got;
  if (gust_zip_encoder_new(&z, NULL, fmt, 6) < 0)
    bail_out("encoder");
  do {
    gust_buf_reserve(out, 4096);
    got = gust_zip_encode(z, &in, &in_len, gust_buf_tail(out), 4096,
                          GUST_ZIP_FINISH);
    if (got < 0)
      bail_out("encode");
    gust_buf_commit(out, (size_t)got);
  } while (in_len > 0 || got == 4096);
  gust_zip_free(z);
}

static void text(uint8_t *p, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    p[i] = (uint8_t)("the quick brown fox "[(i * 7 + i / 13) % 20]);
}

/* Result of running a request through a server connection. */
typedef struct served {
  int started;       /* gust_zip_body_start() */
  int err;           /* first error, 0 if none */
  const char *msg;   /* its message */
  size_t max_piece;  /* largest DATA piece delivered */
  gust_buf body;     /* decoded body */
  char consumed[32]; /* X-Consumed-Content-Encoding */
  int has_ce;        /* Content-Encoding still present */
} served;

/* Feeds `raw` (a whole request) to a server connection in pieces of
 * `step` bytes, decoding its body with chunk_size 16. */
static void serve(const char *head, const gust_buf *payload, size_t step,
                  uint64_t max_size, served *s, const gust_mem *mem) {
  gust_h1 *h;
  gust_h1_config cfg;
  gust_headers hd;
  gust_zip_body *b = NULL;
  gust_buf raw;
  size_t off = 0;
  int done = 0;
  memset(s, 0, sizeof(*s));
  gust_buf_init(&s->body, NULL);
  gust_buf_init(&raw, NULL);
  gust_buf_append_str(&raw, head);
  gust_buf_append(&raw, payload->ptr, payload->len);
  gust_headers_init(&hd, mem);
  gust_h1_config_init(&cfg);
  cfg.chunk_size = 16;
  if (gust_h1_new(&h, GUST_H1_SERVER, &cfg, NULL) < 0)
    bail_out("h1");
  while (!done) {
    gust_h1_event ev;
    int type = gust_h1_next_event(h, &ev);
    size_t i;
    gust_slice piece, v;
    switch (type) {
    case GUST_H1_NEED_DATA:
      if (off >= raw.len) {
        gust_h1_feed_eof(h, 0);
        break;
      }
      gust_h1_feed(h, raw.ptr + off,
                   raw.len - off < step ? raw.len - off : step);
      off += raw.len - off < step ? raw.len - off : step;
      break;
    case GUST_H1_REQUEST:
      for (i = 0; i < ev.nfields; i++)
        gust_headers_add(
            &hd, (const char *)ev.fields[i].name.ptr, ev.fields[i].name.len,
            (const char *)ev.fields[i].value.ptr, ev.fields[i].value.len);
      s->started = gust_zip_body_start(&b, mem, &hd, 0, 16, max_size);
      if (s->started < 0) {
        s->err = s->started;
        done = 1;
      }
      if (gust_headers_get(&hd, "X-Consumed-Content-Encoding", &v) == 0)
        snprintf(s->consumed, sizeof(s->consumed), "%.*s", (int)v.len,
                 (const char *)v.ptr);
      s->has_ce = gust_headers_count_name(&hd, "Content-Encoding") > 0;
      break;
    case GUST_H1_DATA:
      if (b == NULL) {
        gust_buf_append(&s->body, ev.data.ptr, ev.data.len);
        break;
      }
      gust_zip_body_feed(b, ev.data.ptr, ev.data.len);
      for (;;) {
        int rc = gust_zip_body_next(b, &piece);
        if (rc < 0) {
          s->err = rc;
          s->msg = gust_zip_body_error(b);
          done = 1;
        }
        if (rc <= 0)
          break;
        if (piece.len > s->max_piece)
          s->max_piece = piece.len;
        gust_buf_append(&s->body, piece.ptr, piece.len);
      }
      break;
    case GUST_H1_END_MESSAGE:
      if (b != NULL && (s->err = gust_zip_body_finish(b)) < 0)
        s->msg = gust_zip_body_error(b);
      done = 1;
      break;
    case GUST_H1_ERROR:
      s->err = ev.code;
      done = 1;
      break;
    default:
      done = 1;
      break;
    }
  }
  gust_zip_body_free(b);
  gust_headers_free(&hd);
  gust_h1_free(h);
  gust_buf_free(&raw);
}

static void test_request(void) {
  static uint8_t data[50];
  gust_buf payload, abc;
  char head[200];
  served s;
  size_t step;
  memcpy(data, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN", 50);
  gust_buf_init(&payload, NULL);
  gz(data, 50, GUST_ZIP_GZIP, &payload);
  snprintf(head, sizeof(head),
           "POST / HTTP/1.1\r\nHost: x\r\nContent-Encoding: GZip\r\n"
           "Content-Length: %zu\r\n\r\n",
           payload.len);
  for (step = 1; step <= payload.len + 200; step += step < 8 ? 1 : 37) {
    serve(head, &payload, step, 0, &s, NULL);
    if (step == 1 || step > payload.len + 150) {
      is_int(s.err, 0, "gzip request (feed %zu): no error", step);
      is_int(s.started, 1, "decoder started");
      is_str(s.consumed, "GZip", "X-Consumed-Content-Encoding keeps the value");
      ok(!s.has_ce, "Content-Encoding removed");
      ok(s.max_piece >= 1 && s.max_piece <= 16, "pieces <= chunk_size (%zu)",
         s.max_piece);
      cmp_mem(s.body.ptr, s.body.len, data, 50, "decoded body");
    } else if (s.err != 0 || s.body.len != 50 || s.max_piece > 16) {
      ok(0, "gzip request (feed %zu)", step);
    }
    gust_buf_free(&s.body);
  }
  /* decompressed size limit */
  serve(head, &payload, 1000, 49, &s, NULL);
  is_int(s.err, GUST_EZIP_TOOBIG, "max size applies to the decoded size");
  is_str(s.msg, "decompressed body too large", "Tornado's message");
  gust_buf_free(&s.body);
  serve(head, &payload, 1000, 50, &s, NULL);
  is_int(s.err, 0, "a limit equal to the decoded size passes");
  gust_buf_free(&s.body);
  /* truncated body (framing says the body ends early) */
  snprintf(head, sizeof(head),
           "POST / HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\n"
           "Content-Length: %zu\r\n\r\n",
           payload.len - 3);
  payload.len -= 3;
  serve(head, &payload, 7, 0, &s, NULL);
  is_int(s.err, GUST_EZIP_TRUNCATED, "a truncated gzip body is an error");
  is_str(s.msg, "truncated compressed body", "its message");
  gust_buf_free(&s.body);
  payload.len += 3;
  /* trailing bytes after the member */
  gust_buf_append_str(&payload, "xyz");
  snprintf(head, sizeof(head),
           "POST / HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\n"
           "Content-Length: %zu\r\n\r\n",
           payload.len);
  serve(head, &payload, 7, 0, &s, NULL);
  is_int(s.err, GUST_EZIP_TRAILING, "bytes after the member are an error");
  gust_buf_free(&s.body);
  /* chunked framing, corrupt data */
  payload.len -= 3;
  payload.ptr[payload.len / 2] ^= 0x55;
  {
    gust_buf chunked;
    gust_buf_init(&chunked, NULL);
    gust_buf_printf(&chunked, "%zx\r\n", payload.len);
    gust_buf_append(&chunked, payload.ptr, payload.len);
    gust_buf_append_str(&chunked, "\r\n0\r\n\r\n");
    serve("POST / HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\n"
          "Transfer-Encoding: chunked\r\n\r\n",
          &chunked, 5, 0, &s, NULL);
    ok(s.err == GUST_EZIP_DATA, "corrupt chunked gzip body is rejected (%d)",
       s.err);
    gust_buf_free(&s.body);
    gust_buf_free(&chunked);
  }
  /* other codings are not decoded */
  gust_buf_init(&abc, NULL);
  gust_buf_append_str(&abc, "abc");
  serve("POST / HTTP/1.1\r\nHost: x\r\nContent-Encoding: br\r\n"
        "Content-Length: 3\r\n\r\n",
        &abc, 100, 0, &s, NULL);
  is_int(s.started, 0, "br: no decoder");
  ok(s.has_ce && s.consumed[0] == '\0', "br: headers unchanged");
  cmp_mem(s.body.ptr, s.body.len, "abc", 3, "br: body passes unchanged");
  gust_buf_free(&s.body);
  serve("POST / HTTP/1.1\r\nHost: x\r\nContent-Encoding: deflate\r\n"
        "Content-Length: 3\r\n\r\n",
        &abc, 100, 0, &s, NULL);
  is_int(s.started, 0, "deflate is not decoded without the flag");
  gust_buf_free(&s.body);
  gust_buf_free(&payload);
  gust_buf_free(&abc);
}

static void test_body_flags_and_failmem(void) {
  gust_headers hd;
  gust_zip_body *b;
  gust_slice v;
  unsigned long at;
  int bad = 0;
  gust_headers_init(&hd, NULL);
  gust_headers_add_str(&hd, "Content-Encoding", "deflate");
  is_int(gust_zip_body_start(&b, NULL, &hd, GUST_ZIP_BODY_DEFLATE, 0, 0), 1,
         "deflate decoded with GUST_ZIP_BODY_DEFLATE");
  gust_headers_get(&hd, "X-Consumed-Content-Encoding", &v);
  cmp_mem(v.ptr, v.len, "deflate", 7, "consumed coding recorded");
  {
    /* raw deflate, as some servers send it */
    gust_buf raw;
    uint8_t data[3000];
    gust_slice piece;
    size_t total = 0;
    int rc;
    text(data, sizeof(data));
    gust_buf_init(&raw, NULL);
    gz(data, sizeof(data), GUST_ZIP_RAW, &raw);
    gust_zip_body_feed(b, raw.ptr, raw.len);
    while ((rc = gust_zip_body_next(b, &piece)) == 1)
      total += piece.len;
    is_int(rc, 0, "raw deflate body decodes");
    is_int(total, sizeof(data), "all of it, in 64 KiB pieces");
    is_int(gust_zip_body_finish(b), 0, "and ends properly");
    is_int(gust_zip_body_total(b), sizeof(data), "total counted");
    gust_buf_free(&raw);
  }
  gust_zip_body_free(b);
  gust_headers_clear(&hd);
  gust_headers_add_str(&hd, "Content-Encoding", "gzip");
  gust_headers_add_str(&hd, "Content-Encoding", "gzip");
  is_int(gust_zip_body_start(&b, NULL, &hd, 0, 0, 0), 0,
         "a repeated Content-Encoding is not decoded");
  ok(b == NULL, "no decoder");
  is_int(gust_zip_body_start(&b, NULL, &hd, 8, 0, 0), GUST_EINVAL,
         "unknown flag refused");
  gust_headers_free(&hd);
  for (at = 1; at < 12; at++) {
    gust_failmem fm;
    int rc;
    gust_failmem_init(&fm, NULL);
    gust_headers_init(&hd, NULL);
    gust_headers_add_str(&hd, "Content-Encoding", "gzip");
    gust_failmem_reset(&fm, at);
    rc = gust_zip_body_start(&b, &fm.mem, &hd, 0, 0, 0);
    if (rc == 1) {
      gust_buf payload;
      gust_slice piece;
      gust_buf_init(&payload, NULL);
      gz((const uint8_t *)"hello", 5, GUST_ZIP_GZIP, &payload);
      gust_zip_body_feed(b, payload.ptr, payload.len);
      while ((rc = gust_zip_body_next(b, &piece)) == 1)
        ;
      if (rc == 0)
        rc = gust_zip_body_finish(b);
      gust_buf_free(&payload);
    }
    if (fm.failures > 0 && rc != GUST_ENOMEM)
      bad++;
    if (fm.failures > 0 &&
        gust_headers_count_name(&hd, "X-Consumed-Content-Encoding") != 0 &&
        b == NULL)
      bad++;
    gust_zip_body_free(b);
    if (fm.live_blocks != 0)
      bad++;
    gust_headers_free(&hd);
  }
  is_int(bad, 0, "body decoder: every allocation failure handled, no leak");
}

/* Runs the response transform: first flush `a` (finishing if `b` is NULL),
 * then `b` finishing. Returns the bytes to send in `out`. */
static int transform(const char *ae, gust_headers *hd, const char *a,
                     size_t alen, const char *b, size_t blen, gust_buf *out,
                     int *active) {
  gust_zip_resp *r;
  int rc = gust_zip_resp_new(&r, NULL, ae, ae ? strlen(ae) : 0);
  if (rc < 0)
    return rc;
  rc = gust_zip_resp_first(r, hd, a, alen, b == NULL, out);
  if (rc == 0 && b != NULL)
    rc = gust_zip_resp_chunk(r, b, blen, 1, out);
  *active = gust_zip_resp_active(r);
  gust_zip_resp_free(r);
  return rc;
}

static int contains(gust_slice s, const char *needle) {
  size_t n = strlen(needle), i;
  for (i = 0; i + n <= s.len; i++)
    if (memcmp(s.ptr + i, needle, n) == 0)
      return 1;
  return 0;
}

static int gunzip(const gust_buf *in, gust_buf *out) {
  gust_zip *z;
  const uint8_t *p = in->ptr;
  size_t n = in->len;
  gust_ssize got;
  int rc;
  gust_zip_decoder_new(&z, NULL, GUST_ZIP_GZIP, 0, 0);
  do {
    gust_buf_reserve(out, 1000);
    got = gust_zip_decode(z, &p, &n, gust_buf_tail(out), 1000);
    if (got < 0)
      break;
    gust_buf_commit(out, (size_t)got);
  } while (n > 0 || got == 1000);
  rc = got < 0 ? (int)got : gust_zip_decode_end(z);
  gust_zip_free(z);
  return rc;
}

static void test_response(void) {
  gust_headers hd;
  gust_buf out, plain;
  gust_slice v;
  int active;
  static char big[3000];
  text((uint8_t *)big, sizeof(big));
  gust_headers_init(&hd, NULL);
  gust_buf_init(&out, NULL);
  gust_buf_init(&plain, NULL);

  /* Tornado's vector: asdf, flush, qwer, finish → 34 bytes */
  gust_headers_add_str(&hd, "Content-Type", "text/plain");
  is_int(transform("gzip", &hd, "asdf", 4, "qwer", 4, &out, &active), 0,
         "asdf/qwer transformed");
  ok(active, "small streamed body is compressed");
  is_int(out.len, 34, "asdf, flush, qwer, finish: 34 bytes");
  ok(out.len >= 10 && memcmp(out.ptr, "\x1f\x8b\x08", 3) == 0, "gzip member");
  is_int(gunzip(&out, &plain), 0, "decodes");
  cmp_mem(plain.ptr, plain.len, "asdfqwer", 8, "to the body");
  gust_headers_get(&hd, "Content-Encoding", &v);
  cmp_mem(v.ptr, v.len, "gzip", 4, "Content-Encoding: gzip");
  gust_headers_get(&hd, "Vary", &v);
  cmp_mem(v.ptr, v.len, "Accept-Encoding", 15, "Vary set");

  /* Single flush: Content-Length recomputed, Vary joined */
  gust_headers_clear(&hd);
  gust_buf_clear(&out);
  gust_buf_clear(&plain);
  gust_headers_add_str(&hd, "Content-Type", "application/json; charset=UTF-8");
  gust_headers_add_str(&hd, "Content-Length", "3000");
  gust_headers_add_str(&hd, "Vary", "Cookie");
  is_int(transform("deflate, gzip;q=1", &hd, big, sizeof(big), NULL, 0, &out,
                   &active),
         0, "single flush transformed");
  ok(active, "json body of 3000 bytes compressed");
  {
    char want[24];
    snprintf(want, sizeof(want), "%zu", out.len);
    gust_headers_get(&hd, "Content-Length", &v);
    cmp_mem(v.ptr, v.len, want, strlen(want), "Content-Length recomputed");
  }
  gust_headers_get(&hd, "Vary", &v);
  cmp_mem(v.ptr, v.len, "Cookie, Accept-Encoding", 23, "Vary joined");
  is_int(gunzip(&out, &plain), 0, "decodes");
  cmp_mem(plain.ptr, plain.len, big, sizeof(big), "to the body");

  /* Streamed: Content-Length removed */
  gust_headers_clear(&hd);
  gust_buf_clear(&out);
  gust_headers_add_str(&hd, "Content-Type", "text/html");
  gust_headers_add_str(&hd, "Content-Length", "3000");
  transform("gzip", &hd, big, 1000, big + 1000, 2000, &out, &active);
  is_int(gust_headers_count_name(&hd, "Content-Length"), 0,
         "streamed: Content-Length removed");

  /* Cases that stay uncompressed (Vary still appended) */
  {
    static const struct {
      const char *ae, *ct, *ce;
      size_t len;
      const char *why;
    } cases[] = {
        {"gzip", "text/plain", NULL, 1023, "1023 bytes in one go"},
        {"br, deflate", "text/plain", NULL, 3000, "no gzip accepted"},
        {NULL, "text/plain", NULL, 3000, "no Accept-Encoding"},
        {"gzip", "image/png", NULL, 3000, "image/png"},
        {"gzip", "application/octet-stream", NULL, 3000, "octet-stream"},
        {"gzip", NULL, NULL, 3000, "no Content-Type"},
        {"gzip", "text/plain", "br", 3000, "Content-Encoding already set"},
        {"GZIP", "text/plain", NULL, 3000, "GZIP (Tornado: case-sensitive)"}};
    size_t i;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
      gust_headers_clear(&hd);
      gust_buf_clear(&out);
      if (cases[i].ct)
        gust_headers_add_str(&hd, "Content-Type", cases[i].ct);
      if (cases[i].ce)
        gust_headers_add_str(&hd, "Content-Encoding", cases[i].ce);
      is_int(transform(cases[i].ae, &hd, big, cases[i].len, NULL, 0, &out,
                       &active),
             0, "%s: transformed", cases[i].why);
      ok(!active, "%s: not compressed", cases[i].why);
      cmp_mem(out.ptr, out.len, big, cases[i].len, "%s: body unchanged",
              cases[i].why);
      ok(gust_headers_count_name(&hd, "Vary") == 1, "%s: Vary appended",
         cases[i].why);
    }
  }
  /* Compressed types */
  {
    static const char *types[] = {
        "text/anything",   "application/javascript", "application/x-javascript",
        "application/xml", "application/atom+xml",   "application/xhtml+xml",
        "image/svg+xml"};
    size_t i;
    int n = 0;
    for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
      gust_headers_clear(&hd);
      gust_buf_clear(&out);
      gust_headers_add_str(&hd, "Content-Type", types[i]);
      transform("gzip", &hd, big, 1024, NULL, 0, &out, &active);
      n += active;
    }
    is_int(n, 7, "every compressible type at 1024 bytes is compressed");
  }
  gust_headers_free(&hd);
  gust_buf_free(&out);
  gust_buf_free(&plain);
}

/* A compressed response sent through the serializer and read by a client
 * connection, whose body is decoded with gust_zip_body. */
static void test_end_to_end(void) {
  gust_h1 *srv, *cli;
  gust_h1_event ev;
  gust_headers req, resp, got;
  gust_zip_resp *r;
  gust_zip_body *b = NULL;
  gust_buf out, body;
  gust_slice sl, ae;
  int type, i, rc, done = 0;
  static char page[20000];
  text((uint8_t *)page, sizeof(page));
  gust_h1_new(&srv, GUST_H1_SERVER, NULL, NULL);
  gust_h1_new(&cli, GUST_H1_CLIENT, NULL, NULL);
  gust_headers_init(&req, NULL);
  gust_headers_init(&resp, NULL);
  gust_headers_init(&got, NULL);
  gust_buf_init(&out, NULL);
  gust_buf_init(&body, NULL);
  gust_headers_add_str(&req, "Host", "example");
  is_int(gust_zip_request_headers(&req), 0, "client asks for gzip");
  gust_h1_send_request(cli, "GET", "/", &req);
  sl = gust_h1_pending_output(cli);
  gust_h1_feed(srv, sl.ptr, sl.len);
  type = gust_h1_next_event(srv, &ev);
  if (!is_int(type, GUST_H1_REQUEST, "server got the request"))
    diag("%s: %.*s", ev.message ? ev.message : "", (int)sl.len,
         (const char *)sl.ptr);
  ae.ptr = NULL;
  ae.len = 0;
  for (i = 0; i < (int)ev.nfields; i++)
    if (ev.fields[i].name.len == 15 &&
        memcmp(ev.fields[i].name.ptr, "Accept-Encoding", 15) == 0)
      ae = ev.fields[i].value;
  gust_zip_resp_new(&r, NULL, (const char *)ae.ptr, ae.len);
  type = gust_h1_next_event(srv, &ev);
  is_int(type, GUST_H1_END_MESSAGE, "request has no body");
  gust_h1_consume_output(cli, sl.len); /* the server is done with them */
  gust_headers_add_str(&resp, "Content-Type", "text/html; charset=UTF-8");
  /* three flushes: the first and second sync-flushed, the last finishing */
  rc = gust_zip_resp_first(r, &resp, page, 5000, 0, &out);
  rc |= gust_h1_send_response(srv, 200, NULL, &resp);
  rc |= gust_h1_send_data(srv, out.ptr, out.len);
  gust_buf_clear(&out);
  rc |= gust_zip_resp_chunk(r, page + 5000, 5000, 0, &out);
  rc |= gust_h1_send_data(srv, out.ptr, out.len);
  gust_buf_clear(&out);
  rc |= gust_zip_resp_chunk(r, page + 10000, 10000, 1, &out);
  rc |= gust_h1_send_data(srv, out.ptr, out.len);
  rc |= gust_h1_send_end(srv);
  is_int(rc, 0, "compressed response sent in three flushes");
  sl = gust_h1_pending_output(srv);
  ok(sl.len < 2000, "response is small (%zu bytes)", sl.len);
  ok(contains(sl, "Transfer-Encoding: chunked"),
     "streamed response is chunked");
  gust_h1_feed(cli, sl.ptr, sl.len);
  while (!done) {
    gust_slice piece;
    type = gust_h1_next_event(cli, &ev);
    switch (type) {
    case GUST_H1_RESPONSE:
      for (i = 0; i < (int)ev.nfields; i++)
        gust_headers_add(
            &got, (const char *)ev.fields[i].name.ptr, ev.fields[i].name.len,
            (const char *)ev.fields[i].value.ptr, ev.fields[i].value.len);
      is_int(gust_zip_body_start(&b, NULL, &got, GUST_ZIP_BODY_DEFLATE, 0, 0),
             1, "client decodes the response");
      break;
    case GUST_H1_DATA:
      gust_zip_body_feed(b, ev.data.ptr, ev.data.len);
      while (gust_zip_body_next(b, &piece) == 1)
        gust_buf_append(&body, piece.ptr, piece.len);
      break;
    case GUST_H1_END_MESSAGE:
      is_int(gust_zip_body_finish(b), 0, "client: stream ended");
      done = 1;
      break;
    default:
      ok(0, "unexpected client event %d", type);
      done = 1;
      break;
    }
  }
  cmp_mem(body.ptr, body.len, page, sizeof(page), "client got the page");
  gust_zip_body_free(b);
  gust_zip_resp_free(r);
  gust_headers_free(&req);
  gust_headers_free(&resp);
  gust_headers_free(&got);
  gust_buf_free(&out);
  gust_buf_free(&body);
  gust_h1_free(srv);
  gust_h1_free(cli);
}

static void test_resp_failmem(void) {
  unsigned long at;
  int bad = 0, failed = 0;
  static char page[4000];
  text((uint8_t *)page, sizeof(page));
  for (at = 1; at < 30; at++) {
    gust_failmem fm;
    gust_headers hd;
    gust_buf out;
    gust_zip_resp *r = NULL;
    int rc;
    gust_failmem_init(&fm, NULL);
    gust_headers_init(&hd, &fm.mem);
    gust_buf_init(&out, &fm.mem);
    gust_headers_add_str(&hd, "Content-Type", "text/plain");
    gust_headers_add_str(&hd, "Content-Length", "4000");
    gust_headers_add_str(&hd, "Vary", "Cookie");
    gust_failmem_reset(&fm, at);
    rc = gust_zip_resp_new(&r, &fm.mem, "gzip", 4);
    if (rc == 0)
      rc = gust_zip_resp_first(r, &hd, page, 2000, 0, &out);
    if (rc == 0)
      rc = gust_zip_resp_chunk(r, page + 2000, 2000, 1, &out);
    if (fm.failures > 0) {
      failed = 1;
      if (rc != GUST_ENOMEM)
        bad++;
    } else if (rc != 0) {
      bad++;
    }
    gust_zip_resp_free(r);
    gust_headers_free(&hd);
    gust_buf_free(&out);
    if (fm.live_blocks != 0)
      bad++;
  }
  is_int(bad, 0, "response transform: allocation failures handled, no leak");
  ok(failed, "failures were injected");
}

int main(void) {
  if (tap_group("request"))
    test_request();
  if (tap_group("body"))
    test_body_flags_and_failmem();
  if (tap_group("response"))
    test_response();
  if (tap_group("end_to_end"))
    test_end_to_end();
  if (tap_group("resp_failmem"))
    test_resp_failmem();
  return done_testing();
}
