/* TCPClient on whichever loop and TLS backends the build selected:
 * resolution (default and injected resolvers), IPv4 and IPv6 loopback,
 * happy eyeballs against a first address that never answers, fallback as
 * soon as the first family fails, connect timeout, refusal on every
 * address, source address and port, streams and TLS with server_hostname. */
#include "config.h"

#include <gust/testing.h>

#include "tcp_common.h"
#include "../proto/tls_common.h"

static gust_loop *L;

/* A plain loop listener that records accepted peers and closes them. */
typedef struct acceptor {
  gust_tcp *ls[4];
  size_t n;
  int port;
  int accepted;
  int last_peer_port;
} acceptor;

static void acc_cb(gust_tcp *server, gust_tcp *conn, int status) {
  acceptor *a = gust_tcp_data(server);
  struct sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  if (status < 0 || conn == NULL)
    return;
  a->accepted++;
  if (getpeername(gust_tcp_fd(conn), (struct sockaddr *)&ss, &len) == 0) {
    gust_addr p;
    memset(&p, 0, sizeof(p));
    memcpy(&p.ss, &ss, len);
    p.len = len;
    a->last_peer_port = gust_addr_port(&p);
  }
  gust_tcp_close(conn, NULL);
}

static void acc_open(acceptor *a, const char *host, int family) {
  gust_tcp_listen_opts o;
  memset(a, 0, sizeof(*a));
  memset(&o, 0, sizeof(o));
  o.family = family;
  if (gust_tcp_listen(L, host, 0, &o, acc_cb, a, a->ls, 4, &a->n) != 0)
    bail_out("cannot listen on %s", host != NULL ? host : "*");
  a->port = gust_tcp_local_port(a->ls[0]);
}

static void acc_close(acceptor *a) {
  size_t i;
  for (i = 0; i < a->n; i++)
    gust_tcp_close(a->ls[i], NULL);
  a->n = 0;
}

/* Connects without a stream; returns the done future (caller unrefs). */
static gust_future *raw_connect(gust_tcp_client *c, const char *host, int port,
                                const gust_tcp_connect_opts *o) {
  gust_future *f = NULL;
  int rc = gust_tcp_client_connect_tcp(c, host, port, o, &f);
  if (rc != 0 || f == NULL)
    bail_out("connect_tcp refused synchronously: %s", gust_errname(rc));
  t_run_future(f);
  return f;
}

static void test_loopback(void) {
  gust_tcp_client *c;
  acceptor a4, a6;
  gust_future *f;
  gust_tcp *t;
  gust_addr peer;
  char ip[64];
  int v6 = t_have_ipv6();

  if (gust_tcp_client_new(&c, L, NULL, NULL) != 0)
    bail_out("client");
  acc_open(&a4, "127.0.0.1", 4);
  f = raw_connect(c, "127.0.0.1", a4.port, NULL);
  is_int(gust_future_error(f), 0, "ipv4: connect to 127.0.0.1 succeeds");
  t = gust_tcp_client_take_tcp(f);
  ok(t != NULL, "ipv4: the connected handle can be taken");
  ok(gust_tcp_client_take_tcp(f) == NULL, "ipv4: it can be taken only once");
  ok(t != NULL && gust_tcp_family(t) == 4, "ipv4: the handle is IPv4");
  is_int(gust_tcp_client_peer(f, &peer), 0, "ipv4: the peer is known");
  gust_addr_format(&peer, ip, sizeof(ip));
  is_str(ip, "127.0.0.1", "ipv4: peer address");
  is_int(gust_addr_port(&peer), a4.port, "ipv4: peer port");
  if (t != NULL)
    gust_tcp_close(t, NULL);
  gust_future_unref(f);

  /* Not taken: freeing the future closes the connection. */
  f = raw_connect(c, "127.0.0.1", a4.port, NULL);
  is_int(gust_future_error(f), 0, "ipv4: a second connect succeeds");
  gust_future_unref(f);
  t_run_for(L, 0.05);
  ok(a4.accepted >= 1, "ipv4: the server saw the connections (%d)",
     a4.accepted);

  if (v6) {
    acc_open(&a6, "::1", 6);
    f = raw_connect(c, "::1", a6.port, NULL);
    is_int(gust_future_error(f), 0, "ipv6: connect to ::1 succeeds");
    t = gust_tcp_client_take_tcp(f);
    ok(t != NULL && gust_tcp_family(t) == 6, "ipv6: the handle is IPv6");
    gust_tcp_client_peer(f, &peer);
    gust_addr_format(&peer, ip, sizeof(ip));
    is_str(ip, "::1", "ipv6: peer address");
    if (t != NULL)
      gust_tcp_close(t, NULL);
    gust_future_unref(f);
    acc_close(&a6);
  } else {
    skip(3, "no IPv6 loopback on this host");
  }

  /* The default resolver with a name, and the family restriction. */
  {
    gust_tcp_connect_opts o;
    memset(&o, 0, sizeof(o));
    o.family = 4;
    f = raw_connect(c, "localhost", a4.port, &o);
    is_int(gust_future_error(f), 0, "resolver: localhost (IPv4) connects");
    gust_tcp_client_peer(f, &peer);
    is_int(gust_addr_family(&peer), 4, "resolver: family 4 honoured");
    gust_future_unref(f);
  }
  f = raw_connect(c, "no-such-host.invalid", a4.port, NULL);
  is_int(gust_future_error(f), GUST_ERESOLVE,
         "resolver: an unknown name fails with GUST_ERESOLVE");
  ok(gust_tcp_client_take_tcp(f) == NULL, "resolver: nothing to take");
  gust_future_unref(f);

  acc_close(&a4);
  gust_tcp_client_free(c);
}

