/* HTTP client against hand-scripted raw TCP peers: the edge cases a real
 * server does not produce (truncated, malformed and close-delimited
 * responses, stale and chatty pooled connections, peers that never answer,
 * 1xx before the answer) and the exact bytes the client sends. */
#define _GNU_SOURCE
#include <gust/httpclient.h>
#include <gust/testing.h>
#include <gust/version.h>

#include <signal.h>

#include "../net/tcp_common.h"

static gust_loop *loop;

/* ------------------------------------------------------------------ */
/* The raw peer                                                          */
/* ------------------------------------------------------------------ */

#define PEER_MAXCONN 8
#define PEER_MAXREQ  16
#define PCONN_BUF    65536

typedef struct peer peer;
typedef struct pconn pconn;

enum { ST_HEAD = 1, ST_FULL = 2 };

/* Called with the head of each request as soon as it is complete
 * (ST_HEAD: `req` is the head), then with the whole request once its body
 * is in (ST_FULL: head and body). It may write and close. */
typedef void (*script_fn)(pconn *c, int stage, const char *req, size_t len);

struct pconn {
  peer *p;
  int fd; /* -1 once closed */
  int idx;
  char buf[PCONN_BUF]; /* every byte received */
  size_t len;
  size_t next;   /* start of the request being framed */
  int head_seen; /* its head was handed to the script */
  size_t early;  /* bytes past the head when the head was complete */
  int nreq;      /* complete requests on this connection */
  int eof;       /* read returned 0 */
  int reset;     /* read failed */
  int gone;      /* eof or reset */
  int closed;    /* the script closed it */
};

struct peer {
  int fd, port;
  script_fn script;
  const char *arg; /* for the script */
  int naccepted;
  int nreq; /* complete requests on every connection */
  pconn *conns[PEER_MAXCONN];
  int req_conn[PEER_MAXREQ];
  size_t req_off[PEER_MAXREQ], req_len[PEER_MAXREQ];
};

static void pc_release(pconn *c) {
  if (c->fd < 0)
    return;
  gust_loop_remove_handler(loop, c->fd);
  close(c->fd);
  c->fd = -1;
}

/* The script closes the connection. */
static void pc_close(pconn *c) {
  if (c->fd >= 0)
    c->closed = 1;
  pc_release(c);
}

static void pc_write_mem(pconn *c, const void *data, size_t len) {
  const char *p = data;
  while (len > 0 && c->fd >= 0) {
    ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      struct pollfd pf = {c->fd, POLLOUT, 0};
      if (poll(&pf, 1, (int)(WAIT_LIMIT * 1000)) <= 0)
        bail_out("peer: write blocked");
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      diag("peer: send: %s", strerror(errno));
      return;
    }
    p += n;
    len -= (size_t)n;
  }
}

static void pc_write(pconn *c, const char *s) { pc_write_mem(c, s, strlen(s)); }

/* The value of header `name` (case-insensitive) in the head `h` of `hl`
 * bytes copied to `out`, or NULL. */
static const char *head_value(const char *h, size_t hl, const char *name,
                              char *out, size_t outlen) {
  size_t nl = strlen(name), i;
  for (i = 0; i + 2 + nl + 1 < hl; i++) {
    if (h[i] == '\r' && h[i + 1] == '\n' &&
        strncasecmp(h + i + 2, name, nl) == 0 && h[i + 2 + nl] == ':') {
      const char *v = h + i + 2 + nl + 1, *e;
      while (*v == ' ')
        v++;
      e = memmem(v, (size_t)(h + hl - v), "\r\n", 2);
      if (e == NULL)
        return NULL;
      snprintf(out, outlen, "%.*s", (int)(e - v), v);
      return out;
    }
  }
  return NULL;
}

/* The size of the chunked body at `p` (`avail` bytes), or 0 if it is not
 * complete yet. Trailers are not expected. */
static size_t chunked_len(const char *p, size_t avail) {
  size_t off = 0;
  for (;;) {
    const char *le = memmem(p + off, avail - off, "\r\n", 2);
    size_t n;
    if (le == NULL)
      return 0;
    n = (size_t)strtoul(p + off, NULL, 16);
    off = (size_t)(le - p) + 2;
    if (n == 0)
      return avail - off >= 2 ? off + 2 : 0;
    if (avail - off < n + 2)
      return 0;
    off += n + 2;
  }
}

/* Splits what arrived into requests and hands them to the script. */
static void pc_frame(pconn *c) {
  peer *p = c->p;
  while (c->fd >= 0) {
    const char *r = c->buf + c->next, *he;
    size_t avail = c->len - c->next, hl, bl = 0;
    char v[64];
    he = memmem(r, avail, "\r\n\r\n", 4);
    if (he == NULL)
      return;
    hl = (size_t)(he - r) + 4;
    if (!c->head_seen) {
      c->head_seen = 1;
      c->early = avail - hl;
      if (p->script != NULL)
        p->script(c, ST_HEAD, r, hl);
      if (c->fd < 0)
        return;
    }
    if (head_value(r, hl, "Content-Length", v, sizeof(v)) != NULL) {
      bl = (size_t)strtoul(v, NULL, 10);
      if (avail - hl < bl)
        return;
    } else if (head_value(r, hl, "Transfer-Encoding", v, sizeof(v)) != NULL) {
      bl = chunked_len(r + hl, avail - hl);
      if (bl == 0)
        return;
    }
    if (p->nreq < PEER_MAXREQ) {
      p->req_conn[p->nreq] = c->idx;
      p->req_off[p->nreq] = c->next;
      p->req_len[p->nreq] = hl + bl;
    }
    p->nreq++;
    c->nreq++;
    c->next += hl + bl;
    c->head_seen = 0;
    if (p->script != NULL)
      p->script(c, ST_FULL, r, hl + bl);
  }
}

