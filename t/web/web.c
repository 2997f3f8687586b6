/* The web layer, black-box over loopback: each group is a gust_test whose
 * loop runs both an application (served by a test server) and the
 * clients. Requests go through gust's HTTP client (no redirects followed,
 * nothing decompressed) and the answers are checked as the head and body
 * the server sent; what a client library will not send (an unknown
 * method, a refused WebSocket upgrade, a client leaving mid-request) goes
 * over raw non-blocking sockets driven by the same loop, read with a small
 * reader that shares no code with gust (Content-Length, chunked, or until
 * close). */
#define _GNU_SOURCE
#include <gust/httpclient.h>
#include <gust/web.h>
#include <gust/websocket.h>

#include <time.h>
#include <zlib.h>

#include <gust/testing.h>

#include "../net/tcp_common.h"

/* The loop of the group that is running (the test's). */
static gust_loop *loop;

/* ------------------------------------------------------------------ */
/* The application under test                                           */
/* ------------------------------------------------------------------ */

typedef struct server {
  gust_web_app *app;
  gust_test_server *ts;
  int port;
} server;

static int server_start(server *s, const gust_web_settings *st,
                        void (*routes)(gust_web_app *)) {
  gust_test_server_opts so;
  memset(s, 0, sizeof *s);
  if (gust_web_app_new(&s->app, loop, st, NULL) != 0)
    return -1;
  routes(s->app);
  memset(&so, 0, sizeof so);
  so.start_request = gust_web_app_start_request;
  so.user_data = s->app;
  if (gust_test_server_start(t_current, &so, &s->ts) != 0)
    return -1;
  s->port = gust_test_server_port(s->ts);
  return 0;
}

/* Frees the server before the application, as the application requires;
 * the test's client drops the connections it kept to it first. */
static void server_stop(server *s) {
  gust_http_client_close_idle(gust_test_http_client(t_current));
  gust_test_run_for(t_current, 0.02);
  gust_test_server_free(s->ts);
  gust_test_run_for(t_current, 0.02);
  gust_web_app_free(s->app);
  memset(s, 0, sizeof *s);
}

/* ------------------------------------------------------------------ */
/* Responses                                                            */
/* ------------------------------------------------------------------ */

typedef struct resp {
  int status;
  char head[8192];
  char *body;
  size_t len;
  int chunked;
} resp;

static void resp_free(resp *r) {
  free(r->body);
  memset(r, 0, sizeof *r);
}

/* The value of header `name` in r->head (first one), or NULL. */
static const char *hdr(const resp *r, const char *name, char *buf, size_t cap) {
  const char *p = strstr(r->head, "\r\n");
  size_t n = strlen(name);
  while (p != NULL && p[2] != '\0' && p[2] != '\r') {
    const char *line = p + 2, *e = strstr(line, "\r\n");
    if (e == NULL)
      break;
    if (strncasecmp(line, name, n) == 0 && line[n] == ':') {
      const char *v = line + n + 1;
      size_t l;
      while (*v == ' ')
        v++;
      l = (size_t)(e - v);
      if (l >= cap)
        l = cap - 1;
      memcpy(buf, v, l);
      buf[l] = '\0';
      return buf;
    }
    p = e;
  }
  return NULL;
}

static int count_hdr(const resp *r, const char *name) {
  int n = 0;
  size_t l = strlen(name);
  for (const char *p = strstr(r->head, "\r\n"); p != NULL;
       p = strstr(p + 2, "\r\n"))
    if (strncasecmp(p + 2, name, l) == 0 && p[2 + l] == ':')
      n++;
  return n;
}

/* Fills `r` from what gust's client received: the status line and the
 * fields as they came, then the body. Returns 0, or -1 when there was no
 * response (r->status is then 0 or 599). */
static int resp_of(const gust_fetch_response *fr, resp *r) {
  const gust_headers *h;
  gust_slice name, value, b;
  size_t it = 0, o;
  memset(r, 0, sizeof *r);
  /* an empty body until one came: a failure fails checks, not the program */
  r->body = calloc(1, 1);
  if (r->body == NULL)
    bail_out("malloc");
  if (fr == NULL)
    return -1;
  r->status = gust_fetch_response_code(fr);
  if (gust_fetch_response_error(fr) != 0 || r->status == 599) {
    diag("no response: %s (%s)", gust_errname(gust_fetch_response_error(fr)),
         gust_fetch_response_error_message(fr) != NULL
             ? gust_fetch_response_error_message(fr)
             : "");
    return -1;
  }
  h = gust_fetch_response_headers(fr);
  o = (size_t)snprintf(r->head, sizeof r->head, "HTTP/1.1 %d %s\r\n", r->status,
                       gust_fetch_response_reason(fr));
  while (o < sizeof r->head && gust_headers_next(h, &it, &name, &value))
    o += (size_t)snprintf(r->head + o, sizeof r->head - o, "%.*s: %.*s\r\n",
                          (int)name.len, (const char *)name.ptr, (int)value.len,
                          (const char *)value.ptr);
  if (o >= sizeof r->head)
    bail_out("response head over %zu bytes", sizeof r->head);
  r->chunked = gust_headers_get(h, "Transfer-Encoding", NULL) == 0;
  b = gust_fetch_response_body(fr);
  free(r->body);
  r->body = malloc(b.len + 1);
  if (r->body == NULL)
    bail_out("malloc");
  if (b.len > 0)
    memcpy(r->body, b.ptr, b.len);
  r->body[b.len] = '\0';
  r->len = b.len;
  return 0;
}

/* Sends `method` (NULL = GET) `path` to the application on `port` with
 * the test's client, with the header lines of `extra` ("Name: value\r\n"
 * each; may be NULL) and `body` (NULL = none), and runs the test's loop
 * until the answer came. Returns 0 or -1, as resp_of(). */
static int fetch(int port, const char *method, const char *path,
                 const char *extra, const void *body, size_t body_len,
                 resp *r) {
  gust_fetch_request rq;
  gust_headers h;
  char url[8192];
  int rc;
  snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
  gust_fetch_request_init(&rq, url);
  gust_headers_init(&h, NULL);
  for (const char *p = extra; p != NULL && *p != '\0';) {
    const char *colon = strchr(p, ':'), *e = strstr(p, "\r\n"), *v;
    if (colon == NULL || e == NULL || colon > e)
      bail_out("bad header line in %s", extra);
    for (v = colon + 1; *v == ' '; v++)
      ;
    if (gust_headers_add(&h, p, (size_t)(colon - p), v, (size_t)(e - v)) != 0)
      bail_out("bad header line in %s", extra);
    p = e + 2;
  }
  if (method != NULL)
    rq.method = method;
  rq.headers = &h;
  rq.body = body;
  rq.body_len = body_len;
  rq.follow_redirects = 0;
  rq.decompress_response = 0;
  rq.connect_timeout = gust_test_timeout(t_current);
  rq.request_timeout = gust_test_timeout(t_current);
  rc = resp_of(gust_test_fetch_url(t_current, url, &rq), r);
  gust_headers_free(&h);
  return rc;
}

static int get(int port, const char *path, const char *extra, resp *r) {
  return fetch(port, NULL, path, extra, NULL, 0, r);
}

static int req_body(int port, const char *method, const char *path,
                    const char *extra, const char *body, resp *r) {
  return fetch(port, method, path, extra, body, strlen(body), r);
}

/* ------------------------------------------------------------------ */
/* Raw requests                                                         */
/* ------------------------------------------------------------------ */

/* A non-blocking connection to 127.0.0.1:`port`. */
static int raw_open(int port) {
  struct sockaddr_in a;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    bail_out("socket: %s", strerror(errno));
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  /* the kernel completes a loopback handshake without the server's accept */
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
    bail_out("connect: %s", strerror(errno));
  if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0)
    bail_out("fcntl: %s", strerror(errno));
  return fd;
}

/* One raw exchange: what to send, and what came back until the end. */
typedef struct rawio {
  const char *out;
  size_t outlen, off;
  char *in;
  size_t len, cap;
  int eof;
} rawio;

static void rawio_ready(gust_loop *l, int fd, int events, void *ud) {
  rawio *io = ud;
  if ((events & GUST_LOOP_WRITE) && io->off < io->outlen) {
    ssize_t n = send(fd, io->out + io->off, io->outlen - io->off, MSG_NOSIGNAL);
    if (n > 0)
      io->off += (size_t)n;
    else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
      io->off = io->outlen; /* the server went away: read what it said */
    if (io->off == io->outlen)
      gust_loop_update_handler(l, fd, GUST_LOOP_READ);
  }
  if (!(events & GUST_LOOP_READ))
    return;
  for (;;) {
    ssize_t n;
    if (io->cap - io->len < 65536) {
      char *nb = realloc(io->in, io->cap * 2 + 65536 + 1);
      if (nb == NULL)
        bail_out("malloc");
      io->in = nb;
      io->cap = io->cap * 2 + 65536;
    }
    n = recv(fd, io->in + io->len, io->cap - io->len, 0);
    if (n > 0) {
      io->len += (size_t)n;
      continue;
    }
    if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
      io->eof = 1;
    return;
  }
}

static int rawio_done(gust_loop *l, void *ud) {
  (void)l;
  return ((rawio *)ud)->eof;
}

/* Sends `req` (a whole request with Connection: close) and reads the
 * answer until the server closes, running the test's loop meanwhile.
 * Returns 0 or -1. */
