/* gust HTTP/1.1: the Sans-IO connection state machine shared by the server
 * and the client role (strict parser, chunked coding, serializer). */
#ifndef GUST_HTTP1_H
#define GUST_HTTP1_H

#include <gust/base.h>
#include <gust/headers.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A connection: feed it the bytes read from the peer, pull events out of
 * it, hand it the messages to send and take the bytes it wants written.
 * It never touches a socket or a clock. */
typedef struct gust_h1 gust_h1;

/* Which side of the connection the state machine plays. */
typedef enum gust_h1_role {
  GUST_H1_SERVER = 0, /* reads requests, writes responses */
  GUST_H1_CLIENT = 1  /* writes requests, reads responses */
} gust_h1_role;

/* Leniency flags (all off by default: strict per RFC 9112). */
enum {
  /* Accept a bare LF ending the start line or a field line (never in
   * chunk framing). */
  GUST_H1_BARE_LF_HEAD = 1u << 0,
  /* Accept control characters other than NUL, CR and LF in field values. */
  GUST_H1_CTL_IN_VALUES = 1u << 1,
  /* Reject repeated Content-Length values even when they are equal. */
  GUST_H1_STRICT_DUPLICATE_CL = 1u << 2,
  /* Accept spaces and tabs between a chunk size and its CRLF. */
  GUST_H1_SPACES_AFTER_CHUNK_SIZE = 1u << 3,
  /* Never keep a connection alive (Tornado's no_keep_alive). */
  GUST_H1_NO_KEEP_ALIVE = 1u << 4,
  /* Read only: the connection never waits for a message of its own (no
   * PAUSED) and reads message after message as long as the received ones
   * allow reuse; a 101 response is taken as a switch. For monitors, dump
   * tools, benchmarks and fuzzers that only parse. */
  GUST_H1_READ_ONLY = 1u << 5,
  /* Tornado compatibility: gust_h1_send_error() writes the bare bytes
   * `HTTP/1.1 400 Bad Request\r\n\r\n` for every error, as Tornado does. */
  GUST_H1_TORNADO_ERRORS = 1u << 6
};

/* Limits and flags. Start from gust_h1_config_init() and change fields. */
typedef struct gust_h1_config {
  size_t max_head;      /* start line + fields + blank line (and trailers):
                           65536; more → 431 */
  size_t max_target;    /* request-target bytes: 8192; more → 414 */
  size_t max_fields;    /* fields in head + trailers: 100; more → 431 */
  uint64_t max_body;    /* body bytes (CL or chunked total): 104857600;
                           more → 413 */
  size_t chunk_size;    /* largest DATA event: 65536 */
  size_t max_chunk_ext; /* extension bytes on one chunk-size line: 4096 */
  unsigned flags;       /* GUST_H1_* leniency flags */
} gust_h1_config;

/* Fills `cfg` with the defaults listed above. */
GUST_EXTERN void gust_h1_config_init(gust_h1_config *cfg);

/* One header or trailer field as received: slices into the input, the name
 * as sent (compare it ignoring case), the value without surrounding OWS. */
typedef struct gust_h1_field {
  gust_slice name;
  gust_slice value;
} gust_h1_field;

/* What gust_h1_next_event() reports. */
typedef enum gust_h1_event_type {
  GUST_H1_NEED_DATA = 0, /* feed more bytes (or EOF) */
  GUST_H1_REQUEST,       /* request head (server role) */
  GUST_H1_RESPONSE,      /* response head (client role); status < 200 is an
                            interim response, another head follows */
  GUST_H1_DATA,          /* a piece of the body (1..chunk_size bytes) */
  GUST_H1_TRAILERS,      /* trailer fields of a chunked body */
  GUST_H1_END_MESSAGE,   /* the message's body is complete */
  GUST_H1_PAUSED,        /* waiting for our own message to finish before
                            reading the next one (pipelining) */
  GUST_H1_SWITCHED,      /* the connection left HTTP (101 or CONNECT 2xx):
                            `data` holds bytes that belong to the new
                            protocol; every later call returns SWITCHED with
                            the bytes fed since */
  GUST_H1_CLOSED,        /* the connection is finished: close it */
  GUST_H1_ERROR          /* protocol error: see code/message/offset/status */
} gust_h1_event_type;

/* Facts about a head, computed while parsing it. */
enum {
  GUST_H1_HEAD_KEEP_ALIVE = 1u << 0,   /* this message allows reuse */
  GUST_H1_HEAD_CHUNKED = 1u << 1,      /* body is chunked */
  GUST_H1_HEAD_HAS_LENGTH = 1u << 2,   /* body length is content_length */
  GUST_H1_HEAD_UNTIL_CLOSE = 1u << 3,  /* response body ends at EOF */
  GUST_H1_HEAD_EXPECT_100 = 1u << 4,   /* server should send 100 Continue
                                          (gust_h1_send_continue) */
  GUST_H1_HEAD_EXPECT_OTHER = 1u << 5, /* unknown expectation: answer 417 */
  GUST_H1_HEAD_UPGRADE = 1u << 6,      /* valid Upgrade request/101 */
  GUST_H1_HEAD_CONNECT = 1u << 7       /* CONNECT request */
};

