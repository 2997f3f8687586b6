/* HTTP client: in-process tests over loopback against gust's own HTTP
 * server (one loop for both sides). The server's handler dispatches on
 * the path and reports what it saw in X-Seen-* response headers; the
 * peer's port tells which connection carried a request. */
#define _GNU_SOURCE
#include <gust/gzip.h>
#include <gust/httpclient.h>
#include <gust/httpserver.h>
#include <gust/testing.h>
#include <gust/version.h>

#include <signal.h>

#include "../net/tcp_common.h"
#include "../proto/tls_common.h"

static gust_loop *loop;

/* ------------------------------------------------------------------ */
/* The server                                                           */
/* ------------------------------------------------------------------ */

typedef struct srv_state {
  gust_http_server *srv;
  int port;
  int requests;
  int concurrent, max_concurrent;
  gust_http_request *held[16]; /* /hold requests, answered later */
  int nheld;
} srv_state;

static srv_state S;

static int query_int(gust_http_request *req, const char *name, int dflt) {
  const gust_http_args *a;
  gust_slice v;
  char buf[32];
  if (gust_http_request_query_arguments(req, &a) != 0 ||
      gust_http_args_get_last(a, name, &v) != 0 || v.len >= sizeof(buf))
    return dflt;
  memcpy(buf, v.ptr, v.len);
  buf[v.len] = '\0';
  return atoi(buf);
}

static int query_str(gust_http_request *req, const char *name, char *out,
                     size_t cap) {
  const gust_http_args *a;
  gust_slice v;
  if (gust_http_request_query_arguments(req, &a) != 0 ||
      gust_http_args_get_last(a, name, &v) != 0 || v.len >= cap)
    return -1;
  memcpy(out, v.ptr, v.len);
  out[v.len] = '\0';
  return 0;
}

static void seen(gust_headers *h, gust_http_request *req, const char *name,
                 const char *as) {
  gust_buf b;
  gust_buf_init(&b, NULL);
  if (gust_headers_get_joined(gust_http_request_headers(req), name, &b) == 0) {
    gust_buf_append_byte(&b, 0);
    gust_headers_add_str(h, as, (const char *)b.ptr);
  } else {
    gust_headers_add_str(h, as, "-");
  }
  gust_buf_free(&b);
}

/* Answers with the request body and what the request looked like. */
static void answer_echo(gust_http_request *req, int status) {
  gust_headers h;
  gust_slice body = gust_http_request_body(req);
  char port[16];
  gust_headers_init(&h, NULL);
  gust_headers_add_str(&h, "X-Seen-Method", gust_http_request_method(req));
  gust_headers_add_str(&h, "X-Seen-Uri", gust_http_request_uri(req));
  seen(&h, req, "Host", "X-Seen-Host");
  seen(&h, req, "User-Agent", "X-Seen-UA");
  seen(&h, req, "Accept-Encoding", "X-Seen-AE");
  seen(&h, req, "Authorization", "X-Seen-Auth");
  seen(&h, req, "Content-Type", "X-Seen-CT");
  seen(&h, req, "Content-Length", "X-Seen-CL");
  seen(&h, req, "Transfer-Encoding", "X-Seen-TE");
  seen(&h, req, "Cookie", "X-Seen-Cookie");
  seen(&h, req, "X-Custom", "X-Seen-Custom");
  seen(&h, req, "If-Modified-Since", "X-Seen-IMS");
  snprintf(port, sizeof(port), "%d",
           gust_addr_port(gust_http_request_peer(req)));
  gust_headers_add_str(&h, "X-Peer-Port", port);
  gust_http_response_start(req, status, NULL, &h, NULL);
  if (strcmp(gust_http_request_method(req), "HEAD") != 0)
    gust_http_response_write(req, body.ptr, body.len, NULL);
  gust_http_response_finish(req, NULL);
  gust_headers_free(&h);
}

static void answer_gzip(gust_http_request *req) {
  static const char text[] = "compressed hello, compressed hello, "
                             "compressed hello, compressed hello";
  gust_zip *z;
  uint8_t out[512];
  const uint8_t *in = (const uint8_t *)text;
  size_t in_len = sizeof(text) - 1;
  gust_ssize n;
  gust_headers h;
  if (gust_zip_encoder_new(&z, NULL, GUST_ZIP_GZIP, 6) != 0)
    bail_out("encoder");
  n = gust_zip_encode(z, &in, &in_len, out, sizeof(out), GUST_ZIP_FINISH);
  gust_zip_free(z);
  if (n <= 0 || in_len != 0)
    bail_out("gzip");
  gust_headers_init(&h, NULL);
  gust_headers_add_str(&h, "Content-Encoding", "gzip");
  seen(&h, req, "Accept-Encoding", "X-Seen-AE");
  gust_http_response_start(req, 200, NULL, &h, NULL);
  if (strcmp(gust_http_request_method(req), "HEAD") != 0)
    gust_http_response_write(req, out, (size_t)n, NULL);
  gust_http_response_finish(req, NULL);
  gust_headers_free(&h);
}

/* /big?n=N: N bytes of a pattern, chunked, in pieces of 64 KiB. */
static void answer_big(gust_http_request *req) {
  static uint8_t piece[65536];
  long n = query_int(req, "n", 0), off = 0;
  size_t i;
  for (i = 0; i < sizeof(piece); i++)
    piece[i] = (uint8_t)(i * 7 + 3);
  gust_http_response_start(req, 200, NULL, NULL, NULL);
  while (off < n) {
    size_t k =
        (size_t)(n - off) < sizeof(piece) ? (size_t)(n - off) : sizeof(piece);
    gust_http_response_write(req, piece, k, NULL);
    off += (long)k;
  }
  gust_http_response_finish(req, NULL);
}

static void on_held_timer(gust_loop *l, void *ud) {
  gust_http_request *req = ud;
  (void)l;
  S.concurrent--;
  gust_http_respond(req, 200, "text/plain", "late", 4);
  gust_http_request_unref(req);
}

