/* Tests of the HTTP server's request object, built from heads the
 * HTTP/1.1 state machine really parsed. */
#include <gust/httpserver.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tap.h"
#include "http/request_int.h"

/* Parses `len` bytes of `raw` (one request), fed `step` bytes at a time
 * (0: all at once) from a private copy, and builds the request from the
 * events with `env`. The copy is scribbled over and freed before this
 * returns, so the request must have copied what it keeps. Returns 0 or the
 * first error. */
static int build_step(const char *raw, size_t len, size_t step,
                      const gust__http_req_env *env, const gust_mem *mem,
                      gust_http_request **out) {
  gust_h1 *h = NULL;
  gust_h1_event ev;
  gust_http_request *req = NULL;
  char *copy = malloc(len != 0 ? len : 1);
  size_t fed = 0;
  int rc = 0, type;
  *out = NULL;
  if (copy == NULL || gust_h1_new(&h, GUST_H1_SERVER, NULL, NULL) != 0)
    bail_out("out of memory");
  memcpy(copy, raw, len);
  if (step == 0)
    step = len;
  for (;;) {
    type = gust_h1_next_event(h, &ev);
    if (type == GUST_H1_NEED_DATA && fed < len) {
      size_t n = len - fed < step ? len - fed : step;
      if (gust_h1_feed(h, copy + fed, n) != 0)
        bail_out("gust_h1_feed");
      fed += n;
      continue;
    }
    if (type == GUST_H1_REQUEST) {
      rc = gust__http_request_new(&req, mem, &ev, env);
    } else if (type == GUST_H1_DATA) {
      rc = gust__http_request_append_body(req, ev.data.ptr, ev.data.len);
    } else if (type == GUST_H1_TRAILERS) {
      rc = gust__http_request_set_trailers(req, ev.fields, ev.nfields);
    } else if (type == GUST_H1_END_MESSAGE) {
      break;
    } else {
      rc = GUST_EINTERNAL;
      diag("unexpected event %d", type);
    }
    if (rc != 0)
      break;
  }
  gust_h1_free(h);
  memset(copy, 'X', len);
  free(copy);
  if (rc != 0) {
    gust_http_request_unref(req);
    return rc;
  }
  *out = req;
  return 0;
}

static int build(const char *raw, const gust__http_req_env *env,
                 const gust_mem *mem, gust_http_request **out) {
  return build_step(raw, strlen(raw), 0, env, mem, out);
}

static gust__http_req_env plain_env(void) {
  static gust_addr peer;
  gust__http_req_env env;
  memset(&env, 0, sizeof(env));
  gust_addr_set(&peer, "10.0.0.1", 4321);
  env.peer = &peer;
  env.protocol = "http";
  env.start_time = 100.0;
  return env;
}

/* Builds a request or bails out. */
static gust_http_request *must(const char *raw, const gust__http_req_env *env) {
  gust_http_request *req;
  int rc = build(raw, env, NULL, &req);
  if (rc != 0)
    bail_out("building the request failed: %s", gust_strerror(rc));
  return req;
}

/* Captured log lines. */
static char logged[4096];

static void log_capture(gust_log_category cat, gust_log_level level,
                        const char *msg, void *ud) {
  (void)ud;
  if (cat == GUST_LOG_GENERAL && level == GUST_LOG_WARNING)
    snprintf(logged + strlen(logged), sizeof(logged) - strlen(logged), "%s|",
             msg);
}

static void log_start(void) {
  logged[0] = '\0';
  gust_log_set_handler(log_capture, NULL);
  gust_log_set_level(GUST_LOG_GENERAL, GUST_LOG_WARNING);
}

static void log_stop(void) {
  gust_log_set_handler(NULL, NULL);
  gust_log_set_level(GUST_LOG_GENERAL, GUST_LOG_OFF);
}

static int slice_is(gust_slice s, const char *want, const char *name) {
  return cmp_mem(s.ptr, s.len, want, strlen(want), "%s", name);
}

