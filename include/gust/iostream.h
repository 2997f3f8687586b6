/* gust IOStream: a buffered byte stream over a loop TCP handle, optionally
 * through a TLS engine, with Tornado's IOStream operations (read_until,
 * read_until_regex, read_bytes, read_into, read_until_close, write, close
 * callback, start_tls) and limits (max_buffer_size, max_write_buffer_size).
 *
 * Threading: a stream belongs to the loop of its TCP handle and every
 * function here must be called on that loop's thread.
 *
 * Operations return gust_future objects (<gust/future.h>): the caller owns
 * the one reference handed out in *out and releases it with
 * gust_future_unref(). Done callbacks run on a later loop iteration.
 *
 * Results. A byte read (read_until, read_until_regex, read_bytes,
 * read_until_close) resolves with a gust_buf * owned by the future:
 * gust_iostream_result() gives a view of its bytes, valid while the future
 * lives, and gust_iostream_result_len() their number. To keep the bytes
 * without copying, take them with gust_buf_detach() on
 * (gust_buf *)gust_future_result(f) (release the block with the buffer's
 * allocator; the future is left holding an empty buffer). read_into
 * resolves with the same kind of value holding no bytes (they are in the
 * caller's buffer); gust_iostream_result_len() gives their number.
 *
 * Errors. Synchronous failures are negative GUST_E* codes returned by the
 * call (no future is created then); gust_iostream_call_error() names the
 * reason with Tornado's message. A pending read or write whose stream
 * closes fails with GUST_ECLOSED ("Stream is closed", Tornado's
 * StreamClosedError); the error that closed the stream, if any, is kept by
 * the stream (gust_iostream_error()).
 *
 * Back-pressure: nothing is read from the socket unless a read is pending
 * and the buffered bytes do not satisfy it (or a TLS handshake needs
 * input), so a slow reader holds at most about one read chunk beyond what
 * its pending read asks for.
 *
 * Lifetime (reference counting): gust_iostream_new() and
 * gust_iostream_new_tls() hand the caller one reference; gust_iostream_ref()
 * adds one, gust_iostream_unref() drops one. Dropping the last reference
 * closes the stream if it is still open. The memory is released once no
 * reference is left and the TCP handle has finished closing (a later loop
 * iteration); futures never refer to the stream, except the one of
 * gust_iostream_start_tls(), whose result is a reference to the new
 * stream. Run the loop until closes have completed before freeing it. */
#ifndef GUST_IOSTREAM_H
#define GUST_IOSTREAM_H

#include <gust/base.h>
#include <gust/future.h>
#include <gust/loop.h>
#include <gust/tls.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A buffered byte stream over a socket or TLS session (Tornado's
 * IOStream; opaque, reference counted). */
typedef struct gust_iostream gust_iostream;

/* Stream options (all zero = defaults). */
typedef struct gust_iostream_opts {
  size_t max_buffer_size;       /* 0 = 100 MiB (Tornado's 104857600) */
  size_t max_write_buffer_size; /* 0 = unlimited */
  size_t read_chunk_size;       /* 0 = 64 KiB */
} gust_iostream_opts;

/* Called once, on a later loop iteration, after the stream closed (by
 * gust_iostream_close(), end of input, an error or a limit). `s` is valid
 * during the call even if no reference is left; gust_iostream_error() tells
 * why it closed. */
typedef void (*gust_iostream_close_cb)(gust_iostream *s, void *user_data);

/* Receives the bytes of a streaming gust_iostream_read_until_close() as
 * they arrive. `data` is valid only during the call. The callback may call
 * any function on `s`, including gust_iostream_close(). */
typedef void (*gust_iostream_data_cb)(gust_iostream *s, gust_slice data,
                                      void *user_data);

/* ------------------------------------------------------------------ */
/* Creation, lifetime, closing                                          */
/* ------------------------------------------------------------------ */

