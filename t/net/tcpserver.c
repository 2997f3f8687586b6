/* TCPServer on whichever loop and TLS backends the build selected:
 * listening on both families, pre-bound sockets (bind_sockets +
 * add_sockets), 1,000 concurrent connections, the TLS option, and stop. */
#include "config.h"

#include <gust/testing.h>

#include "tcp_common.h"
#include "../proto/tls_common.h"

static gust_loop *L;

/* ------------------------------------------------------------------ */
/* An echo server that records what it was handed                      */
/* ------------------------------------------------------------------ */

typedef struct server_log {
  int streams;
  int fam[2]; /* streams seen per family (4, 6) */
  int last_port;
  int tls_streams;
  int handshakes_ok;
} server_log;

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
  gust_slice line;
  if (gust_future_error(f) != 0) {
    gust_future_unref(e->rd);
    gust_iostream_unref(e->s);
    free(e);
    return;
  }
  line = gust_iostream_result(f);
  gust_iostream_write(e->s, line.ptr, line.len, NULL);
  gust_future_unref(e->rd);
  echo_arm(e);
}

static void on_handshake(gust_future *f, void *ud) {
  server_log *lg = ud;
  if (gust_future_error(f) == 0)
    lg->handshakes_ok++;
}

static void echo_stream(gust_tcp_server *srv, gust_iostream *s,
                        const gust_addr *peer, void *ud) {
  server_log *lg = ud;
  echo_conn *e;
  (void)srv;
  lg->streams++;
  if (gust_addr_family(peer) == 6)
    lg->fam[1]++;
  else if (gust_addr_family(peer) == 4)
    lg->fam[0]++;
  lg->last_port = gust_addr_port(peer);
  if (gust_iostream_tls(s) != NULL) {
    gust_future *hs;
    lg->tls_streams++;
    if (gust_iostream_wait_for_handshake(s, &hs) == 0) {
      gust_future_add_done_callback(hs, on_handshake, lg);
      gust_future_unref(hs);
    }
  }
  e = calloc(1, sizeof(*e));
  if (e == NULL) {
    gust_iostream_unref(s);
    return;
  }
  e->s = s;
  echo_arm(e);
}

/* Connects a stream (ends the program on a synchronous refusal); the
 * caller unrefs the future. */
static gust_future *connect_stream(gust_tcp_client *c, const char *host,
                                   int port, const gust_tcp_connect_opts *o) {
  gust_future *f = NULL;
  if (gust_tcp_client_connect(c, host, port, o, &f) != 0)
    bail_out("connect refused synchronously");
  t_run_future(f);
  return f;
}

/* Writes `msg` and reads one line back; 1 if it came back unchanged. */
static int echo_once(gust_iostream *s, const char *msg) {
  gust_future *rd = NULL;
  gust_slice r;
  int good;
  if (s == NULL || gust_iostream_write(s, msg, strlen(msg), NULL) != 0 ||
      gust_iostream_read_until(s, "\n", 1, 0, &rd) != 0)
    return 0;
  t_run_future(rd);
  r = gust_iostream_result(rd);
  good = r.len == strlen(msg) && memcmp(r.ptr, msg, r.len) == 0;
  gust_future_unref(rd);
  return good;
}

/* ------------------------------------------------------------------ */
/* Tests                                                                */
/* ------------------------------------------------------------------ */

static void test_both_families(void) {
  gust_tcp_server *srv;
  gust_tcp_client *c;
  server_log lg;
  gust_future *f;
  gust_iostream *s;
  int port, v6 = t_have_ipv6();

  memset(&lg, 0, sizeof(lg));
  is_int(gust_tcp_server_new(&srv, NULL, NULL, echo_stream, &lg, NULL),
         GUST_EINVAL, "new: a server needs a loop");
  is_int(gust_tcp_server_new(&srv, L, NULL, NULL, &lg, NULL), GUST_EINVAL,
         "new: a server needs a callback");
  gust_tcp_server_new(&srv, L, NULL, echo_stream, &lg, NULL);
  is_int(gust_tcp_server_port(srv), GUST_ESTATE, "port: none before listen");
  is_int(gust_tcp_server_listen(srv, NULL, 0, NULL), 0,
         "listen: every local address, port 0");
  port = gust_tcp_server_port(srv);
  ok(port > 0, "listen: a port was assigned (%d)", port);
  if (v6)
    is_int(gust_tcp_server_listener_count(srv), 2,
           "listen: one listener per family");
  else
    skip(1, "no IPv6 on this host");
  gust_tcp_client_new(&c, L, NULL, NULL);

  f = connect_stream(c, "127.0.0.1", port, NULL);
  s = gust_tcp_client_take_stream(f);
  ok(echo_once(s, "four\n"), "ipv4: the stream handed out echoes");
  is_int(lg.fam[0], 1, "ipv4: handle_stream saw an IPv4 peer");
  ok(s != NULL && lg.last_port == gust_tcp_local_port(gust_iostream_tcp(s)),
     "ipv4: the peer address is the client's");
  gust_iostream_unref(s);
  gust_future_unref(f);

  if (v6) {
    f = connect_stream(c, "::1", port, NULL);
    s = gust_tcp_client_take_stream(f);
    ok(echo_once(s, "six\n"), "ipv6: the stream handed out echoes");
    is_int(lg.fam[1], 1, "ipv6: handle_stream saw an IPv6 peer");
    gust_iostream_unref(s);
    gust_future_unref(f);
  } else {
    skip(2, "no IPv6 on this host");
  }
  gust_tcp_client_free(c);
  gust_tcp_server_free(srv);
}

