/* gust WebSocket protocol core (RFC 6455, RFC 7692): frame codec, masking,
 * incremental UTF-8 validation, the Sans-IO connection state machine for
 * both roles, opening-handshake helpers and permessage-deflate. */
#ifndef GUST_WS_H
#define GUST_WS_H

#include <gust/base.h>
#include <gust/headers.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Constants                                                            */
/* ------------------------------------------------------------------ */

/* Which endpoint the state machine plays, which decides masking. */
typedef enum gust_ws_role {
  GUST_WS_SERVER = 0, /* receives masked frames, sends unmasked ones */
  GUST_WS_CLIENT = 1  /* receives unmasked frames, masks what it sends */
} gust_ws_role;

/* Frame opcodes (RFC 6455, section 5.2). */
typedef enum gust_ws_opcode {
  GUST_WS_OP_CONT = 0x0,
  GUST_WS_OP_TEXT = 0x1,
  GUST_WS_OP_BINARY = 0x2,
  GUST_WS_OP_CLOSE = 0x8,
  GUST_WS_OP_PING = 0x9,
  GUST_WS_OP_PONG = 0xA
} gust_ws_opcode;

/* Close status codes gust uses itself. */
#define GUST_WS_CLOSE_NORMAL          1000
#define GUST_WS_CLOSE_GOING_AWAY      1001
#define GUST_WS_CLOSE_PROTOCOL_ERROR  1002
#define GUST_WS_CLOSE_UNSUPPORTED     1003
#define GUST_WS_CLOSE_NO_STATUS       1005 /* local report only */
#define GUST_WS_CLOSE_ABNORMAL        1006 /* local report only */
#define GUST_WS_CLOSE_INVALID_PAYLOAD 1007
#define GUST_WS_CLOSE_POLICY          1008
#define GUST_WS_CLOSE_TOO_BIG         1009
#define GUST_WS_CLOSE_MANDATORY_EXT   1010
#define GUST_WS_CLOSE_INTERNAL_ERROR  1011

/* Defaults of gust_ws_config. */
#define GUST_WS_DEFAULT_MAX_MESSAGE_SIZE ((uint64_t)10485760) /* 10 MiB */
#define GUST_WS_DEFAULT_MAX_FRAGMENTS    131072u

/* Longest frame header: 2 + 8 (64-bit length) + 4 (mask). */
#define GUST_WS_MAX_HEADER 14

/* Largest control-frame payload, and largest close reason in bytes. */
#define GUST_WS_MAX_CONTROL_PAYLOAD 125
#define GUST_WS_MAX_CLOSE_REASON    123

/* ------------------------------------------------------------------ */
/* Frame layer                                                          */
/* ------------------------------------------------------------------ */

/* A decoded frame header. `rsv` holds the RSV bits in place (0x40 RSV1,
 * 0x20 RSV2, 0x10 RSV3). */
typedef struct gust_ws_frame_header {
  unsigned fin;         /* 1 if FIN is set */
  unsigned rsv;         /* RSV1..3 bits as in byte 0 */
  unsigned opcode;      /* 0x0..0xF */
  unsigned masked;      /* 1 if MASK is set */
  uint8_t mask[4];      /* masking key when masked */
  uint64_t payload_len; /* payload length */
  size_t header_len;    /* bytes the header occupies (2..14) */
} gust_ws_frame_header;

/* Decodes a frame header from the start of `data`. Only the syntax is
 * checked here: a 16-bit length below 126, a 64-bit length below 65536
 * (non-minimal encodings) and a 64-bit length with the top bit set are
 * rejected. Role, opcode, RSV and control-frame rules are checked by
 * gust_ws_frame_check(). Returns the header length (> 0) with *hdr filled,
 * 0 if more bytes are needed, or GUST_EWS_PROTOCOL. Reads at most
 * GUST_WS_MAX_HEADER bytes and never past `len`. */
GUST_EXTERN gust_ssize gust_ws_frame_parse(const uint8_t *data, size_t len,
                                           gust_ws_frame_header *hdr);

