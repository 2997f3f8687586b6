/* The HTTP/1.1 connection state machine: input buffering, the receive
 * side's event loop, body delivery, pipelining and the message cycle. */
#include "config.h"

#include <string.h>

#if defined(__SSE2__) && (defined(__GNUC__) || defined(__clang__))
#include <emmintrin.h>
#endif

#include "proto/http1_int.h"

/* Chunk framing may not be more than 80 % of a body once it passes this. */
#define OVERHEAD_FLOOR 102400

void gust_h1_config_init(gust_h1_config *cfg) {
  cfg->max_head = 65536;
  cfg->max_target = 8192;
  cfg->max_fields = 100;
  cfg->max_body = 104857600;
  cfg->chunk_size = 65536;
  cfg->max_chunk_ext = 4096;
  cfg->flags = 0;
}

/* Clears the framing facts (only needed once a field set one). */
static void clear_framing(gust_h1 *h) {
  h->framing = 0;
  h->n_te = h->n_cl = h->te_chunked = h->te_last_chunked = h->te_other = 0;
  h->cl = 0;
  h->conn_close = h->conn_keep_alive = h->conn_upgrade = 0;
  h->has_upgrade = h->up_websocket = 0;
  h->expect_100 = h->expect_other = 0;
}

/* Resets the head parser only (an interim response keeps the cycle). The
 * start line's members (method, target, reason, version, status) and the
 * head's flags and size are always set before they are read. */
static void reset_head(gust_h1 *h) {
  h->scan = h->line_start = 0;
  h->line_odd = h->start_done = 0;
  h->head_limit = h->cfg.max_head;
  h->field_limit = h->cfg.max_fields;
  h->nf = 0;
  h->n_host = 0;
  if (h->framing)
    clear_framing(h);
  h->content_length = 0;
  h->interim = h->msg_keep_alive = 0;
}

/* Starts a message cycle. The chunk decoder's state is set where a chunked
 * body starts, the body counters `left` and `nf_head` where a head is
 * delivered. */
static void reset_message(gust_h1 *h) {
  reset_head(h);
  h->rstate = GUST__H1_R_HEAD;
  h->body_total = h->overhead = 0;
  h->max_body = h->cfg.max_body;
  h->req_seen = h->req_minor = h->req_head = h->req_connect = 0;
  h->req_upgrade = h->req_expect_100 = h->continue_sent = 0;
  h->sstate = GUST__H1_S_IDLE;
  h->s_chunked = h->s_fixed = h->s_switch = h->resp_started = 0;
  h->s_left = 0;
}

void gust__h1_reset_message(gust_h1 *h) { reset_message(h); }

int gust_h1_new(gust_h1 **out, gust_h1_role role, const gust_h1_config *cfg,
                const gust_mem *mem) {
  gust_h1 *h;
  gust_h1_config def;
  size_t cap;
  *out = NULL;
  if (cfg == NULL) {
    gust_h1_config_init(&def);
    cfg = &def;
  }
  if (cfg->max_head < 4 || cfg->max_target == 0 || cfg->max_fields == 0 ||
      cfg->chunk_size == 0 ||
      (role != GUST_H1_SERVER && role != GUST_H1_CLIENT))
    return GUST_EINVAL;
  gust__h1_simd_init();
  mem = gust__mem(mem);
  h = gust__calloc(mem, 1, sizeof(*h));
  if (h == NULL)
    return GUST_ENOMEM;
  h->mem = mem;
  h->cfg = *cfg;
  h->role = role;
  gust_buf_init(&h->in, mem);
  gust_buf_init(&h->out, mem);
  /* small at first (an idle connection holds little); the parser grows
   * the arrays up to max_fields */
  cap = cfg->max_fields < 16 ? cfg->max_fields : 16;
  h->foff = gust__malloc(mem, cap * sizeof(*h->foff));
  h->fields = gust__malloc(mem, cap * sizeof(*h->fields));
  if (h->foff == NULL || h->fields == NULL) {
    gust__free(mem, h->foff);
    gust__free(mem, h->fields);
    gust__free(mem, h);
    return GUST_ENOMEM;
  }
  h->fcap = cap;
  h->keep_alive = 1;
  h->err_msg = "";
  h->last_error = "";
  gust__h1_reset_message(h);
  *out = h;
  return 0;
}

