/* poll-server: a complete HTTP/1.1 + WebSocket server on plain poll() that
 * uses nothing of gust but libgust-proto, the Sans-IO core. The program owns
 * the sockets, the clock and the loop; gust turns received bytes into events
 * and answers into bytes to write.
 *
 *   poll-server [-p PORT] [--host ADDR] [--idle SECONDS] [--max-body BYTES]
 *
 * GET / (and HEAD /) serves a page that opens a WebSocket and echoes;
 * POST /echo answers with the request body; GET /ws upgrades to a WebSocket
 * that echoes every message (with permessage-deflate when offered). Port 0
 * picks a free port; the URL is printed once the server listens. SIGINT or
 * SIGTERM stop it gracefully: no new connections, WebSockets closed with
 * 1001, responses in flight finished, then exit status 0. */
#include <gust/http1.h>
#include <gust/ws.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS     1024
#define READ_SIZE     16384
#define HIGH_WATER    (256 * 1024) /* stop reading above this much output */
#define LINGER_SECS   2.0          /* wait for the peer's EOF after our FIN */
#define WS_CLOSE_SECS 5.0          /* wait for the peer's close frame */
#define STOP_SECS     10.0         /* hard limit on a graceful stop */

static const char PAGE[] =
    "<!doctype html>\n"
    "<meta charset=utf-8>\n"
    "<title>gust poll-server</title>\n"
    "<h1>gust poll-server</h1>\n"
    "<p>Each line goes to <code>/ws</code> over a WebSocket and comes "
    "back.</p>\n"
    "<form id=f><input id=m autofocus> <button>send</button></form>\n"
    "<pre id=log></pre>\n"
    "<script>\n"
    "const log = (t) => { document.getElementById('log').textContent += "
    "t + '\\n'; };\n"
    "const ws = new WebSocket(location.origin.replace(/^http/, 'ws') + "
    "'/ws');\n"
    "ws.onopen = () => log('open');\n"
    "ws.onmessage = (e) => log('< ' + e.data);\n"
    "ws.onclose = (e) => log('closed ' + e.code);\n"
    "document.getElementById('f').onsubmit = (e) => {\n"
    "  e.preventDefault();\n"
    "  const m = document.getElementById('m');\n"
    "  ws.send(m.value);\n"
    "  log('> ' + m.value);\n"
    "  m.value = '';\n"
    "};\n"
    "</script>\n";

/* What the request being read asked for; decided from its head. */
enum route { R_NONE, R_PAGE, R_ECHO, R_WS, R_NOT_FOUND, R_METHOD, R_EXPECT };

/* Where a connection is in its life. */
enum phase {
  PH_OPEN,   /* reading and answering */
  PH_FLUSH,  /* write what is queued, then shut down our side */
  PH_LINGER, /* our side is shut: discard input until EOF or deadline */
  PH_DEAD    /* close at the end of this iteration */
};

typedef struct conn {
  int fd;
  enum phase phase;
  gust_h1 *h1;    /* HTTP state machine; after an upgrade it only drains */
  gust_ws *ws;    /* set once the connection switched to WebSocket */
  double idle_at; /* pushed back by every read and write */
  double hard_at; /* a wait that activity does not extend; 0 = none */
  /* the request being read */
  enum route route;
  int in_request; /* between its head and the end of our answer */
  int is_head;
  int upgrading; /* our 101 is queued: SWITCHED comes next */
  char method[16];
  int minor;
  int has_body;
  gust_headers req_headers; /* kept for the WebSocket handshake */
  gust_buf body;            /* POST /echo */
  gust_ws_deflate_params deflate;
  int use_deflate;
  uint8_t in[READ_SIZE]; /* gust_h1_feed() borrows it: see http_input() */
} conn;

static conn *conns[MAX_CONNS];
static size_t nconns;
static int listen_fd = -1;
static int accept_paused; /* out of fds: wait for a connection to close */
static int stopping;
static double stop_deadline;
static double idle_secs = 60.0;
static uint64_t max_body = 1024 * 1024;
static int sig_pipe[2] = {-1, -1};