static void handler(gust_http_request *req, void *ud) {
  const char *path = gust_http_request_path(req);
  char to[256];
  (void)ud;
  S.requests++;
  if (strcmp(path, "/hello") == 0) {
    gust_http_respond(req, 200, "text/plain", "Hello, world", 12);
  } else if (strcmp(path, "/echo") == 0) {
    answer_echo(req, 200);
  } else if (strcmp(path, "/status") == 0) {
    answer_echo(req, query_int(req, "code", 200));
  } else if (strcmp(path, "/redirect") == 0) {
    gust_headers h;
    int code = query_int(req, "code", 302);
    if (query_str(req, "to", to, sizeof(to)) != 0)
      strcpy(to, "/echo");
    gust_headers_init(&h, NULL);
    gust_headers_add_str(&h, "Location", to);
    gust_http_response_start(req, code, NULL, &h, NULL);
    gust_http_response_write(req, "moved", 5, NULL);
    gust_http_response_finish(req, NULL);
    gust_headers_free(&h);
  } else if (strcmp(path, "/loop") == 0) {
    gust_headers h;
    gust_headers_init(&h, NULL);
    gust_headers_add_str(&h, "Location", "/loop");
    gust_http_response_start(req, 302, NULL, &h, NULL);
    gust_http_response_finish(req, NULL);
    gust_headers_free(&h);
  } else if (strcmp(path, "/gzip-empty") == 0) {
    gust_headers h;
    gust_headers_init(&h, NULL);
    gust_headers_add_str(&h, "Content-Encoding", "gzip");
    gust_headers_add_str(&h, "Content-Length", "0");
    gust_http_response_start(req, 200, NULL, &h, NULL);
    gust_http_response_finish(req, NULL);
    gust_headers_free(&h);
  } else if (strcmp(path, "/gzip") == 0) {
    answer_gzip(req);
  } else if (strcmp(path, "/big") == 0) {
    answer_big(req);
  } else if (strcmp(path, "/close") == 0) {
    gust_headers h;
    gust_headers_init(&h, NULL);
    gust_headers_add_str(&h, "Connection", "close");
    gust_http_response_start(req, 200, NULL, &h, NULL);
    gust_http_response_write(req, "bye", 3, NULL);
    gust_http_response_finish(req, NULL);
    gust_headers_free(&h);
  } else if (strcmp(path, "/slow") == 0) {
    /* answered after ms milliseconds; counts concurrency */
    S.concurrent++;
    if (S.concurrent > S.max_concurrent)
      S.max_concurrent = S.concurrent;
    gust_http_request_ref(req);
    gust_loop_call_later(loop, query_int(req, "ms", 50) / 1000.0, on_held_timer,
                         req, NULL);
  } else if (strcmp(path, "/hang") == 0) {
    if (S.nheld < 16)
      S.held[S.nheld++] = gust_http_request_ref(req);
  } else {
    gust_http_respond(req, 404, "text/plain", "nope", 4);
  }
}

static void srv_start(const gust_http_server_opts *o) {
  memset(&S, 0, sizeof(S));
  if (gust_http_server_new_cb(&S.srv, loop, o, handler, NULL, NULL) != 0 ||
      gust_http_server_listen(S.srv, "127.0.0.1", 0, NULL) != 0)
    bail_out("server");
  S.port = gust_http_server_port(S.srv);
}

static void srv_stop(void) {
  int i;
  for (i = 0; i < S.nheld; i++)
    gust_http_request_unref(S.held[i]);
  S.nheld = 0;
  gust_http_server_free(S.srv);
  S.srv = NULL;
}

static const char *url(const char *fmt, ...) TAP_PRINTF(1, 2);
static const char *url(const char *fmt, ...) {
  static char bufs[8][512];
  static int next;
  char path[400];
  char *b = bufs[next++ % 8];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(path, sizeof(path), fmt, ap);
  va_end(ap);
  snprintf(b, 512, "http://127.0.0.1:%d%s", S.port, path);
  return b;
}

/* ------------------------------------------------------------------ */
/* Helpers                                                              */
/* ------------------------------------------------------------------ */

static gust_http_client *client_new(const gust_http_client_opts *o) {
  gust_http_client *c;
  if (gust_http_client_new(&c, loop, o, NULL) != 0)
    bail_out("client");
  return c;
}

/* Runs a fetch to completion; returns the future (caller unrefs). */
static gust_future *run(gust_http_client *c, const gust_fetch_request *r) {
  gust_future *f = NULL;
  int rc = gust_http_client_fetch(c, r, &f);
  if (rc != 0)
    bail_out("fetch: %s (%s)", gust_errname(rc),
             gust_http_client_last_error(c));
  if (t_run_future(f) != 0)
    bail_out("fetch did not complete");
  return f;
}

static gust_future *get(gust_http_client *c, const char *u) {
  gust_fetch_request r;
  gust_fetch_request_init(&r, u);
  return run(c, &r);
}

static const gust_fetch_response *R(gust_future *f) {
  const gust_fetch_response *r = gust_fetch_response_of(f);
  if (r == NULL)
    bail_out("no response (%s)", gust_errname(gust_future_error(f)));
  return r;
}

static const char *hdr(gust_future *f, const char *name) {
  static char bufs[4][512];
  static int next;
  char *b = bufs[next++ % 4];
  gust_slice v;
  if (gust_headers_get(gust_fetch_response_headers(R(f)), name, &v) != 0)
    return "(none)";
  snprintf(b, 512, "%.*s", (int)v.len, (const char *)v.ptr);
  return b;
}

static int body_is(gust_future *f, const char *want, const char *name) {
  gust_slice b = gust_fetch_response_body(R(f));
  return cmp_mem(b.ptr, b.len, want, strlen(want), "%s", name);
}

/* ------------------------------------------------------------------ */
/* Tests                                                                */
/* ------------------------------------------------------------------ */

static void t_basic(void) {
  gust_http_client *c;
  gust_future *f;
  gust_fetch_request r;
  gust_fetch_timings t;
  srv_start(NULL);
  c = client_new(NULL);
  f = get(c, url("/hello"));
  is_int(gust_fetch_response_code(R(f)), 200, "GET: 200");
  is_str(gust_fetch_response_reason(R(f)), "OK", "GET: reason");
  body_is(f, "Hello, world", "GET: body");
  is_str(hdr(f, "Content-Length"), "12", "GET: headers");
  is_int(gust_fetch_response_error(R(f)), 0, "GET: no error");
  ok(gust_fetch_response_error_message(R(f)) == NULL, "GET: no message");
  is_str(gust_fetch_response_effective_url(R(f)), url("/hello"),
         "GET: effective URL");
  is_str(gust_fetch_response_request_url(R(f)), url("/hello"),
         "GET: request URL");
  gust_fetch_response_timings(R(f), &t);
  ok(t.total >= t.starttransfer && t.starttransfer >= 0 && t.connect > 0 &&
         t.queue >= 0 && t.start > 1e9 && t.redirects == 0 && !t.reused,
     "GET: timings");
  gust_future_unref(f);

  /* the convenience call */
  is_int(gust_http_client_fetch_url(c, url("/echo?a=1#frag"), &f), 0,
         "fetch_url");
  t_run_future(f);
  is_str(hdr(f, "X-Seen-Method"), "GET", "request: method");
  is_str(hdr(f, "X-Seen-Uri"), "/echo?a=1", "request: target, no fragment");
  {
    char host[64];
    snprintf(host, sizeof(host), "127.0.0.1:%d", S.port);
    is_str(hdr(f, "X-Seen-Host"), host, "request: Host from the URL");
  }
  is_str(hdr(f, "X-Seen-UA"), "gust/" GUST_VERSION_STRING,
         "request: default User-Agent");
  is_str(hdr(f, "X-Seen-AE"), "gzip", "request: Accept-Encoding");
  is_str(hdr(f, "X-Seen-CL"), "-", "request: GET has no Content-Length");
  gust_future_unref(f);

  /* keep_request_head: the head as sent */
  gust_fetch_request_init(&r, url("/echo?h"));
  r.keep_request_head = 1;
  f = run(c, &r);
  {
    gust_slice h = gust_fetch_response_request_head(R(f));
    char want[128];
    snprintf(want, sizeof(want),
             "GET /echo?h HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n", S.port);
    ok(h.len > strlen(want) && memcmp(h.ptr, want, strlen(want)) == 0 &&
           memcmp(h.ptr + h.len - 4, "\r\n\r\n", 4) == 0,
       "keep_request_head: the request line, Host, ..., blank line");
  }
  gust_future_unref(f);
  f = get(c, url("/echo"));
  is_int(gust_fetch_response_request_head(R(f)).len, 0,
         "keep_request_head off: nothing kept");
  gust_future_unref(f);

  /* HEAD: no body even though the server says how long it would be */
  gust_fetch_request_init(&r, url("/echo"));
  r.method = "HEAD";
  f = run(c, &r);
  is_int(gust_fetch_response_code(R(f)), 200, "HEAD: 200");
  is_int(gust_fetch_response_body(R(f)).len, 0, "HEAD: no body");
  gust_future_unref(f);

  /* a status with a body, and an unknown one */
  f = get(c, url("/status?code=404"));
  is_int(gust_fetch_response_code(R(f)), 404, "404 is a response");
  is_str(gust_fetch_response_reason(R(f)), "Not Found", "404 reason");
  is_int(gust_fetch_response_error(R(f)), 0, "404 is not an error");
  gust_future_unref(f);
  f = get(c, url("/status?code=299"));
  is_int(gust_fetch_response_code(R(f)), 299, "unknown status kept");
  is_str(gust_fetch_response_reason(R(f)), "Unknown", "unknown reason");
  gust_future_unref(f);
  gust_http_client_free(c);
  srv_stop();
}

