/* Tornado's TCPClient: resolution through a replaceable resolver, happy
 * eyeballs over the resolved addresses (the second family after a delay or
 * as soon as the first fails), one deadline for the whole connect, source
 * address binding, and an optional TLS handshake before the stream is
 * handed out. */
#include "config.h"

#include <gust/tcp.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "async/future_int.h"
#include "async/loop_int.h"
#include "base/base_int.h"
#include "net/tcp_int.h"

/* Tornado's _INITIAL_CONNECT_TIMEOUT. */
#define FALLBACK_DELAY 0.3

/* ------------------------------------------------------------------ */
/* Addresses                                                            */
/* ------------------------------------------------------------------ */

int gust_addr_set(gust_addr *out, const char *ip, int port) {
  struct sockaddr_in *s4;
  struct sockaddr_in6 *s6;
  if (out == NULL || ip == NULL || port < 0 || port > 65535)
    return GUST_EINVAL;
  memset(out, 0, sizeof(*out));
  s4 = (struct sockaddr_in *)&out->ss;
  s6 = (struct sockaddr_in6 *)&out->ss;
  if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1) {
    s4->sin_family = AF_INET;
    s4->sin_port = htons((uint16_t)port);
    out->len = sizeof(*s4);
    return 0;
  }
  memset(out, 0, sizeof(*out));
  if (inet_pton(AF_INET6, ip, &s6->sin6_addr) == 1) {
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons((uint16_t)port);
    out->len = sizeof(*s6);
    return 0;
  }
  return GUST_EINVAL;
}

int gust_addr_family(const gust_addr *a) {
  if (a == NULL)
    return GUST_EINVAL;
  if (a->ss.ss_family == AF_INET && a->len >= sizeof(struct sockaddr_in))
    return 4;
  if (a->ss.ss_family == AF_INET6 && a->len >= sizeof(struct sockaddr_in6))
    return 6;
  return GUST_EINVAL;
}

int gust_addr_port(const gust_addr *a) {
  switch (gust_addr_family(a)) {
  case 4:
    return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
  case 6:
    return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
  default:
    return GUST_EINVAL;
  }
}

int gust_addr_format(const gust_addr *a, char *buf, size_t cap) {
  char tmp[INET6_ADDRSTRLEN];
  const char *r;
  size_t n;
  if (buf == NULL || cap == 0)
    return GUST_EINVAL;
  switch (gust_addr_family(a)) {
  case 4: {
    /* dotted quad by hand: the HTTP server formats every request's peer,
     * and inet_ntop goes through sprintf */
    const uint8_t *q =
        (const uint8_t *)&((const struct sockaddr_in *)&a->ss)->sin_addr;
    char *p = tmp;
    int k;
    for (k = 0; k < 4; k++) {
      if (k != 0)
        *p++ = '.';
      p += gust__u64_dec(p, q[k]);
    }
    *p = '\0';
    r = tmp;
    break;
  }
  case 6:
    r = inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&a->ss)->sin6_addr,
                  tmp, sizeof(tmp));
    break;
  default:
    return GUST_EINVAL;
  }
  if (r == NULL)
    return GUST_EINVAL;
  n = strlen(tmp);
  if (n >= cap)
    return GUST_EOVERFLOW;
  memcpy(buf, tmp, n + 1);
  return 0;
}

/* Makes the wildcard address of `family` (4 or 6) with `port`. */
static void addr_any(gust_addr *out, int family, int port) {
  memset(out, 0, sizeof(*out));
  if (family == 6) {
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&out->ss;
    s6->sin6_family = AF_INET6;
    s6->sin6_addr = in6addr_any;
    s6->sin6_port = htons((uint16_t)port);
    out->len = sizeof(*s6);
  } else {
    struct sockaddr_in *s4 = (struct sockaddr_in *)&out->ss;
    s4->sin_family = AF_INET;
    s4->sin_addr.s_addr = htonl(INADDR_ANY);
    s4->sin_port = htons((uint16_t)port);
    out->len = sizeof(*s4);
  }
}

/* ------------------------------------------------------------------ */
/* The default resolver                                                 */
/* ------------------------------------------------------------------ */

