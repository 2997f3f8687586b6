/* WebSocket connections over loopback, in one process: gust's server
 * handler against gust's client, and against raw sockets scripted byte by
 * byte (refused handshakes, protocol errors, peers that never answer a
 * close or a ping). The server's handler records what it saw in S. Each
 * group is a gust_test (t_run_group()): a wait that hangs fails with what
 * was pending on the loop, and the group ends with "NAME: nothing left
 * behind". */
#define _GNU_SOURCE
#include <gust/testing.h>
#include <gust/websocket.h>

#include <signal.h>

#include "../net/tcp_common.h"
#include "../proto/tls_common.h"

static gust_loop *loop;

/* ------------------------------------------------------------------ */
/* The server                                                           */
/* ------------------------------------------------------------------ */

enum { MODE_ECHO = 0, MODE_HOLD, MODE_FAIL, MODE_SILENT, MODE_ABORT };

typedef struct srv_state {
  gust_http_server *srv;
  int port;
  gust_websocket_opts opts;
  gust_websocket_endpoint ep;
  int mode;
  int opened, closed, messages, pings, pongs;
  unsigned close_code;
  char close_reason[128];
  int err;
  gust_websocket *last; /* the last connection opened (referenced) */
  gust_future *hold;    /* MODE_HOLD: the future on_message waits on */
  char last_msg[256];
  int last_binary;
  char last_ping[128];
  int open_fail;        /* open returns an error */
  int open_send;        /* open sends this many messages */
  const char *protocol; /* select_subprotocol picks this one */
  int bad_index;        /* select_subprotocol answers out of range */
  int allow_origin;     /* custom check_origin: 1 allows every origin */
  int origin_calls;
} srv_state;

static srv_state S;

static int s_open(gust_websocket *ws, void *ud, gust_future **wait) {
  int i;
  (void)ud;
  (void)wait;
  S.opened++;
  gust_websocket_unref(S.last);
  S.last = gust_websocket_ref(ws);
  for (i = 0; i < S.open_send; i++) {
    char m[32];
    snprintf(m, sizeof(m), "hello %d", i);
    gust_websocket_write_message(ws, m, strlen(m), 0, NULL);
  }
  return S.open_fail ? GUST_EINTERNAL : 0;
}

static int s_message(gust_websocket *ws, const gust_websocket_message *m,
                     void *ud, gust_future **wait) {
  size_t n = m->data.len < sizeof(S.last_msg) - 1 ? m->data.len
                                                  : sizeof(S.last_msg) - 1;
  (void)ud;
  S.messages++;
  memcpy(S.last_msg, m->data.ptr, n);
  S.last_msg[n] = '\0';
  S.last_binary = m->binary;
  switch (S.mode) {
  case MODE_FAIL:
    return GUST_EINTERNAL;
  case MODE_SILENT:
    return 0;
  case MODE_ABORT:
    gust_websocket_abort(ws);
    return 0;
  case MODE_HOLD:
    gust_websocket_write_message(ws, m->data.ptr, m->data.len, m->binary, NULL);
    if (gust_future_new(&S.hold, loop, NULL) == 0)
      *wait = gust_future_ref(S.hold);
    return 0;
  default:
    return gust_websocket_write_message(ws, m->data.ptr, m->data.len, m->binary,
                                        NULL) == 0 ||
                   gust_websocket_get_state(ws) != GUST_WEBSOCKET_OPEN
               ? 0
               : GUST_EINTERNAL;
  }
}

static void s_ping(gust_websocket *ws, gust_slice data, void *ud) {
  size_t n =
      data.len < sizeof(S.last_ping) - 1 ? data.len : sizeof(S.last_ping) - 1;
  (void)ws;
  (void)ud;
  S.pings++;
  memcpy(S.last_ping, data.ptr, n);
  S.last_ping[n] = '\0';
}

static void s_pong(gust_websocket *ws, gust_slice data, void *ud) {
  (void)ws;
  (void)data;
  (void)ud;
  S.pongs++;
}

static void s_close(gust_websocket *ws, void *ud) {
  gust_slice r = gust_websocket_close_reason(ws);
  (void)ud;
  S.closed++;
  S.close_code = gust_websocket_close_code(ws);
  snprintf(S.close_reason, sizeof(S.close_reason), "%.*s", (int)r.len,
           (const char *)r.ptr);
  S.err = gust_websocket_error(ws, NULL);
}

static int s_select(gust_http_request *req, const gust_slice *offered, size_t n,
                    void *ud) {
  size_t i;
  (void)req;
  (void)ud;
  if (S.bad_index)
    return (int)n + 3;
  for (i = 0; S.protocol != NULL && i < n; i++)
    if (offered[i].len == strlen(S.protocol) &&
        memcmp(offered[i].ptr, S.protocol, offered[i].len) == 0)
      return (int)i;
  return -1;
}

static int s_origin(gust_http_request *req, gust_slice origin, void *ud) {
  (void)req;
  (void)origin;
  (void)ud;
  S.origin_calls++;
  return S.allow_origin;
}

static gust_websocket_handler S_HANDLER = {
    NULL, s_select, s_open, s_message, s_ping, s_pong, s_close,
};

static void srv_start(const gust_http_server_opts *so) {
  gust_http_server *keep = S.srv;
  gust_websocket_opts o = S.opts;
  memset(&S, 0, sizeof(S));
  (void)keep;
  S.opts = o;
  S.ep.handler = &S_HANDLER;
  S.ep.opts = &S.opts;
  S_HANDLER.check_origin = NULL;
  if (gust_http_server_new(&S.srv, loop, so, gust_websocket_start_request,
                           &S.ep, NULL) != 0 ||
      gust_http_server_listen(S.srv, "127.0.0.1", 0, NULL) != 0)
    bail_out("server");
  S.port = gust_http_server_port(S.srv);
}

static void srv_stop(void) {
  gust_websocket_unref(S.last);
  S.last = NULL;
  gust_future_unref(S.hold);
  S.hold = NULL;
  gust_http_server_free(S.srv);
  S.srv = NULL;
  t_run_for(loop, 0.02);
  memset(&S.opts, 0, sizeof(S.opts));
}

/* ------------------------------------------------------------------ */
/* The client side                                                      */
/* ------------------------------------------------------------------ */

/* Client handler state (for connections opened with a handler). */
typedef struct cli_state {
  int pongs, closed, messages;
  char last_pong[128];
} cli_state;

static cli_state C;

static void c_pong(gust_websocket *ws, gust_slice data, void *ud) {
  (void)ws;
  (void)ud;
  C.pongs++;
  snprintf(C.last_pong, sizeof(C.last_pong), "%.*s", (int)data.len,
           (const char *)data.ptr);
}

static void c_close(gust_websocket *ws, void *ud) {
  (void)ws;
  (void)ud;
  C.closed++;
}

static const gust_websocket_handler C_HANDLER = {
    NULL, NULL, NULL, NULL, NULL, c_pong, c_close,
};

static gust_future *connect_opts(const char *path,
                                 const gust_websocket_connect_opts *o) {
  char u[256];
  gust_future *f = NULL;
  snprintf(u, sizeof(u), "ws://127.0.0.1:%d%s", S.port, path);
  if (gust_websocket_connect_url(loop, u, o, NULL, &f) != 0)
    bail_out("connect %s", u);
  if (t_run_future(f) != 0)
    bail_out("connect hangs");
  return f;
}

/* Connects with the handler C_HANDLER (pongs and close recorded), or
 * without one when `plain`. */
static gust_websocket *connect_ws(const char *path, int compression,
                                  int plain) {
  gust_websocket_connect_opts o;
  gust_future *f;
  gust_websocket *ws;
  memset(&o, 0, sizeof(o));
  o.ws.compression = compression;
  if (!plain)
    o.handler = &C_HANDLER;
  f = connect_opts(path, &o);
  ws = gust_websocket_connect_take(f);
  if (ws == NULL)
    diag("connect failed: %s", gust_future_error_message(f));
  gust_future_unref(f);
  return ws;
}

