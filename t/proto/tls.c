/* Tests of the Sans-IO TLS engine: client and server engines talking to
 * each other through in-memory pipes, with certificates generated at run
 * time. The same checks run against whichever backend the build chose. */
#include "config.h"

#include <gust/tls.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tap.h"
#include "tls_common.h"

/* Moves pending ciphertext from `a` to `b`, at most `step` bytes per feed
 * (0 = all at once). Returns the number of bytes moved. */
static size_t move(gust_tls *a, gust_tls *b, size_t step) {
  size_t moved = 0;
  for (;;) {
    gust_slice s = gust_tls_pending_output(a);
    size_t n = s.len;
    if (n == 0)
      break;
    if (step != 0 && n > step)
      n = step;
    if (gust_tls_feed(b, s.ptr, n) != 0)
      break;
    gust_tls_consume_output(a, n);
    moved += n;
  }
  return moved;
}

typedef struct pair {
  gust_tls *c, *s;
  int crc, src; /* last handshake results */
} pair;

/* Runs both handshakes until both finish, one fails, or nothing moves. */
static void handshake(pair *p, size_t step) {
  int rounds;
  for (rounds = 0; rounds < 1000; rounds++) {
    size_t moved;
    p->crc = gust_tls_handshake(p->c);
    moved = move(p->c, p->s, step);
    p->src = gust_tls_handshake(p->s);
    moved += move(p->s, p->c, step);
    if ((p->crc != GUST_EAGAIN && p->src != GUST_EAGAIN) || moved == 0)
      break;
  }
  /* Whatever the last step produced (an alert, tickets) reaches the peer. */
  move(p->c, p->s, 0);
  move(p->s, p->c, 0);
}

static int open_pair(pair *p, gust_tls_ctx *cctx, gust_tls_ctx *sctx,
                     const char *host) {
  memset(p, 0, sizeof(*p));
  if (gust_tls_new(cctx, host, NULL, &p->c) != 0)
    return -1;
  if (gust_tls_new(sctx, NULL, NULL, &p->s) != 0)
    return -1;
  return 0;
}

static void close_pair(pair *p) {
  gust_tls_free(p->c);
  gust_tls_free(p->s);
}

/* Reads everything available from `t` into a static buffer. */
static gust_ssize drain(gust_tls *t, char *buf, size_t cap) {
  size_t got = 0;
  for (;;) {
    gust_ssize n = gust_tls_read(t, (uint8_t *)buf + got, cap - got);
    if (n > 0) {
      got += (size_t)n;
      if (got == cap)
        return (gust_ssize)got;
      continue;
    }
    if (n == GUST_EAGAIN || (n == 0 && got > 0))
      return (gust_ssize)got;
    return got > 0 ? (gust_ssize)got : n;
  }
}

static const char *const alpn_client[] = {"h2", "http/1.1"};
static const char *const alpn_server[] = {"http/1.1", "h2"};

