/* Tests of the HTTP/1.1 connection state machine: pipelining, keep-alive,
 * 100-continue, upgrade and CONNECT, EOF handling, error responses, the
 * head/target/field limits and allocation failures over a full exchange. */
#include <gust/http1.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tap.h"
#include "http1_drive.h"

#define GET    "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
#define GET_EV "REQ GET / 1.1 KL0 [Host=a]"

static gust_h1 *server(void) {
  gust_h1 *h;
  if (gust_h1_new(&h, GUST_H1_SERVER, NULL, NULL) != 0)
    bail_out("gust_h1_new");
  return h;
}

static int next(gust_h1 *h) {
  gust_h1_event ev;
  return gust_h1_next_event(h, &ev);
}

static int out_is(gust_h1 *h, const char *want, const char *name) {
  gust_slice s = gust_h1_pending_output(h);
  int r = cmp_mem(s.ptr, s.len, want, strlen(want), "%s", name);
  gust_h1_consume_output(h, s.len);
  return r;
}

static int respond(gust_h1 *h, int status, const char *cl) {
  gust_headers hs;
  int rc;
  gust_headers_init(&hs, NULL);
  if (cl != NULL)
    gust_headers_add_str(&hs, "Content-Length", cl);
  rc = gust_h1_send_response(h, status, NULL, &hs);
  gust_headers_free(&hs);
  return rc;
}

static void pipelining(void) {
  drive_opts o = server_opts();
  gust_h1 *h;
  gust_h1_event ev;
  static const char two[] = GET "GET /2 HTTP/1.1\r\nHost: a\r\n\r\n";
  if (!tap_group("pipelining"))
    return;
  check_str("pipelining: request triple", &o,
            GET "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
                "GET /3 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
                "GET /4 HTTP/1.1\r\nHost: a\r\n\r\n",
            GET_EV " | END | REQ POST /p 1.1 KL3 [Host=a] [Content-Length=3] | "
                   "D:abc | END | REQ GET /3 1.1 L0 [Host=a] "
                   "[Connection=close] | END | CLOSED");
  o.respond = 0;
  check_str("pipelining: no answer, no next request", &o, two,
            GET_EV " | END | PAUSED");

  h = server();
  gust_h1_feed(h, two, strlen(two));
  is_int(next(h), GUST_H1_REQUEST, "pipelining: first request");
  is_int(next(h), GUST_H1_END_MESSAGE, "pipelining: first ends");
  is_int(next(h), GUST_H1_PAUSED, "pipelining: paused while answering");
  is_int(next(h), GUST_H1_PAUSED, "pipelining: still paused");
  ok(respond(h, 200, "2") == 0, "pipelining: response head queued");
  is_int(next(h), GUST_H1_PAUSED, "pipelining: paused until the body ends");
  ok(gust_h1_send_data(h, "ok", 2) == 0 && gust_h1_send_end(h) == 0,
     "pipelining: response body queued");
  out_is(h, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
         "pipelining: first response bytes");
  is_int(gust_h1_next_event(h, &ev), GUST_H1_REQUEST,
         "pipelining: second request after the response");
  cmp_mem(ev.target.ptr, ev.target.len, "/2", 2, "pipelining: its target");
  gust_h1_free(h);
}