/* Applies the per-frame rules of RFC 6455 to a decoded header for an
 * endpoint of `role`: reserved opcodes, RSV bits other than those in
 * `rsv_allowed` (RSV1 = 0x40 when permessage-deflate is on; RSV bits are
 * never allowed on control frames nor, for RSV1, on continuations),
 * control frames that are fragmented or longer than 125 bytes, and the
 * masking rule (a server requires masked frames, a client refuses them).
 * Returns 0 if the header is acceptable, otherwise the close code to send
 * (always 1002) and, if `why` is not NULL, a static explanation. */
GUST_EXTERN int gust_ws_frame_check(const gust_ws_frame_header *hdr,
                                    gust_ws_role role, unsigned rsv_allowed,
                                    const char **why);

/* Encodes a frame header into `out` (at least GUST_WS_MAX_HEADER bytes)
 * using the shortest length form. `fin` is 0/1, `rsv` the RSV bits in
 * place, `mask` the 4-byte key or NULL for an unmasked frame. Returns the
 * number of bytes written (2..14). The payload itself is not written. */
GUST_EXTERN size_t gust_ws_frame_header_write(uint8_t *out, unsigned fin,
                                              unsigned rsv, unsigned opcode,
                                              uint64_t payload_len,
                                              const uint8_t *mask);

/* XORs `len` bytes at `data` in place with the masking key `key` (4
 * bytes), as if the first byte sat at payload offset `offset` (so a payload
 * may be unmasked in pieces). Word-wide; any alignment. */
GUST_EXTERN void gust_ws_mask(uint8_t *data, size_t len, const uint8_t *key,
                              uint64_t offset);

/* As gust_ws_mask() but reads `src` and writes `dst` (which may be equal;
 * otherwise they must not overlap). */
GUST_EXTERN void gust_ws_mask_copy(uint8_t *dst, const uint8_t *src, size_t len,
                                   const uint8_t *key, uint64_t offset);

/* ------------------------------------------------------------------ */
/* UTF-8 validation                                                     */
/* ------------------------------------------------------------------ */

/* Incremental UTF-8 validator (RFC 3629: shortest form, no surrogates,
 * nothing above U+10FFFF). Its state survives across calls, so a code
 * point may be split between chunks. Initialise with all fields 0. */
typedef struct gust_utf8 {
  uint32_t state; /* 0 = at a code point boundary */
} gust_utf8;

/* Validates the next `len` bytes. Returns 0 if they continue a valid
 * prefix (the state may then be in the middle of a code point), or
 * GUST_EWS_UTF8 as soon as a byte cannot continue one; then *bad_off (if
 * not NULL) is the offset within this chunk of that byte, and the state
 * stays rejecting (every later call fails at offset 0). */
GUST_EXTERN int gust_utf8_feed(gust_utf8 *v, const uint8_t *data, size_t len,
                               size_t *bad_off);

/* Returns 1 if the input seen so far ends on a code point boundary (a
 * complete, valid text), 0 otherwise. */
GUST_EXTERN int gust_utf8_complete(const gust_utf8 *v);

/* Returns 1 if the bytes are complete, valid UTF-8, 0 otherwise. */
GUST_EXTERN int gust_utf8_valid(const uint8_t *data, size_t len);

/* ------------------------------------------------------------------ */
/* Close codes                                                          */
/* ------------------------------------------------------------------ */

/* Returns 1 if `code` may appear in a close frame received from a peer
 * (1000-1003, 1007-1014, 3000-4999), 0 otherwise (RFC 6455 7.4 and the
 * IANA registry; 1004-1006, 1015 and reserved ranges are invalid). */
GUST_EXTERN int gust_ws_close_code_valid(unsigned code);

/* ------------------------------------------------------------------ */
/* Connection (Sans-IO message layer)                                   */
/* ------------------------------------------------------------------ */

/* Fills `n` bytes at `buf` with unpredictable bytes; returns 0 or a
 * negative GUST_E* code. */
typedef int (*gust_ws_random_fn)(void *buf, size_t n, void *user_data);

