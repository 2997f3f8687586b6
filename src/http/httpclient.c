/* The HTTP client: Tornado's AsyncHTTPClient over IOStream, driving the
 * proto/http1 state machine in its client role, with a keep-alive pool.
 *
 * A fetch is one request as the application asked for it, followed
 * through its redirects ("hops"). It waits in a FIFO queue until one of
 * max_clients slots is free, then takes an idle pooled connection to its
 * origin (scheme, host, port and TLS context) or opens a new one. A
 * connection carries one exchange at a time: its gust_h1 writes the
 * request and parses the response from bytes delivered by one streaming
 * IOStream read; its events are pulled in drive() until the state machine
 * needs bytes or the application asks to wait (streaming_callback's
 * future), which pauses the stream. After a response that allows it, and
 * once the request went out whole, the connection goes back to the pool,
 * where it is closed after idle_timeout, when the server closes it, or
 * when anything arrives on it.
 *
 * Lifetimes: the fetch is reference counted (the user's future's done
 * callback, a pending connect, a producer and a streaming wait each hold
 * one); the connection lives until its stream's close callback ran. When
 * a fetch ends it is cut from the client at once, so a client may be
 * freed while fetch objects wait for their last callbacks. */
#include "config.h"

#include <gust/gzip.h>
#include <gust/http1.h>
#include <gust/httpclient.h>
#include <gust/httputil.h>
#include <gust/version.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/base_int.h"
#include "http/httpclient_int.h"
#include "net/iostream_int.h"

#define DEFAULT_MAX_CLIENTS  10
#define DEFAULT_IDLE_TIMEOUT 60.0
#define DEFAULT_TIMEOUT      20.0
#define DEFAULT_MAX_HEADER   65536
#define DEFAULT_MAX_BODY     104857600u
#define RESPONSE_MAGIC       0x46524553u /* "SERF" */

typedef struct fetch fetch;
typedef struct conn conn;

struct gust_fetch_response {
  unsigned magic;
  size_t refs;
  const gust_mem *mem;
  int code;
  char *reason;
  gust_headers headers;
  gust_buf body;
  char *effective_url;
  char *request_url;
  int error;
  char *error_msg;
  gust_fetch_timings t;
  gust_buf req_head; /* keep_request_head */
  /* an upgrade (gust__http_client_upgrade): the connection, taken out of
   * the pool, and the bytes read past the 101 head */
  gust_iostream *up_stream;
  gust_buf up_rest;
};

struct gust_fetch_body_writer {
  fetch *f;
};

/* A cached TLS context for requests with their own TLS options. */
typedef struct tls_entry {
  struct tls_entry *next;
  char *ca, *cert, *key;
  int verify;
  gust_tls_ctx *ctx;
} tls_entry;

struct conn {
  gust_http_client *cl; /* NULL once the client was freed */
  const gust_mem *mem;
  conn *prev, *next;   /* the client's list of every connection */
  conn *iprev, *inext; /* the idle list, most recently used first */
  gust_iostream *stream;
  gust_future *rfut; /* the streaming read */
  gust_h1 *h1;
  size_t h1_max_head;
  gust_buf in; /* bytes fed to h1 and borrowed by it */
  fetch *f;    /* the exchange in progress, NULL when idle */
  /* the origin */
  int https;
  char *host;
  int port;
  gust_tls_ctx *tls;
  double idle_deadline;
  unsigned idle : 1;
  unsigned closing : 1;      /* we close it */
  unsigned eof : 1;          /* the stream closed */
  unsigned eof_deferred : 1; /* ... with bytes to hand over first */
  unsigned in_drive : 1;
};

enum { F_QUEUED = 0, F_CONNECTING, F_EXCHANGE, F_DONE };

struct fetch {
  gust_http_client *cl; /* NULL once the fetch ended */
  const gust_mem *mem;
  gust_loop *loop;
  size_t refs;
  fetch *prev, *next; /* queue or running list */
  gust_future *fut;
  int state;

  /* the request, as it goes out on the current hop */
  char *url;
  char *method;
  gust_headers headers; /* the application's, adjusted by redirects */
  gust_buf body;
  int has_body;
  gust_fetch_body_producer_fn producer;
  gust_fetch_header_fn header_cb;
  gust_fetch_streaming_fn stream_cb;
  void *ud;
  double connect_timeout, request_timeout;
  int follow_redirects, max_redirects, decompress, validate_cert;
  char *ca, *cert, *key, *user, *pass, *agent, *iface;
  double ims;
  int allow_ipv6;
  int expect_100;
  double expect_100_timeout;
  int keep_head;
  size_t max_header;
  uint64_t max_body;
  char *orig_url;
  /* the origin of the first request (redirects to another one drop the
   * credentials) */
  int orig_https, orig_port;
  char *orig_host;

  /* the current hop */
  gust_url u; /* slices of url */
  int https;
  char *host; /* without brackets */
  int port;
  gust_tls_ctx *tls;
  gust_future *connect_f;
  conn *c;
  gust_timer timer;
  int timer_armed;
  gust_timer x100_timer; /* expect_100_timeout */
  int x100_armed;
  int timer_phase; /* 0 queue, 1 connecting, 2 request */
  double started;  /* gust_loop_now() when the hop left the queue */
  double hop_connect;
  gust_fetch_response *resp;
  gust_zip_body *zip;
  gust_future *wait;    /* streaming_callback's */
  gust_future *produce; /* body producer's */
  gust_fetch_body_writer writer;
  double t0; /* gust_loop_now() at fetch */

  unsigned head_sent : 1;
  unsigned req_done : 1; /* the whole request went out */
  unsigned got_byte : 1; /* a response byte arrived on this hop */
  unsigned got_head : 1; /* final response head received */
  unsigned awaiting_100 : 1;
  unsigned no_body_sent : 1; /* expect-100 answered finally: never send */
  unsigned redirecting : 1;
  unsigned reused : 1;
  unsigned retried : 1;
  unsigned zip_pump : 1;
  unsigned zip_fed : 1;   /* body bytes went to the decoder */
  unsigned resp_done : 1; /* END_MESSAGE of the final response */
  unsigned upgrade : 1;   /* a 101 hands the connection over */
};

struct gust_http_client {
  gust_loop *loop;
  const gust_mem *mem;
  gust_http_client_opts opts;
  gust_iostream_opts stream_opts;
  int has_stream_opts;
  gust_tcp_client *tcp;
  gust_tls_ctx *tls_default;
  int own_tls;
  tls_entry *tls_cache;
  fetch *qhead, *qtail; /* waiting for a slot */
  fetch *running;       /* holding a slot */
  size_t nqueued, nrunning;
  conn *conns;
  conn *idle_head, *idle_tail;
  size_t nconns, nidle;
  uint64_t connects, reuses;
  gust_timer idle_timer;
  int idle_armed;
  gust_timer queue_timer;
  int queue_soon;
  int freeing;
  char err[256];
};

static void drive(conn *c);
static void conn_close(conn *c);
static void fetch_fail(fetch *f, int code, const char *msg);
static void hop_start(fetch *f);
static void schedule_queue(gust_http_client *cl);
static void arm_idle(gust_http_client *cl);

/* ------------------------------------------------------------------ */
/* Small helpers                                                        */
/* ------------------------------------------------------------------ */

static char *dup_str(const gust_mem *mem, const char *s) {
  return s != NULL ? gust__strndup(mem, s, strlen(s)) : NULL;
}

static char *dup_slice(const gust_mem *mem, gust_slice s) {
  return gust__strndup(mem, s.len ? (const char *)s.ptr : "", s.len);
}

static int str_eq(const char *a, const char *b) {
  if (a == NULL || b == NULL)
    return a == b;
  return strcmp(a, b) == 0;
}

static int slice_ieq(gust_slice s, const char *lit) {
  size_t n = strlen(lit), i;
  if (s.len != n)
    return 0;
  for (i = 0; i < n; i++)
    if (gust__lower(s.ptr[i]) != (uint8_t)lit[i])
      return 0;
  return 1;
}

static int is_method(const char *m, const char *lit) {
  return strcmp(m, lit) == 0;
}

static int body_expected(const char *m) {
  return is_method(m, "POST") || is_method(m, "PUT") || is_method(m, "PATCH");
}

static int idempotent(const char *m) {
  return is_method(m, "GET") || is_method(m, "HEAD") ||
         is_method(m, "OPTIONS") || is_method(m, "PUT") ||
         is_method(m, "DELETE") || is_method(m, "TRACE");
}

static int b64_append(gust_buf *out, const uint8_t *p, size_t n) {
  static const char tab[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t i;
  int rc = 0;
  for (i = 0; i + 2 < n && rc == 0; i += 3) {
    char q[4] = {tab[p[i] >> 2], tab[((p[i] & 3) << 4) | (p[i + 1] >> 4)],
                 tab[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)],
                 tab[p[i + 2] & 63]};
    rc = gust_buf_append(out, q, 4);
  }
  if (rc == 0 && n - i == 1) {
    char q[4] = {tab[p[i] >> 2], tab[(p[i] & 3) << 4], '=', '='};
    rc = gust_buf_append(out, q, 4);
  } else if (rc == 0 && n - i == 2) {
    char q[4] = {tab[p[i] >> 2], tab[((p[i] & 3) << 4) | (p[i + 1] >> 4)],
                 tab[(p[i + 1] & 15) << 2], '='};
    rc = gust_buf_append(out, q, 4);
  }
  return rc;
}

/* ------------------------------------------------------------------ */
/* Responses                                                            */
/* ------------------------------------------------------------------ */

