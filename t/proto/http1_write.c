/* Tests of the HTTP/1.1 serializer: head bytes, framing as Tornado chooses
 * it, Content-Length accounting with Tornado's messages, refusals, and
 * round trips through the parser. */
#include <gust/http1.h>

#include <stdio.h>
#include <string.h>

#include "../tap.h"

static gust_h1 *server_with(const char *req) {
  gust_h1 *h;
  gust_h1_event ev;
  if (gust_h1_new(&h, GUST_H1_SERVER, NULL, NULL) != 0)
    bail_out("gust_h1_new");
  gust_h1_feed(h, req, strlen(req));
  if (gust_h1_next_event(h, &ev) != GUST_H1_REQUEST)
    bail_out("request not parsed: %s", req);
  return h;
}

static gust_h1 *client(void) {
  gust_h1 *h;
  if (gust_h1_new(&h, GUST_H1_CLIENT, NULL, NULL) != 0)
    bail_out("gust_h1_new");
  return h;
}

static void out_is(gust_h1 *h, const char *want, const char *name) {
  gust_slice s = gust_h1_pending_output(h);
  cmp_mem(s.ptr, s.len, want, strlen(want), "%s", name);
  gust_h1_consume_output(h, s.len);
}

/* Answers `req` with `status`, optional Content-Length `cl` and `body`. */
static void answer(const char *req, int status, const char *cl,
                   const char *body, const char *want, const char *name) {
  gust_h1 *h = server_with(req);
  gust_headers hs;
  gust_headers_init(&hs, NULL);
  if (cl != NULL)
    gust_headers_add_str(&hs, "Content-Length", cl);
  gust_h1_send_response(h, status, NULL, &hs);
  if (body != NULL)
    gust_h1_send_data(h, body, strlen(body));
  gust_h1_send_end(h);
  out_is(h, want, name);
  gust_headers_free(&hs);
  gust_h1_free(h);
}

#define G11 "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
#define G10 "GET / HTTP/1.0\r\n\r\n"

static void framing(void) {
  if (!tap_group("framing"))
    return;
  answer(G11, 200, NULL, "hello",
         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"
         "0\r\n\r\n",
         "framing: HTTP/1.1 without length is chunked");
  answer(G11, 200, "5", "hello",
         "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
         "framing: Content-Length given is used");
  answer("HEAD / HTTP/1.1\r\nHost: a\r\n\r\n", 200, "5", NULL,
         "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n",
         "framing: HEAD keeps the length, sends no body");
  answer("HEAD / HTTP/1.1\r\nHost: a\r\n\r\n", 200, NULL, NULL,
         "HTTP/1.1 200 OK\r\n\r\n", "framing: HEAD is never chunked");
  answer(G11, 204, NULL, NULL, "HTTP/1.1 204 No Content\r\n\r\n",
         "framing: 204 has no framing headers");
  answer(G11, 304, NULL, NULL, "HTTP/1.1 304 Not Modified\r\n\r\n",
         "framing: 304 is never chunked");
  answer(G10, 200, NULL, "abc", "HTTP/1.1 200 OK\r\n\r\nabc",
         "framing: HTTP/1.0 peer gets a close-delimited body");
  answer(G11 "", 200, NULL, "",
         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
         "framing: empty writes send no empty chunk");
  answer("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", 200, "0",
         NULL,
         "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
         "framing: Connection: close answered in kind");
  {
    gust_h1 *h = server_with(G11);
    gust_h1_send_response(h, 200, "Fine", NULL);
    gust_h1_send_data(h, "0123456789abcdefX", 17);
    gust_h1_send_end(h);
    out_is(h,
           "HTTP/1.1 200 Fine\r\nTransfer-Encoding: chunked\r\n\r\n11\r\n"
           "0123456789abcdefX\r\n0\r\n\r\n",
           "framing: lowercase hex chunk size, custom reason");
    gust_h1_free(h);
  }
  {
    gust_h1 *h = server_with(G11);
    gust_h1_send_response(h, 599, NULL, NULL);
    gust_h1_send_end(h);
    out_is(h, "HTTP/1.1 599 \r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
           "framing: the SP stays with an empty reason");
    gust_h1_free(h);
  }
}

