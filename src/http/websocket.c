/* WebSocket connections over the network: the server handler (upgraded from
 * a request of the HTTP server) and the client (a 101 obtained through the
 * HTTP client), both driving the proto/ws state machine over an IOStream.
 *
 * Reading: one streaming IOStream read hands every received chunk to
 * on_data(), which feeds the state machine; drive() then pulls its events
 * until it needs bytes, the application asked to wait (a future from open
 * or on_message, or an unread message of read_message), or the bytes
 * waiting to be sent passed the high-water mark. While it waits the stream
 * is paused, so at most one read chunk sits unparsed.
 *
 * Writing: frames queue in the state machine's output; drive() hands them
 * to the stream in one write when it is done with a chunk, and a write
 * made outside of drive() (or asking for a future) goes out at once.
 *
 * Closing (websocket-rules.md §5): the peer's close is answered by the
 * state machine; the server then drops TCP as soon as the answer is
 * written, the client waits up to close_timeout for the server to do it.
 * A local close or a protocol failure queues our close frame and waits up
 * to close_timeout for the peer's. The stream's close callback ends the
 * connection: on_close runs there, exactly once. */
#include "config.h"

#include <gust/websocket.h>

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "async/future_int.h"
#include "base/base_int.h"
#include "http/httpclient_int.h"
#include "http/request_int.h"
#include "net/iostream_int.h"

#define DEFAULT_CLOSE_TIMEOUT 5.0
#define DEFAULT_HIGH_WATER    ((size_t)1 << 20)

/* A message waiting for read_message, and the value such a future holds. */
typedef struct msgbox {
  gust_websocket_message m;
  const gust_mem *mem;
} msgbox;

struct gust_websocket {
  size_t refs;
  gust_loop *loop;
  const gust_mem *mem;
  int server;
  gust_iostream *stream; /* NULL once its close callback ran */
  gust_future *rfut;     /* the streaming read */
  gust_ws *ws;
  const gust_websocket_handler *h;
  void *ud;
  gust_websocket_opts o;
  gust_http_request *req;       /* server */
  gust__http_upgraded up;       /* server: known to the HTTP server */
  gust_fetch_response *resp;    /* client */
  gust_http_client *own_client; /* client: made for this connection (its
                                   TLS context must outlive the stream) */
  char *subprotocol;
  int deflate;

  unsigned close_code;
  uint8_t close_reason[GUST_WS_MAX_CLOSE_REASON];
  size_t close_reason_len;
  int err;
  char err_msg[160]; /* its message (copied: sources do not live as long) */

  gust_future *wait;  /* the application's (open, on_message) */
  gust_future *drain; /* the write buffer passed the high-water mark */
  gust_future *rm;    /* a pending read_message */
  msgbox *queued;     /* a message read_message has not taken */
  gust_timer close_timer;
  gust_timer ping_timer;
  double last_ping;
  gust_websocket_stats st;

  unsigned in_drive : 1;
  unsigned local_close : 1;   /* gust_websocket_close() or a failure */
  unsigned close_armed : 1;   /* close_timer runs */
  unsigned ping_armed : 1;    /* ping_timer runs */
  unsigned awaiting_pong : 1; /* a keepalive ping is unanswered */
  unsigned tcp_closing : 1;   /* we are closing the stream */
  unsigned finished : 1;      /* on_close ran (or is running) */
  unsigned paused : 1;        /* the stream is paused by us */
  unsigned resume_soon : 1;   /* a loop callback will call drive() */
};

static void drive(gust_websocket *w);
static void update_pause(gust_websocket *w);
static void close_tcp(gust_websocket *w);
static void after_closing(gust_websocket *w);
static void arm_ping(gust_websocket *w);

/* ------------------------------------------------------------------ */
/* Objects                                                              */
/* ------------------------------------------------------------------ */

/* Records why the connection failed; the first reason stays. */
static void set_err(gust_websocket *w, int code, const char *msg) {
  if (w->err != 0)
    return;
  w->err = code;
  snprintf(w->err_msg, sizeof(w->err_msg), "%s",
           msg != NULL ? msg : gust_strerror(code));
}

static void msgbox_free(void *v) {
  msgbox *b = v;
  if (b != NULL)
    gust__free(b->mem, b);
}

static msgbox *msgbox_new(const gust_mem *mem, int binary, gust_slice data) {
  msgbox *b;
  if (data.len > SIZE_MAX - sizeof(*b) - 1)
    return NULL;
  b = gust__malloc(mem, sizeof(*b) + data.len + 1);
  if (b == NULL)
    return NULL;
  b->mem = mem;
  b->m.binary = binary;
  b->m.data.ptr = (const uint8_t *)(b + 1);
  b->m.data.len = data.len;
  if (data.len > 0)
    memcpy(b + 1, data.ptr, data.len);
  ((uint8_t *)(b + 1))[data.len] = 0;
  return b;
}

gust_websocket *gust_websocket_ref(gust_websocket *w) {
  if (w != NULL)
    w->refs++;
  return w;
}

void gust_websocket_unref(gust_websocket *w) {
  if (w == NULL || --w->refs > 0)
    return;
  /* the last reference goes only after the stream closed (it holds one) */
  gust_future_unref(w->rfut);
  gust_future_unref(w->wait);
  gust_future_unref(w->drain);
  gust_future_unref(w->rm);
  msgbox_free(w->queued);
  gust_ws_free(w->ws);
  gust_http_request_unref(w->req);
  gust_fetch_response_unref(w->resp);
  gust__free(w->mem, w->subprotocol);
  gust_http_client_free(w->own_client);
  gust__free(w->mem, w);
}

static int fix_opts(gust_websocket_opts *o) {
  if (o->close_timeout <= 0)
    o->close_timeout = DEFAULT_CLOSE_TIMEOUT;
  if (o->write_high_water == 0)
    o->write_high_water = DEFAULT_HIGH_WATER;
  if (o->ping_interval < 0)
    o->ping_interval = 0;
  if (o->ping_interval > 0) {
    if (o->ping_timeout == 0) {
      o->ping_timeout = o->ping_interval;
    } else if (o->ping_timeout > o->ping_interval) {
      gust_log(GUST_LOG_GENERAL, GUST_LOG_WARNING,
               "ping_timeout cannot be longer than ping_interval: using %g",
               o->ping_interval);
      o->ping_timeout = o->ping_interval;
    }
  }
  if (o->compression_level < 0 || o->compression_level > 9 ||
      o->compression_mem_level < 0 || o->compression_mem_level > 9)
    return GUST_EINVAL;
  if ((o->max_window_bits != 0 &&
       (o->max_window_bits < 9 || o->max_window_bits > 15)) ||
      (o->peer_max_window_bits != 0 &&
       (o->peer_max_window_bits < 9 || o->peer_max_window_bits > 15)))
    return GUST_EINVAL;
  return 0;
}