static void test_context_api(void) {
  gust_tls_ctx *ctx = NULL, *sctx;
  gust_tls *t = NULL;
  static const char junk[] = "-----BEGIN CERTIFICATE-----\nAAAA\n"
                             "-----END CERTIFICATE-----\n";
  const char *bad_alpn[] = {""};
  if (!tap_group("context"))
    return;
  is_int(gust_tls_ctx_new((gust_tls_role)7, NULL, &ctx), GUST_EINVAL,
         "ctx: unknown role refused");
  is_int(gust_tls_ctx_new(GUST_TLS_SERVER, NULL, &sctx), 0, "ctx: server");
  is_int(gust_tls_new(sctx, NULL, NULL, &t), GUST_ETLS_CONFIG,
         "ctx: server without certificate refused");
  ok(gust_tls_ctx_error(sctx)[0] != '\0', "ctx: and says why (%s)",
     gust_tls_ctx_error(sctx));
  is_int(gust_tls_ctx_use_cert_file(sctx, tc_path("nonexistent.pem"),
                                    tc_path("server.key")),
         GUST_ENOTFOUND, "ctx: missing certificate file");
  is_int(gust_tls_ctx_use_cert_mem(sctx, junk, sizeof(junk) - 1, junk,
                                   sizeof(junk) - 1),
         GUST_ETLS_CONFIG, "ctx: garbage PEM refused");
  is_int(gust_tls_ctx_use_cert_file(sctx, tc_path("server.pem"),
                                    tc_path("client.key")),
         GUST_ETLS_CONFIG, "ctx: key not matching the certificate refused");
  ok(gust_tls_ctx_error(sctx)[0] != '\0', "ctx: mismatch message (%s)",
     gust_tls_ctx_error(sctx));
  is_int(gust_tls_ctx_load_ca_mem(sctx, junk, sizeof(junk) - 1),
         GUST_ETLS_CONFIG, "ctx: garbage CA refused");
  is_int(gust_tls_ctx_set_alpn(sctx, bad_alpn, 1), GUST_EINVAL,
         "ctx: empty ALPN name refused");
  is_int(gust_tls_ctx_set_insecure_skip_verify(sctx, 1), GUST_EINVAL,
         "ctx: skip-verify is a client option");
  is_int(gust_tls_ctx_set_client_auth(sctx, GUST_TLS_CLIENT_AUTH_REQUIRED), 0,
         "ctx: client auth set");
  is_int(gust_tls_ctx_use_cert_file(sctx, tc_path("chain.pem"),
                                    tc_path("server.key")),
         0, "ctx: chain and key loaded");
  is_int(gust_tls_new(sctx, NULL, NULL, &t), GUST_ETLS_CONFIG,
         "ctx: client auth without a CA refused");
  is_int(gust_tls_ctx_load_ca_file(sctx, tc_path("ca.pem")), 0,
         "ctx: CA loaded");
  is_int(gust_tls_ctx_set_min_version(sctx, 0x0302), GUST_EINVAL,
         "ctx: TLS 1.1 cannot be enabled");
  is_int(gust_tls_ctx_use_cert_file(sctx, tc_path("server.pem"),
                                    tc_path("server.key")),
         GUST_EEXIST, "ctx: one certificate per context");
  is_int(gust_tls_ctx_load_ca_dir(sctx, tc_path("no-such-dir")), GUST_ENOTFOUND,
         "ctx: missing CA directory");
  is_int(gust_tls_new(sctx, NULL, NULL, &t), 0, "ctx: server engine");
  is_int(gust_tls_ctx_set_alpn(sctx, alpn_server, 2), GUST_ESTATE,
         "ctx: read-only once in use");
  is_int(gust_tls_shutdown(t), GUST_ESTATE,
         "engine: shutdown before the handshake refused");
  gust_tls_free(t);
  gust_tls_ctx_free(sctx);

  is_int(gust_tls_ctx_new(GUST_TLS_CLIENT, NULL, &ctx), 0, "ctx: client");
  t = (gust_tls *)&t;
  is_int(gust_tls_new(ctx, NULL, NULL, &t), GUST_EINVAL,
         "ctx: verifying client needs a host name");
  ok(t == NULL, "ctx: *out cleared on failure");
  is_int(gust_tls_ctx_set_session_resumption(ctx, 0), 0,
         "ctx: a client may turn resumption off");
  gust_tls_ctx_free(ctx);
  gust_tls_ctx_free(NULL);
  gust_tls_free(NULL);
}

