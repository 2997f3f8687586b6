/* Interoperability tests of the TLS engine against the OTHER library's
 * command-line peer over loopback TCP: an OpenSSL build talks to
 * gnutls-serv and gnutls-cli, a GnuTLS build to openssl s_server and
 * s_client. The test drives a plain blocking socket itself. */
#include "config.h"

#include <gust/tls.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../tap.h"
#include "../proto/tls_common.h"

#define TIMEOUT_MS 60000 /* generous: the machine may be busy */

static int
    peer_is_gnutls; /* 1: gnutls-serv/cli, 0: openssl s_server/s_client */
static int log_seq;

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* ------------------------------------------------------------------ */
/* Peer processes                                                       */
/* ------------------------------------------------------------------ */

typedef struct peer {
  pid_t pid;
  int stdin_fd; /* write end of the peer's stdin, or -1 */
} peer;

/* Starts argv[0] with stdin from a pipe (or /dev/null when `input` is
 * NULL; otherwise `input` is written and the pipe closed) and its output in
 * a log file of the certificate directory. */
static peer spawn(char *const argv[], const char *input) {
  peer p = {-1, -1};
  int in[2] = {-1, -1};
  char logname[64];
  int logfd;
  snprintf(logname, sizeof(logname), "peer-%d.log", ++log_seq);
  logfd = open(tc_path(logname), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (logfd < 0 || pipe(in) != 0)
    bail_out("cannot prepare the peer's stdio");
  fflush(stdout);
  p.pid = fork();
  if (p.pid < 0)
    bail_out("fork failed");
  if (p.pid == 0) {
    dup2(in[0], 0);
    dup2(logfd, 1);
    dup2(logfd, 2);
    close(in[0]);
    close(in[1]);
    close(logfd);
    execvp(argv[0], argv);
    _exit(127);
  }
  close(in[0]);
  close(logfd);
  p.stdin_fd = in[1];
  if (input != NULL) {
    size_t len = strlen(input);
    if (write(p.stdin_fd, input, len) != (ssize_t)len)
      diag("short write to the peer's stdin");
  }
  note("peer %s started (pid %d, log %s)", argv[0], (int)p.pid, logname);
  return p;
}

static void close_stdin(peer *p) {
  if (p->stdin_fd >= 0)
    close(p->stdin_fd);
  p->stdin_fd = -1;
}

/* Waits up to `ms` for the peer to exit; returns its exit status, or -1
 * after killing it if it did not exit in time (or was killed). */
static int reap(peer *p, int ms) {
  long long end = now_ms() + ms;
  int status = 0;
  close_stdin(p);
  if (p->pid <= 0)
    return -1;
  for (;;) {
    pid_t r = waitpid(p->pid, &status, WNOHANG);
    if (r == p->pid)
      break;
    if (r < 0 || now_ms() > end) {
      kill(p->pid, SIGKILL);
      waitpid(p->pid, &status, 0);
      p->pid = -1;
      return -1;
    }
    sleep_ms(20);
  }
  p->pid = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void stop(peer *p) {
  if (p->pid > 0)
    kill(p->pid, SIGTERM);
  reap(p, 10000);
}

/* ------------------------------------------------------------------ */
/* Sockets                                                              */
/* ------------------------------------------------------------------ */

/* Asks the kernel for a free loopback port. */
static int free_port(void) {
  struct sockaddr_in a;
  socklen_t alen = sizeof(a);
  int fd = socket(AF_INET, SOCK_STREAM, 0), port;
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
      getsockname(fd, (struct sockaddr *)&a, &alen) != 0)
    bail_out("cannot find a free port");
  port = ntohs(a.sin_port);
  close(fd);
  return port;
}

/* Connects to 127.0.0.1:port, retrying while the peer starts up. */
static int connect_peer(peer *p, int port) {
  long long end = now_ms() + TIMEOUT_MS;
  struct sockaddr_in a;
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  while (now_ms() < end) {
    int status, fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
      return -1;
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
      return fd;
    close(fd);
    if (waitpid(p->pid, &status, WNOHANG) == p->pid) {
      p->pid = -1;
      diag("the peer exited before accepting");
      return -1;
    }
    sleep_ms(50);
  }
  return -1;
}

static int listen_on(int *port) {
  struct sockaddr_in a;
  socklen_t alen = sizeof(a);
  int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0)
    bail_out("socket");
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 4) != 0 ||
      getsockname(fd, (struct sockaddr *)&a, &alen) != 0)
    bail_out("cannot listen on loopback");
  *port = ntohs(a.sin_port);
  return fd;
}