/* Arguments refused synchronously. */
/* gust_addr_format() round-trips addresses, IPv4 by hand, IPv6 by
 * inet_ntop. */
static void test_addr_format(void) {
  static const char *const ips[] = {"0.0.0.0",       "255.255.255.255",
                                    "10.0.0.1",      "192.168.100.7",
                                    "1.20.255.9",    "::1",
                                    "2001:db8::8:1", "::ffff:10.1.2.3"};
  char buf[64];
  gust_addr a;
  size_t i;
  for (i = 0; i < sizeof(ips) / sizeof(ips[0]); i++) {
    gust_addr_set(&a, ips[i], 80);
    ok(gust_addr_format(&a, buf, sizeof(buf)) == 0 && strcmp(buf, ips[i]) == 0,
       "addr_format: %s (got %s)", ips[i], buf);
  }
  gust_addr_set(&a, "255.255.255.255", 80);
  is_int(gust_addr_format(&a, buf, 15), GUST_EOVERFLOW,
         "addr_format: no room for the NUL is GUST_EOVERFLOW");
  is_int(gust_addr_format(&a, buf, 16), 0, "addr_format: exactly enough room");
}

typedef struct numeric_res {
  int calls, status;
  size_t n;
  gust_addr first;
} numeric_res;

static void numeric_done(void *token, int status, const gust_addr *addrs,
                         size_t n) {
  numeric_res *r = token;
  r->calls++;
  r->status = status;
  r->n = n;
  if (n > 0)
    r->first = addrs[0];
}

/* The default resolver answers numeric addresses inside the call. */
static void test_numeric_resolve(void) {
  const gust_resolver *d = gust_resolver_default();
  numeric_res r;
  char ip[64];
  memset(&r, 0, sizeof(r));
  is_int(d->resolve(L, "127.0.0.1", 80, 0, numeric_done, &r, d->user_data), 0,
         "numeric: resolve 127.0.0.1");
  is_int(r.calls, 1, "numeric: answered inside the call");
  is_int(r.n, 1, "numeric: one address");
  gust_addr_format(&r.first, ip, sizeof(ip));
  ok(strcmp(ip, "127.0.0.1") == 0 && gust_addr_port(&r.first) == 80,
     "numeric: the address and port (%s)", ip);
  memset(&r, 0, sizeof(r));
  is_int(d->resolve(L, "::1", 443, 6, numeric_done, &r, d->user_data), 0,
         "numeric: resolve ::1 for IPv6");
  ok(r.calls == 1 && r.status == 0 && gust_addr_family(&r.first) == 6,
     "numeric: an IPv6 literal");
  memset(&r, 0, sizeof(r));
  is_int(d->resolve(L, "::1", 443, 4, numeric_done, &r, d->user_data), 0,
         "numeric: ::1 asked as IPv4");
  ok(r.calls == 1 && r.status == GUST_ERESOLVE && r.n == 0,
     "numeric: wrong family is GUST_ERESOLVE");
}