static void test_basic(void) {
  gust__http_req_env env = plain_env();
  gust_http_request *req;
  const gust_addr *peer;
  gust_slice v;
  gust_buf url;
  int marker;
  if (!tap_group("basic"))
    return;
  env.server = (gust_http_server *)&marker;
  is_int(build("GET /a/b?x=1?y HTTP/1.1\r\nHost: Example.COM:8080\r\n"
               "X-Two: 1\r\nx-two: 2\r\n\r\n",
               &env, NULL, &req),
         0, "basic: request built");
  is_str(gust_http_request_method(req), "GET", "basic: method");
  is_str(gust_http_request_uri(req), "/a/b?x=1?y", "basic: uri");
  is_str(gust_http_request_path(req), "/a/b", "basic: path");
  is_str(gust_http_request_query(req), "x=1?y",
         "basic: query after the first '?'");
  is_str(gust_http_request_version(req), "HTTP/1.1", "basic: version");
  is_int((long long)gust_headers_count(gust_http_request_headers(req)), 3,
         "basic: three header fields");
  is_int((long long)gust_headers_count_name(gust_http_request_headers(req),
                                            "X-TWO"),
         2, "basic: repeated header kept");
  ok(gust_headers_get(gust_http_request_headers(req), "host", &v) == 0 &&
         slice_is(v, "Example.COM:8080", "basic: Host header value"),
     "basic: Host header found");
  is_int((long long)gust_headers_count(gust_http_request_trailers(req)), 0,
         "basic: no trailers");
  is_str(gust_http_request_host(req), "Example.COM:8080", "basic: host");
  is_str(gust_http_request_host_name(req), "example.com", "basic: host_name");
  is_str(gust_http_request_remote_ip(req), "10.0.0.1", "basic: remote_ip");
  is_str(gust_http_request_protocol(req), "http", "basic: protocol");
  peer = gust_http_request_peer(req);
  ok(peer != NULL && gust_addr_port(peer) == 4321 && peer != env.peer,
     "basic: peer copied");
  is_int((long long)gust_http_request_body(req).len, 0, "basic: empty body");
  ok(gust_http_request_server(req) == (gust_http_server *)&marker,
     "basic: server from env");
  ok(gust_http_request_loop(req) == NULL, "basic: loop from env");
  ok(gust_http_request_user_data(req) == NULL, "basic: no user data");
  gust_http_request_set_user_data(req, &marker);
  ok(gust_http_request_user_data(req) == &marker, "basic: user data set");
  ok(gust__http_request_conn(req) == NULL, "basic: no connection");
  gust__http_request_set_conn(req, (gust__http_conn *)&marker);
  ok(gust__http_request_conn(req) == (gust__http_conn *)&marker,
     "basic: connection linked");
  gust__http_request_set_conn(req, NULL);
  ok(gust__http_request_conn(req) == NULL, "basic: connection unlinked");
  gust_buf_init(&url, NULL);
  gust_buf_append_str(&url, ">");
  is_int(gust_http_request_full_url(req, &url), 0, "basic: full_url");
  is_str((const char *)url.ptr, ">http://Example.COM:8080/a/b?x=1?y",
         "basic: full_url appended");
  gust_buf_free(&url);
  ok(gust_http_request_start_time(req) == 100.0, "basic: start_time");
  ok(gust_http_request_request_time(req) == 0.0,
     "basic: request_time 0 without a loop");
  gust__http_request_set_finish_time(req, 102.25);
  ok(gust_http_request_request_time(req) == 2.25,
     "basic: request_time = finish - start");
  gust_http_request_unref(req);

  req = must("GET / HTTP/1.0\r\n\r\n", &env);
  is_str(gust_http_request_version(req), "HTTP/1.0", "basic: HTTP/1.0");
  is_str(gust_http_request_host(req), "127.0.0.1",
         "basic: host without Host header");
  is_str(gust_http_request_host_name(req), "127.0.0.1",
         "basic: host_name without Host header");
  is_str(gust_http_request_path(req), "/", "basic: path without query");
  is_str(gust_http_request_query(req), "", "basic: empty query");
  gust_http_request_unref(req);

  req = must("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", &env);
  is_str(gust_http_request_method(req), "OPTIONS", "basic: OPTIONS method");
  is_str(gust_http_request_path(req), "*", "basic: asterisk path");
  gust_http_request_unref(req);

  req = must("GET /p? HTTP/1.1\r\nHost: h\r\n\r\n", &env);
  is_str(gust_http_request_path(req), "/p", "basic: path before bare '?'");
  is_str(gust_http_request_query(req), "", "basic: empty query after '?'");
  gust_http_request_unref(req);

  env.peer = NULL;
  env.protocol = NULL;
  req = must("GET / HTTP/1.1\r\nHost: h\r\n\r\n", &env);
  ok(gust_http_request_peer(req) == NULL, "basic: no peer");
  is_str(gust_http_request_remote_ip(req), "0.0.0.0",
         "basic: remote_ip without peer");
  is_str(gust_http_request_protocol(req), "http",
         "basic: protocol defaults to http");
  gust_http_request_unref(req);

  env = plain_env();
  env.protocol = "https";
  req = must("GET /x HTTP/1.1\r\nHost: h\r\n\r\n", &env);
  is_str(gust_http_request_protocol(req), "https", "basic: https from env");
  gust_buf_init(&url, NULL);
  gust_http_request_full_url(req, &url);
  is_str((const char *)url.ptr, "https://h/x", "basic: https full_url");
  gust_buf_free(&url);
  gust_http_request_unref(req);
}

static void test_ipv6_peer(void) {
  gust__http_req_env env = plain_env();
  gust_http_request *req;
  gust_addr peer;
  if (!tap_group("ipv6_peer"))
    return;
  gust_addr_set(&peer, "::1", 80);
  env.peer = &peer;
  req = must("GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n", &env);
  is_str(gust_http_request_remote_ip(req), "::1", "ipv6_peer: remote_ip");
  is_str(gust_http_request_host_name(req), "[::1]",
         "ipv6_peer: host_name keeps the brackets");
  gust_http_request_unref(req);
}

static void test_body(void) {
  gust__http_req_env env = plain_env();
  gust_http_request *req;
  gust_slice v;
  if (!tap_group("body"))
    return;
  req = must("POST /u HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello",
             &env);
  ok(slice_is(gust_http_request_body(req), "hello", "body: fixed length"),
     "body: fixed length read");
  gust_http_request_unref(req);
  req = must("POST /u HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
             "\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\nX-Sum: 7\r\nX-Sum: 8\r\n\r\n",
             &env);
  ok(slice_is(gust_http_request_body(req), "abcdefg", "body: chunked"),
     "body: chunked read");
  is_int((long long)gust_headers_count(gust_http_request_trailers(req)), 2,
         "body: two trailer fields");
  ok(gust_headers_get(gust_http_request_trailers(req), "x-sum", &v) == 0 &&
         slice_is(v, "7", "body: first trailer value"),
     "body: trailer found");
  is_int(gust__http_request_append_body(req, "", 0), 0, "body: empty append");
  is_int(gust__http_request_append_body(req, "hi", 2), 0, "body: append");
  ok(slice_is(gust_http_request_body(req), "abcdefghi", "body: appended"),
     "body: appended bytes");
  gust_http_request_unref(req);
}

static void test_time(void) {
  gust__http_req_env env = plain_env();
  gust_http_request *req;
  gust_loop *loop;
  double t;
  if (!tap_group("time"))
    return;
  if (gust_loop_new(&loop, NULL) != 0)
    bail_out("gust_loop_new");
  env.loop = loop;
  env.start_time = gust_loop_time(loop) - 1.5;
  req = must("GET / HTTP/1.1\r\nHost: h\r\n\r\n", &env);
  ok(gust_http_request_loop(req) == loop, "time: loop");
  t = gust_http_request_request_time(req);
  ok(t >= 1.5 && t < 1000.0, "time: request_time while running (%g)", t);
  gust__http_request_set_finish_time(req, env.start_time + 0.5);
  ok(gust_http_request_request_time(req) == 0.5, "time: after finish");
  gust_http_request_unref(req);
  gust_loop_free(loop);
}