static void keepalive(void) {
  gust_h1 *h;
  static const char r10[] = "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
  if (!tap_group("keepalive"))
    return;
  h = server();
  gust_h1_feed(h, r10, strlen(r10));
  next(h);
  next(h);
  respond(h, 200, "0");
  gust_h1_send_end(h);
  out_is(
      h,
      "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n",
      "keepalive: HTTP/1.0 keep-alive answered with Connection: keep-alive");
  ok(gust_h1_keep_alive(h), "keepalive: connection stays open");
  is_int(next(h), GUST_H1_NEED_DATA, "keepalive: waits for the next request");
  gust_h1_free(h);

  h = server();
  gust_h1_feed(h, "GET / HTTP/1.0\r\n\r\n", 18);
  next(h);
  next(h);
  respond(h, 200, NULL);
  gust_h1_send_data(h, "abc", 3);
  gust_h1_send_end(h);
  out_is(h, "HTTP/1.1 200 OK\r\n\r\nabc",
         "keepalive: HTTP/1.0 body without length is delimited by the close");
  is_int(next(h), GUST_H1_CLOSED, "keepalive: then the connection closes");
  gust_h1_free(h);

  h = server();
  gust_h1_feed(h, GET, strlen(GET));
  next(h);
  {
    gust_headers hs;
    gust_headers_init(&hs, NULL);
    gust_headers_add_str(&hs, "Connection", "close");
    gust_headers_add_str(&hs, "Content-Length", "0");
    gust_h1_send_response(h, 200, NULL, &hs);
    gust_headers_free(&hs);
  }
  gust_h1_send_end(h);
  out_is(h, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
         "keepalive: application's Connection: close kept, not doubled");
  next(h);
  is_int(next(h), GUST_H1_CLOSED, "keepalive: and the connection closes");
  gust_h1_free(h);

  h = server();
  gust_h1_feed(h, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nab",
               49);
  next(h);
  next(h);
  respond(h, 413, "0");
  gust_h1_send_end(h);
  is_int(next(h), GUST_H1_CLOSED,
         "keepalive: answered before the body was read -> close (P6)");
  gust_h1_free(h);
}

static void expect(void) {
  gust_h1 *h;
  gust_h1_event ev;
  static const char req[] = "POST / HTTP/1.1\r\nHost: a\r\nExpect: "
                            "100-continue\r\nContent-Length: 2\r\n\r\n";
  if (!tap_group("expect"))
    return;
  h = server();
  gust_h1_feed(h, req, strlen(req));
  gust_h1_next_event(h, &ev);
  ok(ev.head & GUST_H1_HEAD_EXPECT_100, "expect: the head asks for 100");
  is_int(next(h), GUST_H1_NEED_DATA, "expect: body not here yet");
  ok(gust_h1_send_continue(h) == 0, "expect: send_continue");
  out_is(h, "HTTP/1.1 100 Continue\r\n\r\n", "expect: 100 Continue bytes");
  gust_h1_send_continue(h);
  out_is(h, "", "expect: 100 sent only once");
  gust_h1_feed(h, "hi", 2);
  is_int(next(h), GUST_H1_DATA, "expect: then the body");
  gust_h1_free(h);

  h = server();
  gust_h1_feed(h, req, strlen(req));
  next(h);
  respond(h, 417, "0");
  gust_h1_send_continue(h);
  out_is(h, "HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n\r\n",
         "expect: no 100 once a final status was chosen");
  gust_h1_free(h);

  h = server();
  gust_h1_feed(h, req, strlen(req));
  next(h);
  gust_h1_set_max_body(h, 1);
  ok(gust_h1_send_continue(h) == 0, "expect: send_continue over the limit");
  out_is(h, "", "expect: no 100 for a body over the limit");
  gust_h1_next_event(h, &ev);
  is_int(ev.type, GUST_H1_ERROR, "expect: that body is refused");
  is_int(ev.http_status, 413, "expect: with 413");
  gust_h1_free(h);

  h = server();
  gust_h1_feed(h, req, strlen(req));
  next(h);
  gust_h1_set_max_body(h, 2);
  gust_h1_send_continue(h);
  out_is(h, "HTTP/1.1 100 Continue\r\n\r\n",
         "expect: 100 for a body at the limit");
  gust_h1_free(h);

  h = server();
  gust_h1_feed(h, GET, strlen(GET));
  next(h);
  gust_h1_send_continue(h);
  out_is(h, "", "expect: no 100 without the expectation");
  gust_h1_free(h);

  h = server();
  gust_h1_feed(h, req, strlen(req));
  next(h);
  respond(h, 100, NULL);
  respond(h, 200, "0");
  gust_h1_send_end(h);
  out_is(h,
         "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: "
         "0\r\n\r\n",
         "expect: interim response then the final one");
  gust_h1_free(h);
}

