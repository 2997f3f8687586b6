/* Fuzz target for the HTTP client driver above the parser: response
 * handling, redirects (Location resolution, method and header rules),
 * gzip decoding, streaming with flow control, the pool and its stale
 * connection retry, all fed by a peer that answers every request with the
 * input's bytes.
 *
 * Input: byte 0 picks the request (bit 0-1 method: GET, HEAD, POST with a
 * body, PUT from a producer; bit 2 follow redirects; bit 3 decompress;
 * bit 4 streaming callback holding every other piece with a future;
 * bit 5 a second request on the same client afterwards; bits 6 and 7
 * both set: the peer keeps the connection open after answering instead of
 * shutting its write side, and the request times out after 50 ms). The rest is
 * what the peer writes once a request head arrived. Every host name resolves to
 * the peer (redirects go nowhere else), and a request that never completes is a
 * hang: abort(). */
#define _GNU_SOURCE
#include <gust/httpclient.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_CONNS 16

typedef struct peer_conn {
  int fd;
  size_t seen;  /* request bytes read so far (up to the head's end) */
  char tail[4]; /* last bytes read, to spot "\r\n\r\n" across reads */
  int answered;
} peer_conn;

static gust_loop *loop;
static int listen_fd = -1;
static int listen_port;
static peer_conn conns[MAX_CONNS];
static const uint8_t *answer;
static size_t answer_len;
static int keep_open;

static void conn_drop(peer_conn *c) {
  gust_loop_remove_handler(loop, c->fd);
  close(c->fd);
  c->fd = -1;
}

static void on_conn(gust_loop *l, int fd, int events, void *ud) {
  peer_conn *c = ud;
  char buf[4096];
  ssize_t n;
  (void)l;
  (void)fd;
  (void)events;
  n = recv(c->fd, buf, sizeof(buf), 0);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  if (n <= 0) {
    conn_drop(c);
    return;
  }
  if (!c->answered) {
    ssize_t i;
    for (i = 0; i < n; i++) {
      memmove(c->tail, c->tail + 1, 3);
      c->tail[3] = buf[i];
      if (memcmp(c->tail, "\r\n\r\n", 4) == 0)
        break;
    }
    if (i == n)
      return;
    /* Answer once the head is in; a body that follows is read and
     * dropped. The socket buffer takes a whole fuzz input. */
    c->answered = 1;
    if (answer_len > 0 &&
        send(c->fd, answer, answer_len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 &&
        errno != EAGAIN)
      conn_drop(c);
    else if (!keep_open)
      shutdown(c->fd, SHUT_WR);
  }
}

static void on_accept(gust_loop *l, int fd, int events, void *ud) {
  int c, i;
  (void)l;
  (void)events;
  (void)ud;
  while ((c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
    for (i = 0; i < MAX_CONNS && conns[i].fd >= 0; i++)
      ;
    if (i == MAX_CONNS) {
      close(c);
      continue;
    }
    memset(&conns[i], 0, sizeof(conns[i]));
    conns[i].fd = c;
    if (gust_loop_add_handler(loop, c, GUST_LOOP_READ, on_conn, &conns[i]) <
        0) {
      close(c);
      conns[i].fd = -1;
    }
  }
}

/* Every host is the peer. */
static int peer_resolve(gust_loop *l, const char *host, int port, int family,
                        gust_resolve_done_fn done, void *token, void *ud) {
  gust_addr a;
  (void)l;
  (void)host;
  (void)port;
  (void)ud;
  if (family == 6 || gust_addr_set(&a, "127.0.0.1", listen_port) != 0) {
    done(token, GUST_ERESOLVE, NULL, 0);
    return 0;
  }
  done(token, 0, &a, 1);
  return 0;
}

static void setup(void) {
  struct sockaddr_in s4;
  socklen_t len = sizeof(s4);
  int i;
  if (gust_loop_new(&loop, NULL) != 0)
    abort();
  for (i = 0; i < MAX_CONNS; i++)
    conns[i].fd = -1;
  listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  memset(&s4, 0, sizeof(s4));
  s4.sin_family = AF_INET;
  s4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&s4, len) != 0 ||
      listen(listen_fd, 64) != 0 ||
      getsockname(listen_fd, (struct sockaddr *)&s4, &len) != 0)
    abort();
  listen_port = ntohs(s4.sin_port);
  if (gust_loop_add_handler(loop, listen_fd, GUST_LOOP_READ, on_accept, NULL) !=
      0)
    abort();
}