static void test_host(void) {
  static const struct {
    const char *host, *name;
  } cases[] = {
      {"Example.COM:8080", "example.com"},
      {"example.com", "example.com"},
      {"HOST:0", "host"},
      {"[::1]:8888", "[::1]"},
      {"[::1]", "[::1]"},
      {"[2001:DB8::1]:80", "[2001:db8::1]"},
      {"a:", "a:"},
      {"1.2.3.4:5", "1.2.3.4"},
  };
  gust__http_req_env env = plain_env();
  char raw[256];
  size_t i;
  if (!tap_group("host"))
    return;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    gust_http_request *req;
    snprintf(raw, sizeof(raw), "GET / HTTP/1.1\r\nHost: %s\r\n\r\n",
             cases[i].host);
    if (build(raw, &env, NULL, &req) != 0) {
      ok(0, "host: %s parsed", cases[i].host);
      continue;
    }
    is_str(gust_http_request_host(req), cases[i].host, "host: %s kept",
           cases[i].host);
    is_str(gust_http_request_host_name(req), cases[i].name,
           "host: host_name of %s", cases[i].host);
    gust_http_request_unref(req);
  }
}

/* Tornado's XHeaderTest and a few more: builds the request with xheaders
 * on, trusted downstream 5.5.5.5, peer 127.0.0.1. */
static void xcase(const char *headers, const char *want_ip,
                  const char *want_proto, const char *env_proto,
                  const char *const *trusted, int xheaders) {
  static const char *const dflt[] = {"5.5.5.5", NULL};
  gust__http_req_env env = plain_env();
  gust_http_request *req;
  gust_addr peer;
  char raw[512], label[256];
  size_t i, j;
  for (i = j = 0; headers[i] != '\0' && j + 2 < sizeof(label); i++) {
    if (headers[i] == '\r')
      continue;
    label[j++] = headers[i] == '\n' ? ';' : headers[i];
  }
  label[j] = '\0';
  gust_addr_set(&peer, "127.0.0.1", 5000);
  env.peer = &peer;
  env.xheaders = xheaders;
  env.trusted_downstream = trusted != NULL ? trusted : dflt;
  env.protocol = env_proto;
  snprintf(raw, sizeof(raw), "GET / HTTP/1.1\r\nHost: h\r\n%s\r\n", headers);
  req = must(raw, &env);
  is_str(gust_http_request_remote_ip(req), want_ip, "xheaders: ip [%s]", label);
  is_str(gust_http_request_protocol(req), want_proto, "xheaders: proto [%s]",
         label);
  gust_http_request_unref(req);
}

static void test_xheaders(void) {
  static const char *const two[] = {"5.5.5.5", "6.6.6.6", NULL};
  static const char *const none[] = {NULL};
  if (!tap_group("xheaders"))
    return;
  /* XHeaderTest.test_ip_headers */
  xcase("", "127.0.0.1", "http", "http", NULL, 1);
  xcase("X-Real-IP: 4.4.4.4\r\n", "4.4.4.4", "http", "http", NULL, 1);
  xcase("X-Forwarded-For: 127.0.0.1, 4.4.4.4\r\n", "4.4.4.4", "http", "http",
        NULL, 1);
  xcase("X-Real-IP: 2620:0:1cfe:face:b00c::3\r\n", "2620:0:1cfe:face:b00c::3",
        "http", "http", NULL, 1);
  xcase("X-Forwarded-For: ::1, 2620:0:1cfe:face:b00c::3\r\n",
        "2620:0:1cfe:face:b00c::3", "http", "http", NULL, 1);
  xcase("X-Real-IP: 4.4.4.4<script>\r\n", "127.0.0.1", "http", "http", NULL, 1);
  xcase("X-Forwarded-For: 4.4.4.4, 5.5.5.5<script>\r\n", "127.0.0.1", "http",
        "http", NULL, 1);
  xcase("X-Real-IP: www.google.com\r\n", "127.0.0.1", "http", "http", NULL, 1);
  /* XHeaderTest.test_trusted_downstream */
  xcase("X-Forwarded-For: 127.0.0.1, 4.4.4.4, 5.5.5.5\r\n", "4.4.4.4", "http",
        "http", NULL, 1);
  xcase("X-Forwarded-For: 127.0.0.1, 4.4.4.4, 5.5.5.5\r\n", "5.5.5.5", "http",
        "http", none, 1);
  /* all trusted: the leftmost entry */
  xcase("X-Forwarded-For: 6.6.6.6,5.5.5.5\r\n", "6.6.6.6", "http", "http", two,
        1);
  xcase("X-Forwarded-For: 5.5.5.5\r\n", "5.5.5.5", "http", "http", NULL, 1);
  /* several lines join with ',' */
  xcase("X-Forwarded-For: 1.1.1.1\r\nX-Forwarded-For: 2.2.2.2\r\n", "2.2.2.2",
        "http", "http", NULL, 1);
  xcase("X-Forwarded-For: 1.1.1.1\r\nX-Forwarded-For: 5.5.5.5\r\n", "1.1.1.1",
        "http", "http", NULL, 1);
  /* X-Real-Ip wins over X-Forwarded-For even when it is invalid */
  xcase("X-Forwarded-For: 4.4.4.4\r\nX-Real-Ip: bogus\r\n", "127.0.0.1", "http",
        "http", NULL, 1);
  xcase("X-Forwarded-For: 4.4.4.4\r\nX-Real-Ip: 3.3.3.3\r\n", "3.3.3.3", "http",
        "http", NULL, 1);
  xcase("X-Forwarded-For: \t 9.9.9.9 \r\n", "9.9.9.9", "http", "http", NULL, 1);
  xcase("X-Forwarded-For: ,\r\n", "127.0.0.1", "http", "http", NULL, 1);
  xcase("X-Forwarded-For:\r\n", "127.0.0.1", "http", "http", NULL, 1);
  xcase("X-Real-Ip:\r\nX-Forwarded-For: 4.4.4.4\r\n", "127.0.0.1", "http",
        "http", NULL, 1);
  xcase("X-Forwarded-For: 1\r\n", "1", "http", "http", NULL, 1);
  /* XHeaderTest.test_scheme_headers */
  xcase("X-Scheme: https\r\n", "127.0.0.1", "https", "http", NULL, 1);
  xcase("X-Forwarded-Proto: https\r\n", "127.0.0.1", "https", "http", NULL, 1);
  xcase("X-Forwarded-Proto: https , http\r\n", "127.0.0.1", "http", "http",
        NULL, 1);
  xcase("X-Forwarded-Proto: http,https\r\n", "127.0.0.1", "https", "http", NULL,
        1);
  xcase("X-Forwarded-Proto:\r\n", "127.0.0.1", "http", "http", NULL, 1);
  xcase("X-Forwarded-Proto: unknown\r\n", "127.0.0.1", "http", "http", NULL, 1);
  xcase("X-Forwarded-Proto: HTTPS\r\n", "127.0.0.1", "http", "http", NULL, 1);
  xcase("X-Scheme: unknown\r\nX-Forwarded-Proto: https\r\n", "127.0.0.1",
        "http", "http", NULL, 1);
  /* SSLXHeaderTest.test_request_without_xprotocol */
  xcase("", "127.0.0.1", "https", "https", NULL, 1);
  xcase("X-Scheme: http\r\n", "127.0.0.1", "http", "https", NULL, 1);
  xcase("X-Scheme: unknown\r\n", "127.0.0.1", "https", "https", NULL, 1);
  xcase("X-Scheme:\r\n", "127.0.0.1", "https", "https", NULL, 1);
  /* xheaders off: nothing is rewritten */
  xcase("X-Real-IP: 4.4.4.4\r\nX-Scheme: https\r\n", "127.0.0.1", "http",
        "http", NULL, 0);
}