static int accept_timeout(int lfd) {
  struct pollfd pfd = {lfd, POLLIN, 0};
  if (poll(&pfd, 1, TIMEOUT_MS) != 1)
    return -1;
  return accept(lfd, NULL, NULL);
}

/* ------------------------------------------------------------------ */
/* Driving an engine over a socket                                      */
/* ------------------------------------------------------------------ */

typedef struct conn {
  int fd;
  gust_tls *tls;
  long long deadline;
} conn;

/* Sends all pending ciphertext; a peer that went away is not an error
 * here (the engine reports what matters). */
static void flush(conn *c) {
  for (;;) {
    gust_slice s = gust_tls_pending_output(c->tls);
    ssize_t n;
    if (s.len == 0)
      return;
    n = send(c->fd, s.ptr, s.len, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      gust_tls_consume_output(c->tls, s.len);
      return;
    }
    gust_tls_consume_output(c->tls, (size_t)n);
  }
}

/* Waits for input and feeds it; returns GUST_ETIMEDOUT past the deadline. */
static int wait_input(conn *c) {
  uint8_t buf[16384];
  struct pollfd pfd = {c->fd, POLLIN, 0};
  long long left = c->deadline - now_ms();
  ssize_t n;
  if (left <= 0)
    return GUST_ETIMEDOUT;
  if (poll(&pfd, 1, (int)(left > 1000 ? 1000 : left)) <= 0)
    return 0;
  n = recv(c->fd, buf, sizeof(buf), 0);
  if (n < 0 && errno == EINTR)
    return 0;
  if (n <= 0)
    gust_tls_feed_eof(c->tls); /* FIN or reset: no more bytes */
  else
    gust_tls_feed(c->tls, buf, (size_t)n);
  return 0;
}

static int handshake(conn *c) {
  for (;;) {
    int rc = gust_tls_handshake(c->tls);
    flush(c);
    if (rc != GUST_EAGAIN)
      return rc;
    rc = wait_input(c);
    if (rc < 0)
      return rc;
  }
}

/* Reads until `want` bytes arrived or the peer closed. Returns the byte
 * count (and *closed = 1 on a clean close) or an error code. */
static gust_ssize read_some(conn *c, char *buf, size_t cap, size_t want,
                            int *closed) {
  size_t got = 0;
  *closed = 0;
  for (;;) {
    gust_ssize n = gust_tls_read(c->tls, (uint8_t *)buf + got, cap - got);
    flush(c);
    if (n > 0) {
      got += (size_t)n;
      if (got >= want || got == cap)
        return (gust_ssize)got;
    } else if (n == 0) {
      *closed = 1;
      return (gust_ssize)got;
    } else if (n == GUST_EAGAIN) {
      int rc = wait_input(c);
      if (rc < 0)
        return rc;
    } else {
      return n;
    }
  }
}

/* ------------------------------------------------------------------ */
/* Our client against the peer's server                                 */
/* ------------------------------------------------------------------ */

typedef enum { V_DEFAULT, V_TLS10, V_TLS11, V_TLS12 } peer_version;