typedef struct gai_req {
  const gust_mem *mem;
  gust_resolve_done_fn done;
  void *token;
} gai_req;

static void gai_done(gust_loop *loop, int status, const struct addrinfo *res,
                     void *ud) {
  gai_req *r = ud;
  const struct addrinfo *ai;
  gust_addr *v = NULL;
  size_t n = 0, cap = 0, i;
  GUST__UNUSED(loop);
  for (ai = status == 0 ? res : NULL; ai != NULL; ai = ai->ai_next) {
    int dup = 0;
    if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
        ai->ai_addrlen > sizeof(struct sockaddr_storage))
      continue;
    /* getaddrinfo may list an address once per protocol. */
    for (i = 0; i < n; i++)
      if (v[i].len == ai->ai_addrlen &&
          memcmp(&v[i].ss, ai->ai_addr, ai->ai_addrlen) == 0)
        dup = 1;
    if (dup)
      continue;
    if (n == cap) {
      size_t ncap = cap ? cap * 2 : 4;
      gust_addr *nv = gust__realloc(r->mem, v, ncap * sizeof(*v));
      if (nv == NULL) {
        status = GUST_ENOMEM;
        break;
      }
      v = nv;
      cap = ncap;
    }
    memset(&v[n], 0, sizeof(v[n]));
    memcpy(&v[n].ss, ai->ai_addr, ai->ai_addrlen);
    v[n].len = ai->ai_addrlen;
    n++;
  }
  if (status == 0 && n == 0)
    status = GUST_ERESOLVE;
  r->done(r->token, status, status == 0 ? v : NULL, status == 0 ? n : 0);
  gust__free(r->mem, v);
  gust__free(r->mem, r);
}

static int gai_resolve(gust_loop *loop, const char *host, int port, int family,
                       gust_resolve_done_fn done, void *token, void *ud) {
  gai_req *r;
  char service[16];
  int rc;
  gust_addr a;
  GUST__UNUSED(ud);
  if (gust_addr_set(&a, host, port) == 0) {
    /* a numeric address needs no lookup (nor a trip to the thread pool) */
    if (family != 0 && family != gust_addr_family(&a))
      done(token, GUST_ERESOLVE, NULL, 0);
    else
      done(token, 0, &a, 1);
    return 0;
  }
  r = gust__malloc(loop->mem, sizeof(*r));
  if (r == NULL)
    return GUST_ENOMEM;
  r->mem = loop->mem;
  r->done = done;
  r->token = token;
  snprintf(service, sizeof(service), "%d", port);
  rc = gust_loop_getaddrinfo(loop, host, service, family, gai_done, r, NULL);
  if (rc < 0)
    gust__free(loop->mem, r);
  return rc;
}

static const gust_resolver default_resolver = {gai_resolve, NULL};

const gust_resolver *gust_resolver_default(void) { return &default_resolver; }

/* ------------------------------------------------------------------ */
/* The connect result held by the future                                */
/* ------------------------------------------------------------------ */

#define RESULT_MAGIC 0x74637072u /* "tcpr" */

typedef struct conn_result {
  uint32_t magic;
  const gust_mem *mem;
  gust_tcp *tcp;
  gust_iostream *stream;
  gust_addr peer;
} conn_result;

static void result_free(void *p) {
  conn_result *r = p;
  if (r->tcp != NULL)
    gust_tcp_close(r->tcp, NULL);
  if (r->stream != NULL)
    gust_iostream_unref(r->stream);
  r->magic = 0;
  gust__free(r->mem, r);
}

static conn_result *result_of(const gust_future *f) {
  conn_result *r;
  if (f == NULL || !gust_future_done(f) || gust_future_error(f) != 0)
    return NULL;
  r = gust_future_result(f);
  if (r == NULL || r->magic != RESULT_MAGIC)
    return NULL;
  return r;
}

gust_iostream *gust_tcp_client_take_stream(gust_future *f) {
  conn_result *r = result_of(f);
  gust_iostream *s;
  if (r == NULL)
    return NULL;
  s = r->stream;
  r->stream = NULL;
  return s;
}