static int raw(int port, const char *req, size_t reqlen, resp *r) {
  rawio io;
  char *buf, *hend;
  size_t len;
  int fd = raw_open(port);
  memset(r, 0, sizeof *r);
  memset(&io, 0, sizeof io);
  io.out = req;
  io.outlen = reqlen != 0 ? reqlen : strlen(req);
  if (gust_loop_add_handler(loop, fd, GUST_LOOP_READ | GUST_LOOP_WRITE,
                            rawio_ready, &io) != 0)
    bail_out("cannot watch a raw socket");
  gust_test_run_until(t_current, rawio_done, &io,
                      "the server to answer a raw request and close");
  gust_loop_remove_handler(loop, fd);
  close(fd);
  buf = io.in;
  len = io.len;
  if (buf != NULL)
    buf[len] = '\0';
  hend = buf != NULL ? strstr(buf, "\r\n\r\n") : NULL;
  if (hend == NULL || sscanf(buf, "HTTP/1.%*d %d", &r->status) != 1) {
    free(buf);
    r->body = calloc(1, 1); /* a failure fails checks, not the program */
    return -1;
  }
  snprintf(r->head, sizeof r->head, "%.*s", (int)(hend - buf + 2), buf);
  {
    char v[64];
    const char *body = hend + 4;
    size_t blen = len - (size_t)(body - buf);
    if (hdr(r, "Transfer-Encoding", v, sizeof v) != NULL) {
      /* de-chunk */
      char *out = malloc(blen + 1);
      size_t o = 0;
      const char *p = body, *end = body + blen;
      r->chunked = 1;
      while (p < end) {
        char *e;
        unsigned long sz = strtoul(p, &e, 16);
        const char *crlf = strstr(p, "\r\n");
        if (crlf == NULL)
          break;
        p = crlf + 2;
        if (sz == 0 || p + sz > end)
          break;
        memcpy(out + o, p, sz);
        o += sz;
        p += sz + 2;
      }
      out[o] = '\0';
      r->body = out;
      r->len = o;
    } else {
      r->body = malloc(blen + 1);
      memcpy(r->body, body, blen);
      r->body[blen] = '\0';
      r->len = blen;
    }
  }
  free(buf);
  return 0;
}

static int raw_get(int port, const char *path, const char *extra, resp *r) {
  char req[8192];
  snprintf(req, sizeof req,
           "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%sConnection: close\r\n\r\n",
           path, extra != NULL ? extra : "");
  return raw(port, req, 0, r);
}

/* ------------------------------------------------------------------ */
/* Handlers                                                             */
/* ------------------------------------------------------------------ */

static struct {
  int finishes, closes, releases, prepares, inits;
  int hang_inits, hang_waits; /* /hang: requests seen, GETs waiting */
  long streamed;
  int stream_pieces;
  int stream_prepare_done_first;
  char last_user[64];
} C;

static int hello_get(gust_web_handler *h, gust_future **w) {
  (void)w;
  return gust_web_write_str(h, "Hello, world");
}

static int hello_post(gust_web_handler *h, gust_future **w) {
  (void)w;
  return gust_web_write_str(h, "posted");
}

static void count_finish(gust_web_handler *h) {
  (void)h;
  C.finishes++;
}

static void count_release(gust_web_handler *h) {
  (void)h;
  C.releases++;
}

static const gust_web_handler_class hello_class = {
    .name = "Hello",
    .get = hello_get,
    .head = hello_get,
    .post = hello_post,
    .on_finish = count_finish,
    .release = count_release,
};

static int args_get(gust_web_handler *h, gust_future **w) {
  const char *a, *c, *raw_a;
  const char *const *bs;
  size_t n;
  int rc;
  (void)w;
  if ((rc = gust_web_get_argument(h, "a", NULL, &a)) < 0)
    return rc;
  if ((rc = gust_web_get_argument(h, "c", "dflt", &c)) < 0)
    return rc;
  if ((rc = gust_web_get_argument_from(h, GUST_WEB_ARGS_ALL, "a", NULL, 0,
                                       &raw_a)) < 0)
    return rc;
  if ((rc = gust_web_get_arguments(h, GUST_WEB_ARGS_ALL, "b", 1, &bs, &n)) < 0)
    return rc;
  if ((rc = gust_web_writef(h, "a=[%s] raw=[%s] c=[%s] b=%zu", a, raw_a, c,
                            n)) < 0)
    return rc;
  for (size_t i = 0; i < n; i++)
    if ((rc = gust_web_writef(h, " [%s]", bs[i])) < 0)
      return rc;
  {
    const char *q, *b;
    if ((rc = gust_web_get_argument_from(h, GUST_WEB_ARGS_QUERY, "a", "-", 1,
                                         &q)) < 0 ||
        (rc = gust_web_get_argument_from(h, GUST_WEB_ARGS_BODY, "a", "-", 1,
                                         &b)) < 0)
      return rc;
    return gust_web_writef(h, " q=[%s] body=[%s]", q, b);
  }
}

static const gust_web_handler_class args_class = {
    .get = args_get,
    .post = args_get,
};

static int path_get(gust_web_handler *h, gust_future **w) {
  gust_slice a, id;
  (void)w;
  if (gust_web_path_arg(h, 0, &a) != 0 ||
      gust_web_path_kwarg(h, "id", &id) != 0)
    return gust_web_http_error(h, 500, "missing path args");
  gust_web_writef(h, "%zu [%.*s] [%.*s]", gust_web_path_args_count(h),
                  (int)a.len, (const char *)a.ptr, (int)id.len,
                  (const char *)id.ptr);
  return 0;
}

static const gust_web_handler_class path_class = {.get = path_get};

static int status_get(gust_web_handler *h, gust_future **w) {
  gust_slice a;
  const char *reason;
  int code;
  (void)w;
  gust_web_path_arg(h, 0, &a);
  code = atoi((const char *)a.ptr);
  gust_web_get_argument(h, "reason", "", &reason);
  if (gust_web_set_status(h, code, reason[0] ? reason : NULL) != 0)
    return gust_web_http_error(h, 400, "bad status");
  return gust_web_write_str(h, "status body");
}

static const gust_web_handler_class status_class = {.get = status_get};

static int hdr_get(gust_web_handler *h, gust_future **w) {
  (void)w;
  gust_web_set_header(h, "X-One", "1");
  gust_web_add_header(h, "X-Multi", "a");
  gust_web_add_header(h, "X-Multi", "b");
  gust_web_set_header(h, "X-Gone", "x");
  gust_web_clear_header(h, "X-Gone");
  gust_web_writef(h, "crlf=%d nul=%d name=%d",
                  gust_web_set_header(h, "X-Bad", "a\r\nInjected: 1"),
                  gust_web_set_header(h, "X-Bad", "a\nb"),
                  gust_web_set_header(h, "Bad Name", "v"));
  return 0;
}

static const gust_web_handler_class hdr_class = {.get = hdr_get};

static int json_get(gust_web_handler *h, gust_future **w) {
  gust_buf b;
  int rc;
  (void)w;
  gust_buf_init(&b, NULL);
  gust_buf_append_str(&b, "{\"s\":");
  rc = gust_json_quote("a\"b</script>\n\x01", 14, &b);
  gust_buf_append_str(&b, "}");
  if (rc == 0)
    rc = gust_web_write_json(h, (const char *)b.ptr, b.len);
  gust_buf_free(&b);
  return rc;
}

static const gust_web_handler_class json_class = {.get = json_get};

static int redir_get(gust_web_handler *h, gust_future **w) {
  const char *to, *st;
  int rc;
  (void)w;
  if ((rc = gust_web_get_argument(h, "to", NULL, &to)) < 0)
    return rc;
  gust_web_get_argument(h, "status", "0", &st);
  rc = gust_web_redirect(h, to, atoi(st));
  if (rc == GUST_EINVAL)
    return gust_web_http_error(h, 400, "bad redirect");
  return rc;
}

static const gust_web_handler_class redir_class = {.get = redir_get};

static void fail_timer(gust_loop *l, void *ud) {
  gust_future *f = ud;
  (void)l;
  gust_future_set_error(f, GUST_EINTERNAL, "the database is down");
  gust_future_unref(f);
}

static int error_get(gust_web_handler *h, gust_future **w) {
  gust_slice a;
  gust_web_path_arg(h, 0, &a);
  if (gust_slice_eq(a, gust_slice_cstr("http")))
    return gust_web_http_error(h, 403, "not for you");
  if (gust_slice_eq(a, gust_slice_cstr("reason")))
    return gust_web_http_error_reason(h, 418, "Short And Stout", NULL);
  if (gust_slice_eq(a, gust_slice_cstr("uncaught")))
    return GUST_EINTERNAL;
  if (gust_slice_eq(a, gust_slice_cstr("finish"))) {
    gust_web_write_str(h, "partial");
    return gust_web_finish_early(h);
  }
  if (gust_slice_eq(a, gust_slice_cstr("send"))) {
    gust_web_write_str(h, "dropped");
    return gust_web_send_error(h, 503);
  }
  if (gust_slice_eq(a, gust_slice_cstr("afterflush"))) {
    gust_web_write_str(h, "first part;");
    gust_web_flush(h, NULL);
    return GUST_EINTERNAL;
  }
  if (gust_slice_eq(a, gust_slice_cstr("async"))) {
    gust_future *f;
    gust_future_new(&f, gust_web_loop(h), NULL);
    gust_loop_call_later(gust_web_loop(h), 0.01, fail_timer, gust_future_ref(f),
                         NULL);
    *w = f;
    return 0;
  }
  if (gust_slice_eq(a, gust_slice_cstr("twice"))) {
    gust_web_finish(h, NULL);
    return gust_web_finish(h, NULL) == GUST_ESTATE ? 0 : GUST_EINTERNAL;
  }
  return gust_web_http_error(h, 404, NULL);
}

static int custom_write_error(gust_web_handler *h, int status, int code,
                              const char *message) {
  return gust_web_writef(h, "custom %d %s %s", status, gust_errname(code),
                         message != NULL ? message : "-");
}

static const gust_web_handler_class error_class = {.get = error_get};
static const gust_web_handler_class error_custom_class = {
    .get = error_get, .write_error = custom_write_error};

static void ok_timer(gust_loop *l, void *ud) {
  gust_web_handler *h = ud;
  gust_future *f =
      gust_web_state(h) != NULL ? *(gust_future **)gust_web_state(h) : NULL;
  (void)l;
  gust_web_write_str(h, " later");
  gust_future_set_result(f, NULL, NULL);
  gust_future_unref(f);
  gust_web_handler_unref(h);
}

