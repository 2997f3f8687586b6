/* The HTTP server: Tornado's HTTPServer and HTTP1ServerConnection over
 * IOStream, driving the proto/http1 state machine.
 *
 * One connection = one IOStream read in streaming mode (the bytes are
 * handed over as they arrive), one gust_h1 in the server role and at most
 * one request in progress. The bytes of a read are copied into the
 * connection's input buffer and fed to the state machine, whose events are
 * pulled in drive() until it wants more bytes, waits for our response
 * (pipelining), or a delegate's future asks to wait (flow control): then
 * the stream is paused. Responses are queued in the state machine's output
 * and written once per drive() (pipelined responses are coalesced), or at
 * once when written outside of it. Deadlines (idle, body) are checked by
 * one coarse timer per server instead of a timer per connection. */
#include "config.h"

#include <gust/gzip.h>
#include <gust/httpserver.h>

#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "async/loop_int.h"
#include "base/base_int.h"
#include "http/request_int.h"
#include "net/iostream_int.h"

#define DEFAULT_IDLE       3600.0
#define DEFAULT_MAX_HEADER 65536
#define DEFAULT_MAX_BODY   104857600u
#define DEFAULT_CHUNK      65536
/* Idle connections' parsers and input buffers kept for reuse; input
 * buffers larger than POOL_BUF_MAX are released instead. */
#define POOL_MAX     64
#define POOL_BUF_MAX 16384
/* The buffer parked connections read their next request's first bytes
 * into (one per server; the stream that takes over reads the rest). */
#define PARK_BUF 16384

struct gust__http_conn {
  gust_http_server *srv;
  const gust_mem *mem;
  gust__http_conn *prev, *next;
  size_t refs;
  gust_iostream *stream;
  gust_future *rfut; /* the streaming read */
  gust_h1 *h1;
  gust_addr peer;
  gust_buf in; /* bytes fed to h1 and borrowed by it */

  gust_http_request *req;
  const gust_http_delegate *dlg;
  void *ctx;
  gust_zip_body *zip;
  gust_future *wait;
  gust_http_close_cb close_cb;
  void *close_ud;

  double idle_deadline; /* monotonic; 0 = none */
  double body_deadline;

  unsigned in_drive : 1;
  unsigned closing : 1; /* gust_iostream_close() called or due */
  unsigned dead : 1;    /* torn down */
  unsigned detached : 1;
  unsigned in_hr : 1;      /* inside headers_received */
  unsigned hr_done : 1;    /* headers_received ran */
  unsigned final_sent : 1; /* finish / on_connection_close delivered */
  unsigned msg_done : 1;   /* END_MESSAGE seen */
  unsigned has_body : 1;
  unsigned expect_100 : 1;
  unsigned zip_pump : 1;  /* decoded pieces of a DATA event left */
  unsigned discard : 1;   /* response done before the body: drop it */
  unsigned h1_paused : 1; /* h1 waits for our response */
  unsigned soon : 1;      /* a drive() is scheduled */
  unsigned flushing_close : 1;
  unsigned lingering : 1;  /* write side shut, unread input discarded */
  unsigned wait_hr : 1;    /* the wait came from headers_received */
  unsigned parkable : 1;   /* accepted by the server: may be parked */
  unsigned spare : 1;      /* retired at parking; its stream is kept */
  int resp_state;          /* 0, 1 started, 2 finished */
  uint64_t content_length; /* of the request, with HAS_LENGTH */
  uint64_t max_body;       /* this request's limit */
};

/* A keep-alive connection waiting for its next request, parked: the
 * stream, the connection record, the parser and the buffers are gone and
 * the TCP handle reads for this record alone; the first bytes bring a new
 * stream and record back (unpark()). */
typedef struct gust__http_parked {
  struct gust__http_parked *prev, *next;
  gust_http_server *srv;
  gust_tcp *tcp;
  double idle_deadline; /* monotonic; 0 = none */
  /* The peer's address, packed (the record for an IPv4 peer then fits a
   * 64-byte block): family 0 (none), AF_INET (addr: 4 bytes) or AF_INET6
   * (addr: 16 bytes, then the scope id). */
  uint8_t family;
  uint16_t port; /* network order */
  unsigned char addr[];
} gust__http_parked;

struct gust_http_server {
  gust_loop *loop;
  const gust_mem *mem;
  gust_http_server_opts opts;
  gust_h1_config h1cfg;
  uint64_t max_body; /* max_body_size, or the default */
  char **trusted;    /* NULL-terminated copy */
  const char *protocol;
  gust_iostream_opts stream_opts;
  int has_stream_opts;
  gust_tcp_server *tcp;
  int stopped;

  gust_http_start_request_fn start_request;
  gust_http_request_cb cb;
  void *user_data;

  gust__http_conn *conns;
  gust__http_parked *parked;
  size_t nconns;     /* both lists */
  uint8_t *park_buf; /* what parked connections read into */
  /* Records of parked connections, each with its (emptied) stream, kept
   * for the next connection to wake up: a busy keep-alive connection that
   * parks between requests allocates nothing. */
  gust__http_conn *spares[POOL_MAX];
  size_t n_spares;

  double idle; /* seconds; 0 = none */
  double tick; /* sweep period */
  int timer_armed;
  gust_timer timer;

  /* State machines and input buffers of connections gone idle, kept for
   * the next request on any connection: an idle keep-alive connection
   * holds neither, and a busy server allocates neither per request. */
  gust_h1 *h1_pool[POOL_MAX];
  size_t n_h1_pool;
  gust_buf in_pool[POOL_MAX];
  size_t n_in_pool;

  /* gust_http_server_free() from one of our callbacks waits until the
   * outermost of them returns */
  unsigned busy;
  int free_pending;

  int shutting_down;
  gust__http_upgraded *upgraded; /* connections that left by an upgrade */
  gust_future *shutdown_f;
  int shutdown_timer_armed;
  gust_timer shutdown_timer;
};

static void drive(gust__http_conn *c);
static void conn_close(gust__http_conn *c);
static void arm_sweep(gust_http_server *srv);

/* ------------------------------------------------------------------ */
/* Per-connection state pooled while idle                              */
/* ------------------------------------------------------------------ */

/* Gives the connection's state machine back to the server's pool. */
static void put_h1(gust__http_conn *c) {
  gust_http_server *srv = c->srv;
  if (c->h1 == NULL)
    return;
  if (srv->n_h1_pool < POOL_MAX) {
    gust_h1_reset(c->h1);
    srv->h1_pool[srv->n_h1_pool++] = c->h1;
  } else {
    gust_h1_free(c->h1);
  }
  c->h1 = NULL;
}

static int get_h1(gust__http_conn *c) {
  gust_http_server *srv = c->srv;
  if (c->h1 != NULL)
    return 0;
  if (srv->n_h1_pool > 0) {
    c->h1 = srv->h1_pool[--srv->n_h1_pool];
    return 0;
  }
  return gust_h1_new(&c->h1, GUST_H1_SERVER, &srv->h1cfg, srv->mem);
}

/* The same for the input buffer (empty by then). */
static void put_in(gust__http_conn *c) {
  gust_http_server *srv = c->srv;
  if (c->in.cap != 0 && c->in.cap <= POOL_BUF_MAX &&
      srv->n_in_pool < POOL_MAX) {
    gust_buf_clear(&c->in);
    srv->in_pool[srv->n_in_pool++] = c->in;
    gust_buf_init(&c->in, srv->mem);
  } else {
    gust_buf_free(&c->in);
  }
}

