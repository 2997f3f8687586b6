/* The WebSocket connection: a Sans-IO state machine that turns received
 * bytes into message and control events and queues the bytes to send, for
 * either role (RFC 6455 sections 5-7, RFC 7692). */
#include "base/base_int.h"
#include "proto/ws_int.h"

#include <gust/crypto.h>

struct gust_ws {
  const gust_mem *mem;
  gust_ws_config cfg;
  gust_ws_deflate_params dparams;
  gust__ws_zip *zip; /* NULL unless permessage-deflate was negotiated */

  gust_buf in;          /* received, not yet parsed */
  gust_buf out;         /* queued for sending */
  gust_buf msg;         /* whole mode: message so far; streaming: inflated */
  gust_buf zbuf;        /* outgoing compressed payload */
  uint64_t in_offset;   /* stream offset of in.ptr[0] */
  size_t consume_later; /* input an event still points into */
  int msg_reset;        /* msg was handed out: clear it first */

  /* frame being parsed */
  int hdr_ok;   /* hdr holds a decoded header */
  int have_hdr; /* ... whose bytes were consumed; payload under way */
  gust_ws_frame_header hdr;
  uint64_t payload_done;

  /* message being received */
  int msg_open;
  unsigned msg_op;
  int msg_compressed;
  int msg_first; /* streaming: first piece not delivered yet */
  uint64_t msg_size;
  uint64_t msg_wire; /* payload bytes on the wire */
  uint32_t msg_frames;
  gust_utf8 utf8;

  /* message being sent */
  int send_open;
  int send_compressed;

  int close_sent;
  int close_received;
  unsigned peer_code; /* the peer's close: its code, 1005, or 0 (none) */
  size_t peer_reason_len;
  uint8_t peer_reason[GUST_WS_MAX_CONTROL_PAYLOAD];
  int draining;        /* after a failure: looking for the peer's close */
  uint64_t drain_skip; /* bytes of the current frame still to skip */
  int done;            /* terminal event delivered */
  int done_rc;         /* what next_event answers afterwards */
  int fatal;           /* out of memory: answered by every call */
};

/* Buffers larger than this are released once empty instead of kept for
 * reuse, so that one big message does not pin its memory for the life of
 * the connection. */
#define RETAIN_MAX 65536

static void buf_reset(gust_buf *b) {
  if (b->cap > RETAIN_MAX)
    gust_buf_free(b);
  else
    gust_buf_clear(b);
}

static int default_random(void *buf, size_t n, void *user_data) {
  GUST__UNUSED(user_data);
  return gust_random_bytes(buf, n);
}

static int valid_bits(int bits) {
  return bits == 0 || (bits >= 8 && bits <= 15);
}

int gust_ws_new(gust_ws **out, const gust_ws_config *cfg, const gust_mem *mem) {
  gust_ws *ws;
  gust_ws_config c;

  if (out == NULL)
    return GUST_EINVAL;
  *out = NULL;
  if (cfg != NULL)
    c = *cfg;
  else
    memset(&c, 0, sizeof c);
  if (c.role != GUST_WS_SERVER && c.role != GUST_WS_CLIENT)
    return GUST_EINVAL;
  if (c.max_message_size == 0)
    c.max_message_size = GUST_WS_DEFAULT_MAX_MESSAGE_SIZE;
  if (c.max_fragments == 0)
    c.max_fragments = GUST_WS_DEFAULT_MAX_FRAGMENTS;
  if (c.random == NULL) {
    c.random = default_random;
    c.random_user_data = NULL;
  }
  if (c.deflate_level == 0)
    c.deflate_level = -1;
  if (c.deflate_mem_level == 0)
    c.deflate_mem_level = 8;
  if (c.deflate_level < -1 || c.deflate_level > 9 || c.deflate_mem_level < 1 ||
      c.deflate_mem_level > 9)
    return GUST_EINVAL;
  if (c.deflate != NULL && (!valid_bits(c.deflate->server_max_window_bits) ||
                            !valid_bits(c.deflate->client_max_window_bits)))
    return GUST_EINVAL;

  mem = gust__mem(mem);
  ws = (gust_ws *)gust__calloc(mem, 1, sizeof *ws);
  if (ws == NULL)
    return GUST_ENOMEM;
  ws->mem = mem;
  ws->cfg = c;
  gust_buf_init(&ws->in, mem);
  gust_buf_init(&ws->out, mem);
  gust_buf_init(&ws->msg, mem);
  gust_buf_init(&ws->zbuf, mem);
  if (c.deflate != NULL) {
    int rc;
    ws->dparams = *c.deflate;
    ws->cfg.deflate = &ws->dparams;
    rc = gust__ws_zip_new(&ws->zip, mem, &ws->dparams, c.role, c.deflate_level,
                          c.deflate_mem_level);
    if (rc < 0) {
      gust__free(mem, ws);
      return rc;
    }
  }
  *out = ws;
  return 0;
}