static void test_query(void) {
  gust__http_req_env env = plain_env();
  gust_http_request *req;
  const gust_http_args *a, *a2;
  gust_slice n, v;
  gust_buf all;
  size_t it = 0;
  if (!tap_group("query"))
    return;
  req = must("GET /?a=1&a=2&b&c=&=d&e=%41+b&&f=%zz&g=x%3Dy HTTP/1.1\r\n"
             "Host: h\r\n\r\n",
             &env);
  is_int(gust_http_request_query_arguments(req, &a), 0, "query: parsed");
  is_int(gust_http_request_query_arguments(req, &a2), 0, "query: again");
  ok(a == a2, "query: cached");
  is_int((long long)gust_http_args_count(a, "a"), 2, "query: a twice");
  ok(gust_http_args_get(a, "a", 0, &v) == 0 && slice_is(v, "1", "query: a[0]"),
     "query: a[0] found");
  ok(gust_http_args_get(a, "a", 1, &v) == 0 && slice_is(v, "2", "query: a[1]"),
     "query: a[1] found");
  is_int(gust_http_args_get(a, "a", 2, &v), GUST_ENOTFOUND,
         "query: a[2] not found");
  ok(gust_http_args_get_last(a, "a", &v) == 0 &&
         slice_is(v, "2", "query: last a"),
     "query: last a found");
  ok(gust_http_args_get(a, "b", 0, &v) == 0 && v.len == 0,
     "query: blank value kept without '='");
  ok(gust_http_args_get(a, "c", 0, &v) == 0 && v.len == 0,
     "query: blank value kept with '='");
  ok(gust_http_args_get(a, "", 0, &v) == 0 && slice_is(v, "d", "query: ''"),
     "query: empty name");
  ok(gust_http_args_get(a, "e", 0, &v) == 0 &&
         slice_is(v, "A b", "query: percent and plus"),
     "query: e decoded");
  ok(gust_http_args_get(a, "f", 0, &v) == 0 &&
         slice_is(v, "%zz", "query: bad escape"),
     "query: f kept");
  ok(gust_http_args_get(a, "g", 0, &v) == 0 &&
         slice_is(v, "x=y", "query: escaped '='"),
     "query: g decoded");
  is_int((long long)gust_http_args_count(a, "zz"), 0, "query: unknown name");
  is_int(gust_http_args_get_last(a, "zz", &v), GUST_ENOTFOUND,
         "query: unknown last");
  gust_buf_init(&all, NULL);
  while (gust_http_args_next(a, &it, &n, &v) == 1)
    gust_buf_printf(&all, "%.*s=%.*s;", (int)n.len, (const char *)n.ptr,
                    (int)v.len, (const char *)v.ptr);
  is_str((const char *)all.ptr, "a=1;a=2;b=;c=;=d;e=A b;f=%zz;g=x=y;",
         "query: iteration in arrival order");
  gust_buf_free(&all);
  is_int(gust_http_request_body_arguments(req, &a2), 0,
         "query: body arguments of a GET");
  it = 0;
  is_int(gust_http_args_next(a2, &it, &n, &v), 0, "query: no body arguments");
  is_int(gust_http_request_arguments(req, &a2), 0, "query: merged");
  is_int((long long)gust_http_args_count(a2, "a"), 2,
         "query: merged holds the query");
  gust_http_request_unref(req);

  req = must("GET / HTTP/1.1\r\nHost: h\r\n\r\n", &env);
  is_int(gust_http_request_query_arguments(req, &a), 0, "query: none");
  it = 0;
  is_int(gust_http_args_next(a, &it, &n, &v), 0, "query: empty map");
  gust_http_request_unref(req);
}

#define FORM_HEAD                                                              \
  "POST /f?x=0&q=1 HTTP/1.1\r\nHost: h\r\n"                                    \
  "Content-Type: application/x-www-form-urlencoded; charset=UTF-8\r\n"