static void test_args(void) {
  gust_tcp_client *c;
  gust_tcp_connect_opts o;
  gust_future *f = NULL;
  gust_resolver bad = {NULL, NULL};
  gust_tls_ctx *ctx = NULL;
  is_int(gust_tcp_client_new(&c, NULL, NULL, NULL), GUST_EINVAL,
         "args: a client needs a loop");
  is_int(gust_tcp_client_new(&c, L, &bad, NULL), GUST_EINVAL,
         "args: a resolver needs a function");
  gust_tcp_client_new(&c, L, NULL, NULL);
  is_int(gust_tcp_client_connect_tcp(c, "127.0.0.1", 0, NULL, &f), GUST_EINVAL,
         "args: port 0 refused");
  is_int(gust_tcp_client_connect_tcp(c, NULL, 80, NULL, &f), GUST_EINVAL,
         "args: no host refused");
  memset(&o, 0, sizeof(o));
  o.family = 5;
  is_int(gust_tcp_client_connect_tcp(c, "127.0.0.1", 80, &o, &f), GUST_EINVAL,
         "args: family 5 refused");
  memset(&o, 0, sizeof(o));
  o.source_ip = "not-an-ip";
  is_int(gust_tcp_client_connect_tcp(c, "127.0.0.1", 80, &o, &f), GUST_EINVAL,
         "args: a source address must be numeric");
  memset(&o, 0, sizeof(o));
  gust_tls_ctx_new(GUST_TLS_CLIENT, NULL, &ctx);
  o.tls = ctx;
  is_int(gust_tcp_client_connect_tcp(c, "127.0.0.1", 80, &o, &f), GUST_EINVAL,
         "args: TLS needs a stream connect");
  ok(f == NULL, "args: no future after a refusal");
  gust_tls_ctx_free(ctx);
  gust_tcp_client_free(c);
  gust_tcp_client_free(NULL);
}

/* Happy eyeballs: the first address (IPv4) never answers, the IPv6 one
 * does. The IPv6 attempt starts after the fallback delay and wins; the
 * hanging attempt is abandoned. */
typedef struct probe {
  int port;
  int syn_sent; /* SYN_SENT sockets seen while the connect was pending */
} probe;

static void probe_cb(gust_loop *loop, void *ud) {
  probe *p = ud;
  (void)loop;
  p->syn_sent = t_syn_sent_to(p->port);
}

static void test_happy_eyeballs(void) {
  gust_tcp_client *c;
  fixed_list fl;
  gust_resolver r;
  hang_listener h;
  acceptor a6, a4;
  gust_future *f;
  gust_addr peer;
  probe p;
  double t0, dt;
  int port4;

  if (!t_have_ipv6()) {
    skip(8, "no IPv6 loopback on this host");
    return;
  }
  if (hang_open(&h) != 0) {
    ok(0, "happy eyeballs: a listener that drops SYNs could be built "
          "(listen(fd, 0) with a full accept queue)");
    hang_close(&h);
    return;
  }
  acc_open(&a6, "::1", 6);
  memset(&fl, 0, sizeof(fl));
  fixed_add(&fl, "127.0.0.1", h.port);
  fixed_add(&fl, "::1", a6.port);
  r.resolve = fixed_resolve;
  r.user_data = &fl;
  gust_tcp_client_new(&c, L, &r, NULL);

  p.port = h.port;
  p.syn_sent = -1;
  gust_loop_call_later(L, 0.15, probe_cb, &p, NULL);
  t0 = gust_loop_now(L);
  f = raw_connect(c, "dual.example", 4242, NULL);
  dt = gust_loop_now(L) - t0;
  is_int(fl.calls, 1, "happy eyeballs: the injected resolver was asked");
  is_str(fl.host, "dual.example", "happy eyeballs: with the host name");
  is_int(gust_future_error(f), 0, "happy eyeballs: the connect succeeds");
  gust_tcp_client_peer(f, &peer);
  is_int(gust_addr_family(&peer), 6,
         "happy eyeballs: the second family (IPv6) connected");
  ok(dt >= 0.28 && dt < 10.0,
     "happy eyeballs: after the 0.3 s fallback delay (%.3f s)", dt);
  is_int(p.syn_sent, 1,
         "happy eyeballs: the first attempt was hanging in SYN_SENT");
  gust_future_unref(f);
  t_run_for(L, 0.05);
  is_int(t_syn_sent_to(h.port), 0,
         "happy eyeballs: the hanging attempt was abandoned (closed)");

  /* The first family fails at once: the second starts without waiting for
   * the (here long) fallback delay. */
  {
    gust_tcp_connect_opts o;
    memset(&fl, 0, sizeof(fl));
    acc_open(&a4, "127.0.0.1", 4);
    port4 = a4.port;
    fixed_add(&fl, "::1", t_closed_port("::1"));
    fixed_add(&fl, "127.0.0.1", port4);
    memset(&o, 0, sizeof(o));
    o.fallback_delay = 20.0;
    t0 = gust_loop_now(L);
    f = raw_connect(c, "dual.example", 4242, &o);
    dt = gust_loop_now(L) - t0;
    gust_tcp_client_peer(f, &peer);
    ok(gust_future_error(f) == 0 && gust_addr_family(&peer) == 4 && dt < 10.0,
       "happy eyeballs: a refused first family falls back at once "
       "(%.3f s, fallback delay 20 s)",
       dt);
    gust_future_unref(f);
    acc_close(&a4);
  }

  acc_close(&a6);
  hang_close(&h);
  gust_tcp_client_free(c);
}