static void upgrade(void) {
  drive_opts o = server_opts();
  gust_h1 *h;
  gust_h1_event ev;
  static const char up[] = "GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: "
                           "websocket\r\nConnection: Upgrade\r\n\r\n\x81\x85";
  if (!tap_group("upgrade"))
    return;
  o.respond = 2;
  check_str("upgrade: bytes after the head go to the new protocol", &o, up,
            "REQ GET /chat 1.1 KL0G [Host=a] [Upgrade=websocket] "
            "[Connection=Upgrade] | END | SW:\\x81\\x85");
  check_str("upgrade: CONNECT 200 opens a tunnel", &o,
            "CONNECT h:1 HTTP/1.1\r\nHost: h:1\r\n\r\nTLS",
            "REQ CONNECT h:1 1.1 KL0N [Host=h:1] | END | SW:TLS");
  o.respond = 1;
  check_str(
      "upgrade: declined upgrade continues as HTTP", &o,
      "GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: "
      "Upgrade\r\n\r\n" GET,
      "REQ GET /chat 1.1 KL0G [Host=a] [Upgrade=websocket] "
      "[Connection=Upgrade] | END | " GET_EV " | END | NEED");

  h = server();
  gust_h1_feed(h, up, strlen(up));
  next(h);
  next(h);
  is_int(next(h), GUST_H1_PAUSED, "upgrade: paused until the answer");
  {
    gust_headers hs;
    gust_headers_init(&hs, NULL);
    gust_headers_add_str(&hs, "Upgrade", "websocket");
    gust_headers_add_str(&hs, "Connection", "Upgrade");
    ok(gust_h1_send_response(h, 101, NULL, &hs) == 0, "upgrade: 101 queued");
    gust_headers_free(&hs);
  }
  out_is(h,
         "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
         "Connection: Upgrade\r\n\r\n",
         "upgrade: 101 bytes");
  is_int(gust_h1_next_event(h, &ev), GUST_H1_SWITCHED, "upgrade: switched");
  cmp_mem(ev.data.ptr, ev.data.len, "\x81\x85", 2, "upgrade: leftover bytes");
  gust_h1_feed(h, "more", 4);
  is_int(gust_h1_next_event(h, &ev), GUST_H1_SWITCHED,
         "upgrade: later bytes pass through");
  cmp_mem(ev.data.ptr, ev.data.len, "more", 4, "upgrade: as they came");
  gust_h1_free(h);

  h = server();
  gust_h1_feed(h, GET, strlen(GET));
  next(h);
  is_int(gust_h1_send_response(h, 101, NULL, NULL), GUST_EINVAL,
         "upgrade: 101 refused without an upgrade request");
  gust_h1_free(h);
}

static void eof(void) {
  drive_opts o = server_opts();
  gust_h1 *h;
  if (!tap_group("eof"))
    return;
  o.eof = 1;
  check_str("eof: between requests closes", &o, GET, GET_EV " | END | CLOSED");
  check_str("eof: inside a head is an error", &o, "GET / HT",
            "ERR 0 GUST_EHTTP_TRUNCATED @8");
  check_str("eof: inside a body is an error", &o,
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nab",
            "REQ POST / 1.1 KL5 [Host=a] [Content-Length=5] | D:ab | "
            "ERR 0 GUST_EHTTP_TRUNCATED @49");
  check_str("eof: after empty lines closes", &o, "\r\n\r\n", "CLOSED");

  h = server();
  gust_h1_feed(h, GET, strlen(GET));
  gust_h1_feed_eof(h, 0);
  next(h);
  next(h);
  is_int(next(h), GUST_H1_PAUSED,
         "eof: half-closed client still gets its response");
  respond(h, 204, NULL);
  gust_h1_send_end(h);
  is_int(next(h), GUST_H1_CLOSED, "eof: then the connection closes");
  is_int(gust_h1_feed(h, "x", 1), GUST_ESTATE, "eof: no feeding after EOF");
  gust_h1_free(h);
}

