/* Fuzz target for the WebSocket connection driver (src/http/websocket.c) in
 * both roles, against a raw local peer socket that sends the input's bytes:
 * the server handler behind a gust HTTP server, and the client of
 * gust_websocket_connect() fed a 101 and frames.
 *
 * Input: byte 0 picks the run, byte 1 paces the peer (0: it sends all at
 * once and reads all there is; n: it sends pieces of n bytes (at least
 * 1/256 of the input) and reads pieces of at least 1 KiB, one of each per
 * loop iteration, and the server's connection gets a small send buffer, so
 * that gust's writes back up), the rest is what the peer sends.
 *   bit 0      role: 0 server (the peer is the client), 1 client
 *   bit 1      permessage-deflate enabled on gust's side
 *   bit 2      the peer keeps its side open after sending (else it shuts
 *              its write side); the application then closes (or aborts)
 *              1 ms later, unless keepalive pings are on and time out
 *   bits 3-4   what the application does with each message: 0 echo,
 *              1 echo and hold the next message on the write's future,
 *              2 echo and hold the next message for a loop iteration,
 *              3 by the message's first byte (mod 7): echo, ping, close
 *              (code and reason from the message), abort, a text write that
 *              is not UTF-8, a graceful shutdown of the server (1001 to its
 *              connections), freeing the server; modes 1 and 3 also send a
 *              message and a ping at open
 *   bit 5      keepalive pings every 3 ms
 *   bit 6      server: the upgrade request offers the extension line that
 *              starts the rest (up to '\n'); client: the rest is the whole
 *              response (no computed 101 head)
 *   bit 7      server: open holds the first message for an iteration;
 *              client: messages are read with gust_websocket_read_message()
 * Client role, bit 1 set and bit 6 clear: the rest starts with the
 * Sec-WebSocket-Extensions answer (up to '\n'; empty = none); the peer
 * answers with a correct 101 for the key it received, then the frames.
 * The client offers the subprotocols "chat" and "superchat"; the server
 * picks the last one offered when their number is odd, none otherwise.
 *
 * Invariants (abort() on a breach): every run ends within 2 s; on_close
 * runs exactly once per opened connection, after open, never inside a call
 * of the application; nothing is delivered after on_close or after our own
 * close; text is valid UTF-8 and messages respect max_message_size; the
 * connect future succeeds exactly when a connection opened; what gust sent
 * after the handshake is a valid frame stream for the agreed extension (as
 * parsed by proto/ws in the other role), a connection that failed with a
 * protocol error sent a close frame, and a server shutdown completes. One
 * loop and one listener serve every input, the server role makes a server
 * per run; each run waits for its closes before the next. */
#define _GNU_SOURCE
#include <gust/websocket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_INPUT     65536
#define MAX_CONNS     4 /* peer connections accepted per run (client role) */
#define MAX_WS        4 /* connections opened per run */
#define MAX_SEEN      (1u << 20) /* bytes of gust's output kept per peer */
#define WATCHDOG      2.0
#define MAX_MESSAGE   65536
#define CLOSE_TIMEOUT 0.005
#define PING_INTERVAL 0.003
#define APP_DELAY     0.001
#define HEADER        2   /* flags and pacing bytes before the payload */
#define MAX_PIECES    256 /* paced sends per run, about */
#define READ_PIECE    1024

enum {
  F_CLIENT = 0x01,
  F_DEFLATE = 0x02,
  F_KEEP_OPEN = 0x04,
  F_MODE = 0x18,
  F_PING = 0x20,
  F_EXT_OR_RAW = 0x40,
  F_HOLD_OR_READ = 0x80
};
enum { MODE_ECHO = 0, MODE_WRITE_WAIT, MODE_MOMENT, MODE_CONTROL };

/* One connection gust opened, as the application sees it. */
typedef struct ws_rec {
  gust_websocket *ws; /* our reference, dropped at the end of the run */
  int closed;         /* on_close calls */
  int local_close;    /* our gust_websocket_close() succeeded */
  int aborted;        /* we called gust_websocket_abort() */
  int compressed;
  gust_ws_deflate_params dp; /* client: as read from the 101 */
  int err;
  unsigned close_code;
  uint64_t messages;
  /* read_message mode */
  gust_future *read;
  int read_ended; /* a read resolved with NULL */
} ws_rec;

/* The raw peer: one socket, what it sends and what it received. */
typedef struct peer {
  int fd;
  int server_side; /* accepted from the listener (client role) */
  int head_done;   /* client role: the request head arrived */
  gust_buf head;   /* client role: the request head so far */
  gust_buf out;    /* what it sends */
  size_t sent;
  int send_done;
  int reset; /* a send or recv failed: gust's output may be cut */
  int eof;
  size_t piece;  /* bytes per send, 0 = all at once */
  size_t rpiece; /* bytes per read, 0 = all there is */
  uint8_t rbuf[16384];
  int resuming; /* a timer turns writing back on next iteration */
  gust_timer resume;
  gust_buf seen; /* gust's bytes (client role: after the request head) */
} peer;

static gust_loop *loop;
static gust_http_server_opts srv_opts;
static gust_http_server *srv; /* server role: one per run */
static int srv_port;
static gust_future *shutdown_fut;
static int listen_fd = -1;
static int listen_port;