static void test_add_sockets(void) {
  gust_tcp_server *srv;
  gust_tcp_client *c;
  gust_tcp_listen_opts lo;
  server_log lg;
  gust_future *f;
  gust_iostream *s;
  int fds[4], pipefd[2], udp, port;
  size_t n = 0;

  memset(&lo, 0, sizeof(lo));
  lo.family = 4;
  is_int(gust_tcp_bind_sockets("127.0.0.1", 0, &lo, fds, 4, &n), 0,
         "bind_sockets: 127.0.0.1 port 0");
  is_int(n, 1, "bind_sockets: one socket");
  memset(&lg, 0, sizeof(lg));
  gust_tcp_server_new(&srv, L, NULL, echo_stream, &lg, NULL);

  /* Not stream sockets: refused, and left open. */
  if (pipe(pipefd) != 0)
    bail_out("pipe");
  udp = socket(AF_INET, SOCK_DGRAM, 0);
  is_int(gust_tcp_server_add_sockets(srv, pipefd, 1), GUST_EINVAL,
         "add_sockets: a pipe is refused");
  is_int(gust_tcp_server_add_sockets(srv, &udp, 1), GUST_EINVAL,
         "add_sockets: a UDP socket is refused");
  ok(fcntl(pipefd[0], F_GETFD) >= 0 && fcntl(udp, F_GETFD) >= 0,
     "add_sockets: refused fds stay open (the caller's)");
  close(pipefd[0]);
  close(pipefd[1]);
  close(udp);

  is_int(gust_tcp_server_add_sockets(srv, fds, n), 0,
         "add_sockets: a pre-bound socket is adopted");
  ok(fcntl(fds[0], F_GETFD) < 0, "add_sockets: the server owns the fd now");
  port = gust_tcp_server_port(srv);
  gust_tcp_client_new(&c, L, NULL, NULL);
  f = connect_stream(c, "127.0.0.1", port, NULL);
  s = gust_tcp_client_take_stream(f);
  ok(echo_once(s, "adopted\n"), "add_sockets: connections are served");
  gust_iostream_unref(s);
  gust_future_unref(f);
  is_int(gust_tcp_bind_sockets("127.0.0.1", port, &lo, fds, 4, &n),
         GUST_EADDRINUSE, "bind_sockets: a port in use is refused");
  gust_tcp_client_free(c);
  gust_tcp_server_free(srv);
}

/* 1,000 clients connect at once, each echoes one line. */
#define MANY 1000

typedef struct many_state {
  int done, failed;
} many_state;

typedef struct many_conn {
  many_state *st;
  gust_future *cf, *rd;
  gust_iostream *s;
  char msg[16];
} many_conn;

static void many_finish(many_conn *m, int good) {
  if (good)
    m->st->done++;
  else
    m->st->failed++;
  if (m->s != NULL)
    gust_iostream_unref(m->s);
  gust_future_unref(m->rd);
  gust_future_unref(m->cf);
  m->s = NULL;
  m->rd = m->cf = NULL;
}

static void many_read(gust_future *f, void *ud) {
  many_conn *m = ud;
  gust_slice r = gust_iostream_result(f);
  many_finish(m, gust_future_error(f) == 0 && r.len == strlen(m->msg) &&
                     memcmp(r.ptr, m->msg, r.len) == 0);
}