/* Reads one message: 0 and the message copied out, 1 at close, -1 hang. */
static int read_msg(gust_websocket *ws, gust_buf *out, int *binary) {
  gust_future *f = NULL;
  gust_websocket_message *m;
  if (gust_websocket_read_message(ws, &f) != 0)
    return -1;
  if (t_run_future(f) != 0) {
    gust_future_unref(f);
    return -1;
  }
  m = gust_future_result(f);
  if (m == NULL) {
    gust_future_unref(f);
    return 1;
  }
  gust_buf_clear(out);
  gust_buf_append(out, m->data.ptr, m->data.len);
  if (binary != NULL)
    *binary = m->binary;
  gust_future_unref(f);
  return 0;
}

static int s_closed(gust_loop *l, void *ud) {
  (void)l;
  return S.closed >= *(int *)ud;
}

/* Runs the loop until the server's on_close ran `n` times in all. */
static int wait_srv_closed(int n) {
  return t_run_until(loop, s_closed, &n, "the server's on_close");
}

static int closed_cond(gust_loop *l, void *ud) {
  (void)l;
  return gust_websocket_get_state(ud) == GUST_WEBSOCKET_CLOSED;
}

static int wait_ws_closed(gust_websocket *ws) {
  return t_run_until(loop, closed_cond, ws, "a client connection to close");
}

/* ------------------------------------------------------------------ */
/* Raw peers                                                            */
/* ------------------------------------------------------------------ */

static int raw_connect(int port) {
  struct sockaddr_in a;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
    bail_out("raw connect");
  return fd;
}

static void raw_send(int fd, const void *p, size_t n) {
  if (write(fd, p, n) != (ssize_t)n)
    bail_out("raw write");
}

/* A raw socket watched by the loop while the server's bytes come in. */
typedef struct raw_in {
  gust_buf *in;
  size_t want;
  int eof, expired;
} raw_in;

static void raw_readable(gust_loop *l, int fd, int events, void *ud) {
  raw_in *r = ud;
  uint8_t b[65536];
  ssize_t n;
  (void)l;
  (void)events;
  while ((n = recv(fd, b, sizeof(b), MSG_DONTWAIT)) > 0)
    gust_buf_append(r->in, b, (size_t)n);
  if (n == 0)
    r->eof = 1;
}

static int raw_over(gust_loop *l, void *ud) {
  raw_in *r = ud;
  (void)l;
  return r->in->len >= r->want || r->eof || r->expired;
}

static void raw_expire(gust_loop *l, void *ud) {
  (void)l;
  ((raw_in *)ud)->expired = 1;
}

/* Runs the loop and collects what the server sends into `in` until
 * `want` bytes are there (or EOF: *eof set), for at most `secs`. */
static void raw_pump(int fd, gust_buf *in, size_t want, int *eof, double secs) {
  raw_in r;
  gust_timer deadline;
  r.in = in;
  r.want = want;
  r.eof = r.expired = 0;
  if (gust_loop_add_handler(loop, fd, GUST_LOOP_READ, raw_readable, &r) != 0 ||
      gust_loop_call_later(loop, secs, raw_expire, &r, &deadline) != 0)
    bail_out("cannot watch a raw socket");
  t_run_until(loop, raw_over, &r, "bytes from the server on a raw socket");
  gust_loop_cancel(loop, deadline);
  gust_loop_remove_handler(loop, fd);
  if (r.eof && eof != NULL)
    *eof = 1;
}

/* Sends an upgrade request with extra header lines `extra` (each ending
 * in CRLF) and the bytes `tail` right behind it; returns the status and
 * leaves the bytes after the head in `rest`. */
static int raw_handshake(int fd, const char *method, const char *extra,
                         const void *tail, size_t tail_len, gust_buf *rest,
                         char *head_out, size_t head_cap) {
  char req[1024];
  gust_buf in;
  size_t i;
  int status = -1, n;
  n = snprintf(req, sizeof(req),
               "%s /raw HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
               "Upgrade: websocket\r\nConnection: Upgrade\r\n%s\r\n",
               method, S.port, extra);
  gust_buf_init(&in, NULL);
  {
    gust_buf all;
    gust_buf_init(&all, NULL);
    gust_buf_append(&all, req, (size_t)n);
    if (tail_len > 0)
      gust_buf_append(&all, tail, tail_len);
    raw_send(fd, all.ptr, all.len);
    gust_buf_free(&all);
  }
  for (;;) {
    int eof = 0;
    raw_pump(fd, &in, in.len + 1, &eof, 5.0);
    for (i = 0; i + 3 < in.len; i++)
      if (memcmp(in.ptr + i, "\r\n\r\n", 4) == 0)
        break;
    if (i + 3 < in.len) {
      size_t hl = i + 4;
      if (head_out != NULL)
        snprintf(head_out, head_cap, "%.*s", (int)hl, (const char *)in.ptr);
      sscanf((const char *)in.ptr, "HTTP/1.1 %d", &status);
      gust_buf_clear(rest);
      gust_buf_append(rest, in.ptr + hl, in.len - hl);
      break;
    }
    if (eof || in.len > 8192)
      break;
  }
  gust_buf_free(&in);
  return status;
}

static const char KEY_LINES[] =
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\n";

/* A client frame: masked with a fixed key unless `unmasked`. */
static size_t frame(uint8_t *out, unsigned b0, const void *payload, size_t n,
                    int unmasked) {
  static const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
  size_t h = gust_ws_frame_header_write(out, (b0 & 0x80) != 0, b0 & 0x70,
                                        b0 & 0x0f, n, unmasked ? NULL : key);
  memcpy(out + h, payload, n);
  if (!unmasked)
    gust_ws_mask(out + h, n, key, 0);
  return h + n;
}

/* Parses the server frames in `in` from offset *off: returns the opcode of
 * the next complete one (payload in *pl, length in *pn), or -1 if incomplete.
 */
static int next_frame(const gust_buf *in, size_t *off, const uint8_t **pl,
                      size_t *pn) {
  gust_ws_frame_header h;
  gust_ssize r;
  if (*off >= in->len)
    return -1;
  r = gust_ws_frame_parse(in->ptr + *off, in->len - *off, &h);
  if (r <= 0 || in->len - *off - (size_t)r < h.payload_len)
    return -1;
  *pl = in->ptr + *off + r;
  *pn = (size_t)h.payload_len;
  *off += (size_t)r + (size_t)h.payload_len;
  return (int)h.opcode;
}

/* Collects server frames until a close frame arrives; returns its code
 * (0 = empty close, -1 = none) and counts the text messages before it. */
static int raw_until_close(int fd, gust_buf *in, int *texts, char *first,
                           size_t first_cap) {
  size_t off = 0;
  int eof = 0;
  double end = gust_loop_now(loop) + 10;
  if (texts != NULL)
    *texts = 0;
  while (gust_loop_now(loop) < end) {
    const uint8_t *pl;
    size_t pn;
    int op = next_frame(in, &off, &pl, &pn);
    if (op == 8)
      return pn >= 2 ? (pl[0] << 8 | pl[1]) : 0;
    if (op == 1 && texts != NULL) {
      if (*texts == 0 && first != NULL)
        snprintf(first, first_cap, "%.*s", (int)pn, (const char *)pl);
      (*texts)++;
    }
    if (op >= 0)
      continue;
    if (eof)
      return -1;
    raw_pump(fd, in, in->len + 1, &eof, 0.5);
  }
  return -1;
}

/* After our close answer: 1 if the server closed TCP within `secs`. */
static int raw_sees_eof(int fd, double secs) {
  gust_buf in;
  int eof = 0;
  gust_buf_init(&in, NULL);
  raw_pump(fd, &in, SIZE_MAX, &eof, secs);
  gust_buf_free(&in);
  return eof;
}

/* ------------------------------------------------------------------ */
/* Groups                                                               */
/* ------------------------------------------------------------------ */