static void test_urlencoded(void) {
  gust__http_req_env env = plain_env();
  gust_http_request *req;
  const gust_http_args *a;
  const gust_http_file *f;
  const char *msg;
  gust_slice v;
  size_t it = 0;
  if (!tap_group("urlencoded"))
    return;
  req = must(FORM_HEAD "Content-Length: 13\r\n\r\nx=1&y=%20&x=3", &env);
  is_int(gust_http_request_body_arguments(req, &a), 0, "urlencoded: parsed");
  is_int((long long)gust_http_args_count(a, "x"), 2, "urlencoded: x twice");
  ok(gust_http_args_get(a, "y", 0, &v) == 0 && slice_is(v, " ", "y decoded"),
     "urlencoded: y");
  is_int((long long)gust_http_args_count(a, "q"), 0,
         "urlencoded: query not in body arguments");
  is_int(gust_http_request_arguments(req, &a), 0, "urlencoded: merged");
  is_int((long long)gust_http_args_count(a, "x"), 3, "urlencoded: merged x");
  ok(gust_http_args_get(a, "x", 0, &v) == 0 && slice_is(v, "0", "merged x0"),
     "urlencoded: query value first");
  ok(gust_http_args_get_last(a, "x", &v) == 0 && slice_is(v, "3", "x last"),
     "urlencoded: body value last");
  ok(gust_http_args_get(a, "q", 0, &v) == 0 && slice_is(v, "1", "q"),
     "urlencoded: merged q");
  is_int(gust_http_request_files_next(req, &it, &f), 0, "urlencoded: no files");
  is_int(gust_http_request_body_error(req, &msg), 0, "urlencoded: no error");
  ok(msg == NULL, "urlencoded: no error message");
  gust_http_request_unref(req);

  log_start();
  req = must(FORM_HEAD "Content-Encoding: gzip\r\nContent-Length: 3\r\n\r\n"
                       "a=1",
             &env);
  is_int(gust_http_request_body_arguments(req, &a), 0,
         "urlencoded: encoded body is no error");
  is_int((long long)gust_http_args_count(a, "a"), 0,
         "urlencoded: encoded body gives no arguments");
  is_int(gust_http_request_body_error(req, &msg), GUST_EZIP_CODING,
         "urlencoded: encoded body error");
  is_str(msg, "Unsupported Content-Encoding",
         "urlencoded: encoded body message");
  is_str(logged, "Unsupported Content-Encoding: gzip|",
         "urlencoded: encoded body logged");
  gust_http_request_unref(req);
  log_stop();

  req = must(FORM_HEAD "Content-Encoding: Identity\r\nContent-Length: 3\r\n\r\n"
                       "a=1",
             &env);
  gust_http_request_body_arguments(req, &a);
  is_int((long long)gust_http_args_count(a, "a"), 1,
         "urlencoded: identity encoding parsed");
  gust_http_request_unref(req);

  req = must("POST / HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain\r\n"
             "Content-Length: 3\r\n\r\na=1",
             &env);
  gust_http_request_body_arguments(req, &a);
  is_int((long long)gust_http_args_count(a, "a"), 0,
         "urlencoded: text/plain not parsed");
  is_int(gust_http_request_body_error(req, NULL), 0,
         "urlencoded: text/plain no error");
  gust_http_request_unref(req);

  req = must("POST / HTTP/1.1\r\nHost: h\r\n"
             "Content-Type: Application/X-WWW-Form-Urlencoded\r\n"
             "Content-Length: 3\r\n\r\na=1",
             &env);
  gust_http_request_body_arguments(req, &a);
  is_int((long long)gust_http_args_count(a, "a"), 0,
         "urlencoded: type prefix is case-sensitive (as Tornado)");
  gust_http_request_unref(req);

  req =
      must("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\na=1", &env);
  gust_http_request_body_arguments(req, &a);
  is_int((long long)gust_http_args_count(a, "a"), 0,
         "urlencoded: no Content-Type, no arguments");
  gust_http_request_unref(req);
}

/* Builds a multipart POST with `ctype` and `body`. */
static gust_http_request *mp_request(const char *ctype, const char *body,
                                     size_t len) {
  gust__http_req_env env = plain_env();
  gust_buf raw;
  gust_http_request *req;
  gust_buf_init(&raw, NULL);
  gust_buf_printf(&raw,
                  "POST /up?q=1 HTTP/1.1\r\nHost: h\r\nContent-Type: %s\r\n"
                  "Content-Length: %zu\r\n\r\n",
                  ctype, len);
  gust_buf_append(&raw, body, len);
  req = must((const char *)raw.ptr, &env);
  gust_buf_free(&raw);
  return req;
}

#define MP_BODY                                                                \
  "--1234\r\nContent-Disposition: form-data; name=\"files\"; "                 \
  "filename=\"ab.txt\"\r\n\r\nFoo\r\n"                                         \
  "--1234\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\ny\r\n"          \
  "--1234\r\nContent-Disposition: form-data; name=\"img\"; "                   \
  "filename=\"p.png\"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n"           \
  "--1234\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n\r\n"           \
  "--1234--\r\n"