/* An event. Every slice points into bytes the connection was fed (or into
 * its own copy of them) and stays valid until the next call on the
 * connection. Unused members are zero. */
typedef struct gust_h1_event {
  gust_h1_event_type type;
  /* REQUEST / RESPONSE */
  gust_slice method;       /* request method (case-sensitive token) */
  gust_slice target;       /* request-target, as sent */
  gust_slice reason;       /* response reason phrase (may be empty) */
  int minor_version;       /* 0 or 1 (1.x with x >= 2 reads as 1) */
  int status;              /* response status code 100..599 */
  unsigned head;           /* GUST_H1_HEAD_* flags */
  uint64_t content_length; /* with GUST_H1_HEAD_HAS_LENGTH */
  /* REQUEST / RESPONSE / TRAILERS */
  const gust_h1_field *fields;
  size_t nfields;
  /* DATA / SWITCHED */
  gust_slice data;
  /* ERROR */
  int code;            /* negative GUST_E* code */
  const char *message; /* static or connection-owned text */
  uint64_t offset;     /* stream offset of the offending byte */
  int http_status;     /* server: status to answer (400 413 414 431 501
                          505), 0 when no response should be sent */
} gust_h1_event;

/* Creates a connection for `role` with `cfg` (NULL = defaults) allocating
 * with `mem` (NULL = default). The field arrays start small and grow up
 * to max_fields.
 * Stores the new object in *out. Returns 0, GUST_EINVAL (a zero limit) or
 * GUST_ENOMEM. The caller owns the object and frees it with
 * gust_h1_free(). */
GUST_EXTERN int gust_h1_new(gust_h1 **out, gust_h1_role role,
                            const gust_h1_config *cfg, const gust_mem *mem);

/* Frees the connection and everything it holds (NULL is a no-op). */
GUST_EXTERN void gust_h1_free(gust_h1 *h);

/* Returns `h` to the state gust_h1_new() left it in, with the same role
 * and configuration, for a new connection: input, output, errors and
 * counters are dropped; small buffers are kept for reuse (servers pool
 * idle connections' state machines this way). NULL is accepted. */
GUST_EXTERN void gust_h1_reset(gust_h1 *h);

/* Hands received bytes to the connection. The connection may keep a
 * pointer to `data` instead of copying it: the bytes must stay valid and
 * unchanged until gust_h1_next_event() returns NEED_DATA, PAUSED,
 * SWITCHED, CLOSED or ERROR (it copies whatever it still needs before
 * returning one of these), or until the next gust_h1_feed(). Returns 0,
 * GUST_ENOMEM (nothing taken; the connection stays usable), GUST_ESTATE
 * after gust_h1_feed_eof(), or the connection's fatal error. */
GUST_EXTERN int gust_h1_feed(gust_h1 *h, const void *data, size_t len);

/* Flags for gust_h1_feed_eof(). */
enum {
  /* The stream ended without a clean close (e.g. TLS without
   * close_notify): a body delimited by the close is truncated. */
  GUST_H1_EOF_UNCLEAN = 1u << 0
};

/* Tells the connection that the peer will send nothing more. A message
 * in progress then ends with an error, except a response body delimited by
 * the close (which ends cleanly unless GUST_H1_EOF_UNCLEAN is given).
 * Returns 0. */
GUST_EXTERN int gust_h1_feed_eof(gust_h1 *h, unsigned flags);

/* Stores the next event in *ev and returns its type (>= 0). After an
 * ERROR event, every call returns the same error. Never fails otherwise:
 * allocation failures while saving input appear as an ERROR event with
 * GUST_ENOMEM. */
GUST_EXTERN int gust_h1_next_event(gust_h1 *h, gust_h1_event *ev);

/* Server: sets the body limit for the request being read (Tornado's
 * set_max_body_size); takes effect for checks not yet made and resets to
 * the configured value at the next request. */
GUST_EXTERN void gust_h1_set_max_body(gust_h1 *h, uint64_t max_body);

/* Returns 1 while the connection can still carry another message after the
 * current exchange, 0 once it must close after it. */
GUST_EXTERN int gust_h1_keep_alive(const gust_h1 *h);

/* Returns the bytes fed and not consumed yet, a slice valid until the next
 * call on the connection (ends the validity of the last event's slices).
 * After a REQUEST event these are the bytes past the head (for handing the
 * connection to another protocol); after NEED_DATA in the head state, an
 * incomplete head. */
GUST_EXTERN gust_slice gust_h1_unread(gust_h1 *h);