/* gust has no clock: the program keeps its own, monotonic. */
static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_signal(int signum) {
  int saved = errno;
  unsigned char b = (unsigned char)signum;
  /* the self-pipe wakes poll() without a race against the flag check */
  if (write(sig_pipe[1], &b, 1) < 0) {
    /* full pipe: a wakeup is pending anyway */
  }
  errno = saved;
}

static int set_nonblock(int fd) {
  int fl = fcntl(fd, F_GETFL);
  return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static int slice_is(gust_slice s, const char *lit) {
  size_t n = strlen(lit);
  return s.len == n && memcmp(s.ptr, lit, n) == 0;
}

/* ------------------------------------------------------------------ */
/* Output: the HTTP machine's bytes first (the 101 head), then the     */
/* WebSocket's.                                                        */
/* ------------------------------------------------------------------ */

static gust_slice pending(const conn *c) {
  gust_slice s = gust_h1_pending_output(c->h1);
  if (s.len == 0 && c->ws != NULL)
    s = gust_ws_pending_output(c->ws);
  return s;
}

static void consume(conn *c, size_t n) {
  if (gust_h1_pending_output(c->h1).len > 0)
    gust_h1_consume_output(c->h1, n);
  else
    gust_ws_consume_output(c->ws, n);
}

/* Writes as much as the socket takes now; the rest waits for POLLOUT. */
static void flush(conn *c) {
  while (c->phase != PH_DEAD) {
    gust_slice out = pending(c);
    ssize_t n;
    if (out.len == 0)
      break;
    n = send(c->fd, out.ptr, out.len, MSG_NOSIGNAL);
    if (n > 0) {
      consume(c, (size_t)n);
      c->idle_at = now() + idle_secs;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
        c->phase = PH_DEAD; /* the peer is gone */
      break;
    }
  }
}

/* Moves a connection on once its output drained: a finished WebSocket or a
 * connection marked for closing shuts down its write side, and then waits
 * briefly for the peer's EOF so that a close does not reset the answer. */
static void advance(conn *c) {
  flush(c);
  if (c->phase == PH_OPEN && c->ws != NULL &&
      gust_ws_get_state(c->ws) == GUST_WS_CLOSED)
    c->phase = PH_FLUSH;
  if (c->phase == PH_FLUSH && pending(c).len == 0) {
    shutdown(c->fd, SHUT_WR);
    c->phase = PH_LINGER;
    c->hard_at = now() + LINGER_SECS;
  }
}

/* ------------------------------------------------------------------ */
/* HTTP                                                                */
/* ------------------------------------------------------------------ */

/* Queues a complete response with a Content-Length. The fields go to gust
 * as an array: nothing is allocated besides the output. */
static int respond(conn *c, int status, const char *type, const void *body,
                   size_t len, const char *xname, const char *xvalue) {
  char clen[32];
  gust_h1_field f[3];
  size_t n = 0;
  int rc;
  snprintf(clen, sizeof(clen), "%zu", len);
  f[n].name = gust_slice_cstr("Content-Type");
  f[n++].value = gust_slice_cstr(type);
  f[n].name = gust_slice_cstr("Content-Length");
  f[n++].value = gust_slice_cstr(clen);
  if (xname != NULL) {
    f[n].name = gust_slice_cstr(xname);
    f[n++].value = gust_slice_cstr(xvalue);
  }
  rc = gust_h1_send_response_fields(c->h1, status, NULL, f, n);
  if (rc == 0 && !c->is_head)
    rc = gust_h1_send_data(c->h1, body, len);
  if (rc == 0)
    rc = gust_h1_send_end(c->h1);
  return rc;
}

static int respond_text(conn *c, int status, const char *text) {
  return respond(c, status, "text/plain; charset=utf-8", text, strlen(text),
                 NULL, NULL);
}

/* A request head arrived: keep what the answer needs (the event's slices
 * die at the next call on the machine) and pick the route. */
static int on_request(conn *c, const gust_h1_event *ev) {
  gust_slice path = ev->target;
  size_t i;
  int get = slice_is(ev->method, "GET"), head = slice_is(ev->method, "HEAD");
  for (i = 0; i < path.len; i++)
    if (path.ptr[i] == '?') {
      path.len = i;
      break;
    }
  c->in_request = 1;
  c->upgrading = 0;
  c->is_head = head;
  /* longer methods are copied as "" and fail the handshake's check */
  c->method[0] = '\0';
  if (ev->method.len < sizeof(c->method)) {
    memcpy(c->method, ev->method.ptr, ev->method.len);
    c->method[ev->method.len] = '\0';
  }
  c->minor = ev->minor_version;
  c->has_body = (ev->head & GUST_H1_HEAD_CHUNKED) ||
                ((ev->head & GUST_H1_HEAD_HAS_LENGTH) && ev->content_length);
  gust_buf_clear(&c->body);
  gust_headers_clear(&c->req_headers);
  for (i = 0; i < ev->nfields; i++) {
    int rc = gust_headers_add(
        &c->req_headers, (const char *)ev->fields[i].name.ptr,
        ev->fields[i].name.len, (const char *)ev->fields[i].value.ptr,
        ev->fields[i].value.len);
    if (rc < 0)
      return rc;
  }
  if (ev->head & GUST_H1_HEAD_EXPECT_OTHER)
    c->route = R_EXPECT;
  else if (slice_is(path, "/"))
    c->route = get || head ? R_PAGE : R_METHOD;
  else if (slice_is(path, "/echo"))
    c->route = slice_is(ev->method, "POST") ? R_ECHO : R_METHOD;
  else if (slice_is(path, "/ws"))
    c->route = R_WS; /* the handshake check answers a wrong method */
  else
    c->route = R_NOT_FOUND;
  /* a client waiting for 100 Continue gets it only if the body is wanted;
   * the machine sends none for a body announced over its limit, which gets
   * 413 at the next event */
  if (c->route == R_ECHO && (ev->head & GUST_H1_HEAD_EXPECT_100))
    return gust_h1_send_continue(c->h1);
  return 0;
}

/* Answers an upgrade request: the 101 switches the HTTP machine, whose next
 * event is SWITCHED; a refusal is an ordinary response. */
static int answer_upgrade(conn *c) {
  gust_ws_request req;
  gust_ws_verdict v;
  gust_ws_extensions offers;
  gust_headers resp;
  gust_buf ext;
  int rc;
  memset(&req, 0, sizeof(req));
  req.method = gust_slice_cstr(c->method[0] ? c->method : "?");
  req.http_major = 1;
  req.http_minor = c->minor;
  req.has_body = c->has_body;
  req.headers = &c->req_headers;
  if (gust_ws_server_check(&req, &v) != 0)
    return respond(c, v.status, "text/plain; charset=utf-8", v.body,
                   strlen(v.body), v.header_name, v.header_value);
  /* a malformed or unacceptable offer is declined, never fatal */
  gust_buf_init(&ext, NULL);
  c->use_deflate = 0;
  rc = gust_ws_extensions_parse(&offers, &c->req_headers, NULL);
  if (rc == 0) {
    rc = gust_ws_deflate_negotiate(&offers, NULL, &c->deflate, &ext);
    c->use_deflate = rc == 1;
  }
  gust_ws_extensions_free(&offers);
  gust_headers_init(&resp, NULL);
  rc = rc == GUST_ENOMEM ? rc : 0;
  if (rc == 0)
    rc = gust_ws_server_response(&resp, v.key, gust_slice_cstr(""),
                                 gust_buf_slice(&ext));
  if (rc == 0)
    rc = gust_h1_send_response(c->h1, 101, NULL, &resp);
  c->upgrading = rc == 0;
  gust_headers_free(&resp);
  gust_buf_free(&ext);
  return rc;
}

static int answer(conn *c) {
  gust_slice b;
  switch (c->route) {
  case R_PAGE:
    return respond(c, 200, "text/html; charset=utf-8", PAGE, sizeof(PAGE) - 1,
                   NULL, NULL);
  case R_ECHO:
    b = gust_buf_slice(&c->body);
    return respond(c, 200, "application/octet-stream", b.ptr, b.len, NULL,
                   NULL);
  case R_WS:
    return answer_upgrade(c);
  case R_METHOD:
    return respond(c, 405, "text/plain; charset=utf-8", "Method Not Allowed\n",
                   19, "Allow", "GET, HEAD, POST");
  case R_EXPECT:
    return respond_text(c, 417, "Expectation Failed\n");
  default:
    return respond_text(c, 404, "Not Found\n");
  }
}

static void ws_events(conn *c);

/* The HTTP machine left HTTP after our 101: the bytes it still held belong
 * to the WebSocket. */
static void become_websocket(conn *c, gust_slice early) {
  gust_ws_config cfg;
  memset(&cfg, 0, sizeof(cfg));
  cfg.role = GUST_WS_SERVER;
  cfg.deflate = c->use_deflate ? &c->deflate : NULL;
  if (gust_ws_new(&c->ws, &cfg, NULL) != 0) {
    c->phase = PH_DEAD;
    return;
  }
  gust_headers_free(&c->req_headers);
  gust_buf_free(&c->body);
  c->in_request = 0;
  if (stopping)
    gust_ws_close(c->ws, GUST_WS_CLOSE_GOING_AWAY, "server shutting down", 20);
  if (early.len > 0 && gust_ws_feed(c->ws, early.ptr, early.len) != 0) {
    c->phase = PH_DEAD;
    return;
  }
  ws_events(c);
}

/* Pulls events until the machine needs input or the connection ends. It
 * must run to NEED_DATA (or an end) after every feed: only then has the
 * machine copied what it keeps of c->in, which the next read overwrites. */
static void http_events(conn *c) {
  for (;;) {
    gust_h1_event ev;
    int rc = 0;
    switch (gust_h1_next_event(c->h1, &ev)) {
    case GUST_H1_REQUEST:
      rc = on_request(c, &ev);
      break;
    case GUST_H1_DATA:
      if (c->route == R_ECHO)
        rc = gust_buf_append(&c->body, ev.data.ptr, ev.data.len);
      break;
    case GUST_H1_TRAILERS:
      break;
    case GUST_H1_END_MESSAGE:
      rc = answer(c);
      if (rc == 0 && !c->upgrading)
        c->in_request = 0;
      if (rc == 0 && stopping && !c->upgrading) {
        c->phase = PH_FLUSH; /* answered the request in flight: done */
        return;
      }
      break;
    case GUST_H1_SWITCHED:
      become_websocket(c, ev.data);
      return;
    case GUST_H1_CLOSED:
      c->phase = PH_FLUSH;
      return;
    case GUST_H1_ERROR:
      fprintf(stderr, "poll-server: fd %d: %s (%s) at byte %llu\n", c->fd,
              ev.message, gust_errname(ev.code), (unsigned long long)ev.offset);
      /* the state machine chose the status (400, 413, 431...); when it is
       * 0 no answer is possible and this returns GUST_ESTATE */
      gust_h1_send_error(c->h1);
      c->phase = PH_FLUSH;
      return;
    default: /* NEED_DATA; PAUSED cannot happen: we answer at once */
      return;
    }
    if (rc != 0) {
      /* out of memory, or an answer gust refused: nothing sane to send */
      fprintf(stderr, "poll-server: fd %d: %s\n", c->fd, gust_strerror(rc));
      c->phase = PH_DEAD;
      return;
    }
  }
}

static void http_input(conn *c, const uint8_t *data, size_t len, int eof) {
  int rc = eof ? gust_h1_feed_eof(c->h1, 0) : gust_h1_feed(c->h1, data, len);
  if (rc != 0) {
    c->phase = PH_DEAD;
    return;
  }
  http_events(c);
}

/* ------------------------------------------------------------------ */
/* WebSocket                                                           */
/* ------------------------------------------------------------------ */

static void ws_events(conn *c) {
  for (;;) {
    gust_ws_event ev;
    int rc = gust_ws_next_event(c->ws, &ev);
    if (rc < 0 || ev.type == GUST_WS_EV_NEED_DATA) {
      if (rc == GUST_ENOMEM)
        c->phase = PH_DEAD;
      return;
    }
    switch (ev.type) {
    case GUST_WS_EV_TEXT:
    case GUST_WS_EV_BINARY:
      rc = gust_ws_send(c->ws,
                        ev.type == GUST_WS_EV_TEXT ? GUST_WS_OP_TEXT
                                                   : GUST_WS_OP_BINARY,
                        ev.data.ptr, ev.data.len);
      /* GUST_ESTATE: we already sent our close (shutting down) */
      if (rc != 0 && rc != GUST_ESTATE) {
        c->phase = PH_DEAD;
        return;
      }
      break;
    case GUST_WS_EV_ERROR:
      fprintf(stderr, "poll-server: fd %d: websocket: %s (close %u)\n", c->fd,
              ev.message, ev.code);
      /* our close frame is queued: wait a little for the peer's */
      c->hard_at = now() + WS_CLOSE_SECS;
      break;
    default: /* pings are answered by gust; CLOSE: its reply is queued */
      break;
    }
  }
}

static void ws_input(conn *c, const uint8_t *data, size_t len, int eof) {
  if (eof) {
    /* a clean end comes after the close handshake; anything else is an
     * abnormal closure (1006): nothing more to say to this peer */
    c->phase = gust_ws_get_state(c->ws) == GUST_WS_CLOSED ? PH_FLUSH : PH_DEAD;
    return;
  }
  if (gust_ws_feed(c->ws, data, len) != 0) {
    c->phase = PH_DEAD;
    return;
  }
  ws_events(c);
}

/* ------------------------------------------------------------------ */
/* Connections                                                         */
/* ------------------------------------------------------------------ */

static void on_readable(conn *c) {
  ssize_t n;
  if (c->phase != PH_OPEN && c->phase != PH_LINGER)
    return; /* still writing its last words: a failed write ends it */
  n = recv(c->fd, c->in, sizeof(c->in), 0);
  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
      c->phase = PH_DEAD;
    return;
  }
  if (c->phase == PH_LINGER) {
    if (n == 0)
      c->phase = PH_DEAD; /* the peer saw our FIN and closed */
    return;
  }
  c->idle_at = now() + idle_secs;
  if (c->ws != NULL)
    ws_input(c, c->in, (size_t)n, n == 0);
  else
    http_input(c, c->in, (size_t)n, n == 0);
}

