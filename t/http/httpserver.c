/* HTTP server: in-process tests over loopback. A raw client socket sends
 * bytes and reads what the server answers while the loop runs in short
 * slices; a small response parser splits what came back. */
#define _GNU_SOURCE
#include <gust/gzip.h>
#include <gust/httpserver.h>
#include <gust/testing.h>

#include <signal.h>

#include "../net/tcp_common.h"
#include "../proto/tls_common.h"

static gust_loop *loop;

/* ------------------------------------------------------------------ */
/* A raw client                                                          */
/* ------------------------------------------------------------------ */

typedef struct client {
  int fd;
  char buf[1 << 20];
  size_t len;
  int eof;
} client;

static client *cl_open(int port) {
  struct sockaddr_in a;
  client *c = calloc(1, sizeof(*c));
  if (c == NULL)
    bail_out("calloc");
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&a, sizeof(a)) != 0)
    bail_out("connect: %s", strerror(errno));
  fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
  return c;
}

static void cl_close(client *c) {
  if (c == NULL)
    return;
  close(c->fd);
  free(c);
}

static void cl_send(client *c, const void *data, size_t len) {
  const char *p = data;
  while (len > 0) {
    ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      t_run_for(loop, 0.002);
      continue;
    }
    if (n <= 0)
      return;
    p += n;
    len -= (size_t)n;
  }
}

static void cl_sends(client *c, const char *s) { cl_send(c, s, strlen(s)); }

static void cl_pull(client *c) {
  for (;;) {
    ssize_t n;
    if (c->len == sizeof(c->buf))
      return;
    n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
    if (n > 0) {
      c->len += (size_t)n;
      continue;
    }
    if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
      c->eof = 1;
    return;
  }
}

/* A parsed response. */
typedef struct resp {
  int status;
  char head[4096];
  const char *body;
  size_t body_len;
  char chunked_body[65536];
} resp;

/* Parses the response at c->buf+*off; returns 1 (complete, *off advanced),
 * 0 (incomplete). */
static int parse_resp(const client *c, size_t *off, resp *r) {
  const char *p = c->buf + *off, *end = c->buf + c->len, *he, *cl;
  size_t hl;
  he = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
  if (he == NULL)
    return 0;
  hl = (size_t)(he - p) + 4;
  memset(r, 0, sizeof(*r));
  snprintf(r->head, sizeof(r->head), "%.*s", (int)hl, p);
  r->status = atoi(p + 9);
  p = he + 4;
  if (r->status < 200 && r->status != 101) {
    r->body = p;
    *off = (size_t)(p - c->buf);
    return 1;
  }
  if ((cl = strcasestr(r->head, "\r\nContent-Length: ")) != NULL) {
    size_t n = (size_t)strtoul(cl + 18, NULL, 10);
    if ((size_t)(end - p) < n)
      return 0;
    r->body = p;
    r->body_len = n;
    *off = (size_t)(p + n - c->buf);
    return 1;
  }
  if (strcasestr(r->head, "\r\nTransfer-Encoding: chunked") != NULL) {
    size_t out = 0;
    for (;;) {
      const char *le = memmem(p, (size_t)(end - p), "\r\n", 2);
      size_t n;
      if (le == NULL)
        return 0;
      n = (size_t)strtoul(p, NULL, 16);
      p = le + 2;
      if (n == 0) {
        if (end - p < 2)
          return 0;
        p += 2;
        break;
      }
      if ((size_t)(end - p) < n + 2)
        return 0;
      if (out + n <= sizeof(r->chunked_body))
        memcpy(r->chunked_body + out, p, n);
      out += n;
      p += n + 2;
    }
    r->body = r->chunked_body;
    r->body_len = out;
    *off = (size_t)(p - c->buf);
    return 1;
  }
  if (strstr(r->head, "HEAD") == NULL && !c->eof &&
      (r->status != 204 && r->status != 304))
    return 0;
  r->body = p;
  r->body_len = (size_t)(end - p);
  *off = (size_t)(end - c->buf);
  return 1;
}

static size_t count_resps(const client *c) {
  size_t off = 0, n = 0;
  resp r;
  while (off < c->len && parse_resp(c, &off, &r))
    n++;
  return n;
}

/* Runs the loop until `n` complete responses arrived (n = 0: until EOF) or
 * EOF; returns the number of complete responses. */
static size_t cl_wait(client *c, size_t n) {
  double until = gust_loop_now(loop) + WAIT_LIMIT;
  for (;;) {
    cl_pull(c);
    if (c->eof || (n > 0 && count_resps(c) >= n))
      break;
    if (gust_loop_now(loop) > until) {
      diag("client wait timed out");
      break;
    }
    t_run_for(loop, 0.002);
  }
  return count_resps(c);
}

/* Runs the loop until EOF (1) or `secs` passed (0). */
static int cl_wait_eof(client *c, double secs) {
  double until = gust_loop_now(loop) + secs;
  while (!c->eof && gust_loop_now(loop) < until) {
    t_run_for(loop, 0.002);
    cl_pull(c);
  }
  return c->eof;
}

/* The i-th response. */
static int cl_resp(const client *c, size_t i, resp *r) {
  size_t off = 0, k;
  for (k = 0; k <= i; k++)
    if (!parse_resp(c, &off, r))
      return 0;
  return 1;
}

static int has_header(const resp *r, const char *line) {
  char want[256];
  snprintf(want, sizeof(want), "\r\n%s\r\n", line);
  return strcasestr(r->head, want) != NULL;
}

/* ------------------------------------------------------------------ */
/* A test application                                                    */
/* ------------------------------------------------------------------ */

typedef struct app {
  char log[8192]; /* delegate calls in order */
  size_t nreq;
  size_t chunks[64];
  size_t nchunks;
  char body[1 << 16];
  size_t body_len;
  int hr_rc, data_rc;         /* what the callbacks return */
  gust_future *hr_wait;       /* handed out by headers_received */
  gust_future *data_wait;     /* handed out by the next data_received */
  int respond_in_hr;          /* answer in headers_received */
  int respond_at_finish;      /* answer in finish (default) */
  uint64_t max_body_override; /* set_max_body_size in headers_received */
  double body_timeout;        /* set_body_timeout in headers_received */
  int detach;
  gust_iostream *detached;
  gust_buf rest;
  gust_http_request *held; /* a reference kept to answer later */
  gust_http_server *held_srv;
  int closes;
  void (*fin)(gust_http_request *req, struct app *a); /* custom answer */
  int fin_rc; /* what the custom answer's last call returned */
} app;