/* Waits 10 ms, then ok_timer writes " later" and resolves. */
static int wait_later(gust_web_handler *h, gust_future **w) {
  gust_future *f;
  int rc = gust_future_new(&f, gust_web_loop(h), NULL);
  if (rc < 0)
    return rc;
  *(gust_future **)gust_web_state(h) = gust_future_ref(f);
  rc = gust_loop_call_later(gust_web_loop(h), 0.01, ok_timer,
                            gust_web_handler_ref(h), NULL);
  if (rc < 0) {
    gust_web_handler_unref(h);
    gust_future_unref(f);
    gust_future_unref(f);
    *(gust_future **)gust_web_state(h) = NULL;
    return rc;
  }
  *w = f;
  return 0;
}

static int async_prepare(gust_web_handler *h, gust_future **w) {
  int rc;
  C.prepares++;
  if ((rc = gust_web_write_str(h, "prepared")) < 0)
    return rc;
  return wait_later(h, w);
}

static int async_get(gust_web_handler *h, gust_future **w) {
  int rc;
  if ((rc = gust_web_write_str(h, " get")) < 0)
    return rc;
  return wait_later(h, w);
}

static const gust_web_handler_class async_class = {
    .state_size = sizeof(gust_future *),
    .prepare = async_prepare,
    .get = async_get,
    .on_finish = count_finish,
};

static int cookie_get(gust_web_handler *h, gust_future **w) {
  gust_slice a;
  gust_buf v;
  int rc;
  (void)w;
  gust_web_path_arg(h, 0, &a);
  if (gust_slice_eq(a, gust_slice_cstr("set"))) {
    gust_cookie_attrs at;
    memset(&at, 0, sizeof at);
    at.httponly = 1;
    gust_web_set_cookie(h, "plain", "v1", 2, NULL, 0);
    gust_web_set_cookie(h, "plain", "v2", 2, NULL, 0); /* replaces */
    gust_web_set_cookie(h, "quoted", "a;b", 3, &at, 0);
    gust_web_set_cookie(h, "days", "x", 1, NULL, 10);
    rc = gust_web_set_cookie(h, "bad name", "x", 1, NULL, 0);
    gust_web_set_secure_cookie(h, "user", "alice", 5, NULL, 0);
    gust_web_clear_cookie(h, "old", NULL, NULL);
    return gust_web_writef(h, "bad=%s", gust_errname(rc));
  }
  gust_buf_init(&v, NULL);
  rc = gust_web_get_secure_cookie(h, "user", 0, 0, &v);
  {
    const char *p;
    int kv = -1;
    gust_web_get_cookie(h, "plain", "none", &p);
    gust_web_get_secure_cookie_key_version(h, "user", &kv);
    gust_web_writef(h, "user=%s[%.*s] plain=%s kv=%d", gust_errname(rc),
                    (int)v.len, (const char *)v.ptr, p, kv);
  }
  gust_buf_free(&v);
  return 0;
}

static const gust_web_handler_class cookie_class = {.get = cookie_get};

static int xsrf_get(gust_web_handler *h, gust_future **w) {
  const char *tok, *html;
  int rc;
  (void)w;
  if ((rc = gust_web_xsrf_token(h, &tok)) < 0 ||
      (rc = gust_web_xsrf_form_html(h, &html)) < 0)
    return rc;
  return gust_web_writef(h, "%s\n%s", tok, html);
}

static int xsrf_post(gust_web_handler *h, gust_future **w) {
  (void)w;
  return gust_web_write_str(h, "accepted");
}

static const gust_web_handler_class xsrf_class = {
    .get = xsrf_get, .post = xsrf_post, .put = xsrf_post};

static int big_get(gust_web_handler *h, gust_future **w) {
  const char *n;
  int rc;
  (void)w;
  if ((rc = gust_web_get_argument(h, "n", "2000", &n)) < 0)
    return rc;
  for (int i = 0; i < atoi(n); i++)
    if ((rc = gust_web_write(h, &"abcdefghij"[i % 10], 1)) < 0)
      return rc;
  if ((rc = gust_web_get_argument(h, "type", "", &n)) < 0)
    return rc;
  if (n[0] && (rc = gust_web_set_header(h, "Content-Type", n)) < 0)
    return rc;
  if ((rc = gust_web_get_argument(h, "flush", "", &n)) < 0)
    return rc;
  if (n[0]) {
    if ((rc = gust_web_flush(h, NULL)) < 0)
      return rc;
    return gust_web_write_str(h, "tail");
  }
  return 0;
}

static const gust_web_handler_class big_class = {.get = big_get,
                                                 .head = big_get};

static int stream_prepare(gust_web_handler *h, gust_future **w) {
  gust_future *f;
  C.streamed = 0;
  C.stream_pieces = 0;
  C.stream_prepare_done_first = 0;
  gust_future_new(&f, gust_web_loop(h), NULL);
  *(gust_future **)gust_web_state(h) = gust_future_ref(f);
  gust_loop_call_later(gust_web_loop(h), 0.02, ok_timer,
                       gust_web_handler_ref(h), NULL);
  *w = f;
  return 0;
}

static int stream_data(gust_web_handler *h, gust_slice chunk, gust_future **w) {
  (void)w;
  /* ok_timer wrote " later" when prepare's future resolved */
  if (C.stream_pieces == 0)
    C.stream_prepare_done_first =
        gust_web_state(h) != NULL && C.stream_pieces == 0;
  C.streamed += (long)chunk.len;
  C.stream_pieces++;
  return 0;
}

static int stream_put(gust_web_handler *h, gust_future **w) {
  (void)w;
  return gust_web_writef(h, "got %ld bytes in %d pieces", C.streamed,
                         C.stream_pieces);
}

static const gust_web_handler_class stream_class = {
    .state_size = sizeof(gust_future *),
    .flags = GUST_WEB_STREAM_BODY,
    .prepare = stream_prepare,
    .data_received = stream_data,
    .put = stream_put,
    .post = stream_put,
};

static int user_of(gust_web_handler *h, gust_buf *user) {
  gust_buf v;
  int rc;
  gust_buf_init(&v, NULL);
  rc = gust_web_get_secure_cookie(h, "user", 0, 0, &v);
  if (rc == 0)
    gust_buf_append(user, v.ptr, v.len);
  gust_buf_free(&v);
  return rc == 0 ? 1 : 0;
}

static int auth_get(gust_web_handler *h, gust_future **w) {
  gust_slice u;
  int rc;
  (void)w;
  if ((rc = gust_web_authenticated(h)) < 0)
    return rc;
  gust_web_current_user(h, &u);
  return gust_web_writef(h, "hello %.*s", (int)u.len, (const char *)u.ptr);
}

static const gust_web_handler_class auth_class = {
    .get_current_user = user_of, .get = auth_get, .post = auth_get};

static int reverse_get(gust_web_handler *h, gust_future **w) {
  gust_buf b;
  const char *args[2] = {"a b/c", "42"};
  int rc;
  (void)w;
  gust_buf_init(&b, NULL);
  rc = gust_web_app_reverse_url(gust_web_app_of(h), "path", args, 2, &b);
  gust_web_writef(h, "%s:%.*s", gust_errname(rc), (int)b.len,
                  (const char *)b.ptr);
  gust_buf_clear(&b);
  rc = gust_web_app_reverse_url(gust_web_app_of(h), "path", args, 1, &b);
  gust_web_writef(h, " %s", gust_errname(rc));
  rc = gust_web_app_reverse_url(gust_web_app_of(h), "nope", args, 1, &b);
  gust_web_writef(h, " %s", gust_errname(rc));
  rc = gust_web_app_reverse_url(gust_web_app_of(h), "regex", NULL, 0, &b);
  gust_web_writef(h, " %s", gust_errname(rc));
  gust_buf_free(&b);
  return 0;
}

static const gust_web_handler_class reverse_class = {.get = reverse_get};

static int dflt_hdrs(gust_web_handler *h) {
  return gust_web_set_header(h, "X-Class-Default", "yes");
}

static int init_count(gust_web_handler *h) {
  (void)h;
  C.inits++;
  return 0;
}

static const gust_web_handler_class defaults_class = {
    .initialize = init_count,
    .set_default_headers = dflt_hdrs,
    .get = hello_get,
};

static int hang_init(gust_web_handler *h) {
  (void)h;
  C.hang_inits++;
  return 0;
}

static int hang_get(gust_web_handler *h, gust_future **w) {
  gust_future *f;
  C.hang_waits++;
  gust_future_new(&f, gust_web_loop(h), NULL);
  *(gust_future **)gust_web_state(h) = f;
  *w = gust_future_ref(f);
  return 0;
}

static void hang_conn_close(gust_web_handler *h) {
  gust_future *f = *(gust_future **)gust_web_state(h);
  C.closes++;
  if (f != NULL)
    gust_future_set_result(f, NULL, NULL);
}

static void hang_release(gust_web_handler *h) {
  gust_future_unref(*(gust_future **)gust_web_state(h));
  C.releases++;
}

static const gust_web_handler_class hang_class = {
    .state_size = sizeof(gust_future *),
    .initialize = hang_init,
    .get = hang_get,
    .post = hang_get,
    .on_connection_close = hang_conn_close,
    .release = hang_release,
};

/* WebSocket route: echo with a prefix from prepare's cookie check. */
static int ws_prepare(gust_web_handler *h, gust_future **w) {
  const char *deny;
  (void)w;
  gust_web_get_argument(h, "deny", "", &deny);
  if (deny[0])
    return gust_web_http_error(h, 401, "denied");
  return 0;
}

static int ws_msg(gust_web_handler *h, gust_websocket *ws,
                  const gust_websocket_message *m, gust_future **w) {
  char buf[256];
  (void)h;
  (void)w;
  snprintf(buf, sizeof buf, "echo: %.*s", (int)m->data.len,
           (const char *)m->data.ptr);
  return gust_websocket_write_message(ws, buf, strlen(buf), 0, NULL);
}