static void errors(void) {
  gust_h1 *h;
  gust_h1_event ev;
  if (!tap_group("errors"))
    return;
  h = server();
  gust_h1_feed(h, "GET / HTTP/2.0\r\n\r\n", 18);
  is_int(gust_h1_next_event(h, &ev), GUST_H1_ERROR, "errors: error event");
  is_int(ev.http_status, 505, "errors: 505 hint");
  is_str(ev.message, "HTTP version not supported", "errors: message");
  ok(gust_is_fatal(ev.code), "errors: fatal code");
  is_int(gust_h1_next_event(h, &ev), GUST_H1_ERROR, "errors: error is sticky");
  is_int(gust_h1_feed(h, "x", 1), GUST_EHTTP_VERSION,
         "errors: feed answers with the error");
  is_int(gust_h1_send_response(h, 200, NULL, NULL), GUST_ESTATE,
         "errors: no normal response after an error");
  ok(gust_h1_send_error(h) == 0, "errors: send_error");
  out_is(h,
         "HTTP/1.1 505 HTTP Version Not Supported\r\nConnection: "
         "close\r\nContent-Length: 0\r\n\r\n",
         "errors: error response bytes");
  is_int(gust_h1_send_error(h), GUST_ESTATE, "errors: only one error response");
  ok(!gust_h1_keep_alive(h), "errors: connection does not persist");
  gust_h1_free(h);

  {
    gust_h1_config cfg;
    gust_h1_config_init(&cfg);
    cfg.flags = GUST_H1_TORNADO_ERRORS;
    if (gust_h1_new(&h, GUST_H1_SERVER, &cfg, NULL) != 0)
      bail_out("gust_h1_new");
    gust_h1_feed(h, "GET / HTTP/1.1\r\n\r\n", 18);
    gust_h1_next_event(h, &ev);
    is_int(ev.http_status, 400, "errors: missing Host is a 400");
    gust_h1_send_error(h);
    out_is(h, "HTTP/1.1 400 Bad Request\r\n\r\n",
           "errors: Tornado-compat error bytes");
    gust_h1_free(h);
  }
}

/* A request whose head is exactly `size` bytes with `nfields` fields. */
static char *head_of(size_t size, size_t nfields, size_t *len) {
  char *b = malloc(size + nfields * 16 + 64), *p = b;
  size_t i, used;
  p += sprintf(p, "GET / HTTP/1.1\r\nHost: a\r\n");
  for (i = 1; i < nfields; i++)
    p += sprintf(p, "X%zu: v\r\n", i % 10);
  used = (size_t)(p - b);
  if (size > used + 2) {
    /* pad the last field: "P: " + filler + CRLF */
    size_t fill = size - used - 2 - 5;
    memcpy(p, "P: ", 3);
    p += 3;
    memset(p, 'x', fill);
    p += fill;
    memcpy(p, "\r\n", 2);
    p += 2;
  }
  memcpy(p, "\r\n", 2);
  p += 2;
  *len = (size_t)(p - b);
  return b;
}

/* C7 is checked when the body starts, so the application can move the
 * limit for one request after its REQUEST event (set_max_body_size). */
static void body_limit_per_request(void) {
  gust_h1 *h = server();
  gust_h1_event ev;
  static const char big[] =
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 104857601\r\n\r\nxy";
  static const char small[] =
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789"
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789";
  gust_h1_feed(h, big, sizeof(big) - 1);
  is_int(gust_h1_next_event(h, &ev), GUST_H1_REQUEST,
         "limits: a Content-Length over the limit still gives its head");
  gust_h1_set_max_body(h, 200000000);
  is_int(gust_h1_next_event(h, &ev), GUST_H1_DATA,
         "limits: a raised per-request limit lets its body through");
  is_int((int)ev.data.len, 2, "limits: with the bytes that came");
  gust_h1_free(h);

  h = server();
  gust_h1_feed(h, small, sizeof(small) - 1);
  is_int(gust_h1_next_event(h, &ev), GUST_H1_REQUEST,
         "limits: small request head");
  gust_h1_set_max_body(h, 9);
  is_int(gust_h1_next_event(h, &ev), GUST_H1_ERROR,
         "limits: a lowered per-request limit refuses the body");
  is_int(ev.http_status, 413, "limits: with 413");
  is_int(ev.code, GUST_EHTTP_BODY_SIZE, "limits: and GUST_EHTTP_BODY_SIZE");
  gust_h1_free(h);

  h = server();
  gust_h1_feed(h, small, sizeof(small) - 1);
  gust_h1_next_event(h, &ev);
  gust_h1_set_max_body(h, 10);
  is_int(gust_h1_next_event(h, &ev), GUST_H1_DATA,
         "limits: a body exactly at the per-request limit is read");
  is_int(gust_h1_next_event(h, &ev), GUST_H1_END_MESSAGE, "limits: and ends");
  respond(h, 200, "0");
  gust_h1_send_end(h);
  gust_h1_consume_output(h, gust_h1_pending_output(h).len);
  is_int(gust_h1_next_event(h, &ev), GUST_H1_REQUEST, "limits: next request");
  is_int(gust_h1_next_event(h, &ev), GUST_H1_DATA,
         "limits: the per-request limit went back to the configured one");
  gust_h1_free(h);
}