static gust_fetch_response *resp_new(const gust_mem *mem) {
  gust_fetch_response *r = gust__calloc(mem, 1, sizeof(*r));
  if (r == NULL)
    return NULL;
  r->magic = RESPONSE_MAGIC;
  r->refs = 1;
  r->mem = mem;
  gust_headers_init(&r->headers, mem);
  gust_buf_init(&r->body, mem);
  gust_buf_init(&r->req_head, mem);
  gust_buf_init(&r->up_rest, mem);
  return r;
}

gust_fetch_response *gust_fetch_response_ref(const gust_fetch_response *r) {
  gust_fetch_response *m = (gust_fetch_response *)r;
  if (m != NULL)
    m->refs++;
  return m;
}

void gust_fetch_response_unref(gust_fetch_response *r) {
  if (r == NULL || --r->refs > 0)
    return;
  gust_headers_free(&r->headers);
  gust_buf_free(&r->body);
  gust_buf_free(&r->req_head);
  gust_buf_free(&r->up_rest);
  gust_iostream_unref(r->up_stream);
  gust__free(r->mem, r->reason);
  gust__free(r->mem, r->effective_url);
  gust__free(r->mem, r->request_url);
  gust__free(r->mem, r->error_msg);
  r->magic = 0;
  gust__free(r->mem, r);
}

static void resp_dtor(void *v) { gust_fetch_response_unref(v); }

const gust_fetch_response *gust_fetch_response_of(gust_future *f) {
  const gust_fetch_response *r;
  if (f == NULL)
    return NULL;
  r = gust_future_result(f);
  return r != NULL && r->magic == RESPONSE_MAGIC ? r : NULL;
}

int gust_fetch_response_code(const gust_fetch_response *r) {
  return r != NULL ? r->code : 599;
}

const char *gust_fetch_response_reason(const gust_fetch_response *r) {
  if (r == NULL || r->reason == NULL)
    return "Unknown";
  return r->reason;
}

const gust_headers *gust_fetch_response_headers(const gust_fetch_response *r) {
  return r != NULL ? &r->headers : NULL;
}

gust_slice gust_fetch_response_body(const gust_fetch_response *r) {
  gust_slice s = {NULL, 0};
  if (r != NULL && r->body.len > 0) {
    s.ptr = r->body.ptr;
    s.len = r->body.len;
  }
  return s;
}

const char *gust_fetch_response_effective_url(const gust_fetch_response *r) {
  return r != NULL ? r->effective_url : NULL;
}

const char *gust_fetch_response_request_url(const gust_fetch_response *r) {
  return r != NULL ? r->request_url : NULL;
}

int gust_fetch_response_error(const gust_fetch_response *r) {
  return r != NULL ? r->error : GUST_EINVAL;
}

const char *gust_fetch_response_error_message(const gust_fetch_response *r) {
  return r != NULL ? r->error_msg : NULL;
}

gust_slice gust_fetch_response_request_head(const gust_fetch_response *r) {
  gust_slice s = {NULL, 0};
  if (r != NULL && r->req_head.len > 0) {
    s.ptr = r->req_head.ptr;
    s.len = r->req_head.len;
  }
  return s;
}

void gust_fetch_response_timings(const gust_fetch_response *r,
                                 gust_fetch_timings *t) {
  if (t == NULL)
    return;
  if (r == NULL)
    memset(t, 0, sizeof(*t));
  else
    *t = r->t;
}

/* ------------------------------------------------------------------ */
/* Requests                                                             */
/* ------------------------------------------------------------------ */

void gust_fetch_request_init(gust_fetch_request *r, const char *url) {
  if (r == NULL)
    return;
  memset(r, 0, sizeof(*r));
  r->url = url;
  r->method = "GET";
  r->connect_timeout = DEFAULT_TIMEOUT;
  r->request_timeout = DEFAULT_TIMEOUT;
  r->follow_redirects = 1;
  r->max_redirects = 5;
  r->decompress_response = 1;
  r->validate_cert = 1;
  r->if_modified_since = -1;
  r->allow_ipv6 = 1;
}

static void fetch_ref(fetch *f) { f->refs++; }

static void fetch_unref(fetch *f) {
  const gust_mem *mem;
  if (--f->refs > 0)
    return;
  mem = f->mem;
  gust_headers_free(&f->headers);
  gust_buf_free(&f->body);
  gust_zip_body_free(f->zip);
  gust_fetch_response_unref(f->resp);
  gust__free(mem, f->url);
  gust__free(mem, f->method);
  gust__free(mem, f->ca);
  gust__free(mem, f->cert);
  gust__free(mem, f->key);
  gust__free(mem, f->user);
  gust__free(mem, f->pass);
  gust__free(mem, f->agent);
  gust__free(mem, f->iface);
  gust__free(mem, f->orig_url);
  gust__free(mem, f->orig_host);
  gust__free(mem, f->host);
  gust__free(mem, f);
}

static int seterr(gust_http_client *cl, int code, const char *fmt, ...)
    GUST_PRINTF(3, 4);

static int seterr(gust_http_client *cl, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cl->err, sizeof(cl->err), fmt, ap);
  va_end(ap);
  return code;
}

/* Parses f->url into the hop's fields. Returns 0, or GUST_ESYNTAX /
 * GUST_ENOTSUP with a message in `msg`. */
static int parse_url(fetch *f, const char **msg) {
  gust_url *u = &f->u;
  int rc = gust_url_split(u, f->url, strlen(f->url));
  if (rc < 0) {
    *msg = "malformed URL";
    return GUST_ESYNTAX;
  }
  if (!(u->flags & GUST_URL_HAS_SCHEME) ||
      !(u->flags & GUST_URL_HAS_AUTHORITY) || u->host.len == 0) {
    *msg = "URL must be absolute (scheme://host/...)";
    return GUST_ESYNTAX;
  }
  if (slice_ieq(u->scheme, "http"))
    f->https = 0;
  else if (slice_ieq(u->scheme, "https"))
    f->https = 1;
  else {
    *msg = "Unsupported url scheme";
    return GUST_ENOTSUP;
  }
  f->port = (u->flags & GUST_URL_HAS_PORT) ? u->port : (f->https ? 443 : 80);
  if (f->port == 0) {
    *msg = "URL port must not be 0";
    return GUST_ESYNTAX;
  }
  gust__free(f->mem, f->host);
  f->host = dup_slice(f->mem, u->host);
  if (f->host == NULL) {
    *msg = "out of memory";
    return GUST_ENOMEM;
  }
  return 0;
}

/* 1 if the current hop goes to the first request's origin (scheme, host
 * compared ignoring case, port). */
static int same_origin(const fetch *f) {
  return f->https == f->orig_https && f->port == f->orig_port &&
         strcasecmp(f->host, f->orig_host) == 0;
}

/* ------------------------------------------------------------------ */
/* TLS contexts                                                         */
/* ------------------------------------------------------------------ */

/* The TLS context for the hop's options: the client's default one, or one
 * made (once per distinct set of options) for its own CA file, client
 * certificate or validate_cert = 0. On failure `msg` (of `cap` bytes)
 * says why, with the TLS library's explanation. */
static int tls_for(fetch *f, gust_tls_ctx **out, char *msg, size_t cap) {
  gust_http_client *cl = f->cl;
  tls_entry *e;
  gust_tls_ctx *ctx = NULL;
  int rc;
  *out = NULL;
  if (f->ca == NULL && f->cert == NULL && f->validate_cert) {
    if (cl->opts.tls != NULL) {
      *out = cl->opts.tls;
      return 0;
    }
    if (cl->tls_default == NULL) {
      rc = gust_tls_ctx_new(GUST_TLS_CLIENT, cl->mem, &cl->tls_default);
      if (rc < 0) {
        snprintf(msg, cap, "cannot create a TLS context: %s",
                 gust_strerror(rc));
        return rc;
      }
      cl->own_tls = 1;
    }
    *out = cl->tls_default;
    return 0;
  }
  for (e = cl->tls_cache; e != NULL; e = e->next) {
    if (str_eq(e->ca, f->ca) && str_eq(e->cert, f->cert) &&
        str_eq(e->key, f->key) && e->verify == f->validate_cert) {
      *out = e->ctx;
      return 0;
    }
  }
  e = gust__calloc(cl->mem, 1, sizeof(*e));
  if (e == NULL) {
    snprintf(msg, cap, "%s", gust_strerror(GUST_ENOMEM));
    return GUST_ENOMEM;
  }
  msg[0] = '\0';
  rc = gust_tls_ctx_new(GUST_TLS_CLIENT, cl->mem, &ctx);
  if (rc == 0 && f->ca != NULL &&
      (rc = gust_tls_ctx_load_ca_file(ctx, f->ca)) < 0)
    snprintf(msg, cap, "cannot load ca_certs: %s",
             gust_tls_ctx_error(ctx)[0] ? gust_tls_ctx_error(ctx)
                                        : gust_strerror(rc));
  if (rc == 0 && f->cert != NULL &&
      (rc = gust_tls_ctx_use_cert_file(ctx, f->cert,
                                       f->key != NULL ? f->key : f->cert)) < 0)
    snprintf(msg, cap, "cannot load client_cert: %s",
             gust_tls_ctx_error(ctx)[0] ? gust_tls_ctx_error(ctx)
                                        : gust_strerror(rc));
  if (rc == 0 && !f->validate_cert)
    rc = gust_tls_ctx_set_insecure_skip_verify(ctx, 1);
  if (rc == 0) {
    e->ca = dup_str(cl->mem, f->ca);
    e->cert = dup_str(cl->mem, f->cert);
    e->key = dup_str(cl->mem, f->key);
    if ((f->ca != NULL && e->ca == NULL) ||
        (f->cert != NULL && e->cert == NULL) ||
        (f->key != NULL && e->key == NULL))
      rc = GUST_ENOMEM;
  }
  if (rc < 0) {
    if (msg[0] == '\0')
      snprintf(msg, cap, "%s", gust_strerror(rc));
    gust_tls_ctx_free(ctx);
    gust__free(cl->mem, e->ca);
    gust__free(cl->mem, e->cert);
    gust__free(cl->mem, e->key);
    gust__free(cl->mem, e);
    return rc;
  }
  e->verify = f->validate_cert;
  e->ctx = ctx;
  e->next = cl->tls_cache;
  cl->tls_cache = e;
  *out = ctx;
  return 0;
}