static void t_args(void) {
  gust_http_client *c;
  gust_fetch_request r;
  gust_future *f = (gust_future *)&r;
  gust_headers h;
  srv_start(NULL);
  c = client_new(NULL);
  is_int(gust_http_client_new(NULL, loop, NULL, NULL), GUST_EINVAL,
         "new: NULL out");
  is_int(gust_http_client_fetch(c, NULL, &f), GUST_EINVAL, "fetch: NULL");
  ok(f == NULL, "fetch: *out cleared on error");

  gust_fetch_request_init(&r, "not a url");
  is_int(gust_http_client_fetch(c, &r, &f), GUST_EINVAL, "bad URL");
  ok(strstr(gust_http_client_last_error(c), "malformed URL") != NULL,
     "bad URL: message (%s)", gust_http_client_last_error(c));
  gust_fetch_request_init(&r, "ftp://127.0.0.1/x");
  is_int(gust_http_client_fetch(c, &r, &f), GUST_EINVAL, "ftp refused");
  ok(strstr(gust_http_client_last_error(c), "Unsupported url scheme") != NULL,
     "ftp: message");
  gust_fetch_request_init(&r, "/relative");
  is_int(gust_http_client_fetch(c, &r, &f), GUST_EINVAL, "relative refused");

  gust_fetch_request_init(&r, url("/echo"));
  r.body = "x";
  r.body_len = 1;
  is_int(gust_http_client_fetch(c, &r, &f), GUST_EINVAL, "GET with a body");
  is_str(gust_http_client_last_error(c),
         "Body must be None for method GET (unless allow_nonstandard_methods "
         "is true)",
         "GET with a body: Tornado's message");
  r.method = "POST";
  r.body = NULL;
  is_int(gust_http_client_fetch(c, &r, &f), GUST_EINVAL, "POST without body");
  is_str(gust_http_client_last_error(c),
         "Body must not be None for method POST (unless "
         "allow_nonstandard_methods is true)",
         "POST without body: Tornado's message");
  r.method = "BAD METHOD";
  is_int(gust_http_client_fetch(c, &r, &f), GUST_EINVAL, "method not a token");

  gust_headers_init(&h, NULL);
  gust_headers_add_str(&h, "Transfer-Encoding", "chunked");
  gust_fetch_request_init(&r, url("/echo"));
  r.headers = &h;
  is_int(gust_http_client_fetch(c, &r, &f), GUST_EINVAL,
         "Transfer-Encoding refused");
  gust_headers_free(&h);

  /* allow_nonstandard_methods: GET with a body goes out with its length */
  gust_fetch_request_init(&r, url("/echo"));
  r.body = "abc";
  r.body_len = 3;
  r.allow_nonstandard_methods = 1;
  f = run(c, &r);
  is_str(hdr(f, "X-Seen-CL"), "3", "nonstandard: GET body has a length");
  body_is(f, "abc", "nonstandard: body echoed");
  gust_future_unref(f);
  gust_http_client_free(c);
  srv_stop();
}

/* An IPv6 literal: connected to, and sent as Host with its brackets. */
static void t_ipv6(void) {
  gust_http_client *c;
  gust_http_server *srv6;
  gust_future *f;
  char u[128], host[64];
  int port;
  if (!t_have_ipv6()) {
    ok(!tap_in_ci(), "ipv6: this host has no IPv6 loopback");
    return;
  }
  if (gust_http_server_new_cb(&srv6, loop, NULL, handler, NULL, NULL) != 0 ||
      gust_http_server_listen(srv6, "::1", 0, NULL) != 0)
    bail_out("IPv6 server");
  port = gust_http_server_port(srv6);
  c = client_new(NULL);
  snprintf(u, sizeof(u), "http://[::1]:%d/echo?six", port);
  f = get(c, u);
  is_int(gust_fetch_response_code(R(f)), 200, "ipv6: 200");
  snprintf(host, sizeof(host), "[::1]:%d", port);
  is_str(hdr(f, "X-Seen-Host"), host, "ipv6: Host keeps the brackets");
  is_str(hdr(f, "X-Seen-Uri"), "/echo?six", "ipv6: target");
  gust_future_unref(f);
  gust_http_client_free(c);
  gust_http_server_free(srv6);
}

static void t_post(void) {
  gust_http_client *c;
  gust_fetch_request r;
  gust_headers h;
  gust_future *f;
  char u[256];
  srv_start(NULL);
  c = client_new(NULL);
  gust_fetch_request_init(&r, url("/echo"));
  r.method = "POST";
  r.body = "a=1&b=2";
  r.body_len = 7;
  f = run(c, &r);
  body_is(f, "a=1&b=2", "POST: body echoed");
  is_str(hdr(f, "X-Seen-CL"), "7", "POST: Content-Length");
  is_str(hdr(f, "X-Seen-CT"), "application/x-www-form-urlencoded",
         "POST: default Content-Type");
  gust_future_unref(f);

  /* empty body, given headers win, Basic auth, user agent */
  gust_headers_init(&h, NULL);
  gust_headers_add_str(&h, "Content-Type", "text/plain");
  gust_headers_add_str(&h, "X-Custom", "yes");
  gust_headers_add_str(&h, "User-Agent", "mine/1");
  gust_fetch_request_init(&r, url("/echo"));
  r.method = "PUT";
  r.body = "";
  r.body_len = 0;
  r.headers = &h;
  r.auth_username = "Aladdin";
  r.auth_password = "open sesame";
  f = run(c, &r);
  is_str(hdr(f, "X-Seen-Method"), "PUT", "PUT: method");
  is_str(hdr(f, "X-Seen-CL"), "0", "PUT: empty body has length 0");
  is_str(hdr(f, "X-Seen-CT"), "text/plain", "PUT: given Content-Type");
  is_str(hdr(f, "X-Seen-Custom"), "yes", "custom header sent");
  is_str(hdr(f, "X-Seen-UA"), "mine/1", "given User-Agent wins");
  is_str(hdr(f, "X-Seen-Auth"), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
         "Basic auth (RFC 7617's example)");
  gust_future_unref(f);
  r.user_agent = "other/2";
  gust_headers_remove(&h, "User-Agent");
  f = run(c, &r);
  is_str(hdr(f, "X-Seen-UA"), "other/2", "user_agent option");
  gust_future_unref(f);
  gust_headers_free(&h);

  /* credentials in the URL */
  snprintf(u, sizeof(u), "http://us%%65r:p%%40ss@127.0.0.1:%d/echo", S.port);
  f = get(c, u);
  is_str(hdr(f, "X-Seen-Auth"), "Basic dXNlcjpwQHNz",
         "URL userinfo: decoded into Basic auth");
  {
    char host[64];
    snprintf(host, sizeof(host), "127.0.0.1:%d", S.port);
    is_str(hdr(f, "X-Seen-Host"), host, "URL userinfo: not in Host");
  }
  gust_future_unref(f);

  /* if_modified_since, network_interface, allow_ipv6 */
  gust_fetch_request_init(&r, url("/echo"));
  r.if_modified_since = 784111777;
  r.network_interface = "127.0.0.1";
  r.allow_ipv6 = 0;
  f = run(c, &r);
  is_str(hdr(f, "X-Seen-IMS"), "Sun, 06 Nov 1994 08:49:37 GMT",
         "if_modified_since: an HTTP-date");
  is_int(gust_fetch_response_code(R(f)), 200, "network_interface: 200");
  gust_future_unref(f);
  gust_fetch_request_init(&r, url("/echo"));
  is_str(hdr(f = run(c, &r), "X-Seen-IMS"), "-",
         "no If-Modified-Since by default");
  gust_future_unref(f);
  snprintf(u, sizeof(u), "http://localhost:%d/echo", S.port);
  gust_fetch_request_init(&r, u);
  r.network_interface = "192.0.2.1"; /* TEST-NET-1: not a local address */
  f = run(c, &r);
  is_int(gust_fetch_response_code(R(f)), 599,
         "network_interface not local: 599 (%s)",
         gust_errname(gust_fetch_response_error(R(f))));
  gust_future_unref(f);

  /* decompress_response off: no Accept-Encoding */
  gust_fetch_request_init(&r, url("/echo"));
  r.decompress_response = 0;
  f = run(c, &r);
  is_str(hdr(f, "X-Seen-AE"), "-", "no Accept-Encoding when not decompressing");
  gust_future_unref(f);
  gust_http_client_free(c);
  srv_stop();
}