static void ws_closed(gust_web_handler *h, gust_websocket *ws) {
  (void)h;
  (void)ws;
  C.closes++;
}

static const gust_web_socket_class ws_side = {
    .on_message = ws_msg,
    .on_close = ws_closed,
};

static const gust_web_handler_class ws_class = {
    .prepare = ws_prepare,
    .release = count_release,
    .websocket = &ws_side,
};

static int not_found_get(gust_web_handler *h, gust_future **w) {
  (void)w;
  gust_web_set_status(h, 404, NULL);
  return gust_web_write_str(h, "custom not found");
}

static const gust_web_handler_class not_found_class = {.get = not_found_get};

static void routes(gust_web_app *app) {
  int rc = 0;
  rc |= gust_web_app_add(app, "/", &hello_class, NULL, "root");
  rc |= gust_web_app_add(app, "/args", &args_class, NULL, NULL);
  rc |= gust_web_app_add(app, "/path/([^/]+)/(?P<id>\\d+)", &path_class, NULL,
                         "path");
  rc |= gust_web_app_add(app, "/status/(\\d+)", &status_class, NULL, NULL);
  rc |= gust_web_app_add(app, "/hdr", &hdr_class, NULL, NULL);
  rc |= gust_web_app_add(app, "/json", &json_class, NULL, NULL);
  rc |= gust_web_app_add(app, "/redir", &redir_class, NULL, NULL);
  rc |= gust_web_app_add(app, "/error/(.*)", &error_class, NULL, NULL);
  rc |= gust_web_app_add(app, "/cerror/(.*)", &error_custom_class, NULL, NULL);
  rc |= gust_web_app_add(app, "/async", &async_class, NULL, NULL);
  rc |= gust_web_app_add(app, "/cookie/(.*)", &cookie_class, NULL, NULL);
  rc |= gust_web_app_add(app, "/xsrf", &xsrf_class, NULL, NULL);
  rc |= gust_web_app_add(app, "/big", &big_class, NULL, NULL);
  rc |= gust_web_app_add(app, "/stream", &stream_class, NULL, NULL);
  rc |= gust_web_app_add(app, "/auth", &auth_class, NULL, NULL);
  rc |= gust_web_app_add(app, "/reverse", &reverse_class, NULL, NULL);
  rc |= gust_web_app_add(app, "/re[g]ex/x+", &reverse_class, NULL, "regex");
  rc |= gust_web_app_add(app, "/defaults", &defaults_class, NULL, NULL);
  rc |= gust_web_app_add(app, "/hang", &hang_class, NULL, NULL);
  rc |= gust_web_app_add(app, "/ws", &ws_class, NULL, NULL);
  if (rc != 0)
    bail_out("routes: %s", gust_web_app_error(app));
}

static gust_secrets *secrets;

/* ------------------------------------------------------------------ */
/* Checks                                                               */
/* ------------------------------------------------------------------ */

static server S;
static char v[4096];

/* A counter and the value it had. */
typedef struct change {
  const int *p;
  int was;
} change;

static int changed(gust_loop *l, void *ud) {
  const change *c = ud;
  (void)l;
  return *c->p != c->was;
}

/* Runs the test's loop until *p is no longer `was`. */
static void wait_change(const int *p, int was, const char *what) {
  change c;
  c.p = p;
  c.was = was;
  gust_test_run_until(t_current, changed, &c, what);
}