static void length(void) {
  gust_h1 *h;
  gust_headers hs;
  if (!tap_group("length"))
    return;
  gust_headers_init(&hs, NULL);
  gust_headers_add_str(&hs, "Content-Length", "42");
  h = server_with(G11);
  gust_h1_send_response(h, 200, NULL, &hs);
  gust_h1_send_data(h, "ok", 2);
  is_int(gust_h1_send_end(h), GUST_EHTTP_LENGTH, "length: short body refused");
  is_str(gust_h1_last_error(h),
         "Tried to write 40 bytes less than Content-Length",
         "length: Tornado's message for a short body");
  ok(!gust_h1_keep_alive(h), "length: connection must close");
  is_int(gust_h1_send_data(h, "x", 1), GUST_ESTATE,
         "length: no more writes after the mismatch");
  gust_h1_free(h);

  h = server_with(G11);
  gust_headers_set_str(&hs, "Content-Length", "3");
  gust_h1_send_response(h, 200, NULL, &hs);
  is_int(gust_h1_send_data(h, "abcd", 4), GUST_EHTTP_LENGTH,
         "length: overshoot refused");
  is_str(gust_h1_last_error(h), "Tried to write more data than Content-Length",
         "length: Tornado's message for an overshoot");
  gust_h1_free(h);

  h = server_with("HEAD / HTTP/1.1\r\nHost: a\r\n\r\n");
  gust_h1_send_response(h, 200, NULL, &hs);
  is_int(gust_h1_send_data(h, "abc", 3), GUST_EHTTP_LENGTH,
         "length: no body bytes for HEAD");
  gust_h1_free(h);

  h = client();
  gust_headers_clear(&hs);
  gust_headers_add_str(&hs, "Host", "h");
  gust_headers_add_str(&hs, "Content-Length", "2");
  gust_h1_send_request(h, "PUT", "/", &hs);
  gust_h1_send_data(h, "a", 1);
  is_int(gust_h1_send_end(h), GUST_EHTTP_LENGTH,
         "length: a client's short body is refused too");
  is_str(gust_h1_last_error(h),
         "Tried to write 1 bytes less than Content-Length",
         "length: with the same message");
  gust_h1_free(h);
  gust_headers_free(&hs);
}