/* Buffers above this are released by gust_h1_reset() rather than kept for
 * the next connection. */
#define RESET_KEEP_BUF 16384

void gust_h1_reset(gust_h1 *h) {
  if (h == NULL)
    return;
  if (h->in.cap > RESET_KEEP_BUF)
    gust_buf_free(&h->in);
  else
    gust_buf_clear(&h->in);
  if (h->out.cap > RESET_KEEP_BUF)
    gust_buf_free(&h->out);
  else
    gust_buf_clear(&h->out);
  h->ext = NULL;
  h->ext_len = 0;
  h->own = 0;
  h->consumed = 0;
  h->pending = 0;
  h->eof = 0;
  h->eof_flags = 0;
  h->keep_alive = 1;
  h->err_code = 0;
  h->err_msg = "";
  h->err_off = 0;
  h->err_status = 0;
  h->last_error = "";
  h->head_used = h->nf_head = 0;
  h->left = h->line_off = 0;
  h->ch_state = 0;
  h->ch_digits = h->ch_ext = 0;
  gust__h1_reset_message(h);
}

void gust_h1_free(gust_h1 *h) {
  if (h == NULL)
    return;
  gust_buf_free(&h->in);
  gust_buf_free(&h->out);
  gust__free(h->mem, h->foff);
  gust__free(h->mem, h->fields);
  gust__free(h->mem, h);
}

/* ------------------------------------------------------------------ */
/* Input                                                                */
/* ------------------------------------------------------------------ */

static const uint8_t *in_ptr(const gust_h1 *h) { return h->ext; }

static size_t in_len(const gust_h1 *h) { return h->ext_len; }

static void consume(gust_h1 *h, size_t n) {
  h->ext += n;
  h->ext_len -= n;
  h->consumed += n;
  if (h->own) {
    gust_buf_consume(&h->in, n);
    h->own = h->ext_len != 0;
  }
}

/* Consumes bytes that the event being returned points into: the buffer
 * may only move at the next call. */
static void consume_later(gust_h1 *h, size_t n) { h->pending += n; }

static void flush_pending(gust_h1 *h) {
  if (h->pending != 0) {
    size_t n = h->pending;
    h->pending = 0;
    consume(h, n);
  }
}

static void drop_input(gust_h1 *h) {
  h->consumed += h->ext_len;
  gust_buf_clear(&h->in);
  h->ext = NULL;
  h->ext_len = 0;
  h->own = 0;
}

/* Copies the caller's unconsumed bytes so that it may reuse its buffer. */
static int save_input(gust_h1 *h) {
  if (h->own || h->ext_len == 0)
    return 0;
  if (gust_buf_append(&h->in, h->ext, h->ext_len) != 0)
    return GUST_ENOMEM;
  h->ext = h->in.ptr;
  h->own = 1;
  return 0;
}

int gust__h1_fail(gust_h1 *h, int code, int status, uint64_t off,
                  const char *msg) {
  if (h->rstate == GUST__H1_R_ERROR)
    return h->err_code;
  h->rstate = GUST__H1_R_ERROR;
  h->err_code = code;
  h->err_msg = msg;
  h->err_off = off;
  h->err_status = status;
  h->keep_alive = 0;
  h->last_error = msg;
  return code;
}

/* gust_h1_feed() past its common case. */
__attribute__((noinline)) static int feed(gust_h1 *h, const void *data,
                                          size_t len) {
  flush_pending(h);
  if (h->rstate == GUST__H1_R_ERROR)
    return h->err_code;
  if (h->eof)
    return GUST_ESTATE;
  if (len == 0 || h->rstate == GUST__H1_R_CLOSED)
    return 0;
  if (h->ext_len == 0) {
    h->ext = data;
    h->ext_len = len;
    return 0;
  }
  if (gust_buf_reserve(&h->in, (h->own ? 0 : h->ext_len) + len) != 0)
    return GUST_ENOMEM;
  if (save_input(h) != 0 || gust_buf_append(&h->in, data, len) != 0)
    return GUST_ENOMEM; /* not reached: the space was reserved */
  h->ext = h->in.ptr;
  h->ext_len = h->in.len;
  return 0;
}