static peer start_server(int port, const char *cert, peer_version v) {
  char portstr[16], accept[32], certf[512], keyf[512];
  snprintf(portstr, sizeof(portstr), "%d", port);
  snprintf(accept, sizeof(accept), "127.0.0.1:%d", port);
  snprintf(certf, sizeof(certf), "%s/%s.pem", tc_dir, cert);
  snprintf(keyf, sizeof(keyf), "%s/%s.key", tc_dir, cert);
  if (peer_is_gnutls) {
    const char *prio = v == V_TLS10   ? "NORMAL:-VERS-ALL:+VERS-TLS1.0"
                       : v == V_TLS11 ? "NORMAL:-VERS-ALL:+VERS-TLS1.1"
                       : v == V_TLS12 ? "NORMAL:-VERS-ALL:+VERS-TLS1.2"
                                      : "NORMAL";
    char *argv[] = {
        "gnutls-serv",   "--port",     portstr,  "--x509certfile", certf,
        "--x509keyfile", keyf,         "--echo", "--alpn",         "http/1.1",
        "--priority",    (char *)prio, NULL};
    return spawn(argv, NULL);
  } else {
    char *argv[] = {"openssl", "s_server", "-accept",  accept,
                    "-cert",   certf,      "-key",     keyf,
                    "-rev",    "-alpn",    "http/1.1", "-quiet",
                    NULL,      NULL,       NULL,       NULL};
    if (v == V_TLS12) {
      argv[12] = "-tls1_2";
    } else if (v != V_DEFAULT) {
      argv[12] = v == V_TLS10 ? "-tls1" : "-tls1_1";
      argv[13] = "-cipher";
      argv[14] = "DEFAULT@SECLEVEL=0";
    }
    return spawn(argv, NULL);
  }
}

/* Connects our client (trusting the test CA, checking `host`) to a peer
 * server using `cert`. Returns the handshake result; on success exchanges
 * one line and checks the answer. */
static void client_case(const char *name, const char *cert, const char *host,
                        peer_version v, int min_version, int want) {
  static const char *const alpn[] = {"h2", "http/1.1"};
  gust_tls_ctx *ctx;
  conn c;
  peer srv;
  int port, rc;
  if (!tap_group(name))
    return;
  ctx = tc_client_ctx("ca.pem", NULL, alpn, 2);
  if (min_version != 0 && gust_tls_ctx_set_min_version(ctx, min_version) != 0)
    bail_out("min version");
  port = free_port();
  srv = start_server(port, cert, v);
  memset(&c, 0, sizeof(c));
  c.deadline = now_ms() + TIMEOUT_MS;
  c.fd = connect_peer(&srv, port);
  if (c.fd < 0) {
    ok(0, "%s: connected to the peer server", name);
    stop(&srv);
    gust_tls_ctx_free(ctx);
    return;
  }
  if (gust_tls_new(ctx, host, NULL, &c.tls) != 0)
    bail_out("engine");
  rc = handshake(&c);
  is_int(rc, want, "%s: handshake gives %s (%s)", name, gust_errname(want),
         gust_tls_error_message(c.tls));
  if (rc == 0 && want == 0) {
    static const char line[] = "hello gust\n";
    const char *expect = peer_is_gnutls ? "hello gust\n" : "tsug olleh\n";
    char buf[64];
    int closed;
    gust_ssize n;
    is_int(gust_tls_version(c.tls),
           v == V_TLS12 ? GUST_TLS_VERSION_1_2 : GUST_TLS_VERSION_1_3,
           "%s: version %s", name, gust_tls_version_name(c.tls));
    is_str(gust_tls_alpn(c.tls), "http/1.1", "%s: ALPN negotiated", name);
    is_str(gust_tls_peer_subject(c.tls), "O=gust test,CN=localhost",
           "%s: peer subject", name);
    ok(gust_tls_peer_verified(c.tls), "%s: peer verified", name);
    is_int(gust_tls_write(c.tls, (const uint8_t *)line, sizeof(line) - 1),
           sizeof(line) - 1, "%s: request written", name);
    flush(&c);
    n = read_some(&c, buf, sizeof(buf), strlen(expect), &closed);
    cmp_mem(buf, n > 0 ? (size_t)n : 0, expect, strlen(expect),
            "%s: the peer answered", name);
    is_int(gust_tls_shutdown(c.tls), 0, "%s: close_notify queued", name);
    flush(&c);
  } else if (rc != 0) {
    ok(gust_tls_error_message(c.tls)[0] != '\0', "%s: message given", name);
  }
  gust_tls_free(c.tls);
  close(c.fd);
  stop(&srv);
  gust_tls_ctx_free(ctx);
}

/* ------------------------------------------------------------------ */
/* The peer's client against our server                                 */
/* ------------------------------------------------------------------ */

typedef enum { C_PLAIN, C_WITH_CERT, C_KILL } client_mode;