static void t_pool(void) {
  gust_http_client *c;
  gust_http_client_opts o;
  gust_http_client_stats st;
  gust_future *f;
  gust_fetch_timings t;
  char first[32];
  int i, same = 1;
  srv_start(NULL);
  c = client_new(NULL);
  f = get(c, url("/echo"));
  snprintf(first, sizeof(first), "%s", hdr(f, "X-Peer-Port"));
  gust_future_unref(f);
  for (i = 0; i < 4; i++) {
    f = get(c, url("/echo?i=%d", i));
    same &= strcmp(hdr(f, "X-Peer-Port"), first) == 0;
    gust_fetch_response_timings(R(f), &t);
    same &= t.reused && t.connect == 0;
    gust_future_unref(f);
  }
  ok(same, "keep-alive: five requests on one connection");
  gust_http_client_stats_get(c, &st);
  is_int(st.connects, 1, "stats: one connect");
  is_int(st.reuses, 4, "stats: four reuses");
  is_int(st.idle, 1, "stats: the connection is idle in the pool");
  is_int(st.active, 0, "stats: nothing active");

  /* a response with Connection: close is not pooled */
  f = get(c, url("/close"));
  body_is(f, "bye", "close: body");
  gust_future_unref(f);
  t_run_for(loop, 0.05);
  gust_http_client_stats_get(c, &st);
  is_int(st.idle, 0, "close: the connection left the pool");
  f = get(c, url("/echo"));
  gust_http_client_stats_get(c, &st);
  is_int(st.connects, 2, "close: the next request connects again");
  gust_future_unref(f);

  /* close_idle */
  gust_http_client_close_idle(c);
  t_run_for(loop, 0.05);
  gust_http_client_stats_get(c, &st);
  is_int(st.connections, 0, "close_idle: nothing left open");
  gust_http_client_free(c);

  /* no_keep_alive: a connection per request, Connection: close sent */
  memset(&o, 0, sizeof(o));
  o.no_keep_alive = 1;
  c = client_new(&o);
  for (i = 0; i < 3; i++) {
    f = get(c, url("/echo"));
    is_int(gust_fetch_response_code(R(f)), 200, "no_keep_alive: 200");
    gust_future_unref(f);
  }
  gust_http_client_stats_get(c, &st);
  is_int(st.connects, 3, "no_keep_alive: three connects");
  is_int(st.reuses, 0, "no_keep_alive: no reuse");
  gust_http_client_free(c);

  /* idle expiry */
  memset(&o, 0, sizeof(o));
  o.idle_timeout = 0.1;
  c = client_new(&o);
  f = get(c, url("/echo"));
  gust_future_unref(f);
  gust_http_client_stats_get(c, &st);
  is_int(st.idle, 1, "idle_timeout: pooled first");
  for (i = 0; i < 200 && st.connections > 0; i++) {
    t_run_for(loop, 0.05);
    gust_http_client_stats_get(c, &st);
  }
  is_int(st.connections, 0, "idle_timeout: closed after the timeout");
  gust_http_client_free(c);

  /* the server closes idle connections: the next request still works */
  srv_stop();
  {
    gust_http_server_opts so;
    memset(&so, 0, sizeof(so));
    so.idle_connection_timeout = 0.1;
    srv_start(&so);
  }
  c = client_new(NULL);
  f = get(c, url("/echo"));
  gust_future_unref(f);
  t_run_for(loop, 1.5);
  gust_http_client_stats_get(c, &st);
  is_int(st.idle, 0, "server closed the idle connection: left the pool");
  f = get(c, url("/echo"));
  is_int(gust_fetch_response_code(R(f)), 200, "server closed idle: next ok");
  gust_future_unref(f);
  gust_http_client_free(c);
  srv_stop();

  /* max_idle_per_host: parallel requests leave at most that many idle */
  srv_start(NULL);
  memset(&o, 0, sizeof(o));
  o.max_idle_per_host = 2;
  c = client_new(&o);
  {
    gust_future *fs[5];
    for (i = 0; i < 5; i++)
      if (gust_http_client_fetch_url(c, url("/slow?ms=30"), &fs[i]) != 0)
        bail_out("fetch");
    for (i = 0; i < 5; i++) {
      t_run_future(fs[i]);
      is_int(gust_fetch_response_code(R(fs[i])), 200, "parallel %d: 200", i);
      gust_future_unref(fs[i]);
    }
  }
  gust_http_client_stats_get(c, &st);
  is_int(st.connects, 5, "parallel: five connections");
  is_int(st.idle, 2, "max_idle_per_host: two kept");
  gust_http_client_free(c);
  srv_stop();
}