int gust_h1_feed(gust_h1 *h, const void *data, size_t len) {
  if (h->pending == 0 && h->ext_len == 0 && len != 0 && !h->eof &&
      h->rstate < GUST__H1_R_CLOSED) {
    /* nothing held: borrow the caller's bytes (as feed() would) */
    h->ext = data;
    h->ext_len = len;
    return 0;
  }
  return feed(h, data, len);
}

int gust_h1_feed_eof(gust_h1 *h, unsigned flags) {
  h->eof = 1;
  h->eof_flags = flags;
  return 0;
}

void gust_h1_set_max_body(gust_h1 *h, uint64_t max_body) {
  h->max_body = max_body;
}

int gust_h1_keep_alive(const gust_h1 *h) { return h->keep_alive; }

const char *gust_h1_last_error(const gust_h1 *h) { return h->last_error; }

/* ------------------------------------------------------------------ */
/* Events                                                               */
/* ------------------------------------------------------------------ */

static int truncated(gust_h1 *h, const char *msg) {
  return gust__h1_fail(h, GUST_EHTTP_TRUNCATED, 0, h->consumed + in_len(h),
                       msg);
}

/* Decides how a complete head continues and fills the event. */
static int deliver_head(gust_h1 *h, const uint8_t *p, gust_h1_event *ev) {
  unsigned fl = h->head_flags;
  ev->fields = h->fields;
  ev->nfields = h->nf;
  ev->minor_version = h->minor;
  ev->head = fl;
  ev->content_length = h->content_length;
  h->nf_head = h->nf;
  h->head_used = h->head_size;
  if (h->role == GUST_H1_SERVER) {
    ev->type = GUST_H1_REQUEST;
    ev->method.ptr = p + h->m_off;
    ev->method.len = h->m_len;
    ev->target.ptr = p + h->t_off;
    ev->target.len = h->t_len;
  } else {
    ev->type = GUST_H1_RESPONSE;
    ev->status = h->status;
    ev->reason.ptr = p + h->r_off;
    ev->reason.len = h->r_len;
  }
  consume_later(h, h->head_size);
  if (h->role == GUST_H1_CLIENT && h->interim) {
    reset_head(h);
    return ev->type;
  }
  if (!h->msg_keep_alive)
    h->keep_alive = 0;
  if (h->role == GUST_H1_CLIENT &&
      (fl & (GUST_H1_HEAD_UPGRADE | GUST_H1_HEAD_CONNECT))) {
    h->rstate = GUST__H1_R_SWITCHED;
    return ev->type;
  }
  if (fl & GUST_H1_HEAD_CHUNKED) {
    h->ch_state = 0;
    h->ch_digits = h->ch_ext = 0;
    h->rstate = GUST__H1_R_CHUNK_LINE;
    h->line_off = h->consumed + h->pending;
  } else if (fl & GUST_H1_HEAD_UNTIL_CLOSE) {
    h->rstate = GUST__H1_R_UNTIL_CLOSE;
  } else if (h->content_length > 0) {
    h->left = h->content_length;
    h->rstate = GUST__H1_R_FIXED;
  } else {
    h->rstate = GUST__H1_R_END;
  }
  return ev->type;
}

static int data_event(gust_h1 *h, const uint8_t *p, size_t n,
                      gust_h1_event *ev) {
  ev->type = GUST_H1_DATA;
  ev->data.ptr = p;
  ev->data.len = n;
  consume_later(h, n);
  return GUST_H1_DATA;
}

static size_t piece(const gust_h1 *h, size_t avail, uint64_t left) {
  size_t n = avail < h->cfg.chunk_size ? avail : h->cfg.chunk_size;
  if ((uint64_t)n > left)
    n = (size_t)left;
  return n;
}

static int need_data(gust_h1 *h, gust_h1_event *ev) {
  if (save_input(h) != 0) {
    gust__h1_fail(h, GUST_ENOMEM, 0, h->consumed, "out of memory");
    return gust_h1_next_event(h, ev);
  }
  ev->type = GUST_H1_NEED_DATA;
  return GUST_H1_NEED_DATA;
}