static void t_echo(void) {
  static const size_t sizes[] = {0, 1, 125, 126, 127, 65535, 65536, 1 << 20};
  gust_websocket *ws;
  gust_buf got, want;
  gust_websocket_stats st;
  size_t i, j;
  int bin = -1, allok = 1;
  srv_start(NULL);
  ws = connect_ws("/echo", 0, 1);
  ok(ws != NULL, "connect");
  if (ws == NULL)
    bail_out("cannot connect");
  ok(!gust_websocket_is_server(ws), "client side");
  is_int(S.opened, 1, "server open ran once");
  ok(!gust_websocket_compressed(ws), "no compression unless asked");
  ok(gust_websocket_selected_subprotocol(ws) == NULL, "no subprotocol");
  is_int(gust_fetch_response_code(gust_websocket_response(ws)), 101,
         "the client keeps the 101");
  is_str(gust_http_request_path(gust_websocket_request(S.last)), "/echo",
         "the server keeps the upgrade request");
  gust_buf_init(&got, NULL);
  gust_buf_init(&want, NULL);
  for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
    int binary = (int)(i & 1);
    gust_buf_clear(&want);
    for (j = 0; j < sizes[i]; j++)
      gust_buf_append_byte(&want, (uint8_t)('a' + (j * 7 + i) % 26));
    if (gust_websocket_write_message(ws, want.ptr, want.len, binary, NULL) !=
            0 ||
        read_msg(ws, &got, &bin) != 0 || bin != binary || got.len != want.len ||
        (got.len > 0 && memcmp(got.ptr, want.ptr, got.len) != 0)) {
      diag("size %zu binary %d: echo differs (got %zu bytes, binary %d)",
           sizes[i], binary, got.len, bin);
      allok = 0;
    }
  }
  ok(allok, "every size echoed with its opcode (0 to 1 MiB, both length "
            "forms)");
  /* a non-ASCII text and invalid UTF-8 */
  {
    static const char utf[] = "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80";
    gust_websocket_write_message(ws, utf, sizeof(utf) - 1, 0, NULL);
    ok(read_msg(ws, &got, &bin) == 0 && bin == 0 &&
           got.len == sizeof(utf) - 1 && memcmp(got.ptr, utf, got.len) == 0,
       "UTF-8 text echoed");
    is_int(gust_websocket_write_message(ws, "\xc3(", 2, 0, NULL), GUST_EINVAL,
           "writing invalid UTF-8 as text: GUST_EINVAL");
    is_int(gust_websocket_write_message(ws, "\xc3(", 2, 1, NULL), 0,
           "the same bytes as binary are fine");
    ok(read_msg(ws, &got, &bin) == 0 && bin == 1 && got.len == 2,
       "binary echoed");
  }
  /* many messages written at once come back in order */
  {
    char m[32];
    int order = 1;
    for (i = 0; i < 100; i++) {
      snprintf(m, sizeof(m), "m%zu", i);
      gust_websocket_write_message(ws, m, strlen(m), 0, NULL);
    }
    for (i = 0; i < 100; i++) {
      snprintf(m, sizeof(m), "m%zu", i);
      if (read_msg(ws, &got, NULL) != 0 || got.len != strlen(m) ||
          memcmp(got.ptr, m, got.len) != 0)
        order = 0;
    }
    ok(order, "100 messages written at once come back in order");
  }
  /* the write future */
  {
    gust_future *wf = NULL;
    ok(gust_websocket_write_message(ws, "x", 1, 0, &wf) == 0 && wf != NULL,
       "write with a future");
    ok(t_run_future(wf) == 0 && gust_future_error(wf) == 0,
       "the write future resolves");
    gust_future_unref(wf);
    read_msg(ws, &got, NULL);
  }
  gust_websocket_stats_get(ws, &st);
  ok(st.messages_out == st.messages_in && st.messages_out > 100,
     "stats: %llu out, %llu in", (unsigned long long)st.messages_out,
     (unsigned long long)st.messages_in);
  ok(st.bytes_out > (1u << 20) && st.bytes_in > (1u << 20),
     "stats count wire bytes");
  /* read_message is for handler-less connections only; one at a time */
  {
    gust_future *a = NULL, *b = NULL;
    is_int(gust_websocket_read_message(ws, &a), 0, "read pending");
    is_int(gust_websocket_read_message(ws, &b), GUST_EBUSY,
           "a second read: GUST_EBUSY");
    is_int(gust_websocket_close(ws, 4001, "done"), 0, "client closes");
    ok(t_run_future(a) == 0 && gust_future_result(a) == NULL,
       "the pending read resolves with NULL at close");
    gust_future_unref(a);
  }
  ok(wait_srv_closed(1) == 0, "server on_close ran");
  is_int(S.close_code, 4001, "server saw the client's code");
  is_str(S.close_reason, "done", "server saw the client's reason");
  ok(wait_ws_closed(ws) == 0, "client closed");
  is_int(gust_websocket_close_code(ws), 4001,
         "the server echoed the code (Tornado: code only)");
  is_int((int)gust_websocket_close_reason(ws).len, 0, "... without a reason");
  is_int(gust_websocket_write_message(ws, "x", 1, 0, NULL), GUST_ECLOSED,
         "write after close: GUST_ECLOSED");
  is_int(gust_websocket_ping(ws, NULL, 0), GUST_ECLOSED,
         "ping after close: GUST_ECLOSED");
  {
    gust_future *a = NULL;
    ok(gust_websocket_read_message(ws, &a) == 0 && gust_future_done(a) &&
           gust_future_result(a) == NULL,
       "read after close: NULL at once");
    gust_future_unref(a);
  }
  is_int(gust_websocket_error(ws, NULL), 0, "a clean close is no error");
  t_run_for(loop, 0.02);
  is_int(S.closed, 1, "on_close ran exactly once");
  gust_websocket_unref(ws);
  gust_buf_free(&got);
  gust_buf_free(&want);
  srv_stop();
}

static void t_compression(void) {
  gust_websocket *ws;
  gust_buf got, want;
  gust_websocket_stats st;
  size_t i;
  int bin;
  S.opts.compression = 1;
  srv_start(NULL);
  ws = connect_ws("/z", 1, 1);
  ok(ws != NULL && gust_websocket_compressed(ws),
     "both sides want it: permessage-deflate agreed");
  ok(S.last != NULL && gust_websocket_compressed(S.last),
     "... on the server too");
  gust_buf_init(&got, NULL);
  gust_buf_init(&want, NULL);
  for (i = 0; i < 200000; i++)
    gust_buf_append_byte(&want, (uint8_t) "abcabcabd"[i % 9]);
  for (i = 0; i < 3; i++)
    gust_websocket_write_message(ws, want.ptr, want.len, 0, NULL);
  bin = -1;
  ok(read_msg(ws, &got, &bin) == 0 && got.len == want.len &&
         memcmp(got.ptr, want.ptr, got.len) == 0 && bin == 0,
     "a compressible 200 kB text echoed");
  read_msg(ws, &got, NULL);
  ok(read_msg(ws, &got, NULL) == 0 && got.len == want.len &&
         memcmp(got.ptr, want.ptr, got.len) == 0,
     "... three times (context takeover)");
  gust_websocket_stats_get(ws, &st);
  ok(st.bytes_out < want.len / 10, "it went compressed (%llu wire bytes)",
     (unsigned long long)st.bytes_out);
  gust_websocket_write_message(ws, "", 0, 1, NULL);
  ok(read_msg(ws, &got, &bin) == 0 && got.len == 0 && bin == 1,
     "an empty compressed message");
  gust_websocket_close(ws, 1000, NULL);
  wait_ws_closed(ws);
  gust_websocket_unref(ws);
  srv_stop();

  /* only the client asks: no extension, and it still works */
  srv_start(NULL);
  ws = connect_ws("/z", 1, 1);
  ok(ws != NULL && !gust_websocket_compressed(ws),
     "server without compression: declined");
  gust_websocket_write_message(ws, want.ptr, 1000, 0, NULL);
  ok(read_msg(ws, &got, NULL) == 0 && got.len == 1000, "... echo works");
  gust_websocket_close(ws, 1000, NULL);
  wait_ws_closed(ws);
  gust_websocket_unref(ws);
  srv_stop();

  /* a smaller window and no context takeover, both asked by the client */
  S.opts.compression = 1;
  srv_start(NULL);
  {
    gust_websocket_connect_opts o;
    gust_future *f;
    memset(&o, 0, sizeof(o));
    o.ws.compression = 1;
    o.ws.max_window_bits = 10;
    o.ws.peer_max_window_bits = 9;
    o.ws.no_context_takeover = 1;
    o.ws.peer_no_context_takeover = 1;
    f = connect_opts("/z", &o);
    ws = gust_websocket_connect_take(f);
    ok(ws != NULL && gust_websocket_compressed(ws),
       "window bits and no_context_takeover agreed");
    if (ws != NULL) {
      gust_buf ext;
      gust_buf_init(&ext, NULL);
      gust_headers_get_joined(
          gust_fetch_response_headers(gust_websocket_response(ws)),
          "Sec-WebSocket-Extensions", &ext);
      gust_buf_append_byte(&ext, 0);
      ok(strstr((const char *)ext.ptr, "server_max_window_bits=9") != NULL &&
             strstr((const char *)ext.ptr, "server_no_context_takeover") !=
                 NULL,
         "the answer: %s", (const char *)ext.ptr);
      gust_buf_free(&ext);
      for (i = 0; i < 3; i++)
        gust_websocket_write_message(ws, want.ptr, want.len, 1, NULL);
      bin = 1;
      for (i = 0; i < 3; i++)
        if (read_msg(ws, &got, NULL) != 0 || got.len != want.len ||
            memcmp(got.ptr, want.ptr, got.len) != 0)
          bin = 0;
      ok(bin, "messages echoed with small windows, no takeover");
      gust_websocket_close(ws, 1000, NULL);
      wait_ws_closed(ws);
      gust_websocket_unref(ws);
    }
    gust_future_unref(f);
  }
  srv_stop();

  /* a deflate bomb: a small compressed frame inflating past the limit */
  S.opts.compression = 1;
  S.opts.max_message_size = 100000;
  srv_start(NULL);
  ws = connect_ws("/z", 1, 1);
  gust_buf_clear(&want);
  for (i = 0; i < 200000; i++)
    gust_buf_append_byte(&want, 'a');
  gust_websocket_write_message(ws, want.ptr, want.len, 1, NULL);
  ok(read_msg(ws, &got, NULL) == 1, "bomb: the client's read ends");
  wait_ws_closed(ws);
  is_int(gust_websocket_close_code(ws), 1009, "bomb: server closed with 1009");
  ok(wait_srv_closed(1) == 0 && S.err == GUST_EWS_TOOBIG,
     "bomb: the server reports GUST_EWS_TOOBIG");
  is_int(S.messages, 0, "bomb: nothing delivered");
  gust_websocket_unref(ws);
  gust_buf_free(&got);
  gust_buf_free(&want);
  srv_stop();
}