/* permessage-deflate parameters as agreed in the handshake (see
 * gust_ws_deflate_negotiate() and gust_ws_deflate_check_response()). */
typedef struct gust_ws_deflate_params {
  int server_no_context_takeover; /* server resets its compressor */
  int client_no_context_takeover; /* client resets its compressor */
  int server_max_window_bits;     /* 8..15 (0 = 15); 8 only for the peer */
  int client_max_window_bits;     /* 8..15 (0 = 15); 8 only for the peer */
} gust_ws_deflate_params;

/* Connection settings. A zero-initialised struct gives the defaults: server
 * role, whole messages, 10 MiB messages, 131072 frames per message,
 * automatic pongs, masks from gust_random_bytes(), no compression. */
typedef struct gust_ws_config {
  gust_ws_role role;
  int streaming;             /* 1: deliver message data as it arrives */
  int no_auto_pong;          /* 1: do not answer pings automatically */
  uint64_t max_message_size; /* 0 = default; UINT64_MAX = no limit */
  uint32_t max_fragments;    /* frames per message; 0 = default */
  gust_ws_random_fn random;  /* mask source (client); NULL = default */
  void *random_user_data;
  /* permessage-deflate: NULL = not negotiated. Copied by gust_ws_new(). */
  const gust_ws_deflate_params *deflate;
  int deflate_level;       /* 0..9, -1 or 0 = zlib default (6) */
  int deflate_mem_level;   /* 1..9; 0 = 8 */
  size_t deflate_min_size; /* send smaller messages uncompressed; 0 = all */
} gust_ws_config;

/* The Sans-IO WebSocket connection state machine (opaque). */
typedef struct gust_ws gust_ws;

/* What gust_ws_next_event() reports. */
typedef enum gust_ws_event_type {
  GUST_WS_EV_NEED_DATA = 0, /* feed more input */
  GUST_WS_EV_TEXT = 1,      /* text message (or fragment when streaming) */
  GUST_WS_EV_BINARY = 2,    /* binary message (or fragment when streaming) */
  GUST_WS_EV_PING = 3,      /* ping received (pong already queued) */
  GUST_WS_EV_PONG = 4,      /* pong received */
  GUST_WS_EV_CLOSE = 5,     /* peer's close received (reply queued) */
  GUST_WS_EV_ERROR = 6      /* protocol failure; a close frame is queued */
} gust_ws_event_type;

/* One event. Every slice points into memory owned by the connection and
 * stays valid until the next call on the connection. */
typedef struct gust_ws_event {
  gust_ws_event_type type;
  gust_slice data; /* payload; close reason for CLOSE */
  int first;       /* TEXT/BINARY: first piece of a message */
  int last;        /* TEXT/BINARY: last piece (always 1 unless streaming) */
  unsigned code;   /* CLOSE: code received (1005 if none); ERROR: code sent */
  int error;       /* ERROR: GUST_E* code */
  const char *message; /* ERROR: static description */
  uint64_t offset;     /* ERROR: stream offset of the offending byte */
} gust_ws_event;

/* Where the closing handshake stands. */
typedef enum gust_ws_state {
  GUST_WS_OPEN = 0,
  GUST_WS_CLOSE_SENT = 1,     /* our close is queued; awaiting the peer's */
  GUST_WS_CLOSE_RECEIVED = 2, /* peer's close seen; ours not queued yet */
  GUST_WS_CLOSED = 3          /* both closes exchanged: close TCP (server at
                                 once, client after the server's TCP close) */
} gust_ws_state;

/* Creates a connection in the OPEN state (after a successful handshake).
 * `cfg` may be NULL for the defaults; it is copied. `mem` is the allocator
 * (NULL = default). Returns 0 and stores the object in *out, or
 * GUST_EINVAL (bad configuration), GUST_ENOMEM. Free with gust_ws_free(). */
GUST_EXTERN int gust_ws_new(gust_ws **out, const gust_ws_config *cfg,
                            const gust_mem *mem);