static void get_in(gust__http_conn *c) {
  gust_http_server *srv = c->srv;
  if (c->in.cap == 0 && srv->n_in_pool > 0)
    c->in = srv->in_pool[--srv->n_in_pool];
}

static void park_conn(gust__http_conn *c);
static void parked_close(gust__http_parked *p);

static int is_idle(gust__http_conn *c) {
  if (c->req != NULL || c->in.len != 0 || c->in_drive || c->soon ||
      c->flushing_close || c->lingering || c->detached || c->closing ||
      c->dead || c->resp_state != 0 || c->wait != NULL)
    return 0;
  return c->h1 == NULL || (gust_h1_unread(c->h1).len == 0 &&
                           gust_h1_pending_output(c->h1).len == 0);
}

/* Between requests with nothing buffered: keep only what an idle
 * connection needs, and park it (park_conn()). `refs` is the number of
 * references the connection has when nobody else holds it (drive() holds
 * one of its own). */
static void park(gust__http_conn *c, size_t refs) {
  if (!is_idle(c))
    return;
  put_h1(c);
  put_in(c);
  gust__iostream_trim(c->stream);
  if (c->parkable && c->refs == refs && !c->srv->shutting_down &&
      c->close_cb == NULL && gust_iostream_tls(c->stream) == NULL)
    park_conn(c);
}

/* ------------------------------------------------------------------ */
/* Connection lifetime                                                  */
/* ------------------------------------------------------------------ */

static void conn_unref(gust__http_conn *c) {
  if (--c->refs != 0)
    return;
  gust_buf_free(&c->in);
  if (c->spare) {
    gust_http_server *srv = c->srv;
    if (srv->n_spares < POOL_MAX) {
      srv->spares[srv->n_spares++] = c;
      return;
    }
    gust_iostream_unref(c->stream);
  }
  gust__free(c->mem, c);
}

static const char *peer_str(const gust__http_conn *c, char *buf, size_t cap) {
  if (gust_addr_format(&c->peer, buf, cap) != 0)
    snprintf(buf, cap, "unknown");
  return buf;
}

static void maybe_shutdown_done(gust_http_server *srv) {
  if (srv->nconns != 0 || srv->upgraded != NULL || srv->shutdown_f == NULL)
    return;
  if (srv->shutdown_timer_armed) {
    gust_loop_cancel(srv->loop, srv->shutdown_timer);
    srv->shutdown_timer_armed = 0;
  }
  gust_future_set_result(srv->shutdown_f, NULL, NULL);
  gust_future_unref(srv->shutdown_f);
  srv->shutdown_f = NULL;
}

/* Drops the request: notifies its delegate / close callback when the
 * exchange did not complete. */
static void release_request(gust__http_conn *c, int closed) {
  gust_http_request *req = c->req;
  if (req == NULL)
    return;
  c->req = NULL;
  if (closed && !c->detached) {
    if (c->dlg != NULL && c->hr_done && !c->final_sent &&
        c->dlg->on_connection_close != NULL) {
      c->final_sent = 1;
      c->dlg->on_connection_close(req, c->ctx);
    }
    if (c->close_cb != NULL && c->resp_state < 2)
      c->close_cb(req, c->close_ud);
  }
  c->close_cb = NULL;
  gust__http_request_set_resp_state(req, c->resp_state);
  gust__http_request_set_conn(req, NULL);
  gust_http_request_unref(req);
  gust_zip_body_free(c->zip);
  c->zip = NULL;
  c->dlg = NULL;
  c->ctx = NULL;
}

/* Takes the record out of the server's list of connections. */
static void conn_unlink(gust__http_conn *c) {
  gust_http_server *srv = c->srv;
  if (c->prev != NULL)
    c->prev->next = c->next;
  else
    srv->conns = c->next;
  if (c->next != NULL)
    c->next->prev = c->prev;
  c->prev = c->next = NULL;
  srv->nconns--;
}

/* Final teardown (stream closed or detached). */
static void conn_teardown(gust__http_conn *c) {
  gust_http_server *srv = c->srv;
  if (c->dead)
    return;
  c->dead = 1;
  c->closing = 1;
  release_request(c, 1);
  if (c->wait != NULL) {
    /* its done callback holds a reference and sees `dead` */
    c->wait = NULL;
  }
  conn_unlink(c);
  put_h1(c);
  if (c->stream != NULL) {
    gust_iostream_set_close_callback(c->stream, NULL, NULL);
    gust_iostream_unref(c->stream);
    c->stream = NULL;
  }
  gust_future_unref(c->rfut);
  c->rfut = NULL;
  maybe_shutdown_done(srv);
  conn_unref(c);
}

static void server_free_now(gust_http_server *srv);

/* Around code that calls the application: a free asked for meanwhile
 * happens when the outermost such call returns. */
static void srv_enter(gust_http_server *srv) { srv->busy++; }

static void srv_leave(gust_http_server *srv) {
  if (--srv->busy == 0 && srv->free_pending)
    server_free_now(srv);
}

static void on_stream_close(gust_iostream *s, void *ud) {
  gust__http_conn *c = ud;
  gust_http_server *srv = c->srv;
  GUST__UNUSED(s);
  srv_enter(srv);
  c->refs++;
  conn_teardown(c);
  conn_unref(c);
  srv_leave(srv);
}

/* Closes the stream now (unsent bytes are dropped); teardown follows from
 * the stream's close callback. */
static void conn_close(gust__http_conn *c) {
  if (c->closing || c->dead)
    return;
  c->closing = 1;
  c->idle_deadline = c->body_deadline = 0;
  gust_iostream_close(c->stream);
}

/* Seconds a closing connection keeps reading and discarding what the peer
 * still sends (nginx's lingering close): closing a socket with unread input
 * makes the kernel send a reset, which can destroy the error response
 * before the peer read it. */
#define LINGER_SECONDS 2.0

static void on_flushed_close(gust_future *f, void *ud) {
  gust__http_conn *c = ud;
  int failed = gust_future_error(f) != 0;
  gust_future_unref(f);
  /* Plain TCP only: with TLS the close_notify of the close says the rest. */
  if (!failed && !c->closing && !c->dead && !c->detached &&
      gust_iostream_tls(c->stream) == NULL &&
      gust_tcp_shutdown(gust_iostream_tcp(c->stream), NULL) == 0) {
    c->lingering = 1;
    c->idle_deadline = gust_loop_now(c->srv->loop) + LINGER_SECONDS;
    gust__iostream_set_paused(c->stream, 0);
    arm_sweep(c->srv);
  } else {
    conn_close(c);
  }
  conn_unref(c);
}

/* Writes the queued output; with `out`, *out gets the write's future. */
static int flush_out(gust__http_conn *c, gust_future **out) {
  gust_slice s;
  int rc;
  if (c->closing || c->dead)
    return GUST_ECLOSED;
  if (c->h1 == NULL)
    return out != NULL ? gust_iostream_write(c->stream, NULL, 0, out) : 0;
  s = gust_h1_pending_output(c->h1);
  if (s.len == 0 && out == NULL)
    return 0;
  rc = gust_iostream_write(c->stream, s.ptr, s.len, out);
  if (rc < 0) {
    conn_close(c);
    return rc;
  }
  gust_h1_consume_output(c->h1, s.len);
  return 0;
}