/* ------------------------------------------------------------------ */
/* Slots, the queue and the end of a fetch                              */
/* ------------------------------------------------------------------ */

/* The fetch lists: the queue (head and tail, FIFO) and the running list
 * (head only). */
static void list_push_back(fetch **head, fetch **tail, fetch *f) {
  f->next = NULL;
  f->prev = *tail;
  if (*tail != NULL)
    (*tail)->next = f;
  else
    *head = f;
  *tail = f;
}

static void list_push_front(fetch **head, fetch *f) {
  f->prev = NULL;
  f->next = *head;
  if (*head != NULL)
    (*head)->prev = f;
  *head = f;
}

static void list_unlink(fetch **head, fetch **tail, fetch *f) {
  if (f->prev != NULL)
    f->prev->next = f->next;
  else
    *head = f->next;
  if (f->next != NULL)
    f->next->prev = f->prev;
  else if (tail != NULL)
    *tail = f->prev;
  f->prev = f->next = NULL;
}

static void timer_stop(fetch *f) {
  if (f->timer_armed) {
    gust_loop_cancel(f->loop, f->timer);
    f->timer_armed = 0;
  }
  if (f->x100_armed) {
    gust_loop_cancel(f->loop, f->x100_timer);
    f->x100_armed = 0;
  }
}

/* Cuts the fetch from the client: its slot or queue place is given up. */
static void fetch_detach_client(fetch *f) {
  gust_http_client *cl = f->cl;
  if (cl == NULL)
    return;
  if (f->state == F_QUEUED) {
    list_unlink(&cl->qhead, &cl->qtail, f);
    cl->nqueued--;
  } else {
    list_unlink(&cl->running, NULL, f);
    cl->nrunning--;
    schedule_queue(cl);
  }
  f->cl = NULL;
}

/* Lets go of the connection of the current hop: back to the pool when the
 * exchange finished cleanly and allows reuse, else closed. */
static void conn_release(fetch *f, int reusable);

/* Ends the fetch with its response (f->resp, complete or a 599). */
static void fetch_end(fetch *f) {
  gust_fetch_response *r = f->resp;
  double now = gust_loop_now(f->loop);
  int taken = 0;
  if (f->state == F_DONE)
    return;
  timer_stop(f);
  if (f->c != NULL)
    conn_release(f, 0);
  if (f->connect_f != NULL) {
    gust_future_cancel(f->connect_f); /* stops the connect */
    (void)gust_future_error(f->connect_f); /* its failure is ours: read */
    gust_future_unref(f->connect_f);
    f->connect_f = NULL;
  }
  fetch_detach_client(f);
  f->state = F_DONE;
  f->resp = NULL;
  r->t.total = now - f->t0;
  if (r->effective_url == NULL)
    r->effective_url = dup_str(r->mem, f->url);
  if (gust_future_set_result_unless_cancelled(f->fut, r, resp_dtor, &taken) <
          0 ||
      !taken) {
    gust_fetch_response_unref(r);
    if (!gust_future_done(f->fut))
      gust_future_set_error(f->fut, GUST_ENOMEM, NULL);
  }
}

static void fetch_fail(fetch *f, int code, const char *msg) {
  gust_fetch_response *r;
  if (f->state == F_DONE)
    return;
  if (f->resp == NULL)
    f->resp = resp_new(f->mem);
  r = f->resp;
  if (r == NULL) {
    timer_stop(f);
    if (f->c != NULL)
      conn_release(f, 0);
    fetch_detach_client(f);
    f->state = F_DONE;
    gust_future_set_error(f->fut, GUST_ENOMEM, NULL);
    return;
  }
  r->code = 599;
  gust__free(r->mem, r->reason);
  r->reason = NULL;
  gust_headers_clear(&r->headers);
  gust_buf_clear(&r->body);
  r->error = code < 0 ? code : GUST_EINTERNAL;
  gust__free(r->mem, r->error_msg);
  r->error_msg = dup_str(r->mem, msg != NULL ? msg : gust_strerror(code));
  fetch_end(f);
}

/* The application cancelled the future: the request stops here, its
 * connection is closed and its slot freed. */
static void fetch_abort(fetch *f) {
  if (f->state == F_DONE)
    return;
  timer_stop(f);
  if (f->c != NULL)
    conn_release(f, 0);
  if (f->connect_f != NULL) {
    gust_future_cancel(f->connect_f); /* stops the connect */
    (void)gust_future_error(f->connect_f); /* its failure is ours: read */
    gust_future_unref(f->connect_f);
    f->connect_f = NULL;
  }
  fetch_detach_client(f);
  f->state = F_DONE;
}

/* After a callback of the application: 1 if it cancelled the fetch (which
 * is then aborted at once rather than on its future's done callback). */
static int cancelled(fetch *f) {
  if (f->state == F_DONE)
    return 1;
  if (f->fut != NULL && gust_future_cancelled(f->fut)) {
    fetch_abort(f);
    return 1;
  }
  return 0;
}

static void on_fut_done(gust_future *fut, void *ud) {
  fetch *f = ud;
  GUST__UNUSED(fut);
  fetch_abort(f); /* cancelled by the application, if not done */
  gust_future_unref(f->fut);
  f->fut = NULL;
  fetch_unref(f);
}

static void on_timer(gust_loop *loop, void *ud) {
  fetch *f = ud;
  GUST__UNUSED(loop);
  f->timer_armed = 0;
  if (f->timer_phase == 0)
    fetch_fail(f, GUST_ETIMEDOUT, "Timeout in request queue");
  else if (f->timer_phase == 1)
    fetch_fail(f, GUST_ETIMEDOUT, "Timeout while connecting");
  else
    fetch_fail(f, GUST_ETIMEDOUT, "Timeout during request");
}

/* The earlier of the connect and request deadlines counted from `from`
 * (the queue and connect phases end at whichever comes first), or 0 when
 * neither timeout is set. */
static double first_deadline(const fetch *f, double from) {
  double d = 0;
  if (f->connect_timeout > 0)
    d = from + f->connect_timeout;
  if (f->request_timeout > 0 && (d == 0 || from + f->request_timeout < d))
    d = from + f->request_timeout;
  return d;
}

static int timer_set(fetch *f, int phase, double deadline) {
  timer_stop(f);
  f->timer_phase = phase;
  if (deadline <= 0)
    return 0;
  if (gust_loop_call_at_monotonic(f->loop, deadline, on_timer, f, &f->timer) <
      0)
    return GUST_ENOMEM;
  f->timer_armed = 1;
  return 0;
}

/* Gives free slots to queued fetches, oldest first. */
static void fill_slots(gust_http_client *cl) {
  while (cl->qhead != NULL && cl->nrunning < cl->opts.max_clients &&
         !cl->freeing) {
    fetch *f = cl->qhead;
    list_unlink(&cl->qhead, &cl->qtail, f);
    cl->nqueued--;
    list_push_front(&cl->running, f);
    cl->nrunning++;
    f->state = F_CONNECTING;
    timer_stop(f);
    hop_start(f);
  }
}

static void run_queue(gust_loop *loop, void *ud) {
  gust_http_client *cl = ud;
  GUST__UNUSED(loop);
  cl->queue_soon = 0;
  fill_slots(cl);
}

/* A slot was given up: the queue moves on the next iteration, out of the
 * callbacks that ended the fetch (a timer, so that freeing the client can
 * cancel it). */
static void schedule_queue(gust_http_client *cl) {
  if (cl->queue_soon || cl->qhead == NULL || cl->freeing)
    return;
  if (gust_loop_call_later(cl->loop, 0, run_queue, cl, &cl->queue_timer) == 0)
    cl->queue_soon = 1;
  else
    fill_slots(cl); /* out of memory for the timer: do not stall */
}

/* ------------------------------------------------------------------ */
/* Connections                                                          */
/* ------------------------------------------------------------------ */

static void idle_unlink(conn *c) {
  gust_http_client *cl = c->cl;
  if (!c->idle)
    return;
  if (c->iprev != NULL)
    c->iprev->inext = c->inext;
  else
    cl->idle_head = c->inext;
  if (c->inext != NULL)
    c->inext->iprev = c->iprev;
  else
    cl->idle_tail = c->iprev;
  c->iprev = c->inext = NULL;
  c->idle = 0;
  cl->nidle--;
}

static void conn_free(conn *c) {
  gust_http_client *cl = c->cl;
  if (cl != NULL) {
    if (c->prev != NULL)
      c->prev->next = c->next;
    else
      cl->conns = c->next;
    if (c->next != NULL)
      c->next->prev = c->prev;
    cl->nconns--;
  }
  gust_future_unref(c->rfut);
  gust_h1_free(c->h1);
  gust_buf_free(&c->in);
  gust__free(c->mem, c->host);
  gust__free(c->mem, c);
}

static void on_stream_close(gust_iostream *s, void *ud);

static void on_finish_soon(gust_loop *loop, void *ud);
static void conn_finish(conn *c);