static void t_basics(void) {
  resp r;
  int f0 = C.finishes;
  ok(get(S.port, "/", NULL, &r) == 0 && r.status == 200, "basics: GET / 200");
  is_str(r.body, "Hello, world", "basics: body");
  is_str(hdr(&r, "Content-Type", v, sizeof v), "text/html; charset=UTF-8",
         "basics: default Content-Type");
  ok(hdr(&r, "Server", v, sizeof v) && strncmp(v, "gust/", 5) == 0,
     "basics: Server gust/<version>");
  ok(hdr(&r, "Date", v, sizeof v) && strstr(v, " GMT") != NULL,
     "basics: Date header");
  is_str(hdr(&r, "Content-Length", v, sizeof v), "12",
         "basics: Content-Length");
  ok(hdr(&r, "Etag", v, sizeof v) && v[0] == '"' && strlen(v) == 42,
     "basics: ETag is a quoted SHA-1");
  is_int(C.finishes, f0 + 1, "basics: on_finish ran once");
  resp_free(&r);

  ok(fetch(S.port, "HEAD", "/", NULL, NULL, 0, &r) == 0 && r.status == 200,
     "head: 200");
  is_int((long long)r.len, 0, "head: no body");
  is_str(hdr(&r, "Content-Length", v, sizeof v), "12",
         "head: Content-Length of the GET body");
  resp_free(&r);

  req_body(S.port, "POST", "/", NULL, "x=1", &r);
  is_str(r.body, "posted", "basics: POST");
  ok(hdr(&r, "Etag", v, sizeof v) == NULL, "basics: no ETag for POST");
  resp_free(&r);

  req_body(S.port, "PUT", "/", NULL, "x", &r);
  is_int(r.status, 405, "405: method the class lacks");
  ok(strstr(r.body, "405: Method Not Allowed") != NULL,
     "405: Tornado's error page");
  resp_free(&r);

  raw(S.port, "FOO / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 0, &r);
  is_int(r.status, 405, "405: unknown method");
  resp_free(&r);

  get(S.port, "/nowhere", NULL, &r);
  is_int(r.status, 404, "404: no route");
  is_str(r.body,
         "<html><title>404: Not Found</title><body>404: Not "
         "Found</body></html>",
         "404: Tornado's page");
  resp_free(&r);

  get(S.port, "/?q=1", NULL, &r);
  is_int(r.status, 200, "routes: the query is not part of the match");
  resp_free(&r);
  get(S.port, "/x/", NULL, &r);
  is_int(r.status, 404, "routes: anchored at the end");
  resp_free(&r);

  C.inits = 0;
  get(S.port, "/defaults", NULL, &r);
  is_str(hdr(&r, "X-Class-Default", v, sizeof v), "yes",
         "defaults: set_default_headers");
  is_str(hdr(&r, "X-App", v, sizeof v), "app", "defaults: app headers");
  is_int(C.inits, 1, "defaults: initialize ran");
  resp_free(&r);
}

static void t_args(void) {
  resp r;
  get(S.port, "/args?a=%20x%01y%20&b=1&b=+2+&a=last", NULL, &r);
  is_str(r.body, "a=[last] raw=[last] c=[dflt] b=2 [1] [2] q=[last] body=[-]",
         "args: last value, defaults, lists, plus as space");
  resp_free(&r);
  get(S.port, "/args?a=%20x%01y%20", NULL, &r);
  ok(strstr(r.body, "a=[x y] raw=[ x y ]") != NULL,
     "args: control chars become spaces, strip");
  resp_free(&r);
  get(S.port, "/args", NULL, &r);
  is_int(r.status, 400, "args: missing argument is 400");
  ok(strstr(r.body, "400: Bad Request") != NULL, "args: 400 page");
  resp_free(&r);
  get(S.port, "/args?a=%ff", NULL, &r);
  is_int(r.status, 400, "args: invalid UTF-8 is 400");
  resp_free(&r);
  req_body(S.port, "POST", "/args?a=q",
           "Content-Type: application/x-www-form-urlencoded\r\n",
           "a=fromBody&b=x", &r);
  ok(strstr(r.body, "a=[fromBody]") && strstr(r.body, "q=[q] body=[fromBody]"),
     "args: body arguments after query ones; per source");
  resp_free(&r);
  req_body(S.port, "POST", "/args",
           "Content-Type: multipart/form-data; boundary=XX\r\n",
           "--XX\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nmp\r\n"
           "--XX--\r\n",
           &r);
  ok(strstr(r.body, "a=[mp]") != NULL, "args: multipart body");
  resp_free(&r);

  get(S.port, "/path/a%20b/42", NULL, &r);
  is_str(r.body, "2 [a b] [42]", "path: groups decoded, named group");
  resp_free(&r);
  get(S.port, "/path/a/x42", NULL, &r);
  is_int(r.status, 404, "path: pattern must match");
  resp_free(&r);

  get(S.port, "/reverse", NULL, &r);
  is_str(r.body,
         "GUST_OK:/path/a%20b/c/42 GUST_EINVAL GUST_ENOTFOUND "
         "GUST_EINVAL",
         "reverse_url: escaped args; wrong count; unknown; regex refused");
  resp_free(&r);
}

static void t_output(void) {
  resp r;
  get(S.port, "/status/201", NULL, &r);
  is_int(r.status, 201, "status: set_status");
  ok(hdr(&r, "Etag", v, sizeof v) == NULL, "status: no ETag unless 200");
  resp_free(&r);
  get(S.port, "/status/299", NULL, &r);
  ok(r.status == 299 && strstr(r.head, "299 Unknown") != NULL,
     "status: unknown code gets reason Unknown");
  resp_free(&r);
  get(S.port, "/status/299?reason=Fine", NULL, &r);
  ok(strstr(r.head, "299 Fine") != NULL, "status: custom reason");
  resp_free(&r);
  get(S.port, "/status/600", NULL, &r);
  is_int(r.status, 400, "status: out of range refused");
  resp_free(&r);
  get(S.port, "/status/204", NULL, &r);
  ok(r.status == 204 && r.len == 0 &&
         hdr(&r, "Content-Type", v, sizeof v) == NULL &&
         hdr(&r, "Content-Length", v, sizeof v) == NULL,
     "status: 204 drops body and representation headers");
  resp_free(&r);

  get(S.port, "/hdr", NULL, &r);
  is_str(hdr(&r, "X-One", v, sizeof v), "1", "headers: set");
  is_int(count_hdr(&r, "X-Multi"), 2, "headers: add twice");
  ok(hdr(&r, "X-Gone", v, sizeof v) == NULL, "headers: clear");
  is_str(r.body, "crlf=-2 nul=-2 name=-2",
         "headers: CR/LF and bad names refused");
  ok(strstr(r.head, "Injected") == NULL, "headers: no injection");
  resp_free(&r);

  get(S.port, "/json", NULL, &r);
  is_str(hdr(&r, "Content-Type", v, sizeof v),
         "application/json; charset=UTF-8", "json: Content-Type");
  is_str(r.body, "{\"s\":\"a\\\"b<\\/script>\\n\\u0001\"}",
         "json: quoted as Tornado's json_encode");
  resp_free(&r);

  get(S.port, "/redir?to=/there", NULL, &r);
  ok(r.status == 302 && hdr(&r, "Location", v, sizeof v) &&
         strcmp(v, "/there") == 0,
     "redirect: 302 + Location");
  resp_free(&r);
  get(S.port, "/redir?to=/there&status=301", NULL, &r);
  is_int(r.status, 301, "redirect: permanent");
  resp_free(&r);
  get(S.port, "/redir?to=//evil.example/x", NULL, &r);
  is_str(hdr(&r, "Location", v, sizeof v), "/evil.example/x",
         "redirect: // path cannot leave the host");
  resp_free(&r);
  get(S.port, "/redir?to=/%5C%5Cevil.example", NULL, &r);
  is_str(hdr(&r, "Location", v, sizeof v), "/evil.example",
         "redirect: /\\ path cannot leave the host");
  resp_free(&r);
  get(S.port, "/redir?to=http://a.example/&status=200", NULL, &r);
  is_int(r.status, 400, "redirect: status must be 3xx");
  resp_free(&r);
  get(S.port, "/redir?to=/a%0d%0aSet-Cookie:x=1", NULL, &r);
  ok(r.status == 400 && strstr(r.head, "x=1") == NULL,
     "redirect: CR/LF refused");
  resp_free(&r);
}

static void t_errors(void) {
  resp r;
  get(S.port, "/error/http", NULL, &r);
  ok(r.status == 403 &&
         strcmp(r.body, "<html><title>403: Forbidden</title><body>403: "
                        "Forbidden</body></html>") == 0,
     "errors: http_error 403");
  resp_free(&r);
  get(S.port, "/error/reason", NULL, &r);
  ok(r.status == 418 && strstr(r.head, "418 Short And Stout") != NULL,
     "errors: http_error with reason");
  resp_free(&r);
  get(S.port, "/error/uncaught", NULL, &r);
  ok(r.status == 500 && strstr(r.body, "500: Internal Server Error") &&
         strstr(r.body, "GUST_E") == NULL,
     "errors: uncaught error is 500 without details");
  resp_free(&r);
  get(S.port, "/error/finish", NULL, &r);
  ok(r.status == 200 && strcmp(r.body, "partial") == 0,
     "errors: Finish ends with what was written");
  resp_free(&r);
  get(S.port, "/error/send", NULL, &r);
  ok(r.status == 503 && strstr(r.body, "dropped") == NULL,
     "errors: send_error clears the buffer");
  resp_free(&r);
  get(S.port, "/error/afterflush", NULL, &r);
  ok(r.status == 200 && strncmp(r.body, "first part;", 11) == 0,
     "errors: after the head only the end of the response");
  resp_free(&r);
  get(S.port, "/error/async", NULL, &r);
  is_int(r.status, 500, "errors: failed future of a step is 500");
  resp_free(&r);
  get(S.port, "/error/twice", NULL, &r);
  is_int(r.status, 200, "errors: finish twice refused (GUST_ESTATE)");
  resp_free(&r);
  get(S.port, "/cerror/async", NULL, &r);
  is_str(r.body, "custom 500 GUST_EINTERNAL the database is down",
         "errors: write_error gets the future's code and message");
  resp_free(&r);
  get(S.port, "/cerror/http", NULL, &r);
  is_str(r.body, "custom 403 GUST_EWEB_HTTP -",
         "errors: write_error for an HTTP error");
  resp_free(&r);
}

static void t_async(void) {
  resp r;
  int f0 = C.finishes;
  get(S.port, "/async", NULL, &r);
  is_str(r.body, "prepared later get later",
         "async: prepare and get wait for their futures, then auto-finish");
  is_int(C.finishes, f0 + 1, "async: on_finish once");
  resp_free(&r);

  {
    /* the client leaves in the middle of the body */
    int fd = raw_open(S.port), c0 = C.closes, r0 = C.releases;
    int i0 = C.hang_inits;
    const char *q = "POST /hang HTTP/1.1\r\nHost: x\r\nContent-Length: "
                    "100\r\n\r\n0123456789";
    ok(send(fd, q, strlen(q), MSG_NOSIGNAL) > 0, "close: request sent");
    wait_change(&C.hang_inits, i0, "the server to read the request head");
    close(fd);
    wait_change(&C.releases, r0, "the handler to be released");
    is_int(C.closes, c0 + 1, "close: on_connection_close ran");
    is_int(C.releases, r0 + 1, "close: handler released");
  }
  {
    /* the client leaves while the handler waits for something else (a
     * long poll): noticed at once, as Tornado does */
    int fd = raw_open(S.port), c0 = C.closes, r0 = C.releases;
    int w0 = C.hang_waits;
    const char *q = "GET /hang HTTP/1.1\r\nHost: x\r\n\r\n";
    ok(send(fd, q, strlen(q), MSG_NOSIGNAL) > 0, "close: long poll sent");
    wait_change(&C.hang_waits, w0, "the long poll to wait");
    gust_test_run_for(t_current, 0.05);
    is_int(C.closes, c0, "close: long poll waiting");
    close(fd);
    wait_change(&C.releases, r0, "the waiting handler to be released");
    is_int(C.closes, c0 + 1, "close: on_connection_close for a waiting GET");
    is_int(C.releases, r0 + 1, "close: waiting handler released");
  }
}

static void t_cookies(void) {
  resp r;
  char req[2048], cookie[1024];
  get(S.port, "/cookie/set", NULL, &r);
  is_str(r.body, "bad=GUST_ECOOKIE_INVALID", "cookies: invalid name refused");
  is_int(count_hdr(&r, "Set-Cookie"), 5,
         "cookies: one header per name (replaced)");
  ok(strstr(r.head, "Set-Cookie: plain=v2; Path=/\r\n") != NULL,
     "cookies: second set replaced the first, Path=/");
  ok(strstr(r.head, "Set-Cookie: quoted=\"a\\073b\"; HttpOnly; Path=/") != NULL,
     "cookies: quoted as Python, attributes");
  ok(strstr(r.head, "Set-Cookie: days=x; expires=") != NULL,
     "cookies: expires_days");
  ok(strstr(r.head, "Set-Cookie: old=\"\"; expires=") != NULL &&
         strstr(r.head, "Max-Age=0") != NULL,
     "cookies: clear_cookie");
  {
    const char *p = strstr(r.head, "Set-Cookie: user=\"2|1:0|");
    ok(p != NULL, "cookies: signed cookie is v2, quoted");
    if (p != NULL) {
      const char *e = strstr(p, "\"; ");
      snprintf(cookie, sizeof cookie, "%.*s", (int)(e - p - 17) + 1, p + 17);
    } else {
      cookie[0] = '\0';
    }
  }
  resp_free(&r);

  snprintf(req, sizeof req, "Cookie: user=%s; plain=v2\r\n", cookie);
  get(S.port, "/cookie/get", req, &r);
  is_str(r.body, "user=GUST_OK[alice] plain=v2 kv=0",
         "cookies: signed cookie read back");
  resp_free(&r);
  {
    char bad[1024];
    snprintf(bad, sizeof bad, "%s", cookie);
    bad[strlen(bad) - 3] ^= 1; /* one hex digit of the signature */
    snprintf(req, sizeof req, "Cookie: user=%s\r\n", bad);
    get(S.port, "/cookie/get", req, &r);
    is_str(r.body, "user=GUST_ESIGNATURE[] plain=none kv=0",
           "cookies: tampered signature refused");
    resp_free(&r);
  }
  get(S.port, "/cookie/get", NULL, &r);
  is_str(r.body, "user=GUST_ENOTFOUND[] plain=none kv=-1", "cookies: absent");
  resp_free(&r);

  /* login flow */
  get(S.port, "/auth?x=1", NULL, &r);
  ok(r.status == 302 && hdr(&r, "Location", v, sizeof v) &&
         strcmp(v, "/login?next=%2Fauth%3Fx%3D1") == 0,
     "authenticated: GET redirected to login_url with next");
  resp_free(&r);
  req_body(S.port, "POST", "/auth", NULL, "", &r);
  is_int(r.status, 403, "authenticated: POST without user is 403");
  resp_free(&r);
  snprintf(req, sizeof req, "Cookie: user=%s\r\n", cookie);
  get(S.port, "/auth", req, &r);
  is_str(r.body, "hello alice", "authenticated: user from signed cookie");
  resp_free(&r);
}

static void t_etag_compress(void) {
  resp r;
  char etag[128], req[512];
  get(S.port, "/", NULL, &r);
  snprintf(etag, sizeof etag, "%s", hdr(&r, "Etag", v, sizeof v));
  resp_free(&r);
  snprintf(req, sizeof req, "If-None-Match: %s\r\n", etag);
  get(S.port, "/", req, &r);
  ok(r.status == 304 && r.len == 0 &&
         hdr(&r, "Content-Type", v, sizeof v) == NULL,
     "etag: If-None-Match → 304, no body, no Content-Type");
  is_str(hdr(&r, "Etag", v, sizeof v), etag, "etag: 304 keeps the ETag");
  resp_free(&r);
  snprintf(req, sizeof req, "If-None-Match: \"x\", W/%s\r\n", etag);
  get(S.port, "/", req, &r);
  is_int(r.status, 304, "etag: weak match in a list");
  resp_free(&r);
  get(S.port, "/", "If-None-Match: \"other\"\r\n", &r);
  is_int(r.status, 200, "etag: mismatch → 200");
  resp_free(&r);
  get(S.port, "/", "If-None-Match: *\r\n", &r);
  is_int(r.status, 304, "etag: * matches");
  resp_free(&r);

  /* compression is off in this application */
  get(S.port, "/big", "Accept-Encoding: gzip\r\n", &r);
  ok(hdr(&r, "Content-Encoding", v, sizeof v) == NULL && r.len == 2000,
     "compress: off by default");
  resp_free(&r);
}

static int gunzip(const char *in, size_t len, char *out, size_t cap,
                  size_t *olen) {
  z_stream z;
  int rc;
  memset(&z, 0, sizeof z);
  if (inflateInit2(&z, 16 + 15) != Z_OK)
    return -1;
  z.next_in = (Bytef *)in;
  z.avail_in = (uInt)len;
  z.next_out = (Bytef *)out;
  z.avail_out = (uInt)cap;
  rc = inflate(&z, Z_FINISH);
  *olen = cap - z.avail_out;
  inflateEnd(&z);
  return rc == Z_STREAM_END ? 0 : -1;
}

static void t_compress(void) {
  resp r;
  char out[8192];
  size_t olen = 0;
  get(S.port, "/big", "Accept-Encoding: gzip, deflate\r\n", &r);
  ok(hdr(&r, "Content-Encoding", v, sizeof v) && strcmp(v, "gzip") == 0,
     "compress: gzip for a large text body");
  is_str(hdr(&r, "Vary", v, sizeof v), "Accept-Encoding", "compress: Vary");
  ok(gunzip(r.body, r.len, out, sizeof out, &olen) == 0 && olen == 2000,
     "compress: body inflates to the original");
  ok(hdr(&r, "Content-Length", v, sizeof v) && (size_t)atol(v) == r.len &&
         r.len < 2000,
     "compress: Content-Length is the compressed size");
  resp_free(&r);
  get(S.port, "/big?n=100", "Accept-Encoding: gzip\r\n", &r);
  ok(hdr(&r, "Content-Encoding", v, sizeof v) == NULL && r.len == 100,
     "compress: small bodies are not compressed");
  resp_free(&r);
  get(S.port, "/big?type=image/png", "Accept-Encoding: gzip\r\n", &r);
  ok(hdr(&r, "Content-Encoding", v, sizeof v) == NULL,
     "compress: not for image/png");
  resp_free(&r);
  get(S.port, "/big", NULL, &r);
  ok(hdr(&r, "Content-Encoding", v, sizeof v) == NULL && r.len == 2000,
     "compress: not without Accept-Encoding");
  resp_free(&r);
  get(S.port, "/big?n=100&flush=1", "Accept-Encoding: gzip\r\n", &r);
  ok(r.chunked && hdr(&r, "Content-Encoding", v, sizeof v) &&
         gunzip(r.body, r.len, out, sizeof out, &olen) == 0 && olen == 104,
     "compress: flushed response is gzip-chunked");
  resp_free(&r);
}

static void t_xsrf(void) {
  resp r;
  char tok[256], cookie[256], req[1024], body[512];
  server s3;
  gust_web_settings st;
  memset(&st, 0, sizeof st);
  st.xsrf_cookies = 1;
  if (server_start(&s3, &st, routes) != 0)
    bail_out("server");
  server *saved = &S;
  (void)saved;
#define S s3
  get(S.port, "/xsrf", NULL, &r);
  ok(r.status == 200 && sscanf(r.body, "%255s", tok) == 1 &&
         strncmp(tok, "2|", 2) == 0,
     "xsrf: v2 token");
  ok(strstr(r.body, "<input type=\"hidden\" name=\"_xsrf\" value=\"") != NULL,
     "xsrf: form html");
  ok(hdr(&r, "Set-Cookie", v, sizeof v) && strncmp(v, "_xsrf=2|", 8) == 0 &&
         strstr(v, "Path=/") != NULL && strstr(v, "expires") == NULL,
     "xsrf: cookie set (session cookie, path /)");
  snprintf(cookie, sizeof cookie, "%.*s", (int)(strchr(v, ';') - v - 6), v + 6);
  resp_free(&r);

  snprintf(req, sizeof req, "Cookie: _xsrf=%s\r\n", cookie);
  get(S.port, "/xsrf", req, &r);
  ok(hdr(&r, "Set-Cookie", v, sizeof v) == NULL,
     "xsrf: no new cookie when the request has one");
  resp_free(&r);

  req_body(S.port, "POST", "/xsrf", NULL, "", &r);
  is_int(r.status, 403, "xsrf: POST without token is 403");
  resp_free(&r);

  snprintf(req, sizeof req,
           "Cookie: _xsrf=%s\r\nContent-Type: "
           "application/x-www-form-urlencoded\r\n",
           cookie);
  snprintf(body, sizeof body, "_xsrf=%s", tok);
  for (char *p = body; *p; p++)
    if (*p == '|')
      *p = '|';
  req_body(S.port, "POST", "/xsrf", req, body, &r);
  ok(r.status == 200 && strcmp(r.body, "accepted") == 0,
     "xsrf: form token matching the cookie accepted");
  resp_free(&r);

  snprintf(req, sizeof req, "Cookie: _xsrf=%s\r\nX-Xsrftoken: %s\r\n", cookie,
           tok);
  req_body(S.port, "PUT", "/xsrf", req, "", &r);
  is_int(r.status, 200, "xsrf: X-Xsrftoken header accepted");
  resp_free(&r);

  snprintf(req, sizeof req, "Cookie: _xsrf=%s\r\nX-Csrftoken: %s\r\n", cookie,
           tok);
  req_body(S.port, "POST", "/xsrf", req, "", &r);
  is_int(r.status, 200, "xsrf: X-Csrftoken header accepted");
  resp_free(&r);

  snprintf(req, sizeof req, "Cookie: _xsrf=%s\r\nX-Xsrftoken: 3|\r\n", cookie);
  req_body(S.port, "POST", "/xsrf", req, "", &r);
  is_int(r.status, 403, "xsrf: invalid format is 403");
  resp_free(&r);

  snprintf(req, sizeof req,
           "Cookie: _xsrf=%s\r\nX-Xsrftoken: "
           "2|01020304|0103010705070503090b090f0d0f0d0b|1300000000\r\n",
           cookie);
  req_body(S.port, "POST", "/xsrf", req, "", &r);
  is_int(r.status, 403, "xsrf: another token is 403");
  resp_free(&r);

  snprintf(req, sizeof req, "X-Xsrftoken: %s\r\n", tok);
  req_body(S.port, "POST", "/xsrf", req, "", &r);
  is_int(r.status, 403, "xsrf: token without cookie is 403");
  resp_free(&r);

  req_body(S.port, "POST", "/nowhere", NULL, "", &r);
  is_int(r.status, 404, "xsrf: the 404 handler skips the check");
  resp_free(&r);
  req_body(S.port, "POST", "/", NULL, "", &r);
  is_int(r.status, 403, "xsrf: every unsafe method is checked");
  resp_free(&r);
  raw(S.port, "OPTIONS /xsrf HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
      0, &r);
  is_int(r.status, 405, "xsrf: OPTIONS is not checked");
  resp_free(&r);
#undef S
  server_stop(&s3);
}

static void t_stream(void) {
  resp r;
  size_t n = 250000;
  char *body = malloc(n);
  if (body == NULL)
    bail_out("malloc");
  memset(body, 'z', n);
  fetch(S.port, "PUT", "/stream", NULL, body, n, &r);
  ok(r.status == 200 && strncmp(r.body, " latergot 250000 bytes", 22) == 0,
     "stream: every byte through data_received after prepare's future");
  ok(C.stream_pieces >= 2, "stream: delivered in pieces (%d)", C.stream_pieces);
  resp_free(&r);
  free(body);
}

/* WebSocket route, with the test's client. */
static void t_websocket(void) {
  gust_websocket *ws;
  int c0 = C.closes;
  char buf[256];
  resp r;
  ws = gust_test_ws_connect(S.ts, "/ws", NULL);
  ok(ws != NULL, "websocket: route upgraded");
  if (ws != NULL) {
    const gust_websocket_message *msg;
    gust_websocket_write_message(ws, "hi", 2, 0, NULL);
    msg = gust_test_ws_read(t_current, ws);
    ok(msg != NULL, "websocket: message echoed");
    if (msg != NULL)
      cmp_mem(msg->data.ptr, msg->data.len, "echo: hi", 8,
              "websocket: echo text");
    gust_test_ws_close(t_current, ws, 1000, "bye");
    wait_change(&C.closes, c0, "the handler's on_close");
    is_int(C.closes, c0 + 1, "websocket: on_close with the handler");
  }

  raw_get(S.port, "/ws?deny=1",
          "Upgrade: websocket\r\nConnection: Upgrade\r\n"
          "Sec-WebSocket-Version: 13\r\n"
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
          &r);
  is_int(r.status, 401, "websocket: prepare may refuse the upgrade");
  resp_free(&r);
  /* The refusal is sent from headers_received, before the server read the
   * end of the request; a request without a body ends with its head, so
   * the connection stays open and the POST below goes over it. */
  get(S.port, "/ws", "", &r);
  is_int(r.status, 400, "websocket: plain GET gets Tornado's 400");
  ok(hdr(&r, "Connection", buf, sizeof buf) == NULL,
     "websocket: the refusal keeps the connection");
  resp_free(&r);
  req_body(S.port, "POST", "/ws", NULL, "", &r);
  is_int(r.status, 405, "websocket: POST is 405");
  resp_free(&r);
}

/* ------------------------------------------------------------------ */
/* Tornado's CacheTest and XSRFTest (web_test.py), case by case          */
/* ------------------------------------------------------------------ */

static int etag_get(gust_web_handler *h, gust_future **w) {
  gust_slice a;
  (void)w;
  gust_web_path_arg(h, 0, &a);
  return gust_web_write(h, a.ptr, a.len);
}

/* CacheTest's EtagHandler: the ETag is the body itself */
static int etag_of_body(gust_web_handler *h, gust_slice body, gust_buf *etag) {
  (void)h;
  return gust_buf_append(etag, body.ptr, body.len) == 0 ? 1 : GUST_ENOMEM;
}

static const gust_web_handler_class etag_class = {.get = etag_get,
                                                  .compute_etag = etag_of_body};

static int token_get(gust_web_handler *h, gust_future **w) {
  const char *tok;
  int rc;
  (void)w;
  if ((rc = gust_web_xsrf_token(h, &tok)) < 0)
    return rc;
  return gust_web_write_str(h, tok);
}

static int ok_post(gust_web_handler *h, gust_future **w) {
  (void)w;
  return gust_web_write_str(h, "ok");
}

static const gust_web_handler_class token_class = {.get = token_get,
                                                   .post = ok_post};

static void tornado_routes(gust_web_app *app) {
  if (gust_web_app_add(app, "/etag/(.*)", &etag_class, NULL, NULL) != 0 ||
      gust_web_app_add(app, "/", &token_class, NULL, NULL) != 0)
    bail_out("routes");
}

static void etag_case(int port, const char *computed, const char *etags,
                      int want, const char *name) {
  char path[256], extra[256];
  resp r;
  snprintf(path, sizeof path, "/etag/%s", computed);
  snprintf(extra, sizeof extra, "If-None-Match: %s\r\n", etags);
  get(port, path, extra, &r);
  is_int(r.status, want, "CacheTest.%s", name);
  resp_free(&r);
}

/* GET / with an optional _xsrf cookie: the token (static buffer). */
static const char *get_token(int port, const char *old) {
  static char tok[8][256];
  static int slot;
  char extra[512];
  resp r;
  char *t = tok[slot++ % 8];
  if (old != NULL)
    snprintf(extra, sizeof extra, "Cookie: _xsrf=%s\r\n", old);
  get(port, "/", old != NULL ? extra : NULL, &r);
  snprintf(t, 256, "%s", r.status == 200 && r.body ? r.body : "");
  resp_free(&r);
  return t;
}

/* POST / with an optional cookie token, body and X-Xsrftoken. */
static int post(int port, const char *path, const char *cookie,
                const char *body_token, const char *header_token) {
  char extra[1024], body[512];
  resp r;
  int st;
  extra[0] = '\0';
  if (cookie != NULL)
    snprintf(extra, sizeof extra, "Cookie: _xsrf=%s\r\n", cookie);
  if (header_token != NULL)
    snprintf(extra + strlen(extra), sizeof extra - strlen(extra),
             "X-Xsrftoken: %s\r\n", header_token);
  strcat(extra, "Content-Type: application/x-www-form-urlencoded\r\n");
  body[0] = '\0';
  if (body_token != NULL) {
    /* urlencode the few specials a token has */
    char *o = body + snprintf(body, sizeof body, "_xsrf=");
    for (const char *p = body_token; *p; p++)
      o += *p == '|' ? sprintf(o, "%%7C") : sprintf(o, "%c", *p);
  }
  req_body(port, "POST", path, extra, body, &r);
  st = r.status;
  resp_free(&r);
  return st;
}

static void t_tornado(void) {
  server s2, s1;
  gust_web_settings st;
  const char *tok, *t2;
  memset(&st, 0, sizeof st);
  if (server_start(&s2, &st, tornado_routes) != 0)
    bail_out("server");
  etag_case(s2.port, "\"xyzzy\"", "*", 304, "test_wildcard_etag");
  etag_case(s2.port, "\"xyzzy\"", "\"xyzzy\"", 304, "test_strong_etag_match");
  etag_case(s2.port, "\"xyzzy1\"", "\"xyzzy1\", \"xyzzy2\"", 304,
            "test_multiple_strong_etag_match");
  etag_case(s2.port, "\"xyzzy\"", "\"xyzzy1\"", 200,
            "test_strong_etag_not_match");
  etag_case(s2.port, "\"xyzzy\"", "\"xyzzy1\", \"xyzzy2\"", 200,
            "test_multiple_strong_etag_not_match");
  etag_case(s2.port, "\"xyzzy1\"", "W/\"xyzzy1\"", 304, "test_weak_etag_match");
  etag_case(s2.port, "\"xyzzy2\"", "W/\"xyzzy1\", W/\"xyzzy2\"", 304,
            "test_multiple_weak_etag_match");
  etag_case(s2.port, "\"xyzzy2\"", "W/\"xyzzy1\"", 200,
            "test_weak_etag_not_match");
  etag_case(s2.port, "\"xyzzy3\"", "W/\"xyzzy1\", W/\"xyzzy2\"", 200,
            "test_multiple_weak_etag_not_match");
  server_stop(&s2);

  st.xsrf_cookies = 1;
  if (server_start(&s2, &st, tornado_routes) != 0)
    bail_out("server");
  st.xsrf_cookie_version = 1;
  if (server_start(&s1, &st, tornado_routes) != 0)
    bail_out("server");
  tok = get_token(s2.port, NULL);
  ok(strncmp(tok, "2|", 2) == 0, "XSRFTest.setUp: v2 token");
  is_int(post(s2.port, "/", NULL, NULL, NULL), 403,
         "XSRFTest.test_xsrf_fail_no_token");
  is_int(post(s2.port, "/", NULL, tok, NULL), 403,
         "XSRFTest.test_xsrf_fail_body_no_cookie");
  is_int(post(s2.port, "/", tok, "3|", NULL), 403,
         "XSRFTest.test_xsrf_fail_argument_invalid_format");
  is_int(post(s2.port, "/", "3|", tok, NULL), 403,
         "XSRFTest.test_xsrf_fail_cookie_invalid_format");
  is_int(post(s2.port, "/", tok, NULL, NULL), 403,
         "XSRFTest.test_xsrf_fail_cookie_no_body");
  is_int(post(s2.port, "/", "deadbeef", "deadbeef", NULL), 200,
         "XSRFTest.test_xsrf_success_short_token");
  is_int(post(s2.port, "/", "xoxo", "xoxo", NULL), 200,
         "XSRFTest.test_xsrf_success_non_hex_token");
  is_int(post(s2.port, "/", tok, tok, NULL), 200,
         "XSRFTest.test_xsrf_success_post_body");
  {
    char path[512], *o;
    o = path + snprintf(path, sizeof path, "/?_xsrf=");
    for (const char *p = tok; *p; p++)
      o += *p == '|' ? sprintf(o, "%%7C") : sprintf(o, "%c", *p);
    is_int(post(s2.port, path, tok, NULL, NULL), 200,
           "XSRFTest.test_xsrf_success_query_string");
  }
  is_int(post(s2.port, "/", tok, NULL, tok), 200,
         "XSRFTest.test_xsrf_success_header");
  {
    char seen[10][256];
    int distinct = 1;
    for (int i = 0; i < 10; i++) {
      snprintf(seen[i], 256, "%s", get_token(s2.port, NULL));
      for (int j = 0; j < i; j++)
        if (strcmp(seen[i], seen[j]) == 0)
          distinct = 0;
    }
    ok(distinct, "XSRFTest.test_distinct_tokens");
  }
  t2 = get_token(s2.port, NULL);
  ok(post(s2.port, "/", tok, tok, NULL) == 200 &&
         post(s2.port, "/", t2, t2, NULL) == 200 &&
         post(s2.port, "/", tok, t2, NULL) == 403 &&
         post(s2.port, "/", t2, tok, NULL) == 403,
     "XSRFTest.test_cross_user");
  {
    char seen[6][256], cur[256];
    int good = 1, distinct = 1;
    snprintf(cur, sizeof cur, "%s", tok);
    snprintf(seen[0], 256, "%s", tok);
    for (int i = 1; i < 6; i++) {
      snprintf(cur, sizeof cur, "%s", get_token(s2.port, cur));
      snprintf(seen[i], 256, "%s", cur);
      if (post(s2.port, "/", cur, tok, NULL) != 200)
        good = 0;
      for (int j = 0; j < i; j++)
        if (strcmp(seen[i], seen[j]) == 0)
          distinct = 0;
    }
    ok(good && distinct, "XSRFTest.test_refresh_token");
  }
  {
    char v1[256], v1b[256], v2[256], v2b[256];
    int same = 1;
    snprintf(v1, sizeof v1, "%s", get_token(s1.port, NULL));
    snprintf(v1b, sizeof v1b, "%s", get_token(s1.port, NULL));
    ok(strcmp(v1, v1b) != 0 && strlen(v1) == 32,
       "XSRFTest.test_versioning: v1 tokens distinct per new cookie");
    for (int i = 0; i < 5; i++)
      if (strcmp(get_token(s1.port, v1), v1) != 0)
        same = 0;
    ok(same, "XSRFTest.test_versioning: refreshed v1 tokens identical");
    snprintf(v2, sizeof v2, "%s", get_token(s2.port, v1));
    snprintf(v2b, sizeof v2b, "%s", get_token(s2.port, v1));
    ok(strcmp(v1, v2) != 0 && strcmp(v2, v2b) != 0,
       "XSRFTest.test_versioning: v2 from a v1 cookie, many encodings");
    ok(post(s2.port, "/", v1, v2, NULL) == 200 &&
           post(s2.port, "/", v2, v1, NULL) == 200,
       "XSRFTest.test_versioning: cross-compatible");
  }
  server_stop(&s1);
  server_stop(&s2);

  {
    gust_cookie_attrs a;
    resp r;
    memset(&a, 0, sizeof a);
    a.httponly = 1;
    memset(&st, 0, sizeof st);
    st.xsrf_cookies = 1;
    st.xsrf_cookie_attrs = &a;
    st.xsrf_cookie_expires_days = 2;
    if (server_start(&s2, &st, tornado_routes) != 0)
      bail_out("server");
    get(s2.port, "/", NULL, &r);
    {
      const char *sc = hdr(&r, "Set-Cookie", v, sizeof v);
      const char *e = sc ? strstr(sc, "expires=") : NULL;
      struct tm tm;
      long delta = -1;
      memset(&tm, 0, sizeof tm);
      if (e != NULL && strptime(e + 8, "%a, %d %b %Y %H:%M:%S GMT", &tm))
        delta = (long)(timegm(&tm) - time(NULL));
      ok(sc != NULL && strstr(sc, "HttpOnly") != NULL && e != NULL &&
             delta > 2 * 86400 - 10 && delta <= 2 * 86400 + 10,
         "XSRFCookieKwargsTest.test_xsrf_httponly");
    }
    resp_free(&r);
    server_stop(&s2);
  }
}

static void f_unobserved(gust_loop *l, int code, const char *message,
                         void *ud) {
  (void)l;
  diag("failmem: a failed future was released unread: %s (%s)",
       gust_errname(code), message != NULL ? message : "");
  (*(int *)ud)++;
}

/* Every allocation of the server side failing in turn, for requests that
 * go through arguments, cookies, signed cookies, XSRF and the ETag: each
 * run ends with a whole answer or a clean failure (an error status or a
 * closed connection), and nothing stays allocated. The application and
 * gust's client share a loop of their own, not the test's: the test's
 * waits allocate too, and one of them failing would fail the test rather
 * than exercise the application. The test's checks are made by hand with
 * the loop probes: no failed future left unread, nothing left on the
 * loop. */
static void t_failmem(void) {
  gust_failmem fm;
  gust_loop *l;
  gust_web_app *app;
  gust_http_server *srv;
  gust_http_client *cl;
  gust_web_settings st;
  int completed = 0, failed = 0, hung = 0, bad = 0, port, unread = 0;
  size_t left;
  if (gust_loop_new(&l, NULL) != 0)
    bail_out("loop");
  gust_test_loop_set_unobserved_hook(l, f_unobserved, &unread);
  gust_failmem_init(&fm, NULL);
  memset(&st, 0, sizeof st);
  st.cookie_secret = secrets;
  st.xsrf_cookies = 1;
  st.compress_response = 1;
  if (gust_web_app_new(&app, l, &st, &fm.mem) != 0)
    bail_out("app");
  routes(app);
  if (gust_web_app_listen(app, "127.0.0.1", 0, NULL, &srv) != 0 ||
      gust_http_client_new(&cl, l, NULL, NULL) != 0)
    bail_out("server");
  port = gust_http_server_port(srv);
  for (unsigned long n = 1; n < 1200; n++) {
    static const char *const paths[] = {"/cookie/set", "/args?a=1&b=2",
                                        "/xsrf",       "/big?n=3000",
                                        "/path/x/1",   "/async"};
    const char *p = paths[n % 6];
    gust_fetch_request rq;
    gust_headers h;
    gust_future *f = NULL;
    char url[128];
    const gust_fetch_response *r;
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, p);
    gust_fetch_request_init(&rq, url);
    gust_headers_init(&h, NULL);
    gust_headers_add_str(&h, "Accept-Encoding", "gzip");
    gust_headers_add_str(&h, "Connection", "close");
    rq.headers = &h;
    rq.decompress_response = 0;
    rq.request_timeout = 10;
    gust_failmem_reset(&fm, n < 600 ? n / 6 + 1 : (n - 600) / 6 + 1);
    fm.fail_after = n >= 600;
    if (gust_http_client_fetch(cl, &rq, &f) != 0) {
      gust_headers_free(&h);
      bail_out("fetch");
    }
    gust_headers_free(&h);
    if (t_run_future(f) != 0) {
      diag("failmem: %s hung with allocation %lu failing%s", p, fm.fail_at,
           fm.fail_after ? " and after" : "");
      hung++;
      gust_future_unref(f);
      break;
    }
    r = gust_fetch_response_of(f);
    if (r == NULL)
      diag("failmem: %s failed with allocation %lu failing%s: %s", p,
           fm.fail_at, fm.fail_after ? " and after" : "",
           gust_errname(gust_future_error(f)));
    if (r != NULL && gust_fetch_response_error(r) == GUST_ETIMEDOUT) {
      diag("failmem: %s timed out with allocation %lu failing%s", p, fm.fail_at,
           fm.fail_after ? " and after" : "");
      hung++;
    }
    if (r != NULL && gust_fetch_response_code(r) == 200)
      completed++;
    else if (r == NULL || gust_fetch_response_code(r) >= 500 ||
             gust_fetch_response_code(r) == 599 ||
             gust_fetch_response_error(r) != 0)
      failed++;
    else
      bad++;
    gust_future_unref(f);
    gust_failmem_reset(&fm, 0);
    fm.fail_after = 0;
    t_run_for(l, 0.001);
  }
  gust_failmem_reset(&fm, 0);
  fm.fail_after = 0;
  gust_http_client_free(cl);
  gust_http_server_free(srv);
  gust_web_app_free(app);
  t_run_for(l, 0.05);
  left = gust_test_loop_pending(l, NULL, NULL);
  if (left != 0) {
    gust_buf d;
    gust_buf_init(&d, NULL);
    gust_test_loop_describe(l, &d);
    diag("failmem: left on the loop:\n%.*s", (int)d.len, (const char *)d.ptr);
    gust_buf_free(&d);
  }
  is_int(hung, 0, "failmem: no run hangs");
  is_int(bad, 0, "failmem: no answer other than 200 or a failure");
  ok(completed > 0 && failed > 0, "failmem: %d completed, %d failed cleanly",
     completed, failed);
  is_int((long long)fm.live_blocks, 0, "failmem: nothing left allocated");
  gust_loop_free(l); /* futures it still held are reported too */
  is_int((long long)left, 0, "failmem: no run left anything on its loop");
  is_int(unread, 0, "failmem: no run left a failed future unread");
}