/* Writes the queued output, then closes once it is sent. */
static void close_after_flush(gust__http_conn *c) {
  gust_future *f = NULL;
  if (c->closing || c->dead || c->flushing_close)
    return;
  if (flush_out(c, &f) < 0)
    return;
  if (gust_future_add_done_callback(f, on_flushed_close, c) < 0) {
    gust_future_unref(f);
    conn_close(c);
    return;
  }
  c->flushing_close = 1;
  c->refs++;
  c->idle_deadline = c->body_deadline = 0;
  gust__iostream_set_paused(c->stream, 1);
}

/* ------------------------------------------------------------------ */
/* Reading                                                              */
/* ------------------------------------------------------------------ */

static void update_pause(gust__http_conn *c) {
  int paused;
  if (c->closing || c->dead || c->detached)
    return;
  paused =
      c->wait != NULL || c->h1_paused || (c->flushing_close && !c->lingering);
  /* While a request waits for its response, a client that leaves is
   * noticed at once (close callbacks, on_connection_close), as Tornado
   * does; what it sends meanwhile stays buffered, one read at most. */
  if (paused && c->h1_paused && c->wait == NULL && !c->flushing_close)
    paused = 2;
  gust__iostream_set_paused(c->stream, paused);
}

static void on_data(gust_iostream *s, gust_slice data, void *ud) {
  gust__http_conn *c = ud;
  int rc;
  GUST__UNUSED(s);
  if (c->closing || c->dead || c->lingering)
    return;
  if (get_h1(c) < 0) {
    conn_close(c);
    return;
  }
  get_in(c);
  if (c->in.len != 0) {
    /* only while paused mid-buffer, which stops delivery: keep the bytes */
    rc = gust_h1_feed(c->h1, data.ptr, data.len);
  } else if ((rc = gust_buf_append(&c->in, data.ptr, data.len)) == 0) {
    rc = gust_h1_feed(c->h1, c->in.ptr, c->in.len);
  }
  if (rc < 0) {
    conn_close(c);
    return;
  }
  drive(c);
}

static int body_start(gust__http_conn *c);

static void on_wait_done(gust_future *f, void *ud) {
  gust__http_conn *c = ud;
  int err = gust_future_error(f);
  if (c->wait == f)
    c->wait = NULL;
  gust_future_unref(f);
  if (!c->dead && !c->closing) {
    if (err != 0) {
      conn_close(c);
    } else {
      if (c->wait_hr) {
        c->wait_hr = 0;
        body_start(c);
      }
      drive(c);
    }
  }
  conn_unref(c);
}

/* Takes a delegate's future: the next read waits for it. */
static int take_wait(gust__http_conn *c, gust_future *f) {
  if (f == NULL)
    return 0;
  if (gust_future_add_done_callback(f, on_wait_done, c) < 0) {
    gust_future_unref(f);
    return GUST_ENOMEM;
  }
  c->refs++;
  c->wait = f;
  return 0;
}

static void uncaught(gust__http_conn *c, int rc) {
  gust_log(GUST_LOG_GENERAL, GUST_LOG_ERROR, "Uncaught exception: %s",
           gust_strerror(rc));
  conn_close(c);
}

static void on_soon(gust_loop *loop, void *ud) {
  gust__http_conn *c = ud;
  GUST__UNUSED(loop);
  c->soon = 0;
  if (!c->dead)
    drive(c);
  conn_unref(c);
}

/* The request is done once its body was read and its response finished:
 * the connection goes back to waiting for a head. */
static void request_done(gust__http_conn *c) {
  gust_http_server *srv = c->srv;
  release_request(c, 0);
  c->resp_state = 0;
  c->hr_done = c->final_sent = c->msg_done = 0;
  c->has_body = c->expect_100 = c->discard = c->zip_pump = c->wait_hr = 0;
  c->body_deadline = 0;
  if (srv->idle > 0)
    c->idle_deadline = gust_loop_now(srv->loop) + srv->idle;
  if (srv->shutting_down)
    close_after_flush(c);
}

/* The body is about to be read: 100 Continue when the client waits. */
static void maybe_continue(gust__http_conn *c) {
  if (c->expect_100 && c->has_body && c->resp_state == 0) {
    c->expect_100 = 0;
    if (gust_h1_send_continue(c->h1) == 0 && !c->in_drive)
      flush_out(c, NULL);
  }
}

/* The body is about to be read (headers_received done). */
static int body_start(gust__http_conn *c) {
  /* a Content-Length over this request's limit gets 413 from h1 at the
   * next event: no 100 Continue for a body that will be refused */
  if (c->content_length <= c->max_body)
    maybe_continue(c);
  return 0;
}

static int on_request(gust__http_conn *c, const gust_h1_event *ev) {
  gust_http_server *srv = c->srv;
  gust__http_req_env env;
  gust_http_request *req;
  gust_future *w = NULL;
  int rc;
  env.server = srv;
  env.loop = srv->loop;
  env.peer = &c->peer;
  env.protocol = srv->protocol;
  env.xheaders = srv->opts.xheaders;
  env.trusted_downstream = (const char *const *)srv->trusted;
  env.start_time = gust_loop_time(srv->loop);
  rc = gust__http_request_new(&req, srv->mem, ev, &env);
  if (rc < 0)
    return rc;
  c->req = req;
  gust__http_request_set_conn(req, c);
  c->idle_deadline = 0;
  c->has_body = (ev->head & GUST_H1_HEAD_CHUNKED) ||
                ((ev->head & GUST_H1_HEAD_HAS_LENGTH) && ev->content_length);
  c->expect_100 = (ev->head & GUST_H1_HEAD_EXPECT_100) != 0;
  c->content_length =
      (ev->head & GUST_H1_HEAD_HAS_LENGTH) ? ev->content_length : 0;
  c->max_body = srv->max_body;
  if (c->has_body && srv->opts.body_timeout > 0)
    c->body_deadline = gust_loop_now(srv->loop) + srv->opts.body_timeout;
  if (srv->opts.decompress_request) {
    rc = gust_zip_body_start(&c->zip, srv->mem,
                             (gust_headers *)gust_http_request_headers(req), 0,
                             srv->h1cfg.chunk_size, srv->max_body);
    if (rc < 0)
      return rc;
  }
  if (srv->start_request != NULL) {
    rc = srv->start_request(srv, req, srv->user_data, &c->dlg, &c->ctx);
    if (rc < 0)
      return rc;
    if (c->dlg != NULL && c->dlg->headers_received != NULL) {
      c->in_hr = 1;
      rc = c->dlg->headers_received(req, c->ctx, &w);
      c->in_hr = 0;
    }
    c->hr_done = 1;
    if (c->detached) {
      gust_future_unref(w);
      return 0;
    }
    if (rc < 0) {
      gust_future_unref(w);
      return rc;
    }
    if (w != NULL) {
      c->wait_hr = 1;
      return take_wait(c, w);
    }
  }
  return body_start(c);
}

static int deliver(gust__http_conn *c, gust_slice piece) {
  gust_future *w = NULL;
  int rc = 0;
  if (c->discard || piece.len == 0)
    return 0;
  if (c->dlg == NULL) {
    if (c->srv->start_request != NULL)
      return 0; /* a delegate factory that gave no delegate */
    return gust__http_request_append_body(c->req, piece.ptr, piece.len);
  }
  if (c->dlg->data_received != NULL)
    rc = c->dlg->data_received(c->req, piece, c->ctx, &w);
  if (rc < 0) {
    gust_future_unref(w);
    return rc;
  }
  return take_wait(c, w);
}

/* Hands decoded pieces over until the input fed is used up (0), a future
 * asks to wait (1) or an error. */