/* Per-run state. */
static unsigned flags;
static size_t pace; /* byte 1 */
static const uint8_t *input;
static size_t input_len;
static peer peers[MAX_CONNS];
static size_t n_peers;
static ws_rec recs[MAX_WS];
static size_t n_recs;
static int in_app; /* depth of our calls into a connection */
static int hung;
static gust_timer watchdog, app_timer;
static int app_armed;
static gust_future *connect_fut;
static int connect_done;
static int connect_err;
static gust_websocket_opts ws_opts;
static char chosen[256]; /* the server's subprotocol, checked at open */
static int chose;
static gust_websocket_endpoint endpoint;

#define MODE() ((int)((flags & F_MODE) >> 3))

static void fail(const char *what) {
  size_t i;
  fprintf(stderr,
          "websocket fuzz: %s (flags 0x%02x, input %zu bytes, connect %s)\n",
          what, flags, input_len,
          !(flags & F_CLIENT) ? "-"
          : !connect_done     ? "pending"
                              : gust_errname(connect_err));
  for (i = 0; i < n_recs; i++)
    fprintf(stderr,
            "  ws %zu: closed %d local_close %d aborted %d err %d (%s) "
            "code %u state %d\n",
            i, recs[i].closed, recs[i].local_close, recs[i].aborted,
            recs[i].err, gust_errname(recs[i].err), recs[i].close_code,
            recs[i].ws != NULL ? (int)gust_websocket_get_state(recs[i].ws)
                               : -1);
  for (i = 0; i < n_peers; i++)
    fprintf(stderr, "  peer %zu: fd %d sent %zu/%zu eof %d reset %d seen %zu\n",
            i, peers[i].fd, peers[i].sent, peers[i].out.len, peers[i].eof,
            peers[i].reset, peers[i].seen.len);
  abort();
}

/* The line that starts `p` (up to '\n'), and what follows it. */
static gust_slice take_line(const uint8_t **p, size_t *n) {
  const uint8_t *nl = memchr(*p, '\n', *n);
  gust_slice line;
  line.ptr = *p;
  line.len = nl != NULL ? (size_t)(nl - *p) : *n;
  *p += nl != NULL ? line.len + 1 : line.len;
  *n -= nl != NULL ? line.len + 1 : line.len;
  return line;
}

/* Appends a header line `name: line` where each '\r' of the line stands
 * for a line break, so that more header lines can follow. */
static void put_header(gust_buf *out, const char *name, gust_slice line) {
  size_t i;
  gust_buf_append_str(out, name);
  for (i = 0; i < line.len; i++)
    if (line.ptr[i] == '\r')
      gust_buf_append_str(out, "\r\n");
    else
      gust_buf_append_byte(out, line.ptr[i]);
  gust_buf_append_str(out, "\r\n");
}

/* ------------------------------------------------------------------ */
/* The application                                                      */
/* ------------------------------------------------------------------ */

static ws_rec *rec_of(gust_websocket *ws, const char *where) {
  ws_rec *r = gust_websocket_user_data(ws);
  if (r == NULL || r < recs || r >= recs + n_recs || r->ws != ws)
    fail(where);
  return r;
}

static void app_close(ws_rec *r, unsigned code, const char *reason) {
  int rc;
  in_app++;
  rc = gust_websocket_close(r->ws, code, reason);
  if (rc == GUST_EINVAL)
    rc = gust_websocket_close(r->ws, 1000, NULL);
  if (rc != 0)
    fail("gust_websocket_close with a valid code failed");
  if (gust_websocket_get_state(r->ws) == GUST_WEBSOCKET_OPEN)
    fail("open after gust_websocket_close");
  /* after an abort the close is a no-op (returns 0) */
  if (!r->aborted)
    r->local_close = 1;
  if (gust_websocket_write_message(r->ws, "x", 1, 1, NULL) != GUST_ECLOSED ||
      gust_websocket_ping(r->ws, NULL, 0) != GUST_ECLOSED ||
      gust_websocket_close(r->ws, 1000, NULL) != 0)
    fail("closing connection still accepts writes");
  in_app--;
}

static void app_abort(ws_rec *r) {
  in_app++;
  r->aborted = 1;
  gust_websocket_abort(r->ws);
  in_app--;
}

/* What the application does with a message; *hold (may be NULL) gets a
 * future to wait for before the next message. */