static const gust_web_handler_class *const nf = &not_found_class;

static void routes_min(gust_web_app *app) { (void)app; }

static void t_app_api(void) {
  gust_loop *l = loop;
  gust_web_app *app;
  gust_web_settings st;
  is_int(gust_web_app_new(NULL, l, NULL, NULL), GUST_EINVAL, "app: NULL out");
  memset(&st, 0, sizeof st);
  st.xsrf_cookie_version = 3;
  is_int(gust_web_app_new(&app, l, &st, NULL), GUST_EINVAL,
         "app: bad xsrf version");
  st.xsrf_cookie_version = 0;
  st.server_header = "a\r\nb";
  is_int(gust_web_app_new(&app, l, &st, NULL), GUST_EINVAL,
         "app: bad Server header");
  ok(gust_web_app_new(&app, l, NULL, NULL) == 0, "app: created");
  is_int(gust_web_app_add(app, "/(", &hello_class, NULL, NULL), GUST_ESYNTAX,
         "app: bad pattern");
  ok(strstr(gust_web_app_error(app), "offset") != NULL,
     "app: pattern error has an offset (%s)", gust_web_app_error(app));
  is_int(gust_web_app_add(app, "/a", &hello_class, NULL, "n"), 0,
         "app: named route");
  is_int(gust_web_app_add(app, "/b", &hello_class, NULL, "n"), GUST_EEXIST,
         "app: duplicate name");
  {
    static const gust_web_handler_class bad = {.get = hello_get,
                                               .websocket = &ws_side};
    is_int(gust_web_app_add(app, "/c", &bad, NULL, NULL), GUST_EINVAL,
           "app: WebSocket class with get refused");
  }
  {
    gust_buf b;
    gust_buf_init(&b, NULL);
    is_int(gust_web_app_static_url(app, "x.css", 1, &b), GUST_ESTATE,
           "app: static_url without static_path");
    gust_buf_free(&b);
  }
  gust_web_app_free(app);
  routes_min(NULL);
  (void)nf;
}