void gust_ws_free(gust_ws *ws) {
  if (ws == NULL)
    return;
  gust_buf_free(&ws->in);
  gust_buf_free(&ws->out);
  gust_buf_free(&ws->msg);
  gust_buf_free(&ws->zbuf);
  if (ws->zip != NULL)
    gust__ws_zip_free(ws->zip);
  gust__free(ws->mem, ws);
}

/* ------------------------------------------------------------------ */
/* Output                                                               */
/* ------------------------------------------------------------------ */

/* Queues one frame; the payload is copied (and masked for a client). The
 * output buffer is left unchanged on failure. */
static int queue_frame(gust_ws *ws, unsigned fin, unsigned rsv, unsigned opcode,
                       const uint8_t *data, size_t len) {
  uint8_t hdr[GUST_WS_MAX_HEADER];
  uint8_t key[4];
  size_t hlen;
  int rc;

  if (ws->cfg.role == GUST_WS_CLIENT) {
    rc = ws->cfg.random(key, 4, ws->cfg.random_user_data);
    if (rc < 0)
      return rc;
  }
  hlen = gust_ws_frame_header_write(
      hdr, fin, rsv, opcode, len, ws->cfg.role == GUST_WS_CLIENT ? key : NULL);
  if (len > SIZE_MAX - hlen)
    return GUST_EOVERFLOW;
  rc = gust_buf_reserve(&ws->out, hlen + len);
  if (rc < 0)
    return rc;
  memcpy(gust_buf_tail(&ws->out), hdr, hlen);
  if (len != 0) {
    uint8_t *dst = gust_buf_tail(&ws->out) + hlen;
    if (ws->cfg.role == GUST_WS_CLIENT)
      gust_ws_mask_copy(dst, data, len, key, 0);
    else
      memcpy(dst, data, len);
  }
  return gust_buf_commit(&ws->out, hlen + len);
}

/* Queues a close frame with `code` (0 = empty payload) and a reason. */
static int queue_close(gust_ws *ws, unsigned code, const char *reason,
                       size_t reason_len) {
  uint8_t p[2 + GUST_WS_MAX_CLOSE_REASON];
  size_t n = 0;

  if (code != 0) {
    p[0] = (uint8_t)(code >> 8);
    p[1] = (uint8_t)code;
    n = 2;
    if (reason_len > GUST_WS_MAX_CLOSE_REASON)
      reason_len = GUST_WS_MAX_CLOSE_REASON;
    if (reason_len != 0)
      memcpy(p + 2, reason, reason_len);
    n += reason_len;
  }
  return queue_frame(ws, 1, 0, GUST_WS_OP_CLOSE, p, n);
}

static int send_check(const gust_ws *ws) {
  if (ws->fatal)
    return ws->fatal;
  if (ws->close_sent)
    return GUST_ESTATE;
  return 0;
}

int gust_ws_send(gust_ws *ws, unsigned opcode, const void *data, size_t len) {
  int rc;

  if (ws == NULL || (data == NULL && len != 0) ||
      (opcode != GUST_WS_OP_TEXT && opcode != GUST_WS_OP_BINARY))
    return GUST_EINVAL;
  if ((rc = send_check(ws)) < 0)
    return rc;
  if (ws->send_open)
    return GUST_ESTATE;
  if (ws->zip != NULL && len >= ws->cfg.deflate_min_size) {
    gust_buf_clear(&ws->zbuf);
    rc =
        gust__ws_zip_deflate(ws->zip, (const uint8_t *)data, len, 1, &ws->zbuf);
    if (rc == 0)
      rc = queue_frame(ws, 1, 0x40, opcode, ws->zbuf.ptr, ws->zbuf.len);
    buf_reset(&ws->zbuf);
    if (rc < 0)
      ws->fatal = rc; /* our compressor no longer matches the peer's */
    return rc;
  }
  return queue_frame(ws, 1, 0, opcode, (const uint8_t *)data, len);
}