static void test_timeout_and_refusal(void) {
  gust_tcp_client *c;
  gust_tcp_connect_opts o;
  fixed_list fl;
  gust_resolver r;
  hang_listener h;
  gust_future *f;
  double t0, dt;
  int v6 = t_have_ipv6();

  r.resolve = fixed_resolve;
  r.user_data = &fl;
  gust_tcp_client_new(&c, L, &r, NULL);

  if (hang_open(&h) != 0) {
    ok(0, "timeout: a listener that drops SYNs could be built");
  } else {
    memset(&fl, 0, sizeof(fl));
    fixed_add(&fl, "127.0.0.1", h.port);
    memset(&o, 0, sizeof(o));
    o.timeout = 0.5;
    t0 = gust_loop_now(L);
    f = raw_connect(c, "hang.example", 1, &o);
    dt = gust_loop_now(L) - t0;
    is_int(gust_future_error(f), GUST_ETIMEDOUT,
           "timeout: a connect that never answers times out");
    is_str(gust_future_error_message(f), "Timeout", "timeout: message");
    ok(dt >= 0.45 && dt < 10.0, "timeout: after the relative 0.5 s (%.3f s)",
       dt);
    gust_future_unref(f);
    t_run_for(L, 0.05);
    is_int(t_syn_sent_to(h.port), 0,
           "timeout: the attempt was closed after the timeout");
    /* cancelling the future stops the connect at once */
    o.timeout = 30;
    if (gust_tcp_client_connect(c, "hang.example", 1, &o, &f) != 0)
      bail_out("connect");
    t_run_for(L, 0.05);
    ok(t_syn_sent_to(h.port) >= 1 || t_syn_sent_to(h.port) < 0,
       "cancel: the attempt is under way");
    ok(gust_future_cancel(f) == 1, "cancel: the future is cancelled");
    t_run_for(L, 0.05);
    is_int(t_syn_sent_to(h.port), 0,
           "cancel: the attempt was closed at once, not after 30 s");
    gust_future_unref(f);
  }
  hang_close(&h);

  /* Refused on every address, of both families. */
  memset(&fl, 0, sizeof(fl));
  fixed_add(&fl, "127.0.0.1", t_closed_port("127.0.0.1"));
  fixed_add(&fl, "127.0.0.1", t_closed_port("127.0.0.1"));
  if (v6)
    fixed_add(&fl, "::1", t_closed_port("::1"));
  f = raw_connect(c, "refused.example", 1, NULL);
  is_int(gust_future_error(f), GUST_ECONNREFUSED,
         "refused: every address refused gives GUST_ECONNREFUSED");
  gust_future_unref(f);

  /* The resolver reports a failure, or an empty list. */
  memset(&fl, 0, sizeof(fl));
  fl.status = GUST_ERESOLVE;
  f = raw_connect(c, "fail.example", 1, NULL);
  is_int(gust_future_error(f), GUST_ERESOLVE,
         "resolver: its failure is the connect's failure");
  gust_future_unref(f);
  memset(&fl, 0, sizeof(fl));
  f = raw_connect(c, "empty.example", 1, NULL);
  is_int(gust_future_error(f), GUST_ERESOLVE,
         "resolver: an empty list is a resolution failure");
  gust_future_unref(f);
  memset(&o, 0, sizeof(o));
  o.family = 6;
  f = raw_connect(c, "empty.example", 1, &o);
  is_int(fl.family, 6, "resolver: is asked for the requested family");
  is_int(gust_future_error(f), GUST_ERESOLVE,
         "resolver: ... and its empty list fails the connect");
  gust_future_unref(f);
  gust_tcp_client_free(c);
}