static int pump_zip(gust__http_conn *c) {
  gust_slice piece;
  int rc;
  while ((rc = gust_zip_body_next(c->zip, &piece)) == 1) {
    rc = deliver(c, piece);
    if (rc < 0)
      return rc;
    if (c->wait != NULL || c->closing)
      return 1;
  }
  if (rc < 0)
    return rc;
  c->zip_pump = 0;
  return 0;
}

static void malformed(gust__http_conn *c, const char *msg, int status) {
  char ip[64];
  gust_log(GUST_LOG_GENERAL, GUST_LOG_INFO,
           "Malformed HTTP message from %s: %s", peer_str(c, ip, sizeof(ip)),
           msg);
  if (status != 0 && c->resp_state == 0 && gust_h1_send_error(c->h1) == 0) {
    close_after_flush(c);
    return;
  }
  conn_close(c);
}

/* A gzip body error: answered with 400 as Tornado does. */
static void zip_failed(gust__http_conn *c, int rc) {
  const char *msg = gust_zip_body_error(c->zip);
  if (rc == GUST_ENOMEM) {
    conn_close(c);
    return;
  }
  if (c->resp_state == 0) {
    gust_h1_consume_output(c->h1, gust_h1_pending_output(c->h1).len);
    if (gust_h1_send_response(c->h1, 400, NULL, NULL) == 0 &&
        gust_h1_send_end(c->h1) == 0) {
      char ip[64];
      gust_log(GUST_LOG_GENERAL, GUST_LOG_INFO,
               "Malformed HTTP message from %s: %s",
               peer_str(c, ip, sizeof(ip)), msg[0] ? msg : gust_strerror(rc));
      c->resp_state = 2;
      close_after_flush(c);
      return;
    }
  }
  malformed(c, msg[0] ? msg : gust_strerror(rc), 0);
}

static void on_end(gust__http_conn *c) {
  gust_http_request *req = c->req;
  c->msg_done = 1;
  c->body_deadline = 0;
  if (req == NULL)
    return;
  if (c->discard) {
    /* the response finished before the body: close after it */
    close_after_flush(c);
    return;
  }
  gust_http_request_ref(req);
  if (c->dlg != NULL) {
    if (!c->final_sent) {
      c->final_sent = 1;
      if (c->dlg->finish != NULL)
        c->dlg->finish(req, c->ctx);
    }
  } else if (c->srv->start_request == NULL) {
    c->srv->cb(req, c->srv->user_data);
  }
  if (c->req == req && c->resp_state == 2)
    request_done(c);
  gust_http_request_unref(req);
}

/* Pulls events until the state machine needs bytes, waits, or the
 * connection ends. */
static void drive(gust__http_conn *c) {
  gust_http_server *srv = c->srv;
  gust_h1_event ev;
  int rc;
  if (c->in_drive || c->dead || c->h1 == NULL)
    return;
  srv_enter(srv);
  c->in_drive = 1;
  c->refs++;
  for (;;) {
    if (c->closing || c->dead || c->detached || c->wait != NULL ||
        c->flushing_close)
      break;
    if (c->zip_pump) {
      rc = pump_zip(c);
      if (rc < 0) {
        zip_failed(c, rc);
        break;
      }
      if (rc == 1)
        continue;
    }
    c->h1_paused = 0;
    rc = gust_h1_next_event(c->h1, &ev);
    switch (rc) {
    case GUST_H1_NEED_DATA:
      gust_buf_clear(&c->in);
      goto out;
    case GUST_H1_REQUEST:
      rc = on_request(c, &ev);
      if (rc < 0) {
        if (rc == GUST_ENOMEM && c->dlg == NULL)
          conn_close(c);
        else
          uncaught(c, rc);
      }
      break;
    case GUST_H1_DATA:
      if (c->req == NULL)
        break;
      maybe_continue(c);
      if (c->zip != NULL && !c->discard) {
        rc = gust_zip_body_feed(c->zip, ev.data.ptr, ev.data.len);
        if (rc < 0) {
          zip_failed(c, rc);
          break;
        }
        c->zip_pump = 1;
        rc = pump_zip(c);
        if (rc < 0 && rc != GUST_ENOMEM && c->dlg != NULL &&
            gust_zip_body_error(c->zip)[0] == '\0') {
          uncaught(c, rc);
          break;
        }
        if (rc < 0)
          zip_failed(c, rc);
        break;
      }
      rc = deliver(c, ev.data);
      if (rc < 0) {
        if (c->dlg != NULL)
          uncaught(c, rc);
        else
          conn_close(c);
      }
      break;
    case GUST_H1_TRAILERS:
      if (c->req != NULL &&
          gust__http_request_set_trailers(c->req, ev.fields, ev.nfields) < 0)
        conn_close(c);
      break;
    case GUST_H1_END_MESSAGE:
      if (c->zip != NULL && !c->discard) {
        rc = gust_zip_body_finish(c->zip);
        if (rc < 0) {
          zip_failed(c, rc);
          break;
        }
      }
      on_end(c);
      break;
    case GUST_H1_PAUSED:
      c->h1_paused = 1;
      gust_buf_clear(&c->in);
      goto out;
    case GUST_H1_CLOSED:
      gust_buf_clear(&c->in);
      close_after_flush(c);
      goto out;
    case GUST_H1_ERROR:
      gust_buf_clear(&c->in);
      if (ev.code == GUST_ENOMEM)
        conn_close(c);
      else
        malformed(c, ev.message, ev.http_status);
      goto out;
    default: /* SWITCHED: the application switched protocols */
      gust_buf_clear(&c->in);
      close_after_flush(c);
      goto out;
    }
  }
out:
  c->in_drive = 0;
  if (c->detached) {
    conn_teardown(c);
  } else if (!c->dead && !c->closing) {
    flush_out(c, NULL);
    update_pause(c);
    park(c, 2);
  }
  conn_unref(c);
  srv_leave(srv);
}

/* Resumes reading once the response finished outside of drive(). */
static void schedule_drive(gust__http_conn *c) {
  if (c->in_drive || c->soon || c->dead)
    return;
  if (gust_loop_call_soon(c->srv->loop, on_soon, c) < 0) {
    conn_close(c);
    return;
  }
  c->soon = 1;
  c->refs++;
}

/* ------------------------------------------------------------------ */
/* Deadlines: one coarse sweep per server                                */
/* ------------------------------------------------------------------ */

static void on_sweep(gust_loop *loop, void *ud) {
  gust_http_server *srv = ud;
  gust__http_conn *c, *next;
  double now = gust_loop_now(loop);
  char ip[64];
  srv->timer_armed = 0;
  for (c = srv->conns; c != NULL; c = next) {
    next = c->next;
    if (c->closing)
      continue;
    if (c->idle_deadline > 0 && now >= c->idle_deadline) {
      conn_close(c);
      continue;
    }
    if (c->body_deadline > 0 && now >= c->body_deadline) {
      gust_log(GUST_LOG_GENERAL, GUST_LOG_INFO, "Timeout reading body from %s",
               peer_str(c, ip, sizeof(ip)));
      conn_close(c);
      continue;
    }
    park(c, 1); /* in case it went idle outside of drive() */
  }
  {
    gust__http_parked *p, *pn;
    for (p = srv->parked; p != NULL; p = pn) {
      pn = p->next;
      if (p->idle_deadline > 0 && now >= p->idle_deadline)
        parked_close(p);
    }
  }
  arm_sweep(srv);
}