static peer start_client(int port, const char *input, peer_version v,
                         int with_cert) {
  char portstr[16], connect[32], ca[512], certf[512], keyf[512];
  char *argv[24];
  int n = 0;
  snprintf(portstr, sizeof(portstr), "%d", port);
  snprintf(connect, sizeof(connect), "127.0.0.1:%d", port);
  snprintf(ca, sizeof(ca), "%s/ca.pem", tc_dir);
  snprintf(certf, sizeof(certf), "%s/client.pem", tc_dir);
  snprintf(keyf, sizeof(keyf), "%s/client.key", tc_dir);
  if (peer_is_gnutls) {
    argv[n++] = "gnutls-cli";
    argv[n++] = "--port";
    argv[n++] = portstr;
    argv[n++] = "--x509cafile";
    argv[n++] = ca;
    argv[n++] = "--alpn";
    argv[n++] = "http/1.1";
    if (with_cert) {
      argv[n++] = "--x509certfile";
      argv[n++] = certf;
      argv[n++] = "--x509keyfile";
      argv[n++] = keyf;
    }
    if (v != V_DEFAULT) {
      argv[n++] = "--priority";
      argv[n++] = v == V_TLS10   ? "NORMAL:-VERS-ALL:+VERS-TLS1.0"
                  : v == V_TLS11 ? "NORMAL:-VERS-ALL:+VERS-TLS1.1"
                                 : "NORMAL:-VERS-ALL:+VERS-TLS1.2";
    }
    argv[n++] = "localhost";
  } else {
    argv[n++] = "openssl";
    argv[n++] = "s_client";
    argv[n++] = "-connect";
    argv[n++] = connect;
    argv[n++] = "-servername";
    argv[n++] = "localhost";
    argv[n++] = "-verify_hostname";
    argv[n++] = "localhost";
    argv[n++] = "-CAfile";
    argv[n++] = ca;
    argv[n++] = "-verify_return_error";
    argv[n++] = "-alpn";
    argv[n++] = "http/1.1";
    argv[n++] = "-quiet";
    if (with_cert) {
      argv[n++] = "-cert";
      argv[n++] = certf;
      argv[n++] = "-key";
      argv[n++] = keyf;
    }
    if (v == V_TLS12) {
      argv[n++] = "-tls1_2";
    } else if (v != V_DEFAULT) {
      argv[n++] = v == V_TLS10 ? "-tls1" : "-tls1_1";
      argv[n++] = "-cipher";
      argv[n++] = "DEFAULT@SECLEVEL=0";
    }
  }
  argv[n] = NULL;
  return spawn(argv, input);
}

/* Our server with `auth`; the peer client sends one line then closes
 * (C_PLAIN, C_WITH_CERT) or is killed after the handshake (C_KILL). */