static void many_connected(gust_future *f, void *ud) {
  many_conn *m = ud;
  if (gust_future_error(f) != 0) {
    diag("connect failed: %s", gust_errname(gust_future_error(f)));
    many_finish(m, 0);
    return;
  }
  m->s = gust_tcp_client_take_stream(f);
  if (gust_iostream_write(m->s, m->msg, strlen(m->msg), NULL) != 0 ||
      gust_iostream_read_until(m->s, "\n", 1, 0, &m->rd) != 0) {
    many_finish(m, 0);
    return;
  }
  gust_future_add_done_callback(m->rd, many_read, m);
}

static int many_all(gust_loop *loop, void *ud) {
  many_state *st = ud;
  (void)loop;
  return st->done + st->failed == MANY;
}

static void test_many(void) {
  gust_tcp_server *srv;
  gust_tcp_client *c;
  gust_tcp_listen_opts lo;
  server_log lg;
  many_state st;
  many_conn *m;
  gust_timer wd;
  int i, port, rc;

  /* Each connection costs two descriptors here (client and server side). */
  if (t_raise_nofile(2 * MANY + 256) != 0) {
    ok(0, "many: RLIMIT_NOFILE can be raised to %d", 2 * MANY + 256);
    return;
  }
  memset(&lg, 0, sizeof(lg));
  memset(&st, 0, sizeof(st));
  memset(&lo, 0, sizeof(lo));
  lo.family = 4;
  lo.backlog = MANY;
  gust_tcp_server_new(&srv, L, NULL, echo_stream, &lg, NULL);
  if (gust_tcp_server_listen(srv, "127.0.0.1", 0, &lo) != 0)
    bail_out("listen");
  port = gust_tcp_server_port(srv);
  gust_tcp_client_new(&c, L, NULL, NULL);
  m = calloc(MANY, sizeof(*m));
  if (m == NULL)
    bail_out("out of memory");
  for (i = 0; i < MANY; i++) {
    m[i].st = &st;
    snprintf(m[i].msg, sizeof(m[i].msg), "conn %d\n", i);
    if (gust_tcp_client_connect(c, "127.0.0.1", port, NULL, &m[i].cf) != 0 ||
        gust_future_add_done_callback(m[i].cf, many_connected, &m[i]) != 0)
      bail_out("connect %d", i);
  }
  gust_loop_call_later(L, 120.0, t_flag_timeout, NULL, &wd);
  rc = gust_loop_run_until(L, many_all, &st);
  gust_loop_cancel(L, wd);
  is_int(rc, 0, "many: every connection finished in time");
  is_int(st.done, MANY, "many: %d concurrent connections echoed", MANY);
  is_int(st.failed, 0, "many: none failed");
  is_int(lg.streams, MANY, "many: handle_stream ran once per connection");
  gust_tcp_client_free(c);
  gust_tcp_server_free(srv);
  t_run_for(L, 0.1);
  free(m);
}

static void test_tls(void) {
  gust_tcp_server *srv;
  gust_tcp_server_opts so;
  gust_tcp_client *c;
  gust_tcp_connect_opts o;
  gust_tls_ctx *sctx, *cctx;
  gust_iostream_opts sto;
  server_log lg;
  gust_future *f;
  gust_iostream *s;
  int port;

  sctx = tc_server_ctx("server", GUST_TLS_CLIENT_AUTH_NONE, NULL, 0);
  cctx = tc_client_ctx("ca.pem", NULL, NULL, 0);
  memset(&lg, 0, sizeof(lg));
  memset(&so, 0, sizeof(so));
  memset(&sto, 0, sizeof(sto));
  sto.read_chunk_size = 1024;
  so.tls = sctx;
  so.stream = &sto;
  gust_tcp_server_new(&srv, L, &so, echo_stream, &lg, NULL);
  gust_tcp_server_listen(srv, "127.0.0.1", 0, NULL);
  port = gust_tcp_server_port(srv);
  gust_tcp_client_new(&c, L, NULL, NULL);
  memset(&o, 0, sizeof(o));
  o.tls = cctx;
  o.server_hostname = "localhost";
  f = connect_stream(c, "127.0.0.1", port, &o);
  is_int(gust_future_error(f), 0, "tls: client connects to a TLS server");
  s = gust_tcp_client_take_stream(f);
  ok(echo_once(s, "over tls\n"), "tls: the server's stream echoes");
  is_int(lg.tls_streams, 1, "tls: handle_stream got a TLS stream");
  is_int(lg.handshakes_ok, 1, "tls: its handshake completed");
  gust_iostream_unref(s);
  gust_future_unref(f);

  /* A plain client gets no service from a TLS server. */
  memset(&o, 0, sizeof(o));
  o.timeout = 30;
  f = connect_stream(c, "127.0.0.1", port, &o);
  s = gust_tcp_client_take_stream(f);
  ok(!echo_once(s, "plain\n"), "tls: plain text is not echoed");
  gust_iostream_unref(s);
  gust_future_unref(f);

  gust_tcp_client_free(c);
  gust_tcp_server_free(srv);
  t_run_for(L, 0.05);
  gust_tls_ctx_free(cctx);
  gust_tls_ctx_free(sctx);
}