static void fd_ready(gust_loop *l, int fd, int events, void *ud) {
  (void)l;
  (void)fd;
  (void)events;
  *(int *)ud = 1;
}

/* Accepts the connection the client makes to the raw listener `lfd` and
 * reads its request head into `buf` (NUL-terminated); returns the socket,
 * or -1 when no client came (the group has then failed). */
static int accept_head(int lfd, char *buf, size_t cap) {
  gust_buf in;
  int fd = -1, ready = 0, eof = 0;
  buf[0] = 0;
  if (gust_loop_add_handler(loop, lfd, GUST_LOOP_READ, fd_ready, &ready) != 0)
    bail_out("cannot watch the raw listener");
  t_run_until_flag(loop, &ready);
  gust_loop_remove_handler(loop, lfd);
  if (ready)
    fd = accept(lfd, NULL, NULL);
  if (fd < 0)
    return -1;
  gust_buf_init(&in, NULL);
  while (!eof && in.len < cap - 1 &&
         (in.len < 4 || memmem(in.ptr, in.len, "\r\n\r\n", 4) == NULL)) {
    size_t had = in.len;
    raw_pump(fd, &in, in.len + 1, &eof, 5.0);
    if (in.len == had)
      break; /* nothing for 5 s */
  }
  snprintf(buf, cap, "%.*s", (int)in.len, in.len > 0 ? (char *)in.ptr : "");
  gust_buf_free(&in);
  return fd;
}

static void t_subprotocol(void) {
  static const char *const offer[] = {"chat.v2", "chat", NULL};
  gust_websocket_connect_opts o;
  gust_future *f;
  gust_websocket *ws;
  memset(&o, 0, sizeof(o));
  o.subprotocols = offer;
  srv_start(NULL);
  S.protocol = "chat";
  f = connect_opts("/p", &o);
  ws = gust_websocket_connect_take(f);
  ok(ws != NULL, "connect offering two subprotocols");
  is_str(ws != NULL ? gust_websocket_selected_subprotocol(ws) : NULL, "chat",
         "client: the server's choice");
  is_str(gust_websocket_selected_subprotocol(S.last), "chat",
         "server: its choice");
  gust_websocket_close(ws, 1000, NULL);
  wait_ws_closed(ws);
  gust_websocket_unref(ws);
  gust_future_unref(f);
  S.protocol = "other";
  f = connect_opts("/p", &o);
  ws = gust_websocket_connect_take(f);
  ok(ws != NULL && gust_websocket_selected_subprotocol(ws) == NULL,
     "nothing chosen: no header, no subprotocol");
  gust_websocket_close(ws, 1000, NULL);
  wait_ws_closed(ws);
  gust_websocket_unref(ws);
  gust_future_unref(f);
  S.bad_index = 1;
  f = connect_opts("/p", &o);
  ws = gust_websocket_connect_take(f);
  ok(ws != NULL && gust_websocket_selected_subprotocol(ws) == NULL,
     "an index out of range answers nothing");
  gust_websocket_close(ws, 1000, NULL);
  wait_ws_closed(ws);
  gust_websocket_unref(ws);
  gust_future_unref(f);
  srv_stop();

  /* a server answering a subprotocol that was not offered */
  {
    int lfd = socket(AF_INET, SOCK_STREAM, 0), cfd, port;
    struct sockaddr_in a;
    socklen_t al = sizeof(a);
    char buf[2048], key[64] = "", acc[GUST_WS_ACCEPT_LEN + 1], resp[512];
    char *k;
    ssize_t n;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(lfd, 4) != 0)
      bail_out("listen");
    getsockname(lfd, (struct sockaddr *)&a, &al);
    port = ntohs(a.sin_port);
    {
      char u[64];
      snprintf(u, sizeof(u), "ws://127.0.0.1:%d/", port);
      gust_websocket_connect_url(loop, u, &o, NULL, &f);
    }
    cfd = accept_head(lfd, buf, sizeof(buf));
    k = strstr(buf, "Sec-WebSocket-Key: ");
    if (k != NULL)
      sscanf(k + 19, "%63[^\r]", key);
    gust_ws_accept_key(key, strlen(key), acc);
    n = snprintf(resp, sizeof(resp),
                 "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                 "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n"
                 "Sec-WebSocket-Protocol: evil\r\n\r\n",
                 acc);
    if (cfd >= 0)
      raw_send(cfd, resp, (size_t)n);
    t_run_future(f);
    ok(gust_future_error(f) == GUST_EWS_HANDSHAKE,
       "an unoffered subprotocol fails the handshake (%s)",
       gust_future_error_message(f));
    ok(cfd >= 0 && raw_sees_eof(cfd, 5),
       "... and its connection is closed at once (the future still held)");
    gust_future_unref(f);
    /* and a bad accept value */
    gust_websocket_connect_url(loop, "ws://127.0.0.1:1/", NULL, NULL, &f);
    t_run_future(f);
    ok(gust_future_error(f) != 0, "connect refused: %s",
       gust_errname(gust_future_error(f)));
    ok(gust_websocket_connect_take(f) == NULL, "nothing to take");
    gust_future_unref(f);
    {
      char u[64];
      int c2;
      snprintf(u, sizeof(u), "ws://127.0.0.1:%d/", port);
      gust_websocket_connect_url(loop, u, NULL, NULL, &f);
      c2 = accept_head(lfd, buf, sizeof(buf));
      n = snprintf(resp, sizeof(resp),
                   "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Accept: "
                   "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
      if (c2 >= 0)
        raw_send(c2, resp, (size_t)n);
      t_run_future(f);
      ok(gust_future_error(f) == GUST_EWS_HANDSHAKE &&
             strstr(gust_future_error_message(f), "Non-websocket response") !=
                 NULL,
         "a wrong Sec-WebSocket-Accept: %s", gust_future_error_message(f));
      gust_future_unref(f);
      if (c2 >= 0)
        close(c2);
    }
    if (cfd >= 0)
      close(cfd);
    close(lfd);
  }
}