/* Starts the next request/response cycle, or closes. */
static void next_cycle(gust_h1 *h) {
  if (!h->keep_alive) {
    h->rstate = GUST__H1_R_CLOSED;
    return;
  }
  gust__h1_reset_message(h);
}

static int start_trailers(gust_h1 *h) {
  size_t budget =
      h->cfg.max_head > h->head_used ? h->cfg.max_head - h->head_used : 0;
  h->scan = h->line_start = 0;
  h->line_odd = 0;
  h->head_limit = budget + 2;
  h->field_limit =
      h->cfg.max_fields > h->nf_head ? h->cfg.max_fields - h->nf_head : 0;
  h->nf = 0;
  h->start_done = 1;
  h->head_size = 0;
  h->rstate = GUST__H1_R_TRAILERS;
  return 0;
}

static int chunk_sized(gust_h1 *h) {
  uint64_t size = h->left;
  if (size == 0)
    return start_trailers(h);
  if (size > h->max_body - h->body_total || h->body_total > h->max_body)
    return gust__h1_fail(h, GUST_EHTTP_BODY_SIZE,
                         h->role == GUST_H1_SERVER ? 413 : 0, h->line_off,
                         "chunked body too large");
  h->body_total += size;
  if (h->overhead >= OVERHEAD_FLOOR && h->overhead / 4 > h->body_total)
    return gust__h1_fail(h, GUST_EHTTP_CHUNK,
                         h->role == GUST_H1_SERVER ? 400 : 0, h->line_off,
                         "chunk framing overhead too high");
  h->rstate = GUST__H1_R_CHUNK_DATA;
  return 0;
}

/* Zeroes an event: nine vector stores where the layout allows (a
 * compiler may turn memset or a loop into `rep stos`, slow for this size). */
static void clear_event(gust_h1_event *ev) {
#if defined(__SSE2__) && (defined(__GNUC__) || defined(__clang__))
  if (sizeof(*ev) == 144) {
    const __m128i z = _mm_setzero_si128();
    char *q = (char *)ev;
    _mm_storeu_si128((__m128i *)(void *)q, z);
    _mm_storeu_si128((__m128i *)(void *)(q + 16), z);
    _mm_storeu_si128((__m128i *)(void *)(q + 32), z);
    _mm_storeu_si128((__m128i *)(void *)(q + 48), z);
    _mm_storeu_si128((__m128i *)(void *)(q + 64), z);
    _mm_storeu_si128((__m128i *)(void *)(q + 80), z);
    _mm_storeu_si128((__m128i *)(void *)(q + 96), z);
    _mm_storeu_si128((__m128i *)(void *)(q + 112), z);
    _mm_storeu_si128((__m128i *)(void *)(q + 128), z);
    return;
  }
#endif
  {
    static const gust_h1_event empty;
    *ev = empty;
  }
}

/* The event loop for every state; gust_h1_next_event() takes the common
 * steps of a message cycle itself and calls this for the rest. */