/* Releases the connection and everything it holds. NULL is ignored. */
GUST_EXTERN void gust_ws_free(gust_ws *ws);

/* Hands received bytes to the connection, which copies them (the caller's
 * buffer may be reused at once). Drain events with gust_ws_next_event()
 * until NEED_DATA before feeding again: then the connection holds at most
 * one partial control frame of input. Bytes fed after the peer's close are
 * discarded; after a failure they are only scanned for the peer's close
 * frame, which completes the handshake (state GUST_WS_CLOSED). Returns 0,
 * GUST_ENOMEM (fatal) or the connection's earlier fatal error. */
GUST_EXTERN int gust_ws_feed(gust_ws *ws, const uint8_t *data, size_t len);

/* Parses buffered input into the next event. Returns 0 with *ev filled
 * (NEED_DATA when more input is needed). After an ERROR or CLOSE event has
 * been delivered, returns a negative code: the failure's GUST_E* code, or
 * GUST_ECLOSED after a close; GUST_ENOMEM is fatal. Messages completed
 * before a bad frame are delivered before its ERROR event. */
GUST_EXTERN int gust_ws_next_event(gust_ws *ws, gust_ws_event *ev);

/* Queues a whole message (GUST_WS_OP_TEXT or GUST_WS_OP_BINARY) as one
 * frame, compressed if deflate is on and it is large enough. Text is not
 * validated. Returns 0, GUST_EINVAL, GUST_ESTATE (a fragmented message is
 * in progress, or a close was sent), GUST_ENOMEM or the connection's fatal
 * error. A failure while compressing is fatal (the compressor's context
 * would no longer match the peer's): drop the connection. */
GUST_EXTERN int gust_ws_send(gust_ws *ws, unsigned opcode, const void *data,
                             size_t len);

/* Queues one fragment of a message: the first call names the opcode (TEXT
 * or BINARY), later calls must pass GUST_WS_OP_CONT; `fin` = 1 ends the
 * message. Control frames may be queued between fragments. Returns as
 * gust_ws_send(). */
GUST_EXTERN int gust_ws_send_fragment(gust_ws *ws, unsigned opcode,
                                      const void *data, size_t len,
                                      unsigned fin);

/* Queues a ping or pong with up to 125 bytes of payload. Returns 0,
 * GUST_EINVAL (too long), GUST_ESTATE (close sent), GUST_ENOMEM. */
GUST_EXTERN int gust_ws_send_ping(gust_ws *ws, const void *data, size_t len);
GUST_EXTERN int gust_ws_send_pong(gust_ws *ws, const void *data, size_t len);

/* Starts the closing handshake: queues a close frame with `code` (0 = no
 * status code and no reason) and an optional UTF-8 reason of at most 123
 * bytes. A reason without a code is sent with 1000. Returns 0, GUST_EINVAL
 * (code not sendable, reason too long or not UTF-8), GUST_ESTATE (a close
 * was already sent), GUST_ENOMEM. */
GUST_EXTERN int gust_ws_close(gust_ws *ws, unsigned code, const char *reason,
                              size_t reason_len);

/* Returns the bytes waiting to be sent, valid until the next call on the
 * connection. The driver writes them and reports with
 * gust_ws_consume_output(). */
GUST_EXTERN gust_slice gust_ws_pending_output(const gust_ws *ws);

/* Drops the first `n` pending output bytes (all if n exceeds them). */
GUST_EXTERN void gust_ws_consume_output(gust_ws *ws, size_t n);

/* Returns the state of the closing handshake. */
GUST_EXTERN gust_ws_state gust_ws_get_state(const gust_ws *ws);

/* What the peer's close frame said: returns its code (1005 when it had
 * none, or when it failed the frame rules so that no code could be read),
 * or 0 while no close frame arrived; *reason (may be NULL) gets its reason
 * bytes, valid while the connection lives (as sent: not checked when the
 * close was invalid). Also set for a close found while draining after a
 * failure, which no CLOSE event reports. */