static void refusals(void) {
  gust_h1 *h;
  gust_headers hs;
  static const char *const bad_cl[] = {"foo", "+10", "1_0", "-1", ""};
  size_t i;
  if (!tap_group("refusals"))
    return;
  gust_headers_init(&hs, NULL);
  for (i = 0; i < sizeof(bad_cl) / sizeof(bad_cl[0]); i++) {
    h = server_with(G11);
    gust_headers_clear(&hs);
    gust_headers_add_str(&hs, "Content-Length", bad_cl[i]);
    is_int(gust_h1_send_response(h, 200, NULL, &hs), GUST_EINVAL,
           "refusals: Content-Length '%s'", bad_cl[i]);
    out_is(h, "", "refusals: nothing written for it");
    gust_h1_free(h);
  }
  h = server_with(G11);
  is_str(gust_h1_last_error(h), "", "refusals: no error yet");
  gust_headers_clear(&hs);
  gust_headers_add_str(&hs, "Content-Length", "foo");
  gust_h1_send_response(h, 200, NULL, &hs);
  is_str(gust_h1_last_error(h), "Only integer Content-Length is allowed: foo",
         "refusals: Tornado's message");
  gust_headers_clear(&hs);
  gust_headers_add_str(&hs, "Transfer-Encoding", "chunked");
  is_int(gust_h1_send_response(h, 200, NULL, &hs), GUST_EINVAL,
         "refusals: Transfer-Encoding is not the caller's to set");
  gust_headers_clear(&hs);
  gust_headers_add_str(&hs, "X", " padded");
  is_int(gust_h1_send_response(h, 200, NULL, &hs), GUST_EINVAL,
         "refusals: value starting with whitespace");
  gust_headers_clear(&hs);
  gust_headers_add_str(&hs, "X", "padded\t");
  is_int(gust_h1_send_response(h, 200, NULL, &hs), GUST_EINVAL,
         "refusals: value ending with whitespace");
  is_int(gust_h1_send_response(h, 200, "O\r\nK", NULL), GUST_EINVAL,
         "refusals: CR LF in the reason");
  is_int(gust_h1_send_response(h, 99, NULL, NULL), GUST_EINVAL,
         "refusals: status 99");
  is_int(gust_h1_send_response(h, 600, NULL, NULL), GUST_EINVAL,
         "refusals: status 600");
  gust_headers_clear(&hs);
  gust_headers_add_str(&hs, "Content-Length", "0");
  is_int(gust_h1_send_response(h, 204, NULL, &hs), GUST_EINVAL,
         "refusals: Content-Length on 204");
  is_int(gust_h1_send_response(h, 100, NULL, &hs), GUST_EINVAL,
         "refusals: Content-Length on 1xx");
  out_is(h, "", "refusals: nothing written by any of them");
  ok(gust_h1_send_response(h, 200, NULL, NULL) == 0,
     "refusals: connection still usable");
  is_int(gust_h1_send_response(h, 200, NULL, NULL), GUST_ESTATE,
         "refusals: second response head");
  gust_h1_free(h);

  h = client();
  gust_headers_clear(&hs);
  is_int(gust_h1_send_request(h, "GET", "/", &hs), GUST_EINVAL,
         "refusals: request without Host");
  gust_headers_add_str(&hs, "Host", "a");
  gust_headers_add_str(&hs, "Host", "b");
  is_int(gust_h1_send_request(h, "GET", "/", &hs), GUST_EINVAL,
         "refusals: request with two Host");
  gust_headers_clear(&hs);
  gust_headers_add_str(&hs, "Host", "a");
  is_int(gust_h1_send_request(h, "G T", "/", &hs), GUST_EINVAL,
         "refusals: method not a token");
  is_int(gust_h1_send_request(h, "GET", "/a b", &hs), GUST_EINVAL,
         "refusals: space in target");
  is_int(gust_h1_send_request(h, "GET", "/\r\nX: y", &hs), GUST_EINVAL,
         "refusals: CR LF in target");
  is_int(gust_h1_send_request(h, "GET", "", &hs), GUST_EINVAL,
         "refusals: empty target");
  out_is(h, "", "refusals: nothing written for requests");
  is_int(gust_h1_send_response(h, 200, NULL, NULL), GUST_ESTATE,
         "refusals: a client sends no response");
  gust_h1_free(h);
  gust_headers_free(&hs);
}

static void requests(void) {
  gust_h1 *h;
  gust_headers hs;
  if (!tap_group("requests"))
    return;
  gust_headers_init(&hs, NULL);
  gust_headers_add_str(&hs, "Host", "example.com");
  h = client();
  gust_h1_send_request(h, "POST", "/p", &hs);
  gust_h1_send_data(h, "abc", 3);
  gust_h1_send_end(h);
  out_is(h,
         "POST /p HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: "
         "chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
         "requests: POST without length is chunked");
  gust_h1_free(h);
  h = client();
  gust_h1_send_request(h, "GET", "/g?x=1", &hs);
  is_int(gust_h1_send_data(h, "x", 1), GUST_EHTTP_LENGTH,
         "requests: GET has no body");
  gust_h1_free(h);
  h = client();
  gust_h1_send_request(h, "DELETE", "/d", &hs);
  gust_h1_send_end(h);
  out_is(h, "DELETE /d HTTP/1.1\r\nHost: example.com\r\n\r\n",
         "requests: DELETE without body");
  is_int(gust_h1_send_request(h, "GET", "/", &hs), GUST_ESTATE,
         "requests: one request at a time");
  gust_h1_free(h);
  gust_headers_free(&hs);
}