/* Creates a plain stream over the connected `tcp` (from gust_tcp_listen()'s
 * accept callback or a finished gust_tcp_connect()). On success the stream
 * takes ownership of `tcp` (it uses the handle's user-data pointer and
 * closes the handle when the stream closes) and *out holds the caller's
 * reference; on failure the caller still owns `tcp`. `opts` may be NULL.
 * `mem` (NULL = default allocator) is used for every allocation of the
 * stream and its futures and must outlive them. Returns 0, GUST_EINVAL, or
 * GUST_ENOMEM. */
GUST_EXTERN int gust_iostream_new(gust_iostream **out, gust_tcp *tcp,
                                  const gust_iostream_opts *opts,
                                  const gust_mem *mem);

/* As gust_iostream_new(), with a TLS engine created from `ctx`: a server
 * role context gives the server side; a client role context gives the
 * client side, with `server_hostname` (copied) as the name the
 * certificate must match and the SNI to send (NULL only for a server
 * context, or a client context that does not verify). The handshake starts
 * at once; gust_iostream_wait_for_handshake() gives a future for its end.
 * Reads and writes may be issued before it completes: writes are held and
 * sent once it completes. `ctx` must outlive the stream. Returns 0,
 * GUST_EINVAL, GUST_ENOMEM, or an error of gust_tls_new() (GUST_ETLS_CONFIG,
 * GUST_ECRYPTO); on failure the caller still owns `tcp`. */
GUST_EXTERN int gust_iostream_new_tls(gust_iostream **out, gust_tcp *tcp,
                                      gust_tls_ctx *ctx,
                                      const char *server_hostname,
                                      const gust_iostream_opts *opts,
                                      const gust_mem *mem);

/* Adds a reference; returns `s`. */
GUST_EXTERN gust_iostream *gust_iostream_ref(gust_iostream *s);

/* Drops a reference. The last one closes the stream if it is open; its
 * memory is released once the TCP handle has closed. NULL is a no-op. */
GUST_EXTERN void gust_iostream_unref(gust_iostream *s);

/* Closes the stream (idempotent). The pending read fails with GUST_ECLOSED
 * (a pending gust_iostream_read_until_close() instead resolves with the
 * bytes buffered so far), pending write futures and a pending handshake
 * future fail with GUST_ECLOSED, unsent data is dropped, the TCP handle is
 * closed, and the close callback runs on a later loop iteration. Bytes
 * already buffered stay readable: a read that they satisfy still succeeds
 * after the close. No TLS close_notify is sent (as Tornado). */
GUST_EXTERN void gust_iostream_close(gust_iostream *s);

/* Returns 1 once the stream is closed (also after gust_iostream_start_tls()
 * handed its connection to a new stream), 0 otherwise. */
GUST_EXTERN int gust_iostream_closed(const gust_iostream *s);

/* Sets the callback run once after the stream closes (NULL removes it). If
 * the stream is already closed and its close callback has not run yet, it
 * will be this one. */
GUST_EXTERN void gust_iostream_set_close_callback(gust_iostream *s,
                                                  gust_iostream_close_cb cb,
                                                  void *user_data);

/* The error that closed the stream (Tornado's IOStream.error): 0 while open
 * and after a close by gust_iostream_close() or a clean end of input;
 * otherwise e.g. GUST_ECONNRESET, GUST_ETIMEDOUT, GUST_ELIMIT (an
 * unsatisfiable read_until), GUST_EBUFFERFULL (max_buffer_size), a
 * GUST_ETLS_* code, GUST_ENOMEM. Connection resets and timeouts are not
 * logged; other read and write errors are logged as Tornado does. */
GUST_EXTERN int gust_iostream_error(const gust_iostream *s);

/* The message of gust_iostream_error() (e.g. "Reached maximum read buffer
 * size"), or NULL when it is 0. Valid while the stream lives. */
GUST_EXTERN const char *gust_iostream_error_message(const gust_iostream *s);