static void arm_sweep(gust_http_server *srv) {
  if (srv->timer_armed || srv->nconns == 0)
    return;
  if (gust_loop_call_later(srv->loop, srv->tick, on_sweep, srv, &srv->timer) ==
      0)
    srv->timer_armed = 1;
}

static void lower_tick(gust_http_server *srv, double seconds) {
  double t = seconds / 8;
  if (t < 0.005)
    t = 0.005;
  if (t >= srv->tick)
    return;
  srv->tick = t;
  if (srv->timer_armed) {
    gust_loop_cancel(srv->loop, srv->timer);
    srv->timer_armed = 0;
  }
  arm_sweep(srv);
}

/* ------------------------------------------------------------------ */
/* Server                                                               */
/* ------------------------------------------------------------------ */

static int server_new(gust_http_server **out, gust_loop *loop,
                      const gust_http_server_opts *opts, const gust_mem *mem) {
  gust_http_server *srv;
  size_t n = 0, bytes = 0, i;
  if (out == NULL)
    return GUST_EINVAL;
  *out = NULL;
  if (loop == NULL)
    return GUST_EINVAL;
  mem = gust__mem(mem);
  srv = gust__calloc(mem, 1, sizeof(*srv));
  if (srv == NULL)
    return GUST_ENOMEM;
  srv->loop = loop;
  srv->mem = mem;
  if (opts != NULL)
    srv->opts = *opts;
  opts = &srv->opts;
  if (opts->h1 != NULL)
    srv->h1cfg = *opts->h1;
  else
    gust_h1_config_init(&srv->h1cfg);
  srv->h1cfg.max_head =
      opts->max_header_size ? opts->max_header_size : DEFAULT_MAX_HEADER;
  srv->max_body =
      opts->max_body_size ? opts->max_body_size : (uint64_t)DEFAULT_MAX_BODY;
  /* h1 checks Content-Length when the body starts, after headers_received
   * (which may move the limit, as Tornado's set_max_body_size) */
  srv->h1cfg.max_body = srv->max_body;
  srv->h1cfg.chunk_size = opts->chunk_size ? opts->chunk_size : DEFAULT_CHUNK;
  if (opts->no_keep_alive)
    srv->h1cfg.flags |= GUST_H1_NO_KEEP_ALIVE;
  if (opts->tornado_errors)
    srv->h1cfg.flags |= GUST_H1_TORNADO_ERRORS;
  srv->h1cfg.flags &= ~(unsigned)GUST_H1_READ_ONLY;
  srv->opts.h1 = NULL;
  if (opts->stream != NULL) {
    srv->stream_opts = *opts->stream;
    srv->has_stream_opts = 1;
  }
  srv->opts.stream = NULL;
  srv->protocol = opts->protocol != NULL && strcmp(opts->protocol, "https") == 0
                      ? "https"
                  : opts->protocol != NULL ? "http"
                  : opts->tls != NULL      ? "https"
                                           : "http";
  srv->opts.protocol = NULL;
  srv->idle = opts->idle_connection_timeout == 0 ? DEFAULT_IDLE
              : opts->idle_connection_timeout < 0
                  ? 0
                  : opts->idle_connection_timeout;
  srv->tick = 1.0;
  if (srv->idle > 0 && srv->idle / 8 < srv->tick)
    srv->tick = srv->idle / 8 < 0.005 ? 0.005 : srv->idle / 8;
  if (opts->body_timeout > 0 && opts->body_timeout / 8 < srv->tick)
    srv->tick = opts->body_timeout / 8 < 0.005 ? 0.005 : opts->body_timeout / 8;
  if (opts->body_timeout < 0)
    srv->opts.body_timeout = 0;
  if (opts->trusted_downstream != NULL) {
    char *p;
    for (n = 0; opts->trusted_downstream[n] != NULL; n++)
      bytes += strlen(opts->trusted_downstream[n]) + 1;
    srv->trusted = gust__malloc(mem, (n + 1) * sizeof(char *) + bytes);
    if (srv->trusted == NULL) {
      gust__free(mem, srv);
      return GUST_ENOMEM;
    }
    p = (char *)(srv->trusted + n + 1);
    for (i = 0; i < n; i++) {
      size_t l = strlen(opts->trusted_downstream[i]) + 1;
      memcpy(p, opts->trusted_downstream[i], l);
      srv->trusted[i] = p;
      p += l;
    }
    srv->trusted[n] = NULL;
  }
  srv->opts.trusted_downstream = NULL;
  *out = srv;
  return 0;
}

int gust_http_server_new(gust_http_server **out, gust_loop *loop,
                         const gust_http_server_opts *opts,
                         gust_http_start_request_fn start_request,
                         void *user_data, const gust_mem *mem) {
  int rc;
  if (out != NULL)
    *out = NULL;
  if (start_request == NULL)
    return GUST_EINVAL;
  rc = server_new(out, loop, opts, mem);
  if (rc == 0) {
    (*out)->start_request = start_request;
    (*out)->user_data = user_data;
  }
  return rc;
}

int gust_http_server_new_cb(gust_http_server **out, gust_loop *loop,
                            const gust_http_server_opts *opts,
                            gust_http_request_cb cb, void *user_data,
                            const gust_mem *mem) {
  int rc;
  if (out != NULL)
    *out = NULL;
  if (cb == NULL)
    return GUST_EINVAL;
  rc = server_new(out, loop, opts, mem);
  if (rc == 0) {
    (*out)->cb = cb;
    (*out)->user_data = user_data;
  }
  return rc;
}

static int conn_start(gust_http_server *srv, gust_iostream *stream,
                      const gust_addr *peer, int parkable,
                      gust__http_conn **out);

static void on_accept(gust_tcp_server *tcp, gust_iostream *stream,
                      const gust_addr *peer, void *ud) {
  GUST__UNUSED(tcp);
  conn_start(ud, stream, peer, 1, NULL);
}

static int ensure_tcp(gust_http_server *srv) {
  gust_tcp_server_opts to;
  if (srv->stopped || srv->shutting_down)
    return GUST_ESTATE;
  if (srv->tcp != NULL)
    return 0;
  memset(&to, 0, sizeof(to));
  to.tls = srv->opts.tls;
  to.stream = srv->has_stream_opts ? &srv->stream_opts : NULL;
  return gust_tcp_server_new(&srv->tcp, srv->loop, &to, on_accept, srv,
                             srv->mem);
}

int gust_http_server_listen(gust_http_server *srv, const char *host, int port,
                            const gust_tcp_listen_opts *lopts) {
  int rc;
  if (srv == NULL)
    return GUST_EINVAL;
  rc = ensure_tcp(srv);
  if (rc < 0)
    return rc;
  return gust_tcp_server_listen(srv->tcp, host, port, lopts);
}

int gust_http_server_add_sockets(gust_http_server *srv, const int *fds,
                                 size_t n) {
  int rc;
  if (srv == NULL)
    return GUST_EINVAL;
  rc = ensure_tcp(srv);
  if (rc < 0)
    return rc;
  return gust_tcp_server_add_sockets(srv->tcp, fds, n);
}

/* Sets up the zeroed record `c` for `stream`; on failure frees `c` and
 * drops the stream. */