gust_tcp *gust_tcp_client_take_tcp(gust_future *f) {
  conn_result *r = result_of(f);
  gust_tcp *t;
  if (r == NULL)
    return NULL;
  t = r->tcp;
  r->tcp = NULL;
  return t;
}

int gust_tcp_client_peer(const gust_future *f, gust_addr *out) {
  conn_result *r = result_of(f);
  if (r == NULL || out == NULL)
    return GUST_ESTATE;
  *out = r->peer;
  return 0;
}

/* ------------------------------------------------------------------ */
/* One connect: resolution, happy eyeballs, TLS                         */
/* ------------------------------------------------------------------ */

typedef struct hconn hconn;

typedef struct attempt {
  hconn *hc;
  gust_tcp *tcp;
  gust_addr addr;
  int secondary;
  struct attempt *prev, *next;
} attempt;

struct hconn {
  gust_loop *loop;
  const gust_mem *mem;
  int refs;
  gust_future *future;
  int finished;

  gust_addr *addrs[2]; /* primary family, then every other address */
  size_t n[2], next[2];
  size_t remaining; /* addresses not yet tried or still connecting */
  int last_error;
  int secondary_started;
  gust_timer fallback_timer, deadline_timer;
  attempt *attempts; /* connects in flight */

  int have_src_ip;
  gust_addr src_ip;
  int src_port;
  double fallback;

  int want_stream;
  gust_tls_ctx *tls;
  char *server_hostname;
  int have_sopts;
  gust_iostream_opts sopts;
  gust_iostream *handshaking; /* the TLS stream until its handshake ends */
  gust_addr peer;
};

struct gust_tcp_client {
  gust_loop *loop;
  const gust_mem *mem;
  gust_resolver resolver;
};

static void hc_unref(hconn *hc) {
  if (--hc->refs > 0)
    return;
  gust__free(hc->mem, hc->addrs[0]);
  gust__free(hc->mem, hc->addrs[1]);
  gust__free(hc->mem, hc->server_hostname);
  gust_future_unref(hc->future);
  gust__free(hc->mem, hc);
}

/* Closes every connect still in flight; their callbacks run later with
 * GUST_ECANCELLED and find the connect finished. */
static void close_attempts(hconn *hc) {
  attempt *a;
  for (a = hc->attempts; a != NULL; a = a->next)
    gust_tcp_close(a->tcp, NULL);
}

static void cancel_timers(hconn *hc) {
  gust_loop_cancel(hc->loop, hc->fallback_timer);
  gust_loop_cancel(hc->loop, hc->deadline_timer);
  hc->fallback_timer = hc->deadline_timer = (gust_timer){NULL, 0};
}

/* Ends the connect with an error; drops the reference of the running
 * connect. */
static void hc_fail(hconn *hc, int code, const char *msg) {
  if (hc->finished)
    return;
  hc->finished = 1;
  cancel_timers(hc);
  close_attempts(hc);
  if (hc->handshaking != NULL) {
    gust_iostream_unref(hc->handshaking);
    hc->handshaking = NULL;
  }
  /* Without memory for the message the code alone still gets through. */
  if (gust_future_set_error(hc->future, code, msg) == GUST_ENOMEM)
    gust_future_set_error(hc->future, code, NULL);
  hc_unref(hc);
}

/* Ends the connect with `tcp` or `stream` (one of them). */
static void hc_succeed(hconn *hc, gust_tcp *tcp, gust_iostream *stream) {
  conn_result *r = gust__calloc(hc->mem, 1, sizeof(*r));
  if (r == NULL) {
    if (tcp != NULL)
      gust_tcp_close(tcp, NULL);
    if (stream != NULL)
      gust_iostream_unref(stream);
    hc_fail(hc, GUST_ENOMEM, NULL);
    return;
  }
  r->magic = RESULT_MAGIC;
  r->mem = hc->mem;
  r->tcp = tcp;
  r->stream = stream;
  r->peer = hc->peer;
  hc->finished = 1;
  cancel_timers(hc);
  if (gust_future_set_result(hc->future, r, result_free) < 0) {
    result_free(r);
    gust_future_set_error(hc->future, GUST_ENOMEM, NULL);
  }
  hc_unref(hc);
}