static void test_stop(void) {
  gust_tcp_server *srv;
  gust_tcp_client *c;
  server_log lg;
  gust_future *f;
  gust_iostream *s;
  int port;

  memset(&lg, 0, sizeof(lg));
  gust_tcp_server_new(&srv, L, NULL, echo_stream, &lg, NULL);
  gust_tcp_server_listen(srv, "127.0.0.1", 0, NULL);
  port = gust_tcp_server_port(srv);
  gust_tcp_client_new(&c, L, NULL, NULL);
  f = connect_stream(c, "127.0.0.1", port, NULL);
  s = gust_tcp_client_take_stream(f);
  gust_future_unref(f);
  ok(echo_once(s, "before\n"), "stop: served before the stop");

  gust_tcp_server_stop(srv);
  is_int(gust_tcp_server_listener_count(srv), 0, "stop: no listener left");
  gust_tcp_server_stop(srv);
  ok(1, "stop: a second stop is harmless");
  ok(echo_once(s, "after\n"), "stop: a connection already handed out goes on");
  t_run_for(L, 0.05);
  f = connect_stream(c, "127.0.0.1", port, NULL);
  is_int(gust_future_error(f), GUST_ECONNREFUSED,
         "stop: new connections are refused");
  gust_future_unref(f);
  is_int(gust_tcp_server_listen(srv, "127.0.0.1", 0, NULL), GUST_ESTATE,
         "stop: listen after a stop is refused");
  is_int(lg.streams, 1, "stop: handle_stream ran once");
  gust_iostream_unref(s);
  gust_tcp_client_free(c);
  gust_tcp_server_free(srv);
  gust_tcp_server_free(NULL);
}

/* SO_REUSEPORT: two servers (as two processes would) on one port. */
static void test_reuse_port(void) {
  gust_tcp_server *a, *b;
  gust_tcp_client *c;
  gust_tcp_listen_opts lo;
  server_log la, lb;
  gust_future *f;
  gust_iostream *s;
  int port, i, served = 0;

  memset(&la, 0, sizeof(la));
  memset(&lb, 0, sizeof(lb));
  memset(&lo, 0, sizeof(lo));
  lo.family = 4;
  lo.reuse_port = 1;
  gust_tcp_server_new(&a, L, NULL, echo_stream, &la, NULL);
  gust_tcp_server_new(&b, L, NULL, echo_stream, &lb, NULL);
  is_int(gust_tcp_server_listen(a, "127.0.0.1", 0, &lo), 0,
         "reuse_port: first server listens");
  port = gust_tcp_server_port(a);
  is_int(gust_tcp_server_listen(b, "127.0.0.1", port, &lo), 0,
         "reuse_port: second server listens on the same port");
  gust_tcp_client_new(&c, L, NULL, NULL);
  for (i = 0; i < 8; i++) {
    f = connect_stream(c, "127.0.0.1", port, NULL);
    s = gust_tcp_client_take_stream(f);
    served += echo_once(s, "shared\n");
    gust_iostream_unref(s);
    gust_future_unref(f);
  }
  is_int(served, 8, "reuse_port: every connection was served");
  is_int(la.streams + lb.streams, 8, "reuse_port: by one of the two servers");
  gust_tcp_client_free(c);
  gust_tcp_server_free(a);
  gust_tcp_server_free(b);
}

int main(void) {
  note("loop backend %s, TLS backend %s", gust_loop_backend_name(),
       gust_tls_backend_name());
  tc_make_certs();
  t_run_group("both-families", &L, test_both_families);
  t_run_group("add-sockets", &L, test_add_sockets);
  t_run_group("many", &L, test_many);
  t_run_group("tls", &L, test_tls);
  t_run_group("stop", &L, test_stop);
  t_run_group("reuse-port", &L, test_reuse_port);
  tc_remove_certs();
  return done_testing();
}