GUST_EXTERN unsigned gust_ws_peer_close(const gust_ws *ws, gust_slice *reason);

/* ------------------------------------------------------------------ */
/* Opening handshake                                                    */
/* ------------------------------------------------------------------ */

/* Length of a Sec-WebSocket-Key (base64 of 16 bytes) and of a
 * Sec-WebSocket-Accept value (base64 of a SHA-1), without the NUL. */
#define GUST_WS_KEY_LEN    24
#define GUST_WS_ACCEPT_LEN 28

/* Computes Sec-WebSocket-Accept for `key` (the header value as received;
 * surrounding OWS is ignored) into `out`, which receives
 * GUST_WS_ACCEPT_LEN characters and a NUL. Returns 0, or the codes of
 * gust_hash(). */
GUST_EXTERN int gust_ws_accept_key(const char *key, size_t key_len, char *out);

/* Draws a fresh client key from `random` (NULL = gust_random_bytes) into
 * `out`: GUST_WS_KEY_LEN characters and a NUL. Returns 0 or the
 * generator's negative code. */
GUST_EXTERN int gust_ws_client_key(char *out, gust_ws_random_fn random,
                                   void *user_data);

/* Tornado's default origin rule: the host[:port] part of the Origin URL,
 * lowercased, must equal the request's Host value exactly (port
 * included). Returns 1 if the origin is allowed, 0 otherwise (including a
 * schemeless or malformed origin). */
GUST_EXTERN int gust_ws_check_origin(gust_slice origin, gust_slice host);

/* Decides whether a cross-origin request is allowed: returns 1 to allow,
 * 0 to refuse with 403. `origin` is the Origin (or Sec-WebSocket-Origin)
 * value, `req` the request headers. */
typedef int (*gust_ws_origin_fn)(gust_slice origin, const gust_headers *req,
                                 void *user_data);

/* An upgrade request as seen by a server. */
typedef struct gust_ws_request {
  gust_slice method;              /* e.g. "GET"; empty = not checked */
  int http_major, http_minor;     /* request version */
  int has_body;                   /* 1 if the request has a body */
  const gust_headers *headers;    /* request headers (required) */
  gust_ws_origin_fn check_origin; /* NULL = gust_ws_check_origin() rule */
  void *origin_user_data;
} gust_ws_request;

/* The server's verdict on an upgrade request. On refusal `status` is 405,
 * 400, 403 or 426 and `body` Tornado's text; for 426 `header_name` /
 * `header_value` name the header to add ("Sec-WebSocket-Version", "13").
 * On success `status` is 101 and `key` the client's key (a view into the
 * request headers, valid while they are unchanged). */
typedef struct gust_ws_verdict {
  int status;
  const char *body;
  const char *header_name;
  const char *header_value;
  gust_slice key;
} gust_ws_verdict;

/* Validates an upgrade request in Tornado's order: method GET (405),
 * Upgrade: websocket (400), Connection: upgrade (400), origin (403),
 * Sec-WebSocket-Version: 13 (426), then Host, a key that decodes to 16
 * bytes, HTTP/1.1 or later and no body (400). The first failure decides.
 * Returns 0 (verdict 101) or GUST_EWS_HANDSHAKE (verdict says what to
 * answer), or GUST_EINVAL for NULL arguments. */
GUST_EXTERN int gust_ws_server_check(const gust_ws_request *req,
                                     gust_ws_verdict *verdict);

/* Adds the 101 response's WebSocket headers to `out`: Upgrade,
 * Connection, Sec-WebSocket-Accept for `key`, and Sec-WebSocket-Protocol /
 * Sec-WebSocket-Extensions when the slices are not empty. Returns 0, or the
 * codes of gust_headers_add() and gust_hash(). */
GUST_EXTERN int gust_ws_server_response(gust_headers *out, gust_slice key,
                                        gust_slice subprotocol,
                                        gust_slice extensions);

/* Most subprotocols gust_ws_parse_protocols() accepts in one request. */
#define GUST_WS_MAX_PROTOCOLS 32