/* The connection object around an upgraded stream (not reading yet). */
static int ws_make(gust_websocket **out, gust_loop *loop, const gust_mem *mem,
                   int server, const gust_websocket_opts *o,
                   const gust_ws_deflate_params *agreed) {
  gust_websocket *w;
  gust_ws_config cfg;
  int rc;
  *out = NULL;
  mem = gust__mem(mem);
  w = gust__calloc(mem, 1, sizeof(*w));
  if (w == NULL)
    return GUST_ENOMEM;
  w->refs = 1;
  w->loop = loop;
  w->mem = mem;
  w->server = server;
  w->o = *o;
  memset(&cfg, 0, sizeof(cfg));
  cfg.role = server ? GUST_WS_SERVER : GUST_WS_CLIENT;
  cfg.max_message_size = o->max_message_size;
  cfg.max_fragments = o->max_fragments;
  cfg.deflate = agreed;
  cfg.deflate_level = o->compression_level;
  cfg.deflate_mem_level = o->compression_mem_level;
  cfg.deflate_min_size = o->compression_min_size;
  rc = gust_ws_new(&w->ws, &cfg, mem);
  if (rc < 0) {
    gust__free(mem, w);
    return rc;
  }
  w->deflate = agreed != NULL;
  *out = w;
  return 0;
}

/* ------------------------------------------------------------------ */
/* Output                                                               */
/* ------------------------------------------------------------------ */

static void on_drained(gust_future *f, void *ud) {
  gust_websocket *w = ud;
  GUST__UNUSED(f);
  gust_future_unref(w->drain);
  w->drain = NULL;
  if (w->stream != NULL && !w->finished) {
    drive(w);
    update_pause(w);
  }
  gust_websocket_unref(w);
}

/* Hands the queued frames to the stream; `out` (may be NULL) gets a future
 * resolved once they reached the kernel. */
static int flush(gust_websocket *w, gust_future **out) {
  gust_slice o = gust_ws_pending_output(w->ws);
  int rc;
  if (o.len == 0 && out == NULL)
    return 0;
  if (w->stream == NULL || w->tcp_closing || gust_iostream_closed(w->stream)) {
    gust_ws_consume_output(w->ws, o.len);
    return GUST_ECLOSED;
  }
  rc = gust_iostream_write(w->stream, o.ptr, o.len, out);
  if (rc < 0) {
    /* nothing of it was queued: frames would be lost mid-stream */
    gust_ws_consume_output(w->ws, o.len);
    if (rc != GUST_ECLOSED) {
      set_err(w, rc, gust_iostream_call_error(w->stream));
      close_tcp(w);
    }
    return rc;
  }
  w->st.bytes_out += o.len;
  gust_ws_consume_output(w->ws, o.len);
  if (w->drain == NULL && w->stream != NULL &&
      gust_iostream_write_buffer_size(w->stream) > w->o.write_high_water) {
    /* reading stops until the peer took enough of what we send */
    if (gust_iostream_write(w->stream, NULL, 0, &w->drain) == 0 &&
        w->drain != NULL) {
      gust_websocket_ref(w);
      if (gust_future_add_done_callback(w->drain, on_drained, w) < 0) {
        gust_future_unref(w->drain);
        w->drain = NULL;
        gust_websocket_unref(w);
      }
    }
  }
  return 0;
}

/* Frames queued by the application: out now, or at the end of drive(). */
static int flush_soon(gust_websocket *w, gust_future **out) {
  if (out == NULL && w->in_drive)
    return 0; /* drive() flushes when it is done */
  return flush(w, out);
}

/* ------------------------------------------------------------------ */
/* Closing                                                              */
/* ------------------------------------------------------------------ */

static void on_close_timer(gust_loop *loop, void *ud) {
  gust_websocket *w = ud;
  GUST__UNUSED(loop);
  w->close_armed = 0;
  if (w->stream == NULL)
    return;
  /* a client whose closing handshake completed only waited for the
   * server's TCP close: no error then */
  if (w->err == 0 &&
      (w->tcp_closing || gust_ws_get_state(w->ws) != GUST_WS_CLOSED)) {
    set_err(w, GUST_ETIMEDOUT,
            w->tcp_closing ? "timed out writing the last frames"
                           : "timed out waiting for the peer's close frame");
  }
  /* whatever was still to be written goes with it: the peer had its time */
  w->tcp_closing = 1;
  gust_iostream_close(w->stream);
}

static void arm_close_timer(gust_websocket *w) {
  if (w->close_armed || w->stream == NULL)
    return;
  if (gust_loop_call_later(w->loop, w->o.close_timeout, on_close_timer, w,
                           &w->close_timer) == 0)
    w->close_armed = 1;
  else
    close_tcp(w); /* no timer: do not wait unbounded */
}

static void on_written_close(gust_future *f, void *ud) {
  gust_websocket *w = ud;
  GUST__UNUSED(f);
  if (w->stream != NULL)
    gust_iostream_close(w->stream);
  gust_websocket_unref(w);
}

/* Closes TCP once what was written is out (at once if nothing waits). */
static void close_tcp(gust_websocket *w) {
  gust_future *f = NULL;
  if (w->stream == NULL || w->tcp_closing)
    return;
  w->tcp_closing = 1;
  if (gust_iostream_writing(w->stream) &&
      gust_iostream_write(w->stream, NULL, 0, &f) == 0 && f != NULL) {
    gust_websocket_ref(w);
    if (gust_future_add_done_callback(f, on_written_close, w) == 0) {
      gust_future_unref(f);
      /* a peer that reads nothing does not keep us: bounded by the close
       * timeout (restarted) */
      if (w->close_armed) {
        gust_loop_cancel(w->loop, w->close_timer);
        w->close_armed = 0;
      }
      if (gust_loop_call_later(w->loop, w->o.close_timeout, on_close_timer, w,
                               &w->close_timer) == 0)
        w->close_armed = 1;
      return;
    }
    gust_websocket_unref(w);
    gust_future_unref(f);
  }
  gust_iostream_close(w->stream);
}

/* Takes the peer's close code and reason from the state machine, which
 * also knows them when its close came after a failure (no CLOSE event). */
static void sync_peer_close(gust_websocket *w) {
  gust_slice r;
  unsigned code;
  if (w->close_code != 0 || (code = gust_ws_peer_close(w->ws, &r)) == 0)
    return;
  w->close_code = code;
  w->close_reason_len =
      r.len <= sizeof(w->close_reason) ? r.len : sizeof(w->close_reason);
  if (w->close_reason_len > 0)
    memcpy(w->close_reason, r.ptr, w->close_reason_len);
}

/* The state machine's closing state changed: act on it. */
static void after_closing(gust_websocket *w) {
  gust_ws_state s = gust_ws_get_state(w->ws);
  sync_peer_close(w);
  if (s == GUST_WS_OPEN || w->stream == NULL)
    return;
  if (s == GUST_WS_CLOSED) {
    if (w->server)
      close_tcp(w); /* RFC 6455 §7.1.1: the server closes first */
    else
      arm_close_timer(w); /* the client waits for it, bounded */
  } else if (s == GUST_WS_CLOSE_SENT) {
    arm_close_timer(w);
  }
}