static void conn_close(conn *c) {
  if (c->closing)
    return;
  c->closing = 1;
  idle_unlink(c);
  if (c->eof_deferred) {
    /* its close callback ran already: finish it outside of the caller */
    if (c->f != NULL) {
      c->f->c = NULL;
      c->f = NULL;
    }
    if (gust_loop_call_soon(gust_iostream_loop(c->stream), on_finish_soon, c) <
            0 &&
        !c->in_drive)
      conn_finish(c);
    return;
  }
  gust_iostream_close(c->stream);
}

static void conn_release(fetch *f, int reusable) {
  conn *c = f->c;
  gust_http_client *cl = c->cl;
  size_t same = 0;
  conn *o;
  f->c = NULL;
  c->f = NULL;
  if (!reusable || c->closing || c->eof || cl->opts.no_keep_alive ||
      cl->freeing || !gust_h1_keep_alive(c->h1)) {
    conn_close(c);
    return;
  }
  for (o = cl->idle_head; o != NULL; o = o->inext)
    if (o->https == c->https && o->port == c->port && o->tls == c->tls &&
        strcmp(o->host, c->host) == 0)
      same++;
  if (same >= cl->opts.max_idle_per_host) {
    conn_close(c);
    return;
  }
  gust_buf_clear(&c->in);
  c->idle = 1;
  c->idle_deadline = gust_loop_now(cl->loop) + cl->opts.idle_timeout;
  c->iprev = NULL;
  c->inext = cl->idle_head;
  if (cl->idle_head != NULL)
    cl->idle_head->iprev = c;
  else
    cl->idle_tail = c;
  cl->idle_head = c;
  cl->nidle++;
  gust__iostream_set_paused(c->stream, 0);
  arm_idle(cl);
}

static void on_idle_timer(gust_loop *loop, void *ud) {
  gust_http_client *cl = ud;
  double now = gust_loop_now(loop);
  cl->idle_armed = 0;
  while (cl->idle_tail != NULL && cl->idle_tail->idle_deadline <= now)
    conn_close(cl->idle_tail);
  arm_idle(cl);
}

static void arm_idle(gust_http_client *cl) {
  if (cl->idle_armed || cl->idle_tail == NULL)
    return;
  if (gust_loop_call_at_monotonic(cl->loop, cl->idle_tail->idle_deadline,
                                  on_idle_timer, cl, &cl->idle_timer) == 0)
    cl->idle_armed = 1;
}

static int maybe_retry(fetch *f);

/* The stream's close callback ran: the connection goes. */
static void conn_finish(conn *c) {
  if (c->f != NULL) {
    c->f->c = NULL;
    c->f = NULL;
  }
  c->closing = 1;
  c->eof_deferred = 0;
  gust_iostream_unref(c->stream);
  c->stream = NULL;
  conn_free(c);
}

/* The stream ended (the peer closed, or it failed) in the middle of an
 * exchange: the state machine sees the end first (a body delimited by the
 * close ends here), then the fetch fails if it is not complete. */
static void conn_eof(conn *c) {
  fetch *f = c->f;
  gust_iostream *s = c->stream;
  int err = gust_iostream_error(s);
  c->eof_deferred = 0;
  if (f != NULL && f->state == F_EXCHANGE && !c->closing) {
    fetch_ref(f);
    if (err == 0 || err == GUST_ETLS_TRUNCATED) {
      gust_h1_feed_eof(c->h1, err != 0 ? GUST_H1_EOF_UNCLEAN : 0);
      drive(c);
      if (f->state == F_EXCHANGE && f->c == c && !maybe_retry(f))
        fetch_fail(f, GUST_ECLOSED,
                   f->got_byte ? "Stream closed" : "Connection closed");
    } else if (f->c == c && !maybe_retry(f)) {
      const char *m = gust_iostream_error_message(s);
      fetch_fail(f, err, m != NULL ? m : "Stream closed");
    }
    fetch_unref(f);
  }
  conn_finish(c);
}

static void on_stream_close(gust_iostream *s, void *ud) {
  conn *c = ud;
  fetch *f = c->f;
  c->eof = 1;
  idle_unlink(c);
  GUST__UNUSED(s);
  if (f != NULL && f->state == F_EXCHANGE && !c->closing && f->wait != NULL) {
    /* The application holds the reads back: bytes that came before the
     * end (in the stream, or fed and not parsed yet) go first, and the end
     * is seen once the wait is over (on_wait_done). */
    c->eof_deferred = 1;
    return;
  }
  conn_eof(c);
}

static void on_finish_soon(gust_loop *loop, void *ud) {
  GUST__UNUSED(loop);
  conn_finish(ud);
}

static void on_data(gust_iostream *s, gust_slice data, void *ud);

static int conn_new(fetch *f, gust_iostream *stream, conn **out) {
  gust_http_client *cl = f->cl;
  conn *c = gust__calloc(cl->mem, 1, sizeof(*c));
  int rc;
  *out = NULL;
  if (c == NULL)
    return GUST_ENOMEM;
  c->cl = cl;
  c->mem = cl->mem;
  c->stream = stream;
  c->https = f->https;
  c->port = f->port;
  c->tls = f->tls;
  c->host = dup_str(cl->mem, f->host);
  gust_buf_init(&c->in, cl->mem);
  if (c->host == NULL) {
    gust__free(cl->mem, c);
    return GUST_ENOMEM;
  }
  rc = gust_iostream_read_until_close(stream, on_data, c, &c->rfut);
  if (rc < 0) {
    gust__free(cl->mem, c->host);
    gust__free(cl->mem, c);
    return rc;
  }
  gust_iostream_set_close_callback(stream, on_stream_close, c);
  c->next = cl->conns;
  if (cl->conns != NULL)
    cl->conns->prev = c;
  cl->conns = c;
  cl->nconns++;
  cl->connects++;
  *out = c;
  return 0;
}

/* A parser configured for `f` (a new one when the limits differ). */
static int conn_h1(conn *c, fetch *f) {
  gust_h1_config cfg;
  if (c->h1 != NULL && c->h1_max_head == f->max_header) {
    gust_h1_set_max_body(c->h1, f->max_body);
    return 0;
  }
  gust_h1_free(c->h1);
  c->h1 = NULL;
  gust_h1_config_init(&cfg);
  cfg.max_head = f->max_header;
  cfg.max_body = f->max_body;
  if (c->cl->opts.no_keep_alive)
    cfg.flags |= GUST_H1_NO_KEEP_ALIVE;
  c->h1_max_head = f->max_header;
  return gust_h1_new(&c->h1, GUST_H1_CLIENT, &cfg, c->cl->mem);
}

static int flush(conn *c, gust_future **out) {
  gust_slice s = gust_h1_pending_output(c->h1);
  int rc;
  if (s.len == 0 && out == NULL)
    return 0;
  rc = gust_iostream_write(c->stream, s.ptr, s.len, out);
  if (rc < 0)
    return rc;
  gust_h1_consume_output(c->h1, s.len);
  return 0;
}

/* ------------------------------------------------------------------ */
/* Sending the request                                                  */
/* ------------------------------------------------------------------ */

static int add_default(gust_headers *h, const char *name, const char *value) {
  gust_slice v;
  if (gust_headers_get(h, name, &v) == 0)
    return 0;
  return gust_headers_add_str(h, name, value);
}

/* The head's fields: the application's plus what the request implies. */
static int build_headers(fetch *f, gust_headers *h) {
  const gust_url *u = &f->u;
  gust_slice v;
  gust_buf b;
  int rc;
  rc = gust_headers_copy(h, &f->headers);
  if (rc < 0)
    return rc;
  if (gust_headers_get(h, "Host", &v) != 0) {
    /* the URL's authority without its userinfo */
    const char *start = (const char *)u->host.ptr;
    const char *end = start + u->host.len;
    if (start > f->url && start[-1] == '[') {
      start--;
      end++;
    }
    if (u->flags & GUST_URL_HAS_PORT)
      while (*end != '\0' && *end != '/' && *end != '?' && *end != '#')
        end++;
    rc = gust_headers_add(h, "Host", 4, start, (size_t)(end - start));
    if (rc < 0)
      return rc;
  }
  rc = add_default(h, "User-Agent",
                   f->agent != NULL ? f->agent : "gust/" GUST_VERSION_STRING);
  if (rc == 0 && f->decompress)
    rc = add_default(h, "Accept-Encoding", "gzip");
  if (rc == 0 && f->ims >= 0) {
    char date[GUST_HTTPDATE_SIZE];
    rc = gust_httpdate_format((int64_t)f->ims, date);
    if (rc == 0)
      rc = add_default(h, "If-Modified-Since", date);
  }
  if (rc == 0 && f->c->cl->opts.no_keep_alive)
    rc = add_default(h, "Connection", "close");
  if (rc == 0 && f->user != NULL && gust_headers_get(h, "Authorization", &v)) {
    gust_buf_init(&b, f->mem);
    rc = gust_buf_append_str(&b, f->user);
    rc |= gust_buf_append_byte(&b, ':');
    rc |= gust_buf_append_str(&b, f->pass != NULL ? f->pass : "");
    rc = rc != 0 ? GUST_ENOMEM : 0;
    if (rc == 0) {
      gust_buf cred;
      gust_buf_init(&cred, f->mem);
      rc = gust_buf_append_str(&cred, "Basic ");
      rc |= b64_append(&cred, b.ptr, b.len);
      rc |= gust_buf_append_byte(&cred, 0);
      if (rc == 0)
        rc = gust_headers_add_str(h, "Authorization", (const char *)cred.ptr);
      else
        rc = GUST_ENOMEM;
      gust_buf_free(&cred);
    }
    gust_buf_free(&b);
  }
  if (rc == 0 && f->has_body) {
    if (is_method(f->method, "POST"))
      rc = add_default(h, "Content-Type", "application/x-www-form-urlencoded");
    if (rc == 0 && gust_headers_get(h, "Content-Length", &v) != 0) {
      char n[24];
      n[gust__u64_dec(n, f->body.len)] = '\0';
      rc = gust_headers_add_str(h, "Content-Length", n);
    }
  }
  if (rc == 0 && f->expect_100 && (f->has_body || f->producer != NULL))
    rc = add_default(h, "Expect", "100-continue");
  return rc;
}