static void server_case(const char *name, gust_tls_client_auth auth,
                        client_mode mode, peer_version v, int min_version,
                        int want) {
  static const char *const alpn[] = {"http/1.1"};
  static const char line[] = "hello from the peer\n";
  gust_tls_ctx *ctx;
  conn c;
  peer cli;
  int lfd, port, rc;
  if (!tap_group(name))
    return;
  ctx = tc_server_ctx("server", auth, alpn, 1);
  if (min_version != 0 && gust_tls_ctx_set_min_version(ctx, min_version) != 0)
    bail_out("min version");
  lfd = listen_on(&port);
  /* The line goes to the peer's stdin now; a killed client gets none. */
  cli =
      start_client(port, mode == C_KILL ? NULL : line, v, mode == C_WITH_CERT);
  memset(&c, 0, sizeof(c));
  c.deadline = now_ms() + TIMEOUT_MS;
  c.fd = accept_timeout(lfd);
  close(lfd);
  if (c.fd < 0) {
    ok(0, "%s: the peer client connected", name);
    stop(&cli);
    gust_tls_ctx_free(ctx);
    return;
  }
  if (gust_tls_new(ctx, NULL, NULL, &c.tls) != 0)
    bail_out("engine");
  rc = handshake(&c);
  if (mode == C_KILL) {
    char buf[64];
    int closed;
    gust_ssize n;
    is_int(rc, 0, "%s: handshake complete (%s)", name,
           gust_tls_error_message(c.tls));
    /* The peer dies: its socket closes without close_notify. */
    kill(cli.pid, SIGKILL);
    reap(&cli, 10000);
    n = read_some(&c, buf, sizeof(buf), sizeof(buf), &closed);
    is_int(n, GUST_ETLS_TRUNCATED, "%s: truncation detected (%s)", name,
           gust_tls_error_message(c.tls));
    ok(!gust_tls_close_notify_received(c.tls), "%s: not a clean close", name);
  } else if (want == 0) {
    char buf[64];
    int closed = 0, status;
    gust_ssize n;
    is_int(rc, 0, "%s: handshake complete (%s)", name,
           gust_tls_error_message(c.tls));
    is_str(gust_tls_alpn(c.tls), "http/1.1", "%s: ALPN selected", name);
    is_str(gust_tls_server_name(c.tls), "localhost", "%s: SNI received", name);
    n = read_some(&c, buf, sizeof(buf), sizeof(line) - 1, &closed);
    cmp_mem(buf, n > 0 ? (size_t)n : 0, line, sizeof(line) - 1,
            "%s: line received", name);
    if (mode == C_WITH_CERT) {
      is_str(gust_tls_peer_subject(c.tls), "O=gust test,CN=gust client",
             "%s: client certificate subject", name);
      ok(gust_tls_peer_verified(c.tls), "%s: client verified", name);
    }
    gust_tls_write(c.tls, (const uint8_t *)"bye\n", 4);
    gust_tls_shutdown(c.tls);
    flush(&c);
    /* Stdin ends: the peer sends close_notify (or just closes). */
    close_stdin(&cli);
    if (!closed)
      n = read_some(&c, buf, sizeof(buf), sizeof(buf), &closed);
    ok(closed || n == GUST_ETLS_TRUNCATED, "%s: the peer closed (%s)", name,
       closed ? "close_notify" : gust_tls_error_message(c.tls));
    shutdown(c.fd, SHUT_WR);
    status = reap(&cli, TIMEOUT_MS);
    is_int(status, 0, "%s: the peer client accepted our server", name);
  } else {
    is_int(rc, want, "%s: refused with %s (%s)", name, gust_errname(want),
           gust_tls_error_message(c.tls));
    ok(gust_tls_error_message(c.tls)[0] != '\0', "%s: message given", name);
  }
  gust_tls_free(c.tls);
  close(c.fd);
  stop(&cli);
  gust_tls_ctx_free(ctx);
}

/* Server-side session resumption: the peer client connects, then connects
 * again offering the session (gnutls-cli --resume: TLS 1.3 tickets, 2
 * connections; s_client -reconnect: TLS 1.2 tickets, 6 connections). */
static void resume_case(const char *name, int on) {
  gust_tls_ctx *ctx;
  peer cli;
  char portstr[16], connect[32], ca[512];
  int lfd, port, i, n, handshakes = 0, first_resumed = 0, later_resumed = 0;
  if (!tap_group(name))
    return;
  ctx = tc_server_ctx("server", GUST_TLS_CLIENT_AUTH_NONE, NULL, 0);
  is_int(gust_tls_ctx_set_session_resumption(ctx, on), 0, "%s: resumption %s",
         name, on ? "on" : "off");
  lfd = listen_on(&port);
  snprintf(portstr, sizeof(portstr), "%d", port);
  snprintf(connect, sizeof(connect), "127.0.0.1:%d", port);
  snprintf(ca, sizeof(ca), "%s/ca.pem", tc_dir);
  if (peer_is_gnutls) {
    char *argv[] = {"gnutls-cli", "--port",   portstr,     "--x509cafile",
                    ca,           "--resume", "localhost", NULL};
    cli = spawn(argv, "");
    n = 2;
  } else {
    char *argv[] = {"openssl", "s_client",   "-connect",    connect,
                    "-CAfile", ca,           "-servername", "localhost",
                    "-tls1_2", "-reconnect", NULL};
    cli = spawn(argv, "");
    n = 6;
  }
  close_stdin(&cli);
  for (i = 0; i < n; i++) {
    conn c;
    char buf[64];
    int closed;
    memset(&c, 0, sizeof(c));
    c.deadline = now_ms() + TIMEOUT_MS;
    c.fd = accept_timeout(lfd);
    if (c.fd < 0)
      break;
    if (gust_tls_new(ctx, NULL, NULL, &c.tls) != 0)
      bail_out("engine");
    if (handshake(&c) == 0) {
      handshakes++;
      if (i == 0)
        first_resumed = gust_tls_session_resumed(c.tls);
      else
        later_resumed += gust_tls_session_resumed(c.tls);
      /* Serve until the client leaves, however it leaves. */
      read_some(&c, buf, sizeof(buf), sizeof(buf), &closed);
      if (gust_tls_error(c.tls) == 0 && gust_tls_shutdown(c.tls) == 0)
        flush(&c);
    }
    gust_tls_free(c.tls);
    close(c.fd);
  }
  close(lfd);
  stop(&cli);
  is_int(handshakes, n, "%s: %d handshakes", name, n);
  ok(!first_resumed, "%s: the first session is new", name);
  is_int(later_resumed, on ? n - 1 : 0, "%s: %s", name,
         on ? "later sessions resumed" : "no session resumed");
  gust_tls_ctx_free(ctx);
}