/* The stream closed: the connection is over. */
static void on_stream_close(gust_iostream *s, void *ud) {
  gust_websocket *w = ud;
  GUST__UNUSED(s);
  gust__http_server_untrack(&w->up);
  w->finished = 1;
  if (w->close_armed) {
    gust_loop_cancel(w->loop, w->close_timer);
    w->close_armed = 0;
  }
  if (w->ping_armed) {
    gust_loop_cancel(w->loop, w->ping_timer);
    w->ping_armed = 0;
  }
  sync_peer_close(w);
  if (w->close_code == 0)
    w->close_code = GUST_WS_CLOSE_ABNORMAL;
  if (w->err == 0 && gust_iostream_error(w->stream) != 0 &&
      gust_ws_get_state(w->ws) != GUST_WS_CLOSED) {
    set_err(w, gust_iostream_error(w->stream),
            gust_iostream_error_message(w->stream));
  }
  if (w->rm != NULL) {
    gust_future *rm = w->rm;
    w->rm = NULL;
    gust_future_set_result(rm, NULL, NULL);
    gust_future_unref(rm);
  }
  gust_iostream_unref(w->stream);
  w->stream = NULL;
  if (w->h != NULL && w->h->on_close != NULL)
    w->h->on_close(w, w->ud);
  gust_websocket_unref(w); /* the stream's reference */
}

/* Fails the connection from our side with a close frame. */
static void fail_close(gust_websocket *w, unsigned code, const char *reason,
                       int err, const char *msg) {
  set_err(w, err, msg);
  w->local_close = 1;
  if (gust_ws_get_state(w->ws) == GUST_WS_OPEN &&
      gust_ws_close(w->ws, code, reason, strlen(reason)) < 0) {
    close_tcp(w);
    return;
  }
  flush_soon(w, NULL);
  after_closing(w);
}

/* ------------------------------------------------------------------ */
/* Input                                                                */
/* ------------------------------------------------------------------ */

static void on_wait_done(gust_future *f, void *ud) {
  gust_websocket *w = ud;
  int failed = gust_future_error(f) != 0;
  gust_future_unref(w->wait);
  w->wait = NULL;
  if (w->stream != NULL && !w->finished) {
    if (failed)
      fail_close(w, GUST_WS_CLOSE_INTERNAL_ERROR, "Internal error",
                 gust_future_error(f), gust_future_error_message(f));
    drive(w);
    update_pause(w);
  }
  gust_websocket_unref(w);
}

/* Takes the application's future: nothing more is delivered until it
 * resolves. */
static void take_wait(gust_websocket *w, gust_future *f) {
  if (f == NULL)
    return;
  if (w->wait != NULL) { /* cannot happen: drive() stops at a wait */
    gust_future_unref(f);
    return;
  }
  w->wait = f;
  gust_websocket_ref(w);
  if (gust_future_add_done_callback(f, on_wait_done, w) < 0) {
    w->wait = NULL;
    gust_future_unref(f);
    gust_websocket_unref(w);
  }
}

static void deliver(gust_websocket *w, const gust_ws_event *ev) {
  gust_websocket_message m;
  gust_future *wt = NULL;
  int rc;
  w->st.messages_in++;
  if (w->local_close || w->tcp_closing)
    return; /* after our close (or an abort) nothing is delivered */
  m.binary = ev->type == GUST_WS_EV_BINARY;
  m.data = ev->data;
  if (w->h != NULL && w->h->on_message != NULL) {
    rc = w->h->on_message(w, &m, w->ud, &wt);
    take_wait(w, wt);
    if (rc < 0 && w->stream != NULL)
      fail_close(w, GUST_WS_CLOSE_INTERNAL_ERROR, "Internal error", rc,
                 "on_message failed");
    return;
  }
  {
    msgbox *b = msgbox_new(w->mem, m.binary, m.data);
    if (b == NULL) {
      fail_close(w, GUST_WS_CLOSE_INTERNAL_ERROR, "Internal error", GUST_ENOMEM,
                 NULL);
      return;
    }
    if (w->rm != NULL) {
      gust_future *rm = w->rm;
      w->rm = NULL;
      if (gust_future_set_result(rm, b, msgbox_free) < 0)
        msgbox_free(b);
      gust_future_unref(rm);
    } else {
      w->queued = b;
    }
  }
}

/* Pulls events until the state machine needs bytes or we must wait. */
static void drive(gust_websocket *w) {
  gust_ws_event ev;
  int rc;
  if (w->in_drive || w->finished)
    return;
  w->in_drive = 1;
  gust_websocket_ref(w);
  while (w->stream != NULL && !w->tcp_closing && w->wait == NULL &&
         w->queued == NULL && w->drain == NULL) {
    rc = gust_ws_next_event(w->ws, &ev);
    if (rc < 0) {
      if (rc == GUST_ENOMEM) {
        set_err(w, rc, NULL);
        close_tcp(w);
      }
      break;
    }
    if (ev.type == GUST_WS_EV_NEED_DATA)
      break;
    switch (ev.type) {
    case GUST_WS_EV_TEXT:
    case GUST_WS_EV_BINARY:
      deliver(w, &ev);
      break;
    case GUST_WS_EV_PING:
      if (w->h != NULL && w->h->on_ping != NULL && !w->local_close)
        w->h->on_ping(w, ev.data, w->ud);
      break;
    case GUST_WS_EV_PONG:
      w->awaiting_pong = 0;
      if (w->h != NULL && w->h->on_pong != NULL && !w->local_close)
        w->h->on_pong(w, ev.data, w->ud);
      break;
    case GUST_WS_EV_CLOSE:
      w->close_code = ev.code;
      w->close_reason_len = ev.data.len <= sizeof(w->close_reason)
                                ? ev.data.len
                                : sizeof(w->close_reason);
      if (w->close_reason_len > 0)
        memcpy(w->close_reason, ev.data.ptr, w->close_reason_len);
      break;
    case GUST_WS_EV_ERROR:
      set_err(w, ev.error, ev.message);
      w->local_close = 1;
      gust_log(GUST_LOG_GENERAL, GUST_LOG_INFO,
               "WebSocket protocol error, closing with %u: %s", ev.code,
               ev.message != NULL ? ev.message : gust_strerror(ev.error));
      break;
    default:
      break;
    }
  }
  if (w->stream != NULL)
    flush(w, NULL);
  if (w->stream != NULL)
    after_closing(w);
  w->in_drive = 0;
  gust_websocket_unref(w);
}