static void plain_cb(gust_http_request *req, void *ud) {
  (void)ud;
  gust_http_respond(req, 200, "text/plain", "plain", 5);
}

static void t_handshake(void) {
  gust_buf rest;
  char head[2048];
  int fd, st;
  gust_future *f;
  srv_start(NULL);
  gust_buf_init(&rest, NULL);

  fd = raw_connect(S.port);
  st = raw_handshake(fd, "GET", "Sec-WebSocket-Version: 13\r\n", NULL, 0, &rest,
                     head, sizeof(head));
  is_int(st, 400, "no key: 400");
  ok(rest.len >= 33 &&
         memcmp(rest.ptr, "Missing/Invalid WebSocket headers", 33) == 0,
     "... with Tornado's text");
  close(fd);

  fd = raw_connect(S.port);
  st = raw_handshake(fd, "GET",
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 8\r\n",
                     NULL, 0, &rest, head, sizeof(head));
  is_int(st, 426, "version 8: 426");
  ok(strstr(head, "Sec-WebSocket-Version: 13\r\n") != NULL,
     "... naming version 13");
  close(fd);

  fd = raw_connect(S.port);
  st = raw_handshake(fd, "POST", KEY_LINES, NULL, 0, &rest, head, sizeof(head));
  is_int(st, 405, "POST: 405");
  close(fd);

  fd = raw_connect(S.port);
  {
    char lines[256];
    snprintf(lines, sizeof(lines), "%sOrigin: http://evil.example\r\n",
             KEY_LINES);
    st = raw_handshake(fd, "GET", lines, NULL, 0, &rest, head, sizeof(head));
  }
  is_int(st, 403, "cross-origin: 403");
  ok(rest.len >= 34 &&
         memcmp(rest.ptr, "Cross origin websockets not allowed", 34) == 0,
     "... with Tornado's text");
  close(fd);

  fd = raw_connect(S.port);
  {
    char lines[256];
    snprintf(lines, sizeof(lines), "%sOrigin: http://127.0.0.1:%d\r\n",
             KEY_LINES, S.port);
    st = raw_handshake(fd, "GET", lines, NULL, 0, &rest, head, sizeof(head));
  }
  is_int(st, 101, "same origin: 101");
  ok(strstr(head, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n") !=
         NULL,
     "the RFC's accept value");
  close(fd);
  ok(wait_srv_closed(1) == 0 && S.close_code == 1006,
     "TCP dropped without a close: on_close with 1006");

  /* a frame pipelined behind the request is kept */
  {
    uint8_t fr[64];
    size_t n = frame(fr, 0x81, "early", 5, 0);
    int texts = 0, code;
    char first[64] = "";
    fd = raw_connect(S.port);
    st = raw_handshake(fd, "GET", KEY_LINES, fr, n, &rest, head, sizeof(head));
    is_int(st, 101, "pipelined frame: 101");
    n = frame(fr, 0x88, "\x03\xe8", 2, 0);
    raw_send(fd, fr, n);
    code = raw_until_close(fd, &rest, &texts, first, sizeof(first));
    is_int(texts, 1, "the pipelined message is echoed");
    is_str(first, "early", "... with its bytes");
    is_int(code, 1000, "then the close is answered with 1000");
    ok(raw_sees_eof(fd, 5), "the server closes TCP after the handshake");
    close(fd);
  }

  /* the client: cross-origin refused by default, with the response */
  {
    gust_fetch_request r;
    gust_headers h;
    char u[64];
    gust_headers_init(&h, NULL);
    gust_headers_add_str(&h, "Origin", "http://evil.example");
    snprintf(u, sizeof(u), "ws://127.0.0.1:%d/x", S.port);
    gust_fetch_request_init(&r, u);
    r.headers = &h;
    gust_websocket_connect(loop, &r, NULL, NULL, &f);
    t_run_future(f);
    is_int(gust_future_error(f), GUST_EWS_HANDSHAKE, "client: refused");
    is_str(gust_future_error_message(f), "HTTP 403: Forbidden",
           "client: the message names the status");
    is_int(gust_fetch_response_code(gust_websocket_connect_response(f)), 403,
           "client: the 403 response is there");
    gust_future_unref(f);
    /* a custom check_origin */
    S_HANDLER.check_origin = s_origin;
    S.allow_origin = 1;
    gust_websocket_connect(loop, &r, NULL, NULL, &f);
    t_run_future(f);
    ok(gust_future_error(f) == 0 && S.origin_calls == 1,
       "a check_origin that allows: connected");
    {
      gust_websocket *ws = gust_websocket_connect_take(f);
      gust_websocket_close(ws, 1000, NULL);
      wait_ws_closed(ws);
      gust_websocket_unref(ws);
    }
    gust_future_unref(f);
    S.allow_origin = 0;
    gust_websocket_connect(loop, &r, NULL, NULL, &f);
    t_run_future(f);
    is_int(gust_future_error(f), GUST_EWS_HANDSHAKE,
           "a check_origin that refuses: 403");
    gust_future_unref(f);
    S_HANDLER.check_origin = NULL;
    gust_headers_free(&h);
  }
  /* an HTTP server that is not a WebSocket one */
  {
    gust_http_server *plain;
    char u[64];
    if (gust_http_server_new_cb(&plain, loop, NULL, plain_cb, NULL, NULL) !=
            0 ||
        gust_http_server_listen(plain, "127.0.0.1", 0, NULL) != 0)
      bail_out("plain server");
    snprintf(u, sizeof(u), "ws://127.0.0.1:%d/", gust_http_server_port(plain));
    gust_websocket_connect_url(loop, u, NULL, NULL, &f);
    t_run_future(f);
    is_int(gust_future_error(f), GUST_EWS_HANDSHAKE,
           "a plain HTTP server: handshake error (%s)",
           gust_future_error_message(f));
    gust_future_unref(f);
    gust_http_server_free(plain);
  }
  gust_buf_free(&rest);
  srv_stop();
}

static void t_close(void) {
  gust_websocket *ws;
  gust_buf got;
  gust_buf_init(&got, NULL);
  srv_start(NULL);
  /* the server closes with a reason */
  ws = connect_ws("/c", 0, 1);
  gust_websocket_close(S.last, 1001, "bye");
  is_int(gust_websocket_get_state(S.last), GUST_WEBSOCKET_CLOSING,
         "server: closing after close()");
  is_int(gust_websocket_write_message(S.last, "x", 1, 0, NULL), GUST_ECLOSED,
         "server: write after close(): GUST_ECLOSED");
  ok(read_msg(ws, &got, NULL) == 1, "client: read ends with NULL");
  ok(wait_ws_closed(ws) == 0, "client: closed");
  is_int(gust_websocket_close_code(ws), 1001, "client: the server's code");
  ok(gust_websocket_close_reason(ws).len == 3 &&
         memcmp(gust_websocket_close_reason(ws).ptr, "bye", 3) == 0,
     "client: the server's reason");
  ok(wait_srv_closed(1) == 0, "server: on_close");
  is_int(S.close_code, 1001, "server: the client echoed 1001");
  gust_websocket_unref(ws);

  /* a close without a code */
  ws = connect_ws("/c", 0, 1);
  gust_websocket_close(ws, 0, NULL);
  ok(wait_srv_closed(2) == 0 && S.close_code == 1005,
     "an empty close is reported as 1005");
  wait_ws_closed(ws);
  is_int(gust_websocket_close_code(ws), 1005, "the answer is an empty close");
  gust_websocket_unref(ws);

  /* invalid close arguments */
  ws = connect_ws("/c", 0, 1);
  is_int(gust_websocket_close(ws, 1005, NULL), GUST_EINVAL,
         "close(1005): GUST_EINVAL");
  is_int(gust_websocket_close(ws, 999, NULL), GUST_EINVAL,
         "close(999): GUST_EINVAL");
  {
    char r[200];
    memset(r, 'r', sizeof(r) - 1);
    r[sizeof(r) - 1] = 0;
    is_int(gust_websocket_close(ws, 1000, r), GUST_EINVAL,
           "a 199-byte reason: GUST_EINVAL");
  }
  is_int(gust_websocket_close(ws, 1000, "\xff"), GUST_EINVAL,
         "a reason that is not UTF-8: GUST_EINVAL");
  is_int(gust_websocket_get_state(ws), GUST_WEBSOCKET_OPEN,
         "still open after refused closes");
  /* abort: the other side sees 1006 */
  gust_websocket_abort(ws);
  ok(wait_srv_closed(3) == 0 && S.close_code == 1006,
     "abort: the server sees 1006");
  wait_ws_closed(ws);
  is_int(gust_websocket_close_code(ws), 1006, "abort: 1006 locally too");
  gust_websocket_unref(ws);

  /* messages behind the one whose handler aborts are not delivered */
  S.mode = MODE_ABORT;
  {
    uint8_t fr[64];
    size_t n;
    int fd = raw_connect(S.port), before = S.messages;
    gust_buf in;
    gust_buf_init(&in, NULL);
    n = frame(fr, 0x81, "one", 3, 0);
    n += frame(fr + n, 0x81, "two", 3, 0);
    n += frame(fr + n, 0x89, "ping", 4, 0);
    raw_handshake(fd, "GET", KEY_LINES, fr, n, &in, NULL, 0);
    ok(raw_sees_eof(fd, 5), "abort from on_message: TCP closed");
    is_int(S.messages - before, 1, "... nothing delivered after it");
    is_int(S.pings, 0, "... not even the ping");
    close(fd);
    gust_buf_free(&in);
  }
  S.mode = MODE_ECHO;

  /* a client that never answers our close: dropped after close_timeout */
  srv_stop();
  S.opts.close_timeout = 0.2;
  srv_start(NULL);
  {
    int fd = raw_connect(S.port), code;
    double t0;
    gust_buf in;
    gust_buf_init(&in, NULL);
    raw_handshake(fd, "GET", KEY_LINES, NULL, 0, &in, NULL, 0);
    t0 = gust_loop_now(loop);
    gust_websocket_close(S.last, 1000, "going");
    code = raw_until_close(fd, &in, NULL, NULL, 0);
    is_int(code, 1000, "the silent peer gets our close");
    ok(raw_sees_eof(fd, 10), "then TCP is dropped");
    ok(gust_loop_now(loop) - t0 >= 0.15, "after close_timeout");
    ok(wait_srv_closed(1) == 0 && S.err == GUST_ETIMEDOUT,
       "on_close, with GUST_ETIMEDOUT");
    is_int(S.close_code, 1006, "no close frame from the peer: 1006");
    close(fd);
    gust_buf_free(&in);
  }
  srv_stop();
  gust_buf_free(&got);
}

static void t_protocol_errors(void) {
  static const struct {
    const char *name;
    uint8_t b0;
    const char *payload;
    size_t len;
    int unmasked;
    int code;
    int err;
    int peer; /* the close code gust reports for the peer */
  } cases[] = {
      {"unmasked frame", 0x81, "hi", 2, 1, 1002, GUST_EWS_PROTOCOL, 1000},
      {"RSV1 without an extension", 0xc1, "hi", 2, 0, 1002, GUST_EWS_PROTOCOL,
       1000},
      {"reserved opcode 3", 0x83, "", 0, 0, 1002, GUST_EWS_PROTOCOL, 1000},
      {"continuation without a message", 0x80, "x", 1, 0, 1002,
       GUST_EWS_PROTOCOL, 1000},
      {"fragmented ping", 0x09, "", 0, 0, 1002, GUST_EWS_PROTOCOL, 1000},
      {"invalid UTF-8", 0x81, "\xce\xba\xe1\xbd\xb9\xcf\x83\xed\xa0\x80", 10, 0,
       1007, GUST_EWS_UTF8, 1000},
      {"too big", 0x82, "0123456789abcdefghij", 20, 0, 1009, GUST_EWS_TOOBIG,
       1000},
      {"close with 1 byte", 0x88, "\x03", 1, 0, 1002, GUST_EWS_PROTOCOL, 1005},
      {"close with code 1004", 0x88, "\x03\xec", 2, 0, 1002, GUST_EWS_PROTOCOL,
       1004},
  };
  size_t i;
  S.opts.max_message_size = 16;
  srv_start(NULL);
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    uint8_t fr[256];
    size_t n = 0;
    int fd = raw_connect(S.port), texts = 0, code, before = S.closed;
    char first[64] = "";
    gust_buf in;
    gust_buf_init(&in, NULL);
    /* a valid message first: it must be echoed before the close */
    n = frame(fr, 0x81, "ok", 2, 0);
    n += frame(fr + n, cases[i].b0, cases[i].payload, cases[i].len,
               cases[i].unmasked);
    raw_handshake(fd, "GET", KEY_LINES, fr, n, &in, NULL, 0);
    code = raw_until_close(fd, &in, &texts, first, sizeof(first));
    ok(texts == 1 && strcmp(first, "ok") == 0 && code == cases[i].code,
       "%s: the earlier message echoed, then close %d (got %d texts, code %d)",
       cases[i].name, cases[i].code, texts, code);
    n = frame(fr, 0x88, "\x03\xe8", 2, 0);
    raw_send(fd, fr, n);
    ok(raw_sees_eof(fd, 10), "%s: TCP closed after our answer", cases[i].name);
    ok(wait_srv_closed(before + 1) == 0 && S.err == cases[i].err,
       "%s: on_close once, error %s", cases[i].name, gust_errname(S.err));
    is_int(S.close_code, cases[i].peer, "%s: the peer's close is reported (%d)",
           cases[i].name, cases[i].peer);
    close(fd);
    gust_buf_free(&in);
  }
  /* fail-fast UTF-8: the close comes before the rest of the frame */
  {
    uint8_t fr[64];
    size_t n;
    int fd = raw_connect(S.port), code;
    gust_buf in;
    gust_buf_init(&in, NULL);
    n = frame(fr, 0x81, "ab\xf4\x90xyzw", 8, 0);
    raw_handshake(fd, "GET", KEY_LINES, fr, n - 3, &in, NULL, 0);
    code = raw_until_close(fd, &in, NULL, NULL, 0);
    is_int(code, 1007, "invalid UTF-8 mid-frame: 1007 before the frame ends");
    close(fd);
    gust_buf_free(&in);
  }
  srv_stop();
}