static void act(ws_rec *r, const gust_websocket_message *m,
                gust_future **hold) {
  gust_websocket *ws = r->ws;
  const uint8_t *d = m->data.ptr;
  size_t n = m->data.len;
  int rc, what = MODE() == MODE_CONTROL && n > 0 ? d[0] % 7 : 0;
  gust_future *wf = NULL;

  in_app++;
  switch (what) {
  case 1:
    rc = gust_websocket_ping(ws, d, n > 126 ? 126 : n);
    if ((n > 125) != (rc == GUST_EINVAL))
      fail("ping length check");
    break;
  case 2: {
    char reason[128];
    size_t rl = n > 3 ? n - 3 : 0;
    unsigned code = n >= 3 ? (unsigned)d[1] << 8 | d[2] : 0;
    if (rl > 123)
      rl = 123;
    memcpy(reason, d + (n > 3 ? 3 : n), rl);
    reason[rl] = '\0';
    app_close(r, code, reason);
    break;
  }
  case 3:
    app_abort(r);
    break;
  case 5: /* graceful shutdown of the server: 1001 to every connection */
    if (srv != NULL && shutdown_fut == NULL) {
      if (gust_http_server_shutdown(srv, 0.01, &shutdown_fut) != 0 ||
          shutdown_fut == NULL)
        fail("gust_http_server_shutdown");
      break;
    }
    rc = gust_websocket_write_message(ws, d, n, m->binary, NULL);
    break;
  case 6: /* the application frees its server from a message */
    if (srv != NULL) {
      size_t i;
      gust_http_server_free(srv);
      srv = NULL;
      for (i = 0; i < n_recs; i++)
        recs[i].aborted = 1; /* dropped without a closing handshake */
      break;
    }
    rc = gust_websocket_write_message(ws, d, n, m->binary, NULL);
    break;
  case 4:
    if (gust_websocket_write_message(ws, "\xc0\x80", 2, 0, NULL) !=
            GUST_EINVAL &&
        gust_websocket_get_state(ws) == GUST_WEBSOCKET_OPEN)
      fail("text that is not UTF-8 was sent");
    rc = gust_websocket_write_message(ws, d, n, 1, NULL);
    break;
  default:
    rc = gust_websocket_write_message(ws, d, n, m->binary,
                                      MODE() == MODE_WRITE_WAIT ? &wf : NULL);
    if (rc == 0 && wf != NULL && hold != NULL) {
      *hold = wf;
      wf = NULL;
    }
    gust_future_unref(wf);
    if (MODE() == MODE_MOMENT && hold != NULL && *hold == NULL)
      gust_future_moment(hold, loop, NULL);
    break;
  }
  in_app--;
}

static void check_message(ws_rec *r, const gust_websocket_message *m) {
  r->messages++;
  if (r->closed)
    fail("message after on_close");
  if (m->data.len > MAX_MESSAGE)
    fail("message over max_message_size");
  if (m->data.len > 0 && m->data.ptr == NULL)
    fail("message without data");
  if (!m->binary && !gust_utf8_valid(m->data.ptr, m->data.len))
    fail("text message is not UTF-8");
}

static int on_open(gust_websocket *ws, void *ud, gust_future **wait) {
  ws_rec *r;
  (void)ud;
  if (in_app)
    fail("open inside an application call");
  if (gust_websocket_user_data(ws) != NULL)
    fail("open twice");
  if (n_recs == MAX_WS)
    fail("too many connections in one run");
  if (gust_websocket_is_server(ws) != !(flags & F_CLIENT))
    fail("connection of the wrong role");
  {
    const char *sp = gust_websocket_selected_subprotocol(ws);
    if (flags & F_CLIENT ? sp != NULL && strcmp(sp, "chat") != 0 &&
                               strcmp(sp, "superchat") != 0
        : chose ? sp == NULL || strcmp(sp, chosen) != 0
                : sp != NULL)
      fail("wrong subprotocol");
  }
  r = &recs[n_recs++];
  memset(r, 0, sizeof(*r));
  r->ws = gust_websocket_ref(ws);
  r->compressed = gust_websocket_compressed(ws);
  if (r->compressed && !(flags & F_DEFLATE))
    fail("compression agreed although off");
  if (flags & F_CLIENT) {
    const gust_fetch_response *resp = gust_websocket_response(ws);
    gust_ws_extensions ext;
    int accepted = 0, rc;
    if (resp == NULL || gust_fetch_response_code(resp) != 101)
      fail("client connection without its 101");
    rc =
        gust_ws_extensions_parse(&ext, gust_fetch_response_headers(resp), NULL);
    if (rc == 0)
      rc = gust_ws_deflate_check_response(&ext, NULL, &r->dp, &accepted);
    gust_ws_extensions_free(&ext);
    if (rc < 0 || accepted != r->compressed)
      fail("compression flag disagrees with the 101");
  }
  gust_websocket_set_user_data(ws, r);
  in_app++;
  if (MODE() & 1) {
    gust_websocket_write_message(ws, "hello", 5, 0, NULL);
    gust_websocket_ping(ws, "open", 4);
  }
  if (!(flags & F_CLIENT) && (flags & F_HOLD_OR_READ))
    gust_future_moment(wait, loop, NULL);
  in_app--;
  return 0;
}

static int on_message(gust_websocket *ws, const gust_websocket_message *m,
                      void *ud, gust_future **wait) {
  ws_rec *r = rec_of(ws, "on_message of an unknown connection");
  (void)ud;
  if (in_app)
    fail("on_message inside an application call");
  if (r->local_close)
    fail("message delivered after our close");
  if (r->aborted)
    fail("message delivered after our abort");
  check_message(r, m);
  act(r, m, wait);
  return 0;
}

static void on_ping(gust_websocket *ws, gust_slice data, void *ud) {
  ws_rec *r = rec_of(ws, "on_ping of an unknown connection");
  (void)ud;
  if (in_app || r->closed || r->local_close || data.len > 125 || r->aborted)
    fail("bad on_ping");
}