static void test_handshake_ok(const char *name, const char *host, size_t step) {
  gust_tls_ctx *cctx = tc_client_ctx("ca.pem", NULL, alpn_client, 2);
  gust_tls_ctx *sctx =
      tc_server_ctx("server", GUST_TLS_CLIENT_AUTH_NONE, alpn_server, 2);
  pair p;
  char buf[64];
  if (open_pair(&p, cctx, sctx, host) != 0)
    bail_out("engines");
  ok(!gust_tls_handshake_done(p.c), "%s: not done before", name);
  is_int(gust_tls_version(p.c), 0, "%s: no version before", name);
  handshake(&p, step);
  is_int(p.crc, 0, "%s: client handshake complete (%s)", name,
         gust_tls_error_message(p.c));
  is_int(p.src, 0, "%s: server handshake complete (%s)", name,
         gust_tls_error_message(p.s));
  ok(gust_tls_handshake_done(p.c) && gust_tls_handshake_done(p.s),
     "%s: both report done", name);
  is_str(gust_tls_version_name(p.c), "TLSv1.3", "%s: TLS 1.3", name);
  is_int(gust_tls_version(p.s), GUST_TLS_VERSION_1_3, "%s: server TLS 1.3",
         name);
  is_str(gust_tls_alpn(p.c), "http/1.1", "%s: ALPN by server preference", name);
  is_str(gust_tls_alpn(p.s), "http/1.1", "%s: server agrees on ALPN", name);
  is_str(gust_tls_peer_subject(p.c), "O=gust test,CN=localhost",
         "%s: peer subject", name);
  ok(gust_tls_peer_verified(p.c), "%s: peer verified", name);
  ok(gust_tls_peer_subject(p.s) == NULL, "%s: no client certificate", name);
  if (strcmp(host, "localhost") == 0)
    is_str(gust_tls_server_name(p.s), "localhost", "%s: SNI received", name);
  else
    ok(gust_tls_server_name(p.s) == NULL, "%s: no SNI for an IP literal", name);
  ok(gust_tls_server_name(p.c) == NULL, "%s: no server name on a client", name);

  is_int(gust_tls_write(p.c, (const uint8_t *)"ping", 4), 4,
         "%s: client writes", name);
  move(p.c, p.s, step);
  is_int(drain(p.s, buf, sizeof(buf)), 4, "%s: server reads 4 bytes", name);
  cmp_mem(buf, 4, "ping", 4, "%s: server got ping", name);
  is_int(gust_tls_write(p.s, (const uint8_t *)"pong!", 5), 5,
         "%s: server writes", name);
  move(p.s, p.c, step);
  is_int(drain(p.c, buf, sizeof(buf)), 5, "%s: client reads 5 bytes", name);
  cmp_mem(buf, 5, "pong!", 5, "%s: client got pong!", name);
  is_int(gust_tls_read(p.c, (uint8_t *)buf, sizeof(buf)), GUST_EAGAIN,
         "%s: nothing more to read", name);

  /* Clean close both ways. */
  is_int(gust_tls_shutdown(p.c), 0, "%s: client shutdown", name);
  ok(gust_tls_close_notify_sent(p.c), "%s: close_notify sent", name);
  is_int(gust_tls_write(p.c, (const uint8_t *)"x", 1), GUST_ESTATE,
         "%s: no write after shutdown", name);
  move(p.c, p.s, step);
  gust_tls_feed_eof(p.s);
  is_int(gust_tls_read(p.s, (uint8_t *)buf, sizeof(buf)), 0,
         "%s: server sees a clean close", name);
  ok(gust_tls_close_notify_received(p.s), "%s: close_notify received", name);
  is_int(gust_tls_read(p.s, (uint8_t *)buf, sizeof(buf)), 0, "%s: and again",
         name);
  is_int(gust_tls_shutdown(p.s), 0, "%s: server answers close_notify", name);
  move(p.s, p.c, step);
  gust_tls_feed_eof(p.c);
  is_int(gust_tls_read(p.c, (uint8_t *)buf, sizeof(buf)), 0,
         "%s: client sees a clean close", name);
  is_int(gust_tls_error(p.c), 0, "%s: no error latched", name);
  close_pair(&p);
  gust_tls_ctx_free(cctx);
  gust_tls_ctx_free(sctx);
}

/* A client that must refuse the server's certificate with `want`. */
static void test_refused(const char *name, const char *ca, const char *cert,
                         const char *host, int want) {
  gust_tls_ctx *cctx = tc_client_ctx(ca, NULL, NULL, 0);
  gust_tls_ctx *sctx = tc_server_ctx(cert, GUST_TLS_CLIENT_AUTH_NONE, NULL, 0);
  pair p;
  char buf[16];
  if (!tap_group(name))
    goto out;
  if (open_pair(&p, cctx, sctx, host) != 0)
    bail_out("engines");
  handshake(&p, 0);
  is_int(p.crc, want, "%s: client refuses with %s", name, gust_errname(want));
  ok(gust_tls_error_message(p.c)[0] != '\0', "%s: message: %s", name,
     gust_tls_error_message(p.c));
  is_int(gust_tls_read(p.c, (uint8_t *)buf, sizeof(buf)), want,
         "%s: the error is latched", name);
  ok(gust_is_fatal(want), "%s: the error is fatal", name);
  /* The client's alert reaches the server, which fails too. */
  if (p.src == GUST_EAGAIN)
    p.src = (int)gust_tls_read(p.s, (uint8_t *)buf, sizeof(buf));
  is_int(p.src, GUST_ETLS_ALERT, "%s: server gets the alert (%s)", name,
         gust_tls_error_message(p.s));
  close_pair(&p);
out:
  gust_tls_ctx_free(cctx);
  gust_tls_ctx_free(sctx);
}