static void test_multipart(void) {
  gust_http_request *req;
  const gust_http_args *a;
  const gust_http_file *f;
  const char *msg;
  gust_slice v;
  size_t it = 0;
  if (!tap_group("multipart"))
    return;
  req = mp_request("multipart/form-data; boundary=1234", MP_BODY,
                   strlen(MP_BODY));
  is_int(gust_http_request_body_arguments(req, &a), 0, "multipart: parsed");
  is_int((long long)gust_http_args_count(a, "x"), 2, "multipart: x twice");
  ok(gust_http_args_get(a, "x", 0, &v) == 0 && slice_is(v, "y", "x0"),
     "multipart: x[0]");
  ok(gust_http_args_get(a, "x", 1, &v) == 0 && v.len == 0,
     "multipart: empty part value");
  is_int((long long)gust_http_args_count(a, "files"), 0,
         "multipart: files are not arguments");
  is_int(gust_http_request_files_next(req, &it, &f), 1, "multipart: file 1");
  ok(slice_is(f->name, "files", "file 1 name") &&
         slice_is(f->filename, "ab.txt", "file 1 filename") &&
         slice_is(f->content_type, "application/unknown", "file 1 type") &&
         slice_is(f->body, "Foo", "file 1 body"),
     "multipart: file 1 fields");
  is_int(gust_http_request_files_next(req, &it, &f), 1, "multipart: file 2");
  ok(slice_is(f->name, "img", "file 2 name") &&
         slice_is(f->filename, "p.png", "file 2 filename") &&
         slice_is(f->content_type, "image/png", "file 2 type") &&
         slice_is(f->body, "\x89PNG", "file 2 body"),
     "multipart: file 2 fields");
  is_int(gust_http_request_files_next(req, &it, &f), 0, "multipart: end");
  is_int(gust_http_request_arguments(req, &a), 0, "multipart: merged");
  ok(gust_http_args_count(a, "q") == 1 && gust_http_args_count(a, "x") == 2,
     "multipart: merged query and body");
  is_int(gust_http_request_body_error(req, &msg), 0, "multipart: no error");
  gust_http_request_unref(req);

  req = mp_request("multipart/form-data; boundary=\"1234\"", MP_BODY,
                   strlen(MP_BODY));
  gust_http_request_body_arguments(req, &a);
  is_int((long long)gust_http_args_count(a, "x"), 2,
         "multipart: quoted boundary");
  gust_http_request_unref(req);

  log_start();
  req = mp_request("multipart/form-data", MP_BODY, strlen(MP_BODY));
  is_int(gust_http_request_body_arguments(req, &a), 0,
         "multipart: no boundary is no error");
  is_int((long long)gust_http_args_count(a, "x"), 0,
         "multipart: no boundary, no arguments");
  is_int(gust_http_request_body_error(req, &msg), GUST_EBOUNDARY,
         "multipart: no boundary error");
  is_str(msg, "multipart boundary not found", "multipart: no boundary text");
  is_str(logged, "Invalid multipart/form-data: multipart boundary not found|",
         "multipart: no boundary logged");
  gust_http_request_unref(req);

  logged[0] = '\0';
  req = mp_request("multipart/form-data; boundary=1234", MP_BODY,
                   strlen(MP_BODY) - 10);
  it = 0;
  is_int(gust_http_request_files_next(req, &it, &f), 0,
         "multipart: truncated body, no files");
  gust_http_request_body_arguments(req, &a);
  is_int((long long)gust_http_args_count(a, "x"), 0,
         "multipart: truncated body, no arguments");
  is_int(gust_http_request_body_error(req, &msg), GUST_EMULTIPART,
         "multipart: truncated body error");
  ok(msg != NULL && strlen(msg) > 0, "multipart: truncated body message");
  ok(strncmp(logged, "Invalid multipart/form-data: ", 29) == 0,
     "multipart: truncated body logged");
  gust_http_request_unref(req);

  logged[0] = '\0';
  {
    static const char nameless[] =
        "--b\r\nContent-Disposition: form-data; name=\"ok\"\r\n\r\n1\r\n"
        "--b\r\nContent-Disposition: form-data\r\n\r\n2\r\n--b--\r\n";
    req = mp_request("multipart/form-data; boundary=b", nameless,
                     strlen(nameless));
    gust_http_request_body_arguments(req, &a);
    is_int((long long)gust_http_args_count(a, "ok"), 0,
           "multipart: a nameless part voids the whole body");
    is_int(gust_http_request_body_error(req, &msg), GUST_EMULTIPART,
           "multipart: nameless part error");
    is_str(logged,
           "Invalid multipart/form-data: multipart/form-data missing "
           "name|",
           "multipart: nameless part logged");
    gust_http_request_unref(req);
  }
  log_stop();

  {
    /* A file larger than one feed of the parser. */
    gust_buf body;
    size_t big = 200000, i;
    gust_buf_init(&body, NULL);
    gust_buf_append_str(&body, "--zz\r\nContent-Disposition: form-data; "
                               "name=\"f\"; filename=\"big\"\r\n\r\n");
    for (i = 0; i < big; i++)
      gust_buf_append_byte(&body, (uint8_t)('a' + i % 26));
    gust_buf_append_str(&body, "\r\n--zz--\r\n");
    req = mp_request("multipart/form-data; boundary=zz", (const char *)body.ptr,
                     body.len);
    it = 0;
    is_int(gust_http_request_files_next(req, &it, &f), 1,
           "multipart: big file");
    ok(f->body.len == big && f->body.ptr[0] == 'a' &&
           f->body.ptr[big - 1] == (uint8_t)('a' + (big - 1) % 26),
       "multipart: big file body intact");
    gust_http_request_unref(req);
    gust_buf_free(&body);
  }
}

static void test_cookies(void) {
  gust__http_req_env env = plain_env();
  gust_http_request *req;
  const gust_cookies *c, *c2;
  gust_slice v;
  if (!tap_group("cookies"))
    return;
  req = must("GET / HTTP/1.1\r\nHost: h\r\n"
             "Cookie: a=1; b=\"x\\073y\"; bad name=3\r\n"
             "Cookie: c=3; a=9\r\n\r\n",
             &env);
  is_int(gust_http_request_cookies(req, &c), 0, "cookies: parsed");
  is_int(gust_http_request_cookies(req, &c2), 0, "cookies: again");
  ok(c == c2, "cookies: cached");
  is_int((long long)gust_cookies_count(c), 3, "cookies: three cookies");
  ok(gust_http_request_cookie(req, "a", &v) == 0 &&
         slice_is(v, "9", "cookies: a"),
     "cookies: later line wins");
  ok(gust_http_request_cookie(req, "b", &v) == 0 &&
         slice_is(v, "x;y", "cookies: b"),
     "cookies: quoted value decoded");
  ok(gust_http_request_cookie(req, "c", &v) == 0 &&
         slice_is(v, "3", "cookies: c"),
     "cookies: second line read");
  is_int(gust_http_request_cookie(req, "zz", &v), GUST_ENOTFOUND,
         "cookies: missing cookie");
  gust_http_request_unref(req);

  req = must("GET / HTTP/1.1\r\nHost: h\r\n\r\n", &env);
  is_int(gust_http_request_cookies(req, &c), 0, "cookies: none");
  is_int((long long)gust_cookies_count(c), 0, "cookies: empty jar");
  is_int(gust_http_request_cookie(req, "a", &v), GUST_ENOTFOUND,
         "cookies: none found");
  gust_http_request_unref(req);
}