static int next_event(gust_h1 *h, gust_h1_event *ev) {
  for (;;) {
    const uint8_t *p = in_ptr(h);
    size_t avail = in_len(h), used, n;
    int rc;
    if (h->rstate >= GUST__H1_R_FIXED && h->rstate <= GUST__H1_R_UNTIL_CLOSE &&
        h->sstate == GUST__H1_S_DONE && h->role == GUST_H1_SERVER) {
      /* answered before the request body was read: close (P6) */
      h->keep_alive = 0;
      h->rstate = GUST__H1_R_CLOSED;
    }
    switch (h->rstate) {
    case GUST__H1_R_HEAD:
      if (avail == 0 && h->eof) {
        if (h->role == GUST_H1_CLIENT && h->sstate != GUST__H1_S_IDLE &&
            h->line_start == 0)
          truncated(h, "Connection closed before a response");
        else
          h->rstate = GUST__H1_R_CLOSED;
        continue;
      }
      if (avail == 0) { /* nothing to parse, nothing to save */
        ev->type = GUST_H1_NEED_DATA;
        return GUST_H1_NEED_DATA;
      }
      rc = gust__h1_parse_head(h, p, avail, 0);
      if (rc < 0)
        continue;
      if (rc == 0) {
        if (h->eof) {
          if (!h->start_done && h->line_start == avail)
            h->rstate = GUST__H1_R_CLOSED;
          else
            truncated(h, "connection closed inside a message head");
          continue;
        }
        return need_data(h, ev);
      }
      if (gust__h1_finish_head(h, p) != 0)
        continue;
      return deliver_head(h, p, ev);

    case GUST__H1_R_FIXED:
    case GUST__H1_R_CHUNK_DATA:
      if (h->rstate == GUST__H1_R_FIXED && h->left == h->content_length &&
          h->content_length > h->max_body) {
        /* C7, checked when the body starts rather than with the head, so
         * that the application can raise the limit for this request
         * between the REQUEST event and this one */
        gust__h1_fail(h, GUST_EHTTP_BODY_SIZE,
                      h->role == GUST_H1_SERVER ? 413 : 0, h->consumed,
                      "Content-Length too long");
        continue;
      }
      if (avail == 0) {
        if (h->eof) {
          truncated(h, "connection closed inside a message body");
          continue;
        }
        return need_data(h, ev);
      }
      n = piece(h, avail, h->left);
      h->left -= n;
      if (h->left == 0) {
        if (h->rstate == GUST__H1_R_FIXED) {
          h->rstate = GUST__H1_R_END;
        } else {
          h->rstate = GUST__H1_R_CHUNK_CRLF;
          h->ch_state = 0;
        }
      }
      return data_event(h, p, n, ev);

    case GUST__H1_R_CHUNK_LINE:
      if (avail == 0) {
        if (h->eof) {
          truncated(h, "connection closed inside a chunked body");
          continue;
        }
        return need_data(h, ev);
      }
      rc = gust__h1_chunk_line(h, p, avail, &used);
      if (rc < 0)
        continue;
      h->overhead += used;
      consume(h, used);
      if (rc == 1)
        chunk_sized(h);
      continue;

    case GUST__H1_R_CHUNK_CRLF:
      if (avail == 0) {
        if (h->eof) {
          truncated(h, "connection closed inside a chunked body");
          continue;
        }
        ev->type = GUST_H1_NEED_DATA;
        return GUST_H1_NEED_DATA;
      }
      if (p[0] != (h->ch_state == 0 ? '\r' : '\n')) {
        gust__h1_fail(h, GUST_EHTTP_CHUNK, h->role == GUST_H1_SERVER ? 400 : 0,
                      h->consumed, "chunk data not followed by CRLF");
        continue;
      }
      consume(h, 1);
      h->overhead++;
      if (h->ch_state == 0) {
        h->ch_state = 1;
      } else {
        h->ch_state = 0;
        h->rstate = GUST__H1_R_CHUNK_LINE;
        h->line_off = h->consumed;
      }
      continue;

    case GUST__H1_R_TRAILERS:
      rc = avail != 0 ? gust__h1_parse_head(h, p, avail, 1) : 0;
      if (rc < 0)
        continue;
      if (rc == 0) {
        if (h->eof) {
          truncated(h, "connection closed inside a trailer section");
          continue;
        }
        return need_data(h, ev);
      }
      h->rstate = GUST__H1_R_END;
      if (h->nf == 0) {
        consume(h, h->head_size);
        continue;
      }
      for (n = 0; n < h->nf; n++) {
        h->fields[n].name.ptr = p + h->foff[n].name_off;
        h->fields[n].name.len = h->foff[n].name_len;
        h->fields[n].value.ptr = p + h->foff[n].value_off;
        h->fields[n].value.len = h->foff[n].value_len;
      }
      ev->type = GUST_H1_TRAILERS;
      ev->fields = h->fields;
      ev->nfields = h->nf;
      consume_later(h, h->head_size);
      return GUST_H1_TRAILERS;

    case GUST__H1_R_UNTIL_CLOSE:
      if (avail != 0) {
        n = piece(h, avail, UINT64_MAX);
        if ((uint64_t)n > h->max_body - h->body_total) {
          gust__h1_fail(h, GUST_EHTTP_BODY_SIZE, 0, h->consumed,
                        "body too large");
          continue;
        }
        h->body_total += n;
        return data_event(h, p, n, ev);
      }
      if (!h->eof)
        return need_data(h, ev);
      if (h->eof_flags & GUST_H1_EOF_UNCLEAN) {
        truncated(h, "body truncated: stream ended without a clean close");
        continue;
      }
      h->rstate = GUST__H1_R_END;
      continue;

    case GUST__H1_R_END:
      h->rstate = GUST__H1_R_DONE;
      ev->type = GUST_H1_END_MESSAGE;
      return GUST_H1_END_MESSAGE;

    case GUST__H1_R_DONE:
      if (h->cfg.flags & GUST_H1_READ_ONLY) {
        next_cycle(h);
        continue;
      }
      if (h->sstate == GUST__H1_S_SWITCHED) {
        h->rstate = GUST__H1_R_SWITCHED;
        continue;
      }
      if (h->sstate == GUST__H1_S_DONE ||
          (h->role == GUST_H1_CLIENT && h->sstate == GUST__H1_S_IDLE)) {
        next_cycle(h);
        continue;
      }
      if (h->role == GUST_H1_CLIENT && !h->keep_alive) {
        h->rstate = GUST__H1_R_CLOSED;
        continue;
      }
      if (save_input(h) != 0)
        break;
      ev->type = GUST_H1_PAUSED;
      return GUST_H1_PAUSED;

    case GUST__H1_R_SWITCHED:
      ev->type = GUST_H1_SWITCHED;
      ev->data.ptr = p;
      ev->data.len = avail;
      consume_later(h, avail);
      return GUST_H1_SWITCHED;

    case GUST__H1_R_CLOSED:
      drop_input(h);
      ev->type = GUST_H1_CLOSED;
      return GUST_H1_CLOSED;

    default: /* GUST__H1_R_ERROR */
      drop_input(h);
      ev->type = GUST_H1_ERROR;
      ev->code = h->err_code;
      ev->message = h->err_msg;
      ev->offset = h->err_off;
      ev->http_status = h->err_status;
      return GUST_H1_ERROR;
    }
    /* saving the input failed */
    gust__h1_fail(h, GUST_ENOMEM, 0, h->consumed, "out of memory");
  }
}