static void test_insecure(void) {
  gust_tls_ctx *cctx, *sctx;
  pair p;
  if (!tap_group("insecure"))
    return;
  if (gust_tls_ctx_new(GUST_TLS_CLIENT, NULL, &cctx) != 0)
    bail_out("ctx");
  is_int(gust_tls_ctx_set_insecure_skip_verify(cctx, 1), 0,
         "insecure: option set");
  sctx = tc_server_ctx("selfsigned", GUST_TLS_CLIENT_AUTH_NONE, NULL, 0);
  if (open_pair(&p, cctx, sctx, "not-the-name.example") != 0)
    bail_out("engines");
  handshake(&p, 0);
  is_int(p.crc, 0, "insecure: self-signed, wrong name accepted");
  ok(!gust_tls_peer_verified(p.c), "insecure: reported as not verified");
  ok(gust_tls_alpn(p.c) == NULL, "insecure: no ALPN when none offered");
  close_pair(&p);
  gust_tls_ctx_free(cctx);
  gust_tls_ctx_free(sctx);
}

static void test_ca_dir(void) {
  gust_tls_ctx *cctx, *sctx;
  pair p;
  if (!tap_group("cadir"))
    return;
  if (gust_tls_ctx_new(GUST_TLS_CLIENT, NULL, &cctx) != 0)
    bail_out("ctx");
  is_int(gust_tls_ctx_load_ca_dir(cctx, tc_path("cadir")), 0,
         "cadir: hashed CA directory loaded (%s)", gust_tls_ctx_error(cctx));
  sctx = tc_server_ctx("server", GUST_TLS_CLIENT_AUTH_NONE, NULL, 0);
  if (open_pair(&p, cctx, sctx, "localhost") != 0)
    bail_out("engines");
  handshake(&p, 0);
  is_int(p.crc, 0, "cadir: server verified through the directory (%s)",
         gust_tls_error_message(p.c));
  ok(gust_tls_peer_verified(p.c), "cadir: reported verified");
  close_pair(&p);
  gust_tls_ctx_free(cctx);
  gust_tls_ctx_free(sctx);
}