static void t_backpressure(void) {
  gust_websocket *ws;
  gust_buf got;
  int i;
  gust_buf_init(&got, NULL);
  srv_start(NULL);
  S.mode = MODE_HOLD;
  ws = connect_ws("/b", 0, 1);
  for (i = 0; i < 3; i++)
    gust_websocket_write_message(ws, "m", 1, 0, NULL);
  read_msg(ws, &got, NULL);
  t_run_for(loop, 0.1);
  is_int(S.messages, 1, "on_message's future holds the next message back");
  gust_future_set_result(S.hold, NULL, NULL);
  gust_future_unref(S.hold);
  S.hold = NULL;
  read_msg(ws, &got, NULL);
  t_run_for(loop, 0.05);
  is_int(S.messages, 2, "resolving it lets one more through");
  /* a failed future closes with 1011 */
  gust_future_set_error(S.hold, GUST_EINTERNAL, "handler broke");
  gust_future_unref(S.hold);
  S.hold = NULL;
  read_msg(ws, &got, NULL);
  ok(read_msg(ws, &got, NULL) == 1, "a failed wait closes the connection");
  wait_ws_closed(ws);
  is_int(gust_websocket_close_code(ws), 1011, "... with 1011");
  gust_websocket_unref(ws);
  srv_stop();

  /* on_message failing closes with 1011 */
  srv_start(NULL);
  S.mode = MODE_FAIL;
  ws = connect_ws("/b", 0, 1);
  gust_websocket_write_message(ws, "boom", 4, 0, NULL);
  ok(read_msg(ws, &got, NULL) == 1, "on_message failure: read ends");
  wait_ws_closed(ws);
  is_int(gust_websocket_close_code(ws), 1011, "... close 1011");
  gust_websocket_unref(ws);
  srv_stop();

  /* a peer that does not read: the server stops reading too */
  S.opts.write_high_water = 65536;
  srv_start(NULL);
  {
    int fd = raw_connect(S.port);
    gust_buf in, out;
    uint8_t *big = malloc(60000), *fr = malloc(60100);
    size_t n;
    gust_buf_init(&in, NULL);
    gust_buf_init(&out, NULL);
    memset(big, 'q', 60000);
    raw_handshake(fd, "GET", KEY_LINES, NULL, 0, &in, NULL, 0);
    n = frame(fr, 0x82, big, 60000, 0);
    for (i = 0; i < 1000; i++) {
      if (send(fd, fr, n, MSG_DONTWAIT) != (ssize_t)n)
        break;
      t_run_for(loop, 0.002);
    }
    t_run_for(loop, 0.2);
    ok(S.messages < 1000 && i < 1000,
       "a peer that reads nothing: the server stops reading (%d messages "
       "taken, %d frames sent)",
       S.messages, i);
    {
      int eof = 0, before = S.messages;
      raw_pump(fd, &out, SIZE_MAX, &eof, 1.0);
      ok(out.len > 0 && S.messages > before,
         "reading again lets it go on (%zu bytes read, %d more messages)",
         out.len, S.messages - before);
    }
    close(fd);
    ok(wait_srv_closed(1) == 0, "the server sees the peer go");
    free(big);
    free(fr);
    gust_buf_free(&in);
    gust_buf_free(&out);
  }
  srv_stop();
  gust_buf_free(&got);
}