static void test_refcount(void) {
  gust__http_req_env env = plain_env();
  gust_http_request *req;
  gust_failmem fm;
  if (!tap_group("refcount"))
    return;
  gust_failmem_init(&fm, NULL);
  is_int(build("GET /r HTTP/1.1\r\nHost: h\r\n\r\n", &env, &fm.mem, &req), 0,
         "refcount: built");
  ok(gust_http_request_ref(req) == req, "refcount: ref returns the request");
  gust_http_request_unref(req);
  ok(fm.live_blocks > 0, "refcount: alive after one unref");
  is_str(gust_http_request_uri(req), "/r", "refcount: still readable");
  gust_http_request_unref(req);
  is_int((long long)fm.live_blocks, 0, "refcount: freed by the last unref");
  gust_http_request_unref(NULL);
  ok(gust_http_request_ref(NULL) == NULL, "refcount: NULL is a no-op");
}

/* A field value the header map cannot hold (a control character let
 * through by the parser's leniency flag) makes the constructor fail with
 * GUST_EINVAL, leaking nothing. */
static void test_einval(void) {
  static const char raw[] = "GET / HTTP/1.1\r\nHost: h\r\nX: a\x01z\r\n\r\n";
  gust__http_req_env env = plain_env();
  gust_h1_config cfg;
  gust_h1 *h = NULL;
  gust_h1_event ev;
  gust_http_request *req = NULL;
  gust_failmem fm;
  if (!tap_group("einval"))
    return;
  gust_h1_config_init(&cfg);
  cfg.flags |= GUST_H1_CTL_IN_VALUES;
  if (gust_h1_new(&h, GUST_H1_SERVER, &cfg, NULL) != 0 ||
      gust_h1_feed(h, raw, sizeof(raw) - 1) != 0)
    bail_out("gust_h1");
  gust_failmem_init(&fm, NULL);
  is_int(gust_h1_next_event(h, &ev), GUST_H1_REQUEST, "einval: head parsed");
  is_int(gust__http_request_new(&req, &fm.mem, &ev, &env), GUST_EINVAL,
         "einval: control character refused");
  ok(req == NULL, "einval: no request");
  is_int((long long)fm.live_blocks, 0, "einval: nothing leaked");
  ev.type = GUST_H1_DATA;
  is_int(gust__http_request_new(&req, NULL, &ev, &env), GUST_EINVAL,
         "einval: not a REQUEST event");
  is_int(gust__http_request_new(&req, NULL, NULL, &env), GUST_EINVAL,
         "einval: no event");
  gust_h1_free(h);
}

/* One transcript of everything a request exposes. */
static void describe(gust_http_request *req, gust_buf *tr) {
  const gust_headers *hs = gust_http_request_headers(req);
  const gust_http_args *a;
  const gust_http_file *f;
  const gust_cookies *c;
  gust_slice n, v;
  size_t it = 0;
  gust_buf_printf(
      tr, "%s %s %s %s %s %s %s %s %s|", gust_http_request_method(req),
      gust_http_request_uri(req), gust_http_request_path(req),
      gust_http_request_query(req), gust_http_request_version(req),
      gust_http_request_remote_ip(req), gust_http_request_protocol(req),
      gust_http_request_host(req), gust_http_request_host_name(req));
  while (gust_headers_next(hs, &it, &n, &v))
    gust_buf_printf(tr, "%.*s=%.*s;", (int)n.len, (const char *)n.ptr,
                    (int)v.len, (const char *)v.ptr);
  it = 0;
  while (gust_headers_next(gust_http_request_trailers(req), &it, &n, &v))
    gust_buf_printf(tr, "T%.*s=%.*s;", (int)n.len, (const char *)n.ptr,
                    (int)v.len, (const char *)v.ptr);
  v = gust_http_request_body(req);
  gust_buf_printf(tr, "|%zu|", v.len);
  it = 0;
  if (gust_http_request_arguments(req, &a) == 0)
    while (gust_http_args_next(a, &it, &n, &v) == 1)
      gust_buf_printf(tr, "%.*s=%.*s;", (int)n.len, (const char *)n.ptr,
                      (int)v.len, (const char *)v.ptr);
  it = 0;
  while (gust_http_request_files_next(req, &it, &f) == 1)
    gust_buf_printf(tr, "F%.*s:%.*s;", (int)f->filename.len,
                    (const char *)f->filename.ptr, (int)f->body.len,
                    (const char *)f->body.ptr);
  if (gust_http_request_cookies(req, &c) == 0)
    gust_buf_printf(tr, "|c%zu", gust_cookies_count(c));
}

/* The same request fed whole and in pieces of every size from one byte
 * up gives the same object. */
static void test_splits(void) {
  static const char *const trusted[] = {"5.5.5.5", NULL};
  gust__http_req_env env = plain_env();
  gust_buf raw, whole, tr;
  gust_http_request *req;
  size_t cut;
  int bad = 0;
  if (!tap_group("splits"))
    return;
  env.xheaders = 1;
  env.trusted_downstream = trusted;
  gust_buf_init(&raw, NULL);
  gust_buf_init(&whole, NULL);
  gust_buf_printf(&raw,
                  "POST /up?q=1&q=%%41 HTTP/1.1\r\nHost: [::1]:81\r\n"
                  "X-Forwarded-For: 4.4.4.4, 5.5.5.5\r\nX-Scheme: https\r\n"
                  "Cookie: k=v; l=w\r\nTransfer-Encoding: chunked\r\n"
                  "Content-Type: multipart/form-data; boundary=1234\r\n\r\n"
                  "%zx\r\n%s\r\n0\r\nX-T: t\r\n\r\n",
                  strlen(MP_BODY), MP_BODY);
  req = must((const char *)raw.ptr, &env);
  describe(req, &whole);
  gust_http_request_unref(req);
  is_str((const char *)whole.ptr,
         "POST /up?q=1&q=%41 /up q=1&q=%41 HTTP/1.1 4.4.4.4 https [::1]:81 "
         "[::1]|Host=[::1]:81;X-Forwarded-For=4.4.4.4, 5.5.5.5;"
         "X-Scheme=https;Cookie=k=v; l=w;Transfer-Encoding=chunked;"
         "Content-Type=multipart/form-data; boundary=1234;TX-T=t;|302|"
         "q=1;q=A;x=y;x=;Fab.txt:Foo;Fp.png:\x89PNG;|c2",
         "splits: whole request");
  for (cut = 1; cut < raw.len; cut++) {
    gust_http_request *r2;
    gust_buf_init(&tr, NULL);
    if (build_step((const char *)raw.ptr, raw.len, cut, &env, NULL, &r2) != 0) {
      bad++;
    } else {
      describe(r2, &tr);
      if (strcmp((const char *)tr.ptr, (const char *)whole.ptr) != 0)
        bad++;
      gust_http_request_unref(r2);
    }
    gust_buf_free(&tr);
  }
  is_int(bad, 0, "splits: every feed size gives the same request");
  gust_buf_free(&raw);
  gust_buf_free(&whole);
}