static void test_client_auth(void) {
  gust_tls_ctx *with = tc_client_ctx("ca.pem", "client", NULL, 0);
  gust_tls_ctx *without = tc_client_ctx("ca.pem", NULL, NULL, 0);
  gust_tls_ctx *foreign = tc_client_ctx("ca.pem", "selfsigned", NULL, 0);
  gust_tls_ctx *req =
      tc_server_ctx("server", GUST_TLS_CLIENT_AUTH_REQUIRED, NULL, 0);
  gust_tls_ctx *opt =
      tc_server_ctx("server", GUST_TLS_CLIENT_AUTH_OPTIONAL, NULL, 0);
  pair p;
  char buf[16];
  if (!tap_group("client-auth"))
    goto out;

  open_pair(&p, with, req, "localhost");
  handshake(&p, 0);
  ok(p.crc == 0 && p.src == 0, "client-auth: required, sent: accepted");
  is_str(gust_tls_peer_subject(p.s), "O=gust test,CN=gust client",
         "client-auth: server sees the client subject");
  ok(gust_tls_peer_verified(p.s), "client-auth: client verified");
  close_pair(&p);

  open_pair(&p, without, req, "localhost");
  handshake(&p, 0);
  is_int(p.src, GUST_ETLS_NOCERT, "client-auth: required, missing: refused");
  ok(gust_tls_error_message(p.s)[0] != '\0', "client-auth: message: %s",
     gust_tls_error_message(p.s));
  /* With TLS 1.3 the client finishes first and learns it from an alert. */
  if (p.crc == 0)
    p.crc = (int)gust_tls_read(p.c, (uint8_t *)buf, sizeof(buf));
  is_int(p.crc, GUST_ETLS_ALERT, "client-auth: client gets the alert");
  close_pair(&p);

  open_pair(&p, foreign, req, "localhost");
  handshake(&p, 0);
  /* OpenSSL sends the certificate and the server finds it untrusted;
   * GnuTLS sends none, since the server's CA list does not name its
   * issuer, and the server finds it missing. Refused either way. */
  ok(p.src == GUST_ETLS_VERIFY || p.src == GUST_ETLS_NOCERT,
     "client-auth: untrusted client refused (%s: %s)", gust_errname(p.src),
     gust_tls_error_message(p.s));
  close_pair(&p);

  open_pair(&p, without, opt, "localhost");
  handshake(&p, 0);
  ok(p.crc == 0 && p.src == 0, "client-auth: optional, missing: accepted");
  ok(gust_tls_peer_subject(p.s) == NULL, "client-auth: no subject");
  ok(!gust_tls_peer_verified(p.s), "client-auth: not verified");
  close_pair(&p);

  open_pair(&p, with, opt, "localhost");
  handshake(&p, 0);
  ok(p.crc == 0 && p.src == 0, "client-auth: optional, sent: accepted");
  ok(gust_tls_peer_verified(p.s), "client-auth: optional cert verified");
  close_pair(&p);
out:
  gust_tls_ctx_free(with);
  gust_tls_ctx_free(without);
  gust_tls_ctx_free(foreign);
  gust_tls_ctx_free(req);
  gust_tls_ctx_free(opt);
}

static void test_truncation(void) {
  gust_tls_ctx *cctx = tc_client_ctx("ca.pem", NULL, NULL, 0);
  gust_tls_ctx *sctx =
      tc_server_ctx("server", GUST_TLS_CLIENT_AUTH_NONE, NULL, 0);
  pair p;
  char buf[64];
  gust_slice s;
  if (!tap_group("truncation"))
    goto out;

  open_pair(&p, cctx, sctx, "localhost");
  handshake(&p, 0);
  gust_tls_write(p.s, (const uint8_t *)"partial", 7);
  move(p.s, p.c, 0);
  gust_tls_feed_eof(p.c);
  is_int(drain(p.c, buf, sizeof(buf)), 7, "truncation: data before EOF read");
  is_int(gust_tls_read(p.c, (uint8_t *)buf, sizeof(buf)), GUST_ETLS_TRUNCATED,
         "truncation: EOF without close_notify detected");
  ok(!gust_tls_close_notify_received(p.c), "truncation: not a clean close");
  is_int(gust_tls_feed(p.c, (const uint8_t *)"x", 1), GUST_ETLS_TRUNCATED,
         "truncation: latched");
  close_pair(&p);

  /* EOF in the middle of a record. */
  open_pair(&p, cctx, sctx, "localhost");
  handshake(&p, 0);
  gust_tls_write(p.s, (const uint8_t *)"cut record", 10);
  s = gust_tls_pending_output(p.s);
  gust_tls_feed(p.c, s.ptr, s.len - 3);
  gust_tls_feed_eof(p.c);
  is_int(gust_tls_read(p.c, (uint8_t *)buf, sizeof(buf)), GUST_ETLS_TRUNCATED,
         "truncation: EOF inside a record detected");
  close_pair(&p);

  /* EOF during the handshake. */
  open_pair(&p, cctx, sctx, "localhost");
  gust_tls_handshake(p.c);
  gust_tls_feed_eof(p.c);
  is_int(gust_tls_handshake(p.c), GUST_ETLS_TRUNCATED,
         "truncation: EOF during the handshake");
  close_pair(&p);
out:
  gust_tls_ctx_free(cctx);
  gust_tls_ctx_free(sctx);
}

