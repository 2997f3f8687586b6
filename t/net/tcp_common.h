/* Helpers shared by the TCP server and client tests: running a loop until a
 * future is done, a resolver with a fixed address list, a listener that
 * never answers, the file-descriptor limit, and a look at the kernel's
 * table of connecting sockets.
 *
 * A program that includes <gust/testing.h> before this header (and links
 * libgust-testing) gets the same functions on top of gust's testing
 * helpers: each group runs as a gust_test, so a wait that hangs reports
 * what was pending, and the end of every group is one more check, "NAME:
 * nothing left behind" (no failed future left unread, no timer, callback,
 * handler or connection left on the loop). Other programs keep the plain
 * versions. */
#ifndef GUST_T_NET_TCP_COMMON_H
#define GUST_T_NET_TCP_COMMON_H

#include <gust/future.h>
#include <gust/iostream.h>
#include <gust/loop.h>
#include <gust/tcp.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../tap.h"

/* Every wait is bounded by this many seconds: far beyond what any check
 * needs, so only a real hang trips it. (A gust_test group takes
 * $GUST_ASYNC_TEST_TIMEOUT instead when it is set.) */
#define WAIT_LIMIT 60.0

#ifdef GUST_TESTING_H
/* The test of the group that is running (t_run_group()), or NULL. */
static gust_test *t_current;
#endif

/* Runs `loop` until `f` is done; 0, or -1 (with a diagnostic) on a hang. */
static inline int t_run_future(gust_future *f) {
  int rc;
#ifdef GUST_TESTING_H
  if (t_current != NULL && gust_future_loop(f) == gust_test_loop(t_current))
    return gust_test_wait(t_current, f) == 0 ? 0 : -1;
#endif
  rc = gust_future_run(f, WAIT_LIMIT);
  if (rc != 0 || !gust_future_done(f)) {
    diag("future not done after %.0f s (%s)", WAIT_LIMIT, gust_errname(rc));
    return -1;
  }
  return 0;
}

static inline void t_stop_cb(gust_loop *loop, void *ud) {
  (void)ud;
  gust_loop_stop(loop);
}

/* Runs the loop for about `secs` seconds (lets closes complete). */
static inline void t_run_for(gust_loop *loop, double secs) {
#ifdef GUST_TESTING_H
  if (t_current != NULL && loop == gust_test_loop(t_current)) {
    gust_test_run_for(t_current, secs);
    return;
  }
#endif
  gust_loop_call_later(loop, secs, t_stop_cb, NULL, NULL);
  gust_loop_run(loop);
}

/* Runs the test group `name` (if selected) with a fresh loop in *loop,
 * then lets closes finish and frees the loop. */
static inline void t_run_group(const char *name, gust_loop **loop,
                               void (*fn)(void)) {
  if (!tap_group(name))
    return;
#ifdef GUST_TESTING_H
  if (gust_test_new(&t_current, name, NULL) != 0)
    bail_out("test");
  /* $GUST_ASYNC_TEST_TIMEOUT, when set, bounds the waits instead */
  if (getenv("GUST_ASYNC_TEST_TIMEOUT") == NULL)
    gust_test_set_timeout(t_current, WAIT_LIMIT);
  *loop = gust_test_loop(t_current);
  fn();
  t_run_for(*loop, 0.05);
  ok(gust_test_finish(t_current) == 0, "%s: nothing left behind", name);
  t_current = NULL;
#else
  if (gust_loop_new(loop, NULL) != 0)
    bail_out("loop");
  fn();
  t_run_for(*loop, 0.05);
  gust_loop_free(*loop);
#endif
  *loop = NULL;
}

static inline int t_flag_set(gust_loop *loop, void *ud) {
  (void)loop;
  return *(int *)ud != 0;
}

static inline void t_flag_timeout(gust_loop *loop, void *ud) {
  (void)ud;
  gust_loop_stop(loop);
}

/* Runs the loop until `cond(loop, ud)` holds; 0, or -1 on a hang. `what`
 * names the condition in the report of a hang. */
static inline int t_run_until(gust_loop *loop, gust_loop_cond_fn cond, void *ud,
                              const char *what) {
  gust_timer wd;
  int rc;
#ifdef GUST_TESTING_H
  if (t_current != NULL && loop == gust_test_loop(t_current))
    return gust_test_run_until(t_current, cond, ud, what) == 0 ? 0 : -1;
#endif
  gust_loop_call_later(loop, WAIT_LIMIT, t_flag_timeout, NULL, &wd);
  rc = gust_loop_run_until(loop, cond, ud);
  gust_loop_cancel(loop, wd);
  if (rc != 0)
    diag("%s: not met after %.0f s", what, WAIT_LIMIT);
  return rc == 0 ? 0 : -1;
}

/* Runs the loop until *flag is non-zero; 0, or -1 on a hang. */
static inline int t_run_until_flag(gust_loop *loop, int *flag) {
  return t_run_until(loop, t_flag_set, flag, "a flag");
}

/* ------------------------------------------------------------------ */
/* A resolver with a fixed answer                                       */
/* ------------------------------------------------------------------ */

typedef struct fixed_list {
  gust_addr addrs[8];
  size_t n;
  int status;    /* what to report (0 = the addresses) */
  int calls;     /* resolutions asked */
  int family;    /* family of the last resolution */
  char host[64]; /* host of the last resolution */
} fixed_list;