/* ---------------------------------------------------------------- */
/* Serializer: the bytes go to the connection's output queue.         */
/* ---------------------------------------------------------------- */

/* Client: queues a request head. `method` must be a token, `target` 1+
 * bytes of VCHAR/obs-text; `headers` (NULL = none) must hold exactly one
 * Host and no Transfer-Encoding. Framing as Tornado: a Content-Length from
 * `headers` is enforced; POST, PUT and PATCH without one are chunked; other
 * methods send no body. Returns 0, GUST_EINVAL (nothing queued; the
 * message says why), GUST_ESTATE (a request is already being sent), or
 * GUST_ENOMEM (nothing queued). */
GUST_EXTERN int gust_h1_send_request(gust_h1 *h, const char *method,
                                     const char *target,
                                     const gust_headers *headers);

/* Server: queues the response head for the current request (status
 * 100..599; 1xx other than 101 are interim and may precede the final one).
 * `reason` NULL means the standard phrase. Framing as Tornado: chunked iff
 * the request was HTTP/1.1, not HEAD, the status allows a body and
 * `headers` has no Content-Length; else Content-Length is enforced; an
 * HTTP/1.0 peer without it gets a body delimited by the close. Adds
 * `Connection: close` or `Connection: keep-alive` as the decision needs.
 * A 101, or a 2xx to CONNECT, switches the connection after the head.
 * Returns 0, GUST_EINVAL (bad name/value, Transfer-Encoding given,
 * Content-Length where none is allowed, bad status or reason), GUST_ESTATE
 * (no request to answer or head already sent) or GUST_ENOMEM. */
GUST_EXTERN int gust_h1_send_response(gust_h1 *h, int status,
                                      const char *reason,
                                      const gust_headers *headers);

/* gust_h1_send_response() with the fields as an array (`n` of them, each
 * name and value checked the same way) instead of a header multimap: no
 * allocation besides the output, for servers answering many small
 * responses. */
GUST_EXTERN int gust_h1_send_response_fields(gust_h1 *h, int status,
                                             const char *reason,
                                             const gust_h1_field *fields,
                                             size_t n);

/* Server: queues `HTTP/1.1 100 Continue\r\n\r\n` if the current request
 * expects it and no response head was sent; otherwise does nothing. Nor
 * does it for a Content-Length over the current body limit
 * (gust_h1_set_max_body()): that body gets 413 at the next event, and the
 * client is not asked to send it. Returns 0, GUST_ESTATE or GUST_ENOMEM. */
GUST_EXTERN int gust_h1_send_continue(gust_h1 *h);

/* Server, after an ERROR event whose http_status is not 0: queues the
 * error response `HTTP/1.1 <status> <reason>` with `Connection: close` and
 * `Content-Length: 0` (with GUST_H1_TORNADO_ERRORS: the bare bytes
 * `HTTP/1.1 400 Bad Request\r\n\r\n`). The driver then writes the output,
 * shuts down its
 * write side and closes. Returns 0, GUST_ESTATE (no such error, or a
 * response was already started) or GUST_ENOMEM. */
GUST_EXTERN int gust_h1_send_error(gust_h1 *h);

/* Queues body bytes of the message being sent (framed as chunks when
 * chunked; empty writes send nothing). Returns 0, GUST_ESTATE (no message
 * body open), GUST_ENOMEM, or GUST_EHTTP_LENGTH when the bytes pass the
 * Content-Length ("Tried to write more data than Content-Length"): the
 * connection must then be closed. */
GUST_EXTERN int gust_h1_send_data(gust_h1 *h, const void *data, size_t len);

/* Ends the message being sent (`0\r\n\r\n` when chunked). Returns 0,
 * GUST_ESTATE, GUST_ENOMEM, or GUST_EHTTP_LENGTH when fewer bytes than the
 * Content-Length were written ("Tried to write N bytes less than
 * Content-Length"): the connection must then be closed. */
GUST_EXTERN int gust_h1_send_end(gust_h1 *h);

/* Returns the bytes waiting to be written (a slice valid until the next
 * call that queues or consumes output). */
GUST_EXTERN gust_slice gust_h1_pending_output(const gust_h1 *h);

/* Drops `n` written bytes from the front of the output queue. */
GUST_EXTERN void gust_h1_consume_output(gust_h1 *h, size_t n);

/* Returns the message of the last error returned by a gust_h1_* function
 * on this connection ("" if none). Valid until the next call. */
GUST_EXTERN const char *gust_h1_last_error(const gust_h1 *h);

/* Returns the standard reason phrase for a status ("" if unknown). */
GUST_EXTERN const char *gust_h1_reason(int status);

/* Returns the name of an event type ("REQUEST", ...). */
GUST_EXTERN const char *gust_h1_event_name(int type);

#ifdef __cplusplus
}
#endif

#endif /* GUST_HTTP1_H */