static void test_garbage(void) {
  gust_tls_ctx *sctx =
      tc_server_ctx("server", GUST_TLS_CLIENT_AUTH_NONE, NULL, 0);
  gust_tls *s;
  static const char http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  int rc;
  if (!tap_group("garbage"))
    goto out;
  gust_tls_new(sctx, NULL, NULL, &s);
  gust_tls_feed(s, (const uint8_t *)http, sizeof(http) - 1);
  rc = gust_tls_handshake(s);
  ok(rc == GUST_ETLS || rc == GUST_ETLS_VERSION,
     "garbage: plain HTTP refused (%s: %s)", gust_errname(rc),
     gust_tls_error_message(s));
  is_int(gust_tls_handshake(s), rc, "garbage: latched");
  is_int(gust_tls_error(s), rc, "garbage: gust_tls_error");
  gust_tls_free(s);
out:
  gust_tls_ctx_free(sctx);
}

/* xorshift keeps the 64 MiB stream reproducible without storing it. */
static void fill(uint8_t *buf, size_t n, uint64_t *state) {
  size_t i;
  for (i = 0; i < n; i++) {
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    buf[i] = (uint8_t)(x >> 24);
  }
}

static void test_bulk(void) {
  enum { TOTAL = 64 * 1024 * 1024, WCHUNK = 100003, RCHUNK = 65536 };
  gust_tls_ctx *cctx = tc_client_ctx("ca.pem", NULL, NULL, 0);
  gust_tls_ctx *sctx =
      tc_server_ctx("server", GUST_TLS_CLIENT_AUTH_NONE, NULL, 0);
  pair p;
  uint8_t *wbuf = malloc(WCHUNK), *want = malloc(RCHUNK), *got = malloc(RCHUNK);
  uint64_t wstate = 88172645463325252ull, rstate = wstate;
  size_t sent = 0, received = 0, mismatch_at = (size_t)-1;
  int err = 0;
  if (wbuf == NULL || want == NULL || got == NULL)
    bail_out("out of memory");
  if (!tap_group("bulk"))
    goto out;
  open_pair(&p, cctx, sctx, "localhost");
  handshake(&p, 0);
  while (received < TOTAL && err == 0) {
    if (sent < TOTAL) {
      size_t n = TOTAL - sent < WCHUNK ? TOTAL - sent : WCHUNK;
      fill(wbuf, n, &wstate);
      if (gust_tls_write(p.s, wbuf, n) != (gust_ssize)n)
        err = 1;
      sent += n;
      if (sent == TOTAL)
        gust_tls_shutdown(p.s);
    }
    move(p.s, p.c, 16411);
    for (;;) {
      gust_ssize n = gust_tls_read(p.c, got, RCHUNK);
      if (n <= 0) {
        if (n != GUST_EAGAIN && !(n == 0 && received == TOTAL))
          err = 1;
        break;
      }
      fill(want, (size_t)n, &rstate);
      if (mismatch_at == (size_t)-1 && memcmp(want, got, (size_t)n) != 0)
        mismatch_at = received;
      received += (size_t)n;
    }
  }
  ok(err == 0, "bulk: no error during the transfer (%s)",
     gust_tls_error_message(p.c));
  is_int(received, TOTAL, "bulk: 64 MiB received");
  ok(mismatch_at == (size_t)-1, "bulk: byte-exact (first mismatch at %zd)",
     (ptrdiff_t)mismatch_at);
  is_int(gust_tls_read(p.c, got, RCHUNK), 0, "bulk: ends with close_notify");
  close_pair(&p);
out:
  free(wbuf);
  free(want);
  free(got);
  gust_tls_ctx_free(cctx);
  gust_tls_ctx_free(sctx);
}

/* One client/server conversation with the client context and both engines
 * on `fm`. Returns 1 if every result was a success, GUST_EAGAIN or
 * GUST_ENOMEM, and sets *saw_nomem when GUST_ENOMEM came back. */
