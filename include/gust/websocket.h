/* gust WebSocket connections over the network: Tornado's WebSocketHandler
 * (server side, upgraded from a request of the HTTP server) and
 * websocket_connect (client side, through the HTTP client), both driving
 * the proto/ws state machine of <gust/ws.h> over an IOStream.
 *
 * A connection (gust_websocket) is the same object in both roles:
 *
 *   - messages arrive through the handler's on_message (a callback may hand
 *     back a future: the next message is not read until it resolves), or,
 *     without on_message, through gust_websocket_read_message() (at most one
 *     unread message is buffered; reading stops until it is taken);
 *   - gust_websocket_write_message() queues a whole message and may hand
 *     back a future resolved once it reached the kernel (flow control);
 *   - gust_websocket_close() starts the closing handshake and waits up to
 *     close_timeout (5 s) for the peer's close before dropping TCP;
 *   - on_close runs exactly once, when the connection is over (closing
 *     handshake done, closed locally, protocol failure or TCP lost), with
 *     gust_websocket_close_code() / _reason() telling what the peer sent.
 *
 * Protocol errors are answered with a close frame carrying the right code
 * (1002, 1007, 1009, 1008), never by dropping TCP (websocket-rules.md).
 *
 * Lifetime: a connection holds a reference on itself while its stream is
 * open and drops it after on_close; gust_websocket_ref() keeps it longer.
 * Dropping references never closes an open connection: call
 * gust_websocket_close() or gust_websocket_abort().
 *
 * Threading: a connection belongs to the loop of its stream. */
#ifndef GUST_WEBSOCKET_H
#define GUST_WEBSOCKET_H

#include <gust/base.h>
#include <gust/future.h>
#include <gust/headers.h>
#include <gust/httpclient.h>
#include <gust/httpserver.h>
#include <gust/iostream.h>
#include <gust/loop.h>
#include <gust/ws.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One WebSocket connection, server or client side (Tornado's
 * WebSocketHandler and WebSocketClientConnection; opaque, reference
 * counted). */
typedef struct gust_websocket gust_websocket;

/* A received message. `data` is valid during the callback that gets it
 * (on_message), or while the future of gust_websocket_read_message()
 * lives. Text messages are valid UTF-8 (checked as they arrive). */
typedef struct gust_websocket_message {
  int binary; /* 1 binary, 0 text */
  gust_slice data;
} gust_websocket_message;

/* What the application does with a connection. Every callback gets the
 * `user_data` given with the handler; NULL callbacks are skipped. */
typedef struct gust_websocket_handler {
  /* Server only: the Origin check (Tornado's check_origin), called when
   * the request has an Origin (or Sec-WebSocket-Origin) header. Return 1 to
   * allow, 0 to refuse with 403 "Cross origin websockets not allowed".
   * NULL = gust_ws_check_origin(): the origin's host[:port] must equal the
   * Host header. */
  int (*check_origin)(gust_http_request *req, gust_slice origin,
                      void *user_data);
  /* Server only: Tornado's select_subprotocol, called exactly once per
   * accepted upgrade with the subprotocols the client offered (n may be
   * 0), in its order. Return the index of the chosen one, or -1 (no
   * Sec-WebSocket-Protocol in the answer). An index out of range counts as
   * -1: gust never answers with a value that was not offered. */
  int (*select_subprotocol)(gust_http_request *req, const gust_slice *offered,
                            size_t n, void *user_data);
  /* The connection is open (server: after the 101 went out; client:
   * before the connect future resolves). A negative return aborts the
   * connection (on_close follows). Setting *wait to a future (its reference
   * passes to the connection) holds back the first message until it
   * resolves. */
  int (*open)(gust_websocket *ws, void *user_data, gust_future **wait);
  /* A whole message. Setting *wait to a future holds back the next
   * message until the future resolves (a failed future closes with 1011).
   * A negative return closes the connection with 1011 "Internal error".
   * NULL = messages go to gust_websocket_read_message(). */
  int (*on_message)(gust_websocket *ws, const gust_websocket_message *msg,
                    void *user_data, gust_future **wait);
  /* A ping arrived (the pong with the same payload is already queued). */
  void (*on_ping)(gust_websocket *ws, gust_slice data, void *user_data);
  /* A pong arrived. */
  void (*on_pong)(gust_websocket *ws, gust_slice data, void *user_data);
  /* The connection is over: runs exactly once, on a loop callback, never
   * from inside a call of the application on this connection. */
  void (*on_close)(gust_websocket *ws, void *user_data);
} gust_websocket_handler;