int gust_ws_send_fragment(gust_ws *ws, unsigned opcode, const void *data,
                          size_t len, unsigned fin) {
  unsigned rsv = 0;
  int rc;

  if (ws == NULL || (data == NULL && len != 0))
    return GUST_EINVAL;
  if ((rc = send_check(ws)) < 0)
    return rc;
  if (!ws->send_open) {
    if (opcode != GUST_WS_OP_TEXT && opcode != GUST_WS_OP_BINARY)
      return opcode == GUST_WS_OP_CONT ? GUST_ESTATE : GUST_EINVAL;
    if (ws->zip != NULL)
      rsv = 0x40;
  } else if (opcode != GUST_WS_OP_CONT) {
    return opcode == GUST_WS_OP_TEXT || opcode == GUST_WS_OP_BINARY
               ? GUST_ESTATE
               : GUST_EINVAL;
  }
  if (ws->send_open ? ws->send_compressed : ws->zip != NULL) {
    gust_buf_clear(&ws->zbuf);
    rc = gust__ws_zip_deflate(ws->zip, (const uint8_t *)data, len, fin != 0,
                              &ws->zbuf);
    if (rc == 0)
      rc = queue_frame(ws, fin != 0, rsv, opcode, ws->zbuf.ptr, ws->zbuf.len);
    buf_reset(&ws->zbuf);
    if (rc < 0)
      ws->fatal = rc; /* our compressor no longer matches the peer's */
  } else {
    rc = queue_frame(ws, fin != 0, 0, opcode, (const uint8_t *)data, len);
  }
  if (rc < 0)
    return rc;
  if (!ws->send_open) {
    ws->send_open = 1;
    ws->send_compressed = ws->zip != NULL;
  }
  if (fin)
    ws->send_open = 0;
  return 0;
}

static int send_control(gust_ws *ws, unsigned op, const void *data,
                        size_t len) {
  int rc;

  if (ws == NULL || (data == NULL && len != 0) ||
      len > GUST_WS_MAX_CONTROL_PAYLOAD)
    return GUST_EINVAL;
  if ((rc = send_check(ws)) < 0)
    return rc;
  return queue_frame(ws, 1, 0, op, (const uint8_t *)data, len);
}

int gust_ws_send_ping(gust_ws *ws, const void *data, size_t len) {
  return send_control(ws, GUST_WS_OP_PING, data, len);
}

int gust_ws_send_pong(gust_ws *ws, const void *data, size_t len) {
  return send_control(ws, GUST_WS_OP_PONG, data, len);
}

int gust_ws_close(gust_ws *ws, unsigned code, const char *reason,
                  size_t reason_len) {
  int rc;

  if (ws == NULL || (reason == NULL && reason_len != 0))
    return GUST_EINVAL;
  if ((rc = send_check(ws)) < 0)
    return rc;
  if (code == 0 && reason_len != 0)
    code = GUST_WS_CLOSE_NORMAL;
  if (code != 0 && !gust_ws_close_code_valid(code))
    return GUST_EINVAL;
  if (reason_len > GUST_WS_MAX_CLOSE_REASON ||
      !gust_utf8_valid((const uint8_t *)reason, reason_len))
    return GUST_EINVAL;
  rc = queue_close(ws, code, reason, reason_len);
  if (rc < 0)
    return rc;
  ws->close_sent = 1;
  return 0;
}

gust_slice gust_ws_pending_output(const gust_ws *ws) {
  return gust_buf_slice(&ws->out);
}

void gust_ws_consume_output(gust_ws *ws, size_t n) {
  gust_buf_consume(&ws->out, n);
  if (ws->out.len == 0)
    buf_reset(&ws->out);
}

gust_ws_state gust_ws_get_state(const gust_ws *ws) {
  if (ws->close_sent && ws->close_received)
    return GUST_WS_CLOSED;
  if (ws->close_sent)
    return GUST_WS_CLOSE_SENT;
  if (ws->close_received)
    return GUST_WS_CLOSE_RECEIVED;
  return GUST_WS_OPEN;
}