static void t_queue(void) {
  gust_http_client *c;
  gust_http_client_opts o;
  gust_http_client_stats st;
  gust_future *fs[6], *f;
  gust_fetch_request r;
  int i, good = 0;
  srv_start(NULL);
  memset(&o, 0, sizeof(o));
  o.max_clients = 2;
  c = client_new(&o);
  for (i = 0; i < 6; i++)
    if (gust_http_client_fetch_url(c, url("/slow?ms=40"), &fs[i]) != 0)
      bail_out("fetch");
  gust_http_client_stats_get(c, &st);
  is_int(st.active, 6, "queue: six active");
  is_int(st.queued, 4, "queue: four wait for a slot");
  for (i = 0; i < 6; i++) {
    t_run_future(fs[i]);
    good += gust_fetch_response_code(R(fs[i])) == 200;
    gust_future_unref(fs[i]);
  }
  is_int(good, 6, "queue: all six answered");
  is_int(S.max_concurrent, 2, "queue: never more than max_clients at once");

  /* a queued request times out in the queue */
  if (gust_http_client_fetch_url(c, url("/hang"), &fs[0]) != 0 ||
      gust_http_client_fetch_url(c, url("/hang"), &fs[1]) != 0)
    bail_out("fetch");
  gust_fetch_request_init(&r, url("/hello"));
  r.connect_timeout = 0.2;
  f = run(c, &r);
  is_int(gust_fetch_response_code(R(f)), 599, "queue timeout: 599");
  is_int(gust_fetch_response_error(R(f)), GUST_ETIMEDOUT,
         "queue timeout: GUST_ETIMEDOUT");
  is_str(gust_fetch_response_error_message(R(f)), "Timeout in request queue",
         "queue timeout: Tornado's message");
  gust_future_unref(f);

  /* cancelling a running request frees its slot */
  is_int(gust_future_cancel(fs[0]), 1, "cancel: cancelled");
  is_int(gust_future_cancel(fs[1]), 1, "cancel: second cancelled");
  f = get(c, url("/hello"));
  is_int(gust_fetch_response_code(R(f)), 200, "after cancel: slot reused");
  gust_future_unref(f);
  gust_future_unref(fs[0]);
  gust_future_unref(fs[1]);
  gust_http_client_stats_get(c, &st);
  is_int(st.active, 0, "after cancel: nothing active");
  gust_http_client_free(c);
  srv_stop();
}

/* A resolver that knows no "bad.example" and hands the rest to the
 * default one. */
static int picky_resolve(gust_loop *l, const char *host, int port, int family,
                         gust_resolve_done_fn done, void *token, void *ud) {
  const gust_resolver *d = gust_resolver_default();
  (void)ud;
  if (strcmp(host, "bad.example") == 0) {
    done(token, GUST_ERESOLVE, NULL, 0);
    return 0;
  }
  return d->resolve(l, host, port, family, done, token, d->user_data);
}

/* One slot, and in front of a good request: a name that does not resolve,
 * a TLS handshake with a plain HTTP server, a timeout. None stalls the
 * queue. */
static void t_queue_failures(void) {
  gust_http_client *c;
  gust_http_client_opts o;
  gust_resolver res = {picky_resolve, NULL};
  gust_fetch_request r;
  gust_future *fs[4];
  char u[128];
  int i;
  srv_start(NULL);
  memset(&o, 0, sizeof(o));
  o.max_clients = 1;
  o.resolver = &res;
  c = client_new(&o);
  snprintf(u, sizeof(u), "http://bad.example:%d/echo", S.port);
  if (gust_http_client_fetch_url(c, u, &fs[0]) != 0)
    bail_out("fetch");
  snprintf(u, sizeof(u), "https://127.0.0.1:%d/echo", S.port);
  gust_fetch_request_init(&r, u);
  r.validate_cert = 0;
  if (gust_http_client_fetch(c, &r, &fs[1]) != 0)
    bail_out("fetch");
  gust_fetch_request_init(&r, url("/hang"));
  r.request_timeout = 0.2;
  if (gust_http_client_fetch(c, &r, &fs[2]) != 0 ||
      gust_http_client_fetch_url(c, url("/hello"), &fs[3]) != 0)
    bail_out("fetch");
  for (i = 0; i < 4; i++)
    t_run_future(fs[i]);
  is_int(gust_fetch_response_code(R(fs[0])), 599, "queue: DNS failure: 599");
  is_int(gust_fetch_response_error(R(fs[0])), GUST_ERESOLVE,
         "queue: DNS failure: GUST_ERESOLVE");
  is_int(gust_fetch_response_code(R(fs[1])), 599, "queue: TLS failure: 599");
  ok(gust_fetch_response_error(R(fs[1])) <= GUST_ETLS &&
         gust_fetch_response_error(R(fs[1])) >= GUST_ETLS_CONFIG,
     "queue: TLS failure: a TLS error (%s)",
     gust_errname(gust_fetch_response_error(R(fs[1]))));
  is_int(gust_fetch_response_error(R(fs[2])), GUST_ETIMEDOUT,
         "queue: timeout: GUST_ETIMEDOUT");
  is_int(gust_fetch_response_code(R(fs[3])), 200,
         "queue: the good request behind them: 200");
  for (i = 0; i < 4; i++)
    gust_future_unref(fs[i]);
  gust_http_client_free(c);
  srv_stop();
}

static void t_timeouts(void) {
  gust_http_client *c;
  gust_fetch_request r;
  gust_future *f;
  hang_listener h;
  char u[128];
  srv_start(NULL);
  c = client_new(NULL);
  gust_fetch_request_init(&r, url("/hang"));
  r.request_timeout = 0.3;
  f = run(c, &r);
  is_int(gust_fetch_response_code(R(f)), 599, "request timeout: 599");
  is_int(gust_fetch_response_error(R(f)), GUST_ETIMEDOUT,
         "request timeout: code");
  is_str(gust_fetch_response_error_message(R(f)), "Timeout during request",
         "request timeout: message");
  is_str(gust_fetch_response_reason(R(f)), "Unknown", "599 reason");
  gust_future_unref(f);

  if (hang_open(&h) != 0) {
    ok(!tap_in_ci(), "connect timeout: this host drops no SYN");
  } else {
    snprintf(u, sizeof(u), "http://127.0.0.1:%d/", h.port);
    gust_fetch_request_init(&r, u);
    r.connect_timeout = 0.3;
    f = run(c, &r);
    is_int(gust_fetch_response_code(R(f)), 599, "connect timeout: 599");
    is_str(gust_fetch_response_error_message(R(f)), "Timeout while connecting",
           "connect timeout: message");
    gust_future_unref(f);
    hang_close(&h);
  }

  /* refused */
  snprintf(u, sizeof(u), "http://127.0.0.1:%d/", t_closed_port("127.0.0.1"));
  f = get(c, u);
  is_int(gust_fetch_response_code(R(f)), 599, "refused: 599");
  is_int(gust_fetch_response_error(R(f)), GUST_ECONNREFUSED,
         "refused: GUST_ECONNREFUSED");
  gust_future_unref(f);
  gust_http_client_free(c);
  srv_stop();
}