/* Connection options, both roles (all zero = defaults). */
typedef struct gust_websocket_opts {
  uint64_t max_message_size; /* 0 = 10485760; over → close 1009. A
                                compressed message is held to it twice:
                                as received, then inflated (so one that
                                deflate made larger than the limit is
                                refused even if it inflates to less) */
  uint32_t max_fragments;    /* frames per message; 0 = 131072 (→ 1008) */
  double ping_interval;      /* seconds between keepalive pings; 0 = off */
  double ping_timeout;       /* seconds to wait for a pong: 0 = the
                                interval; clamped to the interval; < 0 =
                                no check. No pong → close 1000 "ping timed
                                out" (Tornado 6.5) */
  double close_timeout;      /* seconds to wait for the peer's close after
                                ours: 0 = 5; then TCP is dropped */
  size_t write_high_water;   /* reading pauses while more than this many
                                bytes wait to be sent: 0 = 1 MiB */
  /* permessage-deflate (RFC 7692). Server: accept a client's offer;
   * client: make one. Off by default (as Tornado). */
  int compression;
  int compression_level;        /* 1..9; 0 = 6 */
  int compression_mem_level;    /* 1..9; 0 = 8 (window 12 with memLevel 5
                                   takes about 47 KiB instead of 300) */
  int max_window_bits;          /* own compressor's window, 9..15; 0 = 15 */
  int peer_max_window_bits;     /* window asked of the peer's compressor,
                                   9..15; 0 = no request */
  int no_context_takeover;      /* reset own compressor after each message */
  int peer_no_context_takeover; /* ask the peer to reset its compressor */
  size_t compression_min_size;  /* send smaller messages uncompressed */
} gust_websocket_opts;

/* ------------------------------------------------------------------ */
/* Server side                                                          */
/* ------------------------------------------------------------------ */

/* Upgrades `req` to a WebSocket connection (Tornado's WebSocketHandler.get).
 * Call it from an HTTP delegate's headers_received (the only place where
 * the connection can leave HTTP). The request is checked in Tornado's order
 * (tornado-semantics.md §14): on refusal the answer (405, 400, 403 or 426,
 * with Tornado's body) is sent as an ordinary response and
 * GUST_EWS_HANDSHAKE returned; the request then goes on as plain HTTP
 * (return 0 from headers_received). On success the 101 is sent, the
 * connection leaves the HTTP server, `open` runs and 0 is returned with
 * *out (may be NULL) set to the connection (borrowed: it lives while open).
 * `h` must outlive the connection; `opts` (NULL = defaults) is copied.
 * Other returns: GUST_EINVAL, GUST_ESTATE (not in headers_received, or a
 * response was started), GUST_ENOMEM, GUST_ECLOSED. */
GUST_EXTERN int gust_websocket_upgrade(gust_http_request *req,
                                       const gust_websocket_handler *h,
                                       const gust_websocket_opts *opts,
                                       void *user_data, gust_websocket **out);

/* A handler with its options and user data, for
 * gust_websocket_start_request(). */
typedef struct gust_websocket_endpoint {
  const gust_websocket_handler *handler;
  const gust_websocket_opts *opts; /* NULL = defaults */
  void *user_data;
} gust_websocket_endpoint;

/* A ready-made gust_http_start_request_fn for a server whose every request
 * is a WebSocket upgrade: pass it to gust_http_server_new() with a
 * `const gust_websocket_endpoint *` as user data (it must outlive the
 * server). Requests that are not acceptable upgrades get the answer
 * gust_websocket_upgrade() gives them. */
GUST_EXTERN int
gust_websocket_start_request(gust_http_server *srv, gust_http_request *req,
                             void *user_data,
                             const gust_http_delegate **delegate, void **ctx);

/* ------------------------------------------------------------------ */
/* Client side                                                          */
/* ------------------------------------------------------------------ */