static void test_source(void) {
  gust_tcp_client *c;
  gust_tcp_connect_opts o;
  acceptor a4;
  gust_future *f;
  gust_addr peer;
  int sport = t_closed_port("127.0.0.1");

  gust_tcp_client_new(&c, L, NULL, NULL);
  acc_open(&a4, "127.0.0.1", 4);
  memset(&o, 0, sizeof(o));
  o.source_ip = "127.0.0.1";
  o.source_port = sport;
  f = raw_connect(c, "127.0.0.1", a4.port, &o);
  is_int(gust_future_error(f), 0, "source: bound connect succeeds");
  gust_future_unref(f);
  t_run_for(L, 0.05);
  is_int(a4.last_peer_port, sport, "source: the server sees the source port");

  memset(&o, 0, sizeof(o));
  o.source_port = t_closed_port("127.0.0.1");
  f = raw_connect(c, "127.0.0.1", a4.port, &o);
  is_int(gust_future_error(f), 0, "source: a port alone is bound too");
  gust_future_unref(f);
  t_run_for(L, 0.05);
  is_int(a4.last_peer_port, o.source_port,
         "source: the server sees the port given alone");

  memset(&o, 0, sizeof(o));
  o.source_ip = "::1";
  f = raw_connect(c, "127.0.0.1", a4.port, &o);
  gust_tcp_client_peer(f, &peer);
  is_int(gust_future_error(f), GUST_EINVAL,
         "source: a source of the other family cannot connect");
  gust_future_unref(f);
  acc_close(&a4);
  gust_tcp_client_free(c);
}

/* ------------------------------------------------------------------ */
/* Streams and TLS                                                      */
/* ------------------------------------------------------------------ */

typedef struct echo_conn {
  gust_iostream *s;
  gust_future *rd;
} echo_conn;

static void echo_read(gust_future *f, void *ud);

static void echo_arm(echo_conn *e) {
  if (gust_iostream_read_until(e->s, "\n", 1, 0, &e->rd) != 0) {
    gust_iostream_unref(e->s);
    free(e);
    return;
  }
  gust_future_add_done_callback(e->rd, echo_read, e);
}

static void echo_read(gust_future *f, void *ud) {
  echo_conn *e = ud;
  if (gust_future_error(f) != 0) {
    gust_future_unref(e->rd);
    gust_iostream_unref(e->s);
    free(e);
    return;
  }
  gust_slice line = gust_iostream_result(f);
  gust_iostream_write(e->s, line.ptr, line.len, NULL);
  gust_future_unref(e->rd);
  echo_arm(e);
}

static void echo_stream(gust_tcp_server *srv, gust_iostream *s,
                        const gust_addr *peer, void *ud) {
  echo_conn *e = calloc(1, sizeof(*e));
  (void)srv;
  (void)peer;
  (void)ud;
  if (e == NULL) {
    gust_iostream_unref(s);
    return;
  }
  e->s = s;
  echo_arm(e);
}

/* Writes `msg` and reads one line back; returns 1 if it echoed. */
static int echo_once(gust_iostream *s, const char *msg) {
  gust_future *rd = NULL;
  gust_slice r;
  int good;
  if (gust_iostream_write(s, msg, strlen(msg), NULL) != 0 ||
      gust_iostream_read_until(s, "\n", 1, 0, &rd) != 0)
    return 0;
  t_run_future(rd);
  r = gust_iostream_result(rd);
  good = r.len == strlen(msg) && memcmp(r.ptr, msg, r.len) == 0;
  gust_future_unref(rd);
  return good;
}

static gust_tcp *silent[8];
static int silent_n;

static void silent_accept(gust_tcp *server, gust_tcp *conn, int status) {
  (void)server;
  if (status < 0 || conn == NULL)
    return;
  if (silent_n < 8)
    silent[silent_n++] = conn;
  else
    gust_tcp_close(conn, NULL);
}