/* ------------------------------------------------------------------ */
/* Input                                                                */
/* ------------------------------------------------------------------ */

/* Keeps what the peer's close frame says (`p`: its unmasked payload). */
static void record_peer_close(gust_ws *ws, const uint8_t *p, size_t n) {
  ws->peer_code =
      n >= 2 ? ((unsigned)p[0] << 8) | p[1] : GUST_WS_CLOSE_NO_STATUS;
  ws->peer_reason_len = n > 2 ? n - 2 : 0;
  if (ws->peer_reason_len > 0)
    memcpy(ws->peer_reason, p + 2, ws->peer_reason_len);
}

unsigned gust_ws_peer_close(const gust_ws *ws, gust_slice *reason) {
  if (reason != NULL) {
    reason->ptr = ws->peer_reason;
    reason->len = ws->peer_reason_len;
  }
  return ws->peer_code;
}

/* After a failure only the peer's close frame matters (it completes the
 * closing handshake); everything else is skipped frame by frame without
 * further checks, holding at most a partial header. */
static void drain_scan(gust_ws *ws) {
  for (;;) {
    gust_ws_frame_header h;
    gust_ssize r;
    if (ws->drain_skip > 0) {
      size_t k = ws->in.len;
      if ((uint64_t)k > ws->drain_skip)
        k = (size_t)ws->drain_skip;
      gust_buf_consume(&ws->in, k);
      ws->drain_skip -= k;
      if (ws->drain_skip > 0)
        return;
    }
    r = gust_ws_frame_parse(ws->in.ptr, ws->in.len, &h);
    if (r == 0)
      return;
    if (r > 0 && h.opcode == GUST_WS_OP_CLOSE) {
      if (h.payload_len <= GUST_WS_MAX_CONTROL_PAYLOAD) {
        uint8_t pl[GUST_WS_MAX_CONTROL_PAYLOAD];
        size_t n = (size_t)h.payload_len;
        if (ws->in.len - (size_t)r < n)
          return; /* its payload tells the code: wait for it */
        memcpy(pl, ws->in.ptr + r, n);
        if (h.masked)
          gust_ws_mask(pl, n, h.mask, 0);
        record_peer_close(ws, pl, n);
      } else {
        ws->peer_code = GUST_WS_CLOSE_NO_STATUS;
      }
      ws->close_received = 1;
    }
    if (r < 0 || h.opcode == GUST_WS_OP_CLOSE) {
      ws->draining = 0;
      gust_buf_free(&ws->in);
      return;
    }
    ws->drain_skip = (uint64_t)r + h.payload_len;
  }
}

int gust_ws_feed(gust_ws *ws, const uint8_t *data, size_t len) {
  int rc;

  if (ws == NULL || (data == NULL && len != 0))
    return GUST_EINVAL;
  if (ws->fatal)
    return ws->fatal;
  if (ws->done && !ws->draining)
    return 0; /* nothing is parsed after a close */
  rc = gust_buf_append(&ws->in, data, len);
  if (rc == GUST_ENOMEM)
    ws->fatal = rc;
  if (rc == 0 && ws->draining)
    drain_scan(ws);
  return rc;
}

/* Records a protocol failure: queues the close frame (unless one was sent
 * already) and fills the ERROR event, the connection's last. */
static int fail(gust_ws *ws, gust_ws_event *ev, unsigned code, int err,
                const char *why, uint64_t offset) {
  if (!ws->close_sent) {
    int rc = queue_close(ws, code, why, strlen(why));
    if (rc < 0) {
      ws->fatal = rc;
      return rc;
    }
    ws->close_sent = 1;
  }
  memset(ev, 0, sizeof *ev);
  ev->type = GUST_WS_EV_ERROR;
  ev->code = code;
  ev->error = err;
  ev->message = why;
  ev->offset = offset;
  ws->done = 1;
  ws->done_rc = err;
  ws->consume_later = 0;
  /* Skip the rest of the offending frame, then watch for the peer's
   * close. A failure inside the peer's close frame already ends the
   * handshake; an undecodable length leaves nothing to follow. */
  if (!ws->close_received && (ws->have_hdr || ws->hdr_ok)) {
    ws->drain_skip = ws->have_hdr
                         ? ws->hdr.payload_len - ws->payload_done
                         : (uint64_t)ws->hdr.header_len + ws->hdr.payload_len;
    ws->draining = 1;
    drain_scan(ws);
  } else {
    gust_buf_free(&ws->in);
  }
  return 0;
}