/* The application cancelled the future: the connect stops here (attempts
 * closed, timers cancelled, a TLS handshake dropped). Runs inline when the
 * future completes; after our own result or error it finds us finished. */
static void on_future_done(gust_future *f, void *ud) {
  hconn *hc = ud;
  if (hc->finished || !gust_future_cancelled(f))
    return;
  hc->finished = 1;
  cancel_timers(hc);
  close_attempts(hc);
  if (hc->handshaking != NULL) {
    gust_iostream_unref(hc->handshaking);
    hc->handshaking = NULL;
  }
  hc_unref(hc); /* the running connect's reference */
}

static void on_handshake(gust_future *f, void *ud) {
  hconn *hc = ud;
  gust_iostream *s = hc->handshaking;
  if (!hc->finished && s != NULL) {
    hc->handshaking = NULL;
    if (gust_future_error(f) < 0) {
      gust_iostream_unref(s);
      hc_fail(hc, gust_future_error(f), gust_future_error_message(f));
    } else {
      hc_succeed(hc, NULL, s);
    }
  }
  hc_unref(hc); /* the callback's reference */
}

/* The winning connection: hand it out, wrapped as asked. */
static void hc_won(hconn *hc, gust_tcp *tcp, const gust_addr *addr) {
  const gust_iostream_opts *so = hc->have_sopts ? &hc->sopts : NULL;
  gust_iostream *s = NULL;
  gust_future *hs = NULL;
  int rc;
  hc->peer = *addr;
  gust_loop_cancel(hc->loop, hc->fallback_timer);
  hc->fallback_timer = (gust_timer){NULL, 0};
  close_attempts(hc);
  if (!hc->want_stream) {
    hc_succeed(hc, tcp, NULL);
    return;
  }
  if (hc->tls == NULL) {
    rc = gust_iostream_new(&s, tcp, so, hc->mem);
    if (rc < 0) {
      gust_tcp_close(tcp, NULL);
      hc_fail(hc, rc, NULL);
      return;
    }
    hc_succeed(hc, NULL, s);
    return;
  }
  rc =
      gust_iostream_new_tls(&s, tcp, hc->tls, hc->server_hostname, so, hc->mem);
  if (rc < 0) {
    gust_tcp_close(tcp, NULL);
    hc_fail(hc, rc, NULL);
    return;
  }
  rc = gust_iostream_wait_for_handshake(s, &hs);
  if (rc == 0) {
    hc->refs++;
    rc = gust_future_add_done_callback(hs, on_handshake, hc);
    if (rc < 0)
      hc->refs--;
    gust_future_unref(hs);
  }
  if (rc < 0) {
    gust_iostream_unref(s);
    hc_fail(hc, rc, NULL);
    return;
  }
  /* The deadline still runs: a hanging handshake times out too. */
  hc->handshaking = s;
}

static void try_next(hconn *hc, int secondary);

static void start_secondary(hconn *hc) {
  if (hc->secondary_started || hc->finished)
    return;
  hc->secondary_started = 1;
  gust_loop_cancel(hc->loop, hc->fallback_timer);
  hc->fallback_timer = (gust_timer){NULL, 0};
  try_next(hc, 1);
}

/* One address failed (or could not even be tried): go on with the next of
 * its family and stop waiting for the other family. */
static void attempt_failed(hconn *hc, int secondary, int err) {
  hc->remaining--;
  hc->last_error = err;
  try_next(hc, secondary);
  start_secondary(hc);
}

static void on_connect(gust_tcp *tcp, int status) {
  attempt *a = gust_tcp_data(tcp);
  hconn *hc = a->hc;
  if (a->prev != NULL)
    a->prev->next = a->next;
  else
    hc->attempts = a->next;
  if (a->next != NULL)
    a->next->prev = a->prev;
  if (hc->finished) {
    gust_tcp_close(tcp, NULL); /* a late arrival, or a cancelled loser */
  } else if (status < 0) {
    gust_tcp_close(tcp, NULL);
    attempt_failed(hc, a->secondary, status);
  } else {
    hc->remaining--;
    hc_won(hc, tcp, &a->addr);
  }
  gust__free(hc->mem, a);
  hc_unref(hc);
}