static void on_pong(gust_websocket *ws, gust_slice data, void *ud) {
  ws_rec *r = rec_of(ws, "on_pong of an unknown connection");
  (void)ud;
  if (in_app || r->closed || r->local_close || data.len > 125 || r->aborted)
    fail("bad on_pong");
}

static void on_close(gust_websocket *ws, void *ud) {
  ws_rec *r = rec_of(ws, "on_close without open");
  gust_websocket_stats st;
  (void)ud;
  if (in_app)
    fail("on_close inside an application call");
  if (r->closed++)
    fail("on_close twice");
  if (gust_websocket_get_state(ws) != GUST_WEBSOCKET_CLOSED)
    fail("on_close while not closed");
  r->close_code = gust_websocket_close_code(ws);
  if (r->close_code == 0)
    fail("no close code after on_close");
  if (gust_websocket_close_reason(ws).len > 123)
    fail("close reason too long");
  r->err = gust_websocket_error(ws, NULL);
  gust_websocket_stats_get(ws, &st);
  if (st.messages_in < r->messages)
    fail("stats count fewer messages than were delivered");
  /* a closed connection refuses everything */
  if (gust_websocket_write_message(ws, "x", 1, 1, NULL) != GUST_ECLOSED ||
      gust_websocket_ping(ws, NULL, 0) != GUST_ECLOSED ||
      gust_websocket_close(ws, 1000, NULL) != 0)
    fail("closed connection accepts writes");
}

static int select_subprotocol(gust_http_request *req, const gust_slice *offered,
                              size_t n, void *ud) {
  size_t i;
  (void)req;
  (void)ud;
  for (i = 0; i < n; i++)
    if (offered[i].len == 0 || offered[i].len >= sizeof(chosen) ||
        memchr(offered[i].ptr, '\0', offered[i].len) != NULL)
      fail("bad subprotocol offered");
  chose = n % 2 == 1;
  if (chose) {
    memcpy(chosen, offered[n - 1].ptr, offered[n - 1].len);
    chosen[offered[n - 1].len] = '\0';
  }
  return chose ? (int)n - 1 : (int)n + 1; /* out of range = none */
}

static const gust_websocket_handler server_handler = {
    NULL, select_subprotocol, on_open, on_message, on_ping, on_pong, on_close};
static const gust_websocket_handler client_handler = {
    NULL, NULL, on_open, on_message, on_ping, on_pong, on_close};
static const gust_websocket_handler reader_handler = {
    NULL, NULL, on_open, NULL, on_ping, on_pong, on_close};

/* read_message mode: read, act, wait if asked, read again until NULL. */
static void read_next(ws_rec *r);

static void on_hold_done(gust_future *f, void *ud) {
  (void)f;
  read_next(ud);
}

static void on_read(gust_future *f, void *ud) {
  ws_rec *r = ud;
  gust_websocket_message *m = gust_future_result(f);
  gust_future *hold = NULL;
  if (f != r->read)
    fail("unexpected read future");
  if (gust_future_error(f) != 0)
    fail("read_message future failed");
  if (m == NULL) {
    r->read_ended = 1;
    gust_future_unref(r->read);
    r->read = NULL;
    return;
  }
  check_message(r, m);
  act(r, m, &hold);
  gust_future_unref(r->read);
  r->read = NULL;
  if (hold != NULL) {
    if (gust_future_add_done_callback(hold, on_hold_done, r) != 0)
      fail("add_done_callback");
    gust_future_unref(hold);
    return;
  }
  read_next(r);
}

static void read_next(ws_rec *r) {
  int rc;
  in_app++;
  rc = gust_websocket_read_message(r->ws, &r->read);
  in_app--;
  if (rc != 0 || r->read == NULL)
    fail("read_message failed");
  if (gust_future_add_done_callback(r->read, on_read, r) != 0)
    fail("add_done_callback");
}

/* The connect future is dropped as soon as it is done: a failed handshake
 * after a 101 leaves the upgraded TCP connection open for as long as the
 * future lives (the response it holds keeps the stream). */
static void on_connected(gust_future *f, void *ud) {
  gust_websocket *ws = gust_websocket_connect_take(f);
  int err = gust_future_error(f);
  (void)ud;
  connect_done = 1;
  connect_err = err;
  if ((err == GUST_EWS_HANDSHAKE || err == GUST_EWS_EXTENSION) &&
      gust_websocket_connect_response(f) == NULL)
    fail("handshake refused without a response");
  gust_future_unref(connect_fut);
  connect_fut = NULL;
  if (ws == NULL) {
    if (err == 0)
      fail("connect succeeded without a connection");
    if (n_recs != 0)
      fail("connect failed after open");
    return;
  }
  if (n_recs != 1 || recs[0].ws != ws)
    fail("connected without exactly one open");
  if (gust_websocket_connect_take(f) != NULL)
    fail("connection taken twice");
  gust_websocket_unref(ws); /* recs[0] holds a reference */
  if (flags & F_HOLD_OR_READ)
    read_next(&recs[0]);
}