static void app_log(app *a, const char *what, const char *arg) {
  size_t l = strlen(a->log);
  if (arg != NULL)
    snprintf(a->log + l, sizeof(a->log) - l, "%s(%s) ", what, arg);
  else
    snprintf(a->log + l, sizeof(a->log) - l, "%s ", what);
}

static int a_hr(gust_http_request *req, void *ctx, gust_future **wait) {
  app *a = ctx;
  app_log(a, "hr", gust_http_request_path(req));
  if (a->max_body_override)
    gust_http_request_set_max_body_size(req, a->max_body_override);
  if (a->body_timeout > 0)
    gust_http_request_set_body_timeout(req, a->body_timeout);
  if (a->detach) {
    gust_buf_init(&a->rest, NULL);
    if (gust_http_request_detach(req, &a->detached, &a->rest) == 0)
      app_log(a, "detached", NULL);
    return 0;
  }
  if (a->hr_wait != NULL) {
    *wait = a->hr_wait;
    a->hr_wait = NULL;
  }
  if (a->respond_in_hr)
    gust_http_respond(req, 200, "text/plain", "early", 5);
  return a->hr_rc;
}

static int a_data(gust_http_request *req, gust_slice chunk, void *ctx,
                  gust_future **wait) {
  app *a = ctx;
  (void)req;
  if (a->nchunks < 64)
    a->chunks[a->nchunks++] = chunk.len;
  if (a->body_len + chunk.len <= sizeof(a->body)) {
    memcpy(a->body + a->body_len, chunk.ptr, chunk.len);
    a->body_len += chunk.len;
  }
  if (a->data_wait != NULL) {
    *wait = a->data_wait;
    a->data_wait = NULL;
  }
  return a->data_rc;
}

static void a_finish(gust_http_request *req, void *ctx) {
  app *a = ctx;
  char n[32];
  app_log(a, "finish", gust_http_request_path(req));
  if (a->fin != NULL) {
    a->fin(req, a);
  } else if (a->respond_at_finish) {
    snprintf(n, sizeof(n), "%zu", a->body_len);
    gust_http_respond(req, 200, "text/plain", n, strlen(n));
  }
}

static void a_close(gust_http_request *req, void *ctx) {
  app *a = ctx;
  app_log(a, "close", gust_http_request_path(req));
  a->closes++;
}

/* The close callback runs on a later loop iteration than the EOF the
 * client sees: waits (bounded) for on_connection_close. */
static int wait_closes(app *a) {
  double until = gust_loop_now(loop) + WAIT_LIMIT;
  while (a->closes == 0 && gust_loop_now(loop) < until)
    t_run_for(loop, 0.002);
  return a->closes;
}

static const gust_http_delegate A_DELEGATE = {a_hr, a_data, a_finish, a_close};

static int a_start(gust_http_server *srv, gust_http_request *req, void *ud,
                   const gust_http_delegate **d, void **ctx) {
  app *a = ud;
  (void)srv;
  (void)req;
  a->nreq++;
  app_log(a, "start", NULL);
  *d = &A_DELEGATE;
  *ctx = a;
  return 0;
}

static app *app_new(void) {
  app *a = calloc(1, sizeof(*a));
  if (a == NULL)
    bail_out("calloc");
  a->respond_at_finish = 1;
  return a;
}

static gust_http_server *srv_new(app *a, const gust_http_server_opts *o) {
  gust_http_server *srv;
  if (gust_http_server_new(&srv, loop, o, a_start, a, NULL) != 0 ||
      gust_http_server_listen(srv, "127.0.0.1", 0, NULL) != 0)
    bail_out("server");
  return srv;
}

/* ------------------------------------------------------------------ */
/* Tests                                                                 */
/* ------------------------------------------------------------------ */

static void t_new_args(void) {
  gust_http_server *srv = (gust_http_server *)&srv;
  is_int(gust_http_server_new(&srv, loop, NULL, NULL, NULL, NULL), GUST_EINVAL,
         "new: no delegate factory is GUST_EINVAL");
  ok(srv == NULL, "new: and *out is NULL");
  srv = (gust_http_server *)&srv;
  is_int(gust_http_server_new_cb(&srv, loop, NULL, NULL, NULL, NULL),
         GUST_EINVAL, "new_cb: no callback is GUST_EINVAL");
  ok(srv == NULL, "new_cb: and *out is NULL");
  srv = (gust_http_server *)&srv;
  is_int(gust_http_server_new(&srv, NULL, NULL, a_start, NULL, NULL),
         GUST_EINVAL, "new: no loop is GUST_EINVAL");
  ok(srv == NULL, "new: and *out is NULL");
}