static int conn_init(gust__http_conn *c, gust_http_server *srv,
                     gust_iostream *stream, const gust_addr *peer,
                     int parkable) {
  int rc;
  c->srv = srv;
  c->mem = srv->mem;
  c->refs = 1;
  c->stream = stream;
  gust_buf_init(&c->in, srv->mem);
  if (peer != NULL)
    c->peer = *peer;
  /* the state machine comes with the first bytes (get_h1) */
  rc = gust_iostream_read_until_close(stream, on_data, c, &c->rfut);
  if (rc < 0) {
    gust__free(srv->mem, c);
    gust_iostream_unref(stream);
    return rc;
  }
  gust_iostream_set_close_callback(stream, on_stream_close, c);
  c->parkable = parkable != 0;
  c->next = srv->conns;
  if (srv->conns != NULL)
    srv->conns->prev = c;
  srv->conns = c;
  srv->nconns++;
  if (srv->idle > 0)
    c->idle_deadline = gust_loop_now(srv->loop) + srv->idle;
  arm_sweep(srv);
  return 0;
}

static int conn_start(gust_http_server *srv, gust_iostream *stream,
                      const gust_addr *peer, int parkable,
                      gust__http_conn **out) {
  gust__http_conn *c;
  int rc;
  if (srv->shutting_down) {
    gust_iostream_unref(stream);
    return GUST_ESTATE;
  }
  c = gust__calloc(srv->mem, 1, sizeof(*c));
  if (c == NULL) {
    gust_iostream_unref(stream);
    return GUST_ENOMEM;
  }
  rc = conn_init(c, srv, stream, peer, parkable);
  if (rc == 0 && out != NULL)
    *out = c;
  return rc;
}

int gust_http_server_handle_stream(gust_http_server *srv, gust_iostream *stream,
                                   const gust_addr *peer) {
  if (srv == NULL || stream == NULL) {
    gust_iostream_unref(stream);
    return GUST_EINVAL;
  }
  return conn_start(srv, stream, peer, 0, NULL);
}

/* ------------------------------------------------------------------ */
/* Parked connections                                                   */
/* ------------------------------------------------------------------ */

static void parked_unlink(gust__http_parked *p) {
  gust_http_server *srv = p->srv;
  if (p->prev != NULL)
    p->prev->next = p->next;
  else
    srv->parked = p->next;
  if (p->next != NULL)
    p->next->prev = p->prev;
  srv->nconns--;
}

/* Closes a parked connection (its peer left, it idled out, or the server
 * shuts down). */
static void parked_close(gust__http_parked *p) {
  gust_http_server *srv = p->srv;
  parked_unlink(p);
  gust_tcp_close(p->tcp, NULL);
  gust__free(srv->mem, p);
  maybe_shutdown_done(srv);
}

static void pack_peer(gust__http_parked *p, const gust_addr *a) {
  if (a->ss.ss_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)&a->ss;
    p->family = AF_INET;
    p->port = in->sin_port;
    memcpy(p->addr, &in->sin_addr, 4);
  } else {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&a->ss;
    p->family = AF_INET6;
    p->port = in6->sin6_port;
    memcpy(p->addr, &in6->sin6_addr, 16);
    memcpy(p->addr + 16, &in6->sin6_scope_id, 4);
  }
}

static void unpack_peer(const gust__http_parked *p, gust_addr *a) {
  memset(a, 0, sizeof(*a));
  if (p->family == AF_INET) {
    struct sockaddr_in *in = (struct sockaddr_in *)&a->ss;
    in->sin_family = AF_INET;
    in->sin_port = p->port;
    memcpy(&in->sin_addr, p->addr, 4);
    a->len = sizeof(*in);
  } else {
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a->ss;
    in6->sin6_family = AF_INET6;
    in6->sin6_port = p->port;
    memcpy(&in6->sin6_addr, p->addr, 16);
    memcpy(&in6->sin6_scope_id, p->addr + 16, 4);
    a->len = sizeof(*in6);
  }
}

static void park_alloc(gust_tcp *tcp, size_t suggested, gust_vec *buf) {
  gust__http_parked *p = gust_tcp_data(tcp);
  GUST__UNUSED(suggested);
  buf->base = p->srv->park_buf;
  buf->len = PARK_BUF;
}

/* The first bytes of the next request: a stream and a connection record
 * again, which take the bytes and the handle's further reads. */
static void unpark(gust__http_parked *p, const uint8_t *data, size_t len) {
  gust_http_server *srv = p->srv;
  gust_iostream *stream;
  gust__http_conn *c;
  gust_addr peer, *pp = NULL;
  gust_slice d;
  int rc;
  c = NULL;
  if (srv->n_spares > 0 && !srv->shutting_down) {
    /* a retired record and its stream, reused */
    c = srv->spares[--srv->n_spares];
    stream = c->stream;
    if (gust__iostream_reattach(stream, p->tcp) < 0) {
      gust_iostream_unref(stream);
      gust__free(c->mem, c);
      c = NULL;
    }
  }
  if (c == NULL) {
    rc = gust__iostream_adopt_reading(
        &stream, p->tcp, srv->has_stream_opts ? &srv->stream_opts : NULL,
        srv->mem);
    if (rc < 0) {
      parked_close(p);
      return;
    }
  }
  if (p->family != 0) {
    unpack_peer(p, &peer);
    pp = &peer;
  }
  parked_unlink(p);
  gust__free(srv->mem, p);
  if (c != NULL) {
    memset(c, 0, sizeof(*c));
    rc = conn_init(c, srv, stream, pp, 1); /* on failure, closes */
  } else {
    rc = conn_start(srv, stream, pp, 1, &c); /* on failure, closes */
  }
  if (rc < 0) {
    maybe_shutdown_done(srv);
    return;
  }
  d.ptr = data;
  d.len = len;
  /* no reference of our own: drive() takes one, and a connection answered
   * at once parks again on its way out */
  on_data(stream, d, c);
}

static void park_read(gust_tcp *tcp, gust_ssize nread, const gust_vec *buf) {
  gust__http_parked *p = gust_tcp_data(tcp);
  if (nread < 0)
    parked_close(p); /* end of stream or an error: nothing to answer */
  else if (nread > 0)
    unpark(p, buf->base, (size_t)nread);
}

/* The record of a connection just parked: out of the server's list; it
 * and its emptied stream become a spare once nobody holds it. */
static void conn_retire(gust__http_conn *c) {
  c->dead = 1;
  c->closing = 1;
  c->spare = 1;
  conn_unlink(c);
  gust_future_unref(c->rfut);
  c->rfut = NULL;
  conn_unref(c);
}

/* Parks an idle connection (see gust__http_parked): only the TCP handle
 * and a small record stay. Nothing happens when the stream cannot let go
 * of its handle (TLS, bytes pending) or memory is short. */
static void park_conn(gust__http_conn *c) {
  gust_http_server *srv = c->srv;
  gust__http_parked *p;
  gust_tcp *tcp;
  size_t plen = 0;
  int reading = 0;
  if (srv->park_buf == NULL) {
    srv->park_buf = gust__malloc(srv->mem, PARK_BUF);
    if (srv->park_buf == NULL)
      return;
  }
  if (c->peer.ss.ss_family == AF_INET &&
      c->peer.len >= sizeof(struct sockaddr_in))
    plen = 4;
  else if (c->peer.ss.ss_family == AF_INET6 &&
           c->peer.len >= sizeof(struct sockaddr_in6))
    plen = 20;
  p = gust__calloc(srv->mem, 1, offsetof(gust__http_parked, addr) + plen);
  if (p == NULL)
    return;
  tcp = gust__iostream_release(c->stream, &reading);
  if (tcp == NULL) {
    gust__free(srv->mem, p);
    return;
  }
  p->srv = srv;
  p->tcp = tcp;
  p->idle_deadline = c->idle_deadline;
  if (plen != 0)
    pack_peer(p, &c->peer);
  p->next = srv->parked;
  if (srv->parked != NULL)
    srv->parked->prev = p;
  srv->parked = p;
  srv->nconns++; /* the record's teardown below counts itself out */
  if (reading) {
    gust__tcp_set_reader(tcp, park_alloc, park_read, p);
  } else {
    gust_tcp_set_data(tcp, p);
    if (gust_tcp_read_start(tcp, park_alloc, park_read) < 0) {
      conn_teardown(c);
      parked_close(p);
      return;
    }
  }
  conn_retire(c);
}

