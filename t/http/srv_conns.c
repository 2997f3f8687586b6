/* 10,000 concurrent idle keep-alive connections to examples/hello: all
 * opened (RLIMIT_NOFILE raised for this program and for the server), one
 * request answered on each, all still open afterwards, then a second
 * request on every one, then all closed and the server still serves.
 *
 * GUST_SRV_CONNS overrides the number of connections.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../tap.h"
#include "srv_common.h"

/* Connections are opened and used in batches smaller than the listen
 * backlog (Tornado's is 128): a full accept queue would drop SYNs and cost
 * a second each. */
#define BATCH 64
/* A round gives up after this many failed connections. */
#define GIVE_UP 3

static const char req[] = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";

/* Reads one "Hello, World!" response on `fd`; 1 if right. */
static int answer(int fd) {
  dbuf in = {0};
  resp r;
  memset(&r, 0, sizeof(r));
  int good = read_response(fd, &in, 0, &r) == 1 && r.status == 200 &&
             !r.conn_close && r.body.len == 13 && in.len == 0;
  resp_free(&r);
  dbuf_free(&in);
  return good;
}

/* Batch by batch: opens the connections first if `port` > 0, sends one
 * request on each of fds[0..n), then reads the answers. Returns the number
 * answered correctly; *opened counts the connections opened. */
static int round_trip(int *fds, int n, int port, int *opened) {
  int good = 0, bad = 0;
  for (int b = 0; b < n && bad < GIVE_UP; b += BATCH) {
    int e = b + BATCH < n ? b + BATCH : n;
    for (int i = b; i < e && port > 0; i++) {
      fds[i] = conn_open(port);
      if (fds[i] >= 0) {
        ++*opened;
        conn_set_rcvtimeo(fds[i], 10);
      }
      else if (bad++ == 0)
        diag("connection %d: %s", i, strerror(errno));
    }
    for (int i = b; i < e; i++)
      if (fds[i] >= 0 && send_all(fds[i], req, sizeof(req) - 1) != 0) {
        close(fds[i]);
        fds[i] = -1;
      }
    for (int i = b; i < e && bad < GIVE_UP; i++) {
      if (fds[i] < 0)
        continue;
      if (answer(fds[i]))
        good++;
      else if (bad++ == 0)
        diag("connection %d: no right answer", i);
    }
  }
  if (bad >= GIVE_UP)
    diag("gave up after %d failures", bad);
  return good;
}

static int count_fds(pid_t pid) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/%ld/fd", (long)pid);
  DIR *d = opendir(path);
  int n = 0;
  if (d == NULL)
    return -1;
  while (readdir(d) != NULL)
    n++;
  closedir(d);
  return n - 2;
}

int main(void) {
  int n = 10000;
  const char *env = getenv("GUST_SRV_CONNS");
  if (env != NULL && atoi(env) > 0)
    n = atoi(env);
  long nofile = n + 1024;
  ok(raise_nofile(nofile) == 0, "RLIMIT_NOFILE raised to %ld", nofile);
  srv s;
  if (srv_start(&s, NULL, nofile) != 0) {
    ok(0, "examples/hello starts");
    return done_testing();
  }
  ok(1, "examples/hello listens on port %d", s.port);
  long rss0 = proc_status_kib(s.pid, "VmRSS");

  int *fds = calloc((size_t)n, sizeof(int));
  if (fds == NULL)
    bail_out("out of memory");
  int opened = 0, unused = 0;
  for (int i = 0; i < n; i++)
    fds[i] = -1;
  double t0 = now_sec();
  int first = round_trip(fds, n, s.port, &opened);
  is_int(opened, n, "%d connections opened", n);
  is_int(first, n, "one request answered on each connection (%.1f s)",
         now_sec() - t0);
  int sfds = count_fds(s.pid);
  ok(sfds >= n, "the server holds them all open (%d descriptors)", sfds);
  long rss1 = proc_status_kib(s.pid, "VmRSS");
  note("server RSS %ld KiB idle, %ld KiB with %d connections (%.1f KiB "
       "each)",
       rss0, rss1, n, (double)(rss1 - rss0) / n);

  /* None of them was closed by the server. */
  int closed = 0;
  for (int b = 0; b < n; b += 1000) {
    int e = b + 1000 < n ? b + 1000 : n;
    struct pollfd p[1000];
    for (int i = b; i < e; i++) {
      p[i - b].fd = fds[i];
      p[i - b].events = POLLIN;
      p[i - b].revents = 0;
    }
    if (poll(p, (nfds_t)(e - b), 0) > 0)
      for (int i = 0; i < e - b; i++)
        closed += p[i].revents != 0;
  }
  is_int(closed, 0, "all %d connections still open and quiet", n);

  t0 = now_sec();
  int second = round_trip(fds, n, 0, &unused);
  is_int(second, n, "a second request answered on each (%.1f s)",
         now_sec() - t0);

  for (int i = 0; i < n; i++)
    if (fds[i] >= 0)
      close(fds[i]);
  free(fds);

  /* The server notices the closes and keeps serving. */
  int fd = conn_open(s.port);
  ok(fd >= 0 && send_all(fd, req, sizeof(req) - 1) == 0 && answer(fd),
     "a fresh connection is served after the closes");
  if (fd >= 0)
    close(fd);
  double end = now_sec() + SRV_IO_TIMEOUT;
  while ((sfds = count_fds(s.pid)) >= n / 2 && now_sec() < end)
    usleep(50000);
  ok(sfds < n / 2,
     "the server released the closed connections (%d "
     "descriptors left)",
     sfds);
  is_int(srv_stop(&s, 30), 0, "hello exits 0 on SIGTERM");
  return done_testing();
}