int main(void) {
  const char *backend = gust_tls_backend_name();
  const char *need[2];
  int i;
  signal(SIGPIPE, SIG_IGN);
  peer_is_gnutls = strcmp(backend, "openssl") == 0;
  need[0] = peer_is_gnutls ? "gnutls-serv" : "openssl";
  need[1] = peer_is_gnutls ? "gnutls-cli" : "openssl";
  for (i = 0; i < 2; i++)
    if (!tc_have_program(need[i]))
      plan_skip_all("%s is not installed (Debian package %s)", need[i],
                    peer_is_gnutls ? "gnutls-bin" : "openssl");
  tc_make_certs();
  note("backend %s; peer %s", backend,
       peer_is_gnutls ? "gnutls-serv/gnutls-cli" : "openssl s_server/s_client");

  client_case("client-ok", "server", "localhost", V_DEFAULT, 0, 0);
  client_case("client-ip", "server", "127.0.0.1", V_DEFAULT, 0, 0);
  client_case("client-tls12", "server", "localhost", V_TLS12, 0, 0);
  client_case("client-expired", "expired", "localhost", V_DEFAULT, 0,
              GUST_ETLS_EXPIRED);
  client_case("client-wronghost", "wronghost", "localhost", V_DEFAULT, 0,
              GUST_ETLS_HOSTNAME);
  client_case("client-selfsigned", "selfsigned", "localhost", V_DEFAULT, 0,
              GUST_ETLS_VERIFY);
  client_case("client-tls11", "server", "localhost", V_TLS11, 0,
              GUST_ETLS_VERSION);
  client_case("client-tls10", "server", "localhost", V_TLS10, 0,
              GUST_ETLS_VERSION);

  server_case("server-ok", GUST_TLS_CLIENT_AUTH_NONE, C_PLAIN, V_DEFAULT, 0, 0);
  server_case("server-clientcert", GUST_TLS_CLIENT_AUTH_REQUIRED, C_WITH_CERT,
              V_DEFAULT, 0, 0);
  server_case("server-nocert", GUST_TLS_CLIENT_AUTH_REQUIRED, C_PLAIN,
              V_DEFAULT, 0, GUST_ETLS_NOCERT);
  server_case("server-tls11", GUST_TLS_CLIENT_AUTH_NONE, C_PLAIN, V_TLS11, 0,
              GUST_ETLS_VERSION);
  server_case("server-tls10", GUST_TLS_CLIENT_AUTH_NONE, C_PLAIN, V_TLS10, 0,
              GUST_ETLS_VERSION);
  server_case("server-tls12", GUST_TLS_CLIENT_AUTH_NONE, C_PLAIN, V_TLS12, 0,
              0);
  server_case("server-min13", GUST_TLS_CLIENT_AUTH_NONE, C_PLAIN, V_TLS12,
              GUST_TLS_VERSION_1_3, GUST_ETLS_VERSION);
  server_case("server-truncation", GUST_TLS_CLIENT_AUTH_NONE, C_KILL, V_DEFAULT,
              0, 0);
  resume_case("server-resume", 1);
  resume_case("server-noresume", 0);
  tc_remove_certs();
  return done_testing();
}
