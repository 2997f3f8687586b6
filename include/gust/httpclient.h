/* gust HTTP client: Tornado's AsyncHTTPClient (HTTPRequest options,
 * redirects, decompression, streaming, body producers, 100-continue) over
 * gust's IOStream, driving the proto/http1 state machine in its client
 * role (the same one the server and the WebSocket code use), with what
 * Tornado never had: a keep-alive connection pool per scheme, host and
 * port.
 *
 *   gust_fetch_request r;
 *   gust_fetch_request_init(&r, "http://example.com/");
 *   gust_future *f;
 *   gust_http_client_fetch(client, &r, &f);
 *   gust_future_run(f, 0);
 *   const gust_fetch_response *resp = gust_fetch_response_of(f);
 *   ... gust_fetch_response_code(resp), gust_fetch_response_body(resp) ...
 *   gust_future_unref(f);
 *
 * Outcome. The future of a fetch always resolves with a response, never
 * fails: an HTTP answer of any status gives its code; a failure to get
 * one (name resolution, connect, TLS, a timeout, a malformed or truncated
 * response, a limit, a callback returning an error) gives code 599 and a
 * negative gust_fetch_response_error() with a message in Tornado's words
 * where it has some ("Timeout while connecting", "Timeout during request",
 * "Timeout in request queue", "Connection closed", "Stream closed"). The
 * only failures of the future itself are cancellation (gust_future_cancel()
 * on it aborts the request: its connection is closed) and GUST_ENOMEM
 * when even the 599 response cannot be made.
 *
 * A request that fails in any way never stalls the others: its slot is
 * given to the next queued request at once.
 *
 * Threading: a client, its requests and responses belong to one loop and
 * are used on that loop's thread. */
#ifndef GUST_HTTPCLIENT_H
#define GUST_HTTPCLIENT_H

#include <gust/base.h>
#include <gust/future.h>
#include <gust/headers.h>
#include <gust/iostream.h>
#include <gust/loop.h>
#include <gust/tcp.h>
#include <gust/tls.h>