static void t_default_handler(void) {
  server s2;
  gust_web_settings st;
  resp r;
  memset(&st, 0, sizeof st);
  st.default_handler = &not_found_class;
  st.compress_response = 1;
  st.serve_traceback = 1;
  if (server_start(&s2, &st, routes) != 0)
    bail_out("server");
  get(s2.port, "/missing", NULL, &r);
  ok(r.status == 404 && strcmp(r.body, "custom not found") == 0,
     "default_handler: used for unmatched paths");
  resp_free(&r);
  get(s2.port, "/error/uncaught", NULL, &r);
  ok(r.status == 500 && strstr(r.body, "GUST_EINTERNAL") != NULL,
     "serve_traceback: error details in the page");
  resp_free(&r);
  {
    int p = S.port;
    S.port = s2.port;
    t_compress();
    S.port = p;
  }
  server_stop(&s2);
}

/* The application most groups talk to, started afresh for each. */
static gust_headers app_headers;
static void (*main_body)(void);

static void main_group(void) {
  gust_web_settings st;
  memset(&st, 0, sizeof st);
  st.cookie_secret = secrets;
  st.login_url = "/login";
  st.default_headers = &app_headers;
  if (server_start(&S, &st, routes) != 0)
    bail_out("server");
  main_body();
  server_stop(&S);
}