/* Keep-open runs: the application ends the connection itself. */
static void on_app_timer(gust_loop *l, void *ud) {
  size_t i;
  (void)l;
  (void)ud;
  app_armed = 0;
  for (i = 0; i < n_recs; i++) {
    if (recs[i].closed || recs[i].local_close || recs[i].aborted)
      continue;
    if (MODE() == MODE_CONTROL)
      app_abort(&recs[i]);
    else
      app_close(&recs[i], 1001, "going away");
  }
  /* again later for a connection that was not open yet */
  if (gust_loop_call_later(loop, APP_DELAY, on_app_timer, NULL, &app_timer) ==
      0)
    app_armed = 1;
}

/* ------------------------------------------------------------------ */
/* The peer                                                             */
/* ------------------------------------------------------------------ */

static void peer_drop(peer *p) {
  if (p->resuming) {
    gust_loop_cancel(loop, p->resume);
    p->resuming = 0;
  }
  if (p->fd < 0)
    return;
  gust_loop_remove_handler(loop, p->fd);
  close(p->fd);
  p->fd = -1;
}

static void peer_sent_all(peer *p) {
  p->send_done = 1;
  gust_loop_update_handler(loop, p->fd, GUST_LOOP_READ);
  if (!(flags & F_KEEP_OPEN)) {
    shutdown(p->fd, SHUT_WR);
  } else if (!(flags & F_PING) && !app_armed) {
    if (gust_loop_call_later(loop, APP_DELAY, on_app_timer, NULL, &app_timer) ==
        0)
      app_armed = 1;
  }
}

static void on_resume(gust_loop *l, void *ud) {
  peer *p = ud;
  (void)l;
  p->resuming = 0;
  if (p->fd >= 0 && !p->send_done)
    gust_loop_update_handler(loop, p->fd, GUST_LOOP_READ | GUST_LOOP_WRITE);
}

static void peer_send(peer *p) {
  while (p->sent < p->out.len) {
    size_t len = p->out.len - p->sent;
    ssize_t n;
    if (p->piece > 0 && p->piece < len)
      len = p->piece;
    n = send(p->fd, p->out.ptr + p->sent, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR)
        return;
      /* gust closed: stop sending, keep reading what it said */
      p->reset = 1;
      p->send_done = 1;
      gust_loop_update_handler(loop, p->fd, GUST_LOOP_READ);
      return;
    }
    p->sent += (size_t)n;
    if (p->piece > 0 && p->sent < p->out.len) {
      /* one piece per loop iteration: gust reads them one by one */
      gust_loop_update_handler(loop, p->fd, GUST_LOOP_READ);
      if (!p->resuming &&
          gust_loop_call_later(loop, 0, on_resume, p, &p->resume) == 0)
        p->resuming = 1;
      return;
    }
  }
  peer_sent_all(p);
}

/* Client role: answers the request head with a 101 for its key (or with
 * the input as it is), then the frames. */
static void peer_answer(peer *p) {
  const uint8_t *rest = input + HEADER;
  size_t n = input_len - HEADER;
  char accept[GUST_WS_ACCEPT_LEN + 1];
  const char *k =
      strcasestr((const char *)p->head.ptr, "\r\nSec-WebSocket-Key:");
  size_t klen;
  if (flags & F_EXT_OR_RAW) {
    gust_buf_append(&p->out, rest, n);
  } else {
    if (k == NULL)
      fail("request without a key");
    k += 20;
    klen = strcspn(k, "\r");
    if (gust_ws_accept_key(k, klen, accept) != 0)
      fail("accept key");
    gust_buf_printf(&p->out,
                    "HTTP/1.1 101 Switching Protocols\r\n"
                    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                    "Sec-WebSocket-Accept: %s\r\n",
                    accept);
    if (flags & F_DEFLATE) {
      gust_slice ext = take_line(&rest, &n);
      if (ext.len > 0)
        put_header(&p->out, "Sec-WebSocket-Extensions: ", ext);
    }
    gust_buf_append_str(&p->out, "\r\n");
    gust_buf_append(&p->out, rest, n);
  }
  gust_loop_update_handler(loop, p->fd, GUST_LOOP_READ | GUST_LOOP_WRITE);
  peer_send(p);
}

static void peer_received(peer *p, const uint8_t *b, size_t n) {
  if (p->server_side && !p->head_done) {
    const char *end;
    gust_buf_append(&p->head, b, n);
    end = strstr((const char *)p->head.ptr, "\r\n\r\n");
    if (end == NULL) {
      if (p->head.len > 16384)
        fail("request head without an end");
      return;
    }
    p->head_done = 1;
    end += 4;
    b = (const uint8_t *)end;
    n = p->head.len - (size_t)((const uint8_t *)end - p->head.ptr);
    if (n > 0)
      gust_buf_append(&p->seen, b, n);
    gust_buf_truncate(&p->head, (size_t)((const uint8_t *)end - p->head.ptr));
    peer_answer(p);
    return;
  }
  if (p->seen.len + n <= MAX_SEEN)
    gust_buf_append(&p->seen, b, n);
}