static void on_data(gust_iostream *s, gust_slice data, void *ud) {
  gust_websocket *w = ud;
  int rc;
  GUST__UNUSED(s);
  if (w->finished || w->tcp_closing)
    return;
  w->st.bytes_in += data.len;
  rc = gust_ws_feed(w->ws, data.ptr, data.len);
  if (rc == GUST_ENOMEM) {
    set_err(w, rc, NULL);
    close_tcp(w);
    return;
  }
  gust_websocket_ref(w);
  drive(w);
  update_pause(w);
  gust_websocket_unref(w);
}

static void on_resume_soon(gust_loop *loop, void *ud) {
  gust_websocket *w = ud;
  GUST__UNUSED(loop);
  w->resume_soon = 0;
  if (w->stream != NULL && !w->finished) {
    drive(w);
    update_pause(w);
  }
  gust_websocket_unref(w);
}

/* Pauses the stream while we wait, resumes it (delivering what it holds)
 * when we no longer do. */
static void update_pause(gust_websocket *w) {
  int want;
  if (w->stream == NULL || w->in_drive)
    return;
  want = w->wait != NULL || w->queued != NULL || w->drain != NULL;
  if (want == (int)w->paused)
    return;
  w->paused = (unsigned)want;
  gust__iostream_set_paused(w->stream, want);
}

/* Starts reading: `rest` holds the bytes that came with the handshake. */
static int ws_start(gust_websocket *w, gust_iostream *stream, gust_slice rest,
                    const gust_websocket_handler *h, void *ud) {
  int rc;
  w->stream = stream;
  w->h = h;
  w->ud = ud;
  w->refs++; /* the stream's reference, dropped in on_stream_close */
  gust_iostream_set_close_callback(stream, on_stream_close, w);
  if (gust_iostream_tcp(stream) != NULL)
    gust_tcp_nodelay(gust_iostream_tcp(stream), 1);
  if (rest.len > 0) {
    w->st.bytes_in += rest.len;
    rc = gust_ws_feed(w->ws, rest.ptr, rest.len);
    if (rc < 0)
      return rc;
  }
  gust__iostream_set_paused(stream, 1);
  w->paused = 1;
  rc = gust_iostream_read_until_close(stream, on_data, w, &w->rfut);
  if (rc < 0)
    return rc;
  arm_ping(w);
  return 0;
}

/* Runs `open`, then reads. */
static void ws_open(gust_websocket *w) {
  gust_future *wt = NULL;
  int rc = 0;
  gust_websocket_ref(w);
  if (w->h != NULL && w->h->open != NULL) {
    w->in_drive = 1; /* frames written by open go out together */
    rc = w->h->open(w, w->ud, &wt);
    w->in_drive = 0;
    take_wait(w, wt);
  }
  if (rc < 0) {
    set_err(w, rc, "open failed");
    gust_websocket_abort(w);
  } else if (w->stream != NULL) {
    drive(w);
    update_pause(w);
  }
  gust_websocket_unref(w);
}

/* ------------------------------------------------------------------ */
/* Keepalive (Tornado 6.5: ping, wait ping_timeout, next ping at
 * last_ping + interval)                                                */
/* ------------------------------------------------------------------ */

static void on_ping_timer(gust_loop *loop, void *ud) {
  gust_websocket *w = ud;
  double now = gust_loop_now(loop);
  w->ping_armed = 0;
  if (gust_websocket_get_state(w) != GUST_WEBSOCKET_OPEN)
    return;
  if (w->awaiting_pong && w->o.ping_timeout > 0 &&
      now >= w->last_ping + w->o.ping_timeout) {
    fail_close(w, GUST_WS_CLOSE_NORMAL, "ping timed out", GUST_ETIMEDOUT,
               "no pong within ping_timeout");
    w->local_close = 1;
    return;
  }
  if (now >= w->last_ping + w->o.ping_interval) {
    if (gust_ws_send_ping(w->ws, NULL, 0) < 0) {
      close_tcp(w);
      return;
    }
    flush(w, NULL);
    w->last_ping = now;
    w->awaiting_pong = 1;
  }
  arm_ping(w);
}

static void arm_ping(gust_websocket *w) {
  double next;
  if (w->o.ping_interval <= 0 || w->ping_armed || w->stream == NULL)
    return;
  if (w->last_ping == 0)
    w->last_ping = gust_loop_now(w->loop);
  next = w->last_ping + w->o.ping_interval;
  if (w->awaiting_pong && w->o.ping_timeout > 0 &&
      w->last_ping + w->o.ping_timeout < next)
    next = w->last_ping + w->o.ping_timeout;
  if (gust_loop_call_at_monotonic(w->loop, next, on_ping_timer, w,
                                  &w->ping_timer) == 0)
    w->ping_armed = 1;
}

/* ------------------------------------------------------------------ */
/* Connection API                                                       */
/* ------------------------------------------------------------------ */

int gust_websocket_write_message(gust_websocket *w, const void *data,
                                 size_t len, int binary, gust_future **out) {
  int rc;
  if (out != NULL)
    *out = NULL;
  if (w == NULL || (data == NULL && len > 0))
    return GUST_EINVAL;
  if (w->stream == NULL || w->tcp_closing ||
      gust_ws_get_state(w->ws) != GUST_WS_OPEN)
    return GUST_ECLOSED;
  if (!binary && !gust_utf8_valid(data, len))
    return GUST_EINVAL;
  rc = gust_ws_send(w->ws, binary ? GUST_WS_OP_BINARY : GUST_WS_OP_TEXT, data,
                    len);
  if (rc < 0) {
    if (rc != GUST_EINVAL && rc != GUST_ESTATE) {
      /* the compressor is out of step with the peer: the stream is lost */
      set_err(w, rc, NULL);
      close_tcp(w);
    }
    return rc == GUST_ESTATE ? GUST_ECLOSED : rc;
  }
  w->st.messages_out++;
  return flush_soon(w, out);
}

int gust_websocket_ping(gust_websocket *w, const void *data, size_t len) {
  int rc;
  if (w == NULL || (data == NULL && len > 0))
    return GUST_EINVAL;
  if (len > GUST_WS_MAX_CONTROL_PAYLOAD)
    return GUST_EINVAL;
  if (w->stream == NULL || w->tcp_closing ||
      gust_ws_get_state(w->ws) != GUST_WS_OPEN)
    return GUST_ECLOSED;
  rc = gust_ws_send_ping(w->ws, data, len);
  if (rc < 0)
    return rc == GUST_ESTATE ? GUST_ECLOSED : rc;
  return flush_soon(w, NULL);
}

int gust_websocket_close(gust_websocket *w, unsigned code, const char *reason) {
  size_t rlen = reason != NULL ? strlen(reason) : 0;
  int rc;
  if (w == NULL)
    return GUST_EINVAL;
  if (rlen > GUST_WS_MAX_CLOSE_REASON ||
      (rlen > 0 && !gust_utf8_valid((const uint8_t *)reason, rlen)))
    return GUST_EINVAL;
  if (code != 0 &&
      (code < 1000 || code > 4999 || code == 1004 || code == 1005 ||
       code == 1006 || code == 1015 || (code >= 1016 && code < 3000)))
    return GUST_EINVAL;
  if (w->stream == NULL || w->tcp_closing)
    return 0;
  w->local_close = 1;
  if (gust_ws_get_state(w->ws) == GUST_WS_OPEN) {
    rc = gust_ws_close(w->ws, code, reason, rlen);
    if (rc < 0 && rc != GUST_ESTATE)
      return rc;
  }
  flush_soon(w, NULL);
  if (w->stream != NULL)
    after_closing(w);
  return 0;
}