#ifdef __cplusplus
extern "C" {
#endif

/* An HTTP client with a connection pool (Tornado's AsyncHTTPClient), and
 * the response to one fetch (HTTPResponse); both opaque. */
typedef struct gust_http_client gust_http_client;
typedef struct gust_fetch_response gust_fetch_response;

/* ------------------------------------------------------------------ */
/* Callbacks of a request                                               */
/* ------------------------------------------------------------------ */

/* Handed to a body producer: the way it sends the request body. */
typedef struct gust_fetch_body_writer gust_fetch_body_writer;

/* Sends `len` bytes (copied) of the request body. With `out` non-NULL,
 * *out gets a future (owned by the caller) resolved once the bytes were
 * handed to the kernel: wait for it before producing more (flow control).
 * Returns 0, GUST_ECLOSED (the request is over: stop producing),
 * GUST_EHTTP_LENGTH (more bytes than the Content-Length the request
 * declared), GUST_EBUFFERFULL (the stream's max_write_buffer_size) or
 * GUST_ENOMEM. */
GUST_EXTERN int gust_fetch_body_write(gust_fetch_body_writer *w,
                                      const void *data, size_t len,
                                      gust_future **out);

/* Tornado's body_producer: called once the request head is on its way
 * (after a 100 Continue with expect_100_continue). It writes the body with
 * gust_fetch_body_write() and either finishes inside the call (return 0
 * with *done left NULL) or stores in *done a future (the client takes that
 * reference) resolved once it has written everything; `w` stays valid
 * until then. Returning a negative code, or *done failing, aborts the
 * request (599 with that error). Without a Content-Length header the body
 * is sent chunked. */
typedef int (*gust_fetch_body_producer_fn)(gust_fetch_body_writer *w,
                                           void *user_data, gust_future **done);

/* Tornado's header_callback, called once per final response head (also
 * for each redirect response that is followed) with the response's code,
 * reason and headers available through the gust_fetch_response_*
 * accessors (no body yet). Returning a negative code aborts the request
 * (599 with that error). */
typedef int (*gust_fetch_header_fn)(const gust_fetch_response *resp,
                                    void *user_data);

/* Tornado's streaming_callback: receives the body (decompressed when
 * decompress_response applies) in pieces as they arrive, instead of it
 * being kept in the response. `data` is valid during the call. It may
 * store in *wait a future (the client takes that reference): nothing
 * more is read from the connection until it is done (flow control; a
 * failure aborts the request). Returning a negative code aborts the
 * request (599 with that error). Only the final response's body is
 * streamed: the bodies of followed redirects are discarded. */
typedef int (*gust_fetch_streaming_fn)(const void *data, size_t len,
                                       void *user_data, gust_future **wait);

/* ------------------------------------------------------------------ */
/* Requests (Tornado's HTTPRequest)                                     */
/* ------------------------------------------------------------------ */

/* One request (all zero except `url` = a GET with the defaults). */
typedef struct gust_fetch_request {
  const char *url;    /* http:// or https:// URL (required) */
  const char *method; /* "GET" */
  /* Request headers (NULL = none). Host, Content-Length for a fixed
   * body, Accept-Encoding (decompress_response), Authorization (auth),
   * User-Agent and Connection are added unless given. */
  const gust_headers *headers;
  /* The body: `body` non-NULL means there is one (body_len may be 0).
   * POST, PUT and PATCH need a body or a producer; other methods must not
   * have one unless allow_nonstandard_methods. POST without Content-Type
   * gets application/x-www-form-urlencoded. */
  const void *body;
  size_t body_len;
  gust_fetch_body_producer_fn body_producer; /* instead of `body` */
  double connect_timeout;                    /* 20 s; <= 0: none */
  double request_timeout;                    /* 20 s; <= 0: none */
  int follow_redirects;                      /* 1 */
  int max_redirects;                         /* 5 */
  int decompress_response;                   /* 1: sends Accept-Encoding: gzip
                                                and decodes gzip bodies */
  int validate_cert;                         /* 1 (https) */
  const char *ca_certs;      /* PEM file of trusted CAs; NULL = system store */
  const char *client_cert;   /* PEM certificate (chain) to present */
  const char *client_key;    /* its key; NULL = in client_cert's file */
  const char *auth_username; /* Basic authentication, with auth_password */
  const char *auth_password;
  const char *user_agent; /* NULL = "gust/<version>" */
  /* Sends If-Modified-Since with this time (seconds since the epoch) as
   * an HTTP-date; < 0 = none (the default). */
  double if_modified_since;
  const char *network_interface; /* numeric local address to connect from */
  int allow_ipv6;                /* 1: IPv6 addresses too; 0: IPv4 only */
  int allow_nonstandard_methods; /* 0 */
  /* Send the head with Expect: 100-continue and the body only after a 100
   * Continue; any other answer is the final response and the body is
   * never sent (the producer never called). */
  int expect_100_continue;
  /* With expect_100_continue: seconds to wait for the server's answer to
   * the head before sending the body anyway (for servers that ignore
   * Expect, as curl does after 1 s); 0 = wait for the answer (Tornado). */
  double expect_100_timeout;
  /* 1: the response keeps the head of the last request sent (request line
   * and fields as they went out), for logs and debugging:
   * gust_fetch_response_request_head(). */
  int keep_request_head;
  size_t max_header_size; /* response head limit: 0 = 65536 */
  uint64_t max_body_size; /* response body limit (decoded size when
                             decompressing): 0 = 104857600 */
  gust_fetch_header_fn header_callback;
  gust_fetch_streaming_fn streaming_callback;
  void *user_data; /* for body_producer, header_callback and
                      streaming_callback */
} gust_fetch_request;

/* Fills `r` with the defaults listed above for `url` (borrowed). Every
 * string and the headers are copied by gust_http_client_fetch(), so `r`
 * and what it points to may be freed once that call returns. */
GUST_EXTERN void gust_fetch_request_init(gust_fetch_request *r,
                                         const char *url);

/* ------------------------------------------------------------------ */
/* The client                                                           */
/* ------------------------------------------------------------------ */

/* Client options (all zero = defaults). */
typedef struct gust_http_client_opts {
  size_t max_clients;       /* requests on the network at once: 0 = 10;
                               more wait in a FIFO queue */
  size_t max_idle_per_host; /* idle connections kept per scheme, host and
                               port: 0 = max_clients (a saturated client
                               keeps all its connections) */
  double idle_timeout;      /* seconds an idle connection is kept: 0 = 60 */
  int no_keep_alive;        /* send Connection: close and never reuse
                               (Tornado's behaviour) */
  const gust_resolver *resolver;    /* NULL = gust_resolver_default() */
  const gust_iostream_opts *stream; /* NULL = defaults */
  /* TLS context for https requests that name no ca_certs, client_cert or
   * validate_cert = 0 (borrowed, must outlive the client); NULL = one the
   * client makes on first use (system CA store, verification on). */
  gust_tls_ctx *tls;
} gust_http_client_opts;

/* Creates a client. `opts` (NULL = defaults) is copied. `mem` (NULL =
 * default) must outlive the client. *out owns the client
 * (gust_http_client_free()); on error *out is NULL. Returns 0,
 * GUST_EINVAL or GUST_ENOMEM. */
GUST_EXTERN int gust_http_client_new(gust_http_client **out, gust_loop *loop,
                                     const gust_http_client_opts *opts,
                                     const gust_mem *mem);

/* Aborts every request (queued and running: their futures resolve with
 * 599 "Client closed"), closes every connection and frees the client.
 * NULL is a no-op. Run the loop afterwards so the closes complete. */
GUST_EXTERN void gust_http_client_free(gust_http_client *c);

/* Starts a request. On success *out is a new future (owned by the caller)
 * that resolves with a gust_fetch_response (see gust_fetch_response_of()).
 * Synchronous errors, with no future made: GUST_EINVAL with a message in
 * gust_http_client_last_error() — a URL that does not parse or is not
 * http/https, a body not allowed for the method (Tornado's "Body must
 * %sbe None for method %s (unless allow_nonstandard_methods is true)"),
 * both body and body_producer, a bad header name or value, a method that
 * is not a token — or GUST_ENOMEM. */
GUST_EXTERN int gust_http_client_fetch(gust_http_client *c,
                                       const gust_fetch_request *r,
                                       gust_future **out);

/* As gust_http_client_fetch() for a GET of `url` with the defaults. */
GUST_EXTERN int gust_http_client_fetch_url(gust_http_client *c, const char *url,
                                           gust_future **out);

/* The message of the last synchronous error of gust_http_client_fetch()
 * ("" if none); valid until the next call on the client. */
GUST_EXTERN const char *gust_http_client_last_error(const gust_http_client *c);

/* Requests started and not finished (queued included), requests waiting
 * for a slot, open connections (busy or idle) and idle pooled ones. */
typedef struct gust_http_client_stats {
  size_t active;
  size_t queued;
  size_t connections;
  size_t idle;
  uint64_t connects; /* connections opened since the client was made */
  uint64_t reuses;   /* requests sent on a reused connection */
} gust_http_client_stats;

/* Fills *st with the client's current counters. */
GUST_EXTERN void gust_http_client_stats_get(const gust_http_client *c,
                                            gust_http_client_stats *st);

/* Closes every idle pooled connection now. */
GUST_EXTERN void gust_http_client_close_idle(gust_http_client *c);

/* ------------------------------------------------------------------ */
/* Responses (Tornado's HTTPResponse)                                   */
/* ------------------------------------------------------------------ */

/* The response a fetch future resolved with (borrowed from the future,
 * valid while it lives), or NULL while it is pending or if it failed. */
GUST_EXTERN const gust_fetch_response *gust_fetch_response_of(gust_future *f);

/* Keeping a response beyond its future: add a reference and drop it
 * later. */
GUST_EXTERN gust_fetch_response *
gust_fetch_response_ref(const gust_fetch_response *r);
GUST_EXTERN void gust_fetch_response_unref(gust_fetch_response *r);

/* Status code, or 599 when no response was received. */
GUST_EXTERN int gust_fetch_response_code(const gust_fetch_response *r);
/* Reason phrase as sent (the standard one when empty; "Unknown" for 599). */
GUST_EXTERN const char *
gust_fetch_response_reason(const gust_fetch_response *r);
/* Response headers (empty for 599). When the body was decompressed,
 * Content-Encoding is removed and its value kept as
 * X-Consumed-Content-Encoding, as Tornado does. */
GUST_EXTERN const gust_headers *
gust_fetch_response_headers(const gust_fetch_response *r);
/* The body (empty when streamed or for 599). */
GUST_EXTERN gust_slice gust_fetch_response_body(const gust_fetch_response *r);
/* The URL of the final request after redirects. */
GUST_EXTERN const char *
gust_fetch_response_effective_url(const gust_fetch_response *r);
/* The URL that was asked for. */
GUST_EXTERN const char *
gust_fetch_response_request_url(const gust_fetch_response *r);
/* 0, or the negative GUST_E* code of the failure (599, or an error that
 * cut a response short: then the code is 599 too). Timeouts are
 * GUST_ETIMEDOUT, closes GUST_ECLOSED, callback errors the callback's
 * code, protocol errors the parser's GUST_EHTTP_* code. */
GUST_EXTERN int gust_fetch_response_error(const gust_fetch_response *r);
/* The failure's message, or NULL when there was none. */
GUST_EXTERN const char *
gust_fetch_response_error_message(const gust_fetch_response *r);

/* With keep_request_head: the bytes of the head of the last request sent
 * (the final one after redirects; it is also there when the header
 * callback runs), else an empty slice. Valid while the response lives. */
GUST_EXTERN gust_slice
gust_fetch_response_request_head(const gust_fetch_response *r);

/* Timings in seconds on the loop's clock (Tornado's time_info): time in
 * the queue, to get a connection (resolution + connect + TLS; 0 when
 * reused), until the first byte of the final response, and in all. */
typedef struct gust_fetch_timings {
  double start; /* gust_loop_time() when fetch was called */
  double queue;
  double connect;
  double starttransfer;
  double total;
  int redirects; /* redirects followed */
  int reused;    /* the final request went on a reused connection */
} gust_fetch_timings;

/* Fills *t with the timings of the response's fetch. */
GUST_EXTERN void gust_fetch_response_timings(const gust_fetch_response *r,
                                             gust_fetch_timings *t);

#ifdef __cplusplus
}
#endif

#endif /* GUST_HTTPCLIENT_H */