static void t_ping(void) {
  gust_websocket *ws;
  gust_buf got;
  char big[200];
  gust_buf_init(&got, NULL);
  srv_start(NULL);
  memset(&C, 0, sizeof(C));
  ws = connect_ws("/p", 0, 0);
  is_int(gust_websocket_ping(ws, "ping-1", 6), 0, "client ping");
  memset(big, 'p', sizeof(big));
  is_int(gust_websocket_ping(ws, big, 126), GUST_EINVAL,
         "a 126-byte ping: GUST_EINVAL");
  t_run_until_flag(loop, &C.pongs);
  is_int(S.pings, 1, "server on_ping");
  is_str(S.last_ping, "ping-1", "... with the payload");
  is_int(C.pongs, 1, "client on_pong");
  is_str(C.last_pong, "ping-1", "... the same payload back");
  gust_websocket_ping(S.last, NULL, 0);
  t_run_for(loop, 0.05);
  is_int(S.pongs, 1, "server ping answered by the gust client");
  {
    gust_future *rf = NULL;
    is_int(gust_websocket_read_message(S.last, &rf), GUST_ESTATE,
           "read_message where on_message takes the messages: GUST_ESTATE");
    gust_future_unref(rf);
  }
  gust_websocket_close(ws, 1000, NULL);
  wait_ws_closed(ws);
  is_int(C.closed, 1, "client on_close once");
  gust_websocket_unref(ws);
  srv_stop();

  /* keepalive: answered pings keep the connection */
  S.opts.ping_interval = 0.05;
  srv_start(NULL);
  ws = connect_ws("/k", 0, 1);
  t_run_for(loop, 0.4);
  ok(S.pongs >= 3, "keepalive pings answered (%d pongs)", S.pongs);
  is_int(gust_websocket_get_state(ws), GUST_WEBSOCKET_OPEN,
         "the connection stays open");
  gust_websocket_close(ws, 1000, NULL);
  wait_ws_closed(ws);
  gust_websocket_unref(ws);
  srv_stop();

  /* keepalive: a peer that never answers gets close 1000 "ping timed out" */
  S.opts.ping_interval = 0.1;
  S.opts.ping_timeout = 0.05;
  srv_start(NULL);
  {
    int fd = raw_connect(S.port);
    gust_buf in;
    size_t off = 0;
    const uint8_t *pl;
    size_t pn;
    int op, pings = 0, code = -1, eof = 0;
    gust_buf_init(&in, NULL);
    raw_handshake(fd, "GET", KEY_LINES, NULL, 0, &in, NULL, 0);
    while (!eof && code < 0) {
      size_t had = in.len;
      raw_pump(fd, &in, in.len + 1, &eof, 5);
      if (in.len == had && !eof)
        break; /* nothing for 5 s */
      while ((op = next_frame(&in, &off, &pl, &pn)) >= 0) {
        if (op == 9)
          pings++;
        if (op == 8) {
          code = pn >= 2 ? (pl[0] << 8 | pl[1]) : 0;
          ok(pn > 2 && memcmp(pl + 2, "ping timed out", pn - 2) == 0,
             "the reason is \"ping timed out\"");
        }
      }
    }
    is_int(pings, 1, "one unanswered ping");
    is_int(code, 1000, "then close 1000");
    close(fd);
    gust_buf_free(&in);
  }
  srv_stop();
  gust_buf_free(&got);
}

static void t_open(void) {
  gust_websocket *ws;
  gust_buf got;
  int i, order = 1;
  gust_buf_init(&got, NULL);
  srv_start(NULL);
  S.open_send = 3;
  ws = connect_ws("/o", 0, 1);
  for (i = 0; i < 3; i++) {
    char m[32];
    snprintf(m, sizeof(m), "hello %d", i);
    if (read_msg(ws, &got, NULL) != 0 || got.len != strlen(m) ||
        memcmp(got.ptr, m, got.len) != 0)
      order = 0;
  }
  ok(order, "messages written in open arrive in order (read_message buffers "
            "one at a time)");
  gust_websocket_close(ws, 1000, NULL);
  wait_ws_closed(ws);
  gust_websocket_unref(ws);
  S.open_send = 0;
  S.open_fail = 1;
  {
    gust_future *f = connect_opts("/o", NULL);
    ws = gust_websocket_connect_take(f);
    ok(ws != NULL, "open failing: the handshake itself succeeded");
    ok(read_msg(ws, &got, NULL) == 1, "... then the connection is dropped");
    wait_ws_closed(ws);
    is_int(gust_websocket_close_code(ws), 1006, "... without a close frame");
    ok(wait_srv_closed(2) == 0, "server on_close still runs");
    gust_websocket_unref(ws);
    gust_future_unref(f);
  }
  /* a connect cancelled while the server does not answer */
  {
    hang_listener hl;
    gust_future *f = NULL;
    char u[64];
    double t0 = gust_loop_now(loop);
    if (hang_open(&hl) != 0)
      bail_out("hang listener");
    snprintf(u, sizeof(u), "ws://127.0.0.1:%d/", hl.port);
    gust_websocket_connect_url(loop, u, NULL, NULL, &f);
    t_run_for(loop, 0.05);
    ok(!gust_future_done(f), "a server that never answers: still connecting");
    ok(gust_future_cancel(f) == 1 && gust_future_cancelled(f),
       "the connect future can be cancelled");
    t_run_for(loop, 0.05);
    ok(gust_loop_now(loop) - t0 < 5, "... and everything stops at once");
    gust_future_unref(f);
    hang_close(&hl);
  }
  /* a connect future dropped without taking the connection */
  S.open_fail = 0;
  {
    gust_future *f = connect_opts("/o", NULL);
    int before = S.closed;
    gust_future_unref(f);
    ok(wait_srv_closed(before + 1) == 0, "a connection nobody took is closed");
  }
  srv_stop();
  gust_buf_free(&got);
}