void gust_websocket_abort(gust_websocket *w) {
  if (w == NULL || w->stream == NULL)
    return;
  w->tcp_closing = 1;
  gust_iostream_close(w->stream);
}

int gust_websocket_read_message(gust_websocket *w, gust_future **out) {
  gust_future *f;
  int rc;
  if (out == NULL)
    return GUST_EINVAL;
  *out = NULL;
  if (w == NULL)
    return GUST_EINVAL;
  if (w->h != NULL && w->h->on_message != NULL)
    return GUST_ESTATE;
  if (w->rm != NULL)
    return GUST_EBUSY;
  rc = gust_future_new(&f, w->loop, w->mem);
  if (rc < 0)
    return rc;
  if (w->queued != NULL) {
    rc = gust_future_set_result(f, w->queued, msgbox_free);
    if (rc < 0) {
      gust_future_unref(f);
      return rc;
    }
    w->queued = NULL;
    /* the next message may be read now, on a loop callback */
    if (w->stream != NULL && !w->resume_soon &&
        gust_loop_call_soon(w->loop, on_resume_soon, w) == 0) {
      w->resume_soon = 1;
      gust_websocket_ref(w);
    }
  } else if (w->stream == NULL) {
    rc = gust_future_set_result(f, NULL, NULL);
    if (rc < 0) {
      gust_future_unref(f);
      return rc;
    }
  } else {
    w->rm = gust_future_ref(f);
  }
  *out = f;
  return 0;
}

gust_websocket_state gust_websocket_get_state(const gust_websocket *w) {
  if (w->stream == NULL)
    return GUST_WEBSOCKET_CLOSED;
  if (w->tcp_closing || gust_ws_get_state(w->ws) != GUST_WS_OPEN)
    return GUST_WEBSOCKET_CLOSING;
  return GUST_WEBSOCKET_OPEN;
}

unsigned gust_websocket_close_code(const gust_websocket *w) {
  return w->close_code;
}

gust_slice gust_websocket_close_reason(const gust_websocket *w) {
  gust_slice s;
  s.ptr = w->close_reason;
  s.len = w->close_reason_len;
  return s;
}

int gust_websocket_error(const gust_websocket *w, const char **message) {
  if (message != NULL)
    *message = w->err == 0             ? NULL
               : w->err_msg[0] != '\0' ? w->err_msg
                                       : gust_strerror(w->err);
  return w->err;
}

const char *gust_websocket_selected_subprotocol(const gust_websocket *w) {
  return w->subprotocol;
}

int gust_websocket_compressed(const gust_websocket *w) { return w->deflate; }

int gust_websocket_is_server(const gust_websocket *w) { return w->server; }

gust_http_request *gust_websocket_request(const gust_websocket *w) {
  return w->req;
}

const gust_fetch_response *gust_websocket_response(const gust_websocket *w) {
  return w->resp;
}

int gust_websocket_set_nodelay(gust_websocket *w, int on) {
  gust_tcp *t;
  if (w->stream == NULL || (t = gust_iostream_tcp(w->stream)) == NULL)
    return GUST_ECLOSED;
  return gust_tcp_nodelay(t, on);
}

void gust_websocket_set_user_data(gust_websocket *w, void *user_data) {
  w->ud = user_data;
}

void *gust_websocket_user_data(const gust_websocket *w) { return w->ud; }

gust_loop *gust_websocket_loop(const gust_websocket *w) { return w->loop; }

void gust_websocket_stats_get(const gust_websocket *w,
                              gust_websocket_stats *out) {
  *out = w->st;
}

/* ------------------------------------------------------------------ */
/* Server side                                                          */
/* ------------------------------------------------------------------ */

typedef struct origin_ctx {
  gust_http_request *req;
  const gust_websocket_handler *h;
  void *ud;
} origin_ctx;

static int origin_cb(gust_slice origin, const gust_headers *headers,
                     void *user_data) {
  origin_ctx *o = user_data;
  GUST__UNUSED(headers);
  return o->h->check_origin(o->req, origin, o->ud) != 0;
}

static int has_body(const gust_headers *h) {
  gust_slice v;
  if (gust_headers_get(h, "Transfer-Encoding", &v) == 0)
    return 1;
  if (gust_headers_get(h, "Content-Length", &v) == 0)
    return !(v.len == 1 && v.ptr[0] == '0');
  return 0;
}

/* Sends a refusal as an ordinary response. */
static int refuse(gust_http_request *req, int status, const char *body,
                  const char *hname, const char *hvalue) {
  gust_headers h;
  size_t len = body != NULL ? strlen(body) : 0;
  char n[24];
  int rc;
  gust_headers_init(&h, NULL);
  snprintf(n, sizeof(n), "%zu", len);
  rc = gust_headers_add_str(&h, "Content-Type", "text/html; charset=UTF-8");
  if (rc == 0)
    rc = gust_headers_add_str(&h, "Content-Length", n);
  if (rc == 0 && hname != NULL)
    rc = gust_headers_add_str(&h, hname, hvalue);
  if (rc == 0)
    rc = gust_http_response_start(req, status, NULL, &h, NULL);
  if (rc == 0 && len > 0)
    rc = gust_http_response_write(req, body, len, NULL);
  if (rc == 0)
    rc = gust_http_response_finish(req, NULL);
  gust_headers_free(&h);
  return rc < 0 ? rc : GUST_EWS_HANDSHAKE;
}

/* The HTTP server shuts down (or is freed): close with 1001 "going away",
 * or drop the connection. */
static void server_ends(gust__http_upgraded *u, int now) {
  gust_websocket *w =
      (gust_websocket *)(void *)((char *)u - offsetof(gust_websocket, up));
  if (now)
    gust_websocket_abort(w);
  else
    gust_websocket_close(w, GUST_WS_CLOSE_GOING_AWAY, "going away");
}