static int fm_conversation(gust_failmem *fm, gust_tls_ctx *sctx, int resume,
                           int *saw_nomem) {
  static uint8_t data[20000];
  uint8_t buf[4096];
  gust_tls_ctx *ctx = NULL;
  pair p;
  int i, clean = 1;
  long long rcs[16];
  size_t nrc = 0;
  memset(&p, 0, sizeof(p));
  /* Each setup step runs only if the previous one succeeded. */
  if ((rcs[nrc++] = gust_tls_ctx_new(GUST_TLS_CLIENT, &fm->mem, &ctx)) == 0 &&
      (rcs[nrc++] = gust_tls_ctx_set_alpn(ctx, alpn_client, 2)) == 0 &&
      (rcs[nrc++] = gust_tls_ctx_set_session_resumption(ctx, resume)) == 0 &&
      (rcs[nrc++] = gust_tls_ctx_load_ca_file(ctx, tc_path("ca.pem"))) == 0 &&
      (rcs[nrc++] = gust_tls_new(ctx, "localhost", &fm->mem, &p.c)) == 0)
    rcs[nrc++] = gust_tls_new(sctx, NULL, &fm->mem, &p.s);
  if (p.c != NULL && p.s != NULL) {
    handshake(&p, 0);
    rcs[nrc++] = p.crc;
    rcs[nrc++] = p.src;
    rcs[nrc++] = gust_tls_write(p.c, data, sizeof(data));
    move(p.c, p.s, 0);
    for (i = 0; i < 10; i++)
      rcs[nrc] = gust_tls_read(p.s, buf, sizeof(buf));
    nrc++;
    rcs[nrc++] = gust_tls_write(p.s, data, sizeof(data));
    move(p.s, p.c, 0);
    for (i = 0; i < 10; i++)
      rcs[nrc] = gust_tls_read(p.c, buf, sizeof(buf));
    nrc++;
  }
  if (getenv("TLS_FM_DEBUG") != NULL)
    for (i = 0; i < (int)nrc; i++)
      diag("fm %lu step %d: %lld", fm->fail_at, i, rcs[i]);
  for (i = 0; i < (int)nrc; i++) {
    if (rcs[i] == GUST_ENOMEM)
      *saw_nomem = 1;
    else if (rcs[i] < 0 && rcs[i] != GUST_EAGAIN) {
      diag("allocation %lu: step %d gave %s", fm->fail_at, i,
           gust_errname((int)rcs[i]));
      clean = 0;
    }
  }
  close_pair(&p);
  gust_tls_ctx_free(ctx);
  return clean;
}

/* Every gust allocation made by a client context and both engines through
 * a whole conversation fails in turn: each failure must come back as
 * GUST_ENOMEM (never as another error) and nothing may leak. */
static void test_failmem(void) {
  gust_failmem fm;
  unsigned long i, total;
  int clean = 1, leaks = 0, unreported = 0, saw = 0;
  gust_tls_ctx *sctx =
      tc_server_ctx("server", GUST_TLS_CLIENT_AUTH_NONE, alpn_server, 2);
  if (!tap_group("failmem"))
    goto out;
  gust_failmem_init(&fm, NULL);
  /* The client's session cache is best effort (an allocation failure
   * there only costs a later resumption, and no call could report it):
   * it is off here, and checked for leaks alone below. */
  ok(fm_conversation(&fm, sctx, 0, &saw) && !saw,
     "failmem: the conversation runs without failures");
  total = fm.count;
  is_int(fm.live_blocks, 0, "failmem: and frees everything");
  for (i = 1; i <= total; i++) {
    saw = 0;
    gust_failmem_reset(&fm, i);
    if (!fm_conversation(&fm, sctx, 0, &saw))
      clean = 0;
    if (fm.failures > 0 && !saw) {
      diag("allocation %lu failed unreported", i);
      unreported++;
    }
    if (fm.live_blocks != 0)
      leaks++;
  }
  ok(total > 10, "failmem: %lu allocations to fail", total);
  ok(clean, "failmem: no error other than GUST_ENOMEM");
  is_int(unreported, 0, "failmem: every failure reported");
  is_int(leaks, 0, "failmem: nothing leaked");
  /* with the session cache on: no other error, no leak */
  gust_failmem_reset(&fm, 0);
  fm_conversation(&fm, sctx, 1, &saw);
  total = fm.count;
  clean = 1;
  leaks = 0;
  for (i = 1; i <= total; i++) {
    gust_failmem_reset(&fm, i);
    if (!fm_conversation(&fm, sctx, 1, &saw))
      clean = 0;
    if (fm.live_blocks != 0)
      leaks++;
  }
  ok(clean, "failmem with the session cache: no error but GUST_ENOMEM");
  is_int(leaks, 0, "failmem with the session cache: nothing leaked");
out:
  gust_tls_ctx_free(sctx);
}