/* parse(serialize(x)) gives x back, for both directions. */
static void roundtrip(void) {
  gust_h1 *c, *s;
  gust_headers hs;
  gust_h1_event ev;
  gust_slice out;
  char body[300];
  size_t i, got = 0;
  int t, ok_body = 1;
  if (!tap_group("roundtrip"))
    return;
  for (i = 0; i < sizeof(body); i++)
    body[i] = (char)('a' + i % 26);
  gust_headers_init(&hs, NULL);
  gust_headers_add_str(&hs, "Host", "example.com");
  gust_headers_add_str(&hs, "X-Obs", "caf\xc3\xa9 \t value");
  gust_headers_add_str(&hs, "Set-Cookie", "a=1");
  gust_headers_add_str(&hs, "Set-Cookie", "b=2");
  c = client();
  if (gust_h1_new(&s, GUST_H1_SERVER, NULL, NULL) != 0)
    bail_out("gust_h1_new");
  gust_h1_send_request(c, "PATCH", "/r?q=%20", &hs);
  gust_h1_send_data(c, body, 100);
  gust_h1_send_data(c, body + 100, 200);
  gust_h1_send_end(c);
  out = gust_h1_pending_output(c);
  gust_h1_feed(s, out.ptr, out.len);
  t = gust_h1_next_event(s, &ev);
  is_int(t, GUST_H1_REQUEST, "roundtrip: request parsed");
  cmp_mem(ev.method.ptr, ev.method.len, "PATCH", 5, "roundtrip: method");
  cmp_mem(ev.target.ptr, ev.target.len, "/r?q=%20", 8, "roundtrip: target");
  is_int(ev.nfields, 5, "roundtrip: four fields plus Transfer-Encoding");
  if (ev.nfields >= 2)
    cmp_mem(ev.fields[1].value.ptr, ev.fields[1].value.len,
            "caf\xc3\xa9 \t value", 13, "roundtrip: obs-text value intact");
  ok(ev.head & GUST_H1_HEAD_CHUNKED, "roundtrip: chunked");
  while ((t = gust_h1_next_event(s, &ev)) == GUST_H1_DATA) {
    if (got + ev.data.len > sizeof(body) ||
        memcmp(ev.data.ptr, body + got, ev.data.len) != 0)
      ok_body = 0;
    got += ev.data.len;
  }
  ok(ok_body && got == sizeof(body), "roundtrip: body intact");
  is_int(t, GUST_H1_END_MESSAGE, "roundtrip: request ends");
  gust_h1_consume_output(c, out.len);

  gust_headers_clear(&hs);
  gust_headers_add_str(&hs, "Content-Type", "text/plain");
  gust_h1_send_response(s, 201, NULL, &hs);
  gust_h1_send_data(s, body, 10);
  gust_h1_send_end(s);
  out = gust_h1_pending_output(s);
  gust_h1_feed(c, out.ptr, out.len);
  t = gust_h1_next_event(c, &ev);
  is_int(t, GUST_H1_RESPONSE, "roundtrip: response parsed");
  is_int(ev.status, 201, "roundtrip: status");
  cmp_mem(ev.reason.ptr, ev.reason.len, "Created", 7, "roundtrip: reason");
  t = gust_h1_next_event(c, &ev);
  is_int(t, GUST_H1_DATA, "roundtrip: response data");
  cmp_mem(ev.data.ptr, ev.data.len, body, 10, "roundtrip: response body");
  is_int(gust_h1_next_event(c, &ev), GUST_H1_END_MESSAGE,
         "roundtrip: response ends");
  is_int(gust_h1_next_event(c, &ev), GUST_H1_NEED_DATA,
         "roundtrip: client ready for the next exchange");
  is_int(gust_h1_next_event(s, &ev), GUST_H1_NEED_DATA,
         "roundtrip: server ready for the next request");
  ok(gust_h1_keep_alive(c) && gust_h1_keep_alive(s),
     "roundtrip: both sides keep the connection");
  gust_h1_free(c);
  gust_h1_free(s);
  gust_headers_free(&hs);
}