static int want_read(const conn *c) {
  if (c->phase == PH_LINGER)
    return 1;
  /* back-pressure: a peer that does not read its answers gets no more */
  return c->phase == PH_OPEN && pending(c).len < HIGH_WATER;
}

static void add_conn(int fd) {
  gust_h1_config cfg;
  conn *c = calloc(1, sizeof(*c));
  if (c == NULL) {
    close(fd);
    return;
  }
  gust_h1_config_init(&cfg);
  cfg.max_body = max_body; /* more → the machine's ERROR with 413 */
  if (gust_h1_new(&c->h1, GUST_H1_SERVER, &cfg, NULL) != 0) {
    free(c);
    close(fd);
    return;
  }
  c->fd = fd;
  c->phase = PH_OPEN;
  c->idle_at = now() + idle_secs;
  gust_headers_init(&c->req_headers, NULL);
  gust_buf_init(&c->body, NULL);
  conns[nconns++] = c;
}

static void free_conn(conn *c) {
  close(c->fd);
  gust_ws_free(c->ws);
  gust_h1_free(c->h1);
  gust_headers_free(&c->req_headers);
  gust_buf_free(&c->body);
  free(c);
}

static void accept_all(void) {
  while (nconns < MAX_CONNS) {
    int one = 1, fd = accept(listen_fd, NULL, NULL);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE)
        accept_paused = 1;
      return; /* EAGAIN: all taken; others: the peer already left */
    }
    if (set_nonblock(fd) != 0) {
      close(fd);
      continue;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    add_conn(fd);
  }
}