static void input_consume(gust_ws *ws, size_t n) {
  gust_buf_consume(&ws->in, n);
  ws->in_offset += n;
}

/* Handles a complete control frame whose payload is at in.ptr. */
static int control_frame(gust_ws *ws, gust_ws_event *ev) {
  const uint8_t *p = ws->in.ptr;
  size_t n = (size_t)ws->hdr.payload_len;
  uint64_t off = ws->in_offset;
  int rc;

  if (ws->hdr.masked)
    gust_ws_mask(ws->in.ptr, n, ws->hdr.mask, 0);
  ws->have_hdr = 0;
  ws->consume_later = n;
  memset(ev, 0, sizeof *ev);
  ev->data.ptr = p;
  ev->data.len = n;
  switch (ws->hdr.opcode) {
  case GUST_WS_OP_PING:
    if (!ws->cfg.no_auto_pong && !ws->close_sent) {
      rc = queue_frame(ws, 1, 0, GUST_WS_OP_PONG, p, n);
      if (rc < 0)
        return ws->fatal = rc;
    }
    ev->type = GUST_WS_EV_PING;
    return 0;
  case GUST_WS_OP_PONG:
    ev->type = GUST_WS_EV_PONG;
    return 0;
  default:
    break;
  }
  /* close */
  {
    unsigned code = GUST_WS_CLOSE_NO_STATUS;
    size_t bad;
    gust_utf8 v = {0};
    ws->close_received = 1; /* even a bad close ends the peer's side */
    record_peer_close(ws, p, n);
    if (n == 1)
      return fail(ws, ev, GUST_WS_CLOSE_PROTOCOL_ERROR, GUST_EWS_PROTOCOL,
                  "close payload of one byte", off);
    if (n >= 2) {
      code = ((unsigned)p[0] << 8) | p[1];
      if (!gust_ws_close_code_valid(code))
        return fail(ws, ev, GUST_WS_CLOSE_PROTOCOL_ERROR, GUST_EWS_PROTOCOL,
                    "invalid close code", off);
      if (gust_utf8_feed(&v, p + 2, n - 2, &bad) < 0)
        return fail(ws, ev, GUST_WS_CLOSE_INVALID_PAYLOAD, GUST_EWS_UTF8,
                    "close reason is not valid UTF-8", off + 2 + bad);
      if (!gust_utf8_complete(&v))
        return fail(ws, ev, GUST_WS_CLOSE_INVALID_PAYLOAD, GUST_EWS_UTF8,
                    "close reason is not valid UTF-8", off + n);
    }
    if (!ws->close_sent) {
      /* Echo the code only, as Tornado does; an empty close gets an empty
       * close. */
      rc = queue_close(ws, n >= 2 ? code : 0, NULL, 0);
      if (rc < 0)
        return ws->fatal = rc;
      ws->close_sent = 1;
    }
    ws->close_received = 1;
    ev->type = GUST_WS_EV_CLOSE;
    ev->code = code;
    ev->data.ptr = n >= 2 ? p + 2 : p;
    ev->data.len = n >= 2 ? n - 2 : 0;
    ws->done = 1;
    ws->done_rc = GUST_ECLOSED;
    return 0;
  }
}

/* Starts a frame: decodes and checks its header (rule W8: before any of
 * its payload is looked at). Returns 1 when a header was taken, 0 when
 * more input is needed, or a negative code with *ev filled by fail(). */