/* gust_h1_reset(): a state machine taken back from any state reads a new
 * connection from its start. */
static void reset(void) {
  gust_h1 *h = server();
  gust_h1_event ev;
  static const char bad[] = "GET / HTTP/1.1\r\nHost: a\r\nBad Field\r\n\r\n";
  gust_h1_feed(h, bad, sizeof(bad) - 1);
  is_int(gust_h1_next_event(h, &ev), GUST_H1_ERROR, "reset: an error first");
  gust_h1_send_error(h);
  gust_h1_reset(h);
  ok(gust_h1_pending_output(h).len == 0 && gust_h1_unread(h).len == 0,
     "reset: no output and no input left");
  is_int(gust_h1_keep_alive(h), 1, "reset: keep-alive again");
  gust_h1_feed(h, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi",
               49);
  is_int(gust_h1_next_event(h, &ev), GUST_H1_REQUEST,
         "reset: a new request after an error");
  is_int(gust_h1_next_event(h, &ev), GUST_H1_DATA, "reset: its body");
  gust_h1_set_max_body(h, 1);
  /* half-way through a response and a body: reset again */
  respond(h, 200, "5");
  gust_h1_reset(h);
  gust_h1_feed(h, GET, strlen(GET));
  is_int(gust_h1_next_event(h, &ev), GUST_H1_REQUEST,
         "reset: mid-exchange, then a new request");
  is_int(gust_h1_next_event(h, &ev), GUST_H1_END_MESSAGE, "reset: which ends");
  respond(h, 204, NULL);
  gust_h1_send_end(h);
  out_is(h, "HTTP/1.1 204 No Content\r\n\r\n",
         "reset: the response is the only output");
  gust_h1_feed_eof(h, 0);
  gust_h1_reset(h);
  gust_h1_feed(
      h, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 104857600\r\n\r\n", 55);
  is_int(gust_h1_next_event(h, &ev), GUST_H1_REQUEST,
         "reset: after EOF, a new connection reads");
  is_int(gust_h1_next_event(h, &ev), GUST_H1_NEED_DATA,
         "reset: the body limit is the configured one again");
  gust_h1_reset(NULL);
  gust_h1_free(h);
}

static void limits(void) {
  drive_opts o = server_opts();
  char name[128], want[128];
  size_t n, len;
  char *b;
  if (!tap_group("limits"))
    return;
  for (n = 65535; n <= 65537; n++) {
    b = head_of(n, 1, &len);
    snprintf(name, sizeof(name), "limits: head of %zu bytes", len);
    if (len <= 65536)
      check_vector(name, &o, b, len, NULL);
    else
      check_vector(name, &o, b, len, "ERR 431 GUST_EHTTP_HEAD_SIZE @65536");
    free(b);
  }
  for (n = 99; n <= 101; n++) {
    b = head_of(0, n, &len);
    snprintf(name, sizeof(name), "limits: %zu fields", n);
    snprintf(want, sizeof(want), "ERR 431 GUST_EHTTP_HEAD_SIZE @%zu",
             len - 2 - 7);
    check_vector(name, &o, b, len, n <= 100 ? NULL : want);
    free(b);
  }
  for (n = 8191; n <= 8193; n++) {
    b = malloc(n + 64);
    len = (size_t)sprintf(b, "GET /");
    memset(b + len, 't', n - 1);
    len += n - 1;
    len += (size_t)sprintf(b + len, " HTTP/1.1\r\nHost: a\r\n\r\n");
    snprintf(name, sizeof(name), "limits: target of %zu bytes", n);
    check_vector(name, &o, b, len,
                 n <= 8192 ? NULL : "ERR 414 GUST_EHTTP_TARGET_SIZE @8196");
    free(b);
  }
  check_str("limits: Content-Length at the body limit", &o,
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 104857600\r\n\r\n",
            "REQ POST / 1.1 KL104857600 [Host=a] [Content-Length=104857600] | "
            "NEED");
  check_str("limits: Content-Length one over", &o,
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 104857601\r\n\r\n",
            "REQ POST / 1.1 KL104857601 [Host=a] [Content-Length=104857601] | "
            "ERR 413 GUST_EHTTP_BODY_SIZE @55");
  body_limit_per_request();
}

/* Client and server talking through their output queues, each allocation
 * failing in turn: every failure is an error, never a crash or a leak. */
static int exchange(const gust_mem *mem) {
  gust_h1 *c = NULL, *s = NULL;
  gust_headers hs;
  gust_h1_event ev;
  gust_slice out;
  size_t i;
  int rc, t, got_body = 0, seen_end = 0;
  gust_headers_init(&hs, NULL);
  if ((rc = gust_h1_new(&c, GUST_H1_CLIENT, NULL, mem)) != 0)
    goto done;
  if ((rc = gust_h1_new(&s, GUST_H1_SERVER, NULL, mem)) != 0)
    goto done;
  gust_headers_add_str(&hs, "Host", "example.com");
  gust_headers_add_str(&hs, "X-Long", "a fairly long header value to copy");
  if ((rc = gust_h1_send_request(c, "POST", "/upload", &hs)) != 0 ||
      (rc = gust_h1_send_data(c, "hello world", 11)) != 0 ||
      (rc = gust_h1_send_end(c)) != 0)
    goto done;
  out = gust_h1_pending_output(c);
  /* feed in small pieces so that the server must keep partial input */
  for (i = 0; i < out.len; i += 7) {
    size_t n = out.len - i < 7 ? out.len - i : 7;
    if ((rc = gust_h1_feed(s, out.ptr + i, n)) != 0)
      goto done;
    while ((t = gust_h1_next_event(s, &ev)) != GUST_H1_NEED_DATA) {
      if (t == GUST_H1_ERROR) {
        rc = ev.code;
        goto done;
      }
      if (t == GUST_H1_DATA)
        got_body += (int)ev.data.len;
      if (t == GUST_H1_END_MESSAGE) {
        gust_headers_clear(&hs);
        gust_headers_add_str(&hs, "Content-Type", "text/plain");
        if ((rc = gust_h1_send_response(s, 200, NULL, &hs)) != 0 ||
            (rc = gust_h1_send_data(s, "done", 4)) != 0 ||
            (rc = gust_h1_send_end(s)) != 0)
          goto done;
      }
    }
  }
  gust_h1_consume_output(c, out.len);
  out = gust_h1_pending_output(s);
  for (i = 0; i < out.len; i += 5) {
    size_t n = out.len - i < 5 ? out.len - i : 5;
    if ((rc = gust_h1_feed(c, out.ptr + i, n)) != 0)
      goto done;
    while ((t = gust_h1_next_event(c, &ev)) != GUST_H1_NEED_DATA) {
      if (t == GUST_H1_ERROR) {
        rc = ev.code;
        goto done;
      }
      if (t == GUST_H1_END_MESSAGE)
        seen_end = 1;
    }
  }
  rc = got_body == 11 && seen_end ? 0 : GUST_EINTERNAL;
done:
  gust_headers_free(&hs);
  gust_h1_free(c);
  gust_h1_free(s);
  return rc;
}

static void failmem(void) {
  gust_failmem fm;
  unsigned long i, total;
  int rc, clean = 1, errs = 1;
  if (!tap_group("failmem"))
    return;
  gust_failmem_init(&fm, NULL);
  rc = exchange(&fm.mem);
  is_int(rc, 0, "failmem: exchange succeeds without failures");
  total = fm.count;
  ok(total > 3, "failmem: the exchange allocates (%lu times)", total);
  is_int(fm.live_blocks, 0, "failmem: nothing leaked");
  for (i = 1; i <= total; i++) {
    gust_failmem_reset(&fm, i);
    rc = exchange(&fm.mem);
    if (fm.failures > 0 && rc != GUST_ENOMEM) {
      diag("failure at allocation %lu gave %s", i, gust_errname(rc));
      errs = 0;
    }
    if (fm.live_blocks != 0) {
      diag("failure at allocation %lu leaked %zu blocks", i, fm.live_blocks);
      clean = 0;
    }
  }
  ok(errs, "failmem: every injected failure surfaces as GUST_ENOMEM");
  ok(clean, "failmem: no leak after any failure");
}

int main(void) {
  pipelining();
  keepalive();
  expect();
  upgrade();
  eof();
  errors();
  limits();
  reset();
  failmem();
  return done_testing();
}
