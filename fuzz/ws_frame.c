/* Fuzz target for the WebSocket connection: frames and messages, both
 * roles, whole and streaming delivery, with and without permessage-deflate.
 * The first input byte picks the configuration and the feeding step; the
 * rest is the received stream. Invariants: no event after CLOSE/ERROR,
 * message pieces within the size cap, every queued output frame valid for
 * the peer, memory bounded by the cap plus a constant, nothing leaked. */
#include "ws_fuzz.h"

#include <gust/ws.h>

#include <stdlib.h>
#include <string.h>

#define CAP ((uint64_t)65536)

/* Every byte gust queued must be a sequence of valid frames for the peer. */
static void check_output(gust_slice out, gust_ws_role role, int deflate) {
  gust_ws_role peer = role == GUST_WS_SERVER ? GUST_WS_CLIENT : GUST_WS_SERVER;
  while (out.len > 0) {
    gust_ws_frame_header h;
    gust_ssize r = gust_ws_frame_parse(out.ptr, out.len, &h);
    if (r <= 0 || h.payload_len > out.len - (size_t)r)
      abort();
    if (gust_ws_frame_check(&h, peer, deflate ? 0x40u : 0u, NULL) != 0)
      abort();
    out.ptr += (size_t)r + h.payload_len;
    out.len -= (size_t)r + h.payload_len;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  gust_failmem fm;
  gust_ws_config cfg;
  gust_ws_deflate_params dp;
  gust_ws *ws;
  size_t step, off = 0;
  uint64_t msg = 0;
  int done = 0;

  if (size < 1)
    return 0;
  memset(&cfg, 0, sizeof cfg);
  memset(&dp, 0, sizeof dp);
  cfg.role = (data[0] & 1) ? GUST_WS_CLIENT : GUST_WS_SERVER;
  if (data[0] & 2)
    cfg.deflate = &dp;
  cfg.streaming = (data[0] >> 2) & 1;
  cfg.max_message_size = CAP;
  cfg.max_fragments = 64;
  if (data[0] & 0x80)
    dp.client_no_context_takeover = dp.server_no_context_takeover = 1;
  step = (size_t)((data[0] >> 3) & 0x0F);
  step = step == 0 ? size : step * step;
  data++;
  size--;

  gust_failmem_init(&fm, NULL);
  if (gust_ws_new(&ws, &cfg, &fm.mem) != 0)
    abort();
  while (off < size && !done) {
    size_t k = size - off < step ? size - off : step;
    gust_ws_event ev;
    if (gust_ws_feed(ws, data + off, k) != 0)
      abort();
    off += k;
    for (;;) {
      int rc = gust_ws_next_event(ws, &ev);
      if (rc < 0) {
        if (!done)
          abort(); /* a negative answer only after the last event */
        break;
      }
      if (done)
        abort(); /* an event after CLOSE or ERROR */
      if (ev.type == GUST_WS_EV_NEED_DATA)
        break;
      if (ev.type == GUST_WS_EV_TEXT || ev.type == GUST_WS_EV_BINARY) {
        if (ev.first)
          msg = 0;
        msg += ev.data.len;
        if (msg > CAP)
          abort();
        if (ev.type == GUST_WS_EV_TEXT && !cfg.streaming &&
            !gust_utf8_valid(ev.data.ptr, ev.data.len))
          abort();
      }
      if (ev.type == GUST_WS_EV_PING || ev.type == GUST_WS_EV_PONG)
        if (ev.data.len > GUST_WS_MAX_CONTROL_PAYLOAD)
          abort();
      if (ev.type == GUST_WS_EV_CLOSE || ev.type == GUST_WS_EV_ERROR)
        done = 1;
    }
    if (fm.peak_bytes > 2 * CAP + (1u << 20))
      abort();
  }
  check_output(gust_ws_pending_output(ws), cfg.role, cfg.deflate != NULL);
  gust_ws_free(ws);
  if (fm.live_blocks != 0)
    abort();
  return 0;
}