int gust_http_server_port(const gust_http_server *srv) {
  if (srv == NULL || srv->tcp == NULL)
    return GUST_ESTATE;
  return gust_tcp_server_port(srv->tcp);
}

size_t gust_http_server_connection_count(const gust_http_server *srv) {
  return srv != NULL ? srv->nconns : 0;
}

void gust_http_server_stop(gust_http_server *srv) {
  if (srv == NULL)
    return;
  srv->stopped = 1;
  if (srv->tcp != NULL)
    gust_tcp_server_stop(srv->tcp);
}

/* Asks every upgraded connection to end (each untracks itself later). */
static void end_upgraded(gust_http_server *srv, int now) {
  gust__http_upgraded *u, *next;
  for (u = srv->upgraded; u != NULL; u = next) {
    next = u->next;
    u->end(u, now);
  }
}

void gust__http_server_track(gust_http_server *srv, gust__http_upgraded *u) {
  u->srv = srv;
  u->prev = NULL;
  u->next = srv->upgraded;
  if (srv->upgraded != NULL)
    srv->upgraded->prev = u;
  srv->upgraded = u;
}

void gust__http_server_untrack(gust__http_upgraded *u) {
  gust_http_server *srv = u->srv;
  if (srv == NULL)
    return;
  if (u->prev != NULL)
    u->prev->next = u->next;
  else
    srv->upgraded = u->next;
  if (u->next != NULL)
    u->next->prev = u->prev;
  u->prev = u->next = NULL;
  u->srv = NULL;
  maybe_shutdown_done(srv);
}

int gust__http_server_shutting_down(const gust_http_server *srv) {
  return srv->shutting_down;
}

static void on_shutdown_timeout(gust_loop *loop, void *ud) {
  gust_http_server *srv = ud;
  gust__http_conn *c, *next;
  GUST__UNUSED(loop);
  srv->shutdown_timer_armed = 0;
  for (c = srv->conns; c != NULL; c = next) {
    next = c->next;
    conn_close(c);
  }
  while (srv->parked != NULL)
    parked_close(srv->parked);
  end_upgraded(srv, 1);
}

int gust_http_server_shutdown(gust_http_server *srv, double timeout,
                              gust_future **out) {
  gust__http_conn *c, *next;
  int rc;
  if (out != NULL)
    *out = NULL;
  if (srv == NULL)
    return GUST_EINVAL;
  if (srv->shutdown_f == NULL) {
    rc = gust_future_new(&srv->shutdown_f, srv->loop, srv->mem);
    if (rc < 0)
      return rc;
  }
  if (timeout > 0 && !srv->shutdown_timer_armed) {
    rc = gust_loop_call_later(srv->loop, timeout, on_shutdown_timeout, srv,
                              &srv->shutdown_timer);
    if (rc < 0)
      return rc;
    srv->shutdown_timer_armed = 1;
  }
  gust_http_server_stop(srv);
  srv->shutting_down = 1;
  for (c = srv->conns; c != NULL; c = next) {
    next = c->next;
    if (c->req == NULL && !c->in_drive && !c->soon)
      conn_close(c);
  }
  if (out != NULL)
    *out = gust_future_ref(srv->shutdown_f);
  end_upgraded(srv, 0);
  /* parked connections close at once (each may resolve the future, whose
   * reference the caller already holds) */
  while (srv->parked != NULL)
    parked_close(srv->parked);
  maybe_shutdown_done(srv);
  return 0;
}

/* Lets go of the upgraded connections, dropping each. */
static void drop_upgraded(gust_http_server *srv) {
  while (srv->upgraded != NULL) {
    gust__http_upgraded *u = srv->upgraded;
    srv->upgraded = u->next;
    u->prev = u->next = NULL;
    u->srv = NULL;
    u->end(u, 1);
  }
}

void gust_http_server_free(gust_http_server *srv) {
  if (srv == NULL || srv->free_pending)
    return;
  gust_http_server_stop(srv);
  /* at once, even from a callback: nothing more reaches them */
  drop_upgraded(srv);
  if (srv->busy != 0) {
    /* called from one of our callbacks: the connection being served is on
     * the stack; finish when it returns */
    srv->free_pending = 1;
    return;
  }
  server_free_now(srv);
}

static void server_free_now(gust_http_server *srv) {
  srv->free_pending = 1; /* a delegate's on_connection_close may call free */
  while (srv->conns != NULL) {
    gust__http_conn *c = srv->conns;
    c->refs++;
    if (!c->closing) {
      c->closing = 1;
      gust_iostream_set_close_callback(c->stream, NULL, NULL);
      gust_iostream_close(c->stream);
    }
    conn_teardown(c);
    conn_unref(c);
  }
  while (srv->parked != NULL)
    parked_close(srv->parked);
  drop_upgraded(srv);
  gust__free(srv->mem, srv->park_buf);
  while (srv->n_spares > 0) {
    gust__http_conn *c = srv->spares[--srv->n_spares];
    gust_iostream_unref(c->stream);
    gust__free(c->mem, c);
  }
  if (srv->timer_armed)
    gust_loop_cancel(srv->loop, srv->timer);
  if (srv->shutdown_timer_armed)
    gust_loop_cancel(srv->loop, srv->shutdown_timer);
  if (srv->shutdown_f != NULL) {
    gust_future_set_result(srv->shutdown_f, NULL, NULL);
    gust_future_unref(srv->shutdown_f);
  }
  gust_tcp_server_free(srv->tcp);
  while (srv->n_h1_pool > 0)
    gust_h1_free(srv->h1_pool[--srv->n_h1_pool]);
  while (srv->n_in_pool > 0)
    gust_buf_free(&srv->in_pool[--srv->n_in_pool]);
  gust__free(srv->mem, srv->trusted);
  gust__free(srv->mem, srv);
}

/* ------------------------------------------------------------------ */
/* Connection controls                                                  */
/* ------------------------------------------------------------------ */

static gust__http_conn *live_conn(const gust_http_request *req) {
  gust__http_conn *c;
  if (req == NULL)
    return NULL;
  c = gust__http_request_conn(req);
  if (c == NULL || c->closing || c->dead || c->req != req)
    return NULL;
  return c;
}

int gust_http_request_set_body_timeout(gust_http_request *req, double seconds) {
  gust__http_conn *c = live_conn(req);
  if (c == NULL || c->msg_done)
    return GUST_ESTATE;
  if (seconds <= 0) {
    c->body_deadline = 0;
    return 0;
  }
  c->body_deadline = gust_loop_now(c->srv->loop) + seconds;
  lower_tick(c->srv, seconds);
  return 0;
}

int gust_http_request_set_max_body_size(gust_http_request *req,
                                        uint64_t max_body) {
  gust__http_conn *c = live_conn(req);
  if (c == NULL || c->msg_done)
    return GUST_ESTATE;
  gust_h1_set_max_body(c->h1, max_body);
  c->max_body = max_body;
  gust_zip_body_set_max_size(c->zip, max_body);
  return 0;
}