static int frame_start(gust_ws *ws, gust_ws_event *ev) {
  gust_ws_frame_header *h = &ws->hdr;
  gust_ssize r = gust_ws_frame_parse(ws->in.ptr, ws->in.len, h);
  const char *why = NULL;
  uint64_t limit = ws->cfg.max_message_size;
  int rc;

  ws->hdr_ok = r > 0;

  if (r == 0)
    return 0;
  if (r < 0) {
    rc = fail(ws, ev, GUST_WS_CLOSE_PROTOCOL_ERROR, GUST_EWS_PROTOCOL,
              "invalid payload length encoding", ws->in_offset + 1);
    return rc < 0 ? rc : -1;
  }
  if (gust_ws_frame_check(h, ws->cfg.role, ws->zip != NULL ? 0x40u : 0u,
                          &why) != 0) {
    /* a malformed close still ends the peer's side: no need to wait for
     * another one */
    if (h->opcode == GUST_WS_OP_CLOSE) {
      ws->close_received = 1;
      ws->peer_code = GUST_WS_CLOSE_NO_STATUS;
    }
    rc = fail(ws, ev, GUST_WS_CLOSE_PROTOCOL_ERROR, GUST_EWS_PROTOCOL, why,
              ws->in_offset);
    return rc < 0 ? rc : -1;
  }
  if (h->opcode == GUST_WS_OP_CONT && !ws->msg_open)
    why = "continuation frame without a message";
  else if ((h->opcode == GUST_WS_OP_TEXT || h->opcode == GUST_WS_OP_BINARY) &&
           ws->msg_open)
    why = "new message while a fragmented one is open";
  if (why != NULL) {
    rc = fail(ws, ev, GUST_WS_CLOSE_PROTOCOL_ERROR, GUST_EWS_PROTOCOL, why,
              ws->in_offset);
    return rc < 0 ? rc : -1;
  }
  if (h->opcode < GUST_WS_OP_CLOSE) {
    if (h->opcode != GUST_WS_OP_CONT) {
      ws->msg_open = 1;
      ws->msg_op = h->opcode;
      ws->msg_compressed = (h->rsv & 0x40u) != 0;
      ws->msg_first = 1;
      ws->msg_size = 0;
      ws->msg_wire = 0;
      ws->msg_frames = 0;
      ws->utf8.state = 0;
    }
    if (++ws->msg_frames > ws->cfg.max_fragments) {
      rc = fail(ws, ev, GUST_WS_CLOSE_POLICY, GUST_EWS_POLICY,
                "too many fragments", ws->in_offset);
      return rc < 0 ? rc : -1;
    }
    /* Rule W5: decided from the header, before buffering. Compressed
     * payloads are bounded on the wire and again after inflating. */
    if (h->payload_len > limit - ws->msg_wire ||
        h->payload_len > limit - ws->msg_size) {
      rc = fail(ws, ev, GUST_WS_CLOSE_TOO_BIG, GUST_EWS_TOOBIG,
                "message too big", ws->in_offset);
      return rc < 0 ? rc : -1;
    }
    ws->msg_wire += h->payload_len;
  }
  input_consume(ws, (size_t)r);
  ws->have_hdr = 1;
  ws->payload_done = 0;
  return 1;
}

/* Validates freshly received text, fail-fast. `base` is the stream offset
 * to report for the chunk (exact for uncompressed data). */
static int check_text(gust_ws *ws, gust_ws_event *ev, const uint8_t *p,
                      size_t n, int final, uint64_t base, int exact) {
  size_t bad = 0;
  int rc;

  if (ws->msg_op != GUST_WS_OP_TEXT)
    return 0;
  if (gust_utf8_feed(&ws->utf8, p, n, &bad) < 0) {
    rc = fail(ws, ev, GUST_WS_CLOSE_INVALID_PAYLOAD, GUST_EWS_UTF8,
              "invalid UTF-8 in text message", base + (exact ? bad : 0));
    return rc < 0 ? rc : -1;
  }
  if (final && !gust_utf8_complete(&ws->utf8)) {
    rc = fail(ws, ev, GUST_WS_CLOSE_INVALID_PAYLOAD, GUST_EWS_UTF8,
              "text message ends inside a code point", base + (exact ? n : 0));
    return rc < 0 ? rc : -1;
  }
  return 0;
}

/* Takes the available payload of the current data frame. Returns 1 when
 * *ev holds an event to deliver, 0 to keep parsing, 2 when more input is
 * needed, or a negative code (fatal, or failure with *ev filled). */