/* A head from the input (not empty) in the head state. */
static int head_event(gust_h1 *h, gust_h1_event *ev) {
  int rc = gust__h1_parse_head(h, h->ext, h->ext_len, 0);
  if (rc == 1 && gust__h1_finish_head(h, h->ext) == 0)
    return deliver_head(h, h->ext, ev);
  if (rc == 0 && !h->eof)
    return need_data(h, ev);
  return next_event(h, ev);
}

int gust_h1_next_event(gust_h1 *h, gust_h1_event *ev) {
  clear_event(ev);
  flush_pending(h);
  switch (h->rstate) {
  case GUST__H1_R_DONE:
    /* the next cycle may start at once: as in next_event() */
    if (!h->keep_alive ||
        !((h->cfg.flags & GUST_H1_READ_ONLY) || h->sstate == GUST__H1_S_DONE))
      break;
    reset_message(h);
    /* fall through */
  case GUST__H1_R_HEAD:
    if (h->ext_len != 0)
      return head_event(h, ev);
    if (!h->eof) {
      ev->type = GUST_H1_NEED_DATA;
      return GUST_H1_NEED_DATA;
    }
    break;
  case GUST__H1_R_END:
    h->rstate = GUST__H1_R_DONE;
    ev->type = GUST_H1_END_MESSAGE;
    return GUST_H1_END_MESSAGE;
  default:
    break;
  }
  return next_event(h, ev);
}

const char *gust_h1_event_name(int type) {
  static const char *const names[] = {
      "NEED_DATA",   "REQUEST", "RESPONSE", "DATA",   "TRAILERS",
      "END_MESSAGE", "PAUSED",  "SWITCHED", "CLOSED", "ERROR"};
  if (type < 0 || (size_t)type >= GUST__ARRAY_SIZE(names))
    return "?";
  return names[type];
}

gust_slice gust_h1_unread(gust_h1 *h) {
  gust_slice s;
  flush_pending(h);
  s.ptr = h->ext_len != 0 ? h->ext : NULL;
  s.len = h->ext_len;
  return s;
}
