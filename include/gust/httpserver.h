/* gust HTTP server: Tornado's HTTPServer and HTTP1ServerConnection over
 * gust's IOStream, driving the proto/http1 state machine (the same one the
 * client and the WebSocket code use). Two ways to handle requests:
 *
 *   - a request callback (Tornado's `HTTPServer(callback)`): called once the
 *     whole body is read, with a request object whose body and arguments are
 *     complete;
 *   - a delegate (Tornado's HTTPServerConnectionDelegate /
 * HTTPMessageDelegate): start_request → headers_received → data_received* →
 * finish, or on_connection_close instead of finish; each step may hand back a
 *     future for flow control (the next read waits for it).
 *
 * Either way the response is written with gust_http_response_start(),
 * gust_http_response_write() and gust_http_response_finish() (or the
 * one-call gust_http_respond()).
 *
 * Threading: a server, its connections and its requests belong to one loop
 * and are used on that loop's thread. */
#ifndef GUST_HTTPSERVER_H
#define GUST_HTTPSERVER_H

#include <gust/base.h>
#include <gust/cookie.h>
#include <gust/future.h>
#include <gust/headers.h>
#include <gust/http1.h>
#include <gust/iostream.h>
#include <gust/loop.h>
#include <gust/tcp.h>
#include <gust/tls.h>