/* One connection from a client context: handshake, one byte from the
 * server (which carries the TLS 1.3 ticket to the client), closed.
 * Returns 1 if the client resumed, 0 if not, -1 if it failed. */
static int resume_once(gust_tls_ctx *cctx, gust_tls_ctx *sctx, const char *host,
                       int *server_resumed) {
  pair p;
  char buf[16];
  int r = -1;
  if (open_pair(&p, cctx, sctx, host) != 0)
    bail_out("engines");
  handshake(&p, 0);
  if (p.crc == 0 && p.src == 0 &&
      gust_tls_write(p.s, (const uint8_t *)"x", 1) == 1) {
    move(p.s, p.c, 0);
    if (drain(p.c, buf, sizeof(buf)) == 1) {
      r = gust_tls_session_resumed(p.c);
      *server_resumed = gust_tls_session_resumed(p.s);
    }
  }
  close_pair(&p);
  return r;
}

/* Client session resumption: the context keeps the last session per host
 * name and offers it on the next connection to that host. */
static void test_resumption(void) {
  gust_tls_ctx *cctx, *sctx, *off;
  int sres = -1, r;
  if (!tap_group("resumption"))
    return;
  cctx = tc_client_ctx("ca.pem", NULL, NULL, 0);
  sctx = tc_server_ctx("server", GUST_TLS_CLIENT_AUTH_NONE, NULL, 0);
  is_int(resume_once(cctx, sctx, "localhost", &sres), 0,
         "resumption: the first connection is a full handshake");
  r = resume_once(cctx, sctx, "localhost", &sres);
  is_int(r, 1, "resumption: the second one resumes");
  is_int(sres, 1, "resumption: the server saw it resumed");
  is_int(resume_once(cctx, sctx, "localhost", &sres), 1,
         "resumption: and the third");
  is_int(resume_once(cctx, sctx, "127.0.0.1", &sres), 0,
         "resumption: another host name starts afresh");
  is_int(resume_once(cctx, sctx, "127.0.0.1", &sres), 1,
         "resumption: ... then resumes too");
  is_int(resume_once(cctx, sctx, "localhost", &sres), 1,
         "resumption: one entry per host name");
  off = tc_client_ctx("ca.pem", NULL, NULL, 0);
  is_int(gust_tls_ctx_set_session_resumption(off, 0), 0, "resumption off: set");
  resume_once(off, sctx, "localhost", &sres);
  is_int(resume_once(off, sctx, "localhost", &sres), 0,
         "resumption off: never resumed");
  gust_tls_ctx_free(off);
  gust_tls_ctx_free(cctx);
  gust_tls_ctx_free(sctx);
}

int main(void) {
  tc_make_certs();
  note("TLS backend: %s (%s)", gust_tls_backend_name(),
       gust_tls_backend_version());
  test_context_api();
  if (tap_group("handshake")) {
    test_handshake_ok("dns", "localhost", 0);
    test_handshake_ok("ipv4", "127.0.0.1", 0);
    test_handshake_ok("ipv6", "::1", 0);
    test_handshake_ok("bytewise", "localhost", 1);
    test_handshake_ok("split7", "localhost", 7);
  }
  test_refused("expired", "ca.pem", "expired", "localhost", GUST_ETLS_EXPIRED);
  test_refused("wronghost", "ca.pem", "wronghost", "localhost",
               GUST_ETLS_HOSTNAME);
  test_refused("wrongip", "ca.pem", "server", "10.0.0.1", GUST_ETLS_HOSTNAME);
  test_refused("selfsigned", "ca.pem", "selfsigned", "localhost",
               GUST_ETLS_VERIFY);
  test_refused("otherca", "other-ca.pem", "server", "localhost",
               GUST_ETLS_VERIFY);
  test_insecure();
  test_ca_dir();
  test_client_auth();
  test_truncation();
  test_garbage();
  test_bulk();
  test_resumption();
  test_failmem();
  tc_remove_certs();
  return done_testing();
}