int gust_websocket_upgrade(gust_http_request *req,
                           const gust_websocket_handler *h,
                           const gust_websocket_opts *opts, void *user_data,
                           gust_websocket **out) {
  static const gust_websocket_opts zero;
  gust_websocket_opts o = opts != NULL ? *opts : zero;
  const gust_headers *hd;
  gust_loop *loop;
  gust_ws_request wr;
  gust_ws_verdict v;
  gust_slice offered[GUST_WS_MAX_PROTOCOLS];
  gust_slice chosen = {NULL, 0};
  gust_ws_deflate_params agreed;
  int accepted = 0;
  gust_buf ext;
  gust_headers resp;
  gust_iostream *stream = NULL;
  gust_buf rest;
  gust_websocket *w = NULL;
  origin_ctx oc;
  gust_ssize n;
  const char *version;
  int rc;

  if (out != NULL)
    *out = NULL;
  if (req == NULL || h == NULL)
    return GUST_EINVAL;
  if (fix_opts(&o) < 0)
    return GUST_EINVAL;
  if (gust_http_response_state(req) != 0)
    return GUST_ESTATE;
  hd = gust_http_request_headers(req);
  loop = gust_http_request_loop(req);
  memset(&wr, 0, sizeof(wr));
  wr.method.ptr = (const uint8_t *)gust_http_request_method(req);
  wr.method.len = strlen(gust_http_request_method(req));
  version = gust_http_request_version(req);
  wr.http_major = 1;
  wr.http_minor = strcmp(version, "HTTP/1.0") == 0 ? 0 : 1;
  wr.has_body = has_body(hd);
  wr.headers = hd;
  if (h->check_origin != NULL) {
    oc.req = req;
    oc.h = h;
    oc.ud = user_data;
    wr.check_origin = origin_cb;
    wr.origin_user_data = &oc;
  }
  rc = gust_ws_server_check(&wr, &v);
  if (rc == GUST_EWS_HANDSHAKE)
    return refuse(req, v.status, v.body, v.header_name, v.header_value);
  if (rc < 0)
    return rc;
  if (gust__http_server_shutting_down(gust_http_request_server(req)))
    return refuse(req, 503, "Server shutting down", NULL, NULL);

  n = gust_ws_parse_protocols(hd, offered, GUST_WS_MAX_PROTOCOLS);
  if (n < 0)
    return refuse(req, 400, "Invalid Sec-WebSocket-Protocol header", NULL,
                  NULL);
  if (h->select_subprotocol != NULL) {
    int i = h->select_subprotocol(req, offered, (size_t)n, user_data);
    if (i >= 0 && i < n)
      chosen = offered[i];
  }

  gust_buf_init(&ext, NULL);
  if (o.compression) {
    gust_ws_extensions offers;
    gust_ws_deflate_config dc;
    memset(&dc, 0, sizeof(dc));
    dc.server_max_window_bits = o.max_window_bits;
    dc.client_max_window_bits = o.peer_max_window_bits;
    dc.server_no_context_takeover = o.no_context_takeover;
    dc.client_no_context_takeover = o.peer_no_context_takeover;
    rc = gust_ws_extensions_parse(&offers, hd, NULL);
    if (rc == 0)
      rc = gust_ws_deflate_negotiate(&offers, &dc, &agreed, &ext);
    gust_ws_extensions_free(&offers);
    if (rc == GUST_ENOMEM) {
      gust_buf_free(&ext);
      return rc;
    }
    accepted = rc == 1; /* a malformed offer is declined, not fatal */
  }

  rc = ws_make(&w, loop, NULL, 1, &o, accepted ? &agreed : NULL);
  if (rc == 0 && chosen.len > 0) {
    w->subprotocol =
        gust__strndup(w->mem, (const char *)chosen.ptr, chosen.len);
    if (w->subprotocol == NULL)
      rc = GUST_ENOMEM;
  }
  gust_headers_init(&resp, NULL);
  if (rc == 0) {
    gust_slice es;
    es.ptr = ext.ptr;
    es.len = accepted ? ext.len : 0;
    rc = gust_ws_server_response(&resp, v.key, chosen, es);
  }
  gust_buf_free(&ext);
  if (rc == 0) {
    gust_future *sent = NULL;
    rc = gust_http_response_start(req, 101, NULL, &resp, &sent);
    gust_future_unref(sent);
  }
  gust_headers_free(&resp);
  if (rc < 0) {
    gust_websocket_unref(w);
    return rc;
  }
  gust_buf_init(&rest, NULL);
  rc = gust_http_request_detach(req, &stream, &rest);
  if (rc < 0) {
    gust_buf_free(&rest);
    gust_websocket_unref(w);
    gust_http_request_close(req);
    return rc;
  }
  w->req = gust_http_request_ref(req);
  {
    gust_slice r;
    r.ptr = rest.ptr;
    r.len = rest.len;
    rc = ws_start(w, stream, r, h, user_data);
  }
  gust_buf_free(&rest);
  if (rc < 0) {
    /* the stream is ours: closing it runs on_close-less teardown */
    /* ws_start() holds the stream already: dropping it ends everything */
    w->h = NULL; /* open never ran: no on_close either */
    gust_websocket_abort(w);
    gust_websocket_unref(w);
    return rc;
  }
  w->up.end = server_ends;
  gust__http_server_track(gust_http_request_server(req), &w->up);
  if (out != NULL)
    *out = w;
  ws_open(w);
  gust_websocket_unref(w); /* the stream's reference keeps it */
  return 0;
}

/* The delegate of gust_websocket_start_request(). */
static int ep_headers_received(gust_http_request *req, void *ctx,
                               gust_future **wait) {
  const gust_websocket_endpoint *ep = ctx;
  int rc;
  GUST__UNUSED(wait);
  rc = gust_websocket_upgrade(req, ep->handler, ep->opts, ep->user_data, NULL);
  return rc == GUST_EWS_HANDSHAKE ? 0 : rc;
}

static const gust_http_delegate ep_delegate = {ep_headers_received, NULL, NULL,
                                               NULL};

int gust_websocket_start_request(gust_http_server *srv, gust_http_request *req,
                                 void *user_data,
                                 const gust_http_delegate **delegate,
                                 void **ctx) {
  GUST__UNUSED(srv);
  GUST__UNUSED(req);
  if (user_data == NULL)
    return GUST_EINVAL;
  *delegate = &ep_delegate;
  *ctx = user_data;
  return 0;
}

/* ------------------------------------------------------------------ */
/* Client side                                                          */
/* ------------------------------------------------------------------ */

/* What a connect future holds: the connection (until taken) and the HTTP
 * response, for a success or a refusal alike. */
typedef struct connect_result {
  const gust_mem *mem;
  gust_websocket *ws;
  gust_fetch_response *resp;
} connect_result;

typedef struct connecting {
  gust_loop *loop;
  const gust_mem *mem;
  gust_future *out;   /* the application's */
  gust_future *fetch; /* the HTTP client's */
  gust_http_client *own_client;
  gust_websocket_opts o;
  const gust_websocket_handler *h;
  void *ud;
  char key[GUST_WS_KEY_LEN + 1];
  char **protos;
  size_t n_protos;
} connecting;

static void result_free(void *v) {
  connect_result *r = v;
  if (r == NULL)
    return;
  if (r->ws != NULL) {
    /* never taken: the application will not close it, so we do */
    gust_websocket_abort(r->ws);
    gust_websocket_unref(r->ws);
  }
  gust_fetch_response_unref(r->resp);
  gust__free(r->mem, r);
}