static void test_streams(void) {
  gust_tcp_server *srv, *tsrv;
  gust_tcp_server_opts so;
  gust_tcp_client *c;
  gust_tcp_connect_opts o;
  gust_tls_ctx *sctx, *cctx;
  gust_future *f;
  gust_iostream *s;
  int port, tport;

  gust_tcp_client_new(&c, L, NULL, NULL);
  gust_tcp_server_new(&srv, L, NULL, echo_stream, NULL, NULL);
  if (gust_tcp_server_listen(srv, "127.0.0.1", 0, NULL) != 0)
    bail_out("server listen");
  port = gust_tcp_server_port(srv);

  if (gust_tcp_client_connect(c, "127.0.0.1", port, NULL, &f) != 0)
    bail_out("connect");
  t_run_future(f);
  is_int(gust_future_error(f), 0, "stream: plain connect succeeds");
  s = gust_tcp_client_take_stream(f);
  ok(s != NULL && gust_iostream_tls(s) == NULL, "stream: a plain stream");
  ok(s != NULL && echo_once(s, "hello\n"), "stream: echoes through the server");
  gust_iostream_unref(s);
  gust_future_unref(f);

  /* TLS: a server with a certificate for localhost. */
  sctx = tc_server_ctx("server", GUST_TLS_CLIENT_AUTH_NONE, NULL, 0);
  cctx = tc_client_ctx("ca.pem", NULL, NULL, 0);
  memset(&so, 0, sizeof(so));
  so.tls = sctx;
  gust_tcp_server_new(&tsrv, L, &so, echo_stream, NULL, NULL);
  if (gust_tcp_server_listen(tsrv, "127.0.0.1", 0, NULL) != 0)
    bail_out("TLS server listen");
  tport = gust_tcp_server_port(tsrv);

  memset(&o, 0, sizeof(o));
  o.tls = cctx;
  o.server_hostname = "localhost";
  gust_tcp_client_connect(c, "127.0.0.1", tport, &o, &f);
  t_run_future(f);
  is_int(gust_future_error(f), 0,
         "tls: connect with server_hostname localhost succeeds");
  s = gust_tcp_client_take_stream(f);
  ok(s != NULL && gust_iostream_tls(s) != NULL &&
         gust_tls_handshake_done(gust_iostream_tls(s)),
     "tls: the stream's handshake is complete");
  ok(s != NULL && gust_tls_peer_verified(gust_iostream_tls(s)),
     "tls: the server certificate was verified");
  ok(s != NULL && echo_once(s, "secret\n"), "tls: echoes through TLS");
  gust_iostream_unref(s);
  gust_future_unref(f);

  /* The host name defaults to the host connected to. */
  memset(&o, 0, sizeof(o));
  o.tls = cctx;
  gust_tcp_client_connect(c, "localhost", tport, &o, &f);
  t_run_future(f);
  is_int(gust_future_error(f), 0, "tls: server_hostname defaults to the host");
  gust_future_unref(f);

  memset(&o, 0, sizeof(o));
  o.tls = cctx;
  o.server_hostname = "wrong.example";
  gust_tcp_client_connect(c, "127.0.0.1", tport, &o, &f);
  t_run_future(f);
  is_int(gust_future_error(f), GUST_ETLS_HOSTNAME,
         "tls: a name the certificate does not match fails the connect");
  ok(gust_tcp_client_take_stream(f) == NULL, "tls: no stream after a failure");
  gust_future_unref(f);

  /* Plain connect against the TLS server with a timeout covering the
   * handshake: a TLS client to a plain server never completes. */
  memset(&o, 0, sizeof(o));
  o.tls = cctx;
  o.timeout = 0.5;
  gust_tcp_client_connect(c, "127.0.0.1", port, &o, &f);
  t_run_future(f);
  ok(gust_future_error(f) != 0,
     "tls: a handshake with a plain echo server fails (%s)",
     gust_errname(gust_future_error(f)));
  gust_future_unref(f);

  /* A server that accepts and never says a word: the deadline covers the
   * handshake. */
  {
    gust_tcp *ls[2];
    size_t nls = 0;
    double t0, dt;
    gust_tcp_listen_opts lo;
    memset(&lo, 0, sizeof(lo));
    lo.family = 4;
    silent_n = 0;
    if (gust_tcp_listen(L, "127.0.0.1", 0, &lo, silent_accept, NULL, ls, 2,
                        &nls) != 0)
      bail_out("listen");
    memset(&o, 0, sizeof(o));
    o.tls = cctx;
    o.server_hostname = "localhost";
    o.timeout = 0.5;
    t0 = gust_loop_now(L);
    gust_tcp_client_connect(c, "127.0.0.1", gust_tcp_local_port(ls[0]), &o, &f);
    t_run_future(f);
    dt = gust_loop_now(L) - t0;
    is_int(gust_future_error(f), GUST_ETIMEDOUT,
           "tls: a handshake that never completes times out");
    ok(dt >= 0.45 && silent_n == 1,
       "tls: after the connect succeeded (%.3f s, %d accepted)", dt, silent_n);
    gust_future_unref(f);
    gust_tcp_close(ls[0], NULL);
    while (silent_n > 0)
      gust_tcp_close(silent[--silent_n], NULL);
  }

  gust_tcp_server_free(tsrv);
  gust_tcp_server_free(srv);
  gust_tcp_client_free(c);
  t_run_for(L, 0.05);
  gust_tls_ctx_free(cctx);
  gust_tls_ctx_free(sctx);
}