static void names(void) {
  if (!tap_group("names"))
    return;
  is_str(gust_h1_reason(431), "Request Header Fields Too Large",
         "names: reason 431");
  is_str(gust_h1_reason(299), "", "names: unknown reason is empty");
  is_str(gust_h1_event_name(GUST_H1_PAUSED), "PAUSED", "names: event name");
  is_str(gust_h1_event_name(99), "?", "names: unknown event");
  is_str(gust_strerror(GUST_EHTTP_HEAD_SIZE), "HTTP message head too large",
         "names: error message");
}

static gust_h1_field fld(const char *n, const char *v) {
  gust_h1_field f;
  f.name.ptr = (const uint8_t *)n;
  f.name.len = strlen(n);
  f.value.ptr = (const uint8_t *)v;
  f.value.len = strlen(v);
  return f;
}

/* gust_h1_send_response_fields(): the same head as from a multimap, the
 * same checks. */
static void field_arrays(void) {
  static const char get[] = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  gust_h1_field f[3];
  gust_h1 *h = server_with(get);
  f[0] = fld("Content-Type", "text/plain");
  f[1] = fld("Content-Length", "5");
  f[2] = fld("X-A", "");
  is_int(gust_h1_send_response_fields(h, 200, NULL, f, 3), 0,
         "fields: accepted");
  gust_h1_send_data(h, "hello", 5);
  gust_h1_send_end(h);
  out_is(h,
         "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
         "Content-Length: 5\r\nX-A: \r\n\r\nhello",
         "fields: head and body");
  gust_h1_free(h);

  h = server_with(get);
  is_int(gust_h1_send_response_fields(h, 204, "Nothing", NULL, 0), 0,
         "fields: none at all");
  out_is(h, "HTTP/1.1 204 Nothing\r\n\r\n", "fields: bare head");
  gust_h1_free(h);

  h = server_with(get);
  is_int(gust_h1_send_response_fields(h, 200, NULL, NULL, 1), GUST_EINVAL,
         "fields: NULL array with a count is GUST_EINVAL");
  f[0] = fld("Bad Name", "x");
  is_int(gust_h1_send_response_fields(h, 200, NULL, f, 1), GUST_EINVAL,
         "fields: a name that is not a token is refused");
  f[0] = fld("X-Split", "a\r\nSet-Cookie: evil=1");
  is_int(gust_h1_send_response_fields(h, 200, NULL, f, 1), GUST_EINVAL,
         "fields: CR LF in a value is refused");
  is_str(gust_h1_last_error(h),
         "Illegal characters (CR or LF) in header: X-Split",
         "fields: with Tornado's message");
  f[0] = fld("Transfer-Encoding", "chunked");
  is_int(gust_h1_send_response_fields(h, 200, NULL, f, 1), GUST_EINVAL,
         "fields: Transfer-Encoding is refused");
  f[0] = fld("Content-Length", "1");
  f[1] = fld("Content-Length", "1");
  is_int(gust_h1_send_response_fields(h, 200, NULL, f, 2), GUST_EINVAL,
         "fields: two Content-Lengths are refused");
  ok(gust_h1_pending_output(h).len == 0, "fields: refusals queue nothing");
  f[0] = fld("Connection", "close");
  is_int(gust_h1_send_response_fields(h, 200, NULL, f, 1), 0,
         "fields: after refusals, a good head");
  gust_h1_send_end(h);
  out_is(h,
         "HTTP/1.1 200 OK\r\nConnection: close\r\n"
         "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
         "fields: Connection: close honoured, chunked framing");
  is_int(gust_h1_keep_alive(h), 0, "fields: and the connection closes");
  gust_h1_free(h);
}

int main(void) {
  framing();
  length();
  refusals();
  requests();
  roundtrip();
  names();
  field_arrays();
  return done_testing();
}