static void connecting_free(connecting *c) {
  size_t i;
  gust_future_unref(c->fetch);
  gust_future_unref(c->out);
  if (c->own_client != NULL)
    gust_http_client_free(c->own_client);
  for (i = 0; i < c->n_protos; i++)
    gust__free(c->mem, c->protos[i]);
  gust__free(c->mem, c->protos);
  gust__free(c->mem, c);
}

static void connect_fail(connecting *c, int code, const char *msg,
                         const gust_fetch_response *resp) {
  connect_result *r;
  gust_iostream *s;
  gust_buf rest;
  /* a 101 that did not complete the handshake: its connection goes now,
   * not when the application drops the future */
  if (resp != NULL && gust__fetch_response_take_upgrade(
                          (gust_fetch_response *)resp, &s, &rest) == 0) {
    gust_iostream_close(s);
    gust_iostream_unref(s);
    gust_buf_free(&rest);
  }
  r = gust__calloc(c->mem, 1, sizeof(*r));
  if (r != NULL) {
    r->mem = c->mem;
    r->resp = gust_fetch_response_ref(resp);
    if (gust__future_set_error_value(c->out, code, msg, r, result_free) < 0)
      result_free(r);
  } else {
    gust_future_set_error(c->out, code, msg);
  }
}

/* "Unsupported extension in the response: <its value>". */
static const char *ext_msg(const gust_fetch_response *resp, char *buf,
                           size_t cap) {
  gust_buf v;
  gust_buf_init(&v, NULL);
  gust_headers_get_joined(gust_fetch_response_headers(resp),
                          "Sec-WebSocket-Extensions", &v);
  snprintf(buf, cap, "Unsupported extension in the response: %.*s",
           (int)(v.len < 100 ? v.len : 100),
           v.len > 0 ? (const char *)v.ptr : "");
  gust_buf_free(&v);
  return buf;
}

static void on_fetched(gust_future *ff, void *ud) {
  connecting *c = ud;
  const gust_fetch_response *resp = gust_fetch_response_of(ff);
  gust_ws_deflate_params agreed;
  gust_ws_deflate_config dc;
  gust_ws_extensions ext;
  gust_slice chosen = {NULL, 0};
  const char *why = NULL;
  gust_websocket *w = NULL;
  gust_iostream *stream = NULL;
  gust_buf rest;
  int accepted = 0, rc, code;
  char msg[160];

  if (gust_future_cancelled(c->out) || gust_future_done(c->out)) {
    connecting_free(c);
    return;
  }
  if (resp == NULL) {
    connect_fail(
        c, gust_future_error(ff) != 0 ? gust_future_error(ff) : GUST_EINTERNAL,
        gust_future_error_message(ff), NULL);
    connecting_free(c);
    return;
  }
  code = gust_fetch_response_code(resp);
  if (code == 599) {
    connect_fail(c, gust_fetch_response_error(resp),
                 gust_fetch_response_error_message(resp), resp);
    connecting_free(c);
    return;
  }
  if (code != 101) {
    snprintf(msg, sizeof(msg), "HTTP %d: %s", code,
             gust_fetch_response_reason(resp));
    connect_fail(c, GUST_EWS_HANDSHAKE, msg, resp);
    connecting_free(c);
    return;
  }
  rc = gust_ws_client_check(101, gust_fetch_response_headers(resp), c->key,
                            (const char *const *)c->protos, c->n_protos,
                            &chosen, &why);
  if (rc < 0) {
    snprintf(msg, sizeof(msg), "Non-websocket response: %s",
             why != NULL ? why : "handshake failed");
    connect_fail(c, GUST_EWS_HANDSHAKE, msg, resp);
    connecting_free(c);
    return;
  }
  memset(&dc, 0, sizeof(dc));
  dc.server_max_window_bits = c->o.peer_max_window_bits;
  dc.client_max_window_bits = c->o.max_window_bits;
  dc.client_no_context_takeover = c->o.no_context_takeover;
  dc.server_no_context_takeover = c->o.peer_no_context_takeover;
  rc =
      gust_ws_extensions_parse(&ext, gust_fetch_response_headers(resp), c->mem);
  if (rc == 0) {
    if (c->o.compression)
      rc = gust_ws_deflate_check_response(&ext, &dc, &agreed, &accepted);
    else if (ext.count > 0)
      rc = GUST_EWS_EXTENSION; /* nothing was offered */
  }
  gust_ws_extensions_free(&ext);
  if (rc < 0) {
    connect_fail(c, rc == GUST_ENOMEM ? rc : GUST_EWS_EXTENSION,
                 rc == GUST_ENOMEM ? NULL : ext_msg(resp, msg, sizeof(msg)),
                 resp);
    connecting_free(c);
    return;
  }
  rc = ws_make(&w, c->loop, c->mem, 0, &c->o, accepted ? &agreed : NULL);
  if (rc == 0 && chosen.len > 0) {
    w->subprotocol =
        gust__strndup(c->mem, (const char *)chosen.ptr, chosen.len);
    if (w->subprotocol == NULL)
      rc = GUST_ENOMEM;
  }
  if (rc == 0)
    rc = gust__fetch_response_take_upgrade((gust_fetch_response *)resp, &stream,
                                           &rest);
  if (rc < 0) {
    gust_websocket_unref(w);
    connect_fail(c, rc, NULL, resp);
    connecting_free(c);
    return;
  }
  w->resp = gust_fetch_response_ref(resp);
  w->own_client = c->own_client;
  c->own_client = NULL;
  {
    gust_slice r;
    r.ptr = rest.ptr;
    r.len = rest.len;
    rc = ws_start(w, stream, r, c->h, c->ud);
  }
  gust_buf_free(&rest);
  if (rc < 0) {
    w->h = NULL; /* as above: ws_start() holds the stream */
    gust_websocket_abort(w);
    gust_websocket_unref(w);
    connect_fail(c, rc, NULL, resp);
    connecting_free(c);
    return;
  }
  {
    connect_result *r = gust__calloc(c->mem, 1, sizeof(*r));
    if (r == NULL ||
        (r->mem = c->mem, r->ws = w, r->resp = gust_fetch_response_ref(resp),
         gust_future_set_result(c->out, r, result_free) < 0)) {
      if (r != NULL) {
        gust_fetch_response_unref(r->resp);
        gust__free(c->mem, r);
      }
      w->h = NULL;
      gust_websocket_abort(w);
      gust_websocket_unref(w);
      gust_future_set_error(c->out, GUST_ENOMEM, NULL);
      connecting_free(c);
      return;
    }
  }
  connecting_free(c);
  ws_open(w);
}

/* The application cancelled its connect future: the handshake stops too
 * (on_fetched then only cleans up). Runs inline when `out` completes. */
static void on_out_done(gust_future *out, void *ud) {
  connecting *c = ud;
  if (gust_future_cancelled(out) && c->fetch != NULL)
    gust_future_cancel(c->fetch);
}