/* Splits every Sec-WebSocket-Protocol value of `h` into tokens (comma
 * list, OWS trimmed, empty elements skipped) into `out` (room for `max`).
 * The slices point into `h` and stay valid while it is unchanged. Returns
 * the number of tokens, GUST_ESYNTAX (an element is not a token) or
 * GUST_ELIMIT (more than `max`). */
GUST_EXTERN gust_ssize gust_ws_parse_protocols(const gust_headers *h,
                                               gust_slice *out, size_t max);

/* Picks the subprotocol to answer: the first one the client offered (in
 * its preference order) that is in `supported`. Returns 0 with *chosen
 * set (a view into the headers), GUST_ENOTFOUND when nothing matches (send
 * no Sec-WebSocket-Protocol header), or the codes of
 * gust_ws_parse_protocols(). */
GUST_EXTERN int gust_ws_select_subprotocol(const gust_headers *req,
                                           const char *const *supported,
                                           size_t n_supported,
                                           gust_slice *chosen);

/* Adds a client's upgrade headers to `out`: Upgrade, Connection,
 * Sec-WebSocket-Key (`key`, from gust_ws_client_key()),
 * Sec-WebSocket-Version: 13, and Sec-WebSocket-Protocol /
 * Sec-WebSocket-Extensions when `protocols` / `extensions` are not NULL.
 * Returns 0 or the codes of gust_headers_add(). */
GUST_EXTERN int gust_ws_client_request(gust_headers *out, const char *key,
                                       const char *protocols,
                                       const char *extensions);

/* Verifies a server's response to a client's upgrade (RFC 6455 4.1):
 * status 101, Upgrade and Connection, the accept value for `key`, and a
 * Sec-WebSocket-Protocol that is absent or one of the `n_offered` offered
 * ones (then stored in *chosen, else *chosen is empty). Extensions are
 * checked separately (gust_ws_deflate_check_response()). Returns 0, or
 * GUST_EWS_HANDSHAKE with a static reason in *why (if not NULL). */
GUST_EXTERN int gust_ws_client_check(int status, const gust_headers *resp,
                                     const char *key,
                                     const char *const *offered,
                                     size_t n_offered, gust_slice *chosen,
                                     const char **why);

/* ------------------------------------------------------------------ */
/* Extension header parsing                                             */
/* ------------------------------------------------------------------ */

/* Limits of a parsed Sec-WebSocket-Extensions header set. */
#define GUST_WS_EXT_MAX        8    /* elements per header set */
#define GUST_WS_EXT_PARAMS_MAX 8    /* parameters per element */
#define GUST_WS_EXT_MAX_BYTES  4096 /* joined header value */

/* One extension parameter (`name` or `name=value`); the slices point
 * into the text of the gust_ws_extensions holding it. */
typedef struct gust_ws_ext_param {
  gust_slice name;
  gust_slice value; /* unquoted; empty when has_value is 0 */
  int has_value;
} gust_ws_ext_param;

/* One extension offer or answer: its name and parameters. */
typedef struct gust_ws_ext {
  gust_slice name;
  size_t n_params;
  gust_ws_ext_param params[GUST_WS_EXT_PARAMS_MAX];
} gust_ws_ext;

/* Parsed Sec-WebSocket-Extensions (all values, in order). The slices
 * point into `text`, owned by the struct: release with
 * gust_ws_extensions_free(). */
typedef struct gust_ws_extensions {
  size_t count;
  gust_ws_ext ext[GUST_WS_EXT_MAX];
  gust_buf text;
} gust_ws_extensions;

/* Parses every Sec-WebSocket-Extensions value of `h` (RFC 6455 9.1:
 * 1#(token *(";" token ["=" (token / quoted-string)])), quoted values must
 * be tokens once unescaped) into `out`, which is initialised first
 * (allocating with `mem`, NULL = default). No header gives count 0.
 * Returns 0, GUST_ESYNTAX, GUST_ELIMIT (over the bounds above) or
 * GUST_ENOMEM; free `out` in every case. */