static void t_tls(void) {
  gust_http_server_opts so;
  gust_tls_ctx *sctx =
      tc_server_ctx("server", GUST_TLS_CLIENT_AUTH_NONE, NULL, 0);
  gust_fetch_request r;
  gust_websocket_connect_opts o;
  gust_future *f;
  gust_websocket *ws;
  gust_buf got;
  char u[128];
  memset(&so, 0, sizeof(so));
  so.tls = sctx;
  S.opts.compression = 1;
  srv_start(&so);
  gust_buf_init(&got, NULL);
  snprintf(u, sizeof(u), "wss://localhost:%d/tls", S.port);
  gust_fetch_request_init(&r, u);
  r.ca_certs = tc_path("ca.pem");
  memset(&o, 0, sizeof(o));
  o.ws.compression = 1;
  gust_websocket_connect(loop, &r, &o, NULL, &f);
  t_run_future(f);
  ws = gust_websocket_connect_take(f);
  ok(ws != NULL, "wss:// with the test CA (%s)",
     gust_future_error_message(f) != NULL ? gust_future_error_message(f)
                                          : "ok");
  gust_future_unref(f);
  if (ws != NULL) {
    gust_websocket_write_message(ws, "secure", 6, 0, NULL);
    ok(read_msg(ws, &got, NULL) == 0 && got.len == 6 &&
           memcmp(got.ptr, "secure", 6) == 0,
       "wss: echo");
    gust_websocket_close(ws, 1000, NULL);
    ok(wait_ws_closed(ws) == 0 && gust_websocket_close_code(ws) == 1000,
       "wss: closing handshake");
    gust_websocket_unref(ws);
  }
  /* verification is on by default */
  gust_websocket_connect_url(loop, u, NULL, NULL, &f);
  t_run_future(f);
  is_int(gust_future_error(f), GUST_ETLS_VERIFY,
         "wss: an unknown CA is refused");
  gust_future_unref(f);
  srv_stop();
  gust_tls_ctx_free(sctx);
  gust_buf_free(&got);
}

static void t_shutdown(void) {
  gust_websocket *a, *b;
  gust_future *f = NULL;
  gust_buf got;
  gust_buf_init(&got, NULL);
  S.opts.close_timeout = 0.3;
  srv_start(NULL);
  a = connect_ws("/s", 0, 1);
  b = connect_ws("/s", 1, 1);
  ok(a != NULL && b != NULL, "two connections");
  is_int(gust_http_server_shutdown(S.srv, 30, &f), 0, "graceful shutdown");
  ok(read_msg(a, &got, NULL) == 1 && read_msg(b, &got, NULL) == 1,
     "both clients' reads end");
  wait_ws_closed(a);
  wait_ws_closed(b);
  ok(gust_websocket_close_code(a) == 1001 &&
         gust_websocket_close_code(b) == 1001,
     "both got 1001 (going away)");
  ok(gust_websocket_close_reason(a).len == 10 &&
         memcmp(gust_websocket_close_reason(a).ptr, "going away", 10) == 0,
     "... with the reason \"going away\"");
  ok(t_run_future(f) == 0 && gust_future_error(f) == 0,
     "the shutdown completes once they are closed");
  is_int(S.closed, 2, "server on_close ran for both");
  gust_future_unref(f);
  gust_websocket_unref(a);
  gust_websocket_unref(b);
  srv_stop();

  /* a peer that does not answer: the close timeout ends it */
  S.opts.close_timeout = 0.2;
  srv_start(NULL);
  {
    int fd = raw_connect(S.port);
    gust_buf in;
    double t0;
    gust_buf_init(&in, NULL);
    raw_handshake(fd, "GET", KEY_LINES, NULL, 0, &in, NULL, 0);
    t0 = gust_loop_now(loop);
    gust_http_server_shutdown(S.srv, 30, &f);
    is_int(raw_until_close(fd, &in, NULL, NULL, 0), 1001,
           "the silent peer gets 1001");
    ok(t_run_future(f) == 0 && gust_loop_now(loop) - t0 < 10,
       "the shutdown completes after the close timeout, not its own");
    gust_future_unref(f);
    close(fd);
    gust_buf_free(&in);
  }
  srv_stop();

  /* a peer that sends without reading: our close cannot even be written,
   * and the close timeout still ends it */
  S.opts.close_timeout = 0.2;
  S.opts.write_high_water = 65536;
  srv_start(NULL);
  {
    int fd = raw_connect(S.port), i;
    gust_buf in;
    uint8_t *fr = malloc(60100), *big = calloc(1, 60000);
    size_t n = frame(fr, 0x82, big, 60000, 0);
    gust_buf_init(&in, NULL);
    raw_handshake(fd, "GET", KEY_LINES, NULL, 0, &in, NULL, 0);
    for (i = 0; i < 1000; i++) {
      if (send(fd, fr, n, MSG_DONTWAIT) != (ssize_t)n)
        break;
      t_run_for(loop, 0.002);
    }
    t_run_for(loop, 0.1);
    gust_http_server_shutdown(S.srv, 30, &f);
    ok(t_run_future(f) == 0, "a flooding peer that reads nothing: the "
                             "shutdown still completes");
    ok(S.closed == 1 && S.err == GUST_ETIMEDOUT,
       "... its connection closed on the close timeout (%s)",
       gust_errname(S.err));
    gust_future_unref(f);
    close(fd);
    free(fr);
    free(big);
    gust_buf_free(&in);
  }
  srv_stop();

  /* freeing the server drops its WebSocket connections */
  srv_start(NULL);
  a = connect_ws("/s", 0, 1);
  gust_http_server_free(S.srv);
  S.srv = NULL;
  ok(read_msg(a, &got, NULL) == 1, "server freed: the client's read ends");
  wait_ws_closed(a);
  is_int(gust_websocket_close_code(a), 1006, "... without a close frame");
  ok(wait_srv_closed(1) == 0, "the server side's on_close still runs");
  gust_websocket_unref(a);
  srv_stop();
  gust_buf_free(&got);
}

/* Every allocation of a client connection failing in turn: each run ends,
 * cleanly, and frees everything (valgrind and ASan watch). */
static void t_failmem(void) {
  gust_failmem fm;
  unsigned long n;
  int completed = 0, failed = 0, hung = 0;
  gust_buf got;
  gust_buf_init(&got, NULL);
  S.opts.compression = 1;
  srv_start(NULL);
  gust_failmem_init(&fm, NULL);
  for (n = 1; n < 800; n++) {
    gust_websocket_connect_opts o;
    gust_websocket *ws;
    gust_future *f = NULL;
    char u[64];
    memset(&o, 0, sizeof(o));
    o.ws.compression = 1;
    snprintf(u, sizeof(u), "ws://127.0.0.1:%d/f", S.port);
    /* the first half fails one allocation, the second every one from
     * there on */
    gust_failmem_reset(&fm, n < 400 ? n : n - 399);
    fm.fail_after = n >= 400;
    if (gust_websocket_connect_url(loop, u, &o, &fm.mem, &f) != 0) {
      failed++;
      continue;
    }
    if (t_run_future(f) != 0) {
      hung++;
      gust_future_unref(f);
      break;
    }
    ws = gust_websocket_connect_take(f);
    gust_future_unref(f);
    if (ws == NULL) {
      failed++;
      continue;
    }
    if (gust_websocket_write_message(ws, "failmem", 7, 0, NULL) == 0 &&
        read_msg(ws, &got, NULL) == 0 && got.len == 7)
      completed++;
    else
      failed++;
    gust_websocket_close(ws, 1000, NULL);
    if (wait_ws_closed(ws) != 0)
      hung++;
    gust_websocket_unref(ws);
    t_run_for(loop, 0.002);
  }
  t_run_for(loop, 0.05);
  is_int(hung, 0, "failmem: no run hangs");
  ok(completed > 0 && failed > 0, "failmem: %d completed, %d failed cleanly",
     completed, failed);
  is_int((long long)fm.live_blocks, 0, "failmem: nothing left allocated");
  srv_stop();
  gust_buf_free(&got);
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  tc_make_certs();
  t_run_group("echo", &loop, t_echo);
  t_run_group("compression", &loop, t_compression);
  t_run_group("subprotocol", &loop, t_subprotocol);
  t_run_group("handshake", &loop, t_handshake);
  t_run_group("close", &loop, t_close);
  t_run_group("protocol_errors", &loop, t_protocol_errors);
  t_run_group("backpressure", &loop, t_backpressure);
  t_run_group("ping", &loop, t_ping);
  t_run_group("open", &loop, t_open);
  t_run_group("tls", &loop, t_tls);
  t_run_group("shutdown", &loop, t_shutdown);
  t_run_group("failmem", &loop, t_failmem);
  tc_remove_certs();
  return done_testing();
}