static void on_produced(gust_future *p, void *ud);

/* Sends the body (fixed, or by calling the producer) and ends the
 * request. */
static void send_body(fetch *f) {
  conn *c = f->c;
  int rc = 0;
  if (f->producer != NULL) {
    gust_future *done = NULL;
    f->writer.f = f;
    fetch_ref(f);
    rc = f->producer(&f->writer, f->ud, &done);
    if (cancelled(f) || f->c != c) {
      if (done != NULL)
        gust_future_unref(done);
      fetch_unref(f);
      return;
    }
    if (rc < 0) {
      if (done != NULL)
        gust_future_unref(done);
      fetch_unref(f);
      fetch_fail(f, rc, "body_producer failed");
      return;
    }
    if (done != NULL) {
      f->produce = done;
      if (gust_future_add_done_callback(done, on_produced, f) < 0) {
        f->produce = NULL;
        gust_future_unref(done);
        fetch_unref(f);
        fetch_fail(f, GUST_ENOMEM, NULL);
      }
      return; /* the reference goes with the callback */
    }
    fetch_unref(f);
  } else if (f->has_body && f->body.len > 0) {
    rc = gust_h1_send_data(c->h1, f->body.ptr, f->body.len);
  }
  if (rc == 0)
    rc = gust_h1_send_end(c->h1);
  if (rc == 0)
    rc = flush(c, NULL);
  if (rc < 0) {
    fetch_fail(f, rc, gust_h1_last_error(c->h1));
    return;
  }
  f->req_done = 1;
}

static void on_produced(gust_future *p, void *ud) {
  fetch *f = ud;
  int err = gust_future_error(p);
  int rc;
  if (f->produce == p) {
    f->produce = NULL;
    if (f->state == F_EXCHANGE && f->c != NULL && !f->req_done) {
      if (err < 0) {
        fetch_fail(f, err, gust_future_error_message(p));
      } else {
        rc = gust_h1_send_end(f->c->h1);
        if (rc == 0)
          rc = flush(f->c, NULL);
        if (rc < 0)
          fetch_fail(f, rc, gust_h1_last_error(f->c->h1));
        else
          f->req_done = 1;
      }
    }
  }
  gust_future_unref(p);
  f->writer.f = NULL;
  fetch_unref(f);
}

int gust_fetch_body_write(gust_fetch_body_writer *w, const void *data,
                          size_t len, gust_future **out) {
  fetch *f;
  conn *c;
  int rc;
  if (out != NULL)
    *out = NULL;
  if (w == NULL || (data == NULL && len != 0))
    return GUST_EINVAL;
  f = w->f;
  if (f == NULL || f->state != F_EXCHANGE || f->c == NULL || f->req_done ||
      f->no_body_sent)
    return GUST_ECLOSED;
  c = f->c;
  rc = gust_h1_send_data(c->h1, data, len);
  if (rc == GUST_EHTTP_LENGTH) {
    fetch_fail(f, rc, gust_h1_last_error(c->h1));
    return rc;
  }
  if (rc < 0)
    return rc;
  return flush(c, out);
}

/* No answer to the head within expect_100_timeout: the body goes. */
static void on_x100(gust_loop *loop, void *ud) {
  fetch *f = ud;
  GUST__UNUSED(loop);
  f->x100_armed = 0;
  if (f->state == F_EXCHANGE && f->c != NULL && f->awaiting_100) {
    f->awaiting_100 = 0;
    send_body(f);
  }
}

/* Sends the request of the hop on its connection. */
static void send_request(fetch *f) {
  conn *c = f->c;
  gust_headers h;
  gust_buf target;
  const gust_url *u = &f->u;
  int rc;
  f->state = F_EXCHANGE;
  f->got_byte = f->got_head = f->req_done = f->head_sent = 0;
  f->awaiting_100 = f->no_body_sent = f->redirecting = f->resp_done = 0;
  f->zip_pump = 0;
  c->f = f;
  gust_headers_init(&h, f->mem);
  gust_buf_init(&target, f->mem);
  rc = conn_h1(c, f);
  if (rc == 0)
    rc = build_headers(f, &h);
  if (rc == 0) {
    if (u->path.len > 0)
      rc = gust_buf_append(&target, u->path.ptr, u->path.len);
    else
      rc = gust_buf_append_byte(&target, '/');
    if (rc == 0 && (u->flags & GUST_URL_HAS_QUERY)) {
      rc = gust_buf_append_byte(&target, '?');
      if (rc == 0 && u->query.len > 0)
        rc = gust_buf_append(&target, u->query.ptr, u->query.len);
    }
    if (rc == 0)
      rc = gust_buf_append_byte(&target, 0);
    if (rc > 0)
      rc = GUST_ENOMEM;
  }
  if (rc == 0) {
    size_t before = gust_h1_pending_output(c->h1).len;
    rc = gust_h1_send_request(c->h1, f->method, (const char *)target.ptr, &h);
    if (rc == 0)
      gust_h1_set_max_body(c->h1, f->max_body);
    if (rc == 0 && f->keep_head && f->resp != NULL) {
      gust_slice out = gust_h1_pending_output(c->h1);
      gust_buf_clear(&f->resp->req_head);
      if (gust_buf_append(&f->resp->req_head, out.ptr + before,
                          out.len - before) < 0)
        rc = GUST_ENOMEM;
    }
  }
  gust_buf_free(&target);
  gust_headers_free(&h);
  if (rc < 0) {
    fetch_fail(f, rc,
               c->h1 != NULL && rc != GUST_ENOMEM ? gust_h1_last_error(c->h1)
                                                  : NULL);
    return;
  }
  f->head_sent = 1;
  if (f->expect_100 && (f->has_body || f->producer != NULL)) {
    f->awaiting_100 = 1;
    if ((rc = flush(c, NULL)) < 0) {
      fetch_fail(f, rc, NULL);
      return;
    }
    if (f->expect_100_timeout > 0) {
      if (gust_loop_call_later(f->loop, f->expect_100_timeout, on_x100, f,
                               &f->x100_timer) < 0)
        fetch_fail(f, GUST_ENOMEM, NULL);
      else
        f->x100_armed = 1;
    }
    return;
  }
  send_body(f);
}

/* ------------------------------------------------------------------ */
/* Getting a connection                                                 */
/* ------------------------------------------------------------------ */

static void on_connected(gust_future *cf, void *ud) {
  fetch *f = ud;
  gust_iostream *s;
  conn *c;
  int rc;
  if (f->connect_f != cf || f->state != F_CONNECTING || f->cl == NULL) {
    fetch_unref(f);
    return; /* abandoned: the future's unref closes the stream */
  }
  f->connect_f = NULL;
  rc = gust_future_error(cf);
  if (rc < 0) {
    const char *m = gust_future_error_message(cf);
    gust_future_unref(cf);
    if (rc == GUST_ETIMEDOUT)
      fetch_fail(f, rc, "Timeout while connecting");
    else
      fetch_fail(f, rc, m);
    fetch_unref(f);
    return;
  }
  s = gust_tcp_client_take_stream(cf);
  gust_future_unref(cf);
  if (s == NULL || (rc = conn_new(f, s, &c)) < 0) {
    gust_iostream_unref(s);
    fetch_fail(f, GUST_ENOMEM, NULL);
    fetch_unref(f);
    return;
  }
  if (gust_iostream_tcp(s) != NULL)
    gust_tcp_nodelay(gust_iostream_tcp(s), 1);
  f->hop_connect = gust_loop_now(f->loop) - f->started;
  f->c = c;
  f->reused = 0;
  if (timer_set(f, 2,
                f->request_timeout > 0 ? f->started + f->request_timeout : 0) <
      0) {
    fetch_fail(f, GUST_ENOMEM, NULL);
    fetch_unref(f);
    return;
  }
  send_request(f);
  fetch_unref(f);
}

static conn *take_idle(fetch *f) {
  gust_http_client *cl = f->cl;
  conn *c;
  for (c = cl->idle_head; c != NULL; c = c->inext) {
    if (c->https == f->https && c->port == f->port && c->tls == f->tls &&
        strcmp(c->host, f->host) == 0 && !c->closing) {
      idle_unlink(c);
      return c;
    }
  }
  return NULL;
}

/* Starts the current hop: a pooled connection or a new one. */
static void hop_start(fetch *f) {
  gust_http_client *cl = f->cl;
  gust_tcp_connect_opts o;
  char msg[512];
  int rc;
  f->started = gust_loop_now(f->loop);
  f->hop_connect = 0;
  if (f->resp != NULL && f->resp->t.queue == 0 && f->resp->t.redirects == 0)
    f->resp->t.queue = f->started - f->t0;
  f->tls = NULL;
  if (f->https && (rc = tls_for(f, &f->tls, msg, sizeof(msg))) < 0) {
    fetch_fail(f, rc, msg);
    return;
  }
  if (!f->retried) {
    conn *c = take_idle(f);
    if (c != NULL) {
      cl->reuses++;
      f->c = c;
      f->reused = 1;
      if (timer_set(f, 2,
                    f->request_timeout > 0 ? f->started + f->request_timeout
                                           : 0) < 0) {
        fetch_fail(f, GUST_ENOMEM, NULL);
        return;
      }
      send_request(f);
      return;
    }
  }
  memset(&o, 0, sizeof(o));
  o.timeout = f->connect_timeout > 0 ? f->connect_timeout : 0;
  o.tls = f->tls;
  o.server_hostname = f->host;
  o.source_ip = f->iface;
  o.family = f->allow_ipv6 ? 0 : 4;
  o.stream = cl->has_stream_opts ? &cl->stream_opts : NULL;
  f->state = F_CONNECTING;
  rc = gust_tcp_client_connect(cl->tcp, f->host, f->port, &o, &f->connect_f);
  if (rc < 0) {
    f->connect_f = NULL;
    fetch_fail(f, rc, "cannot start connecting");
    return;
  }
  fetch_ref(f);
  if (gust_future_add_done_callback(f->connect_f, on_connected, f) < 0) {
    fetch_unref(f);
    fetch_fail(f, GUST_ENOMEM, NULL);
    return;
  }
  if (timer_set(f, 1, first_deadline(f, f->started)) < 0)
    fetch_fail(f, GUST_ENOMEM, NULL);
}