GUST_EXTERN int gust_ws_extensions_parse(gust_ws_extensions *out,
                                         const gust_headers *h,
                                         const gust_mem *mem);

/* As gust_ws_extensions_parse() for one header value. */
GUST_EXTERN int gust_ws_extensions_parse_value(gust_ws_extensions *out,
                                               const char *value, size_t len,
                                               const gust_mem *mem);

/* Releases the memory of a parsed extension list. */
GUST_EXTERN void gust_ws_extensions_free(gust_ws_extensions *ext);

/* ------------------------------------------------------------------ */
/* permessage-deflate negotiation (RFC 7692)                            */
/* ------------------------------------------------------------------ */

/* What an endpoint wants from permessage-deflate. Zero = defaults.
 *
 * Server side (gust_ws_deflate_negotiate()):
 *  - server_max_window_bits: the largest window gust's compressor may use
 *    (9..15, 0 = 15); answered when lower than the client allows.
 *  - client_max_window_bits: the window to ask of the client (9..15, 0 =
 *    no request); only possible if the client offered the parameter.
 *  - *_no_context_takeover: add the parameter even if not offered.
 * Client side (gust_ws_deflate_offer(), gust_ws_deflate_check_response()):
 *  - server_max_window_bits: request this window of the server (9..15, 0 =
 *    no request).
 *  - client_max_window_bits: the largest window gust's compressor may use
 *    (9..15, 0 = 15); always offered, bare when 0.
 *  - *_no_context_takeover: request / announce the parameter.
 * Memory per connection (zlib, after one message, both streams created):
 * window 15 / memLevel 8 (the defaults) about 261 KiB deflate + 38 KiB
 * inflate; 12 / 5 about 37 KiB + 10 KiB. See doc/ws.md. */
typedef struct gust_ws_deflate_config {
  int server_max_window_bits;
  int client_max_window_bits;
  int server_no_context_takeover;
  int client_no_context_takeover;
} gust_ws_deflate_config;

/* Server: walks the client's offers (from gust_ws_extensions_parse()) in
 * order and accepts the first permessage-deflate offer it can honour.
 * Offers with an unknown, repeated or invalid parameter are declined, and
 * so is one demanding server_max_window_bits=8 (zlib cannot compress with
 * an 8-bit window). On acceptance the agreed parameters go to *agreed and
 * the Sec-WebSocket-Extensions value to answer is appended to `response`.
 * `cfg` may be NULL. Returns 1 (accepted), 0 (no acceptable offer: answer
 * without the extension), GUST_EINVAL or GUST_ENOMEM. */
GUST_EXTERN int gust_ws_deflate_negotiate(const gust_ws_extensions *offers,
                                          const gust_ws_deflate_config *cfg,
                                          gust_ws_deflate_params *agreed,
                                          gust_buf *response);

/* Client: appends the offer to send as Sec-WebSocket-Extensions to `out`
 * (e.g. "permessage-deflate; client_max_window_bits"). `cfg` may be NULL.
 * Returns 0, GUST_EINVAL (a window outside 9..15) or GUST_ENOMEM. */
GUST_EXTERN int gust_ws_deflate_offer(const gust_ws_deflate_config *cfg,
                                      gust_buf *out);

/* Client: checks the server's Sec-WebSocket-Extensions against the offer
 * made with `cfg` (may be NULL). No extension in the response sets
 * *accepted to 0. A single valid permessage-deflate element sets
 * *accepted to 1 and fills *agreed. Returns 0, or GUST_EWS_EXTENSION for
 * anything else: an unknown extension, several elements, an unknown,
 * repeated or invalid parameter, client_max_window_bits above the offered
 * value or equal to 8, a server window above the requested one, or a
 * requested server_no_context_takeover left out. Fail the connection then.
 */
GUST_EXTERN int
gust_ws_deflate_check_response(const gust_ws_extensions *resp,
                               const gust_ws_deflate_config *cfg,
                               gust_ws_deflate_params *agreed, int *accepted);

#ifdef __cplusplus
}
#endif

#endif /* GUST_WS_H */
