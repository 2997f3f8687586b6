/* HTTP server: in-process tests over loopback. A raw client socket sends
 * bytes and reads what the server answers while the loop runs in short
 * slices; a small response parser splits what came back. */
#define _GNU_SOURCE
#include <gust/gzip.h>
#include <gust/httpserver.h>

#include "../net/tcp_common.h"

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
  int closes;
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
  if (a->respond_at_finish) {
    snprintf(n, sizeof(n), "%zu", a->body_len);
    gust_http_respond(req, 200, "text/plain", n, strlen(n));
  }
}

static void a_close(gust_http_request *req, void *ctx) {
  app *a = ctx;
  app_log(a, "close", gust_http_request_path(req));
  a->closes++;
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

int main(void) {
  t_run_group("basic", &loop, t_basic);
  t_run_group("pipelining", &loop, t_pipelining);
  return done_testing();
}