static double deadline(const conn *c) {
  return c->hard_at > 0 && c->hard_at < c->idle_at ? c->hard_at : c->idle_at;
}

/* The idle timer and the linger and close-handshake waits. */
static void on_deadline(conn *c) {
  if (c->phase == PH_LINGER || c->phase == PH_FLUSH) {
    c->phase = PH_DEAD;
  } else if (c->ws != NULL && gust_ws_get_state(c->ws) == GUST_WS_OPEN) {
    gust_ws_close(c->ws, GUST_WS_CLOSE_GOING_AWAY, "idle", 4);
    c->hard_at = now() + WS_CLOSE_SECS;
  } else {
    c->phase = PH_DEAD; /* idle HTTP, or a close handshake that stalled */
  }
}

/* SIGINT/SIGTERM: stop listening, say goodbye to WebSockets, let requests
 * in flight finish, close idle connections. */
static void begin_stop(void) {
  size_t i;
  stopping = 1;
  stop_deadline = now() + STOP_SECS;
  close(listen_fd);
  listen_fd = -1;
  for (i = 0; i < nconns; i++) {
    conn *c = conns[i];
    if (c->phase != PH_OPEN)
      continue;
    if (c->ws != NULL) {
      if (gust_ws_get_state(c->ws) == GUST_WS_OPEN)
        gust_ws_close(c->ws, GUST_WS_CLOSE_GOING_AWAY, "server shutting down",
                      20);
      c->hard_at = now() + WS_CLOSE_SECS;
    } else if (!c->in_request) {
      c->phase = PH_FLUSH;
    }
    advance(c);
  }
}