/* The message of the last call on `s` that failed synchronously (e.g.
 * "Reached maximum write buffer size", "Already reading", "IOStream is not
 * idle; cannot convert to SSL"), or "" if none did. A static string. */
GUST_EXTERN const char *gust_iostream_call_error(const gust_iostream *s);

/* ------------------------------------------------------------------ */
/* Reading (one read may be pending at a time)                          */
/* ------------------------------------------------------------------ */

/* Each read function below returns 0 and a new future in *out, or fails
 * synchronously (then *out is NULL) with: GUST_EINVAL (bad arguments),
 * GUST_EBUSY ("Already reading": a read is pending), GUST_ECLOSED (the
 * stream is closed and the buffered bytes do not satisfy the read) or
 * GUST_ENOMEM. The future fails with GUST_ECLOSED if the stream closes
 * first. A read satisfied by bytes already buffered is done at once. */

/* Reads up to and including the first occurrence of `delim` (`dlen` > 0
 * bytes, copied). With `max_bytes` > 0, once more than `max_bytes` bytes
 * are buffered without the delimiter ending within the first `max_bytes`
 * (even if it arrives right after the limit in the same packet), the read
 * is unsatisfiable: "Unsatisfiable read, closing connection: delimiter %r
 * not found within %d bytes" is logged (category general, level info), the
 * stream closes with GUST_ELIMIT and the future fails with GUST_ECLOSED;
 * this is never a synchronous error. `max_bytes` 0 = no limit (the stream's
 * max_buffer_size still applies). */
GUST_EXTERN int gust_iostream_read_until(gust_iostream *s, const void *delim,
                                         size_t dlen, size_t max_bytes,
                                         gust_future **out);

/* Reads up to the end of the first match of the PCRE2 pattern `pattern`
 * (`plen` bytes, compiled at the call with default options; inline options
 * such as (?i) may be used). `max_bytes` as gust_iostream_read_until(),
 * where the delimiter is the end of the match. Returns GUST_EINVAL
 * synchronously when the pattern does not compile. */
GUST_EXTERN int gust_iostream_read_until_regex(gust_iostream *s,
                                               const char *pattern, size_t plen,
                                               size_t max_bytes,
                                               gust_future **out);

/* Reads exactly `n` bytes; with `partial` non-zero, resolves as soon as
 * 1 .. n bytes are available. `n` = 0 resolves at once with no bytes. */
GUST_EXTERN int gust_iostream_read_bytes(gust_iostream *s, size_t n,
                                         int partial, gust_future **out);

/* Reads into the caller's buffer `buf` of `len` bytes: fills it entirely,
 * or with `partial` non-zero resolves as soon as 1 .. len bytes were
 * stored. `buf` must stay valid until the future is done (or the stream is
 * closed); gust_iostream_result_len() gives the count stored. */
GUST_EXTERN int gust_iostream_read_into(gust_iostream *s, void *buf, size_t len,
                                        int partial, gust_future **out);

/* Reads until the stream closes; the future resolves with every byte read
 * (a close by an error resolves it too: look at gust_iostream_error()).
 * With `cb` non-NULL the bytes are handed to `cb` as they arrive instead
 * and the future resolves with no bytes. On a stream already closed it
 * resolves at once with the buffered bytes. */
GUST_EXTERN int gust_iostream_read_until_close(gust_iostream *s,
                                               gust_iostream_data_cb cb,
                                               void *user_data,
                                               gust_future **out);

/* The bytes of a successful byte read (a view valid while `f` lives), or an
 * empty slice while `f` is pending or after a failure. */
GUST_EXTERN gust_slice gust_iostream_result(const gust_future *f);

/* The number of bytes a successful read delivered (for read_into, the
 * count stored in the caller's buffer), or 0. */
GUST_EXTERN size_t gust_iostream_result_len(const gust_future *f);

/* Returns 1 while a read is pending, 0 otherwise. */
GUST_EXTERN int gust_iostream_reading(const gust_iostream *s);