static inline int fixed_resolve(gust_loop *loop, const char *host, int port,
                                int family, gust_resolve_done_fn done,
                                void *token, void *ud) {
  fixed_list *fl = ud;
  (void)loop;
  (void)port;
  fl->calls++;
  fl->family = family;
  snprintf(fl->host, sizeof(fl->host), "%s", host);
  done(token, fl->status, fl->status == 0 ? fl->addrs : NULL,
       fl->status == 0 ? fl->n : 0);
  return 0;
}

static inline void fixed_add(fixed_list *fl, const char *ip, int port) {
  if (fl->n >= 8 || gust_addr_set(&fl->addrs[fl->n], ip, port) != 0)
    bail_out("bad test address %s", ip);
  fl->n++;
}

/* ------------------------------------------------------------------ */
/* Sockets made directly for the tests                                  */
/* ------------------------------------------------------------------ */

/* 1 if this host can bind the IPv6 loopback address. */
static inline int t_have_ipv6(void) {
  struct sockaddr_in6 s6;
  int fd = socket(AF_INET6, SOCK_STREAM, 0), r;
  if (fd < 0)
    return 0;
  memset(&s6, 0, sizeof(s6));
  s6.sin6_family = AF_INET6;
  s6.sin6_addr = in6addr_loopback;
  r = bind(fd, (struct sockaddr *)&s6, sizeof(s6)) == 0;
  close(fd);
  return r;
}

/* A port on `ip` where nothing listens: bound, read back, closed. */
static inline int t_closed_port(const char *ip) {
  gust_addr a;
  socklen_t len;
  int fd, port;
  if (gust_addr_set(&a, ip, 0) != 0)
    bail_out("bad address %s", ip);
  fd = socket(a.ss.ss_family, SOCK_STREAM, 0);
  if (fd < 0 || bind(fd, (struct sockaddr *)&a.ss, (socklen_t)a.len) != 0)
    bail_out("cannot bind %s: %s", ip, strerror(errno));
  len = sizeof(a.ss);
  getsockname(fd, (struct sockaddr *)&a.ss, &len);
  port = gust_addr_port(&a);
  close(fd);
  return port;
}

/* A listener on 127.0.0.1 that never answers: listen(fd, 0) with its
 * accept queue filled by connections nobody accepts, so that Linux drops
 * every further SYN and a connect to it hangs. */
typedef struct hang_listener {
  int fd;
  int port;
  int fillers[16];
  int nfill;
} hang_listener;

/* Returns 0 once a probe connect was seen to hang for 0.3 s, -1 if this
 * host could not be made to drop SYNs (the caller fails the test). */
static inline int hang_open(hang_listener *h) {
  struct sockaddr_in s4;
  socklen_t len = sizeof(s4);
  memset(h, 0, sizeof(*h));
  memset(&s4, 0, sizeof(s4));
  s4.sin_family = AF_INET;
  s4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  h->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (h->fd < 0 || bind(h->fd, (struct sockaddr *)&s4, sizeof(s4)) != 0 ||
      listen(h->fd, 0) != 0)
    return -1;
  getsockname(h->fd, (struct sockaddr *)&s4, &len);
  h->port = ntohs(s4.sin_port);
  while (h->nfill < 16) {
    struct pollfd p;
    int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), r;
    int err = 0;
    socklen_t elen = sizeof(err);
    if (c < 0)
      return -1;
    r = connect(c, (struct sockaddr *)&s4, sizeof(s4));
    if (r != 0 && errno != EINPROGRESS) {
      close(c);
      return -1;
    }
    p.fd = c;
    p.events = POLLOUT;
    p.revents = 0;
    r = poll(&p, 1, 300);
    if (r == 0) {
      close(c); /* this one hung: the queue is full */
      return 0;
    }
    getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &elen);
    if (err != 0) {
      close(c);
      return -1;
    }
    h->fillers[h->nfill++] = c;
  }
  return -1;
}

static inline void hang_close(hang_listener *h) {
  int i;
  for (i = 0; i < h->nfill; i++)
    close(h->fillers[i]);
  if (h->fd >= 0)
    close(h->fd);
  h->fd = -1;
  h->nfill = 0;
}

/* Counts IPv4 sockets in SYN_SENT towards 127.0.0.1:`port` (from
 * /proc/net/tcp), or -1 if the table cannot be read. */
static inline int t_syn_sent_to(int port) {
  FILE *f = fopen("/proc/net/tcp", "r");
  char line[512];
  int n = 0;
  if (f == NULL)
    return -1;
  if (fgets(line, sizeof(line), f) == NULL) {
    fclose(f);
    return -1;
  }
  while (fgets(line, sizeof(line), f) != NULL) {
    unsigned raddr, rport, st;
    if (sscanf(line, " %*d: %*x:%*x %x:%x %x", &raddr, &rport, &st) == 3 &&
        (int)rport == port && st == 0x02)
      n++;
  }
  fclose(f);
  return n;
}

/* Raises the soft limit on open files to at least `want`; 0, or -1 when
 * the hard limit does not allow it. */
static inline int t_raise_nofile(rlim_t want) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
    return -1;
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur >= want)
    return 0;
  if (rl.rlim_cur == RLIM_INFINITY)
    return 0;
  if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want) {
    diag("RLIMIT_NOFILE hard limit %llu is below the %llu this test needs",
         (unsigned long long)rl.rlim_max, (unsigned long long)want);
    return -1;
  }
  rl.rlim_cur = want;
  return setrlimit(RLIMIT_NOFILE, &rl) == 0 ? 0 : -1;
}

#endif /* GUST_T_NET_TCP_COMMON_H */