typedef struct counts {
  uint64_t bytes;
  unsigned pieces;
  int produced;
} counts;

static int on_piece(const void *p, size_t n, void *ud, gust_future **wait) {
  counts *c = ud;
  (void)p;
  c->bytes += n;
  if (++c->pieces % 2 == 0 && gust_future_moment(wait, loop, NULL) != 0)
    return GUST_ENOMEM;
  return 0;
}

static int producer(gust_fetch_body_writer *w, void *ud, gust_future **done) {
  counts *c = ud;
  (void)done;
  c->produced++;
  return gust_fetch_body_write(w, "abc", 3, NULL) == 0 ? 0 : GUST_EIO;
}

/* Runs one fetch to its end; a fetch that does not end is a hang. */
static void run_fetch(gust_http_client *cl, unsigned flags, counts *c) {
  static const char *const methods[] = {"GET", "HEAD", "POST", "PUT"};
  gust_fetch_request r;
  gust_future *f = NULL;
  char url[64];
  const gust_fetch_response *resp;
  snprintf(url, sizeof(url), "http://fuzz.example:%d/p?q", listen_port);
  gust_fetch_request_init(&r, url);
  r.method = methods[flags & 3];
  if ((flags & 3) == 2) {
    r.body = "k=v";
    r.body_len = 3;
  } else if ((flags & 3) == 3) {
    r.body_producer = producer;
  }
  r.follow_redirects = (flags & 4) != 0;
  r.max_redirects = 3;
  r.decompress_response = (flags & 8) != 0;
  if (flags & 16)
    r.streaming_callback = on_piece;
  r.user_data = c;
  r.connect_timeout = 5;
  r.request_timeout = keep_open ? 0.05 : 5;
  r.max_body_size = 1 << 20;
  if (gust_http_client_fetch(cl, &r, &f) != 0)
    return;
  if (gust_future_run(f, 30) != 0 || !gust_future_done(f))
    abort();
  resp = gust_fetch_response_of(f);
  if (resp != NULL) {
    int code = gust_fetch_response_code(resp);
    gust_slice b = gust_fetch_response_body(resp);
    if (code < 100 || code > 599)
      abort();
    if (code == 599 && gust_fetch_response_error(resp) >= 0)
      abort();
    if (r.streaming_callback != NULL && b.len != 0)
      abort();
    if (b.len > r.max_body_size)
      abort();
  }
  gust_future_unref(f);
}

/* Lets the closes of this input's connections complete. */
static void settle(void) {
  int i, round;
  for (round = 0; round < 4; round++) {
    gust_future *m = NULL;
    if (gust_future_moment(&m, loop, NULL) == 0) {
      gust_future_run(m, 5);
      gust_future_unref(m);
    }
  }
  for (i = 0; i < MAX_CONNS; i++)
    if (conns[i].fd >= 0)
      conn_drop(&conns[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  gust_http_client *cl;
  gust_http_client_opts o;
  gust_resolver res = {peer_resolve, NULL};
  counts c;
  unsigned flags;
  if (size == 0 || size > 65536)
    return 0;
  if (loop == NULL)
    setup();
  flags = data[0];
  answer = data + 1;
  answer_len = size - 1;
  keep_open = (flags & 0xC0) == 0xC0;
  memset(&o, 0, sizeof(o));
  o.resolver = &res;
  o.max_clients = 2;
  if (gust_http_client_new(&cl, loop, &o, NULL) != 0)
    return 0;
  memset(&c, 0, sizeof(c));
  run_fetch(cl, flags, &c);
  if (flags & 32)
    run_fetch(cl, flags, &c);
  gust_http_client_free(cl);
  settle();
  return 0;
}
