/* Allocation-failure torture of the HTTP/1.1 connection over chunked
 * exchanges: both serializers, both parsers, chunk extensions, trailers,
 * keep-alive and pipelining (torture.h says what each run checks). */
#include "torture.h"

#include <gust/http1.h>

#include <string.h>

typedef struct side {
  gust_h1 *h;
  char body[256];
  size_t body_len;
  int messages;
  size_t trailers;
} side;

/* Feeds `p[0..n)` in pieces of `step` bytes and drains the events; the
 * server answers each request (chunked for POST, Content-Length else). */
static int pump(side *s, const gust_mem *mem, const uint8_t *p, size_t n,
                size_t step, int server) {
  gust_h1_event ev;
  size_t i = 0;
  int rc, t;
  for (;;) {
    while ((t = gust_h1_next_event(s->h, &ev)) != GUST_H1_NEED_DATA) {
      if (t == GUST_H1_ERROR)
        return ev.code;
      if (t == GUST_H1_CLOSED || t == GUST_H1_SWITCHED)
        return GUST_EINTERNAL;
      if (t == GUST_H1_PAUSED)
        return GUST_EINTERNAL; /* every request is answered at its end */
      if (t == GUST_H1_DATA) {
        if (s->body_len + ev.data.len > sizeof(s->body))
          return GUST_EINTERNAL;
        memcpy(s->body + s->body_len, ev.data.ptr, ev.data.len);
        s->body_len += ev.data.len;
      }
      if (t == GUST_H1_TRAILERS)
        s->trailers += ev.nfields;
      if (t == GUST_H1_END_MESSAGE) {
        s->messages++;
        if (server) {
          gust_headers hs;
          gust_headers_init(&hs, mem);
          rc = gust_headers_add_str(&hs, "X-Seq", s->messages == 1 ? "1" : "2");
          if (rc == 0 && s->messages > 1)
            rc = gust_headers_add_str(&hs, "Content-Length", "4");
          if (rc == 0)
            rc = gust_h1_send_response(s->h, 200, NULL, &hs);
          gust_headers_free(&hs);
          if (rc == 0 && s->messages == 1)
            rc = gust_h1_send_data(s->h, "chunk-one,", 10);
          if (rc == 0)
            rc = gust_h1_send_data(s->h, "done", 4);
          if (rc == 0)
            rc = gust_h1_send_end(s->h);
          if (rc != 0)
            return rc;
        }
      }
    }
    if (i == n)
      return 0;
    t = (int)(n - i < step ? n - i : step);
    if ((rc = gust_h1_feed(s->h, p + i, (size_t)t)) != 0)
      return rc;
    i += (size_t)t;
  }
}

/* Client and server: a chunked POST written in three pieces, then a GET on
 * the same connection; the server answers chunked, then with a length. */
static int conversation(const gust_mem *mem, void *ud) {
  side c, s;
  gust_headers hs;
  gust_slice out;
  int rc;
  (void)ud;
  memset(&c, 0, sizeof(c));
  memset(&s, 0, sizeof(s));
  gust_headers_init(&hs, mem);
  if ((rc = gust_h1_new(&c.h, GUST_H1_CLIENT, NULL, mem)) != 0 ||
      (rc = gust_h1_new(&s.h, GUST_H1_SERVER, NULL, mem)) != 0)
    goto done;
  if ((rc = gust_headers_add_str(&hs, "Host", "example.com")) != 0 ||
      (rc = gust_headers_add_str(&hs, "X-Long",
                                 "a header value long enough to copy")) != 0 ||
      (rc = gust_h1_send_request(c.h, "POST", "/upload?x=1", &hs)) != 0 ||
      (rc = gust_h1_send_data(c.h, "hello ", 6)) != 0 ||
      (rc = gust_h1_send_data(c.h, "chunked ", 8)) != 0 ||
      (rc = gust_h1_send_data(c.h, "world", 5)) != 0 ||
      (rc = gust_h1_send_end(c.h)) != 0)
    goto done;
  out = gust_h1_pending_output(c.h);
  if ((rc = pump(&s, mem, out.ptr, out.len, 5, 1)) != 0)
    goto done;
  gust_h1_consume_output(c.h, out.len);
  out = gust_h1_pending_output(s.h);
  if ((rc = pump(&c, mem, out.ptr, out.len, 3, 0)) != 0)
    goto done;
  gust_h1_consume_output(s.h, out.len);
  /* second exchange on the same connection */
  if ((rc = gust_h1_send_request(c.h, "GET", "/again", &hs)) != 0 ||
      (rc = gust_h1_send_end(c.h)) != 0)
    goto done;
  out = gust_h1_pending_output(c.h);
  if ((rc = pump(&s, mem, out.ptr, out.len, 1, 1)) != 0)
    goto done;
  gust_h1_consume_output(c.h, out.len);
  out = gust_h1_pending_output(s.h);
  if ((rc = pump(&c, mem, out.ptr, out.len, 7, 0)) != 0)
    goto done;
  gust_h1_consume_output(s.h, out.len);
  rc = s.messages == 2 && c.messages == 2 && s.body_len == 19 &&
               memcmp(s.body, "hello chunked world", 19) == 0 &&
               c.body_len == 18 && memcmp(c.body, "chunk-one,donedone", 18) == 0
           ? 0
           : GUST_EINTERNAL;
done:
  gust_headers_free(&hs);
  gust_h1_free(c.h);
  gust_h1_free(s.h);
  return rc;
}

/* A server reading a chunked request with extensions and trailers, and a
 * pipelined request behind it, four bytes at a time. */
static int trailers(const gust_mem *mem, void *ud) {
  static const char in[] =
      "POST /t HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;name=value;q=\"quoted\"\r\nhello\r\n"
      "000a\r\n, trailers\r\n"
      "0\r\nX-Checksum: abc\r\nX-More: def\r\n\r\n"
      "GET /next HTTP/1.1\r\nHost: a\r\n\r\n";
  side s;
  int rc;
  (void)ud;
  memset(&s, 0, sizeof(s));
  if ((rc = gust_h1_new(&s.h, GUST_H1_SERVER, NULL, mem)) != 0)
    return rc;
  rc = pump(&s, mem, (const uint8_t *)in, sizeof(in) - 1, 4, 1);
  if (rc == 0)
    rc = s.messages == 2 && s.trailers == 2 && s.body_len == 15 &&
                 memcmp(s.body, "hello, trailers", 15) == 0
             ? 0
             : GUST_EINTERNAL;
  gust_h1_free(s.h);
  return rc;
}

int main(void) {
  if (tap_group("conversation"))
    torture("http1 chunked conversation", conversation, NULL);
  if (tap_group("trailers"))
    torture("http1 chunked trailers", trailers, NULL);
  return done_testing();
}