/* Options of gust_websocket_connect() (all zero = defaults). */
typedef struct gust_websocket_connect_opts {
  gust_websocket_opts ws;
  const gust_websocket_handler *handler; /* NULL = read with
                                            gust_websocket_read_message() */
  void *user_data;
  const char *const *subprotocols; /* NULL-terminated offer, in order */
  gust_http_client *client;        /* the client to connect through (its TLS
                                      context, resolver and limits); NULL = a
                                      private one made for this connection */
} gust_websocket_connect_opts;

/* Opens a client connection (Tornado's websocket_connect). `req` names a
 * ws:// or wss:// URL (http:// and https:// are taken too) and everything
 * the HTTP client knows about a request: headers (an Origin, cookies),
 * connect_timeout / request_timeout (the handshake), TLS verification and
 * certificates, credentials, user agent, network interface. Redirects are
 * never followed and the body is ignored. `opts` may be NULL. *out gets a
 * future resolved once the handshake succeeded: take the connection with
 * gust_websocket_connect_take(). It fails with the HTTP client's error
 * (e.g. GUST_ECONNREFUSED, GUST_ETIMEDOUT, TLS errors), or with
 * GUST_EWS_HANDSHAKE: "HTTP 403: Forbidden" for an answer other than 101
 * (gust_websocket_connect_response() has it), "Non-websocket response" or a
 * more precise reason for a 101 that does not complete the handshake, or
 * GUST_EWS_EXTENSION for an unacceptable extension answer. Returns 0,
 * GUST_EINVAL (bad URL or option) or GUST_ENOMEM. */
GUST_EXTERN int gust_websocket_connect(gust_loop *loop,
                                       const gust_fetch_request *req,
                                       const gust_websocket_connect_opts *opts,
                                       const gust_mem *mem, gust_future **out);

/* As gust_websocket_connect() with only a URL. */
GUST_EXTERN int
gust_websocket_connect_url(gust_loop *loop, const char *url,
                           const gust_websocket_connect_opts *opts,
                           const gust_mem *mem, gust_future **out);

/* Takes the connection out of a resolved connect future: the caller gets
 * one reference (release it with gust_websocket_unref()). Returns NULL if
 * the future failed, is pending, or was taken from already. */
GUST_EXTERN gust_websocket *gust_websocket_connect_take(gust_future *f);

/* The HTTP response of a connect attempt (101, or the refusal such as
 * 403), borrowed from the future; NULL when no response arrived. */
GUST_EXTERN const gust_fetch_response *
gust_websocket_connect_response(const gust_future *f);

/* ------------------------------------------------------------------ */
/* Connections (both roles)                                             */
/* ------------------------------------------------------------------ */

/* Takes a reference to the connection and returns `ws`. */
GUST_EXTERN gust_websocket *gust_websocket_ref(gust_websocket *ws);
/* Drops a reference; NULL is a no-op. See "Lifetime" above. */
GUST_EXTERN void gust_websocket_unref(gust_websocket *ws);

/* Queues a whole message (binary non-zero: binary; else text, which must be
 * valid UTF-8). With `out` non-NULL, *out gets a future resolved once the
 * message (and everything before it) reached the kernel, failed with
 * GUST_ECLOSED if the connection closes first. Returns 0, GUST_ECLOSED
 * (the closing handshake started: Tornado's WebSocketClosedError),
 * GUST_EINVAL (text not valid UTF-8; NULL data with a length),
 * GUST_EBUFFERFULL (the stream's max_write_buffer_size) or GUST_ENOMEM. */
GUST_EXTERN int gust_websocket_write_message(gust_websocket *ws,
                                             const void *data, size_t len,
                                             int binary, gust_future **out);

/* Sends a ping with up to 125 bytes of payload. Returns 0, GUST_EINVAL
 * (too long), GUST_ECLOSED or GUST_ENOMEM. */
GUST_EXTERN int gust_websocket_ping(gust_websocket *ws, const void *data,
                                    size_t len);