static void t_redirects(void) {
  gust_http_client *c;
  gust_fetch_request r;
  gust_headers h;
  gust_future *f;
  gust_fetch_timings t;
  char u[256];
  srv_start(NULL);
  c = client_new(NULL);
  f = get(c, url("/redirect?code=302&to=/echo%%3Fx%%3D1"));
  is_int(gust_fetch_response_code(R(f)), 200, "302 followed");
  is_str(gust_fetch_response_effective_url(R(f)), url("/echo?x=1"),
         "302: effective URL");
  is_str(gust_fetch_response_request_url(R(f)),
         url("/redirect?code=302&to=/echo%%3Fx%%3D1"), "302: request URL");
  gust_fetch_response_timings(R(f), &t);
  is_int(t.redirects, 1, "302: one redirect counted");
  gust_future_unref(f);

  /* relative Location */
  f = get(c, url("/redirect?to=echo%%3Frel"));
  is_str(hdr(f, "X-Seen-Uri"), "/echo?rel", "relative Location resolved");
  gust_future_unref(f);

  /* POST + 302 → GET without body; POST + 307 keeps method and body */
  gust_fetch_request_init(&r, url("/redirect?code=302"));
  r.method = "POST";
  r.body = "payload";
  r.body_len = 7;
  f = run(c, &r);
  is_str(hdr(f, "X-Seen-Method"), "GET", "POST 302: becomes GET");
  is_str(hdr(f, "X-Seen-CL"), "-", "POST 302: body dropped");
  is_str(hdr(f, "X-Seen-CT"), "-", "POST 302: Content-Type dropped");
  gust_future_unref(f);
  r.url = url("/redirect?code=307");
  f = run(c, &r);
  is_str(hdr(f, "X-Seen-Method"), "POST", "POST 307: method kept");
  body_is(f, "payload", "POST 307: body kept");
  gust_future_unref(f);
  r.url = url("/redirect?code=308");
  f = run(c, &r);
  body_is(f, "payload", "POST 308: body kept");
  gust_future_unref(f);
  r.url = url("/redirect?code=303");
  r.method = "PUT";
  f = run(c, &r);
  is_str(hdr(f, "X-Seen-Method"), "GET", "PUT 303: becomes GET");
  gust_future_unref(f);
  r.url = url("/redirect?code=301");
  f = run(c, &r);
  is_str(hdr(f, "X-Seen-Method"), "PUT", "PUT 301: method kept");
  body_is(f, "payload", "PUT 301: body kept");
  gust_future_unref(f);

  /* not followed */
  gust_fetch_request_init(&r, url("/redirect"));
  r.follow_redirects = 0;
  f = run(c, &r);
  is_int(gust_fetch_response_code(R(f)), 302, "follow_redirects=0: 302");
  body_is(f, "moved", "follow_redirects=0: its body");
  is_str(hdr(f, "Location"), "/echo", "follow_redirects=0: Location");
  gust_future_unref(f);

  /* exhausted: the 3xx comes back */
  gust_fetch_request_init(&r, url("/loop"));
  r.max_redirects = 3;
  f = run(c, &r);
  is_int(gust_fetch_response_code(R(f)), 302, "max_redirects: last 3xx");
  gust_fetch_response_timings(R(f), &t);
  is_int(t.redirects, 3, "max_redirects: three followed");
  gust_future_unref(f);

  /* cross-origin hop: Authorization and Cookie stay behind */
  gust_headers_init(&h, NULL);
  gust_headers_add_str(&h, "Cookie", "a=b");
  snprintf(u, sizeof(u), "/redirect?to=http://localhost:%d/echo", S.port);
  gust_fetch_request_init(&r, url("%s", u));
  r.headers = &h;
  r.auth_username = "u";
  r.auth_password = "p";
  f = run(c, &r);
  is_int(gust_fetch_response_code(R(f)), 200, "cross-origin: followed");
  is_str(hdr(f, "X-Seen-Auth"), "-", "cross-origin: no Authorization");
  is_str(hdr(f, "X-Seen-Cookie"), "-", "cross-origin: no Cookie");
  gust_future_unref(f);
  /* same origin keeps them */
  gust_fetch_request_init(&r, url("/redirect"));
  r.headers = &h;
  r.auth_username = "u";
  r.auth_password = "p";
  f = run(c, &r);
  is_str(hdr(f, "X-Seen-Auth"), "Basic dTpw", "same origin: Authorization");
  is_str(hdr(f, "X-Seen-Cookie"), "a=b", "same origin: Cookie");
  gust_future_unref(f);
  gust_headers_free(&h);

  /* a Location that is not http(s) */
  f = get(c, url("/redirect?to=ftp://x/"));
  is_int(gust_fetch_response_code(R(f)), 599, "ftp Location: 599");
  gust_future_unref(f);
  gust_http_client_free(c);
  srv_stop();
}

static void t_gzip(void) {
  gust_http_client *c;
  gust_fetch_request r;
  gust_future *f;
  gust_slice b;
  srv_start(NULL);
  c = client_new(NULL);
  f = get(c, url("/gzip"));
  body_is(f,
          "compressed hello, compressed hello, compressed hello, "
          "compressed hello",
          "gzip: decoded");
  is_str(hdr(f, "Content-Encoding"), "(none)", "gzip: Content-Encoding gone");
  is_str(hdr(f, "X-Consumed-Content-Encoding"), "gzip",
         "gzip: X-Consumed-Content-Encoding");
  gust_future_unref(f);
  gust_fetch_request_init(&r, url("/gzip"));
  r.decompress_response = 0;
  f = run(c, &r);
  b = gust_fetch_response_body(R(f));
  ok(b.len > 10 && b.len < 60 && b.ptr[0] == 0x1f && b.ptr[1] == 0x8b,
     "no decompression: raw gzip bytes");
  is_str(hdr(f, "Content-Encoding"), "gzip", "no decompression: header kept");
  gust_future_unref(f);
  /* an empty body announced as gzip (HEAD, empty files) */
  f = get(c, url("/gzip-empty"));
  is_int(gust_fetch_response_code(R(f)), 200, "empty gzip body: 200");
  is_int(gust_fetch_response_body(R(f)).len, 0, "empty gzip body: empty");
  gust_future_unref(f);
  gust_fetch_request_init(&r, url("/gzip"));
  r.method = "HEAD";
  f = run(c, &r);
  is_int(gust_fetch_response_code(R(f)), 200, "HEAD of a gzip body: 200");
  gust_future_unref(f);
  /* a decoded size over max_body_size */
  gust_fetch_request_init(&r, url("/gzip"));
  r.max_body_size = 60; /* above the compressed size, below the decoded */
  f = run(c, &r);
  is_int(gust_fetch_response_code(R(f)), 599, "decoded over the limit: 599");
  is_int(gust_fetch_response_error(R(f)), GUST_EZIP_TOOBIG,
         "decoded over the limit: GUST_EZIP_TOOBIG");
  gust_future_unref(f);
  gust_http_client_free(c);
  srv_stop();
}

typedef struct sink {
  uint64_t total;
  int pieces;
  int bad;
  int heads;
  int head_code;
  int fail_at;   /* piece number whose callback fails (0 = never) */
  int waits;     /* pieces answered with a sleep future */
  int cancel_at; /* piece number whose callback cancels the fetch */
  gust_future *fut;
} sink;

static int on_piece(const void *data, size_t len, void *ud, gust_future **w) {
  sink *s = ud;
  const uint8_t *p = data;
  size_t i;
  for (i = 0; i < len; i++)
    if (p[i] != (uint8_t)(((s->total + i) % 65536) * 7 + 3))
      s->bad = 1;
  s->total += len;
  s->pieces++;
  if (s->fail_at != 0 && s->pieces == s->fail_at)
    return GUST_EINVAL;
  if (s->cancel_at != 0 && s->pieces == s->cancel_at)
    gust_future_cancel(s->fut);
  if (s->waits > 0 && s->pieces % 4 == 0) {
    s->waits--;
    if (gust_future_sleep(w, loop, 0.001, NULL) != 0)
      return GUST_ENOMEM;
  }
  return 0;
}

static int on_head(const gust_fetch_response *r, void *ud) {
  sink *s = ud;
  s->heads++;
  s->head_code = gust_fetch_response_code(r);
  return s->fail_at < 0 ? GUST_EBUSY : 0;
}