/* ws:// → http://, wss:// → https:// (other schemes as they are). */
static char *http_url(const gust_mem *mem, const char *url) {
  size_t len = strlen(url);
  char *u;
  if (strncasecmp(url, "ws://", 5) == 0) {
    u = gust__malloc(mem, len + 3);
    if (u != NULL) {
      memcpy(u, "http", 4);
      memcpy(u + 4, url + 2, len - 1);
    }
    return u;
  }
  if (strncasecmp(url, "wss://", 6) == 0) {
    u = gust__malloc(mem, len + 3);
    if (u != NULL) {
      memcpy(u, "https", 5);
      memcpy(u + 5, url + 3, len - 2);
    }
    return u;
  }
  return gust__strndup(mem, url, len);
}

int gust_websocket_connect(gust_loop *loop, const gust_fetch_request *req,
                           const gust_websocket_connect_opts *opts,
                           const gust_mem *mem, gust_future **out) {
  static const gust_websocket_connect_opts zero;
  const gust_websocket_connect_opts *co = opts != NULL ? opts : &zero;
  gust_fetch_request r;
  gust_headers hdr;
  gust_buf protos, ext;
  connecting *c;
  gust_http_client *cl;
  char *url = NULL;
  size_t i, n = 0;
  int rc;

  if (out != NULL)
    *out = NULL;
  if (loop == NULL || req == NULL || req->url == NULL || out == NULL)
    return GUST_EINVAL;
  mem = gust__mem(mem);
  c = gust__calloc(mem, 1, sizeof(*c));
  if (c == NULL)
    return GUST_ENOMEM;
  c->loop = loop;
  c->mem = mem;
  c->o = co->ws;
  c->h = co->handler;
  c->ud = co->user_data;
  if (fix_opts(&c->o) < 0) {
    gust__free(mem, c);
    return GUST_EINVAL;
  }
  if (co->subprotocols != NULL)
    while (co->subprotocols[n] != NULL)
      n++;
  if (n > GUST_WS_MAX_PROTOCOLS) {
    gust__free(mem, c);
    return GUST_EINVAL;
  }
  gust_buf_init(&protos, mem);
  gust_buf_init(&ext, mem);
  gust_headers_init(&hdr, mem);
  rc = 0;
  if (n > 0) {
    c->protos = gust__calloc(mem, n, sizeof(char *));
    if (c->protos == NULL)
      rc = GUST_ENOMEM;
    for (i = 0; rc == 0 && i < n; i++) {
      const char *p = co->subprotocols[i];
      if (!gust_header_name_valid(p, strlen(p))) {
        rc = GUST_EINVAL; /* a subprotocol is a token */
        break;
      }
      c->protos[i] = gust__strndup(mem, p, strlen(p));
      if (c->protos[i] == NULL) {
        rc = GUST_ENOMEM;
        break;
      }
      c->n_protos++;
      if (i > 0)
        rc = gust_buf_append_str(&protos, ", ");
      if (rc == 0)
        rc = gust_buf_append_str(&protos, p);
    }
    if (rc == 0)
      rc = gust_buf_append_byte(&protos, 0);
  }
  if (rc == 0 && c->o.compression) {
    gust_ws_deflate_config dc;
    memset(&dc, 0, sizeof(dc));
    dc.server_max_window_bits = c->o.peer_max_window_bits;
    dc.client_max_window_bits = c->o.max_window_bits;
    dc.client_no_context_takeover = c->o.no_context_takeover;
    dc.server_no_context_takeover = c->o.peer_no_context_takeover;
    rc = gust_ws_deflate_offer(&dc, &ext);
    if (rc == 0)
      rc = gust_buf_append_byte(&ext, 0);
  }
  if (rc == 0)
    rc = gust_ws_client_key(c->key, NULL, NULL);
  if (rc == 0 && req->headers != NULL)
    rc = gust_headers_copy(&hdr, req->headers);
  if (rc == 0) {
    /* ours replace the application's own handshake fields */
    static const char *const mine[] = {
        "Upgrade", "Connection", "Sec-WebSocket-Key", "Sec-WebSocket-Version",
        "Sec-WebSocket-Extensions"};
    for (i = 0; i < sizeof(mine) / sizeof(mine[0]); i++)
      gust_headers_remove(&hdr, mine[i]);
    if (n > 0)
      gust_headers_remove(&hdr, "Sec-WebSocket-Protocol");
    rc = gust_ws_client_request(
        &hdr, c->key, n > 0 ? (const char *)protos.ptr : NULL,
        c->o.compression ? (const char *)ext.ptr : NULL);
  }
  gust_buf_free(&protos);
  gust_buf_free(&ext);
  if (rc == 0) {
    url = http_url(mem, req->url);
    if (url == NULL)
      rc = GUST_ENOMEM;
  }
  cl = co->client;
  if (rc == 0 && cl == NULL) {
    rc = gust_http_client_new(&c->own_client, loop, NULL, mem);
    cl = c->own_client;
  }
  if (rc == 0) {
    r = *req;
    r.url = url;
    r.method = "GET";
    r.headers = &hdr;
    r.body = NULL;
    r.body_len = 0;
    r.body_producer = NULL;
    r.header_callback = NULL;
    r.streaming_callback = NULL;
    r.follow_redirects = 0;
    r.decompress_response = 0;
    r.expect_100_continue = 0;
    r.allow_nonstandard_methods = 0;
    rc = gust__http_client_upgrade(cl, &r, &c->fetch);
  }
  gust_headers_free(&hdr);
  gust__free(mem, url);
  if (rc == 0)
    rc = gust_future_new(&c->out, loop, mem);
  if (rc == 0)
    rc = gust__future_on_done(c->out, on_out_done, c, NULL);
  if (rc == 0)
    rc = gust_future_add_done_callback(c->fetch, on_fetched, c);
  if (rc < 0) {
    connecting_free(c);
    return rc;
  }
  *out = gust_future_ref(c->out);
  return 0;
}

int gust_websocket_connect_url(gust_loop *loop, const char *url,
                               const gust_websocket_connect_opts *opts,
                               const gust_mem *mem, gust_future **out) {
  gust_fetch_request r;
  if (url == NULL)
    return GUST_EINVAL;
  gust_fetch_request_init(&r, url);
  return gust_websocket_connect(loop, &r, opts, mem, out);
}

gust_websocket *gust_websocket_connect_take(gust_future *f) {
  connect_result *r;
  gust_websocket *w;
  if (f == NULL || !gust_future_done(f) || gust_future_error(f) != 0)
    return NULL;
  r = gust_future_result(f);
  if (r == NULL)
    return NULL;
  w = r->ws;
  r->ws = NULL;
  return w;
}

const gust_fetch_response *
gust_websocket_connect_response(const gust_future *f) {
  connect_result *r;
  if (f == NULL || !gust_future_done(f))
    return NULL;
  r = gust__future_value(f);
  return r != NULL ? r->resp : NULL;
}