static int listen_on(const char *host, const char *port, char *url,
                     size_t url_size) {
  struct addrinfo hints, *res, *ai;
  struct sockaddr_storage ss;
  socklen_t sl = sizeof(ss);
  char hbuf[NI_MAXHOST], pbuf[NI_MAXSERV];
  int rc, one = 1;
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  rc = getaddrinfo(host, port, &hints, &res);
  if (rc != 0) {
    fprintf(stderr, "poll-server: %s: %s\n", host, gai_strerror(rc));
    return -1;
  }
  for (ai = res; ai != NULL; ai = ai->ai_next) {
    listen_fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (listen_fd < 0)
      continue;
    setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(listen_fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
        listen(listen_fd, 128) == 0 && set_nonblock(listen_fd) == 0)
      break;
    close(listen_fd);
    listen_fd = -1;
  }
  freeaddrinfo(res);
  if (listen_fd < 0 ||
      getsockname(listen_fd, (struct sockaddr *)&ss, &sl) != 0 ||
      getnameinfo((struct sockaddr *)&ss, sl, hbuf, sizeof(hbuf), pbuf,
                  sizeof(pbuf), NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
    fprintf(stderr, "poll-server: cannot listen on %s port %s: %s\n", host,
            port, strerror(errno));
    return -1;
  }
  snprintf(url, url_size,
           ss.ss_family == AF_INET6 ? "http://[%s]:%s/" : "http://%s:%s/", hbuf,
           pbuf);
  return 0;
}

static void usage(void) {
  fprintf(stderr, "usage: poll-server [-p PORT] [--host ADDR] "
                  "[--idle SECONDS] [--max-body BYTES]\n");
  exit(2);
}

int main(int argc, char **argv) {
  static struct pollfd pfd[MAX_CONNS + 2];
  const char *host = "127.0.0.1", *port = "8888";
  char url[NI_MAXHOST + NI_MAXSERV + 16];
  struct sigaction sa;
  int i;

  for (i = 1; i < argc; i++) {
    if ((strcmp(argv[i], "-p") == 0 || strcmp(argv[i], "--port") == 0) &&
        i + 1 < argc)
      port = argv[++i];
    else if (strcmp(argv[i], "--host") == 0 && i + 1 < argc)
      host = argv[++i];
    else if (strcmp(argv[i], "--idle") == 0 && i + 1 < argc)
      idle_secs = atof(argv[++i]);
    else if (strcmp(argv[i], "--max-body") == 0 && i + 1 < argc)
      max_body = strtoull(argv[++i], NULL, 10);
    else
      usage();
  }
  if (!(idle_secs > 0) || max_body == 0)
    usage();

  signal(SIGPIPE, SIG_IGN);
  if (pipe(sig_pipe) != 0 || set_nonblock(sig_pipe[0]) != 0 ||
      set_nonblock(sig_pipe[1]) != 0) {
    perror("poll-server: pipe");
    return 1;
  }
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  if (listen_on(host, port, url, sizeof(url)) != 0)
    return 1;
  printf("poll-server: listening on %s\n", url);
  fflush(stdout);

  while (!stopping || nconns > 0) {
    size_t k, nfd = 0, first_conn;
    double t = now(), next = stopping ? stop_deadline : -1;
    int timeout = -1;

    pfd[nfd].fd = sig_pipe[0];
    pfd[nfd++].events = POLLIN;
    if (listen_fd >= 0) {
      pfd[nfd].fd = listen_fd;
      pfd[nfd++].events =
          (short)(nconns < MAX_CONNS && !accept_paused ? POLLIN : 0);
    }
    first_conn = nfd;
    for (k = 0; k < nconns; k++) {
      conn *c = conns[k];
      pfd[nfd].fd = c->fd;
      pfd[nfd].events = (short)((want_read(c) ? POLLIN : 0) |
                                (pending(c).len > 0 ? POLLOUT : 0));
      pfd[nfd++].revents = 0;
      if (next < 0 || deadline(c) < next)
        next = deadline(c);
    }
    if (next >= 0) /* rounded up, so that the deadline has passed */
      timeout = next <= t           ? 0
                : next - t > 3600.0 ? 3600000
                                    : (int)((next - t) * 1000.0) + 1;

    if (poll(pfd, (nfds_t)nfd, timeout) < 0 && errno != EINTR) {
      perror("poll-server: poll");
      return 1;
    }

    t = now();
    for (k = 0; k < nconns; k++) {
      conn *c = conns[k];
      short re = pfd[first_conn + k].revents;
      if (re & (POLLIN | POLLHUP | POLLERR))
        on_readable(c);
      if (re & POLLOUT)
        flush(c);
      if (c->phase != PH_DEAD && t >= deadline(c))
        on_deadline(c);
      if (c->phase != PH_DEAD)
        advance(c);
    }
    if (stopping && t >= stop_deadline)
      for (k = 0; k < nconns; k++)
        conns[k]->phase = PH_DEAD;
    /* compact the table, closing the dead */
    for (k = 0; k < nconns;) {
      if (conns[k]->phase == PH_DEAD) {
        free_conn(conns[k]);
        conns[k] = conns[--nconns];
        accept_paused = 0;
      } else {
        k++;
      }
    }
    if (pfd[0].revents & POLLIN) {
      unsigned char b[16];
      while (read(sig_pipe[0], b, sizeof(b)) > 0) {
      }
      if (!stopping)
        begin_stop();
    }
    if (listen_fd >= 0 && (pfd[1].revents & POLLIN))
      accept_all();
  }
  close(sig_pipe[0]);
  close(sig_pipe[1]);
  return 0;
}