static void t_streaming(void) {
  gust_http_client *c;
  gust_fetch_request r;
  gust_future *f;
  sink s;
  srv_start(NULL);
  c = client_new(NULL);
  memset(&s, 0, sizeof(s));
  s.waits = 20;
  gust_fetch_request_init(&r, url("/big?n=5000000"));
  r.streaming_callback = on_piece;
  r.header_callback = on_head;
  r.user_data = &s;
  f = run(c, &r);
  is_int(gust_fetch_response_code(R(f)), 200, "streaming: 200");
  is_int(s.total, 5000000, "streaming: every byte delivered");
  ok(!s.bad, "streaming: bytes in order");
  ok(s.pieces > 1, "streaming: in pieces (%d)", s.pieces);
  is_int(s.waits, 0, "streaming: the waits were honoured");
  is_int(gust_fetch_response_body(R(f)).len, 0, "streaming: body not kept");
  is_int(s.heads, 1, "header_callback: once");
  is_int(s.head_code, 200, "header_callback: sees the code");
  gust_future_unref(f);

  /* the callback fails: 599 with its code, and the next request runs */
  memset(&s, 0, sizeof(s));
  s.fail_at = 3;
  f = run(c, &r);
  is_int(gust_fetch_response_code(R(f)), 599, "streaming error: 599");
  is_int(gust_fetch_response_error(R(f)), GUST_EINVAL,
         "streaming error: the callback's code");
  gust_future_unref(f);
  memset(&s, 0, sizeof(s));
  s.fail_at = -1;
  f = run(c, &r);
  is_int(gust_fetch_response_code(R(f)), 599, "header_callback error: 599");
  is_int(s.total, 0, "header_callback error: no body delivered");
  gust_future_unref(f);
  f = get(c, url("/hello"));
  is_int(gust_fetch_response_code(R(f)), 200, "after errors: next ok");
  gust_future_unref(f);

  /* cancelled from inside the streaming callback: no more pieces */
  memset(&s, 0, sizeof(s));
  s.cancel_at = 2;
  if (gust_http_client_fetch(c, &r, &s.fut) != 0)
    bail_out("fetch");
  t_run_future(s.fut);
  ok(gust_future_cancelled(s.fut), "cancel in the callback: cancelled");
  t_run_for(loop, 0.05);
  is_int(s.pieces, 2, "cancel in the callback: no piece after it");
  {
    gust_http_client_stats st;
    gust_http_client_stats_get(c, &st);
    is_int(st.active, 0, "cancel in the callback: slot freed");
  }
  gust_future_unref(s.fut);

  /* a body over max_body_size */
  gust_fetch_request_init(&r, url("/big?n=100000"));
  r.max_body_size = 50000;
  f = run(c, &r);
  is_int(gust_fetch_response_code(R(f)), 599, "max_body_size: 599");
  is_int(gust_fetch_response_error(R(f)), GUST_EHTTP_BODY_SIZE,
         "max_body_size: GUST_EHTTP_BODY_SIZE");
  gust_future_unref(f);
  /* a head over max_header_size */
  gust_fetch_request_init(&r, url("/echo"));
  r.max_header_size = 100;
  f = run(c, &r);
  is_int(gust_fetch_response_code(R(f)), 599, "max_header_size: 599");
  is_int(gust_fetch_response_error(R(f)), GUST_EHTTP_HEAD_SIZE,
         "max_header_size: GUST_EHTTP_HEAD_SIZE");
  gust_future_unref(f);
  gust_http_client_free(c);
  srv_stop();
}

typedef struct producer {
  int calls;
  int step;
  int fail;
  size_t total;
  gust_fetch_body_writer *w;
  gust_future *done;
} producer;

static void produce_step(gust_future *prev, void *ud);

static void produce_more(producer *p) {
  gust_future *wf = NULL;
  char piece[1000];
  memset(piece, 'a' + p->step % 26, sizeof(piece));
  if (p->step == 50) {
    if (p->fail)
      gust_future_set_error(p->done, GUST_EIO, "producer broke");
    else
      gust_future_set_result(p->done, NULL, NULL);
    gust_future_unref(p->done);
    p->done = NULL;
    return;
  }
  p->step++;
  if (gust_fetch_body_write(p->w, piece, sizeof(piece), &wf) != 0) {
    gust_future_set_error(p->done, GUST_EIO, "write failed");
    gust_future_unref(p->done);
    p->done = NULL;
    return;
  }
  p->total += sizeof(piece);
  gust_future_add_done_callback(wf, produce_step, p);
  gust_future_unref(wf);
}

static void produce_step(gust_future *prev, void *ud) {
  (void)prev;
  produce_more(ud);
}

static int producer_fn(gust_fetch_body_writer *w, void *ud,
                       gust_future **done) {
  producer *p = ud;
  p->calls++;
  p->w = w;
  p->step = 0;
  if (gust_future_new(&p->done, loop, NULL) != 0)
    return GUST_ENOMEM;
  *done = gust_future_ref(p->done);
  produce_more(p);
  return 0;
}

static void t_producer(void) {
  gust_http_client *c;
  gust_fetch_request r;
  gust_future *f;
  gust_slice b;
  producer p;
  size_t i;
  int good = 1;
  srv_start(NULL);
  c = client_new(NULL);
  memset(&p, 0, sizeof(p));
  gust_fetch_request_init(&r, url("/echo"));
  r.method = "POST";
  r.body_producer = producer_fn;
  r.user_data = &p;
  f = run(c, &r);
  is_int(gust_fetch_response_code(R(f)), 200, "producer: 200");
  is_str(hdr(f, "X-Seen-TE"), "chunked", "producer: sent chunked");
  b = gust_fetch_response_body(R(f));
  is_int(b.len, 50000, "producer: every byte arrived");
  for (i = 0; i < b.len && good; i++)
    good = b.ptr[i] == 'a' + (i / 1000) % 26;
  ok(good, "producer: bytes in order");
  is_int(p.calls, 1, "producer: called once");
  gust_future_unref(f);

  /* the producer fails */
  memset(&p, 0, sizeof(p));
  p.fail = 1;
  f = run(c, &r);
  is_int(gust_fetch_response_code(R(f)), 599, "producer failure: 599");
  is_int(gust_fetch_response_error(R(f)), GUST_EIO,
         "producer failure: its code");
  is_str(gust_fetch_response_error_message(R(f)), "producer broke",
         "producer failure: its message");
  gust_future_unref(f);

  /* expect_100_continue: the body goes after the 100 */
  memset(&p, 0, sizeof(p));
  r.expect_100_continue = 1;
  f = run(c, &r);
  is_int(gust_fetch_response_code(R(f)), 200, "expect 100: 200");
  is_int(gust_fetch_response_body(R(f)).len, 50000, "expect 100: body sent");
  gust_future_unref(f);
  gust_http_client_free(c);
  srv_stop();

  /* expect_100_continue refused by the server's body limit: 413, and the
   * producer is never called */
  {
    gust_http_server_opts so;
    gust_headers h;
    memset(&so, 0, sizeof(so));
    so.max_body_size = 1000;
    srv_start(&so);
    c = client_new(NULL);
    memset(&p, 0, sizeof(p));
    gust_headers_init(&h, NULL);
    gust_headers_add_str(&h, "Content-Length", "50000");
    gust_fetch_request_init(&r, url("/echo"));
    r.method = "POST";
    r.headers = &h;
    r.body_producer = producer_fn;
    r.user_data = &p;
    r.expect_100_continue = 1;
    f = run(c, &r);
    is_int(gust_fetch_response_code(R(f)), 413, "expect 100 refused: 413");
    is_int(p.calls, 0, "expect 100 refused: producer never called");
    gust_future_unref(f);
    gust_headers_free(&h);
    f = get(c, url("/hello"));
    is_int(gust_fetch_response_code(R(f)), 200, "after 413: next ok");
    gust_future_unref(f);
    gust_http_client_free(c);
    srv_stop();
  }
}