void gust_http_request_close(gust_http_request *req) {
  gust__http_conn *c = live_conn(req);
  if (c != NULL)
    conn_close(c);
}

int gust_http_request_connection_open(const gust_http_request *req) {
  return live_conn(req) != NULL;
}

void gust_http_request_set_close_callback(gust_http_request *req,
                                          gust_http_close_cb cb,
                                          void *user_data) {
  gust__http_conn *c = live_conn(req);
  if (cb == NULL && c == NULL && req != NULL) {
    /* clearing must work while the connection is closing too: the
     * callback's owner may be going away */
    c = gust__http_request_conn(req);
    if (c != NULL && c->req != req)
      c = NULL;
  }
  if (c == NULL)
    return;
  c->close_cb = cb;
  c->close_ud = user_data;
}

int gust_http_request_detach(gust_http_request *req, gust_iostream **stream,
                             gust_buf *rest) {
  gust__http_conn *c = live_conn(req);
  if (stream != NULL)
    *stream = NULL;
  if (c == NULL || !c->in_hr || c->detached || stream == NULL)
    return GUST_ESTATE;
  if (rest != NULL) {
    gust_slice r = gust_h1_unread(c->h1);
    if (r.len != 0 && gust_buf_append(rest, r.ptr, r.len) < 0)
      return GUST_ENOMEM;
  }
  gust__iostream_stop_stream(c->stream);
  gust__iostream_set_paused(c->stream, 0);
  gust_iostream_set_close_callback(c->stream, NULL, NULL);
  *stream = c->stream;
  c->stream = NULL;
  c->detached = 1;
  return 0;
}

/* ------------------------------------------------------------------ */
/* Responses                                                            */
/* ------------------------------------------------------------------ */

int gust_http_response_start(gust_http_request *req, int status,
                             const char *reason, const gust_headers *headers,
                             gust_future **out) {
  gust__http_conn *c;
  int rc;
  if (out != NULL)
    *out = NULL;
  if (req == NULL)
    return GUST_EINVAL;
  c = live_conn(req);
  if (c == NULL)
    return GUST_ECLOSED;
  if (c->resp_state != 0)
    return GUST_ESTATE;
  if (c->srv->shutting_down && status >= 200) {
    /* the last response of this connection */
    gust_headers h;
    gust_headers_init(&h, c->mem);
    rc = headers != NULL ? gust_headers_copy(&h, headers) : 0;
    if (rc == 0)
      rc = gust_headers_set_str(&h, "Connection", "close");
    if (rc == 0)
      rc = gust_h1_send_response(c->h1, status, reason, &h);
    gust_headers_free(&h);
  } else {
    rc = gust_h1_send_response(c->h1, status, reason, headers);
  }
  if (rc < 0)
    return rc;
  if (status >= 200 || status == 101)
    c->resp_state = 1;
  if (out != NULL || (status < 200 && !c->in_drive))
    return flush_out(c, out);
  return 0;
}

int gust_http_response_write(gust_http_request *req, const void *data,
                             size_t len, gust_future **out) {
  gust__http_conn *c;
  int rc;
  if (out != NULL)
    *out = NULL;
  c = live_conn(req);
  if (c == NULL)
    return GUST_ECLOSED;
  if (c->resp_state != 1)
    return GUST_ESTATE;
  rc = gust_h1_send_data(c->h1, data, len);
  if (rc == GUST_EHTTP_LENGTH) {
    gust_log(GUST_LOG_GENERAL, GUST_LOG_ERROR, "%s", gust_h1_last_error(c->h1));
    conn_close(c);
    return rc;
  }
  if (rc < 0)
    return rc;
  if (out != NULL || !c->in_drive)
    return flush_out(c, out);
  return 0;
}

int gust_http_response_finish(gust_http_request *req, gust_future **out) {
  gust__http_conn *c;
  int rc;
  if (out != NULL)
    *out = NULL;
  c = live_conn(req);
  if (c == NULL)
    return GUST_ECLOSED;
  if (c->resp_state != 1)
    return GUST_ESTATE;
  rc = gust_h1_send_end(c->h1);
  if (rc < 0 && rc != GUST_EHTTP_LENGTH)
    return rc;
  c->resp_state = 2;
  gust__http_request_set_finish_time(req, gust_loop_time(c->srv->loop));
  if (rc == GUST_EHTTP_LENGTH) {
    gust_log(GUST_LOG_GENERAL, GUST_LOG_ERROR, "%s", gust_h1_last_error(c->h1));
    if (out != NULL)
      flush_out(c, out);
    close_after_flush(c);
    return rc;
  }
  if (!c->msg_done && c->has_body) {
    /* the body is read and dropped, then the connection closes; a request
     * without a body ends with its head, so it keeps the connection */
    c->discard = 1;
  }
  if (out != NULL || !c->in_drive) {
    rc = flush_out(c, out);
    if (rc < 0)
      return rc;
  }
  if (c->msg_done) {
    request_done(c);
    if (!c->in_drive)
      schedule_drive(c);
  }
  return 0;
}

/* gust_http_response_start() for gust_http_respond(): the fields as an
 * array (no header multimap to build per response). */
static int start_fields(gust_http_request *req, int status, gust_h1_field *f,
                        size_t n) {
  gust__http_conn *c = live_conn(req);
  int rc;
  if (c == NULL)
    return GUST_ECLOSED;
  if (c->resp_state != 0)
    return GUST_ESTATE;
  if (c->srv->shutting_down && status >= 200) {
    /* the last response of this connection (f has room for one more) */
    f[n].name.ptr = (const uint8_t *)"Connection";
    f[n].name.len = 10;
    f[n].value.ptr = (const uint8_t *)"close";
    f[n].value.len = 5;
    n++;
  }
  rc = gust_h1_send_response_fields(c->h1, status, NULL, f, n);
  if (rc < 0)
    return rc;
  if (status >= 200 || status == 101)
    c->resp_state = 1;
  if (status < 200 && !c->in_drive)
    return flush_out(c, NULL);
  return 0;
}

int gust_http_respond(gust_http_request *req, int status,
                      const char *content_type, const void *body, size_t len) {
  gust_h1_field f[3];
  char num[24];
  size_t n = 0;
  int rc, nobody;
  const char *m;
  if (req == NULL)
    return GUST_EINVAL;
  m = gust_http_request_method(req);
  nobody = (status >= 100 && status < 200) || status == 204 || status == 304;
  if (content_type != NULL) {
    f[n].name.ptr = (const uint8_t *)"Content-Type";
    f[n].name.len = 12;
    f[n].value.ptr = (const uint8_t *)content_type;
    f[n].value.len = strlen(content_type);
    n++;
  }
  if (!nobody) {
    f[n].name.ptr = (const uint8_t *)"Content-Length";
    f[n].name.len = 14;
    f[n].value.ptr = (const uint8_t *)num;
    f[n].value.len = gust__u64_dec(num, len);
    n++;
  }
  rc = start_fields(req, status, f, n);
  if (rc < 0)
    return rc;
  if (!nobody && len != 0 && strcmp(m, "HEAD") != 0) {
    rc = gust_http_response_write(req, body, len, NULL);
    if (rc < 0)
      return rc;
  }
  if (status < 200 && status != 101)
    return 0;
  return gust_http_response_finish(req, NULL);
}

int gust_http_response_state(const gust_http_request *req) {
  gust__http_conn *c;
  if (req == NULL)
    return 0;
  c = gust__http_request_conn(req);
  if (c == NULL || c->req != req)
    return gust__http_request_resp_state(req);
  return c->resp_state;
}