static int data_frame(gust_ws *ws, gust_ws_event *ev) {
  uint64_t left = ws->hdr.payload_len - ws->payload_done;
  size_t avail = ws->in.len < left ? ws->in.len : (size_t)left;
  int frame_end = (uint64_t)avail == left;
  int final = frame_end && ws->hdr.fin;
  uint8_t *p = ws->in.ptr;
  const uint8_t *data;
  size_t dlen;
  int rc;

  if (avail == 0 && !frame_end)
    return 2;
  if (ws->hdr.masked && avail != 0)
    gust_ws_mask(p, avail, ws->hdr.mask, ws->payload_done);

  if (ws->msg_compressed) {
    gust_buf *dst = &ws->msg;
    size_t before;
    if (ws->cfg.streaming)
      buf_reset(dst);
    before = dst->len;
    rc = gust__ws_zip_inflate(ws->zip, p, avail, final, dst,
                              ws->cfg.streaming
                                  ? ws->cfg.max_message_size - ws->msg_size
                                  : ws->cfg.max_message_size);
    if (rc == GUST_ENOMEM)
      return ws->fatal = rc;
    if (rc == GUST_EWS_TOOBIG) {
      rc = fail(ws, ev, GUST_WS_CLOSE_TOO_BIG, GUST_EWS_TOOBIG,
                "message too big after decompression", ws->in_offset);
      return rc < 0 ? rc : -1;
    }
    if (rc < 0) {
      rc = fail(ws, ev, GUST_WS_CLOSE_INVALID_PAYLOAD, GUST_EWS_DEFLATE,
                "corrupt compressed data", ws->in_offset);
      return rc < 0 ? rc : -1;
    }
    dlen = dst->len - before;
    data = dlen != 0 ? dst->ptr + before : NULL;
    if ((rc = check_text(ws, ev, data, dlen, final, ws->in_offset, 0)) < 0)
      return rc;
    input_consume(ws, avail);
  } else {
    data = p;
    dlen = avail;
    if ((rc = check_text(ws, ev, data, dlen, final, ws->in_offset, 1)) < 0)
      return rc;
    if (!ws->cfg.streaming) {
      rc = gust_buf_append(&ws->msg, data, dlen);
      if (rc < 0)
        return ws->fatal = rc;
      input_consume(ws, avail); /* the event shows ws->msg instead */
    } else {
      ws->consume_later = avail;
    }
  }
  ws->msg_size += dlen;
  ws->payload_done += avail;
  if (frame_end) {
    ws->have_hdr = 0;
    if (final)
      ws->msg_open = 0;
  }
  memset(ev, 0, sizeof *ev);
  ev->type =
      ws->msg_op == GUST_WS_OP_TEXT ? GUST_WS_EV_TEXT : GUST_WS_EV_BINARY;
  if (!ws->cfg.streaming) {
    if (!final)
      return 0;
    ev->data = gust_buf_slice(&ws->msg);
    ev->first = ev->last = 1;
    ws->msg_reset = 1;
    return 1;
  }
  if (dlen == 0 && !final)
    return 0; /* no empty pieces except the one that ends a message */
  ev->data.ptr = data;
  ev->data.len = dlen;
  ev->first = ws->msg_first;
  ev->last = final;
  ws->msg_first = 0;
  return 1;
}

int gust_ws_next_event(gust_ws *ws, gust_ws_event *ev) {
  int rc;

  if (ws == NULL || ev == NULL)
    return GUST_EINVAL;
  if (ws->fatal)
    return ws->fatal;
  if (ws->done)
    return ws->done_rc;
  if (ws->consume_later != 0) {
    input_consume(ws, ws->consume_later);
    ws->consume_later = 0;
  }
  if (ws->msg_reset) {
    buf_reset(&ws->msg);
    ws->msg_reset = 0;
  }
  for (;;) {
    if (!ws->have_hdr) {
      rc = frame_start(ws, ev);
      if (rc == 0)
        break;
      if (rc < 0)
        return ws->fatal ? ws->fatal : 0;
    }
    if (ws->hdr.opcode >= GUST_WS_OP_CLOSE) {
      if (ws->in.len < ws->hdr.payload_len)
        break;
      rc = control_frame(ws, ev);
      return rc < 0 ? rc : 0;
    }
    rc = data_frame(ws, ev);
    if (rc == 1)
      return 0;
    if (rc == 2)
      break;
    if (rc < 0)
      return ws->fatal ? ws->fatal : 0;
  }
  if (ws->in.len == 0)
    buf_reset(&ws->in);
  memset(ev, 0, sizeof *ev);
  ev->type = GUST_WS_EV_NEED_DATA;
  return 0;
}