/* Every allocation of a connect fails in turn: the connect either fails
 * cleanly or completes, and nothing leaks. */
static void test_alloc_failures(void) {
  gust_tcp_server *srv;
  gust_tcp_client *c;
  gust_failmem fm;
  fixed_list fl;
  gust_resolver r;
  gust_future *f;
  gust_iostream *s;
  unsigned long k;
  int port, runs = 0, hung = 0, leaked = 0, completed = 0, rc;

  gust_tcp_server_new(&srv, L, NULL, echo_stream, NULL, NULL);
  if (gust_tcp_server_listen(srv, "127.0.0.1", 0, NULL) != 0)
    bail_out("listen");
  port = gust_tcp_server_port(srv);
  memset(&fl, 0, sizeof(fl));
  /* A refused address first, so that the fallback path allocates too. */
  fixed_add(&fl, "127.0.0.1", t_closed_port("127.0.0.1"));
  fixed_add(&fl, "127.0.0.1", port);
  r.resolve = fixed_resolve;
  r.user_data = &fl;
  gust_failmem_init(&fm, NULL);
  for (k = 1; k < 200 && !completed; k++) {
    gust_failmem_reset(&fm, k);
    runs++;
    if (gust_tcp_client_new(&c, L, &r, &fm.mem) != 0)
      continue;
    rc = gust_tcp_client_connect(c, "mem.example", port, NULL, &f);
    if (rc == 0) {
      if (t_run_future(f) != 0)
        hung++;
      s = gust_tcp_client_take_stream(f);
      if (s != NULL) {
        /* The stream may close for want of memory: only leaks matter. */
        echo_once(s, "mem\n");
        gust_iostream_unref(s);
      }
      gust_future_unref(f);
    } else if (rc != GUST_ENOMEM) {
      diag("allocation %lu: connect returned %s", k, gust_errname(rc));
      hung++;
    }
    gust_tcp_client_free(c);
    t_run_for(L, 0.01);
    if (fm.live_blocks != 0) {
      diag("allocation %lu: %zu blocks left", k, fm.live_blocks);
      leaked++;
    }
    if (fm.failures == 0)
      completed = 1;
  }
  ok(completed, "alloc: a run without failure completed (%d runs)", runs);
  is_int(hung, 0, "alloc: every failing run ended");
  is_int(leaked, 0, "alloc: no run leaked");
  gust_tcp_server_free(srv);
}

int main(void) {
  note("loop backend %s, TLS backend %s", gust_loop_backend_name(),
       gust_tls_backend_name());
  tc_make_certs();
  t_run_group("loopback", &L, test_loopback);
  t_run_group("args", &L, test_args);
  t_run_group("numeric-resolve", &L, test_numeric_resolve);
  t_run_group("addr-format", &L, test_addr_format);
  t_run_group("happy-eyeballs", &L, test_happy_eyeballs);
  t_run_group("timeout", &L, test_timeout_and_refusal);
  t_run_group("source", &L, test_source);
  t_run_group("streams", &L, test_streams);
  t_run_group("alloc-failures", &L, test_alloc_failures);
  tc_remove_certs();
  return done_testing();
}