/* Starts a connect to the next address of one family; when that family
 * has none left and nothing is in flight, the connect fails with the last
 * error. */
static void try_next(hconn *hc, int secondary) {
  int s = secondary ? 1 : 0;
  const gust_addr *dst;
  attempt *a;
  int rc;
  if (hc->finished)
    return;
  if (hc->next[s] >= hc->n[s]) {
    if (hc->remaining == 0)
      hc_fail(hc, hc->last_error < 0 ? hc->last_error : GUST_ECONNREFUSED,
              NULL);
    return;
  }
  dst = &hc->addrs[s][hc->next[s]++];
  a = gust__calloc(hc->mem, 1, sizeof(*a));
  if (a == NULL) {
    attempt_failed(hc, secondary, GUST_ENOMEM);
    return;
  }
  a->hc = hc;
  a->addr = *dst;
  a->secondary = s;
  if (hc->have_src_ip || hc->src_port > 0) {
    gust_addr src;
    if (hc->have_src_ip) {
      src = hc->src_ip;
      if (src.ss.ss_family == AF_INET)
        ((struct sockaddr_in *)&src.ss)->sin_port =
            htons((uint16_t)hc->src_port);
      else
        ((struct sockaddr_in6 *)&src.ss)->sin6_port =
            htons((uint16_t)hc->src_port);
    } else {
      addr_any(&src, gust_addr_family(dst), hc->src_port);
    }
    rc = gust__tcp_connect_from(hc->loop, dst, &src, on_connect, a, &a->tcp);
  } else {
    rc = gust_tcp_connect_addr(hc->loop, &dst->ss, dst->len, 0, on_connect, a,
                               &a->tcp);
  }
  if (rc < 0) {
    gust__free(hc->mem, a);
    attempt_failed(hc, secondary, rc);
    return;
  }
  hc->refs++;
  a->next = hc->attempts;
  if (hc->attempts != NULL)
    hc->attempts->prev = a;
  hc->attempts = a;
}

static void on_fallback(gust_loop *loop, void *ud) {
  hconn *hc = ud;
  GUST__UNUSED(loop);
  hc->fallback_timer = (gust_timer){NULL, 0};
  start_secondary(hc);
}

static void on_deadline(gust_loop *loop, void *ud) {
  hconn *hc = ud;
  GUST__UNUSED(loop);
  hc->deadline_timer = (gust_timer){NULL, 0};
  hc_fail(hc, GUST_ETIMEDOUT, "Timeout");
}

/* Resolution finished: split the addresses by family and start. */
static void on_resolved(void *token, int status, const gust_addr *addrs,
                        size_t n) {
  hconn *hc = token;
  size_t i, k[2] = {0, 0};
  int fam0;
  if (hc->finished) {
    hc_unref(hc);
    return;
  }
  if (status == 0 && n == 0)
    status = GUST_ERESOLVE;
  if (status < 0) {
    hc_fail(hc, status, NULL);
    hc_unref(hc);
    return;
  }
  hc->addrs[0] = gust__calloc(hc->mem, n, sizeof(gust_addr));
  hc->addrs[1] = gust__calloc(hc->mem, n, sizeof(gust_addr));
  if (hc->addrs[0] == NULL || hc->addrs[1] == NULL) {
    hc_fail(hc, GUST_ENOMEM, NULL);
    hc_unref(hc);
    return;
  }
  fam0 = addrs[0].ss.ss_family;
  for (i = 0; i < n; i++) {
    int s = addrs[i].ss.ss_family == fam0 ? 0 : 1;
    hc->addrs[s][k[s]++] = addrs[i];
  }
  hc->n[0] = k[0];
  hc->n[1] = k[1];
  hc->remaining = n;
  if (gust_loop_call_later(hc->loop, hc->fallback, on_fallback, hc,
                           &hc->fallback_timer) < 0) {
    hc_fail(hc, GUST_ENOMEM, NULL);
    hc_unref(hc);
    return;
  }
  try_next(hc, 0);
  hc_unref(hc); /* the resolver's reference */
}