#ifdef __cplusplus
extern "C" {
#endif

/* An HTTP/1.1 server listening on one or more sockets (opaque). */
typedef struct gust_http_server gust_http_server;

/* One request and the means to answer it. Reference counted: the server
 * holds a reference while the request is in progress on its connection; a
 * handler that answers later (from a timer, another future, ...) takes its
 * own with gust_http_request_ref(). After the connection is gone the
 * accessors keep working and the response functions fail with
 * GUST_ECLOSED. */
typedef struct gust_http_request gust_http_request;

/* ------------------------------------------------------------------ */
/* Arguments and uploaded files                                         */
/* ------------------------------------------------------------------ */

/* A multimap of decoded arguments (names are compared exactly, values keep
 * their order of arrival). Owned by the request. */
typedef struct gust_http_args gust_http_args;

/* Number of values given for `name`. */
GUST_EXTERN size_t gust_http_args_count(const gust_http_args *args,
                                        const char *name);

/* Stores the `index`-th value of `name` in *value (a slice owned by the
 * request). Returns 0 or GUST_ENOTFOUND. */
GUST_EXTERN int gust_http_args_get(const gust_http_args *args, const char *name,
                                   size_t index, gust_slice *value);

/* As gust_http_args_get() for the last value (Tornado's get_argument). */
GUST_EXTERN int gust_http_args_get_last(const gust_http_args *args,
                                        const char *name, gust_slice *value);

/* Iterates over every (name, value) pair in arrival order: start with
 * *iter = 0. Returns 1 and fills name/value, or 0 at the end. */
GUST_EXTERN int gust_http_args_next(const gust_http_args *args, size_t *iter,
                                    gust_slice *name, gust_slice *value);

/* An uploaded file of a multipart/form-data body. Slices are owned by the
 * request. */
typedef struct gust_http_file {
  gust_slice name;         /* form field name */
  gust_slice filename;     /* as sent (Tornado's filename) */
  gust_slice content_type; /* "application/unknown" when not sent */
  gust_slice body;
} gust_http_file;

/* ------------------------------------------------------------------ */
/* The request                                                          */
/* ------------------------------------------------------------------ */

/* Takes a reference to the request and returns `req`, so that it can be
 * answered after the handler returns. */
GUST_EXTERN gust_http_request *gust_http_request_ref(gust_http_request *req);
/* Drops a reference; the last one frees the request. NULL is a no-op. */
GUST_EXTERN void gust_http_request_unref(gust_http_request *req);

/* Request line. Strings are NUL-terminated and owned by the request. */
GUST_EXTERN const char *gust_http_request_method(const gust_http_request *req);
/* The request-target as sent (Tornado's uri). */
GUST_EXTERN const char *gust_http_request_uri(const gust_http_request *req);
/* The target before '?' (not percent-decoded). */
GUST_EXTERN const char *gust_http_request_path(const gust_http_request *req);
/* The target after the first '?' ("" when none). */
GUST_EXTERN const char *gust_http_request_query(const gust_http_request *req);
/* "HTTP/1.1" or "HTTP/1.0". */
GUST_EXTERN const char *gust_http_request_version(const gust_http_request *req);
GUST_EXTERN const gust_headers *
gust_http_request_headers(const gust_http_request *req);
/* Trailer fields of a chunked request body (empty when none). */
GUST_EXTERN const gust_headers *
gust_http_request_trailers(const gust_http_request *req);

/* The client's address as seen by this server: the peer's numeric IP, or
 * with xheaders from a trusted peer the X-Real-Ip / last untrusted
 * X-Forwarded-For address (Tornado's remote_ip). */
GUST_EXTERN const char *
gust_http_request_remote_ip(const gust_http_request *req);
/* The socket peer address (never rewritten by xheaders). */
GUST_EXTERN const gust_addr *
gust_http_request_peer(const gust_http_request *req);
/* "http" or "https" (xheaders: X-Scheme / X-Forwarded-Proto when valid). */
GUST_EXTERN const char *
gust_http_request_protocol(const gust_http_request *req);
/* The Host header, else "127.0.0.1" (Tornado's host). */
GUST_EXTERN const char *gust_http_request_host(const gust_http_request *req);
/* host without the port, lowercased (Tornado's host_name). */
GUST_EXTERN const char *
gust_http_request_host_name(const gust_http_request *req);
/* Writes protocol + "://" + host + uri into `out`. Returns 0 or
 * GUST_ENOMEM. */
GUST_EXTERN int gust_http_request_full_url(const gust_http_request *req,
                                           gust_buf *out);
/* Loop time (gust_loop_time) when the request head was complete. */
GUST_EXTERN double gust_http_request_start_time(const gust_http_request *req);
/* Seconds from the start until the response finished (or until now while
 * it is in progress). */
GUST_EXTERN double gust_http_request_request_time(const gust_http_request *req);

/* The body read so far: with the request callback, the whole body; with a
 * delegate, empty (the delegate received the pieces). */
GUST_EXTERN gust_slice gust_http_request_body(const gust_http_request *req);

/* Decoded arguments, parsed on first use: query arguments; body arguments
 * (application/x-www-form-urlencoded or multipart/form-data bodies, as
 * Tornado's parse_body_arguments); both merged (query first). Stores the
 * map in *out (never NULL on success, possibly empty). Returns 0 or
 * GUST_ENOMEM. A malformed body is not an error here: as Tornado, it is
 * logged ("Invalid multipart/form-data: ...") and yields no body
 * arguments; gust_http_request_body_error() tells. */
GUST_EXTERN int gust_http_request_query_arguments(gust_http_request *req,
                                                  const gust_http_args **out);
GUST_EXTERN int gust_http_request_body_arguments(gust_http_request *req,
                                                 const gust_http_args **out);
GUST_EXTERN int gust_http_request_arguments(gust_http_request *req,
                                            const gust_http_args **out);
/* The code of the failed body parse (GUST_EMULTIPART, GUST_EBOUNDARY,
 * GUST_ESYNTAX, ...) or 0; *message (may be NULL) gets its text. */
GUST_EXTERN int gust_http_request_body_error(const gust_http_request *req,
                                             const char **message);
/* Uploaded files in arrival order: start with *iter = 0; returns 1 and a
 * borrowed file, or 0 at the end (or GUST_ENOMEM while parsing). */
GUST_EXTERN int gust_http_request_files_next(gust_http_request *req,
                                             size_t *iter,
                                             const gust_http_file **file);

/* Cookies of the Cookie header(s), parsed on first use as Tornado's
 * parse_cookie. Stores the borrowed collection in *out. Returns 0 or
 * GUST_ENOMEM. */
GUST_EXTERN int gust_http_request_cookies(gust_http_request *req,
                                          const gust_cookies **out);
/* The value of cookie `name` in *value. Returns 0, GUST_ENOTFOUND or
 * GUST_ENOMEM. */
GUST_EXTERN int gust_http_request_cookie(gust_http_request *req,
                                         const char *name, gust_slice *value);

/* The server the request arrived on. */
GUST_EXTERN gust_http_server *
gust_http_request_server(const gust_http_request *req);
GUST_EXTERN gust_loop *gust_http_request_loop(const gust_http_request *req);

/* Per-request user pointer (e.g. a web layer's handler). */
GUST_EXTERN void gust_http_request_set_user_data(gust_http_request *req,
                                                 void *user_data);
GUST_EXTERN void *gust_http_request_user_data(const gust_http_request *req);

/* ------------------------------------------------------------------ */
/* Connection controls (Tornado's HTTP1Connection methods)              */
/* ------------------------------------------------------------------ */

/* Sets the deadline for reading the rest of this request's body, in
 * seconds from now (<= 0: none). Expiry logs "Timeout reading body from
 * ADDR" and closes the connection without a response. Returns 0 or
 * GUST_ESTATE (the body was already read). */
GUST_EXTERN int gust_http_request_set_body_timeout(gust_http_request *req,
                                                   double seconds);

/* Sets the body size limit for this request (Tornado's
 * set_max_body_size): its Content-Length, its chunked total and, with
 * decompress_request, its decoded size. Call it before the body is read,
 * i.e. in headers_received. Returns 0 or GUST_ESTATE. */
GUST_EXTERN int gust_http_request_set_max_body_size(gust_http_request *req,
                                                    uint64_t max_body);

/* Closes the connection now (the response, if unfinished, is cut). */
GUST_EXTERN void gust_http_request_close(gust_http_request *req);

/* 1 while the connection is open. */
GUST_EXTERN int gust_http_request_connection_open(const gust_http_request *req);

/* Calls `cb(req, user_data)` once when the connection closes before the
 * response finished (NULL clears it). */
typedef void (*gust_http_close_cb)(gust_http_request *req, void *user_data);
GUST_EXTERN void gust_http_request_set_close_callback(gust_http_request *req,
                                                      gust_http_close_cb cb,
                                                      void *user_data);

/* Takes the connection away from HTTP (Tornado's detach, for WebSocket):
 * only valid in headers_received (delegate API). *stream receives the
 * stream with one reference owned by the caller; `rest` (may be NULL)
 * gets the bytes already read past the request head. The request then
 * gets neither finish nor on_connection_close. Returns 0, GUST_ESTATE or
 * GUST_ENOMEM. */
GUST_EXTERN int gust_http_request_detach(gust_http_request *req,
                                         gust_iostream **stream,
                                         gust_buf *rest);

/* ------------------------------------------------------------------ */
/* The response                                                         */
/* ------------------------------------------------------------------ */

/* Starts the response: status line `HTTP/1.1 status reason` (reason NULL =
 * standard phrase) and `headers` (NULL = none), framed as Tornado does
 * (chunked for an HTTP/1.1 request without Content-Length, else the
 * Content-Length is enforced). 1xx other than 101 are interim. The head is
 * held back and goes out with the first body write or the finish, in one
 * write. `out` (may be NULL) receives a future resolved when the bytes are
 * handed to the stream (failed with GUST_ECLOSED if it closed). Returns 0,
 * GUST_EINVAL (invalid header: "Illegal characters (CR or LF) in header",
 * Transfer-Encoding given, bad Content-Length, ...; nothing sent),
 * GUST_ESTATE (already started or finished), GUST_ECLOSED or GUST_ENOMEM.
 */
GUST_EXTERN int gust_http_response_start(gust_http_request *req, int status,
                                         const char *reason,
                                         const gust_headers *headers,
                                         gust_future **out);

/* Writes body bytes (chunked or counted against the Content-Length; empty
 * writes send nothing). `out` as above. Returns 0, GUST_ESTATE,
 * GUST_ECLOSED, GUST_ENOMEM, or GUST_EHTTP_LENGTH ("Tried to write more
 * data than Content-Length"): the connection is then closed. */
GUST_EXTERN int gust_http_response_write(gust_http_request *req,
                                         const void *data, size_t len,
                                         gust_future **out);

/* Ends the response. `out` (may be NULL) resolves once everything is
 * flushed. A short Content-Length closes the connection ("Tried to write N
 * bytes less than Content-Length", GUST_EHTTP_LENGTH returned). Returns 0,
 * GUST_ESTATE, GUST_ECLOSED, GUST_ENOMEM or GUST_EHTTP_LENGTH. */
GUST_EXTERN int gust_http_response_finish(gust_http_request *req,
                                          gust_future **out);

/* One call: head with Content-Type `content_type` (NULL = none) and
 * Content-Length, the body (not for HEAD, 1xx, 204 or 304) and the finish.
 * Returns as gust_http_response_start(). */
GUST_EXTERN int gust_http_respond(gust_http_request *req, int status,
                                  const char *content_type, const void *body,
                                  size_t len);

/* 0 before gust_http_response_start() succeeded, 1 after it, 2 once the
 * response finished. A request its connection let go of (closed, or done)
 * keeps the state it reached. */
GUST_EXTERN int gust_http_response_state(const gust_http_request *req);

/* ------------------------------------------------------------------ */
/* Delegates                                                            */
/* ------------------------------------------------------------------ */

/* A message delegate (Tornado's HTTPMessageDelegate). Every callback gets
 * the request and the `ctx` returned by start_request. A callback that
 * sets *wait to a future (its reference passes to the server) makes the
 * next read wait until the future resolves; a failed future closes the
 * connection. A callback returning a negative code logs "Uncaught
 * exception" and closes the connection without a response. Once
 * headers_received ran, exactly one of finish / on_connection_close
 * follows (on_connection_close also when the response finished before the
 * body was read), unless the request was detached. NULL callbacks are
 * skipped. */
typedef struct gust_http_delegate {
  int (*headers_received)(gust_http_request *req, void *ctx,
                          gust_future **wait);
  /* A piece of the body: 1..chunk_size bytes, decompressed when
   * decompress_request is on; valid only during the call. */
  int (*data_received)(gust_http_request *req, gust_slice chunk, void *ctx,
                       gust_future **wait);
  void (*finish)(gust_http_request *req, void *ctx);
  void (*on_connection_close)(gust_http_request *req, void *ctx);
} gust_http_delegate;

/* Called for each request whose head arrived (Tornado's start_request):
 * stores the delegate (borrowed, must outlive the request) and its `ctx`.
 * Returning a negative code closes the connection without a response. */
typedef int (*gust_http_start_request_fn)(gust_http_server *srv,
                                          gust_http_request *req,
                                          void *user_data,
                                          const gust_http_delegate **delegate,
                                          void **ctx);

/* The request callback: called once the whole body is read. The callback
 * answers now or later (take a reference to answer later). */
typedef void (*gust_http_request_cb)(gust_http_request *req, void *user_data);

/* ------------------------------------------------------------------ */
/* The server                                                           */
/* ------------------------------------------------------------------ */

/* Options (all zero = Tornado's defaults). */
typedef struct gust_http_server_opts {
  gust_tls_ctx *tls; /* server TLS context (borrowed; must outlive the
                        server), NULL = plain HTTP */
  int xheaders;      /* trust X-Real-Ip / X-Forwarded-For / X-Scheme /
                        X-Forwarded-Proto */
  const char *const *trusted_downstream; /* NULL-terminated list of proxy
                          IPs skipped in X-Forwarded-For (copied) */
  int decompress_request;                /* inflate gzip request bodies */
  int no_keep_alive;                     /* close after every response */
  double idle_connection_timeout;        /* seconds to wait for a request head,
                                            also between requests: 0 = 3600,
                                            < 0 = none */
  double body_timeout;                   /* seconds to read a body: 0 = none */
  size_t max_header_size;                /* 0 = 65536 (over → 431) */
  uint64_t max_body_size;                /* 0 = 104857600 (over → 413) */
  size_t chunk_size;                     /* 0 = 65536: largest data_received */
  const gust_iostream_opts *stream;      /* stream options, NULL = defaults */
  const gust_h1_config *h1; /* finer limits and leniency flags (copied;
                               NULL = defaults); the fields above override
                               its max_head, max_body and chunk_size */
  const char *protocol;     /* "http"/"https", NULL = from `tls` */
  int tornado_errors;       /* answer every protocol error with the bare
                               `HTTP/1.1 400 Bad Request` as Tornado */
} gust_http_server_opts;

/* Creates a server with a delegate factory (`start_request`) or, with
 * gust_http_server_new_cb(), a request callback. `opts` (NULL = defaults)
 * is copied. `mem` (NULL = default) must outlive the server. *out owns the
 * server (gust_http_server_free()). Returns 0, GUST_EINVAL or
 * GUST_ENOMEM. */
GUST_EXTERN int gust_http_server_new(gust_http_server **out, gust_loop *loop,
                                     const gust_http_server_opts *opts,
                                     gust_http_start_request_fn start_request,
                                     void *user_data, const gust_mem *mem);
GUST_EXTERN int gust_http_server_new_cb(gust_http_server **out, gust_loop *loop,
                                        const gust_http_server_opts *opts,
                                        gust_http_request_cb cb,
                                        void *user_data, const gust_mem *mem);

/* Listening, as gust_tcp_server_listen() / gust_tcp_server_add_sockets()
 * (use gust_tcp_bind_sockets() + gust_fork_processes() +
 * gust_http_server_add_sockets() for multi-process mode). */
GUST_EXTERN int gust_http_server_listen(gust_http_server *srv, const char *host,
                                        int port,
                                        const gust_tcp_listen_opts *lopts);
GUST_EXTERN int gust_http_server_add_sockets(gust_http_server *srv,
                                             const int *fds, size_t n);
/* Serves an already accepted stream (the server takes its reference):
 * for tests and for applications that accept connections themselves. */
GUST_EXTERN int gust_http_server_handle_stream(gust_http_server *srv,
                                               gust_iostream *stream,
                                               const gust_addr *peer);
/* The local port of the first listener, or GUST_ESTATE. */
GUST_EXTERN int gust_http_server_port(const gust_http_server *srv);
/* Open connections. */
GUST_EXTERN size_t
gust_http_server_connection_count(const gust_http_server *srv);

/* Stops accepting new connections (existing ones go on). */
GUST_EXTERN void gust_http_server_stop(gust_http_server *srv);

/* Graceful shutdown: stops accepting, closes idle connections now, lets
 * requests in progress finish (their responses carry Connection: close and
 * the connection closes after them), closes upgraded WebSocket
 * connections with 1001 "going away", and after `timeout` seconds (<= 0:
 * no limit) closes whatever is left. *out (may be NULL) receives a future
 * resolved once every connection is closed. Returns 0 or GUST_ENOMEM. */
GUST_EXTERN int gust_http_server_shutdown(gust_http_server *srv, double timeout,
                                          gust_future **out);

/* Closes every connection at once, upgraded WebSocket connections
 * included, and frees the server (delegates get on_connection_close). May be
 * called from the server's own callbacks (a handler that stops its server): the
 * server then stops listening at once and is freed when that callback returns.
 * NULL is a no-op. */
GUST_EXTERN void gust_http_server_free(gust_http_server *srv);

#ifdef __cplusplus
}
#endif

#endif /* GUST_HTTPSERVER_H */