static void on_peer(gust_loop *l, int fd, int events, void *ud) {
  peer *p = ud;
  uint8_t *buf = p->rbuf;
  (void)l;
  (void)fd;
  if ((events & (GUST_LOOP_WRITE | GUST_LOOP_ERROR)) && !p->send_done &&
      (!p->server_side || p->head_done))
    peer_send(p);
  if (p->fd < 0 || !(events & (GUST_LOOP_READ | GUST_LOOP_ERROR)))
    return;
  for (;;) {
    ssize_t n =
        recv(p->fd, buf,
             p->rpiece > 0 && !(events & GUST_LOOP_ERROR) ? p->rpiece
                                                          : sizeof(p->rbuf),
             0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
      return;
    if (n <= 0) {
      if (n < 0)
        p->reset = 1;
      p->eof = 1;
      peer_drop(p);
      return;
    }
    peer_received(p, buf, (size_t)n);
    /* a slow reader takes one piece per loop iteration, but drains on an
     * error: the libuv backend reports it once and then stops watching
     * the fd (a reset), however much is left to read */
    if (p->fd < 0 || (p->rpiece > 0 && !(events & GUST_LOOP_ERROR)))
      return;
  }
}

static peer *peer_add(int fd, int server_side) {
  static const int one = 1;
  peer *p;
  if (n_peers == MAX_CONNS) {
    close(fd);
    return NULL;
  }
  p = &peers[n_peers++];
  p->fd = fd;
  p->server_side = server_side;
  /* pieces go out as they are written (no Nagle wait for an ACK) */
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (pace > 0) {
    /* small pieces; a small receive buffer would make loopback TCP drop
     * whole segments and stall on retransmission timers, so gust's writes
     * back up only once the default one is full */
    p->piece = pace;
    if (p->piece < input_len / MAX_PIECES)
      p->piece = input_len / MAX_PIECES;
    /* reads are paced too, in pieces large enough to take gust's answers
     * (about the size of the input) in a few hundred iterations */
    p->rpiece = p->piece < READ_PIECE ? READ_PIECE : p->piece;
    if (p->rpiece > sizeof(p->rbuf))
      p->rpiece = sizeof(p->rbuf);
  }
  if (gust_loop_add_handler(
          loop, fd, GUST_LOOP_READ | (server_side ? 0 : GUST_LOOP_WRITE),
          on_peer, p) != 0)
    fail("add_handler");
  return p;
}

static void on_accept(gust_loop *l, int fd, int events, void *ud) {
  int c;
  (void)l;
  (void)events;
  (void)ud;
  while ((c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0)
    peer_add(c, 1);
}

/* Server role: the peer is the client, sending an upgrade request and the
 * input's frames. */
static void peer_connect(void) {
  struct sockaddr_in a;
  const uint8_t *rest = input + HEADER;
  size_t n = input_len - HEADER;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  peer *p;
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons((uint16_t)srv_port);
  if (fd < 0 || (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0 &&
                 errno != EINPROGRESS))
    fail("peer connect");
  p = peer_add(fd, 0);
  gust_buf_printf(&p->out,
                  "GET /fuzz HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                  "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                  "Sec-WebSocket-Version: 13\r\n",
                  srv_port);
  if (flags & F_EXT_OR_RAW) {
    put_header(&p->out, "Sec-WebSocket-Extensions: ", take_line(&rest, &n));
  }
  gust_buf_append_str(&p->out, "\r\n");
  gust_buf_append(&p->out, rest, n);
}

/* ------------------------------------------------------------------ */
/* Checking what gust sent                                              */
/* ------------------------------------------------------------------ */

/* The permessage-deflate parameters a Sec-WebSocket-Extensions answer
 * agrees on, as a client that offered the defaults reads them: 1 (agreed),
 * 0 (none) or -1 (not acceptable). */
static int agreed_params(const char *v, size_t len,
                         gust_ws_deflate_params *out) {
  gust_ws_extensions ext;
  int accepted = 0, rc;
  memset(out, 0, sizeof(*out));
  rc = gust_ws_extensions_parse_value(&ext, v, len, NULL);
  if (rc == 0)
    rc = gust_ws_deflate_check_response(&ext, NULL, out, &accepted);
  gust_ws_extensions_free(&ext);
  return rc < 0 ? -1 : accepted;
}

/* Parses gust's frames as the other role would: anything but a valid
 * stream (possibly cut short) is a bug. */
static void check_frames(const gust_buf *b, gust_ws_role role,
                         const gust_ws_deflate_params *dp, const ws_rec *r,
                         const peer *p) {
  gust_ws_config cfg;
  gust_ws_deflate_params own;
  gust_ws *ws;
  gust_ws_event ev;
  int saw_close = 0;
  if (dp != NULL) {
    /* a window of 8 is allowed for the peer only; this side never
     * compresses anything */
    own = *dp;
    if (role == GUST_WS_SERVER && own.server_max_window_bits == 8)
      own.server_max_window_bits = 9;
    if (role == GUST_WS_CLIENT && own.client_max_window_bits == 8)
      own.client_max_window_bits = 9;
    dp = &own;
  }
  memset(&cfg, 0, sizeof(cfg));
  cfg.role = role;
  cfg.no_auto_pong = 1;
  cfg.max_message_size = UINT64_MAX; /* no limit: the checker takes all */
  cfg.deflate = dp;
  if (gust_ws_new(&ws, &cfg, NULL) != 0)
    fail("gust_ws_new");
  if (b->len > 0 && gust_ws_feed(ws, b->ptr, b->len) != 0)
    fail("gust_ws_feed");
  while (gust_ws_next_event(ws, &ev) == 0 && ev.type != GUST_WS_EV_NEED_DATA) {
    if (ev.type == GUST_WS_EV_ERROR) {
      fprintf(stderr, "gust sent a bad frame stream at offset %llu: %s\n",
              (unsigned long long)ev.offset,
              ev.message != NULL ? ev.message : gust_strerror(ev.error));
      fail("invalid frames from gust");
    }
    if (ev.type == GUST_WS_EV_CLOSE)
      saw_close = 1;
  }
  gust_ws_free(ws);
  /* a protocol error is answered with a close frame, not a dropped TCP
   * (unless a slow reader let the close timeout cut the output short) */
  if (r != NULL && !saw_close && !r->aborted && !p->reset && p->rpiece == 0 &&
      r->err <= -250 && r->err >= -254)
    fail("protocol error without a close frame");
}

static void check_server_output(const peer *p) {
  const char *h = (const char *)p->seen.ptr, *end, *e;
  gust_ws_deflate_params dp;
  gust_buf frames;
  int agreed = 0;
  if (p->seen.len == 0)
    return;
  end = strstr(h, "\r\n\r\n");
  if (strncmp(h, "HTTP/1.1 101 ", 13) != 0 || end == NULL || n_recs == 0)
    return; /* refused, or the 101 never went out */
  e = strcasestr(h, "\r\nSec-WebSocket-Extensions:");
  if (e != NULL && e < end) {
    e += 27;
    agreed = agreed_params(e, strcspn(e, "\r"), &dp);
    if (agreed < 0)
      fail("server answered an unacceptable extension");
  }
  if (agreed != recs[0].compressed)
    fail("compression flag disagrees with the 101");
  gust_buf_init(&frames, NULL);
  gust_buf_append(&frames, end + 4, p->seen.len - (size_t)(end + 4 - h));
  check_frames(&frames, GUST_WS_CLIENT, agreed ? &dp : NULL, &recs[0], p);
  gust_buf_free(&frames);
}

static void check_client_output(const peer *p) {
  if (n_recs == 0) {
    if (p->seen.len > 0)
      fail("client sent bytes after a failed handshake");
    return;
  }
  check_frames(&p->seen, GUST_WS_SERVER,
               recs[0].compressed ? &recs[0].dp : NULL, &recs[0], p);
}

/* ------------------------------------------------------------------ */
/* Runs                                                                 */
/* ------------------------------------------------------------------ */

static void quiet_log(gust_log_category c, gust_log_level l, const char *msg,
                      void *ud) {
  (void)c;
  (void)l;
  (void)ud;
  if (getenv("GUST_FUZZ_LOG") != NULL)
    fprintf(stderr, "gust: %s\n", msg);
}

static void setup(void) {
  struct sockaddr_in s4;
  socklen_t len = sizeof(s4);
  size_t i;
  /* format every record (debug ones included), print none */
  gust_log_set_handler(quiet_log, NULL);
  gust_log_set_level(GUST_LOG_CATEGORY_COUNT_, GUST_LOG_DEBUG);
  if (gust_loop_new(&loop, NULL) != 0)
    abort();
  for (i = 0; i < MAX_CONNS; i++)
    peers[i].fd = -1;
  /* requests after a refused upgrade stay plain HTTP: bound their waits */
  srv_opts.idle_connection_timeout = 0.02;
  srv_opts.body_timeout = 0.02;
  endpoint.handler = &server_handler;
  endpoint.opts = &ws_opts;
  endpoint.user_data = NULL;
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

/* Paced runs: the server's connections get a small send buffer (inherited
 * from the listening socket), so that with a slow reader gust's writes
 * back up in its stream (write_high_water, closing after pending
 * writes). */
static int server_listen_small(void) {
  struct sockaddr_in s4;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int snd = 4096;
  memset(&s4, 0, sizeof(s4));
  s4.sin_family = AF_INET;
  s4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &snd, sizeof(snd)) != 0 ||
      bind(fd, (struct sockaddr *)&s4, sizeof(s4)) != 0 ||
      listen(fd, 16) != 0 || gust_http_server_add_sockets(srv, &fd, 1) != 0) {
    if (fd >= 0)
      close(fd);
    return -1;
  }
  return 0;
}

static void on_watchdog(gust_loop *l, void *ud) {
  (void)ud;
  hung = 1;
  gust_loop_stop(l);
}

/* The run is over once every connection closed, gust's side of every peer
 * socket is closed and (client role) the connect future is done. */
static int run_over(gust_loop *l, void *ud) {
  size_t i;
  (void)l;
  (void)ud;
  if (hung)
    return 1;
  for (i = 0; i < n_recs; i++)
    if (!recs[i].closed || ((flags & F_CLIENT) && (flags & F_HOLD_OR_READ) &&
                            connect_done && !recs[i].read_ended))
      return 0;
  for (i = 0; i < n_peers; i++)
    if (peers[i].fd >= 0)
      return 0;
  if ((flags & F_CLIENT) ? !connect_done
                         : gust_http_server_connection_count(srv) != 0)
    return 0;
  /* resolved once every connection, upgraded ones included, is closed */
  if (shutdown_fut != NULL && !gust_future_done(shutdown_fut))
    return 0;
  return 1;
}

static void run_client(void) {
  gust_websocket_connect_opts o;
  gust_fetch_request r;
  char url[64];
  static const char *const protocols[] = {"chat", "superchat", NULL};
  memset(&o, 0, sizeof(o));
  o.ws = ws_opts;
  o.subprotocols = protocols;
  o.handler = (flags & F_HOLD_OR_READ) ? &reader_handler : &client_handler;
  snprintf(url, sizeof(url), "ws://127.0.0.1:%d/fuzz", listen_port);
  gust_fetch_request_init(&r, url);
  r.connect_timeout = 1;
  r.request_timeout = (flags & F_KEEP_OPEN) ? 0.03 : 1;
  if (gust_websocket_connect(loop, &r, &o, NULL, &connect_fut) != 0)
    fail("gust_websocket_connect");
  if (gust_future_add_done_callback(connect_fut, on_connected, NULL) != 0)
    fail("add_done_callback");
}

/* Lets closes that were started finish (stream and timer teardown). */
static void settle(void) {
  int round;
  for (round = 0; round < 3; round++) {
    gust_future *m = NULL;
    if (gust_future_moment(&m, loop, NULL) == 0) {
      gust_future_run(m, 1);
      gust_future_unref(m);
    }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  size_t i;
  if (size < HEADER || size > MAX_INPUT)
    return 0;
  if (loop == NULL)
    setup();
  flags = data[0];
  pace = size > 1 ? data[1] : 0;
  input = data;
  input_len = size;
  n_peers = n_recs = 0;
  hung = in_app = app_armed = connect_done = chose = 0;
  connect_fut = NULL;
  connect_err = 0;
  for (i = 0; i < MAX_CONNS; i++) {
    memset(&peers[i], 0, sizeof(peers[i]));
    peers[i].fd = -1;
    gust_buf_init(&peers[i].head, NULL);
    gust_buf_init(&peers[i].out, NULL);
    gust_buf_init(&peers[i].seen, NULL);
  }
  memset(&ws_opts, 0, sizeof(ws_opts));
  ws_opts.max_message_size = MAX_MESSAGE;
  ws_opts.max_fragments = 64;
  ws_opts.close_timeout = CLOSE_TIMEOUT;
  ws_opts.write_high_water = 1024;
  ws_opts.ping_interval = (flags & F_PING) ? PING_INTERVAL : 0;
  ws_opts.compression = (flags & F_DEFLATE) != 0;
  ws_opts.compression_level = 1;

  if (gust_loop_call_later(loop, WATCHDOG, on_watchdog, NULL, &watchdog) != 0)
    abort();
  if (flags & F_CLIENT) {
    run_client();
  } else {
    if (gust_http_server_new(&srv, loop, &srv_opts,
                             gust_websocket_start_request, &endpoint,
                             NULL) != 0 ||
        (pace > 0 ? server_listen_small()
                  : gust_http_server_listen(srv, "127.0.0.1", 0, NULL)) != 0)
      fail("server");
    srv_port = gust_http_server_port(srv);
    peer_connect();
  }
  gust_loop_run_until(loop, run_over, NULL);
  if (hung)
    fail("hang: the run did not end");
  gust_loop_cancel(loop, watchdog);
  if (app_armed) {
    gust_loop_cancel(loop, app_timer);
    app_armed = 0;
  }
  settle();

  if (n_peers == 1) {
    if (flags & F_CLIENT)
      check_client_output(&peers[0]);
    else
      check_server_output(&peers[0]);
  }
  if (getenv("GUST_FUZZ_LOG") != NULL)
    for (i = 0; i < n_recs; i++)
      fprintf(stderr,
              "run 0x%02x: ws %zu messages %llu close code %u err %s%s%s, "
              "peer saw %zu bytes\n",
              flags, i, (unsigned long long)recs[i].messages,
              recs[i].close_code, gust_errname(recs[i].err),
              recs[i].compressed ? ", compressed" : "",
              recs[i].local_close ? ", closed by us" : "",
              n_peers > 0 ? peers[0].seen.len : 0);
  for (i = 0; i < n_recs; i++) {
    if (recs[i].closed != 1)
      fail("on_close did not run exactly once");
    if (recs[i].read != NULL)
      fail("a read is still pending");
    gust_websocket_unref(recs[i].ws);
    recs[i].ws = NULL;
  }
  gust_future_unref(connect_fut);
  connect_fut = NULL;
  gust_future_unref(shutdown_fut);
  shutdown_fut = NULL;
  gust_http_server_free(srv);
  srv = NULL;
  for (i = 0; i < MAX_CONNS; i++) {
    peer_drop(&peers[i]);
    gust_buf_free(&peers[i].head);
    gust_buf_free(&peers[i].out);
    gust_buf_free(&peers[i].seen);
  }
  settle();
  return 0;
}
