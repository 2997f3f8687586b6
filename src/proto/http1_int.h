/* Internal layout of the HTTP/1.1 connection, shared by the parser, the
 * chunked decoder, the state machine and the serializer. */
#ifndef GUST_HTTP1_INT_H
#define GUST_HTTP1_INT_H

#include <gust/http1.h>

#include "base/base_int.h"

/* Receive states. */
enum {
  GUST__H1_R_HEAD = 0,   /* reading a start line and fields */
  GUST__H1_R_FIXED,      /* Content-Length body */
  GUST__H1_R_CHUNK_LINE, /* chunk-size line */
  GUST__H1_R_CHUNK_DATA, /* chunk data */
  GUST__H1_R_CHUNK_CRLF, /* CRLF after chunk data */
  GUST__H1_R_TRAILERS,   /* trailer section */
  GUST__H1_R_UNTIL_CLOSE,
  GUST__H1_R_END,      /* END_MESSAGE to deliver */
  GUST__H1_R_DONE,     /* message complete; waiting for our side */
  GUST__H1_R_SWITCHED, /* protocol switched */
  GUST__H1_R_CLOSED,
  GUST__H1_R_ERROR
};

/* Send states. */
enum {
  GUST__H1_S_IDLE = 0, /* no message head sent in this cycle */
  GUST__H1_S_BODY,     /* head sent, body open */
  GUST__H1_S_DONE,     /* message complete */
  GUST__H1_S_SWITCHED, /* 101 / CONNECT 2xx sent */
  GUST__H1_S_ERROR
};

/* A field as offsets from the front of the unconsumed input, so that the
 * head survives being moved from the caller's buffer into ours. */
typedef struct gust__h1_foff {
  uint32_t name_off, name_len, value_off, value_len;
} gust__h1_foff;

struct gust_h1 {
  const gust_mem *mem;
  gust_h1_config cfg;
  gust_h1_role role;

  /* Input: the unconsumed bytes, borrowed from the caller or held in our
   * copy `in` (own), never both. */
  const uint8_t *ext;
  size_t ext_len;
  int own; /* ext/ext_len are the live bytes of `in` */
  gust_buf in;
  uint64_t consumed; /* stream offset of the first unconsumed byte */
  size_t pending;    /* bytes to consume at the next call */
  int eof;
  unsigned eof_flags;

  /* Receive side. */
  int rstate;
  size_t scan;       /* head bytes already scanned (from the front) */
  size_t line_start; /* start of the line being scanned */
  int line_odd;      /* that line holds DEL or a control other than HTAB */
  size_t head_limit; /* head/trailer bytes allowed from the front */
  size_t field_limit;
  int start_done; /* start line parsed */
  uint32_t m_off, m_len, t_off, t_len, r_off, r_len;
  int m_kind; /* the method, as classified by the request-line parser */
  int minor, status;
  gust__h1_foff *foff;
  gust_h1_field *fields;
  size_t fcap, nf;
  /* Framing facts collected from the fields; `framing` is set once a
   * Transfer-Encoding, Content-Length, Connection, Upgrade or Expect field
   * was seen (the facts other than n_host are all zero while it is not). */
  int framing;
  int n_host, n_te, n_cl, te_chunked, te_last_chunked, te_other;
  uint64_t cl;
  int conn_close, conn_keep_alive, conn_upgrade, has_upgrade, up_websocket;
  int expect_100, expect_other;
  unsigned head_flags;
  uint64_t content_length;
  uint64_t left;       /* body bytes left in the CL body or the chunk */
  uint64_t body_total; /* body bytes announced so far */
  uint64_t max_body;
  uint64_t overhead; /* chunk framing bytes of this message */
  uint64_t line_off; /* stream offset of the chunk-size line */
  int ch_state;      /* chunk-size line sub-state */
  size_t ch_digits, ch_ext;
  size_t head_size; /* bytes of the head just parsed */
  size_t head_used; /* bytes of the message head, for the trailer budget */
  size_t nf_head;   /* fields of the message head */
  int interim;      /* last head was a 1xx to keep reading after */
  int msg_keep_alive;

  /* What we know about the request this cycle answers (server) or
   * sent (client). */
  int req_seen;  /* server: a request head was delivered this cycle */
  int req_minor; /* version of that request */
  int req_head;  /* method HEAD */
  int req_connect;
  int req_upgrade;
  int req_expect_100;
  int continue_sent;

  int keep_alive;

  /* Error (sticky). */
  int err_code;
  const char *err_msg;
  uint64_t err_off;
  int err_status;
  char err_buf[192];

  /* Send side. */
  int sstate;
  gust_buf out;
  int s_chunked;
  int s_fixed;
  uint64_t s_left;
  int s_switch;
  int resp_started; /* a final response head was queued */
  const char *last_error;
  char last_buf[192];
};

/* Parser (http1_parse.c). */
int gust__h1_parse_head(gust_h1 *h, const uint8_t *p, size_t avail,
                        int trailers);
int gust__h1_finish_head(gust_h1 *h, const uint8_t *p);

/* Chooses the byte scanner for this CPU (once per process). */
void gust__h1_simd_init(void);

/* Chunked decoder (http1_chunked.c): consumes framing bytes from p. */
int gust__h1_chunk_line(gust_h1 *h, const uint8_t *p, size_t avail,
                        size_t *used);

/* Connection (http1_conn.c). */
int gust__h1_fail(gust_h1 *h, int code, int status, uint64_t off,
                  const char *msg);
void gust__h1_reset_message(gust_h1 *h);

#endif /* GUST_HTTP1_INT_H */
