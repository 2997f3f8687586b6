/* Slowloris against examples/hello started with short idle and body
 * timeouts: a connection trickling its head one byte a second, one
 * trickling its body, and one that stays idle after a response are all
 * closed by the server, while fresh connections opened during the attack
 * are served normally and promptly.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../tap.h"
#include "srv_common.h"

#define TIMEOUT_ARG "2"
#define TIMEOUT     2.0
/* The attack lasts at most this long (seconds): far beyond the timeouts. */
#define ATTACK_LIMIT 20.0

typedef struct slow {
  const char *name;
  int fd;
  const char *trickle; /* sent one byte per second after `prefix` */
  size_t pos;
  double start, next, closed_at;
  int sent;
} slow;

/* Returns 1 if the server has closed `fd` (EOF or reset). */
static int peer_closed(int fd) {
  char tmp[4096];
  for (;;) {
    ssize_t r = recv(fd, tmp, sizeof(tmp), MSG_DONTWAIT);
    if (r > 0)
      continue; /* e.g. the echo's streamed response head */
    if (r == 0)
      return 1;
    return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
  }
}

/* One normal request on a fresh connection; returns 1 if answered with 200
 * "Hello, World!", and the time it took in *secs. */
static int normal_request(int port, double *secs) {
  double t0 = now_sec();
  dbuf in = {0};
  resp r;
  memset(&r, 0, sizeof(r));
  int fd = conn_open(port);
  int good = fd >= 0 &&
             send_str(fd, "GET / HTTP/1.1\r\nHost: a\r\n\r\n") == 0 &&
             read_response(fd, &in, 0, &r) == 1 && r.status == 200 &&
             r.body.len == 13 && memcmp(r.body.p, "Hello, World!", 13) == 0;
  if (fd >= 0)
    close(fd);
  resp_free(&r);
  dbuf_free(&in);
  *secs = now_sec() - t0;
  return good;
}

int main(void) {
  static const char *const args[] = {"--idle-timeout", TIMEOUT_ARG,
                                     "--body-timeout", TIMEOUT_ARG, NULL};
  srv s;
  if (srv_start(&s, args, 0) != 0) {
    ok(0, "examples/hello starts with --idle-timeout and --body-timeout");
    return done_testing();
  }
  ok(1, "examples/hello listens on port %d", s.port);

  slow att[3] = {
      {"slow head", -1,
       "GET / HTTP/1.1\r\nHost: a\r\nX-Slow: "
       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
       "aaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n",
       0, 0, 0, 0, 0},
      {"slow body", -1,
       "0123456789012345678901234567890123456789012345678901234567890123456789"
       "0123456789",
       0, 0, 0, 0, 0},
      {"idle keep-alive", -1, NULL, 0, 0, 0, 0, 0},
  };
  double t0 = now_sec();
  for (int i = 0; i < 3; i++) {
    att[i].fd = conn_open(s.port);
    att[i].start = att[i].next = now_sec();
  }
  ok(att[0].fd >= 0 && att[1].fd >= 0 && att[2].fd >= 0,
     "three attacking connections open");
  /* The slow body: a complete head announcing 80 bytes. */
  int setup =
      att[1].fd >= 0 && send_str(att[1].fd, "POST /echo HTTP/1.1\r\nHost: a\r\n"
                                            "Content-Length: 80\r\n\r\n") == 0;
  /* The idle one: a full request and its response, then nothing. */
  if (att[2].fd >= 0) {
    dbuf in = {0};
    resp r;
    memset(&r, 0, sizeof(r));
    setup = setup &&
            send_str(att[2].fd, "GET / HTTP/1.1\r\nHost: a\r\n\r\n") == 0 &&
            read_response(att[2].fd, &in, 0, &r) == 1 && r.status == 200;
    att[2].start = now_sec();
    resp_free(&r);
    dbuf_free(&in);
  }
  ok(setup, "slow body head sent, idle connection answered once");

  int served = 0, failed = 0;
  double worst = 0;
  while (now_sec() - t0 < ATTACK_LIMIT) {
    int open = 0;
    double t = now_sec();
    for (int i = 0; i < 3; i++) {
      slow *a = &att[i];
      if (a->fd < 0 || a->closed_at > 0)
        continue;
      if (peer_closed(a->fd)) {
        a->closed_at = t;
        continue;
      }
      open++;
      if (a->trickle != NULL && t >= a->next && a->trickle[a->pos] != '\0') {
        if (send(a->fd, a->trickle + a->pos, 1, MSG_NOSIGNAL) == 1) {
          a->pos++;
          a->sent++;
        } else {
          a->closed_at = t;
        }
        a->next = t + 1.0;
      }
    }
    if (open == 0)
      break;
    /* Normal traffic meanwhile. */
    double secs;
    if (normal_request(s.port, &secs))
      served++;
    else
      failed++;
    if (secs > worst)
      worst = secs;
    usleep(50000);
  }

  for (int i = 0; i < 3; i++) {
    slow *a = &att[i];
    double after = a->closed_at > 0 ? a->closed_at - a->start : -1;
    ok(a->closed_at > 0,
       "%s: closed by the server (after %.1f s, %d bytes "
       "trickled)",
       a->name, after, a->sent);
    ok(after < 0 || after >= TIMEOUT * 0.5,
       "%s: not closed before the timeout could expire", a->name);
    ok(after < 0 || after <= TIMEOUT * 4 + 2,
       "%s: closed within a generous bound of the %g s timeout", a->name,
       TIMEOUT);
    if (a->fd >= 0)
      close(a->fd);
  }
  ok(served >= 5, "normal requests served during the attack (%d)", served);
  is_int(failed, 0, "no normal request failed during the attack");
  ok(worst < 5.0, "normal requests stayed prompt (slowest %.3f s)", worst);

  /* After the attack the server is fine. */
  double secs;
  ok(normal_request(s.port, &secs), "served after the attack");
  is_int(srv_stop(&s, 30), 0, "hello exits 0 on SIGTERM");
  return done_testing();
}