/* ------------------------------------------------------------------ */
/* Receiving the response                                               */
/* ------------------------------------------------------------------ */

static int redirect_wanted(fetch *f, int status, const gust_h1_event *ev) {
  size_t i;
  if (!f->follow_redirects || f->max_redirects <= 0)
    return 0;
  if (status != 301 && status != 302 && status != 303 && status != 307 &&
      status != 308)
    return 0;
  for (i = 0; i < ev->nfields; i++)
    if (slice_ieq(ev->fields[i].name, "location"))
      return 1;
  return 0;
}

static int on_response(fetch *f, const gust_h1_event *ev) {
  gust_fetch_response *r;
  size_t i;
  int rc;
  if (f->x100_armed && (ev->status == 100 || ev->status >= 200)) {
    gust_loop_cancel(f->loop, f->x100_timer);
    f->x100_armed = 0;
  }
  if (ev->status < 200 && !(ev->status == 101 && f->upgrade)) {
    if (ev->status == 100 && f->awaiting_100) {
      f->awaiting_100 = 0;
      send_body(f);
    }
    return 0;
  }
  if (f->awaiting_100) {
    /* a final answer instead of 100 Continue: the body is never sent */
    f->awaiting_100 = 0;
    f->no_body_sent = 1;
  }
  if (f->resp == NULL && (f->resp = resp_new(f->mem)) == NULL)
    return GUST_ENOMEM;
  r = f->resp;
  gust_headers_clear(&r->headers);
  gust_buf_clear(&r->body);
  gust__free(r->mem, r->reason);
  r->reason = ev->reason.len > 0 ? dup_slice(r->mem, ev->reason)
                                 : dup_str(r->mem, gust_h1_reason(ev->status));
  if (r->reason == NULL)
    return GUST_ENOMEM;
  if (r->reason[0] == '\0') {
    gust__free(r->mem, r->reason);
    r->reason = dup_str(r->mem, "Unknown");
    if (r->reason == NULL)
      return GUST_ENOMEM;
  }
  r->code = ev->status;
  r->t.starttransfer = gust_loop_now(f->loop) - f->t0;
  r->t.reused = f->reused;
  r->t.connect = f->hop_connect;
  if ((rc = gust_headers_reserve(&r->headers, ev->nfields, 0)) < 0)
    return rc;
  for (i = 0; i < ev->nfields; i++) {
    rc = gust_headers_add(&r->headers, (const char *)ev->fields[i].name.ptr,
                          ev->fields[i].name.len,
                          (const char *)ev->fields[i].value.ptr,
                          ev->fields[i].value.len);
    if (rc < 0)
      return rc;
  }
  f->got_head = 1;
  f->redirecting = (unsigned)redirect_wanted(f, ev->status, ev);
  if (f->header_cb != NULL) {
    rc = f->header_cb(r, f->ud);
    if (cancelled(f) || f->state != F_EXCHANGE)
      return 1;
    if (rc < 0) {
      fetch_fail(f, rc, "header_callback failed");
      return 1;
    }
  }
  if (!f->redirecting && f->decompress) {
    gust_zip_body_free(f->zip);
    f->zip = NULL;
    f->zip_fed = 0;
    rc = gust_zip_body_start(&f->zip, f->mem, &r->headers, 0, 0, f->max_body);
    if (rc < 0)
      return rc;
  }
  return 0;
}

static void on_wait_done(gust_future *w, void *ud);

/* Hands one piece of the final body to the application. Returns 0, 1
 * when it asked to wait, or an error (the fetch has failed). */
static int deliver(fetch *f, const void *p, size_t n) {
  gust_future *wait = NULL;
  int rc;
  if (f->stream_cb == NULL) {
    rc = gust_buf_append(&f->resp->body, p, n);
    if (rc < 0) {
      fetch_fail(f, GUST_ENOMEM, NULL);
      return rc;
    }
    return 0;
  }
  rc = f->stream_cb(p, n, f->ud, &wait);
  if (cancelled(f) || f->state != F_EXCHANGE) {
    if (wait != NULL)
      gust_future_unref(wait);
    return GUST_ECLOSED;
  }
  if (rc < 0) {
    if (wait != NULL)
      gust_future_unref(wait);
    fetch_fail(f, rc, "streaming_callback failed");
    return rc;
  }
  if (wait == NULL)
    return 0;
  f->wait = wait;
  fetch_ref(f);
  if (gust_future_add_done_callback(wait, on_wait_done, f) < 0) {
    f->wait = NULL;
    gust_future_unref(wait);
    fetch_unref(f);
    fetch_fail(f, GUST_ENOMEM, NULL);
    return GUST_ENOMEM;
  }
  if (f->c != NULL)
    gust__iostream_set_paused(f->c->stream, 1);
  return 1;
}

/* Pulls decoded pieces. Returns 0 (input used up), 1 (waiting) or an
 * error (the fetch has failed). */
static int pump_zip(fetch *f) {
  gust_slice piece;
  int rc;
  for (;;) {
    rc = gust_zip_body_next(f->zip, &piece);
    if (rc == 0) {
      f->zip_pump = 0;
      return 0;
    }
    if (rc < 0) {
      const char *m = gust_zip_body_error(f->zip);
      fetch_fail(f, rc, m[0] ? m : NULL);
      return rc;
    }
    rc = deliver(f, piece.ptr, piece.len);
    if (rc != 0)
      return rc;
  }
}

static void on_wait_done(gust_future *w, void *ud) {
  fetch *f = ud;
  int err = gust_future_error(w);
  if (f->wait == w) {
    f->wait = NULL;
    if (f->state == F_EXCHANGE) {
      if (err < 0) {
        fetch_fail(f, err, gust_future_error_message(w));
      } else if (f->c != NULL) {
        conn *c = f->c;
        drive(c);
        if (f->c == c && f->wait == NULL && !c->closing)
          gust__iostream_set_paused(c->stream, 0);
        if (f->c == c && f->wait == NULL && c->eof_deferred)
          conn_eof(c);
      }
    }
  }
  gust_future_unref(w);
  fetch_unref(f);
}

/* The hop's response is complete. */
static void on_end(fetch *f) {
  int reusable = f->req_done && !f->no_body_sent;
  int rc;
  if (f->zip != NULL && !f->redirecting && f->zip_fed) {
    /* (an empty body with Content-Encoding: gzip, as servers send for
     * HEAD, 204 or an empty file, is no truncated stream) */
    rc = gust_zip_body_finish(f->zip);
    if (rc < 0) {
      const char *m = gust_zip_body_error(f->zip);
      fetch_fail(f, rc, m[0] ? m : NULL);
      return;
    }
  }
  f->resp_done = 1;
  if (!reusable)
    conn_release(f, 0);
  /* else released by drive() once the state machine is ready for the
   * next request */
}

/* Follows the redirect of the finished hop. */
static void follow(fetch *f) {
  gust_fetch_response *r = f->resp;
  gust_slice loc;
  gust_buf b;
  int code = r->code, rc;
  const char *msg = NULL;
  gust_headers_get(&r->headers, "Location", &loc);
  gust_buf_init(&b, f->mem);
  rc = gust_url_resolve(f->url, strlen(f->url), (const char *)loc.ptr, loc.len,
                        &b);
  if (rc == 0)
    rc = gust_buf_append_byte(&b, 0);
  if (rc != 0) {
    gust_buf_free(&b);
    fetch_fail(f, rc < 0 ? rc : GUST_ENOMEM,
               rc == GUST_ESYNTAX ? "malformed Location in redirect" : NULL);
    return;
  }
  gust__free(f->mem, f->url);
  f->url = (char *)gust_buf_detach(&b, NULL);
  f->max_redirects--;
  r->t.redirects++;
  gust_headers_remove(&f->headers, "Host");
  if ((code == 303 && !is_method(f->method, "HEAD")) ||
      ((code == 301 || code == 302) && is_method(f->method, "POST"))) {
    gust__free(f->mem, f->method);
    f->method = dup_str(f->mem, "GET");
    f->has_body = 0;
    f->producer = NULL;
    gust_buf_clear(&f->body);
    gust_headers_remove(&f->headers, "Content-Length");
    gust_headers_remove(&f->headers, "Content-Type");
    gust_headers_remove(&f->headers, "Content-Encoding");
    gust_headers_remove(&f->headers, "Transfer-Encoding");
    if (f->method == NULL) {
      fetch_fail(f, GUST_ENOMEM, NULL);
      return;
    }
  }
  rc = parse_url(f, &msg);
  if (rc < 0) {
    fetch_fail(f, rc, msg);
    return;
  }
  if (!same_origin(f)) {
    /* a cross-origin hop: credentials stay behind */
    gust_headers_remove(&f->headers, "Authorization");
    gust_headers_remove(&f->headers, "Cookie");
    gust__free(f->mem, f->user);
    gust__free(f->mem, f->pass);
    f->user = f->pass = NULL;
  }
  gust_zip_body_free(f->zip);
  f->zip = NULL;
  f->retried = 0;
  hop_start(f);
}

