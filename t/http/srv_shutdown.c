/* Graceful shutdown of examples/hello on SIGTERM, with idle keep-alive
 * connections open and a slow POST /echo upload in flight: the listener
 * stops accepting, the idle connections are closed, the upload still
 * completes (its response says Connection: close and the connection
 * closes after it), and only then does the process exit 0.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../tap.h"
#include "srv_common.h"

#define NIDLE 4
#define BODY  200000

static int get_hello(int fd) {
  dbuf in = {0};
  resp r;
  memset(&r, 0, sizeof(r));
  int good = send_str(fd, "GET / HTTP/1.1\r\nHost: a\r\n\r\n") == 0 &&
             read_response(fd, &in, 0, &r) == 1 && r.status == 200 &&
             !r.conn_close;
  resp_free(&r);
  dbuf_free(&in);
  return good;
}

int main(void) {
  static uint8_t body[BODY];
  srv s;
  if (srv_start(&s, NULL, 0) != 0) {
    ok(0, "examples/hello starts");
    return done_testing();
  }
  ok(1, "examples/hello listens on port %d", s.port);
  for (size_t i = 0; i < BODY; i++)
    body[i] = (uint8_t)('a' + (i * 7 + i / 13) % 26);

  /* Idle keep-alive connections, each answered once. */
  int idle[NIDLE], answered = 0;
  for (int i = 0; i < NIDLE; i++) {
    idle[i] = conn_open(s.port);
    answered += idle[i] >= 0 && get_hello(idle[i]);
  }
  is_int(answered, NIDLE, "%d idle keep-alive connections answered once",
         NIDLE);

  /* The in-flight upload: the head and half of the body. */
  char head[128];
  snprintf(head, sizeof(head),
           "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n",
           BODY);
  int up = conn_open(s.port);
  ok(up >= 0 && send_str(up, head) == 0 && send_all(up, body, BODY / 2) == 0,
     "upload in flight: head and half of the body sent");
  /* A second one with only its head sent: hello starts the echo response
   * with the first body bytes, so this response begins after the signal
   * and must say Connection: close. */
  int up2 = conn_open(s.port);
  ok(up2 >= 0 && send_str(up2, "POST /echo HTTP/1.1\r\nHost: a\r\n"
                               "Content-Length: 5\r\n\r\n") == 0,
     "second upload in flight: head sent");
  usleep(300000);
  /* Did the echo start its response before the signal? Then its head
   * cannot carry Connection: close. */
  struct pollfd p = {up, POLLIN, 0};
  int head_before = up >= 0 && poll(&p, 1, 0) > 0;

  ok(kill(s.pid, SIGTERM) == 0, "SIGTERM sent");

  /* The listener stops accepting. */
  double end = now_sec() + SRV_IO_TIMEOUT;
  int refused = 0;
  while (now_sec() < end) {
    int fd = conn_open(s.port);
    if (fd < 0 && errno == ECONNRESET) {
      /* in the listener's queue as it closed: try again */
      usleep(20000);
      continue;
    }
    if (fd < 0) {
      refused = errno == ECONNREFUSED;
      if (!refused)
        diag("connect after SIGTERM: %s", strerror(errno));
      break;
    }
    close(fd);
    usleep(20000);
  }
  ok(refused, "new connections are refused after SIGTERM");

  /* The idle connections are closed. */
  int closed = 0;
  for (int i = 0; i < NIDLE; i++)
    closed += idle[i] >= 0 && wait_closed(idle[i], SRV_IO_TIMEOUT);
  is_int(closed, NIDLE, "idle connections closed by the server");

  /* The server waits for the upload. */
  ok(srv_wait(&s, 0.5) == -1, "the server is still running for the upload");

  dbuf in = {0};
  resp r;
  memset(&r, 0, sizeof(r));
  int sent = up >= 0 && send_all(up, body + BODY / 2, BODY - BODY / 2) == 0;
  int got = sent ? read_response(up, &in, 0, &r) : -1;
  ok(sent && got == 1 && r.status == 200,
     "the in-flight upload completes with 200");
  cmp_mem(got == 1 ? r.body.p : NULL, got == 1 ? r.body.len : 0, body, BODY,
          "the in-flight upload is echoed whole");
  if (head_before)
    skip(1, "the echo response began before SIGTERM");
  else
    ok(got == 1 && r.conn_close, "its response carries Connection: close");
  dbuf rest = {0};
  ok(up >= 0 && read_to_eof(up, &rest) == 0 && rest.len == 0,
     "the upload's connection is closed after the response");
  dbuf_free(&rest);
  resp_free(&r);
  dbuf_free(&in);

  /* The second upload, whose response starts now. */
  memset(&r, 0, sizeof(r));
  got = up2 >= 0 && send_str(up2, "hello") == 0 ? read_response(up2, &in, 0, &r)
                                                : -1;
  ok(got == 1 && r.status == 200 && r.body.len == 5 &&
         memcmp(r.body.p, "hello", 5) == 0,
     "the second upload completes with 200 and its body");
  ok(got == 1 && r.conn_close,
     "a response begun after SIGTERM carries Connection: close");
  ok(up2 >= 0 && read_to_eof(up2, &rest) == 0 && rest.len == 0,
     "the second upload's connection is closed after the response");
  dbuf_free(&rest);
  resp_free(&r);
  dbuf_free(&in);

  int st = srv_wait(&s, SRV_IO_TIMEOUT);
  ok(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
     "hello exits 0 (status %d)", st);
  if (st == -1)
    srv_kill(&s);
  for (int i = 0; i < NIDLE; i++)
    if (idle[i] >= 0)
      close(idle[i]);
  if (up >= 0)
    close(up);
  if (up2 >= 0)
    close(up2);
  return done_testing();
}
