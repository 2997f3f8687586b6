/* Multi-process examples/hello (--workers 2): two worker processes run,
 * requests on many connections are all answered, each worker serves (the
 * others stopped, it alone accepts), and SIGTERM stops the whole family:
 * the parent exits 0 and the workers are gone.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../tap.h"
#include "srv_common.h"

#define NCONN 200
#define MAXW  16

/* Lists the children of `pid` (scanning /proc); returns their number. */
static int children_of(pid_t pid, pid_t *out, int max) {
  DIR *d = opendir("/proc");
  struct dirent *e;
  int n = 0;
  if (d == NULL)
    return -1;
  while ((e = readdir(d)) != NULL) {
    char path[300], buf[512];
    long cpid = strtol(e->d_name, NULL, 10);
    if (cpid <= 0)
      continue;
    snprintf(path, sizeof(path), "/proc/%ld/stat", cpid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
      continue;
    size_t len = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[len] = '\0';
    /* pid (comm) state ppid: comm may hold spaces, so look after ')'. */
    char *rp = strrchr(buf, ')');
    char state;
    long ppid;
    if (rp != NULL && sscanf(rp + 1, " %c %ld", &state, &ppid) == 2 &&
        ppid == (long)pid && state != 'Z' && n < max)
      out[n++] = (pid_t)cpid;
  }
  closedir(d);
  return n;
}

int main(void) {
  static const char *const args[] = {"--workers", "2", NULL};
  srv s;
  if (srv_start(&s, args, 0) != 0) {
    ok(0, "examples/hello --workers 2 starts");
    return done_testing();
  }
  ok(1, "examples/hello --workers 2 listens on port %d", s.port);

  pid_t w[MAXW];
  int nw = 0;
  double end = now_sec() + SRV_IO_TIMEOUT;
  while ((nw = children_of(s.pid, w, MAXW)) < 2 && now_sec() < end)
    usleep(50000);
  is_int(nw, 2, "two worker processes run");

  int good = 0, distinct = 0;
  char seen[MAXW][64];
  for (int i = 0; i < NCONN; i++) {
    dbuf in = {0};
    resp r;
    memset(&r, 0, sizeof(r));
    int fd = conn_open(s.port);
    if (fd >= 0 && send_str(fd, "GET / HTTP/1.1\r\nHost: a\r\n\r\n") == 0 &&
        read_response(fd, &in, 0, &r) == 1 && r.status == 200 &&
        r.body.len == 13 && memcmp(r.body.p, "Hello, World!", 13) == 0) {
      good++;
      /* A worker id header, if hello sends one. */
      char v[64];
      if (resp_header(&r, "X-Worker", v, sizeof(v))) {
        int k;
        for (k = 0; k < distinct; k++)
          if (strcmp(seen[k], v) == 0)
            break;
        if (k == distinct && distinct < MAXW)
          snprintf(seen[distinct++], sizeof(seen[0]), "%s", v);
      }
    }
    if (fd >= 0)
      close(fd);
    resp_free(&r);
    dbuf_free(&in);
  }
  is_int(good, NCONN, "%d connections answered", NCONN);
  ok(distinct >= 1, "hello responses name their worker (X-Worker)");

  /* Each worker serves: with every other worker stopped, the one left
   * accepts the connection, and says so. */
  distinct = 0;
  for (int k = 0; k < nw && k < MAXW; k++) {
    char v[64] = "";
    dbuf in = {0};
    resp r;
    memset(&r, 0, sizeof(r));
    for (int j = 0; j < nw; j++)
      if (j != k)
        kill(w[j], SIGSTOP);
    int fd = conn_open(s.port);
    if (fd >= 0 && send_str(fd, "GET / HTTP/1.1\r\nHost: a\r\n\r\n") == 0 &&
        read_response(fd, &in, 0, &r) == 1 && r.status == 200 &&
        resp_header(&r, "X-Worker", v, sizeof(v))) {
      int m;
      for (m = 0; m < distinct; m++)
        if (strcmp(seen[m], v) == 0)
          break;
      if (m == distinct)
        snprintf(seen[distinct++], sizeof(seen[0]), "%s", v);
    }
    if (fd >= 0)
      close(fd);
    for (int j = 0; j < nw; j++)
      if (j != k)
        kill(w[j], SIGCONT);
    ok(v[0] != '\0', "worker %d alone answers (X-Worker: %s)", k, v);
    resp_free(&r);
    dbuf_free(&in);
  }
  is_int(distinct, nw, "every worker served a connection");

  is_int(srv_stop(&s, SRV_IO_TIMEOUT), 0, "hello exits 0 on SIGTERM");
  int alive = 0;
  end = now_sec() + SRV_IO_TIMEOUT;
  do {
    alive = 0;
    for (int i = 0; i < nw; i++) {
      char path[64];
      snprintf(path, sizeof(path), "/proc/%ld/stat", (long)w[i]);
      FILE *f = fopen(path, "r");
      if (f != NULL) {
        char buf[512];
        size_t len = fread(buf, 1, sizeof(buf) - 1, f);
        buf[len] = '\0';
        fclose(f);
        char *rp = strrchr(buf, ')');
        alive += rp != NULL && rp[1] == ' ' && rp[2] != 'Z';
      }
    }
    if (alive > 0)
      usleep(50000);
  } while (alive > 0 && now_sec() < end);
  is_int(alive, 0, "the workers are gone");
  for (int i = 0; i < nw && alive > 0; i++)
    kill(w[i], SIGKILL);
  return done_testing();
}