/* Retries a call once after GUST_ENOMEM (the failure injected is a single
 * one, so the retry must succeed). Any other code is a failure. */
#define RETRY(bad, call)                                                       \
  do {                                                                         \
    int rc_ = (call);                                                          \
    if (rc_ == GUST_ENOMEM)                                                    \
      rc_ = (call);                                                            \
    if (rc_ < 0)                                                               \
      (bad)++;                                                                 \
  } while (0)

/* Runs every lazy parser of one request; returns a transcript. */
static int torture_once(gust_failmem *fm, const char *raw,
                        const gust__http_req_env *env, gust_buf *tr) {
  gust_http_request *req;
  const gust_http_args *q = NULL, *b = NULL, *all = NULL;
  const gust_cookies *c = NULL;
  const gust_http_file *f;
  gust_slice n, v;
  gust_buf url;
  size_t it = 0;
  int bad = 0, rc;
  rc = build(raw, env, &fm->mem, &req);
  if (rc != 0)
    return rc == GUST_ENOMEM ? 1 : -1000;
  gust_buf_init(&url, &fm->mem);
  RETRY(bad, gust_http_request_full_url(req, &url));
  RETRY(bad, gust_http_request_query_arguments(req, &q));
  RETRY(bad, gust_http_request_arguments(req, &all));
  RETRY(bad, gust_http_request_body_arguments(req, &b));
  RETRY(bad, gust_http_request_cookies(req, &c));
  RETRY(bad, gust_http_request_cookie(req, "k", &v));
  if (bad == 0) {
    gust_buf_printf(tr, "%s %s %s %s|", gust_http_request_remote_ip(req),
                    gust_http_request_protocol(req),
                    gust_http_request_host_name(req), (const char *)url.ptr);
    while (gust_http_args_next(all, &it, &n, &v) == 1)
      gust_buf_printf(tr, "%.*s=%.*s;", (int)n.len, (const char *)n.ptr,
                      (int)v.len, (const char *)v.ptr);
    gust_buf_printf(tr, "|q%zu b%zu|", gust_http_args_count(q, "q"),
                    gust_http_args_count(b, "x"));
    it = 0;
    while (gust_http_request_files_next(req, &it, &f) == 1)
      gust_buf_printf(tr, "%.*s:%.*s:%.*s;", (int)f->filename.len,
                      (const char *)f->filename.ptr, (int)f->content_type.len,
                      (const char *)f->content_type.ptr, (int)f->body.len,
                      (const char *)f->body.ptr);
    gust_buf_printf(tr, "|c%zu", gust_cookies_count(c));
  }
  gust_buf_free(&url);
  gust_http_request_unref(req);
  return bad != 0 ? -1 : 0;
}

static void test_failmem(void) {
  static const char *const trusted[] = {"5.5.5.5", NULL};
  static const char want[] =
      "4.4.4.4 https example.com https://Example.com:81/up?q=1&q=2|"
      "q=1;q=2;x=y;x=;|q2 b2|ab.txt:application/unknown:Foo;"
      "p.png:image/png:\x89PNG;|c2";
  gust__http_req_env env = plain_env();
  gust_failmem fm;
  gust_buf raw, tr;
  unsigned long i;
  int bad = 0, saw_ok = 0, rc, builds_failed = 0;
  if (!tap_group("failmem"))
    return;
  env.xheaders = 1;
  env.trusted_downstream = trusted;
  gust_buf_init(&raw, NULL);
  gust_buf_printf(&raw,
                  "POST /up?q=1&q=2 HTTP/1.1\r\nHost: Example.com:81\r\n"
                  "X-Forwarded-For: 1.1.1.1, 4.4.4.4, 5.5.5.5\r\n"
                  "X-Forwarded-Proto: https\r\n"
                  "Cookie: k=v; l=w\r\n"
                  "Content-Type: multipart/form-data; boundary=1234\r\n"
                  "Content-Length: %zu\r\n\r\n%s",
                  strlen(MP_BODY), MP_BODY);
  for (i = 1; i < 2000 && !saw_ok; i++) {
    gust_failmem_init(&fm, NULL);
    fm.fail_at = i;
    gust_buf_init(&tr, NULL);
    rc = torture_once(&fm, (const char *)raw.ptr, &env, &tr);
    if (rc == 1) {
      builds_failed++;
    } else if (rc != 0) {
      diag("allocation %lu: failure not handled (%d)", i, rc);
      bad++;
    } else if (strcmp((const char *)tr.ptr, want) != 0) {
      diag("allocation %lu: got %s", i, (const char *)tr.ptr);
      bad++;
    }
    if (fm.failures == 0)
      saw_ok = 1;
    if (fm.live_blocks != 0) {
      diag("allocation %lu: %zu blocks leaked", i, fm.live_blocks);
      bad++;
    }
    gust_buf_free(&tr);
  }
  gust_buf_free(&raw);
  ok(saw_ok, "failmem: a run without failure reached (%lu allocations)", i - 1);
  ok(builds_failed > 0, "failmem: construction failures seen");
  is_int(bad, 0,
         "failmem: every failure is GUST_ENOMEM, retried calls "
         "give the same results, nothing leaks");
}

int main(void) {
  gust_log_set_level(GUST_LOG_GENERAL, GUST_LOG_OFF);
  test_basic();
  test_ipv6_peer();
  test_body();
  test_time();
  test_host();
  test_xheaders();
  test_query();
  test_urlencoded();
  test_multipart();
  test_cookies();
  test_refcount();
  test_failmem();
  test_splits();
  test_einval();
  return done_testing();
}