int gust_tcp_client_new(gust_tcp_client **out, gust_loop *loop,
                        const gust_resolver *resolver, const gust_mem *mem) {
  gust_tcp_client *c;
  if (out == NULL)
    return GUST_EINVAL;
  *out = NULL;
  if (loop == NULL || (resolver != NULL && resolver->resolve == NULL))
    return GUST_EINVAL;
  mem = gust__mem(mem);
  c = gust__calloc(mem, 1, sizeof(*c));
  if (c == NULL)
    return GUST_ENOMEM;
  c->loop = loop;
  c->mem = mem;
  c->resolver = resolver != NULL ? *resolver : default_resolver;
  *out = c;
  return 0;
}

void gust_tcp_client_free(gust_tcp_client *c) {
  if (c != NULL)
    gust__free(c->mem, c);
}

static int start_connect(gust_tcp_client *c, const char *host, int port,
                         const gust_tcp_connect_opts *opts, int want_stream,
                         gust_future **out) {
  gust_tcp_connect_opts none;
  hconn *hc;
  int rc;
  if (out != NULL)
    *out = NULL;
  if (opts == NULL) {
    memset(&none, 0, sizeof(none));
    opts = &none;
  }
  if (c == NULL || host == NULL || out == NULL || port <= 0 || port > 65535 ||
      (opts->family != 0 && opts->family != 4 && opts->family != 6) ||
      opts->source_port < 0 || opts->source_port > 65535 ||
      (!want_stream && (opts->tls != NULL || opts->stream != NULL)))
    return GUST_EINVAL;
  hc = gust__calloc(c->mem, 1, sizeof(*hc));
  if (hc == NULL)
    return GUST_ENOMEM;
  hc->loop = c->loop;
  hc->mem = c->mem;
  hc->refs = 1; /* the running connect, dropped when it ends */
  hc->want_stream = want_stream;
  hc->fallback =
      opts->fallback_delay > 0 ? opts->fallback_delay : FALLBACK_DELAY;
  hc->src_port = opts->source_port;
  if (opts->source_ip != NULL) {
    if (gust_addr_set(&hc->src_ip, opts->source_ip, 0) < 0) {
      gust__free(c->mem, hc);
      return GUST_EINVAL;
    }
    hc->have_src_ip = 1;
  }
  if (opts->stream != NULL) {
    hc->sopts = *opts->stream;
    hc->have_sopts = 1;
  }
  hc->tls = opts->tls;
  if (hc->tls != NULL) {
    const char *name =
        opts->server_hostname != NULL ? opts->server_hostname : host;
    hc->server_hostname = gust__strndup(c->mem, name, strlen(name));
    if (hc->server_hostname == NULL) {
      gust__free(c->mem, hc);
      return GUST_ENOMEM;
    }
  }
  rc = gust_future_new(&hc->future, c->loop, c->mem);
  if (rc == 0)
    rc = gust__future_on_done(hc->future, on_future_done, hc, NULL);
  if (rc < 0) {
    hc_unref(hc);
    return rc;
  }
  if (opts->timeout > 0) {
    rc = gust_loop_call_later(c->loop, opts->timeout, on_deadline, hc,
                              &hc->deadline_timer);
    if (rc < 0) {
      hc_unref(hc);
      return rc;
    }
  }
  *out = gust_future_ref(hc->future);
  hc->refs++; /* the resolver's, dropped in on_resolved */
  rc = c->resolver.resolve(c->loop, host, port, opts->family, on_resolved, hc,
                           c->resolver.user_data);
  if (rc < 0) {
    hc->refs--;
    hc_fail(hc, rc, NULL);
  }
  return 0;
}

int gust_tcp_client_connect(gust_tcp_client *c, const char *host, int port,
                            const gust_tcp_connect_opts *opts,
                            gust_future **out) {
  return start_connect(c, host, port, opts, 1, out);
}

int gust_tcp_client_connect_tcp(gust_tcp_client *c, const char *host, int port,
                                const gust_tcp_connect_opts *opts,
                                gust_future **out) {
  return start_connect(c, host, port, opts, 0, out);
}