/* Handles the end of a hop's response once the state machine cycled. */
static void hop_done(fetch *f) {
  if (f->redirecting) {
    follow(f);
    return;
  }
  fetch_end(f);
}

/* A 101 to an upgrade: the connection leaves the client with the bytes
 * that came after the head, and the fetch ends with the response. The
 * connection record goes on a later iteration (drive() still uses it). */
static void hand_over(conn *c, fetch *f, gust_slice rest) {
  gust_fetch_response *r = f->resp;
  if (rest.len > 0 && gust_buf_append(&r->up_rest, rest.ptr, rest.len) < 0) {
    fetch_fail(f, GUST_ENOMEM, NULL);
    return;
  }
  gust__iostream_stop_stream(c->stream);
  gust__iostream_set_paused(c->stream, 0);
  gust_iostream_set_close_callback(c->stream, NULL, NULL);
  r->up_stream = c->stream;
  c->stream = NULL;
  c->closing = 1;
  f->c = NULL;
  c->f = NULL;
  if (gust_loop_call_soon(f->loop, on_finish_soon, c) < 0)
    c->eof_deferred = 1; /* conn_free() at the end of drive() */
  fetch_end(f);
}

static void drive(conn *c) {
  gust_h1_event ev;
  fetch *f;
  int rc;
  if (c->in_drive || c->h1 == NULL)
    return;
  c->in_drive = 1;
  for (;;) {
    f = c->f;
    if (c->closing || f == NULL || f->state != F_EXCHANGE || f->wait != NULL)
      break;
    if (f->zip_pump) {
      rc = pump_zip(f);
      if (rc != 0)
        break;
    }
    rc = gust_h1_next_event(c->h1, &ev);
    if (f->resp_done) {
      /* The response is complete and the state machine cycled. It is
       * ready for another request unless bytes nobody asked for came
       * behind the response (a partial head waits in it, or a whole
       * unsolicited message): then the connection is not reused. */
      int clean = rc == GUST_H1_NEED_DATA && gust_h1_unread(c->h1).len == 0;
      gust_buf_clear(&c->in);
      fetch_ref(f);
      conn_release(f, clean);
      hop_done(f);
      fetch_unref(f);
      goto out;
    }
    switch (rc) {
    case GUST_H1_NEED_DATA:
      gust_buf_clear(&c->in);
      goto out;
    case GUST_H1_RESPONSE:
      f->got_byte = 1;
      fetch_ref(f);
      rc = on_response(f, &ev);
      if (rc < 0)
        fetch_fail(f, rc, rc == GUST_ENOMEM ? NULL : "bad response");
      fetch_unref(f);
      break;
    case GUST_H1_DATA:
      f->got_byte = 1;
      if (f->redirecting || !f->got_head)
        break;
      fetch_ref(f);
      if (f->zip != NULL) {
        f->zip_fed = 1;
        rc = gust_zip_body_feed(f->zip, ev.data.ptr, ev.data.len);
        if (rc < 0) {
          fetch_fail(f, rc, gust_zip_body_error(f->zip));
        } else {
          f->zip_pump = 1;
          pump_zip(f);
        }
      } else {
        deliver(f, ev.data.ptr, ev.data.len);
      }
      fetch_unref(f);
      break;
    case GUST_H1_TRAILERS:
      break;
    case GUST_H1_END_MESSAGE:
      fetch_ref(f);
      on_end(f);
      if (f->state == F_EXCHANGE && f->c == NULL)
        hop_done(f); /* the connection was not reusable */
      fetch_unref(f);
      break;
    case GUST_H1_PAUSED: /* not reached: on_end() let go of the
                            connection of an unfinished request */
      gust_buf_clear(&c->in);
      goto out;
    case GUST_H1_CLOSED:
      gust_buf_clear(&c->in);
      fetch_ref(f);
      if (!maybe_retry(f)) {
        fetch_fail(f, GUST_ECLOSED,
                   f->got_byte ? "Stream closed" : "Connection closed");
      }
      fetch_unref(f);
      goto out;
    case GUST_H1_ERROR:
      gust_buf_clear(&c->in);
      fetch_ref(f);
      if (ev.code == GUST_EHTTP_TRUNCATED && !f->got_byte) {
        /* closed before any response byte */
        if (!maybe_retry(f))
          fetch_fail(f, GUST_ECLOSED, "Connection closed");
      } else {
        fetch_fail(f, ev.code, ev.message);
      }
      fetch_unref(f);
      goto out;
    default: /* SWITCHED */
      fetch_ref(f);
      if (f->upgrade && f->got_head && f->resp != NULL && f->resp->code == 101)
        hand_over(c, f, ev.data);
      else
        fetch_fail(f, GUST_EHTTP_SYNTAX, "unexpected protocol switch");
      gust_buf_clear(&c->in);
      fetch_unref(f);
      goto out;
    }
  }
out:
  c->in_drive = 0;
  if (c->stream == NULL && c->eof_deferred)
    conn_finish(c); /* handed over, and no loop callback could be had */
}

static void on_data(gust_iostream *s, gust_slice data, void *ud) {
  conn *c = ud;
  fetch *f = c->f;
  int rc;
  GUST__UNUSED(s);
  if (c->closing)
    return;
  if (f == NULL || c->idle) {
    /* nothing is expected on an idle connection */
    conn_close(c);
    return;
  }
  f->got_byte = 1;
  if (c->in.len == 0) {
    rc = gust_buf_append(&c->in, data.ptr, data.len);
    if (rc == 0)
      rc = gust_h1_feed(c->h1, c->in.ptr, c->in.len);
  } else {
    /* the state machine still borrows c->in: feed the new bytes from a
     * new buffer (it saves what it needs of the old one) */
    gust_buf nb;
    gust_buf_init(&nb, c->cl->mem);
    rc = gust_buf_append(&nb, data.ptr, data.len);
    if (rc == 0)
      rc = gust_h1_feed(c->h1, nb.ptr, nb.len);
    gust_buf_free(&c->in);
    c->in = nb;
  }
  if (rc < 0) {
    fetch_fail(f, rc < 0 ? rc : GUST_ENOMEM, NULL);
    return;
  }
  fetch_ref(f);
  drive(c);
  fetch_unref(f);
}

/* A reused connection the server had closed before our request reached
 * it: the request goes again, once, on a new connection, when nothing of
 * a response arrived and sending it twice is harmless (an idempotent
 * method whose body we hold). Returns 1 when retried. */
static int maybe_retry(fetch *f) {
  if (!f->reused || f->got_byte || f->retried || f->producer != NULL ||
      !idempotent(f->method) || f->state != F_EXCHANGE || f->cl == NULL)
    return 0;
  if (f->c != NULL)
    conn_release(f, 0);
  f->retried = 1;
  hop_start(f);
  return 1;
}

/* ------------------------------------------------------------------ */
/* The client                                                           */
/* ------------------------------------------------------------------ */

int gust_http_client_new(gust_http_client **out, gust_loop *loop,
                         const gust_http_client_opts *opts,
                         const gust_mem *mem) {
  gust_http_client *cl;
  int rc;
  if (out != NULL)
    *out = NULL;
  if (out == NULL || loop == NULL)
    return GUST_EINVAL;
  mem = gust__mem(mem);
  cl = gust__calloc(mem, 1, sizeof(*cl));
  if (cl == NULL)
    return GUST_ENOMEM;
  cl->loop = loop;
  cl->mem = mem;
  if (opts != NULL)
    cl->opts = *opts;
  if (cl->opts.max_clients == 0)
    cl->opts.max_clients = DEFAULT_MAX_CLIENTS;
  if (cl->opts.max_idle_per_host == 0)
    cl->opts.max_idle_per_host = cl->opts.max_clients;
  if (!(cl->opts.idle_timeout > 0))
    cl->opts.idle_timeout = DEFAULT_IDLE_TIMEOUT;
  if (cl->opts.stream != NULL) {
    cl->stream_opts = *cl->opts.stream;
    cl->has_stream_opts = 1;
  }
  cl->opts.stream = NULL;
  rc = gust_tcp_client_new(&cl->tcp, loop, cl->opts.resolver, mem);
  if (rc < 0) {
    gust__free(mem, cl);
    return rc;
  }
  cl->opts.resolver = NULL;
  *out = cl;
  return 0;
}

void gust_http_client_free(gust_http_client *cl) {
  tls_entry *e;
  conn *c;
  if (cl == NULL)
    return;
  cl->freeing = 1;
  while (cl->qhead != NULL)
    fetch_fail(cl->qhead, GUST_ECLOSED, "Client closed");
  while (cl->running != NULL)
    fetch_fail(cl->running, GUST_ECLOSED, "Client closed");
  if (cl->queue_soon)
    gust_loop_cancel(cl->loop, cl->queue_timer);
  if (cl->idle_armed)
    gust_loop_cancel(cl->loop, cl->idle_timer);
  for (c = cl->conns; c != NULL; c = c->next) {
    conn_close(c);
  }
  /* connections finish closing on later iterations, without the client */
  while ((c = cl->conns) != NULL) {
    cl->conns = c->next;
    c->prev = c->next = NULL;
    c->cl = NULL;
  }
  gust_tcp_client_free(cl->tcp);
  while ((e = cl->tls_cache) != NULL) {
    cl->tls_cache = e->next;
    gust_tls_ctx_free(e->ctx);
    gust__free(cl->mem, e->ca);
    gust__free(cl->mem, e->cert);
    gust__free(cl->mem, e->key);
    gust__free(cl->mem, e);
  }
  if (cl->own_tls)
    gust_tls_ctx_free(cl->tls_default);
  gust__free(cl->mem, cl);
}