/* Starts the closing handshake with `code` (0 = no code; a reason without
 * a code is sent with 1000) and a UTF-8 `reason` of at most 123 bytes (may
 * be NULL), then waits up to close_timeout for the peer's close before
 * dropping TCP. Nothing is delivered after this call (the connection
 * reads on only to see the peer's close). Returns 0
 * (also when the connection is already closing), GUST_EINVAL (a code that
 * may not be sent, a reason too long or not UTF-8) or GUST_ENOMEM. */
GUST_EXTERN int gust_websocket_close(gust_websocket *ws, unsigned code,
                                     const char *reason);

/* Drops the connection at once, without a closing handshake (on_close
 * follows, with code 1006). */
GUST_EXTERN void gust_websocket_abort(gust_websocket *ws);

/* Reads the next message (only on a connection without on_message): *out
 * gets a future resolved with a gust_websocket_message * owned by the
 * future, or with NULL once the connection is closed (Tornado's
 * read_message). Returns 0, GUST_EBUSY (a read is pending), GUST_ESTATE
 * (the handler has on_message) or GUST_ENOMEM. */
GUST_EXTERN int gust_websocket_read_message(gust_websocket *ws,
                                            gust_future **out);

/* Connection states. */
typedef enum gust_websocket_state {
  GUST_WEBSOCKET_OPEN = 0,    /* messages flow both ways */
  GUST_WEBSOCKET_CLOSING = 1, /* a close was sent or received */
  GUST_WEBSOCKET_CLOSED = 2   /* TCP is closed (on_close ran or is due) */
} gust_websocket_state;
GUST_EXTERN gust_websocket_state
gust_websocket_get_state(const gust_websocket *ws);

/* The peer's close code: its code, 1005 for a close frame without one,
 * 1006 when the connection ended without the peer's close frame, 0 while
 * no close frame arrived. */
GUST_EXTERN unsigned gust_websocket_close_code(const gust_websocket *ws);
/* The peer's close reason (empty when none). */
GUST_EXTERN gust_slice gust_websocket_close_reason(const gust_websocket *ws);

/* The reason the connection failed, if it did: the protocol error gust
 * answered with a close frame (GUST_EWS_* with its message, e.g. "invalid
 * UTF-8 in text message"), a close timeout (GUST_ETIMEDOUT) or the
 * stream's error; 0 and NULL otherwise. */
GUST_EXTERN int gust_websocket_error(const gust_websocket *ws,
                                     const char **message);

/* The agreed subprotocol, or NULL. */
GUST_EXTERN const char *
gust_websocket_selected_subprotocol(const gust_websocket *ws);

/* 1 if permessage-deflate was agreed, 0 otherwise. */
GUST_EXTERN int gust_websocket_compressed(const gust_websocket *ws);

/* 1 for a server-side connection, 0 for a client. */
GUST_EXTERN int gust_websocket_is_server(const gust_websocket *ws);

/* Server side: the upgrade request (headers, path, cookies, remote IP),
 * valid for the connection's lifetime; NULL for a client. */
GUST_EXTERN gust_http_request *gust_websocket_request(const gust_websocket *ws);

/* Client side: the 101 response (its headers), NULL for a server. */
GUST_EXTERN const gust_fetch_response *
gust_websocket_response(const gust_websocket *ws);

/* Turns Nagle's algorithm off (on non-zero) or on. Returns 0 or an error
 * of gust_tcp_nodelay() (GUST_ECLOSED once closed). */
GUST_EXTERN int gust_websocket_set_nodelay(gust_websocket *ws, int on);

/* Per-connection user pointer (starts as the handler's user_data). */
GUST_EXTERN void gust_websocket_set_user_data(gust_websocket *ws,
                                              void *user_data);
GUST_EXTERN void *gust_websocket_user_data(const gust_websocket *ws);

/* The loop the connection runs on (borrowed). */
GUST_EXTERN gust_loop *gust_websocket_loop(const gust_websocket *ws);

/* Counters of one connection. */
typedef struct gust_websocket_stats {
  uint64_t messages_in, messages_out;
  uint64_t bytes_in, bytes_out; /* on the wire, frame headers included */
} gust_websocket_stats;
GUST_EXTERN void gust_websocket_stats_get(const gust_websocket *ws,
                                          gust_websocket_stats *out);

#ifdef __cplusplus
}
#endif

#endif /* GUST_WEBSOCKET_H */
