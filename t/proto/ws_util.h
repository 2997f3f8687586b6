/* Shared helpers of the WebSocket tests: building frame streams, driving
 * a connection with a chosen feeding schedule and describing its events
 * and output as short transcripts that tests compare as strings. */
#ifndef GUST_T_WS_UTIL_H
#define GUST_T_WS_UTIL_H

#include "../tap.h"

#include <gust/ws.h>

#include <stdio.h>
#include <string.h>

static const uint8_t wt_key[4] = {0x37, 0xfa, 0x21, 0x3d};

/* Appends one frame: `b0` is FIN|RSV|opcode; masked with wt_key if
 * `masked`. */
static inline void wt_frame(gust_buf *b, uint8_t b0, const void *p, size_t n,
                     int masked) {
  uint8_t h[GUST_WS_MAX_HEADER];
  size_t hl = gust_ws_frame_header_write(h, b0 >> 7, b0 & 0x70u, b0 & 0x0Fu, n,
                                         masked ? wt_key : NULL);
  size_t start;
  if (gust_buf_append(b, h, hl) < 0)
    bail_out("out of memory");
  start = b->len;
  if (n != 0 && gust_buf_append(b, p, n) < 0)
    bail_out("out of memory");
  if (masked)
    gust_ws_mask(b->ptr + start, n, wt_key, 0);
}

/* Appends a printable form of bytes: printable ASCII as is, others \xHH;
 * long payloads as their length and a checksum. */
static inline void wt_describe(gust_buf *t, const uint8_t *p, size_t n) {
  size_t i;
  if (n > 48) {
    uint32_t sum = 0;
    for (i = 0; i < n; i++)
      sum = sum * 31 + p[i];
    gust_buf_printf(t, "#%zu/%08x", n, (unsigned)sum);
    return;
  }
  for (i = 0; i < n; i++) {
    if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\' && p[i] != ';')
      gust_buf_append_byte(t, p[i]);
    else
      gust_buf_printf(t, "\\x%02x", p[i]);
  }
}

/* Describes the frames in `out` (as sent by an endpoint of `sender`
 * role): "text:..;", "pong:..;", "close:1000;", "close;". Continuations
 * show as "cont:". Frames with RSV1 are prefixed "z". */
static inline void wt_describe_output(gust_buf *t, const uint8_t *p, size_t n) {
  while (n > 0) {
    gust_ws_frame_header h;
    gust_ssize r = gust_ws_frame_parse(p, n, &h);
    static const char *names[16] = {
        "cont",  "text", "binary", "op3", "op4", "op5", "op6", "op7",
        "close", "ping", "pong",   "opb", "opc", "opd", "ope", "opf"};
    uint8_t pl[256];
    size_t len;
    if (r <= 0 || h.payload_len > n - (size_t)r) {
      gust_buf_append_str(t, "garbage;");
      return;
    }
    len = (size_t)h.payload_len;
    if (h.opcode == GUST_WS_OP_CLOSE) {
      memcpy(pl, p + r, len);
      if (h.masked)
        gust_ws_mask(pl, len, h.mask, 0);
      if (len >= 2)
        gust_buf_printf(t, "close:%u;", (unsigned)(pl[0] << 8 | pl[1]));
      else
        gust_buf_append_str(t, "close;");
    } else if (len <= sizeof pl) {
      memcpy(pl, p + r, len);
      if (h.masked)
        gust_ws_mask(pl, len, h.mask, 0);
      gust_buf_printf(t, "%s%s%s:", h.rsv & 0x40 ? "z" : "", names[h.opcode],
                      h.fin ? "" : "+");
      wt_describe(t, pl, len);
      gust_buf_append_str(t, ";");
    } else {
      gust_buf_printf(t, "%s%s%s:#%zu;", h.rsv & 0x40 ? "z" : "",
                      names[h.opcode], h.fin ? "" : "+", len);
    }
    p += r + len;
    n -= (size_t)r + len;
  }
}

/* Result of one run. */
typedef struct wt_run {
  gust_buf events; /* transcript of events */
  gust_buf output; /* transcript of the bytes the connection queued */
  int rc;          /* first unexpected negative return, else 0 */
  int flags_ok;    /* streaming first/last flags were consistent */
} wt_run;

static inline void wt_run_free(wt_run *r) {
  gust_buf_free(&r->events);
  gust_buf_free(&r->output);
}

/* Drains events into the transcript. Returns 1 after a terminal event. */
static inline int wt_drain(gust_ws *ws, wt_run *r, gust_buf *acc, int *in_msg) {
  for (;;) {
    gust_ws_event ev;
    int rc = gust_ws_next_event(ws, &ev);
    if (rc < 0) {
      if (rc == GUST_ENOMEM)
        r->rc = rc;
      return 1;
    }
    switch (ev.type) {
    case GUST_WS_EV_NEED_DATA:
      return 0;
    case GUST_WS_EV_TEXT:
    case GUST_WS_EV_BINARY:
      if (ev.first == *in_msg)
        r->flags_ok = 0;
      *in_msg = 1;
      gust_buf_append(acc, ev.data.ptr, ev.data.len);
      if (ev.last) {
        gust_buf_append_str(&r->events,
                            ev.type == GUST_WS_EV_TEXT ? "text:" : "binary:");
        wt_describe(&r->events, acc->ptr, acc->len);
        gust_buf_append_str(&r->events, ";");
        gust_buf_clear(acc);
        *in_msg = 0;
      }
      break;
    case GUST_WS_EV_PING:
    case GUST_WS_EV_PONG:
      gust_buf_append_str(&r->events,
                          ev.type == GUST_WS_EV_PING ? "ping:" : "pong:");
      wt_describe(&r->events, ev.data.ptr, ev.data.len);
      gust_buf_append_str(&r->events, ";");
      break;
    case GUST_WS_EV_CLOSE:
      gust_buf_printf(&r->events, "close:%u:", ev.code);
      wt_describe(&r->events, ev.data.ptr, ev.data.len);
      gust_buf_append_str(&r->events, ";");
      break;
    case GUST_WS_EV_ERROR:
      gust_buf_printf(&r->events, "error:%u;", ev.code);
      break;
    }
  }
}

/* Feeds `n` bytes in pieces: at one cut (`cut` < n) or in steps of `step`
 * bytes. `cfg` may be NULL. */
static inline void wt_run_stream(wt_run *r, const gust_ws_config *cfg,
                          const uint8_t *p, size_t n, size_t cut, size_t step,
                          const gust_mem *mem) {
  gust_ws *ws = NULL;
  gust_buf acc;
  int in_msg = 0, done = 0;
  size_t off = 0;
  gust_slice out;

  gust_buf_init(&r->events, NULL);
  gust_buf_init(&r->output, NULL);
  gust_buf_init(&acc, NULL);
  r->rc = 0;
  r->flags_ok = 1;
  r->rc = gust_ws_new(&ws, cfg, mem);
  if (r->rc < 0)
    return;
  while (!done && off < n) {
    size_t k = cut < n ? (off < cut ? cut - off : n - off)
                       : (n - off < step ? n - off : step);
    int rc = gust_ws_feed(ws, p + off, k);
    if (rc < 0) {
      r->rc = rc;
      break;
    }
    off += k;
    done = wt_drain(ws, r, &acc, &in_msg);
  }
  if (n == 0)
    wt_drain(ws, r, &acc, &in_msg);
  out = gust_ws_pending_output(ws);
  wt_describe_output(&r->output, out.ptr, out.len);
  gust_buf_free(&acc);
  gust_ws_free(ws);
}

#endif /* GUST_T_WS_UTIL_H */