/* Bytes read from the connection and not yet handed to a read. */
GUST_EXTERN size_t gust_iostream_read_buffer_size(const gust_iostream *s);

/* ------------------------------------------------------------------ */
/* Writing                                                              */
/* ------------------------------------------------------------------ */

/* Queues `len` bytes (copied) for sending. With `out` non-NULL, *out gets
 * a future that resolves (with NULL) once these bytes and every byte
 * written before them have been handed to the kernel: wait for it before
 * writing more for flow control. Returns 0, or synchronously: GUST_ECLOSED,
 * GUST_EBUFFERFULL ("Reached maximum write buffer size") when the bytes not
 * yet sent plus `len` would exceed max_write_buffer_size (nothing is
 * queued and the stream stays usable), GUST_EINVAL or GUST_ENOMEM. A write
 * error later closes the stream and fails the pending write futures with
 * GUST_ECLOSED. */
GUST_EXTERN int gust_iostream_write(gust_iostream *s, const void *data,
                                    size_t len, gust_future **out);

/* Returns 1 while written bytes wait to be sent, 0 otherwise. */
GUST_EXTERN int gust_iostream_writing(const gust_iostream *s);

/* Bytes accepted by gust_iostream_write() and not yet handed to the
 * kernel (what max_write_buffer_size bounds). */
GUST_EXTERN size_t gust_iostream_write_buffer_size(const gust_iostream *s);

/* ------------------------------------------------------------------ */
/* TLS                                                                  */
/* ------------------------------------------------------------------ */

/* Converts a plain stream to TLS (Tornado's start_tls), for protocols that
 * negotiate TLS in band (STARTTLS). Allowed only when the stream is idle:
 * no read pending, no byte buffered in either direction, open, and not TLS
 * already; otherwise returns GUST_ESTATE ("IOStream is not idle; cannot
 * convert to SSL"). `ctx` and `server_hostname` as for
 * gust_iostream_new_tls(). On success the connection (and the close
 * callback) move to a new TLS stream and `s` is closed without closing the
 * connection (drop your reference to it); *out gets a future that
 * resolves, once the handshake completes, with a gust_iostream * owned by
 * the future (take your own reference with gust_iostream_ref()), or fails
 * with the handshake's error (the new stream is then closed). Returns 0,
 * GUST_ESTATE, GUST_EINVAL, GUST_ENOMEM, GUST_ETLS_CONFIG or GUST_ECRYPTO. */
GUST_EXTERN int gust_iostream_start_tls(gust_iostream *s, gust_tls_ctx *ctx,
                                        const char *server_hostname,
                                        gust_future **out);

/* Returns in *out a future that resolves (with NULL) once the TLS handshake
 * of `s` has completed (at once if it has), or fails with the error that
 * closed the stream (e.g. GUST_ETLS_VERIFY), or GUST_ECLOSED when it closed
 * without one. Returns 0, GUST_EINVAL (not a TLS stream), GUST_EBUSY
 * ("Already waiting": a previous future is pending) or GUST_ENOMEM. */
GUST_EXTERN int gust_iostream_wait_for_handshake(gust_iostream *s,
                                                 gust_future **out);

/* The stream's TLS engine (borrowed, for ALPN, peer certificate, version),
 * or NULL for a plain stream. Do not drive it. */
GUST_EXTERN gust_tls *gust_iostream_tls(const gust_iostream *s);

/* ------------------------------------------------------------------ */
/* Access                                                               */
/* ------------------------------------------------------------------ */

/* The TCP handle (borrowed, valid while the stream is open), for
 * gust_tcp_nodelay(), gust_tcp_local_port() and the like; NULL once
 * closed. Do not read, write or close it, nor change its user data. */
GUST_EXTERN gust_tcp *gust_iostream_tcp(const gust_iostream *s);

/* The loop the stream belongs to. */
GUST_EXTERN gust_loop *gust_iostream_loop(const gust_iostream *s);

#ifdef __cplusplus
}
#endif

#endif /* GUST_IOSTREAM_H */