static void run_main_group(const char *name, void (*fn)(void)) {
  main_body = fn;
  t_run_group(name, &loop, main_group);
}

int main(void) {
  gust_log_set_level(GUST_LOG_CATEGORY_COUNT_, GUST_LOG_OFF);
  if (gust_secrets_new(&secrets, NULL,
                       (const uint8_t *)"It's a secret to everybody", 26) != 0)
    bail_out("secrets");
  gust_headers_init(&app_headers, NULL);
  if (gust_headers_add_str(&app_headers, "X-App", "app") != 0)
    bail_out("headers");
  run_main_group("basics", t_basics);
  run_main_group("args", t_args);
  run_main_group("output", t_output);
  run_main_group("errors", t_errors);
  run_main_group("async", t_async);
  run_main_group("cookies", t_cookies);
  run_main_group("etag", t_etag_compress);
  t_run_group("xsrf", &loop, t_xsrf);
  run_main_group("stream", t_stream);
  run_main_group("websocket", t_websocket);
  t_run_group("app", &loop, t_app_api);
  t_run_group("default", &loop, t_default_handler);
  t_run_group("tornado", &loop, t_tornado);
  t_run_group("failmem", &loop, t_failmem);
  gust_headers_free(&app_headers);
  gust_secrets_free(secrets);
  return done_testing();
}