static void pc_cb(gust_loop *l, int fd, int events, void *ud) {
  pconn *c = ud;
  int end = 0;
  (void)l;
  (void)events;
  for (;;) {
    ssize_t n;
    if (c->len == sizeof(c->buf))
      bail_out("peer: connection buffer full");
    n = recv(fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
    if (n > 0) {
      c->len += (size_t)n;
      continue;
    }
    if (n == 0)
      end = 1;
    else if (errno == EINTR)
      continue;
    else if (errno != EAGAIN && errno != EWOULDBLOCK)
      end = 2;
    break;
  }
  pc_frame(c);
  if (end != 0 && c->fd >= 0) {
    c->eof = end == 1;
    c->reset = end == 2;
    c->gone = 1;
    pc_release(c);
  }
}

static void peer_accept_cb(gust_loop *l, int fd, int events, void *ud) {
  peer *p = ud;
  (void)l;
  (void)events;
  for (;;) {
    int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    pconn *c;
    if (cfd < 0)
      return;
    if (p->naccepted >= PEER_MAXCONN) {
      diag("peer: too many connections");
      close(cfd);
      continue;
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL)
      bail_out("calloc");
    c->p = p;
    c->fd = cfd;
    c->idx = p->naccepted;
    p->conns[p->naccepted++] = c;
    if (gust_loop_add_handler(loop, cfd, GUST_LOOP_READ, pc_cb, c) != 0)
      bail_out("peer: add_handler");
  }
}

static peer *peer_new(script_fn script, const char *arg) {
  struct sockaddr_in a;
  socklen_t len = sizeof(a);
  peer *p = calloc(1, sizeof(*p));
  if (p == NULL)
    bail_out("calloc");
  p->script = script;
  p->arg = arg;
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  p->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (p->fd < 0 || bind(p->fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
      listen(p->fd, 16) != 0 ||
      getsockname(p->fd, (struct sockaddr *)&a, &len) != 0)
    bail_out("peer: listen: %s", strerror(errno));
  p->port = ntohs(a.sin_port);
  if (gust_loop_add_handler(loop, p->fd, GUST_LOOP_READ, peer_accept_cb, p) !=
      0)
    bail_out("peer: add_handler");
  return p;
}

static void peer_free(peer *p) {
  int i;
  if (p == NULL)
    return;
  for (i = 0; i < p->naccepted; i++) {
    pc_release(p->conns[i]);
    free(p->conns[i]);
  }
  gust_loop_remove_handler(loop, p->fd);
  close(p->fd);
  free(p);
}

/* The k-th complete request the peer received (NUL-terminated copy in a
 * rotating buffer; "" if there is none). */
static const char *peer_req(const peer *p, int k, size_t *len) {
  static char bufs[4][8192];
  static int turn;
  char *b = bufs[turn++ % 4];
  size_t n;
  b[0] = '\0';
  if (len != NULL)
    *len = 0;
  if (k < 0 || k >= p->nreq || k >= PEER_MAXREQ)
    return b;
  n = p->req_len[k] < sizeof(bufs[0]) - 1 ? p->req_len[k] : sizeof(bufs[0]) - 1;
  memcpy(b, p->conns[p->req_conn[k]]->buf + p->req_off[k], n);
  b[n] = '\0';
  if (len != NULL)
    *len = n;
  return b;
}

/* "http://127.0.0.1:<port><path>" in a rotating buffer. */
static const char *url_at(int port, const char *path) {
  static char bufs[8][256];
  static int turn;
  char *b = bufs[turn++ % 8];
  snprintf(b, sizeof(bufs[0]), "http://127.0.0.1:%d%s", port, path);
  return b;
}

/* Waits until the client's end of the peer's connection `i` is gone. */
static int wait_gone(peer *p, int i) {
  if (i >= p->naccepted)
    return -1;
  return t_run_until_flag(loop, &p->conns[i]->gone);
}

/* ------------------------------------------------------------------ */
/* Scripts                                                               */
/* ------------------------------------------------------------------ */

#define OK_RESPONSE "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

static void s_ok(pconn *c, int stage, const char *req, size_t len) {
  (void)req;
  (void)len;
  if (stage == ST_FULL)
    pc_write(c, OK_RESPONSE);
}

static void s_truncated(pconn *c, int stage, const char *req, size_t len) {
  (void)req;
  (void)len;
  if (stage != ST_FULL)
    return;
  pc_write(c, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
  pc_close(c);
}

static void s_close(pconn *c, int stage, const char *req, size_t len) {
  (void)req;
  (void)len;
  if (stage == ST_FULL)
    pc_close(c);
}

/* Writes p->arg and leaves the connection open. */
static void s_say(pconn *c, int stage, const char *req, size_t len) {
  (void)req;
  (void)len;
  if (stage == ST_FULL)
    pc_write(c, c->p->arg);
}

/* Writes p->arg and closes. */
static void s_say_close(pconn *c, int stage, const char *req, size_t len) {
  (void)req;
  (void)len;
  if (stage != ST_FULL)
    return;
  pc_write(c, c->p->arg);
  pc_close(c);
}

/* Answers on the first connection's first request only; its second
 * request finds it closed. Any other connection is answered. */
static void s_stale(pconn *c, int stage, const char *req, size_t len) {
  (void)req;
  (void)len;
  if (stage != ST_FULL)
    return;
  if (c->idx == 0 && c->nreq == 2)
    pc_close(c);
  else
    pc_write(c, OK_RESPONSE);
}

/* The first answer carries p->arg, unsolicited, right behind it. */
static void s_extra(pconn *c, int stage, const char *req, size_t len) {
  (void)req;
  (void)len;
  if (stage != ST_FULL)
    return;
  if (c->p->nreq == 1) {
    pc_write(c, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none");
    pc_write(c, c->p->arg);
  } else {
    pc_write(c, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\ntwo");
  }
}

/* By path: /garbage gets bytes that are not HTTP, the rest "ok". */
static void s_mixed(pconn *c, int stage, const char *req, size_t len) {
  (void)len;
  if (stage != ST_FULL)
    return;
  if (strncmp(req, "GET /garbage ", 13) == 0)
    pc_write(c, "\x01\x02 this is not HTTP at all\r\n\r\n");
  else
    pc_write(c, OK_RESPONSE);
}

/* Expect: 100-continue handling; p->arg is the answer to the head ("403"
 * or "100"); after a 100 the full request gets "ok". */
static void s_expect(pconn *c, int stage, const char *req, size_t len) {
  char v[64];
  if (stage == ST_HEAD) {
    if (head_value(req, len, "Expect", v, sizeof(v)) == NULL)
      return;
    if (strcmp(c->p->arg, "silent") == 0)
      return; /* a server that ignores Expect: waits for the body */
    if (strcmp(c->p->arg, "403") == 0)
      pc_write(c, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
    else
      pc_write(c, "HTTP/1.1 100 Continue\r\n\r\n");
    return;
  }
  if (strcmp(c->p->arg, "100") == 0 || strcmp(c->p->arg, "silent") == 0)
    pc_write(c, OK_RESPONSE);
}

/* The first request is redirected to p->arg, the others get "ok". */
static void s_redirect(pconn *c, int stage, const char *req, size_t len) {
  char buf[512];
  (void)req;
  (void)len;
  if (stage != ST_FULL)
    return;
  if (c->p->nreq == 1) {
    snprintf(buf, sizeof(buf),
             "HTTP/1.1 302 Found\r\nLocation: %s\r\nContent-Length: 0\r\n\r\n",
             c->p->arg);
    pc_write(c, buf);
  } else {
    pc_write(c, OK_RESPONSE);
  }
}

/* ------------------------------------------------------------------ */
/* The client side                                                       */
/* ------------------------------------------------------------------ */

static gust_http_client *client_new(size_t max_clients) {
  gust_http_client_opts o;
  gust_http_client *c;
  memset(&o, 0, sizeof(o));
  o.max_clients = max_clients;
  if (gust_http_client_new(&c, loop, &o, NULL) != 0)
    bail_out("gust_http_client_new");
  return c;
}

/* Starts `r`; NULL (a failed check) on a synchronous error. */
static gust_future *start(gust_http_client *c, const gust_fetch_request *r,
                          const char *name) {
  gust_future *f = NULL;
  int rc = gust_http_client_fetch(c, r, &f);
  if (rc != 0) {
    ok(0, "%s: fetch starts (%s: %s)", name, gust_errname(rc),
       gust_http_client_last_error(c));
    return NULL;
  }
  return f;
}

/* Runs `f` to its end; its response, or NULL (with a failed check) when it
 * hangs or failed. */
static const gust_fetch_response *finish(gust_future *f, const char *name) {
  const gust_fetch_response *r;
  if (f == NULL)
    return NULL;
  if (!ok(t_run_future(f) == 0, "%s: completes", name))
    return NULL;
  r = gust_fetch_response_of(f);
  if (r == NULL)
    diag("%s: future failed: %s", name, gust_errname(gust_future_error(f)));
  return r;
}

static gust_future *fetch_get(gust_http_client *c, const char *url,
                              const char *name) {
  gust_fetch_request r;
  gust_fetch_request_init(&r, url);
  return start(c, &r, name);
}

/* Checks a 599: `err` exact (or any negative code when 0) and `msg` (not
 * checked when NULL, only shown). */
static void is_599(const gust_fetch_response *r, int err, const char *msg,
                   const char *name) {
  const char *m = gust_fetch_response_error_message(r);
  if (!ok(r != NULL, "%s: a response", name))
    return;
  is_int(gust_fetch_response_code(r), 599, "%s: code 599", name);
  if (err != 0)
    is_str(gust_errname(gust_fetch_response_error(r)), gust_errname(err),
           "%s: error", name);
  else
    ok(gust_fetch_response_error(r) < 0, "%s: a negative error (%s)", name,
       gust_errname(gust_fetch_response_error(r)));
  if (msg != NULL)
    is_str(m, msg, "%s: message", name);
  else
    note("%s: message \"%s\"", name, m != NULL ? m : "(null)");
}

static void is_200(const gust_fetch_response *r, const char *body,
                   const char *name) {
  gust_slice b = gust_fetch_response_body(r);
  is_int(gust_fetch_response_code(r), 200, "%s: code 200", name);
  is_int(gust_fetch_response_error(r), 0, "%s: no error", name);
  cmp_mem(b.ptr, b.len, body, strlen(body), "%s: body", name);
}

/* The callbacks of a request. */
typedef struct cbs {
  const char *parts[4]; /* what the producer writes */
  int prod_calls;
  int head_calls;
  int head_code;
  int stream_calls;
} cbs;

static int produce(gust_fetch_body_writer *w, void *ud, gust_future **done) {
  cbs *s = ud;
  int i, rc;
  (void)done;
  s->prod_calls++;
  for (i = 0; i < 4 && s->parts[i] != NULL; i++)
    if ((rc = gust_fetch_body_write(w, s->parts[i], strlen(s->parts[i]),
                                    NULL)) < 0)
      return rc;
  return 0;
}

static int on_head(const gust_fetch_response *r, void *ud) {
  cbs *s = ud;
  s->head_calls++;
  s->head_code = gust_fetch_response_code(r);
  return 0;
}

static int stream_fail(const void *data, size_t len, void *ud,
                       gust_future **wait) {
  cbs *s = ud;
  (void)data;
  (void)len;
  (void)wait;
  s->stream_calls++;
  return GUST_EINVAL;
}

/* ------------------------------------------------------------------ */
/* 1. The exact request bytes                                            */
/* ------------------------------------------------------------------ */

static void t_request_bytes(void) {
  peer *p = peer_new(s_ok, NULL);
  gust_http_client *c = client_new(0);
  gust_fetch_request r;
  gust_headers h;
  gust_future *f;
  cbs s;
  char want[2048];
  const char *got;
  size_t n;

  /* GET: userinfo, a query and a fragment in the URL, a header of ours */
  gust_headers_init(&h, NULL);
  gust_headers_add_str(&h, "X-Test", "yes");
  snprintf(want, sizeof(want),
           "http://user:p%%40ss@127.0.0.1:%d/path/to?q=1&r=%%20#frag", p->port);
  gust_fetch_request_init(&r, want);
  r.headers = &h;
  f = start(c, &r, "GET bytes");
  is_200(finish(f, "GET bytes"), "ok", "GET bytes");
  gust_future_unref(f);
  snprintf(want, sizeof(want),
           "GET /path/to?q=1&r=%%20 HTTP/1.1\r\n"
           "X-Test: yes\r\n"
           "Host: 127.0.0.1:%d\r\n"
           "User-Agent: gust/" GUST_VERSION_STRING "\r\n"
           "Accept-Encoding: gzip\r\n"
           "Authorization: Basic dXNlcjpwQHNz\r\n"
           "\r\n",
           p->port);
  got = peer_req(p, 0, &n);
  cmp_mem(got, n, want, strlen(want), "GET bytes: exact request");
  ok(strstr(got, "frag") == NULL && strchr(got, '#') == NULL,
     "GET bytes: the fragment is never sent");

  /* POST with a fixed body, on the pooled connection */
  gust_fetch_request_init(&r, url_at(p->port, "/submit"));
  r.method = "POST";
  r.body = "a=1&b=2";
  r.body_len = 7;
  f = start(c, &r, "POST bytes");
  is_200(finish(f, "POST bytes"), "ok", "POST bytes");
  gust_future_unref(f);
  snprintf(want, sizeof(want),
           "POST /submit HTTP/1.1\r\n"
           "Host: 127.0.0.1:%d\r\n"
           "User-Agent: gust/" GUST_VERSION_STRING "\r\n"
           "Accept-Encoding: gzip\r\n"
           "Content-Type: application/x-www-form-urlencoded\r\n"
           "Content-Length: 7\r\n"
           "\r\n"
           "a=1&b=2",
           p->port);
  got = peer_req(p, 1, &n);
  cmp_mem(got, n, want, strlen(want), "POST bytes: exact request");

  /* PUT with a body producer: chunked; auth options, our User-Agent, no
   * Accept-Encoding without decompression */
  memset(&s, 0, sizeof(s));
  s.parts[0] = "hello";
  s.parts[1] = " world";
  gust_fetch_request_init(&r, url_at(p->port, "/up"));
  r.method = "PUT";
  r.body_producer = produce;
  r.user_data = &s;
  r.auth_username = "Aladdin";
  r.auth_password = "open sesame";
  r.user_agent = "raw-test/1";
  r.decompress_response = 0;
  f = start(c, &r, "producer bytes");
  is_200(finish(f, "producer bytes"), "ok", "producer bytes");
  gust_future_unref(f);
  is_int(s.prod_calls, 1, "producer bytes: the producer ran once");
  snprintf(want, sizeof(want),
           "PUT /up HTTP/1.1\r\n"
           "Host: 127.0.0.1:%d\r\n"
           "User-Agent: raw-test/1\r\n"
           "Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n"
           "Transfer-Encoding: chunked\r\n"
           "\r\n"
           "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
           p->port);
  got = peer_req(p, 2, &n);
  cmp_mem(got, n, want, strlen(want), "producer bytes: exact request");
  is_int(p->naccepted, 1, "request bytes: the three went on one connection");

  gust_headers_free(&h);
  gust_http_client_free(c);
  peer_free(p);
}

/* ------------------------------------------------------------------ */
/* 2-5. Broken and close-delimited responses                             */
/* ------------------------------------------------------------------ */

static void t_truncated(void) {
  peer *p = peer_new(s_truncated, NULL);
  gust_http_client *c = client_new(0);
  gust_future *f = fetch_get(c, url_at(p->port, "/t"), "truncated");
  const gust_fetch_response *r = finish(f, "truncated");
  int e = gust_fetch_response_error(r);
  is_599(r, 0, NULL, "truncated");
  ok(e == GUST_EHTTP_TRUNCATED || e == GUST_ECLOSED,
     "truncated: HTTP_TRUNCATED or CLOSED (%s)", gust_errname(e));
  ok(gust_fetch_response_error_message(r) != NULL, "truncated: a message");
  is_int(gust_fetch_response_body(r).len, 0, "truncated: no body kept");
  gust_future_unref(f);
  gust_http_client_free(c);
  peer_free(p);
}

static void t_closed_new(void) {
  peer *p = peer_new(s_close, NULL);
  gust_http_client *c = client_new(0);
  gust_future *f = fetch_get(c, url_at(p->port, "/c"), "closed new");
  is_599(finish(f, "closed new"), GUST_ECLOSED, "Connection closed",
         "closed new");
  is_int(p->naccepted, 1, "closed new: not retried on a new connection");
  gust_future_unref(f);
  gust_http_client_free(c);
  peer_free(p);
}

static void t_malformed(void) {
  peer *p = peer_new(s_say, "HTTP/1.1 2OO OK\r\nContent-Length: 0\r\n\r\n");
  gust_http_client *c = client_new(0);
  gust_future *f = fetch_get(c, url_at(p->port, "/m"), "malformed");
  const gust_fetch_response *r = finish(f, "malformed");
  int e = gust_fetch_response_error(r);
  is_599(r, 0, NULL, "malformed");
  ok(e <= -100 && e > -200, "malformed: a GUST_EHTTP_* error (%s)",
     gust_errname(e));
  ok(wait_gone(p, 0) == 0 && p->conns[0]->eof,
     "malformed: the client closed the connection");
  gust_future_unref(f);
  gust_http_client_free(c);
  peer_free(p);
}

static void t_close_delimited(void) {
  peer *p = peer_new(s_say_close, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"
                                  "a body that ends with the connection");
  gust_http_client *c = client_new(0);
  gust_future *f = fetch_get(c, url_at(p->port, "/d"), "close-delimited");
  is_200(finish(f, "close-delimited"), "a body that ends with the connection",
         "close-delimited");
  gust_future_unref(f);
  gust_http_client_free(c);
  peer_free(p);
}

/* ------------------------------------------------------------------ */
/* 6-7. Pooled connections                                               */
/* ------------------------------------------------------------------ */

static void t_stale(void) {
  peer *p = peer_new(s_stale, NULL);
  gust_http_client *c = client_new(0);
  gust_http_client_stats st;
  gust_fetch_request r;
  gust_future *f;

  f = fetch_get(c, url_at(p->port, "/1"), "stale GET 1");
  is_200(finish(f, "stale GET 1"), "ok", "stale GET 1");
  gust_future_unref(f);
  f = fetch_get(c, url_at(p->port, "/2"), "stale GET 2");
  is_200(finish(f, "stale GET 2"), "ok", "stale GET 2: retried");
  gust_future_unref(f);
  is_int(p->naccepted, 2, "stale GET: a second connection for the retry");
  ok(strncmp(peer_req(p, 2, NULL), "GET /2 ", 7) == 0 && p->req_conn[2] == 1,
     "stale GET: the retry went on the new connection");
  gust_http_client_stats_get(c, &st);
  is_int(st.connects, 2, "stale GET: stats count 2 connects");
  gust_http_client_free(c);
  peer_free(p);

  /* the same with a POST: never sent twice */
  p = peer_new(s_stale, NULL);
  c = client_new(0);
  f = fetch_get(c, url_at(p->port, "/1"), "stale POST 1");
  is_200(finish(f, "stale POST 1"), "ok", "stale POST 1");
  gust_future_unref(f);
  gust_fetch_request_init(&r, url_at(p->port, "/2"));
  r.method = "POST";
  r.body = "x=1";
  r.body_len = 3;
  f = start(c, &r, "stale POST 2");
  is_599(finish(f, "stale POST 2"), GUST_ECLOSED, "Connection closed",
         "stale POST 2");
  gust_future_unref(f);
  is_int(p->naccepted, 1, "stale POST: not retried");
  is_int(p->nreq, 2, "stale POST: sent once");
  gust_http_client_free(c);
  peer_free(p);
}

/* A response with `extra` bytes right behind it, in the same write: the
 * response is the first one, the connection is not reused. */
static void trailing(gust_http_client *c, const char *extra, const char *name) {
  peer *p = peer_new(s_extra, extra);
  gust_future *f;
  char n[128];
  snprintf(n, sizeof(n), "%s 1", name);
  f = fetch_get(c, url_at(p->port, "/1"), n);
  is_200(finish(f, n), "one", n);
  gust_future_unref(f);
  snprintf(n, sizeof(n), "%s 2", name);
  f = fetch_get(c, url_at(p->port, "/2"), n);
  is_200(finish(f, n), "two", n);
  gust_future_unref(f);
  is_int(p->naccepted, 2, "%s: the connection was not reused", name);
  peer_free(p);
}

static void t_chatty_idle(void) {
  peer *p = peer_new(s_ok, NULL);
  gust_http_client *c = client_new(0);
  gust_http_client_stats st;
  gust_future *f;

  f = fetch_get(c, url_at(p->port, "/1"), "chatty 1");
  is_200(finish(f, "chatty 1"), "ok", "chatty 1");
  gust_future_unref(f);
  gust_http_client_stats_get(c, &st);
  is_int(st.idle, 1, "chatty: the connection is pooled");
  pc_write(p->conns[0], "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nbad");
  ok(wait_gone(p, 0) == 0 && p->conns[0]->eof,
     "chatty: the client closed the idle connection that spoke");
  f = fetch_get(c, url_at(p->port, "/2"), "chatty 2");
  is_200(finish(f, "chatty 2"), "ok", "chatty 2");
  gust_future_unref(f);
  is_int(p->naccepted, 2, "chatty: the next request used a new connection");
  peer_free(p);

  /* the unsolicited bytes come right behind the response, in one write:
   * a whole response, then a partial head */
  trailing(c, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nbad",
           "trailing response");
  trailing(c, "HTTP/1.1 200 OK\r\nX-Stale: 1\r\n", "trailing partial head");
  gust_http_client_free(c);
}

/* ------------------------------------------------------------------ */
/* 8. Failures never stall the queue                                     */
/* ------------------------------------------------------------------ */

static void t_queue_failures(void) {
  peer *p = peer_new(s_mixed, NULL);
  gust_http_client *c = client_new(1);
  gust_http_client_stats st;
  gust_fetch_request r;
  gust_future *f[4];
  cbs s;
  int i;

  memset(&s, 0, sizeof(s));
  f[0] = fetch_get(c, url_at(t_closed_port("127.0.0.1"), "/"), "queue refused");
  f[1] = fetch_get(c, url_at(p->port, "/garbage"), "queue garbage");
  gust_fetch_request_init(&r, url_at(p->port, "/stream"));
  r.streaming_callback = stream_fail;
  r.user_data = &s;
  f[2] = start(c, &r, "queue callback");
  f[3] = fetch_get(c, url_at(p->port, "/good"), "queue good");
  gust_http_client_stats_get(c, &st);
  is_int(st.queued, 3, "queue: three wait behind the first");

  is_599(finish(f[0], "queue refused"), GUST_ECONNREFUSED, NULL,
         "queue refused");
  is_599(finish(f[1], "queue garbage"), 0, NULL, "queue garbage");
  is_599(finish(f[2], "queue callback"), GUST_EINVAL, NULL, "queue callback");
  is_int(s.stream_calls, 1, "queue callback: called once");
  is_200(finish(f[3], "queue good"), "ok", "queue good");
  gust_http_client_stats_get(c, &st);
  is_int(st.active, 0, "queue: nothing left active");
  for (i = 0; i < 4; i++)
    gust_future_unref(f[i]);
  gust_http_client_free(c);
  peer_free(p);
}

/* ------------------------------------------------------------------ */
/* 9-11. Timeouts                                                        */
/* ------------------------------------------------------------------ */

static void t_request_timeout(void) {
  peer *p = peer_new(NULL, NULL);
  gust_http_client *c = client_new(0);
  gust_fetch_request r;
  gust_future *f;

  gust_fetch_request_init(&r, url_at(p->port, "/slow"));
  r.request_timeout = 0.3;
  f = start(c, &r, "request timeout");
  is_599(finish(f, "request timeout"), GUST_ETIMEDOUT, "Timeout during request",
         "request timeout");
  gust_future_unref(f);
  is_int(p->nreq, 1, "request timeout: the request had reached the peer");
  ok(wait_gone(p, 0) == 0 && p->conns[0]->eof,
     "request timeout: the connection was closed");
  gust_http_client_free(c);
  peer_free(p);
}

static void t_connect_timeout(void) {
  gust_http_client *c = client_new(0);
  gust_fetch_request r;
  gust_future *f;
  hang_listener h;

  if (hang_open(&h) != 0) {
    if (tap_in_ci())
      ok(0, "connect timeout: a listener that drops SYNs could be built");
    else
      skip(1, "connect timeout: this host does not drop SYNs to a full "
              "accept queue");
    hang_close(&h);
    gust_http_client_free(c);
    return;
  }
  gust_fetch_request_init(&r, url_at(h.port, "/"));
  r.connect_timeout = 0.3;
  f = start(c, &r, "connect timeout");
  is_599(finish(f, "connect timeout"), GUST_ETIMEDOUT,
         "Timeout while connecting", "connect timeout");
  gust_future_unref(f);
  gust_http_client_free(c);
  t_run_for(loop, 0.02);
  hang_close(&h);
}

static void t_queue_timeout(void) {
  peer *silent = peer_new(NULL, NULL);
  peer *good = peer_new(s_ok, NULL);
  gust_http_client *c = client_new(1);
  gust_fetch_request r;
  gust_future *f1, *f2, *f3;

  gust_fetch_request_init(&r, url_at(silent->port, "/hang"));
  r.request_timeout = 5;
  f1 = start(c, &r, "queue timeout: first");
  ok(t_run_until_flag(loop, &silent->nreq) == 0,
     "queue timeout: the first request reached the silent peer");
  gust_fetch_request_init(&r, url_at(good->port, "/second"));
  r.connect_timeout = 0.2;
  f2 = start(c, &r, "queue timeout: second");
  is_599(finish(f2, "queue timeout: second"), GUST_ETIMEDOUT,
         "Timeout in request queue", "queue timeout: second");
  is_int(good->naccepted, 0, "queue timeout: the second never connected");
  ok(f1 != NULL && !gust_future_done(f1),
     "queue timeout: the first is still running");

  is_int(gust_future_cancel(f1), 1, "queue timeout: first cancelled");
  ok(silent->naccepted == 1 && wait_gone(silent, 0) == 0 &&
         silent->conns[0]->eof,
     "queue timeout: cancelling closed the first's connection");
  f3 = fetch_get(c, url_at(good->port, "/third"), "queue timeout: third");
  is_200(finish(f3, "queue timeout: third"), "ok", "queue timeout: third");
  gust_future_unref(f1);
  gust_future_unref(f2);
  gust_future_unref(f3);
  gust_http_client_free(c);
  peer_free(silent);
  peer_free(good);
}

/* ------------------------------------------------------------------ */
/* 12-13. 100-continue and other 1xx                                     */
/* ------------------------------------------------------------------ */

static void t_expect_continue(void) {
  peer *p = peer_new(s_expect, "403");
  gust_http_client *c = client_new(0);
  gust_fetch_request r;
  gust_future *f;
  const gust_fetch_response *resp;
  const char *req;
  char v[64];
  size_t n;
  cbs s;

  /* refused: the producer never runs, no body byte leaves */
  memset(&s, 0, sizeof(s));
  s.parts[0] = "must not be sent";
  gust_fetch_request_init(&r, url_at(p->port, "/upload"));
  r.method = "POST";
  r.body_producer = produce;
  r.user_data = &s;
  r.expect_100_continue = 1;
  f = start(c, &r, "expect 403");
  resp = finish(f, "expect 403");
  is_int(gust_fetch_response_code(resp), 403, "expect 403: code");
  is_int(gust_fetch_response_error(resp), 0, "expect 403: no error");
  gust_future_unref(f);
  is_int(s.prod_calls, 0, "expect 403: the producer was never called");
  ok(p->naccepted == 1 && wait_gone(p, 0) == 0,
     "expect 403: the connection is closed afterwards");
  if (p->naccepted == 1) {
    pconn *pc = p->conns[0];
    const char *he = memmem(pc->buf, pc->len, "\r\n\r\n", 4);
    is_int(he != NULL ? (size_t)(he + 4 - pc->buf) : 0, pc->len,
           "expect 403: the head only, no body byte");
    ok(he != NULL && head_value(pc->buf, pc->len, "Expect", v, sizeof(v)) &&
           strcmp(v, "100-continue") == 0,
       "expect 403: Expect: 100-continue sent");
  }
  gust_http_client_free(c);
  peer_free(p);

  /* continued: a fixed body, sent only after the 100 */
  p = peer_new(s_expect, "100");
  c = client_new(0);
  gust_fetch_request_init(&r, url_at(p->port, "/upload"));
  r.method = "POST";
  r.body = "0123456789abcdef";
  r.body_len = 16;
  r.expect_100_continue = 1;
  f = start(c, &r, "expect 100");
  is_200(finish(f, "expect 100"), "ok", "expect 100");
  gust_future_unref(f);
  req = peer_req(p, 0, &n);
  ok(n >= 16 && memcmp(req + n - 16, "0123456789abcdef", 16) == 0,
     "expect 100: the peer got the body intact");
  ok(strstr(req, "\r\nExpect: 100-continue\r\n") != NULL,
     "expect 100: Expect: 100-continue sent");
  is_int(p->naccepted > 0 ? p->conns[0]->early : 99, 0,
         "expect 100: no body byte before the 100");

  /* continued: a producer's chunked body */
  memset(&s, 0, sizeof(s));
  s.parts[0] = "abc";
  s.parts[1] = "defgh";
  gust_fetch_request_init(&r, url_at(p->port, "/upload2"));
  r.method = "POST";
  r.body_producer = produce;
  r.user_data = &s;
  r.expect_100_continue = 1;
  f = start(c, &r, "expect 100 producer");
  is_200(finish(f, "expect 100 producer"), "ok", "expect 100 producer");
  gust_future_unref(f);
  is_int(s.prod_calls, 1, "expect 100 producer: called once");
  req = peer_req(p, 1, &n);
  ok(n > 0 &&
         strstr(req, "\r\n\r\n3\r\nabc\r\n5\r\ndefgh\r\n0\r\n\r\n") != NULL,
     "expect 100 producer: the peer got the chunked body");
  gust_http_client_free(c);
  peer_free(p);
}

/* expect_100_timeout: a server that ignores Expect gets the body after
 * the wait, and answers. */
static void t_expect_timeout(void) {
  peer *p = peer_new(s_expect, "silent");
  gust_http_client *c = client_new(0);
  gust_fetch_request r;
  gust_future *f;
  const char *req;
  size_t n;
  gust_fetch_request_init(&r, url_at(p->port, "/upload"));
  r.method = "POST";
  r.body = "0123456789abcdef";
  r.body_len = 16;
  r.expect_100_continue = 1;
  r.expect_100_timeout = 0.2;
  f = start(c, &r, "expect timeout");
  is_200(finish(f, "expect timeout"), "ok", "expect timeout");
  gust_future_unref(f);
  req = peer_req(p, 0, &n);
  ok(n >= 16 && memcmp(req + n - 16, "0123456789abcdef", 16) == 0,
     "expect timeout: the body went after the wait");
  ok(req != NULL && strstr(req, "\r\nExpect: 100-continue\r\n") != NULL,
     "expect timeout: Expect: 100-continue sent");
  gust_http_client_free(c);
  peer_free(p);
}

static void t_informational(void) {
  peer *p =
      peer_new(s_say, "HTTP/1.1 103 Early Hints\r\n"
                      "Link: </style.css>; rel=preload\r\n\r\n"
                      "HTTP/1.1 100 Continue\r\n\r\n"
                      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal");
  gust_http_client *c = client_new(0);
  gust_fetch_request r;
  gust_future *f;
  const gust_fetch_response *resp;
  gust_slice v;
  cbs s;

  memset(&s, 0, sizeof(s));
  gust_fetch_request_init(&r, url_at(p->port, "/hints"));
  r.header_callback = on_head;
  r.user_data = &s;
  f = start(c, &r, "1xx");
  resp = finish(f, "1xx");
  is_200(resp, "final", "1xx skipped");
  is_int(s.head_calls, 1, "1xx: header_callback only for the final head");
  is_int(s.head_code, 200, "1xx: header_callback saw the 200");
  ok(resp != NULL &&
         gust_headers_get(gust_fetch_response_headers(resp), "Link", &v) != 0,
     "1xx: the 103's fields are not the response's");
  gust_future_unref(f);
  gust_http_client_free(c);
  peer_free(p);
}

/* ------------------------------------------------------------------ */
/* 14. Freeing the client with requests in flight                        */
/* ------------------------------------------------------------------ */

static void t_free_in_flight(void) {
  peer *p = peer_new(NULL, NULL);
  gust_http_client *c = client_new(1);
  gust_future *f1, *f2;

  f1 = fetch_get(c, url_at(p->port, "/a"), "free: running");
  f2 = fetch_get(c, url_at(p->port, "/b"), "free: queued");
  ok(t_run_until_flag(loop, &p->nreq) == 0,
     "free: the first request reached the peer");
  gust_http_client_free(c);
  is_599(finish(f1, "free: running"), 0, "Client closed", "free: running");
  is_599(finish(f2, "free: queued"), 0, "Client closed", "free: queued");
  ok(wait_gone(p, 0) == 0 && p->conns[0]->eof,
     "free: the running request's connection was closed");
  is_int(p->naccepted, 1, "free: the queued one never connected");
  gust_future_unref(f1);
  gust_future_unref(f2);
  t_run_for(loop, 0.02);
  peer_free(p);
}

/* ------------------------------------------------------------------ */
/* 15. Redirects                                                         */
/* ------------------------------------------------------------------ */

static void t_redirect(void) {
  peer *p = peer_new(s_redirect, "../x?y");
  gust_http_client *c = client_new(0);
  gust_future *f;
  const gust_fetch_response *r;
  char want[128];

  f = fetch_get(c, url_at(p->port, "/a/b/c?z=1"), "relative redirect");
  r = finish(f, "relative redirect");
  is_200(r, "ok", "relative redirect");
  is_int(p->nreq, 2, "relative redirect: two requests");
  ok(strncmp(peer_req(p, 1, NULL), "GET /a/x?y HTTP/1.1\r\n", 21) == 0,
     "relative redirect: resolved against the request URL");
  snprintf(want, sizeof(want), "http://127.0.0.1:%d/a/x?y", p->port);
  is_str(gust_fetch_response_effective_url(r), want,
         "relative redirect: effective URL");
  gust_future_unref(f);
  gust_http_client_free(c);
  peer_free(p);

  p = peer_new(s_redirect, "http://[bad");
  c = client_new(0);
  f = fetch_get(c, url_at(p->port, "/r"), "bad redirect");
  is_599(finish(f, "bad redirect"), 0, NULL, "bad redirect");
  is_int(p->nreq, 1, "bad redirect: not followed");
  gust_future_unref(f);
  gust_http_client_free(c);
  peer_free(p);
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  t_run_group("request_bytes", &loop, t_request_bytes);
  t_run_group("truncated", &loop, t_truncated);
  t_run_group("closed_new", &loop, t_closed_new);
  t_run_group("malformed", &loop, t_malformed);
  t_run_group("close_delimited", &loop, t_close_delimited);
  t_run_group("stale", &loop, t_stale);
  t_run_group("chatty_idle", &loop, t_chatty_idle);
  t_run_group("queue_failures", &loop, t_queue_failures);
  t_run_group("request_timeout", &loop, t_request_timeout);
  t_run_group("connect_timeout", &loop, t_connect_timeout);
  t_run_group("queue_timeout", &loop, t_queue_timeout);
  t_run_group("expect_continue", &loop, t_expect_continue);
  t_run_group("expect_timeout", &loop, t_expect_timeout);
  t_run_group("informational", &loop, t_informational);
  t_run_group("free_in_flight", &loop, t_free_in_flight);
  t_run_group("redirect", &loop, t_redirect);
  return done_testing();
}