static void t_free_inflight(void) {
  gust_http_client *c;
  gust_future *f;
  srv_start(NULL);
  c = client_new(NULL);
  if (gust_http_client_fetch_url(c, url("/hang"), &f) != 0)
    bail_out("fetch");
  t_run_for(loop, 0.1);
  gust_http_client_free(c);
  t_run_future(f);
  is_int(gust_fetch_response_code(R(f)), 599, "freed client: 599");
  is_str(gust_fetch_response_error_message(R(f)), "Client closed",
         "freed client: message");
  gust_future_unref(f);
  t_run_for(loop, 0.1);
  srv_stop();
}

static void t_tls(void) {
  gust_http_client *c;
  gust_http_server_opts so;
  gust_tls_ctx *sctx;
  gust_fetch_request r;
  gust_future *f;
  char u[128];
  if (gust_tls_ctx_new(GUST_TLS_SERVER, NULL, &sctx) != 0 ||
      gust_tls_ctx_use_cert_file(sctx, tc_path("server.pem"),
                                 tc_path("server.key")) != 0)
    bail_out("server TLS context");
  memset(&so, 0, sizeof(so));
  so.tls = sctx;
  srv_start(&so);
  c = client_new(NULL);
  snprintf(u, sizeof(u), "https://localhost:%d/echo", S.port);
  gust_fetch_request_init(&r, u);
  r.ca_certs = tc_path("ca.pem");
  f = run(c, &r);
  is_int(gust_fetch_response_code(R(f)), 200, "https with the test CA: 200");
  gust_future_unref(f);
  f = run(c, &r);
  ok(strcmp(hdr(f, "X-Peer-Port"), "(none)") != 0, "https: second request");
  {
    gust_fetch_timings t;
    gust_fetch_response_timings(R(f), &t);
    ok(t.reused, "https: pooled connection reused");
  }
  gust_future_unref(f);

  /* the system store does not know the test CA */
  f = get(c, u);
  is_int(gust_fetch_response_code(R(f)), 599, "untrusted: 599");
  is_int(gust_fetch_response_error(R(f)), GUST_ETLS_VERIFY,
         "untrusted: GUST_ETLS_VERIFY");
  gust_future_unref(f);

  /* a certificate for another name (wrong.example), from the same CA */
  {
    gust_http_server *other;
    gust_tls_ctx *wctx;
    gust_http_server_opts wo;
    if (gust_tls_ctx_new(GUST_TLS_SERVER, NULL, &wctx) != 0 ||
        gust_tls_ctx_use_cert_file(wctx, tc_path("wronghost.pem"),
                                   tc_path("wronghost.key")) != 0)
      bail_out("wronghost context");
    memset(&wo, 0, sizeof(wo));
    wo.tls = wctx;
    if (gust_http_server_new_cb(&other, loop, &wo, handler, NULL, NULL) != 0 ||
        gust_http_server_listen(other, "127.0.0.1", 0, NULL) != 0)
      bail_out("wronghost server");
    snprintf(u, sizeof(u), "https://localhost:%d/echo",
             gust_http_server_port(other));
    gust_fetch_request_init(&r, u);
    r.ca_certs = tc_path("ca.pem");
    f = run(c, &r);
    is_int(gust_fetch_response_code(R(f)), 599, "wrong name: 599");
    ok(gust_fetch_response_error(R(f)) == GUST_ETLS_HOSTNAME ||
           gust_fetch_response_error(R(f)) == GUST_ETLS_VERIFY,
       "wrong name: refused (%s)",
       gust_errname(gust_fetch_response_error(R(f))));
    gust_future_unref(f);
    gust_http_client_close_idle(c);
    gust_http_server_free(other);
    t_run_for(loop, 0.05);
    gust_tls_ctx_free(wctx);
  }

  /* validate_cert = 0 */
  snprintf(u, sizeof(u), "https://localhost:%d/echo", S.port);
  gust_fetch_request_init(&r, u);
  r.validate_cert = 0;
  f = run(c, &r);
  is_int(gust_fetch_response_code(R(f)), 200, "validate_cert=0: 200");
  gust_future_unref(f);

  /* a CA file that does not exist */
  gust_fetch_request_init(&r, u);
  r.ca_certs = "/nonexistent/ca.pem";
  f = run(c, &r);
  is_int(gust_fetch_response_code(R(f)), 599, "missing CA file: 599");
  ok(strstr(gust_fetch_response_error_message(R(f)),
            "cannot load ca_certs: /nonexistent/ca.pem") != NULL,
     "missing CA file: the message names it (%s)",
     gust_fetch_response_error_message(R(f)));
  gust_future_unref(f);
  gust_http_client_free(c);
  srv_stop();
  t_run_for(loop, 0.05);
  gust_tls_ctx_free(sctx);
}

static void t_failmem(void) {
  gust_failmem fm;
  unsigned long n;
  int completed = 0, failed = 0, odd = 0;
  srv_start(NULL);
  gust_failmem_init(&fm, NULL);
  for (n = 1; n < 300; n++) {
    gust_http_client *c;
    gust_fetch_request r;
    gust_future *f = NULL;
    int rc;
    gust_failmem_reset(&fm, n);
    if (gust_http_client_new(&c, loop, NULL, &fm.mem) != 0)
      continue;
    gust_fetch_request_init(&r, url("/redirect"));
    r.method = "POST";
    r.body = "xyz";
    r.body_len = 3;
    rc = gust_http_client_fetch(c, &r, &f);
    if (rc == 0) {
      if (t_run_future(f) != 0)
        bail_out("failmem %lu: hang", n);
      if (gust_fetch_response_of(f) != NULL &&
          gust_fetch_response_code(gust_fetch_response_of(f)) == 200)
        completed++;
      else if (gust_fetch_response_of(f) != NULL ||
               gust_future_error(f) == GUST_ENOMEM)
        failed++; /* a 599, or no memory even for that */
      else
        odd++;
      gust_future_unref(f);
    }
    gust_http_client_free(c);
    t_run_for(loop, 0.005);
  }
  ok(completed > 0 && failed > 0 && odd == 0,
     "failmem: %d completed, %d failed cleanly", completed, failed);
  srv_stop();
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  tc_make_certs();
  t_run_group("basic", &loop, t_basic);
  t_run_group("args", &loop, t_args);
  t_run_group("post", &loop, t_post);
  t_run_group("ipv6", &loop, t_ipv6);
  t_run_group("pool", &loop, t_pool);
  t_run_group("queue", &loop, t_queue);
  t_run_group("timeouts", &loop, t_timeouts);
  t_run_group("queue_failures", &loop, t_queue_failures);
  t_run_group("redirects", &loop, t_redirects);
  t_run_group("gzip", &loop, t_gzip);
  t_run_group("streaming", &loop, t_streaming);
  t_run_group("producer", &loop, t_producer);
  t_run_group("free_inflight", &loop, t_free_inflight);
  t_run_group("tls", &loop, t_tls);
  t_run_group("failmem", &loop, t_failmem);
  tc_remove_certs();
  return done_testing();
}