static void t_basic(void) {
  app *a = app_new();
  gust_http_server *srv = srv_new(a, NULL);
  client *c = cl_open(gust_http_server_port(srv));
  resp r;
  cl_sends(c, "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
  is_int((long long)cl_wait(c, 1), 1, "basic: one response");
  ok(cl_resp(c, 0, &r) && r.status == 200, "basic: 200");
  cmp_mem(r.body, r.body_len, "5", 1, "basic: body length seen");
  cmp_mem(a->body, a->body_len, "hello", 5, "basic: body delivered");
  is_str(a->log, "start hr(/p) finish(/p) ", "basic: delegate order");
  is_int((long long)gust_http_server_connection_count(srv), 1,
         "basic: connection kept");
  cl_close(c);
  gust_http_server_free(srv);
  free(a);
}

static void t_pipelining(void) {
  app *a = app_new();
  gust_http_server *srv = srv_new(a, NULL);
  client *c = cl_open(gust_http_server_port(srv));
  resp r;
  cl_sends(c, "GET /1 HTTP/1.1\r\nHost: x\r\n\r\n"
              "POST /2 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
              "GET /3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  is_int((long long)cl_wait(c, 0), 3, "pipelining: three responses");
  ok(cl_resp(c, 1, &r) && r.body_len == 1 && r.body[0] == '3',
     "pipelining: in order");
  ok(cl_resp(c, 2, &r) && has_header(&r, "Connection: close"),
     "pipelining: the last one closes");
  ok(cl_wait_eof(c, WAIT_LIMIT), "pipelining: connection closed");
  is_str(a->log,
         "start hr(/1) finish(/1) start hr(/2) finish(/2) start hr(/3) "
         "finish(/3) ",
         "pipelining: delegate order");
  cl_close(c);
  gust_http_server_free(srv);
  free(a);
}

/* Sends `req` on a new connection to a fresh server and waits for `n`
 * responses (0: until EOF). */
typedef struct fixture {
  app *a;
  gust_http_server *srv;
  client *c;
} fixture;

static void fx_open(fixture *f, const gust_http_server_opts *o) {
  f->a = app_new();
  f->srv = srv_new(f->a, o);
  f->c = cl_open(gust_http_server_port(f->srv));
}

static void fx_close(fixture *f) {
  cl_close(f->c);
  gust_http_server_free(f->srv);
  t_run_for(loop, 0.01);
  gust_buf_free(&f->a->rest);
  free(f->a);
}

static void t_chunk_size(void) {
  static const char body50[] =
      "01234567890123456789012345678901234567890123456789";
  gust_http_server_opts o;
  fixture f;
  memset(&o, 0, sizeof(o));
  o.chunk_size = 16;
  fx_open(&f, &o);
  cl_sends(f.c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n");
  cl_sends(f.c, body50);
  cl_wait(f.c, 1);
  ok(f.a->nchunks == 4 && f.a->chunks[0] == 16 && f.a->chunks[1] == 16 &&
         f.a->chunks[2] == 16 && f.a->chunks[3] == 2,
     "chunk_size 16: fixed 50-byte body as [16,16,16,2]");
  fx_close(&f);

  fx_open(&f, &o);
  cl_sends(f.c, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                "\r\n14\r\n01234567890123456789\r\n1e\r\n"
                "012345678901234567890123456789\r\n0\r\n\r\n");
  cl_wait(f.c, 1);
  ok(f.a->nchunks == 4 && f.a->chunks[0] == 16 && f.a->chunks[1] == 4 &&
         f.a->chunks[2] == 16 && f.a->chunks[3] == 14,
     "chunk_size 16: chunked 20+30 as [16,4,16,14]");
  fx_close(&f);
}

/* gzip-compresses `data` into `out`; returns the length. */
static size_t gz(const void *data, size_t len, uint8_t *out, size_t cap) {
  gust_zip *z;
  const uint8_t *in = data;
  size_t il = len, total = 0;
  gust_ssize n;
  if (gust_zip_encoder_new(&z, NULL, GUST_ZIP_GZIP, 6) != 0)
    bail_out("zip");
  do {
    n = gust_zip_encode(z, &in, &il, out + total, cap - total, GUST_ZIP_FINISH);
    if (n < 0)
      bail_out("zip encode");
    total += (size_t)n;
  } while (!gust_zip_done(z));
  gust_zip_free(z);
  return total;
}

/* POST / with a gzip-coded body of `zl` bytes, framed by Content-Length. */
static void send_gzip_post(client *c, const uint8_t *z, size_t zl) {
  char head[256];
  snprintf(head, sizeof(head),
           "POST / HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\n"
           "Content-Length: %zu\r\n\r\n",
           zl);
  cl_sends(c, head);
  cl_send(c, z, zl);
}

static void t_gzip(void) {
  static const char body50[] =
      "01234567890123456789012345678901234567890123456789";
  gust_http_server_opts o;
  fixture f;
  uint8_t z[256];
  char head[256];
  size_t zl = gz(body50, 50, z, sizeof(z)), i, sum = 0, okp = 1;
  memset(&o, 0, sizeof(o));
  o.chunk_size = 16;
  o.decompress_request = 1;
  fx_open(&f, &o);
  send_gzip_post(f.c, z, zl);
  cl_wait(f.c, 1);
  for (i = 0; i < f.a->nchunks; i++) {
    sum += f.a->chunks[i];
    if (f.a->chunks[i] < 1 || f.a->chunks[i] > 16)
      okp = 0;
  }
  ok(okp && sum == 50, "gzip: pieces of 1..16 bytes summing to 50");
  cmp_mem(f.a->body, f.a->body_len, body50, 50, "gzip: body decompressed");
  fx_close(&f);

  /* chunked gzip, split in two chunks */
  fx_open(&f, &o);
  snprintf(head, sizeof(head),
           "POST / HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\n"
           "Transfer-Encoding: chunked\r\n\r\n%zx\r\n",
           zl / 2);
  cl_sends(f.c, head);
  cl_send(f.c, z, zl / 2);
  snprintf(head, sizeof(head), "\r\n%zx\r\n", zl - zl / 2);
  cl_sends(f.c, head);
  cl_send(f.c, z + zl / 2, zl - zl / 2);
  cl_sends(f.c, "\r\n0\r\n\r\n");
  cl_wait(f.c, 1);
  cmp_mem(f.a->body, f.a->body_len, body50, 50, "gzip: chunked body decoded");
  for (i = 0, okp = 1; i < f.a->nchunks; i++)
    if (f.a->chunks[i] < 1 || f.a->chunks[i] > 16)
      okp = 0;
  ok(okp, "gzip chunked: every piece 1..16 bytes");
  fx_close(&f);

  /* bad gzip data: 400 and close */
  fx_open(&f, &o);
  cl_sends(f.c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\n"
                "Content-Length: 10\r\n\r\nnot gzip!!");
  cl_wait(f.c, 0);
  {
    resp r;
    ok(cl_resp(f.c, 0, &r) && r.status == 400, "gzip: corrupt body gets 400");
  }
  ok(f.c->eof, "gzip: then the connection closes");
  fx_close(&f);

  /* the decoded total counts against the body limit, per request */
  o.max_body_size = 40;
  fx_open(&f, &o);
  send_gzip_post(f.c, z, zl);
  cl_wait(f.c, 0);
  {
    resp r;
    ok(cl_resp(f.c, 0, &r) && r.status == 400,
       "gzip: decoded body over max_body_size gets 400");
  }
  fx_close(&f);
  fx_open(&f, &o);
  f.a->max_body_override = 64;
  send_gzip_post(f.c, z, zl);
  cl_wait(f.c, 1);
  cmp_mem(f.a->body, f.a->body_len, body50, 50,
          "gzip: set_max_body_size raises the decoded limit too");
  fx_close(&f);
  o.max_body_size = 0;

  /* without decompress_request the body passes as is */
  o.decompress_request = 0;
  fx_open(&f, &o);
  send_gzip_post(f.c, z, zl);
  cl_wait(f.c, 1);
  cmp_mem(f.a->body, f.a->body_len, z, zl, "no decompress: raw bytes");
  fx_close(&f);
}

static void fin_overshoot(gust_http_request *req, app *a) {
  gust_headers h;
  gust_headers_init(&h, NULL);
  gust_headers_add_str(&h, "Content-Length", "2");
  gust_http_response_start(req, 200, NULL, &h, NULL);
  gust_headers_free(&h);
  a->fin_rc = gust_http_response_write(req, "abc", 3, NULL);
}

static void fin_short(gust_http_request *req, app *a) {
  gust_headers h;
  gust_headers_init(&h, NULL);
  gust_headers_add_str(&h, "Content-Length", "42");
  gust_http_response_start(req, 200, NULL, &h, NULL);
  gust_headers_free(&h);
  gust_http_response_write(req, "ok", 2, NULL);
  a->fin_rc = gust_http_response_finish(req, NULL);
}

static void t_length_mismatch(void) {
  fixture f;
  fx_open(&f, NULL);
  f.a->fin = fin_overshoot;
  cl_sends(f.c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  ok(cl_wait_eof(f.c, WAIT_LIMIT), "overshoot: connection closed");
  is_int(f.a->fin_rc, GUST_EHTTP_LENGTH, "overshoot: write fails");
  ok(memmem(f.c->buf, f.c->len, "abc", 3) == NULL, "overshoot: not sent");
  fx_close(&f);

  fx_open(&f, NULL);
  f.a->fin = fin_short;
  cl_sends(f.c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  ok(cl_wait_eof(f.c, WAIT_LIMIT), "short: connection closed");
  is_int(f.a->fin_rc, GUST_EHTTP_LENGTH, "short: finish fails");
  ok(f.c->len >= 2 && memcmp(f.c->buf + f.c->len - 6, "\r\n\r\nok", 6) == 0,
     "short: the peer sees a truncated response");
  fx_close(&f);
}

static void t_continue(void) {
  fixture f;
  resp r;
  fx_open(&f, NULL);
  cl_sends(f.c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                "Expect: 100-continue\r\n\r\n");
  ok(cl_wait(f.c, 1) == 1 && cl_resp(f.c, 0, &r) && r.status == 100,
     "100-continue: sent before the body");
  ok(strcmp(r.head, "HTTP/1.1 100 Continue\r\n\r\n") == 0,
     "100-continue: exact bytes");
  cl_sends(f.c, "abc");
  ok(cl_wait(f.c, 2) == 2 && cl_resp(f.c, 1, &r) && r.status == 200,
     "100-continue: then the response");
  fx_close(&f);

  fx_open(&f, NULL);
  cl_sends(f.c, "POST / HTTP/1.0\r\nContent-Length: 3\r\n"
                "Expect: 100-continue\r\n\r\nabc");
  cl_wait(f.c, 0);
  ok(cl_resp(f.c, 0, &r) && r.status == 200, "100-continue: not for 1.0");
  fx_close(&f);

  fx_open(&f, NULL);
  cl_sends(f.c, "GET / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n");
  cl_wait(f.c, 1);
  ok(cl_resp(f.c, 0, &r) && r.status == 200,
     "100-continue: not without a body");
  fx_close(&f);
}

static void t_keep_alive(void) {
  gust_http_server_opts o;
  fixture f;
  resp r;
  fx_open(&f, NULL);
  cl_sends(f.c, "GET / HTTP/1.0\r\n\r\n");
  ok(cl_wait_eof(f.c, WAIT_LIMIT), "1.0: closes after the response");
  ok(cl_resp(f.c, 0, &r) && r.status == 200, "1.0: answered");
  fx_close(&f);

  fx_open(&f, NULL);
  cl_sends(f.c, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  cl_wait(f.c, 1);
  ok(!cl_wait_eof(f.c, 0.1), "1.0 keep-alive: stays open");
  ok(cl_resp(f.c, 0, &r) && has_header(&r, "Connection: keep-alive"),
     "1.0 keep-alive: says so");
  fx_close(&f);

  fx_open(&f, NULL);
  cl_sends(f.c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  cl_wait(f.c, 1);
  ok(!cl_wait_eof(f.c, 0.1), "1.1: stays open");
  fx_close(&f);

  memset(&o, 0, sizeof(o));
  o.no_keep_alive = 1;
  fx_open(&f, &o);
  cl_sends(f.c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  ok(cl_wait_eof(f.c, WAIT_LIMIT), "no_keep_alive: closes");
  ok(cl_resp(f.c, 0, &r) && has_header(&r, "Connection: close"),
     "no_keep_alive: Connection: close");
  fx_close(&f);
}

static void t_errors(void) {
  static const struct {
    const char *req;
    int status;
    const char *name;
  } cases[] = {
      {"GET / HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n", 400, "400"},
      {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999999\r\n\r\n",
       413, "413"},
      {NULL, 414, "414"},
      {NULL, 431, "431"},
      {"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
       501, "501"},
      {"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505, "505"},
  };
  static char longuri[10000], bighead[70000];
  size_t i;
  memcpy(longuri, "GET /", 5);
  memset(longuri + 5, 'a', 9000);
  strcpy(longuri + 9005, " HTTP/1.1\r\nHost: x\r\n\r\n");
  strcpy(bighead, "GET / HTTP/1.1\r\nHost: x\r\nX: ");
  memset(bighead + strlen(bighead), 'b', 66000);
  strcat(bighead, "\r\n\r\n");
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    fixture f;
    resp r;
    const char *req = cases[i].req != NULL     ? cases[i].req
                      : cases[i].status == 414 ? longuri
                                               : bighead;
    fx_open(&f, NULL);
    cl_sends(f.c, req);
    ok(cl_wait_eof(f.c, WAIT_LIMIT), "error %s: connection closed",
       cases[i].name);
    ok(cl_resp(f.c, 0, &r) && r.status == cases[i].status &&
           has_header(&r, "Connection: close"),
       "error %s: status with Connection: close", cases[i].name);
    /* a Content-Length over the limit is refused once the delegate had
     * its say (it may raise the limit), as Tornado does */
    is_int((long long)f.a->nreq, cases[i].status == 413 ? 1 : 0,
           "error %s: requests started", cases[i].name);
    fx_close(&f);
  }
  {
    gust_http_server_opts o;
    fixture f;
    static const char want[] = "HTTP/1.1 400 Bad Request\r\n\r\n";
    memset(&o, 0, sizeof(o));
    o.tornado_errors = 1;
    fx_open(&f, &o);
    cl_sends(f.c, "GET / HTTP/2.0\r\nHost: x\r\n\r\n");
    cl_wait_eof(f.c, WAIT_LIMIT);
    cmp_mem(f.c->buf, f.c->len, want, sizeof(want) - 1,
            "tornado_errors: the bare 400 bytes");
    fx_close(&f);
  }
}

static void t_timeouts(void) {
  gust_http_server_opts o;
  fixture f;
  double t0;
  memset(&o, 0, sizeof(o));
  o.idle_connection_timeout = 0.2;
  fx_open(&f, &o);
  t0 = gust_loop_now(loop);
  ok(cl_wait_eof(f.c, WAIT_LIMIT), "idle: an idle connection is closed");
  ok(gust_loop_now(loop) - t0 >= 0.19, "idle: not before the timeout");
  fx_close(&f);

  fx_open(&f, &o);
  cl_sends(f.c, "GET / HTTP/1.1\r\nHo");
  ok(cl_wait_eof(f.c, WAIT_LIMIT), "idle: a slow head is closed too");
  is_int((long long)f.c->len, 0, "idle: without a response");
  fx_close(&f);

  fx_open(&f, &o);
  cl_sends(f.c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  ok(cl_wait(f.c, 1) == 1, "idle: answered");
  ok(cl_wait_eof(f.c, WAIT_LIMIT), "idle: closed after the response");
  fx_close(&f);

  memset(&o, 0, sizeof(o));
  o.body_timeout = 0.2;
  fx_open(&f, &o);
  cl_sends(f.c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab");
  ok(cl_wait_eof(f.c, WAIT_LIMIT), "body_timeout: slow body closed");
  is_int((long long)f.c->len, 0, "body_timeout: no response");
  wait_closes(f.a);
  ok(strstr(f.a->log, "close(/)") != NULL, "body_timeout: on_connection_close");
  fx_close(&f);

  fx_open(&f, NULL);
  f.a->body_timeout = 0.2;
  cl_sends(f.c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab");
  ok(cl_wait_eof(f.c, WAIT_LIMIT), "set_body_timeout: slow body closed");
  fx_close(&f);
}

static void t_max_body(void) {
  gust_http_server_opts o;
  fixture f;
  resp r;
  memset(&o, 0, sizeof(o));
  o.max_body_size = 10;
  fx_open(&f, &o);
  cl_sends(f.c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n");
  cl_wait_eof(f.c, WAIT_LIMIT);
  ok(cl_resp(f.c, 0, &r) && r.status == 413, "max_body_size: 413");
  fx_close(&f);

  fx_open(&f, &o);
  f.a->max_body_override = 20;
  cl_sends(f.c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 15\r\n\r\n"
                "123456789012345");
  cl_wait(f.c, 1);
  ok(cl_resp(f.c, 0, &r) && r.status == 200,
     "set_max_body_size: larger limit for this request");
  cl_sends(f.c, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                "\r\n1e\r\n012345678901234567890123456789\r\n0\r\n\r\n");
  cl_wait(f.c, 0);
  ok(cl_resp(f.c, 1, &r) && r.status == 413,
     "set_max_body_size: chunked total over the override: 413");
  fx_close(&f);

  /* a lower limit for one request: 413 from its Content-Length, and no
   * 100 Continue for a body that is refused */
  fx_open(&f, NULL);
  f.a->max_body_override = 5;
  cl_sends(f.c, "POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                "Content-Length: 10\r\n\r\n");
  cl_wait_eof(f.c, WAIT_LIMIT);
  ok(cl_resp(f.c, 0, &r) && r.status == 413,
     "set_max_body_size: lower limit for this request: 413");
  ok(f.c->len >= 12 && memcmp(f.c->buf, "HTTP/1.1 413", 12) == 0,
     "set_max_body_size: no 100 Continue before the 413");
  ok(strstr(f.a->log, "finish(") == NULL,
     "set_max_body_size: the refused request never finishes");
  fx_close(&f);
}

static void resolve_later(gust_loop *l, void *ud) {
  (void)l;
  gust_future_set_result(ud, NULL, NULL);
  gust_future_unref(ud);
}

static void t_flow_control(void) {
  fixture f;
  gust_future *w;
  fx_open(&f, NULL);
  gust_future_new(&w, loop, NULL);
  f.a->hr_wait = gust_future_ref(w);
  cl_sends(f.c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
  t_run_for(loop, 0.1);
  is_int((long long)f.a->body_len, 0, "wait: no body while the future pends");
  gust_future_set_result(w, NULL, NULL);
  gust_future_unref(w);
  cl_wait(f.c, 1);
  cmp_mem(f.a->body, f.a->body_len, "abc", 3, "wait: body after it resolves");
  fx_close(&f);

  /* a data_received future pauses the next piece */
  {
    gust_http_server_opts o;
    memset(&o, 0, sizeof(o));
    o.chunk_size = 2;
    fx_open(&f, &o);
  }
  gust_future_new(&w, loop, NULL);
  f.a->data_wait = gust_future_ref(w);
  cl_sends(f.c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nabcd");
  t_run_for(loop, 0.1);
  is_int((long long)f.a->body_len, 2, "data wait: one piece, then waits");
  gust_loop_call_later(loop, 0.01, resolve_later, w, NULL);
  cl_wait(f.c, 1);
  cmp_mem(f.a->body, f.a->body_len, "abcd", 4, "data wait: the rest follows");
  fx_close(&f);

  /* a failed future closes the connection */
  fx_open(&f, NULL);
  gust_future_new(&w, loop, NULL);
  f.a->hr_wait = gust_future_ref(w);
  cl_sends(f.c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
  t_run_for(loop, 0.02);
  gust_future_set_error(w, GUST_EINVAL, "no");
  gust_future_unref(w);
  ok(cl_wait_eof(f.c, WAIT_LIMIT), "failed wait: connection closed");
  wait_closes(f.a);
  ok(strstr(f.a->log, "close(/)") != NULL, "failed wait: on_connection_close");
  fx_close(&f);
}

static void t_callback_errors(void) {
  fixture f;
  fx_open(&f, NULL);
  f.a->hr_rc = GUST_EINVAL;
  cl_sends(f.c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  ok(cl_wait_eof(f.c, WAIT_LIMIT), "headers_received error: closed");
  is_int((long long)f.c->len, 0, "headers_received error: no response");
  wait_closes(f.a);
  is_str(f.a->log, "start hr(/) close(/) ",
         "headers_received error: on_connection_close follows");
  fx_close(&f);

  fx_open(&f, NULL);
  f.a->data_rc = GUST_EINVAL;
  cl_sends(f.c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
  ok(cl_wait_eof(f.c, WAIT_LIMIT), "data_received error: closed");
  is_int((long long)f.c->len, 0, "data_received error: no response");
  fx_close(&f);
}

static void t_early_response(void) {
  fixture f;
  resp r;
  fx_open(&f, NULL);
  f.a->respond_in_hr = 1;
  f.a->respond_at_finish = 0;
  cl_sends(f.c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\n");
  ok(cl_wait(f.c, 1) == 1 && cl_resp(f.c, 0, &r) && r.status == 200,
     "early response: sent before the body");
  cl_sends(f.c, "abcdef");
  ok(cl_wait_eof(f.c, WAIT_LIMIT), "early response: closed after the body");
  wait_closes(f.a);
  is_str(f.a->log, "start hr(/) close(/) ",
         "early response: on_connection_close, not finish");
  fx_close(&f);
}

static void on_shutdown_done(gust_future *fu, void *ud) {
  (void)fu;
  *(int *)ud = 1;
}

static void fin_hold(gust_http_request *req, app *a) {
  a->held = gust_http_request_ref(req);
}

static void t_shutdown(void) {
  fixture f;
  client *idle;
  gust_future *sf;
  int done = 0;
  resp r;
  fx_open(&f, NULL);
  idle = cl_open(gust_http_server_port(f.srv));
  f.a->fin = fin_hold;
  cl_sends(f.c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  while (f.a->held == NULL)
    t_run_for(loop, 0.005);
  is_int((long long)gust_http_server_connection_count(f.srv), 2,
         "shutdown: two connections");
  ok(gust_http_server_shutdown(f.srv, 0, &sf) == 0, "shutdown: started");
  gust_future_add_done_callback(sf, on_shutdown_done, &done);
  ok(cl_wait_eof(idle, WAIT_LIMIT), "shutdown: idle connection closed");
  is_int(done, 0, "shutdown: not done while a request is in progress");
  gust_http_respond(f.a->held, 200, NULL, "late", 4);
  ok(cl_wait_eof(f.c, WAIT_LIMIT), "shutdown: in-flight closed after");
  is_int(gust_http_response_state(f.a->held), 2,
         "shutdown: the answered request's response state is 2 after");
  gust_http_request_unref(f.a->held);
  ok(cl_resp(f.c, 0, &r) && r.status == 200 &&
         has_header(&r, "Connection: close"),
     "shutdown: its response says Connection: close");
  t_run_until_flag(loop, &done);
  ok(done, "shutdown: future resolves once all closed");
  gust_future_unref(sf);
  cl_close(idle);
  fx_close(&f);

  /* the timeout closes what is left */
  fx_open(&f, NULL);
  f.a->fin = fin_hold;
  cl_sends(f.c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  while (f.a->held == NULL)
    t_run_for(loop, 0.005);
  done = 0;
  gust_http_server_shutdown(f.srv, 0.1, &sf);
  gust_future_add_done_callback(sf, on_shutdown_done, &done);
  ok(cl_wait_eof(f.c, WAIT_LIMIT), "shutdown timeout: forced close");
  t_run_until_flag(loop, &done);
  ok(done, "shutdown timeout: future resolves");
  is_int(gust_http_response_state(f.a->held), 0,
         "shutdown timeout: the unanswered request's response state stays 0");
  is_int(gust_http_respond(f.a->held, 200, NULL, "x", 1), GUST_ECLOSED,
         "shutdown timeout: late response fails with GUST_ECLOSED");
  gust_http_request_unref(f.a->held);
  gust_future_unref(sf);
  fx_close(&f);
}

static void t_detach(void) {
  fixture f;
  gust_future *rf;
  fx_open(&f, NULL);
  f.a->detach = 1;
  cl_sends(f.c, "GET /ws HTTP/1.1\r\nHost: x\r\n\r\nEXTRA");
  while (f.a->detached == NULL)
    t_run_for(loop, 0.005);
  is_str(f.a->log, "start hr(/ws) detached ", "detach: no finish, no close");
  cmp_mem(f.a->rest.ptr, f.a->rest.len, "EXTRA", 5, "detach: rest handed over");
  is_int((long long)gust_http_server_connection_count(f.srv), 0,
         "detach: no longer counted");
  gust_iostream_write(f.a->detached, "raw", 3, NULL);
  cl_sends(f.c, "MORE");
  gust_iostream_read_bytes(f.a->detached, 4, 0, &rf);
  t_run_future(rf);
  cmp_mem(gust_iostream_result(rf).ptr, gust_iostream_result(rf).len, "MORE", 4,
          "detach: the stream reads what follows");
  gust_future_unref(rf);
  gust_iostream_unref(f.a->detached);
  ok(cl_wait_eof(f.c, WAIT_LIMIT), "detach: closing the stream closes");
  cmp_mem(f.c->buf, f.c->len, "raw", 3, "detach: the stream writes raw bytes");
  fx_close(&f);
}

static void cb_handler(gust_http_request *req, void *ud) {
  int *n = ud;
  gust_slice b = gust_http_request_body(req);
  (*n)++;
  gust_http_respond(req, 200, "text/plain", b.ptr, b.len);
}

static void t_callback_api(void) {
  gust_http_server *srv;
  client *c;
  resp r;
  int n = 0;
  if (gust_http_server_new_cb(&srv, loop, NULL, cb_handler, &n, NULL) != 0 ||
      gust_http_server_listen(srv, "127.0.0.1", 0, NULL) != 0)
    bail_out("server");
  c = cl_open(gust_http_server_port(srv));
  cl_sends(c, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
              "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
  cl_wait(c, 1);
  ok(cl_resp(c, 0, &r) && r.status == 200, "callback: answered");
  cmp_mem(r.body, r.body_len, "abcde", 5, "callback: whole body buffered");
  is_int(n, 1, "callback: called once");
  cl_close(c);
  gust_http_server_free(srv);
}

static void fin_proto(gust_http_request *req, app *a) {
  const char *p = gust_http_request_protocol(req);
  (void)a;
  gust_http_respond(req, 200, "text/plain", p, strlen(p));
}

static void t_tls(void) {
  gust_tls_ctx *sctx =
      tc_server_ctx("server", GUST_TLS_CLIENT_AUTH_NONE, NULL, 0);
  gust_tls_ctx *cctx = tc_client_ctx("ca.pem", NULL, NULL, 0);
  gust_http_server_opts o;
  gust_tcp_connect_opts co;
  gust_tcp_client *tc;
  gust_future *f, *rf;
  gust_iostream *st;
  app *a = app_new();
  gust_http_server *srv;
  gust_slice got;
  memset(&o, 0, sizeof(o));
  o.tls = sctx;
  srv = srv_new(a, &o);
  a->fin = fin_proto;
  gust_tcp_client_new(&tc, loop, NULL, NULL);
  memset(&co, 0, sizeof(co));
  co.tls = cctx;
  co.server_hostname = "localhost";
  if (gust_tcp_client_connect(tc, "127.0.0.1", gust_http_server_port(srv), &co,
                              &f) != 0 ||
      t_run_future(f) != 0 || gust_future_error(f) != 0)
    bail_out("tls connect");
  st = gust_tcp_client_take_stream(f);
  {
    static const char rq[] =
        "GET /t HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    gust_iostream_write(st, rq, sizeof(rq) - 1, NULL);
  }
  gust_iostream_read_until_close(st, NULL, NULL, &rf);
  t_run_future(rf);
  got = gust_iostream_result(rf);
  ok(got.len > 12 && memcmp(got.ptr, "HTTP/1.1 200 ", 13) == 0,
     "tls: answered over TLS");
  ok(got.len >= 5 && memcmp(got.ptr + got.len - 5, "https", 5) == 0,
     "tls: the request's protocol is https");
  gust_future_unref(rf);
  gust_future_unref(f);
  gust_iostream_unref(st);
  gust_tcp_client_free(tc);
  gust_http_server_free(srv);
  t_run_for(loop, 0.05);
  gust_tls_ctx_free(cctx);
  gust_tls_ctx_free(sctx);
  free(a);
}

/* Runs the loop until `n` responses, EOF or `secs`. */
static size_t cl_wait_for(client *c, size_t n, double secs) {
  double until = gust_loop_now(loop) + secs;
  while (!c->eof && count_resps(c) < n && gust_loop_now(loop) < until) {
    t_run_for(loop, 0.002);
    cl_pull(c);
  }
  return count_resps(c);
}

/* Answers with the request's remote_ip. */
static void fin_ip(gust_http_request *req, app *a) {
  const char *ip = gust_http_request_remote_ip(req);
  a->fin_rc = gust_http_respond(req, 200, "text/plain", ip, strlen(ip));
}

/* Parking: a keep-alive connection idle for a moment keeps only its TCP
 * handle and a small record; the next request brings it back. */
static void t_park(void) {
  enum { N = 130 };
  gust_failmem fm;
  gust_http_server *srv;
  gust_http_server_opts o;
  app *a = app_new();
  client **c = calloc(N, sizeof(*c)), *w;
  size_t base = 0, half, i;
  resp r;
  gust_future *sf = NULL;
  int done = 0, good;
  if (c == NULL)
    bail_out("calloc");
  gust_failmem_init(&fm, NULL);
  if (gust_http_server_new(&srv, loop, NULL, a_start, a, &fm.mem) != 0 ||
      gust_http_server_listen(srv, "127.0.0.1", 0, NULL) != 0)
    bail_out("server");
  a->fin = fin_ip;
  /* a first connection parks once: the park buffer exists */
  w = cl_open(gust_http_server_port(srv));
  cl_sends(w, "GET /w HTTP/1.1\r\nHost: x\r\n\r\n");
  cl_wait(w, 1);
  for (i = 0, good = 0; i < N; i++) {
    if (i == N / 2) {
      t_run_for(loop, 0.05);
      base = fm.live_bytes; /* the server's pools are full by now */
    }
    c[i] = cl_open(gust_http_server_port(srv));
    cl_sends(c[i], "GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
    good += cl_wait(c[i], 1) == 1;
  }
  is_int(good, N, "park: %d connections answered", N);
  t_run_for(loop, 0.05);
  half = (fm.live_bytes - base) / (N / 2);
  ok(half <= 96,
     "park: an answered keep-alive connection holds %zu bytes of the "
     "server's memory",
     half);
  is_int((long long)gust_http_server_connection_count(srv), N + 1,
         "park: parked connections still count");
  /* the next request on a parked connection, from the same peer */
  base = fm.live_bytes;
  cl_sends(c[3], "GET /b HTTP/1.1\r\nHost: x\r\n\r\n");
  ok(cl_wait(c[3], 2) == 2 && cl_resp(c[3], 1, &r) && r.status == 200 &&
         r.body_len == 9 && memcmp(r.body, "127.0.0.1", 9) == 0,
     "park: a parked connection answers again, remote_ip kept");
  t_run_for(loop, 0.02);
  ok(fm.live_bytes <= base,
     "park: and parks again (%zu bytes held before, %zu after)", base,
     fm.live_bytes);
  /* pipelined and split requests after parking */
  t_run_for(loop, 0.3);
  cl_sends(c[4], "GET /c HTTP/1.1\r\nHo");
  t_run_for(loop, 0.05);
  cl_sends(c[4], "st: x\r\n\r\nGET /d HTTP/1.1\r\nHost: x\r\n\r\n");
  ok(cl_wait(c[4], 3) == 3, "park: split and pipelined requests after it");
  /* the peer leaves while parked */
  cl_close(c[5]);
  c[5] = NULL;
  {
    double until = gust_loop_now(loop) + WAIT_LIMIT;
    while (gust_http_server_connection_count(srv) != N &&
           gust_loop_now(loop) < until)
      t_run_for(loop, 0.005);
  }
  is_int((long long)gust_http_server_connection_count(srv), N,
         "park: a parked connection whose peer left is gone");
  /* shutdown closes parked connections at once */
  t_run_for(loop, 0.3);
  ok(gust_http_server_shutdown(srv, 0, &sf) == 0, "park: shutdown");
  gust_future_add_done_callback(sf, on_shutdown_done, &done);
  t_run_until_flag(loop, &done);
  ok(done, "park: shutdown completes with parked connections");
  ok(cl_wait_eof(c[0], WAIT_LIMIT) && cl_wait_eof(c[N - 1], WAIT_LIMIT),
     "park: and they see the close");
  gust_future_unref(sf);
  for (i = 0; i < N; i++)
    if (c[i] != NULL)
      cl_close(c[i]);
  free(c);
  cl_close(w);
  gust_http_server_free(srv);
  t_run_for(loop, 0.05);
  is_int((long long)fm.live_blocks, 0, "park: nothing leaked");
  free(a);

  /* the idle timeout applies to parked connections */
  memset(&o, 0, sizeof(o));
  o.idle_connection_timeout = 0.4;
  a = app_new();
  srv = srv_new(a, &o);
  w = cl_open(gust_http_server_port(srv));
  cl_sends(w, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  cl_wait(w, 1);
  ok(cl_wait_eof(w, WAIT_LIMIT), "park: idle timeout closes a parked one");
  is_int((long long)gust_http_server_connection_count(srv), 0,
         "park: and it is gone");
  cl_close(w);
  gust_http_server_free(srv);
  free(a);
}

/* A request callback that frees its own server. */
static int freed_in_cb;
static void cb_free_server(gust_http_request *req, void *ud) {
  gust_http_server *srv = *(gust_http_server **)ud;
  gust_http_respond(req, 200, "text/plain", "bye", 3);
  gust_http_server_free(srv);
  freed_in_cb++;
}

static void on_close_free(gust_http_request *req, void *ctx) {
  app *a = ctx;
  (void)req;
  a->closes++;
  gust_http_server_free(a->held_srv);
}

static const gust_http_delegate CLOSE_FREE = {NULL, NULL, NULL, on_close_free};

static int start_close_free(gust_http_server *srv, gust_http_request *req,
                            void *ud, const gust_http_delegate **d,
                            void **ctx) {
  (void)srv;
  (void)req;
  ((app *)ud)->nreq++;
  *d = &CLOSE_FREE;
  *ctx = ud;
  return 0;
}

static void t_free_in_callback(void) {
  gust_http_server *srv;
  app *a = app_new();
  client *c, *other;
  if (gust_http_server_new_cb(&srv, loop, NULL, cb_free_server, &srv, NULL) !=
          0 ||
      gust_http_server_listen(srv, "127.0.0.1", 0, NULL) != 0)
    bail_out("server");
  c = cl_open(gust_http_server_port(srv));
  other = cl_open(gust_http_server_port(srv)); /* idle */
  t_run_for(loop, 0.05);
  freed_in_cb = 0;
  cl_sends(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  ok(cl_wait_eof(c, WAIT_LIMIT), "free in callback: the connection closes");
  is_int(freed_in_cb, 1, "free in callback: the callback ran once");
  ok(cl_wait_eof(other, WAIT_LIMIT),
     "free in callback: the other connection closes too");
  cl_close(c);
  cl_close(other);
  t_run_for(loop, 0.02);

  /* from on_connection_close, while the server tears a connection down */
  if (gust_http_server_new(&srv, loop, NULL, start_close_free, a, NULL) != 0 ||
      gust_http_server_listen(srv, "127.0.0.1", 0, NULL) != 0)
    bail_out("server");
  a->held_srv = srv;
  c = cl_open(gust_http_server_port(srv));
  cl_sends(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab");
  {
    double until = gust_loop_now(loop) + WAIT_LIMIT;
    while (a->nreq == 0 && gust_loop_now(loop) < until)
      t_run_for(loop, 0.005);
  }
  cl_close(c);
  {
    double until = gust_loop_now(loop) + WAIT_LIMIT;
    while (a->closes == 0 && gust_loop_now(loop) < until)
      t_run_for(loop, 0.005);
  }
  is_int(a->closes, 1, "free in on_connection_close: ran once, no crash");
  t_run_for(loop, 0.02);
  free(a);
}

static void t_failmem(void) {
  gust_failmem fm;
  unsigned long n;
  int leaks = 0, answered = 0, completed = 0;
  gust_failmem_init(&fm, NULL);
  for (n = 1; n < 400; n++) {
    gust_http_server *srv;
    app *a = app_new();
    client *c;
    gust_failmem_reset(&fm, n);
    if (gust_http_server_new(&srv, loop, NULL, a_start, a, &fm.mem) != 0) {
      free(a);
      continue;
    }
    if (gust_http_server_listen(srv, "127.0.0.1", 0, NULL) != 0) {
      gust_http_server_free(srv);
      free(a);
      continue;
    }
    c = cl_open(gust_http_server_port(srv));
    cl_sends(c, "POST /f HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
    if (cl_wait_for(c, 1, 2.0) == 1)
      answered++;
    cl_close(c);
    gust_http_server_free(srv);
    t_run_for(loop, 0.01);
    if (fm.live_blocks != 0) {
      if (leaks++ == 0)
        diag("failing allocation %lu leaves %zu blocks", n, fm.live_blocks);
    }
    free(a);
    if (fm.failures == 0) {
      completed = 1;
      break;
    }
  }
  ok(completed, "failmem: an exchange without failures ends the run (%lu)", n);
  ok(answered >= 1, "failmem: answered when memory allows");
  is_int(leaks, 0, "failmem: no leak after any failed allocation");
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  tc_make_certs();
  t_run_group("new", &loop, t_new_args);
  t_run_group("basic", &loop, t_basic);
  t_run_group("pipelining", &loop, t_pipelining);
  t_run_group("chunk_size", &loop, t_chunk_size);
  t_run_group("gzip", &loop, t_gzip);
  t_run_group("length", &loop, t_length_mismatch);
  t_run_group("continue", &loop, t_continue);
  t_run_group("keep_alive", &loop, t_keep_alive);
  t_run_group("errors", &loop, t_errors);
  t_run_group("timeouts", &loop, t_timeouts);
  t_run_group("max_body", &loop, t_max_body);
  t_run_group("flow_control", &loop, t_flow_control);
  t_run_group("callback_errors", &loop, t_callback_errors);
  t_run_group("early_response", &loop, t_early_response);
  t_run_group("shutdown", &loop, t_shutdown);
  t_run_group("detach", &loop, t_detach);
  t_run_group("callback_api", &loop, t_callback_api);
  t_run_group("tls", &loop, t_tls);
  t_run_group("park", &loop, t_park);
  t_run_group("free_in_callback", &loop, t_free_in_callback);
  t_run_group("failmem", &loop, t_failmem);
  tc_remove_certs();
  return done_testing();
}