const char *gust_http_client_last_error(const gust_http_client *cl) {
  return cl != NULL ? cl->err : "";
}

void gust_http_client_stats_get(const gust_http_client *cl,
                                gust_http_client_stats *st) {
  if (st == NULL)
    return;
  memset(st, 0, sizeof(*st));
  if (cl == NULL)
    return;
  st->active = cl->nrunning + cl->nqueued;
  st->queued = cl->nqueued;
  st->connections = cl->nconns;
  st->idle = cl->nidle;
  st->connects = cl->connects;
  st->reuses = cl->reuses;
}

void gust_http_client_close_idle(gust_http_client *cl) {
  if (cl == NULL)
    return;
  while (cl->idle_head != NULL)
    conn_close(cl->idle_head);
}

static int copy_opt(fetch *f, char **dst, const char *src) {
  if (src == NULL)
    return 0;
  *dst = dup_str(f->mem, src);
  return *dst != NULL ? 0 : GUST_ENOMEM;
}

/* Checks and copies the request into a new fetch. */
static int fetch_make(gust_http_client *cl, const gust_fetch_request *r,
                      fetch **out) {
  fetch *f;
  const char *msg = NULL;
  gust_slice v;
  int rc;
  *out = NULL;
  if (r->url == NULL)
    return seterr(cl, GUST_EINVAL, "no URL");
  if (r->method != NULL &&
      !gust_header_name_valid(r->method, strlen(r->method)))
    return seterr(cl, GUST_EINVAL, "method is not a token");
  if (r->body != NULL && r->body_producer != NULL)
    return seterr(cl, GUST_EINVAL, "body and body_producer are exclusive");
  f = gust__calloc(cl->mem, 1, sizeof(*f));
  if (f == NULL)
    return GUST_ENOMEM;
  f->cl = cl;
  f->mem = cl->mem;
  f->loop = cl->loop;
  f->refs = 1;
  gust_headers_init(&f->headers, cl->mem);
  gust_buf_init(&f->body, cl->mem);
  rc = copy_opt(f, &f->url, r->url);
  rc |= copy_opt(f, &f->orig_url, r->url);
  rc |= copy_opt(f, &f->method, r->method != NULL ? r->method : "GET");
  rc |= copy_opt(f, &f->ca, r->ca_certs);
  rc |= copy_opt(f, &f->cert, r->client_cert);
  rc |= copy_opt(f, &f->key, r->client_key);
  rc |= copy_opt(f, &f->user, r->auth_username);
  rc |= copy_opt(f, &f->pass, r->auth_password);
  rc |= copy_opt(f, &f->agent, r->user_agent);
  rc |= copy_opt(f, &f->iface, r->network_interface);
  if (rc != 0) {
    fetch_unref(f);
    return GUST_ENOMEM;
  }
  if (r->headers != NULL) {
    /* (a gust_headers map only holds valid names and values) */
    if (gust_headers_get(r->headers, "Transfer-Encoding", &v) == 0) {
      fetch_unref(f);
      return seterr(cl, GUST_EINVAL, "Transfer-Encoding is set by the client");
    }
    if (gust_headers_copy(&f->headers, r->headers) < 0) {
      fetch_unref(f);
      return GUST_ENOMEM;
    }
  }
  if (r->body != NULL) {
    f->has_body = 1;
    if (r->body_len > 0 &&
        gust_buf_append(&f->body, r->body, r->body_len) < 0) {
      fetch_unref(f);
      return GUST_ENOMEM;
    }
  }
  f->producer = r->body_producer;
  if (!r->allow_nonstandard_methods) {
    int want = body_expected(f->method);
    int have = f->has_body || f->producer != NULL;
    if (want != have) {
      rc = seterr(cl, GUST_EINVAL,
                  "Body must %sbe None for method %s (unless "
                  "allow_nonstandard_methods is true)",
                  want ? "not " : "", f->method);
      fetch_unref(f);
      return rc;
    }
  }
  if (f->producer != NULL && !body_expected(f->method) &&
      gust_headers_get(&f->headers, "Content-Length", &v) != 0) {
    rc = seterr(cl, GUST_EINVAL,
                "a body_producer for %s needs a Content-Length header",
                f->method);
    fetch_unref(f);
    return rc;
  }
  f->header_cb = r->header_callback;
  f->stream_cb = r->streaming_callback;
  f->ud = r->user_data;
  f->connect_timeout = r->connect_timeout;
  f->request_timeout = r->request_timeout;
  f->follow_redirects = r->follow_redirects;
  f->max_redirects = r->max_redirects;
  f->decompress = r->decompress_response;
  f->validate_cert = r->validate_cert;
  f->ims = r->if_modified_since;
  f->allow_ipv6 = r->allow_ipv6;
  f->expect_100 = r->expect_100_continue;
  f->keep_head = r->keep_request_head;
  f->expect_100_timeout = r->expect_100_timeout > 0 ? r->expect_100_timeout : 0;
  f->max_header = r->max_header_size ? r->max_header_size : DEFAULT_MAX_HEADER;
  f->max_body = r->max_body_size ? r->max_body_size : DEFAULT_MAX_BODY;
  rc = parse_url(f, &msg);
  if (rc < 0) {
    if (rc != GUST_ENOMEM)
      rc = seterr(cl, GUST_EINVAL, "%s: %s", msg, r->url);
    fetch_unref(f);
    return rc;
  }
  if (f->user == NULL && (f->u.flags & GUST_URL_HAS_USERINFO)) {
    /* credentials in the URL, as Tornado takes them */
    gust_buf tmp;
    const uint8_t *p = f->u.userinfo.ptr;
    size_t len = f->u.userinfo.len, colon = 0;
    while (colon < len && p[colon] != ':')
      colon++;
    gust_buf_init(&tmp, f->mem);
    rc = gust_url_unescape(p, colon, 0, &tmp);
    rc |= gust_buf_append_byte(&tmp, 0);
    if (rc == 0)
      f->user = (char *)gust_buf_detach(&tmp, NULL);
    gust_buf_clear(&tmp);
    if (rc == 0 && colon < len) {
      rc = gust_url_unescape(p + colon + 1, len - colon - 1, 0, &tmp);
      rc |= gust_buf_append_byte(&tmp, 0);
      if (rc == 0)
        f->pass = (char *)gust_buf_detach(&tmp, NULL);
    }
    gust_buf_free(&tmp);
    if (rc != 0) {
      fetch_unref(f);
      return GUST_ENOMEM;
    }
  }
  f->orig_https = f->https;
  f->orig_port = f->port;
  f->orig_host = dup_str(f->mem, f->host);
  if (f->orig_host == NULL) {
    fetch_unref(f);
    return GUST_ENOMEM;
  }
  *out = f;
  return 0;
}

static int fetch_start(gust_http_client *cl, const gust_fetch_request *r,
                       int upgrade, gust_future **out) {
  fetch *f;
  int rc;
  if (out != NULL)
    *out = NULL;
  if (cl == NULL || r == NULL || out == NULL)
    return GUST_EINVAL;
  cl->err[0] = '\0';
  if (cl->freeing)
    return GUST_ESTATE;
  rc = fetch_make(cl, r, &f);
  if (rc < 0)
    return rc;
  if (upgrade) {
    f->upgrade = 1;
    f->follow_redirects = 0;
    f->decompress = 0;
  }
  f->t0 = gust_loop_now(cl->loop);
  f->resp = resp_new(f->mem);
  if (f->resp == NULL || gust_future_new(&f->fut, cl->loop, cl->mem) < 0) {
    fetch_unref(f);
    return GUST_ENOMEM;
  }
  f->resp->t.start = gust_loop_time(cl->loop);
  f->resp->request_url = dup_str(f->mem, f->orig_url);
  if (f->resp->request_url == NULL ||
      gust_future_add_done_callback(f->fut, on_fut_done, f) < 0) {
    gust_future_unref(f->fut);
    f->fut = NULL;
    fetch_unref(f);
    return GUST_ENOMEM;
  }
  /* the done callback owns f's first reference and one to the future */
  gust_future_ref(f->fut);
  *out = f->fut;
  f->state = F_QUEUED;
  list_push_back(&cl->qhead, &cl->qtail, f);
  cl->nqueued++;
  if (cl->nrunning >= cl->opts.max_clients &&
      timer_set(f, 0, first_deadline(f, f->t0)) < 0)
    fetch_fail(f, GUST_ENOMEM, NULL);
  fill_slots(cl);
  return 0;
}

int gust_http_client_fetch(gust_http_client *cl, const gust_fetch_request *r,
                           gust_future **out) {
  return fetch_start(cl, r, 0, out);
}

int gust__http_client_upgrade(gust_http_client *cl, const gust_fetch_request *r,
                              gust_future **out) {
  return fetch_start(cl, r, 1, out);
}

int gust__fetch_response_take_upgrade(gust_fetch_response *r,
                                      gust_iostream **stream, gust_buf *rest) {
  if (r == NULL || r->up_stream == NULL)
    return GUST_ESTATE;
  *stream = r->up_stream;
  r->up_stream = NULL;
  *rest = r->up_rest;
  gust_buf_init(&r->up_rest, r->mem);
  return 0;
}

int gust_http_client_fetch_url(gust_http_client *cl, const char *url,
                               gust_future **out) {
  gust_fetch_request r;
  gust_fetch_request_init(&r, url);
  return gust_http_client_fetch(cl, &r, out);
}
